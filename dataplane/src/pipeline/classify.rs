//! Classify node: decides for each received frame whether it is for the
//! anchor itself (punt to the control thread), a tunnelled uplink packet to
//! decapsulate, a transit packet to look up for encapsulation, or a drop.
//! Validation happens here once, so later nodes trust the outer headers.

use core::net::IpAddr;

use crate::addrs::PortAddrs;
use crate::counters::DropReason;
use crate::tunnel::decap::{self, Outer, Uplink};
use crate::tunnel::TunnelKind;
use crate::wire::{arp, ethernet, icmpv4, icmpv6, ipv4, ipv6, udp};

/// What to do with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// For the control thread (ARP, ND, ICMP/ICMPv6 to our addresses,
    /// signalling, RFC 3519 keepalives).
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

/// What the fast classifier needs of a port's addresses: the MAC and up to
/// four IPv4 addresses (the list repeated to fill the array).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpressAddrs {
    mac: [u8; 6],
    v4: [u32; 4],
    /// Our IPv6 unicast addresses (link-local first), the list repeated to
    /// fill the array.
    v6: [u128; 4],
}

impl ExpressAddrs {
    /// `None` for a port with more IPv4 addresses than the array holds: its
    /// packets all take the general classifier.
    pub fn new(addrs: &PortAddrs) -> Option<ExpressAddrs> {
        let ours: Vec<u32> = addrs.ipv4.iter().map(|c| u32::from(c.addr)).collect();
        let ours6: Vec<u128> =
            std::iter::once(addrs.link_local).chain(addrs.ipv6.iter().map(|c| c.addr)).map(u128::from).collect();
        if ours.len() > 4 || ours6.len() > 4 {
            return None;
        }
        // No address: 0.0.0.0 stands in, and the general path handles it.
        let first = ours.first().copied().unwrap_or(0);
        let v4 = std::array::from_fn(|i| ours.get(i).copied().unwrap_or(first));
        let v6 = std::array::from_fn(|i| ours6.get(i).copied().unwrap_or(ours6[0]));
        Some(ExpressAddrs { mac: addrs.mac.0, v4, v6 })
    }
}

/// A packet the express paths take (see [`express`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Express {
    /// Plain IPv4 transit to this destination: encapsulate.
    Down(u32),
    /// IPv6 transit to this global unicast destination: encapsulate.
    Down6(u128),
    /// GRE over IPv4 to us carrying IPv4: check and decapsulate.
    Up(ExpressUp),
}

/// What the uplink express path needs of a GRE-in-IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpressUp {
    pub outer_src: u32,
    pub key: Option<u32>,
    /// Offset of the inner IPv4 header, and its total length.
    pub inner_off: u8,
    pub inner_len: u16,
    pub outer_ecn: u8,
    pub inner_src: u32,
    pub inner_dst: u32,
}

/// The classifier's fast path, tried before [`classify`]. A frame to our
/// MAC holding an IPv4 packet with a 20-byte header, a good checksum and a
/// total length within the frame is
/// - [`Express::Down`] when addressed to a unicast destination other than
///   our own addresses (transit traffic to encapsulate);
/// - [`Express::Up`] when addressed to us, not a fragment, GRE without
///   checksum or sequence number (key optional) with protocol type IPv4,
///   around an IPv4 packet with a 20-byte header and a good checksum that
///   fits in the outer one.
///
/// Any other frame gives `None` and goes to [`classify`], whose verdict for
/// the frames accepted here would be `Verdict::Downlink { l3_off: 14, .. }`
/// to the same destination, or `Verdict::Uplink` of a GRE packet with the
/// same outer source, key, inner offset and inner source.
#[inline(always)]
pub fn express(frame: &[u8], x: &ExpressAddrs) -> Option<Express> {
    let f: &[u8; 34] = frame.first_chunk()?;
    if f[0..6] != x.mac {
        return None;
    }
    let ethertype = u16::from_be_bytes([f[12], f[13]]);
    if ethertype == ethernet::ethertype::IPV6 {
        return express_v6(frame, x);
    }
    if ethertype != ethernet::ethertype::IPV4 || f[14] != 0x45 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([f[16], f[17]]));
    if len < 20 || len + 14 > frame.len() || !header_sum_ok(f, 14) {
        return None;
    }
    let dst = u32::from_be_bytes([f[30], f[31], f[32], f[33]]);
    if !x.v4.contains(&dst) {
        // 224.0.0.0 and above: multicast, reserved, broadcast. IP-in-IP
        // takes the general path (a tunnel loop is checked there).
        return (dst < 0xe000_0000 && f[23] != ipv4::protocol::IPIP).then_some(Express::Down(dst));
    }
    // To us: GRE, not a fragment (MF clear, offset 0).
    if f[23] != ipv4::protocol::GRE || u16::from_be_bytes([f[20], f[21]]) & 0x3fff != 0 {
        return None;
    }
    let end = 14 + len;
    let g: &[u8; 8] = frame.get(34..)?.first_chunk()?;
    if u16::from_be_bytes([g[2], g[3]]) != ethernet::ethertype::IPV4 {
        return None;
    }
    let (key, inner_off) = match u16::from_be_bytes([g[0], g[1]]) {
        0 => (None, 38),
        0x2000 => (Some(u32::from_be_bytes([g[4], g[5], g[6], g[7]])), 42),
        _ => return None,
    };
    let i: &[u8; 20] = frame.get(inner_off..end)?.first_chunk()?;
    let inner_len = u16::from_be_bytes([i[2], i[3]]);
    if i[0] != 0x45 || inner_len < 20 || inner_off + usize::from(inner_len) > end || !header_sum_ok(i, 0) {
        return None;
    }
    Some(Express::Up(ExpressUp {
        outer_src: u32::from_be_bytes([f[26], f[27], f[28], f[29]]),
        key,
        inner_off: inner_off as u8,
        inner_len,
        outer_ecn: f[15] & 0b11,
        inner_src: u32::from_be_bytes([i[12], i[13], i[14], i[15]]),
        inner_dst: u32::from_be_bytes([i[16], i[17], i[18], i[19]]),
    }))
}

/// The IPv6 half of [`express`]: a payload length within the frame and a
/// destination that is global unicast (not multicast, not link-local) and
/// not ours.
#[inline(always)]
fn express_v6(frame: &[u8], x: &ExpressAddrs) -> Option<Express> {
    let f: &[u8; 54] = frame.first_chunk()?;
    let len = usize::from(u16::from_be_bytes([f[18], f[19]]));
    if f[14] >> 4 != 6 || 54 + len > frame.len() {
        return None;
    }
    let dst = u128::from_be_bytes(f[38..54].try_into().ok()?);
    // ff00::/8 multicast, fe80::/10 link-local.
    if dst >> 120 == 0xff || dst >> 118 == 0xfe80 >> 6 || x.v6.contains(&dst) {
        return None;
    }
    Some(Express::Down6(dst))
}

/// Whether the 20-byte IPv4 header at `at` sums to 0xffff (RFC 1071): five
/// 32-bit words, folded. The sum does not depend on byte order, and 0xffff
/// reads the same both ways, so the words are summed as stored.
#[inline(always)]
fn header_sum_ok(b: &[u8], at: usize) -> bool {
    let Some(h) = b.get(at..).and_then(<[u8]>::first_chunk::<20>) else {
        return false;
    };
    let raw = |i: usize| u64::from(u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]));
    let mut sum = raw(0) + raw(4) + raw(8) + raw(12) + raw(16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum == 0xffff
}

/// ARP for one of our addresses, or on a home link for any address of its
/// subnets (the control thread answers for the home addresses it proxies,
/// RFC 5944 §4.6, and learns a returning mobile node's own MAC): punted.
fn classify_arp(payload: &[u8], addrs: &PortAddrs) -> Verdict {
    match arp::Packet::new_checked(payload) {
        Ok(p) if addrs.is_local_v4(p.target_ip()) || addrs.on_home_link_v4(p.target_ip()) => Verdict::Punt,
        Ok(_) => Verdict::Drop(DropReason::ArpNotOurs),
        Err(_) => Verdict::Drop(DropReason::ArpMalformed),
    }
}

fn uplink(r: Result<Outer, DropReason>, frame: &[u8], addrs: &PortAddrs) -> Verdict {
    match r {
        Ok(Outer::Tunnel(mut up)) => {
            up.inner_to_us = inner_is_ours(frame, &up, addrs);
            Verdict::Uplink(up)
        }
        Ok(Outer::NotTunnel) => Verdict::Drop(DropReason::LocalUnhandled),
        Err(reason) => Verdict::Drop(reason),
    }
}

/// Whether an uplink packet's inner destination is one of our addresses.
fn inner_is_ours(frame: &[u8], up: &Uplink, addrs: &PortAddrs) -> bool {
    let Some(inner) = frame.get(up.inner_off..) else { return false };
    if up.inner_v4 {
        inner.get(16..20).and_then(|b| <[u8; 4]>::try_from(b).ok()).is_some_and(|b| addrs.is_local_v4(b.into()))
    } else {
        inner.get(24..40).and_then(|b| <[u8; 16]>::try_from(b).ok()).is_some_and(|b| addrs.is_local_v6(b.into()))
    }
}

/// The uplink view of a decapsulated packet that is itself IPv6 in IPv4
/// to us (RFC 5454 §9.2: a DSMIPv4 node without Tunneling Mode sends IPv6
/// in IPv4 from its home address through its IPv4 tunnel): the IPv4 header
/// at offset 14 is checked as [`classify`] checks one addressed to us.
pub fn nested_uplink(frame: &[u8]) -> Result<Uplink, DropReason> {
    let l3 = frame.get(14..).unwrap_or_default();
    if l3.first().map(|b| b >> 4) == Some(6) {
        // IPv4 in IPv6 from a node on its IPv6 home link (the extended home
        // link, PROTOCOLS.md §11.4): no extension headers.
        let ip = ipv6::Packet::new_checked(l3).map_err(|_| DropReason::InnerMalformed)?;
        if ip.next_header() != ipv4::protocol::IPIP {
            return Err(DropReason::InnerMalformed);
        }
        let len = usize::from(ip.payload_len());
        return match decap::parse(frame, IpAddr::V6(ip.src_addr()), ipv4::protocol::IPIP, 54, len, ip.traffic_class())?
        {
            Outer::Tunnel(up) => Ok(up),
            Outer::NotTunnel => Err(DropReason::InnerMalformed),
        };
    }
    let ip = ipv4::Packet::new_checked(l3).map_err(|_| DropReason::InnerMalformed)?;
    if !ip.verify_checksum() || ip.is_fragment() || ip.protocol() != ipv4::protocol::IPV6 {
        return Err(DropReason::InnerMalformed);
    }
    let (off, len) = (14 + ip.header_len(), usize::from(ip.total_len()) - ip.header_len());
    match decap::parse(frame, IpAddr::V4(ip.src_addr()), ip.protocol(), off, len, ip.dscp_ecn())? {
        Outer::Tunnel(up) => Ok(up),
        Outer::NotTunnel => Err(DropReason::InnerMalformed),
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
                            // Mobile IPv4 signalling on port 434 (RFC 5944
                            // §3): everything but tunnel data (type 4,
                            // RFC 3519), which the data plane decapsulates.
                            if u.dst_port() == udp::port::MIP && u.payload().first() != Some(&4) {
                                return Verdict::Punt;
                            }
                            if u.dst_port() == udp::port::DSMIP6 && is_dsmip6_signalling(u.payload(), addrs) {
                                return Verdict::Punt;
                            }
                        }
                        _ => return Verdict::Drop(DropReason::InnerMalformed),
                    }
                }
                let off = l3_off + ip.header_len();
                let len = usize::from(ip.total_len()) - ip.header_len();
                let verdict = uplink(
                    decap::parse(frame, IpAddr::V4(ip.src_addr()), proto, off, len, ip.dscp_ecn()),
                    frame,
                    addrs,
                );
                match verdict {
                    // RFC 3519 §3.2, PROTOCOLS.md §8.12: an echo request to
                    // us through a MIP UDP tunnel is a keepalive, for the home
                    // agent (it may set or move the tunnel's far end, which
                    // the anti-spoofing check here cannot know about).
                    Verdict::Uplink(up) if up.kind == TunnelKind::MipUdp && is_keepalive(frame, &up, addrs) => {
                        Verdict::Punt
                    }
                    v => v,
                }
            }
            _ => Verdict::Drop(DropReason::LocalUnhandled),
        };
    }
    if dst.is_multicast() || dst.is_broadcast() {
        return Verdict::Drop(DropReason::MulticastNotOurs);
    }
    Verdict::Downlink { l3_off, dst: IpAddr::V4(dst) }
}

/// Whether the inner packet of a MIP UDP tunnel packet is an RFC 3519
/// keepalive: an unfragmented IPv4 ICMP echo request (type 8, code 0) to one
/// of our addresses. The control thread checks the rest (checksums, the
/// binding).
fn is_keepalive(frame: &[u8], up: &Uplink, addrs: &PortAddrs) -> bool {
    if !up.inner_v4 {
        return false;
    }
    let Some(inner) = frame.get(up.inner_off..) else { return false };
    let Ok(ip) = ipv4::Packet::new_checked(inner) else { return false };
    let icmp = ip.payload();
    ip.protocol() == ipv4::protocol::ICMP
        && !ip.is_fragment()
        && addrs.is_local_v4(ip.dst_addr())
        && icmp.len() >= 8
        && icmp[0] == icmpv4::TYPE_ECHO_REQUEST
        && icmp[1] == 0
}

/// IPv6 Fragment extension header (RFC 8200 §4.5).
const IPV6_FRAGMENT: u8 = 44;
/// IPv6 Destination Options header (RFC 8200 §4.6).
const IPV6_DEST_OPTS: u8 = 60;

/// Whether an IPv6 payload that starts with a Destination Options header
/// carries a Mobility Header after it.
fn dest_opts_then_mobility(payload: &[u8]) -> bool {
    match payload {
        [next, len, ..] => {
            let end = (usize::from(*len) + 1) * 8;
            *next == ipv4::protocol::MOBILITY && payload.len() >= end
        }
        _ => false,
    }
}

/// DSMIPv6 signalling over IPv4 (RFC 5555 §4.1, PROTOCOLS.md §11.1): the
/// UDP 4191 payload is an IPv6 packet to one of our addresses carrying a
/// Mobility Header (directly or behind Destination Options); any other
/// payload on that port is tunnelled data.
fn is_dsmip6_signalling(udp_payload: &[u8], addrs: &PortAddrs) -> bool {
    let Ok(ip) = ipv6::Packet::new_checked(udp_payload) else { return false };
    addrs.is_local_v6(ip.dst_addr())
        && (ip.next_header() == ipv4::protocol::MOBILITY
            || (ip.next_header() == IPV6_DEST_OPTS && dest_opts_then_mobility(ip.payload())))
}

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
            // Mobility Header signalling (PBU, heartbeat, revocation...),
            // also behind a Destination Options header (a DSMIPv6 Binding
            // Update carries the Home Address option, RFC 6275 §6.3).
            ipv4::protocol::MOBILITY if local => Verdict::Punt,
            IPV6_DEST_OPTS if local && dest_opts_then_mobility(ip.payload()) => Verdict::Punt,
            proto @ (ipv4::protocol::IPIP | ipv4::protocol::IPV6 | ipv4::protocol::GRE) if local => {
                let len = usize::from(ip.payload_len());
                uplink(
                    decap::parse(frame, IpAddr::V6(ip.src_addr()), proto, l3_off + 40, len, ip.traffic_class()),
                    frame,
                    addrs,
                )
            }
            _ if local => Verdict::Drop(DropReason::LocalUnhandled),
            _ => Verdict::Drop(DropReason::MulticastNotOurs),
        };
    }
    if dst.is_multicast() {
        // A home link: an NS to any solicited-node group may be for a home
        // address the control thread proxies (RFC 6275 §10.4.1); only ND is
        // punted.
        if addrs.home_link && ipv6::is_solicited_node(dst) && ip.next_header() == ipv4::protocol::ICMPV6 {
            return classify_icmpv6(ip.payload(), false);
        }
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

    /// A deterministic pseudo-random sequence (xorshift64) for the
    /// mutation tests.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

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
    fn nested_uplink_reads_ipv6_in_ipv4_and_ipv4_in_ipv6_from_a_home_address() {
        // IPv4 (PEER4 → US4, 20 + 8 octets) in IPv6 (PEER6 → US6, next header 4).
        let mut f = vec![0u8; 14 + 40 + 28];
        emit_header(&mut f, OURS, PEER, ethertype::IPV6);
        Ipv6Repr { src: PEER6, dst: US6, next_header: 4, hop_limit: 64, payload_len: 28 }.emit(&mut f[14..]);
        Ipv4Repr { src: PEER4, dst: US4, protocol: 17, ttl: 64, tos: 0, payload_len: 8 }.emit(&mut f[54..]);
        let up = nested_uplink(&f).unwrap();
        assert_eq!((up.outer_src, up.inner_v4, up.inner_off), (IpAddr::V6(PEER6), true, 54));
        assert_eq!(up.inner_src, IpAddr::V4(PEER4));
        // IPv6 in IPv4 (protocol 41).
        let mut f = vec![0u8; 14 + 20 + 48];
        emit_header(&mut f, OURS, PEER, ethertype::IPV4);
        Ipv4Repr { src: PEER4, dst: US4, protocol: 41, ttl: 64, tos: 0, payload_len: 48 }.emit(&mut f[14..]);
        Ipv6Repr { src: PEER6, dst: US6, next_header: 59, hop_limit: 64, payload_len: 8 }.emit(&mut f[34..]);
        let up = nested_uplink(&f).unwrap();
        assert_eq!((up.outer_src, up.inner_v4, up.inner_src), (IpAddr::V4(PEER4), false, IpAddr::V6(PEER6)));
        // Anything else: malformed for this purpose.
        assert_eq!(nested_uplink(&v4(US4, 17)), Err(DropReason::InnerMalformed));
        assert_eq!(nested_uplink(&v6(US6, 17, 0)), Err(DropReason::InnerMalformed));
        assert_eq!(nested_uplink(&[0u8; 10]), Err(DropReason::InnerMalformed));
    }

    #[test]
    fn express_takes_plain_ipv4_transit_and_leaves_the_rest_to_classify() {
        let a = addrs();
        let x = ExpressAddrs::new(&a).unwrap();
        let cn = Ipv4Addr::new(203, 0, 113, 10);
        assert_eq!(express(&v4(cn, protocol::UDP), &x), Some(Express::Down(u32::from(cn))));
        let refused = |mutate: &dyn Fn(&mut Vec<u8>)| {
            let mut f = v4(cn, protocol::UDP);
            mutate(&mut f);
            express(&f, &x)
        };
        assert_eq!(refused(&|f| f.truncate(33)), None, "short");
        assert_eq!(refused(&|f| f[0] = 0x04), None, "another MAC");
        assert_eq!(refused(&|f| f[14] = 0x46), None, "options");
        assert_eq!(refused(&|f| f[25] ^= 1), None, "bad checksum");
        assert_eq!(refused(&|f| f[12..14].copy_from_slice(&[0x81, 0])), None, "VLAN");
        assert_eq!(express(&v4(US4, protocol::UDP), &x), None, "ours");
        assert_eq!(express(&v4(Ipv4Addr::new(224, 0, 0, 5), protocol::UDP), &x), None, "multicast");
        assert_eq!(express(&v4(Ipv4Addr::BROADCAST, protocol::UDP), &x), None, "broadcast");
    }

    #[test]
    fn express_takes_global_ipv6_transit_only() {
        let a = addrs();
        let x = ExpressAddrs::new(&a).unwrap();
        let cn: Ipv6Addr = "2001:db8:2::2".parse().unwrap();
        assert_eq!(express(&v6(cn, protocol::UDP, 0), &x), Some(Express::Down6(u128::from(cn))));
        assert_eq!(express(&v6(US6, protocol::UDP, 0), &x), None, "ours");
        assert_eq!(express(&v6(a.link_local, protocol::UDP, 0), &x), None, "our link-local");
        assert_eq!(express(&v6("fe80::9".parse().unwrap(), protocol::UDP, 0), &x), None, "link-local");
        assert_eq!(express(&v6("ff02::1".parse().unwrap(), protocol::UDP, 0), &x), None, "multicast");
        let mut short = v6(cn, protocol::UDP, 0);
        short.pop();
        assert_eq!(express(&short, &x), None, "payload length beyond the frame");
    }

    /// Whatever the frame, an IPv6 packet the express path accepts is one
    /// the general classifier calls a downlink at offset 14 to the same
    /// address.
    #[test]
    fn express_ipv6_never_accepts_what_classify_would_treat_otherwise() {
        let a = addrs();
        let x = ExpressAddrs::new(&a).unwrap();
        let bases = [
            v6("2001:db8:2::2".parse().unwrap(), protocol::UDP, 0),
            v6(US6, protocol::UDP, 0),
            v6("fe80::1".parse().unwrap(), protocol::ICMPV6, 135),
        ];
        let mut next = xorshift(0x1234_5678_9abc_def1u64);
        let mut accepted = 0;
        for round in 0..100_000 {
            let mut f = bases[round % bases.len()].clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() % 62) as usize;
                // Mostly the interesting bytes: addresses' first bytes,
                // version, length, ethertype.
                let at = [at, 14, 18, 19, 38, 39, 53, 12, 13][(next() % 9) as usize];
                f[at] = if next().is_multiple_of(2) { next() as u8 } else { f[at] ^ (1 << (next() % 8)) };
            }
            f.truncate(54 + (next() % 9) as usize);
            if let Some(Express::Down6(dst)) = express(&f, &x) {
                accepted += 1;
                let want = Verdict::Downlink { l3_off: 14, dst: IpAddr::V6(dst.into()) };
                assert_eq!(classify(&f, &a), want, "{f:02x?}");
            }
        }
        assert!(accepted > 1000, "{accepted} accepted");
    }

    /// Ethernet + IPv4 (PEER4 -> US4, GRE, ECT(0)) + GRE (key 100 or none) +
    /// IPv4 (203.0.113.10 -> 198.51.100.2, UDP) + 8 bytes.
    fn gre_up(key: Option<u32>) -> Vec<u8> {
        let glen = if key.is_some() { 8 } else { 4 };
        let mut f = vec![0u8; 14 + 20 + glen + 28];
        emit_header(&mut f, OURS, PEER, ethertype::IPV4);
        let repr = Ipv4Repr { src: PEER4, dst: US4, protocol: protocol::GRE, ttl: 64, tos: 2, payload_len: glen + 28 };
        repr.emit(&mut f[14..]);
        if let Some(k) = key {
            f[34] = 0x20;
            f[38..42].copy_from_slice(&k.to_be_bytes());
        }
        f[36..38].copy_from_slice(&[0x08, 0x00]);
        let inner = Ipv4Repr {
            src: Ipv4Addr::new(203, 0, 113, 10),
            dst: Ipv4Addr::new(198, 51, 100, 2),
            protocol: protocol::UDP,
            ttl: 64,
            tos: 0,
            payload_len: 8,
        };
        inner.emit(&mut f[34 + glen..]);
        f
    }

    /// Whatever the frame, an uplink packet the express path accepts is one
    /// the general classifier calls a GRE uplink with the same fields.
    #[test]
    fn express_uplink_agrees_with_classify_on_every_field() {
        let a = addrs();
        let x = ExpressAddrs::new(&a).unwrap();
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let mut accepted = [0; 2];
        for round in 0..100_000 {
            let key = if round % 2 == 0 { Some(100) } else { None };
            let mut f = gre_up(key);
            if round % 10 != 0 {
                for _ in 0..1 + next() % 2 {
                    let at = (next() % f.len() as u64) as usize;
                    f[at] = next() as u8;
                }
                // Fix both checksums up half of the time.
                if next().is_multiple_of(2) {
                    for at in [14, 34 + if key.is_some() { 8 } else { 4 }] {
                        let ip = &mut f[at..at + 20];
                        ip[10..12].fill(0);
                        let c = crate::wire::checksum::fold(crate::wire::checksum::sum(ip));
                        ip[10..12].copy_from_slice(&c.to_be_bytes());
                    }
                }
            }
            if let Some(Express::Up(u)) = express(&f, &x) {
                accepted[usize::from(u.key.is_some())] += 1;
                let Verdict::Uplink(up) = classify(&f, &a) else { panic!("{f:02x?}: {:?}", classify(&f, &a)) };
                assert_eq!(up.kind, crate::tunnel::TunnelKind::Gre);
                assert_eq!(up.outer_src, IpAddr::V4(u.outer_src.into()));
                assert_eq!(up.key, u.key);
                assert_eq!(up.inner_off, usize::from(u.inner_off));
                assert!(up.inner_v4);
                assert_eq!(up.inner_src, IpAddr::V4(u.inner_src.into()));
                assert_eq!(up.outer_ecn, u.outer_ecn);
            }
        }
        assert!(accepted.iter().all(|&n| n > 1000), "{accepted:?}");
    }

    /// Whatever the frame, a packet the express path accepts is one the
    /// general classifier calls a downlink at offset 14 to the same address.
    #[test]
    fn express_never_accepts_what_classify_would_treat_otherwise() {
        let a = addrs();
        let x = ExpressAddrs::new(&a).unwrap();
        let base = v4(Ipv4Addr::new(203, 0, 113, 10), protocol::UDP);
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        let mut accepted = 0;
        for _ in 0..100_000 {
            let mut f = base.clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() % 42) as usize;
                f[at] = next() as u8;
            }
            if next().is_multiple_of(2) {
                // Fix the checksum up so the mutation reaches the later tests.
                let ip = &mut f[14..34];
                ip[10..12].fill(0);
                let c = crate::wire::checksum::fold(crate::wire::checksum::sum(ip));
                ip[10..12].copy_from_slice(&c.to_be_bytes());
            }
            f.truncate(34 + (next() % 9) as usize);
            if let Some(Express::Down(dst)) = express(&f, &x) {
                accepted += 1;
                let want = Verdict::Downlink { l3_off: 14, dst: IpAddr::V4(dst.into()) };
                assert_eq!(classify(&f, &a), want, "{f:02x?}");
            }
        }
        assert!(accepted > 1000, "{accepted} accepted: the mutations should leave many packets valid");
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
    fn on_a_home_link_arp_for_any_address_of_its_subnet_is_punted_and_for_others_dropped() {
        let home = addrs().with_home_link(true);
        assert_eq!(classify(&arp(Ipv4Addr::new(192, 0, 2, 77)), &home), Verdict::Punt);
        assert_eq!(classify(&arp(US4), &home), Verdict::Punt);
        assert_eq!(classify(&arp(Ipv4Addr::new(198, 51, 100, 1)), &home), drop(DropReason::ArpNotOurs));
        // Not a home link: only our own address.
        assert_eq!(classify(&arp(Ipv4Addr::new(192, 0, 2, 77)), &addrs()), drop(DropReason::ArpNotOurs));
    }

    #[test]
    fn on_a_home_link_nd_to_any_solicited_node_group_is_punted_but_nothing_else_multicast() {
        let home = addrs().with_home_link(true);
        let group = crate::wire::ipv6::solicited_node(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x77));
        assert!(!home.is_our_multicast_v6(group));
        for t in [icmpv6::TYPE_NEIGHBOR_SOLICIT, icmpv6::TYPE_NEIGHBOR_ADVERT] {
            assert_eq!(classify(&v6(group, protocol::ICMPV6, t), &home), Verdict::Punt);
            assert_eq!(classify(&v6(group, protocol::ICMPV6, t), &addrs()), drop(DropReason::MulticastNotOurs));
        }
        assert_eq!(
            classify(&v6(group, protocol::ICMPV6, icmpv6::TYPE_ECHO_REQUEST), &home),
            drop(DropReason::MulticastNotOurs)
        );
        assert_eq!(classify(&v6(group, protocol::UDP, 0), &home), drop(DropReason::MulticastNotOurs));
        let other_group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb);
        assert_eq!(
            classify(&v6(other_group, protocol::ICMPV6, icmpv6::TYPE_NEIGHBOR_SOLICIT), &home),
            drop(DropReason::MulticastNotOurs)
        );
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

    #[test]
    fn mobile_ipv4_signalling_on_port_434_is_punted_but_tunnel_data_is_not() {
        let udp434 = |first: u8| {
            let mut f = v4(US4, protocol::UDP);
            f.extend_from_slice(&[0; 4]);
            let total = (f.len() - 14) as u16;
            f[16..18].copy_from_slice(&total.to_be_bytes());
            f[24..26].fill(0);
            let c = crate::wire::checksum::fold(crate::wire::checksum::sum(&f[14..34]));
            f[24..26].copy_from_slice(&c.to_be_bytes());
            f[34..36].copy_from_slice(&434u16.to_be_bytes());
            f[36..38].copy_from_slice(&434u16.to_be_bytes());
            f[38..40].copy_from_slice(&12u16.to_be_bytes());
            f[42] = first;
            f
        };
        // Registration Request (type 1): for the home agent.
        assert_eq!(classify(&udp434(1), &addrs()), Verdict::Punt);
        // Tunnel data (type 4) with a bad inner header: the data plane's.
        assert!(matches!(classify(&udp434(4), &addrs()), Verdict::Drop(_)));
    }

    /// Ethernet + IPv4 (PEER4:40001 -> US4:434, UDP checksum 0) + MIP tunnel
    /// data (type 4, next header 4) + IPv4 (203.0.113.10 -> `inner_dst`, ICMP)
    /// + ICMP `icmp_type` code 0, id 0x1234, seq 1, 4 data bytes.
    fn mip_udp(inner_dst: Ipv4Addr, icmp_type: u8) -> Vec<u8> {
        let icmp_len = 8 + 4;
        let inner_len = 20 + icmp_len;
        let udp_len = 8 + 4 + inner_len;
        let mut f = vec![0u8; 14 + 20 + udp_len];
        emit_header(&mut f, OURS, PEER, ethertype::IPV4);
        Ipv4Repr { src: PEER4, dst: US4, protocol: protocol::UDP, ttl: 64, tos: 0, payload_len: udp_len }
            .emit(&mut f[14..]);
        f[34..36].copy_from_slice(&40001u16.to_be_bytes());
        f[36..38].copy_from_slice(&434u16.to_be_bytes());
        f[38..40].copy_from_slice(&(udp_len as u16).to_be_bytes());
        f[42..46].copy_from_slice(&[4, 4, 0, 0]);
        let hoa = Ipv4Addr::new(203, 0, 113, 10);
        Ipv4Repr { src: hoa, dst: inner_dst, protocol: protocol::ICMP, ttl: 64, tos: 0, payload_len: icmp_len }
            .emit(&mut f[46..]);
        f[66] = icmp_type;
        f[70..76].copy_from_slice(&[0x12, 0x34, 0, 1, b'k', b'a']);
        let c = crate::wire::checksum::fold(crate::wire::checksum::sum(&f[66..]));
        f[68..70].copy_from_slice(&c.to_be_bytes());
        f
    }

    #[test]
    fn an_echo_request_to_us_through_a_mip_udp_tunnel_is_a_keepalive_for_the_control_thread() {
        assert_eq!(classify(&mip_udp(US4, 8), &addrs()), Verdict::Punt);
        // Other tunnel data stays the data plane's (decapsulated, and checked
        // against the binding's tunnel there): an echo to another host, an
        // echo reply to us, an inner fragment.
        for f in [mip_udp(Ipv4Addr::new(198, 51, 100, 2), 8), mip_udp(US4, 0), {
            let mut f = mip_udp(US4, 8);
            f[52] = 0x20; // MF
            f[56..58].fill(0);
            let c = crate::wire::checksum::fold(crate::wire::checksum::sum(&f[46..66]));
            f[56..58].copy_from_slice(&c.to_be_bytes());
            f
        }] {
            let Verdict::Uplink(up) = classify(&f, &addrs()) else { panic!("{:?}", classify(&f, &addrs())) };
            assert_eq!((up.kind, up.src_port, up.inner_off), (crate::tunnel::TunnelKind::MipUdp, 40001, 46));
        }
        // The express path never takes it (UDP, not GRE).
        assert_eq!(express(&mip_udp(US4, 8), &ExpressAddrs::new(&addrs()).unwrap()), None);
    }
}
