//! The control thread's side of forwarding: the binding list (static
//! bindings from the config for now), the tunnels and forwarding-table
//! entries they need, and publication to the workers. Whenever a next hop's
//! MAC changes the tunnel templates are rebuilt and a new snapshot is
//! published; forwarding-table slots are reclaimed after grace periods.

use std::net::IpAddr;
use std::time::Instant;

use anchor_config::{Config, EcnMode, StaticBinding, TunnelMode};
use dataplane::fib::{FibEntry, FibError, FibKey, FibWriter};
use dataplane::route::{ForwardingState, Route, StatePublisher, TunnelTable};
use dataplane::tunnel::{Tunnel, TunnelKind, TunnelSpec};
use dataplane::wire::MacAddr;
use serde_json::{json, Value};

use crate::neigh::{NeighState, Neighbors};

/// How long a freed tunnel slot rests before another binding reuses it:
/// far longer than any worker holds a forwarding entry (one burst).
const TUNNEL_REUSE_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// One binding as `show bindings` lists it.
#[derive(Debug, Clone)]
pub struct Binding {
    pub id: u32,
    pub mn_id: String,
    pub role: &'static str,
    pub vrf: u16,
    pub ipv4_hoa: Option<std::net::Ipv4Addr>,
    pub hnps: Vec<(std::net::Ipv6Addr, u8)>,
    pub ipv6_hoa: Option<std::net::Ipv6Addr>,
    pub tunnel: u32,
    /// None: never expires (static).
    pub expires: Option<Instant>,
    /// "active", "deprecated" or "shadow" (DESIGN.md contract).
    pub state: &'static str,
}

impl Binding {
    fn keys(&self) -> Vec<FibKey> {
        let mut k = Vec::new();
        if let Some(addr) = self.ipv4_hoa {
            k.push(FibKey::V4 { vrf: self.vrf, addr });
        }
        k.extend(self.hnps.iter().map(|(p, _)| FibKey::v6_prefix(self.vrf, *p)));
        if let Some(addr) = self.ipv6_hoa {
            k.push(FibKey::V6Host { vrf: self.vrf, addr });
        }
        k
    }
}

/// Bindings, tunnels and their publication.
pub struct Forwarding {
    fib: FibWriter,
    publisher: StatePublisher,
    /// By binding id.
    bindings: std::collections::BTreeMap<u32, Binding>,
    next_id: u32,
    tunnels: Vec<Option<TunnelSpec>>,
    /// The tunnels as published (templates built), changed one slot at a
    /// time: a snapshot shares every chunk it did not change.
    built: TunnelTable,
    /// Tunnel slots freed, with when: reused only after workers can no
    /// longer hold a forwarding entry that points at them.
    free_tunnels: std::collections::VecDeque<(u32, Instant)>,
    routes: Vec<Route>,
    /// See [`ForwardingState::mobile`].
    mobile: Vec<(IpAddr, u8)>,
    port_macs: Vec<MacAddr>,
    neighbors: Vec<(usize, IpAddr, MacAddr)>,
    /// Reads a tunnel slot's per-session counters summed over the workers
    /// ([down packets, down bytes, up packets, up bytes]).
    session_counters: Option<SessionReader>,
    /// By binding id: its slot's counters when it got the slot (a slot
    /// reused after the grace period still holds its last session's).
    counted_from: std::collections::HashMap<u32, [u64; 4]>,
}

/// See [`Forwarding::set_session_counters`].
pub type SessionReader = Box<dyn Fn(u32) -> [u64; 4] + Send>;

#[derive(Debug, thiserror::Error)]
pub enum ForwardingError {
    #[error("binding[{index}] ({mn_id}): {source}")]
    Fib { index: usize, mn_id: String, source: FibError },
}

fn spec_of(b: &StaticBinding, config: &Config) -> TunnelSpec {
    let (kind, key_in, key_out, local_port, peer_port) = match b.tunnel {
        TunnelMode::IpIp => (TunnelKind::IpIp, None, None, 0, 0),
        TunnelMode::Gre { key_in, key_out } => (TunnelKind::Gre, key_in, key_out, 0, 0),
        TunnelMode::Udp { peer_port, local_port } => (TunnelKind::Udp, None, None, local_port, peer_port),
        TunnelMode::UdpTlv { peer_port, local_port, key_in, key_out } => {
            (TunnelKind::UdpTlv, Some(key_in), Some(key_out), local_port, peer_port)
        }
        TunnelMode::MipUdp { peer_port } => (TunnelKind::MipUdp, None, None, TunnelMode::MIP_UDP_PORT, peer_port),
    };
    let port = &config.ports[b.port];
    TunnelSpec {
        kind,
        local: b.local,
        remote: b.endpoint,
        key_in,
        key_out,
        local_port,
        peer_port,
        port: b.port,
        dscp: b.dscp,
        ttl: config.tunnel.ttl,
        ecn_compat: config.tunnel.ecn == EcnMode::Compat,
        path_mtu: config.tunnel.path_mtu(port),
        ipv6_over_ipv4_mtu: config.tunnel.ipv6_over_ipv4_mtu,
        nested: false,
    }
}

/// Where mobile nodes' home addresses come from (the pools, profiles'
/// static addresses, static bindings): the data plane sends traffic
/// between two mobile nodes straight from one tunnel into the other.
fn mobile_prefixes(config: &Config) -> Vec<(IpAddr, u8)> {
    let mut m: Vec<(IpAddr, u8)> = Vec::new();
    m.extend(config.pools.hnp.iter().map(|c| (IpAddr::V6(c.addr), c.prefix_len)));
    m.extend(config.pools.ipv4.iter().map(|p| (IpAddr::V4(p.subnet.addr), p.subnet.prefix_len)));
    for p in config.profiles.mobile_nodes.iter().chain(&config.profiles.default) {
        m.extend(p.static_ipv4_hoa.map(|a| (IpAddr::V4(a), 32)));
        m.extend(p.static_hnp.map(|c| (IpAddr::V6(c.addr), c.prefix_len)));
    }
    for b in config.bindings.iter().filter(|b| b.vrf == 0) {
        m.extend(b.ipv4_hoa.map(|a| (IpAddr::V4(a), 32)));
        m.extend(b.hnps.iter().map(|c| (IpAddr::V6(c.addr), c.prefix_len)));
        m.extend(b.ipv6_hoa.map(|a| (IpAddr::V6(a), 128)));
    }
    // Drop what a shorter prefix already covers.
    let covered = |&(a, len): &(IpAddr, u8), all: &[(IpAddr, u8)]| {
        all.iter().any(|&(p, l)| {
            (l, p) != (len, a)
                && l <= len
                && dataplane::route::covers(&Route { prefix: p, len: l, port: 0, via: None }, a)
        })
    };
    let all = m.clone();
    m.retain(|e| !covered(e, &all));
    m.sort();
    m.dedup();
    m
}

/// Connected subnets of every port (on-link) and the configured routes.
fn routes_of(config: &Config) -> Vec<Route> {
    let mut routes = Vec::new();
    for (i, p) in config.ports.iter().enumerate() {
        for c in &p.ipv4 {
            routes.push(Route { prefix: IpAddr::V4(c.network().addr), len: c.prefix_len, port: i, via: None });
        }
        for c in &p.ipv6 {
            routes.push(Route { prefix: IpAddr::V6(c.network().addr), len: c.prefix_len, port: i, via: None });
        }
    }
    for r in &config.routes {
        let (prefix, len) = match r.prefix {
            anchor_config::IpCidr::V4(c) => (IpAddr::V4(c.addr), c.prefix_len),
            anchor_config::IpCidr::V6(c) => (IpAddr::V6(c.addr), c.prefix_len),
        };
        routes.push(Route { prefix, len, port: r.port, via: Some(r.via) });
    }
    routes
}

impl Forwarding {
    /// Installs the config's static bindings and publishes the first state.
    pub fn new(
        config: &Config,
        port_macs: Vec<MacAddr>,
        mut fib: FibWriter,
        publisher: StatePublisher,
    ) -> Result<Forwarding, ForwardingError> {
        let mut bindings = std::collections::BTreeMap::new();
        let mut tunnels = Vec::new();
        for (index, b) in config.bindings.iter().enumerate() {
            let tunnel = u32::try_from(tunnels.len()).unwrap_or(u32::MAX);
            tunnels.push(Some(spec_of(b, config)));
            let binding = Binding {
                id: u32::try_from(index + 1).unwrap_or(u32::MAX),
                mn_id: b.mn_id.clone(),
                role: "static",
                vrf: b.vrf,
                ipv4_hoa: b.ipv4_hoa,
                hnps: b.hnps.iter().map(|c| (c.addr, c.prefix_len)).collect(),
                ipv6_hoa: b.ipv6_hoa,
                tunnel,
                expires: None,
                state: "active",
            };
            for key in binding.keys() {
                fib.insert(key, FibEntry { session: binding.id, tunnel }).map_err(|source| ForwardingError::Fib {
                    index,
                    mn_id: b.mn_id.clone(),
                    source,
                })?;
            }
            bindings.insert(binding.id, binding);
        }
        let next_id = u32::try_from(bindings.len() + 1).unwrap_or(u32::MAX);
        let mut routes = routes_of(config);
        routes.sort_by_key(|r| std::cmp::Reverse(r.len));
        let mut f = Forwarding {
            fib,
            publisher,
            bindings,
            next_id,
            tunnels,
            built: TunnelTable::default(),
            free_tunnels: std::collections::VecDeque::new(),
            routes,
            mobile: mobile_prefixes(config),
            port_macs,
            neighbors: Vec::new(),
            session_counters: None,
            counted_from: std::collections::HashMap::new(),
        };
        f.rebuild_all();
        f.publish();
        Ok(f)
    }

    /// The next hop of a tunnel endpoint: itself when on-link, else the
    /// route's gateway.
    fn next_hop(&self, spec: &TunnelSpec) -> (usize, IpAddr) {
        // Routes are kept longest prefix first.
        match self.routes.iter().find(|r| dataplane::route::covers(r, spec.remote)) {
            Some(r) => (r.port, r.via.unwrap_or(spec.remote)),
            None => (spec.port, spec.remote),
        }
    }

    /// The egress port of traffic towards `addr` (the port of the longest
    /// matching route).
    pub fn port_towards(&self, addr: IpAddr) -> Option<usize> {
        self.routes.iter().find(|r| dataplane::route::covers(r, addr)).map(|r| r.port)
    }

    /// Where the workers' per-session counters are read (the daemon sets
    /// it once the workers' counters exist; before, every slot is fresh).
    pub fn set_session_counters(&mut self, reader: SessionReader) {
        self.session_counters = Some(reader);
    }

    /// Packets and bytes of binding `id` since it was installed:
    /// [down packets, down bytes, up packets, up bytes]; `None` for an
    /// unknown binding or when nothing counts.
    pub fn session_counters(&self, id: u32) -> Option<[u64; 4]> {
        let b = self.bindings.get(&id)?;
        let now = (self.session_counters.as_ref()?)(b.tunnel);
        let from = self.counted_from.get(&id).copied().unwrap_or_default();
        Some(std::array::from_fn(|i| now[i].wrapping_sub(from[i])))
    }

    /// A tunnel slot: a free one whose grace has passed, or a new one.
    fn tunnel_slot(&mut self, now: Instant) -> u32 {
        if let Some(&(slot, freed)) = self.free_tunnels.front() {
            if now.saturating_duration_since(freed) >= TUNNEL_REUSE_DELAY {
                self.free_tunnels.pop_front();
                return slot;
            }
        }
        self.tunnels.push(None);
        u32::try_from(self.tunnels.len() - 1).unwrap_or(u32::MAX)
    }

    /// Creates or updates a dynamic binding (signalled by a role module)
    /// identified by `id` (as returned by the first call, or None for a new
    /// one): the tunnel first, then the forwarding entries that point at it.
    pub fn install(
        &mut self,
        id: Option<u32>,
        mut binding: Binding,
        spec: TunnelSpec,
        now: Instant,
    ) -> Result<u32, FibError> {
        let old = id.and_then(|id| self.bindings.remove(&id));
        let id = match (id, &old) {
            (Some(id), Some(_)) => id,
            _ => {
                self.next_id = self.next_id.wrapping_add(1).max(1);
                self.next_id
            }
        };
        let tunnel = match &old {
            Some(o) => o.tunnel,
            None => self.tunnel_slot(now),
        };
        binding.id = id;
        binding.tunnel = tunnel;
        if old.is_none() {
            if let Some(read) = &self.session_counters {
                self.counted_from.insert(id, read(tunnel));
            }
        }
        self.set_tunnel(tunnel, Some(spec));
        self.publish();
        let new_keys = binding.keys();
        if let Some(o) = &old {
            for k in o.keys().into_iter().filter(|k| !new_keys.contains(k)) {
                self.fib.remove(&k);
            }
        }
        for k in new_keys {
            if let Err(e) = self.fib.insert(k, FibEntry { session: id, tunnel }) {
                for k in binding.keys() {
                    self.fib.remove(&k);
                }
                self.set_tunnel(tunnel, None);
                self.free_tunnels.push_back((tunnel, now));
                self.publish();
                return Err(e);
            }
        }
        self.bindings.insert(id, binding);
        Ok(id)
    }

    /// Removes a dynamic binding: forwarding entries first, then the tunnel.
    pub fn remove(&mut self, id: u32, now: Instant) {
        let Some(b) = self.bindings.remove(&id) else { return };
        self.counted_from.remove(&id);
        for k in b.keys() {
            self.fib.remove(&k);
        }
        if self.tunnels.get(b.tunnel as usize).is_some() {
            self.set_tunnel(b.tunnel, None);
            self.free_tunnels.push_back((b.tunnel, now));
        }
        self.publish();
    }

    pub fn binding(&self, id: u32) -> Option<&Binding> {
        self.bindings.get(&id)
    }

    /// Addresses the neighbour table must resolve and keep fresh: tunnel
    /// next hops and route gateways.
    pub fn wanted_neighbors(&self) -> Vec<(usize, IpAddr)> {
        // A nested tunnel's packets leave through its outer tunnel.
        let mut w: Vec<(usize, IpAddr)> =
            self.tunnels.iter().flatten().filter(|s| !s.nested).map(|s| self.next_hop(s)).collect();
        w.extend(self.routes.iter().filter_map(|r| r.via.map(|v| (r.port, v))));
        w.sort();
        w.dedup();
        w
    }

    /// The tunnel of `spec` with its template, towards the next hop's MAC
    /// if resolved.
    fn build(&self, spec: &TunnelSpec) -> Tunnel {
        let (port, hop) = self.next_hop(spec);
        let mac = self.neighbors.iter().find(|(p, a, _)| *p == port && *a == hop).map(|(_, _, m)| *m);
        let src = self.port_macs.get(spec.port).copied().unwrap_or(MacAddr::ZERO);
        Tunnel::new(spec.clone(), src, mac)
    }

    /// Sets tunnel slot `index` (growing the list) and its built tunnel.
    fn set_tunnel(&mut self, index: u32, spec: Option<TunnelSpec>) {
        let i = index as usize;
        if i >= self.tunnels.len() {
            self.tunnels.resize(i + 1, None);
        }
        let built = spec.as_ref().map(|s| self.build(s));
        self.tunnels[i] = spec;
        self.built.set(index, built);
    }

    /// Rebuilds every tunnel whose template is out of date (all of them at
    /// start; after a neighbour change, those whose next-hop MAC changed).
    fn rebuild_all(&mut self) {
        let resolved: std::collections::HashMap<(usize, IpAddr), MacAddr> =
            self.neighbors.iter().map(|&(p, a, m)| ((p, a), m)).collect();
        let mut changed = Vec::new();
        for (i, spec) in self.tunnels.iter().enumerate() {
            let Some(spec) = spec else { continue };
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let mac = resolved.get(&self.next_hop(spec)).copied();
            match self.built.get(index) {
                Some(t) if t.next_hop_mac == mac && t.spec == *spec => {}
                _ => changed.push(index),
            }
        }
        for index in changed {
            let spec = self.tunnels[index as usize].clone();
            self.set_tunnel(index, spec);
        }
    }

    /// Publishes a snapshot: the built tunnels (chunks shared with the
    /// previous snapshot where unchanged), routes, neighbours, port MACs.
    fn publish(&mut self) {
        let state = ForwardingState {
            tunnels: self.built.clone(),
            routes: self.routes.clone(),
            neighbors: self.neighbors.clone(),
            port_macs: self.port_macs.clone(),
            mobile: self.mobile.clone(),
        };
        self.publisher.publish(state);
    }

    /// Publishes a new snapshot if the resolved neighbours changed, and
    /// reclaims forwarding-table slots whose grace period has passed.
    pub fn refresh(&mut self, neigh: &Neighbors) {
        let mut now: Vec<(usize, IpAddr, MacAddr)> = neigh
            .entries()
            .filter(|e| matches!(e.state, NeighState::Reachable | NeighState::Stale))
            .filter_map(|e| e.mac.map(|m| (e.port, e.ip, m)))
            .collect();
        now.sort();
        if now != self.neighbors {
            self.neighbors = now;
            self.rebuild_all();
            self.publish();
        }
        self.fib.reclaim();
    }

    /// Forwarding-table entries in use and the table's capacity.
    pub fn fib_usage(&self) -> (usize, usize) {
        (self.fib.len(), self.fib.capacity())
    }

    /// Adds the static bindings to `counts` by (role, state).
    pub fn count_static(&self, counts: &mut std::collections::BTreeMap<(&'static str, &'static str), u64>) {
        for b in self.bindings.values().filter(|b| b.role == "static") {
            *counts.entry((b.role, b.state)).or_default() += 1;
        }
    }

    pub fn publisher(&self) -> &StatePublisher {
        &self.publisher
    }

    /// `show bindings` rows (DESIGN.md contract) of the static bindings;
    /// signalled ones are listed by their role module.
    pub fn bindings_json(&self, now: Instant) -> Value {
        let rows: Vec<Value> = self
            .bindings
            .values()
            .filter(|b| b.role == "static")
            .map(|b| {
                let spec = self.tunnels.get(b.tunnel as usize).and_then(Option::as_ref);
                json!({
                    "id": b.id,
                    "mn_id": b.mn_id,
                    "role": b.role,
                    "state": b.state,
                    "vrf": b.vrf,
                    "ipv4_hoa": b.ipv4_hoa.map(|a| a.to_string()),
                    "hnps": b.hnps.iter().map(|(p, l)| format!("{p}/{l}")).collect::<Vec<_>>(),
                    "ipv6_hoa": b.ipv6_hoa.map(|a| a.to_string()),
                    "coa": spec.map(|s| s.remote.to_string()),
                    "local": spec.map(|s| s.local.to_string()),
                    "tunnel": spec.map(|s| s.kind.name()),
                    "gre_key_in": spec.and_then(|s| s.key_in),
                    "gre_key_out": spec.and_then(|s| s.key_out),
                    "udp_port": spec.filter(|s| s.peer_port != 0).map(|s| s.peer_port),
                    "lifetime_left_s": b.expires.map(|e| e.saturating_duration_since(now).as_secs()),
                })
            })
            .collect();
        Value::Array(rows)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::neigh::testutil::{arp_reply, neighbors, CORE_MAC, CORE_V4, HOME_MAC, MAG_V4};

    const MAG_A: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x0a]);
    const MAG_B: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x0b]);

    fn demo() -> (Forwarding, StatePublisher) {
        let config = anchor_config::parse(anchor_config::DEMO_TOML).unwrap();
        let (w, _r) = dataplane::fib::new(1024, 1);
        let publisher = StatePublisher::new(ForwardingState::default());
        let f = Forwarding::new(&config, vec![CORE_MAC, HOME_MAC], w, publisher.clone()).unwrap();
        (f, publisher)
    }

    #[test]
    fn the_pools_and_static_addresses_are_published_as_mobile_prefixes() {
        let config = anchor_config::parse(anchor_config::DEMO_TOML).unwrap();
        let m = mobile_prefixes(&config);
        for pool in &config.pools.hnp {
            assert!(m.contains(&(IpAddr::V6(pool.addr), pool.prefix_len)));
        }
        for pool in &config.pools.ipv4 {
            assert!(m.contains(&(IpAddr::V4(pool.subnet.addr), pool.subnet.prefix_len)));
        }
        // The demo's static binding 203.0.113.250 lies in the IPv4 pool: covered, not listed twice.
        assert!(!m.contains(&("203.0.113.250".parse().unwrap(), 32)));
        let (_, publisher) = demo();
        assert!(publisher.current().is_mobile("203.0.113.250".parse().unwrap()));
    }

    #[test]
    fn the_demo_static_binding_is_in_the_table_and_listed() {
        let (f, publisher) = demo();
        let t = publisher.current();
        let tunnel = t.tunnel(0).unwrap();
        assert_eq!(tunnel.spec.kind, TunnelKind::Gre);
        assert_eq!((tunnel.spec.key_in, tunnel.spec.key_out), (Some(100), Some(200)));
        assert_eq!(tunnel.next_hop_mac, None, "unresolved until ARP answers");
        let key = FibKey::V4 { vrf: 0, addr: "203.0.113.250".parse().unwrap() };
        assert_eq!(f.fib.get(&key), Some(FibEntry { session: 1, tunnel: 0 }));
        let rows = f.bindings_json(Instant::now());
        assert_eq!(rows[0]["mn_id"], "pinned@anchor.test");
        assert_eq!(rows[0]["coa"], "192.0.2.2");
        assert_eq!(rows[0]["tunnel"], "gre");
        assert!(rows[0]["lifetime_left_s"].is_null());
        assert!(f.wanted_neighbors().contains(&(0, MAG_V4.into())));
    }

    #[test]
    fn the_tunnel_template_is_rebuilt_when_the_next_hop_mac_changes() {
        let (mut f, publisher) = demo();
        let mut neigh = neighbors();
        let now = Instant::now();
        neigh.resolve(0, MAG_V4.into(), now);
        neigh.handle_frame(0, &arp_reply(MAG_A, MAG_V4, CORE_MAC, CORE_V4), now);
        f.refresh(&neigh);
        let first = publisher.current();
        assert_eq!(first.tunnel(0).unwrap().next_hop_mac, Some(MAG_A));
        assert_eq!(&first.tunnel(0).unwrap().template()[..6], &MAG_A.0);

        // Nothing changed: no new snapshot.
        f.refresh(&neigh);
        assert!(std::sync::Arc::ptr_eq(&first, &publisher.current()));

        // The MAG moved to another MAC (e.g. failover): templates follow.
        neigh.handle_frame(0, &arp_reply(MAG_B, MAG_V4, CORE_MAC, CORE_V4), now);
        f.refresh(&neigh);
        let second = publisher.current();
        assert_eq!(&second.tunnel(0).unwrap().template()[..6], &MAG_B.0);
    }
}
