//! Mobility Header messages in and out of Ethernet frames: IPv6 next header
//! 135 (PMIPv6 over IPv6), or IPv4 | UDP 5436 (RFC 5844 IPv4 transport,
//! MH checksum 0, UDP checksum mandatory) — PROTOCOLS.md §2.1, §4.8.1.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dataplane::wire::{checksum, ethernet, ipv4, ipv6, udp, MacAddr};

use crate::pmip6::{Received, Transport};
use crate::proto::{self, Checksum, MhError};

/// UDP port of PMIPv6 signalling over IPv4 (RFC 5844).
pub use crate::pmip6::PMIP6_CONTROL_PORT;

/// Why a punted frame yielded no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxError {
    /// Not a Mobility Header packet at all.
    NotMobility,
    /// A Mobility Header packet the codec refused, with where it came from
    /// (for a Binding Error reply).
    Mh { error: MhError, src: IpAddr, dst: IpAddr, transport: Transport },
}

/// Parses a punted Ethernet frame carrying a Mobility Header message.
pub fn receive(frame: &[u8]) -> Result<Received, RxError> {
    let eth = ethernet::Frame::new_checked(frame).map_err(|_| RxError::NotMobility)?;
    match eth.ethertype() {
        ethernet::ethertype::IPV6 => {
            let ip = ipv6::Packet::new_checked(eth.payload()).map_err(|_| RxError::NotMobility)?;
            if ip.next_header() != ipv4::protocol::MOBILITY {
                return Err(RxError::NotMobility);
            }
            let (src, dst) = (ip.src_addr(), ip.dst_addr());
            let msg = proto::parse(ip.payload(), Checksum::Ipv6 { src, dst }).map_err(|error| RxError::Mh {
                error,
                src: IpAddr::V6(src),
                dst: IpAddr::V6(dst),
                transport: Transport::Ipv6,
            })?;
            Ok(Received { src: IpAddr::V6(src), dst: IpAddr::V6(dst), transport: Transport::Ipv6, msg })
        }
        ethernet::ethertype::IPV4 => {
            let ip = ipv4::Packet::new_checked(eth.payload()).map_err(|_| RxError::NotMobility)?;
            if ip.protocol() != ipv4::protocol::UDP || ip.is_fragment() {
                return Err(RxError::NotMobility);
            }
            let u = udp::Packet::new_checked(ip.payload()).map_err(|_| RxError::NotMobility)?;
            if u.dst_port() != PMIP6_CONTROL_PORT {
                return Err(RxError::NotMobility);
            }
            let msg = proto::parse(u.payload(), Checksum::None).map_err(|error| RxError::Mh {
                error,
                src: IpAddr::V4(ip.src_addr()),
                dst: IpAddr::V4(ip.dst_addr()),
                transport: Transport::Udp4 { src_port: u.src_port() },
            })?;
            Ok(Received {
                src: IpAddr::V4(ip.src_addr()),
                dst: IpAddr::V4(ip.dst_addr()),
                transport: Transport::Udp4 { src_port: u.src_port() },
                msg,
            })
        }
        _ => Err(RxError::NotMobility),
    }
}

/// Builds the Ethernet frame for a message the LMA sends.
pub fn frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: IpAddr,
    dst: IpAddr,
    transport: Transport,
    msg: &proto::MhMessage,
) -> Option<Vec<u8>> {
    match (src, dst, transport) {
        (IpAddr::V6(s), IpAddr::V6(d), Transport::Ipv6) => Some(frame_v6(src_mac, dst_mac, s, d, msg)),
        (IpAddr::V4(s), IpAddr::V4(d), Transport::Udp4 { src_port }) => {
            Some(frame_v4(src_mac, dst_mac, s, d, src_port, msg))
        }
        _ => None,
    }
}

fn frame_v6(src_mac: MacAddr, dst_mac: MacAddr, src: Ipv6Addr, dst: Ipv6Addr, msg: &proto::MhMessage) -> Vec<u8> {
    let mh = proto::emit(msg, Checksum::Ipv6 { src, dst });
    let mut f = vec![0u8; 14 + 40];
    ethernet::emit_header(&mut f, dst_mac, src_mac, ethernet::ethertype::IPV6);
    let repr = ipv6::Ipv6Repr { src, dst, next_header: ipv4::protocol::MOBILITY, hop_limit: 64, payload_len: mh.len() };
    repr.emit(&mut f[14..54]);
    f.extend_from_slice(&mh);
    f
}

fn frame_v4(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    dst_port: u16,
    msg: &proto::MhMessage,
) -> Vec<u8> {
    let mh = proto::emit(msg, Checksum::None);
    let udp_len = 8 + mh.len();
    let mut f = vec![0u8; 14 + 20 + 8];
    ethernet::emit_header(&mut f, dst_mac, src_mac, ethernet::ethertype::IPV4);
    let repr = ipv4::Ipv4Repr { src, dst, protocol: ipv4::protocol::UDP, ttl: 64, tos: 0, payload_len: udp_len };
    repr.emit(&mut f[14..34]);
    let u = udp::UdpRepr { src_port: PMIP6_CONTROL_PORT, dst_port, payload_len: mh.len() };
    u.emit(&mut f[34..42]);
    f.extend_from_slice(&mh);
    let len = u16::try_from(udp_len).unwrap_or(u16::MAX);
    let sum = checksum::pseudo_v4(src, dst, ipv4::protocol::UDP, len) + checksum::sum(&f[34..]);
    let c = match checksum::fold(sum) {
        0 => 0xffff,
        c => c,
    };
    f[40..42].copy_from_slice(&c.to_be_bytes());
    f
}
