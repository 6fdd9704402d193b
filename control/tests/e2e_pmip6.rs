//! End to end: `anchord` as a PMIPv6 LMA (RFC 5213, RFC 5844 IPv4 support and
//! transport, RFC 5845 GRE keys, RFC 5846 revocation; PROTOCOLS.md §3-§7) in
//! the demo network (scripts/netns.sh). scripts/sim/mag.py plays the MAGs in
//! anc-mag: it signals with real PBUs and, once registered, carries the
//! mobile node's traffic through a userspace tunnel whose TUN device is the
//! mobile node's interface in the namespace anc-mn. The correspondent is
//! anc-cn (198.51.100.2, 2001:db8:2::2). scripts/sim/pbu_craft.py sends
//! hand-made, malformed PBUs with scapy.
//!
//! Each test starts its own anchord (config/demo.toml with its own CLI
//! socket and EAL file prefix, no static binding, MinDelayBeforeBCEDelete
//! shortened to 6 s; the IPv4-UDP test also sets lma.accept_forced_udp) and
//! talks to mag.py through its stdin (commands) and stdout (one JSON event
//! per line), waiting for the events with a timeout rather than sleeping.
//!
//! Needs root; skipped with a message otherwise. The tests share the demo
//! namespaces, so they hold one lock and run one after the other. Every
//! process started here is ended by its pid, and the namespaces (the demo
//! ones and anc-mn) are deleted by a Drop guard, also when a test fails; a
//! failure prints the simulators' events and stderr, `anchorctl show
//! bindings/stats` and the tail of anchord's log.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::{Deref, DerefMut};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

#[macro_use]
mod common;
use common::{guard, script, wait_until, Env, Sim, CN_V4, CN_V6, MN_NS};

/// LMAA and IPv4-LMAA (demo.toml [lma]).
const LMAA: &str = "2001:db8:1::1";
const LMAA_V4: &str = "192.0.2.1";
/// MAG1 and MAG2 on the allow-list (demo.toml [[lma.mag]]).
const MAG1: &str = "2001:db8:1::2";
const MAG2: &str = "2001:db8:1::3";
const MAG1_V4: &str = "192.0.2.2";
/// An address of anc-mag that is not on the allow-list.
const UNLISTED: &str = "2001:db8:1::9";
/// MinDelayBeforeBCEDelete in the tests' config.
const BCE_DELETE_DELAY: Duration = Duration::from_secs(6);

const DUAL: &str = "dual@anchor.test";
const V4ONLY: &str = "v4only@anchor.test";
const V6ONLY: &str = "v6only@anchor.test";
const STATIC4: &str = "static4@anchor.test";

/// One mag.py process.
type Mag = Sim;

impl Sim {
    /// Sends a PBU-sending command (attach, refresh, detach, handoff) and
    /// returns its "pba" event (a timeout shows as `"timeout": true`).
    fn pbu(&mut self, line: &str) -> Result<Value, String> {
        self.send(line)?;
        let cmd = line.split_whitespace().next().unwrap_or_default().to_string();
        // Three tries (1 s, 2 s, 4 s) at most, plus margin.
        self.wait(&format!("the PBA answering {line:?}"), Duration::from_secs(15), |e| {
            e["event"] == "pba" && e["cmd"] == cmd.as_str()
        })
    }

    /// `attach ...`: the "pba" event and, when accepted, the "attached" one
    /// (mobile node and tunnel set up).
    fn attach(&mut self, args: &str) -> Result<(Value, Option<Value>), String> {
        let pba = self.pbu(&format!("attach {args}"))?;
        if pba["status"].as_u64().is_some_and(|s| s < 128) {
            let attached = self.event("attached", Duration::from_secs(10))?;
            Ok((pba, Some(attached)))
        } else {
            Ok((pba, None))
        }
    }

    /// An accepted attach: (PBA, attached), or an error naming what came back.
    fn attach_ok(&mut self, args: &str) -> Result<(Value, Value), String> {
        match self.attach(args)? {
            (pba, Some(attached)) => Ok((pba, attached)),
            (pba, None) => Err(format!("attach {args}: not accepted: {pba}")),
        }
    }
}

/// The demo network, anc-mn, a running anchord and the simulators started
/// for a test; everything is ended and deleted on drop.
struct Net {
    env: Env,
    mags: Vec<Mag>,
    /// Reports of simulators already stopped.
    stopped: String,
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

impl Net {
    /// Builds the namespaces and starts anchord with the demo config, changed
    /// by `tweak`.
    fn start(tag: &str, tweak: impl FnOnce(&mut toml::Table)) -> Net {
        let mut net = Net { env: Env::namespaces("anchor-pmip6", tag, true), mags: Vec::new(), stopped: String::new() };
        let mut cfg = net.demo_config();
        // Only signalled sessions: the demo's static binding is left out.
        cfg.remove("binding");
        let delay_ms = i64::try_from(BCE_DELETE_DELAY.as_millis()).unwrap();
        cfg["lma"]["min_delay_before_bce_delete_ms"] = toml::Value::Integer(delay_ms);
        tweak(&mut cfg);
        net.start_anchord(&cfg);
        net
    }

    /// The PMIPv6 binding of `mn_id` in `show bindings`, if listed.
    fn binding(&self, mn_id: &str) -> Result<Option<Value>, String> {
        let list = self.ctl(&["show", "bindings"])?;
        let rows = list.as_array().ok_or_else(|| format!("show bindings is not an array: {list}"))?;
        Ok(rows.iter().find(|b| b["mn_id"] == mn_id && b["role"] == "pmip6").cloned())
    }

    /// Starts mag.py in anc-mag (`args`: its command line) and waits for "ready".
    fn mag(&mut self, name: &str, args: &[&str]) -> Result<usize, String> {
        let mut argv = vec![script("sim/mag.py")];
        argv.extend(args.iter().map(|a| a.to_string()));
        argv.extend(["--mn-ns".to_string(), MN_NS.to_string()]);
        let sim = Sim::start(&self.env.dir, name, "anc-mag", &argv)?;
        self.mags.push(sim);
        Ok(self.mags.len() - 1)
    }

    /// Ends simulator `i` (by pid) and keeps its report.
    fn stop_mag(&mut self, i: usize) {
        let report = self.mags[i].stop();
        self.stopped += &report;
        self.stopped += "\n";
    }

    /// Everything useful after a failure: the simulators' events and stderr,
    /// anchord's view and log. Ends the simulators.
    fn report(&mut self) -> String {
        let mut r = std::mem::take(&mut self.stopped);
        for m in &mut self.mags {
            r += &m.stop();
            r += "\n";
        }
        r + &self.daemon_report()
    }

    /// Runs scripts/sim/pbu_craft.py in anc-mag; its JSON line.
    fn craft(&self, mac: &str, case: &str, mn_id: &str, tries: u32) -> Result<Value, String> {
        let out = Command::new("ip")
            .args(["netns", "exec", "anc-mag", "/usr/bin/python3"])
            .arg(script("sim/pbu_craft.py"))
            .args(["--mac", mac, "--case", case, "--mag", MAG1, "--lma", LMAA, "--mn-id", mn_id])
            .args(["--tries", &tries.to_string(), "--timeout", "1"])
            .output()
            .map_err(|e| format!("pbu_craft {case}: {e}"))?;
        ensure!(out.status.success(), "pbu_craft {case} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "pbu_craft {case}: {e}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Simulators first (closing the TUN removes it from anc-mn); then
        // the Env field ends anchord and deletes the namespaces.
        for m in &mut self.mags {
            m.stop();
        }
    }
}

/// Starts the network with `tweak`ed config, runs `body`, and on failure
/// panics with its error and the report.
fn run_test(tag: &str, tweak: impl FnOnce(&mut toml::Table), body: impl FnOnce(&mut Net) -> Result<(), String>) {
    let Some(_g) = guard() else { return };
    let mut net = Net::start(tag, tweak);
    if let Err(e) = body(&mut net) {
        panic!("{tag}: {e}\n{}", net.report());
    }
}

// ------------------------------------------------------------------ checks

fn u64_of(v: &Value) -> Option<u64> {
    v.as_u64()
}

/// A counter of the LMA in `show stats` (`lma.<name>`), 0 when absent.
fn lma_counter(stats: &Value, name: &str) -> u64 {
    stats["lma"][name].as_u64().unwrap_or(0)
}

/// Packets the workers encapsulated (`what` = "encap") or decapsulated
/// ("decap") for tunnel kind `kind`, summed over the workers.
fn worker_count(stats: &Value, what: &str, kind: &str) -> u64 {
    stats["workers"].as_array().map_or(0, |ws| ws.iter().filter_map(|w| w[what][kind].as_u64()).sum())
}

/// All encapsulations of every kind, summed over the workers.
fn all_encaps(stats: &Value) -> u64 {
    stats["workers"].as_array().map_or(0, |ws| {
        ws.iter().filter_map(|w| w["encap"].as_object()).flat_map(|m| m.values()).filter_map(Value::as_u64).sum()
    })
}

/// "prefix/len" normalised (so that differently written IPv6 prefixes compare).
fn norm_prefix(s: &str) -> String {
    match s.split_once('/') {
        Some((a, l)) => a.parse::<Ipv6Addr>().map_or_else(|_| s.to_string(), |a| format!("{a}/{l}")),
        None => s.to_string(),
    }
}

fn prefixes(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(norm_prefix).collect()).unwrap_or_default()
}

/// An IPv4 HoA from the demo pool 203.0.113.0/24 (not its network, broadcast
/// or default router address).
fn in_v4_pool(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok_and(|a| {
        let o = a.octets();
        o[..3] == [203, 0, 113] && ![0, 1, 255].contains(&o[3])
    })
}

/// A /64 from the demo aggregate 2001:db8:100::/48.
fn in_hnp_pool(s: &str) -> bool {
    let Some((a, l)) = s.split_once('/') else { return false };
    a.parse::<Ipv6Addr>().is_ok_and(|a| {
        let seg = a.segments();
        seg[..3] == [0x2001, 0xdb8, 0x100] && seg[4..] == [0; 4]
    }) && l == "64"
}

/// The mobile node's addresses from mag.py's "attached"/"handoff" event:
/// (IPv4 HoA, IPv6 address in the HNP).
fn mn_addrs(ev: &Value) -> (Option<String>, Option<String>) {
    let mut v4 = None;
    let mut v6 = None;
    for a in ev["mn_addrs"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let addr = a.split('/').next().unwrap_or(a).to_string();
        if addr.contains(':') {
            v6.get_or_insert(addr);
        } else {
            v4.get_or_insert(addr);
        }
    }
    (v4, v6)
}

/// What `show bindings` must say about a PMIPv6 session.
struct Want<'a> {
    mn_id: &'a str,
    state: &'a str,
    coa: &'a str,
    tunnel: &'a str,
    ipv4_hoa: Option<&'a str>,
    hnps: Vec<String>,
    /// (gre_key_in = uplink key from the PBA, gre_key_out = our downlink key)
    keys: Option<(u64, u64)>,
}

/// A refused PBA (RFC 5844 §3.1.2.1, PROTOCOLS.md §4.4): an IPv4 HoA Reply
/// with a failure status, no IPv4 home address, no home network prefix.
fn refused_assigns_nothing(pba: &Value) -> Result<(), String> {
    ensure!(
        u64_of(&pba["ipv4_hoa_status"]).is_some_and(|s| s >= 128),
        "the refusal has no IPv4 HoA Reply with a failure status: {pba}"
    );
    ensure!(!pba["ipv4_hoa"].as_str().is_some_and(in_v4_pool), "a refused PBA assigned an IPv4 HoA: {pba}");
    ensure!(prefixes(&pba["hnps"]).iter().all(|p| p.starts_with("::/")), "a refused PBA assigned an HNP: {pba}");
    Ok(())
}

fn check_binding(net: &Net, w: &Want<'_>) -> Result<Value, String> {
    let b = net.binding(w.mn_id)?.ok_or_else(|| format!("binding {} not listed", w.mn_id))?;
    let mut bad = Vec::new();
    let mut want = |field: &str, ok: bool| {
        if !ok {
            bad.push(field.to_string());
        }
    };
    for field in [
        "id",
        "role",
        "state",
        "ipv4_hoa",
        "hnps",
        "ipv6_hoa",
        "coa",
        "tunnel",
        "gre_key_in",
        "gre_key_out",
        "lifetime_left_s",
    ] {
        want(field, b.get(field).is_some());
    }
    want("role", b["role"] == "pmip6");
    want("state", b["state"] == w.state);
    want("coa", b["coa"] == w.coa);
    want("tunnel", b["tunnel"] == w.tunnel);
    want("ipv4_hoa", w.ipv4_hoa.map_or(b["ipv4_hoa"].is_null(), |a| b["ipv4_hoa"] == a));
    want("hnps", prefixes(&b["hnps"]) == w.hnps);
    want("ipv6_hoa", b["ipv6_hoa"].is_null());
    let (kin, kout) = w.keys.map_or((Value::Null, Value::Null), |(i, o)| (Value::from(i), Value::from(o)));
    want("gre_key_in", b["gre_key_in"] == kin);
    want("gre_key_out", b["gre_key_out"] == kout);
    if bad.is_empty() {
        Ok(b)
    } else {
        Err(format!("binding fields {bad:?} are not as expected for {}: {b}", w.mn_id))
    }
}

/// An accepted PBA for a dual-stack request: status 0, one HNP from the pool,
/// an IPv4 HoA from the pool with its Reply status 0, prefix length 24 and
/// the default router. Returns (IPv4 HoA, HNP).
fn check_dual_pba(pba: &Value) -> Result<(String, String), String> {
    ensure!(pba["status"] == 0, "PBA status is not 0: {pba}");
    ensure!(pba["p"] == true, "PBA without the P flag: {pba}");
    ensure!(u64_of(&pba["lifetime_s"]).is_some_and(|l| l > 0), "PBA grants no lifetime: {pba}");
    let hnps = prefixes(&pba["hnps"]);
    ensure!(hnps.len() == 1 && in_hnp_pool(&hnps[0]), "PBA HNPs {hnps:?} are not one /64 of 2001:db8:100::/48: {pba}");
    let hoa = pba["ipv4_hoa"].as_str().unwrap_or_default().to_string();
    ensure!(in_v4_pool(&hoa), "PBA IPv4 HoA {hoa:?} is not from 203.0.113.0/24: {pba}");
    ensure!(pba["ipv4_hoa_status"] == 0, "IPv4 HoA Reply status is not 0: {pba}");
    ensure!(pba["prefix_len"] == 24, "IPv4 HoA prefix length is not 24: {pba}");
    ensure!(pba["default_router"] == "203.0.113.1", "IPv4 default router is not 203.0.113.1: {pba}");
    Ok((hoa, hnps[0].clone()))
}

// ------------------------------------------------------------------- tests

#[test]
fn a_dual_stack_mobile_node_attaches_over_ipv6_with_gre_keys_and_pings_the_correspondent_both_ways() {
    run_test(
        "dual",
        |_| {},
        |net| {
            let m = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA])?;
            let (pba, attached) = net.mags[m].attach_ok(&format!("{DUAL} --ipv4 --ipv6 --gre --gre-key 5001"))?;
            let (hoa, hnp) = check_dual_pba(&pba)?;
            ensure!(pba["gre"] == true, "PBA without a GRE Key option: {pba}");
            let key_up = u64_of(&pba["gre_key"]).ok_or_else(|| format!("PBA GRE Key option without a key: {pba}"))?;
            ensure!(attached["mode"] == "gre", "mag.py did not choose GRE: {attached}");

            let (mn4, mn6) = mn_addrs(&attached);
            let mn6 = mn6.ok_or_else(|| format!("the mobile node got no IPv6 address: {attached}"))?;
            ensure!(mn4.as_deref() == Some(hoa.as_str()), "the mobile node's IPv4 address is not the HoA: {attached}");
            net.ping(MN_NS, CN_V4)?;
            net.ping(MN_NS, CN_V6)?;
            net.ping("anc-cn", &hoa)?;
            net.ping("anc-cn", &mn6)?;

            check_binding(
                net,
                &Want {
                    mn_id: DUAL,
                    state: "active",
                    coa: MAG1,
                    tunnel: "gre",
                    ipv4_hoa: Some(&hoa),
                    hnps: vec![hnp],
                    keys: Some((key_up, 5001)),
                },
            )?;
            let stats = net.stats()?;
            ensure!(
                lma_counter(&stats, "sessions_created") >= 1,
                "lma.sessions_created did not count: {}",
                stats["lma"]
            );
            let (enc, dec) = (worker_count(&stats, "encap", "gre"), worker_count(&stats, "decap", "gre"));
            // 6 echo requests from the MN, 6 replies to the CN's 6 requests.
            ensure!(
                enc >= 12 && dec >= 12,
                "workers counted {enc} GRE encapsulations, {dec} decapsulations (want >= 12)"
            );
            Ok(())
        },
    );
}

#[test]
fn an_ipv4_only_mobile_node_gets_only_an_ipv4_home_address_and_its_ipv6_request_is_refused() {
    run_test(
        "v4only",
        |_| {},
        |net| {
            let m = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA])?;
            // Both families asked for: RFC 5844 §3.1.2.1 (PROTOCOLS.md §4.2) → 172,
            // the IPv4 HoA Reply present with a failure status (§4.4).
            let (pba, attached) = net.mags[m].attach(&format!("{V4ONLY} --ipv4 --ipv6 --gre"))?;
            ensure!(attached.is_none(), "attach with an HNP option was accepted: {pba}");
            ensure!(pba["status"] == 172, "PBA status is not 172 (NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE): {pba}");
            refused_assigns_nothing(&pba)?;
            ensure!(pba["default_router"].is_null(), "a refused PBA carries a default router: {pba}");
            ensure!(net.binding(V4ONLY)?.is_none(), "a refused PBU left a binding");

            // IPv4 only: accepted, an IPv4 HoA and no HNP option (§4.4).
            let (pba, attached) = net.mags[m].attach_ok(&format!("{V4ONLY} --ipv4 --gre --gre-key 5002"))?;
            ensure!(pba["status"] == 0, "PBA status is not 0: {pba}");
            let hoa = pba["ipv4_hoa"].as_str().unwrap_or_default().to_string();
            ensure!(in_v4_pool(&hoa) && pba["ipv4_hoa_status"] == 0, "no IPv4 HoA assigned: {pba}");
            ensure!(pba["hnps"].as_array().is_some_and(Vec::is_empty), "an IPv4-only PBA carries HNP options: {pba}");
            ensure!(pba["default_router"] == "203.0.113.1", "IPv4 default router is not 203.0.113.1: {pba}");
            let (_, mn6) = mn_addrs(&attached);
            ensure!(mn6.is_none(), "the mobile node got an IPv6 address: {attached}");
            net.ping(MN_NS, CN_V4)?;
            net.ping("anc-cn", &hoa)?;
            let key_up = u64_of(&pba["gre_key"]).ok_or_else(|| format!("no uplink GRE key: {pba}"))?;
            check_binding(
                net,
                &Want {
                    mn_id: V4ONLY,
                    state: "active",
                    coa: MAG1,
                    tunnel: "gre",
                    ipv4_hoa: Some(&hoa),
                    hnps: vec![],
                    keys: Some((key_up, 5002)),
                },
            )?;
            Ok(())
        },
    );
}

#[test]
fn an_ipv6_only_mobile_node_gets_only_a_home_network_prefix_and_its_ipv4_request_is_refused() {
    run_test(
        "v6only",
        |_| {},
        |net| {
            let m = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA])?;
            // Both families asked for: PROTOCOLS.md §4.2 → 170, with an IPv4 HoA
            // Reply carrying a failure status (§4.4).
            let (pba, attached) = net.mags[m].attach(&format!("{V6ONLY} --ipv4 --ipv6"))?;
            ensure!(attached.is_none(), "attach with an IPv4 HoA Request was accepted: {pba}");
            ensure!(pba["status"] == 170, "PBA status is not 170 (NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE): {pba}");
            refused_assigns_nothing(&pba)?;
            ensure!(net.binding(V6ONLY)?.is_none(), "a refused PBU left a binding");

            // IPv6 only: accepted, one HNP, no IPv4 HoA Reply.
            let (pba, attached) = net.mags[m].attach_ok(&format!("{V6ONLY} --ipv6"))?;
            ensure!(pba["status"] == 0, "PBA status is not 0: {pba}");
            let hnps = prefixes(&pba["hnps"]);
            ensure!(hnps.len() == 1 && in_hnp_pool(&hnps[0]), "PBA HNPs {hnps:?} are not one /64 of the pool: {pba}");
            ensure!(
                pba["ipv4_hoa"].is_null() && pba["ipv4_hoa_status"].is_null() && pba["default_router"].is_null(),
                "an IPv6-only PBA carries IPv4 options: {pba}"
            );
            let (mn4, mn6) = mn_addrs(&attached);
            ensure!(mn4.is_none(), "the mobile node got an IPv4 address: {attached}");
            let mn6 = mn6.ok_or_else(|| format!("the mobile node got no IPv6 address: {attached}"))?;
            net.ping(MN_NS, CN_V6)?;
            net.ping("anc-cn", &mn6)?;
            check_binding(
                net,
                &Want { mn_id: V6ONLY, state: "active", coa: MAG1, tunnel: "ipip", ipv4_hoa: None, hnps, keys: None },
            )?;
            Ok(())
        },
    );
}

#[test]
fn a_handoff_from_mag1_to_mag2_moves_the_binding_and_the_traffic_follows() {
    run_test(
        "handoff",
        |_| {},
        |net| {
            let m = net.mag("mag", &["--mag", MAG1, "--lma", LMAA])?;
            let (pba, attached) = net.mags[m].attach_ok(&format!("{DUAL} --ipv4 --ipv6 --gre --gre-key 5001"))?;
            let (hoa, hnp) = check_dual_pba(&pba)?;
            let key_up = u64_of(&pba["gre_key"]).ok_or_else(|| format!("no uplink GRE key: {pba}"))?;
            let (_, mn6) = mn_addrs(&attached);
            let mn6 = mn6.ok_or_else(|| format!("the mobile node got no IPv6 address: {attached}"))?;
            net.ping(MN_NS, CN_V4)?;
            net.ping(MN_NS, CN_V6)?;
            let want = |coa| Want {
                mn_id: DUAL,
                state: "active",
                coa,
                tunnel: "gre",
                ipv4_hoa: Some(&hoa),
                hnps: vec![hnp.clone()],
                keys: Some((key_up, 5001)),
            };
            check_binding(net, &want(MAG1))?;

            // HI 3 from MAG2: same HNP, HoA and uplink key (RFC 5845, §5.1).
            let pba2 = net.mags[m].pbu(&format!("handoff {MAG2}"))?;
            ensure!(pba2["status"] == 0, "handoff PBA status is not 0: {pba2}");
            ensure!(pba2["to"] == MAG2, "the handoff PBA did not go to MAG2: {pba2}");
            ensure!(prefixes(&pba2["hnps"]) == vec![hnp.clone()], "the handoff changed the HNP: {pba2}");
            ensure!(pba2["ipv4_hoa"] == hoa.as_str(), "the handoff changed the IPv4 HoA: {pba2}");
            ensure!(u64_of(&pba2["gre_key"]) == Some(key_up), "the handoff changed the uplink GRE key: {pba2}");
            let ev = net.mags[m].event("handoff", Duration::from_secs(5))?;
            ensure!(ev["from"] == MAG1 && ev["to"] == MAG2, "mag.py did not move to MAG2: {ev}");

            net.ping(MN_NS, CN_V4)?;
            net.ping(MN_NS, CN_V6)?;
            net.ping("anc-cn", &hoa)?;
            net.ping("anc-cn", &mn6)?;
            check_binding(net, &want(MAG2))?;
            let stats = net.stats()?;
            ensure!(lma_counter(&stats, "handoffs") >= 1, "lma.handoffs did not count: {}", stats["lma"]);
            ensure!(
                lma_counter(&stats, "sessions_created") == 1,
                "the handoff created a new session: {}",
                stats["lma"]
            );
            Ok(())
        },
    );
}

#[test]
fn a_deregistration_is_acknowledged_stops_the_traffic_and_deletes_the_binding_after_the_delay() {
    run_test(
        "dereg",
        |_| {},
        |net| {
            let m = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA])?;
            let (pba, attached) = net.mags[m].attach_ok(&format!("{DUAL} --ipv4 --ipv6 --gre --gre-key 5001"))?;
            let (hoa, _) = check_dual_pba(&pba)?;
            let (_, mn6) = mn_addrs(&attached);
            let mn6 = mn6.ok_or_else(|| format!("the mobile node got no IPv6 address: {attached}"))?;
            net.ping(MN_NS, CN_V4)?;
            net.ping("anc-cn", &hoa)?;

            // Sent before the LMA can have processed it: time measured from
            // here is an upper bound of the time since the de-registration.
            let t0 = Instant::now();
            let pba = net.mags[m].pbu("detach")?;
            ensure!(pba["status"] == 0, "de-registration PBA status is not 0: {pba}");
            ensure!(pba["lifetime_s"] == 0, "de-registration PBA lifetime is not 0: {pba}");
            let ev = net.mags[m].event("detached", Duration::from_secs(5))?;
            ensure!(ev["reason"] == "de-registration" && ev["acknowledged"] == true, "unexpected: {ev}");

            // PROTOCOLS.md §3.4.4: kept "deprecated" for MinDelayBeforeBCEDelete,
            // its traffic dropped.
            let b = net.binding(DUAL)?.ok_or("the binding vanished at once, without MinDelayBeforeBCEDelete")?;
            ensure!(b["state"] == "deprecated", "the de-registered binding is not deprecated: {b}");
            let before = all_encaps(&net.stats()?);
            net.ping_fails("anc-cn", &hoa, 2)?;
            net.ping_fails("anc-cn", &mn6, 2)?;
            let after = all_encaps(&net.stats()?);
            ensure!(after == before, "{} packets were tunnelled to the de-registered mobile node", after - before);
            if t0.elapsed() + Duration::from_secs(1) < BCE_DELETE_DELAY {
                let b = net.binding(DUAL)?.ok_or("the binding was deleted before MinDelayBeforeBCEDelete")?;
                ensure!(b["state"] == "deprecated", "the de-registered binding is not deprecated: {b}");
            }

            wait_until(BCE_DELETE_DELAY + Duration::from_secs(5), "the binding's deletion", || {
                Ok(net.binding(DUAL)?.is_none().then_some(()))
            })?;
            let gone = t0.elapsed();
            ensure!(
                gone + Duration::from_secs(1) >= BCE_DELETE_DELAY,
                "the binding was deleted {gone:?} after the de-registration, before {BCE_DELETE_DELAY:?}"
            );
            let stats = net.stats()?;
            ensure!(lma_counter(&stats, "deregistrations") >= 1, "lma.deregistrations did not count: {}", stats["lma"]);
            Ok(())
        },
    );
}

#[test]
fn a_binding_that_is_not_refreshed_is_removed_when_its_lifetime_expires() {
    run_test(
        "expiry",
        |_| {},
        |net| {
            let m = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA])?;
            // Before the registration: time measured from here is an upper
            // bound of the binding's age.
            let t0 = Instant::now();
            let (pba, _) = net.mags[m].attach_ok(&format!("{DUAL} --ipv4 --ipv6 --gre --lifetime 8"))?;
            check_dual_pba(&pba)?;
            let granted = u64_of(&pba["lifetime_s"]).unwrap_or(0);
            ensure!(granted > 0 && granted <= 8, "granted lifetime {granted} s, asked for 8 s: {pba}");
            let lifetime = Duration::from_secs(granted);

            // The MAG goes away without de-registering.
            net.mags[m].send("quit")?;
            net.mags[m].event("exit", Duration::from_secs(5))?;
            net.stop_mag(m);
            if t0.elapsed() + Duration::from_secs(1) < lifetime {
                let b = net.binding(DUAL)?.ok_or("the binding vanished before its lifetime ran out")?;
                ensure!(b["state"] == "active", "the binding is not active before expiry: {b}");
                ensure!(
                    u64_of(&b["lifetime_left_s"]).is_some_and(|l| l <= granted),
                    "lifetime_left_s is more than the granted {granted} s: {b}"
                );
            }
            wait_until(lifetime + Duration::from_secs(8), "the expired binding's removal", || {
                Ok(net.binding(DUAL)?.is_none().then_some(()))
            })?;
            let gone = t0.elapsed();
            ensure!(
                gone + Duration::from_secs(1) >= lifetime,
                "the binding was removed {gone:?} after a {lifetime:?} lifetime"
            );
            let stats = net.stats()?;
            ensure!(
                lma_counter(&stats, "sessions_expired") >= 1,
                "lma.sessions_expired did not count: {}",
                stats["lma"]
            );
            Ok(())
        },
    );
}

/// Attach over IPv4 transport with `flags`, ping both ways in both families,
/// check the binding (tunnel `tunnel`) and the workers' counters for it.
fn ipv4_transport(net: &mut Net, flags: &str, tunnel: &str) -> Result<Value, String> {
    let m = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA, "--mag4", MAG1_V4, "--lma4", LMAA_V4])?;
    let (pba, attached) = net.mags[m].attach_ok(&format!("{DUAL} --ipv4 --ipv6 --transport v4 {flags}"))?;
    let (hoa, hnp) = check_dual_pba(&pba)?;
    ensure!(pba["transport"] == "v4" && pba["from"] == LMAA_V4, "the PBA did not come over IPv4: {pba}");
    ensure!(attached["mode"] == tunnel, "mag.py chose {} instead of {tunnel}: {attached}", attached["mode"]);
    let (_, mn6) = mn_addrs(&attached);
    let mn6 = mn6.ok_or_else(|| format!("the mobile node got no IPv6 address: {attached}"))?;
    net.ping(MN_NS, CN_V4)?;
    net.ping(MN_NS, CN_V6)?;
    net.ping("anc-cn", &hoa)?;
    net.ping("anc-cn", &mn6)?;
    let keys = match (tunnel, u64_of(&pba["gre_key"])) {
        ("gre", Some(up)) => Some((up, 6001)),
        ("gre", None) => return Err(format!("no uplink GRE key: {pba}")),
        _ => None,
    };
    check_binding(
        net,
        &Want { mn_id: DUAL, state: "active", coa: MAG1_V4, tunnel, ipv4_hoa: Some(&hoa), hnps: vec![hnp], keys },
    )?;
    let stats = net.stats()?;
    let (enc, dec) = (worker_count(&stats, "encap", tunnel), worker_count(&stats, "decap", tunnel));
    ensure!(enc >= 12 && dec >= 12, "workers counted {enc} {tunnel} encapsulations, {dec} decapsulations (want >= 12)");
    Ok(pba)
}

#[test]
fn over_ipv4_transport_a_gre_tunnel_carries_ipv4_and_ipv6() {
    run_test(
        "v4gre",
        |_| {},
        |net| {
            let pba = ipv4_transport(net, "--gre --gre-key 6001", "gre")?;
            ensure!(pba["gre"] == true, "PBA without a GRE Key option: {pba}");
            Ok(())
        },
    );
}

#[test]
fn over_ipv4_transport_a_forced_ipv4_udp_tunnel_carries_ipv4_and_ipv6_when_the_lma_accepts_it() {
    run_test(
        "v4udp",
        |cfg| {
            cfg["lma"]["accept_forced_udp"] = toml::Value::Boolean(true);
        },
        |net| {
            let pba = ipv4_transport(net, "--udp", "udp")?;
            // PROTOCOLS.md §4.8.4: UDP mode confirmed by NAT Detection with F = 1.
            ensure!(pba["nat_detection"]["f"] == true, "PBA without NAT Detection F = 1: {pba}");
            ensure!(pba["gre"] == false, "PBA with a GRE Key option although none was asked for: {pba}");
            Ok(())
        },
    );
}

#[test]
fn clearing_a_binding_from_the_cli_revokes_it_at_the_mag_and_removes_it() {
    run_test(
        "revoke",
        |_| {},
        |net| {
            let m = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA])?;
            let (pba, _) = net.mags[m].attach_ok(&format!("{DUAL} --ipv4 --ipv6 --gre"))?;
            check_dual_pba(&pba)?;
            net.ping(MN_NS, CN_V4)?;

            net.ctl(&["clear", "binding", DUAL])?;
            // RFC 5846 (PROTOCOLS.md §6.1): a BRI with P = 1 and the MN-ID; mag.py
            // answers with a BRA status 0.
            let bri = net.mags[m].event("bri", Duration::from_secs(5))?;
            ensure!(bri["p"] == true, "BRI without the P flag: {bri}");
            ensure!(bri["g"] == false, "a per-MN BRI with the G flag: {bri}");
            ensure!(
                bri["mn_ids"].as_array().is_some_and(|a| a.iter().any(|x| x == DUAL)),
                "BRI without the MN-ID: {bri}"
            );
            ensure!(bri["from"] == LMAA && bri["to"] == MAG1, "BRI not from the LMAA to MAG1: {bri}");
            ensure!(bri["status"] == 0, "mag.py did not acknowledge the BRI with status 0: {bri}");
            let ev = net.mags[m].event("detached", Duration::from_secs(5))?;
            ensure!(ev["reason"] == "revoked", "mag.py did not drop the session as revoked: {ev}");

            wait_until(Duration::from_secs(5), "the revoked binding's removal", || {
                Ok(net.binding(DUAL)?.is_none().then_some(()))
            })?;
            let stats = net.stats()?;
            ensure!(lma_counter(&stats, "bri_sent") >= 1, "lma.bri_sent did not count: {}", stats["lma"]);
            ensure!(lma_counter(&stats, "bra_received") >= 1, "lma.bra_received did not count: {}", stats["lma"]);
            Ok(())
        },
    );
}

#[test]
fn a_pbu_from_a_mag_that_is_not_on_the_allow_list_is_dropped_silently_and_counted() {
    run_test(
        "unlisted",
        |_| {},
        |net| {
            let m1 = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA])?;
            net.mags[m1].attach_ok(&format!("{DUAL} --ipv4 --ipv6 --gre"))?;

            net.sh(&[
                "ip",
                "-n",
                "anc-mag",
                "-6",
                "addr",
                "add",
                &format!("{UNLISTED}/64"),
                "dev",
                "mag-core",
                "nodad",
            ]);
            let before = lma_counter(&net.stats()?, "dropped_unlisted_peer");
            let m9 = net.mag(
                "mag9",
                &["--mag", UNLISTED, "--lma", LMAA, "--tun", "mn9", "--max-tries", "2", "--initial-timeout", "1"],
            )?;
            let pba = net.mags[m9].pbu(&format!("attach {V4ONLY} --ipv4"))?;
            ensure!(pba["timeout"] == true && pba["status"].is_null(), "the unlisted MAG got an answer: {pba}");
            let tries = u64_of(&pba["tries"]).unwrap_or(0);
            let after = lma_counter(&net.stats()?, "dropped_unlisted_peer");
            ensure!(
                after >= before + tries,
                "lma.dropped_unlisted_peer went from {before} to {after} after {tries} PBUs"
            );
            ensure!(net.binding(V4ONLY)?.is_none(), "the unlisted MAG's PBU created a binding");
            ensure!(
                !net.mags[m9].seen.iter().any(|e| e["event"] == "stray_pba"),
                "the unlisted MAG got a PBA: {:?}",
                net.mags[m9].seen
            );

            // The listed MAG is still served.
            let pba = net.mags[m1].pbu("refresh")?;
            ensure!(pba["status"] == 0, "MAG1's refresh was not accepted: {pba}");
            net.ping(MN_NS, CN_V4)?;
            Ok(())
        },
    );
}

#[test]
fn malformed_pbus_are_dropped_or_refused_as_the_standard_says_and_the_lma_keeps_serving() {
    run_test(
        "malformed",
        |_| {},
        |net| {
            let ports = net.ctl(&["show", "ports"])?;
            let mac = ports
                .as_array()
                .and_then(|a| a.iter().find(|p| p["name"] == "core"))
                .and_then(|p| p["mac"].as_str())
                .ok_or_else(|| format!("no MAC of the core port in {ports}"))?
                .to_string();
            net.ping("anc-mag", LMAA)?;

            // Duplicated options that may appear once (PROTOCOLS.md §2.8): a PBA
            // with an error status; two IPv4 HoA Requests: 173 (§4.2), with an
            // IPv4 HoA Reply carrying a failure status (§4.4). Sent first: they
            // are answered, so their retransmissions also settle the LMA's
            // neighbour entry for MAG1.
            for case in ["dup-mn-id", "dup-hi", "dup-ipv4-request"] {
                let r = net.craft(&mac, case, DUAL, 3)?;
                let pba = &r["pba"];
                ensure!(!pba.is_null(), "{case}: no PBA (a duplicated option is answered with an error status): {r}");
                let status = u64_of(&pba["status"]).unwrap_or(0);
                ensure!(status >= 128, "{case}: PBA status {status} accepts the PBU: {r}");
                if case == "dup-ipv4-request" {
                    // MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED
                    ensure!(status == 173, "{case}: PBA status {status}, not 173: {r}");
                    ensure!(
                        u64_of(&pba["ipv4_hoa_status"]).is_some_and(|s| s >= 128),
                        "{case}: no IPv4 HoA Reply with a failure status: {r}"
                    );
                }
                net.alive()?;
            }
            // The same PBU without a defect is answered (so silence below
            // means a drop); sent for another mobile node, whose session
            // stays and does not matter below.
            let r = net.craft(&mac, "valid", STATIC4, 3)?;
            ensure!(r["pba"]["status"] == 0, "the well-formed crafted PBU was not accepted: {r}");
            ensure!(net.binding(DUAL)?.is_none(), "a refused PBU with duplicated options created a binding");

            let malformed_before = lma_counter(&net.stats()?, "malformed");
            // Malformed messages (§2.1, §2.8): dropped, no PBA.
            let dropped =
                ["option-past-end", "header-len-past-end", "header-len-short", "bad-checksum", "payload-proto"];
            for case in dropped {
                let r = net.craft(&mac, case, DUAL, 2)?;
                ensure!(r["pba"].is_null(), "{case}: the malformed PBU was answered (the standard drops it): {r}");
                net.alive()?;
            }
            ensure!(net.binding(DUAL)?.is_none(), "a malformed PBU created a binding");
            // An option with a wrong length: never an accepted registration.
            let r = net.craft(&mac, "bad-hi-length", DUAL, 2)?;
            ensure!(
                r["pba"].is_null() || u64_of(&r["pba"]["status"]).is_some_and(|s| s >= 128),
                "bad-hi-length: a PBU whose Handoff Indicator has Length 3 was accepted: {r}"
            );
            ensure!(net.binding(DUAL)?.is_none(), "a PBU with a bad option length created a binding");
            net.alive()?;
            let malformed_after = lma_counter(&net.stats()?, "malformed");
            eprintln!("lma.malformed: {malformed_before} -> {malformed_after}");

            // The LMA keeps serving: a normal attach with traffic.
            let m = net.mag("mag1", &["--mag", MAG1, "--lma", LMAA])?;
            let (pba, _) = net.mags[m].attach_ok(&format!("{DUAL} --ipv4 --ipv6 --gre"))?;
            check_dual_pba(&pba)?;
            net.ping(MN_NS, CN_V4)?;
            net.ping(MN_NS, CN_V6)?;
            Ok(())
        },
    );
}
