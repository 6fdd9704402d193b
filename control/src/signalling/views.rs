//! `anchorctl show pools` and `show peers`: what the roles hold, read from
//! their state machines.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use anchor_config::Config;
use serde_json::{json, Value};

use super::Signalling;
use crate::pool::RangeUsage;

/// A count as a JSON number, or as a string beyond 2^64 (an IPv6 /0
/// aggregate holds 2^64 /64s).
fn big(n: u128) -> Value {
    u64::try_from(n).map_or_else(|_| json!(n.to_string()), |n| json!(n))
}

/// One `show pools` row.
fn pool_row(role: &str, family: &str, pool: &str, u: RangeUsage) -> Value {
    json!({
        "role": role,
        "family": family,
        "pool": pool,
        "size": big(u.size),
        "in_use": u.in_use,
        "withheld": u.withheld,
        "free": big(u.free()),
    })
}

impl Signalling {
    /// Every pool of every role, with its addresses or prefixes in use,
    /// withheld (excluded, default routers, static) and free. The roles
    /// reserve each other's addresses, so an address any role holds is in
    /// use in every pool that contains it.
    pub fn pools_json(&self) -> Value {
        let mut rows = Vec::new();
        if let Some(lma) = &self.lma {
            let (prefixes, hoas) = lma.pools();
            rows.extend(prefixes.usage().into_iter().map(|(p, u)| pool_row("pmip6", "ipv6-prefix", &p, u)));
            rows.extend(hoas.usage().into_iter().map(|(p, u)| pool_row("pmip6", "ipv4", &p, u)));
        }
        if let Some(glue) = &self.ha {
            let (hoas, prefixes) = glue.ha.pools();
            rows.extend(hoas.usage().into_iter().map(|(p, u)| pool_row("mip4", "ipv4", &p, u)));
            rows.extend(prefixes.usage().into_iter().map(|(p, u)| pool_row("mip4", "ipv6-prefix", &p, u)));
        }
        if let Some(glue) = &self.dsmip6 {
            rows.extend(glue.ha.pool().usage().into_iter().map(|(p, u)| pool_row("dsmip6", "ipv4", &p, u)));
        }
        Value::Array(rows)
    }

    /// The configured signalling peers: MAGs (with their heartbeat state)
    /// and foreign agents / PMAs, each with the sessions it holds now.
    pub fn peers_json(&self, config: &Config) -> Value {
        let mut rows = Vec::new();
        if let (Some(lma), Some(cfg)) = (&self.lma, &config.lma) {
            // One pass over the sessions, however many MAGs.
            let mut per_mag: HashMap<IpAddr, usize> = HashMap::new();
            for s in lma.sessions() {
                *per_mag.entry(s.proxy_coa).or_default() += 1;
            }
            for mag in &cfg.mags {
                let sessions = per_mag.get(&mag.addr).copied().unwrap_or(0);
                let hb = lma.peer_view(mag.addr);
                rows.push(json!({
                    "role": "pmip6",
                    "kind": "mag",
                    "name": mag.name,
                    "address": mag.addr.to_string(),
                    "sessions": sessions,
                    "heartbeat": hb.state,
                    "missed_heartbeats": hb.missed,
                    "restart_counter": hb.restart_counter,
                }));
            }
        }
        if let (Some(glue), Some(cfg)) = (&self.ha, &config.ha) {
            let mut per_fa: HashMap<Ipv4Addr, usize> = HashMap::new();
            for b in glue.ha.bindings() {
                *per_fa.entry(b.registered_from.0).or_default() += 1;
            }
            for fa in &cfg.foreign_agents {
                let sessions = per_fa.get(&fa.addr).copied().unwrap_or(0);
                rows.push(json!({
                    "role": "mip4",
                    "kind": if fa.proxy { "fa/pma" } else { "fa" },
                    "name": fa.name,
                    "address": fa.addr.to_string(),
                    "sessions": sessions,
                    "heartbeat": Value::Null,
                    "missed_heartbeats": Value::Null,
                    "restart_counter": Value::Null,
                }));
            }
        }
        Value::Array(rows)
    }
}
