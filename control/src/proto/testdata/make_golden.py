#!/usr/bin/python3
"""Golden Mobility Header vectors for control/src/proto/golden.rs.

Regenerate (from the repository root; scapy is Debian's python3-scapy 2.5.0,
so use /usr/bin/python3, not a pyenv python3):

    /usr/bin/python3 control/src/proto/testdata/make_golden.py

Nothing here calls our Rust code: every byte is built by scapy, with the
small option and message classes below written from PROTOCOLS.md section
2.3-2.10 (scapy only knows the RFC 3775 messages and options; ORACLES.md
section 2.2). The output is deterministic (fixed pcap timestamps), so a
rerun without a change here leaves `git status` clean.

received.hex / .pcap   messages the anchor receives (PBUs, a DSMIPv6 BU,
                       BRIs, a BRA, Heartbeats, a Binding Error, a Binding
                       Refresh Request, and malformed variants): golden.rs
                       parses each and compares with the values written
                       here (and in the Rust test, independently).
emitted.hex / .pcap    messages the anchor sends (PBAs, BRIs, a BRA,
                       Heartbeat requests/responses, a Binding Error, a
                       DSMIPv6 BA, a BU carrying the remaining options):
                       golden.rs builds the same typed message and its
                       `emit` must give these Mobility Header bytes exactly,
                       checksum included. The MH checksum is scapy's
                       `in6_chksum(135, ...)` (asserted below); over IPv4
                       UDP 5436 it is 0 (PROTOCOLS.md section 4.8.1).

Each line is `label hex`, the hex being the whole IP packet (IPv6 with next
header 135, or IPv4 | UDP 5436 -> 5436 | MH); the pcaps hold the same
packets behind an Ethernet header, in the same order, for tshark.
"""

import os

from scapy.all import IP, UDP, Ether, IPv6, raw, wrpcap
from scapy.fields import (BitField, ByteEnumField, ByteField, FieldLenField, IntField, IP6Field, IPField,
                          LongField, ShortField, StrLenField, XShortField)
from scapy.layers.inet6 import (MIP6MH_BA, MIP6MH_BE, MIP6MH_BRR, MIP6MH_BU, MIP6MH_Generic, MIP6MH_HoTI,
                                MIP6OptAltCoA, MIP6OptBRAdvice, MIP6OptMNID, MIP6OptMsgAuth,
                                MIP6OptReplayProtection, MIP6OptUnknown, Pad1, PadN, _MIP6OptAlign, _MobilityHeader,
                                _OptionsField, _PhantomAutoPadField, in6_chksum, ipv6nh, mhtypes)

HERE = os.path.dirname(os.path.abspath(__file__))

MAG6, LMA6 = "2001:db8::a", "2001:db8::1"
MAG4, LMA4 = "192.0.2.10", "192.0.2.1"
NAI = b"mn1@example.net"
TS = (1700000000 << 16) | 0x8000  # Unix 1700000000.5 s, 48.16 fixed point (PROTOCOLS.md 2.10.7)
NTP = 0xE8E8E8E880000000  # a MESG-ID value (64-bit NTP), opaque to the codec
MAC = b"\x02\x00\x00\x00\x00\x07"
AUTH = bytes(range(0xA0, 0xAC))  # 12 octets, the HMAC-SHA1-96 size


# --- PMIPv6 / RFC 5844 / 5845 / 5847 / 5555 / 5094 options (PROTOCOLS.md 2.9, 2.10) ---
# x, y = the option's xn+y alignment; x = 0 means none (scapy's convention).

class OptVendor(_MIP6OptAlign):  # 19, RFC 5094, 4n+2
    name = "Vendor Specific"; x = 4; y = 2
    fields_desc = [ByteField("otype", 19), FieldLenField("olen", None, length_of="data", fmt="B",
                                                         adjust=lambda pkt, n: n + 5),
                   IntField("vendor", 0), ByteField("subtype", 0),
                   StrLenField("data", b"", length_from=lambda pkt: pkt.olen - 5)]


class OptHNP(_MIP6OptAlign):  # 22, 8n+4
    name = "HNP"; x = 8; y = 4
    fields_desc = [ByteField("otype", 22), ByteField("olen", 18), ByteField("res", 0),
                   ByteField("plen", 64), IP6Field("prefix", "::")]


class OptHI(_MIP6OptAlign):  # 23, none
    name = "HI"; x = 0; y = 0
    fields_desc = [ByteField("otype", 23), ByteField("olen", 2), ByteField("res", 0), ByteField("hi", 1)]


class OptATT(_MIP6OptAlign):  # 24, none
    name = "ATT"; x = 0; y = 0
    fields_desc = [ByteField("otype", 24), ByteField("olen", 2), ByteField("res", 0), ByteField("att", 3)]


class OptMNLLID(_MIP6OptAlign):  # 25; emitted at 8n+4 (our choice, PROTOCOLS.md 2.10.5)
    name = "MN-LL-ID"; x = 8; y = 4
    fields_desc = [ByteField("otype", 25), FieldLenField("olen", None, length_of="lli", fmt="B",
                                                         adjust=lambda pkt, n: n + 2),
                   ShortField("res", 0), StrLenField("lli", b"", length_from=lambda pkt: pkt.olen - 2)]


class OptLLA(_MIP6OptAlign):  # 26, 8n+6
    name = "LLA"; x = 8; y = 6
    fields_desc = [ByteField("otype", 26), ByteField("olen", 16), IP6Field("lla", "::")]


class OptTimestamp(_MIP6OptAlign):  # 27, 8n+2, Unix-epoch 48.16
    name = "TS"; x = 8; y = 2
    fields_desc = [ByteField("otype", 27), ByteField("olen", 8), LongField("ts", 0)]


class OptRestartCounter(_MIP6OptAlign):  # 28, RFC 5847, 4n+2
    name = "RC"; x = 4; y = 2
    fields_desc = [ByteField("otype", 28), ByteField("olen", 4), IntField("rc", 0)]


class OptIPv4HoA(_MIP6OptAlign):  # 29, RFC 5555, 4n
    name = "IPv4 HoA"; x = 4; y = 0
    fields_desc = [ByteField("otype", 29), ByteField("olen", 6), BitField("plen", 32, 6), BitField("p", 0, 1),
                   BitField("res", 0, 9), IPField("hoa", "0.0.0.0")]


class OptIPv4AddrAck(_MIP6OptAlign):  # 30, RFC 5555, 4n
    name = "IPv4 Addr Ack"; x = 4; y = 0
    fields_desc = [ByteField("otype", 30), ByteField("olen", 6), ByteField("status", 0), BitField("plen", 32, 6),
                   BitField("res", 0, 2), IPField("hoa", "0.0.0.0")]


class OptNATD(_MIP6OptAlign):  # 31, RFC 5555, 4n
    name = "NAT Detection"; x = 4; y = 0
    fields_desc = [ByteField("otype", 31), ByteField("olen", 6), BitField("f", 0, 1), BitField("res", 0, 15),
                   IntField("refresh", 0)]


class OptIPv4CoA(_MIP6OptAlign):  # 32, RFC 5555, 4n
    name = "IPv4 CoA"; x = 4; y = 0
    fields_desc = [ByteField("otype", 32), ByteField("olen", 6), ShortField("res", 0), IPField("coa", "0.0.0.0")]


class OptGREKey(_MIP6OptAlign):  # 33, RFC 5845, 4n, Length 6
    name = "GRE Key"; x = 4; y = 0
    fields_desc = [ByteField("otype", 33), ByteField("olen", 6), ShortField("res", 0), IntField("key", 0)]


class OptGREKeyNoKey(_MIP6OptAlign):  # 33, Length 2: GRE encapsulation only, no key
    name = "GRE Key (none)"; x = 4; y = 0
    fields_desc = [ByteField("otype", 33), ByteField("olen", 2), ShortField("res", 0)]


class OptIPv4HoAReq(_MIP6OptAlign):  # 36, RFC 5844, 4n
    name = "IPv4 HoA Request"; x = 4; y = 0
    fields_desc = [ByteField("otype", 36), ByteField("olen", 6), BitField("plen", 0, 6), BitField("res", 0, 10),
                   IPField("hoa", "0.0.0.0")]


class OptIPv4HoARep(_MIP6OptAlign):  # 37, RFC 5844, 4n
    name = "IPv4 HoA Reply"; x = 4; y = 0
    fields_desc = [ByteField("otype", 37), ByteField("olen", 6), ByteField("status", 0), BitField("plen", 0, 6),
                   BitField("res", 0, 2), IPField("hoa", "0.0.0.0")]


class OptIPv4DRA(_MIP6OptAlign):  # 38, RFC 5844, 4n
    name = "IPv4 Default Router"; x = 4; y = 0
    fields_desc = [ByteField("otype", 38), ByteField("olen", 6), ShortField("res", 0), IPField("dra", "0.0.0.0")]


class OptIPv4DHCP(_MIP6OptAlign):  # 39, RFC 5844, none
    name = "IPv4 DHCP Support Mode"; x = 0; y = 0
    fields_desc = [ByteField("otype", 39), ByteField("olen", 2), BitField("res", 0, 15), BitField("s", 0, 1)]


# --- Messages scapy lacks (PROTOCOLS.md 2.6, 2.7), shaped like its MIP6MH_BU ---

class MHHeartbeat(_MobilityHeader):  # MH type 13, RFC 5847
    name = "Heartbeat"
    fields_desc = [ByteEnumField("nh", 59, ipv6nh), ByteField("len", None), ByteEnumField("mhtype", 13, mhtypes),
                   ByteField("res", 0), XShortField("cksum", None),
                   BitField("reserved", 0, 14), BitField("u", 0, 1), BitField("r", 0, 1), IntField("seq", 0),
                   _PhantomAutoPadField("autopad", 1),
                   _OptionsField("options", [], MIP6OptUnknown, 12, length_from=lambda pkt: 8 * pkt.len - 4)]


class MHRevocation(_MobilityHeader):  # MH type 16, RFC 5846
    name = "Binding Revocation"
    fields_desc = [ByteEnumField("nh", 59, ipv6nh), ByteField("len", None), ByteEnumField("mhtype", 16, mhtypes),
                   ByteField("res", 0), XShortField("cksum", None),
                   ByteField("brtype", 1), ByteField("code", 0), ShortField("seq", 0),
                   BitField("p", 0, 1), BitField("v", 0, 1), BitField("g", 0, 1), BitField("reserved", 0, 13),
                   _PhantomAutoPadField("autopad", 1),
                   _OptionsField("options", [], MIP6OptUnknown, 12, length_from=lambda pkt: 8 * pkt.len - 4)]


def mnid(nai=NAI):
    return MIP6OptMNID(subtype=1, id=nai)


def v6(mh, src, dst):
    return IPv6(src=src, dst=dst, hlim=255) / mh


def v4(mh, src, dst):
    mh.cksum = 0  # MH in UDP over IPv4: checksum sent as 0 (PROTOCOLS.md 4.8.1)
    return IP(src=src, dst=dst, id=0x0536) / UDP(sport=5436, dport=5436) / mh


def frozen(pkt):
    """The packet's bytes, checked: over IPv6 the MH checksum equals scapy's
    in6_chksum over the MH with its checksum zeroed; over IPv4 it is 0."""
    b = raw(pkt)
    if IPv6 in pkt:
        ip = IPv6(b)
        mh = raw(ip.payload)
        zeroed = mh[:4] + b"\0\0" + mh[6:]
        assert int.from_bytes(mh[4:6], "big") == in6_chksum(135, ip.payload, zeroed), pkt.summary()
    else:
        mh = b[28:]
        assert mh[4:6] == b"\0\0"
    assert len(mh) == (mh[1] + 1) * 8, pkt.summary()
    return b


# --- Received by the anchor ---

ORACLE_OPTS = [mnid(), OptHNP(plen=0, prefix="::"), OptHI(hi=1), OptATT(att=3), OptTimestamp(ts=TS),
               OptIPv4HoAReq(), OptGREKey(key=0x1234)]
# ORACLES.md section 2.4, built with scapy 2.8.0 there; must be the same with 2.5.0.
ORACLE_MH = bytes.fromhex(
    "3b0b0500af190007820003840810016d6e31406578616d706c652e6e6574"
    "0104000000001612000000000000000000000000000000000000170200011802"
    "000301001b0800006553f10080002406000000000000210600000000123401020000")


def received():
    out = []
    pbu = v6(MIP6MH_BU(seq=7, flags="PA", mhtime=900, options=ORACLE_OPTS), MAG6, LMA6)
    assert raw(pbu)[40:] == ORACLE_MH, raw(pbu)[40:].hex()
    out.append(("pbu_oracle", pbu))
    out.append(("pbu_oracle_v4", v4(MIP6MH_BU(seq=8, flags="PA", mhtime=900, options=ORACLE_OPTS), MAG4, LMA4)))

    full = [mnid(), OptHNP(plen=64, prefix="2001:db8:1:2::"), OptHNP(plen=64, prefix="2001:db8:1:3::"),
            OptHI(hi=3), OptATT(att=4), OptMNLLID(lli=MAC), OptLLA(lla="::"), OptTimestamp(ts=TS),
            OptGREKeyNoKey(), OptIPv4HoAReq(plen=32, hoa="192.0.2.77"), MIP6OptAltCoA(acoa="2001:db8::b"),
            OptVendor(vendor=10415, subtype=7, data=b"\x01\x02\x03"),
            MIP6OptUnknown(otype=20, odata=b"ims")]  # Service Selection (RFC 5149): skipped, kept
    # A + P + F + T: flags word 0x8380 (ORACLES.md section 2.3).
    out.append(("pbu_full", v6(MIP6MH_BU(seq=0x1234, flags="PA", reserved=0x180, mhtime=150, options=full),
                               MAG6, LMA6)))

    dereg = [mnid(), OptHNP(plen=64, prefix="2001:db8:1:2::"), OptHI(hi=5), OptATT(att=3), OptTimestamp(ts=TS + 1),
             OptGREKey(key=0x1234)]
    out.append(("pbu_dereg_v4", v4(MIP6MH_BU(seq=0xffff, flags="PA", mhtime=0, options=dereg), MAG4, LMA4)))

    dsmip = [OptIPv4HoA(plen=32, p=1, hoa="0.0.0.0"), OptIPv4CoA(coa="198.51.100.7"), mnid(),
             MIP6OptReplayProtection(timestamp=NTP), MIP6OptMsgAuth(subtype=1, mspi=256, authdata=AUTH)]
    bu = v6(MIP6MH_BU(seq=3, flags="HA", mhtime=100, options=dsmip), "2001:db8:5::9", LMA6)
    assert raw(bu)[-19:-12] == b"\x09\x11\x01\x00\x00\x01\x00", "AUTH last, no trailing padding"
    out.append(("bu_dsmip", bu))

    bri = [mnid(), OptIPv4HoAReq(plen=32, hoa="10.1.2.3"), MIP6OptAltCoA(acoa="2001:db8::b")]
    out.append(("bri_v6", v6(MHRevocation(brtype=1, code=5, seq=0x4242, p=1, v=1, options=bri), MAG6, LMA6)))
    out.append(("bri_global_v6", v6(MHRevocation(brtype=1, code=128, seq=0x4243, p=1, g=1,
                                                 options=[mnid(b"mag1@example.net")]), MAG6, LMA6)))
    bra = [mnid(), OptHNP(plen=64, prefix="2001:db8:1:2::")]
    out.append(("bra_v6", v6(MHRevocation(brtype=2, code=1, seq=0x0102, p=1, options=bra), MAG6, LMA6)))
    out.append(("hb_req_v6", v6(MHHeartbeat(seq=0x01020304), MAG6, LMA6)))
    out.append(("hb_resp_v4", v4(MHHeartbeat(r=1, seq=0xfffffffe, options=[OptRestartCounter(rc=7)]), MAG4, LMA4)))
    out.append(("be_v6", v6(MIP6MH_BE(status=2, ha="::"), MAG6, LMA6)))
    out.append(("brr_v6", v6(MIP6MH_BRR(), MAG6, LMA6)))

    # Misaligned options (no autopad): receivers must not reject them.
    mis = [PadN(optdata=b""), mnid(), OptHNP(plen=64, prefix="2001:db8:1:2::"), OptTimestamp(ts=TS),
           OptGREKey(key=9), OptRestartCounter(rc=1)]
    body = sum(len(raw(o)) for o in mis)
    tail = (8 - (12 + body) % 8) % 8
    if tail == 1:
        mis.append(Pad1())
    elif tail:
        mis.append(PadN(optdata=b"\0" * (tail - 2)))
    out.append(("pbu_misaligned", v6(MIP6MH_BU(seq=11, flags="PA", mhtime=10, autopad=0, options=mis), MAG6, LMA6)))

    # Malformed: the receive checks of PROTOCOLS.md section 2.1, then options (2.8).
    bad = v6(MIP6MH_BU(seq=7, flags="PA", mhtime=900, options=ORACLE_OPTS), MAG6, LMA6)
    b = bytearray(raw(bad))
    b[44] ^= 0x01  # checksum off by one bit
    out.append(("bad_checksum", IPv6(bytes(b))))
    out.append(("unknown_type_hoti", v6(MIP6MH_HoTI(), MAG6, LMA6)))
    out.append(("unknown_type_99", v6(MIP6MH_Generic(mhtype=99, msg=b"\0" * 10), MAG6, LMA6)))
    out.append(("bad_payload_proto", v6(MIP6MH_BU(nh=58, seq=7, flags="PA", mhtime=9, options=[mnid()]), MAG6, LMA6)))
    out.append(("short_header_len_be", v6(MIP6MH_Generic(mhtype=7, len=1, msg=b"\x02" + b"\0" * 9), MAG6, LMA6)))
    out.append(("short_header_len_bu", v6(MIP6MH_Generic(mhtype=5, len=0, msg=b"\0\0"), MAG6, LMA6)))
    out.append(("option_overrun", v6(MIP6MH_BU(seq=1, flags="PA", mhtime=9,
                                               options=[MIP6OptUnknown(otype=52, olen=40, odata=b"ab")]),
                                     MAG6, LMA6)))
    out.append(("hnp_length_17", v6(MIP6MH_BU(seq=1, flags="PA", mhtime=9,
                                              options=[MIP6OptUnknown(otype=22, odata=b"\0" * 17)]),
                                    MAG6, LMA6)))
    out.append(("gre_key_length_4", v6(MIP6MH_BU(seq=1, flags="PA", mhtime=9,
                                                 options=[mnid(), MIP6OptUnknown(otype=33, odata=b"\0" * 4)]),
                                       MAG6, LMA6)))
    return out


# --- Sent by the anchor ---

def emitted():
    out = []
    pba = [mnid(), OptHNP(plen=64, prefix="2001:db8:1:2::"), OptHNP(plen=64, prefix="2001:db8:1:3::"),
           OptHI(hi=3), OptATT(att=4), OptMNLLID(lli=MAC), OptLLA(lla="fe80::1"), OptTimestamp(ts=TS),
           OptGREKey(key=0x5678), OptIPv4HoARep(status=0, plen=24, hoa="10.1.2.3"), OptIPv4DRA(dra="10.1.2.1"),
           OptIPv4DHCP(s=1)]
    # P + T: flags byte 0x30 (scapy: flags "P", T in res2).
    out.append(("pba_v6", v6(MIP6MH_BA(status=0, flags="P", res2=0x10, seq=0x1234, mhtime=150, options=pba),
                             LMA6, MAG6)))
    out.append(("pba_reject_v6", v6(MIP6MH_BA(status=153, flags="P", seq=9, mhtime=0, options=[mnid()]), LMA6, MAG6)))
    pba4 = [mnid(), OptHNP(plen=64, prefix="2001:db8:1:2::"), OptHI(hi=1), OptATT(att=3), OptTimestamp(ts=TS),
            OptGREKeyNoKey(), OptIPv4HoARep(status=0, plen=32, hoa="10.1.2.4"),
            OptNATD(f=1, refresh=0xFFFFFFFF)]
    out.append(("pba_v4", v4(MIP6MH_BA(status=0, flags="P", seq=8, mhtime=900, options=pba4), LMA4, MAG4)))
    out.append(("pba_reject_v4", v4(MIP6MH_BA(status=130, flags="P", seq=8, mhtime=0,
                                              options=[mnid(), OptIPv4HoARep(status=128, plen=0, hoa="0.0.0.0")]),
                                    LMA4, MAG4)))
    out.append(("bri_v6", v6(MHRevocation(brtype=1, code=2, seq=0x0100, p=1,
                                          options=[mnid(), OptHNP(plen=64, prefix="2001:db8:1:2::")]), LMA6, MAG6)))
    out.append(("bri_global_v4", v4(MHRevocation(brtype=1, code=128, seq=0x0101, p=1, g=1), LMA4, MAG4)))
    out.append(("bri_hoa_v4", v4(MHRevocation(brtype=1, code=5, seq=0x0102, p=1, v=1,
                                              options=[mnid(), OptIPv4HoAReq(plen=32, hoa="10.1.2.3")]), LMA4, MAG4)))
    out.append(("bra_v6", v6(MHRevocation(brtype=2, code=0, seq=0x4242, p=1, v=1, options=[mnid()]), LMA6, MAG6)))
    out.append(("hb_resp_v6", v6(MHHeartbeat(r=1, seq=0x01020304, options=[OptRestartCounter(rc=42)]), LMA6, MAG6)))
    out.append(("hb_req_v6", v6(MHHeartbeat(seq=1), LMA6, MAG6)))
    out.append(("hb_unsolicited_v4", v4(MHHeartbeat(u=1, r=1, seq=0, options=[OptRestartCounter(rc=42)]),
                                        LMA4, MAG4)))
    out.append(("be_v6", v6(MIP6MH_BE(status=2, ha="::"), LMA6, MAG6)))
    out.append(("brr_v6", v6(MIP6MH_BRR(), LMA6, MAG6)))
    ba = [OptIPv4AddrAck(status=0, plen=32, hoa="10.9.8.7"), OptNATD(f=0, refresh=110), MIP6OptBRAdvice(rinter=50),
          MIP6OptReplayProtection(timestamp=NTP), MIP6OptMsgAuth(subtype=1, mspi=256, authdata=AUTH)]
    ba_pkt = v6(MIP6MH_BA(status=0, flags="K", seq=3, mhtime=100, options=ba), LMA6, "2001:db8:5::9")
    assert raw(ba_pkt)[-19:-12] == b"\x09\x11\x01\x00\x00\x01\x00", "AUTH last, no trailing padding"
    out.append(("ba_dsmip_v6", ba_pkt))
    rest = [MIP6OptAltCoA(acoa="2001:db8::b"), OptIPv4HoA(plen=32, p=1, hoa="192.0.2.200"),
            OptIPv4CoA(coa="198.51.100.7"), OptVendor(vendor=32473, subtype=1, data=b"\x01\x02\x03"),
            MIP6OptUnknown(otype=200, odata=b"\x00\x01abc"), OptGREKey(key=0xFFFFFFFF)]
    # Every BU flag we name: A H L K M R P F T B = 0xffc0.
    out.append(("bu_rest_v6", v6(MIP6MH_BU(seq=0xfffe, flags="PRMKLHA", reserved=0x1c0, mhtime=0xffff,
                                           options=rest), MAG6, LMA6)))
    return out


def write(stem, comment, items):
    frames = []
    with open(os.path.join(HERE, stem + ".hex"), "w") as f:
        f.write(f"# {stem}: {comment}\n# Generated by make_golden.py (scapy); do not edit.\n")
        for label, pkt in items:
            b = frozen(pkt) if not label.startswith("bad_") else raw(pkt)
            f.write(f"{label} {b.hex()}\n")
            e = Ether(dst="02:00:00:00:00:02", src="02:00:00:00:00:01", type=0x86DD if b[0] >> 4 == 6 else 0x0800)
            e = e / (IPv6(b) if b[0] >> 4 == 6 else IP(b))
            e.time = 1700000000 + len(frames)  # fixed: reproducible pcaps
            frames.append(e)
    wrpcap(os.path.join(HERE, stem + ".pcap"), frames)


def main():
    write("received", "messages the anchor receives (scapy-built), then malformed ones", received())
    write("emitted", "messages the anchor sends, as scapy builds them", emitted())


if __name__ == "__main__":
    main()
