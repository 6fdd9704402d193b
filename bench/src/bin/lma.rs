//! Signalling rate of the PMIPv6 LMA on the control thread: initial
//! registrations and re-registrations per second with up to 1M sessions
//! resident, and resident memory per session. The real `Lma` state machine
//! (binding cache, pools, GRE keys, PBA building) is driven with PBUs as the
//! Mobility Header codec delivers them; sending and forwarding are not part
//! of the figure. Run: `cargo run --release -p bench --bin lma [-- SESSIONS]`.
//! Targets (issue "PMIPv6 LMA"): >= 100k registrations/s on one core,
//! <= 1 KiB per session; printed beside the measured values, never asserted.

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use control::pmip6::{Lma, Output, Received, Transport};
use control::proto::{bu_flags, BindingUpdate, MhMessage, MobilityOption};

thread_local! {
    static PER_SESSION: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

const MAG: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
const LMAA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);

fn config(sessions: usize) -> Result<anchor_config::Config, String> {
    let mut cfg: toml::Table = anchor_config::DEMO_TOML.parse().map_err(|e| format!("{e}"))?;
    cfg.remove("binding");
    let set = |cfg: &mut toml::Table, section: &str, key: &str, v: toml::Value| {
        if let Some(t) = cfg.get_mut(section).and_then(toml::Value::as_table_mut) {
            t.insert(key.into(), v);
        }
    };
    let capacity = (sessions * 2).next_power_of_two().max(1 << 20);
    set(&mut cfg, "tunnel", "fib_capacity", toml::Value::Integer(i64::try_from(capacity).unwrap_or(i64::MAX)));
    set(&mut cfg, "lma", "max_sessions", toml::Value::Integer(i64::try_from(sessions + 16).unwrap_or(i64::MAX)));
    // 2^31 /64s, clear of the demo ports' subnets; IPv6-only mobile nodes
    // (the demo's IPv4 pool is a /24).
    set(&mut cfg, "pools", "hnp", toml::Value::Array(vec![toml::Value::String("2001:db8:8000::/33".into())]));
    let mut default = toml::Table::new();
    default.insert("ipv4".into(), toml::Value::Boolean(false));
    set(&mut cfg, "profiles", "default", toml::Value::Table(default));
    anchor_config::parse(&toml::to_string(&cfg).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

/// 48.16 fixed point seconds since the Unix epoch (PROTOCOLS.md §2.10.7).
fn timestamp(wall: SystemTime) -> u64 {
    let since = wall.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    (since.as_secs() << 16) | ((u64::from(since.subsec_nanos()) << 16) / 1_000_000_000)
}

fn pbu(i: usize, hnp: Ipv6Addr, hi: u8, wall: SystemTime) -> Received {
    let options = vec![
        MobilityOption::MnIdentifier { subtype: 1, id: format!("mn{i}@bench.test").into_bytes() },
        MobilityOption::HomeNetworkPrefix { prefix_len: if hnp.is_unspecified() { 0 } else { 64 }, prefix: hnp },
        MobilityOption::HandoffIndicator(hi),
        MobilityOption::AccessTechnology(4),
        MobilityOption::Timestamp(timestamp(wall)),
    ];
    let msg = MhMessage::BindingUpdate(BindingUpdate {
        seq: (i & 0xffff) as u16,
        flags: bu_flags::A | bu_flags::P,
        lifetime: 900,
        options,
    });
    Received { src: IpAddr::V6(MAG), dst: IpAddr::V6(LMAA), transport: Transport::Ipv6, msg }
}

/// The status and assigned prefix of the PBA among `out`.
fn pba(out: &[Output]) -> Option<(u8, Ipv6Addr)> {
    out.iter().find_map(|o| match o {
        Output::Send { msg: MhMessage::BindingAck(ba), .. } => {
            let hnp = ba.options.iter().find_map(|o| match o {
                MobilityOption::HomeNetworkPrefix { prefix, .. } => Some(*prefix),
                _ => None,
            });
            Some((ba.status, hnp.unwrap_or(Ipv6Addr::UNSPECIFIED)))
        }
        _ => None,
    })
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn main() -> Result<(), String> {
    let sessions: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let cfg = config(sessions)?;
    let wall0 = SystemTime::now();
    let now0 = Instant::now();

    // Memory: a fresh LMA fed one PBU at a time (each freed before the next,
    // so the growth of the resident set is the binding cache's).
    let before = rss_bytes();
    {
        let mut lma = Lma::new(&cfg).ok_or("the config has no [lma]")?;
        for i in 0..sessions {
            let d = Duration::from_micros(i as u64);
            let _ = lma.handle(pbu(i, Ipv6Addr::UNSPECIFIED, 1, wall0 + d), now0 + d, wall0 + d);
        }
        let after = rss_bytes();
        PER_SESSION.with(|p| p.set(after.saturating_sub(before) as f64 / sessions as f64));
    }

    // Rate: another LMA, the PBUs built before the clock starts.
    let mut lma = Lma::new(&cfg).ok_or("the config has no [lma]")?;
    let mut hnps = vec![Ipv6Addr::UNSPECIFIED; sessions];
    let mut built: Vec<Received> =
        (0..sessions).map(|i| pbu(i, Ipv6Addr::UNSPECIFIED, 1, wall0 + Duration::from_micros(i as u64))).collect();
    let t = Instant::now();
    let mut refused = 0usize;
    let mut statuses = std::collections::BTreeMap::new();
    for (i, rx) in built.drain(..).enumerate() {
        // The LMA's clock advances with each message (1 µs apart).
        let d = Duration::from_micros(i as u64);
        let out = lma.handle(rx, now0 + d, wall0 + d);
        match pba(&out) {
            Some((0, hnp)) => hnps[i] = hnp,
            other => {
                refused += 1;
                *statuses.entry(other.map(|(s, _)| s)).or_insert(0usize) += 1;
            }
        }
    }
    if !statuses.is_empty() {
        println!("refused initial registrations by PBA status: {statuses:?}");
    }
    let initial = t.elapsed();

    let wall1 = wall0 + Duration::from_secs(1) + Duration::from_micros(sessions as u64);
    let now1 = now0 + Duration::from_secs(1) + Duration::from_micros(sessions as u64);
    let mut built: Vec<Received> =
        (0..sessions).map(|i| pbu(i, hnps[i], 5, wall1 + Duration::from_micros(i as u64))).collect();
    let t = Instant::now();
    let mut refused_again = 0usize;
    for (i, rx) in built.drain(..).enumerate() {
        let d = Duration::from_micros(i as u64);
        if !matches!(pba(&lma.handle(rx, now1 + d, wall1 + d)), Some((0, _))) {
            refused_again += 1;
        }
    }
    let rereg = t.elapsed();

    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    let per_session = PER_SESSION.with(std::cell::Cell::get);
    println!("PMIPv6 LMA signalling, one core, {sessions} sessions resident (IPv6 HNP, timestamp ordering)");
    println!("{:<40} {:>14} {:>14}", "figure", "measured", "target");
    println!("{:<40} {:>14.0} {:>14}", "initial registrations / s", rate(sessions, initial), ">= 100000");
    println!("{:<40} {:>14.0} {:>14}", "re-registrations / s", rate(sessions, rereg), ">= 100000");
    println!("{:<40} {:>14.0} {:>14}", "resident memory per session, bytes", per_session, "<= 1024");
    println!(
        "{:<40} {:>14} {:>14}",
        "PBUs refused (initial / re-registration)",
        format!("{refused} / {refused_again}"),
        "0 / 0"
    );
    println!("sessions in the binding cache: {}", lma.sessions().count());
    println!("RESULT lma.initial_per_s {:.0} regs/s", rate(sessions, initial));
    println!("RESULT lma.rereg_per_s {:.0} regs/s", rate(sessions, rereg));
    println!("RESULT lma.bytes_per_session {per_session:.0} bytes");
    Ok(())
}
