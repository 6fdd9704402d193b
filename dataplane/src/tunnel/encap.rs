//! Encapsulation node (downlink): the inner IPv4/IPv6 packet of a received
//! frame gets the tunnel's prebuilt header prepended in the headroom, with
//! lengths, IPv4 ID and checksum, DSCP/ECN and the IP-in-IP protocol patched
//! (PROTOCOLS.md §12.2–12.5). No allocation, no copy of the payload.

use super::{ecn, Express, Tunnel, EXPRESS_WINDOW};
use crate::port::PacketBuf;
use crate::wire::checksum;

/// Why a packet could not be encapsulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncapError {
    /// Inner TTL / hop limit would reach 0: ICMP Time Exceeded (§12.3).
    TtlExceeded,
    /// Too big and may not be fragmented: ICMP fragmentation needed (IPv4,
    /// DF set) or ICMPv6 Packet Too Big with this MTU (§12.5).
    TooBig { mtu: u16 },
    /// Too big, fragmentation allowed: the slow path fragments it.
    NeedsFragmentation,
    /// The tunnel's next hop has no MAC yet.
    NoNeighbor,
    /// Not enough headroom for the header (never with DPDK's 128 bytes).
    NoHeadroom,
    /// The inner header does not hold together.
    Malformed,
}

/// The inner packet's facts the encapsulation needs.
struct Inner {
    v4: bool,
    len: usize,
    tos: u8,
    ttl: u8,
    df: bool,
}

#[inline]
fn inspect(inner: &[u8]) -> Result<Inner, EncapError> {
    let first = *inner.first().ok_or(EncapError::Malformed)?;
    match first >> 4 {
        4 if inner.len() >= 20 => Ok(Inner {
            v4: true,
            len: usize::from(u16::from_be_bytes([inner[2], inner[3]])),
            tos: inner[1],
            ttl: inner[8],
            df: inner[6] & 0x40 != 0,
        }),
        6 if inner.len() >= 40 => Ok(Inner {
            v4: false,
            len: 40 + usize::from(u16::from_be_bytes([inner[4], inner[5]])),
            tos: (inner[0] << 4) | (inner[1] >> 4),
            ttl: inner[7],
            df: true,
        }),
        _ => Err(EncapError::Malformed),
    }
}

/// Checks that the inner packet at `l3_off` may go into `t` (next hop known,
/// TTL, MTU) without changing anything.
#[inline]
pub fn check(frame: &[u8], l3_off: usize, t: &Tunnel) -> Result<(), EncapError> {
    let inner = inspect(frame.get(l3_off..).ok_or(EncapError::Malformed)?)?;
    admit(&inner, frame.len() - l3_off, t)
}

#[inline]
fn admit(inner: &Inner, avail: usize, t: &Tunnel) -> Result<(), EncapError> {
    if t.next_hop_mac.is_none() {
        return Err(EncapError::NoNeighbor);
    }
    if inner.len > avail || inner.len < if inner.v4 { 20 } else { 40 } {
        return Err(EncapError::Malformed);
    }
    if inner.ttl <= 1 {
        return Err(EncapError::TtlExceeded);
    }
    let mtu = if inner.v4 { t.mtu_v4 } else { t.mtu_v6 };
    if inner.len > usize::from(mtu) {
        return Err(match (inner.v4, inner.df) {
            (true, true) => EncapError::TooBig { mtu },
            (true, false) => EncapError::NeedsFragmentation,
            // RFC 2473 §7.1: > 1280 gets a Packet Too Big; smaller ones are
            // sent and fragmented outside.
            (false, _) if inner.len > 1280 => EncapError::TooBig { mtu: mtu.max(1280) },
            (false, _) => EncapError::NeedsFragmentation,
        });
    }
    Ok(())
}

/// Encapsulates the inner packet that starts at `l3_off` of `buf` into `t`:
/// decrements the inner TTL (one hop through the anchor), drops Ethernet
/// padding, replaces the Ethernet header with the template and patches it.
/// `ip_id` is the worker's IPv4 Identification counter.
#[inline]
pub fn encapsulate<B: PacketBuf>(buf: &mut B, l3_off: usize, t: &Tunnel, ip_id: &mut u16) -> Result<(), EncapError> {
    encapsulate_sized(buf, l3_off, t, ip_id, true)
}

/// [`encapsulate`] for a packet that is larger than the tunnel MTU but may
/// go whole into the tunnel because the *outer* packet will be fragmented
/// (RFC 2473 §7.1: inner IPv6 of at most 1280 octets; RFC 4213: IPv6 over
/// IPv4 with DF clear). The control thread's slow path only.
pub fn encapsulate_oversize<B: PacketBuf>(
    buf: &mut B,
    l3_off: usize,
    t: &Tunnel,
    ip_id: &mut u16,
) -> Result<(), EncapError> {
    encapsulate_sized(buf, l3_off, t, ip_id, false)
}

#[inline(always)]
fn encapsulate_sized<B: PacketBuf>(
    buf: &mut B,
    l3_off: usize,
    t: &Tunnel,
    ip_id: &mut u16,
    check_mtu: bool,
) -> Result<(), EncapError> {
    let data = buf.data();
    let inner = inspect(data.get(l3_off..).ok_or(EncapError::Malformed)?)?;
    match admit(&inner, data.len() - l3_off, t) {
        Err(EncapError::NeedsFragmentation) if !check_mtu => {}
        other => other?,
    }
    let extra = data.len() - l3_off - inner.len;

    // One hop through the anchor (§12.3).
    let d = &mut buf.data_mut()[l3_off..];
    if inner.v4 {
        let old = u16::from_be_bytes([d[8], d[9]]);
        d[8] -= 1;
        let new = u16::from_be_bytes([d[8], d[9]]);
        let csum = checksum::incremental_update(u16::from_be_bytes([d[10], d[11]]), old, new);
        d[10..12].copy_from_slice(&csum.to_be_bytes());
    } else {
        d[7] -= 1;
    }
    if extra > 0 && !buf.trim(extra) {
        return Err(EncapError::Malformed);
    }
    if !buf.adj(l3_off) {
        return Err(EncapError::Malformed);
    }
    let tpl = t.template();
    let hdr = buf.prepend(tpl.len()).ok_or(EncapError::NoHeadroom)?;
    hdr.copy_from_slice(tpl);

    let ip = usize::from(t.ip_off);
    let outer_len = tpl.len() - ip + inner.len;
    let dscp = t.spec.dscp.unwrap_or(inner.tos >> 2);
    let tos = (dscp << 2) | ecn::encap(inner.tos, t.spec.ecn_compat);
    let ipip_proto = if inner.v4 { 4 } else { 41 };
    if t.outer_is_v4() {
        hdr[ip + 1] = tos;
        hdr[ip + 2..ip + 4].copy_from_slice(&(outer_len as u16).to_be_bytes());
        *ip_id = ip_id.wrapping_add(1);
        hdr[ip + 4..ip + 6].copy_from_slice(&ip_id.to_be_bytes());
        // RFC 2003: copy DF from an inner IPv4; IPv6 payload goes with DF
        // clear on the static RFC 4213 MTU.
        let flags: u16 = if inner.v4 && inner.df { 0x4000 } else { 0 };
        hdr[ip + 6..ip + 8].copy_from_slice(&flags.to_be_bytes());
        if t.udp_off == 0 && t.gre_proto_off == 0 {
            hdr[ip + 9] = ipip_proto;
        }
        let sum = t.ipv4_base_sum
            + u32::from(tos)
            + outer_len as u32
            + u32::from(*ip_id)
            + u32::from(flags)
            + u32::from(hdr[ip + 9]);
        hdr[ip + 10..ip + 12].copy_from_slice(&checksum::fold(sum).to_be_bytes());
    } else {
        hdr[ip] = 0x60 | (tos >> 4);
        hdr[ip + 1] = tos << 4;
        hdr[ip + 4..ip + 6].copy_from_slice(&((outer_len - 40) as u16).to_be_bytes());
        if t.gre_proto_off == 0 {
            hdr[ip + 6] = ipip_proto;
        }
    }
    if t.udp_off != 0 {
        let u = usize::from(t.udp_off);
        let udp_len = (tpl.len() - u + inner.len) as u16;
        hdr[u + 4..u + 6].copy_from_slice(&udp_len.to_be_bytes());
    }
    if t.tlv_off != 0 {
        let o = usize::from(t.tlv_off);
        let after = (tpl.len() - o - 4 + inner.len) as u16;
        hdr[o + 2..o + 4].copy_from_slice(&after.to_be_bytes());
    }
    if t.gre_proto_off != 0 {
        let o = usize::from(t.gre_proto_off);
        let proto: u16 = if inner.v4 { 0x0800 } else { 0x86dd };
        hdr[o..o + 2].copy_from_slice(&proto.to_be_bytes());
    }
    if t.mip_nh_off != 0 {
        hdr[usize::from(t.mip_nh_off)] = ipip_proto;
    }
    Ok(())
}

/// The fast path of [`encapsulate`] for the common case: an inner IPv4
/// (`inner_v6` false) or IPv6 packet right after a 14-byte Ethernet header,
/// whose header the classifier has checked (IPv4: IHL 5, checksum, total
/// length within the frame; IPv6: payload length within the frame), into a
/// tunnel's [`Express`] header for that family (`t.express[inner_v6]`).
/// One bounds-checked re-frame of the buffer, a constant-size header copy,
/// the per-packet fields patched. Returns `false`, changing nothing, when
/// the packet needs the general path (TTL about to expire, too big, no
/// headroom, several segments): that path then gives the precise outcome.
#[inline(always)]
pub fn express<B: PacketBuf>(buf: &mut B, x: &Express, inner_v6: bool, ip_id: &mut u16) -> bool {
    const L3: usize = 14;
    let Some(h) = buf.data().get(L3..).and_then(<[u8]>::first_chunk::<9>) else {
        return false;
    };
    // Length, TOS / traffic class, DF (IPv4 only), TTL / hop limit.
    let (len, tos, flags, ttl) = if inner_v6 {
        (u16::from_be_bytes([h[4], h[5]]).wrapping_add(40), (h[0] << 4) | (h[1] >> 4), 0, h[7])
    } else {
        (u16::from_be_bytes([h[2], h[3]]), h[1], h[6] & 0x40, h[8])
    };
    if ttl <= 1 || len > x.mtu || (inner_v6 && len < 40) {
        return false;
    }
    let head = usize::from(x.head);
    let Some(w) = buf.reframe(L3, head, usize::from(len), EXPRESS_WINDOW) else {
        return false;
    };
    let Some((win, inner)) = w.split_first_chunk_mut::<EXPRESS_WINDOW>() else {
        return false;
    };
    // One hop through the anchor (§12.3): TTL - 1 (IPv4: checksum patched).
    if inner_v6 {
        if let Some(hop) = inner.get_mut(7) {
            *hop = ttl - 1;
        }
    } else if let Some(inner) = inner.first_chunk_mut::<20>() {
        inner[8] = ttl - 1;
        let csum = checksum::ttl_decrement([inner[10], inner[11]]);
        inner[10..12].copy_from_slice(&csum);
    }
    *win = x.window;
    let outer_len = len + u16::from(x.head) - L3 as u16;
    let tos = (tos & x.tos_keep) | x.tos_set;
    let ip = usize::from(x.ip);
    if x.outer_v6 {
        if let Some(o) = win.get_mut(ip..ip + 6) {
            o[0] = 0x60 | (tos >> 4);
            o[1] = tos << 4;
            o[4..6].copy_from_slice(&(outer_len - 40).to_be_bytes());
        }
    } else if let Some(o) = win.get_mut(ip..ip + 12) {
        *ip_id = ip_id.wrapping_add(1);
        o[1] = tos;
        o[2..4].copy_from_slice(&outer_len.to_be_bytes());
        o[4..6].copy_from_slice(&ip_id.to_be_bytes());
        o[6] = flags;
        let sum = x.base_sum + u32::from(tos) + u32::from(outer_len) + u32::from(*ip_id) + (u32::from(flags) << 8);
        o[10..12].copy_from_slice(&checksum::fold(sum).to_be_bytes());
    }
    if x.udp != 0 {
        let u = usize::from(x.udp);
        let udp_len = (EXPRESS_WINDOW - u) as u16 + len;
        if let Some(f) = win.get_mut(u + 4..u + 6) {
            f.copy_from_slice(&udp_len.to_be_bytes());
        }
    }
    if x.tlv != 0 {
        let o = usize::from(x.tlv);
        let after = (EXPRESS_WINDOW - o - 4) as u16 + len;
        if let Some(f) = win.get_mut(o + 2..o + 4) {
            f.copy_from_slice(&after.to_be_bytes());
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::port::mem::MemBuf;
    use crate::port::PortId;
    use crate::tunnel::tests::spec;
    use crate::tunnel::{TunnelKind, TunnelSpec};
    use crate::wire::{gre, ipv4, ipv6, udp, MacAddr};

    const NH: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
    const US: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    /// Ethernet + IPv4 (src 198.51.100.2, dst 203.0.113.10, TOS 0xb9: DSCP 46
    /// + ECT(1), DF, TTL 64) + ICMP echo with 8 bytes of data.
    pub fn inner_v4() -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let mut ip = vec![0x45, 0xb9, 0, 36, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 198, 51, 100, 2, 203, 0, 113, 10];
        let c = checksum::fold(checksum::sum(&ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
        f
    }

    /// Ethernet + IPv6 (TC 0xb8 | ECT(0), hop limit 64) + 8 bytes.
    fn inner_v6_frame() -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        let tc: u8 = 0xba;
        f.extend_from_slice(&[0x60 | (tc >> 4), tc << 4, 0, 0, 0, 8, 59, 64]);
        f.extend_from_slice(&"2001:db8:2::2".parse::<core::net::Ipv6Addr>().unwrap().octets());
        f.extend_from_slice(&"2001:db8:100:1::100".parse::<core::net::Ipv6Addr>().unwrap().octets());
        f.extend_from_slice(&[0xaa; 8]);
        f
    }

    fn tunnel(s: TunnelSpec) -> Tunnel {
        Tunnel::new(s, US, Some(NH))
    }

    fn run(frame: &[u8], t: &Tunnel) -> Result<Vec<u8>, EncapError> {
        let mut b = MemBuf::from_frame(PortId(0), frame);
        let mut id = 0x0100;
        encapsulate(&mut b, 14, t, &mut id)?;
        Ok(b.data().to_vec())
    }

    /// Every tunnel shape over both outer families, inner IPv4 and IPv6,
    /// DSCP copied or fixed, ECN normal or compatibility mode, DF set or
    /// clear, Ethernet padding or none: the express path writes exactly the
    /// bytes of the general one and counts the same IPv4 identifications.
    #[test]
    fn express_encapsulation_equals_the_general_one_for_every_shape() {
        let shapes = [
            (TunnelKind::IpIp, None, "192.0.2"),
            (TunnelKind::Gre, None, "192.0.2"),
            (TunnelKind::Gre, Some(200), "192.0.2"),
            (TunnelKind::Udp, None, "192.0.2"),
            (TunnelKind::UdpTlv, Some(7), "192.0.2"),
            (TunnelKind::MipUdp, None, "192.0.2"),
            (TunnelKind::IpIp, None, "2001:db8:1:"),
            (TunnelKind::Gre, None, "2001:db8:1:"),
            (TunnelKind::Gre, Some(200), "2001:db8:1:"),
        ];
        let mut checked = 0;
        for (kind, key, net) in shapes {
            let sep = if net.contains(':') { ":" } else { "." };
            for inner_v6 in [false, true] {
                for dscp in [None, Some(10)] {
                    for compat in [false, true] {
                        for (df, pad) in [(true, 0), (false, 0), (true, 6), (false, 11)] {
                            let mut s = spec(kind, &format!("{net}{sep}1"), &format!("{net}{sep}2"));
                            (s.key_out, s.dscp, s.ecn_compat) = (key, dscp, compat);
                            let t = tunnel(s);
                            let x = t.express[usize::from(inner_v6)].as_ref().expect("a next hop: an express header");
                            let mut frame = if inner_v6 { inner_v6_frame() } else { inner_v4() };
                            if !df && !inner_v6 {
                                frame[20] = 0;
                                let ip = &mut frame[14..34];
                                ip[10..12].fill(0);
                                let c = checksum::fold(checksum::sum(ip));
                                ip[10..12].copy_from_slice(&c.to_be_bytes());
                            }
                            frame.extend(std::iter::repeat_n(0xee, pad));
                            let want = run(&frame, &t).unwrap();
                            let mut b = MemBuf::from_frame(PortId(0), &frame);
                            let mut id = 0x0100;
                            let case = format!(
                                "{kind:?} over {net} key {key:?} inner v6 {inner_v6} dscp {dscp:?} compat {compat} \
                                 df {df} pad {pad}"
                            );
                            assert!(express(&mut b, x, inner_v6, &mut id), "{case}");
                            assert_eq!(b.data(), &want[..], "{case}");
                            assert_eq!(id, if net.contains(':') { 0x0100 } else { 0x0101 }, "{case}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 9 * 2 * 2 * 2 * 4);
    }

    #[test]
    fn express_leaves_expiring_too_big_and_headroomless_packets_to_the_general_path() {
        let t = tunnel(spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2"));
        let x = t.express[0].clone().unwrap();
        let mut frame = inner_v4();
        frame[22] = 1; // TTL 1
        let mut b = MemBuf::from_frame(PortId(0), &frame);
        let mut id = 0;
        assert!(!express(&mut b, &x, false, &mut id));
        assert_eq!(b.data(), &frame[..], "unchanged");
        let mut v6 = inner_v6_frame();
        v6[21] = 1; // hop limit 1
        let mut b = MemBuf::from_frame(PortId(0), &v6);
        assert!(!express(&mut b, t.express[1].as_ref().unwrap(), true, &mut id));
        assert_eq!(b.data(), &v6[..], "unchanged");
        let mut small = spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2");
        small.path_mtu = 40;
        let t = tunnel(small);
        let mut b = MemBuf::from_frame(PortId(0), &inner_v4());
        assert!(!express(&mut b, t.express[0].as_ref().unwrap(), false, &mut id));
        // 28 bytes of headroom: too few for the 64-byte window copy.
        let f = inner_v4();
        let mut b = MemBuf::from_frame(PortId(0), &f);
        assert!(b.prepend(100).is_some());
        b.data_mut()[..f.len()].copy_from_slice(&f);
        assert!(b.trim(100));
        assert!(!express(&mut b, &x, false, &mut id));
        assert_eq!(b.data(), &f[..], "unchanged");
        assert_eq!(id, 0, "nothing was sent");
    }

    #[test]
    fn no_express_header_without_a_next_hop() {
        let t = Tunnel::new(spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2"), US, None);
        assert_eq!(t.express, [None, None]);
        assert!(t.with_next_hop(Some(NH)).express.iter().all(Option::is_some));
    }

    #[test]
    fn gre_with_key_over_ipv4_wraps_an_ipv4_packet_with_patched_outer_fields() {
        let mut s = spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2");
        s.key_out = Some(200);
        let out = run(&inner_v4(), &tunnel(s)).unwrap();
        assert_eq!(&out[0..6], &NH.0);
        let ip = ipv4::Packet::new_checked(&out[14..]).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(ip.protocol(), 47);
        assert_eq!(usize::from(ip.total_len()), 20 + 8 + 36);
        assert_eq!(ip.dscp_ecn(), 0xb9, "DSCP and ECN copied");
        assert!(ip.dont_frag(), "DF copied from the inner packet");
        assert_eq!(ip.ident(), 0x0101);
        let g = gre::Packet::new_checked(ip.payload()).unwrap();
        assert_eq!((g.key(), g.protocol()), (Some(200), 0x0800));
        let inner = ipv4::Packet::new_checked(g.payload()).unwrap();
        assert_eq!(inner.ttl(), 63);
        assert!(inner.verify_checksum(), "inner checksum follows the TTL change");
    }

    #[test]
    fn ipip_over_ipv6_carries_ipv4_as_next_header_4_and_ipv6_as_41() {
        let t = tunnel(spec(TunnelKind::IpIp, "2001:db8:1::1", "2001:db8:1::2"));
        let out = run(&inner_v4(), &t).unwrap();
        let ip = ipv6::Packet::new_checked(&out[14..]).unwrap();
        assert_eq!((ip.next_header(), usize::from(ip.payload_len())), (4, 36));
        assert_eq!(ip.traffic_class(), 0xb9);
        let out = run(&inner_v6_frame(), &t).unwrap();
        let ip = ipv6::Packet::new_checked(&out[14..]).unwrap();
        assert_eq!(ip.next_header(), 41);
        assert_eq!(ip.payload()[7], 63, "inner hop limit decremented");
    }

    #[test]
    fn udp_tlv_lengths_count_what_follows_each_header() {
        let mut s = spec(TunnelKind::UdpTlv, "192.0.2.1", "192.0.2.2");
        s.key_out = Some(9);
        let out = run(&inner_v4(), &tunnel(s)).unwrap();
        let ip = ipv4::Packet::new_checked(&out[14..]).unwrap();
        assert!(ip.verify_checksum());
        let u = udp::Packet::new_checked(ip.payload()).unwrap();
        assert_eq!((u.src_port(), u.dst_port(), u.len()), (5437, 5437, 8 + 4 + 8 + 36));
        let tlv = u.payload();
        assert_eq!((tlv[0], tlv[1], u16::from_be_bytes([tlv[2], tlv[3]])), (0, 47, 8 + 36));
        let g = gre::Packet::new_checked(&tlv[4..]).unwrap();
        assert_eq!(g.key(), Some(9));
    }

    #[test]
    fn mip_udp_puts_the_tunnel_data_header_after_udp_434() {
        let mut s = spec(TunnelKind::MipUdp, "192.0.2.1", "192.0.2.2");
        s.peer_port = 1434;
        let out = run(&inner_v6_frame(), &tunnel(s)).unwrap();
        let ip = ipv4::Packet::new_checked(&out[14..]).unwrap();
        let u = udp::Packet::new_checked(ip.payload()).unwrap();
        assert_eq!((u.src_port(), u.dst_port()), (434, 1434));
        assert_eq!(&u.payload()[..4], &[4, 41, 0, 0]);
        assert!(!ip.dont_frag(), "IPv6 over IPv4 leaves DF clear");
    }

    #[test]
    fn fixed_dscp_and_compatibility_mode_override_the_copy() {
        let mut s = spec(TunnelKind::IpIp, "192.0.2.1", "192.0.2.2");
        s.dscp = Some(10);
        s.ecn_compat = true;
        let out = run(&inner_v4(), &tunnel(s)).unwrap();
        let ip = ipv4::Packet::new_checked(&out[14..]).unwrap();
        assert_eq!(ip.dscp_ecn(), 10 << 2);
        assert!(ip.verify_checksum());
    }

    #[test]
    fn ttl_one_is_not_encapsulated() {
        let mut f = inner_v4();
        f[14 + 8] = 1;
        let t = tunnel(spec(TunnelKind::IpIp, "192.0.2.1", "192.0.2.2"));
        assert_eq!(run(&f, &t), Err(EncapError::TtlExceeded));
    }

    #[test]
    fn too_big_with_df_asks_for_fragmentation_needed_with_the_tunnel_mtu() {
        let mut s = spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2");
        s.path_mtu = 59; // GRE without key over IPv4 costs 24: tunnel MTU 35 < 36
        let t = tunnel(s);
        assert_eq!(run(&inner_v4(), &t), Err(EncapError::TooBig { mtu: 35 }));
        let mut f = inner_v4();
        f[14 + 6] = 0; // DF clear
        assert_eq!(run(&f, &t), Err(EncapError::NeedsFragmentation));
    }

    #[test]
    fn unresolved_next_hop_is_refused_before_anything_changes() {
        let t = Tunnel::new(spec(TunnelKind::IpIp, "192.0.2.1", "192.0.2.2"), US, None);
        let f = inner_v4();
        let mut b = MemBuf::from_frame(PortId(0), &f);
        assert_eq!(encapsulate(&mut b, 14, &t, &mut 0), Err(EncapError::NoNeighbor));
        assert_eq!(b.data(), &f[..]);
    }

    #[test]
    fn ethernet_padding_is_not_carried_into_the_tunnel() {
        let mut f = inner_v4();
        f.extend_from_slice(&[0; 10]);
        let out = run(&f, &tunnel(spec(TunnelKind::IpIp, "192.0.2.1", "192.0.2.2"))).unwrap();
        assert_eq!(out.len(), 14 + 20 + 36);
    }
}
