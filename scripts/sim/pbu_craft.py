#!/usr/bin/python3
"""Hand-made (mostly malformed) Proxy Binding Updates for the end-to-end tests.

Each case is an otherwise valid PBU (PROTOCOLS.md §3.2: MN-ID, an ALL_ZERO
HNP, HI 1, ATT 4, a fresh Timestamp, an IPv4 HoA Request 0.0.0.0) with one
defect. The frame is sent with scapy (sendp, Ethernet to the LMA's MAC) from
the MAG's interface; the answer, if any, is read from a raw Mobility Header
socket bound to the MAG address and decoded with mag.py's parser. Like a MAG
it retransmits (fresh Timestamp) when no answer comes, so that an answer lost
to the LMA's neighbour resolution does not look like a drop.

  ip netns exec anc-mag /usr/bin/python3 scripts/sim/pbu_craft.py \\
      --mac LMA_MAC --case dup-mn-id [--mag 2001:db8:1::2] [--lma 2001:db8:1::1] \\
      [--iface mag-core] [--mn-id dual@anchor.test] [--tries 3] [--timeout 1]

Cases (the standard's answer in brackets, PROTOCOLS.md §2.1, §2.8, §4.2):
  valid                the PBU without a defect                   [PBA 0]
  option-past-end      last option's Length runs past the MH end  [drop]
  header-len-past-end  Header Len says 16 octets more than sent   [drop]
  header-len-short     Header Len 0 (8 octets; a BU needs >= 16)  [drop]
  bad-checksum         MH checksum wrong                          [drop]
  payload-proto        Payload Proto 6 instead of 59              [drop]
  bad-hi-length        Handoff Indicator option with Length 3     [not accepted]
  dup-mn-id            two MN-ID options                          [PBA >= 128]
  dup-hi               two Handoff Indicator options              [PBA >= 128]
  dup-ipv4-request     two IPv4 HoA Request options               [PBA 173]

Prints one JSON line: case, tries, sent (hex of each MH sent), pba (mag.py's
"pba" fields, or null when nothing came back), extra (other MH messages
from the LMA, decoded roughly).
"""

import argparse
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mag as m  # noqa: E402  (MH codec, options, PBA parser)

CASES = [
    "valid", "option-past-end", "header-len-past-end", "header-len-short", "bad-checksum",
    "payload-proto", "bad-hi-length", "dup-mn-id", "dup-hi", "dup-ipv4-request",
]


def options(mn_id, case):
    o = [m.o_mnid(mn_id)]
    if case == "dup-mn-id":
        o.append(m.o_mnid(mn_id))
    o.append(m.o_hnp_raw(0, "::"))
    if case == "bad-hi-length":
        o.append((m.O_HI, b"\x00\x01\x00"))
    else:
        o.append(m.o_byte(m.O_HI, m.HI_NEW))
    if case == "dup-hi":
        o.append(m.o_byte(m.O_HI, m.HI_NEW))
    o.append(m.o_byte(m.O_ATT, m.ATT_DEFAULT))
    o.append(m.o_ts(int(time.time() * 65536)))
    o.append(m.o_v4hoareq("0.0.0.0", 0))
    if case == "dup-ipv4-request":
        o.append(m.o_v4hoareq("0.0.0.0", 0))
    return o


def set_checksum(mh, src, dst):
    mh[4:6] = b"\0\0"
    mh[4:6] = struct.pack("!H", m.mh_checksum(src, dst, bytes(mh)))


def build(case, seq, mn_id, src, dst):
    body = struct.pack("!HHH", seq, m.BU_A | m.BU_P, 900)  # 3600 s
    if case == "header-len-short":
        mh = bytearray([m.NO_NEXT_HEADER, 0, m.MH_BU, 0, 0, 0]) + struct.pack("!H", seq)
        set_checksum(mh, src, dst)
        return bytes(mh)
    mh = bytearray(m.build_mh(m.MH_BU, body, options(mn_id, case)))
    if case == "option-past-end":
        # An HNP option (Length 18) with only 6 octets of data before the end.
        mh += bytes([m.O_HNP, 18]) + bytes(6)
        mh[1] = len(mh) // 8 - 1
    elif case == "header-len-past-end":
        mh[1] += 2
    elif case == "payload-proto":
        mh[0] = 6
    set_checksum(mh, src, dst)
    if case == "bad-checksum":
        mh[4] ^= 0x55
    return bytes(mh)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", required=True, choices=CASES)
    p.add_argument("--mac", required=True, help="MAC address of the LMA's core port")
    p.add_argument("--mag", default="2001:db8:1::2")
    p.add_argument("--lma", default="2001:db8:1::1")
    p.add_argument("--iface", default="mag-core")
    p.add_argument("--mn-id", default="dual@anchor.test")
    p.add_argument("--tries", type=int, default=3)
    p.add_argument("--timeout", type=float, default=1.0, help="seconds to wait after each try")
    p.add_argument("--seq", type=int, default=4242)
    a = p.parse_args()

    from scapy.all import IPv6, Ether, Raw, conf, get_if_hwaddr, sendp  # noqa: E402
    conf.verb = 0

    rx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, m.IPPROTO_MH)
    try:
        rx.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, -1)
    except OSError:
        pass
    rx.bind((a.mag, 0))
    src_mac = get_if_hwaddr(a.iface)

    sent, extra, pba, tries = [], [], None, 0
    for i in range(a.tries):
        tries += 1
        mh = build(a.case, (a.seq + i) & 0xFFFF, a.mn_id, a.mag, a.lma)
        sent.append(mh.hex())
        frame = Ether(dst=a.mac, src=src_mac) / IPv6(src=a.mag, dst=a.lma, nh=m.IPPROTO_MH, hlim=64) / Raw(mh)
        sendp(frame, iface=a.iface)
        deadline = time.monotonic() + a.timeout
        while pba is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([rx], [], [], left)
            if not r:
                break
            buf, addr = rx.recvfrom(65535)
            if addr[0].split("%")[0] != a.lma:
                continue
            try:
                mh_type, body, opts, _ = m.parse_mh(buf)
            except m.Malformed as e:
                extra.append({"malformed": str(e), "hex": buf.hex()})
                continue
            if mh_type == m.MH_BA:
                pba = m.parse_pba(body, opts)
            else:
                extra.append({"mh_type": mh_type, "hex": buf.hex()})
        if pba is not None:
            break
    print(json.dumps({"case": a.case, "tries": tries, "sent": sent, "pba": pba, "extra": extra}), flush=True)


if __name__ == "__main__":
    main()
