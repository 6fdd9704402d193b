//! End to end: the Mobile IPv4 home agent on a home link (RFC 5944 §4.6;
//! PROTOCOLS.md §8.7 "Home-link duties"). demo.toml changed so that the home
//! port is the mobile nodes' home link (`home_link = true`) and the home
//! agent's pool is 198.51.100.128/25, inside the home port's subnet, where
//! the correspondent anc-cn (198.51.100.2) lives. scripts/sim/mip4.py plays
//! a mobile node with a co-located care-of address (192.0.2.10) in anc-mag
//! whose traffic comes out of a TUN device in anc-mn.
//!
//! While the node is registered the correspondent reaches its home address
//! on its own link: its ARP for it is answered by the anchor (proxy ARP) and
//! the gratuitous ARPs sent at registration show up in its neighbour table
//! (anc-cn accepts gratuitous ARP for addresses it has no entry for,
//! `arp_accept = 1`). After de-registration its ARP goes unanswered.
//!
//! Needs root; skipped with a message otherwise. Processes are ended by pid
//! and the namespaces deleted by Drop guards, also when a test fails; a
//! failure prints the simulator's events and stderr, `anchorctl show
//! bindings/stats` and the tail of anchord's log.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

#[macro_use]
mod common;
use common::v4only::{KEY, NAI, SPI};
use common::{guard, script, wait_until, Env, Net, Sim, CN_V4, MN_NS};

const HA: &str = "192.0.2.1";
const COA: &str = "192.0.2.10";
/// The home agent's pool on the home link, and its default router.
const POOL: &str = "198.51.100.128/25";
const POOL_ROUTER: &str = "198.51.100.129";

impl Net {
    /// The demo network, anc-mn, and anchord on demo.toml with the home
    /// port a home link and the home agent's pool on it.
    fn start(tag: &str) -> Net {
        let mut net = Net::new(Env::namespaces("anchor-homelink", tag, true));
        net.sh(&["ip", "-n", "anc-mag", "addr", "add", &format!("{COA}/24"), "dev", "mag-core"]);
        // Gratuitous ARP creates entries in anc-cn (Linux default: it only
        // updates existing ones), so that the registration's shows.
        net.sh(&["ip", "netns", "exec", "anc-cn", "sysctl", "-qw", "net.ipv4.conf.cn-home.arp_accept=1"]);
        let mut cfg = net.demo_config();
        cfg.remove("binding");
        home_link_config(&mut cfg);
        net.start_anchord(&cfg);
        net
    }

    /// Starts mip4.py as the v4only mobile node (IP-in-IP).
    fn mn(&mut self) -> Result<usize, String> {
        self.mn_as((NAI, SPI, KEY), &[])
    }

    /// Starts mip4.py for the association (NAI, SPI, key), IP-in-IP, with
    /// `extra` arguments.
    fn mn_as(&mut self, sa: (&str, &str, &str), extra: &[&str]) -> Result<usize, String> {
        let (nai, spi, key) = sa;
        let script = script("sim/mip4.py");
        let base = [&script[..], "--nai", nai, "--spi", spi, "--key", key, "--ha", HA, "--mn-ns", MN_NS];
        let args: Vec<String> =
            base.iter().chain(&["--coa", COA, "--encap", "ipip"]).chain(extra).map(|s| s.to_string()).collect();
        let sim = Sim::start(&self.env.dir, "mn", "anc-mag", &args)?;
        self.sims.push(sim);
        Ok(self.sims.len() - 1)
    }

    /// `ip neigh show <addr>` in anc-cn.
    fn cn_neighbour(&self, addr: &str) -> String {
        let out = Command::new("ip").args(["-n", "anc-cn", "neigh", "show", addr, "dev", "cn-home"]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
    }

    /// Forgets anc-cn's neighbour entry for `addr`, so that its next packet
    /// to it asks ARP again.
    fn cn_forget(&self, addr: &str) {
        let _ = Command::new("ip").args(["-n", "anc-cn", "neigh", "del", addr, "dev", "cn-home"]).output();
    }

    /// The `show proxy` row of `addr`, if listed.
    fn proxy_row(&self, addr: &str) -> Result<Option<Value>, String> {
        let rows = self.ctl(&["show", "proxy"])?;
        let rows = rows.as_array().ok_or_else(|| format!("show proxy is not an array: {rows}"))?;
        Ok(rows.iter().find(|r| r["ip"] == addr).cloned())
    }

    fn full_report(&mut self) -> String {
        let mut r = String::new();
        r += &format!("--- anc-cn neighbours: {}\n", {
            let out = Command::new("ip").args(["-n", "anc-cn", "neigh", "show"]).output();
            out.map(|o| String::from_utf8_lossy(&o.stdout).to_string()).unwrap_or_default()
        });
        r += &format!("--- anchorctl show proxy: {:?}\n", self.ctl(&["show", "proxy"]));
        r + &self.report()
    }
}

/// demo.toml's home port as the home link, with a pool inside its subnet
/// that the home agent allocates from.
fn home_link_config(cfg: &mut toml::Table) {
    let port = cfg["port"].as_array_mut().and_then(|ports| ports.get_mut(1)).and_then(|p| p.as_table_mut());
    let port = port.expect("demo.toml has a second [[port]]");
    assert_eq!(port["role"].as_str(), Some("home"));
    port.insert("home_link".into(), toml::Value::Boolean(true));
    let mut pool = toml::Table::new();
    pool.insert("subnet".into(), POOL.into());
    pool.insert("default_router".into(), POOL_ROUTER.into());
    let pools = cfg["pools"]["ipv4"].as_array_mut().expect("demo.toml has [[pools.ipv4]]");
    pools.push(toml::Value::Table(pool));
    cfg["ha"]["ipv4_pools"] = toml::Value::Array(vec![POOL.into()]);
}

fn run_test(tag: &str, body: impl FnOnce(&mut Net) -> Result<(), String>) {
    let Some(_g) = guard() else { return };
    let mut net = Net::start(tag);
    if let Err(e) = body(&mut net) {
        panic!("{tag}: {e}\n{}", net.full_report());
    }
}

/// A counter of `show stats` `home_link`, 0 when absent.
fn home_link_counter(stats: &Value, name: &str) -> u64 {
    stats["home_link"][name].as_u64().unwrap_or(0)
}

#[test]
fn a_mobile_node_registered_away_is_reached_on_its_home_link_through_proxy_arp_until_it_deregisters() {
    run_test("proxy-arp", |net| {
        let home_mac = net.port_mac("home")?;
        let m = net.mn()?;
        let rrp = net.answer(m, "register", "rrp")?;
        ensure!(rrp["code"] == 0, "registration not accepted: {rrp}");
        let hoa = rrp["hoa"].as_str().unwrap_or_default().to_string();
        let octet: u8 = hoa.strip_prefix("198.51.100.").and_then(|o| o.parse().ok()).unwrap_or(0);
        ensure!((130..=254).contains(&octet), "home address {hoa} is not from {POOL} (less its router): {rrp}");
        net.sims[m].event("attached", Duration::from_secs(10))?;

        // RFC 5944 §4.6: gratuitous ARPs with our MAC, before any packet of
        // the correspondent's.
        wait_until(Duration::from_secs(5), "the gratuitous ARP in anc-cn's neighbour table", || {
            let n = net.cn_neighbour(&hoa);
            Ok(n.contains(&format!("lladdr {home_mac}")).then_some(()))
        })?;
        let row = net.proxy_row(&hoa)?.ok_or_else(|| format!("{hoa} not in show proxy"))?;
        ensure!(row["state"] == "active" && row["port"] == "home", "show proxy row: {row}");
        ensure!(row["owner"].as_str().is_some_and(|o| o.starts_with("mip4 binding")), "show proxy owner: {row}");

        // Proxy ARP: the correspondent asks again and reaches the node
        // through the tunnel; the node reaches it back.
        net.cn_forget(&hoa);
        net.ping("anc-cn", &hoa)?;
        let n = net.cn_neighbour(&hoa);
        ensure!(n.contains(&format!("lladdr {home_mac}")), "anc-cn resolved {hoa} to another MAC: {n}");
        net.ping(MN_NS, CN_V4)?;
        let stats = net.stats()?;
        ensure!(home_link_counter(&stats, "arp_replies") >= 1, "no ARP reply counted: {}", stats["home_link"]);
        ensure!(home_link_counter(&stats, "proxied") == 1, "proxied: {}", stats["home_link"]);
        // Three gratuitous ARPs, one second (RetransTimer) apart.
        wait_until(Duration::from_secs(5), "three gratuitous ARPs", || {
            Ok((home_link_counter(&net.stats()?, "gratuitous_arps") >= 3).then_some(()))
        })?;

        // De-registration: no longer answered.
        let rrp = net.answer(m, "deregister", "rrp")?;
        ensure!(rrp["code"] == 0, "de-registration not accepted: {rrp}");
        net.sims[m].event("detached", Duration::from_secs(5))?;
        wait_until(Duration::from_secs(5), "the proxy's withdrawal", || {
            Ok(net.proxy_row(&hoa)?.is_none().then_some(()))
        })?;
        net.cn_forget(&hoa);
        net.ping_fails("anc-cn", &hoa, 3)?;
        let n = net.cn_neighbour(&hoa);
        ensure!(!n.contains("lladdr"), "anc-cn's ARP for {hoa} was answered after de-registration: {n}");
        let stats = net.stats()?;
        ensure!(home_link_counter(&stats, "withdrawn") >= 1, "withdrawal not counted: {}", stats["home_link"]);
        net.alive()
    });
}

/// demo.toml's dual-stack association (its profile allows IPv6).
const DUAL: (&str, &str, &str) = ("dual@anchor.test", "4097", "0102030405060708090a0b0c0d0e0f10");
/// demo.toml's ha.dsmip4_draft01_type.
const DRAFT: &str = "200";

#[test]
fn a_draft01_ipv6_home_address_on_the_home_link_is_checked_by_dad_then_defended_and_reached() {
    run_test("draft01", |net| {
        // draft-ietf-mip4-dsmipv4-01 (PROTOCOLS.md §9.3): ::42/128 forms
        // 2001:db8:2::42 on the home link (the home port's /64); no
        // Tunneling Mode, so IPv6 travels in IPv4 to the home address.
        let m = net.mn_as(DUAL, &["--draft01-type", DRAFT, "--ipv6-prefix", "::42/128"])?;
        let rrp = net.answer(m, "register", "rrp")?;
        ensure!(rrp["code"] == 0, "registration not accepted: {rrp}");
        let replies = rrp["prefix_replies"].as_array().cloned().unwrap_or_default();
        ensure!(
            replies.len() == 1 && replies[0]["code"] == 0 && replies[0]["prefix"] == "2001:db8:2::42/128",
            "not one draft reply granting 2001:db8:2::42/128 with code 0: {rrp}"
        );
        ensure!(rrp["auth_ok"] == true, "the reply's MN-HA does not verify in the draft layout: {rrp}");
        net.sims[m].event("attached", Duration::from_secs(10))?;
        let row = net.proxy_row("2001:db8:2::42")?.ok_or("2001:db8:2::42 not in show proxy")?;
        ensure!(row["state"] == "active", "show proxy row: {row}");
        ensure!(row["owner"].as_str().is_some_and(|o| o.starts_with("mip4 binding")), "show proxy owner: {row}");
        // The correspondent on the home link resolves it to us (proxy ND)
        // and reaches the node through both tunnels, and back.
        net.ping("anc-cn", "2001:db8:2::42")?;
        net.ping(MN_NS, "2001:db8:2::2")?;
        let b = net.ctl(&["show", "binding", "dual@anchor.test"])?;
        let b = b.get(0).cloned().unwrap_or_default();
        ensure!(b["ipv6_hoa"] == "2001:db8:2::42" && b["role"] == "dsmip4", "binding: {b}");
        // De-registration withdraws it.
        let rrp = net.answer(m, "deregister", "rrp")?;
        ensure!(rrp["code"] == 0, "de-registration not accepted: {rrp}");
        wait_until(Duration::from_secs(5), "the proxy's withdrawal", || {
            Ok(net.proxy_row("2001:db8:2::42")?.is_none().then_some(()))
        })?;
        net.alive()
    });
}

#[test]
fn a_draft01_home_address_in_use_on_the_home_link_is_refused_with_code_11() {
    run_test("draft01-dad", |net| {
        // The correspondent holds 2001:db8:2::43 and defends it.
        net.sh(&["ip", "-n", "anc-cn", "addr", "add", "2001:db8:2::43/64", "dev", "cn-home", "nodad"]);
        let m = net.mn_as(DUAL, &["--draft01-type", DRAFT, "--ipv6-prefix", "2001:db8:2::43/128"])?;
        let rrp = net.answer(m, "register", "rrp")?;
        ensure!(rrp["code"] == 0, "the IPv4 registration should stand: {rrp}");
        let replies = rrp["prefix_replies"].as_array().cloned().unwrap_or_default();
        ensure!(replies.len() == 1 && replies[0]["code"] == 11, "not one reply with code 11 (DAD failed): {rrp}");
        ensure!(net.proxy_row("2001:db8:2::43")?.is_none(), "a duplicate address is answered for");
        net.alive()
    });
}
