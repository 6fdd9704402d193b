//! Routing towards the home side (after decapsulation) and the published
//! forwarding state that workers read: tunnels (with their templates),
//! routes and resolved neighbours. Small and rarely changing, so the control
//! thread publishes it as a whole snapshot with an atomic pointer swap; a
//! worker's `arc_swap::Cache` reads it without any read-modify-write.

use core::net::IpAddr;
use std::sync::Arc;

use arc_swap::{ArcSwap, Cache};

use crate::tunnel::Tunnel;
use crate::wire::MacAddr;

/// A route: destinations in `prefix/len` leave by `port` via `via`, or
/// directly (on-link) when `via` is None.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub prefix: IpAddr,
    pub len: u8,
    pub port: usize,
    pub via: Option<IpAddr>,
}

/// Where a packet leaves: port and Ethernet addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Egress {
    pub port: usize,
    pub src: MacAddr,
    pub dst: MacAddr,
}

/// Why no egress was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteMiss {
    NoRoute,
    /// The route is known but its next hop (or the on-link host) has no MAC.
    Unresolved {
        port: usize,
        ip: IpAddr,
    },
}

/// Everything workers need besides the forwarding table, as one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardingState {
    /// Indexed by `FibEntry::tunnel`; holes are removed tunnels.
    pub tunnels: Vec<Option<Tunnel>>,
    /// Longest prefix first.
    pub routes: Vec<Route>,
    /// Resolved neighbours: (port, address, MAC).
    pub neighbors: Vec<(usize, IpAddr, MacAddr)>,
    /// Our MAC per port.
    pub port_macs: Vec<MacAddr>,
}

/// True when `route` covers `a`.
pub fn covers(route: &Route, a: IpAddr) -> bool {
    prefix_match(route.prefix, route.len, a)
}

fn prefix_match(prefix: IpAddr, len: u8, a: IpAddr) -> bool {
    match (prefix, a) {
        (IpAddr::V4(p), IpAddr::V4(a)) => {
            let m = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len.min(32))) };
            u32::from(p) & m == u32::from(a) & m
        }
        (IpAddr::V6(p), IpAddr::V6(a)) => {
            let m = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len.min(128))) };
            u128::from(p) & m == u128::from(a) & m
        }
        _ => false,
    }
}

impl ForwardingState {
    /// Sorts routes longest prefix first (call after building).
    pub fn sort_routes(&mut self) {
        self.routes.sort_by_key(|r| std::cmp::Reverse(r.len));
    }

    #[inline]
    pub fn tunnel(&self, index: u32) -> Option<&Tunnel> {
        self.tunnels.get(index as usize).and_then(Option::as_ref)
    }

    #[inline]
    pub fn neighbor(&self, port: usize, ip: IpAddr) -> Option<MacAddr> {
        self.neighbors.iter().find(|(p, a, _)| *p == port && *a == ip).map(|(_, _, m)| *m)
    }

    /// Longest-prefix match for `dst` and the MAC to send to.
    #[inline]
    pub fn egress(&self, dst: IpAddr) -> Result<Egress, RouteMiss> {
        let r = self.routes.iter().find(|r| prefix_match(r.prefix, r.len, dst)).ok_or(RouteMiss::NoRoute)?;
        let hop = r.via.unwrap_or(dst);
        let src = self.port_macs.get(r.port).copied().ok_or(RouteMiss::NoRoute)?;
        match self.neighbor(r.port, hop) {
            Some(dst) => Ok(Egress { port: r.port, src, dst }),
            None => Err(RouteMiss::Unresolved { port: r.port, ip: hop }),
        }
    }
}

/// The control thread's handle: publishes new snapshots.
#[derive(Debug, Clone)]
pub struct StatePublisher(Arc<ArcSwap<ForwardingState>>);

impl StatePublisher {
    pub fn new(initial: ForwardingState) -> StatePublisher {
        StatePublisher(Arc::new(ArcSwap::from_pointee(initial)))
    }

    pub fn publish(&self, state: ForwardingState) {
        self.0.store(Arc::new(state));
    }

    pub fn current(&self) -> Arc<ForwardingState> {
        self.0.load_full()
    }

    /// A worker's reader.
    pub fn reader(&self) -> StateReader {
        StateReader(Cache::new(self.0.clone()))
    }
}

/// A worker's view of the published state; `load` costs a pointer compare
/// when nothing changed.
pub struct StateReader(Cache<Arc<ArcSwap<ForwardingState>>, Arc<ForwardingState>>);

impl StateReader {
    #[inline]
    pub fn load(&mut self) -> &Arc<ForwardingState> {
        self.0.load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ForwardingState {
        let mut s = ForwardingState {
            routes: vec![
                Route {
                    prefix: "0.0.0.0".parse().unwrap(),
                    len: 0,
                    port: 1,
                    via: Some("198.51.100.2".parse().unwrap()),
                },
                Route { prefix: "198.51.100.0".parse().unwrap(), len: 24, port: 1, via: None },
            ],
            neighbors: vec![(1, "198.51.100.2".parse().unwrap(), MacAddr([2, 0, 0, 0, 0, 2]))],
            port_macs: vec![MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 1, 1])],
            ..Default::default()
        };
        s.sort_routes();
        s
    }

    #[test]
    fn the_longest_prefix_wins_and_on_link_hosts_need_their_own_neighbor_entry() {
        let s = state();
        let e = s.egress("198.51.100.2".parse().unwrap()).unwrap();
        assert_eq!((e.port, e.dst), (1, MacAddr([2, 0, 0, 0, 0, 2])));
        assert_eq!(
            s.egress("198.51.100.7".parse().unwrap()),
            Err(RouteMiss::Unresolved { port: 1, ip: "198.51.100.7".parse().unwrap() })
        );
        let e = s.egress("192.0.2.77".parse().unwrap()).unwrap();
        assert_eq!(e.dst, MacAddr([2, 0, 0, 0, 0, 2]), "default route via the gateway");
        assert_eq!(s.egress("2001:db8::1".parse().unwrap()), Err(RouteMiss::NoRoute));
    }

    #[test]
    fn a_reader_sees_a_new_snapshot_after_publish() {
        let p = StatePublisher::new(ForwardingState::default());
        let mut r = p.reader();
        assert!(r.load().routes.is_empty());
        p.publish(state());
        assert_eq!(r.load().routes.len(), 2);
    }
}
