//! Signalling rate of the Mobile IPv4 home agent on the control thread:
//! initial registrations and re-registrations per second with up to 1M
//! bindings resident, and resident memory per binding. The real `Ha` state
//! machine (codec, MN-HA HMAC-MD5 check, Identification check, home address
//! pool, binding store and timers, sealed Registration Reply) is fed UDP 434
//! payloads as the socket delivers them; sending and forwarding are not part
//! of the figure. Run: `cargo run --release -p bench --bin mip4 [-- BINDINGS]`.
//! Targets (issue 5, as for the PMIPv6 LMA): >= 100k registrations/s on one
//! core, <= 1 KiB per binding; printed beside the measured values, never
//! asserted.
//!
//! Every mobile node has its own MN-HA association (the home agent has no
//! default one): NAI `mn{i}@bench.test`, SPI 4096, its own HMAC-MD5 key, a
//! co-located care-of address from 100.64.0.0/10, a dynamic home address
//! from 10.0.0.0/8. The associations are added to the validated config
//! directly rather than written as 1M `[[ha.mn]]` tables: validation checks
//! (NAI, SPI) uniqueness with a linear search per entry, quadratic in their
//! number. Their memory (config and the home agent's index) is printed on
//! its own line and is not counted in the per-binding figure.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{AuthAlgorithm, MnSecurityAssociation};
use control::mip4::auth::{seal, SealKey};
use control::mip4::wire::rrq_flags;
use control::mip4::{emit, ntp_of, AuthKind, Extension, Ha, Message, Output, Received, Rrq, MIP4_PORT};

const HA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SPI: u32 = 4096;
/// Co-located care-of addresses: 100.64.0.0/10, one per mobile node.
const COA_BASE: u32 = u32::from_be_bytes([100, 64, 0, 0]);
const MAX_BINDINGS: usize = 1 << 22;

fn nai(i: usize) -> String {
    format!("mn{i}@bench.test")
}

fn key(i: usize) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&(i as u64).to_be_bytes());
    k[8..].copy_from_slice(&(!(i as u64)).to_be_bytes());
    k
}

fn coa(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(COA_BASE + i as u32)
}

fn config(bindings: usize) -> Result<anchor_config::Config, String> {
    let mut cfg: toml::Table = anchor_config::DEMO_TOML.parse().map_err(|e| format!("{e}"))?;
    cfg.remove("binding");
    let section = |cfg: &mut toml::Table, name: &str| -> Result<toml::Table, String> {
        cfg.remove(name).and_then(|v| v.as_table().cloned()).ok_or(format!("the demo config has no [{name}]"))
    };
    let int = |n: usize| toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    let capacity = (bindings * 2).next_power_of_two().max(1 << 20);
    let mut tunnel = section(&mut cfg, "tunnel")?;
    tunnel.insert("fib_capacity".into(), int(capacity));
    cfg.insert("tunnel".into(), toml::Value::Table(tunnel));
    // 16M home addresses, clear of the demo's ports and pools.
    let mut pools = section(&mut cfg, "pools")?;
    let mut slash8 = toml::Table::new();
    slash8.insert("subnet".into(), toml::Value::String("10.0.0.0/8".into()));
    slash8.insert("default_router".into(), toml::Value::String("10.0.0.1".into()));
    let ipv4 = pools.entry("ipv4").or_insert_with(|| toml::Value::Array(Vec::new()));
    if let Some(list) = ipv4.as_array_mut() {
        list.push(toml::Value::Table(slash8));
    }
    cfg.insert("pools".into(), toml::Value::Table(pools));
    let mut ha = section(&mut cfg, "ha")?;
    ha.insert("max_bindings".into(), int(bindings + 16));
    ha.insert("ipv4_pools".into(), toml::Value::Array(vec![toml::Value::String("10.0.0.0/8".into())]));
    cfg.insert("ha".into(), toml::Value::Table(ha));
    let mut cfg =
        anchor_config::parse(&toml::to_string(&cfg).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let ha = cfg.ha.as_mut().ok_or("the config has no [ha]")?;
    ha.mobile_nodes.reserve(bindings);
    for i in 0..bindings {
        ha.mobile_nodes.push(MnSecurityAssociation {
            mn_id: nai(i),
            spi: SPI,
            key: key(i).to_vec(),
            algorithm: AuthAlgorithm::HmacMd5,
        });
    }
    Ok(cfg)
}

/// Mobile node `i`'s Registration Request from its co-located care-of
/// address: dynamic home address, its NAI, MN-HA sealed under its key.
fn rrq(i: usize, identification: u64) -> Received {
    let mut msg = Message::Rrq(Rrq {
        flags: rrq_flags::D,
        lifetime: 1800,
        home_address: Ipv4Addr::UNSPECIFIED,
        home_agent: HA,
        care_of: coa(i),
        identification,
        extensions: vec![
            Extension::Nai(nai(i).into_bytes()),
            Extension::Auth { kind: AuthKind::MnHa, spi: SPI, authenticator: Vec::new() },
        ],
    });
    let k = key(i);
    seal(&mut msg, &[SealKey { kind: AuthKind::MnHa, spi: SPI, alg: AuthAlgorithm::HmacMd5, key: &k }]);
    Received { src: coa(i), dst: HA, src_port: MIP4_PORT, payload: emit(&msg) }
}

/// The reply's code and home address; `None` when the request was
/// discarded silently.
fn rrp(out: &[Output]) -> Option<(u8, Ipv4Addr)> {
    out.iter().find_map(|o| match o {
        Output::Send { msg: Message::Rrp(r), .. } => Some((r.code, r.home_address)),
        _ => None,
    })
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// Feeds `n` requests built by `build(i)` to `ha`, the clocks advancing by
/// 1 µs a message from `now`, `wall`; returns the time taken and the
/// refusals by reply code (`None`: no reply).
fn run(
    ha: &mut Ha,
    requests: Vec<Received>,
    now: Instant,
    wall: SystemTime,
) -> (Duration, BTreeMap<Option<u8>, usize>) {
    let mut refused = BTreeMap::new();
    let t = Instant::now();
    for (i, rx) in requests.into_iter().enumerate() {
        let d = Duration::from_micros(i as u64);
        match rrp(&ha.handle(rx, now + d, wall + d)) {
            Some((0, _)) => {}
            other => *refused.entry(other.map(|(c, _)| c)).or_insert(0usize) += 1,
        }
    }
    (t.elapsed(), refused)
}

fn main() -> Result<(), String> {
    let bindings: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    if bindings == 0 || bindings > MAX_BINDINGS {
        return Err(format!("BINDINGS must be 1 to {MAX_BINDINGS} (the care-of addresses are a /10)"));
    }
    let rss0 = rss_bytes();
    let cfg = config(bindings)?;
    let rss_config = rss_bytes();
    let wall0 = SystemTime::now();
    let now0 = Instant::now();
    // The Identification of a request handled at `wall` (§8.6 timestamps).
    let id_at = |wall: SystemTime, i: usize| ntp_of(wall + Duration::from_micros(i as u64));

    // Memory: a fresh home agent fed one request at a time (each freed
    // before the next, so the growth of the resident set is the bindings').
    let (per_binding, per_association) = {
        let before = rss_bytes();
        let mut ha = Ha::new(&cfg).ok_or("the config has no [ha]")?;
        let after_new = rss_bytes();
        for i in 0..bindings {
            let d = Duration::from_micros(i as u64);
            let _ = ha.handle(rrq(i, id_at(wall0, i)), now0 + d, wall0 + d);
        }
        let after = rss_bytes();
        let per = |bytes: u64| bytes as f64 / bindings as f64;
        (per(after.saturating_sub(after_new)), per(after_new.saturating_sub(before) + rss_config.saturating_sub(rss0)))
    };

    // Rate: another home agent, the requests built before the clock starts.
    let mut ha = Ha::new(&cfg).ok_or("the config has no [ha]")?;
    let built: Vec<Received> = (0..bindings).map(|i| rrq(i, id_at(wall0, i))).collect();
    let (initial, refused) = run(&mut ha, built, now0, wall0);
    if !refused.is_empty() {
        println!("refused initial registrations by reply code (None: no reply): {refused:?}");
    }

    // Re-registrations 1 s later: same home agent, Identification advanced.
    let step = Duration::from_secs(1) + Duration::from_micros(bindings as u64);
    let (now1, wall1) = (now0 + step, wall0 + step);
    let built: Vec<Received> = (0..bindings).map(|i| rrq(i, id_at(wall1, i))).collect();
    let (rereg, refused_again) = run(&mut ha, built, now1, wall1);
    if !refused_again.is_empty() {
        println!("refused re-registrations by reply code (None: no reply): {refused_again:?}");
    }

    let count = |m: &BTreeMap<Option<u8>, usize>| m.values().sum::<usize>();
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "Mobile IPv4 home agent signalling, one core, {bindings} bindings resident \
         (co-located care-of address, dynamic home address, MN-HA HMAC-MD5)"
    );
    println!("{:<44} {:>14} {:>14}", "figure", "measured", "target");
    println!("{:<44} {:>14.0} {:>14}", "initial registrations / s", rate(bindings, initial), ">= 100000");
    println!("{:<44} {:>14.0} {:>14}", "re-registrations / s", rate(bindings, rereg), ">= 100000");
    println!("{:<44} {:>14.0} {:>14}", "resident memory per binding, bytes", per_binding, "<= 1024");
    println!(
        "{:<44} {:>14} {:>14}",
        "requests refused (initial / re-registration)",
        format!("{} / {}", count(&refused), count(&refused_again)),
        "0 / 0"
    );
    println!("MN-HA associations (config + home agent index), bytes per mobile node: {per_association:.0}");
    let c = ha.counters();
    println!(
        "bindings: {}; created {}, renewals {}, replays {}, auth failures {}",
        ha.bindings().count(),
        c.bindings_created,
        c.renewals,
        c.replays,
        c.auth_failures
    );
    println!("RESULT mip4.initial_per_s {:.0} regs/s", rate(bindings, initial));
    println!("RESULT mip4.rereg_per_s {:.0} regs/s", rate(bindings, rereg));
    println!("RESULT mip4.bytes_per_binding {per_binding:.0} bytes");
    Ok(())
}
