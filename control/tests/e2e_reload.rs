//! End to end: configuration reload (`anchorctl reload`, SIGHUP) and the CLI
//! views beside it (`show peers`, `show pools`, `show bindings` filters,
//! `set log-level`) on a running anchord in the demo network.
//!
//! A Mobile IPv4 node (scripts/sim/mip4.py, co-located care-of address)
//! registers; the configuration file is then edited under the daemon: a new
//! key for that node, a foreign agent removed, a lower signalling rate,
//! another log level. `reload` applies them while the binding keeps
//! forwarding; the old key is refused (131) and the new one accepted. A
//! change that needs a restart is refused naming its key and changes
//! nothing; SIGHUP reloads as the command does.
//!
//! Needs root; skipped with a message otherwise. Every process started here
//! is ended by its pid and the namespaces are deleted by Drop guards.

use std::time::Duration;

use serde_json::Value;

#[macro_use]
mod common;
use common::v4only::{KEY as OLD_KEY, NAI, SPI};
use common::{guard, script, wait_until, Env, Net, CN_V4, MN_NS};

const HA: &str = "192.0.2.1";
const COA: &str = "192.0.2.10";
const NEW_KEY: &str = "ffeeddccbbaa99887766554433221100";

#[test]
fn reload_applies_keys_peers_limits_and_log_level_refuses_a_restart_change_and_keeps_the_binding() {
    let Some(_g) = guard() else { return };
    let mut net = Net::new(Env::namespaces("anchor-reload", "reload", true));
    net.sh(&["ip", "-n", "anc-mag", "addr", "add", &format!("{COA}/24"), "dev", "mag-core"]);
    let mut cfg = net.demo_config();
    cfg.remove("binding");
    net.start_anchord(&cfg);
    if let Err(e) = body(&mut net, cfg) {
        panic!("{e}\n{}", net.report());
    }
}

/// Writes `cfg` where anchord read its configuration from.
fn rewrite(net: &Net, cfg: &toml::Table) -> Result<(), String> {
    let text = toml::to_string(cfg).map_err(|e| e.to_string())?;
    std::fs::write(net.dir.join("anchor.toml"), text).map_err(|e| e.to_string())
}

/// Starts mip4.py for the v4only node with `key`, asks it to register
/// and returns (its index, the reply).
fn register(net: &mut Net, name: &str, key: &str) -> Result<(usize, Value), String> {
    let sim = script("sim/mip4.py");
    let i = net.start_sim(
        name,
        "anc-mag",
        &[&sim, "--nai", NAI, "--spi", SPI, "--key", key, "--ha", HA, "--mn-ns", MN_NS, "--coa", COA],
    )?;
    let rrp = net.answer(i, "register", "rrp")?;
    Ok((i, rrp))
}

fn body(net: &mut Net, mut cfg: toml::Table) -> Result<(), String> {
    let (first, rrp) = register(net, "mn", OLD_KEY)?;
    ensure!(rrp["code"] == 0, "first registration not accepted: {rrp}");
    net.sims[first].event("attached", Duration::from_secs(10))?;
    net.ping(MN_NS, CN_V4)?;
    let hoa = rrp["hoa"].as_str().unwrap_or_default().to_string();

    // Per-session counters: the pings went both ways through the tunnel.
    let b = net.ctl(&["show", "binding", NAI])?;
    let n = |k: &str| b[0][k].as_u64().unwrap_or(0);
    ensure!(
        n("packets_up") >= 3
            && n("packets_down") >= 3
            && n("bytes_up") >= 84 * n("packets_up")
            && n("bytes_down") >= 84 * n("packets_down"),
        "per-session counters after pings: {b}"
    );

    // The views: filters, peers, pools.
    let mine = net.ctl(&["show", "bindings", "role", "ha", "mn-id", "v4only"])?;
    ensure!(mine.as_array().is_some_and(|a| a.len() == 1 && a[0]["ipv4_hoa"] == hoa.as_str()), "filtered: {mine}");
    let none = net.ctl(&["show", "bindings", "role", "pmip6"])?;
    ensure!(none.as_array().is_some_and(Vec::is_empty), "no PMIPv6 binding expected: {none}");
    let by_peer = net.ctl(&["show", "bindings", "peer", COA])?;
    ensure!(by_peer.as_array().is_some_and(|a| a.len() == 1), "by care-of address: {by_peer}");
    let peers = net.ctl(&["show", "peers"])?;
    let peer_rows = peers.as_array().cloned().unwrap_or_default();
    ensure!(
        peer_rows.iter().any(|p| p["kind"] == "mag" && p["heartbeat"].is_string())
            && peer_rows.iter().any(|p| p["role"] == "mip4"),
        "show peers lists neither the MAGs with heartbeat state nor the FAs: {peers}"
    );
    let pools = net.ctl(&["show", "pools"])?;
    let v4 = pools
        .as_array()
        .and_then(|a| a.iter().find(|p| p["role"] == "mip4" && p["pool"] == "203.0.113.0/24").cloned())
        .ok_or_else(|| format!("no mip4 pool 203.0.113.0/24 in {pools}"))?;
    ensure!(v4["in_use"].as_u64() >= Some(1) && v4["size"] == 254, "pool usage: {v4}");

    // set log-level: a good filter is taken, a bad one refused.
    net.ctl(&["set", "log-level", "info"])?;
    ensure!(net.ctl(&["set", "log-level", "no=such=level"]).is_err(), "a malformed filter was accepted");

    // A change that needs a restart: refused, naming the key; nothing changes.
    let mut bad = cfg.clone();
    bad["dataplane"]["burst_size"] = toml::Value::Integer(16);
    bad["ha"]["mn"][0]["key"] = toml::Value::String(NEW_KEY.into());
    rewrite(net, &bad)?;
    let refused = net.ctl(&["reload"]).err().unwrap_or_default();
    ensure!(
        refused.contains("dataplane") && refused.contains("nothing changed"),
        "a dataplane change was not refused by name: {refused:?}"
    );

    // A file that does not load at all: refused with the loader's message.
    std::fs::write(net.dir.join("anchor.toml"), "[lma\nnot toml").map_err(|e| e.to_string())?;
    let broken = net.ctl(&["reload"]).err().unwrap_or_default();
    ensure!(
        broken.contains("anchor.toml") && broken.contains("nothing changed"),
        "a broken file was not refused naming it: {broken:?}"
    );

    // Allowed changes: a new key, one FA fewer, a lower rate, another level.
    cfg["ha"]["mn"][0]["key"] = toml::Value::String(NEW_KEY.into());
    if let Some(fas) = cfg["ha"]["fa"].as_array_mut() {
        fas.pop();
    }
    cfg["overload"]["peer_rate"] = toml::Value::Integer(500);
    cfg["log"]["level"] = toml::Value::String("info".into());
    rewrite(net, &cfg)?;
    let done = net.ctl(&["reload"])?;
    let changed: Vec<&str> =
        done["changed"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    ensure!(["ha", "overload", "log"].iter().all(|k| changed.contains(k)), "reload did not report its changes: {done}");
    let peers_after = net.ctl(&["show", "peers"])?;
    ensure!(
        peers_after.as_array().map(Vec::len) == Some(peer_rows.len() - 1),
        "show peers still lists the removed FA: {peers_after}"
    );

    // The binding is untouched and forwards.
    let b = net.ctl(&["show", "binding", NAI])?;
    ensure!(b[0]["ipv4_hoa"] == hoa.as_str(), "the binding changed across the reload: {b}");
    net.ping(MN_NS, CN_V4)?;
    net.ping("anc-cn", &hoa)?;

    // The old key no longer authenticates; the new one does.
    net.sims[first].stop();
    let (_, old) = register(net, "mn-old-key", OLD_KEY)?;
    ensure!(old["code"] == 131, "the old key after the reload got {old}");
    if let Some(s) = net.sims.last_mut() {
        s.stop();
    }
    let (_, new) = register(net, "mn-new-key", NEW_KEY)?;
    ensure!(new["code"] == 0, "the new key after the reload got {new}");

    // SIGHUP reloads too: back to the old key.
    cfg["ha"]["mn"][0]["key"] = toml::Value::String(OLD_KEY.into());
    rewrite(net, &cfg)?;
    let pid = net.daemon.as_ref().map(std::process::Child::id).ok_or("no daemon")?;
    net.sh(&["kill", "-HUP", &pid.to_string()]);
    wait_until(Duration::from_secs(5), "the SIGHUP reload in the log", || {
        Ok(net.log().contains("configuration reloaded on SIGHUP").then_some(()))
    })?;
    if let Some(s) = net.sims.last_mut() {
        s.stop();
    }
    let (_, back) = register(net, "mn-back", OLD_KEY)?;
    ensure!(back["code"] == 0, "the old key after SIGHUP got {back}");
    net.alive()
}
