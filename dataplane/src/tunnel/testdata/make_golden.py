#!/usr/bin/python3
"""Golden tunnel packets for dataplane/src/tunnel/golden.rs.

Regenerate (from the repository root; scapy is Debian's python3-scapy 2.5.0,
so use /usr/bin/python3, not a pyenv python3):

    /usr/bin/python3 dataplane/src/tunnel/testdata/make_golden.py

The output is deterministic (fixed pcap timestamps), so a rerun without a
change here leaves `git status` clean.

What is built, with scapy only (nothing here calls our Rust code), for one
inner IPv4 packet and one inner IPv6 packet and each tunnel of PROTOCOLS.md
table 12.1 that the anchor emits:

  ipip_o4   IPv4 outer, protocol 4 / 41             (RFC 2003, RFC 4213)
  ipip_o6   IPv6 outer, next header 4 / 41          (RFC 2473)
  gre_o4    IPv4 | GRE with key                     (RFC 2784 + 2890, RFC 5845)
  gre_o6    IPv6 | GRE without key
  udp_o4    IPv4 | UDP 5437 -> 5437                 (RFC 5844 F flag)
  udptlv_o4 IPv4 | UDP 5437 | TLV | GRE with key    (RFC 5845 T flag)
  mipudp_o4 IPv4 | UDP 434 -> 1434 | MIP tunnel data (RFC 3519)

each with `_i4` / `_i6` for the inner family, e.g. `gre_o4_i6`.

down_<case>.hex   `input`: the frame the anchor receives (Ethernet + inner
                  packet, hop limit 64, padded to the 60-octet Ethernet
                  minimum the way a NIC delivers it); `output`: the frame the
                  anchor must send (Ethernet to the next hop + outer headers +
                  the inner packet with TTL / hop limit 63 and, for IPv4, its
                  header checksum recomputed by scapy).
down_<case>.pcap  the `output` frame, for tshark.
up_<case>.hex     `uplink`: what the peer sends the anchor through the mirror
                  tunnel (GRE key 100 that the anchor allocated, UDP source
                  port = the peer's port); `decapsulated`: the frame the anchor
                  must forward (Ethernet to the correspondent + the inner
                  packet one hop older); `spoof-*`: variants the anchor must
                  refuse (other outer source, other / missing / unexpected GRE
                  key, other UDP source or destination port, every other
                  encapsulation from the right source).
up_<case>.pcap    the same frames in the same order.

Outer fields (PROTOCOLS.md section 12.2-12.4, and the test's TunnelSpec):
IPv4 IHL 5, TTL 64, ID 0x1001 downlink / 0x2002 uplink, DF copied from an
inner IPv4 and clear for an IPv6 payload, DSCP + ECN copied from the inner
packet (RFC 6040 normal mode); IPv6 traffic class copied, flow label 0, hop
limit 64; UDP checksum 0 (IPv4 only). GRE: C = 0, S = 0, K = 1 when keyed
(downlink key 200, chosen by the peer). The RFC 5845 TLV header is unknown to
scapy and hand-built from PROTOCOLS.md section 5.3: type nibble 0, reserved
nibble 0, next header 47, length = octets after the TLV header. The MIP
tunnel data header is `MobileIP(type=4) / MobileIPTunnelData(nexthdr=...)`
(ORACLES.md section 2.1: MobileIPTunnelData alone omits the type octet).

tshark decodes the pcaps; golden.rs pipes the golden frame of every pcap
into one tshark run (one more for UDP-TLV) and checks these fields and more:

    tshark -r down_gre_o4_i4.pcap -o ip.check_checksum:TRUE \\
        -o udp.check_checksum:TRUE -T fields -E separator=, -E aggregator=';' \\
        -e ip.proto -e ip.ttl -e ip.dsfield -e ip.checksum.status -e gre.key

  -> 47;1,64;63,0xb9;0xb9,1;1,0x000000c8

with `-d udp.port==5437,ip` for udp_*, and `-X lua_script:udp_tlv.lua` (a
four-octet TLV dissector that hands the rest to tshark's GRE) for udptlv_*.
The repository ignores *.pcap; testdata/.gitignore keeps these.
"""
import os

from scapy.all import GRE, ICMP, IP, UDP, Ether, ICMPv6EchoRequest, IPv6, Raw, raw, wrpcap
from scapy.layers.mobileip import MobileIP, MobileIPTunnelData

HERE = os.path.dirname(os.path.abspath(__file__))

ANCHOR_MAC = "02:00:00:00:00:01"  # our port
NEXT_HOP_MAC = "02:00:00:00:00:02"  # router towards the peer
CN_MAC = "02:00:00:00:00:03"  # router towards the correspondent

ANCHOR = {4: "192.0.2.1", 6: "2001:db8:1::1"}
PEER = {4: "192.0.2.2", 6: "2001:db8:1::2"}
SPOOFER = {4: "192.0.2.3", 6: "2001:db8:1::3"}

KEY_DOWN = 200  # key_out: the peer chose it, we put it on the downlink
KEY_UP = 100  # key_in: we allocated it, the peer puts it on the uplink
ID_DOWN = 0x1001
ID_UP = 0x2002
OUTER_TTL = 64

# (anchor port, peer port) per UDP kind.
PORTS = {"udp": (5437, 5437), "udptlv": (5437, 5437), "mipudp": (434, 1434)}

PAYLOAD = b"anchor-golden"


def inner(family, hops, uplink=False):
    """The inner packet: correspondent -> mobile node (downlink) or back."""
    if family == 4:
        a, b = "198.51.100.2", "203.0.113.10"
        if uplink:
            a, b = b, a
        return IP(src=a, dst=b, tos=0xB9, id=0x1234, flags="DF", ttl=hops) / ICMP(id=1, seq=1) / PAYLOAD
    a, b = "2001:db8:2::2", "2001:db8:100:1::100"
    if uplink:
        a, b = b, a
    return IPv6(src=a, dst=b, tc=0xBA, hlim=hops) / ICMPv6EchoRequest(id=1, seq=1, data=PAYLOAD)


def keyed(kind, outer):
    """Tunnels whose GRE header carries a key in our test configuration."""
    return kind == "udptlv" or (kind == "gre" and outer == 4)


def gre(key, pkt):
    proto = 0x0800 if pkt.version == 4 else 0x86DD
    if key is None:
        return GRE(key_present=0, proto=proto) / pkt
    return GRE(key_present=1, key=key, proto=proto) / pkt


def tunnel(kind, outer, pkt, src, dst, key, sport, dport, ip_id):
    """`pkt` wrapped in `kind` with an outer header of family `outer`."""
    v4 = pkt.version == 4
    tos = pkt.tos if v4 else pkt.tc
    if kind == "ipip":
        proto, body = (4 if v4 else 41), pkt
    elif kind == "gre":
        proto, body = 47, gre(key, pkt)
    elif kind == "udp":
        proto, body = 17, UDP(sport=sport, dport=dport, chksum=0) / pkt
    elif kind == "udptlv":
        g = gre(key, pkt)
        tlv = bytes([0x00, 47]) + len(raw(g)).to_bytes(2, "big")
        proto, body = 17, UDP(sport=sport, dport=dport, chksum=0) / Raw(tlv) / g
    elif kind == "mipudp":
        nh = 4 if v4 else 41
        proto = 17
        body = UDP(sport=sport, dport=dport, chksum=0) / MobileIP(type=4) / MobileIPTunnelData(nexthdr=nh) / pkt
    else:
        raise ValueError(kind)
    if outer == 4:
        df = "DF" if v4 and pkt.flags.DF else 0
        return IP(ihl=5, src=src, dst=dst, tos=tos, id=ip_id, flags=df, ttl=OUTER_TTL, proto=proto) / body
    return IPv6(src=src, dst=dst, tc=tos, fl=0, hlim=OUTER_TTL, nh=proto) / body


def downlink(kind, outer, family):
    key = KEY_DOWN if keyed(kind, outer) else None
    sport, dport = PORTS.get(kind, (0, 0))
    pkt = tunnel(kind, outer, inner(family, 63), ANCHOR[outer], PEER[outer], key, sport, dport, ID_DOWN)
    return Ether(dst=NEXT_HOP_MAC, src=ANCHOR_MAC) / pkt


def uplink(kind, outer, family, src=None, key="default", sport=None, dport=None):
    if key == "default":
        key = KEY_UP if keyed(kind, outer) else None
    anchor_port, peer_port = PORTS.get(kind, (0, 0))
    pkt = tunnel(
        kind,
        outer,
        inner(family, 64, uplink=True),
        src or PEER[outer],
        ANCHOR[outer],
        key,
        peer_port if sport is None else sport,
        anchor_port if dport is None else dport,
        ID_UP,
    )
    return Ether(dst=ANCHOR_MAC, src=NEXT_HOP_MAC) / pkt


def spoofs(kind, outer, family):
    """Uplink variants the anchor must refuse for the tunnel (kind, outer)."""
    out = [("spoof-source", uplink(kind, outer, family, src=SPOOFER[outer]))]
    if kind in ("gre", "udptlv"):
        if keyed(kind, outer):
            out.append(("spoof-key", uplink(kind, outer, family, key=KEY_UP + 1)))
            out.append(("spoof-no-key", uplink(kind, outer, family, key=None)))
        else:
            out.append(("spoof-unexpected-key", uplink(kind, outer, family, key=KEY_UP)))
    if kind in PORTS:
        anchor_port, peer_port = PORTS[kind]
        out.append(("spoof-sport", uplink(kind, outer, family, sport=peer_port + 1)))
        out.append(("spoof-dport", uplink(kind, outer, family, dport=anchor_port + 1)))
    for other in KINDS[outer]:
        if other != kind:
            out.append((f"spoof-kind-{other}", uplink(other, outer, family)))
    return out


KINDS = {4: ["ipip", "gre", "udp", "udptlv", "mipudp"], 6: ["ipip", "gre"]}


def frozen(pkt):
    """The packet's bytes, checked to survive a scapy re-dissection."""
    b = raw(pkt)
    assert raw(Ether(b)) == b, pkt.summary()
    return b


def write(stem, comment, lines, pcap_frames):
    with open(os.path.join(HERE, stem + ".hex"), "w") as f:
        f.write(f"# {stem}: {comment}\n# Generated by make_golden.py (scapy); do not edit.\n")
        for label, b in lines:
            f.write(f"{label} {b.hex()}\n")
    frames = []
    for i, b in enumerate(pcap_frames):
        e = Ether(b)
        e.time = 1700000000 + i  # fixed: reproducible pcaps
        frames.append(e)
    wrpcap(os.path.join(HERE, stem + ".pcap"), frames)


def main():
    for outer, kinds in KINDS.items():
        for kind in kinds:
            for family in (4, 6):
                case = f"{kind}_o{outer}_i{family}"
                raw_in = raw(Ether(dst=ANCHOR_MAC, src=CN_MAC) / inner(family, 64))
                down_in = raw_in.ljust(60, b"\0")
                down_out = frozen(downlink(kind, outer, family))
                write(
                    f"down_{case}",
                    f"{kind} over IPv{outer} carrying IPv{family}, anchor -> peer",
                    [("input", down_in), ("output", down_out)],
                    [down_out],
                )
                up = [("uplink", frozen(uplink(kind, outer, family)))]
                dec = Ether(dst=CN_MAC, src=ANCHOR_MAC) / inner(family, 63, uplink=True)
                up.append(("decapsulated", frozen(dec)))
                up += [(label, frozen(p)) for label, p in spoofs(kind, outer, family)]
                write(
                    f"up_{case}",
                    f"{kind} over IPv{outer} carrying IPv{family}, peer -> anchor",
                    up,
                    [b for _, b in up],
                )
                print(f"{case}: downlink {len(down_out)} octets, {len(up) - 2} spoofed uplinks")


if __name__ == "__main__":
    main()
