#!/usr/bin/python3
"""Golden vectors for control/src/dsmip6 (auth.rs, golden.rs).

Regenerate from the repository root (scapy is Debian's python3-scapy 2.5.0,
so use /usr/bin/python3):

    /usr/bin/python3 control/src/dsmip6/testdata/make_golden.py

Nothing here calls our Rust code. scapy builds the packets; Python's
hmac/hashlib computes every RFC 4285 MN-HA authenticator (HMAC-SHA1-96 over
care-of address | home address | Mobility Header with the checksum set to 0,
up to and including the AUTH option's SPI; PROTOCOLS.md section 11.3). The
output is deterministic, so a rerun leaves `git status` clean.

auth.hex      key, care-of address, home address, the MH prefix covered (from
              the bu_v6 packet below, checksum zeroed), the authenticator
              Python computed, and the one for the IPv4-mapped care-of
              address ::ffff:198.51.100.7 (our choice for IPv4 CoAs).
received.hex  Binding Updates a DSMIPv6 home agent receives, as whole IP
              packets: bu_v6 (IPv6 | Destination Options with the Home
              Address option | MH) and bu_udp4 (IPv4 | UDP 4191 | IPv6 | MH,
              through a NAT: the IPv4 CoA option differs from the outer
              source), both with MESG-ID (the second one 1/2^32 s later, so
              it is not a replay), IPv4 HoA 0.0.0.0 and MN-HA AUTH.
received.pcap the same packets behind Ethernet, for tshark.
"""

import hashlib
import hmac
import os

from scapy.all import IP, UDP, Ether, IPv6, raw, wrpcap
from scapy.fields import BitField, ByteField, IPField, ShortField
from scapy.layers.inet6 import (HAO, MIP6MH_BU, MIP6OptMsgAuth, MIP6OptReplayProtection, IPv6ExtHdrDestOpt,
                                _MIP6OptAlign, in6_chksum)
from scapy.utils import inet_pton
import socket

HERE = os.path.dirname(os.path.abspath(__file__))

HA6, HOA, COA6 = "2001:db8:100::1", "2001:db8:100::10", "2001:db8:200::20"
HA4, COA4, NAT, NAT_PORT = "192.0.2.1", "198.51.100.7", "198.51.100.99", 40000
KEY = bytes(range(0x30, 0x44))  # 20 octets
SPI = 0x1000
MESG_ID = 0xE8E8E8E880000000  # 64-bit NTP: 2023-10-29T14:21:28.5Z (the Rust tests set their clock to it)


class OptIPv4HoA(_MIP6OptAlign):  # 29, RFC 5555, 4n
    name = "IPv4 Home Address"; x = 4; y = 0
    fields_desc = [ByteField("otype", 29), ByteField("olen", 6), BitField("plen", 32, 6), BitField("p", 0, 1),
                   BitField("res", 0, 9), IPField("hoa", "0.0.0.0")]


class OptIPv4CoA(_MIP6OptAlign):  # 32, RFC 5555, 4n
    name = "IPv4 Care-of Address"; x = 4; y = 0
    fields_desc = [ByteField("otype", 32), ByteField("olen", 6), ShortField("res", 0), IPField("coa", "0.0.0.0")]


def authenticator(coa16, hoa16, covered):
    """RFC 4285 MN-HA: HMAC-SHA1-96; `covered` must have its checksum zeroed already."""
    return hmac.new(KEY, coa16 + hoa16 + covered, hashlib.sha1).digest()[:12]


def mh_of(packet):
    """The Mobility Header octets of a scapy packet."""
    return raw(packet[MIP6MH_BU])


def sealed(build, coa16):
    """Builds the packet twice: with a zero authenticator to find the covered
    octets, then with Python's authenticator (scapy recomputes the checksum)."""
    draft = build(b"\x00" * 12)
    mh = bytearray(mh_of(draft))
    mh[4:6] = b"\x00\x00"
    covered = bytes(mh[:len(mh) - 12])
    auth = authenticator(coa16, inet_pton(socket.AF_INET6, HOA), covered)
    return build(auth), covered, auth


def options(auth, extra, mesg_id=MESG_ID):
    return [MIP6OptReplayProtection(timestamp=mesg_id), OptIPv4HoA(plen=32, hoa="0.0.0.0")] + extra + [
        MIP6OptMsgAuth(subtype=1, mspi=SPI, authdata=auth)]


def bu_v6(auth):
    return (IPv6(src=COA6, dst=HA6) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) /
            MIP6MH_BU(seq=7, flags="HA", mhtime=100, options=options(auth, [])))


def bu_udp4(auth):
    return (IP(src=NAT, dst=HA4, flags=0) / UDP(sport=NAT_PORT, dport=4191) / IPv6(src=HOA, dst=HA6) /
            MIP6MH_BU(seq=8, flags="HA", mhtime=100,
                      options=options(auth, [OptIPv4CoA(coa=COA4)], MESG_ID + 1)))


def main():
    v6, covered, auth = sealed(bu_v6, inet_pton(socket.AF_INET6, COA6))
    mapped = inet_pton(socket.AF_INET6, "::ffff:" + COA4)
    v4, covered4, auth4 = sealed(bu_udp4, mapped)
    # The checksum scapy put in must be the RFC 6275 one (Home Address as source).
    mh = mh_of(v6)
    assert in6_chksum(135, v6[IPv6ExtHdrDestOpt], mh[:4] + b"\x00\x00" + mh[6:]) == int.from_bytes(mh[4:6], "big")
    with open(os.path.join(HERE, "auth.hex"), "w") as f:
        f.write("# RFC 4285 MN-HA authenticator inputs and Python's HMAC-SHA1-96; by make_golden.py, do not edit.\n")
        for label, b in [("key", KEY), ("coa", inet_pton(socket.AF_INET6, COA6)),
                         ("hoa", inet_pton(socket.AF_INET6, HOA)), ("covered", covered),
                         ("authenticator", auth),
                         ("authenticator_v4coa", authenticator(mapped, inet_pton(socket.AF_INET6, HOA), covered))]:
            f.write(f"{label} {b.hex()}\n")
    packets = [("bu_v6", v6), ("bu_udp4", v4)]
    with open(os.path.join(HERE, "received.hex"), "w") as f:
        f.write("# DSMIPv6 Binding Updates (whole IP packets) built by make_golden.py (scapy); do not edit.\n")
        for label, p in packets:
            f.write(f"{label} {raw(p).hex()}\n")
    frames = []
    for i, (_, p) in enumerate(packets):
        e = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01") / p
        e.time = 1700000000 + i
        frames.append(e)
    wrpcap(os.path.join(HERE, "received.pcap"), frames)


if __name__ == "__main__":
    main()
