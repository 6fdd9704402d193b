#!/usr/bin/python3
"""PMIPv6 Mobile Access Gateway simulator: real signalling, userspace data plane.

Written from ../shared/spec/PROTOCOLS.md §2 (Mobility Header, options,
padding), §3 (what the LMA expects in a PBU, what a PBA contains), §4 (RFC 5844
IPv4 HoA and IPv4 transport over UDP 5436, encapsulation modes), §5 (GRE key
negotiation, TLV header), §6 (the MAG answers a BRI with a BRA), §7 (heartbeat)
and §12 (encapsulations); standard library only. The tunnel helpers (GRE
header/parse, DSCP/ECN copy, TUN) come from tunnel_peer.py next to this file.

  ip netns exec anc-mag /usr/bin/python3 scripts/sim/mag.py \\
      --mag 2001:db8:1::2 --lma 2001:db8:1::1 [--mag4 192.0.2.2 --lma4 192.0.2.1] \\
      --mn-ns anc-mn [--tun mn0]

Long-running. Reads one command per line on stdin and prints one JSON object
per line on stdout per event (flushed); free-form logging goes to stderr.
Commands are executed one after the other: a command that waits for an answer
(attach/refresh/detach/handoff/heartbeat) holds the following ones until it is
answered or has timed out; heartbeat requests and BRIs from the LMA are
answered at any time.

  attach <mn-id> [--ipv4] [--ipv6] [--transport v6|v4] [--gre] [--gre-key N|none]
         [--udp] [--tlv] [--att N] [--mn-ll-id HEX] [--hi N] [--lifetime S]
         [--hnp PREFIX]... [--ipv4-hoa ADDR] [--ipv4-plen N] [--lla ADDR]
         [--timestamp|--no-timestamp] [--seq N] [--mn-ns NS] [--tun NAME]
         [--no-dataplane]
      PBU (A+P; MN-ID NAI; HNP ALL_ZERO/given when IPv6 is wanted; IPv4 HoA
      Request 0.0.0.0/given when IPv4 is wanted; HI default 1; ATT default 4 =
      IEEE 802.11a/b/g; MN-LL-ID/LLA if given; Timestamp unless
      --no-timestamp; GRE Key with our downlink key for --gre; F for --udp;
      T + GRE Key for --tlv). Neither --ipv4 nor --ipv6 (nor --hnp /
      --ipv4-hoa) means IPv6 only. Prints "pba", then on success configures
      the mobile node and the tunnel and prints "attached".
  refresh [<mn-id>] [--lifetime S] [--hi N]     re-registration (HI 5)
  detach [<mn-id>] [--hi N]                     de-registration (lifetime 0, HI 5)
  handoff <mag-addr> [<mag4-addr>] [--mn ID] [--hi N]
      moves the MN (and this process) to another MAG address; PBU with HI 3
      (handoff between MAGs for the same interface) from the new address; on
      success the tunnel is re-pointed (new outer source). Prints "pba" and
      "handoff".
  heartbeat [--transport v6|v4] [--timeout S]   heartbeat request to the LMA
  show                                          prints the state ("state")
  set bra_status auto|N | answer_heartbeat on|off | answer_bri on|off |
      restart_counter N | max_tries N | initial_timeout S
  quit                                          exits without de-registering
  (EOF on stdin and SIGTERM/SIGINT also exit cleanly; TUN devices go away.)

Events (field "event"; addresses are strings, absent values null):
  ready      mag, mag4, lma, lma4, mn_ns, tun, restart_counter
  pba        cmd (attach|refresh|detach|handoff), mn_id, status, seq, lifetime_s,
             p, t, k, hnps ["prefix/len"], ipv4_hoa, prefix_len, ipv4_hoa_status,
             default_router, gre (GRE Key option present), gre_key (uplink key),
             nat_detection {f, refresh}, hi, att, timestamp (Unix s), mn_ll_id,
             lla, dhcp_mode, options [decoded options], from, to, transport,
             sport, tries, rtt_ms. No PBA after max_tries transmissions (1 s,
             doubling): timeout true, status null, tries, seqs.
  attached / handoff (+ from, to) / state.sessions[]: mn_id, registered,
             transport, mag, mode (ipip|gre|udp|udp-tlv), hnps, ipv4_hoa,
             prefix_len, default_router, gre_key_up, gre_key_down, t,
             lifetime_s, tun, mn_ns, mn_addrs, counters {up, down, dropped}, lma
  detached   mn_id, reason (de-registration|revoked|revoked-ipv4),
             acknowledged/status or trigger, counters
  heartbeat  kind: request (the LMA asked; answered, restart_counter = ours) |
             response (to our request; restart_counter, peer_restarted, rtt_ms) |
             timeout | binding_error | unsolicited | stray-response; seq, from/to
  bri        trigger, seq, p, v, g, mn_ids, hnps, revoked [mn_id], status (of
             our BRA: 0, or 128 binding does not exist), from, to, transport
  binding_error (status, home_address), stray_pba (a PBA matching nothing
  outstanding), set, help, error (text), exit (reason quit|signal|error).

  mag.py --self-test     offline checks of the encoder/parser (no network).
"""

import argparse
import heapq
import ipaddress
import json
import os
import select
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tunnel_peer as tp  # noqa: E402  (GRE, DSCP/ECN, TUN helpers)

# ------------------------------------------------------------------ numbers
IPPROTO_MH = 135
NO_NEXT_HEADER = 59
PMIP6_CNTL = 5436  # RFC 5844 signalling port
PMIP6_DATA = 5437  # RFC 5844 IPv4-UDP data port (also used for UDP-TLV, §4.8.3)

MH_BU, MH_BA, MH_BE, MH_HB, MH_BR = 5, 6, 7, 13, 16
MH_NAMES = {0: "brr", 5: "bu", 6: "ba", 7: "be", 13: "heartbeat", 16: "binding-revocation"}
MH_MIN_LEN = {MH_BU: 12, MH_BA: 12, MH_BE: 24, MH_HB: 12, MH_BR: 12}

BU_A, BU_H, BU_P, BU_F, BU_T = 0x8000, 0x4000, 0x0200, 0x0100, 0x0080
BA_K, BA_R, BA_P, BA_T = 0x80, 0x40, 0x20, 0x10
HB_U, HB_R = 0x0002, 0x0001
BR_P, BR_V, BR_G = 0x8000, 0x4000, 0x2000
BRI, BRA = 1, 2

O_PAD1, O_PADN, O_ALTCOA, O_MNP, O_MNID = 0, 1, 3, 6, 8
O_HNP, O_HI, O_ATT, O_MNLLID, O_LLA, O_TS, O_RC = 22, 23, 24, 25, 26, 27, 28
O_V4HOA, O_V4ACK, O_NATD, O_V4COA, O_GREKEY = 29, 30, 31, 32, 33
O_V4HOAREQ, O_V4HOAREP, O_V4DRA, O_V4DHCP = 36, 37, 38, 39

OPT_NAMES = {
    0: "pad1", 1: "padn", 2: "binding-refresh-advice", 3: "alt-coa", 6: "mnp", 8: "mn-id",
    9: "auth", 10: "mesg-id", 19: "vendor-specific", 20: "service-selection", 22: "hnp",
    23: "hi", 24: "att", 25: "mn-ll-id", 26: "lla", 27: "timestamp", 28: "restart-counter",
    29: "ipv4-hoa", 30: "ipv4-address-ack", 31: "nat-detection", 32: "ipv4-coa",
    33: "gre-key", 35: "binding-id", 36: "ipv4-hoa-request", 37: "ipv4-hoa-reply",
    38: "ipv4-default-router", 39: "ipv4-dhcp-support-mode",
}

# Alignment xn+y of the option's Type octet (PROTOCOLS.md §2.9; MN-LL-ID at
# 8n+4 is our choice, §2.10.5). Options not listed need none.
ALIGN = {
    O_ALTCOA: (8, 6), O_MNP: (8, 4), O_HNP: (8, 4), O_MNLLID: (8, 4), O_LLA: (8, 6),
    O_TS: (8, 2), O_RC: (4, 2), O_V4HOA: (4, 0), O_V4ACK: (4, 0), O_NATD: (4, 0),
    O_V4COA: (4, 0), O_GREKEY: (4, 0), O_V4HOAREQ: (4, 0), O_V4HOAREP: (4, 0),
    O_V4DRA: (4, 0),
}

ATT_DEFAULT = 4  # IEEE 802.11a/b/g (PROTOCOLS.md §2.11.2)
HI_NEW, HI_IFACE, HI_MAG, HI_UNKNOWN, HI_UNCHANGED = 1, 2, 3, 4, 5


# ------------------------------------------------------- Mobility Header codec
def pad(n):
    """Pad1 for exactly one octet, PadN otherwise (§2.8)."""
    if n == 0:
        return b""
    if n == 1:
        return b"\x00"
    return bytes([O_PADN, n - 2]) + bytes(n - 2)


def mh_checksum(src, dst, mh):
    """RFC 6275 §6.1.1: pseudo-header (src, dst, upper-layer length, 3 zero
    octets, next header 135) + the MH with its checksum field zeroed."""
    zeroed = mh[:4] + b"\0\0" + mh[6:]
    pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
              + struct.pack("!I3xB", len(mh), IPPROTO_MH))
    return tp.inet_checksum(pseudo + zeroed)


def mh_checksum_ok(src, dst, mh):
    pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
              + struct.pack("!I3xB", len(mh), IPPROTO_MH))
    return tp.inet_checksum(pseudo + mh) == 0


def build_mh(mh_type, body, options, src=None, dst=None):
    """Header + type-specific fixed part + options with alignment padding,
    padded to a multiple of 8. With src/dst (IPv6 transport) the checksum is
    filled in; without (IPv4/UDP transport, RFC 5844 §4) it stays 0."""
    out = bytearray(6) + body
    for otype, data in options:
        x, y = ALIGN.get(otype, (0, 0))
        if x:
            out += pad((y - len(out)) % x)
        out += bytes([otype, len(data)]) + data
    out += pad((-len(out)) % 8)
    out[0], out[1], out[2], out[3] = NO_NEXT_HEADER, len(out) // 8 - 1, mh_type, 0
    if src is not None and dst is not None:
        out[4:6] = struct.pack("!H", mh_checksum(src, dst, bytes(out)))
    return bytes(out)


class Malformed(Exception):
    pass


def parse_mh(buf):
    """Returns (mh_type, fixed-part bytes, [(type, data)], total length);
    raises Malformed (§2.1 receive checks, §2.8 option walk)."""
    if len(buf) < 6:
        raise Malformed("shorter than the MH header")
    total = (buf[1] + 1) * 8
    if total > len(buf):
        raise Malformed(f"Header Len says {total} octets, got {len(buf)}")
    if buf[0] != NO_NEXT_HEADER:
        raise Malformed(f"payload proto {buf[0]}")
    mh_type = buf[2]
    fixed = MH_MIN_LEN.get(mh_type, 6)
    if total < fixed:
        raise Malformed(f"MH type {mh_type} too short ({total})")
    opts, off = [], fixed
    while off < total:
        t = buf[off]
        if t == O_PAD1:
            off += 1
            continue
        if off + 2 > total or off + 2 + buf[off + 1] > total:
            raise Malformed(f"option {t} at {off} runs past the end")
        n = buf[off + 1]
        if t != O_PADN:
            opts.append((t, bytes(buf[off + 2:off + 2 + n])))
        off += 2 + n
    return mh_type, bytes(buf[6:fixed]), opts, total


# options: encoders
def o_mnid(nai):
    return (O_MNID, b"\x01" + nai.encode())


def o_hnp(net):
    return (O_HNP, struct.pack("!BB", 0, net.prefixlen) + net.network_address.packed)


def o_hnp_raw(plen, addr):
    return (O_HNP, struct.pack("!BB", 0, plen) + ipaddress.IPv6Address(addr).packed)


def o_byte(otype, v):
    return (otype, bytes([0, v]))


def o_mnllid(lli):
    return (O_MNLLID, b"\0\0" + lli)


def o_lla(addr):
    return (O_LLA, ipaddress.IPv6Address(addr).packed)


def o_ts(value):
    return (O_TS, struct.pack("!Q", value))


def o_v4hoareq(addr, plen):
    return (O_V4HOAREQ, struct.pack("!H", (plen & 0x3F) << 10) + ipaddress.IPv4Address(addr).packed)


def o_grekey(key):
    return (O_GREKEY, b"\0\0" if key is None else struct.pack("!HI", 0, key))


def o_rc(counter):
    return (O_RC, struct.pack("!I", counter & 0xFFFFFFFF))


def ts_to_float(v):
    return (v >> 16) + (v & 0xFFFF) / 65536.0


def decode_option(t, d):
    """A JSON-friendly summary of one option (PROTOCOLS.md §2.10)."""
    o = {"type": t, "name": OPT_NAMES.get(t, "unknown"), "len": len(d)}
    try:
        if t == O_MNID:
            o.update(subtype=d[0], id=d[1:].decode("utf-8", "replace"))
        elif t in (O_HNP, O_MNP):
            o.update(prefix_len=d[1], prefix=str(ipaddress.IPv6Address(d[2:18])))
        elif t in (O_HI, O_ATT):
            o.update(value=d[1])
        elif t == O_MNLLID:
            o.update(lli=d[2:].hex())
        elif t in (O_ALTCOA, O_LLA):
            o.update(address=str(ipaddress.IPv6Address(d[:16])))
        elif t == O_TS:
            (v,) = struct.unpack("!Q", d[:8])
            o.update(value=v, unix=ts_to_float(v))
        elif t == O_RC:
            o.update(counter=struct.unpack("!I", d[:4])[0])
        elif t in (O_V4HOA, O_V4HOAREQ):
            (w,) = struct.unpack("!H", d[:2])
            o.update(prefix_len=w >> 10, address=str(ipaddress.IPv4Address(d[2:6])))
            if t == O_V4HOA:
                o.update(p=bool(w & 0x0200))
        elif t in (O_V4ACK, O_V4HOAREP):
            o.update(status=d[0], prefix_len=d[1] >> 2, address=str(ipaddress.IPv4Address(d[2:6])))
        elif t == O_NATD:
            (w, refresh) = struct.unpack("!HI", d[:6])
            o.update(f=bool(w & 0x8000), refresh=refresh)
        elif t in (O_V4COA, O_V4DRA):
            o.update(address=str(ipaddress.IPv4Address(d[2:6])))
        elif t == O_GREKEY:
            o.update(key=struct.unpack("!I", d[2:6])[0] if len(d) >= 6 else None)
        elif t == O_V4DHCP:
            o.update(s=bool(struct.unpack("!H", d[:2])[0] & 1))
        else:
            o.update(data=d.hex())
    except (IndexError, struct.error, ValueError):
        o.update(malformed=True, data=d.hex())
    return o


def parse_pba(body, opts):
    """The PBA fixed part and options as a dict (the fields of the "pba"
    event, without event/transport bookkeeping)."""
    status, flags, seq, life = struct.unpack("!BBHH", body[:6])
    r = {
        "status": status, "seq": seq, "lifetime_s": life * 4, "p": bool(flags & BA_P),
        "t": bool(flags & BA_T), "k": bool(flags & BA_K), "mn_id": None, "hnps": [],
        "ipv4_hoa": None, "prefix_len": None, "ipv4_hoa_status": None, "default_router": None,
        "gre": False, "gre_key": None, "nat_detection": None, "hi": None, "att": None,
        "timestamp": None, "mn_ll_id": None, "lla": None, "dhcp_mode": None,
    }
    decoded = [decode_option(t, d) for t, d in opts]
    for o in decoded:
        if o.get("malformed"):
            continue
        t = o["type"]
        if t == O_MNID:
            r["mn_id"] = o["id"]
        elif t == O_HNP:
            r["hnps"].append(f"{o['prefix']}/{o['prefix_len']}")
        elif t == O_HI:
            r["hi"] = o["value"]
        elif t == O_ATT:
            r["att"] = o["value"]
        elif t == O_TS:
            r["timestamp"] = o["unix"]
        elif t == O_MNLLID:
            r["mn_ll_id"] = o["lli"]
        elif t == O_LLA:
            r["lla"] = o["address"]
        elif t == O_V4HOAREP:
            r.update(ipv4_hoa=o["address"], prefix_len=o["prefix_len"], ipv4_hoa_status=o["status"])
        elif t == O_V4DRA:
            r["default_router"] = o["address"]
        elif t == O_GREKEY:
            r.update(gre=True, gre_key=o["key"])
        elif t == O_NATD:
            r["nat_detection"] = {"f": o["f"], "refresh": o["refresh"]}
        elif t == O_V4DHCP:
            r["dhcp_mode"] = "server" if o["s"] else "relay"
    r["options"] = decoded
    return r


def choose_mode(transport, pba, sent_f):
    """The MAG's encapsulation decision from the PBA (§4.8.2-§4.8.4, §5.1).
    Returns (mode, gre_in_use)."""
    if transport == "v4" and pba["t"]:
        return "udp-tlv", pba["gre"]  # T agreed: UDP + TLV (+ GRE when keys were exchanged)
    if pba["gre"]:
        return "gre", True  # status 0 with keys, or 3 (TLV refused: GRE without UDP)
    if transport == "v4" and sent_f and (pba["nat_detection"] or {}).get("f"):
        return "udp", False  # RFC 5844: UDP only when the PBA has NAT Detection with F=1
    return "ipip", False


# ------------------------------------------------------------------- output
def emit(event, **kv):
    sys.stdout.write(json.dumps({"event": event, **kv}) + "\n")
    sys.stdout.flush()


def log(msg):
    print(f"mag: {msg}", file=sys.stderr, flush=True)


class CmdError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CmdError(message)

    def exit(self, status=0, message=None):
        raise CmdError(message or "bad arguments")


def ip_any(s):
    return ipaddress.ip_address(s)


def hex_bytes(s):
    try:
        b = bytes.fromhex(s.replace(":", "").replace("-", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not hex: {s}")
    if not b:
        raise argparse.ArgumentTypeError("empty identifier")
    return b


def gre_key_arg(s):
    if s == "none":
        return "none"
    v = int(s, 0)
    if not 0 <= v <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError("GRE key is 32 bits")
    return v


def make_parsers():
    p = {}
    a = Parser(prog="attach", add_help=False)
    a.add_argument("mn_id")
    a.add_argument("--ipv4", action="store_true")
    a.add_argument("--ipv6", action="store_true")
    a.add_argument("--transport", choices=["v6", "v4"], default="v6")
    a.add_argument("--gre", action="store_true")
    a.add_argument("--gre-key", type=gre_key_arg, help="our downlink key, or 'none' (GRE Key option Length 2)")
    a.add_argument("--udp", action="store_true", help="F flag (IPv4-UDP)")
    a.add_argument("--tlv", action="store_true", help="T flag + GRE Key")
    a.add_argument("--att", type=int, default=ATT_DEFAULT)
    a.add_argument("--mn-ll-id", type=hex_bytes)
    a.add_argument("--hi", type=int, default=HI_NEW)
    a.add_argument("--lifetime", type=float, default=3600)
    a.add_argument("--hnp", type=ipaddress.IPv6Network, action="append", default=[])
    a.add_argument("--ipv4-hoa", type=ipaddress.IPv4Address)
    a.add_argument("--ipv4-plen", type=int)
    a.add_argument("--lla", type=ipaddress.IPv6Address)
    ts = a.add_mutually_exclusive_group()
    ts.add_argument("--timestamp", dest="timestamp", action="store_true", default=True)
    ts.add_argument("--no-timestamp", dest="timestamp", action="store_false")
    a.add_argument("--seq", type=int, help="sequence number of the first PBU of this MN")
    a.add_argument("--mn-ns")
    a.add_argument("--tun")
    a.add_argument("--no-dataplane", action="store_true", help="signalling only, no TUN/tunnel")
    p["attach"] = a
    r = Parser(prog="refresh", add_help=False)
    r.add_argument("mn_id", nargs="?")
    r.add_argument("--lifetime", type=float)
    r.add_argument("--hi", type=int, default=HI_UNCHANGED)
    p["refresh"] = r
    d = Parser(prog="detach", add_help=False)
    d.add_argument("mn_id", nargs="?")
    d.add_argument("--hi", type=int, default=HI_UNCHANGED)
    p["detach"] = d
    h = Parser(prog="handoff", add_help=False)
    h.add_argument("addrs", nargs="+", type=ip_any)
    h.add_argument("--mn")
    h.add_argument("--hi", type=int, default=HI_MAG)
    p["handoff"] = h
    b = Parser(prog="heartbeat", add_help=False)
    b.add_argument("--transport", choices=["v6", "v4"])
    b.add_argument("--timeout", type=float, default=2.0)
    p["heartbeat"] = b
    return p


# ------------------------------------------------------------------ state
class Session:
    """One mobile node's mobility session at this MAG."""

    def __init__(self, mn_id):
        self.mn_id = mn_id
        self.want_v4 = self.want_v6 = False
        self.transport = "v6"
        self.mag6 = self.mag4 = None
        self.gre_opt = False  # send a GRE Key option
        self.key_down = None  # our (downlink) key; None with a Length-2 option
        self.f = self.t = False
        self.att, self.hi = ATT_DEFAULT, HI_NEW
        self.mn_ll_id = None
        self.lla = None
        self.lifetime_s = 3600.0
        self.req_hnps = []  # HNP options of the initial PBU ([] -> one ALL_ZERO)
        self.req_v4 = None  # (IPv4Address, plen) of the initial request
        self.use_ts = True
        self.last_ts = 0
        # results of the last accepted PBA
        self.registered = False
        self.hnps = []
        self.ipv4_hoa = None
        self.prefix_len = None
        self.default_router = None
        self.key_up = None
        self.mode = None
        self.tlv_gre = True
        self.lifetime_granted = None
        # mobile node and data plane
        self.dataplane = True
        self.mn_ns = self.tun = None
        self.tun_fd = None
        self.mn_addrs = []
        self.dp_keys = []
        self.dp_local = self.dp_remote = None
        self.counters = {"up": 0, "down": 0, "dropped": 0}

    def local(self):
        return self.mag6 if self.transport == "v6" else self.mag4

    def summary(self):
        return {
            "mn_id": self.mn_id, "registered": self.registered, "transport": self.transport,
            "mag": self.local(), "mode": self.mode, "hnps": [str(n) for n in self.hnps],
            "ipv4_hoa": str(self.ipv4_hoa) if self.ipv4_hoa else None, "prefix_len": self.prefix_len,
            "default_router": self.default_router, "gre_key_up": self.key_up,
            "gre_key_down": self.key_down if self.gre_opt else None, "t": self.t,
            "lifetime_s": self.lifetime_granted, "tun": self.tun if self.tun_fd is not None else None,
            "mn_ns": self.mn_ns, "mn_addrs": self.mn_addrs, "counters": dict(self.counters),
        }


class Txn:
    """One outstanding request (PBU or heartbeat) and what to do with the answer."""

    def __init__(self, kind, sess=None):
        self.kind, self.sess = kind, sess
        self.seqs = set()
        self.tries = 0
        self.timer = None
        self.t0 = time.monotonic()
        self.transport = self.local = self.remote = None
        self.hi = self.life_units = None
        self.on_done = None  # callable(pba dict or None)


class Mag:
    def __init__(self, a):
        self.a = a
        self.mag6 = str(a.mag) if a.mag else None
        self.mag4 = str(a.mag4) if a.mag4 else None
        self.lma6 = str(a.lma) if a.lma else None
        self.lma4 = str(a.lma4) if a.lma4 else None
        self.max_tries = a.max_tries
        self.initial_timeout = a.initial_timeout
        self.restart_counter = a.restart_counter
        self.bra_status = None  # None = decide; else always this status
        self.answer_heartbeat = True
        self.answer_bri = True
        self.sessions = {}  # mn_id -> Session
        self.last_mn = None
        self.seqs = {}  # mn_id -> last sequence number used (kept across sessions)
        self.ghosts = set()  # (old MAG address, mn_id) left behind by a handoff
        self.hb_seq = 0
        self.lma_restart_counter = {}
        self.next_key = 1001
        self.ctl = {}  # ("v6"|"v4", local) -> socket
        self.fdmap = {}  # fd -> ("ctl", key) | ("dp", key) | ("tun", mn_id)
        self.dp = {}  # (kind, local) -> [socket, refcount]; kind raw4/raw41/raw47/udp
        self.timers = []
        self.timer_seq = 0
        self.txn = None
        self.queue = []
        self.stdin_buf = b""
        self.stdin_open = True
        self.running = True
        self.parsers = make_parsers()

    # --------------------------------------------------------------- timers
    def at(self, delay, fn):
        self.timer_seq += 1
        entry = [time.monotonic() + delay, self.timer_seq, fn]
        heapq.heappush(self.timers, entry)
        return entry

    @staticmethod
    def cancel(entry):
        if entry:
            entry[2] = None

    # ------------------------------------------------------ control sockets
    def ctl_sock(self, transport, local):
        key = (transport, local)
        s = self.ctl.get(key)
        if s:
            return s
        if transport == "v6":
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_MH)
            try:  # we compute and check the MH checksum ourselves
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, -1)
            except OSError:
                pass
            bind(s, (local, 0))
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            bind(s, (local, PMIP6_CNTL))
        self.ctl[key] = s
        self.fdmap[s.fileno()] = ("ctl", key)
        return s

    def send_mh(self, transport, local, remote, mh_type, body, options, port=PMIP6_CNTL):
        if transport == "v6":
            mh = build_mh(mh_type, body, options, local, remote)
            self.ctl_sock("v6", local).sendto(mh, (remote, 0))
        else:  # RFC 5844 §4: IPv4 | UDP 5436 | MH with checksum 0
            mh = build_mh(mh_type, body, options)
            self.ctl_sock("v4", local).sendto(mh, (remote, port))
        return mh

    def on_ctl(self, key):
        transport, local = key
        s = self.ctl[key]
        try:
            buf, addr = s.recvfrom(65535)
        except OSError as e:
            return emit("error", text=f"recv on {local}: {e}")
        src, sport = addr[0].split("%")[0], addr[1]
        if transport == "v6" and not mh_checksum_ok(src, local, buf[:(buf[1] + 1) * 8] if len(buf) > 1 else buf):
            return emit("error", text=f"MH with a bad checksum from {src} dropped")
        try:
            mh_type, body, opts, _ = parse_mh(buf)
        except Malformed as e:
            return emit("error", text=f"malformed MH from {src}: {e}")
        peer = (transport, local, src, sport)
        if mh_type == MH_BA:
            self.on_ba(body, opts, peer)
        elif mh_type == MH_HB:
            self.on_heartbeat(body, opts, peer)
        elif mh_type == MH_BR:
            self.on_br(body, opts, peer)
        elif mh_type == MH_BE:
            status = body[0]
            hoa = str(ipaddress.IPv6Address(body[2:18]))
            emit("binding_error", status=status, home_address=hoa, **{"from": src}, transport=transport)
            if self.txn and self.txn.kind == "heartbeat" and self.txn.remote == src:
                self.finish_heartbeat(self.txn, {"kind": "binding_error", "status": status})
        else:
            # RFC 6275 §9.2: unknown MH type -> Binding Error status 2.
            emit("error", text=f"unexpected MH type {mh_type} from {src}; Binding Error 2 sent")
            self.send_mh(transport, local, src, MH_BE, bytes([2, 0]) + bytes(16), [], sport)

    # ------------------------------------------------------------ commands
    def on_stdin(self):
        try:
            chunk = os.read(0, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.stdin_open = False
            self.queue.append("quit")
            return
        self.stdin_buf += chunk
        while b"\n" in self.stdin_buf:
            line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
            line = line.decode("utf-8", "replace").strip()
            if line and not line.startswith("#"):
                self.queue.append(line)

    def next_command(self):
        while self.queue and self.txn is None and self.running:
            line = self.queue.pop(0)
            try:
                self.command(line)
            except CmdError as e:
                emit("error", text=f"{line}: {e}")
            except (OSError, ValueError, subprocess.CalledProcessError) as e:
                emit("error", text=f"{line}: {e}")

    def command(self, line):
        words = shlex.split(line)
        cmd, args = words[0], words[1:]
        if cmd in ("attach", "refresh", "detach", "handoff", "heartbeat"):
            ns = self.parsers[cmd].parse_args(args)
            getattr(self, "cmd_" + cmd)(ns)
        elif cmd == "show":
            emit("state", mag=self.mag6, mag4=self.mag4, lma=self.lma6, lma4=self.lma4,
                 sessions=[s.summary() for s in self.sessions.values()],
                 restart_counter=self.restart_counter, lma_restart_counter=self.lma_restart_counter)
        elif cmd == "set":
            self.cmd_set(args)
        elif cmd == "quit":
            self.running = False
        elif cmd == "help":
            emit("help", text=__doc__)
        else:
            raise CmdError(f"unknown command {cmd!r}")

    def cmd_set(self, args):
        if len(args) != 2:
            raise CmdError("set <name> <value>")
        k, v = args
        onoff = {"on": True, "off": False, "1": True, "0": False, "true": True, "false": False}
        if k == "bra_status":
            self.bra_status = None if v == "auto" else int(v)
        elif k == "answer_heartbeat":
            self.answer_heartbeat = onoff[v]
        elif k == "answer_bri":
            self.answer_bri = onoff[v]
        elif k == "restart_counter":
            self.restart_counter = int(v)
        elif k == "max_tries":
            self.max_tries = int(v)
        elif k == "initial_timeout":
            self.initial_timeout = float(v)
        else:
            raise CmdError(f"unknown setting {k}")
        emit("set", name=k, value=v)

    def session_for(self, mn_id):
        if mn_id:
            s = self.sessions.get(mn_id)
            if not s:
                raise CmdError(f"no session for {mn_id}")
            return s
        if len(self.sessions) == 1:
            return next(iter(self.sessions.values()))
        if self.last_mn in self.sessions:
            return self.sessions[self.last_mn]
        raise CmdError("no session (attach first)")

    def next_seq(self, mn_id):
        v = (self.seqs.get(mn_id, 0) + 1) & 0xFFFF
        self.seqs[mn_id] = v
        return v

    def cmd_attach(self, c):
        if c.mn_id in self.sessions:
            raise CmdError(f"{c.mn_id} is already attached (detach first)")
        s = Session(c.mn_id)
        s.want_v6 = c.ipv6 or bool(c.hnp)
        s.want_v4 = c.ipv4 or c.ipv4_hoa is not None
        if not (s.want_v4 or s.want_v6):
            s.want_v6 = True
        s.transport = c.transport
        s.mag6, s.mag4 = self.mag6, self.mag4
        if s.transport == "v4" and not (self.mag4 and self.lma4):
            raise CmdError("--transport v4 needs --mag4 and --lma4 on the command line")
        if s.transport == "v6" and not (self.mag6 and self.lma6):
            raise CmdError("IPv6 transport needs --mag and --lma on the command line")
        s.f, s.t = c.udp, c.tlv
        s.gre_opt = c.gre or c.tlv or c.gre_key is not None
        if s.gre_opt:
            if c.gre_key == "none":
                s.key_down = None
            elif c.gre_key is not None:
                s.key_down = c.gre_key
            else:
                s.key_down = self.next_key
                self.next_key += 1
        s.att, s.hi, s.mn_ll_id, s.lla = c.att, c.hi, c.mn_ll_id, c.lla
        s.lifetime_s = c.lifetime
        s.req_hnps = list(c.hnp)
        if s.want_v4:
            addr = c.ipv4_hoa or ipaddress.IPv4Address("0.0.0.0")
            plen = c.ipv4_plen if c.ipv4_plen is not None else (32 if c.ipv4_hoa else 0)
            s.req_v4 = (addr, plen)
        s.use_ts = c.timestamp
        if c.seq is not None:
            self.seqs[c.mn_id] = (c.seq - 1) & 0xFFFF
        s.dataplane = not c.no_dataplane
        s.mn_ns = c.mn_ns or self.a.mn_ns
        s.tun = c.tun or self.free_tun_name(c.tun or self.a.tun)
        self.sessions[c.mn_id] = s
        self.last_mn = c.mn_id

        def done(pba):
            if pba is None or pba["status"] >= 128:
                del self.sessions[s.mn_id]
                return
            self.accept(s, pba)
            if s.dataplane:
                try:
                    self.mn_up(s)
                    self.dp_point(s)
                except (OSError, subprocess.CalledProcessError) as e:
                    emit("error", text=f"{s.mn_id}: mobile node / tunnel setup failed: {e}")
                    self.teardown(s)
                    del self.sessions[s.mn_id]
                    return
            emit("attached", **s.summary(), lma=self.remote(s))

        self.start_pbu("attach", s, s.hi, self.life_units(s.lifetime_s), done)

    def cmd_refresh(self, c):
        s = self.session_for(c.mn_id)
        if c.lifetime is not None:
            s.lifetime_s = c.lifetime

        def done(pba):
            if pba is not None and pba["status"] < 128:
                self.accept(s, pba)
                self.repoint_if_needed(s)

        self.start_pbu("refresh", s, c.hi, self.life_units(s.lifetime_s), done)

    def cmd_detach(self, c):
        s = self.session_for(c.mn_id)

        def done(pba):
            self.teardown(s)
            self.sessions.pop(s.mn_id, None)
            emit("detached", mn_id=s.mn_id, reason="de-registration",
                 acknowledged=pba is not None, status=pba["status"] if pba else None,
                 counters=s.counters)

        self.start_pbu("detach", s, c.hi, 0, done)

    def cmd_handoff(self, c):
        s = self.session_for(c.mn)
        new6 = next((str(x) for x in c.addrs if x.version == 6), None)
        new4 = next((str(x) for x in c.addrs if x.version == 4), None)
        if s.transport == "v4" and not new4:
            raise CmdError("the session uses IPv4 transport: give the other MAG's IPv4 address")
        if s.transport == "v6" and not new6:
            raise CmdError("the session uses IPv6 transport: give the other MAG's IPv6 address")
        old = s.local()
        old6, old4 = s.mag6, s.mag4
        s.mag6 = new6 or s.mag6
        s.mag4 = new4 or s.mag4
        try:
            self.ctl_sock(s.transport, s.local())
        except OSError as e:
            s.mag6, s.mag4 = old6, old4
            raise CmdError(f"cannot use {s.local()}: {e}")

        def done(pba):
            if pba is None or pba["status"] >= 128:
                s.mag6, s.mag4 = old6, old4  # the MN stays where it was
                return
            # This process now is the other MAG.
            self.mag6, self.mag4 = s.mag6, s.mag4
            self.ghosts.add((old, s.mn_id))
            self.ghosts.discard((s.local(), s.mn_id))
            self.accept(s, pba)
            self.repoint_if_needed(s, force=True)
            emit("handoff", **{"from": old, "to": s.local()}, **s.summary(), lma=self.remote(s))

        self.start_pbu("handoff", s, c.hi, self.life_units(s.lifetime_s), done)

    def cmd_heartbeat(self, c):
        transport = c.transport or ("v6" if self.mag6 and self.lma6 else "v4")
        local, remote = (self.mag6, self.lma6) if transport == "v6" else (self.mag4, self.lma4)
        if not (local and remote):
            raise CmdError(f"no {transport} MAG/LMA addresses configured")
        self.hb_seq = (self.hb_seq + 1) & 0xFFFFFFFF
        t = Txn("heartbeat")
        t.transport, t.local, t.remote = transport, local, remote
        t.seqs.add(self.hb_seq)
        self.txn = t
        self.send_mh(transport, local, remote, MH_HB, struct.pack("!HI", 0, self.hb_seq), [])
        t.timer = self.at(c.timeout, lambda: self.finish_heartbeat(t, {"kind": "timeout"}))

    def finish_heartbeat(self, t, fields):
        if self.txn is not t:
            return
        self.cancel(t.timer)
        self.txn = None
        emit("heartbeat", seq=next(iter(t.seqs)), transport=t.transport, to=t.remote,
             rtt_ms=round((time.monotonic() - t.t0) * 1000, 3), **fields)

    # ---------------------------------------------------------------- PBU
    @staticmethod
    def life_units(seconds):
        return max(0, min(0xFFFF, int(round(seconds / 4.0))))

    def remote(self, s):
        return self.lma6 if s.transport == "v6" else self.lma4

    def timestamp(self, s):
        v = int(time.time() * 65536)  # 48.16 fixed point since the Unix epoch (§2.10.7)
        if v <= s.last_ts:
            v = s.last_ts + 1
        s.last_ts = v
        return v

    def pbu_options(self, s, hi, dereg):
        """MN-ID, HNP(s), HI, ATT, MN-LL-ID, LLA, Timestamp, IPv4 HoA Request,
        GRE Key -- in that order (the order of the ORACLES.md §2.4 snippet)."""
        opts = [o_mnid(s.mn_id)]
        if s.want_v6:
            if s.registered and s.hnps:
                opts += [o_hnp(n) for n in s.hnps]
            elif s.req_hnps:
                opts += [o_hnp(n) for n in s.req_hnps]
            elif not s.registered:
                opts.append(o_hnp_raw(0, "::"))  # ALL_ZERO: LMA, please allocate
        opts += [o_byte(O_HI, hi), o_byte(O_ATT, s.att)]
        if s.mn_ll_id:
            opts.append(o_mnllid(s.mn_ll_id))
        if s.lla is not None:
            opts.append(o_lla(s.lla))
        if s.use_ts:
            opts.append(o_ts(self.timestamp(s)))
        if s.want_v4:
            if s.registered and s.ipv4_hoa:
                opts.append(o_v4hoareq(s.ipv4_hoa, s.prefix_len or 32))
            elif not s.registered:
                opts.append(o_v4hoareq(*s.req_v4))
        if s.gre_opt and not dereg:
            opts.append(o_grekey(s.key_down))
        return opts

    def start_pbu(self, kind, s, hi, life_units, on_done):
        t = Txn(kind, s)
        t.transport, t.local, t.remote = s.transport, s.local(), self.remote(s)
        t.hi, t.life_units, t.on_done = hi, life_units, on_done
        self.txn = t
        self.send_pbu(t)

    def send_pbu(self, t):
        if self.txn is not t:
            return
        s = t.sess
        t.tries += 1
        seq = self.next_seq(s.mn_id)
        t.seqs.add(seq)
        flags = BU_A | BU_P | (BU_F if s.f else 0) | (BU_T if s.t else 0)
        body = struct.pack("!HHH", seq, flags, t.life_units)
        opts = self.pbu_options(s, t.hi, t.life_units == 0)
        try:
            self.send_mh(t.transport, t.local, t.remote, MH_BU, body, opts)
        except OSError as e:
            emit("error", text=f"PBU to {t.remote}: {e}")
        log(f"{t.kind} {s.mn_id}: PBU seq {seq} try {t.tries} {t.local} -> {t.remote} ({t.transport})")
        wait = self.initial_timeout * (2 ** (t.tries - 1))  # RFC 6275 §11.8 back-off
        if t.tries < self.max_tries:
            t.timer = self.at(wait, lambda: self.send_pbu(t))
        else:
            t.timer = self.at(wait, lambda: self.pbu_timeout(t))

    def pbu_timeout(self, t):
        if self.txn is not t:
            return
        self.txn = None
        emit("pba", cmd=t.kind, mn_id=t.sess.mn_id, timeout=True, status=None, tries=t.tries,
             seqs=sorted(t.seqs), transport=t.transport)
        t.on_done(None)

    def on_ba(self, body, opts, peer):
        transport, local, src, sport = peer
        pba = parse_pba(body, opts)
        t = self.txn
        match = (
            t is not None and t.kind in ("attach", "refresh", "detach", "handoff")
            and pba["mn_id"] == t.sess.mn_id and (pba["seq"] in t.seqs or pba["status"] == 135)
            and transport == t.transport and local == t.local and src == t.remote
        )
        if not match:
            return emit("stray_pba", **{"from": src}, to=local, transport=transport, **pba)
        self.cancel(t.timer)
        self.txn = None
        emit("pba", cmd=t.kind, **pba, **{"from": src}, to=local, transport=transport,
             sport=sport if transport == "v4" else None, tries=t.tries,
             rtt_ms=round((time.monotonic() - t.t0) * 1000, 3))
        t.on_done(pba)

    def accept(self, s, pba):
        """Takes the LMA's assignments from an accepted PBA."""
        s.registered = True
        s.lifetime_granted = pba["lifetime_s"]
        if s.want_v6:
            nets = []
            for h in pba["hnps"]:
                n = ipaddress.IPv6Network(h, strict=False)
                if n.network_address != ipaddress.IPv6Address("::"):
                    nets.append(n)
            if nets:
                s.hnps = nets
        if s.want_v4 and pba["ipv4_hoa"] and pba["ipv4_hoa_status"] is not None and pba["ipv4_hoa_status"] < 128:
            s.ipv4_hoa = ipaddress.IPv4Address(pba["ipv4_hoa"])
            s.prefix_len = pba["prefix_len"] or 32
            s.default_router = pba["default_router"]
        if s.lla is not None and pba["lla"]:
            s.lla = ipaddress.IPv6Address(pba["lla"])  # the MAG link-local the LMA assigned
        mode, gre = choose_mode(s.transport, pba, s.f)
        s.mode, s.tlv_gre = mode, gre
        s.key_up = pba["gre_key"] if pba["gre"] else None

    # ---------------------------------------------------- heartbeat and BRI
    def on_heartbeat(self, body, opts, peer):
        transport, local, src, sport = peer
        flags, seq = struct.unpack("!HI", body[:6])
        rc = next((decode_option(t, d).get("counter") for t, d in opts if t == O_RC), None)
        if not flags & HB_R:
            if self.answer_heartbeat:
                self.send_mh(transport, local, src, MH_HB, struct.pack("!HI", HB_R, seq),
                             [o_rc(self.restart_counter)], sport)
            emit("heartbeat", kind="request", seq=seq, **{"from": src}, to=local, transport=transport,
                 answered=self.answer_heartbeat, restart_counter=self.restart_counter)
            return
        restarted = None
        if rc is not None:
            prev = self.lma_restart_counter.get(src)
            restarted = prev is not None and prev != rc
            self.lma_restart_counter[src] = rc
        t = self.txn
        if (not flags & HB_U and t is not None and t.kind == "heartbeat" and seq in t.seqs
                and src == t.remote):
            self.finish_heartbeat(t, {"kind": "response", "restart_counter": rc, "u": False,
                                      "peer_restarted": restarted})
        else:
            emit("heartbeat", kind="unsolicited" if flags & HB_U else "stray-response", seq=seq,
                 **{"from": src}, to=local, transport=transport, restart_counter=rc,
                 peer_restarted=restarted)

    def on_br(self, body, opts, peer):
        transport, local, src, sport = peer
        br_type, trigger, seq, flags = struct.unpack("!BBHH", body[:6])
        p, v, g = bool(flags & BR_P), bool(flags & BR_V), bool(flags & BR_G)
        decoded = [decode_option(t, d) for t, d in opts]
        mn_ids = [o["id"] for o in decoded if o["type"] == O_MNID and not o.get("malformed")]
        hnps = [ipaddress.IPv6Network(f"{o['prefix']}/{o['prefix_len']}", strict=False)
                for o in decoded if o["type"] == O_HNP and not o.get("malformed")]
        if br_type != BRI:
            return emit("error", text=f"binding revocation type {br_type} from {src} ignored "
                                      "(this MAG sends no BRIs)")
        if src not in (self.lma6, self.lma4):
            return emit("error", text=f"BRI from {src}, not our LMA: dropped")
        affected = []
        ghost = False
        here = [s for s in self.sessions.values() if s.local() == local and s.registered]
        if g:
            if trigger == 129 and mn_ids:  # all of a realm ("@realm")
                realm = mn_ids[0].lstrip("@")
                affected = [s for s in here if s.mn_id.rpartition("@")[2] == realm]
            else:
                affected = here
        else:
            for s in here:
                if mn_ids and s.mn_id not in mn_ids:
                    continue
                if hnps and not set(hnps) <= set(s.hnps):
                    continue
                affected.append(s)
            if not affected:
                ghost = any((local, m) in self.ghosts for m in mn_ids)
        if self.bra_status is not None:
            status = self.bra_status
        else:
            status = 0 if (affected or ghost) else 128  # 128: binding does not exist
        extra = {}
        if self.answer_bri:
            bra_opts = []
            if p and mn_ids:
                bra_opts.append(o_mnid(mn_ids[0]))
            if p and not g:
                # The BRI's HNPs, else those of the revoked session(s); none
                # when only the IPv4 HoA is revoked (V).
                src_hnps = hnps or ([] if v else [n for s in affected for n in s.hnps])
                bra_opts += [o_hnp(n) for n in src_hnps]
            bra_flags = flags & (BR_P | BR_V | BR_G)
            self.send_mh(transport, local, src, MH_BR, struct.pack("!BBHH", BRA, status, seq, bra_flags),
                         bra_opts, sport)
        else:
            extra["answered"] = False
        emit("bri", trigger=trigger, seq=seq, p=p, v=v, g=g, mn_ids=mn_ids, hnps=[str(n) for n in hnps],
             revoked=[s.mn_id for s in affected], status=status if self.answer_bri else None,
             **{"from": src}, to=local, transport=transport, options=decoded, **extra)
        if ghost:
            for m in mn_ids:
                self.ghosts.discard((local, m))
        if status >= 128 or not self.answer_bri:
            return
        for s in affected:
            if v and s.ipv4_hoa and s.hnps:  # IPv4 HoA only (RFC 5846 V flag)
                self.mn_drop_v4(s)
                s.ipv4_hoa, s.prefix_len, s.default_router, s.want_v4 = None, None, None, False
                emit("detached", mn_id=s.mn_id, reason="revoked-ipv4", trigger=trigger, counters=s.counters)
            else:
                self.teardown(s)
                self.sessions.pop(s.mn_id, None)
                emit("detached", mn_id=s.mn_id, reason="revoked", trigger=trigger, counters=s.counters)

    # -------------------------------------------------------- mobile node
    def free_tun_name(self, base):
        used = {s.tun for s in self.sessions.values()}
        if base not in used:
            return base
        stem = base.rstrip("0123456789") or "mn"
        i = 0
        while f"{stem}{i}" in used:
            i += 1
        return f"{stem}{i}"

    @staticmethod
    def ensure_ns(ns):
        # Not created here: `ip netns exec` runs us in a private mount
        # namespace, so a namespace added from inside would not be usable
        # by anyone else.
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        if not any(line.split()[0] == ns for line in out.splitlines() if line.strip()):
            raise OSError(f"network namespace {ns} does not exist (ip netns add {ns} first)")

    def mn_up(self, s):
        """A TUN moved into the MN's namespace with the home addresses and
        default routes (the fd keeps working after the move)."""
        self.ensure_ns(s.mn_ns)
        s.tun_fd = tp.open_tun(s.tun)
        self.fdmap[s.tun_fd] = ("tun", s.mn_id)
        ns, dev = s.mn_ns, s.tun
        sh("ip", "link", "set", dev, "netns", ns)
        sh("ip", "-n", ns, "link", "set", dev, "mtu", str(self.a.mtu), "up")
        s.mn_addrs = []
        self.mn_add_v4(s)
        for net in s.hnps:
            addr = net.network_address + 0x100  # <hnp>::100
            sh("ip", "-n", ns, "-6", "addr", "add", f"{addr}/{net.prefixlen}", "dev", dev, "nodad")
            s.mn_addrs.append(f"{addr}/{net.prefixlen}")
        if s.hnps:
            sh("ip", "-n", ns, "-6", "route", "replace", "default", "dev", dev)

    def mn_add_v4(self, s):
        if s.ipv4_hoa and s.tun_fd is not None:
            a = f"{s.ipv4_hoa}/{s.prefix_len or 32}"
            sh("ip", "-n", s.mn_ns, "addr", "add", a, "dev", s.tun)
            sh("ip", "-n", s.mn_ns, "route", "replace", "default", "dev", s.tun)
            s.mn_addrs.append(a)

    def mn_drop_v4(self, s):
        if s.tun_fd is None or not s.ipv4_hoa:
            return
        a = f"{s.ipv4_hoa}/{s.prefix_len or 32}"
        subprocess.run(["ip", "-n", s.mn_ns, "addr", "del", a, "dev", s.tun], capture_output=True)
        subprocess.run(["ip", "-n", s.mn_ns, "route", "del", "default", "dev", s.tun], capture_output=True)
        if a in s.mn_addrs:
            s.mn_addrs.remove(a)

    def teardown(self, s):
        self.dp_release(s)
        if s.tun_fd is not None:
            self.fdmap.pop(s.tun_fd, None)
            os.close(s.tun_fd)  # the kernel deletes the TUN with its last fd
            s.tun_fd = None
        s.registered = False

    # --------------------------------------------------------- data plane
    def dp_needs(self, s):
        if s.mode == "ipip":
            return ["raw4", "raw41"]
        if s.mode == "gre":
            return ["raw47"]
        return ["udp"]

    def dp_sock(self, kind, local):
        key = (kind, local)
        ent = self.dp.get(key)
        if ent:
            ent[1] += 1
            return
        fam = socket.AF_INET6 if ":" in local else socket.AF_INET
        if kind == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((local, PMIP6_DATA))
        else:
            sock = socket.socket(fam, socket.SOCK_RAW, int(kind[3:]))
            sock.bind((local, 0))
        self.dp[key] = [sock, 1]
        self.fdmap[sock.fileno()] = ("dp", key)

    def dp_point(self, s):
        """(Re)binds the session's data plane: outer source = its MAG address,
        outer destination = the LMA, in the negotiated mode."""
        if not s.dataplane or s.tun_fd is None:
            return
        self.dp_release(s)
        local = s.local()
        if s.mode in ("udp", "udp-tlv") and ":" in local:
            raise OSError(f"mode {s.mode} needs IPv4 transport")
        for k in self.dp_needs(s):
            self.dp_sock(k, local)
            s.dp_keys.append((k, local))
        s.dp_local, s.dp_remote = local, self.remote(s)

    def repoint_if_needed(self, s, force=False):
        if not s.dataplane or s.tun_fd is None:
            return
        if force or s.dp_local != s.local() or [k for k, _ in s.dp_keys] != self.dp_needs(s):
            self.dp_point(s)

    def dp_release(self, s):
        for key in s.dp_keys:
            ent = self.dp.get(key)
            if not ent:
                continue
            ent[1] -= 1
            if ent[1] <= 0:
                self.fdmap.pop(ent[0].fileno(), None)
                ent[0].close()
                del self.dp[key]
        s.dp_keys = []
        s.dp_local = s.dp_remote = None

    def uplink(self, mn_id):
        s = self.sessions.get(mn_id)
        if not s or s.tun_fd is None:
            return
        try:
            inner = os.read(s.tun_fd, 65535)
        except OSError:
            return
        if tp.local_only(inner) or not s.dp_keys:
            return
        v = tp.ip_version(inner)
        local, remote = s.dp_local, s.dp_remote
        fam = socket.AF_INET6 if ":" in local else socket.AF_INET
        if s.mode == "ipip":  # protocol 4 for IPv4, 41 for IPv6 (§12.1)
            sock, payload = self.dp[("raw4" if v == 4 else "raw41", local)][0], inner
            dest = (remote, 0)
        elif s.mode == "gre":
            sock, payload = self.dp[("raw47", local)][0], tp.gre_header(v, s.key_up) + inner
            dest = (remote, 0)
        else:
            sock, dest = self.dp[("udp", local)][0], (remote, PMIP6_DATA)
            if s.mode == "udp":
                payload = inner
            else:  # §5.3: TLV type 0, next header, length of what follows
                if s.tlv_gre:
                    rest, nh = tp.gre_header(v, s.key_up) + inner, tp.PROTO_GRE
                else:
                    rest, nh = inner, tp.PROTO_IPV4 if v == 4 else tp.PROTO_IPV6
                payload = struct.pack("!BBH", 0, nh, len(rest)) + rest
        tp.copy_dscp_ecn(sock, fam, inner)
        try:
            sock.sendto(payload, dest)
            s.counters["up"] += 1
        except OSError as e:
            s.counters["dropped"] += 1
            log(f"{mn_id}: uplink send: {e}")

    def downlink(self, key):
        kind, local = key
        sock = self.dp[key][0]
        try:
            buf, addr = sock.recvfrom(65535)
        except OSError:
            return
        if kind == "udp":
            src, sport = addr[0], addr[1]
        elif ":" in local:
            src, sport = addr[0].split("%")[0], None
        else:
            if len(buf) < 20:
                return
            src, sport = str(ipaddress.IPv4Address(buf[12:16])), None
            buf = buf[(buf[0] & 0x0F) * 4:]
        cands = [s for s in self.sessions.values()
                 if s.dp_local == local and s.dp_remote == src and key in s.dp_keys]
        if not cands:
            return
        if kind == "udp" and sport != PMIP6_DATA:
            return self.dp_drop(cands, "udp-source-port")
        gre_key_of = None
        if kind in ("raw4", "raw41"):
            want = 4 if kind == "raw4" else 6
            if tp.ip_version(buf) != want:
                return self.dp_drop(cands, "inner-version-mismatch")
            inner, mode = buf, "ipip"
        elif kind == "raw47":
            inner, mode, gre_key_of = buf, "gre", buf
        else:
            nib = tp.ip_version(buf)
            if nib in (4, 6):
                inner, mode = buf, "udp"
            elif nib == 0 and len(buf) >= 4:
                _, nh, length = struct.unpack_from("!BBH", buf)
                if len(buf) - 4 != length:  # RFC 5845: UDP length - 8 - 4 must equal the TLV length
                    return self.dp_drop(cands, "tlv-length")
                mode = "udp-tlv"
                if nh == tp.PROTO_GRE:
                    inner, gre_key_of = buf[4:], buf[4:]
                elif nh in (tp.PROTO_IPV4, tp.PROTO_IPV6) and tp.ip_version(buf[4:]) == (4 if nh == 4 else 6):
                    inner = buf[4:]
                else:
                    return self.dp_drop(cands, "tlv-next-header")
            else:
                return self.dp_drop(cands, "udp-payload-not-ip")
        cands = [s for s in cands if s.mode == mode]
        if gre_key_of is not None:
            k = gre_peek_key(gre_key_of)
            cands = [s for s in cands if (s.key_down if s.gre_opt else None) == k]
            if not cands:
                return log(f"downlink GRE key {k} matches no session")
            inner = tp.gre_parse(gre_key_of, k)  # full RFC 2784/2890 checks
            if inner is None:
                return self.dp_drop(cands, "gre")
        dst = inner_dst(inner)
        for s in cands:
            if dst is not None and (
                (dst.version == 4 and s.ipv4_hoa == dst)
                or (dst.version == 6 and any(dst in n for n in s.hnps))
            ):
                try:
                    os.write(s.tun_fd, inner)
                    s.counters["down"] += 1
                except OSError as e:
                    s.counters["dropped"] += 1
                    log(f"{s.mn_id}: TUN write: {e}")
                return
        self.dp_drop(cands, f"inner-destination {dst}")

    @staticmethod
    def dp_drop(cands, why):
        for s in cands[:1]:
            s.counters["dropped"] += 1
        log(f"downlink drop: {why}")

    # ------------------------------------------------------------ main loop
    def run(self):
        for transport, local in (("v6", self.mag6), ("v4", self.mag4)):
            if local:
                self.ctl_sock(transport, local)
        emit("ready", mag=self.mag6, mag4=self.mag4, lma=self.lma6, lma4=self.lma4,
             mn_ns=self.a.mn_ns, tun=self.a.tun, restart_counter=self.restart_counter)
        while self.running:
            self.next_command()
            if not self.running:
                break
            now = time.monotonic()
            while self.timers and (self.timers[0][2] is None or self.timers[0][0] <= now):
                _, _, fn = heapq.heappop(self.timers)
                if fn:
                    fn()
                    self.next_command()
            if not self.running:
                break
            timeout = max(0.0, self.timers[0][0] - time.monotonic()) if self.timers else None
            fds = list(self.fdmap) + ([0] if self.stdin_open else [])
            try:
                readable, _, _ = select.select(fds, [], [], timeout)
            except InterruptedError:
                continue
            for fd in readable:
                if fd == 0:
                    self.on_stdin()
                    continue
                what = self.fdmap.get(fd)
                if what is None:
                    continue
                try:
                    if what[0] == "ctl":
                        self.on_ctl(what[1])
                    elif what[0] == "dp":
                        self.downlink(what[1])
                    else:
                        self.uplink(what[1])
                except (OSError, ValueError, KeyError, struct.error, IndexError) as e:
                    emit("error", text=f"{what[0]}: {type(e).__name__}: {e}")

    def close(self):
        for s in list(self.sessions.values()):
            try:
                self.teardown(s)
            except OSError:
                pass
        for sock in self.ctl.values():
            sock.close()


def gre_peek_key(buf):
    """The key of a GRE header (RFC 2890), None without K or when too short."""
    if len(buf) < 4:
        return None
    (flags,) = struct.unpack_from("!H", buf)
    if not flags & 0x2000:
        return None
    off = 8 if flags & 0x8000 else 4
    if len(buf) < off + 4:
        return None
    return struct.unpack_from("!I", buf, off)[0]


def inner_dst(pkt):
    v = tp.ip_version(pkt)
    try:
        if v == 4 and len(pkt) >= 20:
            return ipaddress.IPv4Address(pkt[16:20])
        if v == 6 and len(pkt) >= 40:
            return ipaddress.IPv6Address(pkt[24:40])
    except ValueError:
        pass
    return None


def bind(sock, addr):
    try:
        sock.bind(addr)
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"cannot bind {addr[0]} port {addr[1]}: {e.strerror}") from None


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise subprocess.CalledProcessError(r.returncode, " ".join(cmd), r.stdout, r.stderr.strip())


# --------------------------------------------------------------- self-test
def self_test():
    """Encoder against the ORACLES.md §2.4 golden bytes; parser round trips."""
    golden = bytes.fromhex(
        "3b0b0500af190007820003840810016d6e31406578616d706c652e6e6574"
        "0104000000001612000000000000000000000000000000000000170200011802"
        "000301001b0800006553f10080002406000000000000210600000000123401020000")
    opts = [o_mnid("mn1@example.net"), o_hnp_raw(0, "::"), o_byte(O_HI, 1), o_byte(O_ATT, 3),
            o_ts((1700000000 << 16) | 0x8000), o_v4hoareq("0.0.0.0", 0), o_grekey(0x1234)]
    mh = build_mh(MH_BU, struct.pack("!HHH", 7, BU_A | BU_P, 900), opts, "2001:db8::a", "2001:db8::1")
    assert mh == golden, f"PBU bytes differ:\n{mh.hex()}\n{golden.hex()}"
    assert mh_checksum_ok("2001:db8::a", "2001:db8::1", mh)
    t, body, o2, total = parse_mh(mh)
    assert t == MH_BU and total == 96 and o2 == opts, (t, o2)
    # heartbeat response: Restart Counter at 4n+2 (offset 14), 24 octets
    hb = build_mh(MH_HB, struct.pack("!HI", HB_R, 5), [o_rc(7)], "2001:db8::a", "2001:db8::1")
    assert len(hb) == 24 and hb[14] == O_RC and hb[12:14] == b"\x01\x00", hb.hex()
    # empty heartbeat request: PadN(4), 16 octets, Header Len 1
    assert build_mh(MH_HB, struct.pack("!HI", 0, 1), []).hex() == "3b010d000000000000000001" + "01020000"
    # a PBA as an LMA would send it
    pba_opts = [o_mnid("a@b"), o_hnp(ipaddress.IPv6Network("2001:db8:100:1::/64")), o_byte(O_HI, 1),
                o_byte(O_ATT, 4), (O_V4HOAREP, bytes([0, 24 << 2]) + ipaddress.IPv4Address("203.0.113.5").packed),
                (O_V4DRA, b"\0\0" + ipaddress.IPv4Address("203.0.113.1").packed), o_grekey(77),
                (O_NATD, struct.pack("!HI", 0x8000, 0xFFFFFFFF))]
    ba = build_mh(MH_BA, struct.pack("!BBHH", 0, BA_P | BA_T, 7, 900), pba_opts)
    t, body, o3, _ = parse_mh(ba)
    r = parse_pba(body, o3)
    assert r["status"] == 0 and r["seq"] == 7 and r["lifetime_s"] == 3600 and r["p"] and r["t"], r
    assert r["hnps"] == ["2001:db8:100:1::/64"] and r["ipv4_hoa"] == "203.0.113.5", r
    assert r["prefix_len"] == 24 and r["default_router"] == "203.0.113.1" and r["gre_key"] == 77, r
    assert choose_mode("v4", r, True) == ("udp-tlv", True)
    assert choose_mode("v6", r, False) == ("gre", True)
    r2 = dict(r, t=False, gre=False, gre_key=None)
    assert choose_mode("v4", r2, True) == ("udp", False) and choose_mode("v4", r2, False) == ("ipip", False)
    assert choose_mode("v4", dict(r2, nat_detection=None), True) == ("ipip", False)
    try:
        parse_mh(ba[:-8] + b"\x01\x09" + bytes(6))  # PadN running past the end
        raise AssertionError("malformed option accepted")
    except Malformed:
        pass
    print("self-test ok", flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mag", type=ipaddress.IPv6Address, help="our IPv6 address (Proxy-CoA)")
    p.add_argument("--lma", type=ipaddress.IPv6Address, help="the LMA's IPv6 address (LMAA)")
    p.add_argument("--mag4", type=ipaddress.IPv4Address, help="our IPv4 address (IPv4-Proxy-CoA)")
    p.add_argument("--lma4", type=ipaddress.IPv4Address, help="the LMA's IPv4 address (IPv4-LMAA)")
    p.add_argument("--mn-ns", default="anc-mn", help="namespace of the mobile node (must exist)")
    p.add_argument("--tun", default="mn0", help="TUN device name of the (first) mobile node")
    p.add_argument("--mtu", type=int, default=1400)
    p.add_argument("--restart-counter", type=int, default=1, help="our Restart Counter (RFC 5847)")
    p.add_argument("--max-tries", type=int, default=3, help="PBU transmissions before giving up")
    p.add_argument("--initial-timeout", type=float, default=1.0, help="INITIAL_BINDACK_TIMEOUT, s")
    p.add_argument("--self-test", action="store_true", help="offline encoder/parser checks, then exit")
    a = p.parse_args()
    if not a.self_test:
        if not ((a.mag and a.lma) or (a.mag4 and a.lma4)):
            p.error("give --mag and --lma, and/or --mag4 and --lma4")
        if bool(a.mag) != bool(a.lma) or bool(a.mag4) != bool(a.lma4):
            p.error("--mag goes with --lma, --mag4 with --lma4")
    return a


def main():
    a = parse_args()
    if a.self_test:
        return self_test()

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    mag = Mag(a)
    reason = "quit"
    try:
        mag.run()
    except SystemExit:
        reason = "signal"
    except OSError as e:
        emit("error", text=f"fatal: {e}")
        reason = "error"
    finally:
        mag.close()
        try:
            emit("exit", reason=reason, sessions=[s.summary() for s in mag.sessions.values()])
        except (BrokenPipeError, OSError):
            pass
    sys.exit(1 if reason == "error" else 0)


if __name__ == "__main__":
    main()
