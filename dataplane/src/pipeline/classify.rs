//! Classify node: decides for each received frame whether it is for the
//! anchor itself (punt to the control thread), transit, or to be dropped.
//! Validation happens here once, so later nodes trust the headers.

use crate::addrs::PortAddrs;
use crate::counters::DropReason;
use crate::wire::{arp, ethernet, icmpv6, ipv4, ipv6};

/// What to do with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// For the control thread (ARP, ND, ICMP/ICMPv6 to our addresses).
    Punt,
    /// Dropped, with the counter to bump.
    Drop(DropReason),
}

/// Classifies one frame received on a port with addresses `addrs`.
#[inline]
pub fn classify(frame: &[u8], addrs: &PortAddrs) -> Verdict {
    let eth = match ethernet::Frame::new_checked(frame) {
        Ok(e) => e,
        Err(_) => return Verdict::Drop(DropReason::EthMalformed),
    };
    let dst_mac = eth.dst_addr();
    if !dst_mac.is_multicast() && dst_mac != addrs.mac {
        return Verdict::Drop(DropReason::L2NotOurs);
    }
    let payload = eth.payload();
    match eth.ethertype() {
        ethernet::ethertype::IPV4 => classify_ipv4(payload, addrs),
        ethernet::ethertype::IPV6 => classify_ipv6(payload, addrs),
        ethernet::ethertype::ARP => classify_arp(payload, addrs),
        _ => Verdict::Drop(DropReason::EthertypeUnknown),
    }
}

fn classify_arp(payload: &[u8], addrs: &PortAddrs) -> Verdict {
    match arp::Packet::new_checked(payload) {
        Ok(p) if addrs.is_local_v4(p.target_ip()) => Verdict::Punt,
        Ok(_) => Verdict::Drop(DropReason::ArpNotOurs),
        Err(_) => Verdict::Drop(DropReason::ArpMalformed),
    }
}

fn classify_ipv4(payload: &[u8], addrs: &PortAddrs) -> Verdict {
    let ip = match ipv4::Packet::new_checked(payload) {
        Ok(p) => p,
        Err(_) => return Verdict::Drop(DropReason::Ipv4Malformed),
    };
    if !ip.verify_checksum() {
        return Verdict::Drop(DropReason::Ipv4Checksum);
    }
    let dst = ip.dst_addr();
    if addrs.is_local_v4(dst) {
        return match ip.protocol() {
            ipv4::protocol::ICMP => Verdict::Punt,
            _ => Verdict::Drop(DropReason::LocalUnhandled),
        };
    }
    if dst.is_multicast() || dst.is_broadcast() {
        return Verdict::Drop(DropReason::MulticastNotOurs);
    }
    Verdict::Drop(DropReason::NoRoute)
}

fn classify_ipv6(payload: &[u8], addrs: &PortAddrs) -> Verdict {
    let ip = match ipv6::Packet::new_checked(payload) {
        Ok(p) => p,
        Err(_) => return Verdict::Drop(DropReason::Ipv6Malformed),
    };
    let dst = ip.dst_addr();
    let local = addrs.is_local_v6(dst);
    if local || addrs.is_our_multicast_v6(dst) {
        return match ip.next_header() {
            ipv4::protocol::ICMPV6 => classify_icmpv6(ip.payload(), local),
            _ if local => Verdict::Drop(DropReason::LocalUnhandled),
            _ => Verdict::Drop(DropReason::MulticastNotOurs),
        };
    }
    if dst.is_multicast() {
        return Verdict::Drop(DropReason::MulticastNotOurs);
    }
    Verdict::Drop(DropReason::NoRoute)
}

/// Multicast ICMPv6 is punted only for neighbour discovery; echo to a
/// multicast group is not answered.
fn classify_icmpv6(payload: &[u8], unicast: bool) -> Verdict {
    let Some(&msg_type) = payload.first() else {
        return Verdict::Drop(DropReason::Ipv6Malformed);
    };
    match msg_type {
        icmpv6::TYPE_NEIGHBOR_SOLICIT | icmpv6::TYPE_NEIGHBOR_ADVERT => Verdict::Punt,
        _ if unicast => Verdict::Punt,
        _ => Verdict::Drop(DropReason::MulticastNotOurs),
    }
}
