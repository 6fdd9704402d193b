//! Cost of the session store on the control loop (issue 7): a churn of
//! SESSIONS PMIPv6 sessions (each created, re-registered and de-registered
//! with lifetime 0) fed to the real `Lma` in control-loop passes of 64 PBUs,
//! once without the store and once with it as the daemon runs it — changes
//! tracked, collected and encoded into one batch every 5 ms on the control
//! thread, committed (fsync) by the writer thread. Prints the control
//! thread's time for both and their ratio, and how long after the last PBU
//! the last batch was durable. Run: `cargo run --release -p bench --bin
//! store [-- SESSIONS [DB-PATH]]` (default 100000, a file under
//! target/). Informational, never asserted.

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use control::pmip6::{Lma, Output, Received, Transport};
use control::proto::{bu_flags, BindingUpdate, MhMessage, MobilityOption};
use control::signalling::collect_batch;
use control::store::records::Clock;
use control::store::{Done, Store, Writer};

const MAG: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
const LMAA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
const PASS: usize = 64;
const BATCH_INTERVAL: Duration = Duration::from_millis(5);

fn config(sessions: usize) -> Result<anchor_config::Config, String> {
    let mut cfg: toml::Table = anchor_config::DEMO_TOML.parse().map_err(|e| format!("{e}"))?;
    cfg.remove("binding");
    let set = |cfg: &mut toml::Table, section: &str, key: &str, v: toml::Value| {
        if let Some(t) = cfg.get_mut(section).and_then(toml::Value::as_table_mut) {
            t.insert(key.into(), v);
        }
    };
    set(&mut cfg, "lma", "max_sessions", toml::Value::Integer(i64::try_from(sessions + 16).unwrap_or(i64::MAX)));
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

fn pbu(i: usize, seq: u16, lifetime: u16, hnp: Ipv6Addr, wall: SystemTime) -> Received {
    let options = vec![
        MobilityOption::MnIdentifier { subtype: 1, id: format!("mn{i}@bench.test").into_bytes() },
        MobilityOption::HomeNetworkPrefix { prefix_len: if hnp.is_unspecified() { 0 } else { 64 }, prefix: hnp },
        MobilityOption::HandoffIndicator(if seq == 1 { 1 } else { 5 }),
        MobilityOption::AccessTechnology(4),
        MobilityOption::Timestamp(timestamp(wall)),
    ];
    let msg = MhMessage::BindingUpdate(BindingUpdate { seq, flags: bu_flags::A | bu_flags::P, lifetime, options });
    Received { src: IpAddr::V6(MAG), dst: IpAddr::V6(LMAA), transport: Transport::Ipv6, msg }
}

/// The accepted PBA's prefix among `out`.
fn accepted(out: &[Output]) -> Option<Ipv6Addr> {
    out.iter().find_map(|o| match o {
        Output::Send { msg: MhMessage::BindingAck(ba), .. } if ba.status == 0 => {
            Some(ba.options.iter().find_map(|o| match o {
                MobilityOption::HomeNetworkPrefix { prefix, .. } => Some(*prefix),
                _ => None,
            }))
        }
        _ => None,
    })?
}

/// Runs the churn (creations, re-registrations, de-registrations, each PBU
/// 10 µs after the one before on the LMA's clock); with `writer`, as the
/// daemon does with a store. The control thread's time (building the PBUs
/// of a phase is left out), and the number of batches.
fn run(
    cfg: &anchor_config::Config,
    sessions: usize,
    mut writer: Option<&mut Writer>,
) -> Result<(Duration, u64, Duration), String> {
    let mut lma = Lma::new(cfg).ok_or("the config has no [lma]")?;
    if writer.is_some() {
        lma.track_changes();
    }
    let (now0, wall0) = (Instant::now(), SystemTime::now());
    let at = |n: usize| Duration::from_micros(n as u64 * 10);
    let mut hnps = vec![Ipv6Addr::UNSPECIFIED; sessions];
    let (mut total, mut batches, mut refused) = (Duration::ZERO, 0u64, 0usize);
    let mut persisting = Duration::ZERO;
    let mut last = None::<Instant>;
    for phase in 0..3usize {
        let base = phase * sessions;
        let lifetime = if phase == 2 { 0 } else { 900 };
        let seq = phase as u16 + 1;
        let msgs: Vec<Received> = (0..sessions).map(|i| pbu(i, seq, lifetime, hnps[i], wall0 + at(base + i))).collect();
        let t = Instant::now();
        for (n, pass) in msgs.chunks(PASS).enumerate() {
            for (k, rx) in pass.iter().enumerate() {
                let i = n * PASS + k;
                let d = at(base + i);
                match accepted(&lma.handle(rx.clone(), now0 + d, wall0 + d)) {
                    Some(hnp) if phase == 0 => hnps[i] = hnp,
                    Some(_) => {}
                    None => refused += 1,
                }
            }
            if let Some(w) = writer.as_deref_mut() {
                let real = Instant::now();
                while w.poll().is_some() {}
                if last.is_none_or(|l| real - l >= BATCH_INTERVAL) {
                    let d = at(base + (n + 1) * PASS);
                    let batch = collect_batch(Some(&mut lma), None, None, Clock::new(now0 + d, wall0 + d));
                    if !batch.is_empty() {
                        w.submit(batch);
                        batches += 1;
                    }
                    last = Some(real);
                }
                persisting += real.elapsed();
            }
        }
        total += t.elapsed();
    }
    if let Some(w) = writer {
        let t = Instant::now();
        let batch = collect_batch(Some(&mut lma), None, None, Clock::new(now0, wall0));
        if !batch.is_empty() {
            w.submit(batch);
            batches += 1;
        }
        total += t.elapsed();
    }
    if refused > 0 {
        return Err(format!("{refused} of {} PBUs refused", 3 * sessions));
    }
    Ok((total, batches, persisting))
}

fn main() -> Result<(), String> {
    let sessions: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let path = std::env::args()
        .nth(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("target/bench-store/anchord.db"));
    let _ = std::fs::remove_file(&path);
    let cfg = config(sessions)?;
    // Warm-up and baseline (best of 3 each, same order).
    let mut base = Duration::MAX;
    for _ in 0..3 {
        base = base.min(run(&cfg, sessions, None)?.0);
    }
    let mut with = Duration::MAX;
    let mut durable_after = Duration::ZERO;
    let mut batches = 0;
    let mut persisting = Duration::ZERO;
    let mut left = 0;
    for _ in 0..3 {
        let _ = std::fs::remove_file(&path);
        let store = Store::open(&path).map_err(|e| e.to_string())?;
        let mut writer = Writer::spawn(store).map_err(|e| e.to_string())?;
        let (t, b, p) = run(&cfg, sessions, Some(&mut writer))?;
        let end = Instant::now();
        let last_seq = b;
        let mut committed = 0;
        while committed < last_seq {
            match writer.wait(Duration::from_secs(60)) {
                Some(Done::Committed(s)) => committed = s,
                Some(Done::Failed(_, e)) => return Err(e.to_string()),
                None => return Err("the writer did not finish".into()),
            }
        }
        if t < with {
            with = t;
            durable_after = end.elapsed();
            batches = b;
            persisting = p;
        }
        let store = writer.finish().ok_or("writer thread lost")?;
        let (lma, _) = store.ids().map_err(|e| e.to_string())?;
        // Every session was de-registered: what is left is deprecated,
        // kept for MinDelayBeforeBCEDelete.
        left = lma.len();
    }
    // The writer's side alone: encoding and one commit of every session.
    let mut lma = Lma::new(&cfg).ok_or("the config has no [lma]")?;
    lma.track_changes();
    let (now0, wall0) = (Instant::now(), SystemTime::now());
    for i in 0..sessions {
        let d = Duration::from_micros(i as u64 * 10);
        let _ = lma.handle(pbu(i, 1, 900, Ipv6Addr::UNSPECIFIED, wall0 + d), now0 + d, wall0 + d);
    }
    let batch = collect_batch(Some(&mut lma), None, None, Clock::new(now0, wall0));
    let t = Instant::now();
    let bytes: usize = batch.lma.iter().filter_map(|(_, r)| r.as_ref()).map(|r| control::store::encode(r).len()).sum();
    let encode = t.elapsed();
    let _ = std::fs::remove_file(&path);
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    let t = Instant::now();
    store.commit(&batch).map_err(|e| e.to_string())?;
    let commit = t.elapsed();
    let pbus = sessions * 3;
    println!("session store cost, {sessions}-session churn ({pbus} PBUs: create, re-register, de-register), passes of {PASS} PBUs, one batch per {} ms", BATCH_INTERVAL.as_millis());
    println!("{:<48} {:>12}", "control thread, no store (ms)", base.as_millis());
    println!("{:<48} {:>12}", "control thread, with store (ms)", with.as_millis());
    println!("{:<48} {:>12.2}", "ratio (with / without)", with.as_secs_f64() / base.as_secs_f64());
    println!("{:<48} {:>12}", "  of which collecting and handing over (ms)", persisting.as_millis());
    println!(
        "{:<48} {:>12.2}",
        "ratio (no store + collecting) / no store",
        (base + persisting).as_secs_f64() / base.as_secs_f64()
    );
    println!("{:<48} {:>12}", "batches committed", batches);
    println!("{:<48} {:>12}", "records left (deprecated, awaiting deletion)", left);
    println!("{:<48} {:>12}", "last batch durable after the last PBU (ms)", durable_after.as_millis());
    println!("{:<48} {:>12}", format!("writer: encoding {} records (ms)", batch.lma.len()), encode.as_millis());
    println!("{:<48} {:>12}", "writer: bytes per record", bytes / batch.lma.len().max(1));
    println!("{:<48} {:>12}", "writer: one commit of them all (ms)", commit.as_millis());
    println!("RESULT store.ratio {:.2} x", with.as_secs_f64() / base.as_secs_f64());
    Ok(())
}
