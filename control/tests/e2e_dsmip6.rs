//! End to end: the DSMIPv6 home agent (RFC 6275 home registration with RFC
//! 5555 and RFC 4285; PROTOCOLS.md §11) in the demo network.
//! scripts/sim/dsmip6.py plays the mobile node ds6@anchor.test of
//! config/demo.toml (`[[dsmip6.mn]]`, home address 2001:db8:300::10, a
//! static IPv4 home address 203.0.113.201) in anc-mag: it sends Binding
//! Updates authenticated with its MN-HA key, checks the Binding
//! Acknowledgements, and carries the node's traffic from a TUN device in
//! anc-mn through its tunnel to the anchor.
//!
//! Cases: an IPv6 foreign network (IPv6 and IPv4 in IPv6); an IPv4 foreign
//! network with plain IPv4 encapsulation; an IPv4 network behind a NAT
//! (detected, UDP 4191 encapsulation); replayed and forged Binding Updates
//! refused with 144 and 146 while the binding keeps working;
//! de-registration; a home address on the anchor's home link, checked
//! by duplicate address detection before the BA (134 while another node
//! holds it); Binding Errors for a Mobility Header the home agent does not
//! know; and a registration that survives `kill -9` of anchord
//! through the session store (`[store]`), forwarding again after the
//! restart with no new Binding Update.
//!
//! Needs root; skipped with a message otherwise. Processes are ended by pid
//! and the namespaces deleted by Drop guards, also when a test fails; a
//! failure prints the simulator's events and stderr, `anchorctl show
//! bindings/stats` and the tail of anchord's log.

use std::time::Duration;

use serde_json::Value;

#[macro_use]
mod common;
use common::ds6::{HOA, HOA4, KEY, NAI, SPI};
use common::{guard, script, wait_until, Env, Net, Sim, CN_V4, CN_V6, MN_NS};

const HA: &str = "2001:db8:1::1";
const HA4: &str = "192.0.2.1";
/// anc-mag's addresses on the access link: the care-of addresses.
const COA6: &str = "2001:db8:1::2";
const COA4: &str = "192.0.2.2";
/// What the node claims its IPv4 care-of address is, while its packets
/// leave from COA4: a NAT in the path (PROTOCOLS.md §11.2 item 1).
const PRIVATE_COA: &str = "192.0.2.77";

impl Net {
    /// The demo network, anc-mn, and anchord on demo.toml.
    fn start(tag: &str) -> Net {
        let mut net = Net::new(Env::namespaces("anchor-dsmip6", tag, true));
        let mut cfg = net.demo_config();
        cfg.remove("binding");
        net.start_anchord(&cfg);
        net
    }

    /// Starts dsmip6.py for ds6@anchor.test with `extra` arguments (the
    /// care-of address among them), asking for an IPv4 home address.
    fn mn(&mut self, extra: &[&str]) -> Result<usize, String> {
        self.mn_as((NAI, HOA, SPI, KEY), extra)
    }

    /// Starts dsmip6.py for the node (NAI, home address, SPI, key), as
    /// [`Net::mn`].
    fn mn_as(&mut self, node: (&str, &str, &str, &str), extra: &[&str]) -> Result<usize, String> {
        let (nai, hoa, spi, key) = node;
        let script = script("sim/dsmip6.py");
        let base = [&script[..], "--mn-id", nai, "--hoa", hoa, "--spi", spi, "--key", key, "--ha", HA, "--ha4", HA4];
        let args: Vec<String> = base
            .iter()
            .chain(&["--ipv4-hoa", "0.0.0.0", "--mn-ns", MN_NS])
            .chain(extra)
            .map(|s| s.to_string())
            .collect();
        let sim = Sim::start(&self.env.dir, "mn", "anc-mag", &args)?;
        self.sims.push(sim);
        Ok(self.sims.len() - 1)
    }

    /// The `show proxy` row of `addr`, if listed.
    fn proxy_row(&self, addr: &str) -> Result<Option<Value>, String> {
        let rows = self.ctl(&["show", "proxy"])?;
        let rows = rows.as_array().ok_or_else(|| format!("show proxy is not an array: {rows}"))?;
        Ok(rows.iter().find(|r| r["ip"] == addr).cloned())
    }

    /// The `show bindings` rows of the DSMIPv6 home agent.
    fn dsmip6_rows(&self) -> Result<Vec<Value>, String> {
        let list = self.ctl(&["show", "bindings"])?;
        let rows = list.as_array().ok_or_else(|| format!("show bindings is not an array: {list}"))?;
        Ok(rows.iter().filter(|b| b["role"] == "dsmip6").cloned().collect())
    }
}

fn run_test(tag: &str, body: impl FnOnce(&mut Net) -> Result<(), String>) {
    let Some(_g) = guard() else { return };
    let mut net = Net::start(tag);
    if let Err(e) = body(&mut net) {
        panic!("{tag}: {e}\n{}", net.report());
    }
}

/// Registers from the care-of address of `extra`, checks the BA (status 0,
/// our authenticator, the IPv4 Address Acknowledgement, NAT Detection as
/// `nat` says), two-way traffic over both families, and the two bindings
/// (IPv6 and IPv4 home address) with `tunnel` to `remote`.
fn registered_round_trip(
    net: &mut Net,
    extra: &[&str],
    nat: Option<bool>,
    tunnel: &str,
    remote: &str,
) -> Result<usize, String> {
    let m = net.mn(extra)?;
    let ba = net.answer(m, "register", "ba")?;
    ensure!(ba["status"] == 0 && ba["auth_ok"] == true, "registration not accepted with a valid authenticator: {ba}");
    ensure!(ba["mesg_id_echoed"] == true, "the BA does not echo the MESG-ID: {ba}");
    ensure!(ba["ipv4_ack"]["status"] == 0 && ba["ipv4_ack"]["addr"] == HOA4, "IPv4 Address Ack: {ba}");
    match nat {
        // RFC 5555 §4.1: over UDP the BA always carries NAT Detection.
        Some(true) => ensure!(ba["nat_detection"]["refresh_s"] == 110, "no NAT seen: {ba}"),
        Some(false) => ensure!(ba["nat_detection"]["refresh_s"] == 0xffff_ffffu64, "a NAT seen: {ba}"),
        None => ensure!(ba["nat_detection"].is_null() && ba["framing"] == "ipv6-rh2", "BA over IPv6: {ba}"),
    }
    net.sims[m].event("attached", Duration::from_secs(10))?;
    net.ping(MN_NS, CN_V6)?;
    net.ping("anc-cn", HOA)?;
    net.ping(MN_NS, CN_V4)?;
    net.ping("anc-cn", HOA4)?;
    let rows = net.dsmip6_rows()?;
    ensure!(rows.len() == 2, "not two dsmip6 bindings (IPv6 and IPv4 home address): {rows:?}");
    for b in &rows {
        ensure!(
            b["tunnel"] == tunnel && b["tunnel_remote"] == remote,
            "binding tunnel is not {tunnel} to {remote}: {b}"
        );
        ensure!(b["mn_id"] == NAI, "binding MN-ID: {b}");
    }
    ensure!(rows.iter().any(|b| b["ipv6_hoa"] == HOA) && rows.iter().any(|b| b["ipv4_hoa"] == HOA4), "{rows:?}");
    Ok(m)
}

#[test]
fn a_node_on_an_ipv6_foreign_network_reaches_the_correspondent_over_ipv6_and_ipv4() {
    run_test("v6-coa", |net| {
        let m = registered_round_trip(net, &["--coa", COA6], None, "ipip", COA6)?;
        // De-registration: the anchor is also the LMA here (the extended
        // home link, PROTOCOLS.md §11.4), so both bindings are deprecated —
        // forwarding nothing — and deleted after MinDelayBeforeBCEDelete
        // (10 s in demo.toml).
        let ba = net.answer(m, "deregister", "ba")?;
        ensure!(ba["status"] == 0, "de-registration refused: {ba}");
        let rows = net.dsmip6_rows()?;
        ensure!(
            rows.len() == 2 && rows.iter().all(|b| b["state"] == "deprecated" && b["tunnel"].is_null()),
            "not two deprecated bindings after de-registration: {rows:?}"
        );
        wait_until(Duration::from_secs(20), "the deprecated bindings deleted", || {
            Ok(net.dsmip6_rows()?.is_empty().then_some(()))
        })?;
        let stats = net.stats()?;
        ensure!(stats["dsmip6"]["deleted_after_delay"] == 1, "stats: {}", stats["dsmip6"]);
        net.alive()
    });
}

#[test]
fn a_node_on_an_ipv4_network_uses_plain_ipv4_encapsulation_without_a_nat() {
    run_test("v4-coa", |net| {
        registered_round_trip(net, &["--coa", COA4], Some(false), "ipip", COA4)?;
        net.alive()
    });
}

#[test]
fn a_node_behind_a_nat_is_detected_and_tunnelled_in_udp_4191() {
    run_test("v4-nat", |net| {
        registered_round_trip(net, &["--coa", COA4, "--nat-coa", PRIVATE_COA], Some(true), "udp", COA4)?;
        let stats = net.stats()?;
        ensure!(stats["dsmip6"]["registrations"] == 1, "stats: {}", stats["dsmip6"]);
        net.alive()
    });
}

#[test]
fn replayed_and_forged_binding_updates_are_refused_and_change_nothing() {
    run_test("refused", |net| {
        let m = registered_round_trip(net, &["--coa", COA6], None, "ipip", COA6)?;
        // RFC 4285 (PROTOCOLS.md §11.3): the same MESG-ID again → 144 with
        // our time; a bad authenticator → 146.
        let ba = net.answer(m, "replay", "ba")?;
        ensure!(ba["status"] == 144, "a replayed BU is not answered 144: {ba}");
        let ba = net.answer(m, "forge", "ba")?;
        ensure!(ba["status"] == 146, "a forged BU is not answered 146: {ba}");
        // The binding still forwards.
        net.ping(MN_NS, CN_V6)?;
        let stats = net.stats()?;
        let d = &stats["dsmip6"];
        ensure!(d["replays"] == 1 && d["auth_failures"] == 1, "counters: {d}");
        net.alive()
    });
}

/// The fields of a binding that a restart must not change.
fn identity(b: &Value) -> Value {
    let keep =
        ["session", "mn_id", "role", "state", "ipv4_hoa", "ipv6_hoa", "coa", "tunnel", "tunnel_remote", "sequence"];
    Value::Object(keep.iter().map(|k| (k.to_string(), b[*k].clone())).collect())
}

#[test]
fn a_registration_survives_kill_9_and_forwards_again_without_a_new_binding_update() {
    let Some(_g) = guard() else { return };
    let mut net = Net::new(Env::namespaces("anchor-dsmip6", "restart", true));
    let mut cfg = net.demo_config();
    cfg.remove("binding");
    net.start_anchord(&cfg);
    if let Err(e) = kill_and_restart_body(&mut net, &cfg) {
        panic!("restart: {e}\n{}", net.report());
    }
}

fn kill_and_restart_body(net: &mut Net, cfg: &toml::Table) -> Result<(), String> {
    let m = registered_round_trip(net, &["--coa", COA6], None, "ipip", COA6)?;
    let mut before = net.dsmip6_rows()?;
    before.sort_by_key(|b| b["session"].as_u64());
    let stats = net.stats()?;
    ensure!(
        stats["store"]["batches_committed"].as_u64().unwrap_or(0) >= 1,
        "nothing committed to the store before the kill: {}",
        stats["store"]
    );

    // kill -9: nothing is saved on the way out.
    let mut child = net.env.daemon.take().ok_or("anchord is not running")?;
    child.kill().map_err(|e| format!("kill -9 anchord: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    ensure!(!status.success(), "anchord exited cleanly after SIGKILL: {status}");
    net.env.start_anchord(cfg);

    // Both bindings are back as they were, with the lifetime they had left.
    let mut after = net.dsmip6_rows()?;
    after.sort_by_key(|b| b["session"].as_u64());
    ensure!(after.len() == 2, "not two dsmip6 bindings after the restart: {after:?}");
    for (a, b) in after.iter().zip(&before) {
        ensure!(identity(a) == identity(b), "binding changed across the restart:\nbefore {b}\nafter  {a}");
        let left = a["lifetime_left_s"].as_u64().unwrap_or(0);
        ensure!(left > 0 && left <= b["lifetime_left_s"].as_u64().unwrap_or(0), "lifetime left {left} s: {a}");
    }
    let stats = net.stats()?;
    ensure!(stats["store"]["restored_dsmip6"] == 1, "show stats store: {}", stats["store"]);

    // Traffic to and from both home addresses resumes with no new BU.
    net.ping("anc-cn", HOA)?;
    net.ping("anc-cn", HOA4)?;
    net.ping(MN_NS, CN_V6)?;
    net.ping(MN_NS, CN_V4)?;
    let stats = net.stats()?;
    ensure!(stats["dsmip6"]["bu_received"] == 0, "a Binding Update reached the restarted anchord: {}", stats["dsmip6"]);

    // The restored registration goes on: its sequence number and MESG-ID
    // state came back, so a refresh is a renewal, not a new registration.
    let ba = net.answer(m, "register", "ba")?;
    ensure!(ba["status"] == 0, "refresh after the restart refused: {ba}");
    let stats = net.stats()?;
    ensure!(
        stats["dsmip6"]["renewals"] == 1 && stats["dsmip6"]["registrations_created"] == 0,
        "the refresh was not a renewal: {}",
        stats["dsmip6"]
    );
    net.alive()
}

/// A second node whose IPv6 home address lies on the home port's link
/// (2001:db8:2::/64, made a home link below): the anchor answers for it
/// there (proxy ND) while the node is away.
const HL_NAI: &str = "ds6home@anchor.test";
const HL_HOA: &str = "2001:db8:2::10";
const HL_SPI: &str = "8449";
const HL_KEY: &str = "4142434445464748494a4b4c4d4e4f5051525354";

#[test]
fn a_home_address_on_the_home_link_is_checked_by_dad_before_the_ba_and_refused_134_while_another_node_holds_it() {
    let Some(_g) = guard() else { return };
    let mut net = Net::new(Env::namespaces("anchor-dsmip6", "dad", true));
    let mut cfg = net.demo_config();
    cfg.remove("binding");
    // demo.toml's home port as the home link, and the node on it.
    let port = cfg["port"].as_array_mut().and_then(|ports| ports.get_mut(1)).and_then(|p| p.as_table_mut());
    let port = port.expect("demo.toml has a second [[port]]");
    assert_eq!(port["role"].as_str(), Some("home"));
    port.insert("home_link".into(), toml::Value::Boolean(true));
    let mut mn = toml::Table::new();
    for (k, v) in [("mn_id", HL_NAI), ("home_address", HL_HOA), ("key", HL_KEY)] {
        mn.insert(k.into(), v.into());
    }
    mn.insert("spi".into(), toml::Value::Integer(8449));
    cfg["dsmip6"]["mn"].as_array_mut().expect("demo.toml has [[dsmip6.mn]]").push(toml::Value::Table(mn));
    net.start_anchord(&cfg);
    if let Err(e) = dad_body(&mut net) {
        panic!("dad: {e}\n{}", net.report());
    }
}

fn dad_body(net: &mut Net) -> Result<(), String> {
    // The correspondent holds the node's home address on the home link.
    net.sh(&["ip", "-n", "anc-cn", "addr", "add", &format!("{HL_HOA}/64"), "dev", "cn-home", "nodad"]);
    let m = net.mn_as((HL_NAI, HL_HOA, HL_SPI, HL_KEY), &["--coa", COA6])?;
    // RFC 6275 §10.3.1: DAD fails → 134, nothing installed or answered for.
    let ba = net.answer(m, "register", "ba")?;
    ensure!(ba["status"] == 134 && ba["auth_ok"] == true, "not refused with 134 (DAD failed): {ba}");
    ensure!(net.dsmip6_rows()?.is_empty(), "a binding was installed: {:?}", net.dsmip6_rows()?);
    ensure!(net.proxy_row(HL_HOA)?.is_none(), "the duplicate address is answered for");
    let stats = net.stats()?;
    ensure!(stats["dsmip6"]["dad_duplicates"] == 1, "stats: {}", stats["dsmip6"]);

    // The other node lets it go: the next BU passes DAD and is accepted
    // (the BA waited for it), and the address is defended on the home link.
    net.sh(&["ip", "-n", "anc-cn", "addr", "del", &format!("{HL_HOA}/64"), "dev", "cn-home"]);
    let ba = net.answer(m, "register", "ba")?;
    ensure!(ba["status"] == 0, "not accepted once the address is free: {ba}");
    net.sims[m].event("attached", Duration::from_secs(10))?;
    wait_until(Duration::from_secs(10), "the home address answered for on the home link", || {
        Ok(net.proxy_row(HL_HOA)?.filter(|r| r["state"] == "active"))
    })?;
    let row = net.proxy_row(HL_HOA)?.unwrap_or_default();
    // Handed from the DAD run to the binding that took the address.
    ensure!(row["owner"].as_str().is_some_and(|o| o.starts_with("dsmip6 binding")), "show proxy owner: {row}");
    let rows = net.dsmip6_rows()?;
    ensure!(rows.iter().any(|b| b["ipv6_hoa"] == HL_HOA && b["state"] == "active"), "bindings: {rows:?}");
    // Reached from the home link through proxy ND and the tunnel.
    net.ping("anc-cn", HL_HOA)?;
    net.ping(MN_NS, CN_V6)?;
    let stats = net.stats()?;
    ensure!(stats["dsmip6"]["dad_started"] == 2, "stats: {}", stats["dsmip6"]);
    net.alive()
}

#[test]
fn an_unknown_mobility_header_gets_a_binding_error_and_changes_nothing() {
    run_test("binding-error", |net| {
        let m = net.mn(&["--coa", COA6])?;
        // RFC 6275 §9.3.1: its Home Address option names no binding yet → 1.
        let be = net.answer(m, "unknown-mh 99", "be")?;
        ensure!(
            be["status"] == 1 && be["home_address"] == HOA && be["checksum_ok"] == true && be["source"] == HA,
            "not Binding Error 1 for the home address from the home agent: {be}"
        );
        // Registered from that care-of address: the MH Type itself → 2
        // (RFC 6275 §9.2), and the binding is untouched.
        let ba = net.answer(m, "register", "ba")?;
        ensure!(ba["status"] == 0, "registration refused: {ba}");
        net.sims[m].event("attached", Duration::from_secs(10))?;
        let be = net.answer(m, "unknown-mh 99", "be")?;
        ensure!(
            be["status"] == 2 && be["home_address"] == HOA && be["checksum_ok"] == true,
            "not Binding Error 2: {be}"
        );
        net.ping(MN_NS, CN_V6)?;
        let stats = net.stats()?;
        let d = &stats["dsmip6"];
        ensure!(d["binding_errors"]["1"] == 1 && d["binding_errors"]["2"] == 1, "counters: {d}");
        ensure!(d["registrations_created"] == 1 && d["registrations"] == 1, "counters: {d}");
        net.alive()
    });
}
