//! Mobile IPv4 control messages (UDP port 434, PROTOCOLS.md §8.1–§8.3,
//! §8.9, §8.12): a byte view of the fixed parts ([`Packet`]), typed
//! messages ([`Message`]), [`parse`] and [`emit`].
//!
//! ```text
//!  Registration Request (1)           Registration Reply (3)
//!  0 Type | Flags | Lifetime (2)      0 Type | Code | Lifetime (2)
//!  4 Home Address                     4 Home Address
//!  8 Home Agent                       8 Home Agent
//! 12 Care-of Address                 12 Identification (8)
//! 16 Identification (8)              20 extensions
//! 24 extensions
//!
//!  Registration Revocation (7)        Revocation Acknowledgement (15)
//!  0 Type | Reserved | A I flags (2)  0 Type | Reserved | I flag (2)
//!  4 Home Address                     4 Home Address
//!  8 Home Domain Address              8 Revocation Identifier
//! 12 Foreign Domain Address          12 extensions
//! 16 Revocation Identifier
//! 20 extensions
//!
//!  MIP Tunnel Data (4, RFC 3519): Type | Next Header | Reserved (2) | payload
//! ```
//!
//! Extensions run to the end of the UDP payload. [`Packet::new_checked`]
//! guarantees that the fixed part is there, so no accessor can panic.

use core::net::Ipv4Addr;

use super::ext::{self, Dialect, Extension};
use super::Mip4Error;

/// Message types (first octet of the UDP payload, PROTOCOLS.md §8.1).
pub mod msg_type {
    pub const REGISTRATION_REQUEST: u8 = 1;
    pub const REGISTRATION_REPLY: u8 = 3;
    pub const TUNNEL_DATA: u8 = 4;
    pub const REGISTRATION_REVOCATION: u8 = 7;
    pub const REVOCATION_ACK: u8 = 15;
}

/// Registration Request flags (PROTOCOLS.md §8.2).
pub mod rrq_flags {
    /// Simultaneous bindings.
    pub const S: u8 = 0x80;
    /// Broadcast datagrams wanted.
    pub const B: u8 = 0x40;
    /// The mobile node decapsulates (co-located care-of address).
    pub const D: u8 = 0x20;
    /// Minimal encapsulation (RFC 2004).
    pub const M: u8 = 0x10;
    /// GRE encapsulation.
    pub const G: u8 = 0x08;
    /// Sent 0, ignored on receipt (tshark calls it "V").
    pub const R_IGNORED: u8 = 0x04;
    /// Reverse tunnelling (RFC 3024).
    pub const T: u8 = 0x02;
    /// Sent 0, ignored on receipt.
    pub const X_IGNORED: u8 = 0x01;
}

/// Registration Revocation flags (RFC 3543, 16-bit word at offset 2).
pub mod revocation_flags {
    /// The sender is the home agent (0: a foreign agent).
    pub const A: u16 = 0x8000;
    /// Inform the mobile node / ask whether to.
    pub const I: u16 = 0x4000;
}

/// Revocation Acknowledgement flag (16-bit word at offset 2).
pub const REVOCATION_ACK_I: u16 = 0x8000;

/// Registration Reply codes (IANA, PROTOCOLS.md §8.3, §10.3).
pub mod code {
    pub const ACCEPTED: u8 = 0;
    pub const ACCEPTED_NO_SIMULTANEOUS_BINDINGS: u8 = 1;
    pub const HA_REASON_UNSPECIFIED: u8 = 128;
    pub const HA_ADMINISTRATIVELY_PROHIBITED: u8 = 129;
    pub const HA_INSUFFICIENT_RESOURCES: u8 = 130;
    pub const HA_MN_FAILED_AUTHENTICATION: u8 = 131;
    pub const HA_FA_FAILED_AUTHENTICATION: u8 = 132;
    pub const HA_IDENTIFICATION_MISMATCH: u8 = 133;
    pub const HA_POORLY_FORMED_REQUEST: u8 = 134;
    pub const HA_TOO_MANY_SIMULTANEOUS_BINDINGS: u8 = 135;
    pub const HA_UNKNOWN_HOME_AGENT_ADDRESS: u8 = 136;
    /// RFC 3024.
    pub const HA_REVERSE_TUNNEL_UNAVAILABLE: u8 = 137;
    /// RFC 3024.
    pub const HA_REVERSE_TUNNEL_MANDATORY: u8 = 138;
    /// RFC 3024.
    pub const HA_ENCAPSULATION_UNAVAILABLE: u8 = 139;
    /// RFC 3115.
    pub const HA_CVSE_FROM_MN_NOT_UNDERSTOOD: u8 = 140;
    /// RFC 3115.
    pub const HA_CVSE_FROM_FA_NOT_UNDERSTOOD: u8 = 141;
    /// RFC 3519 ERROR_HA_UDP_ENCAP_UNAVAIL.
    pub const HA_UDP_ENCAPSULATION_UNAVAILABLE: u8 = 142;
    /// RFC 4433 REDIRECT-HA-REQ.
    pub const HA_REDIRECT: u8 = 143;
    /// RFC 5563 PMIP_UNSUPPORTED.
    pub const PMIP_UNSUPPORTED: u8 = 149;
    /// RFC 5563 PMIP_DISALLOWED.
    pub const PMIP_DISALLOWED: u8 = 150;

    /// Whether `code` accepts the registration (0–8 success).
    pub fn is_accept(code: u8) -> bool {
        code <= 8
    }
}

/// Offsets of the fixed parts (the tables of PROTOCOLS.md §8.2, §8.3, §8.9,
/// §8.12).
pub mod field {
    use core::ops::Range;

    pub const TYPE: usize = 0;

    pub const RRQ_FLAGS: usize = 1;
    pub const RRQ_LIFETIME: Range<usize> = 2..4;
    pub const RRQ_HOME_ADDRESS: Range<usize> = 4..8;
    pub const RRQ_HOME_AGENT: Range<usize> = 8..12;
    pub const RRQ_CARE_OF: Range<usize> = 12..16;
    pub const RRQ_IDENTIFICATION: Range<usize> = 16..24;
    pub const RRQ_EXTENSIONS: usize = 24;

    pub const RRP_CODE: usize = 1;
    pub const RRP_LIFETIME: Range<usize> = 2..4;
    pub const RRP_HOME_ADDRESS: Range<usize> = 4..8;
    pub const RRP_HOME_AGENT: Range<usize> = 8..12;
    pub const RRP_IDENTIFICATION: Range<usize> = 12..20;
    pub const RRP_EXTENSIONS: usize = 20;

    pub const REV_FLAGS: Range<usize> = 2..4;
    pub const REV_HOME_ADDRESS: Range<usize> = 4..8;
    pub const REV_HOME_DOMAIN: Range<usize> = 8..12;
    pub const REV_FOREIGN_DOMAIN: Range<usize> = 12..16;
    pub const REV_IDENTIFIER: Range<usize> = 16..20;
    pub const REV_EXTENSIONS: usize = 20;

    pub const ACK_FLAGS: Range<usize> = 2..4;
    pub const ACK_HOME_ADDRESS: Range<usize> = 4..8;
    pub const ACK_IDENTIFIER: Range<usize> = 8..12;
    pub const ACK_EXTENSIONS: usize = 12;

    pub const TUNNEL_NEXT_HEADER: usize = 1;
    pub const TUNNEL_RESERVED: Range<usize> = 2..4;
    pub const TUNNEL_PAYLOAD: usize = 4;
}

/// Length of a message type's fixed part; `None` for a type we do not
/// parse.
pub fn fixed_len(msg_type: u8) -> Option<usize> {
    match msg_type {
        msg_type::REGISTRATION_REQUEST => Some(field::RRQ_EXTENSIONS),
        msg_type::REGISTRATION_REPLY => Some(field::RRP_EXTENSIONS),
        msg_type::TUNNEL_DATA => Some(field::TUNNEL_PAYLOAD),
        msg_type::REGISTRATION_REVOCATION => Some(field::REV_EXTENSIONS),
        msg_type::REVOCATION_ACK => Some(field::ACK_EXTENSIONS),
        _ => None,
    }
}

/// A byte view of a Mobile IPv4 message whose fixed part is present.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the buffer holds a known message type and its whole
    /// fixed part: afterwards no accessor panics.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Mip4Error> {
        let b = buffer.as_ref();
        let msg_type = *b.first().ok_or(Mip4Error::Truncated)?;
        let len = fixed_len(msg_type).ok_or(Mip4Error::UnknownType { msg_type })?;
        if b.len() < len {
            return Err(Mip4Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn u8_at(&self, i: usize) -> u8 {
        self.b().get(i).copied().unwrap_or(0)
    }

    fn u16_at(&self, r: core::ops::Range<usize>) -> u16 {
        match self.b().get(r) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    fn u32_at(&self, r: core::ops::Range<usize>) -> u32 {
        match self.b().get(r) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    fn u64_at(&self, r: core::ops::Range<usize>) -> u64 {
        match self.b().get(r) {
            Some(s) if s.len() == 8 => s.iter().fold(0, |acc, &x| acc << 8 | u64::from(x)),
            _ => 0,
        }
    }

    fn addr_at(&self, r: core::ops::Range<usize>) -> Ipv4Addr {
        Ipv4Addr::from(self.u32_at(r))
    }

    pub fn msg_type(&self) -> u8 {
        self.u8_at(field::TYPE)
    }

    /// The octets after the fixed part.
    pub fn extensions(&self) -> &[u8] {
        let start = fixed_len(self.msg_type()).unwrap_or(0);
        self.b().get(start..).unwrap_or_default()
    }
}

/// Registration Request (type 1, PROTOCOLS.md §8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rrq {
    /// The whole flags octet ([`rrq_flags`]).
    pub flags: u8,
    /// Seconds; 0 = de-registration, 0xFFFF = infinite.
    pub lifetime: u16,
    pub home_address: Ipv4Addr,
    pub home_agent: Ipv4Addr,
    pub care_of: Ipv4Addr,
    pub identification: u64,
    pub extensions: Vec<Extension>,
}

/// Registration Reply (type 3, PROTOCOLS.md §8.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rrp {
    /// [`code`]: 0–8 accepted.
    pub code: u8,
    pub lifetime: u16,
    pub home_address: Ipv4Addr,
    pub home_agent: Ipv4Addr,
    pub identification: u64,
    pub extensions: Vec<Extension>,
}

/// Registration Revocation (type 7, RFC 3543, PROTOCOLS.md §8.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The 16-bit flags word ([`revocation_flags`]).
    pub flags: u16,
    pub home_address: Ipv4Addr,
    /// The home agent address of the binding.
    pub home_domain: Ipv4Addr,
    /// The FA address or the co-located care-of address.
    pub foreign_domain: Ipv4Addr,
    /// The sender's 32-bit timestamp, increasing.
    pub revocation_id: u32,
    pub extensions: Vec<Extension>,
}

/// Registration Revocation Acknowledgement (type 15, RFC 3543).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationAck {
    /// The 16-bit flags word ([`REVOCATION_ACK_I`]).
    pub flags: u16,
    pub home_address: Ipv4Addr,
    pub revocation_id: u32,
    pub extensions: Vec<Extension>,
}

/// A Mobile IPv4 message on UDP 434.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Rrq(Rrq),
    Rrp(Rrp),
    Revocation(Revocation),
    RevocationAck(RevocationAck),
    /// RFC 3519 MIP Tunnel Data: the header only (the data plane carries
    /// the payload); `reserved` MUST be 0.
    TunnelData {
        next_header: u8,
        reserved: u16,
    },
}

impl Message {
    pub fn msg_type(&self) -> u8 {
        match self {
            Message::Rrq(_) => msg_type::REGISTRATION_REQUEST,
            Message::Rrp(_) => msg_type::REGISTRATION_REPLY,
            Message::Revocation(_) => msg_type::REGISTRATION_REVOCATION,
            Message::RevocationAck(_) => msg_type::REVOCATION_ACK,
            Message::TunnelData { .. } => msg_type::TUNNEL_DATA,
        }
    }

    /// The message's extensions (none for tunnel data).
    pub fn extensions(&self) -> &[Extension] {
        match self {
            Message::Rrq(m) => &m.extensions,
            Message::Rrp(m) => &m.extensions,
            Message::Revocation(m) => &m.extensions,
            Message::RevocationAck(m) => &m.extensions,
            Message::TunnelData { .. } => &[],
        }
    }

    pub fn extensions_mut(&mut self) -> Option<&mut Vec<Extension>> {
        match self {
            Message::Rrq(m) => Some(&mut m.extensions),
            Message::Rrp(m) => Some(&mut m.extensions),
            Message::Revocation(m) => Some(&mut m.extensions),
            Message::RevocationAck(m) => Some(&mut m.extensions),
            Message::TunnelData { .. } => None,
        }
    }

    /// Offset of the first extension in the emitted message.
    pub fn fixed_len(&self) -> usize {
        fixed_len(self.msg_type()).unwrap_or(0)
    }
}

/// A parsed message and, per extension, the offset of its Type octet in
/// the UDP payload (what authenticators need, §8.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub message: Message,
    pub offsets: Vec<usize>,
}

/// Parses the UDP payload of a message to or from port 434. Never panics.
pub fn parse(payload: &[u8]) -> Result<Message, Mip4Error> {
    parse_with_offsets(payload).map(|p| p.message)
}

/// [`parse`], keeping each extension's offset.
pub fn parse_with_offsets(payload: &[u8]) -> Result<Parsed, Mip4Error> {
    parse_with_offsets_in(payload, Dialect::default())
}

/// [`parse_with_offsets`], reading `dialect`'s private extension types.
pub fn parse_with_offsets_in(payload: &[u8], dialect: Dialect) -> Result<Parsed, Mip4Error> {
    let p = Packet::new_checked(payload)?;
    let start = fixed_len(p.msg_type()).unwrap_or(0);
    if p.msg_type() == msg_type::TUNNEL_DATA {
        let message = Message::TunnelData {
            next_header: p.u8_at(field::TUNNEL_NEXT_HEADER),
            reserved: p.u16_at(field::TUNNEL_RESERVED),
        };
        return Ok(Parsed { message, offsets: Vec::new() });
    }
    let (offsets, extensions): (Vec<usize>, Vec<Extension>) =
        ext::parse_all_in(p.extensions(), start, dialect)?.into_iter().unzip();
    let message = match p.msg_type() {
        msg_type::REGISTRATION_REQUEST => Message::Rrq(Rrq {
            flags: p.u8_at(field::RRQ_FLAGS),
            lifetime: p.u16_at(field::RRQ_LIFETIME),
            home_address: p.addr_at(field::RRQ_HOME_ADDRESS),
            home_agent: p.addr_at(field::RRQ_HOME_AGENT),
            care_of: p.addr_at(field::RRQ_CARE_OF),
            identification: p.u64_at(field::RRQ_IDENTIFICATION),
            extensions,
        }),
        msg_type::REGISTRATION_REPLY => Message::Rrp(Rrp {
            code: p.u8_at(field::RRP_CODE),
            lifetime: p.u16_at(field::RRP_LIFETIME),
            home_address: p.addr_at(field::RRP_HOME_ADDRESS),
            home_agent: p.addr_at(field::RRP_HOME_AGENT),
            identification: p.u64_at(field::RRP_IDENTIFICATION),
            extensions,
        }),
        msg_type::REGISTRATION_REVOCATION => Message::Revocation(Revocation {
            flags: p.u16_at(field::REV_FLAGS),
            home_address: p.addr_at(field::REV_HOME_ADDRESS),
            home_domain: p.addr_at(field::REV_HOME_DOMAIN),
            foreign_domain: p.addr_at(field::REV_FOREIGN_DOMAIN),
            revocation_id: p.u32_at(field::REV_IDENTIFIER),
            extensions,
        }),
        _ => Message::RevocationAck(RevocationAck {
            flags: p.u16_at(field::ACK_FLAGS),
            home_address: p.addr_at(field::ACK_HOME_ADDRESS),
            revocation_id: p.u32_at(field::ACK_IDENTIFIER),
            extensions,
        }),
    };
    Ok(Parsed { message, offsets })
}

/// The UDP payload of `msg`: reserved fields 0, extensions in order.
/// Extensions that cannot be encoded are cut (see [`Extension::is_encodable`]).
pub fn emit(msg: &Message) -> Vec<u8> {
    emit_with_offsets(msg).0
}

/// [`emit`], with the offset of each extension's Type octet.
pub fn emit_with_offsets(msg: &Message) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::with_capacity(64);
    out.push(msg.msg_type());
    match msg {
        Message::Rrq(m) => {
            out.push(m.flags);
            out.extend_from_slice(&m.lifetime.to_be_bytes());
            for a in [m.home_address, m.home_agent, m.care_of] {
                out.extend_from_slice(&a.octets());
            }
            out.extend_from_slice(&m.identification.to_be_bytes());
        }
        Message::Rrp(m) => {
            out.push(m.code);
            out.extend_from_slice(&m.lifetime.to_be_bytes());
            for a in [m.home_address, m.home_agent] {
                out.extend_from_slice(&a.octets());
            }
            out.extend_from_slice(&m.identification.to_be_bytes());
        }
        Message::Revocation(m) => {
            out.push(0);
            out.extend_from_slice(&m.flags.to_be_bytes());
            for a in [m.home_address, m.home_domain, m.foreign_domain] {
                out.extend_from_slice(&a.octets());
            }
            out.extend_from_slice(&m.revocation_id.to_be_bytes());
        }
        Message::RevocationAck(m) => {
            out.push(0);
            out.extend_from_slice(&m.flags.to_be_bytes());
            out.extend_from_slice(&m.home_address.octets());
            out.extend_from_slice(&m.revocation_id.to_be_bytes());
        }
        Message::TunnelData { next_header, reserved } => {
            out.push(*next_header);
            out.extend_from_slice(&reserved.to_be_bytes());
        }
    }
    let mut offsets = Vec::with_capacity(msg.extensions().len());
    for e in msg.extensions() {
        offsets.push(out.len());
        e.emit(&mut out);
    }
    (out, offsets)
}

#[cfg(test)]
mod tests {
    use super::super::ext::tests::every_extension;
    use super::super::ext::AuthKind;
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn nai() -> Extension {
        Extension::Nai(b"mn1@example.net".to_vec())
    }

    pub(crate) fn every_message() -> Vec<Message> {
        let auth = Extension::Auth { kind: AuthKind::MnHa, spi: 0x1000, authenticator: vec![0x5a; 16] };
        vec![
            Message::Rrq(Rrq {
                flags: rrq_flags::D | rrq_flags::T,
                lifetime: 1800,
                home_address: Ipv4Addr::UNSPECIFIED,
                home_agent: a("192.0.2.1"),
                care_of: a("198.51.100.7"),
                identification: 0xe123_4567_0000_0001,
                extensions: vec![nai(), auth.clone()],
            }),
            Message::Rrq(Rrq {
                flags: 0xff,
                lifetime: 0xffff,
                home_address: a("203.0.113.9"),
                home_agent: Ipv4Addr::BROADCAST,
                care_of: a("192.0.2.2"),
                identification: u64::MAX,
                extensions: every_extension(),
            }),
            Message::Rrp(Rrp {
                code: code::ACCEPTED,
                lifetime: 600,
                home_address: a("203.0.113.9"),
                home_agent: a("192.0.2.1"),
                identification: 7,
                extensions: vec![nai(), auth.clone()],
            }),
            Message::Rrp(Rrp {
                code: code::HA_IDENTIFICATION_MISMATCH,
                lifetime: 0,
                home_address: Ipv4Addr::UNSPECIFIED,
                home_agent: a("192.0.2.1"),
                identification: 0,
                extensions: vec![],
            }),
            Message::Revocation(Revocation {
                flags: revocation_flags::A,
                home_address: a("203.0.113.9"),
                home_domain: a("192.0.2.1"),
                foreign_domain: a("192.0.2.2"),
                revocation_id: 0x0102_0304,
                extensions: vec![Extension::Auth { kind: AuthKind::FaHa, spi: 300, authenticator: vec![1; 16] }],
            }),
            Message::RevocationAck(RevocationAck {
                flags: REVOCATION_ACK_I,
                home_address: a("203.0.113.9"),
                revocation_id: 0x0102_0304,
                extensions: vec![],
            }),
            Message::TunnelData { next_header: 4, reserved: 0 },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for msg in every_message() {
            let (bytes, offsets) = emit_with_offsets(&msg);
            let parsed = parse_with_offsets(&bytes).unwrap();
            assert_eq!(parsed.message, msg);
            assert_eq!(parsed.offsets, offsets);
        }
    }

    #[test]
    fn fixed_parts_have_the_offsets_of_protocols_8_2_and_8_3() {
        let msgs = every_message();
        let rrq = emit(&msgs[0]);
        assert_eq!(
            rrq[..24],
            [1, 0x22, 0x07, 0x08, 0, 0, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7, 0xe1, 0x23, 0x45, 0x67, 0, 0, 0, 1]
        );
        assert_eq!(rrq[24], 131);
        let rrp = emit(&msgs[2]);
        assert_eq!(rrp[..20], [3, 0, 0x02, 0x58, 203, 0, 113, 9, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 7]);
        let rev = emit(&msgs[4]);
        assert_eq!(rev[..20], [7, 0, 0x80, 0, 203, 0, 113, 9, 192, 0, 2, 1, 192, 0, 2, 2, 1, 2, 3, 4]);
        let ack = emit(&msgs[5]);
        assert_eq!(ack, [15, 0, 0x80, 0, 203, 0, 113, 9, 1, 2, 3, 4]);
        assert_eq!(emit(&msgs[6]), [4, 4, 0, 0]);
    }

    #[test]
    fn the_protocols_8_5_test_vector_prefix_parses_as_an_rrq_with_nai_and_mn_ha() {
        // §8.5: fixed part + NAI + MN-HA header, then a 16-octet authenticator.
        let hex = "0102070800000000c0000201c6336407e123456700000001830f6d6e31406578616d706c652e6e6574201400001000";
        let mut b: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        b.extend_from_slice(&[0; 16]);
        let p = parse_with_offsets(&b).unwrap();
        let Message::Rrq(rrq) = p.message else { panic!() };
        assert_eq!((rrq.flags, rrq.lifetime, rrq.home_agent), (rrq_flags::T, 1800, a("192.0.2.1")));
        assert_eq!(rrq.care_of, a("198.51.100.7"));
        assert_eq!(rrq.extensions[0], nai());
        assert_eq!(p.offsets, [24, 41]);
    }

    #[test]
    fn short_messages_are_truncated_and_unknown_types_refused() {
        for msg in every_message() {
            let bytes = emit(&msg);
            for len in 0..msg.fixed_len() {
                assert_eq!(parse(&bytes[..len]), Err(Mip4Error::Truncated), "{msg:?} {len}");
            }
        }
        for t in [0u8, 2, 5, 6, 8, 16, 20, 27, 255] {
            assert_eq!(parse(&[t; 30]), Err(Mip4Error::UnknownType { msg_type: t }));
        }
    }

    #[test]
    fn reserved_octets_of_revocations_are_ignored() {
        let mut b = emit(&every_message()[4]);
        b[1] = 0xff;
        assert_eq!(parse(&b).unwrap(), every_message()[4]);
    }
}
