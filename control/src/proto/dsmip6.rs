//! DSMIPv6 packet framing (RFC 6275 §6.3, §6.4; RFC 5555 §4.1–§4.4;
//! PROTOCOLS.md §11.1): a Mobility Header message inside a whole IP packet.
//!
//! A mobile node's Binding Update arrives in one of two shapes:
//!
//! ```text
//!  IPv6 (src = CoA, dst = HA) | Destination Options (Home Address 201) | MH
//!  IPv4 (src = CoA or NAT, dst = HA) | UDP (dst 4191) | IPv6 (src = HoA, dst = HA) | MH
//! ```
//!
//! and the home agent's Binding Acknowledgement goes back as
//!
//! ```text
//!  IPv6 (src = HA, dst = CoA) | type 2 Routing Header (HoA) | MH
//!  IPv4 (src = HA, dst = the BU's source) | UDP (→ the BU's source port) | IPv6 (src = HA, dst = HoA) | MH
//! ```
//!
//! [`parse_packet`] checks every layer (lengths, IPv4 header checksum,
//! UDP checksum when not 0, no fragments, only the extension headers a
//! Binding Update can carry) and hands back the Mobility Header's bytes with
//! its parsed message; [`ipv6_packet`] and [`udp4_packet`] wrap an emitted
//! Mobility Header. Nothing here panics on what a peer sends.

use core::net::{Ipv4Addr, Ipv6Addr};

use dataplane::wire::{checksum, ipv4, ipv6, udp};

use super::{parse, Checksum, MhError, MhMessage};

/// The DSMIPv6 UDP port, signalling and data (RFC 5555).
pub const DSMIP6_PORT: u16 = udp::port::DSMIP6;

/// IPv6 next header values met on the way to the Mobility Header.
pub mod next_header {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const ESP: u8 = 50;
    pub const DESTINATION_OPTIONS: u8 = 60;
    pub const MOBILITY: u8 = 135;
}

/// The Home Address destination option (RFC 6275 §6.3): type 201, Length
/// 16, alignment 8n+6.
pub const HOME_ADDRESS_OPTION: u8 = 201;

/// Routing header type 2 (RFC 6275 §6.4): one address, Segments Left 1.
pub const ROUTING_TYPE_2: u8 = 2;

/// Octets of a type 2 routing header.
pub const RH2_LEN: usize = 24;

/// How a Mobility Header message came in (or goes out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// IPv6: the header's addresses, the Home Address destination option
    /// if present (it replaces `src` in the MH checksum), and the address
    /// of a type 2 routing header if present (the final destination, which
    /// replaces `dst`; a BA to a mobile node carries one).
    Ipv6 { src: Ipv6Addr, dst: Ipv6Addr, home_address: Option<Ipv6Addr>, routing_home: Option<Ipv6Addr> },
    /// IPv4 | UDP | IPv6 (RFC 5555): the outer addresses and ports, then
    /// the inner IPv6 addresses (the MH checksum's pseudo-header).
    Udp4 { src: Ipv4Addr, dst: Ipv4Addr, src_port: u16, dst_port: u16, inner_src: Ipv6Addr, inner_dst: Ipv6Addr },
}

impl Framing {
    /// The MH checksum's pseudo-header (PROTOCOLS.md §2.1): the Home
    /// Address option's address replaces the IPv6 source, a type 2 routing
    /// header's the destination.
    pub fn checksum(&self) -> Checksum {
        match *self {
            Framing::Ipv6 { src, dst, home_address, routing_home } => {
                Checksum::Ipv6 { src: home_address.unwrap_or(src), dst: routing_home.unwrap_or(dst) }
            }
            Framing::Udp4 { inner_src, inner_dst, .. } => Checksum::Ipv6 { src: inner_src, dst: inner_dst },
        }
    }
}

/// A Mobility Header message found in a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MhPacket {
    pub framing: Framing,
    /// The Mobility Header, exactly Header Len long (what RFC 4285
    /// authenticators are computed over).
    pub mh: Vec<u8>,
    pub msg: MhMessage,
}

/// Why a packet yielded no Mobility Header message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// Shorter than a header or a length field says.
    #[error("packet truncated")]
    Truncated,
    /// Not IPv4 or IPv6, or an IPv4 packet that is not UDP to or from port 4191.
    #[error("not a mobility header packet")]
    NotMobility,
    /// The IPv4 header checksum does not verify.
    #[error("bad ipv4 header checksum")]
    BadIpv4Checksum,
    /// A non-zero UDP checksum does not verify.
    #[error("bad udp checksum")]
    BadUdpChecksum,
    /// An IPv4 fragment (we do not reassemble signalling).
    #[error("fragmented packet")]
    Fragment,
    /// An extension header a Binding Update does not carry (or ESP, which
    /// we do not use), before the Mobility Header.
    #[error("unexpected ipv6 next header {next_header}")]
    UnexpectedHeader { next_header: u8 },
    /// A malformed Destination Options header: an option overrunning it, a
    /// Home Address option of the wrong Length or repeated, or an unknown
    /// option whose type says "discard".
    #[error("bad destination options header")]
    BadDestinationOptions,
    /// The Mobility Header itself was refused.
    #[error(transparent)]
    Mh(#[from] MhError),
}

/// Parses a whole IP packet (from its IP header) carrying a Mobility
/// Header: IPv6 with an optional Destination Options header, or IPv4 | UDP
/// 4191 | IPv6. The MH checksum is verified with the pseudo-header of
/// [`Framing::checksum`].
pub fn parse_packet(packet: &[u8]) -> Result<MhPacket, PacketError> {
    located(packet, finish)?
}

/// The framing of a packet carrying a Mobility Header, without parsing the
/// Mobility Header (what a Binding Error answering an unparsable one needs,
/// RFC 6275 §9.3.3).
pub fn framing_of(packet: &[u8]) -> Result<Framing, PacketError> {
    located(packet, |framing, _| framing)
}

/// `f` of the framing of `packet` and the octets from its Mobility Header on.
fn located<R>(packet: &[u8], f: impl FnOnce(Framing, &[u8]) -> R) -> Result<R, PacketError> {
    match packet.first().map(|b| b >> 4) {
        Some(6) => {
            let Ipv6Mh { src, dst, home_address, routing_home, mh } = inner_ipv6(packet)?;
            Ok(f(Framing::Ipv6 { src, dst, home_address, routing_home }, mh))
        }
        Some(4) => {
            let ip = ipv4::Packet::new_checked(packet).map_err(|_| PacketError::Truncated)?;
            if ip.protocol() != ipv4::protocol::UDP {
                return Err(PacketError::NotMobility);
            }
            if !ip.verify_checksum() {
                return Err(PacketError::BadIpv4Checksum);
            }
            if ip.is_fragment() {
                return Err(PacketError::Fragment);
            }
            let u = udp::Packet::new_checked(ip.payload()).map_err(|_| PacketError::Truncated)?;
            // To the home agent's port 4191, or (a BA to a mobile node
            // behind a NAT) from it.
            if u.dst_port() != DSMIP6_PORT && u.src_port() != DSMIP6_PORT {
                return Err(PacketError::NotMobility);
            }
            if u.checksum() != 0 && !u.verify_checksum_v4(ip.src_addr(), ip.dst_addr()) {
                return Err(PacketError::BadUdpChecksum);
            }
            let Ipv6Mh { src: inner_src, dst: inner_dst, home_address, routing_home, mh } = inner_ipv6(u.payload())?;
            // RFC 5555 §4.2: over IPv4 the inner addresses are the home
            // address and the home agent's themselves; a Home Address
            // option or a routing header has nothing to say there.
            if home_address.is_some() {
                return Err(PacketError::UnexpectedHeader { next_header: next_header::DESTINATION_OPTIONS });
            }
            if routing_home.is_some() {
                return Err(PacketError::UnexpectedHeader { next_header: next_header::ROUTING });
            }
            let framing = Framing::Udp4 {
                src: ip.src_addr(),
                dst: ip.dst_addr(),
                src_port: u.src_port(),
                dst_port: u.dst_port(),
                inner_src,
                inner_dst,
            };
            Ok(f(framing, mh))
        }
        _ => Err(PacketError::NotMobility),
    }
}

fn finish(framing: Framing, mh: &[u8]) -> Result<MhPacket, PacketError> {
    let msg = parse(mh, framing.checksum())?;
    let len = super::header::Packet::new_checked(mh)?.mh_len();
    Ok(MhPacket { framing, mh: mh.get(..len).ok_or(MhError::Truncated)?.to_vec(), msg })
}

/// An IPv6 packet on its way to a Mobility Header.
struct Ipv6Mh<'a> {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    /// The Home Address option's address, if a Destination Options header carries one.
    home_address: Option<Ipv6Addr>,
    /// The address of a type 2 routing header, if there is one.
    routing_home: Option<Ipv6Addr>,
    /// The octets from the Mobility Header on.
    mh: &'a [u8],
}

/// Walks an IPv6 packet to its Mobility Header.
fn inner_ipv6(packet: &[u8]) -> Result<Ipv6Mh<'_>, PacketError> {
    let ip = ipv6::Packet::new_checked(packet).map_err(|e| match e {
        dataplane::wire::WireError::Truncated => PacketError::Truncated,
        _ => PacketError::NotMobility,
    })?;
    let (src, dst, mut nh) = (ip.src_addr(), ip.dst_addr(), ip.next_header());
    // The view's payload borrows the view; take the same octets from the buffer.
    let end = ipv6::HEADER_LEN + usize::from(ip.payload_len());
    let mut rest = packet.get(ipv6::HEADER_LEN..end).ok_or(PacketError::Truncated)?;
    let mut home_address = None;
    let mut routing_home = None;
    let mut seen_dest_opts = false;
    loop {
        match nh {
            next_header::MOBILITY => return Ok(Ipv6Mh { src, dst, home_address, routing_home, mh: rest }),
            // RFC 6275 §6.4: Hdr Ext Len 2, Routing Type 2, Segments Left 1,
            // one address; before any Destination Options header.
            next_header::ROUTING if routing_home.is_none() && !seen_dest_opts => {
                let header = rest.get(..RH2_LEN).ok_or(PacketError::Truncated)?;
                if header[1..4] != [2, ROUTING_TYPE_2, 1] {
                    return Err(PacketError::UnexpectedHeader { next_header: nh });
                }
                let addr = <[u8; 16]>::try_from(&header[8..24]).map_err(|_| PacketError::Truncated)?;
                routing_home = Some(Ipv6Addr::from(addr));
                nh = header[0];
                rest = rest.get(RH2_LEN..).ok_or(PacketError::Truncated)?;
            }
            next_header::DESTINATION_OPTIONS if !seen_dest_opts => {
                seen_dest_opts = true;
                let (&next, after) = rest.split_first().ok_or(PacketError::Truncated)?;
                let &ext_len = after.first().ok_or(PacketError::Truncated)?;
                let len = (usize::from(ext_len) + 1) * 8;
                let header = rest.get(..len).ok_or(PacketError::Truncated)?;
                home_address = destination_options(header.get(2..).unwrap_or_default())?;
                rest = rest.get(len..).ok_or(PacketError::Truncated)?;
                nh = next;
            }
            other => return Err(PacketError::UnexpectedHeader { next_header: other }),
        }
    }
}

/// Walks the options of a Destination Options header (after its two
/// fixed octets): Pad1, PadN, one Home Address option; unknown options
/// whose two high type bits are 00 are skipped (RFC 8200 §4.2), any other
/// unknown one makes the packet discarded.
fn destination_options(mut area: &[u8]) -> Result<Option<Ipv6Addr>, PacketError> {
    let mut home = None;
    while let Some((&ty, after)) = area.split_first() {
        if ty == 0 {
            area = after;
            continue;
        }
        let (&len, body) = after.split_first().ok_or(PacketError::BadDestinationOptions)?;
        let data = body.get(..usize::from(len)).ok_or(PacketError::BadDestinationOptions)?;
        match ty {
            1 => {}
            HOME_ADDRESS_OPTION => {
                let addr = <[u8; 16]>::try_from(data).map_err(|_| PacketError::BadDestinationOptions)?;
                if home.replace(Ipv6Addr::from(addr)).is_some() {
                    return Err(PacketError::BadDestinationOptions);
                }
            }
            t if t >> 6 == 0 => {}
            _ => return Err(PacketError::BadDestinationOptions),
        }
        area = body.get(usize::from(len)..).unwrap_or_default();
    }
    Ok(home)
}

/// An IPv6 packet (hop limit 64) from `src` to `dst` carrying `mh`, with a
/// type 2 routing header holding `home` when given (RFC 6275 §6.4: `dst`
/// is then the care-of address and `home` the final destination, which
/// `mh`'s checksum must have been computed with).
pub fn ipv6_packet(src: Ipv6Addr, dst: Ipv6Addr, home: Option<Ipv6Addr>, mh: &[u8]) -> Vec<u8> {
    let rh = if home.is_some() { RH2_LEN } else { 0 };
    let mut out = vec![0u8; ipv6::HEADER_LEN + rh];
    let first = if home.is_some() { next_header::ROUTING } else { next_header::MOBILITY };
    ipv6::Ipv6Repr { src, dst, next_header: first, hop_limit: 64, payload_len: rh + mh.len() }.emit(&mut out);
    if let Some(home) = home {
        let r = &mut out[ipv6::HEADER_LEN..];
        // Next Header, Hdr Ext Len 2, Routing Type 2, Segments Left 1,
        // 4 reserved octets, the home address.
        r[..4].copy_from_slice(&[next_header::MOBILITY, 2, ROUTING_TYPE_2, 1]);
        r[8..24].copy_from_slice(&home.octets());
    }
    out.extend_from_slice(mh);
    out
}

/// An IPv6 packet (hop limit 64) from `src` (the care-of address) to `dst`
/// with a Destination Options header holding the Home Address option
/// `home` at 8n+6 (RFC 6275 §6.3), then `mh`: a mobile node's Binding
/// Update, for tests and simulators.
pub fn ipv6_packet_with_home_address(src: Ipv6Addr, dst: Ipv6Addr, home: Ipv6Addr, mh: &[u8]) -> Vec<u8> {
    // Next Header, Hdr Ext Len 2, PadN(4), Home Address option.
    let mut dest = vec![next_header::MOBILITY, 2, 1, 2, 0, 0, HOME_ADDRESS_OPTION, 16];
    dest.extend_from_slice(&home.octets());
    let mut out = vec![0u8; ipv6::HEADER_LEN];
    let repr = ipv6::Ipv6Repr {
        src,
        dst,
        next_header: next_header::DESTINATION_OPTIONS,
        hop_limit: 64,
        payload_len: dest.len() + mh.len(),
    };
    repr.emit(&mut out);
    out.extend_from_slice(&dest);
    out.extend_from_slice(mh);
    out
}

/// IPv4 (TTL 64) from `src` to `dst` | UDP `src_port` → `dst_port` (checksum
/// filled) | IPv6 (hop limit 64) from `inner_src` to `inner_dst` | `mh`
/// (RFC 5555 §4.1, PROTOCOLS.md §11.1).
pub fn udp4_packet(framing: &Framing, mh: &[u8]) -> Option<Vec<u8>> {
    let Framing::Udp4 { src, dst, src_port, dst_port, inner_src, inner_dst } = *framing else { return None };
    let inner = ipv6_packet(inner_src, inner_dst, None, mh);
    let udp_len = udp::HEADER_LEN + inner.len();
    let len = u16::try_from(udp_len).ok()?;
    let mut out = vec![0u8; ipv4::HEADER_LEN + udp::HEADER_LEN];
    ipv4::Ipv4Repr { src, dst, protocol: ipv4::protocol::UDP, ttl: 64, tos: 0, payload_len: udp_len }.emit(&mut out);
    udp::UdpRepr { src_port, dst_port, payload_len: inner.len() }.emit(&mut out[ipv4::HEADER_LEN..]);
    out.extend_from_slice(&inner);
    let sum = checksum::pseudo_v4(src, dst, ipv4::protocol::UDP, len) + checksum::sum(&out[ipv4::HEADER_LEN..]);
    let c = match checksum::fold(sum) {
        0 => 0xffff,
        c => c,
    };
    out[ipv4::HEADER_LEN + 6..ipv4::HEADER_LEN + 8].copy_from_slice(&c.to_be_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::{bu_flags, emit, BindingAck, BindingUpdate, MobilityOption};
    use super::*;

    const HOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x10);
    const COA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x200, 0, 0, 0, 0, 0x20);
    const HA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 1);
    const COA4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
    const HA4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn bu() -> MhMessage {
        MhMessage::BindingUpdate(BindingUpdate {
            seq: 9,
            flags: bu_flags::A | bu_flags::H,
            lifetime: 100,
            options: vec![MobilityOption::Ipv4HomeAddress { prefix_len: 32, p: false, addr: Ipv4Addr::UNSPECIFIED }],
        })
    }

    /// IPv6 | Destination Options (PadN 4, Home Address) | MH, as RFC 6275
    /// §6.3 lays it out (Home Address at 8n+6).
    fn bu_ipv6(msg: &MhMessage) -> Vec<u8> {
        ipv6_packet_with_home_address(COA, HA, HOA, &emit(msg, Checksum::Ipv6 { src: HOA, dst: HA }))
    }

    fn udp_framing() -> Framing {
        Framing::Udp4 { src: COA4, dst: HA4, src_port: 40000, dst_port: DSMIP6_PORT, inner_src: HOA, inner_dst: HA }
    }

    #[test]
    fn a_bu_with_a_home_address_option_parses_with_the_option_in_the_checksum() {
        let p = parse_packet(&bu_ipv6(&bu())).unwrap();
        assert_eq!(p.framing, Framing::Ipv6 { src: COA, dst: HA, home_address: Some(HOA), routing_home: None });
        assert_eq!(p.msg, bu());
        assert_eq!(p.mh, emit(&bu(), Checksum::Ipv6 { src: HOA, dst: HA }));
    }

    #[test]
    fn a_bu_over_ipv4_udp_4191_parses_with_the_inner_addresses() {
        let mh = emit(&bu(), Checksum::Ipv6 { src: HOA, dst: HA });
        let packet = udp4_packet(&udp_framing(), &mh).unwrap();
        let p = parse_packet(&packet).unwrap();
        assert_eq!(p.framing, udp_framing());
        assert_eq!(p.msg, bu());
        // A zero UDP checksum (none) is accepted; a wrong one is not.
        let mut zero = packet.clone();
        zero[26..28].copy_from_slice(&[0, 0]);
        assert!(parse_packet(&zero).is_ok());
        let mut bad = packet.clone();
        bad[26] ^= 1;
        assert_eq!(parse_packet(&bad), Err(PacketError::BadUdpChecksum));
        let mut bad = packet.clone();
        bad[10] ^= 1;
        assert_eq!(parse_packet(&bad), Err(PacketError::BadIpv4Checksum));
    }

    #[test]
    fn other_udp_ports_and_protocols_are_not_mobility() {
        let mh = emit(&bu(), Checksum::Ipv6 { src: HOA, dst: HA });
        let Framing::Udp4 { src, dst, inner_src, inner_dst, .. } = udp_framing() else { unreachable!() };
        let other = Framing::Udp4 { src, dst, src_port: 5436, dst_port: 5436, inner_src, inner_dst };
        assert_eq!(parse_packet(&udp4_packet(&other, &mh).unwrap()), Err(PacketError::NotMobility));
        assert_eq!(parse_packet(&[]), Err(PacketError::NotMobility));
        assert_eq!(parse_packet(&[0x10; 40]), Err(PacketError::NotMobility));
    }

    #[test]
    fn a_wrong_checksum_is_refused_and_the_home_address_option_matters() {
        let mut b = bu_ipv6(&bu());
        // Replace the Home Address option's address: the checksum no longer verifies.
        b[40 + 8 + 15] ^= 1;
        assert_eq!(parse_packet(&b), Err(PacketError::Mh(MhError::BadChecksum)));
    }

    #[test]
    fn unexpected_extension_headers_and_bad_destination_options_are_refused() {
        let good = bu_ipv6(&bu());
        for nh in [next_header::HOP_BY_HOP, next_header::FRAGMENT, next_header::ESP, 6] {
            let mut b = good.clone();
            b[6] = nh;
            assert_eq!(parse_packet(&b), Err(PacketError::UnexpectedHeader { next_header: nh }));
        }
        // A routing header that is not type 2 with one address left.
        let mut b = good.clone();
        b[6] = next_header::ROUTING;
        assert_eq!(parse_packet(&b), Err(PacketError::UnexpectedHeader { next_header: next_header::ROUTING }));
        // Two Destination Options headers.
        let mut b = good.clone();
        b[40] = next_header::DESTINATION_OPTIONS;
        assert!(matches!(parse_packet(&b), Err(PacketError::UnexpectedHeader { next_header: 60 })));
        // A Home Address option of Length 15.
        let mut b = good.clone();
        b[40 + 7] = 15;
        assert_eq!(parse_packet(&b), Err(PacketError::BadDestinationOptions));
        // An unknown option with "discard" bits, replacing the PadN.
        let mut b = good.clone();
        b[40 + 2] = 0x45;
        assert_eq!(parse_packet(&b), Err(PacketError::BadDestinationOptions));
        // ... and one to skip (high bits 00).
        let mut b = good.clone();
        b[40 + 2] = 0x05;
        assert!(parse_packet(&b).is_ok());
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        let mh = emit(&bu(), Checksum::Ipv6 { src: HOA, dst: HA });
        for packet in [bu_ipv6(&bu()), udp4_packet(&udp_framing(), &mh).unwrap()] {
            for len in 0..packet.len() {
                assert!(parse_packet(&packet[..len]).is_err(), "len {len}");
            }
            // Length fields that lie: every IP payload length.
            for cut in 1..packet.len() {
                let mut b = packet.clone();
                if b[0] >> 4 == 6 {
                    let l = u16::try_from(cut.min(0xffff)).unwrap();
                    b[4..6].copy_from_slice(&l.to_be_bytes());
                }
                let _ = parse_packet(&b);
            }
        }
    }

    #[test]
    fn the_ba_over_ipv6_carries_a_type_2_routing_header_with_the_home_address() {
        let ba = MhMessage::BindingAck(BindingAck { status: 0, flags: 0, seq: 9, lifetime: 100, options: vec![] });
        let mh = emit(&ba, Checksum::Ipv6 { src: HA, dst: HOA });
        let p = ipv6_packet(HA, COA, Some(HOA), &mh);
        assert_eq!(p[6], next_header::ROUTING);
        assert_eq!(p[40..48], [135, 2, 2, 1, 0, 0, 0, 0]);
        assert_eq!(p[48..64], HOA.octets());
        assert_eq!(p[64..], mh[..]);
        assert_eq!(u16::from_be_bytes([p[4], p[5]]) as usize, 24 + mh.len());
        let parsed = parse_packet(&p).unwrap();
        assert_eq!(parsed.framing, Framing::Ipv6 { src: HA, dst: COA, home_address: None, routing_home: Some(HOA) });
        assert_eq!(parsed.msg, ba);
        let plain = ipv6_packet(HA, COA, None, &mh);
        assert_eq!((plain[6], plain.len()), (135, 40 + mh.len()));
        // Two routing headers, or one after the Destination Options, are refused.
        let mut twice = ipv6_packet(HA, COA, Some(HOA), &[]);
        twice[40] = next_header::ROUTING;
        twice.extend_from_slice(&p[40..]);
        let len = u16::try_from(twice.len() - 40).unwrap();
        twice[4..6].copy_from_slice(&len.to_be_bytes());
        assert_eq!(parse_packet(&twice), Err(PacketError::UnexpectedHeader { next_header: next_header::ROUTING }));
    }

    #[test]
    fn the_ba_over_ipv4_has_a_valid_udp_checksum_and_parses_back() {
        let ba = MhMessage::BindingAck(BindingAck { status: 0, flags: 0, seq: 9, lifetime: 100, options: vec![] });
        let back =
            Framing::Udp4 { src: HA4, dst: COA4, src_port: DSMIP6_PORT, dst_port: 4191, inner_src: HA, inner_dst: HOA };
        let mh = emit(&ba, back.checksum());
        let p = udp4_packet(&back, &mh).unwrap();
        let parsed = parse_packet(&p).unwrap();
        assert_eq!(parsed.msg, ba);
        assert_eq!(parsed.framing, back);
        assert_eq!(
            udp4_packet(&Framing::Ipv6 { src: HA, dst: HOA, home_address: None, routing_home: None }, &mh),
            None
        );
    }
}
