//! ICMP errors the anchor originates for packets the data plane could not
//! forward: Time Exceeded (PROTOCOLS.md §12.3) and Fragmentation Needed /
//! Packet Too Big (§12.5). Sent back towards the offending packet's source
//! on the port it arrived on, with the RFC 1812 / RFC 4443 restraints: never
//! about an ICMP error, a multicast or unspecified source, or a non-first
//! fragment; rate-limited by the caller.

use std::net::{Ipv4Addr, Ipv6Addr};

use dataplane::addrs::PortAddrs;
use dataplane::wire::{checksum, ethernet, ipv4, ipv6, MacAddr};

/// Which error to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    TimeExceeded,
    /// IPv4: destination unreachable / fragmentation needed with the
    /// next-hop MTU; IPv6: Packet Too Big.
    TooBig {
        mtu: u16,
    },
    /// IPv6 only: Parameter Problem, code 0 (erroneous header field), with
    /// the offset in the offending packet of the field it points at (RFC
    /// 4443 §3.4; RFC 6275 §9.2 for a Mobility Header's Payload Proto and
    /// Header Len). Nothing is sent over IPv4.
    ParameterProblem {
        pointer: u32,
    },
}

/// Most of the offending packet quoted: IPv4 to 576 octets in all (RFC
/// 1812 §4.3.2.3), IPv6 to the minimum MTU (RFC 4443 §2.4).
const V4_MAX: usize = 576;
const V6_MAX: usize = 1280;

/// Builds the error for the Ethernet `frame` received on a port with
/// addresses `addrs`, or None when the rules say not to answer.
pub fn build(frame: &[u8], addrs: &PortAddrs, err: IcmpError) -> Option<Vec<u8>> {
    let eth = ethernet::Frame::new_checked(frame).ok()?;
    let to_mac = eth.src_addr();
    let l3 = eth.payload();
    match eth.ethertype() {
        ethernet::ethertype::IPV4 => v4(l3, addrs, to_mac, err),
        ethernet::ethertype::IPV6 => v6(l3, addrs, to_mac, err),
        _ => None,
    }
}

fn v4(l3: &[u8], addrs: &PortAddrs, to_mac: MacAddr, err: IcmpError) -> Option<Vec<u8>> {
    let ip = ipv4::Packet::new_checked(l3).ok()?;
    let src = ip.src_addr();
    if src.is_multicast() || src.is_broadcast() || src.is_unspecified() || ip.frag_offset() != 0 {
        return None;
    }
    let payload = ip.payload();
    if ip.protocol() == ipv4::protocol::ICMP && !matches!(payload.first(), Some(0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)) {
        return None; // an ICMP error (or unknown type): never answered
    }
    let from: Ipv4Addr = addrs.source_v4_for(src)?;
    let quote = &l3[..usize::from(ip.total_len()).min(V4_MAX - 20 - 8)];
    let (typ, code, rest) = match err {
        IcmpError::TimeExceeded => (11u8, 0u8, [0u8; 4]),
        IcmpError::TooBig { mtu } => {
            let m = mtu.to_be_bytes();
            (3, 4, [0, 0, m[0], m[1]])
        }
        IcmpError::ParameterProblem { .. } => return None,
    };
    let icmp_len = 8 + quote.len();
    let mut f = vec![0u8; 14 + 20 + icmp_len];
    ethernet::emit_header(&mut f, to_mac, addrs.mac, ethernet::ethertype::IPV4);
    let repr =
        ipv4::Ipv4Repr { src: from, dst: src, protocol: ipv4::protocol::ICMP, ttl: 64, tos: 0, payload_len: icmp_len };
    repr.emit(&mut f[14..34]);
    let icmp = &mut f[34..];
    icmp[0] = typ;
    icmp[1] = code;
    icmp[4..8].copy_from_slice(&rest);
    icmp[8..].copy_from_slice(quote);
    let c = checksum::fold(checksum::sum(icmp));
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    Some(f)
}

fn v6(l3: &[u8], addrs: &PortAddrs, to_mac: MacAddr, err: IcmpError) -> Option<Vec<u8>> {
    let ip = ipv6::Packet::new_checked(l3).ok()?;
    let src = ip.src_addr();
    if src.is_multicast() || src.is_unspecified() {
        return None;
    }
    if ip.next_header() == ipv4::protocol::ICMPV6 && ip.payload().first().is_some_and(|t| *t < 128) {
        return None;
    }
    let from: Ipv6Addr = addrs.source_v6_for(src);
    let whole = 40 + usize::from(ip.payload_len());
    let quote = &l3[..whole.min(V6_MAX - 40 - 8)];
    let (typ, rest) = match err {
        IcmpError::TimeExceeded => (3u8, [0u8; 4]),
        IcmpError::TooBig { mtu } => (2, u32::from(mtu).to_be_bytes()),
        IcmpError::ParameterProblem { pointer } => (4, pointer.to_be_bytes()),
    };
    let icmp_len = 8 + quote.len();
    let mut f = vec![0u8; 14 + 40 + icmp_len];
    ethernet::emit_header(&mut f, to_mac, addrs.mac, ethernet::ethertype::IPV6);
    let repr = ipv6::Ipv6Repr {
        src: from,
        dst: src,
        next_header: ipv4::protocol::ICMPV6,
        hop_limit: 64,
        payload_len: icmp_len,
    };
    repr.emit(&mut f[14..54]);
    let icmp = &mut f[54..];
    icmp[0] = typ;
    icmp[4..8].copy_from_slice(&rest);
    icmp[8..].copy_from_slice(quote);
    let len = u32::try_from(icmp_len).ok()?;
    let c = checksum::fold(checksum::pseudo_v6(from, src, ipv4::protocol::ICMPV6, len) + checksum::sum(icmp));
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataplane::addrs::{Ipv4Cidr, Ipv6Cidr};
    use dataplane::wire::{icmpv4, icmpv6};

    fn addrs() -> PortAddrs {
        PortAddrs::new(
            MacAddr([2, 0, 0, 0, 1, 1]),
            vec![Ipv4Cidr { addr: Ipv4Addr::new(198, 51, 100, 1), prefix_len: 24 }],
            vec![Ipv6Cidr { addr: "2001:db8:2::1".parse().unwrap(), prefix_len: 64 }],
        )
    }

    fn v4_frame(proto: u8, first: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 8];
        ethernet::emit_header(&mut f, MacAddr([2, 0, 0, 0, 1, 1]), MacAddr([2, 0, 0, 0, 0, 9]), 0x0800);
        let r = ipv4::Ipv4Repr {
            src: Ipv4Addr::new(198, 51, 100, 2),
            dst: Ipv4Addr::new(203, 0, 113, 10),
            protocol: proto,
            ttl: 1,
            tos: 0,
            payload_len: 8,
        };
        r.emit(&mut f[14..34]);
        f[34] = first;
        f
    }

    #[test]
    fn time_exceeded_goes_back_to_the_source_quoting_its_packet() {
        let f = v4_frame(17, 0);
        let out = build(&f, &addrs(), IcmpError::TimeExceeded).unwrap();
        let eth = ethernet::Frame::new_checked(&out[..]).unwrap();
        assert_eq!(eth.dst_addr(), MacAddr([2, 0, 0, 0, 0, 9]));
        let ip = ipv4::Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!((ip.src_addr(), ip.dst_addr()), (Ipv4Addr::new(198, 51, 100, 1), Ipv4Addr::new(198, 51, 100, 2)));
        let icmp = icmpv4::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!((icmp.msg_type(), icmp.code()), (11, 0));
        assert_eq!(icmp.payload(), &f[14..]);
    }

    #[test]
    fn fragmentation_needed_carries_the_tunnel_mtu() {
        let out = build(&v4_frame(6, 0), &addrs(), IcmpError::TooBig { mtu: 1476 }).unwrap();
        let icmp = &out[34..];
        assert_eq!((icmp[0], icmp[1], u16::from_be_bytes([icmp[6], icmp[7]])), (3, 4, 1476));
    }

    #[test]
    fn no_error_about_an_icmp_error_but_echo_requests_get_one() {
        assert!(build(&v4_frame(1, 3), &addrs(), IcmpError::TimeExceeded).is_none());
        assert!(build(&v4_frame(1, 8), &addrs(), IcmpError::TimeExceeded).is_some());
    }

    #[test]
    fn packet_too_big_for_ipv6_has_the_mtu_and_a_valid_checksum() {
        let mut f = vec![0u8; 14 + 40 + 8];
        ethernet::emit_header(&mut f, MacAddr([2, 0, 0, 0, 1, 1]), MacAddr([2, 0, 0, 0, 0, 9]), 0x86dd);
        let r = ipv6::Ipv6Repr {
            src: "2001:db8:2::2".parse().unwrap(),
            dst: "2001:db8:100:1::100".parse().unwrap(),
            next_header: 17,
            hop_limit: 64,
            payload_len: 8,
        };
        r.emit(&mut f[14..54]);
        let out = build(&f, &addrs(), IcmpError::TooBig { mtu: 1280 }).unwrap();
        let ip = ipv6::Packet::new_checked(&out[14..]).unwrap();
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(ip.src_addr(), ip.dst_addr()));
        assert_eq!(icmp.msg_type(), 2);
        assert_eq!(&ip.payload()[4..8], &1280u32.to_be_bytes());
    }

    #[test]
    fn parameter_problem_for_ipv6_points_at_the_field_and_none_goes_out_over_ipv4() {
        let mut f = vec![0u8; 14 + 40 + 16];
        ethernet::emit_header(&mut f, MacAddr([2, 0, 0, 0, 1, 1]), MacAddr([2, 0, 0, 0, 0, 9]), 0x86dd);
        let r = ipv6::Ipv6Repr {
            src: "2001:db8:2::2".parse().unwrap(),
            dst: "2001:db8:2::1".parse().unwrap(),
            next_header: 135,
            hop_limit: 64,
            payload_len: 16,
        };
        r.emit(&mut f[14..54]);
        // A Mobility Header whose Payload Proto (its first octet) is 6.
        f[54] = 6;
        let out = build(&f, &addrs(), IcmpError::ParameterProblem { pointer: 40 }).unwrap();
        let ip = ipv6::Packet::new_checked(&out[14..]).unwrap();
        assert_eq!(ip.dst_addr(), "2001:db8:2::2".parse::<Ipv6Addr>().unwrap());
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(ip.src_addr(), ip.dst_addr()));
        assert_eq!((icmp.msg_type(), ip.payload()[1]), (4, 0));
        assert_eq!(&ip.payload()[4..8], &40u32.to_be_bytes());
        assert_eq!(&ip.payload()[8..], &f[14..]);
        assert!(build(&v4_frame(17, 0), &addrs(), IcmpError::ParameterProblem { pointer: 0 }).is_none());
    }
}
