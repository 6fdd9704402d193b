//! Builds the frames the neighbour code sends: replies and probes, as whole
//! Ethernet frames with every length and checksum filled.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dataplane::addrs::PortAddrs;
use dataplane::wire::arp::{self, ArpRepr};
use dataplane::wire::ethernet::{self, ethertype};
use dataplane::wire::icmpv6::{self, NdRepr};
use dataplane::wire::ipv4::{self, protocol, Ipv4Repr};
use dataplane::wire::ipv6::{self, Ipv6Repr};
use dataplane::wire::{icmpv4, MacAddr};

/// Hop limit of every ND message (RFC 4861 §7.1.1: receivers drop others).
pub(super) const ND_HOP_LIMIT: u8 = 255;

/// The Ethernet header of an outgoing frame.
#[derive(Debug, Clone, Copy)]
pub(super) struct L2 {
    pub dst: MacAddr,
    pub src: MacAddr,
    /// Whole 802.1Q TCI to tag the frame with.
    pub vlan_tci: Option<u16>,
}

impl L2 {
    fn len(&self) -> usize {
        if self.vlan_tci.is_some() {
            ethernet::VLAN_HEADER_LEN
        } else {
            ethernet::HEADER_LEN
        }
    }

    /// A zeroed frame of header plus `body_len` bytes with the header
    /// written; returns it and where the body starts.
    fn frame(&self, ethertype: u16, body_len: usize) -> (Vec<u8>, usize) {
        let mut frame = vec![0u8; self.len() + body_len];
        let at = match self.vlan_tci {
            Some(tci) => ethernet::emit_header_vlan(&mut frame, self.dst, self.src, tci, ethertype),
            None => ethernet::emit_header(&mut frame, self.dst, self.src, ethertype),
        };
        (frame, at)
    }
}

pub(super) fn arp(l2: L2, repr: &ArpRepr) -> Vec<u8> {
    let (mut frame, at) = l2.frame(ethertype::ARP, repr.buffer_len());
    repr.emit(&mut frame[at..]);
    frame
}

/// An IPv4 ICMP message: `fill` writes the `ip.payload_len` bytes of ICMP,
/// then the ICMP checksum is computed.
pub(super) fn icmpv4(l2: L2, ip: &Ipv4Repr, fill: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let (mut frame, at) = l2.frame(ethertype::IPV4, ipv4::HEADER_LEN + ip.payload_len);
    ip.emit(&mut frame[at..]);
    let body = &mut frame[at + ipv4::HEADER_LEN..];
    fill(body);
    icmpv4::Packet::new_unchecked(body).fill_checksum();
    frame
}

/// An ICMPv6 message: `fill` writes the `ip.payload_len` bytes of ICMPv6,
/// then the checksum over the pseudo-header is computed.
pub(super) fn icmpv6(l2: L2, ip: &Ipv6Repr, fill: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let (mut frame, at) = l2.frame(ethertype::IPV6, ipv6::HEADER_LEN + ip.payload_len);
    ip.emit(&mut frame[at..]);
    let body = &mut frame[at + ipv6::HEADER_LEN..];
    fill(body);
    icmpv6::Packet::new_unchecked(body).fill_checksum(ip.src, ip.dst);
    frame
}

/// An NS or NA from `src` to `dst` with hop limit 255.
pub(super) fn nd(l2: L2, src: Ipv6Addr, dst: Ipv6Addr, repr: &NdRepr) -> Vec<u8> {
    let ip =
        Ipv6Repr { src, dst, next_header: protocol::ICMPV6, hop_limit: ND_HOP_LIMIT, payload_len: repr.buffer_len() };
    icmpv6(l2, &ip, |body| repr.emit(body))
}

/// An address-resolution probe for `ip` on the port with `addrs`: broadcast
/// ARP request / NS to the solicited-node multicast group, or, with
/// `unicast`, the same sent to the cached MAC (and for NS to `ip` itself).
/// Sent from our address on `ip`'s subnet (ARP: 0.0.0.0 when the port has
/// no IPv4 address), with our MAC as source link-layer address.
pub(super) fn probe(addrs: &PortAddrs, ip: IpAddr, unicast: Option<MacAddr>) -> Vec<u8> {
    match ip {
        IpAddr::V4(ip) => {
            let l2 = L2 { dst: unicast.unwrap_or(MacAddr::BROADCAST), src: addrs.mac, vlan_tci: None };
            let repr = ArpRepr {
                op: arp::OP_REQUEST,
                sender_hw: addrs.mac,
                sender_ip: addrs.source_v4_for(ip).unwrap_or(Ipv4Addr::UNSPECIFIED),
                target_hw: MacAddr::ZERO,
                target_ip: ip,
            };
            self::arp(l2, &repr)
        }
        IpAddr::V6(ip) => {
            let dst = if unicast.is_some() { ip } else { ipv6::solicited_node(ip) };
            let l2 =
                L2 { dst: unicast.unwrap_or_else(|| MacAddr::ipv6_multicast(&dst)), src: addrs.mac, vlan_tci: None };
            let repr = NdRepr::NeighborSolicit { target: ip, source_lladdr: Some(addrs.mac) };
            nd(l2, addrs.source_v6_for(ip), dst, &repr)
        }
    }
}
