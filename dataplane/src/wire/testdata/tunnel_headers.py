#!/usr/bin/python3
"""Golden tunnel packets for dataplane/src/wire/{udp,gre,mip_tunnel,tlv}.rs.

Built with scapy (Debian python3-scapy 2.5.0), written to tunnel_headers.pcap
and printed as hex. The Rust tests hold these bytes; tshark decodes the pcap:

  tshark -r tunnel_headers.pcap -o ip.check_checksum:TRUE \
      -o udp.check_checksum:TRUE -T fields -E separator=, \
      -e frame.number -e udp.srcport -e udp.dstport -e udp.length \
      -e udp.checksum -e udp.checksum.status -e gre.flags_and_version \
      -e gre.proto -e gre.key -e gre.checksum -e gre.checksum.status \
      -e gre.sequence_number -e mip.type -e mip.nattt.nexthdr \
      -e mip.nattt.reserved -e ip.proto -e _ws.malformed -e _ws.expert.severity

gives (checksum status 1 = Good; no malformed or expert errors):

  1,,,,,,0x2000,0x0800,0x00000064,,,,,,,47,1,,
  2,,,,,,0xb000,0x86dd,0xdeadbeef,0x9725,1,7,,,,47,,
  3,5437,5437,36,0x5128,1,,,,,,,,,,17,,
  4,434,434,40,0x7432,1,,,,,,,4,4,0x0000,17,1,,
  5,5437,5437,48,0x2859,1,,,,,,,,,,17,,
  6,5437,5437,14,0x4588,1,,,,,,,,,,,,

Add `-d udp.port==5437,ip` to see the inner packet of frame 3 (frame 5 then
shows "Bogus IP version": tshark has no dissector for the RFC 5845 TLV
header, whose first nibble is 0).

Run with /usr/bin/python3 (scapy is a Debian package there).
"""
from scapy.all import Ether, IP, IPv6, UDP, GRE, ICMP, Raw, raw, wrpcap
from scapy.layers.mobileip import MobileIP, MobileIPTunnelData

OUTER = dict(src="192.0.2.1", dst="192.0.2.2")
INNER4 = IP(src="10.0.0.1", dst="198.51.100.7", id=1) / ICMP(id=0x1234, seq=1)
INNER6 = IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64) / Raw(b"\xde\xad\xbe\xef")

frames = {
    # 1. GRE with key 100 (RFC 2890), IPv4 payload: what the LMA emits.
    "GRE_KEY": IP(**OUTER, id=1) / GRE(key_present=1, key=100, proto=0x0800) / INNER4,
    # 2. GRE with C, K and S set, checksum computed by scapy, IPv6 payload.
    "GRE_CKS": IP(**OUTER, id=2) / GRE(chksum_present=1, key_present=1,
                                        seqnum_present=1, key=0xdeadbeef,
                                        sequence_number=7, proto=0x86DD) / INNER6,
    # 3. PMIPv6 IPv4-UDP data (RFC 5844 F flag), checksum computed by scapy.
    "UDP_5437": IP(**OUTER, id=3) / UDP(sport=5437, dport=5437) / INNER4,
    # 4. MIPv4 UDP tunnel data (RFC 3519): UDP 434, type 4, next header 4.
    "MIP_TUNNEL": IP(**OUTER, id=4) / UDP(sport=434, dport=434) / MobileIP(type=4)
                  / MobileIPTunnelData(nexthdr=4) / INNER4,
    # 5. PMIPv6 IPv4-UDP-TLV (RFC 5845 T flag). Neither scapy nor tshark knows
    #    the TLV header, so it is hand-built from PROTOCOLS.md section 5.3:
    #    type nibble 0 + reserved nibble 0, next header 47 (GRE), length 36
    #    (8-octet keyed GRE header + 28-octet inner packet).
    "UDP_TLV": IP(**OUTER, id=5) / UDP(sport=5437, dport=5437)
               / Raw(bytes([0x00, 47, 0x00, 36]))
               / GRE(key_present=1, key=100, proto=0x0800) / INNER4,
    # 6. UDP over IPv6 (checksum mandatory), for the IPv6 pseudo-header sum.
    "UDP_V6": IPv6(src="2001:db8::a", dst="2001:db8::b", hlim=64)
              / UDP(sport=5437, dport=5437) / Raw(b"anchor"),
}

pkts = []
for name, pkt in frames.items():
    pkt = pkt.__class__(raw(pkt))  # freeze lengths and checksums
    pkts.append(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt)
    print(f"{name} ({len(raw(pkt))} bytes, outer IP header first):")
    print(raw(pkt).hex())

wrpcap(__file__.rsplit("/", 1)[0] + "/tunnel_headers.pcap", pkts)
