#!/usr/bin/python3
"""DSMIPv6 mobile node (RFC 5555 over RFC 6275 home registration, RFC 4285 MN-HA authentication) for the demo network.

Written from ../shared/spec/PROTOCOLS.md §2 (Mobility Header, options,
alignment) and §11 (DSMIPv6 transports, BU/BA, RFC 4285, NAT detection)
independently of the Rust code; standard library only. It builds Binding
Updates (H = 1, A = 1, increasing sequence numbers, lifetime in 4 s units)
with, in this order: Mobile Node Identifier (8, subtype 1 NAI) when --mn-id
is given, IPv4 Home Address (29) when --ipv4-hoa is given, IPv4 Care-of
Address (32) over IPv4 or Alternate Care-of Address (3, = the care-of
address, RFC 6275 §11.7.1) over IPv6, MESG-ID (10, NTP timestamp now) and
last the MN-HA AUTH option (9, subtype 1: HMAC-SHA1-96 over care-of address
| home address | Mobility Header with checksum 0 up to and including the
SPI; an IPv4 care-of address enters as ::ffff:a.b.c.d, §11.3), each after
the Pad1/PadN its xn+y alignment needs (AUTH lands at 8n+5 so that the
message ends on 8 octets with nothing after it). The MH checksum uses the
home address as source (RFC 6275 §6.1.1). Two transports, chosen by the
family of --coa (§11.1):

  IPv6 CoA: IPv6 (src CoA, dst HA) | Destination Options (PadN, Home
            Address option 201 at 8n+6) | MH, sent on a header-including raw
            socket; the BA comes back with a type 2 routing header (read on
            a raw socket for next header 43, before this kernel, which has
            no Mobile IPv6, refuses the routing header: it then sends the
            home agent an ICMPv6 Parameter Problem, code 0, pointer 42, for
            every such BA; harmless) or without one.
            Data: IPv6-in-IPv6 (41) and IPv4-in-IPv6 (4) between CoA and HA.
  IPv4 CoA: IPv4 (src --coa) | UDP (--port, default any) -> HA4:4191 |
            IPv6 (src HoA, dst HA) | MH; the BA comes back on the same UDP
            socket. With --nat-coa the IPv4 CoA option says another address
            than the one the packet leaves from, so the home agent detects
            a NAT (§11.2 item 1). Data: without NAT and without F, IPv4
            encapsulation (protocol 41 for IPv6, 4 for IPv4) between --coa
            and --ha4; with a NAT (the BA's NAT Detection refresh time is
            not 0xffffffff) or F (--force-udp, confirmed by the option's F),
            IPv4 | UDP 4191 | inner IPv4 or IPv6 (no TLV header, told apart
            by the first nibble) on the BU's own socket. Behind a NAT the
            node refreshes the NAT binding as RFC 5555 §4.1 says: a Binding
            Update every refresh time of the NAT Detection option (0 ->
            NATKATIMEOUT 110 s) unless other UDP traffic went out meanwhile.

Retransmissions (no BA within --initial-timeout, doubled each time, at most
--max-tries sends) are new Binding Updates with a higher sequence number and
a fresh MESG-ID (RFC 6275 §11.8); a BA with status 135 makes the node take
the BA's sequence number and send one more BU (a second "ba" event, with
"resync": true). Once registered the node's traffic goes through a TUN
device moved into --mn-ns (which must exist: a namespace made from inside
`ip netns exec` would not be seen outside its mount namespace; a simulator
already running in --mn-ns creates the TUN there and does not move it) with
the IPv6 home address as a /128 and the granted IPv4 home address as a /32,
and default routes of both families into the TUN. Anything that arrives
from another source than the home agent (address, UDP port), or whose inner
source is not a home address of ours on the uplink, is dropped and counted.

  ip netns exec anc-mag /usr/bin/python3 scripts/sim/dsmip6.py \\
      --mn-id mn6@anchor.test --hoa 2001:db8:100::10 --spi 4096 \\
      --key 00112233445566778899aabbccddeeff00112233 \\
      --ha 2001:db8:1::1 --ha4 192.0.2.1 --coa 192.0.2.2 --ipv4-hoa 0.0.0.0

At its IPv4 home link (--on-ipv4-home-link; PROTOCOLS.md §11.4,
draft-premec-mext-extended-home-link-00 §4.2, first walk-through): the node
has been attached for IPv4 only by PMIPv6 (mag.py's TUN in --mn-ns carries
the IPv4 home address and an IPv4 default route, its packets go through
the MAG's tunnel to the anchor) and registers its IPv6 home address with
the IPv4 home address as care-of address: --coa and --ipv4-hoa are that
one address (no --nat-coa, no --force-udp), so the BU goes over UDP 4191
from it with IPv4 CoA option = IPv4 HoA option = it, and the home agent
(seeing CoA = HoA) knows the node is at its IPv4 home: it keeps IPv4 to the
proxy binding and tunnels IPv6 to the node as IPv6 in IPv4 (protocol 41)
between --ha4 and the home address, inside the MAG's tunnel; the BA comes
back the same way. The simulator must then run inside --mn-ns (its care-of
address lives there; the TUN is created there and not moved), its TUN
(default mn6 in this mode) must be a name the namespace does not have yet,
and it gives that TUN the IPv6 home address /128 and the IPv6 default route
only: neither the IPv4 home address nor an IPv4 default route (IPv4 stays
on the MAG's TUN; a second IPv4 default route would take the node's own
transport away). IPv4 from the TUN is dropped (ipv4_at_home). The
"attached" event says "home": "ipv4" (null otherwise):

  ip netns exec anc-mn /usr/bin/python3 scripts/sim/dsmip6.py \\
      --mn-id ds6@anchor.test --hoa 2001:db8:300::10 --spi 8448 \\
      --key 2122232425262728292a2b2c2d2e2f3031323334 \\
      --ha 2001:db8:1::1 --ha4 192.0.2.1 --coa 203.0.113.201 \\
      --ipv4-hoa 203.0.113.201 --on-ipv4-home-link --mn-ns anc-mn --tun mn6

At its IPv6 home link (--on-ipv6-home-link; the same section, second
walk-through), the mirror image: the node has been attached for IPv6 only
by PMIPv6 (mag.py's TUN in --mn-ns, e.g. mn0, carries an address of the
node's home network prefix and the IPv6 default route) and registers its
IPv4 home address with the IPv6 home address as care-of address: the
simulator adds --hoa (inside that prefix) to the MAG's TUN as a /128
(nodad; deleted again on exit when it added it) so that it can send from
it, and the BU goes over IPv6 from --hoa to --ha with no Home Address
option, Alternate CoA = --hoa and the IPv4 Home Address option (--ipv4-hoa;
0.0.0.0 asks for one); the BA comes back over IPv6 to --hoa (no type 2
routing header). --coa is --hoa (or left out). The home agent keeps IPv6
to the proxy binding and tunnels IPv4 to the node as IPv4 in IPv6 (next
header 4) between --ha and --hoa, inside the MAG's tunnel. The simulator
runs inside --mn-ns; its TUN (default mn6, a name the namespace does not
have yet) gets the granted IPv4 home address /32 and the IPv4 default
route only, no IPv6 address or route (IPv6 stays on the MAG's TUN). IPv6
from or to the TUN is dropped (ipv6_at_home). The "attached" event says
"home": "ipv6":

  ip netns exec anc-mn /usr/bin/python3 scripts/sim/dsmip6.py \\
      --mn-id ds6@anchor.test --hoa 2001:db8:300::10 --spi 8448 \\
      --key 2122232425262728292a2b2c2d2e2f3031323334 \\
      --ha 2001:db8:1::1 --ipv4-hoa 203.0.113.201 --on-ipv6-home-link \\
      --mn-ns anc-mn --tun mn6

Commands on stdin, one per line (read only while no BU waits for its BA);
one JSON event per line on stdout:

  register [LIFETIME]   a BU with LIFETIME seconds (default --lifetime,
                        rounded up to 4 s units; 0 = deregister);
                        "ba" (cmd "register"), then "attached" the first
                        time a registration with a lifetime is accepted
  deregister            a BU with lifetime 0: "ba" (cmd "deregister"), then
                        "detached" when accepted
  replay                the last BU sent again, byte for byte (same
                        sequence number and MESG-ID; the home agent must
                        answer 144): "ba" (cmd "replay")
  forge                 a fresh BU whose authenticator has its last bit
                        flipped (the home agent must answer 146): "ba"
                        (cmd "forge")
  keepalive             a NAT keepalive (a refreshing BU) now: "keepalive",
                        then "ba" (cmd "keepalive")
  unknown-mh TYPE       (IPv6 care-of address only) a Mobility Header of
                        TYPE (one the home agent does not know) with the
                        Home Address option, as a BU travels; the home
                        agent answers with a Binding Error: "be" (cmd
                        "unknown-mh", status, home_address, checksum_ok,
                        source)
  quit                  "exit"

Events: "ready" (coa, transport "ipv6"|"ipv4", port, hoa, ha, ha4, home);
"ba": cmd, tries, status, accepted (status < 128), flags, seq, seq_sent,
lifetime (4 s units) and lifetime_s, auth_ok (MN-HA authenticator of the BA
under --key and --spi), auth_spi, checksum_ok, mesg_id (hex), mesg_id_echoed
(the BU's), mesg_id_delta_s (the BA's seconds minus ours: the home agent's
clock on a 144), ipv4_ack {status, prefix_len, addr} or null, nat_detection
{f, refresh_s} or null, framing ("ipv6-rh2", "ipv6" or "udp4"), rh2_hoa
(the type 2 routing header's address), source, resync; or {"event": "ba",
"cmd": ..., "timeout": true, "tries": N} when no BA came. A BA that matches
no BU waiting is reported as "ba" with "unsolicited": true. "attached": hoa,
ipv4_hoa (null when none was granted), transport, encap ("ipip6", "ipip4"
or "udp"), nat, udp_forced, keepalive_s, coa, tun, mn_addrs (the TUN's), home
("ipv4" at the IPv4 home link, "ipv6" at the IPv6 home link, else null). "encap" (the
same fields) when a later BA changes the encapsulation or the IPv4 home
address. "keepalive" (seq, port), "detached" (reason), "error" (what),
"exit". With --pcap every BU sent and BA received is also written to a pcap
file (LINKTYPE_RAW; IPv4/UDP headers rebuilt around what a UDP socket
sends and receives; decode with tshark -d udp.port==4191,ipv6). SIGTERM
closes the TUN and prints the counters ("stats {json}") on stderr.
"""

import argparse
import hashlib
import hmac
import ipaddress
import json
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tunnel_peer as tp  # noqa: E402  (TUN, raw tunnels, checksums)

DSMIP6_PORT = 4191
NH_IPV4, NH_IPV6, NH_UDP, NH_ROUTING, NH_DSTOPTS, NH_MH, NH_NONE = 4, 41, 17, 43, 60, 135, 59
MH_BU, MH_BA, MH_BE = 5, 6, 7
HOME_ADDRESS_OPTION = 201  # RFC 6275 §6.3, alignment 8n+6
BU_A, BU_H, BU_F = 0x8000, 0x4000, 0x0100
OPT_PAD1, OPT_PADN, OPT_ALT_COA, OPT_MN_ID, OPT_AUTH, OPT_MESG_ID = 0, 1, 3, 8, 9, 10
OPT_IPV4_HOA, OPT_IPV4_ACK, OPT_NAT_DETECTION, OPT_IPV4_COA = 29, 30, 31, 32
MN_ID_NAI, AUTH_MN_HA = 1, 1
AUTH_LEN = 12  # HMAC-SHA1-96
NO_KEEPALIVES = 0xFFFFFFFF
NATKATIMEOUT = 110
STATUS_REJECTED, STATUS_SEQ_OUT_OF_WINDOW = 128, 135
NTP_UNIX_OFFSET = 2_208_988_800
LINKTYPE_RAW = 101


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def ntp_now():
    """RFC 4285 MESG-ID: 64-bit NTP (seconds since 1900 . 2^-32 fractions)."""
    t = time.time()
    secs = int(t) + NTP_UNIX_OFFSET
    frac = int((t - int(t)) * (1 << 32)) & 0xFFFFFFFF
    return ((secs & 0xFFFFFFFF) << 32) | frac


# ------------------------------------------------------------ MH encoding
def padding(off, x, y):
    """Pad1 / PadN that bring `off` to x*n + y (PROTOCOLS.md §2.8)."""
    if x <= 1:
        return b""
    n = (y - off) % x
    if n == 0:
        return b""
    if n == 1:
        return bytes([OPT_PAD1])
    return bytes([OPT_PADN, n - 2]) + bytes(n - 2)


def opt_mn_id(nai):
    """RFC 4283: Type 8, Length 1 + NAI, Subtype 1, NAI; no alignment."""
    b = nai.encode()
    return (1, 0, struct.pack("!BBB", OPT_MN_ID, 1 + len(b), MN_ID_NAI) + b)


def opt_ipv4_hoa(addr, prefix_len=32, p=False):
    """RFC 5555 option 29 (§2.10.9): Prefix-len in the 6 high bits, P, address; 4n."""
    flags = ((prefix_len & 0x3F) << 10) | (0x0200 if p else 0)
    return (4, 0, struct.pack("!BBH4s", OPT_IPV4_HOA, 6, flags, addr.packed))


def opt_ipv4_coa(addr):
    """RFC 5555 option 32 (§2.10.12): Reserved 16, address; 4n."""
    return (4, 0, struct.pack("!BBH4s", OPT_IPV4_COA, 6, 0, addr.packed))


def opt_alt_coa(addr):
    """RFC 6275 option 3 (§2.10.1); 8n+6."""
    return (8, 6, struct.pack("!BB16s", OPT_ALT_COA, 16, addr.packed))


def opt_mesg_id(value):
    """RFC 4285 option 10 (§11.3): 64-bit NTP timestamp; 8n+2."""
    return (8, 2, struct.pack("!BBQ", OPT_MESG_ID, 8, value))


def auth_coa16(coa):
    """The care-of address as authenticator input: IPv6 as it is, IPv4 as
    ::ffff:a.b.c.d (PROTOCOLS.md §11.3, our choice there)."""
    if coa.version == 6:
        return coa.packed
    return ipaddress.IPv6Address("::ffff:" + str(coa)).packed


def authenticator(key, coa16, hoa16, covered):
    """RFC 4285 MN-HA: HMAC-SHA1(key, CoA | HoA | MH up to the SPI with the
    checksum 0), first 96 bits."""
    mh = bytearray(covered)
    mh[4:6] = b"\0\0"
    return hmac.new(key, coa16 + hoa16 + bytes(mh), hashlib.sha1).digest()[:AUTH_LEN]


def mh_checksum(src16, dst16, mh):
    """RFC 6275 §6.1.1: Internet checksum over the IPv6 pseudo-header
    (src, dst, upper-layer length, 3 zero octets, next header 135) and the
    MH with its checksum field taken as 0."""
    body = bytearray(mh)
    body[4:6] = b"\0\0"
    return tp.inet_checksum(src16 + dst16 + struct.pack("!I3xB", len(body), NH_MH) + bytes(body))


def build_mh(mh_type, fixed, options, spi, key, coa16, hoa16, pseudo, flip_auth=False):
    """A Mobility Header: Payload Proto 59, Header Len, type, the fixed
    part, each option after its alignment padding, the MN-HA AUTH option
    last at 8n+5 (so the message ends on a multiple of 8 right after it),
    the authenticator, then the checksum over `pseudo` = (src16, dst16)."""
    mh = bytearray(struct.pack("!BBBBH", NH_NONE, 0, mh_type, 0, 0) + fixed)
    for x, y, body in options:
        mh += padding(len(mh), x, y)
        mh += body
    mh += padding(len(mh), 8, 5)
    auth_at = len(mh)
    mh += struct.pack("!BBBI", OPT_AUTH, 5 + AUTH_LEN, AUTH_MN_HA, spi) + bytes(AUTH_LEN)
    assert len(mh) % 8 == 0
    mh[1] = len(mh) // 8 - 1
    mac = bytearray(authenticator(key, coa16, hoa16, mh[: auth_at + 7]))
    if flip_auth:
        mac[-1] ^= 0x01
    mh[auth_at + 7 :] = mac
    mh[4:6] = struct.pack("!H", mh_checksum(pseudo[0], pseudo[1], mh))
    return bytes(mh)


def ipv6_header(src16, dst16, nh, payload_len, hop_limit=64):
    return struct.pack("!IHBB16s16s", 6 << 28, payload_len, nh, hop_limit, src16, dst16)


def ipv4_header(src4, dst4, proto, payload_len, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 0, 0x4000, ttl, proto, 0, src4, dst4)
    return h[:10] + struct.pack("!H", tp.inet_checksum(h)) + h[12:]


def udp4_packet(src, sport, dst, dport, payload):
    """IPv4 | UDP with both checksums, for the pcap of what a UDP socket
    sent or received."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, NH_UDP, len(udp))
    c = tp.inet_checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return ipv4_header(src.packed, dst.packed, NH_UDP, len(udp)) + udp


def home_address_dstopts(hoa16):
    """RFC 6275 §6.3: Destination Options header, Next Header 135, Hdr Ext
    Len 2, PadN(4) so the Home Address option (201, Length 16) sits at 8n+6."""
    return struct.pack("!BBBBHBB16s", NH_MH, 2, OPT_PADN, 2, 0, HOME_ADDRESS_OPTION, 16, hoa16)


# ------------------------------------------------------------ MH decoding
def walk_options(mh, start, end):
    """(type, offset, data) of each option; Pad1/PadN skipped. Raises
    ValueError when an option runs past the end."""
    out, off = [], start
    while off < end:
        t = mh[off]
        if t == OPT_PAD1:
            off += 1
            continue
        if off + 2 > end or off + 2 + mh[off + 1] > end:
            raise ValueError(f"option {t} at {off} runs past the end")
        data = mh[off + 2 : off + 2 + mh[off + 1]]
        if t != OPT_PADN:
            out.append((t, off, data))
        off += 2 + len(data)
    return out


def parse_ba(a, mh, pseudo, coa16, sent):
    """The "ba" event fields of Mobility Header `mh` (None when it is not a
    Binding Acknowledgement). `pseudo` = (src16, dst16) of its checksum,
    `coa16` the authenticator's care-of address, `sent` the BU waiting
    (seq, mesg_id) or None."""
    if len(mh) < 12 or mh[2] != MH_BA:
        return None
    total = (mh[1] + 1) * 8
    if total > len(mh):
        return {"error": f"Header Len says {total} octets, got {len(mh)}"}
    mh = mh[:total]
    status, flags, seq, lifetime = mh[6], mh[7], *struct.unpack_from("!HH", mh, 8)
    ev = {
        "status": status,
        "accepted": status < STATUS_REJECTED,
        "flags": flags,
        "seq": seq,
        "seq_sent": sent[0] if sent else None,
        "lifetime": lifetime,
        "lifetime_s": lifetime * 4,
        "payload_proto": mh[0],
        "checksum_ok": mh_checksum(pseudo[0], pseudo[1], mh) == struct.unpack_from("!H", mh, 4)[0],
        "auth_ok": False,
        "auth_spi": None,
        "auth_last": None,
        "mesg_id": None,
        "mesg_id_echoed": None,
        "mesg_id_delta_s": None,
        "ipv4_ack": None,
        "nat_detection": None,
    }
    try:
        opts = walk_options(mh, 12, total)
    except ValueError as e:
        ev["error"] = str(e)
        return ev
    for i, (t, off, data) in enumerate(opts):
        if t == OPT_MESG_ID and len(data) == 8:
            v = struct.unpack("!Q", data)[0]
            ev["mesg_id"] = f"{v:016x}"
            if sent:
                ev["mesg_id_echoed"] = v == sent[1]
            ev["mesg_id_delta_s"] = (v >> 32) - (ntp_now() >> 32)
        elif t == OPT_IPV4_ACK and len(data) == 6:
            ev["ipv4_ack"] = {
                "status": data[0],
                "prefix_len": data[1] >> 2,
                "addr": str(ipaddress.IPv4Address(data[2:6])),
            }
        elif t == OPT_NAT_DETECTION and len(data) == 6:
            fl, refresh = struct.unpack("!HI", data)
            ev["nat_detection"] = {"f": bool(fl & 0x8000), "refresh_s": refresh}
        elif t == OPT_AUTH and len(data) >= 5:
            subtype, spi = data[0], struct.unpack_from("!I", data, 1)[0]
            ev["auth_spi"] = spi
            # RFC 4285: the last option, ending the message.
            ev["auth_last"] = i == len(opts) - 1 and off + 2 + len(data) == total
            want = authenticator(a.key, coa16, a.hoa.packed, mh[: off + 7])
            ev["auth_ok"] = bool(
                subtype == AUTH_MN_HA
                and spi == a.spi
                and ev["auth_last"]
                and hmac.compare_digest(want, bytes(data[5:]))
            )
    return ev


class Pcap:
    """A pcap file of raw IP packets (LINKTYPE_RAW)."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        self.f.flush()

    def write(self, pkt):
        t = time.time()
        self.f.write(struct.pack("<IIII", int(t), int((t - int(t)) * 1e6), len(pkt), len(pkt)) + pkt)
        self.f.flush()


def run_ip(*cmd):
    subprocess.run(cmd, check=True)


def in_namespace(ns):
    """Whether this process already lives in the network namespace named
    `ns` (its /run/netns file and our /proc/self/ns/net are the same nsfs
    inode)."""
    for base in ("/run/netns", "/var/run/netns"):
        try:
            there = os.stat(os.path.join(base, ns))
        except OSError:
            continue
        here = os.stat("/proc/self/ns/net")
        return (there.st_dev, there.st_ino) == (here.st_dev, here.st_ino)
    return False


class Node:
    def __init__(self, a):
        self.a = a
        self.v4 = a.coa.version == 4
        # PROTOCOLS.md §11.4: the care-of address is the IPv4 home address
        # on the (PMIPv6-emulated) IPv4 home link.
        # ... or the IPv6 home address on the IPv6 home link.
        self.home = "ipv4" if a.on_ipv4_home_link else "ipv6" if a.on_ipv6_home_link else None
        self.hoa_added = None  # the device we gave --hoa to (IPv6 home link), to take it back
        if self.home == "ipv6":
            self.add_hoa_on_home_link()
        self.counts = Counter()
        self.seq = a.seq if a.seq is not None else random.randint(1, 0x7FFF)
        self.last_mesg = 0
        self.last_bu = None  # (packet, seq, mesg_id) of the last genuine BU, for replay
        self.pending = None  # the exchange waiting for its BA
        self.granted_v4 = None  # (IPv4Address, prefix_len) from the last IPv4 Address Ack
        self.tun = None
        self.tunnel = None  # tp.RawTunnel (ipip6 / ipip4)
        self.encap = None
        self.nat = False
        self.udp_forced = False
        self.keepalive_s = None
        self.next_keepalive = None
        self.keepalive_seq = 0
        self.last_udp_out = 0.0
        self.pcap = Pcap(a.pcap) if a.pcap else None
        self.stdin_buf = b""
        if self.v4:
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind((str(a.coa), a.port))
            self.port = self.udp.getsockname()[1]
            self.sig_socks = [self.udp]
        else:
            self.port = None
            # The whole IPv6 packet is ours (IPPROTO_RAW implies IPV6_HDRINCL).
            self.tx6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
            self.rx_rh = socket.socket(socket.AF_INET6, socket.SOCK_RAW, NH_ROUTING)
            self.rx_mh = socket.socket(socket.AF_INET6, socket.SOCK_RAW, NH_MH)
            for s in (self.rx_rh, self.rx_mh):
                s.bind((str(a.coa), 0))
            self.sig_socks = [self.rx_rh, self.rx_mh]

    # ------------------------------------------------------- signalling
    def care_of_in_bu(self):
        return (self.a.nat_coa or self.a.coa) if self.v4 else self.a.coa

    def next_seq(self):
        self.seq = (self.seq + 1) & 0xFFFF
        return self.seq

    def next_mesg_id(self):
        self.last_mesg = max(ntp_now(), self.last_mesg + 1)
        return self.last_mesg

    def build_bu(self, lifetime_s, forge=False):
        """(packet to send, seq, mesg_id): a fresh BU."""
        a = self.a
        seq, mesg = self.next_seq(), self.next_mesg_id()
        flags = BU_A | BU_H | (BU_F if a.force_udp else 0)
        units = min(0xFFFF, (max(0, lifetime_s) + 3) // 4)  # rounded up: 1-3 s is not 0
        opts = []
        if a.mn_id:
            opts.append(opt_mn_id(a.mn_id))
        if a.ipv4_hoa is not None:
            addr, plen = self.granted_v4 or (a.ipv4_hoa, 32)
            opts.append(opt_ipv4_hoa(addr, plen))
        coa = self.care_of_in_bu()
        opts.append(opt_ipv4_coa(coa) if self.v4 else opt_alt_coa(coa))
        opts.append(opt_mesg_id(mesg))
        hoa16, ha16 = a.hoa.packed, a.ha.packed
        mh = build_mh(
            MH_BU,
            struct.pack("!HHH", seq, flags, units),
            opts,
            a.spi,
            a.key,
            auth_coa16(coa),
            hoa16,
            (hoa16, ha16),
            flip_auth=forge,
        )
        if self.v4 or self.home == "ipv6":
            # Over UDP, or from the home address itself at the IPv6 home
            # link: no Home Address option.
            pkt = ipv6_header(hoa16, ha16, NH_MH, len(mh)) + mh
        else:
            dst = home_address_dstopts(hoa16)
            pkt = ipv6_header(a.coa.packed, ha16, NH_DSTOPTS, len(dst) + len(mh)) + dst + mh
        return pkt, seq, mesg

    def send_signalling(self, pkt):
        a = self.a
        if self.v4:
            # Signalling goes with TOS 0 whatever data set on the socket.
            tp.copy_dscp_ecn(self.udp, socket.AF_INET, b"\x45\x00")
            self.udp.sendto(pkt, (str(a.ha4), DSMIP6_PORT))
            self.last_udp_out = time.monotonic()
            if self.pcap:
                self.pcap.write(udp4_packet(a.coa, self.port, a.ha4, DSMIP6_PORT, pkt))
        else:
            self.tx6.sendto(pkt, (str(a.ha), 0))
            if self.pcap:
                self.pcap.write(pkt)
        self.counts["bu_sent"] += 1

    def start(self, cmd, lifetime_s=None, forge=False, replay=False, resync=False):
        """Sends a BU and waits (in the main loop) for its BA."""
        if replay:
            if self.last_bu is None:
                emit("error", what="replay before any BU")
                return
            pkt, seq, mesg = self.last_bu
            build = lambda: (pkt, seq, mesg)  # noqa: E731  (the same octets every try)
        else:
            build = lambda: self.build_bu(lifetime_s, forge=forge)  # noqa: E731
        self.pending = {
            "cmd": cmd,
            "build": build,
            "forge": forge,
            "replay": replay,
            "resync": resync,
            "lifetime_s": lifetime_s,
            "tries": 0,
            "sent": [],  # (seq, mesg_id) of every try
            "timeout": self.a.initial_timeout,
            "deadline": 0.0,
        }
        self.transmit()

    def transmit(self):
        p = self.pending
        pkt, seq, mesg = p["build"]()
        if not p["forge"] and not p["replay"]:
            self.last_bu = (pkt, seq, mesg)
        p["tries"] += 1
        p["sent"].append((seq, mesg))
        if p["tries"] > 1:
            self.counts["bu_retransmitted"] += 1
        self.send_signalling(pkt)
        p["deadline"] = time.monotonic() + p["timeout"]
        p["timeout"] *= 2

    def retransmit_or_give_up(self):
        p = self.pending
        if p["tries"] < self.a.max_tries:
            self.transmit()
            return
        self.pending = None
        self.counts["ba_timeouts"] += 1
        emit("ba", cmd=p["cmd"], timeout=True, tries=p["tries"])

    def which_sent(self, ev):
        """The (seq, mesg_id) of the waiting BU that `ev` answers, or None.
        A BA echoes the MESG-ID (on a 144 only its low 32 bits) and copies
        the sequence number (except on a 135)."""
        if self.pending is None:
            return None
        mesg = int(ev["mesg_id"], 16) if ev.get("mesg_id") else None
        for seq, sent_mesg in reversed(self.pending["sent"]):
            if mesg is not None and (mesg & 0xFFFFFFFF) == (sent_mesg & 0xFFFFFFFF):
                return seq, sent_mesg
            if mesg is None and ev.get("seq") == seq:
                return seq, sent_mesg
        return None

    def send_unknown_mh(self, mh_type):
        """A Mobility Header of `mh_type` (no options), from the care-of
        address with the Home Address option, checksummed over the home
        address (RFC 6275 §6.1.1)."""
        a = self.a
        if self.v4 or self.home == "ipv6":
            emit("error", what="unknown-mh needs an IPv6 care-of address")
            return
        hoa16, ha16 = a.hoa.packed, a.ha.packed
        mh = bytearray(struct.pack("!BBBBH", NH_NONE, 1, mh_type, 0, 0) + bytes(10))
        mh[4:6] = struct.pack("!H", mh_checksum(hoa16, ha16, mh))
        dst = home_address_dstopts(hoa16)
        self.tx6.sendto(ipv6_header(a.coa.packed, ha16, NH_DSTOPTS, len(dst) + len(mh)) + dst + mh, (str(a.ha), 0))

    def on_mh(self, mh, pseudo, framing, source, rh2_hoa=None):
        """A Mobility Header from the home agent."""
        if len(mh) >= 24 and mh[2] == MH_BE:
            # RFC 6275 §6.1.9: Status, Reserved, Home Address.
            self.counts["be_received"] += 1
            emit(
                "be",
                cmd="unknown-mh",
                status=mh[6],
                home_address=str(ipaddress.IPv6Address(bytes(mh[8:24]))),
                checksum_ok=mh_checksum(pseudo[0], pseudo[1], mh[:24]) == struct.unpack_from("!H", mh, 4)[0],
                framing=framing,
                source=source,
            )
            return
        coa16 = auth_coa16(self.care_of_in_bu())
        ev = parse_ba(self.a, mh, pseudo, coa16, None)
        if ev is None:
            self.counts["mh_other"] += 1
            emit("unexpected", what=f"mobility header type {mh[2] if len(mh) > 2 else None}", source=source)
            return
        self.counts["ba_received"] += 1
        sent = self.which_sent(ev)
        if sent is not None:
            ev = parse_ba(self.a, mh, pseudo, coa16, sent)
        ev.update(framing=framing, source=source, rh2_hoa=rh2_hoa)
        if not ev.get("auth_ok"):
            self.counts["ba_auth_bad"] += 1
        if sent is None:
            emit("ba", cmd=None, unsolicited=True, **ev)
            return
        p, self.pending = self.pending, None
        ev.update(tries=p["tries"], resync=p["resync"])
        emit("ba", cmd=p["cmd"], **ev)
        self.after_ba(p, ev)

    def after_ba(self, p, ev):
        cmd = p["cmd"]
        if p["forge"] or p["replay"]:
            return
        status = ev.get("status", 255)
        if status == STATUS_SEQ_OUT_OF_WINDOW and not p["resync"] and ev.get("auth_ok"):
            # RFC 6275 §11.7.3: take the home agent's number and try again.
            self.seq = ev["seq"]
            self.start(cmd, p["lifetime_s"], resync=True)
            return
        if status >= STATUS_REJECTED or not ev.get("auth_ok"):
            return
        if p["lifetime_s"] == 0:
            self.granted_v4 = None
            if self.tun is not None:
                self.detach()
                emit("detached", reason="de-registration")
            return
        self.registered(ev)

    def registered(self, ev):
        """An accepted registration with a lifetime: the IPv4 part, the
        encapsulation, the TUN."""
        a = self.a
        ack = ev.get("ipv4_ack")
        old_v4 = self.granted_v4
        if a.ipv4_hoa is not None and ack is not None and ack["status"] < STATUS_REJECTED:
            self.granted_v4 = (ipaddress.IPv4Address(ack["addr"]), ack["prefix_len"] or 32)
        else:
            self.granted_v4 = None
        nd = ev.get("nat_detection")
        if self.v4:
            self.nat = bool(nd) and nd["refresh_s"] != NO_KEEPALIVES
            self.udp_forced = bool(nd) and nd["f"]
            encap = "udp" if (self.nat or self.udp_forced) else "ipip4"
            if self.nat:
                refresh = nd["refresh_s"]
                self.keepalive_s = refresh if refresh not in (0, NO_KEEPALIVES) else NATKATIMEOUT
                self.next_keepalive = self.last_udp_out + self.keepalive_s
            else:
                self.keepalive_s = self.next_keepalive = None
        else:
            encap = "ipip6"
        first = self.tun is None
        changed = encap != self.encap or old_v4 != self.granted_v4
        self.set_encap(encap)
        if first:
            self.tun = tp.open_tun(a.tun)
            self.setup_mn()
        elif old_v4 != self.granted_v4:
            self.readdress_v4(old_v4)
        if first or changed:
            emit("attached" if first else "encap", **self.describe())

    def describe(self):
        a = self.a
        v4 = self.granted_v4
        addrs = [f"{a.hoa}/128"] if self.home != "ipv6" else []
        addrs += [f"{v4[0]}/32"] if v4 and self.home != "ipv4" else []
        return {
            "hoa": str(a.hoa),
            "ipv4_hoa": str(v4[0]) if v4 else None,
            "ipv4_prefix_len": v4[1] if v4 else None,
            "transport": "ipv4" if self.v4 else "ipv6",
            "encap": self.encap,
            "nat": self.nat,
            "udp_forced": self.udp_forced,
            "keepalive_s": self.keepalive_s,
            "coa": str(a.coa),
            "nat_coa": str(a.nat_coa) if a.nat_coa else None,
            "port": self.port,
            "tun": a.tun,
            "mn_addrs": addrs,
            "home": self.home,
        }

    def keepalive(self):
        """RFC 5555 §4.1: the NAT binding is refreshed by a Binding Update
        (and its acknowledgement) when nothing else went out in the refresh
        time."""
        if not self.v4 or self.tun is None:
            emit("error", what="keepalive needs an IPv4 registration")
            return
        self.keepalive_seq += 1
        self.counts["keepalives"] += 1
        emit("keepalive", seq=self.keepalive_seq, port=self.port)
        self.start("keepalive", self.a.lifetime)

    # ------------------------------------------------------------- data
    def set_encap(self, encap):
        if encap == self.encap:
            return
        if self.tunnel is not None:
            for s in self.tunnel.fds():
                s.close()
            self.tunnel = None
        if encap in ("ipip6", "ipip4"):
            remote = self.a.ha if encap == "ipip6" else self.a.ha4
            targs = argparse.Namespace(kind="ipip", local=self.a.coa, remote=remote, key_up=None, key_down=None)
            self.tunnel = tp.RawTunnel(targs)
        self.encap = encap

    def setup_mn(self):
        """The TUN in the mobile node's namespace with the home addresses
        and default routes of both families (routes replaced: another
        simulator may have left its own). A simulator already in that
        namespace created the TUN there: nothing to move."""
        ns, dev = self.a.mn_ns, self.a.tun
        if not in_namespace(ns):
            run_ip("ip", "link", "set", dev, "netns", ns)
        run_ip("ip", "-n", ns, "link", "set", dev, "mtu", str(self.a.mtu), "up")
        if self.home != "ipv6":
            # At the IPv6 home link IPv6 belongs to the MAG's TUN (the home
            # address is there): ours carries IPv4 only.
            run_ip("ip", "-n", ns, "-6", "addr", "add", f"{self.a.hoa}/128", "dev", dev, "nodad")
            run_ip("ip", "-n", ns, "-6", "route", "replace", "default", "dev", dev)
        self.readdress_v4(None)

    def add_hoa_on_home_link(self):
        """At the IPv6 home link: --hoa on the device that carries its
        prefix (the MAG's TUN), so that we can send from it and the BA and
        the IPv4-in-IPv6 downlink reach us; before the sockets bind to it."""
        dev, present = self.a.home_dev, self.a.hoa_present
        if not present:
            run_ip("ip", "-6", "addr", "add", f"{self.a.hoa}/128", "dev", dev, "nodad")
            self.hoa_added = dev

    def del_hoa_on_home_link(self):
        if self.hoa_added is not None:
            subprocess.run(
                ["ip", "-6", "addr", "del", f"{self.a.hoa}/128", "dev", self.hoa_added], capture_output=True
            )
            self.hoa_added = None

    def readdress_v4(self, old):
        if self.home == "ipv4":
            # At the IPv4 home link the IPv4 home address and the IPv4
            # default route belong to the MAG's TUN: ours carries IPv6 only.
            return
        ns, dev = self.a.mn_ns, self.a.tun
        if old is not None:
            subprocess.run(["ip", "-n", ns, "addr", "del", f"{old[0]}/32", "dev", dev], capture_output=True)
        if self.granted_v4 is not None:
            run_ip("ip", "-n", ns, "addr", "add", f"{self.granted_v4[0]}/32", "dev", dev)
            run_ip("ip", "-n", ns, "route", "replace", "default", "dev", dev)

    def detach(self):
        self.keepalive_s = self.next_keepalive = None
        if self.tun is not None:
            os.close(self.tun)  # the kernel deletes the TUN with its last fd
            self.tun = None
        if self.tunnel is not None:
            for s in self.tunnel.fds():
                s.close()
            self.tunnel = None
        self.encap = None
        self.nat = self.udp_forced = False

    def drop(self, reason):
        self.counts[f"dropped_{reason}"] += 1

    def uplink(self):
        inner = os.read(self.tun, 65535)
        if tp.local_only(inner):
            self.drop("local_only")
            return
        v = tp.ip_version(inner)
        if v == 6 and self.home == "ipv6":
            # IPv6 goes natively over the home link (the MAG's TUN).
            self.drop("ipv6_at_home")
            return
        if v == 6 and (len(inner) < 40 or inner[8:24] != self.a.hoa.packed):
            self.drop("uplink_source")
            return
        if v == 4 and self.home == "ipv4":
            # IPv4 goes natively over the home link (the MAG's TUN), not to
            # the home agent, which keeps no IPv4 binding for us.
            self.drop("ipv4_at_home")
            return
        if v == 4 and (self.granted_v4 is None or len(inner) < 20 or inner[12:16] != self.granted_v4[0].packed):
            self.drop("uplink_source")
            return
        try:
            if self.encap == "udp":
                tp.copy_dscp_ecn(self.udp, socket.AF_INET, inner)
                self.udp.sendto(inner, (str(self.a.ha4), DSMIP6_PORT))
                self.last_udp_out = time.monotonic()
                if self.next_keepalive is not None:
                    self.next_keepalive = self.last_udp_out + self.keepalive_s
            elif self.tunnel is not None:
                self.tunnel.send(inner)
            else:
                self.drop("no_tunnel")
                return
            self.counts[f"sent_ipv{v}"] += 1
        except OSError as e:
            self.drop("send_error")
            print(f"dsmip6: send: {e}", file=sys.stderr, flush=True)

    def to_tun(self, inner):
        """A downlink packet for the mobile node: its destination must be one
        of our home addresses."""
        v = tp.ip_version(inner)
        if v == 6 and self.home == "ipv6":
            self.drop("ipv6_at_home")
            return
        ok = (v == 6 and len(inner) >= 40 and inner[24:40] == self.a.hoa.packed) or (
            v == 4 and self.granted_v4 is not None and len(inner) >= 20 and inner[16:20] == self.granted_v4[0].packed
        )
        if self.tun is None or not ok:
            self.drop("downlink_destination" if self.tun is not None else "not_attached")
            return
        os.write(self.tun, inner)
        self.counts[f"received_ipv{v}"] += 1

    def downlink_raw(self, sock):
        inner = self.tunnel.recv(sock)  # None: counted in tp.dropped
        if inner is not None:
            self.to_tun(inner)

    def from_udp(self):
        buf, (host, port) = self.udp.recvfrom(65535)
        a = self.a
        if host != str(a.ha4) or port != DSMIP6_PORT:
            self.drop("unexpected_source")
            return
        # §11.1: signalling is an inner IPv6 packet from the home agent
        # carrying a Mobility Header; anything else is data.
        if len(buf) >= 40 and buf[0] >> 4 == 6 and buf[6] == NH_MH:
            if self.pcap:
                self.pcap.write(udp4_packet(a.ha4, port, a.coa, self.port, buf))
            if buf[8:24] != a.ha.packed:
                self.drop("signalling_source")
                return
            plen = struct.unpack_from("!H", buf, 4)[0]
            mh = buf[40 : 40 + plen]
            self.on_mh(mh, (buf[8:24], buf[24:40]), "udp4", f"{host}:{port}")
            return
        if self.encap != "udp":
            self.drop("udp_data_without_udp_tunnel")
            return
        if tp.ip_version(buf) not in (4, 6):
            self.drop("udp_payload_not_ip")
            return
        self.to_tun(buf)

    def from_raw6(self, sock):
        """A BA over IPv6: after a type 2 routing header (socket for next
        header 43) or straight (socket for 135)."""
        buf, addr = sock.recvfrom(65535)
        src = ipaddress.IPv6Address(addr[0].split("%")[0])
        a = self.a
        if src != a.ha:
            self.drop("unexpected_source")
            return
        if sock is self.rx_rh:
            # RFC 6275 §6.4: Next Header, Hdr Ext Len 2, Routing Type 2, Segments Left 1.
            if len(buf) < 24 or buf[0] != NH_MH or buf[1:4] != bytes([2, 2, 1]):
                self.drop("routing_header")
                return
            rh2 = buf[8:24]
            mh = buf[24:]
            framing, final = "ipv6-rh2", rh2
            rh2_hoa = str(ipaddress.IPv6Address(rh2))
        else:
            mh, framing, final, rh2_hoa = buf, "ipv6", a.coa.packed, None
        if self.pcap:
            if framing == "ipv6-rh2":
                self.pcap.write(ipv6_header(a.ha.packed, a.coa.packed, NH_ROUTING, len(buf)) + buf)
            else:
                self.pcap.write(ipv6_header(a.ha.packed, a.coa.packed, NH_MH, len(buf)) + buf)
        self.on_mh(mh, (a.ha.packed, final), framing, str(src), rh2_hoa)

    # ------------------------------------------------------------ loop
    def command(self, line):
        words = line.split()
        if not words:
            return True
        cmd = words[0]
        if cmd == "register":
            lifetime = int(words[1]) if len(words) > 1 else self.a.lifetime
            self.start("register" if lifetime else "deregister", lifetime)
        elif cmd == "deregister":
            self.start("deregister", 0)
        elif cmd == "replay":
            self.start("replay", replay=True)
        elif cmd == "forge":
            self.start("forge", self.a.lifetime, forge=True)
        elif cmd == "keepalive":
            self.keepalive()
        elif cmd == "unknown-mh" and len(words) > 1:
            self.send_unknown_mh(int(words[1], 0) & 0xFF)
        elif cmd == "quit":
            return False
        else:
            emit("error", what=f"unknown command {cmd!r}")
        return True

    def next_line(self):
        if b"\n" in self.stdin_buf:
            line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
            return line.decode(errors="replace")
        return None

    def run(self):
        a = self.a
        emit(
            "ready",
            coa=str(a.coa),
            transport="ipv4" if self.v4 else "ipv6",
            port=self.port,
            hoa=str(a.hoa),
            ha=str(a.ha),
            ha4=str(a.ha4) if a.ha4 else None,
            home=self.home,
        )
        stdin = sys.stdin.fileno()
        eof = False
        while True:
            # Commands one at a time, each after the previous BA.
            while self.pending is None:
                line = self.next_line()
                if line is None:
                    if eof:
                        return
                    break
                if not self.command(line):
                    return
            fds = list(self.sig_socks)
            if self.pending is None and not eof:
                fds.append(stdin)
            if self.tun is not None:
                fds.append(self.tun)
            if self.tunnel is not None:
                fds.extend(self.tunnel.fds())
            deadlines = [d for d in (self.pending and self.pending["deadline"], self.next_keepalive) if d]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            readable, _, _ = select.select(fds, [], [], timeout)
            now = time.monotonic()
            if self.pending is not None and now >= self.pending["deadline"]:
                self.retransmit_or_give_up()
            if self.pending is None and self.next_keepalive is not None and now >= self.next_keepalive:
                self.next_keepalive = now + self.keepalive_s
                self.keepalive()
            for fd in readable:
                if fd == stdin:
                    data = os.read(stdin, 4096)
                    if not data:
                        eof = True
                        self.stdin_buf += b"\n"
                    self.stdin_buf += data
                elif self.v4 and fd is self.udp:
                    self.from_udp()
                elif not self.v4 and fd in (self.rx_rh, self.rx_mh):
                    self.from_raw6(fd)
                elif fd == self.tun:
                    if self.tun is not None:
                        self.uplink()
                elif self.tunnel is not None and fd in self.tunnel.fds():
                    self.downlink_raw(fd)

    def close(self):
        self.detach()
        self.del_hoa_on_home_link()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    hexkey = lambda h: bytes.fromhex(h.removeprefix("0x"))  # noqa: E731
    p.add_argument("--mn-id", help="NAI for the Mobile Node Identifier option (none: no MN-ID option)")
    p.add_argument("--hoa", required=True, type=ipaddress.IPv6Address, help="IPv6 home address")
    p.add_argument("--spi", required=True, type=lambda s: int(s, 0), help="MN-HA mobility SPI")
    p.add_argument("--key", required=True, type=hexkey, help="MN-HA key, hex")
    p.add_argument("--ha", required=True, type=ipaddress.IPv6Address, help="home agent IPv6 address")
    p.add_argument("--ha4", type=ipaddress.IPv4Address, help="home agent IPv4 address (IPv4 care-of address)")
    p.add_argument(
        "--coa",
        type=ipaddress.ip_address,
        help="care-of address: IPv6 -> IPv6 transport, IPv4 -> IPv4 | UDP 4191 transport "
        "(required; with --on-ipv6-home-link it is --hoa and may be left out)",
    )
    p.add_argument(
        "--nat-coa",
        type=ipaddress.IPv4Address,
        help="IPv4 only: put this address in the IPv4 CoA option while sending from --coa (a NAT)",
    )
    p.add_argument(
        "--ipv4-hoa",
        type=ipaddress.IPv4Address,
        help="ask for this IPv4 home address (0.0.0.0: allocate one); absent: no IPv4 part",
    )
    p.add_argument("--force-udp", action="store_true", help="set F (force UDP encapsulation)")
    p.add_argument("--lifetime", type=int, default=300, help="seconds (sent in 4 s units)")
    p.add_argument("--seq", type=lambda s: int(s, 0), help="sequence number before the first BU (default random)")
    p.add_argument("--port", type=int, default=0, help="our UDP port over IPv4 (default: any)")
    p.add_argument(
        "--on-ipv4-home-link",
        action="store_true",
        help="the node is on its IPv4 home link emulated by PMIPv6 (PROTOCOLS.md §11.4): --coa = --ipv4-hoa = "
        "the IPv4 home address on the MAG's TUN; run inside --mn-ns; our TUN gets IPv6 only",
    )
    p.add_argument(
        "--on-ipv6-home-link",
        action="store_true",
        help="the node is on its IPv6 home link emulated by PMIPv6 (PROTOCOLS.md §11.4): CoA = --hoa, added to the "
        "MAG's TUN (the device with its prefix); --ipv4-hoa required; run inside --mn-ns; our TUN gets IPv4 only",
    )
    p.add_argument("--mn-ns", default="anc-mn")
    p.add_argument(
        "--tun", help="TUN device name (default mn0; mn6 with --on-ipv4-home-link or --on-ipv6-home-link)"
    )
    p.add_argument("--mtu", type=int, default=1400)
    p.add_argument("--max-tries", type=int, default=3)
    p.add_argument("--initial-timeout", type=float, default=1.0)
    p.add_argument("--pcap", help="write the BUs sent and BAs received to this pcap file")
    a = p.parse_args()
    if a.coa is None and a.on_ipv6_home_link:
        a.coa = a.hoa
    if a.coa is None:
        p.error("the following arguments are required: --coa")
    if a.on_ipv4_home_link and a.on_ipv6_home_link:
        p.error("--on-ipv4-home-link and --on-ipv6-home-link exclude each other")
    if a.coa.version == 4 and a.ha4 is None:
        p.error("an IPv4 --coa needs --ha4")
    if a.nat_coa and a.coa.version != 4:
        p.error("--nat-coa is for an IPv4 --coa")
    if a.max_tries < 1:
        p.error("--max-tries must be at least 1")
    if subprocess.run(["ip", "-n", a.mn_ns, "link", "show", "lo"], capture_output=True).returncode != 0:
        p.error(f"namespace {a.mn_ns} does not exist (ip netns add {a.mn_ns})")
    if a.tun is None:
        a.tun = "mn6" if (a.on_ipv4_home_link or a.on_ipv6_home_link) else "mn0"
    if a.on_ipv4_home_link:
        check_ipv4_home_link(p, a)
    if a.on_ipv6_home_link:
        check_ipv6_home_link(p, a)
    return a


def check_ipv4_home_link(p, a):
    """--on-ipv4-home-link: the care-of address is the IPv4 home address,
    already on an interface (the MAG's TUN) of --mn-ns, where we run."""
    if a.coa.version != 4 or a.ipv4_hoa is None or a.ipv4_hoa != a.coa or a.ipv4_hoa.is_unspecified:
        p.error("--on-ipv4-home-link: --coa and --ipv4-hoa must both be the IPv4 home address the MAG gave the node")
    if a.nat_coa or a.force_udp:
        p.error(
            "--on-ipv4-home-link: no --nat-coa or --force-udp "
            "(the IPv4 CoA option is the home address, data is protocol 41)"
        )
    if not in_namespace(a.mn_ns):
        p.error(f"--on-ipv4-home-link: run inside {a.mn_ns} (ip netns exec {a.mn_ns} ...), where {a.coa} is")
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show", "to", f"{a.coa}/32"], capture_output=True, text=True)
    if not shown.stdout.strip():
        p.error(f"--on-ipv4-home-link: {a.coa} is on no interface of {a.mn_ns} (attach it with mag.py --ipv4 first)")
    if subprocess.run(["ip", "link", "show", "dev", a.tun], capture_output=True).returncode == 0:
        p.error(f"--on-ipv4-home-link: {a.mn_ns} already has a device {a.tun} (mag.py's TUN?): choose another --tun")


def check_ipv6_home_link(p, a):
    """--on-ipv6-home-link: the care-of address is the IPv6 home address,
    inside a prefix already on an interface (the MAG's TUN) of --mn-ns,
    where we run. Sets a.home_dev (that interface) and a.hoa_present
    (--hoa already on it)."""
    if a.coa != a.hoa:
        p.error("--on-ipv6-home-link: the care-of address is --hoa (leave --coa out)")
    if a.ipv4_hoa is None:
        p.error("--on-ipv6-home-link: --ipv4-hoa is needed (the IPv4 home address the BU binds to --hoa)")
    if a.nat_coa or a.force_udp:
        p.error("--on-ipv6-home-link: no --nat-coa or --force-udp (IPv6 transport, data is IPv4 in IPv6)")
    if not in_namespace(a.mn_ns):
        p.error(f"--on-ipv6-home-link: run inside {a.mn_ns} (ip netns exec {a.mn_ns} ...), where {a.hoa}'s prefix is")
    shown = subprocess.run(["ip", "-6", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True)
    addrs = []  # (device, interface address)
    for line in shown.stdout.splitlines():
        w = line.split()
        if len(w) >= 4 and w[2] == "inet6":
            addrs.append((w[1].split("@")[0], ipaddress.IPv6Interface(w[3])))
    # The device with the home network prefix (not just our own /128).
    devs = [d for d, i in addrs if a.hoa in i.network and i.network.prefixlen < 128]
    a.home_dev = devs[0] if devs else None
    a.hoa_present = any(d == a.home_dev and i.ip == a.hoa for d, i in addrs)
    if a.home_dev is None:
        p.error(
            f"--on-ipv6-home-link: no interface of {a.mn_ns} has {a.hoa}'s prefix (attach it with mag.py --ipv6 first)"
        )
    if subprocess.run(["ip", "link", "show", "dev", a.tun], capture_output=True).returncode == 0:
        p.error(f"--on-ipv6-home-link: {a.mn_ns} already has a device {a.tun} (mag.py's TUN?): choose another --tun")


def main():
    a = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    node = Node(a)
    try:
        node.run()
        emit("exit")
    finally:
        node.close()
        counts = dict(node.counts)
        for reason, n in tp.dropped.items():
            counts[f"dropped_tunnel_{reason}"] = n
        print("stats " + json.dumps(counts, sort_keys=True), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
