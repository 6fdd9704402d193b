//! Golden packets from independent tools (ORACLES.md): every encapsulation
//! must emit, byte for byte, the frame scapy builds for it, and tshark must
//! decode that frame with the fields PROTOCOLS.md §12 asks for; every
//! decapsulation must accept the scapy-built uplink of its tunnel, strip it to
//! the inner packet one hop older, and refuse each spoofed variant (§12.6).
//!
//! The vectors live in `testdata/` and are regenerated with
//! `/usr/bin/python3 dataplane/src/tunnel/testdata/make_golden.py`, which
//! documents each file. tshark is required: `scripts/setup.sh` installs it.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::Command;

use super::decap::{self, Outer};
use super::encap::encapsulate;
use super::{Tunnel, TunnelKind, TunnelSpec};
use crate::counters::DropReason;
use crate::port::mem::MemBuf;
use crate::port::{PacketBuf, PortId};
use crate::wire::MacAddr;

const ANCHOR_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const NEXT_HOP_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
const CN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 3]);

/// Outer IPv4 Identification the goldens carry (make_golden.py ID_DOWN / ID_UP).
const ID_DOWN: u16 = 0x1001;
const ID_UP: u16 = 0x2002;
/// GRE keys: the peer's choice for the downlink, our allocation for the uplink.
const KEY_OUT: u32 = 200;
const KEY_IN: u32 = 100;

/// One tunnel configuration and inner family, with its two vector files.
struct Case {
    name: &'static str,
    kind: TunnelKind,
    outer_v4: bool,
    inner_v4: bool,
    /// `down_<name>.hex`: `input` (received frame) and `output` (golden).
    down: &'static str,
    /// `up_<name>.hex`: `uplink`, `decapsulated`, then `spoof-*`.
    up: &'static str,
}

macro_rules! case {
    ($name:literal, $kind:ident, $outer:literal, $inner:literal) => {
        Case {
            name: $name,
            kind: TunnelKind::$kind,
            outer_v4: $outer == 4,
            inner_v4: $inner == 4,
            down: include_str!(concat!("testdata/down_", $name, ".hex")),
            up: include_str!(concat!("testdata/up_", $name, ".hex")),
        }
    };
}

const CASES: [Case; 14] = [
    case!("ipip_o4_i4", IpIp, 4, 4),
    case!("ipip_o4_i6", IpIp, 4, 6),
    case!("ipip_o6_i4", IpIp, 6, 4),
    case!("ipip_o6_i6", IpIp, 6, 6),
    case!("gre_o4_i4", Gre, 4, 4),
    case!("gre_o4_i6", Gre, 4, 6),
    case!("gre_o6_i4", Gre, 6, 4),
    case!("gre_o6_i6", Gre, 6, 6),
    case!("udp_o4_i4", Udp, 4, 4),
    case!("udp_o4_i6", Udp, 4, 6),
    case!("udptlv_o4_i4", UdpTlv, 4, 4),
    case!("udptlv_o4_i6", UdpTlv, 4, 6),
    case!("mipudp_o4_i4", MipUdp, 4, 4),
    case!("mipudp_o4_i6", MipUdp, 4, 6),
];

impl Case {
    fn anchor(&self) -> IpAddr {
        if self.outer_v4 {
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
        } else {
            "2001:db8:1::1".parse().unwrap()
        }
    }

    fn peer(&self) -> IpAddr {
        if self.outer_v4 {
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))
        } else {
            "2001:db8:1::2".parse().unwrap()
        }
    }

    /// GRE over IPv4 and UDP-TLV are keyed; GRE over IPv6 is not.
    fn keyed(&self) -> bool {
        self.kind == TunnelKind::UdpTlv || (self.kind == TunnelKind::Gre && self.outer_v4)
    }

    /// (our UDP port, the peer's UDP port).
    fn ports(&self) -> (u16, u16) {
        match self.kind {
            TunnelKind::MipUdp => (434, 1434),
            _ => (5437, 5437),
        }
    }

    fn uses_udp(&self) -> bool {
        matches!(self.kind, TunnelKind::Udp | TunnelKind::UdpTlv | TunnelKind::MipUdp)
    }

    /// The anchor's side of the tunnel, in normal (copy) DSCP/ECN mode.
    fn tunnel(&self) -> Tunnel {
        let (local_port, peer_port) = self.ports();
        let spec = TunnelSpec {
            kind: self.kind,
            local: self.anchor(),
            remote: self.peer(),
            key_in: self.keyed().then_some(KEY_IN),
            key_out: self.keyed().then_some(KEY_OUT),
            local_port,
            peer_port,
            port: 0,
            dscp: None,
            ttl: 64,
            ecn_compat: false,
            path_mtu: 1500,
            ipv6_over_ipv4_mtu: 1280,
            nested: false,
        };
        Tunnel::new(spec, ANCHOR_MAC, Some(NEXT_HOP_MAC))
    }

    /// The mobile node's address: inner destination down, inner source up.
    fn mobile_node(&self) -> IpAddr {
        if self.inner_v4 {
            IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10))
        } else {
            "2001:db8:100:1::100".parse().unwrap()
        }
    }

    fn correspondent(&self) -> IpAddr {
        if self.inner_v4 {
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2))
        } else {
            "2001:db8:2::2".parse().unwrap()
        }
    }

    /// The spoofed variants make_golden.py must have written for this case.
    fn spoof_labels(&self) -> Vec<String> {
        let mut v = vec!["spoof-source".to_string()];
        if self.keyed() {
            v.push("spoof-key".into());
            v.push("spoof-no-key".into());
        } else if self.kind == TunnelKind::Gre {
            v.push("spoof-unexpected-key".into());
        }
        if self.uses_udp() {
            v.push("spoof-sport".into());
            v.push("spoof-dport".into());
        }
        let others: &[&str] =
            if self.outer_v4 { &["ipip", "gre", "udp", "udptlv", "mipudp"] } else { &["ipip", "gre"] };
        let own = self.name.split('_').next().unwrap_or_default();
        v.extend(others.iter().filter(|k| **k != own).map(|k| format!("spoof-kind-{k}")));
        v
    }
}

fn testdata(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/tunnel/testdata").join(file)
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit")).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The `label hex` lines of a vector file, in order.
fn vectors(text: &str) -> Vec<(&str, Vec<u8>)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (label, h) = l.split_once(' ').expect("`label hex` line");
            (label, unhex(h.trim()))
        })
        .collect()
}

fn vector(text: &str, label: &str) -> Vec<u8> {
    vectors(text).into_iter().find(|(l, _)| *l == label).map(|(_, b)| b).unwrap_or_else(|| panic!("no {label}"))
}

/// The frames of a classic little-endian pcap file (what scapy writes).
fn pcap_frames(file: &[u8]) -> Vec<Vec<u8>> {
    let u32_at = |o: usize| u32::from_le_bytes([file[o], file[o + 1], file[o + 2], file[o + 3]]) as usize;
    assert_eq!(u32_at(0), 0xa1b2_c3d4, "pcap magic");
    assert_eq!(u32_at(20), 1, "link type Ethernet");
    let mut frames = Vec::new();
    let mut o = 24;
    while o < file.len() {
        let caplen = u32_at(o + 8);
        assert_eq!(caplen, u32_at(o + 12), "frame not truncated");
        frames.push(file[o + 16..o + 16 + caplen].to_vec());
        o += 16 + caplen;
    }
    frames
}

/// Where two frames first differ, for a readable failure.
fn diff(got: &[u8], want: &[u8]) -> Option<String> {
    if got == want {
        return None;
    }
    let at = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
    Some(format!(
        "first difference at octet {at} (got {} octets, want {})\n   got {}\n  want {}",
        got.len(),
        want.len(),
        hex(got),
        hex(want)
    ))
}

/// What the anchor's IP input has validated before `decap::parse`: outer
/// source, protocol / next header, payload offset and length, TOS.
fn parse_uplink(f: &[u8]) -> Result<Outer, DropReason> {
    if f[14] >> 4 == 4 {
        let ihl = usize::from(f[14] & 0x0f) * 4;
        let src = IpAddr::V4(Ipv4Addr::new(f[26], f[27], f[28], f[29]));
        let len = usize::from(u16::from_be_bytes([f[16], f[17]]));
        decap::parse(f, src, f[23], 14 + ihl, len - ihl, f[15])
    } else {
        let mut a = [0u8; 16];
        a.copy_from_slice(&f[22..38]);
        let len = usize::from(u16::from_be_bytes([f[18], f[19]]));
        let tc = (f[14] << 4) | (f[15] >> 4);
        decap::parse(f, IpAddr::V6(Ipv6Addr::from(a)), f[20], 54, len, tc)
    }
}

#[test]
fn every_encapsulation_emits_its_scapy_golden_byte_for_byte() {
    let mut failures = Vec::new();
    for c in &CASES {
        let t = c.tunnel();
        let mut b = MemBuf::from_frame(PortId(0), &vector(c.down, "input"));
        let mut ip_id = ID_DOWN - 1; // pre-incremented per packet
        match encapsulate(&mut b, 14, &t, &mut ip_id) {
            Ok(()) => {
                if let Some(d) = diff(b.data(), &vector(c.down, "output")) {
                    failures.push(format!("{}: {d}", c.name));
                }
                if c.outer_v4 && ip_id != ID_DOWN {
                    failures.push(format!("{}: IPv4 ID counter at {ip_id:#06x}", c.name));
                }
            }
            Err(e) => failures.push(format!("{}: {e:?}", c.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_checked_in_pcaps_hold_exactly_the_hex_vectors() {
    for c in &CASES {
        for (dir, text) in [("down", c.down), ("up", c.up)] {
            let file = format!("{dir}_{}.pcap", c.name);
            let frames = pcap_frames(&std::fs::read(testdata(&file)).expect("read pcap"));
            let want: Vec<Vec<u8>> = if dir == "down" {
                vec![vector(text, "output")]
            } else {
                vectors(text).into_iter().map(|(_, b)| b).collect()
            };
            assert_eq!(frames, want, "{file}");
        }
    }
}

#[test]
fn every_uplink_golden_is_accepted_by_its_tunnel_and_decapsulated_one_hop_older() {
    for c in &CASES {
        let t = c.tunnel();
        let f = vector(c.up, "uplink");
        let Ok(Outer::Tunnel(up)) = parse_uplink(&f) else { panic!("{}: not parsed as a tunnel packet", c.name) };
        assert_eq!(up.kind, c.kind, "{}", c.name);
        assert_eq!(up.inner_src, c.mobile_node(), "{}", c.name);
        assert_eq!(up.key, c.keyed().then_some(KEY_IN), "{}", c.name);
        assert!(decap::matches(&t, &up), "{}: refused {up:?}", c.name);
        let mut b = MemBuf::from_frame(PortId(0), &f);
        decap::decapsulate(&mut b, &up, ANCHOR_MAC, CN_MAC).unwrap_or_else(|e| panic!("{}: {e:?}", c.name));
        if let Some(d) = diff(b.data(), &vector(c.up, "decapsulated")) {
            panic!("{}: decapsulated frame: {d}", c.name);
        }
    }
}

#[test]
fn every_spoofed_uplink_variant_is_refused() {
    for c in &CASES {
        let t = c.tunnel();
        let spoofs: Vec<_> = vectors(c.up).into_iter().filter(|(l, _)| l.starts_with("spoof-")).collect();
        let labels: Vec<String> = spoofs.iter().map(|(l, _)| l.to_string()).collect();
        assert_eq!(labels, c.spoof_labels(), "{}: variants in up_{}.hex", c.name, c.name);
        for (label, f) in spoofs {
            let verdict = parse_uplink(&f);
            // Each variant is a well-formed tunnel packet, so what refuses it
            // is the §12.6 check, not a parse error; the one exception is MIP
            // tunnel data to a port other than 434, which reads as a bad TLV.
            if !(c.kind == TunnelKind::MipUdp && label == "spoof-dport") {
                assert!(matches!(verdict, Ok(Outer::Tunnel(_))), "{} {label}: {verdict:?}", c.name);
            }
            let accepted = matches!(verdict, Ok(Outer::Tunnel(up)) if decap::matches(&t, &up));
            assert!(!accepted, "{} {label}: accepted ({verdict:?})", c.name);
        }
    }
}

/// Who sends: the anchor (downlink golden) or the peer (uplink golden).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Down,
    Up,
}

/// The tshark fields of the first frame of `<dir>_<case>.pcap`, as numbers
/// where they are numbers, from PROTOCOLS.md §12 and our TunnelSpec, never
/// from the Rust encapsulation. A layer that is absent expects "".
fn expected_fields(c: &Case, dir: Dir) -> Vec<(&'static str, String)> {
    let tos: u8 = if c.inner_v4 { 0xb9 } else { 0xba };
    let inner_len = if c.inner_v4 { 20 + 8 + 13 } else { 40 + 8 + 13 };
    let gre_len = if c.keyed() { 8 } else { 4 };
    // Octets between the outer IP header and the inner packet.
    let tunnel_hdr = match c.kind {
        TunnelKind::IpIp => 0,
        TunnelKind::Gre => gre_len,
        TunnelKind::Udp => 8,
        TunnelKind::UdpTlv => 8 + 4 + gre_len,
        TunnelKind::MipUdp => 8 + 4,
    };
    let ipip = if c.inner_v4 { 4 } else { 41 };
    let outer_proto = match c.kind {
        TunnelKind::IpIp => ipip,
        TunnelKind::Gre => 47,
        _ => 17,
    };
    let down = dir == Dir::Down;
    let (mut osrc, mut odst) = (c.anchor(), c.peer());
    let (mut isrc, mut idst) = (c.correspondent(), c.mobile_node());
    let (mut eth_src, mut eth_dst) = ("02:00:00:00:00:01", "02:00:00:00:00:02");
    let (mut sport, mut dport) = c.ports();
    if !down {
        (osrc, odst, isrc, idst) = (odst, osrc, idst, isrc);
        (eth_src, eth_dst) = (eth_dst, eth_src);
        (sport, dport) = (dport, sport);
    }
    let inner_ttl = if down { 63 } else { 64 };
    let key = if down { KEY_OUT } else { KEY_IN };

    // Per-layer values, outer first, joined like tshark's aggregator.
    let (mut ip, mut ip6) = (Vec::new(), Vec::new());
    if c.outer_v4 {
        let df = u8::from(c.inner_v4);
        let id = if down { ID_DOWN } else { ID_UP };
        ip.push(v4_layer(osrc, odst, tos, 20 + tunnel_hdr + inner_len, id, df, 64, outer_proto));
    } else {
        ip6.push(v6_layer(osrc, odst, tos, tunnel_hdr + inner_len, outer_proto, 64));
    }
    if c.inner_v4 {
        ip.push(v4_layer(isrc, idst, tos, inner_len, 0x1234, 1, inner_ttl, 1));
    } else {
        ip6.push(v6_layer(isrc, idst, tos, inner_len - 40, 58, inner_ttl));
    }
    let join = |n: usize, layers: &[Vec<String>]| layers.iter().map(|l| l[n].as_str()).collect::<Vec<_>>().join(";");

    let gre = matches!(c.kind, TunnelKind::Gre | TunnelKind::UdpTlv);
    let udp = c.uses_udp();
    let mip = c.kind == TunnelKind::MipUdp;
    let when = |cond: bool, v: String| if cond { v } else { String::new() };
    let mut f: Vec<(&'static str, String)> = vec![("eth.src", eth_src.into()), ("eth.dst", eth_dst.into())];
    f.extend(V4_FIELDS.iter().enumerate().map(|(n, name)| (*name, join(n, &ip))));
    f.extend(V6_FIELDS.iter().enumerate().map(|(n, name)| (*name, join(n, &ip6))));
    f.extend([
        ("gre.flags_and_version", when(gre, if c.keyed() { "0x2000" } else { "0x0000" }.into())),
        ("gre.key", when(gre && c.keyed(), key.to_string())),
        ("gre.proto", when(gre, if c.inner_v4 { "0x0800" } else { "0x86dd" }.into())),
        ("udp.srcport", when(udp, sport.to_string())),
        ("udp.dstport", when(udp, dport.to_string())),
        ("udp.length", when(udp, (tunnel_hdr + inner_len).to_string())),
        ("udp.checksum", when(udp, "0".into())),
        // 3 = "Not present": a zero UDP checksum over IPv4 (§12.2).
        ("udp.checksum.status", when(udp, "3".into())),
        ("mip.type", when(mip, "4".into())),
        ("mip.nattt.nexthdr", when(mip, ipip.to_string())),
        ("mip.nattt.reserved", when(mip, "0".into())),
        ("icmp.type", when(c.inner_v4, "8".into())),
        ("icmp.checksum.status", when(c.inner_v4, "1".into())),
        ("icmpv6.type", when(!c.inner_v4, "128".into())),
        ("icmpv6.checksum.status", when(!c.inner_v4, "1".into())),
        ("data.data", hex(b"anchor-golden")),
        ("_ws.malformed", String::new()),
        ("_ws.expert.severity", String::new()),
    ]);
    if c.kind == TunnelKind::UdpTlv {
        // Fields of testdata/udp_tlv.lua (PROTOCOLS.md §5.3).
        f.extend([
            ("anchor_tlv.type", "0".into()),
            ("anchor_tlv.reserved", "0".into()),
            ("anchor_tlv.nexthdr", "47".into()),
            ("anchor_tlv.length", (gre_len + inner_len).to_string()),
        ]);
    }
    f
}

const V4_FIELDS: [&str; 11] = [
    "ip.src",
    "ip.dst",
    "ip.hdr_len",
    "ip.dsfield",
    "ip.len",
    "ip.id",
    "ip.flags.df",
    "ip.flags.mf",
    "ip.ttl",
    "ip.proto",
    "ip.checksum.status",
];

/// One IPv4 header's values in `V4_FIELDS` order (no fragment, checksum good).
#[allow(clippy::too_many_arguments)]
fn v4_layer(src: IpAddr, dst: IpAddr, tos: u8, len: usize, id: u16, df: u8, ttl: u8, proto: u8) -> Vec<String> {
    let n = |v: usize| v.to_string();
    vec![
        src.to_string(),
        dst.to_string(),
        n(20),
        n(tos.into()),
        n(len),
        n(id.into()),
        n(df.into()),
        n(0),
        n(ttl.into()),
        n(proto.into()),
        n(1),
    ]
}

const V6_FIELDS: [&str; 8] =
    ["ipv6.version", "ipv6.src", "ipv6.dst", "ipv6.tclass", "ipv6.flow", "ipv6.plen", "ipv6.nxt", "ipv6.hlim"];

/// One IPv6 header's values in `V6_FIELDS` order (flow label 0).
fn v6_layer(src: IpAddr, dst: IpAddr, tc: u8, plen: usize, nxt: u8, hlim: u8) -> Vec<String> {
    let n = |v: usize| v.to_string();
    vec![n(6), src.to_string(), dst.to_string(), n(tc.into()), n(0), n(plen), n(nxt.into()), n(hlim.into())]
}

/// tshark's text for one field, every occurrence normalised: hex and
/// booleans become decimal numbers, the rest (addresses, bytes) stays text.
fn normalise(v: &str) -> Vec<String> {
    v.split(';')
        .map(|x| match x {
            "True" => "1".to_string(),
            "False" => "0".to_string(),
            _ => match x.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).map_or_else(|_| x.to_string(), |n| n.to_string()),
                None => x.to_string(),
            },
        })
        .collect()
}

/// A classic pcap file (Ethernet) holding `frames`, for tshark's stdin.
fn pcap_file(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        for word in [i as u32, 0, f.len() as u32, f.len() as u32] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    out
}

/// Runs tshark once over `frames` and returns each frame's field values.
/// One run for many frames: tshark takes a third of a second to start.
fn tshark(frames: &[Vec<u8>], udp_tlv: bool, fields: &[&str]) -> Vec<Vec<String>> {
    use std::io::Write;
    use std::process::Stdio;

    let mut cmd = Command::new("tshark");
    cmd.args(["-r", "-", "-n", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]);
    if udp_tlv {
        cmd.arg("-X").arg(format!("lua_script:{}", testdata("udp_tlv.lua").display()));
    } else {
        cmd.args(["-d", "udp.port==5437,ip"]); // not bound by default (ORACLES.md §1)
    }
    cmd.args(["-T", "fields", "-E", "separator=,", "-E", "aggregator=;", "-E", "header=n"]);
    for name in fields {
        cmd.args(["-e", name]);
    }
    let mut child = match cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("tshark not found: run scripts/setup.sh (it installs tshark; CI runs it too)")
        }
        Err(e) => panic!("cannot run tshark: {e}"),
    };
    child.stdin.take().expect("stdin").write_all(&pcap_file(frames)).expect("write to tshark");
    let out = child.wait_with_output().expect("tshark output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed: {stderr}");
    let rows: Vec<Vec<String>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    assert_eq!(rows.len(), frames.len(), "tshark decoded {} of {} frames: {stderr}", rows.len(), frames.len());
    for row in &rows {
        assert_eq!(row.len(), fields.len(), "tshark columns: {row:?}");
    }
    rows
}

#[test]
fn tshark_decodes_every_golden_with_the_expected_fields() {
    let mut failures = Vec::new();
    // UDP-TLV needs the Lua TLV dissector on port 5437, the rest tshark's
    // own IP dissector there: two runs.
    for udp_tlv in [false, true] {
        let goldens: Vec<(String, &Case, Dir)> = CASES
            .iter()
            .filter(|c| (c.kind == TunnelKind::UdpTlv) == udp_tlv)
            .flat_map(|c| {
                [(format!("down_{}.pcap", c.name), c, Dir::Down), (format!("up_{}.pcap", c.name), c, Dir::Up)]
            })
            .collect();
        // The golden frame of each pcap: the only one (down) or the first (up).
        let frames: Vec<Vec<u8>> = goldens
            .iter()
            .map(|(file, ..)| pcap_frames(&std::fs::read(testdata(file)).expect("read pcap")).swap_remove(0))
            .collect();
        let (_, c0, d0) = &goldens[0];
        let names: Vec<&str> = expected_fields(c0, *d0).iter().map(|(n, _)| *n).collect();
        for ((file, c, dir), got) in goldens.iter().zip(tshark(&frames, udp_tlv, &names)) {
            let want = expected_fields(c, *dir);
            assert_eq!(want.iter().map(|(n, _)| *n).collect::<Vec<_>>(), names, "field list");
            for ((name, w), g) in want.iter().zip(&got) {
                if normalise(w) != normalise(g) {
                    failures.push(format!("{file}: {name} = {g:?}, want {w:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "tshark disagrees:\n{}", failures.join("\n"));
}
