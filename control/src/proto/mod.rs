//! Mobility Header signalling (RFC 6275 §6.1, PROTOCOLS.md §2): typed
//! messages ([`MhMessage`]) apart from the byte view ([`header::Packet`]),
//! [`parse`] in the receive-check order of RFC 6275 §9.2 and [`emit`] with
//! the padding and alignment rules of §2.8.
//!
//! Messages the anchor handles: Binding Update (PBU when P = 1, DSMIPv6 BU),
//! Binding Acknowledgement, Binding Error, Heartbeat (RFC 5847), Binding
//! Revocation (RFC 5846) and the Binding Refresh Request it ignores. Every
//! other MH Type is [`MhError::UnknownType`], answered with a Binding Error
//! status 2.
//!
//! [`dsmip6`] frames a message in a whole packet the way a DSMIPv6 mobile
//! node and home agent exchange it (Home Address option, type 2 routing
//! header, IPv4 | UDP 4191 | IPv6).
//!
//! Fields keep their wire values (flags words with every bit, raw status
//! and lifetime in 4-second units): meaning is the role state machines'
//! business, which also judges option cardinality and duplicates.

use core::net::Ipv6Addr;

pub mod dsmip6;
pub mod header;
pub mod options;
mod registry;

#[cfg(test)]
mod golden;

pub use options::MobilityOption;
pub use registry::{
    att, be_status, bra_status, handoff, hoa_reply_status, ipv4_ack_status, revocation_trigger, status,
};

use header::{field, read_u16, read_u32, read_u8, Packet, PAYLOAD_PROTO_NONE};

/// How the MH checksum is handled: over IPv6 with this pseudo-header, or carried in UDP over IPv4 (sent 0, ignored on receipt; PROTOCOLS §2.1, §4.8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Source and destination of the pseudo-header (for PMIPv6 the IPv6
    /// header's own addresses: no Home Address option, no type 2 routing
    /// header; for DSMIPv6 over IPv4 the inner IPv6 header's).
    Ipv6 { src: Ipv6Addr, dst: Ipv6Addr },
    /// MH in UDP over IPv4: the checksum is sent as 0 and not verified.
    None,
}

/// MH Type values (IANA, PROTOCOLS.md §2.2) of the messages we parse.
pub mod mh_type {
    pub const BINDING_REFRESH_REQUEST: u8 = 0;
    pub const BINDING_UPDATE: u8 = 5;
    pub const BINDING_ACK: u8 = 6;
    pub const BINDING_ERROR: u8 = 7;
    pub const HEARTBEAT: u8 = 13;
    pub const BINDING_REVOCATION: u8 = 16;
}

/// The smallest Header Len allowed for a known type (PROTOCOLS.md §2.2);
/// `None` for a type we do not handle.
pub fn min_header_len(mh_type: u8) -> Option<u8> {
    match mh_type {
        mh_type::BINDING_REFRESH_REQUEST => Some(0),
        mh_type::BINDING_UPDATE | mh_type::BINDING_ACK | mh_type::HEARTBEAT | mh_type::BINDING_REVOCATION => Some(1),
        mh_type::BINDING_ERROR => Some(2),
        _ => None,
    }
}

/// A Mobility Header message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MhMessage {
    BindingUpdate(BindingUpdate),
    BindingAck(BindingAck),
    BindingError(BindingError),
    Heartbeat(Heartbeat),
    BindingRevocation(BindingRevocation),
    /// Binding Refresh Request (0): ignored by the anchor.
    BindingRefreshRequest,
}

impl MhMessage {
    /// Mobility header type of the message, for counters.
    pub fn mh_type(&self) -> u8 {
        match self {
            Self::BindingUpdate(_) => mh_type::BINDING_UPDATE,
            Self::BindingAck(_) => mh_type::BINDING_ACK,
            Self::BindingError(_) => mh_type::BINDING_ERROR,
            Self::Heartbeat(_) => mh_type::HEARTBEAT,
            Self::BindingRevocation(_) => mh_type::BINDING_REVOCATION,
            Self::BindingRefreshRequest => mh_type::BINDING_REFRESH_REQUEST,
        }
    }

    /// The message's mobility options (none for a Binding Error or a
    /// Binding Refresh Request, whose options are not kept).
    pub fn options(&self) -> &[MobilityOption] {
        match self {
            Self::BindingUpdate(m) => &m.options,
            Self::BindingAck(m) => &m.options,
            Self::Heartbeat(m) => &m.options,
            Self::BindingRevocation(m) => &m.options,
            Self::BindingError(_) | Self::BindingRefreshRequest => &[],
        }
    }
}

/// Binding Update / Proxy Binding Update (MH type 5, PROTOCOLS.md §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingUpdate {
    pub seq: u16,
    /// The whole flags word ([`bu_flags`]); unassigned bits are kept as received.
    pub flags: u16,
    /// 4-s units; 0 = de-registration.
    pub lifetime: u16,
    pub options: Vec<MobilityOption>,
}

/// Binding Update flags (masks over the 16-bit flags word, PROTOCOLS.md §2.3).
pub mod bu_flags {
    /// Acknowledge requested.
    pub const A: u16 = 0x8000;
    /// Home registration.
    pub const H: u16 = 0x4000;
    /// Link-local address compatibility.
    pub const L: u16 = 0x2000;
    /// Key management mobility capability.
    pub const K: u16 = 0x1000;
    /// MAP registration (RFC 4140).
    pub const M: u16 = 0x0800;
    /// Mobile router (RFC 3963).
    pub const R: u16 = 0x0400;
    /// Proxy registration (RFC 5213).
    pub const P: u16 = 0x0200;
    /// Force UDP encapsulation (RFC 5555).
    pub const F: u16 = 0x0100;
    /// TLV-header format (RFC 5845).
    pub const T: u16 = 0x0080;
    /// Bulk binding update (RFC 6602).
    pub const B: u16 = 0x0040;
}

/// Binding Acknowledgement / Proxy Binding Acknowledgement (MH type 6, PROTOCOLS.md §2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingAck {
    /// [`status`]: below 128 accepted.
    pub status: u8,
    /// The whole flags byte ([`ba_flags`]).
    pub flags: u8,
    pub seq: u16,
    /// 4-s units; 0 on reject.
    pub lifetime: u16,
    pub options: Vec<MobilityOption>,
}

/// Binding Acknowledgement flags (masks over the flags byte, PROTOCOLS.md §2.4).
pub mod ba_flags {
    /// Key management mobility capability.
    pub const K: u8 = 0x80;
    /// Mobile router (RFC 3963).
    pub const R: u8 = 0x40;
    /// Proxy registration (RFC 5213): only when the PBU had P.
    pub const P: u8 = 0x20;
    /// TLV-header format (RFC 5845): only when the PBU had T.
    pub const T: u8 = 0x10;
}

/// Binding Error (MH type 7, PROTOCOLS.md §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingError {
    /// [`be_status`].
    pub status: u8,
    /// From the offending packet's Home Address option, else `::`.
    pub home_address: Ipv6Addr,
}

/// Heartbeat (MH type 13, RFC 5847, PROTOCOLS.md §2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The whole flags word ([`hb_flags`]).
    pub flags: u16,
    pub seq: u32,
    pub options: Vec<MobilityOption>,
}

/// Heartbeat flags (masks over the 16-bit flags word).
pub mod hb_flags {
    /// Unsolicited response.
    pub const U: u16 = 0x0002;
    /// Response (0 = request).
    pub const R: u16 = 0x0001;
}

/// Binding Revocation Indication / Acknowledgement (MH type 16, RFC 5846, PROTOCOLS.md §2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRevocation {
    /// [`br_type`]: 1 BRI, 2 BRA.
    pub br_type: u8,
    /// BRI: [`revocation_trigger`]; BRA: [`bra_status`].
    pub trigger_or_status: u8,
    pub seq: u16,
    /// The whole flags word ([`br_flags`]).
    pub flags: u16,
    pub options: Vec<MobilityOption>,
}

/// Binding Revocation flags (masks over the 16-bit flags word).
pub mod br_flags {
    /// Proxy binding.
    pub const P: u16 = 0x8000;
    /// IPv4 home address binding only.
    pub const V: u16 = 0x4000;
    /// Global revocation.
    pub const G: u16 = 0x2000;
}

/// Binding Revocation message types.
pub mod br_type {
    /// Binding Revocation Indication.
    pub const BRI: u8 = 1;
    /// Binding Revocation Acknowledgement.
    pub const BRA: u8 = 2;
}

/// Why a Mobility Header was refused, in the order [`parse`] checks
/// (PROTOCOLS.md §2.1, then §2.8). Each variant carries what the reply
/// needs: see [`binding_error_status`](Self::binding_error_status) and
/// [`parameter_problem_pointer`](Self::parameter_problem_pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MhError {
    /// Shorter than 8 octets or than Header Len says: drop.
    #[error("mobility header truncated")]
    Truncated,
    /// The checksum does not verify: silent drop.
    #[error("bad mobility header checksum")]
    BadChecksum,
    /// An MH Type we do not handle: drop and send a Binding Error status 2.
    #[error("unknown mobility header type {mh_type}")]
    UnknownType { mh_type: u8 },
    /// Payload Proto is not 59: drop, ICMPv6 Parameter Problem code 0
    /// pointing at MH offset 0.
    #[error("mobility header payload proto {proto}, not 59")]
    BadPayloadProto { proto: u8 },
    /// Header Len below the minimum for the type: drop, ICMPv6 Parameter
    /// Problem code 0 pointing at MH offset 1.
    #[error("mobility header length below the minimum for its type")]
    BadHeaderLen,
    /// The option whose Type octet is at `offset` runs past the end: drop.
    #[error("mobility option at offset {offset} runs past the end of the header")]
    OptionOverrun { offset: usize },
    /// A known option with a Length its layout does not allow: drop.
    #[error("mobility option {option} at offset {offset} has a bad length")]
    BadOptionLength { option: u8, offset: usize },
}

impl MhError {
    /// The Binding Error status to send back, if any (RFC 6275 §9.2).
    pub fn binding_error_status(&self) -> Option<u8> {
        match self {
            Self::UnknownType { .. } => Some(be_status::UNRECOGNIZED_MH_TYPE),
            _ => None,
        }
    }

    /// The offset in the Mobility Header of the field an ICMPv6 Parameter
    /// Problem (code 0) points at, if one SHOULD be sent; the caller adds
    /// the offset of the Mobility Header in the packet.
    pub fn parameter_problem_pointer(&self) -> Option<usize> {
        match self {
            Self::BadPayloadProto { .. } => Some(field::PAYLOAD_PROTO),
            Self::BadHeaderLen => Some(field::HEADER_LEN),
            _ => None,
        }
    }
}

/// Why [`try_emit`] refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// An option's data does not fit its Length octet, or it is an
    /// `Unknown` of type 0 (Pad1 has no Length).
    #[error("mobility option {option} cannot be encoded")]
    UnencodableOption { option: u8 },
    /// The options do not fit in the 2048 octets Header Len can describe.
    #[error("mobility header longer than 2048 octets")]
    TooLong,
}

/// Parses the Mobility Header at the start of `mh` (octets after Header
/// Len's length are ignored). Checks, in order: length, checksum (unless
/// [`Checksum::None`]), known MH Type, Payload Proto 59, Header Len minimum
/// (RFC 6275 §9.2), then the fixed part and the options (PROTOCOLS.md §2.8):
/// Pad1/PadN are dropped, unknown types kept as [`MobilityOption::Unknown`],
/// misaligned options accepted, duplicates kept in order. Never panics.
pub fn parse(mh: &[u8], checksum: Checksum) -> Result<MhMessage, MhError> {
    let packet = Packet::new_checked(mh)?;
    if let Checksum::Ipv6 { src, dst } = checksum {
        if !packet.verify_checksum(src, dst) {
            return Err(MhError::BadChecksum);
        }
    }
    let mh_type = packet.mh_type();
    let min = min_header_len(mh_type).ok_or(MhError::UnknownType { mh_type })?;
    if packet.payload_proto() != PAYLOAD_PROTO_NONE {
        return Err(MhError::BadPayloadProto { proto: packet.payload_proto() });
    }
    if packet.header_len() < min {
        return Err(MhError::BadHeaderLen);
    }
    let b = packet.message();
    let opts = |start: usize| options::parse_all(b.get(start..).unwrap_or_default(), start);
    let msg = match mh_type {
        mh_type::BINDING_UPDATE => MhMessage::BindingUpdate(BindingUpdate {
            seq: read_u16(b, field::BU_SEQ)?,
            flags: read_u16(b, field::BU_FLAGS)?,
            lifetime: read_u16(b, field::BU_LIFETIME)?,
            options: opts(field::BU_OPTIONS)?,
        }),
        mh_type::BINDING_ACK => MhMessage::BindingAck(BindingAck {
            status: read_u8(b, field::BA_STATUS)?,
            flags: read_u8(b, field::BA_FLAGS)?,
            seq: read_u16(b, field::BA_SEQ)?,
            lifetime: read_u16(b, field::BA_LIFETIME)?,
            options: opts(field::BA_OPTIONS)?,
        }),
        mh_type::BINDING_ERROR => {
            let home: [u8; 16] = header::array(b, field::BE_HOME_ADDRESS.start)?;
            // No options are defined for a Binding Error; they must still be well-formed.
            opts(field::BE_OPTIONS)?;
            MhMessage::BindingError(BindingError {
                status: read_u8(b, field::BE_STATUS)?,
                home_address: Ipv6Addr::from(home),
            })
        }
        mh_type::HEARTBEAT => MhMessage::Heartbeat(Heartbeat {
            flags: read_u16(b, field::HB_FLAGS)?,
            seq: read_u32(b, field::HB_SEQ)?,
            options: opts(field::HB_OPTIONS)?,
        }),
        mh_type::BINDING_REVOCATION => MhMessage::BindingRevocation(BindingRevocation {
            br_type: read_u8(b, field::BR_TYPE)?,
            trigger_or_status: read_u8(b, field::BR_TRIGGER_OR_STATUS)?,
            seq: read_u16(b, field::BR_SEQ)?,
            flags: read_u16(b, field::BR_FLAGS)?,
            options: opts(field::BR_OPTIONS)?,
        }),
        _ => {
            // Binding Refresh Request: ignored, but its options must be well-formed too.
            opts(field::BRR_OPTIONS)?;
            MhMessage::BindingRefreshRequest
        }
    };
    Ok(msg)
}

/// The Mobility Header for `msg`: Payload Proto 59, reserved octets 0,
/// options aligned with Pad1/PadN before each (its xn+y), AUTH moved last
/// with no padding after it, the end padded to a multiple of 8, Header Len
/// set, checksum filled per `checksum` (0 for [`Checksum::None`]).
///
/// Messages the anchor builds always encode; for one that does not (see
/// [`try_emit`]), an over-long option's data is cut to what its Length
/// octet can say and options past 2048 octets are left out.
pub fn emit(msg: &MhMessage, checksum: Checksum) -> Vec<u8> {
    encode(msg, checksum).0
}

/// [`emit`], refusing instead of cutting when an option or the whole
/// message cannot be encoded as given.
pub fn try_emit(msg: &MhMessage, checksum: Checksum) -> Result<Vec<u8>, EmitError> {
    if let Some(bad) = msg.options().iter().find(|o| !o.is_encodable()) {
        return Err(EmitError::UnencodableOption { option: bad.option_type() });
    }
    match encode(msg, checksum) {
        (bytes, true) => Ok(bytes),
        (_, false) => Err(EmitError::TooLong),
    }
}

/// Encodes `msg`; the flag is false when something was cut or left out.
fn encode(msg: &MhMessage, checksum: Checksum) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&[PAYLOAD_PROTO_NONE, 0, msg.mh_type(), 0, 0, 0]);
    let complete = match msg {
        MhMessage::BindingUpdate(m) => {
            for word in [m.seq, m.flags, m.lifetime] {
                out.extend_from_slice(&word.to_be_bytes());
            }
            options::emit_all(&mut out, &m.options)
        }
        MhMessage::BindingAck(m) => {
            out.extend_from_slice(&[m.status, m.flags]);
            out.extend_from_slice(&m.seq.to_be_bytes());
            out.extend_from_slice(&m.lifetime.to_be_bytes());
            options::emit_all(&mut out, &m.options)
        }
        MhMessage::BindingError(m) => {
            out.extend_from_slice(&[m.status, 0]);
            out.extend_from_slice(&m.home_address.octets());
            options::emit_all(&mut out, &[])
        }
        MhMessage::Heartbeat(m) => {
            out.extend_from_slice(&m.flags.to_be_bytes());
            out.extend_from_slice(&m.seq.to_be_bytes());
            options::emit_all(&mut out, &m.options)
        }
        MhMessage::BindingRevocation(m) => {
            out.extend_from_slice(&[m.br_type, m.trigger_or_status]);
            out.extend_from_slice(&m.seq.to_be_bytes());
            out.extend_from_slice(&m.flags.to_be_bytes());
            options::emit_all(&mut out, &m.options)
        }
        MhMessage::BindingRefreshRequest => {
            out.extend_from_slice(&[0, 0]);
            options::emit_all(&mut out, &[])
        }
    };
    let complete = complete && msg.options().iter().all(MobilityOption::is_encodable);
    // A multiple of 8 between 8 and 2048 octets: Header Len fits.
    let header_len = u8::try_from(out.len() / 8 - 1).unwrap_or(u8::MAX);
    let mut packet = Packet::new_unchecked(&mut out[..]);
    packet.set_header_len(header_len);
    packet.fill_checksum(checksum);
    (out, complete)
}

#[cfg(test)]
mod tests {
    use core::net::Ipv4Addr;

    use super::options::tests::every_option;
    use super::*;

    const MAG: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa);
    const LMA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const V6: Checksum = Checksum::Ipv6 { src: MAG, dst: LMA };

    fn nai() -> MobilityOption {
        MobilityOption::MnIdentifier { subtype: 1, id: b"mn1@example.net".to_vec() }
    }

    /// One of each message, with options where the message has them.
    fn every_message() -> Vec<MhMessage> {
        let hnp = MobilityOption::HomeNetworkPrefix {
            prefix_len: 64,
            prefix: Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 0),
        };
        vec![
            MhMessage::BindingUpdate(BindingUpdate {
                seq: 7,
                flags: bu_flags::A | bu_flags::P,
                lifetime: 900,
                options: vec![
                    nai(),
                    hnp.clone(),
                    MobilityOption::HandoffIndicator(handoff::ATTACHMENT_OVER_NEW_INTERFACE),
                    MobilityOption::AccessTechnology(att::IEEE_802_3),
                    MobilityOption::Timestamp(1_700_000_000 << 16),
                    MobilityOption::Ipv4HoaRequest { prefix_len: 32, addr: Ipv4Addr::UNSPECIFIED },
                    MobilityOption::GreKey(Some(0x1234)),
                ],
            }),
            MhMessage::BindingUpdate(BindingUpdate {
                seq: 0xffff,
                flags: 0xffff,
                lifetime: 0,
                options: every_option(),
            }),
            MhMessage::BindingUpdate(BindingUpdate { seq: 1, flags: 0, lifetime: 1, options: vec![] }),
            MhMessage::BindingAck(BindingAck {
                status: status::ACCEPTED,
                flags: ba_flags::P | ba_flags::T,
                seq: 7,
                lifetime: 900,
                options: vec![nai(), hnp.clone(), MobilityOption::GreKey(Some(0x5678))],
            }),
            MhMessage::BindingAck(BindingAck {
                status: status::NOT_LMA_FOR_THIS_MOBILE_NODE,
                flags: ba_flags::P,
                seq: 8,
                lifetime: 0,
                options: vec![],
            }),
            MhMessage::BindingError(BindingError { status: be_status::UNRECOGNIZED_MH_TYPE, home_address: MAG }),
            MhMessage::Heartbeat(Heartbeat { flags: 0, seq: 0x0102_0304, options: vec![] }),
            MhMessage::Heartbeat(Heartbeat {
                flags: hb_flags::U | hb_flags::R,
                seq: u32::MAX,
                options: vec![MobilityOption::RestartCounter(42)],
            }),
            MhMessage::BindingRevocation(BindingRevocation {
                br_type: br_type::BRI,
                trigger_or_status: revocation_trigger::USER_INITIATED_SESSION_TERMINATION,
                seq: 0x4242,
                flags: br_flags::P | br_flags::V,
                options: vec![
                    nai(),
                    MobilityOption::Ipv4HoaRequest { prefix_len: 32, addr: Ipv4Addr::new(10, 1, 2, 3) },
                ],
            }),
            MhMessage::BindingRevocation(BindingRevocation {
                br_type: br_type::BRA,
                trigger_or_status: bra_status::PARTIAL_SUCCESS,
                seq: 1,
                flags: br_flags::P | br_flags::G,
                options: vec![],
            }),
            MhMessage::BindingRefreshRequest,
        ]
    }

    #[test]
    fn every_message_round_trips_over_ipv6_and_over_ipv4_udp() {
        for msg in every_message() {
            for checksum in [V6, Checksum::None] {
                let bytes = emit(&msg, checksum);
                assert_eq!(parse(&bytes, checksum), Ok(msg.clone()), "{msg:?}");
                assert_eq!(try_emit(&msg, checksum), Ok(bytes));
            }
        }
    }

    #[test]
    fn emitted_headers_have_proto_59_reserved_0_and_a_consistent_header_len() {
        for msg in every_message() {
            let bytes = emit(&msg, V6);
            assert_eq!(bytes[0], 59);
            assert_eq!(bytes[2], msg.mh_type());
            assert_eq!(bytes[3], 0);
            assert_eq!(bytes.len() % 8, 0);
            assert_eq!((usize::from(bytes[1]) + 1) * 8, bytes.len());
            assert!(bytes[1] >= min_header_len(msg.mh_type()).unwrap());
            let p = Packet::new_checked(&bytes[..]).unwrap();
            assert!(p.verify_checksum(MAG, LMA));
        }
    }

    #[test]
    fn over_ipv4_the_checksum_is_sent_as_zero_and_not_checked() {
        let msg = &every_message()[0];
        let mut bytes = emit(msg, Checksum::None);
        assert_eq!(bytes[4..6], [0, 0]);
        bytes[4] = 0x12;
        assert_eq!(parse(&bytes, Checksum::None).as_ref(), Ok(msg));
        assert_eq!(parse(&bytes, V6), Err(MhError::BadChecksum));
    }

    #[test]
    fn messages_without_options_get_the_minimum_sizes_of_protocols_2() {
        let sizes = [(2, 16), (4, 16), (5, 24), (6, 16), (9, 16), (10, 8)];
        let all = every_message();
        for (i, len) in sizes {
            let bytes = emit(&all[i], V6);
            assert_eq!(bytes.len(), len, "{:?}", all[i]);
        }
        // BU/BA/HB/BR: a 4-octet PadN after the 12-octet fixed part; BE: none.
        assert_eq!(emit(&all[2], V6)[12..], [1, 2, 0, 0]);
    }

    #[test]
    fn mh_type_names_each_message() {
        let types: Vec<u8> = every_message().iter().map(MhMessage::mh_type).collect();
        assert_eq!(types, [5, 5, 5, 6, 6, 7, 13, 13, 16, 16, 0]);
    }

    #[test]
    fn every_truncation_of_valid_messages_is_an_error_never_a_panic() {
        for msg in every_message() {
            for checksum in [V6, Checksum::None] {
                let bytes = emit(&msg, checksum);
                for len in 0..bytes.len() {
                    assert_eq!(parse(&bytes[..len], checksum), Err(MhError::Truncated), "{msg:?} len {len}");
                }
                // A smaller Header Len that still covers the fixed part cuts
                // options short: refused or parsed, never a panic.
                for hl in 0..bytes[1] {
                    let mut short = bytes[..(usize::from(hl) + 1) * 8].to_vec();
                    short[1] = hl;
                    let _ = parse(&short, Checksum::None);
                    Packet::new_unchecked(&mut short[..]).fill_checksum(V6);
                    let _ = parse(&short, V6);
                }
            }
        }
    }

    /// The checks of PROTOCOLS.md §2.1 come in their order: each mutation
    /// below breaks every later check too, and only the first one is reported.
    #[test]
    fn receive_checks_come_in_the_rfc_6275_order() {
        let good = emit(&every_message()[0], V6);
        let fixed = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            f(&mut b);
            Packet::new_unchecked(&mut b[..]).fill_checksum(V6);
            b
        };
        // Unknown type 1 + proto 58 + Header Len 0: unknown type wins.
        let b = fixed(&|b| {
            b[0] = 58;
            b[2] = 1;
        });
        assert_eq!(parse(&b, V6), Err(MhError::UnknownType { mh_type: 1 }));
        // ... and with a bad checksum, the checksum wins.
        let mut c = b.clone();
        c[4] ^= 1;
        assert_eq!(parse(&c, V6), Err(MhError::BadChecksum));
        // Proto 58 and Header Len 0 (8 octets): payload proto wins.
        let mut b = fixed(&|b| b[0] = 58);
        b[1] = 0;
        b.truncate(8);
        Packet::new_unchecked(&mut b[..]).fill_checksum(V6);
        assert_eq!(parse(&b, V6), Err(MhError::BadPayloadProto { proto: 58 }));
        b[0] = 59;
        Packet::new_unchecked(&mut b[..]).fill_checksum(V6);
        assert_eq!(parse(&b, V6), Err(MhError::BadHeaderLen));
        // A truncated buffer cannot even be checksummed.
        assert_eq!(parse(&good[..good.len() - 1], V6), Err(MhError::Truncated));
    }

    #[test]
    fn known_types_below_their_minimum_header_len_are_refused() {
        for (t, min) in [(0u8, 0u8), (5, 1), (6, 1), (7, 2), (13, 1), (16, 1)] {
            for hl in 0..min {
                let mut b = vec![0u8; (usize::from(hl) + 1) * 8];
                b[0] = 59;
                b[1] = hl;
                b[2] = t;
                assert_eq!(parse(&b, Checksum::None), Err(MhError::BadHeaderLen), "type {t} hl {hl}");
            }
        }
    }

    #[test]
    fn unhandled_types_are_unknown_and_ask_for_binding_error_2() {
        for t in (1..=4).chain(8..=12).chain([14, 15, 17, 23, 255]) {
            let mut b = vec![0u8; 16];
            b[0] = 59;
            b[1] = 1;
            b[2] = t;
            let err = parse(&b, Checksum::None).unwrap_err();
            assert_eq!(err, MhError::UnknownType { mh_type: t });
            assert_eq!(err.binding_error_status(), Some(be_status::UNRECOGNIZED_MH_TYPE));
            assert_eq!(err.parameter_problem_pointer(), None);
        }
        assert_eq!(MhError::BadPayloadProto { proto: 6 }.parameter_problem_pointer(), Some(0));
        assert_eq!(MhError::BadHeaderLen.parameter_problem_pointer(), Some(1));
        assert_eq!(MhError::BadChecksum.binding_error_status(), None);
    }

    #[test]
    fn error_messages_are_lower_case() {
        let errors = [
            MhError::Truncated,
            MhError::BadChecksum,
            MhError::UnknownType { mh_type: 1 },
            MhError::BadPayloadProto { proto: 6 },
            MhError::BadHeaderLen,
            MhError::OptionOverrun { offset: 12 },
            MhError::BadOptionLength { option: 22, offset: 12 },
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.chars().next().unwrap().is_lowercase(), "{text}");
        }
        assert_eq!(MhError::BadOptionLength { option: 22, offset: 36 }.to_string(), {
            "mobility option 22 at offset 36 has a bad length"
        });
    }

    #[test]
    fn options_of_binding_errors_and_refresh_requests_must_be_well_formed() {
        let mut be = emit(&every_message()[5], Checksum::None);
        be[1] = 3;
        be.extend_from_slice(&[23, 9, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse(&be, Checksum::None), Err(MhError::OptionOverrun { offset: 24 }));
        be[25] = 2;
        assert!(matches!(parse(&be, Checksum::None), Ok(MhMessage::BindingError(_))));
        let brr = [59, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&brr, Checksum::None), Ok(MhMessage::BindingRefreshRequest));
        let brr = [59, 1, 0, 0, 0, 0, 0, 0, 22, 2, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&brr, Checksum::None), Err(MhError::BadOptionLength { option: 22, offset: 8 }));
    }

    #[test]
    fn reserved_octets_and_unassigned_flag_bits_are_ignored_or_kept() {
        let mut b = emit(&every_message()[2], Checksum::None);
        b[3] = 0xff;
        assert!(parse(&b, Checksum::None).is_ok());
        let mut be = emit(&every_message()[5], Checksum::None);
        be[7] = 0xff;
        assert_eq!(parse(&be, Checksum::None), Ok(every_message()[5].clone()));
        // Every bit of a flags word survives a round trip.
        let hb = MhMessage::Heartbeat(Heartbeat { flags: 0xffff, seq: 0, options: vec![] });
        assert_eq!(parse(&emit(&hb, V6), V6), Ok(hb));
    }

    #[test]
    fn octets_after_header_len_are_ignored() {
        let msg = every_message()[0].clone();
        let mut b = emit(&msg, V6);
        b.extend_from_slice(&[0xde, 0xad]);
        assert_eq!(parse(&b, V6), Ok(msg));
    }

    #[test]
    fn try_emit_refuses_what_emit_would_cut() {
        let long = MhMessage::BindingUpdate(BindingUpdate {
            seq: 0,
            flags: 0,
            lifetime: 0,
            options: vec![MobilityOption::MnIdentifier { subtype: 1, id: vec![b'x'; 255] }],
        });
        assert_eq!(try_emit(&long, V6), Err(EmitError::UnencodableOption { option: 8 }));
        let cut = emit(&long, V6);
        assert!(parse(&cut, V6).is_ok());
        let many = MhMessage::Heartbeat(Heartbeat {
            flags: 0,
            seq: 0,
            options: vec![MobilityOption::Unknown { option_type: 99, data: vec![0; 250] }; 9],
        });
        assert_eq!(try_emit(&many, V6), Err(EmitError::TooLong));
        let bytes = emit(&many, V6);
        assert_eq!(bytes.len() % 8, 0);
        assert!(bytes.len() <= header::MAX_LEN);
        assert_eq!(parse(&bytes, V6).unwrap().options().len(), 8);
    }

    /// xorshift64: deterministic pseudo-random bytes.
    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// 20 000 random buffers, raw and with the common header made to pass
    /// (so the options walker and the option decoders see the rest).
    #[test]
    fn random_bytes_never_panic_the_parser() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let types = [0u8, 5, 6, 7, 13, 16, 1, 200];
        for _ in 0..20_000 {
            let len = (xorshift(&mut x) % 200) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| xorshift(&mut x) as u8).collect();
            let _ = parse(&b, V6);
            let _ = parse(&b, Checksum::None);
            if b.len() >= 8 {
                b[0] = 59;
                b[1] = u8::try_from(b.len() / 8 - 1).unwrap();
                b[2] = types[(xorshift(&mut x) % types.len() as u64) as usize];
                // Sprinkle known option types to reach their decoders.
                for i in (12..b.len()).step_by(5) {
                    if xorshift(&mut x).is_multiple_of(3) {
                        b[i] = [2u8, 3, 8, 9, 10, 19, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 36, 37, 38, 39]
                            [(xorshift(&mut x) % 22) as usize];
                    }
                }
                if let Ok(msg) = parse(&b, Checksum::None) {
                    // What parses must emit and parse back to the same
                    // message (AUTH moved last), which emits the same bytes.
                    let bytes = emit(&msg, V6);
                    let again = parse(&bytes, V6).unwrap();
                    assert_eq!(again.options().len(), msg.options().len());
                    assert_eq!(emit(&again, V6), bytes);
                }
                Packet::new_unchecked(&mut b[..]).fill_checksum(V6);
                let _ = parse(&b, V6);
            }
        }
    }
}
