//! Mobile IPv4 messages in and out of Ethernet frames: IPv4 | UDP, port 434
//! on our side (PROTOCOLS.md §8.1). A zero UDP checksum is accepted, a wrong
//! non-zero one is a silent drop; ours are always computed.

use std::net::Ipv4Addr;

use dataplane::wire::{checksum, ethernet, icmpv4, ipv4, udp, MacAddr};

use crate::mip4::{Received, MIP4_PORT};

/// MIP Tunnel Data message type (RFC 3519 §3.3).
pub const TUNNEL_DATA: u8 = 4;

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
    /// A keepalive whose inner IPv4 or ICMP header is malformed or fails
    /// its checksum.
    #[error("malformed keepalive")]
    BadKeepalive,
}

/// An RFC 3519 keepalive (§8.12): an ICMP echo request from the mobile
/// node's home address to us, in MIP tunnel data on UDP 434.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keepalive {
    /// Outer source address and UDP port (the NAT's public side).
    pub src: Ipv4Addr,
    pub src_port: u16,
    /// Outer destination: the address it was sent to.
    pub dst: Ipv4Addr,
    /// Inner source (the home address) and destination (ours).
    pub inner_src: Ipv4Addr,
    pub inner_dst: Ipv4Addr,
    pub ident: u16,
    pub seq: u16,
    /// The echo data, returned unchanged (RFC 792).
    pub data: Vec<u8>,
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

/// IPv4 | UDP to port 434 | MIP tunnel data carrying IPv4 (next header 4)
/// | ICMP echo request: what the data plane punts as a keepalive (it has
/// checked that the inner destination is ours).
pub fn is_keepalive(frame: &[u8]) -> bool {
    let Ok(eth) = ethernet::Frame::new_checked(frame) else { return false };
    if eth.ethertype() != ethernet::ethertype::IPV4 {
        return false;
    }
    let p = eth.payload();
    let ihl = usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4;
    let tunnel = ihl + 8;
    let inner_ihl = usize::from(p.get(tunnel + 4).map_or(0, |b| b & 0x0f)) * 4;
    p.get(9) == Some(&ipv4::protocol::UDP)
        && p.get(ihl + 2..ihl + 4) == Some(&MIP4_PORT.to_be_bytes()[..])
        && p.get(tunnel..tunnel + 2) == Some(&[TUNNEL_DATA, 4][..])
        && p.get(tunnel + 4 + 9) == Some(&ipv4::protocol::ICMP)
        && p.get(tunnel + 4 + inner_ihl) == Some(&icmpv4::TYPE_ECHO_REQUEST)
}

/// Parses a punted keepalive frame: UDP checksum (zero accepted), inner
/// IPv4 header checksum, not a fragment, ICMP echo request code 0 with a
/// good checksum.
pub fn receive_keepalive(frame: &[u8]) -> Result<Keepalive, RxError> {
    let rx = receive(frame)?;
    if rx.payload.get(..2) != Some(&[TUNNEL_DATA, 4][..]) {
        return Err(RxError::NotMip4);
    }
    let inner = rx.payload.get(4..).ok_or(RxError::BadKeepalive)?;
    let inner = ipv4::Packet::new_checked(inner).map_err(|_| RxError::BadKeepalive)?;
    if !inner.verify_checksum() || inner.is_fragment() || inner.protocol() != ipv4::protocol::ICMP {
        return Err(RxError::BadKeepalive);
    }
    let icmp = icmpv4::Packet::new_checked(inner.payload()).map_err(|_| RxError::BadKeepalive)?;
    if icmp.msg_type() != icmpv4::TYPE_ECHO_REQUEST || icmp.code() != 0 || !icmp.verify_checksum() {
        return Err(RxError::BadKeepalive);
    }
    Ok(Keepalive {
        src: rx.src,
        src_port: rx.src_port,
        dst: rx.dst,
        inner_src: inner.src_addr(),
        inner_dst: inner.dst_addr(),
        ident: icmp.echo_ident(),
        seq: icmp.echo_seq(),
        data: icmp.payload().to_vec(),
    })
}

/// The answer to keepalive `ka` (two-way keepalive, §8.12): an ICMP echo
/// reply from the address the request went to (RFC 1122 §3.2.2.6) to the
/// home address, with the request's identifier, sequence number and data
/// (RFC 792), in MIP tunnel data from `local`:434 to the keepalive's
/// source address and port.
pub fn keepalive_reply(src_mac: MacAddr, dst_mac: MacAddr, local: Ipv4Addr, ka: &Keepalive) -> Vec<u8> {
    let icmp_len = icmpv4::HEADER_LEN + ka.data.len();
    let mut payload = vec![0u8; 4 + 20 + icmp_len];
    payload[..2].copy_from_slice(&[TUNNEL_DATA, 4]);
    let inner = ipv4::Ipv4Repr {
        src: ka.inner_dst,
        dst: ka.inner_src,
        protocol: ipv4::protocol::ICMP,
        ttl: 64,
        tos: 0,
        payload_len: icmp_len,
    };
    inner.emit(&mut payload[4..24]);
    let mut icmp = icmpv4::Packet::new_unchecked(&mut payload[24..]);
    icmp.set_msg_type(icmpv4::TYPE_ECHO_REPLY);
    icmp.set_code(0);
    icmp.set_echo_ident(ka.ident);
    icmp.set_echo_seq(ka.seq);
    icmp.payload_mut().copy_from_slice(&ka.data);
    icmp.fill_checksum();
    frame(src_mac, dst_mac, local, ka.src, ka.src_port, &payload)
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

    const HOA: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);

    fn keepalive(data: &[u8]) -> Keepalive {
        Keepalive {
            src: A,
            src_port: 40001,
            dst: HA,
            inner_src: HOA,
            inner_dst: HA,
            ident: 0x4242,
            seq: 7,
            data: data.to_vec(),
        }
    }

    /// A keepalive as the mobile node sends it: our reply builder with the
    /// roles swapped and the ICMP type set back to echo request.
    fn keepalive_frame(data: &[u8]) -> Vec<u8> {
        let mut k = keepalive(data);
        (k.inner_src, k.inner_dst) = (HA, HOA);
        let mut f = keepalive_reply(MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]), A, &k);
        // Outer HA -> A:40001 becomes A:40001 -> HA:434; ICMP type 8.
        f[26..30].copy_from_slice(&A.octets());
        f[30..34].copy_from_slice(&HA.octets());
        f[34..36].copy_from_slice(&40001u16.to_be_bytes());
        f[36..38].copy_from_slice(&MIP4_PORT.to_be_bytes());
        f[40..42].fill(0);
        f[66] = icmpv4::TYPE_ECHO_REQUEST;
        let mut icmp = icmpv4::Packet::new_unchecked(&mut f[66..]);
        icmp.fill_checksum();
        f
    }

    #[test]
    fn a_keepalive_is_recognised_and_parsed_with_its_echo_fields() {
        let f = keepalive_frame(b"nat-keepalive");
        assert!(is_keepalive(&f));
        assert!(!is_mip4(&f), "tunnel data is not signalling");
        assert_eq!(receive_keepalive(&f), Ok(keepalive(b"nat-keepalive")));
        // Not an echo request: not a keepalive.
        let mut reply = f.clone();
        reply[66] = icmpv4::TYPE_ECHO_REPLY;
        assert!(!is_keepalive(&reply));
        // A bad ICMP checksum or a truncated inner packet is refused.
        let mut bad = f.clone();
        bad[70] ^= 1;
        assert_eq!(receive_keepalive(&bad), Err(RxError::BadKeepalive));
    }

    #[test]
    fn the_keepalive_reply_is_an_echo_reply_from_the_home_agent_in_tunnel_data_to_the_nat_port() {
        let f = keepalive_reply(MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]), HA, &keepalive(b"abc"));
        let eth = ethernet::Frame::new_checked(&f[..]).unwrap();
        let ip = ipv4::Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!((ip.src_addr(), ip.dst_addr()), (HA, A));
        let u = udp::Packet::new_checked(ip.payload()).unwrap();
        assert!(u.verify_checksum_v4(HA, A));
        assert_eq!((u.src_port(), u.dst_port()), (MIP4_PORT, 40001));
        assert_eq!(&u.payload()[..4], &[4, 4, 0, 0]);
        let inner = ipv4::Packet::new_checked(&u.payload()[4..]).unwrap();
        assert!(inner.verify_checksum());
        assert_eq!((inner.src_addr(), inner.dst_addr(), inner.protocol()), (HA, HOA, ipv4::protocol::ICMP));
        let icmp = icmpv4::Packet::new_checked(inner.payload()).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!((icmp.msg_type(), icmp.code(), icmp.echo_ident(), icmp.echo_seq()), (0, 0, 0x4242, 7));
        assert_eq!(icmp.payload(), b"abc");
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
