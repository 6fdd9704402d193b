//! Decapsulation node (uplink): recognise a tunnelled packet addressed to
//! us, find its inner source (the lookup key), check that everything the
//! outer headers say matches the session's tunnel (anti-spoofing, §12.6),
//! apply the RFC 6040 decapsulation table and strip the outer headers.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{ecn, Tunnel, TunnelKind};
use crate::counters::DropReason;
use crate::port::PacketBuf;
use crate::wire::{checksum, MacAddr};

/// What the outer headers of an uplink packet say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uplink {
    pub outer_src: IpAddr,
    /// The encapsulation seen on the wire.
    pub kind: TunnelKind,
    pub key: Option<u32>,
    pub src_port: u16,
    pub dst_port: u16,
    /// Offset of the inner IP header in the frame.
    pub inner_off: usize,
    pub inner_v4: bool,
    pub outer_ecn: u8,
    /// Inner source address: the forwarding-table key.
    pub inner_src: IpAddr,
    /// The inner packet is addressed to one of the receiving port's
    /// addresses (set by the classifier, which knows them).
    pub inner_to_us: bool,
}

/// Result of looking at an IP packet addressed to one of our addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outer {
    /// A tunnelled data packet.
    Tunnel(Uplink),
    /// Not a tunnel packet: for the control thread (or unhandled).
    NotTunnel,
}

const UDP_MIP: u16 = crate::wire::udp::port::MIP;

/// Parses the tunnel headers of the packet at `l3_off` (already validated
/// as IPv4 or IPv6 addressed to us, not a fragment). `outer_src`,
/// `protocol`, `payload_off` (offset of the outer payload in `frame`),
/// `payload_len` and `outer_tos` come from that validation.
#[inline]
pub fn parse(
    frame: &[u8],
    outer_src: IpAddr,
    protocol: u8,
    payload_off: usize,
    payload_len: usize,
    outer_tos: u8,
) -> Result<Outer, DropReason> {
    let end = payload_off + payload_len;
    let p = frame.get(payload_off..end).ok_or(DropReason::InnerMalformed)?;
    let mut up = Uplink {
        outer_src,
        kind: TunnelKind::IpIp,
        key: None,
        src_port: 0,
        dst_port: 0,
        inner_off: payload_off,
        inner_v4: true,
        outer_ecn: outer_tos & 0b11,
        inner_src: outer_src,
        inner_to_us: false,
    };
    // The payload type the outer headers declare, checked against the inner
    // packet below (§12.1: use the GRE protocol type; §8.12: the MIP next
    // header must match).
    let mut declared_v4 = match protocol {
        4 => Some(true),
        41 => Some(false),
        _ => None,
    };
    match protocol {
        4 | 41 => {}
        47 => {
            up.kind = TunnelKind::Gre;
            let (key, hlen, v4) = gre(p)?;
            up.key = key;
            up.inner_off += hlen;
            declared_v4 = Some(v4);
        }
        17 => {
            if p.len() < 8 {
                return Err(DropReason::InnerMalformed);
            }
            up.src_port = u16::from_be_bytes([p[0], p[1]]);
            up.dst_port = u16::from_be_bytes([p[2], p[3]]);
            let udp_len = usize::from(u16::from_be_bytes([p[4], p[5]]));
            if udp_len < 8 || udp_len > p.len() {
                return Err(DropReason::InnerMalformed);
            }
            let body = &p[8..udp_len];
            up.inner_off += 8;
            if up.dst_port == UDP_MIP {
                // RFC 3519 tunnel data is type 4; anything else on 434 is
                // registration signalling.
                if body.first() != Some(&4) {
                    return Ok(Outer::NotTunnel);
                }
                if body.len() < 4 || !matches!(body[1], 4 | 41) {
                    return Err(DropReason::InnerMalformed);
                }
                up.kind = TunnelKind::MipUdp;
                up.inner_off += 4;
                declared_v4 = Some(body[1] == 4);
            } else {
                match body.first().map(|b| b >> 4) {
                    Some(4 | 6) => up.kind = TunnelKind::Udp,
                    Some(0) => {
                        // RFC 5845 TLV header: drop unless UDP length − 8 − 4 = TLV length.
                        if body.len() < 4 || body[1] != 47 {
                            return Err(DropReason::InnerMalformed);
                        }
                        let tlv_len = usize::from(u16::from_be_bytes([body[2], body[3]]));
                        if tlv_len != udp_len - 8 - 4 {
                            return Err(DropReason::InnerMalformed);
                        }
                        let (key, hlen, v4) = gre(&body[4..])?;
                        declared_v4 = Some(v4);
                        up.kind = TunnelKind::UdpTlv;
                        up.key = key;
                        up.inner_off += 4 + hlen;
                    }
                    _ => return Ok(Outer::NotTunnel),
                }
            }
        }
        _ => return Ok(Outer::NotTunnel),
    }
    let inner = frame.get(up.inner_off..end).ok_or(DropReason::InnerMalformed)?;
    match inner.first().map(|b| b >> 4) {
        Some(4) if inner.len() >= 20 => {
            up.inner_v4 = true;
            up.inner_src = IpAddr::V4(Ipv4Addr::new(inner[12], inner[13], inner[14], inner[15]));
        }
        Some(6) if inner.len() >= 40 => {
            up.inner_v4 = false;
            let mut a = [0u8; 16];
            a.copy_from_slice(&inner[8..24]);
            up.inner_src = IpAddr::V6(Ipv6Addr::from(a));
        }
        _ => return Err(DropReason::InnerMalformed),
    }
    if declared_v4.is_some_and(|v4| v4 != up.inner_v4) {
        return Err(DropReason::InnerMalformed);
    }
    Ok(Outer::Tunnel(up))
}

/// GRE header: (key, header length, payload is IPv4). RFC 2784/2890 receive
/// rules: version 0, no reserved flag, checksum right when present, protocol
/// type IPv4 or IPv6.
fn gre(p: &[u8]) -> Result<(Option<u32>, usize, bool), DropReason> {
    let g = crate::wire::gre::Packet::new_checked(p).map_err(|_| DropReason::InnerMalformed)?;
    let v4 = match g.protocol() {
        crate::wire::gre::protocol::IPV4 => true,
        crate::wire::gre::protocol::IPV6 => false,
        _ => return Err(DropReason::InnerMalformed),
    };
    if !g.verify_checksum() {
        return Err(DropReason::InnerMalformed);
    }
    Ok((g.key(), g.header_len(), v4))
}

/// §12.6: the outer source, encapsulation, UDP ports and GRE key must all
/// be those of the session's tunnel.
#[inline]
pub fn matches(t: &Tunnel, up: &Uplink) -> bool {
    let s = &t.spec;
    if s.remote != up.outer_src || s.kind != up.kind {
        return false;
    }
    match s.kind {
        TunnelKind::IpIp => true,
        TunnelKind::Gre => up.key == s.key_in,
        TunnelKind::Udp => up.src_port == s.peer_port && up.dst_port == s.local_port,
        TunnelKind::UdpTlv => up.src_port == s.peer_port && up.dst_port == s.local_port && up.key == s.key_in,
        TunnelKind::MipUdp => up.src_port == s.peer_port,
    }
}

/// Why a matching packet is still not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecapError {
    /// Inner Not-ECT with outer CE (RFC 6040).
    EcnDrop,
    /// Inner TTL would reach 0 forwarding it.
    TtlExceeded,
    Malformed,
}

/// Strips the outer headers of `up`, applies RFC 6040 and one hop of TTL,
/// and writes a fresh Ethernet header `src` → `dst` for the inner packet.
#[inline]
pub fn decapsulate<B: PacketBuf>(buf: &mut B, up: &Uplink, src: MacAddr, dst: MacAddr) -> Result<(), DecapError> {
    decapsulate_hop(buf, up, src, dst, true)
}

/// [`decapsulate`] without the hop's TTL decrement, for a packet that goes
/// straight into another tunnel, whose encapsulation counts the hop.
pub fn decapsulate_keeping_ttl<B: PacketBuf>(buf: &mut B, up: &Uplink) -> Result<(), DecapError> {
    decapsulate_hop(buf, up, MacAddr::ZERO, MacAddr::ZERO, false)
}

#[inline(always)]
fn decapsulate_hop<B: PacketBuf>(
    buf: &mut B,
    up: &Uplink,
    src: MacAddr,
    dst: MacAddr,
    hop: bool,
) -> Result<(), DecapError> {
    let data = buf.data_mut();
    let inner = data.get_mut(up.inner_off..).ok_or(DecapError::Malformed)?;
    let len = if up.inner_v4 {
        let len = usize::from(u16::from_be_bytes([inner[2], inner[3]]));
        let ihl = usize::from(inner[0] & 0x0f) * 4;
        if ihl < 20 || len < ihl || len > inner.len() || checksum::fold(checksum::sum(&inner[..ihl])) != 0 {
            return Err(DecapError::Malformed);
        }
        if inner[8] <= 1 {
            return Err(DecapError::TtlExceeded);
        }
        let new_ecn = ecn::decap(inner[1], up.outer_ecn).ok_or(DecapError::EcnDrop)?;
        let old0 = u16::from_be_bytes([inner[0], inner[1]]);
        let old8 = u16::from_be_bytes([inner[8], inner[9]]);
        inner[1] = (inner[1] & !0b11) | new_ecn;
        inner[8] -= u8::from(hop);
        let mut c = u16::from_be_bytes([inner[10], inner[11]]);
        c = checksum::incremental_update(c, old0, u16::from_be_bytes([inner[0], inner[1]]));
        c = checksum::incremental_update(c, old8, u16::from_be_bytes([inner[8], inner[9]]));
        inner[10..12].copy_from_slice(&c.to_be_bytes());
        len
    } else {
        let len = 40 + usize::from(u16::from_be_bytes([inner[4], inner[5]]));
        if len > inner.len() {
            return Err(DecapError::Malformed);
        }
        if inner[7] <= 1 {
            return Err(DecapError::TtlExceeded);
        }
        let tc_ecn = (inner[1] >> 4) & 0b11;
        let new_ecn = ecn::decap(tc_ecn, up.outer_ecn).ok_or(DecapError::EcnDrop)?;
        inner[1] = (inner[1] & 0xcf) | (new_ecn << 4);
        inner[7] -= u8::from(hop);
        len
    };
    let extra = inner.len() - len;
    if extra > 0 && !buf.trim(extra) {
        return Err(DecapError::Malformed);
    }
    if up.inner_off < 14 || !buf.adj(up.inner_off - 14) {
        return Err(DecapError::Malformed);
    }
    let eth = &mut buf.data_mut()[..14];
    eth[0..6].copy_from_slice(&dst.0);
    eth[6..12].copy_from_slice(&src.0);
    eth[12..14].copy_from_slice(if up.inner_v4 { &[0x08, 0x00] } else { &[0x86, 0xdd] });
    Ok(())
}

/// The fast path of [`decapsulate`] for a packet the classifier's express
/// path accepted (GRE over IPv4 carrying IPv4 whose 20-byte header it
/// checked, `inner_len` bytes at `inner_off`): RFC 6040, one hop of TTL, the
/// outer headers replaced by an Ethernet header `src` → `dst`, in one
/// re-frame of the buffer. Returns `false`, changing nothing, when the
/// general path must decide (TTL expiring, ECN drop, short buffer).
#[inline(always)]
pub fn express_v4<B: PacketBuf>(
    buf: &mut B,
    inner_off: usize,
    inner_len: usize,
    outer_ecn: u8,
    src: MacAddr,
    dst: MacAddr,
) -> bool {
    let Some(h) = buf.data().get(inner_off..inner_off + 20) else {
        return false;
    };
    let (tos, ttl) = (h[1], h[8]);
    let Some(new_ecn) = ecn::decap(tos, outer_ecn) else {
        return false;
    };
    if ttl <= 1 {
        return false;
    }
    let Some(w) = buf.reframe(inner_off, 14, inner_len, 14) else {
        return false;
    };
    let Some((eth, inner)) = w.split_first_chunk_mut::<14>() else {
        return false;
    };
    eth[0..6].copy_from_slice(&dst.0);
    eth[6..12].copy_from_slice(&src.0);
    eth[12..14].copy_from_slice(&[0x08, 0x00]);
    if let Some(h) = inner.first_chunk_mut::<20>() {
        let new_tos = (tos & !0b11) | new_ecn;
        if new_tos != tos {
            h[1] = new_tos;
            let c = u16::from_be_bytes([h[10], h[11]]);
            let c =
                checksum::incremental_update(c, u16::from_be_bytes([h[0], tos]), u16::from_be_bytes([h[0], new_tos]));
            h[10..12].copy_from_slice(&c.to_be_bytes());
        }
        h[8] = ttl - 1;
        let c = checksum::ttl_decrement([h[10], h[11]]);
        h[10..12].copy_from_slice(&c);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::mem::MemBuf;
    use crate::port::PortId;
    use crate::tunnel::encap::encapsulate;
    use crate::tunnel::tests::spec;
    use crate::tunnel::TunnelSpec;

    const PEER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
    const US: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const CN: MacAddr = MacAddr([2, 0, 0, 0, 0, 3]);

    /// Ethernet + IPv4 src 203.0.113.10 (the HoA) → 198.51.100.2, ECT(0), TTL 64.
    fn inner_from_mn() -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let mut ip = vec![0x45, 0x02, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 203, 0, 113, 10, 198, 51, 100, 2];
        let c = checksum::fold(checksum::sum(&ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&[0x13, 0x88, 0x13, 0x88, 0, 8, 0, 0]);
        f
    }

    /// What the peer sends: the inner packet in the peer's own tunnel
    /// towards us (the mirror of `s`), built with our encapsulation.
    fn from_peer(s: &TunnelSpec, outer_tos_ecn: u8) -> Vec<u8> {
        let mut mirror = s.clone();
        std::mem::swap(&mut mirror.local, &mut mirror.remote);
        std::mem::swap(&mut mirror.key_in, &mut mirror.key_out);
        std::mem::swap(&mut mirror.local_port, &mut mirror.peer_port);
        if s.kind == TunnelKind::MipUdp {
            mirror.local_port = s.peer_port; // MIP: HA side is 434
        }
        let t = Tunnel::new(mirror, PEER_MAC, Some(US));
        let mut b = MemBuf::from_frame(PortId(0), &inner_from_mn());
        encapsulate(&mut b, 14, &t, &mut 7).unwrap();
        let mut f = b.data().to_vec();
        if s.kind == TunnelKind::MipUdp {
            // The MN sends from its port to 434.
            f[14 + 20..14 + 22].copy_from_slice(&s.peer_port.to_be_bytes());
            f[14 + 22..14 + 24].copy_from_slice(&434u16.to_be_bytes());
        }
        // Set the outer ECN field.
        if f[14] >> 4 == 4 {
            let old = u16::from_be_bytes([f[14], f[15]]);
            f[15] = (f[15] & !3) | outer_tos_ecn;
            let c = checksum::incremental_update(
                u16::from_be_bytes([f[24], f[25]]),
                old,
                u16::from_be_bytes([f[14], f[15]]),
            );
            f[24..26].copy_from_slice(&c.to_be_bytes());
        } else {
            f[15] = (f[15] & 0xcf) | (outer_tos_ecn << 4);
        }
        f
    }

    fn parse_frame(f: &[u8]) -> Result<Outer, DropReason> {
        if f[14] >> 4 == 4 {
            let src = IpAddr::V4(Ipv4Addr::new(f[26], f[27], f[28], f[29]));
            let len = usize::from(u16::from_be_bytes([f[16], f[17]]));
            parse(f, src, f[23], 34, len - 20, f[15])
        } else {
            let mut a = [0u8; 16];
            a.copy_from_slice(&f[22..38]);
            let len = usize::from(u16::from_be_bytes([f[18], f[19]]));
            let tos = (f[14] << 4) | (f[15] >> 4);
            parse(f, IpAddr::V6(Ipv6Addr::from(a)), f[20], 54, len, tos)
        }
    }

    fn all_kinds() -> Vec<TunnelSpec> {
        let mut v = vec![
            spec(TunnelKind::IpIp, "192.0.2.1", "192.0.2.2"),
            spec(TunnelKind::IpIp, "2001:db8:1::1", "2001:db8:1::2"),
            spec(TunnelKind::Udp, "192.0.2.1", "192.0.2.2"),
        ];
        let mut g = spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2");
        (g.key_in, g.key_out) = (Some(100), Some(200));
        v.push(g);
        v.push(spec(TunnelKind::Gre, "2001:db8:1::1", "2001:db8:1::2"));
        let mut t = spec(TunnelKind::UdpTlv, "192.0.2.1", "192.0.2.2");
        (t.key_in, t.key_out) = (Some(100), Some(200));
        v.push(t);
        let mut m = spec(TunnelKind::MipUdp, "192.0.2.1", "192.0.2.2");
        m.peer_port = 1434;
        v.push(m);
        v
    }

    /// GRE over IPv4 with and without a key, every inner/outer ECN pair
    /// (RFC 6040 table), with and without Ethernet padding: the express
    /// decapsulation writes exactly the bytes of the general one, and
    /// declines (changing nothing) where the general one refuses.
    #[test]
    fn express_decapsulation_equals_the_general_one() {
        let mut checked = 0;
        for key in [None, Some(100)] {
            let mut s = spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2");
            (s.key_in, s.key_out) = (key, key);
            for inner_ecn in [ecn::NOT_ECT, ecn::ECT1, ecn::ECT0, ecn::CE] {
                for outer_ecn in [ecn::NOT_ECT, ecn::ECT1, ecn::ECT0, ecn::CE] {
                    for (pad, ttl) in [(0, 64), (5, 64), (0, 1)] {
                        let mut f = from_peer(&s, outer_ecn);
                        let io = if key.is_some() { 42 } else { 38 };
                        // Inner ECN and TTL, checksum recomputed.
                        f[io + 1] = (f[io + 1] & !3) | inner_ecn;
                        f[io + 8] = ttl;
                        f[io + 10..io + 12].fill(0);
                        let c = checksum::fold(checksum::sum(&f[io..io + 20]));
                        f[io + 10..io + 12].copy_from_slice(&c.to_be_bytes());
                        f.extend(std::iter::repeat_n(0xee, pad));
                        let Ok(Outer::Tunnel(up)) = parse_frame(&f) else { panic!("not parsed") };
                        let inner_len = usize::from(u16::from_be_bytes([f[io + 2], f[io + 3]]));
                        let mut general = MemBuf::from_frame(PortId(0), &f);
                        let want = decapsulate(&mut general, &up, US, CN);
                        let mut b = MemBuf::from_frame(PortId(0), &f);
                        let took = express_v4(&mut b, io, inner_len, outer_ecn, US, CN);
                        let case = format!("key {key:?} inner {inner_ecn} outer {outer_ecn} pad {pad} ttl {ttl}");
                        assert_eq!(took, want.is_ok(), "{case}");
                        if took {
                            assert_eq!(b.data(), general.data(), "{case}");
                        } else {
                            assert_eq!(b.data(), &f[..], "{case}: unchanged");
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 2 * 16 * 3);
    }

    #[test]
    fn every_kind_is_recognised_matched_and_stripped_to_the_inner_packet() {
        for s in all_kinds() {
            let f = from_peer(&s, ecn::ECT0);
            let Ok(Outer::Tunnel(up)) = parse_frame(&f) else { panic!("{:?}: not parsed", s.kind) };
            assert_eq!(up.kind, s.kind);
            assert_eq!(up.inner_src, "203.0.113.10".parse::<IpAddr>().unwrap());
            let t = Tunnel::new(s.clone(), US, Some(PEER_MAC));
            assert!(matches(&t, &up), "{:?}", s.kind);
            let mut b = MemBuf::from_frame(PortId(0), &f);
            decapsulate(&mut b, &up, US, CN).unwrap();
            let out = b.data();
            let mut want = inner_from_mn();
            want[0..6].copy_from_slice(&CN.0);
            want[6..12].copy_from_slice(&US.0);
            // The peer's stand-in (our own encapsulation) took one hop and
            // the anchor takes one more: TTL 62 and its checksum.
            want[14 + 8] = 62;
            let c = checksum::incremental_update(u16::from_be_bytes([want[24], want[25]]), 64 << 8 | 17, 62 << 8 | 17);
            want[24..26].copy_from_slice(&c.to_be_bytes());
            assert_eq!(out, &want[..], "{:?}", s.kind);
        }
    }

    #[test]
    fn every_spoofed_variant_is_refused() {
        for s in all_kinds() {
            let f = from_peer(&s, 0);
            let Ok(Outer::Tunnel(up)) = parse_frame(&f) else { panic!() };
            let t = Tunnel::new(s.clone(), US, Some(PEER_MAC));
            let mut wrong_src = up;
            wrong_src.outer_src = match up.outer_src {
                IpAddr::V4(_) => "192.0.2.3".parse().unwrap(),
                IpAddr::V6(_) => "2001:db8:1::3".parse().unwrap(),
            };
            assert!(!matches(&t, &wrong_src), "{:?}: outer source", s.kind);
            let mut wrong_kind = up;
            wrong_kind.kind = if s.kind == TunnelKind::IpIp { TunnelKind::Gre } else { TunnelKind::IpIp };
            assert!(!matches(&t, &wrong_kind), "{:?}: encapsulation", s.kind);
            if s.key_in.is_some() {
                let mut k = up;
                k.key = Some(101);
                assert!(!matches(&t, &k), "{:?}: key", s.kind);
                k.key = None;
                assert!(!matches(&t, &k), "{:?}: missing key", s.kind);
            }
            if matches!(s.kind, TunnelKind::Udp | TunnelKind::UdpTlv | TunnelKind::MipUdp) {
                let mut p = up;
                p.src_port ^= 1;
                assert!(!matches(&t, &p), "{:?}: source port", s.kind);
            }
        }
    }

    #[test]
    fn outer_ce_on_a_not_ect_inner_packet_is_dropped_and_ce_on_ect_is_copied_in() {
        let s = spec(TunnelKind::IpIp, "192.0.2.1", "192.0.2.2");
        let mut f = from_peer(&s, ecn::CE);
        let Ok(Outer::Tunnel(up)) = parse_frame(&f) else { panic!() };
        let mut b = MemBuf::from_frame(PortId(0), &f);
        decapsulate(&mut b, &up, US, CN).unwrap();
        assert_eq!(b.data()[15] & 3, ecn::CE);
        assert_eq!(checksum::fold(checksum::sum(&b.data()[14..34])), 0);
        // Inner Not-ECT.
        let old = u16::from_be_bytes([f[34], f[35]]);
        f[35] &= !3;
        let c =
            checksum::incremental_update(u16::from_be_bytes([f[44], f[45]]), old, u16::from_be_bytes([f[34], f[35]]));
        f[44..46].copy_from_slice(&c.to_be_bytes());
        let mut b = MemBuf::from_frame(PortId(0), &f);
        assert_eq!(decapsulate(&mut b, &up, US, CN), Err(DecapError::EcnDrop));
    }

    #[test]
    fn truncated_and_bad_gre_and_tlv_headers_are_malformed_never_a_panic() {
        for s in all_kinds() {
            let f = from_peer(&s, 0);
            let first = if f[14] >> 4 == 4 { 34 } else { 54 };
            for cut in first..f.len() {
                let mut g = f[..cut].to_vec();
                // Keep the outer length consistent with the cut.
                if g[14] >> 4 == 4 {
                    g[16..18].copy_from_slice(&((cut - 14) as u16).to_be_bytes());
                } else {
                    g[18..20].copy_from_slice(&((cut.saturating_sub(54)) as u16).to_be_bytes());
                }
                let _ = parse_frame(&g);
            }
        }
        let mut g = spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2");
        g.key_out = Some(1);
        let mut f = from_peer(&g, 0);
        f[34] |= 0x40; // routing present (RFC 1701) must be zero
        assert_eq!(parse_frame(&f), Err(DropReason::InnerMalformed));
    }

    #[test]
    fn a_payload_that_contradicts_the_declared_protocol_type_is_malformed() {
        // GRE says IPv4, the inner packet is IPv6.
        let mut g = spec(TunnelKind::Gre, "192.0.2.1", "192.0.2.2");
        (g.key_in, g.key_out) = (Some(100), Some(200));
        let mut f = from_peer(&g, 0);
        f[34 + 2..34 + 4].copy_from_slice(&0x86ddu16.to_be_bytes());
        assert_eq!(parse_frame(&f), Err(DropReason::InnerMalformed));
        // IP-in-IP: protocol 41 (IPv6) carrying IPv4.
        let mut f = from_peer(&spec(TunnelKind::IpIp, "192.0.2.1", "192.0.2.2"), 0);
        f[23] = 41;
        assert_eq!(parse_frame(&f), Err(DropReason::InnerMalformed));
        // MIP tunnel data: next header 41 carrying IPv4.
        let mut m = spec(TunnelKind::MipUdp, "192.0.2.1", "192.0.2.2");
        m.peer_port = 1434;
        let mut f = from_peer(&m, 0);
        f[14 + 20 + 8 + 1] = 41;
        assert_eq!(parse_frame(&f), Err(DropReason::InnerMalformed));
    }
}
