#!/usr/bin/python3
"""TCP transfer check through the anchor (standard library only).

Server (in the correspondent's namespace), serves --count connections then exits:
  ip netns exec anc-cn python3 scripts/sim/tcp_check.py server --bind 198.51.100.2 --port 5001
Client (in the mobile node's namespace), exit status 0 when both directions check:
  ip netns exec anc-mn python3 scripts/sim/tcp_check.py client --connect 198.51.100.2 --port 5001 \
      --up 1000000 --down 1000000

Protocol: the client sends an 8-octet big-endian count N, then --up octets of
pseudo-random data, then shuts its sending side. The server answers with the
SHA-256 (hex, one line) of what it received after the count, then N octets of
data(N) (below), then closes. The client compares the digest with the one of
what it sent and the download with data(N).
"""

import argparse
import hashlib
import socket
import struct
import sys


def data(n, seed=b"anchor"):
    """n deterministic pseudo-random octets (SHA-256 in counter mode)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(seed + i.to_bytes(8, "big")).digest()
        i += 1
    return bytes(out[:n])


def recv_exact(conn, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(min(65536, n - len(buf)))
        if not chunk:
            raise EOFError(f"connection closed after {len(buf)} of {n} octets")
        buf += chunk
    return bytes(buf)


def server(a):
    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.bind, a.port))
        ls.listen(4)
        print("ready", flush=True)
        for _ in range(a.count):
            conn, peer = ls.accept()
            with conn:
                conn.settimeout(a.timeout)
                (down,) = struct.unpack("!Q", recv_exact(conn, 8))
                h, n = hashlib.sha256(), 0
                while chunk := conn.recv(65536):
                    h.update(chunk)
                    n += len(chunk)
                conn.sendall(h.hexdigest().encode() + b"\n" + data(down))
                print(f"tcp_check server: {peer[0]} sent {n} octets, sent back {down}", file=sys.stderr, flush=True)


def client(a):
    up = data(a.up, seed=b"uplink")
    with socket.create_connection((a.connect, a.port), timeout=a.timeout) as c:
        c.sendall(struct.pack("!Q", a.down) + up)
        c.shutdown(socket.SHUT_WR)
        digest = recv_exact(c, 65)
        down = recv_exact(c, a.down)
    ok_up = digest.decode().strip() == hashlib.sha256(up).hexdigest()
    ok_down = down == data(a.down)
    print(f"tcp_check client: uplink {a.up} octets {'ok' if ok_up else 'DIGEST MISMATCH'}, "
          f"downlink {a.down} octets {'ok' if ok_down else 'MISMATCH'}", flush=True)
    return 0 if ok_up and ok_down else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("--bind", required=True)
    s.add_argument("--port", type=int, default=5001)
    s.add_argument("--count", type=int, default=1, help="connections to serve")
    s.add_argument("--timeout", type=float, default=30)
    c = sub.add_parser("client")
    c.add_argument("--connect", required=True)
    c.add_argument("--port", type=int, default=5001)
    c.add_argument("--up", type=int, default=1_000_000, help="octets to upload")
    c.add_argument("--down", type=int, default=1_000_000, help="octets to download")
    c.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    try:
        if a.mode == "server":
            server(a)
            return 0
        return client(a)
    except (OSError, EOFError) as e:
        print(f"tcp_check {a.mode}: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
