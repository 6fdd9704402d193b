#!/usr/bin/python3
"""Golden Mobile IPv4 vectors for control/src/mip4/golden.rs.

Regenerate (from the repository root; scapy is Debian's python3-scapy, so use
/usr/bin/python3, not a pyenv python3):

    /usr/bin/python3 control/src/mip4/testdata/make_golden.py

Nothing here calls our Rust code. The fixed parts are scapy's MobileIP layers
(scapy.layers.mobileip: MobileIP, MobileIPRRQ, MobileIPRRP,
MobileIPTunnelData); scapy has no Mobile IPv4 extension and no RFC 3543
message, so those are raw bytes written from PROTOCOLS.md section 8.4 and
8.9. Every authenticator is Python's hmac/hashlib HMAC-MD5 (RFC 5944 section
3.5.1: over the UDP payload up to and including the extension's SPI), keyed
with the demo's [[ha.mn]] / [[ha.fa]] keys (config/demo.toml), so the
anchor's home agent loaded with config/demo.toml accepts the requests. Their
Identification is the NTP time of Unix 1700000000 s (the test hands the home
agent that wall clock) with a counter in the low 32 bits. The output is
deterministic (fixed pcap timestamps): a rerun leaves `git status` clean.

received.hex / .pcap   what the home agent receives: Registration Requests
                       (co-located care-of address with NAI, Revocation
                       Support and MN-HA; through a foreign agent with a GRE
                       Key extension and FA-HA; behind a NAT with a UDP Tunnel
                       Request; a de-registration), a Registration
                       Revocation and an Acknowledgement from the foreign
                       agent, RFC 3519 tunnel data.
emitted.hex / .pcap    what the home agent sends: Registration Replies
                       (accepted with MN-HA; accepted through the foreign
                       agent with our GRE key and FA-HA; accepted with a UDP
                       Tunnel Reply; 133 with our time), a Registration
                       Revocation with FA-HA and an Acknowledgement.
                       golden.rs builds the same typed messages, seals them
                       with our auth code and must emit these UDP payloads
                       exactly.

Each line is `label hex`, the hex being the whole IPv4 packet (IPv4 | UDP |
message, UDP checksum filled by scapy); the pcaps hold the same packets
behind an Ethernet header, in the same order, for tshark.
"""

import hashlib
import hmac
import os
import struct

from scapy.all import IP, UDP, Ether, Raw, raw, wrpcap
from scapy.layers.mobileip import MobileIP, MobileIPRRP, MobileIPRRQ, MobileIPTunnelData
from scapy.layers.inet import ICMP

HERE = os.path.dirname(os.path.abspath(__file__))

# config/demo.toml [ha] and [[ha.mn]] / [[ha.fa]].
HA = "192.0.2.1"
MN_KEYS = {  # NAI -> (SPI, key)
    b"v4only@anchor.test": (4096, bytes.fromhex("00112233445566778899aabbccddeeff")),
    b"dual@anchor.test": (4097, bytes.fromhex("0102030405060708090a0b0c0d0e0f10")),
    b"static4@anchor.test": (4098, bytes.fromhex("f0e0d0c0b0a090807060504030201000")),
}
FA = "192.0.2.2"  # [[ha.fa]] pma1
FA_SPI, FA_KEY = 8192, bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf")
STATIC_HOA = "203.0.113.200"  # profiles.mn static4's static_ipv4_hoa

COA = "198.51.100.7"  # a co-located care-of address
PRIVATE_COA = "10.0.0.5"  # co-located, behind a NAT ...
NAT = "198.51.100.99"  # ... whose public address sends the request
DYNAMIC_HOA = "203.0.113.10"  # what the replies give out

WALL = 1700000000
NTP_UNIX_OFFSET = 2208988800
ID_HIGH = (WALL + NTP_UNIX_OFFSET) << 32  # NTP seconds of WALL, fraction 0

MIP_PORT = 434
MN_PORT = 49152  # a mobile node's or foreign agent's source port


# --- extensions (PROTOCOLS.md 8.4), raw bytes ---

def nai(name):  # 131, TLV
    return bytes([131, len(name)]) + name


def auth_ext(ext_type, spi):  # 32 MN-HA / 34 FA-HA: Type, Length, SPI (the authenticator follows)
    return bytes([ext_type, 4 + 16]) + struct.pack("!I", spi)


def gre_key(key):  # 48, RFC 6245, long: Type, Sub-Type 0, Length (2) = 4, Key
    return bytes([48, 0]) + struct.pack("!HI", 4, key)


def revocation_support(flags, timestamp):  # 137, RFC 3543, TLV
    return bytes([137, 6]) + struct.pack("!HI", flags, timestamp)


def udp_tunnel_request(flags, encapsulation):  # 144, RFC 3519, short
    # Type, Length 6, Sub-Type 0, Reserved 1, F|R|Reserved 2, Encapsulation, Reserved 3 (2)
    return bytes([144, 6, 0, 0, flags, encapsulation, 0, 0])


def udp_tunnel_reply(code, flags, keepalive):  # 44, RFC 3519, short
    # Type, Length 6, Sub-Type 0, Reply Code, F|Reserved (2), Keepalive (2)
    return bytes([44, 6, 0, code]) + struct.pack("!HH", flags, keepalive)


def sealed(payload, ext_type, spi, key):
    """Appends an authentication extension whose HMAC-MD5 covers the payload
    through its own SPI (RFC 5944 3.5.1)."""
    covered = payload + auth_ext(ext_type, spi)
    return covered + hmac.new(key, covered, hashlib.md5).digest()


def mn_ha(payload, name):
    spi, key = MN_KEYS[name]
    return sealed(payload, 32, spi, key)


def fa_ha(payload):
    return sealed(payload, 34, FA_SPI, FA_KEY)


# --- messages: scapy fixed parts ---

def rrq(flags, lifetime, hoa, coa, ident):
    return raw(MobileIP(type=1) / MobileIPRRQ(flags=flags, lifetime=lifetime, homeaddr=hoa, haaddr=HA,
                                               coaddr=coa, id=ident))


def rrp(code, lifetime, hoa, ident):
    return raw(MobileIP(type=3) / MobileIPRRP(code=code, lifetime=lifetime, homeaddr=hoa, haaddr=HA, id=ident))


def revocation(flags, hoa, home_domain, foreign_domain, rev_id):  # type 7, RFC 3543
    return raw(MobileIP(type=7) / Raw(struct.pack("!BH4s4s4sI", 0, flags, ip(hoa), ip(home_domain),
                                                  ip(foreign_domain), rev_id)))


def revocation_ack(flags, hoa, rev_id):  # type 15
    return raw(MobileIP(type=15) / Raw(struct.pack("!BH4sI", 0, flags, ip(hoa), rev_id)))


def ip(text):
    return bytes(int(x) for x in text.split("."))


T, G, D, S = 0x02, 0x08, 0x20, 0x80


def received():
    v4only, dual, static4 = b"v4only@anchor.test", b"dual@anchor.test", b"static4@anchor.test"
    out = []
    # Co-located care-of address, reverse tunnelling, NAI + RFC 3543 support + MN-HA.
    m = rrq(T | D, 1800, "0.0.0.0", COA, ID_HIGH | 1) + nai(v4only) + revocation_support(0, WALL)
    out.append(("rrq_colocated", COA, MN_PORT, mn_ha(m, v4only)))
    # Through foreign agent pma1 (care-of address = the FA's): the MN's NAI and
    # MN-HA, then the FA's GRE Key extension (RFC 6245) and FA-HA.
    m = mn_ha(rrq(T | G, 600, "0.0.0.0", FA, ID_HIGH | 2) + nai(dual), dual) + gre_key(0x00ABCDEF)
    out.append(("rrq_via_fa_gre", FA, MN_PORT, fa_ha(m)))
    # Behind a NAT: private co-located CoA, the static home address, a UDP
    # Tunnel Request (encapsulation 4 = IPv4) before MN-HA.
    m = rrq(T | D, 300, STATIC_HOA, PRIVATE_COA, ID_HIGH | 3) + nai(static4) + udp_tunnel_request(0, 4)
    out.append(("rrq_udp_tunnel", NAT, 4500, mn_ha(m, static4)))
    # De-registration of that binding (lifetime 0, its care-of address).
    m = rrq(D, 0, STATIC_HOA, PRIVATE_COA, ID_HIGH | 4) + nai(static4)
    out.append(("rrq_dereg", NAT, 4500, mn_ha(m, static4)))
    # The foreign agent revokes a binding (A = 0: FA-sent), and acknowledges one of ours.
    m = revocation(0, DYNAMIC_HOA, HA, FA, WALL + 5)
    out.append(("revocation_from_fa", FA, MIP_PORT, fa_ha(m)))
    m = revocation_ack(0, DYNAMIC_HOA, WALL + 6)
    out.append(("revocation_ack_from_fa", FA, MIP_PORT, fa_ha(m)))
    # RFC 3519 tunnel data: IPv4 inside (Next Header 4).
    inner = raw(IP(src=DYNAMIC_HOA, dst="192.0.2.100") / ICMP(id=1, seq=1))
    m = raw(MobileIP(type=4) / MobileIPTunnelData(nexthdr=4) / Raw(inner))
    out.append(("tunnel_data", NAT, 4500, m))
    return out


def emitted():
    v4only, dual, static4 = b"v4only@anchor.test", b"dual@anchor.test", b"static4@anchor.test"
    out = []
    # Accepted (co-located): NAI, our Revocation Support answer, MN-HA.
    m = rrp(0, 1800, DYNAMIC_HOA, ID_HIGH | 1) + nai(v4only) + revocation_support(0, WALL)
    out.append(("rrp_accepted", COA, MN_PORT, mn_ha(m, v4only)))
    # Through the FA: the MN's part, then our GRE key and FA-HA.
    m = mn_ha(rrp(0, 600, "203.0.113.11", ID_HIGH | 2) + nai(dual), dual) + gre_key(7)
    out.append(("rrp_via_fa_gre", FA, MN_PORT, fa_ha(m)))
    # Accepted behind a NAT: UDP Tunnel Reply (will tunnel, keepalive 110) after MN-HA.
    m = mn_ha(rrp(0, 300, STATIC_HOA, ID_HIGH | 3) + nai(static4), static4) + udp_tunnel_reply(0, 0, 110)
    out.append(("rrp_udp_tunnel", NAT, 4500, m))
    # 133: our time in the high bits, the request's low 32 bits.
    m = rrp(133, 0, "0.0.0.0", ID_HIGH | 0xDEADBEEF) + nai(v4only)
    out.append(("rrp_identification_mismatch", COA, MN_PORT, mn_ha(m, v4only)))
    # Our revocation at the foreign agent (A = 1), and our acknowledgement of its.
    m = revocation(0x8000, "203.0.113.11", HA, FA, WALL + 7)
    out.append(("revocation_to_fa", FA, MIP_PORT, fa_ha(m)))
    m = revocation_ack(0, DYNAMIC_HOA, WALL + 5)
    out.append(("revocation_ack_to_fa", FA, MIP_PORT, fa_ha(m)))
    return out


def write(name, header, vectors, towards_ha):
    packets = []
    lines = [f"# {name}: {header}", "# Generated by make_golden.py (scapy); do not edit."]
    for label, peer, port, payload in vectors:
        if towards_ha:
            pkt = IP(src=peer, dst=HA) / UDP(sport=port, dport=MIP_PORT) / Raw(payload)
        else:
            pkt = IP(src=HA, dst=peer) / UDP(sport=MIP_PORT, dport=port) / Raw(payload)
        pkt = IP(raw(pkt))  # fills lengths and checksums
        lines.append(f"{label} {raw(pkt).hex()}")
        packets.append(Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01") / pkt)
    for i, p in enumerate(packets):
        p.time = 1700000000 + i
    with open(os.path.join(HERE, f"{name}.hex"), "w") as f:
        f.write("\n".join(lines) + "\n")
    wrpcap(os.path.join(HERE, f"{name}.pcap"), packets)


if __name__ == "__main__":
    write("received", "what the home agent receives, as scapy builds them", received(), True)
    write("emitted", "what the home agent sends, as scapy builds them", emitted(), False)
