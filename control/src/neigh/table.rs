//! The neighbour table: one entry per (port, address), changed only through
//! [`Slot::set_state`] (timers) and [`Slot::learn`] (frames), and the timer
//! rules of [`NeighTable::poll`].

use core::net::IpAddr;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::time::Instant;

use dataplane::wire::MacAddr;

use super::{reason, NeighEntry, NeighState, NeighborConfig, PortIndex};

/// Most entries the table holds; past it frames no longer create entries
/// (wanted next hops always do), so a flood of spoofed senders cannot grow
/// the table without bound.
pub(super) const MAX_ENTRIES: usize = 4096;

/// Failed entries are re-probed this many retry intervals apart.
const FAILED_RETRY_FACTOR: u32 = 10;

/// A probe `poll` asks to be sent: multicast/broadcast, or unicast to the
/// cached MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Probe {
    pub port: PortIndex,
    pub ip: IpAddr,
    pub unicast: Option<MacAddr>,
}

#[derive(Debug)]
struct Slot {
    entry: NeighEntry,
    /// Asked for by [`NeighTable::want`]: kept and refreshed, never aged out.
    wanted: bool,
    /// When the next probe is due (for entries that probe); `None`: never.
    next_probe: Option<Instant>,
}

impl Slot {
    /// The one place an entry's state changes. The MAC is dropped for
    /// `Incomplete` and `Failed`; the probe count restarts; the next probe
    /// is due at once for `Incomplete`/`Stale`, after ten retry intervals for
    /// `Failed`. `updated` is left alone: it moves only in [`learn`](Self::learn).
    fn set_state(&mut self, cfg: &NeighborConfig, state: NeighState, mac: Option<MacAddr>, now: Instant) {
        self.entry.state = state;
        self.entry.mac = match state {
            NeighState::Reachable | NeighState::Stale => mac,
            NeighState::Incomplete | NeighState::Failed => None,
        };
        self.entry.probes = 0;
        self.next_probe = match state {
            NeighState::Incomplete | NeighState::Stale => Some(now),
            NeighState::Failed => now.checked_add(cfg.retry_interval.saturating_mul(FAILED_RETRY_FACTOR)),
            NeighState::Reachable => None,
        };
    }

    /// A state change caused by a frame from the neighbour: also marks it
    /// heard from now.
    fn learn(&mut self, cfg: &NeighborConfig, state: NeighState, mac: MacAddr, now: Instant) {
        self.set_state(cfg, state, Some(mac), now);
        self.entry.updated = now;
    }

    fn new(port: PortIndex, ip: IpAddr, wanted: bool, now: Instant) -> Slot {
        Slot {
            entry: NeighEntry { port, ip, mac: None, state: NeighState::Incomplete, updated: now, probes: 0 },
            wanted,
            next_probe: Some(now),
        }
    }

    fn usable_mac(&self) -> Option<MacAddr> {
        match self.entry.state {
            NeighState::Reachable | NeighState::Stale => self.entry.mac,
            NeighState::Incomplete | NeighState::Failed => None,
        }
    }
}

#[derive(Debug)]
pub(super) struct NeighTable {
    cfg: NeighborConfig,
    slots: BTreeMap<(PortIndex, IpAddr), Slot>,
}

impl NeighTable {
    pub fn new(cfg: NeighborConfig) -> NeighTable {
        NeighTable { cfg, slots: BTreeMap::new() }
    }

    pub fn entries(&self) -> impl Iterator<Item = &NeighEntry> {
        self.slots.values().map(|s| &s.entry)
    }

    /// The MAC of a `Reachable` or `Stale` entry (RFC 4861 §7.3.3: a stale
    /// address is still used while it is re-verified).
    pub fn lookup(&self, port: PortIndex, ip: IpAddr) -> Option<MacAddr> {
        self.slots.get(&(port, ip)).and_then(Slot::usable_mac)
    }

    /// Marks (port, ip) wanted, creating an `Incomplete` entry probed on the
    /// next poll. Calling it again changes nothing else.
    pub fn want(&mut self, port: PortIndex, ip: IpAddr, now: Instant) -> Option<MacAddr> {
        match self.slots.entry((port, ip)) {
            Entry::Occupied(mut o) => {
                o.get_mut().wanted = true;
                o.get().usable_mac()
            }
            Entry::Vacant(v) => {
                v.insert(Slot::new(port, ip, true, now));
                None
            }
        }
    }

    /// No longer wanted: the entry ages out like a learned one.
    pub fn release(&mut self, port: PortIndex, ip: IpAddr) {
        if let Some(slot) = self.slots.get_mut(&(port, ip)) {
            slot.wanted = false;
        }
    }

    /// Drops the entry for (port, ip) (an address the anchor now proxies);
    /// returns the MAC it had, if known.
    pub fn forget(&mut self, port: PortIndex, ip: IpAddr) -> Option<MacAddr> {
        self.slots.remove(&(port, ip)).and_then(|s| s.usable_mac())
    }

    /// The slot for (port, ip), created (not wanted) when `create` and the
    /// table has room.
    fn slot_for(&mut self, port: PortIndex, ip: IpAddr, create: bool, now: Instant) -> Option<&mut Slot> {
        let room = self.slots.len() < MAX_ENTRIES;
        match self.slots.entry((port, ip)) {
            Entry::Occupied(o) => Some(o.into_mut()),
            Entry::Vacant(v) if create && room => Some(v.insert(Slot::new(port, ip, false, now))),
            Entry::Vacant(_) => None,
        }
    }

    /// An ARP packet from `ip` at `mac` (RFC 826 "merge"): an existing entry
    /// is updated and becomes `Reachable`; a missing one is created only
    /// when `create` (we were the target). Returns whether an entry took it.
    pub fn arp_from(&mut self, port: PortIndex, ip: IpAddr, mac: MacAddr, create: bool, now: Instant) -> bool {
        let cfg = self.cfg;
        match self.slot_for(port, ip, create, now) {
            Some(slot) => {
                slot.learn(&cfg, NeighState::Reachable, mac, now);
                true
            }
            None => false,
        }
    }

    /// An NS from `ip` with source link-layer option `mac` (RFC 4861
    /// §7.2.3): a new entry, or one whose address differs or is unknown,
    /// becomes `Stale` with `mac`; a matching one is left as it is.
    pub fn solicited_by(&mut self, port: PortIndex, ip: IpAddr, mac: MacAddr, now: Instant) {
        let cfg = self.cfg;
        if let Some(slot) = self.slot_for(port, ip, true, now) {
            if slot.usable_mac() != Some(mac) {
                slot.learn(&cfg, NeighState::Stale, mac, now);
            }
        }
    }

    /// An NA for `ip` (RFC 4861 §7.2.5). `Err` says why it changed nothing
    /// (beyond, for a differing address without override, marking a
    /// `Reachable` entry `Stale`).
    pub fn advertised(
        &mut self,
        port: PortIndex,
        ip: IpAddr,
        solicited: bool,
        override_: bool,
        lladdr: Option<MacAddr>,
        now: Instant,
    ) -> Result<(), &'static str> {
        let cfg = self.cfg;
        let Some(slot) = self.slots.get_mut(&(port, ip)) else {
            // §7.2.5: no entry, no need to create one.
            return Err(reason::ND_UNKNOWN_TARGET);
        };
        let Some(cached) = slot.usable_mac() else {
            // INCOMPLETE (or FAILED): the advert must carry the address.
            let Some(mac) = lladdr else {
                return Err(reason::ND_NO_LLADDR);
            };
            let state = if solicited { NeighState::Reachable } else { NeighState::Stale };
            slot.learn(&cfg, state, mac, now);
            return Ok(());
        };
        let differs = lladdr.is_some_and(|m| m != cached);
        if differs && !override_ {
            if slot.entry.state == NeighState::Reachable {
                slot.set_state(&cfg, NeighState::Stale, Some(cached), now);
            }
            return Err(reason::ND_NO_OVERRIDE);
        }
        let mac = lladdr.unwrap_or(cached);
        if solicited {
            slot.learn(&cfg, NeighState::Reachable, mac, now);
        } else if differs {
            slot.learn(&cfg, NeighState::Stale, mac, now);
        }
        Ok(())
    }

    /// Runs the timers (see [`Neighbors::poll`](super::Neighbors::poll))
    /// and returns the probes to send.
    pub fn poll(&mut self, now: Instant) -> Vec<Probe> {
        let cfg = self.cfg;
        let age_out = cfg.reachable.saturating_mul(2);
        let mut probes = Vec::new();
        self.slots.retain(|&(port, ip), slot| {
            let heard = now.saturating_duration_since(slot.entry.updated);
            if slot.entry.state == NeighState::Reachable && heard >= cfg.reachable {
                slot.set_state(&cfg, NeighState::Stale, slot.entry.mac, now);
            }
            let due = slot.next_probe.is_some_and(|t| now >= t);
            match slot.entry.state {
                NeighState::Reachable => true,
                _ if !slot.wanted => slot.entry.state == NeighState::Stale && heard < age_out,
                _ if !due => true,
                NeighState::Incomplete | NeighState::Stale if slot.entry.probes >= cfg.max_retries => {
                    slot.set_state(&cfg, NeighState::Failed, None, now);
                    true
                }
                NeighState::Incomplete | NeighState::Stale => {
                    probes.push(Probe { port, ip, unicast: slot.entry.mac });
                    slot.entry.probes += 1;
                    slot.next_probe = now.checked_add(cfg.retry_interval);
                    true
                }
                NeighState::Failed => {
                    probes.push(Probe { port, ip, unicast: None });
                    slot.entry.probes = slot.entry.probes.saturating_add(1);
                    slot.next_probe = now.checked_add(cfg.retry_interval.saturating_mul(FAILED_RETRY_FACTOR));
                    true
                }
            }
        });
        probes
    }

    /// The earliest instant at which [`poll`](Self::poll) has something to do.
    pub fn next_timeout(&self) -> Option<Instant> {
        let age_out = self.cfg.reachable.saturating_mul(2);
        self.slots
            .values()
            .filter_map(|s| match s.entry.state {
                NeighState::Reachable => s.entry.updated.checked_add(self.cfg.reachable),
                _ if s.wanted => s.next_probe,
                NeighState::Stale => s.entry.updated.checked_add(age_out),
                NeighState::Incomplete | NeighState::Failed => Some(s.entry.updated),
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use core::net::{IpAddr, Ipv6Addr};
    use std::time::{Duration, Instant};

    use dataplane::wire::icmpv6::{self, NdRepr};
    use dataplane::wire::{arp, ethernet, ipv6, MacAddr};

    use super::super::testutil::*;
    use super::super::{NeighState, Neighbors, Punted};
    use super::MAX_ENTRIES;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn state(n: &Neighbors, ip: IpAddr) -> Option<(NeighState, Option<MacAddr>)> {
        n.entries().find(|e| e.ip == ip).map(|e| (e.state, e.mac))
    }

    /// Where each probe goes: (port, Ethernet destination).
    fn probe_dsts(frames: &[(usize, Vec<u8>)]) -> Vec<(usize, MacAddr)> {
        frames.iter().map(|(p, f)| (*p, ethernet::Frame::new_checked(&f[..]).unwrap().dst_addr())).collect()
    }

    /// Drives an IPv4 next hop to `Reachable` at `t`.
    fn reachable_v4(n: &mut Neighbors, t: Instant) {
        n.resolve(0, MAG_V4.into(), t);
        n.poll(t);
        let answer = arp_reply(MAG_MAC, MAG_V4, CORE_MAC, CORE_V4);
        assert_eq!(n.handle_frame(0, &answer, t), Punted::Learned);
    }

    #[test]
    fn a_new_ipv4_next_hop_is_resolved_with_exactly_this_broadcast_arp_request() {
        let mut n = neighbors();
        let t = Instant::now();
        assert_eq!(n.resolve(0, MAG_V4.into(), t), None);
        #[rustfmt::skip]
        let expected: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // Ethernet destination: broadcast
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // Ethernet source: our core MAC
            0x08, 0x06,                         // EtherType ARP
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, // Ethernet, IPv4, hlen 6, plen 4
            0x00, 0x01,                         // request
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // sender hardware address
            0xc0, 0x00, 0x02, 0x01,             // sender 192.0.2.1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target hardware address unknown
            0xc0, 0x00, 0x02, 0x02,             // target 192.0.2.2
        ];
        assert_eq!(n.poll(t), vec![(0, expected.to_vec())]);
    }

    #[test]
    fn a_new_ipv6_next_hop_is_resolved_with_exactly_this_ns_to_its_solicited_node_group() {
        let mut n = neighbors();
        let t = Instant::now();
        assert_eq!(n.resolve(0, MAG_V6.into(), t), None);
        #[rustfmt::skip]
        let expected: [u8; 86] = [
            0x33, 0x33, 0xff, 0x00, 0x00, 0x02, // Ethernet destination: ff02::1:ff00:2
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // Ethernet source: our core MAC
            0x86, 0xdd,                         // EtherType IPv6
            0x60, 0x00, 0x00, 0x00,             // version 6
            0x00, 0x20, 0x3a, 0xff,             // payload 32, ICMPv6, hop limit 255
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // source 2001:db8:1::1
            0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x02, // destination ff02::1:ff00:2
            0x87, 0x00, 0x1c, 0x25,             // NS, code 0, checksum (computed in Python)
            0x00, 0x00, 0x00, 0x00,             // reserved
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // target 2001:db8:1::2
            0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source link-layer address
        ];
        assert_eq!(n.poll(t), vec![(0, expected.to_vec())]);
    }

    #[test]
    fn a_link_local_next_hop_is_solicited_from_our_link_local_address() {
        let mut n = neighbors();
        let t = Instant::now();
        let peer: Ipv6Addr = "fe80::2".parse().unwrap();
        n.resolve(0, peer.into(), t);
        let frames = n.poll(t);
        let ip = ipv6::Packet::new_checked(&frames[0].1[14..]).unwrap();
        assert_eq!(ip.src_addr(), core_link_local());
        assert_eq!(ip.dst_addr(), ipv6::solicited_node(peer));
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(ip.src_addr(), ip.dst_addr()));
    }

    #[test]
    fn resolve_returns_the_mac_once_the_peer_answered() {
        let mut n = neighbors();
        let t = Instant::now();
        reachable_v4(&mut n, t);
        assert_eq!(n.resolve(0, MAG_V4.into(), t), Some(MAG_MAC));
        assert_eq!(n.lookup(0, MAG_V4.into()), Some(MAG_MAC));
        assert_eq!(n.lookup(1, MAG_V4.into()), None, "entries are per port");
    }

    #[test]
    fn resolve_refuses_our_own_group_and_unspecified_addresses_and_unknown_ports() {
        let mut n = neighbors();
        let t = Instant::now();
        for ip in [
            IpAddr::from(CORE_V4),
            IpAddr::from(CORE_V6),
            IpAddr::from(core_link_local()),
            "255.255.255.255".parse().unwrap(),
            "224.0.0.1".parse().unwrap(),
            "ff02::1".parse().unwrap(),
            "::".parse().unwrap(),
        ] {
            assert_eq!(n.resolve(0, ip, t), None);
        }
        assert_eq!(n.resolve(9, MAG_V4.into(), t), None);
        assert_eq!(n.entries().count(), 0);
        assert!(n.poll(t).is_empty());
    }

    #[test]
    fn resolve_called_every_tick_does_not_restart_probing() {
        let mut n = neighbors();
        let t = Instant::now();
        let mut sent = 0;
        for ms in (0..2500).step_by(100) {
            let now = t + Duration::from_millis(ms);
            n.resolve(0, MAG_V4.into(), now);
            sent += n.poll(now).len();
        }
        assert_eq!(sent, 3, "one probe per second: at 0, 1 and 2 s");
    }

    #[test]
    fn an_incomplete_entry_is_probed_every_retry_interval_then_failed() {
        let mut n = neighbors();
        let t = Instant::now();
        n.resolve(0, MAG_V4.into(), t);
        assert_eq!(n.poll(t).len(), 1);
        assert!(n.poll(t + Duration::from_millis(999)).is_empty());
        assert_eq!(n.poll(t + secs(1)).len(), 1);
        assert_eq!(n.poll(t + secs(2)).len(), 1);
        assert_eq!(n.entries().next().unwrap().probes, 3);
        assert!(n.poll(t + secs(3)).is_empty());
        assert_eq!(state(&n, MAG_V4.into()), Some((NeighState::Failed, None)));
        assert_eq!(n.lookup(0, MAG_V4.into()), None);
    }

    #[test]
    fn a_failed_entry_is_probed_every_ten_retry_intervals_and_resolves_when_the_peer_answers() {
        let mut n = neighbors();
        let t = Instant::now();
        n.resolve(0, MAG_V6.into(), t);
        for s in 0..=3 {
            n.poll(t + secs(s));
        }
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Failed, None)));
        assert!(n.poll(t + secs(12)).is_empty());
        let retry = n.poll(t + secs(13));
        assert_eq!(probe_dsts(&retry), vec![(0, MacAddr::ipv6_multicast(&solicited(MAG_V6)))]);
        assert!(n.poll(t + secs(22)).is_empty());
        assert_eq!(n.poll(t + secs(23)).len(), 1);
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Failed, None)), "kept while wanted");
        let answer = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &answer, t + secs(24)), Punted::Learned);
        assert_eq!(n.lookup(0, MAG_V6.into()), Some(MAG_MAC));
    }

    #[test]
    fn a_reachable_entry_turns_stale_after_the_reachable_time_and_is_probed_unicast() {
        let mut n = neighbors();
        let t = Instant::now();
        reachable_v4(&mut n, t);
        assert!(n.poll(t + secs(29)).is_empty());
        let frames = n.poll(t + secs(30));
        assert_eq!(probe_dsts(&frames), vec![(0, MAG_MAC)]);
        let req = arp::Packet::new_checked(&frames[0].1[14..]).unwrap();
        assert_eq!(req.operation(), arp::OP_REQUEST);
        assert_eq!(req.target_ip(), MAG_V4);
        assert_eq!(state(&n, MAG_V4.into()), Some((NeighState::Stale, Some(MAG_MAC))));
        assert_eq!(n.lookup(0, MAG_V4.into()), Some(MAG_MAC), "stale is still used");
    }

    #[test]
    fn an_answered_unicast_probe_makes_a_stale_entry_reachable_again() {
        let mut n = neighbors();
        let t = Instant::now();
        n.resolve(0, MAG_V6.into(), t);
        n.poll(t);
        let answer = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC));
        n.handle_frame(0, &answer, t);
        let frames = n.poll(t + secs(30));
        let ip = ipv6::Packet::new_checked(&frames[0].1[14..]).unwrap();
        assert_eq!(ip.dst_addr(), MAG_V6, "unicast NS goes to the neighbour itself");
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(matches!(
            NdRepr::parse(&icmp),
            Ok(NdRepr::NeighborSolicit { target, source_lladdr: Some(CORE_MAC) }) if target == MAG_V6
        ));
        n.handle_frame(0, &answer, t + secs(31));
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Reachable, Some(MAG_MAC))));
        assert!(n.poll(t + secs(60)).is_empty());
        assert_eq!(n.poll(t + secs(61)).len(), 1);
    }

    #[test]
    fn an_unanswered_stale_entry_fails_after_max_retries_and_falls_back_to_broadcast() {
        let mut n = neighbors();
        let t = Instant::now();
        reachable_v4(&mut n, t);
        for s in 30..=32 {
            assert_eq!(probe_dsts(&n.poll(t + secs(s))), vec![(0, MAG_MAC)]);
        }
        assert!(n.poll(t + secs(33)).is_empty());
        assert_eq!(state(&n, MAG_V4.into()), Some((NeighState::Failed, None)));
        assert_eq!(probe_dsts(&n.poll(t + secs(43))), vec![(0, MacAddr::BROADCAST)]);
    }

    #[test]
    fn a_learned_entry_that_is_not_wanted_ages_out_after_twice_the_reachable_time() {
        let mut n = neighbors();
        let t = Instant::now();
        n.handle_frame(0, &arp_request(MAG_MAC, MAG_V4, CORE_V4), t);
        assert!(n.poll(t + secs(30)).is_empty(), "not wanted: never probed");
        assert_eq!(state(&n, MAG_V4.into()), Some((NeighState::Stale, Some(MAG_MAC))));
        n.poll(t + secs(59));
        assert_eq!(n.entries().count(), 1);
        n.poll(t + secs(60));
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn hearing_from_a_learned_neighbour_again_keeps_it() {
        let mut n = neighbors();
        let t = Instant::now();
        n.handle_frame(0, &arp_request(MAG_MAC, MAG_V4, CORE_V4), t);
        n.handle_frame(0, &arp_request(MAG_MAC, MAG_V4, CORE_V4), t + secs(50));
        n.poll(t + secs(60));
        assert_eq!(state(&n, MAG_V4.into()), Some((NeighState::Reachable, Some(MAG_MAC))));
    }

    #[test]
    fn a_wanted_entry_is_never_removed() {
        let mut n = neighbors();
        let t = Instant::now();
        n.resolve(0, MAG_V4.into(), t);
        for s in (0..3600).step_by(7) {
            n.poll(t + secs(s));
        }
        assert_eq!(state(&n, MAG_V4.into()), Some((NeighState::Failed, None)));
    }

    #[test]
    fn a_released_next_hop_ages_out_like_a_learned_one() {
        let mut n = neighbors();
        let t = Instant::now();
        reachable_v4(&mut n, t);
        n.resolve(0, MAG2_V4.into(), t);
        n.release(0, MAG_V4.into());
        n.release(0, MAG2_V4.into());
        assert!(n.poll(t + secs(30)).is_empty());
        assert_eq!(n.entries().count(), 1, "the unresolved one goes at once");
        n.poll(t + secs(60));
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn next_timeout_is_the_earliest_due_work() {
        let mut n = neighbors();
        let t = Instant::now();
        assert_eq!(n.next_timeout(), None);
        n.resolve(0, MAG_V4.into(), t);
        assert_eq!(n.next_timeout(), Some(t));
        n.poll(t);
        assert_eq!(n.next_timeout(), Some(t + secs(1)));
        let answer = arp_reply(MAG_MAC, MAG_V4, CORE_MAC, CORE_V4);
        n.handle_frame(0, &answer, t + secs(1) / 2);
        assert_eq!(n.next_timeout(), Some(t + secs(1) / 2 + secs(30)));
    }

    #[test]
    fn frames_stop_creating_entries_when_the_table_is_full() {
        let mut n = neighbors();
        let t = Instant::now();
        for i in 0..MAX_ENTRIES as u32 {
            let ip = core::net::Ipv4Addr::from(0x0a00_0000 + i);
            n.handle_frame(1, &arp_request(MAG_MAC, ip, HOME_V4), t);
        }
        assert_eq!(n.entries().count(), MAX_ENTRIES);
        n.handle_frame(0, &arp_request(MAG_MAC, MAG_V4, CORE_V4), t);
        assert_eq!(n.lookup(0, MAG_V4.into()), None);
        n.resolve(0, MAG_V4.into(), t);
        assert_eq!(n.entries().count(), MAX_ENTRIES + 1, "wanted next hops still get in");
    }
}
