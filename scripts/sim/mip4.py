#!/usr/bin/python3
"""Mobile IPv4 mobile node (co-located care-of address), foreign agent or PMA, for the demo network.

Written from ../shared/spec/PROTOCOLS.md §8 (RFC 5944 registration, RFC 2794
NAI, RFC 3519 UDP tunnelling) independently of the Rust code: it builds
Registration Requests with a Mobile Node NAI extension and an MN-HA
authentication extension (HMAC-MD5 over every octet before the
authenticator, §8.5, computed with Python's hmac), Identification as an NTP
timestamp (§8.6), reads and checks the Registration Reply, and once
registered carries the mobile node's traffic: a TUN device moved into the
mobile-node namespace on one side, the tunnel to the home agent on the other
(IP-in-IP or GRE with raw sockets, reusing scripts/sim/tunnel_peer.py; or
RFC 3519 MIP-UDP on the registration socket itself, since the home agent
tunnels to the request's source address and port). The kernel has no tunnel
modules; standard library only.

  ip netns exec anc-mag /usr/bin/python3 scripts/sim/mip4.py \\
      --nai v4only@anchor.test --spi 4096 --key 00112233445566778899aabbccddeeff \\
      --coa 192.0.2.2 --ha 192.0.2.1 --encap gre --mn-ns anc-mn

Commands on stdin, one per line; one JSON event per line on stdout:
Modes (--mode): mn, the mobile node itself with a co-located care-of
address; fa, a foreign agent at --coa relaying the mobile node's request
(D = 0, its GRE Key and FA-HA extensions appended); pma, a proxy mobility
agent registering the host by proxy (RFC 5563, per-node FA-HA
authentication). With --ipv6-prefix (and --tunneling-mode) the request
asks for a DSMIPv4 prefix (RFC 5454, §9); accepted prefixes get <prefix>::100
on the TUN; without Tunneling Mode (reply code 0) IPv6 travels in IPv4
between the home address and the home agent, inside the tunnel. With
--draft01-type the DSMIPv4 extensions use draft-ietf-mip4-dsmipv4-01's
layout, and a /128 (::IID or a full address) asks for an IPv6 home address
on the home link, which the TUN then carries as a /128. With --revocation the request advertises Revocation
Support (RFC 3543) and a revocation from the home agent is acknowledged
(event "revocation", then "detached").

  register [LIFETIME]   RRQ (new Identification); event "rrp" (cmd "register"),
                        then "attached" the first time it is accepted
  deregister            RRQ with lifetime 0; "rrp" (cmd "deregister"), "detached"
  replay                sends the first RRQ of this run again, unchanged
                        (an old Identification): "rrp" (cmd "replay")
  forge                 a fresh RRQ whose authenticator has one bit flipped:
                        "rrp" (cmd "forge") or a timeout
  keepalive             an RFC 3519 keepalive now (--encap udp, registered):
                        "keepalive" (seq); the answer is an "echo_reply"
  data-from PORT        one tunnel data packet (a UDP datagram from the home
                        address to the correspondent, not a keepalive) sent
                        from our address but UDP port PORT: "sent-from"
  quit                  "exit"
With --encap udp (RFC 3519, §8.12) the mobile node sends keepalives, ICMP
echo requests from its home address to the home agent through the UDP
tunnel, every keepalive interval of the UDP Tunnel Reply (110 s when it
says 0); each echo reply from the home agent is an "echo_reply" event (seq,
src, dst, source). --r-flag plays a mobile node with a co-located care-of
address (--nat-coa, private) that registers through the foreign agent at
--coa (--mode fa) behind the same NAT: its UDP Tunnel Request (before
MN-HA, D = 1) sets R, and the home agent learns the tunnel's far end from
the first keepalive, which the mobile node sends from --data-port right
after the reply (unless --hold-keepalive: then only on "keepalive").
An "rrp" event carries code, lifetime_s, hoa, ha, identification (hex),
id_matches_low32, auth_ok (MN-HA authenticator of the reply), nai (the reply
carried the NAI), fa_auth_ok, gre_key, udp_tunnel_reply, prefix_replies,
revocation_support and tries; "attached" carries the mobile node's
addresses (mn_addrs); on no answer after --max-tries
it is {"event": "rrp", "timeout": true}. SIGTERM closes the TUN and prints
counters on stderr.
"""

import argparse
import hashlib
import hmac
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tunnel_peer as tp  # noqa: E402  (the userspace tunnel end)

MIP_PORT = 434
RRQ, RRP, REVOCATION, TUNNEL_DATA, REVOCATION_ACK = 1, 3, 7, 4, 15
# RFC 3519 §3.1 UDP Tunnel Request flags; the default keepalive interval.
UDP_F, UDP_R, KEEPALIVE_DEFAULT_S = 0x80, 0x40, 110
# Identifier of our keepalive echo requests.
KEEPALIVE_IDENT = 0x3519
# Flags of the RRQ (§8.2).
FLAG_S, FLAG_B, FLAG_D, FLAG_M, FLAG_G, FLAG_T = 0x80, 0x40, 0x20, 0x10, 0x08, 0x02
EXT_MN_HA, EXT_FA_HA, EXT_NAI, EXT_UDP_TUNNEL_REQ, EXT_UDP_TUNNEL_REPLY = 32, 34, 131, 144, 44
EXT_GRE_KEY, EXT_REVOCATION_SUPPORT, EXT_PMIP4_NONSKIP, EXT_PMIP4 = 48, 137, 47, 147
EXT_DSMIP4 = 152  # RFC 5454: sub-type 1 Prefix Request, 2 Prefix Reply, 3 Tunneling Mode
NTP_UNIX_OFFSET = 2_208_988_800


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def ntp_now():
    """§8.6: seconds since 1900 in the high 32 bits, fraction in the low 32."""
    t = time.time()
    secs = int(t) + NTP_UNIX_OFFSET
    frac = int((t - int(t)) * (1 << 32)) & 0xFFFFFFFF
    return ((secs & 0xFFFFFFFF) << 32) | frac


def auth_ext(ext_type, key, covered_so_far, spi):
    """§8.5: Type (32 MN-HA, 34 FA-HA), Length 4 + 16, SPI, HMAC-MD5 over
    everything before the authenticator (the message, earlier extensions,
    Type, Length, SPI)."""
    head = struct.pack("!BBI", ext_type, 4 + 16, spi)
    mac = hmac.new(key, covered_so_far + head, hashlib.md5).digest()
    return head + mac


def mn_ha_ext(key, covered_so_far, spi):
    return auth_ext(EXT_MN_HA, key, covered_so_far, spi)


def build_rrq(a, lifetime, ident, hoa):
    """The request of --mode: mn (co-located care-of address, D = 1, MN-HA),
    fa (a foreign agent relays the mobile node's request with D = 0 and
    appends its GRE Key and FA-HA extensions, §8.5, §8.11) or pma (a proxy
    registration, RFC 5563: per-node FA-HA authentication, §10)."""
    flags = FLAG_T  # reverse tunnelling
    if a.mode == "mn" or a.r_flag:
        flags |= FLAG_D  # the mobile node decapsulates (co-located CoA)
    if a.encap == "gre" and a.mode == "mn":
        flags |= FLAG_G
    # Behind a NAT the mobile node's own (private) address is the care-of
    # address it registers; the home agent sees another source (§8.12).
    coa = a.nat_coa or a.coa
    msg = struct.pack("!BBH4s4s4sQ", RRQ, flags, lifetime, hoa.packed, a.ha.packed, coa.packed, ident)
    nai = a.nai.encode()
    msg += struct.pack("!BB", EXT_NAI, len(nai)) + nai
    if a.encap == "udp":
        # §8.12: Type 144, Length 6, Sub-Type 0, Reserved 1, F flag (forced
        # unless --nat-coa makes the home agent see a NAT), Encapsulation 4
        # (IP-in-UDP), Reserved 3 = 0.
        # With --r-flag the mobile node registers through the foreign agent
        # (R): the home agent waits for its first keepalive.
        udp_flags = UDP_R if a.r_flag else (0 if a.nat_coa else UDP_F)
        msg += struct.pack("!BBBBBBH", EXT_UDP_TUNNEL_REQ, 6, 0, 0, udp_flags, 4, 0)
    if a.ipv6_prefix:
        # §9.1: IPv6 Prefix Request (Type 152, Length 18, Sub-type 1,
        # Prefix Length, prefix; all zero = allocate one), and the IPv6
        # Tunneling Mode (Length 2, Sub-type 3) that asks for IPv6 straight
        # to the care-of address; both before MN-HA.
        # With --draft01-type: draft-ietf-mip4-dsmipv4-01's layout, the
        # same sub-types under that type with Length counting the whole
        # extension (20, 4; PROTOCOLS.md §9.3).
        ty, extra = (a.draft01_type, 2) if a.draft01_type else (EXT_DSMIP4, 0)
        msg += struct.pack("!BBBB", ty, 18 + extra, 1, a.ipv6_prefix.prefixlen) + a.ipv6_prefix.network_address.packed
        if a.tunneling_mode:
            msg += struct.pack("!BBBB", ty, 2 + extra, 3, 0)
    if a.revocation and a.mode == "mn":
        # §8.9: Type 137, Length 6, I bit, our 32-bit clock.
        msg += struct.pack("!BBHI", EXT_REVOCATION_SUPPORT, 6, 0x8000, int(time.time()) & 0xFFFFFFFF)
    if a.mode == "pma":
        # §10.2: Per-Node Authentication Method (type 47, sub-type 1,
        # length 1, method 1 = FA-HA); Access Technology Type (147,
        # sub-type 4, 1 = 802.3); Interface ID (sub-type 1), Device ID
        # (sub-type 2) and Subscriber ID (sub-type 3), each (ID-Type, ID)
        # after the sub-type, short shape (Length = 1 + data).
        msg += struct.pack("!BBHB", EXT_PMIP4_NONSKIP, 1, 1, 1)
        msg += struct.pack("!BBBB", EXT_PMIP4, 2, 4, 1)
        if a.interface_id:
            msg += struct.pack("!BBB", EXT_PMIP4, 1 + len(a.interface_id), 1) + a.interface_id
        for subtype, ident in ((2, a.device_id), (3, a.subscriber_id)):
            if ident:
                id_type, value = ident
                msg += struct.pack("!BBBB", EXT_PMIP4, 2 + len(value), subtype, id_type) + value
    else:
        msg += mn_ha_ext(a.key, msg, a.spi)
    if a.mode in ("fa", "pma"):
        if a.encap == "gre":
            # §8.11: Type 48, Sub-Type 0, Length 4, the key the HA must put
            # on downlink packets; after MN-HA, before FA-HA.
            msg += struct.pack("!BBHI", EXT_GRE_KEY, 0, 4, a.gre_key)
        if a.revocation:
            msg += struct.pack("!BBHI", EXT_REVOCATION_SUPPORT, 6, 0x8000, int(time.time()) & 0xFFFFFFFF)
        msg += auth_ext(EXT_FA_HA, a.fa_key, msg, a.fa_spi)
    return msg


def parse_extensions(buf, off, draft01_type=None):
    """(type, offset, body) of each extension, by the shapes of §8.4 (and
    the draft -01 DSMIPv4 one, Length over the whole extension)."""
    out = []
    while off < len(buf):
        t = buf[off]
        if t == 0:
            off += 1
            continue
        if off + 2 > len(buf):
            raise ValueError(f"extension {t} cut short")
        if t in (36, 38, 47, 48) or (t == 139 and buf[off + 1] in (1, 2)):
            if off + 4 > len(buf):
                raise ValueError(f"extension {t} cut short")
            length = struct.unpack_from("!H", buf, off + 2)[0]
            end = off + 4 + length
            body = buf[off + 4 : end]
        elif t == draft01_type:
            end = off + buf[off + 1]
            body = buf[off + 2 : end]
        else:  # TLV and short shapes: the octet at offset 1 is the length
            end = off + 2 + buf[off + 1]
            body = buf[off + 2 : end]
        if end > len(buf):
            raise ValueError(f"extension {t} runs past the end")
        out.append((t, off, body))
        off = end
    return out


def parse_rrp(a, buf, sent_ident):
    if len(buf) < 20 or buf[0] != RRP:
        return None
    code, lifetime = buf[1], struct.unpack_from("!H", buf, 2)[0]
    hoa, ha = ipaddress.IPv4Address(buf[4:8]), ipaddress.IPv4Address(buf[8:12])
    ident = struct.unpack_from("!Q", buf, 12)[0]
    ev = {
        "code": code,
        "lifetime_s": lifetime,
        "hoa": str(hoa),
        "ha": str(ha),
        "identification": f"{ident:016x}",
        "id_matches_low32": (ident & 0xFFFFFFFF) == (sent_ident & 0xFFFFFFFF),
        "id_high_delta_s": (ident >> 32) - (ntp_now() >> 32),
        "auth_ok": False,
        "fa_auth_ok": None,
        "nai": None,
        "udp_tunnel_reply": None,
        "gre_key": None,
        "revocation_support": None,
        "prefix_replies": [],
    }
    try:
        exts = parse_extensions(buf, 20, a.draft01_type)
    except ValueError as e:
        ev["error"] = str(e)
        return ev
    for t, off, body in exts:
        if t == EXT_NAI:
            ev["nai"] = body.decode(errors="replace")
        elif t == EXT_UDP_TUNNEL_REPLY and len(body) >= 6:
            sub, rcode, fl, keepalive = struct.unpack_from("!BBHH", body)
            ev["udp_tunnel_reply"] = {"code": rcode, "f": bool(fl & 0x8000), "keepalive_s": keepalive}
        elif t in (EXT_DSMIP4, a.draft01_type) and len(body) == 20 and body[0] == 2:
            prefix = ipaddress.IPv6Address(body[4:20])
            ev["prefix_replies"].append({"code": body[1], "prefix": f"{prefix}/{body[2]}"})
        elif t == EXT_GRE_KEY and len(body) == 4:
            ev["gre_key"] = struct.unpack_from("!I", body)[0]
        elif t == EXT_REVOCATION_SUPPORT and len(body) == 6:
            ev["revocation_support"] = {"i": bool(struct.unpack_from("!H", body)[0] & 0x8000)}
        elif t in (EXT_MN_HA, EXT_FA_HA) and len(body) == 20:
            spi = struct.unpack_from("!I", body)[0]
            key, want_spi = (a.key, a.spi) if t == EXT_MN_HA else (a.fa_key, a.fa_spi)
            want = hmac.new(key, buf[: off + 6], hashlib.md5).digest()
            ok = spi == want_spi and hmac.compare_digest(want, body[4:])
            ev["auth_ok" if t == EXT_MN_HA else "fa_auth_ok"] = ok
    if a.mode == "pma":
        # Per-node authentication: the FA-HA extension authenticates the reply.
        ev["auth_ok"] = bool(ev["fa_auth_ok"])
    return ev


def parse_revocation(a, buf):
    """§8.9: Type 7, Reserved, A/I flags, Home Address, Home Domain Address,
    Foreign Domain Address, Revocation Identifier, extensions; the last
    extension authenticates it (MN-HA towards a co-located mobile node,
    FA-HA towards a foreign agent)."""
    if len(buf) < 20:
        return None
    flags = struct.unpack_from("!H", buf, 2)[0]
    hoa, hda, fda = (ipaddress.IPv4Address(buf[i : i + 4]) for i in (4, 8, 12))
    rev_id = struct.unpack_from("!I", buf, 16)[0]
    ev = {"a": bool(flags & 0x8000), "i": bool(flags & 0x4000), "hoa": str(hoa), "home_domain": str(hda)}
    ev.update(foreign_domain=str(fda), revocation_id=rev_id, auth_ok=False)
    want_type = EXT_MN_HA if a.mode == "mn" else EXT_FA_HA
    key, want_spi = (a.key, a.spi) if a.mode == "mn" else (a.fa_key, a.fa_spi)
    try:
        for t, off, body in parse_extensions(buf, 20):
            if t == want_type and len(body) == 20:
                want = hmac.new(key, buf[: off + 6], hashlib.md5).digest()
                ev["auth_ok"] = struct.unpack_from("!I", body)[0] == want_spi and hmac.compare_digest(want, body[4:])
    except ValueError as e:
        ev["error"] = str(e)
    return ev


def setup_mn(a):
    """tunnel_peer.setup_mn with `ip route replace`: after a handoff between
    two simulators the mobile node's routes move to the new TUN device
    while the old one may still exist for a moment."""
    ns, dev = a.mn_ns, a.tun
    tp.sh("ip", "link", "set", dev, "netns", ns)
    tp.sh("ip", "-n", ns, "link", "set", dev, "mtu", "1400", "up")
    tp.sh("ip", "-n", ns, "addr", "add", f"{a.ipv4_hoa}/32", "dev", dev)
    tp.sh("ip", "-n", ns, "route", "replace", "default", "dev", dev)
    for net in a.hnp:
        # <prefix>::100, or a home address (draft -01 /128) itself.
        addr = net.network_address if net.prefixlen == 128 else net.network_address + 0x100
        plen = 128 if net.prefixlen == 128 else 64
        tp.sh("ip", "-n", ns, "-6", "addr", "add", f"{addr}/{plen}", "dev", dev, "nodad")
    if a.hnp:
        tp.sh("ip", "-n", ns, "-6", "route", "replace", "default", "dev", dev)


class Node:
    def __init__(self, a):
        self.a = a
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((str(a.coa), a.port))
        self.hoa = a.hoa or ipaddress.IPv4Address("0.0.0.0")
        self.first_rrq = None
        self.last_ident = 0
        self.tun = None
        self.tunnel = None  # tunnel_peer.RawTunnel for ipip / gre
        # §9.2 reply code 0: IPv6 travels in IPv4 between our home address
        # and the home agent, inside the tunnel.
        self.nest6 = False
        self.ha_gre_key = None  # the HA's GRE key (fa / pma mode)
        self.counts = {"sent": 0, "received": 0, "dropped": 0, "rrq": 0, "rrp": 0, "keepalives": 0, "echo_replies": 0}
        # The mobile node's UDP tunnel end: the registration socket, or with
        # --r-flag its own (the foreign agent's socket relays signalling).
        self.data_sock = self.sock
        if a.r_flag:
            self.data_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.data_sock.bind((str(a.coa), a.data_port))
        self.keepalive_s = None  # interval once a UDP tunnel is granted
        self.next_keepalive = None
        self.keepalive_seq = 0

    def ident(self):
        i = max(ntp_now(), self.last_ident + 1)
        self.last_ident = i
        return i

    def exchange(self, cmd, payload, ident):
        """Sends `payload` (retransmitted with 1, 2, 4 s timeouts) and
        returns the "rrp" event of the reply whose low 32 bits match."""
        timeout = self.a.initial_timeout
        for tries in range(1, self.a.max_tries + 1):
            self.sock.sendto(payload, (str(self.a.ha), MIP_PORT))
            self.counts["rrq"] += 1
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([self.sock], [], [], left)
                if not r:
                    break
                buf, (host, port) = self.sock.recvfrom(65535)
                if buf and buf[0] == TUNNEL_DATA:
                    self.downlink_udp(buf, host, port)
                    continue
                ev = parse_rrp(self.a, buf, ident)
                if ev is None or not ev["id_matches_low32"]:
                    continue
                self.counts["rrp"] += 1
                ev.update(cmd=cmd, tries=tries, source=f"{host}:{port}")
                return ev
            timeout *= 2
        return {"cmd": cmd, "timeout": True, "tries": self.a.max_tries}

    def register(self, cmd, lifetime, forge=False):
        ident = self.ident()
        rrq = build_rrq(self.a, lifetime, ident, self.hoa)
        if forge:
            rrq = rrq[:-1] + bytes([rrq[-1] ^ 0x01])
        elif self.first_rrq is None:
            self.first_rrq = (rrq, ident)
        ev = self.exchange(cmd, rrq, ident)
        emit("rrp", **ev)
        return ev

    def replay(self):
        if self.first_rrq is None:
            emit("error", what="replay before any register")
            return
        rrq, ident = self.first_rrq
        emit("rrp", **self.exchange("replay", rrq, ident))

    # ------------------------------------------------------------ data
    def attach(self, hoa, prefixes=()):
        self.hoa = hoa
        a = self.a
        targs = argparse.Namespace(
            kind=a.encap if a.encap != "udp" else "mip-udp",
            local=a.coa,
            remote=a.ha,
            key_up=None,
            key_down=None,
            mn_ns=a.mn_ns,
            tun=a.tun,
            ipv4_hoa=hoa,
            hnp=[ipaddress.IPv6Network(p) for p in prefixes],
            ipv6_hoa=None,
        )
        if a.encap == "gre" and a.mode != "mn":
            # §8.11: the HA's key (in its reply) goes on the uplink, ours
            # comes back on the downlink.
            targs.key_up, targs.key_down = self.ha_gre_key, a.gre_key
        if a.encap in ("ipip", "gre"):
            self.tunnel = tp.RawTunnel(targs)
        self.tun = tp.open_tun(a.tun)
        setup_mn(targs)
        mn_addrs = [f"{hoa}/32"] + [
            f"{n.network_address}/128" if n.prefixlen == 128 else f"{n.network_address + 0x100}/64" for n in targs.hnp
        ]
        emit("attached", hoa=str(hoa), encap=a.encap, tun=a.tun, mn_addrs=mn_addrs)

    def detach(self):
        self.keepalive_s = self.next_keepalive = None
        if self.tun is not None:
            os.close(self.tun)  # the kernel deletes the TUN with its last fd
            self.tun = None
        if self.tunnel is not None:
            for s in self.tunnel.fds():
                s.close()
            self.tunnel = None

    def uplink(self):
        inner = os.read(self.tun, 65535)
        if tp.local_only(inner):
            return
        if self.nest6 and tp.ip_version(inner) == 6:
            inner = self.nested(inner)
        try:
            if self.a.encap == "udp":
                # RFC 3519 §3.3: Type 4, Next Header 4 (IPv4), Reserved 0.
                self.data_sock.sendto(struct.pack("!BBH", TUNNEL_DATA, 4, 0) + inner, (str(self.a.ha), MIP_PORT))
            else:
                self.tunnel.send(inner)
            self.counts["sent"] += 1
        except OSError as e:
            self.counts["dropped"] += 1
            print(f"mip4: send: {e}", file=sys.stderr, flush=True)

    def downlink_udp(self, buf, host, port):
        if self.tun is None or host != str(self.a.ha) or port != MIP_PORT or len(buf) < 24 or buf[1] != 4:
            self.counts["dropped"] += 1
            return
        if self.echo_reply(buf[4:], host, port):
            return
        os.write(self.tun, buf[4:])
        self.counts["received"] += 1

    # ------------------------------------------------------- keepalives
    def keepalive(self):
        """RFC 3519 §3.2 (§8.12): an ICMP echo request (RFC 792: type 8,
        code 0, identifier, sequence number, data) from the home address to
        the home agent, in MIP tunnel data from our tunnel socket."""
        if self.tun is None or self.a.encap != "udp":
            emit("error", what="keepalive without a UDP tunnel")
            return
        self.keepalive_seq = (self.keepalive_seq + 1) & 0xFFFF
        data = b"anchor-keepalive"
        icmp = struct.pack("!BBHHH", 8, 0, 0, KEEPALIVE_IDENT, self.keepalive_seq) + data
        icmp = icmp[:2] + struct.pack("!H", tp.inet_checksum(icmp)) + icmp[4:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0x4000, 64, 1, 0, self.hoa.packed, self.a.ha.packed)
        ip = ip[:10] + struct.pack("!H", tp.inet_checksum(ip)) + ip[12:]
        self.data_sock.sendto(struct.pack("!BBH", TUNNEL_DATA, 4, 0) + ip + icmp, (str(self.a.ha), MIP_PORT))
        self.counts["keepalives"] += 1
        emit("keepalive", seq=self.keepalive_seq, port=self.data_sock.getsockname()[1])

    def echo_reply(self, inner, host, port):
        """Whether `inner` is the home agent's echo reply to one of our
        keepalives (reported, not handed to the mobile node)."""
        if len(inner) < 28 or inner[0] >> 4 != 4 or inner[9] != 1:
            return False
        ihl = (inner[0] & 0x0F) * 4
        icmp = inner[ihl:]
        if len(icmp) < 8 or icmp[0] != 0 or struct.unpack_from("!H", icmp, 4)[0] != KEEPALIVE_IDENT:
            return False
        self.counts["echo_replies"] += 1
        emit(
            "echo_reply",
            seq=struct.unpack_from("!H", icmp, 6)[0],
            src=str(ipaddress.IPv4Address(inner[12:16])),
            dst=str(ipaddress.IPv4Address(inner[16:20])),
            checksum_ok=tp.inet_checksum(icmp) == 0,
            data=icmp[8:].decode(errors="replace"),
            source=f"{host}:{port}",
        )
        return True

    def data_from(self, port):
        """Tunnel data that is not a keepalive (UDP from the home address
        to 198.51.100.2:9, "spoof") from our address but another port."""
        payload = b"spoof"
        udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, self.hoa.packed, bytes([198, 51, 100, 2])
        )
        ip = ip[:10] + struct.pack("!H", tp.inet_checksum(ip)) + ip[12:]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((str(self.a.coa), port))
            s.sendto(struct.pack("!BBH", TUNNEL_DATA, 4, 0) + ip + udp, (str(self.a.ha), MIP_PORT))
        finally:
            s.close()
        emit("sent-from", port=port)

    def udp_granted(self, ev):
        """A UDP Tunnel Reply that accepts (codes 0-63): keepalives every
        its interval; with R the first one right away (§8.12)."""
        reply = ev.get("udp_tunnel_reply")
        if self.a.encap != "udp" or not reply or reply["code"] >= 64 or self.tun is None:
            return
        self.keepalive_s = reply["keepalive_s"] or KEEPALIVE_DEFAULT_S
        if self.a.hold_keepalive:
            self.next_keepalive = None
            return
        if self.a.r_flag:
            # Every accepted R = 1 request waits for a keepalive again.
            self.keepalive()
        self.next_keepalive = time.monotonic() + self.keepalive_s

    def nested(self, ipv6):
        """RFC 4213 §3.5: an IPv4 header from our home address to the home
        agent, protocol 41 (IPv6), TTL 64, DF clear, around `ipv6`."""
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(ipv6), 0, 0, 64, 41, 0, self.hoa.packed, self.a.ha.packed)
        return ip[:10] + struct.pack("!H", tp.inet_checksum(ip)) + ip[12:] + ipv6

    def unnested(self, inner):
        """The IPv6 packet in a §9.2 code 0 packet (IPv4 from the home
        agent to our home address, protocol 41), or None."""
        if len(inner) < 20 or inner[0] >> 4 != 4 or inner[9] != 41:
            return None
        ihl = (inner[0] & 0x0F) * 4
        if inner[12:16] != self.a.ha.packed or inner[16:20] != self.hoa.packed or tp.inet_checksum(inner[:ihl]) != 0:
            return None
        return inner[ihl:]

    def downlink_raw(self, sock):
        inner = self.tunnel.recv(sock)
        if inner is not None and self.nest6 and tp.ip_version(inner) == 4 and len(inner) > 9 and inner[9] == 41:
            inner = self.unnested(inner)
        if inner is None or self.tun is None:
            self.counts["dropped"] += 1
            return
        os.write(self.tun, inner)
        self.counts["received"] += 1

    def revoked(self, buf, host, port):
        """§8.9: an authenticated revocation is acknowledged (Type 15, I
        flag, the Home Address and identifier copied, then our
        authenticator) and ends the binding here too."""
        ev = parse_revocation(self.a, buf)
        if ev is None:
            emit("unexpected", msg_type=REVOCATION, source=f"{host}:{port}", error="short")
            return
        ev["source"] = f"{host}:{port}"
        if ev["auth_ok"]:
            ack = struct.pack("!BBH4sI", REVOCATION_ACK, 0, 0x8000, buf[4:8], ev["revocation_id"])
            if self.a.mode == "mn":
                ack += mn_ha_ext(self.a.key, ack, self.a.spi)
            else:
                ack += auth_ext(EXT_FA_HA, self.a.fa_key, ack, self.a.fa_spi)
            self.sock.sendto(ack, (host, port))
            ev["acknowledged"] = True
        emit("revocation", **ev)
        if ev["auth_ok"]:
            self.detach()
            emit("detached", reason="revoked")

    # ------------------------------------------------------------ loop
    def command(self, line):
        words = line.split()
        if not words:
            return True
        cmd = words[0]
        if cmd == "register":
            lifetime = int(words[1]) if len(words) > 1 else self.a.lifetime
            ev = self.register("register", lifetime)
            if ev.get("gre_key") is not None:
                self.ha_gre_key = ev["gre_key"]
            if ev.get("code", 255) < 64 and ev.get("lifetime_s", 0) > 0 and self.tun is None:
                # §9.2: accepted prefixes (codes 0-7); code 1 = tunnelled to us.
                accepted = [r for r in ev.get("prefix_replies", []) if r["code"] < 8]
                self.nest6 = any(r["code"] == 0 for r in accepted)
                self.attach(ipaddress.IPv4Address(ev["hoa"]), [r["prefix"] for r in accepted])
            if ev.get("code", 255) < 64 and ev.get("lifetime_s", 0) > 0:
                self.udp_granted(ev)
        elif cmd == "deregister":
            ev = self.register("deregister", 0)
            if ev.get("code", 255) < 64:
                self.detach()
                emit("detached", reason="de-registration")
        elif cmd == "replay":
            self.replay()
        elif cmd == "forge":
            self.register("forge", self.a.lifetime, forge=True)
        elif cmd == "keepalive":
            self.keepalive()
        elif cmd == "data-from" and len(words) == 2 and words[1].isdigit():
            self.data_from(int(words[1]))
        elif cmd == "quit":
            return False
        else:
            emit("error", what=f"unknown command {cmd!r}")
        return True

    def run(self):
        emit("ready", coa=str(self.a.coa), port=self.a.port)
        stdin = sys.stdin.fileno()
        while True:
            fds = [stdin, self.sock]
            if self.data_sock is not self.sock:
                fds.append(self.data_sock)
            if self.tun is not None:
                fds.append(self.tun)
            if self.tunnel is not None:
                fds.extend(self.tunnel.fds())
            timeout = None
            if self.next_keepalive is not None:
                timeout = max(0.0, self.next_keepalive - time.monotonic())
            readable, _, _ = select.select(fds, [], [], timeout)
            if self.next_keepalive is not None and time.monotonic() >= self.next_keepalive:
                self.keepalive()
                self.next_keepalive = time.monotonic() + self.keepalive_s
            for fd in readable:
                if fd == stdin:
                    line = sys.stdin.readline()
                    if not line or not self.command(line):
                        return
                elif fd is self.sock:
                    buf, (host, port) = self.sock.recvfrom(65535)
                    if buf and buf[0] == TUNNEL_DATA:
                        self.downlink_udp(buf, host, port)
                    elif buf and buf[0] == REVOCATION:
                        self.revoked(buf, host, port)
                    else:
                        emit("unexpected", msg_type=buf[0] if buf else None, source=f"{host}:{port}")
                elif fd is self.data_sock:
                    buf, (host, port) = self.data_sock.recvfrom(65535)
                    if buf and buf[0] == TUNNEL_DATA:
                        self.downlink_udp(buf, host, port)
                    else:
                        emit("unexpected", msg_type=buf[0] if buf else None, source=f"{host}:{port}")
                elif fd == self.tun:
                    self.uplink()
                else:
                    self.downlink_raw(fd)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nai", required=True)
    p.add_argument("--spi", type=int, help="MN-HA SPI (mn, fa)")
    p.add_argument("--key", type=lambda h: bytes.fromhex(h.removeprefix("0x")), help="MN-HA key (mn, fa)")
    p.add_argument("--coa", required=True, type=ipaddress.IPv4Address, help="our co-located care-of address")
    p.add_argument("--ha", required=True, type=ipaddress.IPv4Address, help="the home agent")
    p.add_argument("--hoa", type=ipaddress.IPv4Address, help="home address to ask for (default 0.0.0.0: assign one)")
    p.add_argument("--encap", default="ipip", choices=["ipip", "gre", "udp"])
    p.add_argument(
        "--mode",
        default="mn",
        choices=["mn", "fa", "pma"],
        help="mn: co-located care-of address (--coa is the MN's); fa: a foreign agent at --coa relays "
        "the MN's request; pma: a proxy mobility agent at --coa registers the host (RFC 5563)",
    )
    p.add_argument("--fa-spi", type=int, help="FA-HA SPI (fa, pma)")
    p.add_argument("--fa-key", type=lambda h: bytes.fromhex(h.removeprefix("0x")), help="FA-HA key (fa, pma)")
    p.add_argument("--gre-key", type=int, default=7001, help="the FA's / PMA's downlink GRE key (--encap gre)")
    p.add_argument("--revocation", action="store_true", help="advertise Revocation Support (RFC 3543)")
    hexid = lambda h: bytes.fromhex(h.removeprefix("0x"))

    def typed_id(text):
        id_type, _, value = text.partition(":")
        return int(id_type), hexid(value)

    p.add_argument("--interface-id", type=hexid, help="pma: RFC 5563 Interface ID, hex")
    p.add_argument("--device-id", type=typed_id, help="pma: RFC 5563 Device ID, TYPE:HEX")
    p.add_argument("--subscriber-id", type=typed_id, help="pma: RFC 5563 Subscriber ID, TYPE:HEX")
    p.add_argument(
        "--ipv6-prefix",
        type=ipaddress.IPv6Network,
        help="DSMIPv4 (RFC 5454): request this prefix (::/64 asks the home agent for one)",
    )
    p.add_argument(
        "--draft01-type",
        type=int,
        help="write the DSMIPv4 extensions in draft-ietf-mip4-dsmipv4-01's layout under this private type "
        "(the home agent's ha.dsmip4_draft01_type); --ipv6-prefix ::IID/128 then asks for a home address",
    )
    p.add_argument(
        "--tunneling-mode",
        action="store_true",
        help="DSMIPv4 IPv6 Tunneling Mode: IPv6 straight to the care-of address",
    )
    p.add_argument("--port", type=int, default=MIP_PORT, help="our UDP port (default 434)")
    p.add_argument(
        "--nat-coa",
        type=ipaddress.IPv4Address,
        help="play a mobile node behind a NAT: register this (private) care-of address while sending "
        "from --coa, so that the home agent sees a NAT (--encap udp without the F flag)",
    )
    p.add_argument(
        "--r-flag",
        action="store_true",
        help="RFC 3519 R: a mobile node with the co-located care-of address --nat-coa registers through "
        "the foreign agent at --coa (--mode fa --encap udp); its tunnel end is --data-port",
    )
    p.add_argument("--data-port", type=int, default=1437, help="the mobile node's tunnel port with --r-flag")
    p.add_argument(
        "--hold-keepalive", action="store_true", help="send keepalives only on the keepalive command"
    )
    p.add_argument("--lifetime", type=int, default=300)
    p.add_argument("--mn-ns", default="anc-mn")
    p.add_argument("--tun", default="mn0")
    p.add_argument("--max-tries", type=int, default=3)
    p.add_argument("--initial-timeout", type=float, default=1.0)
    a = p.parse_args()
    if a.mode != "pma" and (a.spi is None or a.key is None):
        p.error("--mode mn/fa needs --spi and --key (the MN-HA association)")
    if a.mode != "mn" and (a.fa_spi is None or a.fa_key is None):
        p.error("--mode fa/pma needs --fa-spi and --fa-key")
    if a.mode != "mn" and a.encap == "udp" and not a.r_flag:
        p.error("--encap udp is for --mode mn (or --mode fa with --r-flag)")
    if a.r_flag and (a.mode != "fa" or a.encap != "udp" or a.nat_coa is None):
        p.error("--r-flag needs --mode fa, --encap udp and --nat-coa (the mobile node's care-of address)")
    return a


def main():
    a = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    node = Node(a)
    try:
        node.run()
        emit("exit")
    finally:
        node.detach()
        print("stats " + json.dumps(node.counts), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
