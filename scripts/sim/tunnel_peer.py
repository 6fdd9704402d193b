#!/usr/bin/python3
"""Userspace tunnel endpoint: a MAG / FA / MN-with-CoA stand-in for the demo network.

The kernel of the test machine has no GRE/IPIP/ip6tnl/sit/FOU support, so the
tunnel end facing the anchor lives here: a TUN device (moved into the mobile
node's namespace) on one side, raw or UDP sockets towards the anchor on the
other. Written from ../shared/spec/PROTOCOLS.md §12 (encapsulations), §5.2
(GRE), §5.3 (TLV header), §4.8.3 (PMIPv6 over IPv4), §8.12 (MIP Tunnel Data),
§11.1 (DSMIPv6 UDP data); standard library only.

  ip netns exec anc-mag /usr/bin/python3 scripts/sim/tunnel_peer.py \
      --kind gre --local 192.0.2.2 --remote 192.0.2.1 --mn-ns anc-mn \
      --ipv4-hoa 203.0.113.10 --hnp 2001:db8:100:1::/64 --key-up 100 --key-down 200

Kinds (outer stack after L2, see PROTOCOLS.md table 12.1):
  ipip     IPv4|IPv6 outer (family of --local/--remote), protocol 4 (inner
           IPv4) or 41 (inner IPv6) -- RFC 2003, RFC 4213, RFC 2473.
  gre      IPv4|IPv6 outer, protocol 47, GRE (RFC 2784, key RFC 2890) with
           protocol type 0x0800/0x86DD; key --key-up on the uplink, --key-down
           required on the downlink (no keys given: no key field at all).
  udp      IPv4 | UDP | inner IPv4/IPv6 (version nibble): PMIPv6 IPv4-UDP
           (RFC 5844, 5437->5437) or DSMIPv6 UDP (RFC 5555, port 4191).
  udp-tlv  IPv4 | UDP | TLV (type 0, next header 47, length) | GRE | inner
           (RFC 5845 §7.1, PROTOCOLS.md §5.3).
  mip-udp  IPv4 | UDP (anchor port 434) | MIP Tunnel Data header (type 4,
           next header 4/41, reserved 0) | inner (RFC 3519 §3.3).

Prints "ready" on stdout once the TUN is up in --mn-ns; on SIGTERM/SIGINT it
closes the TUN (the kernel removes it) and prints to stderr what it sent,
received and dropped per reason, as one human line and one "stats {json}" line.
"""

import argparse
import fcntl
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
from collections import Counter

# <linux/if_tun.h>
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

PROTO_IPV4, PROTO_IPV6, PROTO_GRE = 4, 41, 47
ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
MIP_TUNNEL_DATA = 4  # RFC 3519 §3.3 message type
MIP_PORT = 434

sent = Counter()  # uplink packets encapsulated and sent, per inner family
received = Counter()  # downlink packets decapsulated and written to the TUN
dropped = Counter()  # per reason


def drop(reason, detail=""):
    dropped[reason] += 1
    if dropped[reason] <= 5:  # a few examples per reason, not a flood
        print(f"tunnel_peer: drop {reason} {detail}".rstrip(), file=sys.stderr, flush=True)


def inet_checksum(data):
    """RFC 1071 one's complement sum (GRE checksum, RFC 2784 §2.5)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_version(pkt):
    return pkt[0] >> 4 if pkt else 0


# ---------------------------------------------------------------- GRE (§5.2)
def gre_header(inner_version, key):
    """RFC 2784 + RFC 2890: C=0, S=0, K=1 when a key is in use."""
    ptype = ETH_P_IP if inner_version == 4 else ETH_P_IPV6
    if key is None:
        return struct.pack("!HH", 0, ptype)
    return struct.pack("!HHI", 0x2000, ptype, key)


def gre_parse(buf, want_key):
    """Returns the inner packet, or None after counting the drop reason."""
    if len(buf) < 4:
        return drop("gre-short")
    flags, ptype = struct.unpack_from("!HH", buf)
    # RFC 2784 §2.5.1 / PROTOCOLS.md §5.2: 0x4000, 0x0800, 0x0400 (RFC 1701
    # routing, strict route, recursion) must be 0 and the version must be 0;
    # the reserved bits 0x03F8 are ignored.
    if flags & 0x4C00 or flags & 0x0007:
        return drop("gre-flags", f"0x{flags:04x}")
    off = 4
    if flags & 0x8000:  # C: checksum over the GRE header and payload
        if len(buf) < off + 4:
            return drop("gre-short")
        if inet_checksum(buf) != 0:
            return drop("gre-checksum")
        off += 4
    key = None
    if flags & 0x2000:  # K (RFC 2890 §2.1)
        if len(buf) < off + 4:
            return drop("gre-short")
        (key,) = struct.unpack_from("!I", buf, off)
        off += 4
    if flags & 0x1000:  # S: sequence number, not used for ordering here
        off += 4
    if key != want_key:
        return drop("gre-key", f"got {key} want {want_key}")
    inner = buf[off:]
    want_version = {ETH_P_IP: 4, ETH_P_IPV6: 6}.get(ptype)
    if want_version is None:
        return drop("gre-protocol-type", f"0x{ptype:04x}")
    if ip_version(inner) != want_version:
        return drop("inner-version-mismatch", f"GRE type 0x{ptype:04x}")
    return inner


# ------------------------------------------------------------- the tunnels
class RawTunnel:
    """ipip and gre: raw IP sockets; the kernel builds the outer IP header
    with --local as source (the socket is bound to it)."""

    def __init__(self, a):
        self.a = a
        self.family = socket.AF_INET6 if a.remote.version == 6 else socket.AF_INET
        protos = [PROTO_GRE] if a.kind == "gre" else [PROTO_IPV4, PROTO_IPV6]
        self.socks = {}
        for p in protos:
            s = socket.socket(self.family, socket.SOCK_RAW, p)
            s.bind((str(a.local), 0))
            self.socks[p] = s
        self.dest = (str(a.remote), 0)

    def fds(self):
        return list(self.socks.values())

    def send(self, inner):
        v = ip_version(inner)
        if self.a.kind == "gre":
            sock, payload = self.socks[PROTO_GRE], gre_header(v, self.a.key_up) + inner
        else:  # protocol 4 for an IPv4 payload, 41 for IPv6 (table 12.1)
            sock, payload = self.socks[PROTO_IPV4 if v == 4 else PROTO_IPV6], inner
        copy_dscp_ecn(sock, self.family, inner)
        sock.sendto(payload, self.dest)

    def recv(self, sock):
        buf, addr = sock.recvfrom(65535)
        proto = next(p for p, s in self.socks.items() if s is sock)
        if self.family == socket.AF_INET:
            # An IPv4 raw socket hands over the IP header as well.
            if len(buf) < 20:
                return drop("outer-short")
            ihl = (buf[0] & 0x0F) * 4
            src = ipaddress.ip_address(buf[12:16])
            buf = buf[ihl:]
        else:  # IPv6 raw sockets deliver the payload only; source from recvfrom
            src = ipaddress.ip_address(addr[0].split("%")[0])
        if src != self.a.remote:
            return drop("outer-source", str(src))
        if proto == PROTO_GRE:
            return gre_parse(buf, self.a.key_down)
        if ip_version(buf) != (4 if proto == PROTO_IPV4 else 6):
            return drop("inner-version-mismatch", f"protocol {proto}")
        return buf


class UdpTunnel:
    """udp, udp-tlv, mip-udp: one UDP socket on --local-udp-port, talking to
    --remote port --udp-port. IPv4 outer only (§12.2: no UDP tunnels over IPv6)."""

    def __init__(self, a):
        self.a = a
        if a.remote.version != 4:
            sys.exit(f"tunnel_peer: --kind {a.kind} needs IPv4 --local/--remote")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((str(a.local), a.local_udp_port))
        self.dest = (str(a.remote), a.udp_port)

    def fds(self):
        return [self.sock]

    def send(self, inner):
        v = ip_version(inner)
        if self.a.kind == "udp":
            payload = inner
        elif self.a.kind == "udp-tlv":
            # §5.3: Type 0 (high nibble) + reserved, Next Header 47, Length =
            # octets after the TLV header.
            gre = gre_header(v, self.a.key_up) + inner
            payload = struct.pack("!BBH", 0x00, PROTO_GRE, len(gre)) + gre
        else:  # mip-udp, RFC 3519 §3.3: Type 4, Next Header, Reserved 0
            nh = PROTO_IPV4 if v == 4 else PROTO_IPV6
            payload = struct.pack("!BBH", MIP_TUNNEL_DATA, nh, 0) + inner
        copy_dscp_ecn(self.sock, socket.AF_INET, inner)
        self.sock.sendto(payload, self.dest)

    def recv(self, sock):
        buf, (host, port) = sock.recvfrom(65535)
        if ipaddress.ip_address(host) != self.a.remote:
            return drop("outer-source", host)
        if port != self.a.udp_port:  # §12.6: the UDP source port is part of the endpoint
            return drop("udp-source-port", str(port))
        if self.a.kind == "udp":
            # §4.8.3 / §11.1: IPv4 or IPv6 told apart by the first nibble.
            if ip_version(buf) not in (4, 6):
                return drop("udp-payload-not-ip", f"nibble {ip_version(buf)}")
            return buf
        if len(buf) < 4:
            return drop("udp-payload-short")
        if self.a.kind == "udp-tlv":
            t, nh, length = struct.unpack_from("!BBH", buf)
            if t >> 4 != 0:
                return drop("tlv-type", f"nibble {t >> 4}")
            # RFC 5845: drop when UDP length - 8 - 4 != TLV length. The UDP
            # payload is what recvfrom returned (UDP length - 8).
            if len(buf) - 4 != length:
                return drop("tlv-length", f"udp payload {len(buf)} tlv {length}")
            if nh == PROTO_GRE:
                return gre_parse(buf[4:], self.a.key_down)
            if nh in (PROTO_IPV4, PROTO_IPV6) and ip_version(buf[4:]) == (4 if nh == 4 else 6):
                return buf[4:]
            return drop("tlv-next-header", str(nh))
        # mip-udp (RFC 3519 §3.3). Reserved is sent as 0 and ignored here.
        t, nh = buf[0], buf[1]
        if t != MIP_TUNNEL_DATA:
            return drop("mip-type", str(t))
        inner = buf[4:]
        if (nh, ip_version(inner)) not in ((PROTO_IPV4, 4), (PROTO_IPV6, 6)):
            return drop("mip-next-header", f"next header {nh} version {ip_version(inner)}")
        return inner


last_tos = {}  # socket -> the TOS / Traffic Class it currently sends with


def copy_dscp_ecn(sock, family, inner):
    """Outer DSCP+ECN = inner (RFC 6040 normal-mode encapsulation, §12.4).
    Decapsulation leaves the inner header as it is (no ECN combining here)."""
    if ip_version(inner) == 4:
        tos = inner[1]
    else:
        tos = ((inner[0] & 0x0F) << 4) | (inner[1] >> 4)
    if last_tos.get(sock, 0) != tos:
        if family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, tos)
        last_tos[sock] = tos


def local_only(inner):
    """Packets that a MAG/MN keeps on the access link (the anchor does not
    forward link-local or multicast, §12.6): router solicitations, MLD, DAD."""
    v = ip_version(inner)
    if v == 4 and len(inner) >= 20:
        dst = ipaddress.IPv4Address(inner[16:20])
        return dst.is_multicast or dst == ipaddress.IPv4Address("255.255.255.255")
    if v == 6 and len(inner) >= 40:
        src = ipaddress.IPv6Address(inner[8:24])
        dst = ipaddress.IPv6Address(inner[24:40])
        return dst.is_multicast or dst.is_link_local or src.is_link_local or src.is_unspecified
    return True  # not IP at all


# ------------------------------------------------------------- TUN + MN ns
def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def sh(*cmd):
    subprocess.run(cmd, check=True)


def setup_mn(a):
    """Moves the TUN into the mobile node's namespace (the fd keeps working)
    and gives it the home addresses and default routes."""
    ns, dev = a.mn_ns, a.tun
    sh("ip", "link", "set", dev, "netns", ns)
    sh("ip", "-n", ns, "link", "set", dev, "mtu", "1400", "up")
    if a.ipv4_hoa:
        sh("ip", "-n", ns, "addr", "add", f"{a.ipv4_hoa}/32", "dev", dev)
        sh("ip", "-n", ns, "route", "add", "default", "dev", dev)
    if a.hnp or a.ipv6_hoa:
        for net in a.hnp:
            addr = net.network_address + 0x100  # <hnp>::100
            sh("ip", "-n", ns, "-6", "addr", "add", f"{addr}/64", "dev", dev, "nodad")
        if a.ipv6_hoa:
            sh("ip", "-n", ns, "-6", "addr", "add", f"{a.ipv6_hoa}/128", "dev", dev, "nodad")
        sh("ip", "-n", ns, "-6", "route", "add", "default", "dev", dev)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kind", required=True, choices=["ipip", "gre", "udp", "udp-tlv", "mip-udp"])
    p.add_argument("--local", required=True, type=ipaddress.ip_address, help="our tunnel address")
    p.add_argument("--remote", required=True, type=ipaddress.ip_address, help="the anchor's tunnel address")
    p.add_argument("--mn-ns", default="anc-mn", help="namespace of the mobile node")
    p.add_argument("--tun", default="mn0", help="TUN device name")
    p.add_argument("--ipv4-hoa", type=ipaddress.IPv4Address)
    p.add_argument("--hnp", type=ipaddress.IPv6Network, action="append", default=[], help="/64, repeatable")
    p.add_argument("--ipv6-hoa", type=ipaddress.IPv6Address)
    p.add_argument("--key-up", type=int, help="GRE key we send (the anchor's uplink key)")
    p.add_argument("--key-down", type=int, help="GRE key the anchor must send")
    p.add_argument("--udp-port", type=int, help="the anchor's UDP port (default 5437; mip-udp 434)")
    p.add_argument("--local-udp-port", type=int, default=5437, help="our UDP port (default 5437)")
    a = p.parse_args()
    if a.local.version != a.remote.version:
        p.error("--local and --remote must be of one address family")
    if a.udp_port is None:
        a.udp_port = MIP_PORT if a.kind == "mip-udp" else 5437
    if not (a.ipv4_hoa or a.hnp or a.ipv6_hoa):
        p.error("give at least one of --ipv4-hoa, --hnp, --ipv6-hoa")
    return a


def main():
    a = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    tunnel = RawTunnel(a) if a.kind in ("ipip", "gre") else UdpTunnel(a)
    tun = open_tun(a.tun)
    try:
        setup_mn(a)
        print("ready", flush=True)
        by_fd = {s.fileno(): s for s in tunnel.fds()}
        while True:
            readable, _, _ = select.select([tun, *by_fd], [], [])
            for fd in readable:
                if fd == tun:  # uplink: from the mobile node to the anchor
                    inner = os.read(tun, 65535)
                    if local_only(inner):
                        dropped["not-forwarded-local"] += 1
                        continue
                    try:
                        tunnel.send(inner)
                        sent[f"ipv{ip_version(inner)}"] += 1
                    except OSError as e:
                        drop("send-error", str(e))
                else:  # downlink: from the anchor to the mobile node
                    inner = tunnel.recv(by_fd[fd])
                    if inner is not None:
                        os.write(tun, inner)
                        received[f"ipv{ip_version(inner)}"] += 1
    finally:
        os.close(tun)  # the kernel deletes the TUN device with its last fd
        stats = {"sent": dict(sent), "received": dict(received), "dropped": dict(dropped)}
        print(
            f"tunnel_peer {a.kind}: sent {sum(sent.values())} received {sum(received.values())} "
            f"dropped {sum(dropped.values())} {dict(dropped)}",
            file=sys.stderr,
        )
        print("stats " + json.dumps(stats), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
