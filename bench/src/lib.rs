//! Shared pieces of the benchmarks: the test topology (ports, addresses,
//! MACs, GRE tunnels, bindings), frame builders, a pcap writer, a small
//! PRNG, statistics, `RESULT` lines, callgrind and argument helpers.
//!
//! Nothing here is timed; the binaries in `src/bin` are the benchmarks.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

use dataplane::addrs::{Ipv4Cidr, PortAddrs};
use dataplane::fib::{FibEntry, FibKey, FibWriter};
use dataplane::route::{ForwardingState, Route};
use dataplane::tunnel::{Tunnel, TunnelKind, TunnelSpec};
use dataplane::wire::{checksum, MacAddr};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, Error>;

// ---------------------------------------------------------------------------
// Topology
// ---------------------------------------------------------------------------

/// Port indices: the transport side (tunnels) and the home/internet side.
pub const CORE: usize = 0;
pub const HOME: usize = 1;
/// Churn benchmark only: where tunnels of bindings outside the traffic set
/// lead, so that a packet sent there is visibly misrouted.
pub const TRAP: usize = 2;

/// The MAC `net_pcap` gives its n-th device: 02:70:63:61:70:<n> ("pcap").
pub fn pcap_mac(n: u8) -> MacAddr {
    MacAddr([0x02, 0x70, 0x63, 0x61, 0x70, n])
}

/// Our tunnel address (core side) and home-side address.
pub const CORE_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const HOME_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// The correspondent: source of downlink traffic, destination of uplink.
pub const CN: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
pub const CN_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0x02, 0x02]);
/// MAGs / foreign agents the tunnels lead to.
pub const PEERS: usize = 4;
/// GRE tunnels of the throughput benchmarks; binding i uses tunnel i % TUNNELS.
pub const TUNNELS: usize = 8;

pub fn peer(p: usize) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, 10 + (p % 200) as u8)
}

pub fn peer_mac(p: usize) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, 0x01, (p % 256) as u8])
}

/// Home addresses: 10.0.0.0 + i (10.0.0.0/8, room for 16M bindings).
pub const HOA_BASE: u32 = 0x0a00_0000;

pub fn hoa(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(HOA_BASE + i)
}

pub fn hoa_key(i: u32) -> FibKey {
    FibKey::V4 { vrf: 0, addr: hoa(i) }
}

/// The binding number of a home address.
pub fn hoa_index(a: [u8; 4]) -> Option<u32> {
    u32::from_be_bytes(a).checked_sub(HOA_BASE).filter(|i| *i < 1 << 24)
}

/// One GRE-with-key tunnel over IPv4 to peer `p`, leaving by `port`
/// (a port whose MAC is `src_mac`), next hop resolved.
pub fn gre_tunnel(p: usize, key_in: u32, key_out: u32, port: usize, src_mac: MacAddr) -> Tunnel {
    let spec = TunnelSpec {
        kind: TunnelKind::Gre,
        local: IpAddr::V4(CORE_ADDR),
        remote: IpAddr::V4(peer(p)),
        key_in: Some(key_in),
        key_out: Some(key_out),
        local_port: 0,
        peer_port: 0,
        port,
        dscp: None,
        ttl: 64,
        ecn_compat: false,
        path_mtu: 1500,
        ipv6_over_ipv4_mtu: 1280,
        nested: false,
    };
    Tunnel::new(spec, src_mac, Some(peer_mac(p)))
}

/// Tunnel `t` of the throughput benchmarks: (peer, key_in, key_out).
pub fn plain_tunnel(t: usize) -> (usize, u32, u32) {
    (t % PEERS, 0x100 + t as u32, 0x200 + t as u32)
}

/// The addresses of the benchmark ports, with their MACs.
pub fn port_addrs(macs: &[MacAddr]) -> Vec<PortAddrs> {
    macs.iter()
        .enumerate()
        .map(|(i, mac)| {
            let v4 = match i {
                CORE => vec![Ipv4Cidr { addr: CORE_ADDR, prefix_len: 24 }],
                HOME => vec![Ipv4Cidr { addr: HOME_ADDR, prefix_len: 24 }],
                _ => vec![Ipv4Cidr { addr: Ipv4Addr::new(203, 0, 113, i as u8), prefix_len: 32 }],
            };
            PortAddrs::new(*mac, v4, vec![])
        })
        .collect()
}

/// Static forwarding state: `tunnels`, the home subnet on-link on HOME with
/// the correspondent's MAC resolved, our MACs. Nothing punts.
pub fn forwarding_state(tunnels: Vec<Option<Tunnel>>, macs: &[MacAddr]) -> ForwardingState {
    let mut s = ForwardingState {
        tunnels: tunnels.into_iter().collect(),
        routes: vec![Route { prefix: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 0)), len: 24, port: HOME, via: None }],
        neighbors: vec![(HOME, IpAddr::V4(CN), CN_MAC)],
        port_macs: macs.to_vec(),
        // The home addresses' pool, as a daemon publishes it.
        mobile: vec![(IpAddr::V4(Ipv4Addr::from(HOA_BASE)), 8)],
    };
    s.sort_routes();
    s
}

/// The throughput benchmarks' state: `TUNNELS` GRE tunnels on CORE.
pub fn plain_state(macs: &[MacAddr]) -> ForwardingState {
    let tunnels = (0..TUNNELS)
        .map(|t| {
            let (p, key_in, key_out) = plain_tunnel(t);
            Some(gre_tunnel(p, key_in, key_out, CORE, macs[CORE]))
        })
        .collect();
    forwarding_state(tunnels, macs)
}

/// Fills `fib` with bindings 0..n, binding i on tunnel i % TUNNELS.
pub fn fill_plain(fib: &mut FibWriter, n: u32) -> Res<()> {
    for i in 0..n {
        fib.insert(hoa_key(i), FibEntry { session: i, tunnel: i % TUNNELS as u32 })
            .map_err(|e| format!("binding {i}: {e}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------

/// Downlink frame: Ethernet + IPv4 (46 bytes: UDP with 18 bytes of payload),
/// 60 bytes in all (a minimum-size frame).
pub const DOWN_LEN: usize = 60;
/// Uplink frame: Ethernet + outer IPv4 + GRE with key + the same inner packet.
pub const UP_LEN: usize = 14 + 20 + 8 + 46;
const INNER_LEN: usize = 46;

fn ethernet(f: &mut [u8], dst: MacAddr, src: MacAddr) {
    f[0..6].copy_from_slice(&dst.0);
    f[6..12].copy_from_slice(&src.0);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
}

fn ipv4(h: &mut [u8], total_len: usize, proto: u8, src: Ipv4Addr, dst: Ipv4Addr, id: u16) {
    h[0] = 0x45;
    h[1] = 0;
    h[2..4].copy_from_slice(&(total_len as u16).to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&[0, 0]);
    h[8] = 64;
    h[9] = proto;
    h[10..12].copy_from_slice(&[0, 0]);
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = checksum::fold(checksum::sum(&h[..20]));
    h[10..12].copy_from_slice(&c.to_be_bytes());
}

/// IPv4 + UDP (no checksum) + 18 bytes, `INNER_LEN` bytes.
fn inner(p: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, id: u16) {
    ipv4(p, INNER_LEN, 17, src, dst, id);
    p[20..22].copy_from_slice(&1234u16.to_be_bytes());
    p[22..24].copy_from_slice(&5678u16.to_be_bytes());
    p[24..26].copy_from_slice(&((INNER_LEN - 20) as u16).to_be_bytes());
    p[26..28].copy_from_slice(&[0, 0]);
}

/// A packet from the correspondent to home address `dst`, arriving on the
/// home port (`dst_mac`).
pub fn downlink_frame(dst_mac: MacAddr, dst: Ipv4Addr, id: u16) -> [u8; DOWN_LEN] {
    let mut f = [0u8; DOWN_LEN];
    ethernet(&mut f, dst_mac, CN_MAC);
    inner(&mut f[14..], CN, dst, id);
    f
}

/// A packet from mobile node `src` (a home address) to the correspondent,
/// tunnelled by peer `p` with GRE key `key`, arriving on the core port.
pub fn uplink_frame(dst_mac: MacAddr, p: usize, key: u32, src: Ipv4Addr, id: u16) -> [u8; UP_LEN] {
    let mut f = [0u8; UP_LEN];
    ethernet(&mut f, dst_mac, peer_mac(p));
    ipv4(&mut f[14..], UP_LEN - 14, 47, peer(p), CORE_ADDR, id);
    f[34..36].copy_from_slice(&0x2000u16.to_be_bytes());
    f[36..38].copy_from_slice(&0x0800u16.to_be_bytes());
    f[38..42].copy_from_slice(&key.to_be_bytes());
    inner(&mut f[42..], src, CN, id);
    f
}

/// The frame for binding `i` in direction `down` (ingress port MAC
/// `dst_mac`), with the tunnel plan of the throughput benchmarks.
pub fn plain_frame(down: bool, dst_mac: MacAddr, i: u32, id: u16) -> Vec<u8> {
    if down {
        downlink_frame(dst_mac, hoa(i), id).to_vec()
    } else {
        let (p, key_in, _) = plain_tunnel(i as usize % TUNNELS);
        uplink_frame(dst_mac, p, key_in, hoa(i), id).to_vec()
    }
}

/// Which bindings the packets go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Every packet to the same binding.
    Hot,
    /// Uniformly random over all bindings.
    Random,
}

impl Keys {
    pub fn parse(s: &str) -> Res<Keys> {
        match s {
            "hot" => Ok(Keys::Hot),
            "random" => Ok(Keys::Random),
            _ => Err(format!("keys must be hot or random, not {s:?}").into()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Keys::Hot => "hot",
            Keys::Random => "random",
        }
    }
}

/// `count` binding numbers below `bindings`.
pub fn destinations(keys: Keys, bindings: u32, count: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| match keys {
            Keys::Hot => bindings / 2,
            Keys::Random => rng.below(bindings as usize) as u32,
        })
        .collect()
}

/// Writes a classic pcap file (microsecond timestamps, Ethernet).
pub fn write_pcap<'a>(path: &Path, frames: impl IntoIterator<Item = &'a [u8]>) -> Res<()> {
    let mut w = BufWriter::new(std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?);
    w.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    w.write_all(&2u16.to_le_bytes())?;
    w.write_all(&4u16.to_le_bytes())?;
    w.write_all(&0i32.to_le_bytes())?;
    w.write_all(&0u32.to_le_bytes())?;
    w.write_all(&65535u32.to_le_bytes())?;
    w.write_all(&1u32.to_le_bytes())?;
    for (n, f) in frames.into_iter().enumerate() {
        let len = f.len() as u32;
        w.write_all(&(n as u32 / 1_000_000).to_le_bytes())?;
        w.write_all(&(n as u32 % 1_000_000).to_le_bytes())?;
        w.write_all(&len.to_le_bytes())?;
        w.write_all(&len.to_le_bytes())?;
        w.write_all(f)?;
    }
    w.flush()?;
    Ok(())
}

/// `bench/out`, created if missing (git-ignored: everything generated goes there).
pub fn out_dir() -> Res<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("out");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/// SplitMix64: reproducible per seed, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The median (mean of the middle two for an even count); NaN when empty.
pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Prints a machine-readable result line that `run.sh` collects for the
/// report: `RESULT <id> <value> <unit>`.
pub fn result(id: &str, value: f64, unit: &str) {
    println!("RESULT {id} {value:.4} {unit}");
}

// ---------------------------------------------------------------------------
// Callgrind
// ---------------------------------------------------------------------------

/// Runs `program args` under `valgrind --tool=callgrind` with `extra`
/// options, and returns the instructions it counted (the `summary:` line)
/// and its standard output.
pub fn callgrind(program: &Path, args: &[String], extra: &[&str], tag: &str) -> Res<(u64, String)> {
    let out = out_dir()?.join(format!("callgrind.{tag}.out"));
    let mut cmd = Command::new("valgrind");
    cmd.args(["--tool=callgrind", "--fair-sched=yes"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .args(extra);
    cmd.arg(program).args(args);
    let output = cmd.output().map_err(|e| format!("valgrind: {e} (apt-get install -y valgrind)"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("callgrind {tag} failed: {}\n{stdout}\n{stderr}", output.status).into());
    }
    Ok((summary_ir(&out)?, stdout))
}

/// The `summary:` (or `totals:`) instruction count of a callgrind output file.
pub fn summary_ir(path: &Path) -> Res<u64> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("{}: no summary line", path.display()).into())
}

/// Instructions per function of a callgrind output file (self cost, code
/// inlined into a function counted for it), from `callgrind_annotate`.
/// Functions without symbols are named by their object file and address.
pub fn per_function(path: &Path) -> Res<HashMap<String, u64>> {
    let out = Command::new("callgrind_annotate")
        .args(["--threshold=100", "--auto=no"])
        .arg(path)
        .output()
        .map_err(|e| format!("callgrind_annotate: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut per = HashMap::new();
    let mut started = false;
    for line in text.lines() {
        if line.contains("file:function") {
            started = true;
            continue;
        }
        let Some((count, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Ok(n) = count.replace(',', "").parse::<u64>() else {
            continue;
        };
        if !started {
            continue;
        }
        // "(12.34%)  file:function [object]"
        let rest = rest.trim_start();
        let rest = rest.strip_prefix('(').and_then(|r| r.split_once(')')).map_or(rest, |(_, r)| r).trim();
        let (place, object) = match rest.rsplit_once(" [") {
            Some((p, o)) => (p.trim(), o.trim_end_matches(']')),
            None => (rest, ""),
        };
        let function = place.split_once(':').map_or(place, |(_, f)| f);
        let name = if function.starts_with("0x") {
            let obj = object.rsplit('/').next().unwrap_or(object);
            format!("{obj} {function}")
        } else {
            function.to_string()
        };
        *per.entry(name).or_insert(0) += n;
    }
    Ok(per)
}

/// The value of `RESULT <id> <value>` in a child's output.
pub fn find_result(stdout: &str, id: &str) -> Option<f64> {
    stdout.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some("RESULT") && w.next() == Some(id)).then(|| w.next()?.parse().ok())?
    })
}

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

/// `--key value` pairs and bare `--flag`s after an optional subcommand.
#[derive(Debug, Default)]
pub struct Args {
    pub command: Option<String>,
    values: HashMap<String, String>,
}

impl Args {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Res<Args> {
        let mut a = Args::default();
        let mut it = args.into_iter().peekable();
        if let Some(first) = it.peek() {
            if !first.starts_with("--") {
                a.command = it.next();
            }
        }
        while let Some(k) = it.next() {
            let Some(key) = k.strip_prefix("--") else {
                return Err(format!("unexpected argument {k:?}").into());
            };
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().unwrap_or_default(),
                _ => "true".to_string(),
            };
            a.values.insert(key.to_string(), value);
        }
        Ok(a)
    }

    pub fn str(&self, key: &str, default: &str) -> String {
        self.values.get(key).cloned().unwrap_or_else(|| default.to_string())
    }

    pub fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Res<T> {
        match self.values.get(key) {
            None => Ok(default),
            Some(v) => v.replace('_', "").parse().map_err(|_| format!("--{key}: not a number: {v:?}").into()),
        }
    }

    pub fn flag(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|v| v != "false")
    }
}

/// Parses a size like `1000`, `1k`, `64k`, `1M`.
pub fn parse_count(s: &str) -> Res<u32> {
    let s = s.trim();
    let (digits, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1_000),
        Some('M') => (&s[..s.len() - 1], 1_000_000),
        _ => (s, 1),
    };
    let n: u32 = digits.parse().map_err(|_| format!("not a count: {s:?}"))?;
    n.checked_mul(mult).ok_or_else(|| format!("count too large: {s:?}").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataplane::pipeline::{classify, Verdict};

    #[test]
    fn frames_classify_as_the_benchmarks_expect() {
        let macs = [pcap_mac(0), pcap_mac(1)];
        let addrs = port_addrs(&macs);
        let f = downlink_frame(macs[HOME], hoa(7), 1);
        assert!(matches!(classify(&f, &addrs[HOME]), Verdict::Downlink { dst, .. } if dst == IpAddr::V4(hoa(7))));
        let f = uplink_frame(macs[CORE], 1, 0x101, hoa(9), 1);
        match classify(&f, &addrs[CORE]) {
            Verdict::Uplink(up) => {
                assert_eq!(up.inner_src, IpAddr::V4(hoa(9)));
                assert_eq!(up.key, Some(0x101));
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn counts_and_args_parse() {
        assert_eq!(parse_count("1M").unwrap(), 1_000_000);
        assert_eq!(parse_count("64k").unwrap(), 64_000);
        let a = Args::parse(["tput", "--dir", "down", "--quick"].map(String::from)).unwrap();
        assert_eq!(a.command.as_deref(), Some("tput"));
        assert_eq!(a.str("dir", "up"), "down");
        assert!(a.flag("quick"));
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
