//! End to end through every tunnel kind of PROTOCOLS.md §12: the real
//! `anchord` on `net_af_packet` ports in the demo network (scripts/netns.sh),
//! one static binding per test, a userspace tunnel endpoint
//! (scripts/sim/tunnel_peer.py, a MAG/FA/MN stand-in written from the spec)
//! in anc-mag whose TUN device is the mobile node's interface in the
//! namespace anc-mn, and the correspondent anc-cn. The mobile node pings the
//! correspondent over IPv4 and/or IPv6 and moves a megabyte each way over TCP
//! (scripts/sim/tcp_check.py checks SHA-256 / content); then `anchorctl`
//! must list the binding and count encapsulations and decapsulations.
//!
//! Needs root; skipped with a message otherwise. The tests share the demo
//! namespaces, so they hold one lock and run one after the other. Every
//! process started here is ended by its pid, and the namespaces (the demo
//! ones and anc-mn) are deleted by Drop guards, also when a test fails.
//!
//! Assumptions (lenient where the output is not settled yet):
//! * the static binding schema `[[binding]]` (mn_id, ipv4_hoa, hnps,
//!   ipv6_hoa, endpoint, local, tunnel, gre_key_in, gre_key_out, udp_port,
//!   local_udp_port) as in config/src/raw.rs; the tests replace demo.toml's
//!   bindings with their own one;
//! * `show stats --json`: encapsulations/decapsulations are the numbers
//!   under any key containing "encap" / "decap" (keys containing "drop",
//!   "err", "fail" or "spoof" not entered); where such a counter is an object
//!   with an entry named after the tunnel kind, that entry must count too.
//!   The anti-spoofing drop is any key containing "spoof" (wrong GRE key:
//!   "spoof" or "key"). Top-level and per-worker copies may both be summed,
//!   hence only lower bounds;
//! * `show bindings --json` (DESIGN.md fields): `role` may be any string
//!   (static bindings), `state` is "active", `tunnel` is the configured kind
//!   (for mip-udp any name containing "udp"), `coa` is the simulator's tunnel
//!   address, absent values are null.
//!
//! `simulator_back_to_back_without_anchord` checks the simulator itself: two
//! instances face each other (the second in anc-lma, whose kernel then holds
//! the anchor's addresses), so a failure of the anchord tests can be told
//! apart from a broken simulator.

use std::ops::{Deref, DerefMut};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{guard, script, terminate, Env, Proc, CN_V4, CN_V6, MN_NS};

/// One static binding and how the simulator plays its other end.
#[derive(Clone)]
struct Case {
    /// Short, unique: names the binding (`sim-<tag>@anchor.test`), files, EAL prefix.
    tag: &'static str,
    /// ipip | gre | udp | udp-tlv | mip-udp
    kind: &'static str,
    /// The tunnel runs over IPv6 (2001:db8:1::2 <-> 2001:db8:1::1).
    outer_v6: bool,
    ipv4_hoa: Option<&'static str>,
    hnp: Option<&'static str>,
    ipv6_hoa: Option<&'static str>,
    /// (gre_key_in, gre_key_out) of the binding = simulator (--key-up, --key-down).
    keys: Option<(u32, u32)>,
    /// The simulator's UDP port (binding `udp_port`).
    udp_port: Option<u16>,
    /// The anchor's UDP port (binding `local_udp_port`; not for mip-udp).
    local_udp_port: Option<u16>,
}

impl Case {
    fn new(tag: &'static str, kind: &'static str) -> Case {
        Case {
            tag,
            kind,
            outer_v6: false,
            ipv4_hoa: None,
            hnp: None,
            ipv6_hoa: None,
            keys: None,
            udp_port: None,
            local_udp_port: None,
        }
    }
    fn mn_id(&self) -> String {
        format!("sim-{}@anchor.test", self.tag)
    }
    /// The simulator's tunnel address (binding `endpoint`).
    fn endpoint(&self) -> &'static str {
        if self.outer_v6 {
            "2001:db8:1::2"
        } else {
            "192.0.2.2"
        }
    }
    /// The anchor's tunnel address (binding `local`).
    fn anchor(&self) -> &'static str {
        if self.outer_v6 {
            "2001:db8:1::1"
        } else {
            "192.0.2.1"
        }
    }

    /// The `[[binding]]` table for the config.
    fn binding(&self) -> toml::Table {
        let mut b = toml::Table::new();
        let s = |v: &str| toml::Value::String(v.to_string());
        b.insert("mn_id".into(), s(&self.mn_id()));
        if let Some(a) = self.ipv4_hoa {
            b.insert("ipv4_hoa".into(), s(a));
        }
        if let Some(p) = self.hnp {
            b.insert("hnps".into(), toml::Value::Array(vec![s(p)]));
        }
        if let Some(a) = self.ipv6_hoa {
            b.insert("ipv6_hoa".into(), s(a));
        }
        b.insert("endpoint".into(), s(self.endpoint()));
        b.insert("local".into(), s(self.anchor()));
        b.insert("tunnel".into(), s(self.kind));
        if let Some((kin, kout)) = self.keys {
            b.insert("gre_key_in".into(), toml::Value::Integer(kin.into()));
            b.insert("gre_key_out".into(), toml::Value::Integer(kout.into()));
        }
        if let Some(p) = self.udp_port {
            b.insert("udp_port".into(), toml::Value::Integer(p.into()));
        }
        if let Some(p) = self.local_udp_port {
            b.insert("local_udp_port".into(), toml::Value::Integer(p.into()));
        }
        b
    }

    /// tunnel_peer.py arguments playing the binding's endpoint.
    fn sim_args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "--kind".into(),
            self.kind.into(),
            "--local".into(),
            self.endpoint().into(),
            "--remote".into(),
            self.anchor().into(),
            "--mn-ns".into(),
            MN_NS.into(),
        ];
        let mut opt = |k: &str, v: String| {
            a.push(k.into());
            a.push(v);
        };
        if let Some(x) = self.ipv4_hoa {
            opt("--ipv4-hoa", x.into());
        }
        if let Some(x) = self.hnp {
            opt("--hnp", x.into());
        }
        if let Some(x) = self.ipv6_hoa {
            opt("--ipv6-hoa", x.into());
        }
        if let Some((up, down)) = self.keys {
            opt("--key-up", up.to_string());
            opt("--key-down", down.to_string());
        }
        if let Some(p) = self.udp_port {
            opt("--local-udp-port", p.to_string());
        }
        if let Some(p) = self.local_udp_port {
            opt("--udp-port", p.to_string());
        }
        a
    }

    /// Where the mobile node talks to the correspondent: (IPv4?, IPv6?).
    fn families(&self) -> (bool, bool) {
        (self.ipv4_hoa.is_some(), self.hnp.is_some() || self.ipv6_hoa.is_some())
    }
}

/// The demo network, anc-mn, a running anchord and the processes started
/// for a test; everything is ended and deleted on drop.
struct Net {
    env: Env,
    procs: Vec<Proc>,
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
    /// Builds the namespaces (demo network + anc-mn), without anchord.
    fn namespaces(name: &str) -> Net {
        Net { env: Env::namespaces("anchor-tun", name, true), procs: Vec::new() }
    }

    /// The namespaces plus anchord with demo.toml whose bindings are `bindings`.
    fn start(name: &str, bindings: &[toml::Table]) -> Net {
        let mut net = Net::namespaces(name);
        let mut cfg = net.demo_config();
        cfg.insert("binding".into(), toml::Value::Array(bindings.iter().cloned().map(toml::Value::Table).collect()));
        net.start_anchord(&cfg);
        net
    }

    /// Starts `/usr/bin/python3 <args>` in `ns` and waits for its "ready" line.
    fn spawn_ready(&mut self, name: &str, ns: &str, args: &[String]) -> Result<(), String> {
        let (proc, rx) = Proc::python(&self.env.dir, name, ns, args, false)?;
        let stderr = proc.stderr.clone();
        self.procs.push(proc);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if l.trim() == "ready" => return Ok(()),
                Ok(_) => {}
                Err(_) => {
                    let err = std::fs::read_to_string(&stderr).unwrap_or_default();
                    return Err(format!("{name} did not get ready: {args:?}\n{err}"));
                }
            }
        }
    }

    /// Starts the simulator in anc-mag (`extra`: tunnel_peer.py arguments).
    fn sim(&mut self, name: &str, ns: &str, extra: &[String]) -> Result<(), String> {
        let mut args = vec![script("sim/tunnel_peer.py")];
        args.extend_from_slice(extra);
        self.spawn_ready(name, ns, &args)
    }

    /// Ends the background process `name` (SIGTERM by pid); its stderr.
    fn stop(&mut self, name: &str) -> String {
        let Some(i) = self.procs.iter().position(|p| p.name == name) else {
            return String::new();
        };
        self.procs.remove(i).stop()
    }

    fn stop_all(&mut self) -> String {
        let names: Vec<String> = self.procs.iter().map(|p| p.name.clone()).collect();
        names.iter().map(|n| self.stop(n) + "\n").collect()
    }

    /// Everything useful after a failure: processes' stderr, anchord's view
    /// and log. Ends the background processes (to get their counters).
    fn report(&mut self) -> String {
        let procs = self.stop_all();
        format!("{procs}\n{}", self.daemon_report())
    }

    /// A megabyte each way over TCP between `mn_ns` and a tcp_check.py server
    /// at `server_addr` in `server_ns`, content checked on both sides.
    fn tcp(&mut self, mn_ns: &str, server_ns: &str, server_addr: &str) -> Result<(), String> {
        let port = "5001";
        let server = vec![
            script("sim/tcp_check.py"),
            "server".into(),
            "--bind".into(),
            server_addr.into(),
            "--port".into(),
            port.into(),
        ];
        self.spawn_ready("tcp-server", server_ns, &server)?;
        let out = self.dir.join("tcp-client.out");
        let out_file = std::fs::File::create(&out).unwrap();
        let mut client = Command::new("ip")
            .args(["netns", "exec", mn_ns, "/usr/bin/python3"])
            .arg(script("sim/tcp_check.py"))
            .args(["client", "--connect", server_addr, "--port", port])
            .args(["--up", "1000000", "--down", "1000000", "--timeout", "20"])
            .stdout(Stdio::from(out_file.try_clone().unwrap()))
            .stderr(Stdio::from(out_file))
            .spawn()
            .map_err(|e| e.to_string())?;
        // The client ends by itself (socket timeouts); the deadline is a backstop.
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Ok(Some(st)) = client.try_wait() {
                break Some(st);
            }
            if Instant::now() > deadline {
                terminate(&mut client, Duration::from_secs(2));
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let server_err = self.stop("tcp-server");
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        match status {
            Some(st) if st.success() => Ok(()),
            _ => Err(format!("TCP transfer {mn_ns} -> {server_addr} failed ({status:?}):\n{text}\n{server_err}")),
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Simulators first (closing the TUN removes it from anc-mn); then
        // the Env field ends anchord and deletes the namespaces.
        self.stop_all();
    }
}

/// Sum of the numbers under keys for which `want(key)` holds, anywhere in `v`
/// (a matching key's whole subtree counts; keys for which `skip` holds are
/// not entered).
fn sum_keys(v: &Value, want: &dyn Fn(&str) -> bool, skip: &dyn Fn(&str) -> bool) -> u64 {
    fn all(v: &Value) -> u64 {
        match v {
            Value::Number(n) => n.as_u64().unwrap_or(0),
            Value::Array(a) => a.iter().map(all).sum(),
            Value::Object(m) => m.values().map(all).sum(),
            _ => 0,
        }
    }
    match v {
        Value::Array(a) => a.iter().map(|x| sum_keys(x, want, skip)).sum(),
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| !skip(&k.to_ascii_lowercase()))
            .map(|(k, x)| if want(&k.to_ascii_lowercase()) { all(x) } else { sum_keys(x, want, skip) })
            .sum(),
        _ => 0,
    }
}

fn not_a_success_counter(k: &str) -> bool {
    ["drop", "err", "fail", "spoof"].iter().any(|w| k.contains(w))
}

/// `show bindings --json` lists the case's binding with its configuration.
fn check_binding(net: &Net, c: &Case) -> Result<(), String> {
    let list = net.ctl(&["show", "bindings"])?;
    let b = list
        .as_array()
        .and_then(|a| a.iter().find(|b| b["mn_id"] == c.mn_id().as_str()))
        .ok_or_else(|| format!("binding {} not listed: {list}", c.mn_id()))?;
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
    want("role", b["role"].is_string());
    want("state", b["state"] == "active");
    want("ipv4_hoa", c.ipv4_hoa.map_or(b["ipv4_hoa"].is_null(), |a| b["ipv4_hoa"] == a));
    let hnps: Vec<&str> =
        b["hnps"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    want("hnps", c.hnp.map_or(hnps.is_empty(), |p| hnps == [p]));
    want("ipv6_hoa", c.ipv6_hoa.map_or(b["ipv6_hoa"].is_null(), |a| b["ipv6_hoa"] == a));
    want("coa", b["coa"] == c.endpoint());
    let tunnel = b["tunnel"].as_str().unwrap_or("");
    want("tunnel", tunnel == c.kind || (c.kind == "mip-udp" && tunnel.contains("udp")));
    let (kin, kout) = c.keys.map_or((Value::Null, Value::Null), |(i, o)| (Value::from(i), Value::from(o)));
    want("gre_key_in", b["gre_key_in"] == kin);
    want("gre_key_out", b["gre_key_out"] == kout);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("binding fields {bad:?} wrong for {}: {b}", c.mn_id()))
    }
}

/// `show stats --json` counted encapsulations and decapsulations: the sums
/// over keys containing "encap" / "decap" are at least 3 each, and where such
/// a counter is an object with an entry named after the tunnel kind (per-kind
/// counters), that entry is at least 3 too.
fn check_counted(net: &Net, kind: &str) -> Result<(), String> {
    let stats = net.ctl(&["show", "stats"])?;
    let mut bad = Vec::new();
    for what in ["encap", "decap"] {
        let total = sum_keys(&stats, &|k| k.contains(what), &not_a_success_counter);
        let per_kind = per_kind_count(&stats, what, kind);
        if total < 3 || per_kind.is_some_and(|n| n < 3) {
            bad.push(format!("{what}: {total} in all, {per_kind:?} for {kind:?}"));
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("stats count too few ({}; want >= 3): {stats}", bad.join(", ")))
    }
}

/// The sum of `<key containing what>.<kind>` over the whole stats, if any
/// counter object has such an entry.
fn per_kind_count(v: &Value, what: &str, kind: &str) -> Option<u64> {
    match v {
        Value::Array(a) => a.iter().filter_map(|x| per_kind_count(x, what, kind)).reduce(|a, b| a + b),
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| !not_a_success_counter(&k.to_ascii_lowercase()))
            .filter_map(|(k, x)| {
                if k.to_ascii_lowercase().contains(what) {
                    x.get(kind).and_then(Value::as_u64)
                } else {
                    per_kind_count(x, what, kind)
                }
            })
            .reduce(|a, b| a + b),
        _ => None,
    }
}

/// Ping (each family the binding has) and TCP through the tunnel, then the
/// anchor's view.
fn exercise(net: &mut Net, c: &Case) -> Result<(), String> {
    net.sim("sim", "anc-mag", &c.sim_args())?;
    let (v4, v6) = c.families();
    if v4 {
        net.ping(MN_NS, CN_V4)?;
    }
    if v6 {
        net.ping(MN_NS, CN_V6)?;
    }
    net.tcp(MN_NS, "anc-cn", if v4 { CN_V4 } else { CN_V6 })?;
    check_binding(net, c)?;
    check_counted(net, c.kind)
}

fn run_case(c: Case) {
    let Some(_g) = guard() else { return };
    let mut net = Net::start(c.tag, &[c.binding()]);
    if let Err(e) = exercise(&mut net, &c) {
        panic!("{} ({} over IPv{}): {e}\n{}", c.mn_id(), c.kind, if c.outer_v6 { 6 } else { 4 }, net.report());
    }
}

#[test]
fn ipip_over_ipv4_carries_ipv4_and_ipv6() {
    run_case(Case { ipv4_hoa: Some("203.0.113.11"), hnp: Some("2001:db8:100:11::/64"), ..Case::new("ipip4", "ipip") });
}

#[test]
fn ipip_over_ipv6_carries_ipv4_and_ipv6() {
    run_case(Case {
        outer_v6: true,
        ipv4_hoa: Some("203.0.113.12"),
        hnp: Some("2001:db8:100:12::/64"),
        ..Case::new("ipip6", "ipip")
    });
}

#[test]
fn gre_over_ipv4_with_keys() {
    run_case(Case {
        ipv4_hoa: Some("203.0.113.13"),
        hnp: Some("2001:db8:100:13::/64"),
        keys: Some((100, 200)),
        ..Case::new("gre4", "gre")
    });
}

#[test]
fn gre_over_ipv6_without_keys() {
    run_case(Case {
        outer_v6: true,
        ipv4_hoa: Some("203.0.113.14"),
        hnp: Some("2001:db8:100:14::/64"),
        ..Case::new("gre6", "gre")
    });
}

#[test]
fn udp_pmipv6_ipv4_udp_port_5437() {
    run_case(Case {
        ipv4_hoa: Some("203.0.113.15"),
        hnp: Some("2001:db8:100:15::/64"),
        udp_port: Some(5437),
        local_udp_port: Some(5437),
        ..Case::new("udp5437", "udp")
    });
}

#[test]
fn udp_dsmipv6_style_port_4191() {
    run_case(Case {
        ipv4_hoa: Some("203.0.113.16"),
        ipv6_hoa: Some("2001:db8:200::16"),
        udp_port: Some(4191),
        local_udp_port: Some(4191),
        ..Case::new("udp4191", "udp")
    });
}

#[test]
fn udp_tlv_gre_with_keys() {
    run_case(Case {
        ipv4_hoa: Some("203.0.113.17"),
        hnp: Some("2001:db8:100:17::/64"),
        keys: Some((300, 400)),
        udp_port: Some(5437),
        local_udp_port: Some(5437),
        ..Case::new("udptlv", "udp-tlv")
    });
}

#[test]
fn mip_udp_tunnel_data_ipv4_and_ipv6() {
    // RFC 3519: the anchor is always port 434; the simulator (an MN behind a
    // NAT) uses 1434. IPv6 inside uses Next Header 41 (DSMIPv4, RFC 5454).
    run_case(Case {
        ipv4_hoa: Some("203.0.113.18"),
        hnp: Some("2001:db8:100:18::/64"),
        udp_port: Some(1434),
        ..Case::new("mipudp", "mip-udp")
    });
}

/// Starts a binding for 192.0.2.2 and a simulator that deviates as
/// `sim_args` says; nothing may get through and a drop counter whose name
/// satisfies `reason` must count it.
fn run_spoof_case(c: Case, sim_args: Vec<String>, reason: &dyn Fn(&str) -> bool, what: &str) {
    let Some(_g) = guard() else { return };
    let mut net = Net::start(c.tag, &[c.binding()]);
    let result = (|| {
        net.sim("sim", "anc-mag", &sim_args)?;
        net.ping_fails(MN_NS, CN_V4, 3)?;
        let stats = net.ctl(&["show", "stats"])?;
        let spoofed = sum_keys(&stats, &|k| reason(k), &|_| false);
        if spoofed >= 3 {
            Ok(())
        } else {
            Err(format!("{spoofed} {what} drops counted (want >= 3): {stats}"))
        }
    })();
    if let Err(e) = result {
        panic!("{}: {e}\n{}", c.mn_id(), net.report());
    }
}

#[test]
fn uplink_from_a_wrong_outer_source_is_dropped_as_spoofed() {
    let c = Case { ipv4_hoa: Some("203.0.113.21"), ..Case::new("spoofsrc", "ipip") };
    // The binding's endpoint is 192.0.2.2; the simulator sends from 192.0.2.3.
    let mut args = c.sim_args();
    let i = args.iter().position(|a| a == "--local").unwrap();
    args[i + 1] = "192.0.2.3".into();
    run_spoof_case(c, args, &|k| k.contains("spoof"), "\"spoof\"");
}

#[test]
fn uplink_with_a_wrong_gre_key_is_dropped() {
    let c = Case { ipv4_hoa: Some("203.0.113.22"), keys: Some((100, 200)), ..Case::new("spoofkey", "gre") };
    let mut args = c.sim_args();
    let i = args.iter().position(|a| a == "--key-up").unwrap();
    args[i + 1] = "101".into();
    run_spoof_case(c, args, &|k| k.contains("spoof") || k.contains("key"), "\"spoof\" or \"key\"");
}

/// The simulator without anchord: a second instance in anc-lma plays the
/// anchor (its kernel gets 192.0.2.1 and 2001:db8:1::1 on lma-core, the
/// correspondent anc-cn gets its own TUN with 198.51.100.99 and
/// 2001:db8:2::99, and anc-cn's routes to the home pools are removed so that
/// the answers go back through the tunnel). Same cases as above.
#[test]
fn simulator_back_to_back_without_anchord() {
    let Some(_g) = guard() else { return };
    let mut net = Net::namespaces("loopback");
    net.sh(&["ip", "-n", "anc-lma", "addr", "add", "192.0.2.1/24", "dev", "lma-core"]);
    net.sh(&["ip", "netns", "exec", "anc-lma", "sysctl", "-qw", "net.ipv6.conf.lma-core.disable_ipv6=0"]);
    net.sh(&["ip", "-n", "anc-lma", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "lma-core", "nodad"]);
    net.sh(&["ip", "-n", "anc-cn", "route", "del", "203.0.113.0/24"]);
    net.sh(&["ip", "-n", "anc-cn", "-6", "route", "del", "2001:db8:100::/48"]);
    net.sh(&["ip", "-n", "anc-cn", "-6", "route", "del", "2001:db8:200::/64"]);

    let cases = [
        ("ipip", false, None, None, None),
        ("ipip", true, None, None, None),
        ("gre", false, Some((100u32, 200u32)), None, None),
        ("gre", true, None, None, None),
        ("udp", false, None, Some(5437u16), Some(5437u16)),
        ("udp", false, None, Some(4191), Some(4191)),
        ("udp-tlv", false, Some((300, 400)), Some(5437), Some(5437)),
        ("mip-udp", false, None, Some(1434), Some(434)),
    ];
    for (kind, outer_v6, keys, udp_port, anchor_port) in cases {
        let c = Case {
            outer_v6,
            ipv4_hoa: Some("203.0.113.10"),
            hnp: Some("2001:db8:100:1::/64"),
            keys,
            udp_port,
            local_udp_port: if kind == "mip-udp" { None } else { anchor_port },
            ..Case::new("loop", kind)
        };
        // The anchor's stand-in: the mirror image of the MN side.
        let mut peer: Vec<String> = [
            "--kind",
            kind,
            "--local",
            c.anchor(),
            "--remote",
            c.endpoint(),
            "--mn-ns",
            "anc-cn",
            "--tun",
            "mn1",
            "--ipv4-hoa",
            "198.51.100.99",
            "--ipv6-hoa",
            "2001:db8:2::99",
        ]
        .map(String::from)
        .to_vec();
        if let Some((up, down)) = keys {
            peer.extend(["--key-up".into(), down.to_string()]);
            peer.extend(["--key-down".into(), up.to_string()]);
        }
        if let (Some(mn), Some(anchor)) = (udp_port, anchor_port) {
            peer.extend(["--udp-port".into(), mn.to_string()]);
            peer.extend(["--local-udp-port".into(), anchor.to_string()]);
        }
        let result = (|| {
            net.sim("peer", "anc-lma", &peer)?;
            net.sim("sim", "anc-mag", &c.sim_args())?;
            net.ping(MN_NS, "198.51.100.99")?;
            net.ping(MN_NS, "2001:db8:2::99")?;
            net.tcp(MN_NS, "anc-cn", "198.51.100.99")
        })();
        if let Err(e) = result {
            panic!("{kind} over IPv{}: {e}\n{}", if outer_v6 { 6 } else { 4 }, net.report());
        }
        net.stop_all();
    }
}
