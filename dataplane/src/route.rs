//! Routing towards the home side (after decapsulation) and the published
//! forwarding state that workers read: tunnels (with their templates),
//! routes and resolved neighbours. The control thread publishes it as a
//! snapshot with an atomic pointer swap; a worker's `arc_swap::Cache` reads
//! it without any read-modify-write. Routes and neighbours are small; the
//! tunnels (one per session) are a [`TunnelTable`] of shared chunks, so a
//! snapshot that changes one tunnel copies one chunk and the chunk pointers,
//! not every tunnel.

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

/// Tunnels per leaf of a [`TunnelTable`], and leaves per middle node.
pub const TUNNEL_LEAF: usize = 64;
pub const TUNNEL_MID: usize = 256;

type Leaf = Arc<[Option<Tunnel>]>;

/// A middle node: up to [`TUNNEL_MID`] leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Mid {
    leaves: Vec<Leaf>,
}

/// Tunnels indexed by `FibEntry::tunnel`, in a three-level tree whose nodes
/// snapshots share: [`TunnelTable::set`] copies the one leaf (64 tunnels)
/// and the one middle node (256 pointers) it changes, and the top list (one
/// pointer per 16384 tunnels), so publishing a snapshot after a change
/// costs the same with 1M tunnels as with a thousand. A reader follows two
/// pointers more than with a flat array; the middle nodes of 1M tunnels
/// take 128 KiB and stay in cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TunnelTable {
    mids: Vec<Arc<Mid>>,
}

impl TunnelTable {
    const PER_MID: usize = TUNNEL_LEAF * TUNNEL_MID;

    #[inline]
    pub fn get(&self, index: u32) -> Option<&Tunnel> {
        let i = index as usize;
        let mid = self.mids.get(i / Self::PER_MID)?;
        mid.leaves.get(i / TUNNEL_LEAF % TUNNEL_MID)?.get(i % TUNNEL_LEAF)?.as_ref()
    }

    /// Puts `tunnel` at `index` (None: a hole), growing the table as needed.
    pub fn set(&mut self, index: u32, tunnel: Option<Tunnel>) {
        let i = index as usize;
        let (m, l, at) = (i / Self::PER_MID, i / TUNNEL_LEAF % TUNNEL_MID, i % TUNNEL_LEAF);
        let grows = m >= self.mids.len() || self.mids[m].leaves.len() <= l;
        if grows && tunnel.is_none() {
            return;
        }
        if m >= self.mids.len() {
            self.mids.resize_with(m + 1, Default::default);
        }
        let mid = Arc::make_mut(&mut self.mids[m]);
        if l >= mid.leaves.len() {
            let empty: Leaf = std::iter::repeat_n(None, TUNNEL_LEAF).collect();
            mid.leaves.resize(l + 1, empty);
        }
        let mut leaf = mid.leaves[l].to_vec();
        leaf[at] = tunnel;
        mid.leaves[l] = leaf.into();
    }

    /// Slots in the table (holes included).
    pub fn len(&self) -> usize {
        match self.mids.split_last() {
            Some((last, full)) => full.len() * Self::PER_MID + last.leaves.len() * TUNNEL_LEAF,
            None => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.mids.is_empty()
    }

    /// Every tunnel with its index.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Tunnel)> + '_ {
        self.mids.iter().enumerate().flat_map(|(m, mid)| {
            mid.leaves.iter().enumerate().flat_map(move |(l, leaf)| {
                leaf.iter().enumerate().filter_map(move |(at, t)| {
                    let index = m * Self::PER_MID + l * TUNNEL_LEAF + at;
                    Some((u32::try_from(index).ok()?, t.as_ref()?))
                })
            })
        })
    }
}

impl FromIterator<Option<Tunnel>> for TunnelTable {
    fn from_iter<I: IntoIterator<Item = Option<Tunnel>>>(iter: I) -> TunnelTable {
        let mut table = TunnelTable::default();
        for (i, t) in iter.into_iter().enumerate() {
            if let Ok(index) = u32::try_from(i) {
                table.set(index, t);
            }
        }
        table
    }
}

/// Everything workers need besides the forwarding table, as one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardingState {
    /// Indexed by `FibEntry::tunnel`; holes are removed tunnels.
    pub tunnels: TunnelTable,
    /// Longest prefix first.
    pub routes: Vec<Route>,
    /// Resolved neighbours: (port, address, MAC).
    pub neighbors: Vec<(usize, IpAddr, MacAddr)>,
    /// Our MAC per port.
    pub port_macs: Vec<MacAddr>,
    /// Prefixes that hold mobile nodes' home addresses (pools, static
    /// addresses): an uplink packet to one of them is looked up in the
    /// forwarding table and, when it has a binding, sent straight into that
    /// binding's tunnel instead of to the home-side router.
    pub mobile: Vec<(IpAddr, u8)>,
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

    /// Whether `a` lies in one of the [`ForwardingState::mobile`] prefixes.
    #[inline]
    pub fn is_mobile(&self, a: IpAddr) -> bool {
        self.mobile.iter().any(|&(prefix, len)| prefix_match(prefix, len, a))
    }

    #[inline]
    pub fn tunnel(&self, index: u32) -> Option<&Tunnel> {
        self.tunnels.get(index)
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

    fn tunnel(remote: &str) -> Tunnel {
        let spec = crate::tunnel::tests::spec(crate::tunnel::TunnelKind::Gre, "192.0.2.1", remote);
        Tunnel::new(spec, MacAddr([2, 0, 0, 0, 0, 1]), None)
    }

    #[test]
    fn a_tunnel_table_change_copies_one_path_and_leaves_older_snapshots_alone() {
        let mut t = TunnelTable::default();
        assert!(t.is_empty() && t.get(0).is_none());
        let far = TunnelTable::PER_MID as u32 + 1;
        t.set(3, Some(tunnel("192.0.2.3")));
        t.set(TUNNEL_LEAF as u32 + 2, Some(tunnel("192.0.2.6")));
        t.set(far, Some(tunnel("192.0.2.4")));
        assert_eq!(t.len(), TunnelTable::PER_MID + TUNNEL_LEAF);
        let old = t.clone();
        t.set(3, None);
        t.set(5, Some(tunnel("192.0.2.5")));
        assert!(t.get(3).is_none() && old.get(3).is_some(), "the old snapshot keeps its tunnel");
        assert!(old.get(5).is_none());
        assert!(Arc::ptr_eq(&t.mids[1], &old.mids[1]), "untouched middle nodes are shared");
        assert!(!Arc::ptr_eq(&t.mids[0], &old.mids[0]));
        assert!(Arc::ptr_eq(&t.mids[0].leaves[1], &old.mids[0].leaves[1]), "untouched leaves are shared");
        assert!(!Arc::ptr_eq(&t.mids[0].leaves[0], &old.mids[0].leaves[0]));
        let listed: Vec<u32> = t.iter().map(|(i, _)| i).collect();
        assert_eq!(listed, vec![5, TUNNEL_LEAF as u32 + 2, far]);
        t.set(10 * TunnelTable::PER_MID as u32, None);
        t.set(far + TUNNEL_LEAF as u32 * 3, None);
        assert_eq!(t.len(), TunnelTable::PER_MID + TUNNEL_LEAF, "a hole beyond the end does not grow the table");
        let collected: TunnelTable = vec![None, Some(tunnel("192.0.2.9"))].into_iter().collect();
        assert_eq!(collected.get(1).map(|t| t.spec.remote), Some("192.0.2.9".parse().unwrap()));
    }

    #[test]
    fn mobile_prefixes_cover_their_addresses_only() {
        let s = state();
        assert!(s.is_mobile("203.0.113.77".parse().unwrap()));
        assert!(!s.is_mobile("198.51.100.7".parse().unwrap()));
        assert!(!s.is_mobile("2001:db8::1".parse().unwrap()));
    }

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
            mobile: vec![("203.0.113.0".parse().unwrap(), 24)],
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
