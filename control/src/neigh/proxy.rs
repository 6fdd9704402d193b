//! Home-link presence: the home addresses the anchor answers for on a home
//! link while their mobile nodes are away (PROTOCOLS.md §8.7 "Home-link
//! duties", §11.2 item 8).
//!
//! * IPv4 (RFC 5944 §4.6): proxy ARP — an ARP Request for the address is
//!   answered with the port's MAC — after gratuitous ARPs (broadcast ARP
//!   Requests with sender and target protocol address the home address,
//!   sender hardware address our MAC), sent [`GARP_TRANSMISSIONS`] times
//!   one RetransTimer apart. Withdrawn: no longer answered, and when the
//!   mobile node's own MAC is known (a neighbour entry before the proxy
//!   began, or an ARP it sent since) the same gratuitous ARPs announce it.
//! * IPv6 (RFC 6275 §10.4.1, RFC 4862 §5.4): Duplicate Address Detection
//!   first — [`DUP_ADDR_DETECT_TRANSMITS`] NS from `::` to the address's
//!   solicited-node group, then one RetransTimer; an NA for the address,
//!   or a DAD NS for it from another node, in that time means it is in use:
//!   [`ProxyEvent::DadFailed`] and no proxy. Else [`ProxyEvent::DadSucceeded`],
//!   [`MAX_NEIGHBOR_ADVERTISEMENT`] unsolicited NAs to all-nodes (R = 0,
//!   S = 0, O = 1, our MAC as target link-layer address) and, from then on,
//!   NS for the address are answered as a proxy (RFC 4861 §7.2.4: R = 0,
//!   S = 1, O = 0; a DAD NS from another node gets S = 0 to all-nodes).
//!   Withdrawn: no longer answered (the returning mobile node announces
//!   itself, RFC 6275 §11.5.5).
//!
//! A proxied address is never a neighbour entry: it is neither learned from
//! frames nor resolved.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dataplane::addrs::PortAddrs;
use dataplane::wire::arp::{self, ArpRepr};
use dataplane::wire::icmpv6::NdRepr;
use dataplane::wire::{ipv6, MacAddr};

use super::emit::{self, L2};
use super::PortIndex;

/// Gratuitous ARPs per announcement: RFC 5944 §4.6 asks for "a small number
/// of" retransmissions (broadcast is unreliable).
pub const GARP_TRANSMISSIONS: u32 = 3;
/// Unsolicited NAs per announcement (RFC 4861 §10 MAX_NEIGHBOR_ADVERTISEMENT;
/// RFC 6275 §10.4.1 allows that many).
pub const MAX_NEIGHBOR_ADVERTISEMENT: u32 = 3;
/// DAD probes (RFC 4862 §5.1 DupAddrDetectTransmits default).
pub const DUP_ADDR_DETECT_TRANSMITS: u32 = 1;
/// Most addresses proxied at once (bounded memory, like the neighbour table).
pub const MAX_PROXIED: usize = 1 << 20;

/// Where a proxied address stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProxyState {
    /// IPv6: Duplicate Address Detection running; not answered yet.
    Tentative,
    /// Answered for.
    Active,
}

impl ProxyState {
    pub fn name(self) -> &'static str {
        match self {
            ProxyState::Tentative => "tentative",
            ProxyState::Active => "active",
        }
    }
}

/// One proxied address, as `show proxy` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyEntry {
    pub port: PortIndex,
    pub ip: IpAddr,
    pub state: ProxyState,
    /// When it was added.
    pub since: Instant,
    /// The mobile node's own MAC, when known (announced on withdrawal).
    pub own_mac: Option<MacAddr>,
    /// ARP replies / NAs sent for it in answer to a request.
    pub answered: u64,
}

/// What [`proxy_add`](super::Neighbors::proxy_add) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyAdded {
    /// IPv4: answered from now on; gratuitous ARPs go out from the next poll.
    Active,
    /// IPv6: DAD runs; its result comes as a [`ProxyEvent`].
    Tentative,
    /// Already proxied (or being checked): nothing changed, nothing sent.
    Already(ProxyState),
}

/// Why an address cannot be proxied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// The port index is not one of ours.
    #[error("no such port")]
    UnknownPort,
    /// The port is no home link, the address is not on its subnets, or it
    /// is one of our own addresses.
    #[error("not a home address on a home link of that port")]
    NotOnHomeLink,
    /// [`MAX_PROXIED`] addresses are proxied already.
    #[error("too many proxied addresses")]
    Full,
}

/// A result the control loop hands to the owner of a proxied IPv6 address
/// (see `take_proxy_events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyEvent {
    /// DAD found no other user: the address is proxied now (RFC 4862 §5.4).
    DadSucceeded { port: PortIndex, ip: Ipv6Addr },
    /// Another node uses the address (its NA, or its own DAD probe): not
    /// proxied (RFC 4862 §5.4.5; RFC 6275 §10.3.1 status 134).
    DadFailed { port: PortIndex, ip: Ipv6Addr, by: Option<MacAddr> },
}

/// Frames sent and answers given for proxied addresses (`show stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyCounters {
    /// ARP Replies sent for proxied IPv4 addresses.
    pub arp_replies: u64,
    /// Gratuitous ARPs sent (our MAC on add, the mobile node's on withdrawal).
    pub gratuitous_arps: u64,
    /// NAs sent in answer to an NS for a proxied IPv6 address.
    pub na_replies: u64,
    /// Unsolicited NAs to all-nodes after DAD.
    pub unsolicited_nas: u64,
    /// DAD probes (NS from ::) sent.
    pub dad_probes: u64,
    pub dad_succeeded: u64,
    pub dad_failed: u64,
    /// Proxies withdrawn.
    pub withdrawn: u64,
}

#[derive(Debug)]
struct Proxy {
    entry: ProxyEntry,
    /// Tentative: DAD probes still to send; Active: announcements still to send.
    left: u32,
    /// When the next probe or announcement (or the end of DAD) is due.
    next: Option<Instant>,
}

/// Gratuitous ARPs still to send for a withdrawn address, announcing the
/// mobile node's own MAC.
#[derive(Debug)]
struct Farewell {
    port: PortIndex,
    ip: Ipv4Addr,
    mac: MacAddr,
    left: u32,
    next: Instant,
}

/// Every proxied address of every port.
#[derive(Debug, Default)]
pub(super) struct ProxySet {
    entries: BTreeMap<(PortIndex, IpAddr), Proxy>,
    farewells: Vec<Farewell>,
    events: Vec<ProxyEvent>,
    pub counters: ProxyCounters,
}

impl ProxySet {
    /// Starts proxying `ip` on `port` (whose addresses are `addrs`); the
    /// mobile node's MAC, if the neighbour table knew it, is `own_mac`.
    pub fn add(
        &mut self,
        addrs: &PortAddrs,
        port: PortIndex,
        ip: IpAddr,
        own_mac: Option<MacAddr>,
        now: Instant,
    ) -> Result<ProxyAdded, ProxyError> {
        let on_link = match ip {
            IpAddr::V4(a) => addrs.on_home_link_v4(a),
            IpAddr::V6(a) => addrs.on_home_link_v6(a),
        };
        if !on_link {
            return Err(ProxyError::NotOnHomeLink);
        }
        if let Some(p) = self.entries.get(&(port, ip)) {
            return Ok(ProxyAdded::Already(p.entry.state));
        }
        if self.entries.len() >= MAX_PROXIED {
            return Err(ProxyError::Full);
        }
        // A withdrawal still announcing the mobile node's MAC ends.
        self.farewells.retain(|f| (f.port, IpAddr::V4(f.ip)) != (port, ip));
        let (state, left, added) = match ip {
            IpAddr::V4(_) => (ProxyState::Active, GARP_TRANSMISSIONS, ProxyAdded::Active),
            IpAddr::V6(_) => (ProxyState::Tentative, DUP_ADDR_DETECT_TRANSMITS, ProxyAdded::Tentative),
        };
        let entry = ProxyEntry { port, ip, state, since: now, own_mac, answered: 0 };
        self.entries.insert((port, ip), Proxy { entry, left, next: Some(now) });
        Ok(added)
    }

    /// Stops proxying; IPv4 with a known own MAC: gratuitous ARPs for it
    /// from the next poll. False when it was not proxied.
    pub fn remove(&mut self, port: PortIndex, ip: IpAddr, now: Instant) -> bool {
        let Some(p) = self.entries.remove(&(port, ip)) else { return false };
        self.counters.withdrawn += 1;
        if let (IpAddr::V4(ip), Some(mac)) = (ip, p.entry.own_mac) {
            self.farewells.push(Farewell { port, ip, mac, left: GARP_TRANSMISSIONS, next: now });
        }
        true
    }

    pub fn state(&self, port: PortIndex, ip: IpAddr) -> Option<ProxyState> {
        self.entries.get(&(port, ip)).map(|p| p.entry.state)
    }

    /// `ip` is answered for on `port` (proxied and past DAD).
    pub fn answers(&self, port: PortIndex, ip: IpAddr) -> bool {
        self.state(port, ip) == Some(ProxyState::Active)
    }

    /// `group` is the solicited-node group of an address proxied (or being
    /// checked) on `port`.
    pub fn has_solicited_group(&self, port: PortIndex, group: Ipv6Addr) -> bool {
        ipv6::is_solicited_node(group)
            && self
                .entries
                .range((port, IpAddr::V6(Ipv6Addr::UNSPECIFIED))..)
                .take_while(|((p, _), _)| *p == port)
                .any(|((_, ip), _)| matches!(ip, IpAddr::V6(a) if ipv6::solicited_node(*a) == group))
    }

    /// A frame from another node shows `mac` using proxied `ip` (the mobile
    /// node back home, or a conflict): remembered as its own MAC.
    pub fn seen_using(&mut self, port: PortIndex, ip: IpAddr, mac: MacAddr) {
        if let Some(p) = self.entries.get_mut(&(port, ip)) {
            p.entry.own_mac = Some(mac);
        }
    }

    /// An answer was sent for `ip`.
    pub fn answered(&mut self, port: PortIndex, ip: IpAddr) {
        if let Some(p) = self.entries.get_mut(&(port, ip)) {
            p.entry.answered += 1;
        }
        match ip {
            IpAddr::V4(_) => self.counters.arp_replies += 1,
            IpAddr::V6(_) => self.counters.na_replies += 1,
        }
    }

    /// DAD for tentative `ip` met another user (RFC 4862 §5.4.3, §5.4.4):
    /// dropped, and the owner told. False when `ip` was not tentative.
    pub fn duplicate(&mut self, port: PortIndex, ip: Ipv6Addr, by: Option<MacAddr>) -> bool {
        let key = (port, IpAddr::V6(ip));
        if self.state(port, key.1) != Some(ProxyState::Tentative) {
            return false;
        }
        self.entries.remove(&key);
        self.counters.dad_failed += 1;
        self.events.push(ProxyEvent::DadFailed { port, ip, by });
        true
    }

    pub fn take_events(&mut self) -> Vec<ProxyEvent> {
        std::mem::take(&mut self.events)
    }

    pub fn entries(&self) -> impl Iterator<Item = &ProxyEntry> {
        self.entries.values().map(|p| &p.entry)
    }

    /// The probes and announcements due by `now` (`retrans`: RetransTimer).
    pub fn poll(&mut self, ports: &[PortAddrs], retrans: Duration, now: Instant) -> Vec<(PortIndex, Vec<u8>)> {
        let mut out = Vec::new();
        for p in self.entries.values_mut() {
            if p.next.is_none_or(|t| t > now) {
                continue;
            }
            let Some(addrs) = ports.get(p.entry.port) else { continue };
            let port = p.entry.port;
            match (p.entry.state, p.entry.ip) {
                (ProxyState::Tentative, IpAddr::V6(ip)) if p.left > 0 => {
                    out.push((port, dad_probe(addrs, ip)));
                    self.counters.dad_probes += 1;
                    p.left -= 1;
                    p.next = now.checked_add(retrans);
                }
                (ProxyState::Tentative, IpAddr::V6(ip)) => {
                    // RetransTimer passed after the last probe, no conflict.
                    p.entry.state = ProxyState::Active;
                    self.counters.dad_succeeded += 1;
                    self.events.push(ProxyEvent::DadSucceeded { port, ip });
                    out.push((port, unsolicited_na(addrs, ip)));
                    self.counters.unsolicited_nas += 1;
                    p.left = MAX_NEIGHBOR_ADVERTISEMENT - 1;
                    p.next = if p.left > 0 { now.checked_add(retrans) } else { None };
                }
                (ProxyState::Active, ip) if p.left > 0 => {
                    match ip {
                        IpAddr::V4(ip) => {
                            out.push((port, gratuitous_arp(addrs, ip, addrs.mac)));
                            self.counters.gratuitous_arps += 1;
                        }
                        IpAddr::V6(ip) => {
                            out.push((port, unsolicited_na(addrs, ip)));
                            self.counters.unsolicited_nas += 1;
                        }
                    }
                    p.left -= 1;
                    p.next = if p.left > 0 { now.checked_add(retrans) } else { None };
                }
                _ => p.next = None,
            }
        }
        self.farewells.retain_mut(|f| {
            if f.next > now {
                return true;
            }
            let Some(addrs) = ports.get(f.port) else { return false };
            out.push((f.port, gratuitous_arp(addrs, f.ip, f.mac)));
            self.counters.gratuitous_arps += 1;
            f.left -= 1;
            match now.checked_add(retrans) {
                Some(next) if f.left > 0 => {
                    f.next = next;
                    true
                }
                _ => false,
            }
        });
        out
    }

    /// When [`poll`](Self::poll) next has work.
    pub fn next_timeout(&self) -> Option<Instant> {
        let proxies = self.entries.values().filter_map(|p| p.next);
        proxies.chain(self.farewells.iter().map(|f| f.next)).min()
    }
}

/// RFC 5944 §4.6: a broadcast ARP Request whose sender and target protocol
/// addresses are `ip` and whose sender hardware address is `mac`.
fn gratuitous_arp(addrs: &PortAddrs, ip: Ipv4Addr, mac: MacAddr) -> Vec<u8> {
    let l2 = L2 { dst: MacAddr::BROADCAST, src: addrs.mac, vlan_tci: None };
    let repr = ArpRepr { op: arp::OP_REQUEST, sender_hw: mac, sender_ip: ip, target_hw: MacAddr::ZERO, target_ip: ip };
    emit::arp(l2, &repr)
}

/// RFC 4862 §5.4.2: an NS for `ip` from the unspecified address to its
/// solicited-node group, without a source link-layer address option.
fn dad_probe(addrs: &PortAddrs, ip: Ipv6Addr) -> Vec<u8> {
    let group = ipv6::solicited_node(ip);
    let l2 = L2 { dst: MacAddr::ipv6_multicast(&group), src: addrs.mac, vlan_tci: None };
    emit::nd(l2, Ipv6Addr::UNSPECIFIED, group, &NdRepr::NeighborSolicit { target: ip, source_lladdr: None })
}

/// RFC 6275 §10.4.1: an NA for `ip` to all-nodes with R = 0, S = 0, O = 1
/// and our MAC as target link-layer address, from our address on the link.
fn unsolicited_na(addrs: &PortAddrs, ip: Ipv6Addr) -> Vec<u8> {
    let all = ipv6::ALL_NODES;
    let l2 = L2 { dst: MacAddr::ipv6_multicast(&all), src: addrs.mac, vlan_tci: None };
    let repr = NdRepr::NeighborAdvert {
        router: false,
        solicited: false,
        override_: true,
        target: ip,
        target_lladdr: Some(addrs.mac),
    };
    emit::nd(l2, addrs.source_v6_for(ip), all, &repr)
}

#[cfg(test)]
mod tests {
    use core::net::IpAddr;
    use std::time::{Duration, Instant};

    use dataplane::wire::arp::{self, ArpRepr};
    use dataplane::wire::ethernet::{self, ethertype};
    use dataplane::wire::icmpv6::{self, NdRepr};
    use dataplane::wire::ipv6;
    use dataplane::wire::MacAddr;

    use super::super::testutil::*;
    use super::super::{reason, Neighbors, Punted};
    use super::*;

    const HOME: usize = 1;
    const SEC: Duration = Duration::from_secs(1);

    fn v4() -> IpAddr {
        IpAddr::V4(HOA_V4)
    }

    fn v6() -> IpAddr {
        IpAddr::V6(HOA_V6)
    }

    /// The ARP in a frame from the home port's MAC, with its Ethernet destination.
    fn arp_of(frame: &[u8]) -> (MacAddr, ArpRepr) {
        let eth = ethernet::Frame::new_checked(frame).unwrap();
        assert_eq!(eth.src_addr(), HOME_MAC);
        assert_eq!(eth.ethertype(), ethertype::ARP);
        (eth.dst_addr(), ArpRepr::parse(&arp::Packet::new_checked(eth.payload()).unwrap()).unwrap())
    }

    /// The ND message in a frame from the home port: (Ethernet dst, IP src,
    /// IP dst, message); hop limit and checksum checked.
    fn nd_of(frame: &[u8]) -> (MacAddr, Ipv6Addr, Ipv6Addr, NdRepr) {
        let eth = ethernet::Frame::new_checked(frame).unwrap();
        assert_eq!(eth.src_addr(), HOME_MAC);
        let ip = ipv6::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(ip.hop_limit(), 255);
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(ip.src_addr(), ip.dst_addr()));
        (eth.dst_addr(), ip.src_addr(), ip.dst_addr(), NdRepr::parse(&icmp).unwrap())
    }

    fn gratuitous(sender_hw: MacAddr) -> ArpRepr {
        ArpRepr { op: arp::OP_REQUEST, sender_hw, sender_ip: HOA_V4, target_hw: MacAddr::ZERO, target_ip: HOA_V4 }
    }

    /// Polls at `t` and returns the frames, all of which must be for the home port.
    fn poll(n: &mut Neighbors, t: Instant) -> Vec<Vec<u8>> {
        n.poll(t)
            .into_iter()
            .map(|(port, f)| {
                assert_eq!(port, HOME);
                f
            })
            .collect()
    }

    /// A home link with `HOA_V6` proxied and past DAD.
    fn v6_active(t: Instant) -> Neighbors {
        let mut n = home_link_neighbors();
        n.proxy_add(HOME, v6(), t).unwrap();
        poll(&mut n, t);
        poll(&mut n, t + SEC);
        assert_eq!(n.take_proxy_events(), vec![ProxyEvent::DadSucceeded { port: HOME, ip: HOA_V6 }]);
        n
    }

    // ---- IPv4: proxy ARP and gratuitous ARP (RFC 5944 §4.6) ----

    #[test]
    fn an_ipv4_home_address_is_announced_by_three_broadcast_gratuitous_arps_one_retrans_timer_apart() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        assert_eq!(n.proxy_add(HOME, v4(), t), Ok(ProxyAdded::Active));
        for i in 0..GARP_TRANSMISSIONS {
            let at = t + SEC * i;
            assert_eq!(n.next_timeout(), Some(at));
            let frames = poll(&mut n, at);
            assert_eq!(frames.len(), 1, "one gratuitous ARP at +{i} s");
            assert_eq!(arp_of(&frames[0]), (MacAddr::BROADCAST, gratuitous(HOME_MAC)));
            assert!(poll(&mut n, at).is_empty(), "nothing more until the next RetransTimer");
        }
        assert!(poll(&mut n, t + SEC * 10).is_empty());
        assert_eq!(n.next_timeout(), None);
        assert_eq!(n.proxy_counters().gratuitous_arps, 3);
    }

    #[test]
    fn an_arp_request_for_a_proxied_address_is_answered_with_our_mac() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v4(), t).unwrap();
        let f = reply(n.handle_frame(HOME, &arp_request(CN_MAC, CN_V4, HOA_V4), t));
        let (dst, answer) = arp_of(&f);
        assert_eq!(dst, CN_MAC);
        assert_eq!(
            answer,
            ArpRepr { op: arp::OP_REPLY, sender_hw: HOME_MAC, sender_ip: HOA_V4, target_hw: CN_MAC, target_ip: CN_V4 }
        );
        assert_eq!(n.proxy_counters().arp_replies, 1);
        assert_eq!(n.proxies().next().map(|e| e.answered), Some(1));
    }

    #[test]
    fn arp_for_a_home_link_address_that_is_not_proxied_is_not_answered() {
        let mut n = home_link_neighbors();
        let got = n.handle_frame(HOME, &arp_request(CN_MAC, CN_V4, HOA_V4), Instant::now());
        assert_eq!(got, Punted::Ignored(reason::ARP_NOT_FOR_US));
    }

    #[test]
    fn after_withdrawal_arp_for_the_address_goes_unanswered_and_nothing_is_announced_without_its_own_mac() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v4(), t).unwrap();
        assert!(n.proxy_remove(HOME, v4(), t));
        assert!(!n.proxy_remove(HOME, v4(), t), "removed once");
        let got = n.handle_frame(HOME, &arp_request(CN_MAC, CN_V4, HOA_V4), t);
        assert_eq!(got, Punted::Ignored(reason::ARP_NOT_FOR_US));
        assert!(poll(&mut n, t + SEC * 5).is_empty(), "no announcement left, none for an unknown MAC");
        assert_eq!(n.proxies().count(), 0);
        assert_eq!(n.proxy_counters().withdrawn, 1);
    }

    #[test]
    fn withdrawal_announces_the_mobile_nodes_own_mac_learned_before_the_proxy_began() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        // The mobile node at home asked for our address: a neighbour entry.
        reply(n.handle_frame(HOME, &arp_request(MN_MAC, HOA_V4, HOME_V4), t));
        assert_eq!(n.lookup(HOME, v4()), Some(MN_MAC));
        n.proxy_add(HOME, v4(), t).unwrap();
        assert_eq!(n.lookup(HOME, v4()), None, "a proxied address is no neighbour entry");
        assert_eq!(n.proxies().next().and_then(|e| e.own_mac), Some(MN_MAC));
        poll(&mut n, t + SEC * 5);
        let later = t + SEC * 10;
        n.proxy_remove(HOME, v4(), later);
        for i in 0..GARP_TRANSMISSIONS {
            let frames = poll(&mut n, later + SEC * i);
            assert_eq!(frames.len(), 1);
            assert_eq!(arp_of(&frames[0]), (MacAddr::BROADCAST, gratuitous(MN_MAC)));
        }
        assert!(poll(&mut n, later + SEC * 10).is_empty());
    }

    #[test]
    fn a_gratuitous_arp_from_the_mobile_node_is_not_answered_and_tells_its_mac_without_learning_it() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v4(), t).unwrap();
        let garp = arp_request(MN_MAC, HOA_V4, HOA_V4);
        assert_eq!(n.handle_frame(HOME, &garp, t), Punted::Ignored(reason::PROXIED_SENDER));
        assert_eq!(n.proxies().next().and_then(|e| e.own_mac), Some(MN_MAC));
        assert_eq!(n.entries().count(), 0);
        // Back home, it asks for our address: answered, still not learned.
        reply(n.handle_frame(HOME, &arp_request(MN_MAC, HOA_V4, HOME_V4), t));
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn our_own_gratuitous_arp_looped_back_is_ignored() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v4(), t).unwrap();
        let ours = poll(&mut n, t).remove(0);
        assert_eq!(n.handle_frame(HOME, &ours, t), Punted::Ignored(reason::OWN_FRAME));
        assert_eq!(n.proxies().next().and_then(|e| e.own_mac), None);
    }

    #[test]
    fn a_proxied_address_is_never_resolved() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v4(), t).unwrap();
        assert_eq!(n.resolve(HOME, v4(), t), None);
        assert_eq!(n.entries().count(), 0);
        n.proxy_remove(HOME, v4(), t);
        n.resolve(HOME, v4(), t);
        assert_eq!(n.entries().count(), 1, "resolved normally once withdrawn");
    }

    #[test]
    fn only_home_addresses_on_a_home_link_can_be_proxied() {
        let t = Instant::now();
        let mut n = home_link_neighbors();
        assert_eq!(n.proxy_add(7, v4(), t), Err(ProxyError::UnknownPort));
        assert_eq!(n.proxy_add(0, IpAddr::V4(MAG2_V4), t), Err(ProxyError::NotOnHomeLink), "core port");
        assert_eq!(n.proxy_add(HOME, IpAddr::V4(HOME_V4), t), Err(ProxyError::NotOnHomeLink), "ours");
        assert_eq!(n.proxy_add(HOME, IpAddr::V6(HOME_V6), t), Err(ProxyError::NotOnHomeLink), "ours");
        assert_eq!(n.proxy_add(HOME, "203.0.113.7".parse().unwrap(), t), Err(ProxyError::NotOnHomeLink), "off link");
        let mut plain = neighbors();
        assert_eq!(plain.proxy_add(HOME, v4(), t), Err(ProxyError::NotOnHomeLink), "not a home link");
        assert_eq!(n.proxies().count() + plain.proxies().count(), 0);
    }

    #[test]
    fn adding_a_proxied_address_again_changes_nothing_and_announces_nothing_more() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v4(), t).unwrap();
        for i in 0..GARP_TRANSMISSIONS {
            poll(&mut n, t + SEC * i);
        }
        assert_eq!(n.proxy_add(HOME, v4(), t + SEC * 5), Ok(ProxyAdded::Already(ProxyState::Active)));
        assert!(poll(&mut n, t + SEC * 6).is_empty());
        assert_eq!(n.proxies().next().map(|e| e.since), Some(t));
    }

    // ---- IPv6: DAD (RFC 4862 §5.4) and proxy ND (RFC 6275 §10.4.1) ----

    #[test]
    fn an_ipv6_home_address_gets_a_dad_probe_from_the_unspecified_address_to_its_solicited_node_group() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        assert_eq!(n.proxy_add(HOME, v6(), t), Ok(ProxyAdded::Tentative));
        let frames = poll(&mut n, t);
        assert_eq!(frames.len(), 1);
        let group = solicited(HOA_V6);
        assert_eq!(
            nd_of(&frames[0]),
            (
                MacAddr::ipv6_multicast(&group),
                Ipv6Addr::UNSPECIFIED,
                group,
                NdRepr::NeighborSolicit { target: HOA_V6, source_lladdr: None }
            )
        );
        assert_eq!(n.proxies().next().map(|e| e.state), Some(ProxyState::Tentative));
        assert!(n.take_proxy_events().is_empty());
        // Not answered while tentative.
        let req = ns(CN_MAC, CN_V6, group, HOA_V6, Some(CN_MAC));
        assert_eq!(n.handle_frame(HOME, &req, t), Punted::Ignored(reason::PROXY_TENTATIVE));
    }

    #[test]
    fn dad_without_conflict_for_one_retrans_timer_succeeds_and_three_unsolicited_nas_follow() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v6(), t).unwrap();
        poll(&mut n, t);
        assert!(poll(&mut n, t + SEC / 2).is_empty(), "still waiting");
        assert!(n.take_proxy_events().is_empty());
        let all = ipv6::ALL_NODES;
        let unsolicited = (
            MacAddr::ipv6_multicast(&all),
            HOME_V6,
            all,
            NdRepr::NeighborAdvert {
                router: false,
                solicited: false,
                override_: true,
                target: HOA_V6,
                target_lladdr: Some(HOME_MAC),
            },
        );
        for i in 1..=MAX_NEIGHBOR_ADVERTISEMENT {
            let frames = poll(&mut n, t + SEC * i);
            assert_eq!(frames.len(), 1, "one NA at +{i} s");
            assert_eq!(nd_of(&frames[0]), unsolicited);
        }
        assert_eq!(n.take_proxy_events(), vec![ProxyEvent::DadSucceeded { port: HOME, ip: HOA_V6 }]);
        assert!(poll(&mut n, t + SEC * 10).is_empty());
        let c = n.proxy_counters();
        assert_eq!((c.dad_probes, c.dad_succeeded, c.unsolicited_nas), (1, 1, 3));
    }

    #[test]
    fn an_ns_for_a_proxied_ipv6_address_gets_a_proxy_na_without_router_and_override_flags() {
        let t = Instant::now();
        let mut n = v6_active(t);
        let req = ns(CN_MAC, CN_V6, solicited(HOA_V6), HOA_V6, Some(CN_MAC));
        let f = reply(n.handle_frame(HOME, &req, t));
        assert_eq!(
            nd_of(&f),
            (
                CN_MAC,
                HOME_V6,
                CN_V6,
                NdRepr::NeighborAdvert {
                    router: false,
                    solicited: true,
                    override_: false,
                    target: HOA_V6,
                    target_lladdr: Some(HOME_MAC),
                }
            )
        );
        assert_eq!(n.proxy_counters().na_replies, 1);
        assert_eq!(n.lookup(HOME, IpAddr::V6(CN_V6)), Some(CN_MAC), "the solicitor is learned (RFC 4861 §7.2.3)");
    }

    #[test]
    fn a_dad_probe_from_another_node_for_a_proxied_address_is_defended_to_all_nodes() {
        let t = Instant::now();
        let mut n = v6_active(t);
        let probe = ns(OTHER_MAC, UNSPEC_V6, solicited(HOA_V6), HOA_V6, None);
        let (dst_mac, _, dst, na) = nd_of(&reply(n.handle_frame(HOME, &probe, t)));
        assert_eq!((dst_mac, dst), (MacAddr::ipv6_multicast(&ipv6::ALL_NODES), ipv6::ALL_NODES));
        assert!(
            matches!(na, NdRepr::NeighborAdvert { solicited: false, router: false, target, .. } if target == HOA_V6)
        );
    }

    #[test]
    fn an_na_for_the_address_during_dad_is_a_duplicate_and_it_is_not_proxied() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v6(), t).unwrap();
        poll(&mut n, t);
        let adv = na(MN_MAC, HOA_V6, ipv6::ALL_NODES, HOA_V6, false, true, Some(MN_MAC));
        assert_eq!(n.handle_frame(HOME, &adv, t), Punted::Ignored(reason::DAD_CONFLICT));
        assert_eq!(n.take_proxy_events(), vec![ProxyEvent::DadFailed { port: HOME, ip: HOA_V6, by: Some(MN_MAC) }]);
        assert_eq!(n.proxies().count(), 0);
        assert!(poll(&mut n, t + SEC * 2).is_empty(), "no advertisement");
        let req = ns(CN_MAC, CN_V6, solicited(HOA_V6), HOA_V6, Some(CN_MAC));
        assert_eq!(n.handle_frame(HOME, &req, t), Punted::Ignored(reason::NOT_FOR_US));
        assert_eq!(n.proxy_counters().dad_failed, 1);
    }

    #[test]
    fn a_dad_probe_from_another_node_during_our_dad_is_a_duplicate() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v6(), t).unwrap();
        poll(&mut n, t);
        let probe = ns(OTHER_MAC, UNSPEC_V6, solicited(HOA_V6), HOA_V6, None);
        assert_eq!(n.handle_frame(HOME, &probe, t), Punted::Ignored(reason::DAD_CONFLICT));
        assert_eq!(n.take_proxy_events(), vec![ProxyEvent::DadFailed { port: HOME, ip: HOA_V6, by: Some(OTHER_MAC) }]);
    }

    #[test]
    fn our_own_dad_probe_looped_back_is_no_conflict() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v6(), t).unwrap();
        let ours = poll(&mut n, t).remove(0);
        assert_eq!(n.handle_frame(HOME, &ours, t), Punted::Ignored(reason::OWN_FRAME));
        poll(&mut n, t + SEC);
        assert_eq!(n.take_proxy_events(), vec![ProxyEvent::DadSucceeded { port: HOME, ip: HOA_V6 }]);
    }

    #[test]
    fn withdrawing_an_address_under_dad_abandons_it_without_an_event() {
        let mut n = home_link_neighbors();
        let t = Instant::now();
        n.proxy_add(HOME, v6(), t).unwrap();
        poll(&mut n, t);
        assert!(n.proxy_remove(HOME, v6(), t));
        assert!(poll(&mut n, t + SEC * 3).is_empty());
        assert!(n.take_proxy_events().is_empty());
    }

    #[test]
    fn an_na_from_the_mobile_node_for_a_proxied_address_tells_its_mac_and_is_not_learned() {
        let t = Instant::now();
        let mut n = v6_active(t);
        let adv = na(MN_MAC, HOA_V6, ipv6::ALL_NODES, HOA_V6, false, true, Some(MN_MAC));
        assert_eq!(n.handle_frame(HOME, &adv, t), Punted::Ignored(reason::PROXIED_TARGET));
        assert_eq!(n.proxies().next().and_then(|e| e.own_mac), Some(MN_MAC));
        assert_eq!(n.entries().count(), 0);
        assert!(n.take_proxy_events().is_empty(), "no DAD running: no event");
    }

    #[test]
    fn an_ns_for_an_unproxied_address_of_the_home_link_is_not_answered() {
        let t = Instant::now();
        let mut n = v6_active(t);
        let other: Ipv6Addr = "2001:db8:2::131".parse().unwrap();
        let req = ns(CN_MAC, CN_V6, solicited(other), other, Some(CN_MAC));
        assert_eq!(n.handle_frame(HOME, &req, t), Punted::Ignored(reason::NOT_FOR_US));
        let req = ns(CN_MAC, CN_V6, solicited(HOA_V6), other, Some(CN_MAC));
        assert_eq!(n.handle_frame(HOME, &req, t), Punted::Ignored(reason::ND_TARGET_NOT_OURS));
    }
}
