//! Anchor's commands on DPDK's telemetry socket, next to DPDK's own
//! (`/ethdev/stats,0`...): `dpdk-telemetry.py -f <eal.file_prefix>` lists
//! them under `/` and answers `/anchor/stats` and the rest.
//!
//! DPDK runs them on its telemetry thread. Like the metrics endpoint, they
//! ask the control thread (the only owner of sessions and pools) for `show
//! stats` (`show pools`, `show version`) over the CLI's channel and reshape
//! its JSON, so telemetry, `anchorctl show stats --json` and `/metrics`
//! always agree and an idle socket costs the control loop nothing. The reshaping functions are pure
//! and tested here; `dataplane::port::telemetry` keeps the result within
//! DPDK's limits (names, string lengths, 256 entries, two levels).

use std::collections::BTreeMap;
use std::sync::mpsc::Sender;

use dataplane::port::telemetry::{self, TelValue, TelemetryError};
use serde_json::Value;

use crate::cli::server::{call, CliCall};
use crate::cli::Request;

/// A command's reshaping: the replies to its `show` commands (in order)
/// and the parameters to the telemetry reply.
type Shaper = fn(&[Value], &str) -> TelValue;
const STATS: &[&str] = &["show stats"];
/// Every command: name, help, the `show` commands it reshapes, the shaper.
const COMMANDS: [(&str, &str, &[&str], Shaper); 7] = [
    ("/anchor/info", "Anchor: anchord and DPDK versions, uptime, workers.", &["show version"], |r, _| info(&r[0])),
    (
        "/anchor/sessions",
        "Anchor: sessions by role and state, with the total and the forwarding table's use.",
        STATS,
        |r, _| sessions(&r[0]),
    ),
    (
        "/anchor/stats",
        "Anchor: packet counters (rx, tx, dropped, punted), drops by reason, tunnel encap/decap, per worker. \
         Parameters: a worker number for that worker in full.",
        STATS,
        |r, p| stats(&r[0], p),
    ),
    (
        "/anchor/pools",
        "Anchor: mbuf pools and each role's home address / prefix pools: in use, withheld, free, size.",
        &["show pools", "show stats"],
        |r, _| pools(&r[0], &r[1]),
    ),
    ("/anchor/lma", "Anchor: PMIPv6 LMA counters (as in anchorctl show stats).", STATS, |r, _| role(&r[0]["lma"])),
    ("/anchor/ha", "Anchor: Mobile IPv4 home agent counters (as in anchorctl show stats).", STATS, |r, _| {
        role(&r[0]["ha"])
    }),
    ("/anchor/dsmip6", "Anchor: DSMIPv6 home agent counters (as in anchorctl show stats).", STATS, |r, _| {
        role(&r[0]["dsmip6"])
    }),
];

/// The names of Anchor's telemetry commands.
pub fn command_names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|c| c.0)
}

/// Registers every command; each asks the control thread through
/// `control`. Returns the commands DPDK refused (the daemon runs on
/// without them).
pub fn register(control: &Sender<CliCall>) -> Vec<TelemetryError> {
    let mut refused = Vec::new();
    for (cmd, help, shows, shape) in COMMANDS {
        let control = control.clone();
        let handler = move |params: &str| {
            let mut replies = Vec::with_capacity(shows.len());
            for show in shows {
                let reply = call(&control, Request { command: (*show).into() });
                match (reply.ok, reply.data) {
                    (true, Some(data)) => replies.push(data),
                    _ => return error(reply.error.as_deref().unwrap_or("no answer from the control thread")),
                }
            }
            shape(&replies, params.trim())
        };
        if let Err(e) = telemetry::register(cmd, help, handler) {
            refused.push(e);
        }
    }
    refused
}

/// Stops answering (at shutdown, before the control thread goes): the
/// commands stay listed by DPDK but reply with an error.
pub fn withdraw() {
    telemetry::withdraw_all();
}

fn error(text: &str) -> TelValue {
    TelValue::Dict(vec![("error".into(), TelValue::Str(text.into()))])
}

/// A JSON value as a telemetry value: numbers as integers (others as
/// text), booleans and null as text, objects and arrays as they are.
pub fn from_json(v: &Value) -> TelValue {
    match v {
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => TelValue::U64(u),
            (None, Some(i)) => TelValue::Int(i),
            _ => TelValue::Str(n.to_string()),
        },
        Value::String(s) => TelValue::Str(s.clone()),
        Value::Bool(b) => TelValue::Str(b.to_string()),
        Value::Null => TelValue::Str("null".into()),
        Value::Array(a) => TelValue::List(a.iter().map(from_json).collect()),
        Value::Object(o) => TelValue::Dict(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn dict(entries: Vec<(String, TelValue)>) -> TelValue {
    TelValue::Dict(entries)
}

/// `show version` as it is.
fn info(version: &Value) -> TelValue {
    from_json(version)
}

/// `{"total": n, "<role>": {"<state>": n, ...}, "fib": {...}}`.
pub fn sessions(stats: &Value) -> TelValue {
    let mut by_role: BTreeMap<String, Vec<(String, TelValue)>> = BTreeMap::new();
    let mut total = 0;
    for row in arr(&stats["sessions"]) {
        let (Some(role), Some(state)) = (row["role"].as_str(), row["state"].as_str()) else { continue };
        let n = u64_of(row, "count");
        total += n;
        by_role.entry(role.to_owned()).or_default().push((state.to_owned(), TelValue::U64(n)));
    }
    let mut out = vec![("total".to_owned(), TelValue::U64(total))];
    out.extend(by_role.into_iter().map(|(role, states)| (role, dict(states))));
    out.push(("fib".to_owned(), from_json(&stats["fib"])));
    dict(out)
}

/// Workers summed up one by one in `/anchor/stats` (the others are in the
/// totals and in `/anchor/stats,<n>`): keeps the reply well inside DPDK's
/// 16 KiB, past which it would drop entries silently.
const WORKERS_LISTED: usize = 64;

/// The counters of a `show stats` port row.
const PORT_KEYS: [&str; 6] = ["rx", "tx", "dropped", "punted", "punt_ring_full", "tx_full"];

/// A worker's totals over its ports.
fn worker_totals(w: &Value) -> Vec<(String, TelValue)> {
    let mut out = Vec::new();
    for key in PORT_KEYS {
        let n: u64 = arr(&w["ports"]).iter().map(|p| u64_of(p, key)).sum();
        out.push((key.to_owned(), TelValue::U64(n)));
    }
    out
}

/// Sums a map of counters (`drops`, `encap`, `decap`) over the workers.
fn summed(workers: &[Value], key: &str) -> TelValue {
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for w in workers {
        if let Some(m) = w[key].as_object() {
            for (k, v) in m {
                *sums.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
            }
        }
    }
    dict(sums.into_iter().map(|(k, n)| (k, TelValue::U64(n))).collect())
}

/// Without parameters: totals per port, per worker and for the control
/// thread, drops by reason and encapsulations / decapsulations by tunnel
/// kind summed over the workers. With a worker number: that worker in
/// full (per port, its drops, encap and decap).
pub fn stats(stats: &Value, params: &str) -> TelValue {
    let workers = arr(&stats["workers"]);
    if !params.is_empty() {
        let Some(w) = params.parse::<u64>().ok().and_then(|i| workers.iter().find(|w| w["worker"].as_u64() == Some(i)))
        else {
            return error(&format!(
                "no worker {params:?}: give a number from 0 to {}",
                workers.len().saturating_sub(1)
            ));
        };
        let mut out =
            vec![("worker".to_owned(), from_json(&w["worker"])), ("lcore".to_owned(), from_json(&w["lcore"]))];
        out.push(("polls".to_owned(), TelValue::U64(u64_of(w, "polls"))));
        out.extend(worker_totals(w));
        for p in arr(&w["ports"]) {
            let name = p["port"].as_str().unwrap_or("?");
            let row = PORT_KEYS.iter().map(|k| ((*k).to_owned(), TelValue::U64(u64_of(p, k)))).collect();
            out.push((format!("port_{name}"), dict(row)));
        }
        for key in ["drops", "encap", "decap"] {
            out.push((key.to_owned(), from_json(&w[key])));
        }
        return dict(out);
    }
    let mut out = vec![
        ("uptime_s".to_owned(), TelValue::U64(u64_of(stats, "uptime_s"))),
        ("workers".to_owned(), TelValue::U64(workers.len() as u64)),
    ];
    for p in arr(&stats["ports"]) {
        let name = p["port"].as_str().unwrap_or("?");
        let mut row: Vec<(String, TelValue)> =
            PORT_KEYS[..5].iter().map(|k| ((*k).to_owned(), TelValue::U64(u64_of(p, k)))).collect();
        row.push(("hw".to_owned(), from_json(&p["hw"])));
        out.push((format!("port_{name}"), dict(row)));
    }
    if workers.len() > WORKERS_LISTED {
        out.push(("workers_listed".to_owned(), TelValue::U64(WORKERS_LISTED as u64)));
    }
    for w in workers.iter().take(WORKERS_LISTED) {
        let mut row = worker_totals(w);
        row.push(("polls".to_owned(), TelValue::U64(u64_of(w, "polls"))));
        out.push((format!("worker_{}", u64_of(w, "worker")), dict(row)));
    }
    out.push(("control".to_owned(), dict(worker_totals(&stats["control"]))));
    out.push(("drops".to_owned(), summed(workers, "drops")));
    out.push(("encap".to_owned(), summed(workers, "encap")));
    out.push(("decap".to_owned(), summed(workers, "decap")));
    dict(out)
}

/// The mbuf pools (`show stats` `mempools`) as `mbuf/<i>`, then every
/// range of the roles' address pools (`show pools`) as
/// `<role>/<family>/<i>`, each with its name under `pool`, and in use,
/// withheld, free and size.
pub fn pools(show_pools: &Value, stats: &Value) -> TelValue {
    let row = |key: String, p: &Value| {
        let entry = ["pool", "in_use", "withheld", "free", "size"]
            .iter()
            .filter(|k| !p[**k].is_null())
            .map(|k| ((*k).to_owned(), from_json(&p[*k])))
            .collect();
        (key, dict(entry))
    };
    let mut out: Vec<(String, TelValue)> =
        arr(&stats["mempools"]).iter().enumerate().map(|(i, p)| row(format!("mbuf/{i}"), p)).collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for p in arr(show_pools) {
        let group = format!("{}/{}", p["role"].as_str().unwrap_or("?"), p["family"].as_str().unwrap_or("?"));
        let i = seen.entry(group.clone()).or_default();
        out.push(row(format!("{group}/{i}"), p));
        *i += 1;
    }
    dict(out)
}

/// One role's counters, or `{"enabled": "false"}` when the role is off.
fn role(v: &Value) -> TelValue {
    match v {
        Value::Null => dict(vec![("enabled".to_owned(), TelValue::Str("false".into()))]),
        other => from_json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get<'a>(v: &'a TelValue, key: &str) -> &'a TelValue {
        match v {
            TelValue::Dict(e) => e.iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or_else(|| panic!("{key}")),
            other => panic!("not a dict: {other:?}"),
        }
    }

    fn stats_json() -> Value {
        json!({
            "uptime_s": 7,
            "sessions": [
                {"role": "pmip6", "state": "active", "count": 1},
                {"role": "pmip6", "state": "deprecated", "count": 0},
                {"role": "static", "state": "active", "count": 2},
            ],
            "fib": {"entries": 3, "capacity": 1024},
            "ports": [{"port": "core", "rx": 5, "tx": 4, "dropped": 1, "punted": 2, "punt_ring_full": 0,
                       "hw": {"ipackets": 5}, "xstats": {"x": 1}}],
            "workers": [
                {"worker": 0, "lcore": 1, "polls": 99,
                 "ports": [{"port": "core", "rx": 3, "tx": 2, "dropped": 1, "punted": 1, "punt_ring_full": 0, "tx_full": 0},
                           {"port": "home", "rx": 2, "tx": 2, "dropped": 0, "punted": 1, "punt_ring_full": 0, "tx_full": 0}],
                 "drops": {"no_route": 1}, "encap": {"gre": 2, "udp-tlv": 0}, "decap": {"gre": 1}},
                {"worker": 1, "lcore": 2, "polls": 1, "ports": [], "drops": {"no_route": 2}, "encap": {"gre": 1}, "decap": {}},
            ],
            "control": {"ports": [{"port": "core", "rx": 0, "tx": 6, "dropped": 0, "punted": 0, "punt_ring_full": 0, "tx_full": 0}]},
            "mempools": [{"pool": "mbufs-s0", "in_use": 10, "free": 90, "size": 100}],
            "lma": {"sessions": 1, "pba_sent": {"0": 1}},
            "ha": null,
        })
    }

    #[test]
    fn sessions_are_grouped_by_role_with_a_total() {
        let t = sessions(&stats_json());
        assert_eq!(get(&t, "total"), &TelValue::U64(3));
        assert_eq!(get(get(&t, "pmip6"), "active"), &TelValue::U64(1));
        assert_eq!(get(get(&t, "pmip6"), "deprecated"), &TelValue::U64(0));
        assert_eq!(get(get(&t, "static"), "active"), &TelValue::U64(2));
        assert_eq!(get(get(&t, "fib"), "capacity"), &TelValue::U64(1024));
    }

    #[test]
    fn stats_sum_each_worker_over_its_ports_and_the_workers_per_reason_and_kind() {
        let t = stats(&stats_json(), "");
        assert_eq!(get(&t, "workers"), &TelValue::U64(2));
        assert_eq!(get(get(&t, "worker_0"), "rx"), &TelValue::U64(5));
        assert_eq!(get(get(&t, "worker_0"), "punted"), &TelValue::U64(2));
        assert_eq!(get(get(&t, "worker_0"), "polls"), &TelValue::U64(99));
        assert_eq!(get(get(&t, "control"), "tx"), &TelValue::U64(6));
        assert_eq!(get(get(&t, "port_core"), "dropped"), &TelValue::U64(1));
        assert_eq!(get(get(&t, "drops"), "no_route"), &TelValue::U64(3));
        assert_eq!(get(get(&t, "encap"), "gre"), &TelValue::U64(3));
    }

    #[test]
    fn stats_with_a_worker_number_show_that_worker_in_full() {
        let t = stats(&stats_json(), "0");
        assert_eq!(get(&t, "lcore"), &TelValue::U64(1));
        assert_eq!(get(get(&t, "port_home"), "rx"), &TelValue::U64(2));
        assert_eq!(get(get(&t, "encap"), "udp-tlv"), &TelValue::U64(0));
        assert!(matches!(get(&stats(&stats_json(), "7"), "error"), TelValue::Str(_)));
        assert!(matches!(get(&stats(&stats_json(), "x"), "error"), TelValue::Str(_)));
    }

    #[test]
    fn stats_list_at_most_64_workers_one_by_one_and_say_so() {
        let mut s = stats_json();
        s["workers"] = Value::Array((0..100).map(|i| json!({"worker": i, "polls": 1, "ports": []})).collect());
        let t = stats(&s, "");
        assert_eq!(get(&t, "workers"), &TelValue::U64(100));
        assert_eq!(get(&t, "workers_listed"), &TelValue::U64(64));
        let TelValue::Dict(entries) = &t else { panic!() };
        assert_eq!(entries.iter().filter(|(k, _)| k.starts_with("worker_")).count(), 64);
        assert!(matches!(get(&stats(&s, "99"), "polls"), TelValue::U64(1)));
    }

    #[test]
    fn pools_are_keyed_by_role_family_and_index_with_mbuf_pools_first() {
        let show_pools = json!([
            {"role": "pmip6", "family": "ipv6-prefix", "pool": "2001:db8:100::/48", "size": 65536, "in_use": 1, "withheld": 0, "free": 65535},
            {"role": "pmip6", "family": "ipv4", "pool": "203.0.113.0/24", "size": 254, "in_use": 1, "withheld": 1, "free": 252},
            {"role": "pmip6", "family": "ipv4", "pool": "198.51.100.0/24", "size": "18446744073709551616", "in_use": 0, "withheld": 0, "free": 0},
        ]);
        let t = pools(&show_pools, &stats_json());
        assert_eq!(get(get(&t, "mbuf/0"), "pool"), &TelValue::Str("mbufs-s0".into()));
        assert_eq!(get(get(&t, "mbuf/0"), "free"), &TelValue::U64(90));
        assert_eq!(get(get(&t, "pmip6/ipv4/0"), "pool"), &TelValue::Str("203.0.113.0/24".into()));
        assert_eq!(get(get(&t, "pmip6/ipv4/0"), "withheld"), &TelValue::U64(1));
        assert_eq!(get(get(&t, "pmip6/ipv4/1"), "size"), &TelValue::Str("18446744073709551616".into()));
        assert_eq!(get(get(&t, "pmip6/ipv6-prefix/0"), "in_use"), &TelValue::U64(1));
    }

    #[test]
    fn a_role_that_is_off_says_so() {
        assert_eq!(get(&role(&stats_json()["ha"]), "enabled"), &TelValue::Str("false".into()));
        assert_eq!(get(&role(&stats_json()["lma"]), "sessions"), &TelValue::U64(1));
    }

    #[test]
    fn every_command_name_is_one_dpdk_accepts() {
        for name in command_names() {
            assert!(name.starts_with("/anchor/") && name.len() <= telemetry::MAX_COMMAND, "{name}");
        }
    }
}
