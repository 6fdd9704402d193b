//! Cost of publishing forwarding state as sessions come and go, with up to
//! 1M sessions resident: the control thread's `Forwarding::install` and
//! `remove` (tunnel template, forwarding-table entry, snapshot published to
//! the workers) per second, measured over the last 10 % of the sessions
//! installed and the first 10 % removed. A snapshot shares every tunnel
//! chunk it does not change, so the rate should hardly depend on how many
//! sessions are resident. Run: `cargo run --release -p bench --bin publish
//! [-- SESSIONS]`. Printed, never asserted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use control::forwarding::{Binding, Forwarding};
use dataplane::route::{ForwardingState, StatePublisher};
use dataplane::tunnel::{TunnelKind, TunnelSpec};
use dataplane::wire::MacAddr;

fn binding(i: u32) -> Binding {
    Binding {
        id: 0,
        mn_id: String::new(),
        role: "pmip6",
        vrf: 0,
        ipv4_hoa: None,
        hnps: vec![(Ipv6Addr::from(0x2001_0db8_8000_0000_0000_0000_0000_0000u128 | u128::from(i) << 64), 64)],
        ipv6_hoa: None,
        tunnel: 0,
        expires: None,
        state: "active",
    }
}

fn spec(i: u32) -> TunnelSpec {
    // 64 MAGs.
    let mag = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100 + (i % 64) as u8));
    let mut s = TunnelSpec::new(TunnelKind::Gre, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), mag);
    (s.key_in, s.key_out) = (Some(i), Some(i));
    s
}

fn main() -> Result<(), String> {
    let sessions: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let config = anchor_config::parse(anchor_config::DEMO_TOML).map_err(|e| e.to_string())?;
    let (fib, _reader) = dataplane::fib::new(sessions as usize * 2, 1);
    let publisher = StatePublisher::new(ForwardingState::default());
    let macs = vec![MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2])];
    let mut f = Forwarding::new(&config, macs, fib, publisher).map_err(|e| e.to_string())?;
    let now = Instant::now();
    let tail = (sessions / 10).max(1);
    let mut ids = Vec::with_capacity(sessions as usize);
    let mut t = Instant::now();
    for i in 0..sessions {
        if i == sessions - tail {
            t = Instant::now();
        }
        ids.push(f.install(None, binding(i), spec(i), now).map_err(|e| format!("install {i}: {e}"))?);
    }
    let install = f64::from(tail) / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for &id in &ids[..tail as usize] {
        f.remove(id, now);
    }
    let remove = f64::from(tail) / t.elapsed().as_secs_f64();
    println!("{sessions} sessions: {install:.0} installs/s (last {tail}), {remove:.0} removes/s (first {tail})");
    println!("RESULT publish.install {install:.0} per_s");
    println!("RESULT publish.remove {remove:.0} per_s");
    Ok(())
}
