//! Mobile IPv4 messages in and out of Ethernet frames: IPv4 | UDP, port 434
//! on our side (PROTOCOLS.md §8.1). A zero UDP checksum is accepted, a wrong
//! non-zero one is a silent drop; ours are always computed.

use std::net::Ipv4Addr;

use dataplane::wire::{checksum, ethernet, ipv4, udp, MacAddr};

use crate::mip4::{Received, MIP4_PORT};

/// Why a punted frame yielded no datagram for the home agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RxError {
    /// Not IPv4 | UDP to port 434 (or an IPv4 fragment, which the
    /// reassembly path handles before this).
    #[error("not a mobile ipv4 datagram")]
    NotMip4,
    /// A non-zero UDP checksum that does not verify (§8.7 step 1).
    #[error("udp checksum does not verify")]
    BadChecksum,
}

/// IPv4 | UDP with destination port 434 and something after the UDP
/// header that is not RFC 3519 tunnel data (type 4, the data plane's).
pub fn is_mip4(frame: &[u8]) -> bool {
    let Ok(eth) = ethernet::Frame::new_checked(frame) else { return false };
    if eth.ethertype() != ethernet::ethertype::IPV4 {
        return false;
    }
    let p = eth.payload();
    let ihl = usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4;
    p.get(9) == Some(&ipv4::protocol::UDP)
        && p.get(ihl + 2..ihl + 4) == Some(&MIP4_PORT.to_be_bytes()[..])
        && p.get(ihl + 8).is_some_and(|&t| t != 4)
}

/// Parses a punted frame into the datagram the home agent handles.
pub fn receive(frame: &[u8]) -> Result<Received, RxError> {
    let eth = ethernet::Frame::new_checked(frame).map_err(|_| RxError::NotMip4)?;
    if eth.ethertype() != ethernet::ethertype::IPV4 {
        return Err(RxError::NotMip4);
    }
    let ip = ipv4::Packet::new_checked(eth.payload()).map_err(|_| RxError::NotMip4)?;
    if ip.protocol() != ipv4::protocol::UDP || ip.is_fragment() {
        return Err(RxError::NotMip4);
    }
    let u = udp::Packet::new_checked(ip.payload()).map_err(|_| RxError::NotMip4)?;
    if u.dst_port() != MIP4_PORT {
        return Err(RxError::NotMip4);
    }
    if !u.verify_checksum_v4(ip.src_addr(), ip.dst_addr()) {
        return Err(RxError::BadChecksum);
    }
    Ok(Received { src: ip.src_addr(), dst: ip.dst_addr(), src_port: u.src_port(), payload: u.payload().to_vec() })
}

/// The Ethernet frame of `payload` sent from `src`:434 to `dst`:`dst_port`
/// (§8.1: replies go back to the request's source port), with its UDP
/// checksum.
pub fn frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    dst_port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let mut f = vec![0u8; 14 + 20 + 8];
    ethernet::emit_header(&mut f, dst_mac, src_mac, ethernet::ethertype::IPV4);
    let repr = ipv4::Ipv4Repr { src, dst, protocol: ipv4::protocol::UDP, ttl: 64, tos: 0, payload_len: udp_len };
    repr.emit(&mut f[14..34]);
    let u = udp::UdpRepr { src_port: MIP4_PORT, dst_port, payload_len: payload.len() };
    u.emit(&mut f[34..42]);
    f.extend_from_slice(payload);
    let len = u16::try_from(udp_len).unwrap_or(u16::MAX);
    let sum = checksum::pseudo_v4(src, dst, ipv4::protocol::UDP, len) + checksum::sum(&f[34..]);
    let c = match checksum::fold(sum) {
        0 => 0xffff,
        c => c,
    };
    f[40..42].copy_from_slice(&c.to_be_bytes());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const HA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn rrq_frame(first: u8) -> Vec<u8> {
        frame(MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]), A, HA, MIP4_PORT, &[first, 0, 0, 0])
    }

    #[test]
    fn a_framed_datagram_is_received_back_with_its_addresses_ports_and_payload() {
        let f = rrq_frame(1);
        assert!(is_mip4(&f));
        let rx = receive(&f).unwrap();
        assert_eq!((rx.src, rx.dst, rx.src_port, rx.payload), (A, HA, MIP4_PORT, vec![1, 0, 0, 0]));
    }

    #[test]
    fn tunnel_data_is_not_signalling() {
        assert!(!is_mip4(&rrq_frame(4)));
    }

    #[test]
    fn a_wrong_nonzero_udp_checksum_is_refused_and_a_zero_one_accepted() {
        let mut f = rrq_frame(1);
        f[40] ^= 0x55;
        assert_eq!(receive(&f), Err(RxError::BadChecksum));
        f[40..42].copy_from_slice(&[0, 0]);
        assert!(receive(&f).is_ok());
    }
}
