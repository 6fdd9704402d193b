//! Classify node: decides for each received frame whether it is for the
//! anchor itself (punt to the control thread), a tunnelled uplink packet to
//! decapsulate, a transit packet to look up for encapsulation, or a drop.
//! Validation happens here once, so later nodes trust the outer headers.

use core::net::IpAddr;

use crate::addrs::PortAddrs;
use crate::counters::DropReason;
use crate::tunnel::decap::{self, Outer, Uplink};
use crate::wire::{arp, ethernet, icmpv6, ipv4, ipv6, udp};

/// What to do with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// For the control thread (ARP, ND, ICMP/ICMPv6 to our addresses).
    Punt,
    /// Dropped, with the counter to bump.
    Drop(DropReason),
    /// Transit: encapsulate if `dst` has a binding. `l3_off` is where the
    /// IP header starts (after Ethernet and an optional VLAN tag).
    Downlink { l3_off: usize, dst: IpAddr },
    /// A tunnelled packet to one of our addresses.
    Uplink(Uplink),
    /// An outer fragment addressed to us: the slow path reassembles it.
    Reassemble,
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
    let l3_off = eth.header_len();
    match eth.ethertype() {
        ethernet::ethertype::IPV4 => classify_ipv4(frame, l3_off, addrs),
        ethernet::ethertype::IPV6 => classify_ipv6(frame, l3_off, addrs),
        ethernet::ethertype::ARP => classify_arp(eth.payload(), addrs),
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

fn uplink(r: Result<Outer, DropReason>) -> Verdict {
    match r {
        Ok(Outer::Tunnel(up)) => Verdict::Uplink(up),
        Ok(Outer::NotTunnel) => Verdict::Drop(DropReason::LocalUnhandled),
        Err(reason) => Verdict::Drop(reason),
    }
}

fn classify_ipv4(frame: &[u8], l3_off: usize, addrs: &PortAddrs) -> Verdict {
    let ip = match ipv4::Packet::new_checked(&frame[l3_off..]) {
        Ok(p) => p,
        Err(_) => return Verdict::Drop(DropReason::Ipv4Malformed),
    };
    if !ip.verify_checksum() {
        return Verdict::Drop(DropReason::Ipv4Checksum);
    }
    let dst = ip.dst_addr();
    if addrs.is_local_v4(dst) {
        if ip.is_fragment() {
            return Verdict::Reassemble;
        }
        return match ip.protocol() {
            ipv4::protocol::ICMP => Verdict::Punt,
            proto @ (ipv4::protocol::IPIP | ipv4::protocol::IPV6 | ipv4::protocol::GRE | ipv4::protocol::UDP) => {
                // RFC 1122 §4.1.3.4: a UDP datagram with a wrong (non-zero)
                // checksum is discarded.
                if proto == ipv4::protocol::UDP {
                    match udp::Packet::new_checked(ip.payload()) {
                        Ok(u) if u.verify_checksum_v4(ip.src_addr(), dst) => {
                            // PMIPv6 signalling over IPv4 (RFC 5844 §4).
                            if u.dst_port() == udp::port::PMIP6_CONTROL {
                                return Verdict::Punt;
                            }
                        }
                        _ => return Verdict::Drop(DropReason::InnerMalformed),
                    }
                }
                let off = l3_off + ip.header_len();
                let len = usize::from(ip.total_len()) - ip.header_len();
                uplink(decap::parse(frame, IpAddr::V4(ip.src_addr()), proto, off, len, ip.dscp_ecn()))
            }
            _ => Verdict::Drop(DropReason::LocalUnhandled),
        };
    }
    if dst.is_multicast() || dst.is_broadcast() {
        return Verdict::Drop(DropReason::MulticastNotOurs);
    }
    Verdict::Downlink { l3_off, dst: IpAddr::V4(dst) }
}

/// IPv6 Fragment extension header (RFC 8200 §4.5).
const IPV6_FRAGMENT: u8 = 44;

fn classify_ipv6(frame: &[u8], l3_off: usize, addrs: &PortAddrs) -> Verdict {
    let ip = match ipv6::Packet::new_checked(&frame[l3_off..]) {
        Ok(p) => p,
        Err(_) => return Verdict::Drop(DropReason::Ipv6Malformed),
    };
    let dst = ip.dst_addr();
    let local = addrs.is_local_v6(dst);
    if local || addrs.is_our_multicast_v6(dst) {
        return match ip.next_header() {
            ipv4::protocol::ICMPV6 => classify_icmpv6(ip.payload(), local),
            IPV6_FRAGMENT if local => Verdict::Reassemble,
            // Mobility Header signalling (PBU, heartbeat, revocation...).
            ipv4::protocol::MOBILITY if local => Verdict::Punt,
            proto @ (ipv4::protocol::IPIP | ipv4::protocol::IPV6 | ipv4::protocol::GRE) if local => {
                let len = usize::from(ip.payload_len());
                uplink(decap::parse(frame, IpAddr::V6(ip.src_addr()), proto, l3_off + 40, len, ip.traffic_class()))
            }
            _ if local => Verdict::Drop(DropReason::LocalUnhandled),
            _ => Verdict::Drop(DropReason::MulticastNotOurs),
        };
    }
    if dst.is_multicast() {
        return Verdict::Drop(DropReason::MulticastNotOurs);
    }
    // §12.6: link-local destinations are not forwarded through the anchor.
    if dst.segments()[0] & 0xffc0 == 0xfe80 {
        return Verdict::Drop(DropReason::MulticastNotOurs);
    }
    Verdict::Downlink { l3_off, dst: IpAddr::V6(dst) }
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

#[cfg(test)]
mod tests {
    use core::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::addrs::{Ipv4Cidr, Ipv6Cidr};
    use crate::wire::ethernet::{emit_header, ethertype};
    use crate::wire::ipv4::{protocol, Ipv4Repr};
    use crate::wire::ipv6::Ipv6Repr;
    use crate::wire::MacAddr;

    const OURS: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);
    const PEER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 2]);
    const US4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const PEER4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const US6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
    const PEER6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);

    fn addrs() -> PortAddrs {
        PortAddrs::new(OURS, vec![Ipv4Cidr { addr: US4, prefix_len: 24 }], vec![Ipv6Cidr { addr: US6, prefix_len: 64 }])
    }

    fn v4(dst: Ipv4Addr, proto: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 8];
        emit_header(&mut f, OURS, PEER, ethertype::IPV4);
        let repr = Ipv4Repr { src: PEER4, dst, protocol: proto, ttl: 64, tos: 0, payload_len: 8 };
        repr.emit(&mut f[14..]);
        f
    }

    fn v6(dst: Ipv6Addr, next_header: u8, first: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 40 + 8];
        let dst_mac = if dst.is_multicast() { MacAddr::ipv6_multicast(&dst) } else { OURS };
        emit_header(&mut f, dst_mac, PEER, ethertype::IPV6);
        let repr = Ipv6Repr { src: PEER6, dst, next_header, hop_limit: 64, payload_len: 8 };
        repr.emit(&mut f[14..]);
        f[54] = first;
        f
    }

    fn arp(target: Ipv4Addr) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 28];
        emit_header(&mut f, MacAddr::BROADCAST, PEER, ethertype::ARP);
        f[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        f[22..28].copy_from_slice(&PEER.0);
        f[28..32].copy_from_slice(&PEER4.octets());
        f[38..42].copy_from_slice(&target.octets());
        f
    }

    fn drop(reason: DropReason) -> Verdict {
        Verdict::Drop(reason)
    }

    #[test]
    fn icmp_to_our_ipv4_address_is_punted() {
        assert_eq!(classify(&v4(US4, protocol::ICMP), &addrs()), Verdict::Punt);
    }

    #[test]
    fn udp_to_our_address_that_is_no_tunnel_is_dropped() {
        // The 8 payload bytes are a UDP header with length 8: no tunnel payload.
        let mut f = v4(US4, protocol::UDP);
        f[34 + 4..34 + 6].copy_from_slice(&8u16.to_be_bytes());
        assert_eq!(classify(&f, &addrs()), drop(DropReason::LocalUnhandled));
    }

    #[test]
    fn transit_ipv4_is_looked_up_for_a_binding() {
        let dst = Ipv4Addr::new(203, 0, 113, 5);
        assert_eq!(classify(&v4(dst, 17), &addrs()), Verdict::Downlink { l3_off: 14, dst: IpAddr::V4(dst) });
    }

    #[test]
    fn arp_for_our_address_is_punted_and_for_others_dropped() {
        assert_eq!(classify(&arp(US4), &addrs()), Verdict::Punt);
        assert_eq!(classify(&arp(PEER4), &addrs()), drop(DropReason::ArpNotOurs));
        assert_eq!(classify(&arp(US4)[..30], &addrs()), drop(DropReason::ArpMalformed));
    }

    #[test]
    fn unicast_frame_for_another_mac_is_dropped() {
        let mut f = v4(US4, protocol::ICMP);
        f[..6].copy_from_slice(&[0x02, 9, 9, 9, 9, 9]);
        assert_eq!(classify(&f, &addrs()), drop(DropReason::L2NotOurs));
    }

    #[test]
    fn truncated_ethernet_header_is_dropped_as_malformed() {
        let f = v4(US4, protocol::ICMP);
        for len in 0..14 {
            assert_eq!(classify(&f[..len], &addrs()), drop(DropReason::EthMalformed), "len {len}");
        }
    }

    #[test]
    fn double_vlan_tag_is_dropped_as_malformed() {
        let mut f = vec![0u8; 60];
        emit_header(&mut f, OURS, PEER, ethertype::VLAN);
        f[16..18].copy_from_slice(&ethertype::VLAN.to_be_bytes());
        assert_eq!(classify(&f, &addrs()), drop(DropReason::EthMalformed));
    }

    #[test]
    fn unknown_ethertype_is_dropped() {
        let mut f = v4(US4, protocol::ICMP);
        f[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
        assert_eq!(classify(&f, &addrs()), drop(DropReason::EthertypeUnknown));
    }

    #[test]
    fn ipv4_with_bad_ihl_bad_version_or_lengths_is_malformed() {
        let good = v4(US4, protocol::ICMP);
        let mut ihl3 = good.clone();
        ihl3[14] = 0x43;
        let mut version6 = good.clone();
        version6[14] = 0x65;
        let mut too_long = good.clone();
        too_long[16..18].copy_from_slice(&1500u16.to_be_bytes());
        let mut too_short = good.clone();
        too_short[16..18].copy_from_slice(&10u16.to_be_bytes());
        for f in [&ihl3, &version6, &too_long, &too_short, &good[..14 + 19].to_vec()] {
            assert_eq!(classify(f, &addrs()), drop(DropReason::Ipv4Malformed), "{f:02x?}");
        }
    }

    #[test]
    fn ipv4_with_a_bad_header_checksum_is_dropped() {
        let mut f = v4(US4, protocol::ICMP);
        f[24] ^= 0xff;
        assert_eq!(classify(&f, &addrs()), drop(DropReason::Ipv4Checksum));
    }

    #[test]
    fn ethernet_padding_after_the_ipv4_packet_is_accepted() {
        let mut f = v4(US4, protocol::ICMP);
        f.extend_from_slice(&[0; 18]);
        assert_eq!(classify(&f, &addrs()), Verdict::Punt);
    }

    #[test]
    fn icmpv6_to_us_is_punted_and_nd_to_our_solicited_node_group_too() {
        assert_eq!(classify(&v6(US6, protocol::ICMPV6, 128), &addrs()), Verdict::Punt);
        let group: Ipv6Addr = "ff02::1:ff00:1".parse().unwrap();
        assert_eq!(classify(&v6(group, protocol::ICMPV6, 135), &addrs()), Verdict::Punt);
        assert_eq!(classify(&v6(group, protocol::ICMPV6, 128), &addrs()), drop(DropReason::MulticastNotOurs));
        let other: Ipv6Addr = "ff02::1:ff00:99".parse().unwrap();
        assert_eq!(classify(&v6(other, protocol::ICMPV6, 135), &addrs()), drop(DropReason::MulticastNotOurs));
    }

    #[test]
    fn ipv6_with_payload_length_past_the_frame_is_malformed() {
        let mut f = v6(US6, protocol::ICMPV6, 128);
        f[18..20].copy_from_slice(&1500u16.to_be_bytes());
        assert_eq!(classify(&f, &addrs()), drop(DropReason::Ipv6Malformed));
        assert_eq!(classify(&f[..14 + 39], &addrs()), drop(DropReason::Ipv6Malformed));
    }

    #[test]
    fn transit_ipv6_is_looked_up_and_link_local_is_not_forwarded() {
        let dst: Ipv6Addr = "2001:db8:100::5".parse().unwrap();
        assert_eq!(classify(&v6(dst, 17, 0), &addrs()), Verdict::Downlink { l3_off: 14, dst: IpAddr::V6(dst) });
        let ll: Ipv6Addr = "fe80::5".parse().unwrap();
        assert_eq!(classify(&v6(ll, 17, 0), &addrs()), drop(DropReason::MulticastNotOurs));
    }

    #[test]
    fn a_udp_tunnel_packet_with_a_wrong_nonzero_checksum_is_discarded() {
        let mut f = v4(US4, protocol::UDP);
        f[34..36].copy_from_slice(&5437u16.to_be_bytes());
        f[36..38].copy_from_slice(&5437u16.to_be_bytes());
        f[38..40].copy_from_slice(&8u16.to_be_bytes());
        f[40..42].copy_from_slice(&0x1234u16.to_be_bytes());
        assert_eq!(classify(&f, &addrs()), drop(DropReason::InnerMalformed));
    }

    #[test]
    fn mobility_header_to_us_and_pmipv6_signalling_over_ipv4_are_punted() {
        assert_eq!(classify(&v6(US6, protocol::MOBILITY, 59), &addrs()), Verdict::Punt);
        let mut f = v4(US4, protocol::UDP);
        f[34..36].copy_from_slice(&5436u16.to_be_bytes());
        f[36..38].copy_from_slice(&5436u16.to_be_bytes());
        f[38..40].copy_from_slice(&8u16.to_be_bytes());
        assert_eq!(classify(&f, &addrs()), Verdict::Punt);
    }
}
