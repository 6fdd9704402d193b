//! End to end: the extended home link (draft-premec-mext-extended-home-link-00
//! §4.2, first walk-through; PROTOCOLS.md §11.4) in the demo network. The
//! anchor is the DSMIPv6 home agent and the LMA at once; the node
//! ds6@anchor.test (config/demo.toml: IPv6 home address 2001:db8:300::10,
//! IPv4 home address 203.0.113.201) has an IPv4-only home link that a MAG
//! (scripts/sim/mag.py) emulates with PMIPv6.
//!
//! 1. Away: scripts/sim/dsmip6.py registers from the IPv6 foreign network;
//!    both home addresses are bound to its care-of address (the node's own
//!    bindings) and it reaches the correspondent.
//! 2. It moves home: the MAG registers it for IPv4. The LMA answers like any
//!    PBA (the node's IPv4 home address) but keeps the proxy binding as a
//!    *shadow*: the node's own registration still holds the address.
//! 3. On its home link the node sends a Binding Update (in UDP 4191, through
//!    the MAG's tunnel) with its IPv4 home address as care-of address: the
//!    home agent drops the node's IPv4 binding, the shadow becomes active
//!    (IPv4 to the MAG) and IPv6 goes in IPv4 to the IPv4 home address —
//!    through the MAG tunnel, two tunnels. The correspondent is reached over
//!    both families.
//!
//! And when the node never says it is at home, the shadow binding is
//! revoked at the MAG with a BRI after `lma.shadow_timeout_s`.
//!
//! The draft's second walk-through, the mirror image: the node registers
//! away over IPv4, then moves to an IPv6-only home link (the MAG registers
//! it for IPv6 only; the LMA answers with the /64 of its IPv6 home address,
//! kept as a shadow), and its BU from the IPv6 home address (care-of address
//! = home address, through the MAG's tunnel) binds its IPv4 home address to
//! the IPv6 one: IPv4 goes in IPv6 to the home address, inside the MAG's
//! tunnel, and the proxy binding carries IPv6.
//!
//! Needs root; skipped with a message otherwise.

use std::time::Duration;

use serde_json::Value;

#[macro_use]
mod common;
use common::ds6::{HOA, HOA4, KEY, NAI, SPI};
use common::{guard, script, wait_until, Env, Net, CN_V4, CN_V6, MN_NS};

const HA: &str = "2001:db8:1::1";
const HA4: &str = "192.0.2.1";
const COA6: &str = "2001:db8:1::20";
/// The IPv4 foreign network of the second walk-through (anc-mag's own address).
const COA4: &str = "192.0.2.2";
/// The /64 of the node's IPv6 home address, which the LMA gives the MAG.
const HNP: &str = "2001:db8:300::/64";
const MAG: &str = "2001:db8:1::2";

impl Net {
    /// The demo network, anc-mn, and anchord on demo.toml with the shadow
    /// timeout `shadow_timeout_s`, the configuration changed by `edit`.
    fn start_with(tag: &str, shadow_timeout_s: i64, edit: impl FnOnce(&mut toml::Table)) -> Net {
        let mut net = Net::new(Env::namespaces("anchor-homelink6", tag, true));
        net.sh(&["ip", "-n", "anc-mag", "-6", "addr", "add", &format!("{COA6}/64"), "dev", "mag-core", "nodad"]);
        let mut cfg = net.demo_config();
        cfg.remove("binding");
        cfg["lma"]["shadow_timeout_s"] = toml::Value::Integer(shadow_timeout_s);
        edit(&mut cfg);
        net.start_anchord(&cfg);
        net
    }

    /// dsmip6.py as ds6@anchor.test, in namespace `ns`, with `extra`.
    fn node(&mut self, name: &str, ns: &str, extra: &[&str]) -> Result<usize, String> {
        let script = script("sim/dsmip6.py");
        let mut args = vec![&script[..], "--mn-id", NAI, "--hoa", HOA, "--spi", SPI, "--key", KEY, "--ha", HA];
        args.extend(["--ha4", HA4, "--mn-ns", MN_NS]);
        args.extend(extra);
        self.start_sim(name, ns, &args)
    }

    /// (role, state, tunnel, tunnel_remote) of every binding of the node.
    fn table(&self) -> Result<Vec<Row>, String> {
        let list = self.ctl(&["show", "bindings"])?;
        let rows = list.as_array().ok_or_else(|| format!("show bindings is not an array: {list}"))?;
        let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
        let mut t: Vec<_> = rows
            .iter()
            .filter(|b| b["mn_id"] == NAI)
            .map(|b| {
                let addr = if b["ipv6_hoa"].is_string() {
                    s(&b["ipv6_hoa"])
                } else if b["ipv4_hoa"].is_string() {
                    s(&b["ipv4_hoa"])
                } else {
                    // An IPv6-only proxy binding: its prefixes.
                    b["hnps"].as_array().map(|p| p.iter().map(s).collect::<Vec<_>>().join(",")).unwrap_or_default()
                };
                // The LMA lists its MAG as the care-of address.
                let remote = if b["role"] == "pmip6" { s(&b["coa"]) } else { s(&b["tunnel_remote"]) };
                (s(&b["role"]), addr, s(&b["state"]), s(&b["tunnel"]), remote)
            })
            .collect();
        t.sort();
        Ok(t)
    }

    fn full_report(&mut self) -> String {
        let table = format!("--- bindings of {NAI}: {:?}\n", self.table());
        self.report() + &table
    }
}

fn run_test(tag: &str, shadow_timeout_s: i64, body: impl FnOnce(&mut Net) -> Result<(), String>) {
    run_test_with(tag, shadow_timeout_s, |_| {}, body);
}

fn run_test_with(
    tag: &str,
    shadow_timeout_s: i64,
    edit: impl FnOnce(&mut toml::Table),
    body: impl FnOnce(&mut Net) -> Result<(), String>,
) {
    let Some(_g) = guard() else { return };
    let mut net = Net::start_with(tag, shadow_timeout_s, edit);
    if let Err(e) = body(&mut net) {
        panic!("{tag}: {e}\n{}", net.full_report());
    }
}

/// (role, home address, state, tunnel, tunnel far end) of a binding.
type Row = (String, String, String, String, String);

fn row(role: &str, addr: &str, state: &str, tunnel: &str, remote: &str) -> Row {
    (role.into(), addr.into(), state.into(), tunnel.into(), remote.into())
}

/// Steps 1 and 2: the node registered away, then the MAG's PBU for it
/// (IPv4 only) answered with its own IPv4 home address and kept as a
/// shadow. Returns the MAG simulator.
fn away_then_shadow(net: &mut Net) -> Result<(usize, u64), String> {
    let away = net.node("away", "anc-mag", &["--coa", COA6, "--ipv4-hoa", "0.0.0.0", "--tun", "mn6"])?;
    let ba = net.answer(away, "register", "ba")?;
    ensure!(ba["status"] == 0 && ba["ipv4_ack"]["addr"] == HOA4, "away registration: {ba}");
    net.sims[away].event("attached", Duration::from_secs(10))?;
    net.ping(MN_NS, CN_V6)?;
    let t = net.table()?;
    ensure!(
        t == [row("dsmip6", HOA, "active", "ipip", COA6), row("dsmip6", HOA4, "active", "ipip", COA6)],
        "binding table away: {t:?}"
    );
    // The node leaves the foreign network (its simulator goes, without a
    // de-registration) and attaches to its IPv4-only home link.
    net.sims[away].stop();
    let mag = net.start_sim(
        "mag",
        "anc-mag",
        &[&script("sim/mag.py"), "--mag", "2001:db8:1::2", "--lma", HA, "--mn-ns", MN_NS, "--tun", "mn0"],
    )?;
    let pba = net.answer(mag, &format!("attach {NAI} --ipv4 --gre"), "pba")?;
    ensure!(
        pba["status"] == 0 && pba["ipv4_hoa"] == HOA4,
        "the PBA does not give the node's own IPv4 home address: {pba}"
    );
    net.sims[mag].event("attached", Duration::from_secs(10))?;
    let away_seq = ba["seq"].as_u64().unwrap_or(0);
    let t = net.table()?;
    ensure!(
        t == [
            row("dsmip6", HOA, "active", "ipip", COA6),
            row("dsmip6", HOA4, "active", "ipip", COA6),
            row("pmip6", HOA4, "shadow", "gre", "2001:db8:1::2"),
        ],
        "binding table with the shadow: {t:?}"
    );
    Ok((mag, away_seq))
}

#[test]
fn the_node_at_its_ipv4_home_behind_a_mag_activates_the_shadow_and_is_reached_through_two_tunnels() {
    run_test("walk1", 90, |net| {
        let (_, away_seq) = away_then_shadow(net)?;
        // Step 3: at home, the node's BU through the MAG tunnel, care-of
        // address = IPv4 home address, its next sequence number.
        let seq = ((away_seq + 1) & 0xffff).to_string();
        let args = ["--coa", HOA4, "--ipv4-hoa", HOA4, "--on-ipv4-home-link", "--tun", "mn6", "--seq", &seq];
        let home = net.node("home", MN_NS, &args)?;
        let ba = net.answer(home, "register", "ba")?;
        ensure!(
            ba["status"] == 0 && ba["auth_ok"] == true,
            "at-home registration (after sequence number {away_seq}): {ba}"
        );
        ensure!(ba["ipv4_ack"]["status"] == 0 && ba["ipv4_ack"]["addr"] == HOA4, "IPv4 Address Ack: {ba}");
        // Its first BU is answered: the BA waits in the control thread while
        // the just activated proxy binding's MAG is resolved.
        ensure!(ba["tries"] == 1, "the first BU from home went unanswered: {ba}");
        net.sims[home].event("attached", Duration::from_secs(10))?;
        let t = net.table()?;
        ensure!(
            t == [
                row("dsmip6", HOA, "active", "ipip", HOA4),
                row("dsmip6", HOA4, "deprecated", "-", "-"),
                row("pmip6", HOA4, "active", "gre", "2001:db8:1::2"),
            ],
            "binding table at home: {t:?}"
        );
        // IPv4 natively through the MAG; IPv6 in IPv4 to the home address,
        // inside the MAG's tunnel.
        net.ping(MN_NS, CN_V4)?;
        net.ping("anc-cn", HOA4)?;
        net.ping(MN_NS, CN_V6)?;
        net.ping("anc-cn", HOA)?;
        // Too big for IPv6 in IPv4 (RFC 4213's static tunnel MTU, 1280):
        // refused with a Packet Too Big before the first header, not lost
        // between the two tunnels.
        let big = std::process::Command::new("ip")
            .args([
                "netns", "exec", "anc-cn", "ping", "-6", "-c", "2", "-i", "0.3", "-W", "1", "-M", "do", "-s", "1420",
                HOA,
            ])
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&big.stdout).to_string() + &String::from_utf8_lossy(&big.stderr);
        ensure!(
            text.contains("1420") && text.contains("mtu") || text.contains("too big"),
            "no Packet Too Big for 1468 octets: {text}"
        );
        net.alive()
    });
}

#[test]
fn a_stale_binding_update_from_home_is_answered_135_at_home_not_at_the_old_care_of_address() {
    run_test("walk1-stale", 90, |net| {
        let (_, away_seq) = away_then_shadow(net)?;
        // At home, the node's first BU reuses the sequence number its away
        // registration was accepted with: 135. The node's own binding still
        // forwards its address to where it was; the BA must reach it at
        // home, through the MAG (the shadow proxy binding's tunnel), so
        // that it can take the number and register (RFC 6275 §11.7.3).
        // (--seq is the number before the first BU.)
        let seq = ((away_seq + 0xffff) & 0xffff).to_string();
        let args = ["--coa", HOA4, "--ipv4-hoa", HOA4, "--on-ipv4-home-link", "--tun", "mn6", "--seq", &seq];
        let home = net.node("home", MN_NS, &args)?;
        let ba = net.answer(home, "register", "ba")?;
        ensure!(
            ba["status"] == 135 && ba["seq"] == away_seq && ba["auth_ok"] == true && ba["tries"] == 1,
            "the stale BU from home is not answered 135 at home: {ba}"
        );
        let ba = net.sims[home]
            .wait("the BA after the resync", Duration::from_secs(15), |e| e["event"] == "ba" && e["resync"] == true)?;
        ensure!(ba["status"] == 0, "not accepted after taking the home agent's number: {ba}");
        net.sims[home].event("attached", Duration::from_secs(10))?;
        net.ping(MN_NS, CN_V4)?;
        net.ping("anc-cn", HOA)?;
        net.alive()
    });
}

#[test]
fn a_shadow_binding_the_node_never_activates_is_revoked_at_the_mag_by_bri() {
    run_test("walk1-timeout", 3, |net| {
        let (mag, _) = away_then_shadow(net)?;
        let bri = net.sims[mag].event("bri", Duration::from_secs(15))?;
        ensure!(bri["mn_ids"].as_array().is_some_and(|m| m.iter().any(|x| x == NAI)), "BRI: {bri}");
        wait_until(Duration::from_secs(10), "the shadow binding gone", || {
            let t = net.table()?;
            Ok((!t.iter().any(|r| r.0 == "pmip6" && r.2 == "shadow")).then_some(()))
        })?;
        net.alive()
    });
}

/// The second walk-through needs IPv6 home network prefix service for
/// ds6@anchor.test (demo.toml gives its PMIPv6 profile IPv4 only, for its
/// IPv4-only home link).
fn ds6_gets_ipv6_from_the_lma(cfg: &mut toml::Table) {
    let profiles = cfg["profiles"]["mn"].as_array_mut().expect("[[profiles.mn]]");
    let ds6 = profiles.iter_mut().find(|p| p["mn_id"].as_str() == Some(NAI)).expect("the ds6 profile");
    ds6["ipv6"] = toml::Value::Boolean(true);
}

/// Steps 1 and 2 of the second walk-through: the node registered away over
/// IPv4, then the MAG's PBU for it (IPv6 only) answered with the /64 of its
/// own IPv6 home address and kept as a shadow. Returns the MAG simulator
/// and the away registration's sequence number.
fn away4_then_shadow6(net: &mut Net) -> Result<(usize, u64), String> {
    let away = net.node("away", "anc-mag", &["--coa", COA4, "--ipv4-hoa", "0.0.0.0", "--tun", "mn6"])?;
    let ba = net.answer(away, "register", "ba")?;
    ensure!(ba["status"] == 0 && ba["ipv4_ack"]["addr"] == HOA4, "away registration over IPv4: {ba}");
    net.sims[away].event("attached", Duration::from_secs(10))?;
    net.ping(MN_NS, CN_V4)?;
    let t = net.table()?;
    ensure!(
        t == [row("dsmip6", HOA, "active", "ipip", COA4), row("dsmip6", HOA4, "active", "ipip", COA4)],
        "binding table away over IPv4: {t:?}"
    );
    // The node leaves the IPv4 foreign network (no de-registration) and
    // attaches to its IPv6-only home link.
    net.sims[away].stop();
    let mag = net.start_sim(
        "mag",
        "anc-mag",
        &[&script("sim/mag.py"), "--mag", MAG, "--lma", HA, "--mn-ns", MN_NS, "--tun", "mn0"],
    )?;
    let pba = net.answer(mag, &format!("attach {NAI} --ipv6 --gre"), "pba")?;
    ensure!(
        pba["status"] == 0 && pba["hnps"] == serde_json::json!([HNP]) && pba["ipv4_hoa"].is_null(),
        "the PBA does not give the /64 of the node's own IPv6 home address (only): {pba}"
    );
    net.sims[mag].event("attached", Duration::from_secs(10))?;
    let away_seq = ba["seq"].as_u64().unwrap_or(0);
    let t = net.table()?;
    ensure!(
        t == [
            row("dsmip6", HOA, "active", "ipip", COA4),
            row("dsmip6", HOA4, "active", "ipip", COA4),
            row("pmip6", HNP, "shadow", "gre", MAG),
        ],
        "binding table with the IPv6 shadow: {t:?}"
    );
    Ok((mag, away_seq))
}

#[test]
fn the_node_at_its_ipv6_home_behind_a_mag_activates_the_shadow_and_is_reached_over_ipv4_in_ipv6() {
    run_test_with("walk2", 90, ds6_gets_ipv6_from_the_lma, |net| {
        let (_, away_seq) = away4_then_shadow6(net)?;
        // Step 3: at home, the node's BU over IPv6 from its home address
        // (care-of address = home address) through the MAG's tunnel, with
        // its IPv4 home address, its next sequence number.
        let seq = ((away_seq + 1) & 0xffff).to_string();
        let args = ["--ipv4-hoa", HOA4, "--on-ipv6-home-link", "--tun", "mn6", "--seq", &seq];
        let home = net.node("home", MN_NS, &args)?;
        let ba = net.answer(home, "register", "ba")?;
        ensure!(
            ba["status"] == 0 && ba["auth_ok"] == true && ba["checksum_ok"] == true,
            "at-home registration over IPv6 (after sequence number {away_seq}): {ba}"
        );
        ensure!(ba["ipv4_ack"]["status"] == 0 && ba["ipv4_ack"]["addr"] == HOA4, "IPv4 Address Ack: {ba}");
        ensure!(
            ba["framing"] == "ipv6",
            "a BA to a care-of address that is the home address has no routing header: {ba}"
        );
        ensure!(ba["tries"] == 1, "the first BU from home went unanswered: {ba}");
        let attached = net.sims[home].event("attached", Duration::from_secs(10))?;
        ensure!(attached["home"] == "ipv6" && attached["encap"] == "ipip6", "attached at home: {attached}");
        let t = net.table()?;
        ensure!(
            t == [
                row("dsmip6", HOA, "deprecated", "-", "-"),
                row("dsmip6", HOA4, "active", "ipip", HOA),
                row("pmip6", HNP, "active", "gre", MAG),
            ],
            "binding table at home: {t:?}"
        );
        // IPv6 natively through the MAG; IPv4 in IPv6 to the home address,
        // inside the MAG's tunnel.
        net.ping(MN_NS, CN_V6)?;
        net.ping("anc-cn", HOA)?;
        net.ping(MN_NS, CN_V4)?;
        net.ping("anc-cn", HOA4)?;
        // Too big for two tunnels (IPv4 in IPv6, then the MAG's GRE over
        // IPv6): refused with "fragmentation needed" before the first
        // header — the nested tunnel leaves room for the largest outer one
        // (1500 - 60 - 40 = 1400) — instead of lost between the two.
        let big = std::process::Command::new("ip")
            .args([
                "netns", "exec", "anc-cn", "ping", "-c", "2", "-i", "0.3", "-W", "1", "-M", "do", "-s", "1420", HOA4,
            ])
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&big.stdout).to_string() + &String::from_utf8_lossy(&big.stderr);
        ensure!(text.contains("mtu = 1400"), "no fragmentation needed (MTU 1400) for 1448 octets: {text}");
        net.alive()
    });
}
