#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the scapy-built golden vectors of
control/src/proto/testdata (received.hex and emitted.hex: whole IP packets,
IPv6 next header 135 or IPv4 | UDP 5436 | MH).

    python3 fuzz/seeds.py        # from the repository root; scripts/fuzz.sh runs it

Writes fuzz/corpus/<target>/seed-<label> (git-ignored, rewritten each run):

mh_parse   the Mobility Header alone;
mh_frame   the packet behind an Ethernet header;
pmip6_lma  records `[ctl, len, MH]` (see fuzz_targets/pmip6_lma.rs): each
           message from a listed MAG, and a few short sessions;
classify   the tunnel goldens of dataplane/src/tunnel/testdata (whole frames,
           downlink and uplink, spoofed variants included);
mip4_parse Registration Request / Reply payloads (RFC 5944 §3.3-3.4) with
           NAI, MN-HA authentication, GRE key and UDP tunnel extensions;
mip4_ha    records `[ctl, len, octets]` (see fuzz_targets/mip4_ha.rs): demo
           nodes registering, a draft -01 home address through DAD;
dsmip6_parse records `[ctl, len, octets]` (see fuzz_targets/dsmip6_parse.rs):
           the DSMIPv6 golden Binding Updates of control/src/dsmip6/testdata
           (IPv6 with the Home Address option; IPv4 | UDP 4191 | IPv6), alone
           and in short sessions;
config_load the shipped configs (config/*.toml).
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(ROOT, "control", "src", "proto", "testdata")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")

ETH_V6 = bytes.fromhex("020000000001" "020000000002" "86dd")
ETH_V4 = bytes.fromhex("020000000001" "020000000002" "0800")

# pmip6_lma: `ctl & 7` picks the peer, `ctl >> 3 = k` waits 2^k / 2 ms first.
MAG1_V6, MAG2_V6, MAG1_V4, MAG2_V4 = 0, 1, 2, 3
REVOKE = 7
WAIT_16S = 15 << 3


def vectors():
    for name in ("received.hex", "emitted.hex"):
        with open(os.path.join(TESTDATA, name)) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    label, hexa = line.split()
                    yield f"{name[:-4]}-{label}", bytes.fromhex(hexa)


def split(packet):
    """(is_v6, Mobility Header) of an IP packet."""
    if packet[0] >> 4 == 6:
        return True, packet[40:]
    ihl = (packet[0] & 0x0F) * 4
    return False, packet[ihl + 8:]


HOME_NETWORK_PREFIX, HANDOFF_INDICATOR, TIMESTAMP = 22, 23, 27


def with_option(mh, option_type, data):
    """A Binding Update `mh` with the data of its first `option_type` option replaced."""
    out = bytearray(mh)
    at = 12
    while at + 1 < len(out):
        if out[at] == 0:
            at += 1
            continue
        if out[at] == option_type:
            assert out[at + 1] == len(data)
            out[at + 2:at + 2 + len(data)] = data
            return bytes(out)
        at += 2 + out[at + 1]
    raise ValueError(f"no option {option_type}")


def with_lifetime(mh, lifetime):
    return mh[:10] + lifetime.to_bytes(2, "big") + mh[12:]


def record(ctl, mh):
    return bytes([ctl, min(len(mh), 255)]) + mh[:255]


def write(target, label, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"seed-{label}"), "wb") as f:
        f.write(data)


def main():
    mhs = {}
    for label, packet in vectors():
        v6, mh = split(packet)
        mhs[label] = (v6, mh)
        write("mh_parse", label, mh)
        write("mh_frame", label, (ETH_V6 if v6 else ETH_V4) + packet)
        write("pmip6_lma", label, record(MAG1_V6 if v6 else MAG1_V4, mh))
        write("pmip6_lma", label + "-mag2", record(MAG2_V6 if v6 else MAG2_V4, mh))

    pbu6 = mhs["received-pbu_oracle"][1]
    pbu4 = mhs["received-pbu_oracle_v4"][1]
    # Newer Timestamp options (48.16 fixed point) for the PBUs after the
    # first: the golden one's, Unix 1700000000.5 s, plus the wait before
    # them (WAIT_16S is 16.384 s) or plus 1/65536 s without one.
    ts = (1700000000 << 16) | 0x8000
    wait = (16384 << 16) // 1000

    def stamped(mh, t):
        return with_option(mh, TIMESTAMP, t.to_bytes(8, "big"))

    # HI 5 (handoff state not changed) and the prefix the first PBU got
    # (the first /64 of the demo pool).
    hnp = bytes([0, 64]) + bytes.fromhex("20010db8010000000000000000000000")
    same = with_option(with_option(pbu6, HANDOFF_INDICATOR, bytes([0, 5])), HOME_NETWORK_PREFIX, hnp)
    rereg6 = stamped(same, ts + wait)
    dereg6 = with_lifetime(stamped(same, ts + 2 * wait), 0)
    handoff6 = with_option(stamped(pbu6, ts + 1), HANDOFF_INDICATOR, bytes([0, 3]))  # HI 3: between MAGs
    handoff4 = with_option(stamped(pbu4, ts + 1), HANDOFF_INDICATOR, bytes([0, 3]))
    bra6 = bytearray(mhs["received-bra_v6"][1])
    bra6[8:10] = (1).to_bytes(2, "big")  # the LMA's first BRI has sequence number 1
    sessions = {
        # Registration, re-registration 16 s later, de-registration.
        "session-v6": record(MAG1_V6, pbu6) + record(WAIT_16S | MAG1_V6, rereg6)
        + record(WAIT_16S | MAG1_V6, dereg6),
        # Registration, then a handoff to the other MAG.
        "handoff-v6": record(MAG1_V6, pbu6) + record(MAG2_V6, handoff6),
        "handoff-v4": record(MAG1_V4, pbu4) + record(MAG2_V4, handoff4),
        # Registration, operator revocation, the MAG's BRA.
        "revoke-v6": record(MAG1_V6, pbu6) + record(REVOKE, b"mn1@example.net") + record(MAG1_V6, bytes(bra6)),
        # Registration and heartbeats.
        "heartbeat-v6": record(MAG1_V6, pbu6) + record(WAIT_16S | MAG1_V6, mhs["received-hb_req_v6"][1]),
    }
    for label, data in sessions.items():
        write("pmip6_lma", label, data)


def tunnel_frames():
    d = os.path.join(ROOT, "dataplane", "src", "tunnel", "testdata")
    for name in sorted(os.listdir(d)):
        if name.endswith(".hex"):
            with open(os.path.join(d, name)) as f:
                for line in f:
                    if line.strip() and not line.startswith("#"):
                        label, hexa = line.split()
                        yield f"{name[:-4]}-{label}", bytes.fromhex(hexa)


def mip4_payloads():
    hoa, ha, coa = bytes([203, 0, 113, 10]), bytes([192, 0, 2, 1]), bytes([192, 0, 2, 50])
    ident = (1700000000 << 32).to_bytes(8, "big")
    nai = bytes([131, 13]) + b"mn@anchor.test"[:13]
    auth = bytes([32, 20]) + (256).to_bytes(4, "big") + bytes(16)
    gre_key = bytes([0x87, 4]) + bytes(2) + (100).to_bytes(4, "big")  # RFC 6245 (skippable short form)
    udp_req = bytes([144, 6, 0, 0, 0, 0, 0, 0])  # RFC 3519 UDP Tunnel Request
    rrq = lambda flags, ext: bytes([1, flags]) + (1800).to_bytes(2, "big") + hoa + ha + coa + ident + ext
    rrp = lambda code, ext: bytes([3, code]) + (1800).to_bytes(2, "big") + hoa + ha + ident + ext
    yield "rrq-colocated", rrq(0x04, nai + auth)
    yield "rrq-gre", rrq(0x06, nai + gre_key + auth)
    yield "rrq-udp", rrq(0x04, nai + udp_req + auth)
    yield "rrq-dereg", rrq(0x04, nai + auth).replace((1800).to_bytes(2, "big"), bytes(2), 1)
    yield "rrp-ok", rrp(0, auth)
    yield "rrp-133", rrp(133, auth)
    yield "tunnel-data", bytes([4, 4, 0, 0])


def mip4_ha_sequences():
    """Event records for mip4_ha: demo nodes registering (re-sealed by the
    target), a draft -01 home address through DAD, renewal, de-registration."""
    ha, coa = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 10])
    ntp = lambda t: ((1700000000 + 2208988800 + t) << 32).to_bytes(8, "big")
    nai = lambda n: bytes([131, len(n)]) + n
    auth = lambda spi: bytes([32, 20]) + spi.to_bytes(4, "big") + bytes(16)
    rrq = lambda life, t, ext: bytes([1, 0x04]) + life.to_bytes(2, "big") + bytes(4) + ha + coa + ntp(t) + ext
    draft = bytes([200, 20, 1, 128]) + bytes(15) + bytes([0x42])
    rfc = bytes([152, 18, 1, 64]) + bytes(16)
    rec = lambda ctl, body: bytes([ctl, len(body)]) + body
    dual = lambda life, t, ext: rrq(life, t, nai(b"dual@anchor.test") + ext + auth(4097))
    yield "v4only", rec(4, rrq(600, 0, nai(b"v4only@anchor.test") + auth(4096)))
    yield "dual-draft-dad", (
        rec(4, dual(600, 0, draft)) + rec(6, bytes([0, 0x42])) + rec(8 * 10 + 4, dual(600, 1, draft + rfc))
        + rec(4, dual(0, 2, draft)) + rec(7, b"dual@anchor.test")
    )


def dsmip6_sequences():
    """Event records for dsmip6_parse: the golden BUs as they are (accepted:
    the target's clock starts at their MESG-ID), re-sealed, and a session."""
    path = os.path.join(ROOT, "control", "src", "dsmip6", "testdata", "received.hex")
    with open(path) as f:
        bus = dict(line.split() for line in f if line.strip() and not line.startswith("#"))
    v6, v4 = bytes.fromhex(bus["bu_v6"]), bytes.fromhex(bus["bu_udp4"])
    rec = lambda ctl, body: bytes([ctl, len(body)]) + body
    yield "bu_v6", rec(0, v6)
    yield "bu_udp4", rec(0, v4)
    yield "bu_v6-resealed", rec(1, v6)
    # Register over IPv6, move to IPv4 behind the NAT (re-sealed: a fresh
    # MESG-ID), repeat after about 16 s (135: the same sequence number),
    # then let it expire (2^22 / 2 ms, about 35 min, beyond 400 s).
    yield "session", rec(0, v6) + rec(1, v4) + rec(15 << 3 | 1, v4) + rec(22 << 3, b"")


def more():
    for label, frame in tunnel_frames():
        write("classify", label, frame)
    for label, payload in mip4_payloads():
        write("mip4_parse", label, payload)
    for label, records in mip4_ha_sequences():
        write("mip4_ha", label, records)
    for label, records in dsmip6_sequences():
        write("dsmip6_parse", label, records)
    for name in ("demo.toml", "production.example.toml"):
        with open(os.path.join(ROOT, "config", name), "rb") as f:
            write("config_load", name[:-5], f.read())


if __name__ == "__main__":
    main()
    more()
