//! Human tables for `anchorctl` replies. The JSON is the contract; these
//! only lay it out.

use serde_json::Value;

/// Lays out `rows` under `header` in aligned columns.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = width.get_mut(i) {
                *w = (*w).max(c.len());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            let w = width.get(i).copied().unwrap_or(0);
            s.push_str(&format!("{c:<w$}  "));
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    for r in rows {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(s).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Renders the reply to `command` as text.
pub fn render(command: &str, data: &Value) -> String {
    match command {
        "show version" => format!(
            "anchord {}\n{}\nuptime {} s, {} worker(s)\n",
            s(&data["anchord"]),
            s(&data["dpdk"]),
            s(&data["uptime_s"]),
            s(&data["workers"])
        ),
        "show ports" => {
            let rows: Vec<Vec<String>> = arr(data)
                .iter()
                .map(|p| {
                    vec![
                        s(&p["name"]),
                        s(&p["role"]),
                        s(&p["port_id"]),
                        s(&p["driver"]),
                        s(&p["mac"]),
                        if p["link_up"].as_bool() == Some(true) { "up".into() } else { "down".into() },
                        format!("{}/{}", s(&p["rx_queues"]), s(&p["tx_queues"])),
                        s(&p["addresses"]),
                        s(&p["hw"]["ipackets"]),
                        s(&p["hw"]["opackets"]),
                        s(&p["hw"]["imissed"]),
                    ]
                })
                .collect();
            table(
                &["PORT", "ROLE", "ID", "DRIVER", "MAC", "LINK", "RXQ/TXQ", "ADDRESSES", "HW-RX", "HW-TX", "HW-MISSED"],
                &rows,
            )
        }
        "show stats" => {
            let mut rows = Vec::new();
            for w in arr(&data["workers"]) {
                for p in arr(&w["ports"]) {
                    rows.push(vec![
                        s(&w["worker"]),
                        s(&p["port"]),
                        s(&p["rx"]),
                        s(&p["tx"]),
                        s(&p["dropped"]),
                        s(&p["punted"]),
                        s(&p["punt_ring_full"]),
                    ]);
                }
            }
            for p in arr(&data["control"]["ports"]) {
                rows.push(vec![
                    "control".into(),
                    s(&p["port"]),
                    s(&p["rx"]),
                    s(&p["tx"]),
                    s(&p["dropped"]),
                    "-".into(),
                    "-".into(),
                ]);
            }
            let mut out = table(&["WORKER", "PORT", "RX", "TX", "DROPPED", "PUNTED", "PUNT-RING-FULL"], &rows);
            let mut kinds: Vec<Vec<String>> = Vec::new();
            for w in arr(&data["workers"]) {
                if let (Some(e), Some(d)) = (w["encap"].as_object(), w["decap"].as_object()) {
                    for (k, n) in e {
                        let dn = d.get(k).and_then(Value::as_u64).unwrap_or(0);
                        if n.as_u64().unwrap_or(0) + dn > 0 {
                            kinds.push(vec![s(&w["worker"]), k.clone(), s(n), dn.to_string()]);
                        }
                    }
                }
            }
            if !kinds.is_empty() {
                out.push('\n');
                out.push_str(&table(&["WORKER", "TUNNEL", "ENCAP", "DECAP"], &kinds));
            }
            let drops: Vec<Vec<String>> = data["drops"]
                .as_object()
                .map(|m| m.iter().filter(|(_, v)| v.as_u64() != Some(0)).map(|(k, v)| vec![k.clone(), s(v)]).collect())
                .unwrap_or_default();
            if !drops.is_empty() {
                out.push('\n');
                out.push_str(&table(&["DROP REASON", "PACKETS"], &drops));
            }
            // The roles' counters (PMIPv6 LMA, Mobile IPv4 home agent): the
            // non-zero ones, a per-code map as `name[code]`.
            let mut roles: Vec<Vec<String>> = Vec::new();
            for role in ["lma", "ha", "dsmip6", "home_link"] {
                for (k, v) in data[role].as_object().into_iter().flatten() {
                    match v {
                        Value::Object(per) => roles.extend(
                            per.iter()
                                .filter(|(_, n)| n.as_u64().is_some_and(|n| n > 0))
                                .map(|(c, n)| vec![role.to_string(), format!("{k}[{c}]"), s(n)]),
                        ),
                        n if n.as_u64().is_some_and(|n| n > 0) => roles.push(vec![role.to_string(), k.clone(), s(n)]),
                        _ => {}
                    }
                }
            }
            if !roles.is_empty() {
                out.push('\n');
                out.push_str(&table(&["ROLE", "COUNTER", "VALUE"], &roles));
            }
            out
        }
        "show neighbors" => {
            let rows: Vec<Vec<String>> = arr(data)
                .iter()
                .map(|n| {
                    vec![s(&n["port"]), s(&n["ip"]), s(&n["mac"]), s(&n["state"]), s(&n["age_s"]), s(&n["probes"])]
                })
                .collect();
            table(&["PORT", "ADDRESS", "MAC", "STATE", "AGE-S", "PROBES"], &rows)
        }
        "show proxy" => {
            let rows: Vec<Vec<String>> = arr(data)
                .iter()
                .map(|p| {
                    vec![
                        s(&p["port"]),
                        s(&p["ip"]),
                        s(&p["state"]),
                        s(&p["owner"]),
                        s(&p["own_mac"]),
                        s(&p["answered"]),
                        s(&p["age_s"]),
                    ]
                })
                .collect();
            table(&["PORT", "ADDRESS", "STATE", "OWNER", "OWN-MAC", "ANSWERED", "AGE-S"], &rows)
        }
        "show peers" => {
            let rows: Vec<Vec<String>> = arr(data)
                .iter()
                .map(|p| {
                    let hb = match (p["heartbeat"].as_str(), p["missed_heartbeats"].as_u64()) {
                        (Some(state), Some(missed)) if missed > 0 => format!("{state} ({missed} missed)"),
                        (Some(state), _) => state.to_string(),
                        (None, _) => "-".into(),
                    };
                    vec![
                        s(&p["role"]),
                        s(&p["kind"]),
                        s(&p["name"]),
                        s(&p["address"]),
                        s(&p["sessions"]),
                        hb,
                        s(&p["restart_counter"]),
                    ]
                })
                .collect();
            table(&["ROLE", "KIND", "NAME", "ADDRESS", "SESSIONS", "HEARTBEAT", "RESTART-COUNTER"], &rows)
        }
        "show pools" => {
            let rows: Vec<Vec<String>> = arr(data)
                .iter()
                .map(|p| {
                    ["role", "family", "pool", "size", "in_use", "withheld", "free"].iter().map(|k| s(&p[*k])).collect()
                })
                .collect();
            table(&["ROLE", "FAMILY", "POOL", "SIZE", "IN-USE", "WITHHELD", "FREE"], &rows)
        }
        c if c == "show bindings" || c.starts_with("show bindings ") => {
            let rows: Vec<Vec<String>> = arr(data)
                .iter()
                .map(|b| {
                    let mut addrs: Vec<String> = Vec::new();
                    for k in ["ipv4_hoa", "ipv6_hoa"] {
                        if let Some(a) = b[k].as_str() {
                            addrs.push(a.to_string());
                        }
                    }
                    addrs.extend(arr(&b["hnps"]).iter().map(s));
                    let keys = match (b["gre_key_in"].as_u64(), b["gre_key_out"].as_u64()) {
                        (None, None) => "-".to_string(),
                        (i, o) => format!(
                            "{}/{}",
                            i.map_or("-".into(), |k| k.to_string()),
                            o.map_or("-".into(), |k| k.to_string())
                        ),
                    };
                    vec![
                        s(&b["id"]),
                        s(&b["mn_id"]),
                        s(&b["role"]),
                        s(&b["state"]),
                        addrs.join(","),
                        s(&b["coa"]),
                        s(&b["tunnel"]),
                        keys,
                        if b["lifetime_left_s"].is_null() { "static".into() } else { s(&b["lifetime_left_s"]) },
                    ]
                })
                .collect();
            table(&["ID", "MN-ID", "ROLE", "STATE", "ADDRESSES", "COA", "TUNNEL", "KEYS IN/OUT", "LIFETIME"], &rows)
        }
        c if c.starts_with("show binding ") => {
            // Every field, one per line, a blank line between bindings.
            let blocks: Vec<String> = arr(data)
                .iter()
                .map(|b| match b.as_object() {
                    Some(o) => {
                        let width = o.keys().map(String::len).max().unwrap_or(0);
                        o.iter().map(|(k, v)| format!("{k:<width$}  {}\n", s(v))).collect()
                    }
                    None => s(b) + "\n",
                })
                .collect();
            blocks.join("\n")
        }
        _ => serde_json::to_string_pretty(data).unwrap_or_default() + "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_to_the_widest_cell() {
        let t = table(&["A", "B"], &[vec!["long".into(), "x".into()]]);
        assert_eq!(t, "A     B\nlong  x\n");
    }

    #[test]
    fn stats_show_the_roles_nonzero_counters_with_per_code_maps_flattened() {
        let d = serde_json::json!({"workers": [], "control": {"ports": []}, "drops": {},
            "lma": {"pbu_received": 0, "malformed": 2},
            "ha": {"rrq_received": 3, "rrp_sent": {"0": 2, "133": 1, "131": 0}}});
        let t = render("show stats", &d);
        assert!(t.contains("lma   malformed"), "{t}");
        assert!(t.contains("ha    rrq_received") && t.contains("rrp_sent[0]") && t.contains("rrp_sent[133]"), "{t}");
        assert!(!t.contains("pbu_received") && !t.contains("rrp_sent[131]"), "{t}");
    }

    #[test]
    fn one_binding_renders_every_field_on_its_own_line() {
        let d = serde_json::json!([{"mn_id": "host@anchor.test", "att": 3, "device_id": {"type": 1, "id": "0a0b"}}]);
        let t = render("show binding host@anchor.test", &d);
        assert_eq!(t, "att        3\ndevice_id  {\"id\":\"0a0b\",\"type\":1}\nmn_id      host@anchor.test\n");
    }

    #[test]
    fn proxied_addresses_render_one_row_each() {
        let d = serde_json::json!([{"port":"home","ip":"198.51.100.130","state":"active","owner":"mip4 binding 1","own_mac":null,"answered":2,"age_s":5}]);
        let t = render("show proxy", &d);
        assert!(t.lines().next().unwrap().starts_with("PORT"), "{t}");
        let row = t.lines().nth(1).unwrap();
        assert!(row.contains("198.51.100.130") && row.contains("active") && row.contains("mip4 binding 1"), "{t}");
    }

    #[test]
    fn neighbors_render_one_row_each() {
        let d = serde_json::json!([{"port":"home","ip":"198.51.100.2","mac":"02:00:00:00:00:01","state":"reachable","age_s":3,"probes":0}]);
        let t = render("show neighbors", &d);
        assert!(t.lines().nth(1).unwrap().contains("198.51.100.2"));
    }
}
