//! Answers for the anchor's own addresses and learning from punted frames:
//! one function per message, each validating as its RFC section says.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use dataplane::addrs::PortAddrs;
use dataplane::wire::arp::{self, ArpRepr};
use dataplane::wire::ethernet::{self, ethertype};
use dataplane::wire::icmpv6::{self, NdRepr};
use dataplane::wire::ipv4::{self, protocol, Ipv4Repr};
use dataplane::wire::ipv6::{self, Ipv6Repr};
use dataplane::wire::{icmpv4, MacAddr, WireError};

use super::emit::{self, L2};
use super::proxy::{ProxySet, ProxyState};
use super::table::NeighTable;
use super::{reason, PortIndex, Punted};

/// Hop limit / TTL of our echo replies.
const ECHO_HOP_LIMIT: u8 = 64;

/// Where a punted frame came from, and how to answer it.
struct Rx<'a> {
    addrs: &'a PortAddrs,
    port: PortIndex,
    now: Instant,
    eth_src: MacAddr,
    vlan_tci: Option<u16>,
}

impl Rx<'_> {
    /// Back to the sender's MAC, from ours, on the request's VLAN.
    fn reply_l2(&self) -> L2 {
        self.l2_to(self.eth_src)
    }

    fn l2_to(&self, dst: MacAddr) -> L2 {
        L2 { dst, src: self.addrs.mac, vlan_tci: self.vlan_tci }
    }
}

fn is_unicast_mac(mac: MacAddr) -> bool {
    !mac.is_multicast() && mac != MacAddr::ZERO
}

/// A source an IPv4 host may use: not unspecified, group, broadcast or loopback.
fn is_unicast_v4(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback())
}

pub(super) fn handle(
    addrs: &PortAddrs,
    port: PortIndex,
    table: &mut NeighTable,
    proxies: &mut ProxySet,
    frame: &[u8],
    now: Instant,
) -> Punted {
    let eth = match ethernet::Frame::new_checked(frame) {
        Ok(eth) => eth,
        Err(WireError::Unsupported) => return Punted::Ignored(reason::STACKED_VLAN),
        Err(_) => return Punted::Ignored(reason::BAD_ETHERNET),
    };
    let (dst_mac, src_mac) = (eth.dst_addr(), eth.src_addr());
    if src_mac.is_multicast() {
        return Punted::Ignored(reason::MULTICAST_SOURCE_MAC);
    }
    if !dst_mac.is_multicast() && dst_mac != addrs.mac {
        return Punted::Ignored(reason::NOT_OUR_MAC);
    }
    let rx = Rx { addrs, port, now, eth_src: src_mac, vlan_tci: eth.vlan_tci() };
    match eth.ethertype() {
        ethertype::ARP => arp(&rx, table, proxies, eth.payload()),
        ethertype::IPV4 => ipv4(&rx, eth.payload()),
        ethertype::IPV6 => ipv6(&rx, table, proxies, eth.payload()),
        _ => Punted::Ignored(reason::UNHANDLED_ETHERTYPE),
    }
}

/// RFC 826 "Packet Reception": merge the sender into an entry we hold; if
/// we are the target, add it and answer a request. A request for a home
/// address we proxy is answered the same way (RFC 5944 §4.6), except a
/// gratuitous one; a proxied address is never learned: a frame using it
/// tells the mobile node's own MAC.
fn arp(rx: &Rx<'_>, table: &mut NeighTable, proxies: &mut ProxySet, payload: &[u8]) -> Punted {
    let Ok(request) = arp::Packet::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) else {
        return Punted::Ignored(reason::BAD_ARP);
    };
    if !is_unicast_mac(request.sender_hw) {
        return Punted::Ignored(reason::ARP_BAD_SENDER);
    }
    if request.sender_hw == rx.addrs.mac {
        return Punted::Ignored(reason::OWN_FRAME);
    }
    if rx.addrs.is_local_v4(request.sender_ip) {
        return Punted::Ignored(reason::ADDRESS_CONFLICT);
    }
    let sender = IpAddr::V4(request.sender_ip);
    let proxied_sender = proxies.state(rx.port, sender).is_some();
    if proxied_sender {
        proxies.seen_using(rx.port, sender, request.sender_hw);
    }
    let for_us = rx.addrs.is_local_v4(request.target_ip);
    let target = IpAddr::V4(request.target_ip);
    let proxied = !for_us && request.sender_ip != request.target_ip && proxies.answers(rx.port, target);
    // An ARP probe (RFC 5227, sender 0.0.0.0) teaches nothing.
    let learned = !proxied_sender
        && is_unicast_v4(request.sender_ip)
        && table.arp_from(rx.port, sender, request.sender_hw, for_us, rx.now);
    if (for_us || proxied) && request.op == arp::OP_REQUEST {
        if proxied {
            proxies.answered(rx.port, target);
        }
        let answer = ArpRepr {
            op: arp::OP_REPLY,
            sender_hw: rx.addrs.mac,
            sender_ip: request.target_ip,
            target_hw: request.sender_hw,
            target_ip: request.sender_ip,
        };
        return Punted::Reply(emit::arp(rx.reply_l2(), &answer));
    }
    if learned {
        Punted::Learned
    } else if proxied_sender {
        Punted::Ignored(reason::PROXIED_SENDER)
    } else {
        Punted::Ignored(reason::ARP_NOT_FOR_US)
    }
}

/// ICMP echo to one of our IPv4 addresses (RFC 792, RFC 1122 §3.2.2.6).
fn ipv4(rx: &Rx<'_>, payload: &[u8]) -> Punted {
    let Ok(ip) = ipv4::Packet::new_checked(payload) else {
        return Punted::Ignored(reason::BAD_IPV4);
    };
    if !ip.verify_checksum() {
        return Punted::Ignored(reason::BAD_IPV4_CHECKSUM);
    }
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    if !rx.addrs.is_local_v4(dst) {
        return Punted::Ignored(reason::NOT_FOR_US);
    }
    if ip.is_fragment() {
        return Punted::Ignored(reason::IPV4_FRAGMENT);
    }
    if ip.protocol() != protocol::ICMP {
        return Punted::Ignored(reason::UNHANDLED_PROTOCOL);
    }
    if !is_unicast_v4(src) || rx.addrs.is_local_v4(src) {
        return Punted::Ignored(reason::BAD_SOURCE);
    }
    let request = ip.payload();
    let Ok(icmp) = icmpv4::Packet::new_checked(request) else {
        return Punted::Ignored(reason::BAD_ICMP);
    };
    if !icmp.verify_checksum() {
        return Punted::Ignored(reason::BAD_ICMP_CHECKSUM);
    }
    if icmp.msg_type() != icmpv4::TYPE_ECHO_REQUEST || icmp.code() != 0 {
        return Punted::Ignored(reason::UNHANDLED_ICMP);
    }
    let answer = Ipv4Repr {
        src: dst,
        dst: src,
        protocol: protocol::ICMP,
        ttl: ECHO_HOP_LIMIT,
        // Keep the DSCP, not the ECN bits of the request.
        tos: ip.dscp_ecn() & 0xfc,
        payload_len: request.len(),
    };
    Punted::Reply(emit::icmpv4(rx.reply_l2(), &answer, |body| {
        body.copy_from_slice(request);
        icmpv4::Packet::new_unchecked(body).set_msg_type(icmpv4::TYPE_ECHO_REPLY);
    }))
}

fn ipv6(rx: &Rx<'_>, table: &mut NeighTable, proxies: &mut ProxySet, payload: &[u8]) -> Punted {
    let Ok(ip) = ipv6::Packet::new_checked(payload) else {
        return Punted::Ignored(reason::BAD_IPV6);
    };
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    if !rx.addrs.is_local_v6(dst) && !rx.addrs.is_our_multicast_v6(dst) && !proxies.has_solicited_group(rx.port, dst) {
        return Punted::Ignored(reason::NOT_FOR_US);
    }
    if ip.next_header() != protocol::ICMPV6 {
        return Punted::Ignored(reason::UNHANDLED_PROTOCOL);
    }
    let Ok(icmp) = icmpv6::Packet::new_checked(ip.payload()) else {
        return Punted::Ignored(reason::BAD_ICMPV6);
    };
    if !icmp.verify_checksum(src, dst) {
        return Punted::Ignored(reason::BAD_ICMPV6_CHECKSUM);
    }
    let hop_limit = ip.hop_limit();
    match icmp.msg_type() {
        icmpv6::TYPE_ECHO_REQUEST => echo6(rx, src, dst, ip.payload()),
        icmpv6::TYPE_NEIGHBOR_SOLICIT | icmpv6::TYPE_NEIGHBOR_ADVERT if rx.eth_src == rx.addrs.mac => {
            Punted::Ignored(reason::OWN_FRAME)
        }
        icmpv6::TYPE_NEIGHBOR_SOLICIT => solicit(rx, table, proxies, src, dst, hop_limit, &icmp),
        icmpv6::TYPE_NEIGHBOR_ADVERT => advert(rx, table, proxies, dst, hop_limit, &icmp),
        _ => Punted::Ignored(reason::UNHANDLED_ICMPV6),
    }
}

/// ICMPv6 echo to one of our unicast addresses (RFC 4443 §4.2).
fn echo6(rx: &Rx<'_>, src: Ipv6Addr, dst: Ipv6Addr, request: &[u8]) -> Punted {
    if !rx.addrs.is_local_v6(dst) {
        return Punted::Ignored(reason::NOT_FOR_US);
    }
    if src.is_unspecified() || src.is_multicast() || rx.addrs.is_local_v6(src) {
        return Punted::Ignored(reason::BAD_SOURCE);
    }
    // The checked view holds at least 8 bytes for echo; only the code is left.
    if request.get(1) != Some(&0) {
        return Punted::Ignored(reason::UNHANDLED_ICMPV6);
    }
    let answer = Ipv6Repr {
        src: dst,
        dst: src,
        next_header: protocol::ICMPV6,
        hop_limit: ECHO_HOP_LIMIT,
        payload_len: request.len(),
    };
    Punted::Reply(emit::icmpv6(rx.reply_l2(), &answer, |body| {
        body.copy_from_slice(request);
        icmpv6::Packet::new_unchecked(body).set_msg_type(icmpv6::TYPE_ECHO_REPLY);
    }))
}

/// Neighbor Solicitation: validate (RFC 4861 §7.1.1), learn the source's
/// link-layer address (§7.2.3), answer with an NA (§7.2.4) — also for a
/// home address we proxy (RFC 6275 §10.4.1: R = 0, and as a proxy O = 0).
/// A DAD probe from another node for an address under our DAD is a
/// duplicate (RFC 4862 §5.4.3).
#[allow(clippy::too_many_arguments)]
fn solicit(
    rx: &Rx<'_>,
    table: &mut NeighTable,
    proxies: &mut ProxySet,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    icmp: &icmpv6::Packet<&[u8]>,
) -> Punted {
    if hop_limit != emit::ND_HOP_LIMIT {
        return Punted::Ignored(reason::ND_HOP_LIMIT);
    }
    let Ok(NdRepr::NeighborSolicit { target, source_lladdr }) = NdRepr::parse(icmp) else {
        return Punted::Ignored(reason::BAD_ND);
    };
    if target.is_multicast() || source_lladdr.is_some_and(|m| !is_unicast_mac(m)) {
        return Punted::Ignored(reason::BAD_ND);
    }
    let proxy = if rx.addrs.is_local_v6(target) {
        None
    } else {
        match proxies.state(rx.port, IpAddr::V6(target)) {
            None => return Punted::Ignored(reason::ND_TARGET_NOT_OURS),
            Some(ProxyState::Tentative) => {
                if src.is_unspecified() && ipv6::is_solicited_node(dst) && source_lladdr.is_none() {
                    proxies.duplicate(rx.port, target, Some(rx.eth_src));
                    return Punted::Ignored(reason::DAD_CONFLICT);
                }
                return Punted::Ignored(reason::PROXY_TENTATIVE);
            }
            Some(ProxyState::Active) => Some(()),
        }
    };
    let (to, l2, solicited) = if src.is_unspecified() {
        // DAD probe (§7.1.1: to a solicited-node group, without SLLA);
        // §7.2.4: answer all-nodes with S=0.
        if !ipv6::is_solicited_node(dst) || source_lladdr.is_some() {
            return Punted::Ignored(reason::BAD_ND);
        }
        let all = ipv6::ALL_NODES;
        (all, rx.l2_to(MacAddr::ipv6_multicast(&all)), false)
    } else {
        if src.is_multicast() || rx.addrs.is_local_v6(src) {
            return Punted::Ignored(reason::BAD_SOURCE);
        }
        if let Some(mac) = source_lladdr {
            if proxies.state(rx.port, IpAddr::V6(src)).is_some() {
                proxies.seen_using(rx.port, IpAddr::V6(src), mac);
            } else {
                table.solicited_by(rx.port, IpAddr::V6(src), mac, rx.now);
            }
        }
        (src, rx.reply_l2(), true)
    };
    if proxy.is_some() {
        proxies.answered(rx.port, IpAddr::V6(target));
        let answer = NdRepr::NeighborAdvert {
            // On behalf of a mobile node, a host (RFC 6275 §10.4.1).
            router: false,
            solicited,
            // A proxy's answer does not override the node's own (§7.2.4).
            override_: false,
            target,
            target_lladdr: Some(rx.addrs.mac),
        };
        return Punted::Reply(emit::nd(l2, rx.addrs.source_v6_for(to), to, &answer));
    }
    let answer = NdRepr::NeighborAdvert {
        // We forward packets: IsRouter (§6.2.1, §7.2.4).
        router: true,
        solicited,
        // Our addresses are not anycast: override (§7.2.4).
        override_: true,
        target,
        target_lladdr: Some(rx.addrs.mac),
    };
    Punted::Reply(emit::nd(l2, target, to, &answer))
}

/// Neighbor Advertisement: validate (RFC 4861 §7.1.2), update the entry we
/// hold for the target (§7.2.5). For an address under our DAD it is a
/// duplicate (RFC 4862 §5.4.4); for one we proxy, the mobile node's own MAC.
fn advert(
    rx: &Rx<'_>,
    table: &mut NeighTable,
    proxies: &mut ProxySet,
    dst: Ipv6Addr,
    hop_limit: u8,
    icmp: &icmpv6::Packet<&[u8]>,
) -> Punted {
    if hop_limit != emit::ND_HOP_LIMIT {
        return Punted::Ignored(reason::ND_HOP_LIMIT);
    }
    let Ok(NdRepr::NeighborAdvert { solicited, override_, target, target_lladdr, .. }) = NdRepr::parse(icmp) else {
        return Punted::Ignored(reason::BAD_ND);
    };
    if target.is_multicast() || (dst.is_multicast() && solicited) || target_lladdr.is_some_and(|m| !is_unicast_mac(m)) {
        return Punted::Ignored(reason::BAD_ND);
    }
    if rx.addrs.is_local_v6(target) {
        return Punted::Ignored(reason::ADDRESS_CONFLICT);
    }
    match proxies.state(rx.port, IpAddr::V6(target)) {
        Some(ProxyState::Tentative) => {
            proxies.duplicate(rx.port, target, target_lladdr.or(Some(rx.eth_src)));
            return Punted::Ignored(reason::DAD_CONFLICT);
        }
        Some(ProxyState::Active) => {
            proxies.seen_using(rx.port, IpAddr::V6(target), target_lladdr.unwrap_or(rx.eth_src));
            return Punted::Ignored(reason::PROXIED_TARGET);
        }
        None => {}
    }
    match table.advertised(rx.port, IpAddr::V6(target), solicited, override_, target_lladdr, rx.now) {
        Ok(()) => Punted::Learned,
        Err(why) => Punted::Ignored(why),
    }
}

#[cfg(test)]
mod tests {
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::time::Instant;

    use dataplane::wire::arp::{self, ArpRepr};
    use dataplane::wire::ethernet::{self, ethertype};
    use dataplane::wire::icmpv6::{self, NdRepr};
    use dataplane::wire::ipv4::{self, protocol};
    use dataplane::wire::ipv6;
    use dataplane::wire::{icmpv4, MacAddr};

    use super::super::testutil::*;
    use super::super::{reason, NeighState, Neighbors, Punted};

    fn now() -> Instant {
        Instant::now()
    }

    fn state(n: &Neighbors, ip: IpAddr) -> Option<(NeighState, Option<MacAddr>)> {
        n.entries().find(|e| e.port == 0 && e.ip == ip).map(|e| (e.state, e.mac))
    }

    /// Checks an NA frame from our core port and returns its NdRepr.
    fn parse_na(frame: &[u8], eth_dst: MacAddr, ip_src: Ipv6Addr, ip_dst: Ipv6Addr) -> NdRepr {
        let eth = ethernet::Frame::new_checked(frame).unwrap();
        assert_eq!(eth.dst_addr(), eth_dst);
        assert_eq!(eth.src_addr(), CORE_MAC);
        assert_eq!(eth.ethertype(), ethertype::IPV6);
        let ip = ipv6::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(ip.payload().len(), eth.payload().len() - 40, "no trailing bytes");
        assert_eq!(ip.src_addr(), ip_src);
        assert_eq!(ip.dst_addr(), ip_dst);
        assert_eq!(ip.hop_limit(), 255);
        assert_eq!(ip.next_header(), protocol::ICMPV6);
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(ip_src, ip_dst));
        NdRepr::parse(&icmp).unwrap()
    }

    // ---- ARP (RFC 826) ----

    #[test]
    fn arp_request_for_our_address_gets_a_reply_from_our_mac_to_the_sender() {
        let mut n = neighbors();
        let f = reply(n.handle_frame(0, &arp_request(MAG_MAC, MAG_V4, CORE_V4), now()));
        assert_eq!(f.len(), 42);
        let eth = ethernet::Frame::new_checked(&f[..]).unwrap();
        assert_eq!(eth.dst_addr(), MAG_MAC);
        assert_eq!(eth.src_addr(), CORE_MAC);
        assert_eq!(eth.ethertype(), ethertype::ARP);
        let p = arp::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(
            ArpRepr::parse(&p).unwrap(),
            ArpRepr {
                op: arp::OP_REPLY,
                sender_hw: CORE_MAC,
                sender_ip: CORE_V4,
                target_hw: MAG_MAC,
                target_ip: MAG_V4,
            }
        );
    }

    #[test]
    fn arp_request_for_our_address_learns_the_sender_as_reachable() {
        let mut n = neighbors();
        n.handle_frame(0, &arp_request(MAG_MAC, MAG_V4, CORE_V4), now());
        assert_eq!(state(&n, MAG_V4.into()), Some((NeighState::Reachable, Some(MAG_MAC))));
        assert_eq!(n.lookup(0, MAG_V4.into()), Some(MAG_MAC));
    }

    #[test]
    fn arp_request_on_the_home_port_is_answered_only_for_home_addresses() {
        let mut n = neighbors();
        let f = reply(n.handle_frame(1, &arp_request(MAG_MAC, MAG_V4, HOME_V4), now()));
        let eth = ethernet::Frame::new_checked(&f[..]).unwrap();
        assert_eq!(eth.src_addr(), HOME_MAC);
        let p = arp::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(p.sender_hw(), HOME_MAC);
        assert_eq!(p.sender_ip(), HOME_V4);
        let mut n = neighbors();
        assert_eq!(
            n.handle_frame(1, &arp_request(MAG_MAC, MAG_V4, CORE_V4), now()),
            Punted::Ignored(reason::ARP_NOT_FOR_US)
        );
    }

    #[test]
    fn arp_request_for_another_address_from_an_unknown_sender_is_ignored() {
        let mut n = neighbors();
        assert_eq!(
            n.handle_frame(0, &arp_request(MAG_MAC, MAG_V4, MAG2_V4), now()),
            Punted::Ignored(reason::ARP_NOT_FOR_US)
        );
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn arp_about_a_tracked_sender_updates_its_entry_even_when_not_for_us() {
        let mut n = neighbors();
        n.handle_frame(0, &arp_request(MAG_MAC, MAG_V4, CORE_V4), now());
        // Gratuitous ARP: MAG_V4 moved to OTHER_MAC (RFC 826 merge).
        let garp = arp_request(OTHER_MAC, MAG_V4, MAG_V4);
        assert_eq!(n.handle_frame(0, &garp, now()), Punted::Learned);
        assert_eq!(n.lookup(0, MAG_V4.into()), Some(OTHER_MAC));
    }

    #[test]
    fn arp_reply_to_us_is_learned_without_an_answer() {
        let mut n = neighbors();
        let f = arp_reply(MAG_MAC, MAG_V4, CORE_MAC, CORE_V4);
        assert_eq!(n.handle_frame(0, &f, now()), Punted::Learned);
        assert_eq!(n.lookup(0, MAG_V4.into()), Some(MAG_MAC));
    }

    #[test]
    fn arp_claiming_our_address_is_ignored_and_not_learned() {
        let mut n = neighbors();
        assert_eq!(
            n.handle_frame(0, &arp_request(MAG_MAC, CORE_V4, MAG_V4), now()),
            Punted::Ignored(reason::ADDRESS_CONFLICT)
        );
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn arp_probe_for_our_address_is_answered_but_teaches_nothing() {
        let mut n = neighbors();
        let probe = arp_request(MAG_MAC, Ipv4Addr::UNSPECIFIED, CORE_V4);
        let f = reply(n.handle_frame(0, &probe, now()));
        let p = arp::Packet::new_checked(&f[14..]).unwrap();
        assert_eq!(p.target_ip(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(p.target_hw(), MAG_MAC);
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn arp_with_a_group_sender_hardware_address_is_ignored() {
        let mut n = neighbors();
        let f = arp_request(MacAddr::BROADCAST, MAG_V4, CORE_V4);
        // The Ethernet source stays unicast: only the ARP field is bad.
        let mut f = f;
        f[6..12].copy_from_slice(&MAG_MAC.0);
        assert_eq!(n.handle_frame(0, &f, now()), Punted::Ignored(reason::ARP_BAD_SENDER));
    }

    #[test]
    fn vlan_tagged_arp_request_gets_a_reply_with_the_same_tag() {
        let mut n = neighbors();
        let req = tagged(&arp_request(MAG_MAC, MAG_V4, CORE_V4), 0xa064);
        let f = reply(n.handle_frame(0, &req, now()));
        assert_eq!(f.len(), 46);
        let eth = ethernet::Frame::new_checked(&f[..]).unwrap();
        assert_eq!(eth.vlan_tci(), Some(0xa064));
        assert_eq!(eth.ethertype(), ethertype::ARP);
        assert_eq!(eth.dst_addr(), MAG_MAC);
        let p = arp::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(p.operation(), arp::OP_REPLY);
    }

    #[test]
    fn two_vlan_tags_are_ignored() {
        let mut n = neighbors();
        let req = tagged(&tagged(&arp_request(MAG_MAC, MAG_V4, CORE_V4), 5), 6);
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::STACKED_VLAN));
    }

    #[test]
    fn a_frame_unicast_to_another_mac_is_ignored() {
        let mut n = neighbors();
        let mut f = arp_request(MAG_MAC, MAG_V4, CORE_V4);
        f[..6].copy_from_slice(&OTHER_MAC.0);
        assert_eq!(n.handle_frame(0, &f, now()), Punted::Ignored(reason::NOT_OUR_MAC));
    }

    #[test]
    fn a_frame_with_a_group_source_mac_is_ignored() {
        let mut n = neighbors();
        let mut f = arp_request(MAG_MAC, MAG_V4, CORE_V4);
        f[6] |= 1;
        assert_eq!(n.handle_frame(0, &f, now()), Punted::Ignored(reason::MULTICAST_SOURCE_MAC));
    }

    // ---- Neighbor Solicitation (RFC 4861 §7.1.1, §7.2.3, §7.2.4) ----

    #[test]
    fn ns_to_solicited_node_mac_33_33_ff_00_00_01_from_2001_db8_1_2_gets_na_for_2001_db8_1_1() {
        let mut n = neighbors();
        let req = ns(MAG_MAC, MAG_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC));
        assert_eq!(req[..6], [0x33, 0x33, 0xff, 0x00, 0x00, 0x01]);
        let f = reply(n.handle_frame(0, &req, now()));
        assert_eq!(
            parse_na(&f, MAG_MAC, CORE_V6, MAG_V6),
            NdRepr::NeighborAdvert {
                router: true,
                solicited: true,
                override_: true,
                target: CORE_V6,
                target_lladdr: Some(CORE_MAC),
            }
        );
    }

    #[test]
    fn ns_for_our_link_local_address_gets_an_na_from_it() {
        let mut n = neighbors();
        let ll = core_link_local();
        let mag_ll: Ipv6Addr = "fe80::2".parse().unwrap();
        let req = ns(MAG_MAC, mag_ll, solicited(ll), ll, Some(MAG_MAC));
        let f = reply(n.handle_frame(0, &req, now()));
        let na = parse_na(&f, MAG_MAC, ll, mag_ll);
        assert!(matches!(na, NdRepr::NeighborAdvert { target, solicited: true, .. } if target == ll));
    }

    #[test]
    fn unicast_ns_without_lladdr_is_answered_to_the_ethernet_source() {
        let mut n = neighbors();
        let req = ns(MAG_MAC, MAG_V6, CORE_V6, CORE_V6, None);
        assert_eq!(req[..6], CORE_MAC.0);
        let f = reply(n.handle_frame(0, &req, now()));
        parse_na(&f, MAG_MAC, CORE_V6, MAG_V6);
        assert_eq!(n.entries().count(), 0, "nothing to learn without SLLA");
    }

    #[test]
    fn dad_ns_gets_an_na_to_all_nodes_without_the_solicited_flag() {
        let mut n = neighbors();
        let req = ns(MAG_MAC, UNSPEC_V6, solicited(CORE_V6), CORE_V6, None);
        let f = reply(n.handle_frame(0, &req, now()));
        let all_nodes_mac = MacAddr([0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(
            parse_na(&f, all_nodes_mac, CORE_V6, ipv6::ALL_NODES),
            NdRepr::NeighborAdvert {
                router: true,
                solicited: false,
                override_: true,
                target: CORE_V6,
                target_lladdr: Some(CORE_MAC),
            }
        );
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn dad_ns_with_a_source_lladdr_or_to_a_unicast_address_is_ignored() {
        let mut n = neighbors();
        let with_slla = ns(MAG_MAC, UNSPEC_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &with_slla, now()), Punted::Ignored(reason::BAD_ND));
        let unicast = ns(MAG_MAC, UNSPEC_V6, CORE_V6, CORE_V6, None);
        assert_eq!(n.handle_frame(0, &unicast, now()), Punted::Ignored(reason::BAD_ND));
    }

    #[test]
    fn ns_with_a_hop_limit_below_255_is_ignored() {
        let mut n = neighbors();
        let mut req = ns(MAG_MAC, MAG_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC));
        set_hop_limit(&mut req, 254);
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::ND_HOP_LIMIT));
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn ns_with_a_bad_checksum_is_ignored() {
        let mut n = neighbors();
        let mut req = ns(MAG_MAC, MAG_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC));
        req[14 + 40 + 2] ^= 0x01;
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::BAD_ICMPV6_CHECKSUM));
    }

    #[test]
    fn ns_with_a_zero_length_option_is_ignored() {
        let mut n = neighbors();
        let mut req = ns(MAG_MAC, MAG_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC));
        req[14 + 40 + 24 + 1] = 0;
        refill_icmpv6(&mut req);
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::BAD_ND));
    }

    #[test]
    fn ns_for_an_address_that_is_not_ours_is_ignored() {
        let mut n = neighbors();
        // Same solicited-node group as 2001:db8:1::1, different address.
        let other: Ipv6Addr = "2001:db8:9::1".parse().unwrap();
        let req = ns(MAG_MAC, MAG_V6, solicited(other), other, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::ND_TARGET_NOT_OURS));
        // The home address is not ours on the core port.
        let req = ns(MAG_MAC, MAG_V6, solicited(HOME_V6), HOME_V6, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::ND_TARGET_NOT_OURS));
        // A group we have not joined.
        let req = ns(MAG_MAC, MAG_V6, solicited(MAG2_V6), MAG2_V6, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::NOT_FOR_US));
    }

    #[test]
    fn ns_with_a_source_lladdr_learns_the_sender_as_stale() {
        let mut n = neighbors();
        let req = ns(MAG_MAC, MAG_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC));
        reply(n.handle_frame(0, &req, now()));
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Stale, Some(MAG_MAC))));
    }

    #[test]
    fn ns_with_the_same_lladdr_leaves_a_reachable_entry_reachable() {
        let mut n = neighbors();
        let t = now();
        n.resolve(0, MAG_V6.into(), t);
        let adv = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &adv, t), Punted::Learned);
        let req = ns(MAG_MAC, MAG_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC));
        reply(n.handle_frame(0, &req, t));
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Reachable, Some(MAG_MAC))));
    }

    // ---- Neighbor Advertisement (RFC 4861 §7.1.2, §7.2.5) ----

    #[test]
    fn solicited_na_resolves_an_incomplete_entry_as_reachable() {
        let mut n = neighbors();
        let t = now();
        assert_eq!(n.resolve(0, MAG_V6.into(), t), None);
        let adv = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &adv, t), Punted::Learned);
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Reachable, Some(MAG_MAC))));
        assert_eq!(n.resolve(0, MAG_V6.into(), t), Some(MAG_MAC));
    }

    #[test]
    fn unsolicited_na_resolves_an_incomplete_entry_as_stale() {
        let mut n = neighbors();
        let t = now();
        n.resolve(0, MAG_V6.into(), t);
        let adv = na(MAG_MAC, MAG_V6, ipv6::ALL_NODES, MAG_V6, false, true, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &adv, t), Punted::Learned);
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Stale, Some(MAG_MAC))));
    }

    #[test]
    fn na_without_target_lladdr_leaves_an_incomplete_entry_incomplete() {
        let mut n = neighbors();
        let t = now();
        n.resolve(0, MAG_V6.into(), t);
        let adv = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, None);
        assert_eq!(n.handle_frame(0, &adv, t), Punted::Ignored(reason::ND_NO_LLADDR));
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Incomplete, None)));
    }

    #[test]
    fn na_for_an_untracked_neighbour_is_ignored() {
        let mut n = neighbors();
        let adv = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &adv, now()), Punted::Ignored(reason::ND_UNKNOWN_TARGET));
        assert_eq!(n.entries().count(), 0);
    }

    #[test]
    fn na_without_override_for_a_different_lladdr_marks_reachable_stale_and_keeps_the_mac() {
        let mut n = neighbors();
        let t = now();
        n.resolve(0, MAG_V6.into(), t);
        let first = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC));
        n.handle_frame(0, &first, t);
        let other = na(OTHER_MAC, MAG_V6, CORE_V6, MAG_V6, true, false, Some(OTHER_MAC));
        assert_eq!(n.handle_frame(0, &other, t), Punted::Ignored(reason::ND_NO_OVERRIDE));
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Stale, Some(MAG_MAC))));
    }

    #[test]
    fn unsolicited_na_with_override_replaces_the_mac_as_stale() {
        let mut n = neighbors();
        let t = now();
        n.resolve(0, MAG_V6.into(), t);
        let first = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC));
        n.handle_frame(0, &first, t);
        let moved = na(OTHER_MAC, MAG_V6, ipv6::ALL_NODES, MAG_V6, false, true, Some(OTHER_MAC));
        assert_eq!(n.handle_frame(0, &moved, t), Punted::Learned);
        assert_eq!(state(&n, MAG_V6.into()), Some((NeighState::Stale, Some(OTHER_MAC))));
    }

    #[test]
    fn na_to_a_group_with_the_solicited_flag_is_ignored() {
        let mut n = neighbors();
        n.resolve(0, MAG_V6.into(), now());
        let adv = na(MAG_MAC, MAG_V6, ipv6::ALL_NODES, MAG_V6, true, true, Some(MAG_MAC));
        assert_eq!(n.handle_frame(0, &adv, now()), Punted::Ignored(reason::BAD_ND));
    }

    #[test]
    fn na_with_a_hop_limit_below_255_is_ignored() {
        let mut n = neighbors();
        n.resolve(0, MAG_V6.into(), now());
        let mut adv = na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC));
        set_hop_limit(&mut adv, 64);
        assert_eq!(n.handle_frame(0, &adv, now()), Punted::Ignored(reason::ND_HOP_LIMIT));
    }

    #[test]
    fn na_for_our_own_address_is_a_conflict() {
        let mut n = neighbors();
        let adv = na(OTHER_MAC, MAG_V6, ipv6::ALL_NODES, CORE_V6, false, true, Some(OTHER_MAC));
        assert_eq!(n.handle_frame(0, &adv, now()), Punted::Ignored(reason::ADDRESS_CONFLICT));
    }

    // ---- ICMP echo (RFC 792) ----

    #[test]
    fn echo_request_to_our_ipv4_gets_a_reply_with_its_ident_seq_and_data() {
        let mut n = neighbors();
        let f = reply(n.handle_frame(0, &echo4(MAG_MAC, MAG_V4, CORE_V4, b"hello"), now()));
        let eth = ethernet::Frame::new_checked(&f[..]).unwrap();
        assert_eq!(eth.dst_addr(), MAG_MAC);
        assert_eq!(eth.src_addr(), CORE_MAC);
        assert_eq!(eth.ethertype(), ethertype::IPV4);
        let ip = ipv4::Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(usize::from(ip.total_len()), eth.payload().len());
        assert_eq!((ip.src_addr(), ip.dst_addr()), (CORE_V4, MAG_V4));
        assert_eq!(ip.protocol(), protocol::ICMP);
        assert_eq!(ip.ttl(), 64);
        let icmp = icmpv4::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!(icmp.msg_type(), icmpv4::TYPE_ECHO_REPLY);
        assert_eq!(icmp.code(), 0);
        assert_eq!((icmp.echo_ident(), icmp.echo_seq()), (0x4242, 7));
        assert_eq!(icmp.payload(), b"hello");
    }

    #[test]
    fn echo_request_with_ethernet_padding_is_answered_without_the_padding() {
        let mut n = neighbors();
        let mut req = echo4(MAG_MAC, MAG_V4, CORE_V4, b"hi");
        req.resize(60, 0);
        let f = reply(n.handle_frame(0, &req, now()));
        assert_eq!(f.len(), 14 + 20 + 8 + 2);
        let icmp = icmpv4::Packet::new_checked(&f[34..]).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!(icmp.payload(), b"hi");
    }

    #[test]
    fn echo_request_with_a_bad_icmp_checksum_is_ignored() {
        let mut n = neighbors();
        let mut req = echo4(MAG_MAC, MAG_V4, CORE_V4, b"hello");
        *req.last_mut().unwrap() ^= 0x20;
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::BAD_ICMP_CHECKSUM));
    }

    #[test]
    fn echo_request_with_a_bad_ipv4_checksum_is_ignored() {
        let mut n = neighbors();
        let mut req = echo4(MAG_MAC, MAG_V4, CORE_V4, b"hello");
        req[14 + 8] ^= 0x01; // TTL
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::BAD_IPV4_CHECKSUM));
    }

    #[test]
    fn echo_request_to_another_ipv4_address_is_ignored() {
        let mut n = neighbors();
        assert_eq!(
            n.handle_frame(0, &echo4(MAG_MAC, MAG_V4, MAG2_V4, b"x"), now()),
            Punted::Ignored(reason::NOT_FOR_US)
        );
        assert_eq!(
            n.handle_frame(0, &echo4(MAG_MAC, MAG_V4, HOME_V4, b"x"), now()),
            Punted::Ignored(reason::NOT_FOR_US),
            "the home address is not ours on the core port"
        );
    }

    #[test]
    fn echo_request_fragment_is_ignored() {
        let mut n = neighbors();
        let mut req = echo4(MAG_MAC, MAG_V4, CORE_V4, b"hello");
        let mut ip = ipv4::Packet::new_checked(&mut req[14..]).unwrap();
        ip.set_more_frags(true);
        ip.fill_checksum();
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::IPV4_FRAGMENT));
    }

    #[test]
    fn echo_request_from_a_broadcast_source_is_ignored() {
        let mut n = neighbors();
        let req = echo4(MAG_MAC, Ipv4Addr::BROADCAST, CORE_V4, b"x");
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::BAD_SOURCE));
    }

    #[test]
    fn icmp_other_than_echo_request_is_ignored() {
        let mut n = neighbors();
        let mut req = echo4(MAG_MAC, MAG_V4, CORE_V4, b"x");
        let mut icmp = icmpv4::Packet::new_checked(&mut req[34..]).unwrap();
        icmp.set_msg_type(icmpv4::TYPE_ECHO_REPLY);
        icmp.fill_checksum();
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::UNHANDLED_ICMP));
    }

    #[test]
    fn ipv4_to_us_that_is_not_icmp_is_ignored() {
        let mut n = neighbors();
        let mut req = echo4(MAG_MAC, MAG_V4, CORE_V4, b"x");
        let mut ip = ipv4::Packet::new_checked(&mut req[14..]).unwrap();
        ip.set_protocol(protocol::UDP);
        ip.fill_checksum();
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::UNHANDLED_PROTOCOL));
    }

    // ---- ICMPv6 echo (RFC 4443 §4.2) ----

    #[test]
    fn icmpv6_echo_request_to_our_address_gets_a_reply_with_its_data() {
        let mut n = neighbors();
        let f = reply(n.handle_frame(0, &echo6(MAG_MAC, MAG_V6, CORE_V6, b"hello6"), now()));
        let eth = ethernet::Frame::new_checked(&f[..]).unwrap();
        assert_eq!((eth.dst_addr(), eth.src_addr()), (MAG_MAC, CORE_MAC));
        let ip = ipv6::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!((ip.src_addr(), ip.dst_addr()), (CORE_V6, MAG_V6));
        assert_eq!(ip.hop_limit(), 64);
        assert_eq!(usize::from(ip.payload_len()) + 40, eth.payload().len());
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(CORE_V6, MAG_V6));
        assert_eq!(icmp.msg_type(), icmpv6::TYPE_ECHO_REPLY);
        assert_eq!((icmp.echo_ident(), icmp.echo_seq()), (0x4242, 7));
        assert_eq!(icmp.payload(), b"hello6");
    }

    #[test]
    fn icmpv6_echo_request_on_a_vlan_is_answered_on_that_vlan() {
        let mut n = neighbors();
        let req = tagged(&echo6(MAG_MAC, MAG_V6, CORE_V6, b"v"), 0x0064);
        let f = reply(n.handle_frame(0, &req, now()));
        let eth = ethernet::Frame::new_checked(&f[..]).unwrap();
        assert_eq!(eth.vlan_id(), Some(100));
        let ip = ipv6::Packet::new_checked(eth.payload()).unwrap();
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(CORE_V6, MAG_V6));
    }

    #[test]
    fn icmpv6_echo_request_to_all_nodes_is_ignored() {
        let mut n = neighbors();
        let req = echo6(MAG_MAC, MAG_V6, ipv6::ALL_NODES, b"x");
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::NOT_FOR_US));
    }

    #[test]
    fn icmpv6_echo_request_with_a_bad_checksum_is_ignored() {
        let mut n = neighbors();
        let mut req = echo6(MAG_MAC, MAG_V6, CORE_V6, b"hello");
        *req.last_mut().unwrap() ^= 0x01;
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::BAD_ICMPV6_CHECKSUM));
    }

    #[test]
    fn icmpv6_echo_request_to_another_address_is_ignored() {
        let mut n = neighbors();
        let req = echo6(MAG_MAC, MAG_V6, MAG2_V6, b"x");
        assert_eq!(n.handle_frame(0, &req, now()), Punted::Ignored(reason::NOT_FOR_US));
    }
}
