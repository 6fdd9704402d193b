//! End to end: overload protection (`[overload]`) in the demo network. One
//! source floods the home agent with Registration Requests while a mobile
//! node registers from another address: the flood is shed at the flooder's
//! rate (counted as `overload.rate_limited`), the mobile node is accepted
//! and forwards, and the CLI answers throughout.
//!
//! Needs root; skipped with a message otherwise. Every process started here
//! is ended by its pid and the namespaces are deleted by Drop guards.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[macro_use]
mod common;
use common::v4only::{KEY, NAI, SPI};
use common::{guard, script, Env, Net, CN_V4, MN_NS};

/// The home agent (demo.toml [ha].address).
const HA: &str = "192.0.2.1";
/// The mobile node's co-located care-of address in anc-mag.
const COA: &str = "192.0.2.10";
/// The flooding source, another address of anc-mag.
const FLOODER: &str = "192.0.2.20";

/// The flooder's allowance: messages per second and at once.
const RATE: u64 = 50;
const BURST: u64 = 50;
/// How long the flood lasts and how fast it goes (50 every 10 ms).
const FLOOD_S: f64 = 3.0;

/// Sends Registration Requests (a bare 24-octet header, no extensions)
/// from FLOODER to the home agent for `FLOOD_S` seconds; prints how many.
const FLOOD: &str = r#"
import socket, struct, sys, time
src, ha, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
msg = struct.pack("!BBH4s4s4sQ", 1, 0, 300, bytes(4), socket.inet_aton(ha), socket.inet_aton(src), 0)
n, end = 0, time.time() + secs
while time.time() < end:
    for _ in range(50):
        try:
            s.sendto(msg, (ha, 434))
            n += 1
        except OSError:
            pass
    time.sleep(0.01)
print(n)
"#;

/// Frames the workers dropped because their punt ring was full.
fn punt_ring_full(stats: &Value) -> u64 {
    let workers = stats["workers"].as_array().cloned().unwrap_or_default();
    workers
        .iter()
        .flat_map(|w| w["ports"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["punt_ring_full"].as_u64())
        .sum()
}

fn counter(stats: &Value, section: &str, name: &str) -> u64 {
    stats[section][name].as_u64().unwrap_or(0)
}

#[test]
fn a_registration_flood_from_one_source_is_shed_while_another_node_registers_and_the_cli_answers() {
    let Some(_g) = guard() else { return };
    let mut net = Net::new(Env::namespaces("anchor-overload", "flood", true));
    for addr in [COA, FLOODER] {
        net.sh(&["ip", "-n", "anc-mag", "addr", "add", &format!("{addr}/24"), "dev", "mag-core"]);
    }
    let mut cfg = net.demo_config();
    cfg.remove("binding");
    cfg["overload"]["peer_rate"] = toml::Value::Integer(RATE as i64);
    cfg["overload"]["peer_burst"] = toml::Value::Integer(BURST as i64);
    net.start_anchord(&cfg);
    if let Err(e) = flood_and_register(&mut net) {
        panic!("{e}\n{}", net.report());
    }
}

fn flood_and_register(net: &mut Net) -> Result<(), String> {
    let before = net.stats()?;
    let started = Instant::now();
    let mut flood = Command::new("ip")
        .args(["netns", "exec", "anc-mag", "python3", "-c", FLOOD, FLOODER, HA, &FLOOD_S.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("flood: {e}"))?;
    let outcome = during_the_flood(net);
    // The flood ends on its own; wait for it (and end it by its pid if not).
    let deadline = Instant::now() + Duration::from_secs_f64(FLOOD_S + 10.0);
    while flood.try_wait().map_err(|e| e.to_string())?.is_none() {
        if Instant::now() > deadline {
            let _ = flood.kill();
            let _ = flood.wait();
            return Err("the flood did not end".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = flood.wait_with_output().map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    outcome?;
    let sent: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("flood output: {:?} {:?}", out.stdout, String::from_utf8_lossy(&out.stderr)))?;
    ensure!(sent > 5_000, "the flood sent only {sent} requests");

    std::thread::sleep(Duration::from_millis(500));
    let after = net.stats()?;
    let delta = |s: &str, n: &str| counter(&after, s, n) - counter(&before, s, n);
    let handled = delta("ha", "rrq_received");
    let shed = delta("overload", "rate_limited");
    // The flooder's allowance over the whole run, plus the node's own few
    // requests and retransmissions.
    let allowance = BURST + (RATE as f64 * (elapsed + 1.0)) as u64 + 10;
    // Requests the workers could not punt (ring full) never reached admission.
    let punt_full = punt_ring_full(&after) - punt_ring_full(&before);
    eprintln!(
        "flood: {sent} sent in {elapsed:.1} s; handled {handled}, rate limited {shed}, punt ring full {punt_full}"
    );
    ensure!(
        handled <= allowance,
        "the home agent handled {handled} requests during a flood limited to {allowance}: {}",
        after["overload"]
    );
    ensure!(
        shed + punt_full >= sent.saturating_sub(allowance) * 9 / 10,
        "only {shed} of {sent} flooded requests were counted as rate limited: {}",
        after["overload"]
    );
    ensure!(after["overload"]["backlog"] == 0, "messages still wait: {}", after["overload"]);

    // The node that registered during the flood still forwards both ways.
    net.ping(MN_NS, CN_V4)?;
    net.alive()
}

/// While the flood runs: a mobile node registers from another address and
/// is accepted; the CLI answers quickly.
fn during_the_flood(net: &mut Net) -> Result<(), String> {
    std::thread::sleep(Duration::from_millis(500));
    let asked = Instant::now();
    let stats = net.stats()?;
    ensure!(asked.elapsed() < Duration::from_secs(2), "show stats took {:?} during the flood", asked.elapsed());
    ensure!(
        counter(&stats, "overload", "rate_limited") > 0,
        "nothing was rate limited half a second into the flood: {}",
        stats["overload"]
    );
    let sim = script("sim/mip4.py");
    let i = net.start_sim(
        "mn",
        "anc-mag",
        &[&sim, "--nai", NAI, "--spi", SPI, "--key", KEY, "--ha", HA, "--mn-ns", MN_NS, "--coa", COA],
    )?;
    let rrp = net.answer(i, "register", "rrp")?;
    ensure!(rrp["code"] == 0, "registration during the flood not accepted: {rrp}");
    net.sims[i].event("attached", Duration::from_secs(10))?;
    Ok(())
}
