//! End to end: the real `anchord` on `net_af_packet` DPDK ports inside the
//! demo network (scripts/netns.sh), pinged by the Linux stacks of anc-mag and
//! anc-cn, inspected with `anchorctl --json`, stopped with SIGTERM.
//!
//! Needs root; skipped with a message otherwise. The tests share the demo
//! namespaces, so they hold one lock and run one after the other.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{guard, Env};

/// The demo network plus a running anchord; everything is torn down on drop.
fn start(name: &str) -> Env {
    let mut env = Env::namespaces("anchor-e2e", name, false);
    let cfg = env.demo_config();
    env.start_anchord(&cfg);
    env
}

/// Sends raw frames from anc-mag's mag-core with scapy (Python source given
/// as the list expression `frames`, with `mac` = lma-core's MAC).
fn send_frames(mac: &str, frames: &str) {
    let script = format!(
        "from scapy.all import *\nconf.verb=0\nmac='{mac}'\nsrc=get_if_hwaddr('mag-core')\nsendp({frames}\n, iface='mag-core')\n"
    );
    let out =
        Command::new("ip").args(["netns", "exec", "anc-mag", "/usr/bin/python3", "-c", &script]).output().unwrap();
    assert!(out.status.success(), "scapy: {}", String::from_utf8_lossy(&out.stderr));
}

fn port<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats.as_array().and_then(|a| a.iter().find(|p| p["port"] == name || p["name"] == name)).unwrap_or(&Value::Null)
}

#[test]
fn anchord_answers_ping_on_both_sides_counts_it_and_stops_on_sigterm() {
    let Some(_g) = guard() else { return };
    let mut demo = start("ping");

    assert!(demo.ping3("anc-mag", "192.0.2.1"), "{}", demo.log());
    assert!(demo.ping3("anc-mag", "2001:db8:1::1"), "{}", demo.log());
    assert!(demo.ping3("anc-cn", "198.51.100.1"), "{}", demo.log());
    assert!(demo.ping3("anc-cn", "2001:db8:2::1"), "{}", demo.log());

    let stats = demo.ctl(&["show", "stats"]).unwrap();
    let w0 = &stats["workers"][0]["ports"];
    for name in ["core", "home"] {
        let p = port(w0, name);
        // 6 echo requests plus ARP/ND on each side, all punted by worker 0.
        assert!(p["rx"].as_u64().unwrap() >= 6, "{name}: {p}");
        assert!(p["punted"].as_u64().unwrap() >= 6, "{name}: {p}");
        assert_eq!(p["punt_ring_full"], 0, "{name}: {p}");
        let c = port(&stats["control"]["ports"], name);
        assert!(c["tx"].as_u64().unwrap() >= 6, "control {name}: {c}");
        let total = port(&stats["ports"], name);
        assert!(total["hw"]["ipackets"].as_u64().unwrap() >= 6, "{name}: {total}");
    }

    let ports = demo.ctl(&["show", "ports"]).unwrap();
    assert_eq!(ports.as_array().map(Vec::len), Some(2));
    assert_eq!(port(&ports, "core")["driver"], "net_af_packet");

    // The next hops of the config routes get resolved by ARP and ND.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = demo.ctl(&["show", "neighbors"]).unwrap();
        let reachable = |ip: &str| n.as_array().unwrap().iter().any(|e| e["ip"] == ip && e["state"] == "reachable");
        if reachable("198.51.100.2") && reachable("2001:db8:2::2") {
            break;
        }
        assert!(Instant::now() < deadline, "next hops not resolved: {n}");
        std::thread::sleep(Duration::from_millis(200));
    }

    assert_eq!(demo.stop_anchord(), Some(0), "anchord did not exit 0 on SIGTERM:\n{}", demo.log());
}

#[test]
fn malformed_frames_are_dropped_and_counted_and_the_daemon_keeps_answering() {
    let Some(_g) = guard() else { return };
    let demo = start("malformed");
    let ports = demo.ctl(&["show", "ports"]).unwrap();
    let mac = port(&ports, "core")["mac"].as_str().unwrap().to_string();
    assert!(demo.ping3("anc-mag", "192.0.2.1"));

    let ip = "IP(src='192.0.2.2', dst='192.0.2.1')/ICMP()";
    send_frames(
        &mac,
        &format!(
            "[Ether(dst=mac, src=src, type=0x0800)/Raw(b'\\x45\\x00\\x00'),              # IPv4 header cut short
              Ether(dst=mac, src=src, type=0x0800)/Raw(bytes([0x43]) + raw({ip})[1:]),      # IHL 3
              Ether(dst=mac, src=src, type=0x0800)/Raw(bytes([0x45,0,0x05,0xdc]) + raw({ip})[4:]), # total length 1500 > frame
              Ether(dst=mac, src=src, type=0x0800)/Raw(raw({ip})[:10] + b'\\xde\\xad' + raw({ip})[12:]), # bad header checksum
              Ether(dst=mac, src=src, type=0x86dd)/Raw(bytes([0x60,0,0,0, 0x05,0xdc, 58, 64]) + bytes(32)), # IPv6 payload length past the end
              Ether(dst=mac, src=src, type=0x0806)/Raw(b'\\x00\\x01\\x08\\x00')]            # ARP cut short"
        ),
    );
    std::thread::sleep(Duration::from_millis(300));
    let stats = demo.ctl(&["show", "stats"]).unwrap();
    let drops = &stats["drops"];
    assert!(drops["ipv4-malformed"].as_u64().unwrap() >= 3, "{drops}");
    assert!(drops["ipv4-checksum"].as_u64().unwrap() >= 1, "{drops}");
    assert!(drops["ipv6-malformed"].as_u64().unwrap() >= 1, "{drops}");
    assert!(drops["arp-malformed"].as_u64().unwrap() >= 1, "{drops}");
    assert!(port(&stats["workers"][0]["ports"], "core")["dropped"].as_u64().unwrap() >= 6);

    assert!(demo.ping3("anc-mag", "192.0.2.1"), "no answer after malformed frames:\n{}", demo.log());
    assert!(demo.ping3("anc-mag", "2001:db8:1::1"));
}

#[test]
fn anchorctl_without_a_daemon_says_so_in_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_anchorctl"))
        .args(["--socket", "/nonexistent/anchord.sock", "show", "ports"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/anchord.sock") && err.contains("anchord running"), "{err}");
}
