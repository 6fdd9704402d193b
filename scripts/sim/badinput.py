#!/usr/bin/python3
"""Malformed and hostile packets for the bad-input suite (control/tests/e2e_badinput.rs).

Each row of ROWS is one named attack: the frames it sends (built with scapy
and the codecs of mag.py, mip4.py and dsmip6.py) from anc-mag's access link
(mag-core) to the anchor's core port. The expected outcome of each row (a
reply and its status, a silent drop, the counters that move) is written in
the Rust test next to the row's name; this script only crafts, sends and
reports what came back from the anchor within --wait seconds (sniffed on
the interface: PBA/BA/Binding Error statuses, Registration Reply codes,
ICMP errors, ARP and Neighbor Advertisement answers; heartbeats and the
anchor's own ARP/ND requests are left out).

  ip netns exec anc-mag /usr/bin/python3 scripts/sim/badinput.py --mac LMA_MAC \\
      [--ctx JSON] (--list | --row NAME|all | --serve) [--wait S]

--ctx gives the legitimate bindings the rows aim at (keys: pmip_hnp,
pmip_hoa4, pmip_gre_key (uplink), pmip_gre_key_down, mip4_hoa, mip4_coa, mip4_port, ds6_hoa, ds6_hoa4,
ds6_coa); rows that need a missing key use harmless stand-ins.
--row prints one JSON line per row: {"row", "sent" (frames), "replies"}.
--serve reads commands on stdin, one per line, and prints one JSON event per
line (the line protocol of the other simulators): "ready" first, then
  ctx JSON      replaces the context                   -> "ctx"
  send NAME     sends the row and waits for replies     -> "sent" (row, sent, replies)
  quit                                                  -> "exit"
"""

import argparse
import ipaddress
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dsmip6 as d6  # noqa: E402  (DSMIPv6 BU codec, RFC 4285 authenticator)
import mag as m  # noqa: E402  (Mobility Header codec and options)
import mip4 as m4  # noqa: E402  (RRQ constants, MN-HA authenticator)

LMAA, LMAA4 = "2001:db8:1::1", "192.0.2.1"
MAG1, MAG2, MAG1_V4 = "2001:db8:1::2", "2001:db8:1::3", "192.0.2.2"
UNLISTED6, UNLISTED4 = "2001:db8:1::9", "192.0.2.77"
# Sources of the crafted ARP and ND packets: answers to them are told apart
# from the anchor's answers to the kernel of anc-mag.
CRAFT4, CRAFT6 = "192.0.2.66", "2001:db8:1::66"
V6ONLY, NOBODY = "v6only@anchor.test", "nobody@anchor.test"
MIP4_NAI, MIP4_SPI, MIP4_KEY = "v4only@anchor.test", 4096, bytes.fromhex("00112233445566778899aabbccddeeff")
DS6_NAI, DS6_SPI = "ds6@anchor.test", 8448
DS6_KEY = bytes.fromhex("2122232425262728292a2b2c2d2e2f3031323334")
# The source port of the crafted registrations (the simulators use others).
CRAFT_PORT = 1500

DEFAULT_CTX = {
    "pmip_hnp": "2001:db8:100:99::/64", "pmip_hoa4": "203.0.113.99", "pmip_gre_key": 1, "pmip_gre_key_down": 1001,
    "mip4_hoa": "203.0.113.98", "mip4_coa": "192.0.2.10", "mip4_port": 1434,
    "ds6_hoa": "2001:db8:300::10", "ds6_hoa4": "203.0.113.201", "ds6_coa": MAG1,
}

S = None  # scapy.all, imported in main (slow)


class Ctx:
    def __init__(self, mac, src_mac, values):
        self.mac, self.src_mac, self.v = mac, src_mac, {**DEFAULT_CTX, **(values or {})}
        self.seq = 1000

    def __getattr__(self, k):
        try:
            return self.__dict__["v"][k]
        except KeyError:
            raise AttributeError(k) from None

    def next_seq(self):
        self.seq += 1
        return self.seq

    def eth(self, ethertype=None):
        e = S.Ether(dst=self.mac, src=self.src_mac)
        if ethertype is not None:
            e.type = ethertype
        return e

    def v6(self, src, dst, nh, payload, hlim=64):
        return self.eth() / S.IPv6(src=src, dst=dst, nh=nh, hlim=hlim) / S.Raw(payload)

    def v4(self, src, dst, proto, payload, **kw):
        return self.eth() / S.IP(src=src, dst=dst, proto=proto, **kw) / S.Raw(payload)

    def udp4(self, src, sport, dst, dport, payload, chksum=None):
        u = S.UDP(sport=sport, dport=dport)
        if chksum is not None:
            u.chksum = chksum
        return self.eth() / S.IP(src=src, dst=dst) / u / S.Raw(payload)


# ---------------------------------------------------------------- PMIPv6 PBUs
def ts_now(offset_s=0.0):
    return int((time.time() + offset_s) * 65536)


def pbu_opts(mn_id=V6ONLY, hnp=("::", 0), hi=m.HI_NEW, att=m.ATT_DEFAULT, ts=0.0, v4req=None, drop=()):
    o = []
    if "mn-id" not in drop:
        o.append(m.o_mnid(mn_id))
    if "hnp" not in drop and hnp is not None:
        o.append(m.o_hnp_raw(hnp[1], hnp[0]))
    if "hi" not in drop:
        o.append(m.o_byte(m.O_HI, hi))
    if "att" not in drop:
        o.append(m.o_byte(m.O_ATT, att))
    if "ts" not in drop:
        o.append(m.o_ts(ts_now(ts)))
    if v4req is not None:
        o.append(m.o_v4hoareq(v4req, 32 if v4req != "0.0.0.0" else 0))
    return o


def pbu(c, opts, src=MAG1, dst=LMAA, lifetime_s=3600, flags=m.BU_A | m.BU_P, udp=False):
    """A PBU Mobility Header (checksum for src/dst, or 0 over UDP)."""
    body = struct.pack("!HHH", c.next_seq(), flags, lifetime_s // 4)
    if udp:
        return bytearray(m.build_mh(m.MH_BU, body, opts))
    return bytearray(m.build_mh(m.MH_BU, body, opts, src, dst))


def fix_mh_checksum(mh, src=MAG1, dst=LMAA):
    mh[4:6] = b"\0\0"
    mh[4:6] = struct.pack("!H", m.mh_checksum(src, dst, bytes(mh)))
    return mh


def mh6(c, mh, src=MAG1, dst=LMAA):
    return [c.v6(src, dst, m.IPPROTO_MH, bytes(mh))]


def mh_udp(c, mh, src=MAG1_V4, sport=m.PMIP6_CNTL, chksum=None):
    return [c.udp4(src, sport, LMAA4, m.PMIP6_CNTL, bytes(mh), chksum)]


def pmip_hnp(c):
    net = ipaddress.IPv6Network(c.pmip_hnp)
    return (str(net.network_address), net.prefixlen)


def dual_refresh_opts(c, ts=0.0, hi=m.HI_UNCHANGED):
    """The options of the legitimate MAG's re-registration, GRE Key included
    (without it the LMA would rightly turn the session into a plain tunnel)."""
    return pbu_opts("dual@anchor.test", pmip_hnp(c), hi=hi, ts=ts, v4req=c.pmip_hoa4) + [
        m.o_grekey(c.pmip_gre_key_down)]


def r_pmip6_truncated(c):
    return mh6(c, b"\x3b\x00\x05")


def r_pmip6_header_len_past_end(c):
    mh = pbu(c, pbu_opts())
    mh[1] += 2
    return mh6(c, fix_mh_checksum(mh))


def r_pmip6_header_len_short(c):
    mh = bytearray([59, 0, m.MH_BU, 0, 0, 0, 0, 1])
    return mh6(c, fix_mh_checksum(mh))


def r_pmip6_bad_checksum(c):
    mh = pbu(c, pbu_opts())
    mh[4] ^= 0x55
    return mh6(c, mh)


def r_pmip6_payload_proto(c):
    mh = pbu(c, pbu_opts())
    mh[0] = 6
    return mh6(c, fix_mh_checksum(mh))


def r_pmip6_unknown_type_11(c):
    return mh6(c, fix_mh_checksum(bytearray([59, 1, 11, 0, 0, 0]) + bytes(10)))


def r_pmip6_unknown_type_200(c):
    return mh6(c, fix_mh_checksum(bytearray([59, 1, 200, 0, 0, 0]) + bytes(10)))


def r_pmip6_option_past_end(c):
    mh = pbu(c, pbu_opts())
    mh += bytes([m.O_HNP, 18]) + bytes(6)
    mh[1] = len(mh) // 8 - 1
    return mh6(c, fix_mh_checksum(mh))


def r_pmip6_unknown_option_flood(c):
    # 600 unknown options (type 200, Length 0: skipped, §3.2 end), then an
    # unknown MN: the longest Mobility Header there is (2048 octets).
    opts = pbu_opts(NOBODY) + [(200, b"")] * 600
    mh = pbu(c, opts)
    return mh6(c, mh)


def r_pmip6_mn_id_flood(c):
    return mh6(c, pbu(c, pbu_opts() + [m.o_mnid(V6ONLY)] * 60))


def r_pmip6_dup_hi(c):
    return mh6(c, pbu(c, pbu_opts() + [m.o_byte(m.O_HI, m.HI_NEW)]))


def r_pmip6_bad_hi_length(c):
    opts = [o for o in pbu_opts() if o[0] != m.O_HI] + [(m.O_HI, b"\x00\x01\x00")]
    return mh6(c, pbu(c, opts))


def r_pmip6_missing_mn_id(c):
    return mh6(c, pbu(c, pbu_opts(drop=("mn-id",))))


def r_pmip6_unknown_mn_id(c):
    return mh6(c, pbu(c, pbu_opts(NOBODY)))


def r_pmip6_missing_hi(c):
    return mh6(c, pbu(c, pbu_opts(drop=("hi",))))


def r_pmip6_missing_att(c):
    return mh6(c, pbu(c, pbu_opts(drop=("att",))))


def r_pmip6_missing_hnp(c):
    return mh6(c, pbu(c, pbu_opts(drop=("hnp",))))


def r_pmip6_stale_timestamp(c):
    return mh6(c, pbu(c, pbu_opts(ts=-3600)))


def r_pmip6_timestamp_lower_than_accepted(c):
    # A refresh of the legitimate session (accepted), then one whose
    # Timestamp is 0.1 s older: a replay inside the validity window.
    first = pbu(c, dual_refresh_opts(c))
    second = pbu(c, dual_refresh_opts(c, ts=-0.1))
    return mh6(c, first) + mh6(c, second)


def r_pmip6_unlisted_peer(c):
    return mh6(c, pbu(c, pbu_opts(), src=UNLISTED6), src=UNLISTED6)


def r_pmip6_forged_dereg_other_mag(c):
    # The legitimate session's de-registration, from the other (listed) MAG.
    mh = pbu(c, dual_refresh_opts(c), src=MAG2, lifetime_s=0)
    return mh6(c, mh, src=MAG2)


def r_pmip6_other_mns_prefix(c):
    return mh6(c, pbu(c, pbu_opts(V6ONLY, pmip_hnp(c))))


def r_pmip6_not_proxy(c):
    return mh6(c, pbu(c, pbu_opts(), flags=m.BU_A))


def r_pmip6_dereg_unknown_session(c):
    return mh6(c, pbu(c, pbu_opts(V6ONLY, ("2001:db8:100:ffff::", 64)), lifetime_s=0))


# ------------------------------------------------- PMIPv6 over IPv4-UDP 5436
def r_pmip4udp_bad_udp_checksum(c):
    return mh_udp(c, pbu(c, pbu_opts(v4req="0.0.0.0"), udp=True), chksum=0x1234)


def r_pmip4udp_truncated(c):
    return mh_udp(c, b"\x3b\x00\x05")


def r_pmip4udp_missing_mn_id(c):
    return mh_udp(c, pbu(c, pbu_opts(v4req="0.0.0.0", drop=("mn-id",)), udp=True))


def r_pmip4udp_unlisted_peer(c):
    return mh_udp(c, pbu(c, pbu_opts(v4req="0.0.0.0"), udp=True), src=UNLISTED4)


def r_pmip4udp_unknown_type(c):
    return mh_udp(c, bytes([59, 1, 11, 0, 0, 0]) + bytes(10))


def r_pmip4udp_fragmented(c):
    # A PBU without MN-ID in three IPv4 fragments: reassembled, answered.
    opts = pbu_opts(v4req="0.0.0.0", drop=("mn-id",)) + [(200, bytes(100))]
    pkt = S.IP(src=MAG1_V4, dst=LMAA4, id=0x4242) / S.UDP(sport=m.PMIP6_CNTL, dport=m.PMIP6_CNTL) / S.Raw(
        bytes(pbu(c, opts, udp=True)))
    return [c.eth() / f for f in S.fragment(pkt, fragsize=64)]


def r_pmip4udp_lone_fragment(c):
    pkt = S.IP(src=MAG1_V4, dst=LMAA4, id=0x4343) / S.UDP(sport=m.PMIP6_CNTL, dport=m.PMIP6_CNTL) / S.Raw(
        bytes(pbu(c, pbu_opts(v4req="0.0.0.0"), udp=True)))
    return [c.eth() / S.fragment(pkt, fragsize=48)[0]]


# --------------------------------------------------------- Mobile IPv4 (434)
def rrq(c, ident=None, lifetime=600, flags=m4.FLAG_T | m4.FLAG_D, ha=LMAA4, nai=MIP4_NAI, spi=MIP4_SPI,
        key=MIP4_KEY, extra=b"", auth=True, flip=False, coa=None):
    coa = coa or c.mip4_coa
    ident = m4.ntp_now() if ident is None else ident
    msg = struct.pack("!BBH4s4s4sQ", m4.RRQ, flags, lifetime, bytes(4), ipaddress.IPv4Address(ha).packed,
                      ipaddress.IPv4Address(coa).packed, ident)
    msg += struct.pack("!BB", m4.EXT_NAI, len(nai)) + nai.encode() + extra
    if auth:
        ext = bytearray(m4.mn_ha_ext(key, msg, spi))
        if flip:
            ext[-1] ^= 1
        msg += bytes(ext)
    return msg


def to434(c, payload, chksum=None):
    return [c.udp4(c.mip4_coa, CRAFT_PORT, LMAA4, m4.MIP_PORT, payload, chksum)]


def r_mip4_truncated(c):
    return to434(c, bytes([m4.RRQ]) + bytes(9))


def r_mip4_bad_udp_checksum(c):
    return to434(c, rrq(c), chksum=0x1234)


def r_mip4_unknown_type(c):
    return to434(c, bytes([99]) + bytes(30))


def r_mip4_unknown_nonskippable_extension(c):
    return to434(c, rrq(c, extra=bytes([100, 2, 0, 0])))


def r_mip4_no_auth_extension(c):
    return to434(c, rrq(c, auth=False))


def r_mip4_forged_authenticator(c):
    return to434(c, rrq(c, flip=True))


def r_mip4_replayed_identification(c):
    # A correctly authenticated request whose Identification is an hour old.
    return to434(c, rrq(c, ident=m4.ntp_now() - (3600 << 32)))


def r_mip4_unknown_spi(c):
    return to434(c, rrq(c, spi=9999))


def r_mip4_unknown_nai(c):
    return to434(c, rrq(c, nai=NOBODY))


def r_mip4_wrong_home_agent(c):
    return to434(c, rrq(c, ha="192.0.2.99"))


def r_mip4_minimal_encapsulation(c):
    return to434(c, rrq(c, flags=m4.FLAG_T | m4.FLAG_D | m4.FLAG_M))


def r_mip4_extension_flood(c):
    # 120 skippable unknown extensions (type 200) before a forged MN-HA.
    return to434(c, rrq(c, extra=bytes([200, 6] + [0] * 6) * 120, flip=True))


def r_mip4_extension_past_end(c):
    return to434(c, rrq(c, auth=False) + bytes([m4.EXT_MN_HA, 20, 0, 0, 0x10, 0]))


# ---------------------------------------------------------- DSMIPv6 (4191)
def ds6_bu(c, mesg=None, spi=DS6_SPI, forge=False, v4coa=True, hoa=None, ha=LMAA, lifetime_s=600, nai=DS6_NAI):
    hoa = ipaddress.IPv6Address(hoa or c.ds6_hoa)
    coa = ipaddress.IPv4Address(MAG1_V4)
    opts = [d6.opt_mn_id(nai), d6.opt_ipv4_hoa(ipaddress.IPv4Address("0.0.0.0"), 32)]
    if v4coa:
        opts.append(d6.opt_ipv4_coa(coa))
    if mesg is not False:
        opts.append(d6.opt_mesg_id(d6.ntp_now() if mesg is None else mesg))
    ha16 = ipaddress.IPv6Address(ha).packed
    fixed = struct.pack("!HHH", c.next_seq(), d6.BU_A | d6.BU_H, lifetime_s // 4)
    mh = d6.build_mh(d6.MH_BU, fixed, opts, spi, DS6_KEY, d6.auth_coa16(coa), hoa.packed, (hoa.packed, ha16),
                     flip_auth=forge)
    return bytes(d6.ipv6_header(hoa.packed, ha16, d6.NH_MH, len(mh)) + mh)


def to4191(c, inner, src=MAG1_V4):
    return [c.udp4(src, d6.DSMIP6_PORT, LMAA4, d6.DSMIP6_PORT, inner)]


def r_ds6_forged_auth(c):
    return to4191(c, ds6_bu(c, forge=True))


def r_ds6_replayed_mesg_id(c):
    return to4191(c, ds6_bu(c, mesg=d6.ntp_now() - (3600 << 32)))


def r_ds6_missing_mesg_id(c):
    return to4191(c, ds6_bu(c, mesg=False))


def r_ds6_unknown_spi(c):
    return to4191(c, ds6_bu(c, spi=9999))


def r_ds6_unknown_mn(c):
    # A mobile node (MN-ID and home address) the home agent has no association with.
    return to4191(c, ds6_bu(c, hoa="2001:db8:300::99", nai=NOBODY))


def r_ds6_truncated(c):
    return to4191(c, ds6_bu(c)[:50])


def r_ds6_bad_mh_checksum(c):
    b = bytearray(ds6_bu(c))
    b[44] ^= 0x5A
    return to4191(c, bytes(b))


def r_ds6_missing_ipv4_coa(c):
    return to4191(c, ds6_bu(c, v4coa=False))


def r_ds6_over_ipv6_forged(c):
    # Over IPv6 from the care-of address, Home Address option, bad authenticator.
    hoa = ipaddress.IPv6Address(c.ds6_hoa)
    coa = ipaddress.IPv6Address(MAG1)
    ha16 = ipaddress.IPv6Address(LMAA).packed
    opts = [d6.opt_mn_id(DS6_NAI), d6.opt_alt_coa(coa), d6.opt_mesg_id(d6.ntp_now())]
    fixed = struct.pack("!HHH", c.next_seq(), d6.BU_A | d6.BU_H, 150)
    mh = d6.build_mh(d6.MH_BU, fixed, opts, DS6_SPI, DS6_KEY, coa.packed, hoa.packed, (hoa.packed, ha16),
                     flip_auth=True)
    return [c.v6(MAG1, LMAA, d6.NH_DSTOPTS, d6.home_address_dstopts(hoa.packed) + mh)]


# ------------------------------------------------------------- tunnel data
def inner4(src, dst="198.51.100.2"):
    return bytes(S.IP(src=src, dst=dst) / S.ICMP(id=0xbad, seq=1) / S.Raw(b"badinput"))


def inner6(src, dst="2001:db8:2::2"):
    return bytes(S.IPv6(src=src, dst=dst) / S.ICMPv6EchoRequest(id=0xbad, seq=1, data=b"badinput"))


def gre(key, payload, proto=0x0800):
    return struct.pack("!HHI", 0x2000, proto, key) + payload


def r_gre_wrong_key(c):
    return [c.v6(MAG1, LMAA, 47, gre(c.pmip_gre_key ^ 0x5555, inner4(c.pmip_hoa4)))]


def r_gre_spoofed_outer_source(c):
    return [c.v6(MAG2, LMAA, 47, gre(c.pmip_gre_key, inner4(c.pmip_hoa4)))]


def r_gre_unbound_inner_source(c):
    return [c.v6(MAG1, LMAA, 47, gre(c.pmip_gre_key, inner4("203.0.113.250")))]


def r_gre_truncated(c):
    return [c.v6(MAG1, LMAA, 47, b"\x20\x00")]


def r_gre_inner_truncated(c):
    return [c.v6(MAG1, LMAA, 47, gre(c.pmip_gre_key, inner4(c.pmip_hoa4)[:12]))]


def r_ipip_spoofed_inner_source(c):
    # IPv4-in-IPv6 from the DSMIPv6 node's care-of address with the PMIPv6
    # node's home address inside.
    return [c.v6(c.ds6_coa, LMAA, 4, inner4(c.pmip_hoa4))]


def r_ipip6_spoofed_outer_source(c):
    # IPv6-in-IPv6 with the DSMIPv6 home address inside, from another address.
    return [c.v6(UNLISTED6, LMAA, 41, inner6(c.ds6_hoa))]


def r_ipip_over_ipv4_spoofed(c):
    # IPv4-in-IPv4 to the home agent with the Mobile IPv4 node's home address,
    # from an address that is not its care-of address.
    return [c.v4(UNLISTED4, LMAA4, 4, inner4(c.mip4_hoa))]


def r_mipudp_wrong_port(c):
    # RFC 3519 tunnel data from the care-of address but another UDP port.
    payload = bytes([m4.TUNNEL_DATA, 4, 0, 0]) + inner4(c.mip4_hoa)
    return [c.udp4(c.mip4_coa, 9999, LMAA4, m4.MIP_PORT, payload)]


def r_mipudp_truncated(c):
    return [c.udp4(c.mip4_coa, c.mip4_port, LMAA4, m4.MIP_PORT, bytes([m4.TUNNEL_DATA, 4]))]


def r_udp4191_spoofed_source(c):
    return [c.udp4(UNLISTED4, d6.DSMIP6_PORT, LMAA4, d6.DSMIP6_PORT, inner4(c.ds6_hoa4))]


# ----------------------------------------------------------------- ARP / ND
def arp_frame(c, raw):
    return [c.eth(0x0806) / S.Raw(raw)]


def r_arp_truncated(c):
    return arp_frame(c, b"\x00\x01\x08\x00")


def r_arp_request_valid(c):
    # The control row: a well-formed request is answered.
    return [c.eth() / S.ARP(op=1, hwsrc=c.src_mac, psrc=CRAFT4, pdst=LMAA4)]


def r_arp_not_ours(c):
    return [c.eth() / S.ARP(op=1, hwsrc=c.src_mac, psrc=CRAFT4, pdst="192.0.2.99")]


def r_arp_wrong_hardware_type(c):
    return [c.eth() / S.ARP(hwtype=6, op=1, hwsrc=c.src_mac, psrc=CRAFT4, pdst=LMAA4)]


def r_arp_claims_our_address(c):
    # A gratuitous ARP reply that claims the anchor's own address.
    return [c.eth() / S.ARP(op=2, hwsrc="02:00:00:ba:d0:01", psrc=LMAA4, hwdst="ff:ff:ff:ff:ff:ff", pdst=LMAA4)]


def ns_frame(c, hlim=255):
    return c.eth() / (S.IPv6(src=CRAFT6, dst=LMAA, hlim=hlim) / S.ICMPv6ND_NS(tgt=LMAA)
                      / S.ICMPv6NDOptSrcLLAddr(lladdr=c.src_mac))


def r_nd_ns_valid(c):
    # The control row: a well-formed solicitation is answered.
    return [ns_frame(c)]


def r_nd_ns_bad_checksum(c):
    ns = S.IPv6(src=CRAFT6, dst=LMAA, hlim=255) / S.ICMPv6ND_NS(tgt=LMAA) / S.ICMPv6NDOptSrcLLAddr(lladdr=c.src_mac)
    ns[S.ICMPv6ND_NS].cksum = 0x1234
    return [c.eth() / ns]


def r_nd_ns_hop_limit_64(c):
    return [ns_frame(c, hlim=64)]


def r_nd_na_poison_hop_limit_64(c):
    # An unsolicited override NA for the MAG's address with a bogus MAC but
    # hop limit 64 (RFC 4861 §7.1.2: discarded).
    na = (S.IPv6(src=MAG1, dst=LMAA, hlim=64) / S.ICMPv6ND_NA(tgt=MAG1, R=0, S=0, O=1)
          / S.ICMPv6NDOptDstLLAddr(lladdr="02:00:00:ba:d0:02"))
    return [c.eth() / na]


def r_nd_ns_truncated(c):
    ns = bytes(S.IPv6(src=CRAFT6, dst=LMAA, hlim=255) / S.ICMPv6ND_NS(tgt=LMAA))
    return [c.eth(0x86DD) / S.Raw(ns[:40 + 10])]


# ------------------------------------------------- IPv4 / IPv6 corruption
def ping4():
    return S.IP(src=MAG1_V4, dst=LMAA4) / S.ICMP()


def r_ipv4_ihl_3(c):
    b = bytes(ping4())
    return [c.eth(0x0800) / S.Raw(bytes([0x43]) + b[1:])]


def r_ipv4_total_length_past_frame(c):
    b = bytes(ping4())
    return [c.eth(0x0800) / S.Raw(b[:2] + struct.pack("!H", 1500) + b[4:])]


def r_ipv4_bad_header_checksum(c):
    b = bytes(ping4())
    return [c.eth(0x0800) / S.Raw(b[:10] + b"\xde\xad" + b[12:])]


def r_ipv4_version_6(c):
    b = bytes(ping4())
    return [c.eth(0x0800) / S.Raw(bytes([0x65]) + b[1:])]


def r_ipv4_unknown_protocol(c):
    return [c.v4(MAG1_V4, LMAA4, 253, b"\x00" * 8)]


def r_ipv4_overlapping_fragments(c):
    a = S.IP(src=MAG1_V4, dst=LMAA4, id=0x5151, flags="MF", frag=0, proto=17) / S.Raw(bytes(64))
    b = S.IP(src=MAG1_V4, dst=LMAA4, id=0x5151, frag=4, proto=17) / S.Raw(bytes(64))
    return [c.eth() / a, c.eth() / b]


def r_ipv4_fragment_past_64k(c):
    a = S.IP(src=MAG1_V4, dst=LMAA4, id=0x5252, frag=8190, proto=17) / S.Raw(bytes(64))
    return [c.eth() / a]


def r_ipv6_payload_length_past_end(c):
    return [c.eth(0x86DD) / S.Raw(bytes([0x60, 0, 0, 0, 0x05, 0xDC, 58, 64]) + bytes(32))]


def r_ipv6_version_4(c):
    b = bytes(S.IPv6(src=MAG1, dst=LMAA) / S.ICMPv6EchoRequest())
    return [c.eth(0x86DD) / S.Raw(bytes([0x40]) + b[1:])]


def r_ipv6_truncated_header(c):
    return [c.eth(0x86DD) / S.Raw(bytes([0x60, 0, 0, 0, 0, 0]))]


def r_ethertype_unknown(c):
    return [c.eth(0x88B5) / S.Raw(bytes(46))]


def r_ipv6_fragmented_pbu(c):
    # A PBU for an unknown mobile node in two IPv6 fragments: reassembled, answered.
    mh = bytes(pbu(c, pbu_opts(NOBODY) + [(200, bytes(200))]))
    pkt = S.IPv6(src=MAG1, dst=LMAA) / S.IPv6ExtHdrFragment(id=0x6161, nh=135) / S.Raw(mh)
    return [c.eth() / f for f in S.fragment6(pkt, 200)]


ROWS = {name[2:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("r_") and callable(fn)}


# ------------------------------------------------------------- replies
def mh_summary(mh, transport):
    if len(mh) < 6:
        return None
    t = mh[2]
    if t == m.MH_BA and len(mh) >= 8:
        return {"kind": "pba" if mh[7] & m.BA_P else "ba", "status": mh[6], "transport": transport}
    if t == m.MH_BE and len(mh) >= 7:
        return {"kind": "be", "status": mh[6], "transport": transport}
    if t in (m.MH_HB,):
        return None
    return {"kind": "mh", "type": t, "transport": transport}


def ipv6_upper(b):
    """(next header, payload) after the extension headers we know."""
    nh, off = b[6], 40
    while nh in (0, 43, 60) and off + 2 <= len(b):
        nh, off = b[off], off + (b[off + 1] + 1) * 8
    return nh, b[off:]


def summarise(frame):
    b = bytes(frame)
    ethertype = struct.unpack("!H", b[12:14])[0]
    p = b[14:]
    if ethertype == 0x0806 and len(p) >= 28:
        op = struct.unpack("!H", p[6:8])[0]
        return {"kind": "arp-reply"} if op == 2 and p[24:28] == ipaddress.IPv4Address(CRAFT4).packed else None
    if ethertype == 0x86DD and len(p) >= 40:
        nh, up = ipv6_upper(p)
        if nh == 135:
            return mh_summary(up, "ipv6")
        if nh == 58 and up:
            if up[0] in (1, 2, 3, 4) and len(up) >= 8:
                return {"kind": "icmp6", "type": up[0], "code": up[1], "pointer": struct.unpack("!I", up[4:8])[0]}
            if up[0] == 136 and p[24:40] == ipaddress.IPv6Address(CRAFT6).packed:
                return {"kind": "na"}
        return None
    if ethertype == 0x0800 and len(p) >= 20:
        ihl = (p[0] & 0xF) * 4
        proto, up = p[9], p[ihl:]
        if proto == 1 and up and up[0] in (3, 11, 12):
            return {"kind": "icmp", "type": up[0], "code": up[1]}
        if proto == 17 and len(up) >= 8:
            sport = struct.unpack("!H", up[0:2])[0]
            data = up[8:]
            if sport == m.PMIP6_CNTL:
                return mh_summary(data, "udp4")
            if sport == m4.MIP_PORT and data[:1] == bytes([m4.RRP]):
                return {"kind": "rrp", "code": data[1]}
            if sport == d6.DSMIP6_PORT and len(data) >= 40 and data[0] >> 4 == 6:
                nh, mh = ipv6_upper(data)
                if nh == 135:
                    return mh_summary(mh, "udp4191")
    return None


def run_row(c, name, iface, wait):
    frames = ROWS[name](c)
    sniffer = S.AsyncSniffer(iface=iface, store=True, lfilter=lambda f: f.src == c.mac)
    sniffer.start()
    time.sleep(0.1)
    S.sendp(frames, iface=iface, verbose=False)
    time.sleep(wait)
    got = sniffer.stop() or []
    replies = [r for r in (summarise(f) for f in got) if r is not None]
    return {"row": name, "sent": len(frames), "replies": replies}


def emit(event, **kv):
    print(json.dumps({"event": event, **kv}), flush=True)


def main():
    global S
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mac", help="MAC address of the anchor's core port")
    p.add_argument("--iface", default="mag-core")
    p.add_argument("--ctx", help="JSON object: the legitimate bindings (see above)")
    p.add_argument("--wait", type=float, default=0.8, help="seconds to collect replies after each row")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--list", action="store_true", help="print the row names (JSON array)")
    g.add_argument("--row", help="a row name, or all")
    g.add_argument("--serve", action="store_true", help="commands on stdin (see above)")
    a = p.parse_args()
    if a.list:
        print(json.dumps(list(ROWS)))
        return
    if not a.mac:
        p.error("--mac is required")
    import scapy.all as scapy  # noqa: E402
    S = scapy
    S.conf.verb = 0
    c = Ctx(a.mac, S.get_if_hwaddr(a.iface), json.loads(a.ctx) if a.ctx else None)
    if a.row:
        names = list(ROWS) if a.row == "all" else [a.row]
        for n in names:
            if n not in ROWS:
                sys.exit(f"unknown row {n}; --list shows them")
            print(json.dumps(run_row(c, n, a.iface, a.wait)), flush=True)
        return
    emit("ready", rows=len(ROWS))
    for line in sys.stdin:
        words = line.split(maxsplit=1)
        if not words:
            continue
        try:
            if words[0] == "quit":
                break
            if words[0] == "ctx":
                c.v.update(json.loads(words[1]))
                emit("ctx", cmd="ctx", ctx=c.v)
            elif words[0] == "send" and len(words) == 2 and words[1].strip() in ROWS:
                emit("sent", cmd="send", **run_row(c, words[1].strip(), a.iface, a.wait))
            else:
                emit("error", text=f"bad command {line.strip()!r}")
        except Exception as e:  # noqa: BLE001  (report and go on)
            emit("error", text=f"{line.strip()}: {type(e).__name__}: {e}")
    emit("exit", reason="quit")


if __name__ == "__main__":
    main()
