//! End to end: the Prometheus endpoint (`[metrics] listen`) of a real
//! `anchord` in the demo network, scraped from inside anc-lma (where it
//! listens on 127.0.0.1) while scripts/sim/mag.py attaches a mobile node and
//! it pings the correspondent: the tunnel counters rise between scrapes, the
//! figures equal `anchorctl show stats --json` at a quiet moment, the
//! session gauge counts the one session, requests other than `GET /metrics`
//! get their status without harming the daemon; with metrics off nothing
//! listens.
//!
//! The scraper is a few lines of Python run with `ip netns exec anc-lma`
//! (python3 is what the simulators already need; curl is not assumed).
//! Needs root; skipped with a message otherwise.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use control::metrics::sample;
use serde_json::Value;

#[macro_use]
mod common;
use common::{guard, script, Env, Sim, CN_V4, CN_V6, MN_NS};

const LISTEN: &str = "127.0.0.1:9464";
const LMAA: &str = "2001:db8:1::1";
const MAG1: &str = "2001:db8:1::2";
const DUAL: &str = "dual@anchor.test";

/// Sends `request` (raw bytes) to `LISTEN` from inside anc-lma and returns
/// the whole response.
fn exchange(request: &[u8]) -> Result<String, String> {
    let (host, port) = LISTEN.split_once(':').ok_or("bad LISTEN")?;
    let py = format!(
        "import socket,sys\ns=socket.create_connection(('{host}',{port}),timeout=5)\nd=b''\n\
         try:\n    s.sendall(sys.stdin.buffer.read())\n    while True:\n        b=s.recv(65536)\n        \
         if not b: break\n        d+=b\nexcept ConnectionError:\n    pass\nsys.stdout.buffer.write(d)\n"
    );
    let mut child = Command::new("ip")
        .args(["netns", "exec", "anc-lma", "/usr/bin/python3", "-c", &py])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("scraper: {e}"))?;
    child.stdin.take().ok_or("no stdin")?.write_all(request).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    ensure!(out.status.success(), "scraper failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).map_err(|e| format!("response is not UTF-8: {e}"))
}

/// `GET /metrics`: the body of a 200 response in the 0.0.4 text format.
fn scrape() -> Result<String, String> {
    let r = exchange(b"GET /metrics HTTP/1.1\r\nHost: anchord\r\n\r\n")?;
    let (head, body) = r.split_once("\r\n\r\n").ok_or_else(|| format!("no header end: {r}"))?;
    ensure!(head.starts_with("HTTP/1.1 200 "), "scrape: {head}");
    ensure!(head.contains("Content-Type: text/plain; version=0.0.4"), "scrape content type: {head}");
    Ok(body.to_string())
}

/// Sum over the workers of `name{worker,tunnel=kind}`.
fn tunnel_sum(text: &str, name: &str, kind: &str, workers: usize) -> u64 {
    (0..workers).filter_map(|w| sample(text, name, &[("worker", &w.to_string()), ("tunnel", kind)])).sum()
}

/// The figures compared between a scrape and `show stats`: (what, from the
/// JSON, from the scrape).
fn figures(stats: &Value, text: &str) -> Vec<(String, Option<u64>, Option<u64>)> {
    let mut f = Vec::new();
    for w in stats["workers"].as_array().into_iter().flatten() {
        let wid = w["worker"].to_string();
        for (field, metric) in
            [("encap", "anchor_encapsulated_packets_total"), ("decap", "anchor_decapsulated_packets_total")]
        {
            for (kind, n) in w[field].as_object().into_iter().flatten() {
                let m = sample(text, metric, &[("worker", &wid), ("tunnel", kind)]);
                f.push((format!("worker {wid} {field} {kind}"), n.as_u64(), m));
            }
        }
        for (reason, n) in w["drops"].as_object().into_iter().flatten() {
            let m = sample(text, "anchor_packet_drops_total", &[("worker", &wid), ("reason", reason)]);
            f.push((format!("worker {wid} drop {reason}"), n.as_u64(), m));
        }
        for p in w["ports"].as_array().into_iter().flatten() {
            let port = p["port"].as_str().unwrap_or_default();
            for (key, metric) in [
                ("rx", "anchor_port_rx_packets_total"),
                ("tx", "anchor_port_tx_packets_total"),
                ("dropped", "anchor_port_dropped_packets_total"),
                ("punted", "anchor_port_punted_packets_total"),
            ] {
                let m = sample(text, metric, &[("worker", &wid), ("port", port)]);
                f.push((format!("worker {wid} port {port} {key}"), p[key].as_u64(), m));
            }
        }
    }
    for s in stats["sessions"].as_array().into_iter().flatten() {
        let (role, state) = (s["role"].as_str().unwrap_or_default(), s["state"].as_str().unwrap_or_default());
        let m = sample(text, "anchor_sessions", &[("role", role), ("state", state)]);
        f.push((format!("sessions {role} {state}"), s["count"].as_u64(), m));
    }
    for p in stats["pools"].as_array().into_iter().flatten() {
        let label = |k: &str| p[k].as_str().unwrap_or_default().to_string();
        let (role, family, pool) = (label("role"), label("family"), label("pool"));
        let labels = [("role", role.as_str()), ("family", family.as_str()), ("pool", pool.as_str())];
        f.push((
            format!("pool {role} {pool} in use"),
            p["in_use"].as_u64(),
            sample(text, "anchor_pool_in_use", &labels),
        ));
    }
    f.push(("fib entries".into(), stats["fib"]["entries"].as_u64(), sample(text, "anchor_fib_entries", &[])));
    f.push(("fib capacity".into(), stats["fib"]["capacity"].as_u64(), sample(text, "anchor_fib_capacity", &[])));
    for key in ["pbu_received", "sessions_created", "malformed"] {
        let m = sample(text, &format!("anchor_lma_{key}_total"), &[]);
        f.push((format!("lma {key}"), stats["lma"][key].as_u64(), m));
    }
    for (code, n) in stats["lma"]["pba_sent"].as_object().into_iter().flatten() {
        let m = sample(text, "anchor_lma_pba_sent_total", &[("status", code)]);
        f.push((format!("lma pba_sent {code}"), n.as_u64(), m));
    }
    f
}

/// A scrape between two `show stats` that agree on every compared figure
/// (nothing moved meanwhile) must agree with them too. Tries a few times,
/// since ARP/ND and other background packets may move a counter.
fn scrape_equals_show_stats(env: &Env) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..10 {
        let before = env.stats()?;
        let text = scrape()?;
        let after = env.stats()?;
        let a = figures(&before, &text);
        let b = figures(&after, &text);
        let quiet = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.0 == y.0 && x.1 == y.1);
        if !quiet {
            last = "show stats moved between its two readings".into();
            std::thread::sleep(Duration::from_millis(300));
            continue;
        }
        let differ: Vec<_> = a.iter().filter(|(_, json, prom)| json.is_none() || json != prom).collect();
        ensure!(a.len() > 10, "too few figures compared: {a:?}");
        ensure!(differ.is_empty(), "scrape and show stats differ (what, json, scrape): {differ:?}\n{text}");
        return Ok(());
    }
    Err(format!("no quiet moment in 10 tries: {last}"))
}

/// The demo network with anc-mn, anchord (metrics as `tweak` says, no
/// static binding) and the MAG simulator; ended and deleted on drop.
struct Net {
    env: Env,
    mag: Option<Sim>,
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(m) = &mut self.mag {
            m.stop();
        }
    }
}

impl Net {
    fn report(&mut self) -> String {
        let mut r = self.mag.as_mut().map(Sim::stop).unwrap_or_default();
        r += &self.env.daemon_report();
        r
    }
}

fn run_test(tag: &str, tweak: impl FnOnce(&mut toml::Table), body: impl FnOnce(&mut Net) -> Result<(), String>) {
    let Some(_g) = guard() else { return };
    let mut net = Net { env: Env::namespaces("anchor-metrics", tag, true), mag: None };
    let mut cfg = net.env.demo_config();
    cfg.remove("binding");
    tweak(&mut cfg);
    net.env.start_anchord(&cfg);
    if let Err(e) = body(&mut net) {
        panic!("{tag}: {e}\n{}", net.report());
    }
}

#[test]
fn a_scrape_during_traffic_shows_the_tunnel_counters_rising_and_equals_show_stats() {
    run_test(
        "on",
        |cfg| {
            let mut metrics = toml::Table::new();
            metrics.insert("listen".into(), toml::Value::String(LISTEN.into()));
            cfg.insert("metrics".into(), toml::Value::Table(metrics));
        },
        |net| {
            let first = scrape()?;
            ensure!(
                sample(&first, "anchor_sessions", &[("role", "pmip6"), ("state", "active")]) == Some(0),
                "before any attach the pmip6 session gauge is not 0:\n{first}"
            );
            ensure!(sample(&first, "anchor_uptime_seconds", &[]).is_some(), "no uptime:\n{first}");

            let args = [script("sim/mag.py"), "--mag".into(), MAG1.into(), "--lma".into(), LMAA.into()]
                .into_iter()
                .chain(["--mn-ns".to_string(), MN_NS.to_string()])
                .collect::<Vec<_>>();
            let mag = net.mag.insert(Sim::start(&net.env.dir, "mag1", "anc-mag", &args)?);
            mag.send(&format!("attach {DUAL} --ipv4 --ipv6 --gre --gre-key 5001"))?;
            let pba = mag.wait("the PBA", Duration::from_secs(15), |e| e["event"] == "pba")?;
            ensure!(pba["status"] == 0, "attach refused: {pba}");
            let attached = mag.event("attached", Duration::from_secs(10))?;
            ensure!(attached["mode"] == "gre", "mag.py did not choose GRE: {attached}");

            net.env.ping(MN_NS, CN_V4)?;
            let workers = net.env.stats()?["workers"].as_array().map_or(0, Vec::len);
            let s1 = scrape()?;
            let (enc1, dec1) = (
                tunnel_sum(&s1, "anchor_encapsulated_packets_total", "gre", workers),
                tunnel_sum(&s1, "anchor_decapsulated_packets_total", "gre", workers),
            );
            ensure!(enc1 >= 3 && dec1 >= 3, "first scrape: {enc1} GRE encapsulations, {dec1} decapsulations");
            net.env.ping(MN_NS, CN_V6)?;
            net.env.ping(MN_NS, CN_V4)?;
            let s2 = scrape()?;
            let (enc2, dec2) = (
                tunnel_sum(&s2, "anchor_encapsulated_packets_total", "gre", workers),
                tunnel_sum(&s2, "anchor_decapsulated_packets_total", "gre", workers),
            );
            ensure!(
                enc2 >= enc1 + 6 && dec2 >= dec1 + 6,
                "between scrapes GRE encapsulations went {enc1} -> {enc2}, decapsulations {dec1} -> {dec2} \
                 (6 pings each way at least)"
            );
            ensure!(
                sample(&s2, "anchor_sessions", &[("role", "pmip6"), ("state", "active")]) == Some(1),
                "the pmip6 active session gauge is not 1:\n{s2}"
            );
            ensure!(sample(&s2, "anchor_lma_sessions", &[]) == Some(1), "anchor_lma_sessions is not 1:\n{s2}");
            ensure!(
                sample(&s2, "anchor_lma_pba_sent_total", &[("status", "0")]).is_some_and(|n| n >= 1),
                "no accepted PBA counted:\n{s2}"
            );
            ensure!(sample(&s2, "anchor_fib_entries", &[]).is_some_and(|n| n >= 2), "fib entries:\n{s2}");

            scrape_equals_show_stats(&net.env)?;

            // Other requests get their status; the daemon keeps serving.
            let r = exchange(b"GET / HTTP/1.1\r\n\r\n")?;
            ensure!(r.starts_with("HTTP/1.1 404 "), "GET /: {r}");
            let r = exchange(b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")?;
            ensure!(r.starts_with("HTTP/1.1 405 "), "POST /metrics: {r}");
            let r = exchange(b"\x16\x03\x01\x00garbage\r\n\r\n")?;
            ensure!(r.starts_with("HTTP/1.1 400 "), "garbage: {r}");
            let r = exchange(&vec![b'A'; 20_000])?;
            ensure!(r.starts_with("HTTP/1.1 431 ") || r.is_empty(), "oversized request: {r}");
            net.env.alive()?;
            scrape()?;
            net.env.ping(MN_NS, CN_V4)?;
            Ok(())
        },
    );
}

#[test]
fn with_metrics_off_nothing_listens() {
    run_test(
        "off",
        |_| {},
        |net| {
            net.env.alive()?;
            let out = Command::new("ip")
                .args(["netns", "exec", "anc-lma", "ss", "-Hltn"])
                .output()
                .map_err(|e| format!("ss: {e}"))?;
            ensure!(out.status.success(), "ss failed: {}", String::from_utf8_lossy(&out.stderr));
            let listening = String::from_utf8_lossy(&out.stdout);
            ensure!(listening.trim().is_empty(), "TCP listeners in anc-lma with metrics off:\n{listening}");
            ensure!(exchange(b"GET /metrics HTTP/1.1\r\n\r\n").is_err(), "something answered on {LISTEN}");
            Ok(())
        },
    );
}
