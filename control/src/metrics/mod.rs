//! The Prometheus endpoint: `show stats` (the very JSON `anchorctl show
//! stats --json` prints, answered by the control thread) rendered in the
//! Prometheus text exposition format 0.0.4, and a small HTTP/1.1 server on
//! its own thread ([`server`]).
//!
//! Names follow the Prometheus conventions: an `anchor_` prefix, snake
//! case, base units (packets, bytes, seconds), `_total` on counters; the
//! worker, port, tunnel kind, drop reason, role and state are labels.

pub mod server;

use std::fmt::Write as _;

use serde_json::Value;

/// What a metric family is (`# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (until the daemon restarts); the name ends in `_total`.
    Counter,
    /// Goes up and down.
    Gauge,
    /// No promise either way (driver-specific DPDK xstats).
    Untyped,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Untyped => "untyped",
        }
    }
}

/// One sample: its labels (name, value) and its value.
pub type Sample = (Vec<(&'static str, String)>, u64);

/// Prometheus text being built, one family at a time.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Appends a family: `# HELP`, `# TYPE`, then one line per sample.
    /// A family without samples is left out.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str, samples: impl IntoIterator<Item = Sample>) {
        let mut samples = samples.into_iter().peekable();
        if samples.peek().is_none() {
            return;
        }
        let name = metric_name(name);
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.name());
        for (labels, value) in samples {
            self.out.push_str(&name);
            if !labels.is_empty() {
                self.out.push('{');
                for (i, (k, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
                }
                self.out.push('}');
            }
            let _ = writeln!(self.out, " {value}");
        }
    }

    /// The text so far.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A metric name made of `[a-zA-Z0-9_:]` only (JSON keys become names).
pub fn metric_name(s: &str) -> String {
    let mut name: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == ':' { c } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// A label value with `\`, `"` and newlines escaped (format 0.0.4).
pub fn escape_label(s: &str) -> String {
    s.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}

/// HELP text with `\` and newlines escaped (format 0.0.4).
pub fn escape_help(s: &str) -> String {
    s.replace('\\', r"\\").replace('\n', r"\n")
}

/// A JSON value as a label value: strings bare, numbers as written.
fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// (JSON key of a `show stats` port row, metric name, help).
const PORT_COUNTERS: [(&str, &str, &str); 6] = [
    ("rx", "anchor_port_rx_packets_total", "Packets received from the port"),
    ("tx", "anchor_port_tx_packets_total", "Packets sent on the port"),
    ("dropped", "anchor_port_dropped_packets_total", "Packets received from the port and dropped"),
    ("punted", "anchor_port_punted_packets_total", "Packets handed to the control thread through the punt ring"),
    (
        "punt_ring_full",
        "anchor_port_punt_ring_full_packets_total",
        "Packets dropped because the punt ring to the control thread was full",
    ),
    ("tx_full", "anchor_port_tx_full_packets_total", "Packets dropped because the port's TX queue was full"),
];

/// (JSON key of a port's `hw` object: `rte_eth_stats`, metric name, help).
const HW_COUNTERS: [(&str, &str, &str); 8] = [
    ("ipackets", "anchor_port_hw_rx_packets_total", "Packets the NIC received (rte_eth_stats.ipackets)"),
    ("opackets", "anchor_port_hw_tx_packets_total", "Packets the NIC sent (rte_eth_stats.opackets)"),
    ("ibytes", "anchor_port_hw_rx_bytes_total", "Bytes the NIC received (rte_eth_stats.ibytes)"),
    ("obytes", "anchor_port_hw_tx_bytes_total", "Bytes the NIC sent (rte_eth_stats.obytes)"),
    (
        "imissed",
        "anchor_port_hw_rx_missed_packets_total",
        "Packets the NIC dropped for want of RX descriptors (rte_eth_stats.imissed)",
    ),
    ("ierrors", "anchor_port_hw_rx_errors_total", "Erroneous packets received (rte_eth_stats.ierrors)"),
    ("oerrors", "anchor_port_hw_tx_errors_total", "Failed transmissions (rte_eth_stats.oerrors)"),
    ("rx_nombuf", "anchor_port_hw_rx_nombuf_total", "RX mbuf allocation failures (rte_eth_stats.rx_nombuf)"),
];

/// Renders a `show stats` reply as Prometheus text.
pub fn render(stats: &Value) -> String {
    let mut x = Exposition::default();
    if let Some(up) = stats["uptime_s"].as_u64() {
        x.family("anchor_uptime_seconds", Kind::Gauge, "Seconds since anchord started", [(Vec::new(), up)]);
    }

    // Per worker (and the control thread, worker="control") and port.
    let rows: Vec<(String, &Value)> = arr(&stats["workers"])
        .iter()
        .flat_map(|w| arr(&w["ports"]).iter().map(move |p| (label(&w["worker"]), p)))
        .chain(arr(&stats["control"]["ports"]).iter().map(|p| ("control".to_string(), p)))
        .collect();
    for (key, name, help) in PORT_COUNTERS {
        let samples = rows.iter().filter_map(|(w, p)| {
            p[key].as_u64().map(|n| (vec![("worker", w.clone()), ("port", label(&p["port"]))], n))
        });
        x.family(name, Kind::Counter, help, samples);
    }
    let workers = arr(&stats["workers"]);
    x.family(
        "anchor_worker_polls_total",
        Kind::Counter,
        "Poll-loop iterations of the worker",
        workers.iter().filter_map(|w| w["polls"].as_u64().map(|n| (vec![("worker", label(&w["worker"]))], n))),
    );
    // The workers, and the control thread (worker="control"), which drops
    // too (reassembly, fragmentation) but has no encap / decap of its own.
    let threads: Vec<(String, &Value)> = workers
        .iter()
        .map(|w| (label(&w["worker"]), w))
        .chain(std::iter::once(("control".to_string(), &stats["control"])))
        .collect();
    let per_key = |field: &'static str, label_name: &'static str| {
        threads
            .iter()
            .flat_map(move |(name, w)| {
                w[field].as_object().into_iter().flatten().filter_map(move |(k, v)| {
                    v.as_u64().map(|n| (vec![("worker", name.clone()), (label_name, k.clone())], n))
                })
            })
            .collect::<Vec<Sample>>()
    };
    x.family(
        "anchor_packet_drops_total",
        Kind::Counter,
        "Packets the worker (or the control thread) dropped, by reason",
        per_key("drops", "reason"),
    );
    x.family(
        "anchor_encapsulated_packets_total",
        Kind::Counter,
        "Packets the worker encapsulated towards a mobile node, by tunnel kind",
        per_key("encap", "tunnel"),
    );
    x.family(
        "anchor_decapsulated_packets_total",
        Kind::Counter,
        "Packets the worker decapsulated from a mobile node, by tunnel kind",
        per_key("decap", "tunnel"),
    );

    // Per port: the NIC's own counters.
    let ports = arr(&stats["ports"]);
    for (key, name, help) in HW_COUNTERS {
        let samples =
            ports.iter().filter_map(|p| p["hw"][key].as_u64().map(|n| (vec![("port", label(&p["port"]))], n)));
        x.family(name, Kind::Counter, help, samples);
    }
    let xstats =
        ports.iter().flat_map(|p| {
            p["xstats"].as_object().into_iter().flatten().filter_map(move |(k, v)| {
                v.as_u64().map(|n| (vec![("port", label(&p["port"])), ("stat", k.clone())], n))
            })
        });
    x.family("anchor_port_xstats", Kind::Untyped, "The driver's extended statistics (rte_eth_xstats)", xstats);

    // Sessions and the forwarding table.
    x.family(
        "anchor_sessions",
        Kind::Gauge,
        "Mobility sessions (bindings), by role and state",
        arr(&stats["sessions"]).iter().filter_map(|s| {
            s["count"].as_u64().map(|n| (vec![("role", label(&s["role"])), ("state", label(&s["state"]))], n))
        }),
    );
    if let Some(n) = stats["fib"]["entries"].as_u64() {
        x.family("anchor_fib_entries", Kind::Gauge, "Entries in the forwarding table", [(Vec::new(), n)]);
    }
    if let Some(n) = stats["fib"]["capacity"].as_u64() {
        x.family("anchor_fib_capacity", Kind::Gauge, "Entries the forwarding table can hold", [(Vec::new(), n)]);
    }

    // Address and prefix pools (show pools): one gauge per state.
    let pools = arr(&stats["pools"]);
    for (key, name, help) in [
        ("in_use", "anchor_pool_in_use", "Addresses (IPv4) or /64 prefixes (IPv6) of a pool held by sessions"),
        ("free", "anchor_pool_free", "Addresses or /64 prefixes of a pool that may still be handed out"),
        ("withheld", "anchor_pool_withheld", "Addresses or prefixes of a pool never handed out dynamically (excluded, default routers, static) and not held"),
    ] {
        let samples = pools.iter().filter_map(|p| {
            p[key].as_u64().map(|n| {
                (vec![("role", label(&p["role"])), ("family", label(&p["family"])), ("pool", label(&p["pool"]))], n)
            })
        });
        x.family(name, Kind::Gauge, help, samples);
    }

    role(&mut x, &stats["lma"], "lma", "PMIPv6 LMA", &["sessions"]);
    role(&mut x, &stats["ha"], "ha", "Mobile IPv4 home agent", &["bindings"]);
    role(&mut x, &stats["dsmip6"], "dsmip6", "DSMIPv6 home agent", &["registrations"]);
    role(&mut x, &stats["home_link"], "home_link", "Proxy ARP / ND on home links", &["proxied"]);
    role(&mut x, &stats["overload"], "overload", "Signalling admission", &["backlog", "peers"]);
    x.finish()
}

/// A role's counters (`show stats` `lma` / `ha`): `anchor_<role>_<key>_total`,
/// a per-code map as one family with a `code` label (`status` for the PBA's
/// Status), and `gauges` (e.g. the role's live sessions) as gauges.
fn role(x: &mut Exposition, v: &Value, role: &str, title: &str, gauges: &[&str]) {
    let Some(obj) = v.as_object() else { return };
    for (key, value) in obj {
        let what = key.replace('_', " ");
        let help = format!("{title}: {what} (anchorctl show stats: {role}.{key})");
        match value {
            Value::Object(per) => {
                let label_name = if key == "pba_sent" || key == "ba_sent" { "status" } else { "code" };
                let samples = per.iter().filter_map(|(c, n)| n.as_u64().map(|n| (vec![(label_name, c.clone())], n)));
                x.family(&format!("anchor_{role}_{key}_total"), Kind::Counter, &help, samples);
            }
            n => {
                let Some(n) = n.as_u64() else { continue };
                if gauges.contains(&key.as_str()) {
                    x.family(&format!("anchor_{role}_{key}"), Kind::Gauge, &help, [(Vec::new(), n)]);
                } else {
                    x.family(&format!("anchor_{role}_{key}_total"), Kind::Counter, &help, [(Vec::new(), n)]);
                }
            }
        }
    }
}

/// The value of the sample `name{labels}` in Prometheus text (labels in
/// the order written), for tests and scrapers.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
    let mut want = name.to_string();
    if !labels.is_empty() {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
        want = format!("{want}{{{}}}", l.join(","));
    }
    text.lines().find_map(|line| line.strip_prefix(&want)?.strip_prefix(' ')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stats() -> Value {
        json!({
            "uptime_s": 42,
            "workers": [{
                "worker": 0, "lcore": 1, "polls": 1000,
                "ports": [
                    {"port": "core", "rx": 10, "tx": 11, "dropped": 1, "punted": 2, "punt_ring_full": 0, "tx_full": 0},
                    {"port": "home", "rx": 20, "tx": 21, "dropped": 0, "punted": 3, "punt_ring_full": 0, "tx_full": 0},
                ],
                "drops": {"ipv4-checksum": 1, "spoofed": 0},
                "encap": {"ipip": 0, "gre": 7},
                "decap": {"ipip": 0, "gre": 6},
            }],
            "control": {
                "ports": [{"port": "core", "rx": 0, "tx": 5, "dropped": 0, "punted": 0, "punt_ring_full": 0, "tx_full": 0}],
                "drops": {"reassembly-failed": 3},
            },
            "ports": [{"port": "core", "rx": 10, "hw": {"ipackets": 12, "obytes": 900}, "xstats": {"rx_good_packets": 12}}],
            "drops": {"ipv4-checksum": 1},
            "sessions": [{"role": "pmip6", "state": "active", "count": 1}, {"role": "pmip6", "state": "deprecated", "count": 0}],
            "fib": {"entries": 2, "capacity": 1024},
            "lma": {"sessions": 1, "pbu_received": 3, "pba_sent": {"0": 2, "130": 1}},
            "pools": [{"role": "pmip6", "family": "ipv4", "pool": "203.0.113.0/24", "size": 254, "in_use": 2, "withheld": 1, "free": 251}],
            "ha": null,
        })
    }

    #[test]
    fn every_family_has_help_and_type_lines_before_its_samples() {
        let text = render(&stats());
        let mut declared = std::collections::BTreeSet::new();
        let mut help = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                help = rest.split(' ').next().map(str::to_string);
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(help.as_deref(), Some(name), "TYPE without HELP: {line}");
                assert!(["counter", "gauge", "untyped"].contains(&kind), "{line}");
                assert!(declared.insert(name.to_string()), "{name} declared twice");
            } else {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(declared.contains(name), "sample before its TYPE: {line}");
                assert!(name.starts_with("anchor_"), "{line}");
                assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
            }
        }
    }

    #[test]
    fn counters_end_in_total_and_gauges_do_not() {
        let text = render(&stats());
        for line in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
            let (name, kind) = line.split_once(' ').unwrap();
            match kind {
                "counter" => assert!(name.ends_with("_total"), "{line}"),
                _ => assert!(!name.ends_with("_total"), "{line}"),
            }
        }
        assert!(text.contains("# TYPE anchor_sessions gauge\n"), "{text}");
        assert!(text.contains("# TYPE anchor_lma_sessions gauge\n"), "{text}");
        assert!(text.contains("# TYPE anchor_lma_pbu_received_total counter\n"), "{text}");
        assert!(text.contains("# TYPE anchor_fib_capacity gauge\n"), "{text}");
        assert!(text.contains("# TYPE anchor_port_xstats untyped\n"), "{text}");
    }

    #[test]
    fn the_figures_are_those_of_show_stats_with_their_labels() {
        let text = render(&stats());
        assert_eq!(sample(&text, "anchor_uptime_seconds", &[]), Some(42));
        assert_eq!(sample(&text, "anchor_port_rx_packets_total", &[("worker", "0"), ("port", "home")]), Some(20));
        assert_eq!(sample(&text, "anchor_port_tx_packets_total", &[("worker", "control"), ("port", "core")]), Some(5));
        assert_eq!(
            sample(&text, "anchor_packet_drops_total", &[("worker", "0"), ("reason", "ipv4-checksum")]),
            Some(1)
        );
        assert_eq!(
            sample(&text, "anchor_packet_drops_total", &[("worker", "control"), ("reason", "reassembly-failed")]),
            Some(3)
        );
        assert_eq!(sample(&text, "anchor_encapsulated_packets_total", &[("worker", "0"), ("tunnel", "gre")]), Some(7));
        assert_eq!(sample(&text, "anchor_decapsulated_packets_total", &[("worker", "0"), ("tunnel", "gre")]), Some(6));
        assert_eq!(sample(&text, "anchor_port_hw_rx_packets_total", &[("port", "core")]), Some(12));
        assert_eq!(sample(&text, "anchor_port_hw_tx_bytes_total", &[("port", "core")]), Some(900));
        assert_eq!(sample(&text, "anchor_port_xstats", &[("port", "core"), ("stat", "rx_good_packets")]), Some(12));
        assert_eq!(sample(&text, "anchor_sessions", &[("role", "pmip6"), ("state", "active")]), Some(1));
        assert_eq!(sample(&text, "anchor_sessions", &[("role", "pmip6"), ("state", "deprecated")]), Some(0));
        assert_eq!(sample(&text, "anchor_fib_entries", &[]), Some(2));
        assert_eq!(sample(&text, "anchor_lma_pba_sent_total", &[("status", "130")]), Some(1));
        assert_eq!(sample(&text, "anchor_worker_polls_total", &[("worker", "0")]), Some(1000));
    }

    #[test]
    fn home_link_counters_are_counters_and_the_proxied_addresses_a_gauge() {
        let mut s = stats();
        s["home_link"] = json!({"proxied": 2, "arp_replies": 5, "gratuitous_arps": 6});
        let text = render(&s);
        assert_eq!(sample(&text, "anchor_home_link_proxied", &[]), Some(2));
        assert_eq!(sample(&text, "anchor_home_link_arp_replies_total", &[]), Some(5));
        assert!(text.contains("# TYPE anchor_home_link_proxied gauge\n"), "{text}");
        assert!(!render(&stats()).contains("anchor_home_link_"), "no home link, no families");
    }

    #[test]
    fn pools_are_gauges_labelled_by_role_family_and_pool() {
        let text = render(&stats());
        assert!(text.contains("# TYPE anchor_pool_in_use gauge\n"), "{text}");
        let labels = [("role", "pmip6"), ("family", "ipv4"), ("pool", "203.0.113.0/24")];
        assert_eq!(sample(&text, "anchor_pool_in_use", &labels), Some(2));
        assert_eq!(sample(&text, "anchor_pool_free", &labels), Some(251));
        assert_eq!(sample(&text, "anchor_pool_withheld", &labels), Some(1));
    }

    #[test]
    fn a_role_that_is_off_has_no_families() {
        let text = render(&stats());
        assert!(!text.contains("anchor_ha_"), "{text}");
        assert_eq!(render(&json!({})), "");
    }

    #[test]
    fn label_values_escape_backslash_quote_and_newline() {
        assert_eq!(escape_label("a\\b\"c\nd"), r#"a\\b\"c\nd"#);
        let mut x = Exposition::default();
        x.family("t", Kind::Gauge, "two\nlines \\ here", [(vec![("port", "we\"ird\n".to_string())], 1)]);
        assert_eq!(x.finish(), "# HELP t two\\nlines \\\\ here\n# TYPE t gauge\nt{port=\"we\\\"ird\\n\"} 1\n");
    }

    #[test]
    fn names_from_json_keys_keep_only_legal_characters() {
        assert_eq!(metric_name("anchor_ha_bad-udp.checksum_total"), "anchor_ha_bad_udp_checksum_total");
        assert_eq!(metric_name("9lives"), "_9lives");
    }
}
