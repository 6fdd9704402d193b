//! End to end: `anchord` as the Mobile IPv4 home agent (RFC 5944, RFC 3519;
//! PROTOCOLS.md §8) in the demo network. scripts/sim/mip4.py plays a mobile
//! node with a co-located care-of address (192.0.2.2) in anc-mag: it
//! registers with real Registration Requests (NAI + MN-HA HMAC-MD5,
//! computed in Python from the spec) and, once registered, carries the
//! mobile node's traffic through a userspace tunnel whose TUN device is the
//! mobile node's interface in anc-mn. The correspondent is anc-cn.
//!
//! Each test starts its own anchord (config/demo.toml with its own CLI
//! socket and EAL file prefix, no static binding) and drives mip4.py
//! through its stdin, reading its JSON events with timeouts.
//!
//! Needs root; skipped with a message otherwise. Every process started here
//! is ended by its pid and the namespaces are deleted by Drop guards, also
//! when a test fails; a failure prints the simulator's events and stderr,
//! `anchorctl show bindings/stats` and the tail of anchord's log.

use std::time::Duration;

use serde_json::{json, Value};

#[macro_use]
mod common;
use common::v4only::{KEY, NAI, SPI};
use common::{guard, script, wait_until, Env, Net, Sim, CN_V4, CN_V6, MN_NS};

/// The home agent address (demo.toml [ha].address) and the simulator's
/// co-located care-of address: an address of anc-mag that is not one of the
/// demo's foreign agents / PMAs (192.0.2.2 and .3 share FA-HA associations
/// with the home agent, so their requests need an FA-HA extension, §8.7).
const HA: &str = "192.0.2.1";
const COA: &str = "192.0.2.10";

/// demo.toml's association of the dual-stack profile (DSMIPv4).
const DUAL: &str = "dual@anchor.test";
const DUAL_SPI: &str = "4097";
const DUAL_KEY: &str = "0102030405060708090a0b0c0d0e0f10";

/// The demo's second [[ha.fa]] (the other PMA).
const PMA2: &str = "192.0.2.3";
const PMA2_SPI: &str = "8193";
const PMA2_KEY: &str = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

/// The demo's first [[ha.fa]] (a foreign agent and PMA in anc-mag).
const FA: &str = "192.0.2.2";
const FA_SPI: &str = "8192";
const FA_KEY: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
/// The GRE key the foreign agent asks the home agent to put on the downlink.
const FA_GRE_KEY: u64 = 7001;

/// Reply codes (PROTOCOLS.md §8.3).
const ACCEPTED: u64 = 0;
const MN_FAILED_AUTH: u64 = 131;
const ID_MISMATCH: u64 = 133;

impl Net {
    /// The demo network and anchord on demo.toml (no static binding),
    /// changed by `f`.
    fn start_with(tag: &str, f: impl FnOnce(&mut toml::Table)) -> Net {
        let mut net = Net::new(Env::namespaces("anchor-mip4", tag, true));
        net.sh(&["ip", "-n", "anc-mag", "addr", "add", &format!("{COA}/24"), "dev", "mag-core"]);
        let mut cfg = net.demo_config();
        cfg.remove("binding");
        f(&mut cfg);
        net.start_anchord(&cfg);
        net
    }

    /// Starts mip4.py as a mobile node with a co-located care-of address
    /// for the demo's v4only association (`extra`: more arguments) and
    /// returns its index.
    fn mn(&mut self, name: &str, extra: &[&str]) -> Result<usize, String> {
        let mut args = vec!["--coa", COA];
        args.extend_from_slice(extra);
        self.sim(name, &args)
    }

    /// Starts mip4.py for the v4only association with `extra` arguments.
    fn sim(&mut self, name: &str, extra: &[&str]) -> Result<usize, String> {
        self.sim_as(name, (NAI, SPI, KEY), extra)
    }

    /// Starts mip4.py for the association (NAI, SPI, key) with `extra` arguments.
    fn sim_as(&mut self, name: &str, sa: (&str, &str, &str), extra: &[&str]) -> Result<usize, String> {
        let (nai, spi, key) = sa;
        let mut args: Vec<String> = vec![script("sim/mip4.py")];
        args.extend(
            ["--nai", nai, "--spi", spi, "--key", key, "--ha", HA, "--mn-ns", MN_NS].iter().map(|s| s.to_string()),
        );
        args.extend(extra.iter().map(|s| s.to_string()));
        let sim = Sim::start(&self.env.dir, name, "anc-mag", &args)?;
        self.sims.push(sim);
        Ok(self.sims.len() - 1)
    }

    /// Sends `cmd` and returns the "rrp" event answering it.
    fn rrp(&mut self, i: usize, cmd: &str) -> Result<Value, String> {
        self.answer(i, cmd, "rrp")
    }

    /// The Mobile IPv4 binding of `mn_id` in `show bindings`, if listed.
    fn binding(&self, mn_id: &str) -> Result<Option<Value>, String> {
        self.binding_as(mn_id, "mip4")
    }

    /// The binding of `mn_id` with `role` in `show bindings`, if listed.
    fn binding_as(&self, mn_id: &str, role: &str) -> Result<Option<Value>, String> {
        let list = self.ctl(&["show", "bindings"])?;
        let rows = list.as_array().ok_or_else(|| format!("show bindings is not an array: {list}"))?;
        Ok(rows.iter().find(|b| b["mn_id"] == mn_id && b["role"] == role).cloned())
    }
}

fn run_test(tag: &str, body: impl FnOnce(&mut Net) -> Result<(), String>) {
    run_test_with(tag, |_| {}, body);
}

/// [`run_test`] on a daemon whose config `f` changed.
fn run_test_with(tag: &str, f: impl FnOnce(&mut toml::Table), body: impl FnOnce(&mut Net) -> Result<(), String>) {
    let Some(_g) = guard() else { return };
    let mut net = Net::start_with(tag, f);
    if let Err(e) = body(&mut net) {
        panic!("{tag}: {e}\n{}", net.report());
    }
}

/// A counter of the home agent in `show stats` (`ha.<name>`), 0 when absent.
fn ha_counter(stats: &Value, name: &str) -> u64 {
    stats["ha"][name].as_u64().unwrap_or(0)
}

/// An accepted registration: a valid reply (authenticator, NAI, our
/// address, a home address from the pool) and the simulator's "attached".
fn register_ok(net: &mut Net, i: usize) -> Result<(Value, String), String> {
    register_ok_as(net, i, NAI)
}

/// [`register_ok`] for the mobile node `nai`.
fn register_ok_as(net: &mut Net, i: usize, nai: &str) -> Result<(Value, String), String> {
    let rrp = net.rrp(i, "register")?;
    ensure!(rrp["code"] == ACCEPTED, "registration not accepted: {rrp}");
    ensure!(rrp["auth_ok"] == true, "the reply's MN-HA authenticator does not verify: {rrp}");
    ensure!(rrp["nai"] == nai, "the reply does not carry the NAI (RFC 2794): {rrp}");
    ensure!(rrp["ha"] == HA, "the reply's Home Agent field is not ours: {rrp}");
    let lifetime = rrp["lifetime_s"].as_u64().unwrap_or(0);
    ensure!(lifetime > 0 && lifetime <= 300, "granted lifetime {lifetime} s for 300 asked: {rrp}");
    let hoa = rrp["hoa"].as_str().unwrap_or_default().to_string();
    ensure!(
        hoa.starts_with("203.0.113.") && !["203.0.113.0", "203.0.113.1", "203.0.113.255"].contains(&hoa.as_str()),
        "home address {hoa} is not from the demo pool: {rrp}"
    );
    let attached = net.sims[i].event("attached", Duration::from_secs(10))?;
    let mut rrp = rrp;
    rrp["attached"] = attached;
    Ok((rrp, hoa))
}

/// Registers with `encap`, pings the correspondent and back, checks the
/// binding row and the workers' counters for `tunnel`.
fn register_and_ping(net: &mut Net, encap: &str, tunnel: &str, extra: &[&str]) -> Result<(), String> {
    let mut args = vec!["--encap", encap];
    args.extend_from_slice(extra);
    let m = net.mn("mn", &args)?;
    let (_, hoa) = register_ok(net, m)?;
    traffic_and_binding(net, &hoa, COA, tunnel, "mip4").map(|_| ())
}

/// Pings from the mobile node to the correspondent and back; checks the
/// binding row (`coa`, `tunnel`, `role`) and the workers' counters.
fn traffic_and_binding(net: &mut Net, hoa: &str, coa: &str, tunnel: &str, role: &str) -> Result<Value, String> {
    net.ping(MN_NS, CN_V4)?;
    net.ping("anc-cn", hoa)?;
    let b = net.binding_as(NAI, role)?.ok_or_else(|| format!("no {role} binding listed"))?;
    ensure!(b["state"] == "active", "binding not active: {b}");
    ensure!(b["ipv4_hoa"] == hoa, "binding home address is not {hoa}: {b}");
    ensure!(b["coa"] == coa, "binding care-of address is not {coa}: {b}");
    ensure!(b["tunnel"] == tunnel, "binding tunnel is not {tunnel}: {b}");
    ensure!(b["id"].is_u64(), "the binding has no forwarding entry: {b}");
    ensure!(b["lifetime_left_s"].as_u64().is_some_and(|l| l > 0 && l <= 300), "lifetime_left_s: {b}");
    let stats = net.stats()?;
    let count = |what: &str| -> u64 {
        stats["workers"].as_array().map_or(0, |ws| ws.iter().filter_map(|w| w[what][tunnel].as_u64()).sum())
    };
    ensure!(
        count("encap") >= 6 && count("decap") >= 6,
        "workers counted {} {tunnel} encapsulations and {} decapsulations (want >= 6): {stats}",
        count("encap"),
        count("decap")
    );
    ensure!(ha_counter(&stats, "bindings_created") >= 1, "ha.bindings_created did not count: {}", stats["ha"]);
    ensure!(ha_counter(&stats, "rrq_received") >= 1, "ha.rrq_received did not count: {}", stats["ha"]);
    Ok(b)
}

#[test]
fn a_mobile_node_with_a_colocated_care_of_address_registers_over_ip_in_ip_and_pings_both_ways() {
    run_test("ipip", |net| register_and_ping(net, "ipip", "ipip", &[]));
}

#[test]
fn a_mobile_node_with_a_colocated_care_of_address_registers_over_gre_and_pings_both_ways() {
    run_test("gre", |net| register_and_ping(net, "gre", "gre", &[]));
}

#[test]
fn a_mobile_node_asking_for_udp_tunnelling_gets_a_mip_udp_tunnel_and_pings_both_ways() {
    // RFC 3519 with F = 1 (no NAT in the demo network): data rides the
    // registration's UDP port, here 1434 on the mobile node's side.
    run_test("udp", |net| register_and_ping(net, "udp", "mip-udp", &["--port", "1434"]));
}

#[test]
fn a_replayed_request_gets_133_a_forged_one_131_and_the_home_agent_keeps_serving() {
    run_test("replay", |net| {
        let m = net.mn("mn", &["--encap", "ipip"])?;
        register_ok(net, m)?;
        // A second accepted request, so that the first is now an old one.
        let rrp = net.rrp(m, "register")?;
        ensure!(rrp["code"] == ACCEPTED, "re-registration not accepted: {rrp}");

        // §8.6: an Identification not newer than the last accepted -> 133,
        // with the home agent's time in the high 32 bits and the request's
        // low 32 bits.
        let rrp = net.rrp(m, "replay")?;
        ensure!(rrp["code"] == ID_MISMATCH, "the replayed request got code {}, not 133: {rrp}", rrp["code"]);
        ensure!(rrp["id_matches_low32"] == true, "133 without the request's low 32 bits: {rrp}");
        ensure!(
            rrp["id_high_delta_s"].as_i64().is_some_and(|d| d.abs() <= 5),
            "133 without the home agent's time in the high 32 bits: {rrp}"
        );

        // §8.7 step 2: a bad MN-HA authenticator -> 131.
        let rrp = net.rrp(m, "forge")?;
        ensure!(rrp["code"] == MN_FAILED_AUTH, "the forged request got code {}, not 131: {rrp}", rrp["code"]);

        let stats = net.stats()?;
        ensure!(ha_counter(&stats, "replays") >= 1, "ha.replays did not count: {}", stats["ha"]);
        ensure!(ha_counter(&stats, "auth_failures") >= 1, "ha.auth_failures did not count: {}", stats["ha"]);

        // Still serving: the binding stands, traffic flows, a new request is
        // accepted.
        net.alive()?;
        net.ping(MN_NS, CN_V4)?;
        let rrp = net.rrp(m, "register")?;
        ensure!(rrp["code"] == ACCEPTED, "a valid request after the refused ones was not accepted: {rrp}");
        Ok(())
    });
}

#[test]
fn a_deregistration_removes_the_binding_and_its_traffic() {
    run_test("dereg", |net| {
        let m = net.mn("mn", &["--encap", "ipip"])?;
        let (_, hoa) = register_ok(net, m)?;
        net.ping(MN_NS, CN_V4)?;
        ensure!(net.binding(NAI)?.is_some(), "the binding is not listed after registration");

        let rrp = net.rrp(m, "deregister")?;
        ensure!(rrp["code"] == ACCEPTED, "de-registration not accepted: {rrp}");
        ensure!(rrp["lifetime_s"] == 0, "de-registration reply lifetime is not 0: {rrp}");
        net.sims[m].event("detached", Duration::from_secs(5))?;
        wait_until(Duration::from_secs(5), "the binding's removal", || Ok(net.binding(NAI)?.is_none().then_some(())))?;
        net.ping_fails("anc-cn", &hoa, 2)?;
        let stats = net.stats()?;
        ensure!(ha_counter(&stats, "deregistrations") >= 1, "ha.deregistrations did not count: {}", stats["ha"]);
        Ok(())
    });
}

#[test]
fn clearing_a_mobile_ipv4_binding_from_the_cli_removes_it() {
    run_test("clear", |net| {
        let m = net.mn("mn", &["--encap", "gre"])?;
        let (_, hoa) = register_ok(net, m)?;
        net.ping(MN_NS, CN_V4)?;
        net.ctl(&["clear", "binding", NAI])?;
        wait_until(Duration::from_secs(5), "the binding's removal", || Ok(net.binding(NAI)?.is_none().then_some(())))?;
        net.ping_fails("anc-cn", &hoa, 2)?;
        Ok(())
    });
}

#[test]
fn a_registration_through_a_foreign_agent_with_gre_keys_carries_the_traffic() {
    run_test("fa", |net| {
        let key = FA_GRE_KEY.to_string();
        let m = net.sim(
            "fa",
            &["--mode", "fa", "--coa", FA, "--fa-spi", FA_SPI, "--fa-key", FA_KEY, "--encap", "gre", "--gre-key", &key],
        )?;
        let (rrp, hoa) = register_ok(net, m)?;
        // §8.5: the reply to a foreign agent we share an association with
        // carries FA-HA; §8.11: and the home agent's GRE key.
        ensure!(rrp["fa_auth_ok"] == true, "the reply's FA-HA authenticator does not verify: {rrp}");
        let ha_key = rrp["gre_key"].as_u64().ok_or_else(|| format!("no GRE Key extension in the reply: {rrp}"))?;
        let b = traffic_and_binding(net, &hoa, FA, "gre", "mip4")?;
        ensure!(b["gre_key_in"] == ha_key, "gre_key_in is not the home agent's key {ha_key}: {b}");
        ensure!(b["gre_key_out"] == FA_GRE_KEY, "gre_key_out is not the foreign agent's key {FA_GRE_KEY}: {b}");
        Ok(())
    });
}

#[test]
fn a_pma_registers_a_host_by_proxy_and_the_hosts_traffic_flows() {
    run_test("pma", |net| {
        let ids = ["--interface-id", "02005e005301", "--device-id", "1:02005e005301", "--subscriber-id", "2:0102"];
        let m = net.sim(
            "pma",
            &[&["--mode", "pma", "--coa", FA, "--fa-spi", FA_SPI, "--fa-key", FA_KEY], &ids[..]].concat(),
        )?;
        let (_, hoa) = register_ok(net, m)?;
        let b = traffic_and_binding(net, &hoa, FA, "ipip", "pmip4")?;
        ensure!(b["att"] == 1, "the Access Technology Type (802.3) is not on the binding: {b}");
        // §10 / issue 5: the RFC 5563 identifiers are kept and shown.
        let one = net.ctl(&["show", "binding", &hoa])?;
        let shown = one.get(0).cloned().unwrap_or_default();
        ensure!(shown["interface_id"] == "02005e005301", "no Interface ID on the binding: {shown}");
        ensure!(shown["device_id"] == json!({"type": 1, "id": "02005e005301"}), "Device ID: {shown}");
        ensure!(shown["subscriber_id"] == json!({"type": 2, "id": "0102"}), "Subscriber ID: {shown}");
        Ok(())
    });
}

#[test]
fn clearing_a_binding_revokes_it_at_a_mobile_node_that_supports_revocation() {
    run_test("revoke", |net| {
        let m = net.mn("mn", &["--encap", "ipip", "--revocation"])?;
        let (rrp, _) = register_ok(net, m)?;
        ensure!(!rrp["revocation_support"].is_null(), "the reply does not answer Revocation Support: {rrp}");
        net.ctl(&["clear", "binding", NAI])?;
        // RFC 3543 (§8.9): a revocation from the home agent (A = 1),
        // authenticated with MN-HA towards a co-located mobile node.
        let rev = net.sims[m].event("revocation", Duration::from_secs(5))?;
        ensure!(rev["a"] == true && rev["auth_ok"] == true, "bad revocation: {rev}");
        ensure!(rev["source"] == format!("{HA}:434").as_str(), "revocation not from {HA}:434: {rev}");
        net.sims[m].event("detached", Duration::from_secs(5))?;
        wait_until(Duration::from_secs(5), "the binding's removal", || Ok(net.binding(NAI)?.is_none().then_some(())))?;
        wait_until(Duration::from_secs(5), "the acknowledgement to count", || {
            let stats = net.stats()?;
            Ok((ha_counter(&stats, "revocation_acks_received") >= 1).then_some(()))
        })?;
        let stats = net.stats()?;
        ensure!(ha_counter(&stats, "revocations_sent") >= 1, "ha.revocations_sent did not count: {}", stats["ha"]);
        Ok(())
    });
}

#[test]
fn a_dual_stack_mobile_node_reaches_the_correspondent_over_ipv6_through_its_ipv4_tunnel() {
    run_test("dsmip4", |net| dual_stack_round_trip(net, true));
}

#[test]
fn without_tunneling_mode_ipv6_goes_in_ipv4_to_the_home_address_inside_the_tunnel() {
    run_test("dsmip4-nested", |net| dual_stack_round_trip(net, false));
}

/// RFC 5454 (§9.2): a dual-stack node asks for a /64 (with or without the
/// Tunneling Mode extension) and reaches the correspondent over IPv6 and
/// IPv4, both ways. With Tunneling Mode IPv6 goes straight into the IPv4
/// tunnel (code 1); without it, in IPv4 to the home address first, and
/// that packet into the tunnel (code 0).
fn dual_stack_round_trip(net: &mut Net, tunneling_mode: bool) -> Result<(), String> {
    let mut args = vec!["--coa", COA, "--encap", "ipip", "--ipv6-prefix", "::/64"];
    if tunneling_mode {
        args.push("--tunneling-mode");
    }
    let m = net.sim_as("mn", (DUAL, DUAL_SPI, DUAL_KEY), &args)?;
    let (rrp, hoa) = register_ok_as(net, m, DUAL)?;
    let code = u64::from(tunneling_mode);
    let replies = rrp["prefix_replies"].as_array().cloned().unwrap_or_default();
    ensure!(replies.len() == 1, "not exactly one IPv6 Prefix Reply: {rrp}");
    ensure!(replies[0]["code"] == code, "Prefix Reply code is not {code}: {rrp}");
    let prefix = replies[0]["prefix"].as_str().unwrap_or_default().to_string();
    ensure!(
        prefix.starts_with("2001:db8:100:") && prefix.ends_with("/64"),
        "prefix {prefix} is not a /64 of 2001:db8:100::/48: {rrp}"
    );
    let mn6 = rrp["attached"]["mn_addrs"]
        .as_array()
        .and_then(|a| a.iter().filter_map(Value::as_str).find(|s| s.contains(':')))
        .and_then(|s| s.split('/').next())
        .map(String::from)
        .ok_or_else(|| format!("the mobile node got no IPv6 address: {rrp}"))?;
    net.ping(MN_NS, CN_V6)?;
    net.ping("anc-cn", &mn6)?;
    net.ping(MN_NS, CN_V4)?;
    net.ping("anc-cn", &hoa)?;
    let b = net.binding_as(DUAL, "dsmip4")?.ok_or("no dsmip4 binding listed")?;
    ensure!(b["hnps"] == serde_json::json!([prefix]), "binding prefixes are not [{prefix}]: {b}");
    ensure!(b["ipv6_to_coa"] == tunneling_mode, "ipv6_to_coa is not {tunneling_mode}: {b}");
    Ok(())
}

#[test]
fn a_handoff_between_two_pmas_keeps_the_address_revokes_the_first_and_the_traffic_follows() {
    run_test("pma-handoff", |net| {
        let p1 = net.sim(
            "pma1",
            &["--mode", "pma", "--coa", FA, "--fa-spi", FA_SPI, "--fa-key", FA_KEY, "--revocation", "--tun", "mn0"],
        )?;
        let (_, hoa) = register_ok(net, p1)?;
        net.ping(MN_NS, CN_V4)?;

        let p2 = net.sim(
            "pma2",
            &["--mode", "pma", "--coa", PMA2, "--fa-spi", PMA2_SPI, "--fa-key", PMA2_KEY, "--tun", "mn1"],
        )?;
        let (_, hoa2) = register_ok(net, p2)?;
        ensure!(hoa2 == hoa, "the handoff changed the home address from {hoa} to {hoa2}");
        // RFC 5563 §4.4 with RFC 3543: the old PMA is revoked (FA-HA).
        let rev = net.sims[p1].event("revocation", Duration::from_secs(5))?;
        ensure!(rev["a"] == true && rev["auth_ok"] == true, "bad revocation at the first PMA: {rev}");
        ensure!(rev["hoa"] == hoa.as_str(), "revocation for another home address: {rev}");
        net.sims[p1].event("detached", Duration::from_secs(5))?;
        let b = traffic_and_binding(net, &hoa, PMA2, "ipip", "pmip4")?;
        ensure!(b["att"] == 1, "ATT lost in the handoff: {b}");
        let stats = net.stats()?;
        ensure!(ha_counter(&stats, "handoffs") >= 1, "ha.handoffs did not count: {}", stats["ha"]);

        // Detach: the second PMA de-registers the host.
        let rrp = net.rrp(p2, "deregister")?;
        ensure!(rrp["code"] == ACCEPTED, "the PMA's de-registration was not accepted: {rrp}");
        wait_until(Duration::from_secs(5), "the binding's removal", || {
            Ok(net.binding_as(NAI, "pmip4")?.is_none().then_some(()))
        })?;
        net.ping_fails("anc-cn", &hoa, 2)?;
        Ok(())
    });
}

#[test]
fn the_home_agent_and_the_pmip6_lma_never_hand_out_the_same_home_address() {
    // demo.toml runs both roles on 203.0.113.0/24 (signalling/ha.rs: one
    // address space). Without it both pools would start at the same address.
    run_test("one-pool", |net| {
        let dual = net.sim_as("mn-dual", (DUAL, DUAL_SPI, DUAL_KEY), &["--coa", COA, "--tun", "mn0"])?;
        let (_, ha_first) = register_ok_as(net, dual, DUAL)?;

        let mut argv = vec![script("sim/mag.py")];
        argv.extend(["--mag", "2001:db8:1::2", "--lma", "2001:db8:1::1", "--mn-ns", MN_NS].map(String::from));
        let mag = Sim::start(&net.env.dir, "mag1", "anc-mag", &argv)?;
        net.sims.push(mag);
        let m = net.sims.len() - 1;
        net.sims[m].send(&format!("attach {NAI} --ipv4 --no-dataplane"))?;
        let pba =
            net.sims[m].wait("the PBA", Duration::from_secs(15), |e| e["event"] == "pba" && e["cmd"] == "attach")?;
        ensure!(pba["status"] == 0, "the PMIPv6 attach was not accepted: {pba}");
        let lma_hoa = pba["ipv4_hoa"].as_str().unwrap_or_default().to_string();
        ensure!(lma_hoa.starts_with("203.0.113."), "no IPv4 home address from the LMA: {pba}");
        ensure!(lma_hoa != ha_first, "the LMA handed out {lma_hoa}, which the home agent already gave {DUAL}");

        let v4 = net.mn("mn-v4", &["--port", "1435", "--tun", "mn1"])?;
        let (_, ha_second) = register_ok(net, v4)?;
        ensure!(
            ha_second != lma_hoa && ha_second != ha_first,
            "the home agent handed out {ha_second}; taken: {ha_first} (home agent), {lma_hoa} (LMA)"
        );
        Ok(())
    });
}

#[test]
fn a_mobile_node_behind_a_nat_gets_a_udp_tunnel_to_the_nat_address_and_port() {
    // RFC 3519 (§8.12): the request's source (192.0.2.10:1436, the "NAT")
    // differs from its Care-of Address (10.1.1.5, private): without F the
    // home agent accepts UDP tunnelling towards the source address and port.
    run_test("nat", |net| {
        let m = net.mn("mn", &["--encap", "udp", "--port", "1436", "--nat-coa", "10.1.1.5"])?;
        let (rrp, hoa) = register_ok(net, m)?;
        let reply = &rrp["udp_tunnel_reply"];
        ensure!(reply["code"] == 0, "the UDP Tunnel Reply does not accept: {rrp}");
        ensure!(reply["f"] == false, "the UDP Tunnel Reply says forced although F was not set: {rrp}");
        net.ping(MN_NS, CN_V4)?;
        net.ping("anc-cn", &hoa)?;
        let b = net.binding(NAI)?.ok_or("the binding is not listed")?;
        ensure!(b["tunnel"] == "mip-udp", "binding tunnel is not mip-udp: {b}");
        ensure!(b["coa"] == "10.1.1.5", "binding care-of address is not the registered 10.1.1.5: {b}");
        ensure!(
            b["tunnel_remote"] == COA && b["udp_port"] == 1436,
            "the tunnel does not go to the NAT's address and port {COA}:1436: {b}"
        );
        Ok(())
    });
}

/// An echo reply to one of the simulator's keepalives: from the home agent's
/// address and port 434, HA → `hoa` inside, RFC 792 fields intact.
fn echo_reply_ok(net: &mut Net, i: usize, hoa: &str) -> Result<Value, String> {
    let e = net.sims[i].event("echo_reply", Duration::from_secs(10))?;
    ensure!(e["source"] == format!("{HA}:434"), "the echo reply does not come from {HA}:434: {e}");
    ensure!(e["src"] == HA && e["dst"] == hoa, "the echo reply is not {HA} -> {hoa}: {e}");
    ensure!(e["checksum_ok"] == true && e["data"] == "anchor-keepalive", "the echo reply's ICMP is off: {e}");
    Ok(e)
}

#[test]
fn with_r_set_nothing_flows_until_the_first_keepalive_sets_the_tunnel_then_traffic_flows_both_ways() {
    // RFC 3519 R (§8.12): a mobile node with the co-located (private)
    // care-of address 10.1.1.5 registers through the foreign agent at
    // 192.0.2.2, behind the same NAT; the home agent waits for its first
    // keepalive from that address, whose port (1439) becomes the tunnel's.
    run_test("r-flag", |net| {
        let m = net.sim(
            "fa-r",
            &[
                "--mode",
                "fa",
                "--coa",
                FA,
                "--fa-spi",
                FA_SPI,
                "--fa-key",
                FA_KEY,
                "--encap",
                "udp",
                "--r-flag",
                "--nat-coa",
                "10.1.1.5",
                "--port",
                "1438",
                "--data-port",
                "1439",
                "--hold-keepalive",
            ],
        )?;
        let (rrp, hoa) = register_ok(net, m)?;
        ensure!(rrp["udp_tunnel_reply"]["code"] == 0, "the UDP Tunnel Reply does not accept: {rrp}");
        let b = net.binding(NAI)?.ok_or("the binding is not listed")?;
        ensure!(b["state"] == "awaiting-keepalive", "the binding does not wait for a keepalive: {b}");
        ensure!(b["id"].is_null(), "the binding has forwarding before its keepalive: {b}");
        net.ping_fails("anc-cn", &hoa, 2)?;
        net.sims[m].send("keepalive")?;
        echo_reply_ok(net, m, &hoa)?;
        let b = net.binding(NAI)?.ok_or("the binding is not listed")?;
        ensure!(b["state"] == "active" && b["id"].is_u64(), "the keepalive did not install the binding: {b}");
        ensure!(
            b["tunnel"] == "mip-udp" && b["tunnel_remote"] == FA && b["udp_port"] == 1439,
            "the tunnel does not go to the keepalive's {FA}:1439: {b}"
        );
        net.ping(MN_NS, CN_V4)?;
        net.ping("anc-cn", &hoa)?;
        let stats = net.stats()?;
        ensure!(ha_counter(&stats, "keepalives_applied") == 1, "ha.keepalives_applied: {}", stats["ha"]);
        ensure!(ha_counter(&stats, "keepalives_answered") >= 1, "ha.keepalives_answered: {}", stats["ha"]);
        Ok(())
    });
}

#[test]
fn keepalives_over_a_udp_tunnel_come_at_the_replys_interval_and_get_echo_replies() {
    run_test_with(
        "keepalive",
        |cfg| cfg["ha"]["udp_keepalive_s"] = toml::Value::Integer(1),
        |net| {
            let m = net.mn("mn", &["--encap", "udp", "--port", "1436", "--nat-coa", "10.1.1.5"])?;
            let (rrp, hoa) = register_ok(net, m)?;
            ensure!(rrp["udp_tunnel_reply"]["keepalive_s"] == 1, "the reply's keepalive interval is not 1 s: {rrp}");
            // Sent by the simulator on its own, one a second.
            let first = echo_reply_ok(net, m, &hoa)?;
            let second = echo_reply_ok(net, m, &hoa)?;
            ensure!(second["seq"] != first["seq"], "the same keepalive answered twice: {first} {second}");
            let stats = net.stats()?;
            ensure!(ha_counter(&stats, "keepalives_answered") >= 2, "ha.keepalives_answered: {}", stats["ha"]);
            ensure!(ha_counter(&stats, "keepalives_applied") == 0, "a keepalive moved the tunnel: {}", stats["ha"]);
            Ok(())
        },
    );
}

#[test]
fn tunnel_data_from_the_registered_address_but_another_port_is_dropped_as_spoofed() {
    // §8.12: decapsulate only if the outer address and port match the
    // binding; only the home agent's keepalive rule may move the port.
    run_test("spoofed-port", |net| {
        let m = net.mn("mn", &["--encap", "udp", "--port", "1436", "--nat-coa", "10.1.1.5", "--hold-keepalive"])?;
        let (_, hoa) = register_ok(net, m)?;
        net.ping(MN_NS, CN_V4)?;
        let spoofed = |net: &Net| net.stats().map(|s| s["drops"]["spoofed"].as_u64().unwrap_or(0));
        let before = spoofed(net)?;
        net.sims[m].send("data-from 1440")?;
        net.sims[m].event("sent-from", Duration::from_secs(5))?;
        wait_until(Duration::from_secs(5), "the spoofed-port drop to count", || {
            Ok(spoofed(net)?.gt(&before).then_some(()))
        })?;
        let b = net.binding(NAI)?.ok_or("the binding is not listed")?;
        ensure!(b["udp_port"] == 1436, "data from another port moved the tunnel: {b}");
        net.ping("anc-cn", &hoa)?;
        Ok(())
    });
}
