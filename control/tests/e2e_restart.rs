//! End to end: the kill test of issue 7 (item 6). `anchord` runs in the demo
//! network as PMIPv6 LMA and Mobile IPv4 home agent with its session store
//! (`[store]`, a file in the test's directory); scripts/sim/mag.py registers
//! an IPv6 mobile node over GRE (its traffic in anc-mn) and
//! scripts/sim/mip4.py a Mobile IPv4 node over GRE (its traffic in
//! anc-mn2), both pinging the correspondent. Then anchord is killed with
//! SIGKILL — no chance to save anything — and started again on the same
//! config. The bindings must be back (`anchorctl show bindings`), the
//! traffic must flow again with no new registration (the LMA and the home
//! agent count none), a new registration must get neither restored address
//! nor prefix, and the RFC 5847 Restart Counter must be the same (no state
//! was lost). Then the same with `store.sync_replies = false`: killing such
//! a run may lose acknowledged changes, so the next start raises the
//! persisted Restart Counter by one.
//!
//! Needs root; skipped with a message otherwise. Every process started here
//! is ended by its pid and the namespaces are deleted by Drop guards, also
//! when the test fails; a failure prints the simulators' events, `anchorctl
//! show bindings/stats` and the tail of both of anchord's logs.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use serde_json::Value;

#[macro_use]
mod common;
use common::v4only::{KEY as MIP4_KEY, NAI as MIP4_NAI, SPI as MIP4_SPI};
use common::{guard, netns_exists, run, script, Env, Sim, CN_V4, CN_V6, MN_NS};

/// LMAA and the MAG (demo.toml [lma], [[lma.mag]]).
const LMAA: &str = "2001:db8:1::1";
const MAG1: &str = "2001:db8:1::2";
/// The home agent address and the MIPv4 node's co-located care-of address
/// (an address of anc-mag that is not one of the demo's foreign agents).
const HA: &str = "192.0.2.1";
const COA: &str = "192.0.2.10";
/// The PMIPv6 mobile nodes.
const PMIP_MN: &str = "v6only@anchor.test";
const PMIP_NEW: &str = "dual@anchor.test";
/// The MIPv4 node's namespace (the PMIPv6 node has anc-mn).
const MN2_NS: &str = "anc-mn2";

struct Net {
    env: Env,
    sims: Vec<Sim>,
    /// anchord's log before the kill.
    first_log: String,
}

impl Deref for Net {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.env
    }
}

impl DerefMut for Net {
    fn deref_mut(&mut self) -> &mut Env {
        &mut self.env
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // The simulators first (closing their TUNs); then anc-mn2; then the
        // Env field ends anchord and deletes the other namespaces.
        for s in &mut self.sims {
            s.stop();
        }
        if netns_exists(MN2_NS) {
            let _ = run(&["ip", "netns", "del", MN2_NS]);
        }
    }
}

impl Net {
    fn report(&mut self) -> String {
        let mut r = String::new();
        for s in &mut self.sims {
            r += &s.stop();
            r += "\n";
        }
        r += &format!("--- anchord log before the kill (tail):\n{}\n", common::tail(&self.first_log, 60));
        r + &self.daemon_report()
    }

    /// The binding of `mn_id` with `role` in `show bindings`, if listed.
    fn binding(&self, mn_id: &str, role: &str) -> Result<Option<Value>, String> {
        let list = self.ctl(&["show", "bindings"])?;
        let rows = list.as_array().ok_or_else(|| format!("show bindings is not an array: {list}"))?;
        Ok(rows.iter().find(|b| b["mn_id"] == mn_id && b["role"] == role).cloned())
    }

    /// Sends `line` to simulator `i` and waits for the event `event` whose
    /// `cmd` is the command's first word.
    fn answer(&mut self, i: usize, line: &str, event: &str) -> Result<Value, String> {
        self.sims[i].send(line)?;
        let cmd = line.split_whitespace().next().unwrap_or_default().to_string();
        self.sims[i].wait(&format!("the {event} answering {line:?}"), Duration::from_secs(15), |e| {
            e["event"] == event && e["cmd"] == cmd.as_str()
        })
    }

    /// The LMA's Restart Counter from a heartbeat exchange of mag.py, and
    /// whether mag.py saw it change since the last exchange.
    fn restart_counter(&mut self, mag: usize) -> Result<(u64, bool), String> {
        self.sims[mag].send("heartbeat")?;
        let ev = self.sims[mag].wait("a heartbeat response", Duration::from_secs(10), |e| {
            e["event"] == "heartbeat" && e["kind"] == "response"
        })?;
        let counter = ev["restart_counter"].as_u64();
        counter
            .map(|c| (c, ev["peer_restarted"] == true))
            .ok_or_else(|| format!("heartbeat response without a restart counter: {ev}"))
    }

    /// SIGKILL to anchord, then the same config again.
    fn kill_and_restart(&mut self, cfg: &toml::Table) -> Result<(), String> {
        let mut child = self.env.daemon.take().ok_or("anchord is not running")?;
        child.kill().map_err(|e| format!("kill -9 anchord: {e}"))?;
        let status = child.wait().map_err(|e| e.to_string())?;
        ensure!(!status.success(), "anchord exited cleanly after SIGKILL: {status}");
        self.first_log = self.env.log();
        self.env.start_anchord(cfg);
        Ok(())
    }
}

fn lma_counter(stats: &Value, name: &str) -> u64 {
    stats["lma"][name].as_u64().unwrap_or(0)
}

fn ha_counter(stats: &Value, name: &str) -> u64 {
    stats["ha"][name].as_u64().unwrap_or(0)
}

/// The fields of a binding that a restart must not change.
fn identity(b: &Value) -> Value {
    let keep = ["session", "mn_id", "role", "state", "ipv4_hoa", "hnps", "coa", "tunnel", "gre_key_in", "gre_key_out"];
    Value::Object(keep.iter().map(|k| (k.to_string(), b[*k].clone())).collect())
}

#[test]
fn bindings_survive_kill_9_and_forward_again_without_re_registration() {
    let Some(_g) = guard() else { return };
    let mut net =
        Net { env: Env::namespaces("anchor-restart", "kill", true), sims: Vec::new(), first_log: String::new() };
    net.sh(&["ip", "-n", "anc-mag", "addr", "add", &format!("{COA}/24"), "dev", "mag-core"]);
    net.sh(&["ip", "netns", "add", MN2_NS]);
    net.sh(&["ip", "-n", MN2_NS, "link", "set", "lo", "up"]);
    let mut cfg = net.demo_config();
    cfg.remove("binding");
    net.start_anchord(&cfg);
    if let Err(e) = body(&mut net, &cfg) {
        panic!("kill test: {e}\n{}", net.report());
    }
}

fn body(net: &mut Net, cfg: &toml::Table) -> Result<(), String> {
    // A PMIPv6 session over GRE (mag.py, mobile node in anc-mn).
    let mag_args: Vec<String> = [script("sim/mag.py")]
        .into_iter()
        .chain(["--mag", MAG1, "--lma", LMAA, "--mn-ns", MN_NS, "--tun", "mn0"].map(String::from))
        .collect();
    net.sims.push(Sim::start(&net.env.dir, "mag", "anc-mag", &mag_args)?);
    let mag = net.sims.len() - 1;
    let pba = net.answer(mag, &format!("attach {PMIP_MN} --ipv6 --gre --gre-key 5001"), "pba")?;
    ensure!(pba["status"] == 0, "PMIPv6 attach refused: {pba}");
    net.sims[mag].event("attached", Duration::from_secs(10))?;
    // A Mobile IPv4 binding over GRE (mip4.py, mobile node in anc-mn2).
    let mip4_args: Vec<String> = [script("sim/mip4.py")]
        .into_iter()
        .chain(
            [
                "--nai", MIP4_NAI, "--spi", MIP4_SPI, "--key", MIP4_KEY, "--ha", HA, "--coa", COA, "--encap", "gre",
                "--mn-ns", MN2_NS, "--tun", "mn1",
            ]
            .map(String::from),
        )
        .collect();
    net.sims.push(Sim::start(&net.env.dir, "mip4", "anc-mag", &mip4_args)?);
    let mn = net.sims.len() - 1;
    let rrp = net.answer(mn, "register", "rrp")?;
    ensure!(rrp["code"] == 0, "MIPv4 registration refused: {rrp}");
    net.sims[mn].event("attached", Duration::from_secs(10))?;
    let hoa = rrp["hoa"].as_str().unwrap_or_default().to_string();

    // Traffic flows both ways for both.
    net.ping(MN_NS, CN_V6)?;
    net.ping(MN2_NS, CN_V4)?;
    net.ping("anc-cn", &hoa)?;
    let pmip_before =
        net.binding(PMIP_MN, "pmip6")?.ok_or_else(|| "the PMIPv6 session is not listed before the kill".to_string())?;
    let mip4_before =
        net.binding(MIP4_NAI, "mip4")?.ok_or_else(|| "the MIPv4 binding is not listed before the kill".to_string())?;
    let hnp = pmip_before["hnps"][0].as_str().unwrap_or_default().to_string();
    let (counter_before, _) = net.restart_counter(mag)?;
    let stats = net.stats()?;
    ensure!(
        stats["store"]["batches_committed"].as_u64().unwrap_or(0) >= 1,
        "nothing committed to the store before the kill: {}",
        stats["store"]
    );

    // kill -9, and the same config again.
    net.kill_and_restart(cfg)?;

    // The bindings are back, as they were.
    let pmip_after = net.binding(PMIP_MN, "pmip6")?.ok_or("the PMIPv6 session was not restored")?;
    let mip4_after = net.binding(MIP4_NAI, "mip4")?.ok_or("the MIPv4 binding was not restored")?;
    ensure!(
        identity(&pmip_after) == identity(&pmip_before),
        "PMIPv6 session changed across the restart:\nbefore {pmip_before}\nafter  {pmip_after}"
    );
    ensure!(
        identity(&mip4_after) == identity(&mip4_before),
        "MIPv4 binding changed across the restart:\nbefore {mip4_before}\nafter  {mip4_after}"
    );
    let left = pmip_after["lifetime_left_s"].as_u64().unwrap_or(0);
    ensure!(left > 0 && left <= pmip_before["lifetime_left_s"].as_u64().unwrap_or(0), "lifetime left {left} s");
    let stats = net.stats()?;
    ensure!(
        stats["store"]["restored_pmip6"] == 1 && stats["store"]["restored_ha"] == 1,
        "show stats store: {}",
        stats["store"]
    );

    // Traffic resumes without re-registration.
    net.ping(MN_NS, CN_V6)?;
    net.ping(MN2_NS, CN_V4)?;
    net.ping("anc-cn", &hoa)?;
    let stats = net.stats()?;
    ensure!(
        lma_counter(&stats, "pbu_received") == 0 && ha_counter(&stats, "rrq_received") == 0,
        "a registration reached the restarted anchord (lma {}, ha {})",
        stats["lma"],
        stats["ha"]
    );

    // No session state was lost (every reply waited for its commit), so
    // the Restart Counter is the same and the MAG sees no restart
    // (PROTOCOLS.md §7: it goes up only on a restart that loses state).
    let (counter_after, restarted) = net.restart_counter(mag)?;
    ensure!(
        counter_after == counter_before && !restarted,
        "restart counter {counter_before} before the kill, {counter_after} after (peer_restarted {restarted})"
    );

    // A new registration gets neither the restored prefix nor the restored
    // IPv4 home address (held by the other role).
    let pba = net.answer(mag, &format!("attach {PMIP_NEW} --ipv4 --ipv6 --no-dataplane"), "pba")?;
    ensure!(pba["status"] == 0, "new PMIPv6 registration refused: {pba}");
    let new_hnps: Vec<&str> = pba["hnps"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let new_hoa = pba["ipv4_hoa"].as_str().unwrap_or_default();
    ensure!(!new_hnps.is_empty() && !new_hoa.is_empty(), "the new registration got no addresses: {pba}");
    ensure!(!new_hnps.contains(&hnp.as_str()), "the new session got the restored prefix {hnp}: {pba}");
    ensure!(new_hoa != hoa, "the new session got the restored MIPv4 home address {hoa}: {pba}");
    // And the restored ones still forward.
    net.ping(MN_NS, CN_V6)?;
    net.ping(MN2_NS, CN_V4)?;

    // Now replies that do not wait for the disk: the first restart into
    // that mode follows a run that lost nothing (same counter); killing a
    // run in that mode may have lost acknowledged changes, so the next
    // start counts a restart that lost state: the persisted counter goes up
    // by one and the MAG sees it.
    let mut lossy = cfg.clone();
    lossy["store"]["sync_replies"] = toml::Value::Boolean(false);
    net.kill_and_restart(&lossy)?;
    let (c, restarted) = net.restart_counter(mag)?;
    ensure!(c == counter_before && !restarted, "restart counter {c} after a restart that lost nothing");
    net.kill_and_restart(&lossy)?;
    let (c, restarted) = net.restart_counter(mag)?;
    ensure!(
        c == counter_before + 1 && restarted,
        "restart counter {c} (was {counter_before}) after killing a run with sync_replies = false (peer_restarted {restarted})"
    );
    // The committed bindings are back all the same, and forward.
    ensure!(net.binding(PMIP_MN, "pmip6")?.is_some(), "the PMIPv6 session was not restored the third time");
    ensure!(net.binding(MIP4_NAI, "mip4")?.is_some(), "the MIPv4 binding was not restored the third time");
    net.ping(MN_NS, CN_V6)?;
    net.ping(MN2_NS, CN_V4)?;
    Ok(())
}
