//! Mobile IPv4 extensions (RFC 5944 §1.9, PROTOCOLS.md §8.4): the typed
//! [`Extension`], the walker that reads every on-wire shape, and emission.
//!
//! ```text
//!  pad    | 0 |
//!  TLV    | Type | Length | Data (Length octets) ...
//!  short  | Type | Length | Sub-Type | Data ...          Length = 1 + data
//!  long   | Type | Sub-Type | Length (2) | Data ...      Length = data only
//!  CVSE   | 38 | Reserved | Length (2) | Vendor/Org-ID (4) | Vendor-Type (2) | Value
//! ```
//!
//! Which shape a type uses is fixed by the type (table of §8.4). Types
//! 0–127 are non-skippable: one we do not know makes the whole message
//! unusable ([`Mip4Error::UnknownNonSkippable`], silently discarded).
//! Types 128–255 are skippable: an unknown one is skipped by the octet at
//! offset 1 (kept as [`Extension::Unknown`], so that authenticators and
//! re-emission see every octet). Sub-types of a known type that we do not
//! know follow the same rule: non-skippable → error, skippable → `Unknown`.
//! Offsets in errors count from the first octet of the UDP payload.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::Mip4Error;

/// Extension types (IANA "Mobile IPv4 extensions", PROTOCOLS.md §8.4).
pub mod ext_type {
    /// One-byte padding (no Length octet).
    pub const PAD: u8 = 0;
    /// Mobile-Home Authentication, RFC 5944.
    pub const MN_HA_AUTH: u8 = 32;
    /// Mobile-Foreign Authentication, RFC 5944.
    pub const MN_FA_AUTH: u8 = 33;
    /// Foreign-Home Authentication, RFC 5944.
    pub const FA_HA_AUTH: u8 = 34;
    /// Generalized Mobile IP Authentication (long shape), RFC 3012.
    pub const GENERALIZED_AUTH: u8 = 36;
    /// Critical Vendor/Organization Specific Extension, RFC 3115.
    pub const CVSE: u8 = 38;
    /// UDP Tunnel Reply (short shape), RFC 3519.
    pub const UDP_TUNNEL_REPLY: u8 = 44;
    /// Proxy Mobile IPv4 non-skippable (long shape), RFC 5563.
    pub const PMIP4_NON_SKIPPABLE: u8 = 47;
    /// GRE Key (long shape), RFC 6245.
    pub const GRE_KEY: u8 = 48;
    /// Encapsulating Delivery Style, RFC 3024.
    pub const ENCAP_DELIVERY_STYLE: u8 = 130;
    /// Mobile Node NAI, RFC 2794.
    pub const MN_NAI: u8 = 131;
    /// MN-FA Challenge, RFC 3012.
    pub const MN_FA_CHALLENGE: u8 = 132;
    /// Normal Vendor/Organization Specific Extension, RFC 3115.
    pub const NVSE: u8 = 134;
    /// Revocation Support, RFC 3543.
    pub const REVOCATION_SUPPORT: u8 = 137;
    /// Dynamic HA (long shape as the RFC draws it), RFC 4433.
    pub const DYNAMIC_HA: u8 = 139;
    /// UDP Tunnel Request (short shape), RFC 3519.
    pub const UDP_TUNNEL_REQUEST: u8 = 144;
    /// Proxy Mobile IPv4 skippable (short shape), RFC 5563.
    pub const PMIP4_SKIPPABLE: u8 = 147;
    /// Dual-Stack MIPv4 (short shape), RFC 5454.
    pub const DSMIP4: u8 = 152;
}

/// Sub-types of the RFC 3012 Generalized Mobile IP Authentication extension.
pub mod generalized_auth_subtype {
    pub const MN_AAA: u8 = 1;
}

/// Sub-types of the RFC 4433 Dynamic HA extension.
pub mod dynamic_ha_subtype {
    pub const REQUESTED_HA: u8 = 1;
    pub const REDIRECTED_HA: u8 = 2;
}

/// Sub-types of the RFC 5563 extensions (47: non-skippable; 147: skippable).
pub mod pmip4_subtype {
    /// Type 47: Per-Node Authentication Method.
    pub const PER_NODE_AUTH_METHOD: u8 = 1;
    /// Type 147.
    pub const INTERFACE_ID: u8 = 1;
    pub const DEVICE_ID: u8 = 2;
    pub const SUBSCRIBER_ID: u8 = 3;
    pub const ACCESS_TECHNOLOGY: u8 = 4;
}

/// Per-Node Authentication Method values (RFC 5563 §3.1).
pub mod per_node_auth {
    pub const FA_HA: u8 = 1;
    pub const IPSEC: u8 = 2;
}

/// Sub-types of the RFC 5454 DSMIPv4 extension (type 152).
pub mod dsmip4_subtype {
    pub const IPV6_PREFIX_REQUEST: u8 = 1;
    pub const IPV6_PREFIX_REPLY: u8 = 2;
    pub const IPV6_TUNNELING_MODE: u8 = 3;
}

/// IPv6 Prefix Reply codes (RFC 5454 §2.2): below 8 accepted.
pub mod prefix_code {
    /// Accepted; IPv6 is tunnelled to the IPv4 home address.
    pub const ACCEPTED_TO_HOA: u8 = 0;
    /// Accepted; IPv6 is tunnelled to the care-of address.
    pub const ACCEPTED_TO_COA: u8 = 1;
    pub const REJECTED_UNSPECIFIED: u8 = 8;
    pub const REJECTED_ADMIN_PROHIBITED: u8 = 9;
}

/// UDP Tunnel Request flags (RFC 3519 §3.1, the octet at offset 4).
pub mod udp_request_flags {
    /// Force UDP tunnelling.
    pub const F: u8 = 0x80;
    /// Co-located CoA registered through an FA that sets the R bit.
    pub const R: u8 = 0x40;
}

/// UDP Tunnel Reply: reply codes (below 64 assent) and the F flag.
pub mod udp_reply {
    pub const WILL_TUNNEL: u8 = 0;
    pub const DECLINED: u8 = 64;
    /// Tunnelling forced because F was requested (16-bit flags word).
    pub const F: u16 = 0x8000;
    /// RFC 3519 default keepalive interval, seconds.
    pub const DEFAULT_KEEPALIVE_S: u16 = 110;
}

/// draft-ietf-mip4-dsmipv4-01 IPv6 Code (Prefix Acknowledgment) codes that
/// RFC 5454 left out (PROTOCOLS.md §9.3); only the compatibility mode
/// sends them.
pub mod draft01_code {
    /// The requested IPv6 home address is not on the home subnet.
    pub const NOT_HOME_SUBNET: u8 = 10;
    /// Duplicate address detection found the address in use.
    pub const DAD_FAILED: u8 = 11;
}

/// Extension numbers the codec reads besides IANA's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Dialect {
    /// draft-ietf-mip4-dsmipv4-01 compatibility (PROTOCOLS.md §9.3): the
    /// private type number a peer uses for the draft's DSMIPv4 extensions.
    /// They carry RFC 5454's sub-types and layouts, but their Length octet
    /// counts the whole extension (20 / 22 / 4). Read as
    /// [`Extension::Draft01`]. `None`: the type is an unknown one.
    pub dsmip4_draft01: Option<u8>,
}

/// Revocation Support flag (RFC 3543 §3.1): the agent supports the I bit.
pub const REVOCATION_SUPPORT_I: u16 = 0x8000;

/// Which RFC 5944 authentication extension (types 32, 33, 34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthKind {
    MnHa,
    MnFa,
    FaHa,
}

impl AuthKind {
    pub fn ext_type(self) -> u8 {
        match self {
            AuthKind::MnHa => ext_type::MN_HA_AUTH,
            AuthKind::MnFa => ext_type::MN_FA_AUTH,
            AuthKind::FaHa => ext_type::FA_HA_AUTH,
        }
    }
}

/// One extension. Fields hold wire values; reserved fields that the
/// standards let a receiver judge are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// One-byte padding (type 0).
    Pad,
    /// MN-HA, MN-FA or FA-HA authentication (§8.5): SPI and authenticator
    /// (16 octets for HMAC-MD5).
    Auth { kind: AuthKind, spi: u32, authenticator: Vec<u8> },
    /// RFC 3012 Generalized Mobile IP Authentication (36), e.g. MN-AAA.
    GeneralizedAuth { subtype: u8, spi: u32, authenticator: Vec<u8> },
    /// RFC 3115 CVSE (38).
    Cvse { vendor_id: u32, vendor_type: u16, value: Vec<u8> },
    /// RFC 3519 UDP Tunnel Reply (44), sub-type 0.
    UdpTunnelReply { reply_code: u8, flags: u16, keepalive: u16 },
    /// RFC 5563 Per-Node Authentication Method (47, sub-type 1).
    PerNodeAuthMethod(u8),
    /// RFC 6245 GRE Key (48, sub-type 0).
    GreKey(u32),
    /// RFC 3024 Encapsulating Delivery Style (130), no data.
    EncapDeliveryStyle,
    /// RFC 2794 Mobile Node NAI (131).
    Nai(Vec<u8>),
    /// RFC 3012 MN-FA Challenge (132).
    MnFaChallenge(Vec<u8>),
    /// RFC 3115 NVSE (134): Reserved (2) is dropped.
    Nvse { vendor_id: u32, vendor_type: u16, value: Vec<u8> },
    /// RFC 3543 Revocation Support (137).
    RevocationSupport { flags: u16, timestamp: u32 },
    /// RFC 4433 Dynamic HA (139): Requested (1) or Redirected (2) HA.
    /// Received in either layout (§8.10), emitted in the RFC's long one.
    DynamicHa { subtype: u8, addr: Ipv4Addr },
    /// RFC 3519 UDP Tunnel Request (144), sub-type 0. `flags` is the octet
    /// with F and R ([`udp_request_flags`]); `reserved3` MUST be 0 (else
    /// the HA answers 134).
    UdpTunnelRequest { reserved1: u8, flags: u8, encapsulation: u8, reserved3: u16 },
    /// RFC 5563 Interface ID (147, sub-type 1).
    InterfaceId(Vec<u8>),
    /// RFC 5563 Device ID (147, sub-type 2).
    DeviceId { id_type: u8, id: Vec<u8> },
    /// RFC 5563 Subscriber ID (147, sub-type 3).
    SubscriberId { id_type: u8, id: Vec<u8> },
    /// RFC 5563 Access Technology Type (147, sub-type 4).
    AccessTechnology(u8),
    /// RFC 5454 IPv6 Prefix Request (152, sub-type 1).
    Ipv6PrefixRequest { prefix_len: u8, prefix: Ipv6Addr },
    /// RFC 5454 IPv6 Prefix Reply (152, sub-type 2).
    Ipv6PrefixReply { code: u8, prefix_len: u8, prefix: Ipv6Addr },
    /// RFC 5454 IPv6 Tunneling Mode (152, sub-type 3).
    Ipv6TunnelingMode,
    /// A draft-ietf-mip4-dsmipv4-01 extension under the private type
    /// `ext_type` ([`Dialect::dsmip4_draft01`]): `ext` is the RFC 5454
    /// variant with the same sub-type and fields (one of the three above).
    Draft01 { ext_type: u8, ext: Box<Extension> },
    /// A skippable extension we do not know (or a sub-type we do not know
    /// of a skippable type): `data` is everything after the Length octet.
    Unknown { ext_type: u8, data: Vec<u8> },
}

impl Extension {
    /// The extension's Type octet.
    pub fn ext_type(&self) -> u8 {
        use ext_type as t;
        match self {
            Self::Pad => t::PAD,
            Self::Auth { kind, .. } => kind.ext_type(),
            Self::GeneralizedAuth { .. } => t::GENERALIZED_AUTH,
            Self::Cvse { .. } => t::CVSE,
            Self::UdpTunnelReply { .. } => t::UDP_TUNNEL_REPLY,
            Self::PerNodeAuthMethod(_) => t::PMIP4_NON_SKIPPABLE,
            Self::GreKey(_) => t::GRE_KEY,
            Self::EncapDeliveryStyle => t::ENCAP_DELIVERY_STYLE,
            Self::Nai(_) => t::MN_NAI,
            Self::MnFaChallenge(_) => t::MN_FA_CHALLENGE,
            Self::Nvse { .. } => t::NVSE,
            Self::RevocationSupport { .. } => t::REVOCATION_SUPPORT,
            Self::DynamicHa { .. } => t::DYNAMIC_HA,
            Self::UdpTunnelRequest { .. } => t::UDP_TUNNEL_REQUEST,
            Self::InterfaceId(_) | Self::DeviceId { .. } | Self::SubscriberId { .. } | Self::AccessTechnology(_) => {
                t::PMIP4_SKIPPABLE
            }
            Self::Ipv6PrefixRequest { .. } | Self::Ipv6PrefixReply { .. } | Self::Ipv6TunnelingMode => t::DSMIP4,
            Self::Draft01 { ext_type, .. } | Self::Unknown { ext_type, .. } => *ext_type,
        }
    }

    /// Whether [`emit`](Self::emit) can write the extension as it is: every
    /// variable part fits its length field, and an `Unknown` is skippable.
    pub fn is_encodable(&self) -> bool {
        let fits = |n: usize, max: usize| n <= max;
        match self {
            Self::Auth { authenticator, .. } => fits(authenticator.len(), 255 - 4),
            Self::GeneralizedAuth { authenticator, .. } => fits(authenticator.len(), 0xffff - 4),
            Self::Cvse { value, .. } => fits(value.len(), 0xffff - 6),
            Self::Nai(v) | Self::MnFaChallenge(v) => fits(v.len(), 255),
            Self::Nvse { value, .. } => fits(value.len(), 255 - 8),
            Self::InterfaceId(v) => fits(v.len(), 255 - 1),
            Self::DeviceId { id, .. } | Self::SubscriberId { id, .. } => fits(id.len(), 255 - 2),
            Self::Unknown { ext_type, data } => *ext_type >= 128 && fits(data.len(), 255),
            Self::Draft01 { ext, .. } => {
                matches!(**ext, Self::Ipv6PrefixRequest { .. } | Self::Ipv6PrefixReply { .. } | Self::Ipv6TunnelingMode)
            }
            _ => true,
        }
    }

    /// Appends the extension; a variable part longer than its length field
    /// allows is cut (see [`is_encodable`](Self::is_encodable)); an
    /// `Unknown` of a non-skippable type is written as a skippable-style
    /// TLV all the same.
    pub fn emit(&self, out: &mut Vec<u8>) {
        use ext_type as t;
        let tlv = |out: &mut Vec<u8>, ty: u8, parts: &[&[u8]]| {
            let mut data: Vec<u8> = parts.concat();
            data.truncate(255);
            out.extend_from_slice(&[ty, data.len() as u8]);
            out.extend_from_slice(&data);
        };
        let short = |out: &mut Vec<u8>, ty: u8, subtype: u8, parts: &[&[u8]]| {
            let mut data: Vec<u8> = parts.concat();
            data.truncate(254);
            out.extend_from_slice(&[ty, data.len() as u8 + 1, subtype]);
            out.extend_from_slice(&data);
        };
        let long = |out: &mut Vec<u8>, ty: u8, subtype: u8, parts: &[&[u8]]| {
            let mut data: Vec<u8> = parts.concat();
            data.truncate(0xffff);
            out.extend_from_slice(&[ty, subtype]);
            out.extend_from_slice(&(data.len() as u16).to_be_bytes());
            out.extend_from_slice(&data);
        };
        match self {
            Self::Pad => out.push(t::PAD),
            Self::Auth { kind, spi, authenticator } => tlv(out, kind.ext_type(), &[&spi.to_be_bytes(), authenticator]),
            Self::GeneralizedAuth { subtype, spi, authenticator } => {
                long(out, t::GENERALIZED_AUTH, *subtype, &[&spi.to_be_bytes(), authenticator])
            }
            Self::Cvse { vendor_id, vendor_type, value } => {
                // Reserved octet where the long shape has its sub-type.
                long(out, t::CVSE, 0, &[&vendor_id.to_be_bytes(), &vendor_type.to_be_bytes(), value])
            }
            Self::UdpTunnelReply { reply_code, flags, keepalive } => {
                short(out, t::UDP_TUNNEL_REPLY, 0, &[&[*reply_code], &flags.to_be_bytes(), &keepalive.to_be_bytes()])
            }
            Self::PerNodeAuthMethod(method) => {
                long(out, t::PMIP4_NON_SKIPPABLE, pmip4_subtype::PER_NODE_AUTH_METHOD, &[&[*method]])
            }
            Self::GreKey(key) => long(out, t::GRE_KEY, 0, &[&key.to_be_bytes()]),
            Self::EncapDeliveryStyle => tlv(out, t::ENCAP_DELIVERY_STYLE, &[]),
            Self::Nai(nai) => tlv(out, t::MN_NAI, &[nai]),
            Self::MnFaChallenge(c) => tlv(out, t::MN_FA_CHALLENGE, &[c]),
            Self::Nvse { vendor_id, vendor_type, value } => {
                tlv(out, t::NVSE, &[&[0, 0], &vendor_id.to_be_bytes(), &vendor_type.to_be_bytes(), value])
            }
            Self::RevocationSupport { flags, timestamp } => {
                tlv(out, t::REVOCATION_SUPPORT, &[&flags.to_be_bytes(), &timestamp.to_be_bytes()])
            }
            Self::DynamicHa { subtype, addr } => long(out, t::DYNAMIC_HA, *subtype, &[&addr.octets()]),
            Self::UdpTunnelRequest { reserved1, flags, encapsulation, reserved3 } => {
                short(out, t::UDP_TUNNEL_REQUEST, 0, &[&[*reserved1, *flags, *encapsulation], &reserved3.to_be_bytes()])
            }
            Self::InterfaceId(id) => short(out, t::PMIP4_SKIPPABLE, pmip4_subtype::INTERFACE_ID, &[id]),
            Self::DeviceId { id_type, id } => {
                short(out, t::PMIP4_SKIPPABLE, pmip4_subtype::DEVICE_ID, &[&[*id_type], id])
            }
            Self::SubscriberId { id_type, id } => {
                short(out, t::PMIP4_SKIPPABLE, pmip4_subtype::SUBSCRIBER_ID, &[&[*id_type], id])
            }
            Self::AccessTechnology(att) => short(out, t::PMIP4_SKIPPABLE, pmip4_subtype::ACCESS_TECHNOLOGY, &[&[*att]]),
            Self::Ipv6PrefixRequest { prefix_len, prefix } => {
                short(out, t::DSMIP4, dsmip4_subtype::IPV6_PREFIX_REQUEST, &[&[*prefix_len], &prefix.octets()])
            }
            Self::Ipv6PrefixReply { code, prefix_len, prefix } => {
                short(out, t::DSMIP4, dsmip4_subtype::IPV6_PREFIX_REPLY, &[&[*code, *prefix_len, 0], &prefix.octets()])
            }
            Self::Ipv6TunnelingMode => short(out, t::DSMIP4, dsmip4_subtype::IPV6_TUNNELING_MODE, &[&[0]]),
            Self::Unknown { ext_type, data } => tlv(out, *ext_type, &[data]),
            Self::Draft01 { ext_type, ext } => {
                // The RFC 5454 shape, renumbered, Length counting all.
                let start = out.len();
                ext.emit(out);
                if let Some(ty) = out.get_mut(start) {
                    *ty = *ext_type;
                }
                if let Some(len) = out.get_mut(start + 1) {
                    *len = len.saturating_add(2);
                }
            }
        }
    }

    /// The encoded length in octets.
    pub fn wire_len(&self) -> usize {
        let mut v = Vec::new();
        self.emit(&mut v);
        v.len()
    }
}

/// Whether extension type `ext_type` may be skipped when unknown.
pub fn is_skippable(ext_type: u8) -> bool {
    ext_type >= 128
}

/// Octet `i` of `b`, or the overrun error of the extension at `at`.
fn octet(b: &[u8], i: usize, at: usize) -> Result<u8, Mip4Error> {
    b.get(i).copied().ok_or(Mip4Error::ExtensionOverrun { offset: at })
}

fn be16(d: &[u8], i: usize) -> u16 {
    match d.get(i..i + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

fn be32(d: &[u8], i: usize) -> u32 {
    match d.get(i..i + 4) {
        Some(&[a, b, c, e]) => u32::from_be_bytes([a, b, c, e]),
        _ => 0,
    }
}

fn v6(d: &[u8], i: usize) -> Ipv6Addr {
    let mut o = [0u8; 16];
    if let Some(s) = d.get(i..i + 16) {
        o.copy_from_slice(s);
    }
    Ipv6Addr::from(o)
}

/// Every extension in `b` (the octets after a message's fixed part), with
/// the offset of each one's Type octet counted from the start of the UDP
/// payload (`base` is the offset of `b[0]` there).
pub fn parse_all(b: &[u8], base: usize) -> Result<Vec<(usize, Extension)>, Mip4Error> {
    parse_all_in(b, base, Dialect::default())
}

/// [`parse_all`] reading `dialect`'s private extension types too.
pub fn parse_all_in(b: &[u8], base: usize, dialect: Dialect) -> Result<Vec<(usize, Extension)>, Mip4Error> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let at = base + i;
        let (len, ext) = match dialect.dsmip4_draft01 {
            Some(ty) if b[i] == ty => parse_draft01(b, i, at)?,
            _ => parse_one(b, i, at)?,
        };
        out.push((at, ext));
        i += len;
    }
    Ok(out)
}

/// A draft -01 DSMIPv4 extension at `b[i]`: the RFC 5454 one behind a
/// Length that counts the Type and Length octets too.
fn parse_draft01(b: &[u8], i: usize, at: usize) -> Result<(usize, Extension), Mip4Error> {
    let ty = octet(b, i, at)?;
    let total = usize::from(octet(b, i + 1, at)?);
    if total < 3 {
        return Err(Mip4Error::BadExtensionLength { ext_type: ty, offset: at });
    }
    let body = b.get(i + 2..i + total).ok_or(Mip4Error::ExtensionOverrun { offset: at })?;
    let mut rfc = Vec::with_capacity(total);
    rfc.extend_from_slice(&[ext_type::DSMIP4, (total - 2) as u8]);
    rfc.extend_from_slice(body);
    let renumber = |e: Mip4Error| match e {
        Mip4Error::BadExtensionLength { offset, .. } => Mip4Error::BadExtensionLength { ext_type: ty, offset },
        e => e,
    };
    match parse_one(&rfc, 0, at).map_err(renumber)? {
        (
            _,
            ext @ (Extension::Ipv6PrefixRequest { .. }
            | Extension::Ipv6PrefixReply { .. }
            | Extension::Ipv6TunnelingMode),
        ) => Ok((total, Extension::Draft01 { ext_type: ty, ext: Box::new(ext) })),
        // An unknown sub-type: skippable or not as the type says.
        _ if is_skippable(ty) => Ok((total, Extension::Unknown { ext_type: ty, data: body.to_vec() })),
        _ => Err(Mip4Error::UnknownNonSkippable { ext_type: ty, offset: at }),
    }
}

/// One extension starting at `b[i]`: its total length and value.
fn parse_one(b: &[u8], i: usize, at: usize) -> Result<(usize, Extension), Mip4Error> {
    use ext_type as t;
    let ty = octet(b, i, at)?;
    if ty == t::PAD {
        return Ok((1, Extension::Pad));
    }
    let b1 = octet(b, i + 1, at)?;
    let bad = Mip4Error::BadExtensionLength { ext_type: ty, offset: at };
    // The long shape (and the CVSE) carry a 16-bit length at offset 2.
    let long_len = |b: &[u8]| -> Result<usize, Mip4Error> {
        let len = u16::from_be_bytes([octet(b, i + 2, at)?, octet(b, i + 3, at)?]);
        Ok(usize::from(len))
    };
    let body = |b: &'_ [u8], start: usize, len: usize| -> Result<Vec<u8>, Mip4Error> {
        b.get(start..start + len).map(<[u8]>::to_vec).ok_or(Mip4Error::ExtensionOverrun { offset: at })
    };
    match ty {
        t::GENERALIZED_AUTH | t::CVSE | t::PMIP4_NON_SKIPPABLE | t::GRE_KEY => {
            let len = long_len(b)?;
            let data = body(b, i + 4, len)?;
            let ext = match ty {
                t::GENERALIZED_AUTH => {
                    if len < 4 {
                        return Err(bad);
                    }
                    Extension::GeneralizedAuth {
                        subtype: b1,
                        spi: be32(&data, 0),
                        authenticator: data.get(4..).unwrap_or_default().to_vec(),
                    }
                }
                t::CVSE => {
                    if len < 6 {
                        return Err(bad);
                    }
                    Extension::Cvse {
                        vendor_id: be32(&data, 0),
                        vendor_type: be16(&data, 4),
                        value: data.get(6..).unwrap_or_default().to_vec(),
                    }
                }
                t::PMIP4_NON_SKIPPABLE => match b1 {
                    pmip4_subtype::PER_NODE_AUTH_METHOD if len == 1 => Extension::PerNodeAuthMethod(data[0]),
                    pmip4_subtype::PER_NODE_AUTH_METHOD => return Err(bad),
                    _ => return Err(Mip4Error::UnknownNonSkippable { ext_type: ty, offset: at }),
                },
                _ => match b1 {
                    0 if len == 4 => Extension::GreKey(be32(&data, 0)),
                    0 => return Err(bad),
                    _ => return Err(Mip4Error::UnknownNonSkippable { ext_type: ty, offset: at }),
                },
            };
            return Ok((4 + len, ext));
        }
        t::DYNAMIC_HA => {
            // §8.10: long (RFC) when octet 1 is a sub-type and the 16-bit
            // length is 4; short (Wireshark) when Length 5 and a sub-type.
            let is_subtype = |s: u8| s == dynamic_ha_subtype::REQUESTED_HA || s == dynamic_ha_subtype::REDIRECTED_HA;
            if is_subtype(b1) && b.get(i + 2..i + 4) == Some(&[0, 4]) {
                let data = body(b, i + 4, 4)?;
                let addr = Ipv4Addr::from(be32(&data, 0));
                return Ok((8, Extension::DynamicHa { subtype: b1, addr }));
            }
            if b1 == 5 && b.get(i + 2).copied().is_some_and(is_subtype) {
                let data = body(b, i + 2, 5)?;
                let addr = Ipv4Addr::from(be32(&data, 1));
                return Ok((7, Extension::DynamicHa { subtype: data[0], addr }));
            }
            // Neither layout: skippable, skipped by the octet at offset 1.
        }
        _ => {}
    }
    // TLV and short shapes: Length at offset 1 counts the data after it.
    let len = usize::from(b1);
    let data = body(b, i + 2, len)?;
    let total = 2 + len;
    let unknown = || -> Result<(usize, Extension), Mip4Error> {
        if is_skippable(ty) {
            Ok((total, Extension::Unknown { ext_type: ty, data: data.clone() }))
        } else {
            Err(Mip4Error::UnknownNonSkippable { ext_type: ty, offset: at })
        }
    };
    let ext = match ty {
        t::MN_HA_AUTH | t::MN_FA_AUTH | t::FA_HA_AUTH => {
            if len < 4 {
                return Err(bad);
            }
            let kind = match ty {
                t::MN_HA_AUTH => AuthKind::MnHa,
                t::MN_FA_AUTH => AuthKind::MnFa,
                _ => AuthKind::FaHa,
            };
            Extension::Auth { kind, spi: be32(&data, 0), authenticator: data.get(4..).unwrap_or_default().to_vec() }
        }
        t::UDP_TUNNEL_REPLY => match data.first() {
            Some(0) if len == 6 => {
                Extension::UdpTunnelReply { reply_code: data[1], flags: be16(&data, 2), keepalive: be16(&data, 4) }
            }
            Some(0) => return Err(bad),
            _ => return unknown(),
        },
        t::ENCAP_DELIVERY_STYLE if len == 0 => Extension::EncapDeliveryStyle,
        t::ENCAP_DELIVERY_STYLE => return Err(bad),
        t::MN_NAI => Extension::Nai(data),
        t::MN_FA_CHALLENGE => Extension::MnFaChallenge(data),
        t::NVSE if len >= 8 => Extension::Nvse {
            vendor_id: be32(&data, 2),
            vendor_type: be16(&data, 6),
            value: data.get(8..).unwrap_or_default().to_vec(),
        },
        t::NVSE => return Err(bad),
        t::REVOCATION_SUPPORT if len == 6 => {
            Extension::RevocationSupport { flags: be16(&data, 0), timestamp: be32(&data, 2) }
        }
        t::REVOCATION_SUPPORT => return Err(bad),
        t::UDP_TUNNEL_REQUEST => match data.first() {
            Some(0) if len == 6 => Extension::UdpTunnelRequest {
                reserved1: data[1],
                flags: data[2],
                encapsulation: data[3],
                reserved3: be16(&data, 4),
            },
            Some(0) => return Err(bad),
            _ => return unknown(),
        },
        t::PMIP4_SKIPPABLE => {
            let rest = data.get(1..).unwrap_or_default();
            match data.first().copied() {
                Some(pmip4_subtype::INTERFACE_ID) => Extension::InterfaceId(rest.to_vec()),
                Some(pmip4_subtype::DEVICE_ID) | Some(pmip4_subtype::SUBSCRIBER_ID) if rest.is_empty() => {
                    return Err(bad)
                }
                Some(pmip4_subtype::DEVICE_ID) => Extension::DeviceId { id_type: rest[0], id: rest[1..].to_vec() },
                Some(pmip4_subtype::SUBSCRIBER_ID) => {
                    Extension::SubscriberId { id_type: rest[0], id: rest[1..].to_vec() }
                }
                Some(pmip4_subtype::ACCESS_TECHNOLOGY) if rest.len() == 1 => Extension::AccessTechnology(rest[0]),
                Some(pmip4_subtype::ACCESS_TECHNOLOGY) => return Err(bad),
                _ => return unknown(),
            }
        }
        t::DSMIP4 => match (data.first().copied(), len) {
            (Some(dsmip4_subtype::IPV6_PREFIX_REQUEST), 18) => {
                Extension::Ipv6PrefixRequest { prefix_len: data[1], prefix: v6(&data, 2) }
            }
            (Some(dsmip4_subtype::IPV6_PREFIX_REPLY), 20) => {
                Extension::Ipv6PrefixReply { code: data[1], prefix_len: data[2], prefix: v6(&data, 4) }
            }
            (Some(dsmip4_subtype::IPV6_TUNNELING_MODE), 2) => Extension::Ipv6TunnelingMode,
            (
                Some(
                    dsmip4_subtype::IPV6_PREFIX_REQUEST
                    | dsmip4_subtype::IPV6_PREFIX_REPLY
                    | dsmip4_subtype::IPV6_TUNNELING_MODE,
                ),
                _,
            ) => return Err(bad),
            _ => return unknown(),
        },
        _ => return unknown(),
    };
    Ok((total, ext))
}

/// Appends every extension in order.
pub fn emit_all(out: &mut Vec<u8>, extensions: &[Extension]) {
    for e in extensions {
        e.emit(out);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One of each extension the codec knows, with awkward values.
    pub(crate) fn every_extension() -> Vec<Extension> {
        vec![
            Extension::Pad,
            Extension::Nai(b"mn1@example.net".to_vec()),
            Extension::Auth { kind: AuthKind::MnHa, spi: 0x1000, authenticator: vec![0xaa; 16] },
            Extension::Auth { kind: AuthKind::MnFa, spi: 256, authenticator: vec![1, 2, 3] },
            Extension::Auth { kind: AuthKind::FaHa, spi: u32::MAX, authenticator: vec![] },
            Extension::GeneralizedAuth { subtype: 1, spi: 7, authenticator: vec![9; 16] },
            Extension::Cvse { vendor_id: 5535, vendor_type: 3, value: vec![1, 2, 3, 4, 5] },
            Extension::UdpTunnelReply { reply_code: 0, flags: udp_reply::F, keepalive: 110 },
            Extension::PerNodeAuthMethod(per_node_auth::FA_HA),
            Extension::GreKey(0xdead_beef),
            Extension::EncapDeliveryStyle,
            Extension::MnFaChallenge(vec![0x11; 8]),
            Extension::Nvse { vendor_id: 9, vendor_type: 0x0102, value: vec![7; 3] },
            Extension::RevocationSupport { flags: REVOCATION_SUPPORT_I, timestamp: 0x0102_0304 },
            Extension::DynamicHa { subtype: 1, addr: Ipv4Addr::new(192, 0, 2, 1) },
            Extension::DynamicHa { subtype: 2, addr: Ipv4Addr::new(192, 0, 2, 9) },
            Extension::UdpTunnelRequest { reserved1: 0, flags: udp_request_flags::F, encapsulation: 4, reserved3: 0 },
            Extension::InterfaceId(b"eth0".to_vec()),
            Extension::DeviceId { id_type: 1, id: vec![2, 0, 0, 0, 0, 1] },
            Extension::SubscriberId { id_type: 1, id: b"001010123456789".to_vec() },
            Extension::AccessTechnology(3),
            Extension::Ipv6PrefixRequest { prefix_len: 64, prefix: "2001:db8:100:1::".parse().unwrap() },
            Extension::Ipv6PrefixReply { code: 1, prefix_len: 64, prefix: "2001:db8:100:1::".parse().unwrap() },
            Extension::Ipv6TunnelingMode,
            Extension::Unknown { ext_type: 200, data: vec![1, 2, 3] },
            Extension::Unknown { ext_type: 147, data: vec![9, 1] },
            Extension::Unknown { ext_type: 152, data: vec![7] },
        ]
    }

    fn emitted(e: &Extension) -> Vec<u8> {
        let mut v = Vec::new();
        e.emit(&mut v);
        v
    }

    #[test]
    fn every_extension_round_trips_and_reports_its_offset() {
        let all = every_extension();
        let mut bytes = Vec::new();
        emit_all(&mut bytes, &all);
        let parsed = parse_all(&bytes, 24).unwrap();
        assert_eq!(parsed.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(), all);
        let mut at = 24;
        for ((offset, e), original) in parsed.iter().zip(&all) {
            assert_eq!(*offset, at, "{e:?}");
            assert_eq!(e.ext_type(), bytes[at - 24]);
            at += original.wire_len();
        }
    }

    #[test]
    fn each_shape_has_the_layout_of_protocols_8_4() {
        // TLV: NAI, Length = NAI length.
        assert_eq!(emitted(&Extension::Nai(b"a@b".to_vec())), [131, 3, b'a', b'@', b'b']);
        // Authentication: Length = 4 + authenticator; SPI big-endian.
        let auth = emitted(&Extension::Auth { kind: AuthKind::MnHa, spi: 0x1000, authenticator: vec![0; 16] });
        assert_eq!(auth[..6], [32, 20, 0, 0, 0x10, 0]);
        // Short: UDP Tunnel Request, Length 6 = sub-type + 5.
        let req =
            Extension::UdpTunnelRequest { reserved1: 0, flags: udp_request_flags::F, encapsulation: 4, reserved3: 0 };
        assert_eq!(emitted(&req), [144, 6, 0, 0, 0x80, 4, 0, 0]);
        let reply = Extension::UdpTunnelReply { reply_code: 64, flags: 0, keepalive: 110 };
        assert_eq!(emitted(&reply), [44, 6, 0, 64, 0, 0, 0, 110]);
        // Long: GRE Key, Length 4 = data only.
        assert_eq!(emitted(&Extension::GreKey(0x01020304)), [48, 0, 0, 4, 1, 2, 3, 4]);
        assert_eq!(emitted(&Extension::PerNodeAuthMethod(1)), [47, 1, 0, 1, 1]);
        // Dynamic HA as the RFC draws it (8 octets).
        let dha = Extension::DynamicHa { subtype: 2, addr: Ipv4Addr::new(192, 0, 2, 9) };
        assert_eq!(emitted(&dha), [139, 2, 0, 4, 192, 0, 2, 9]);
        // CVSE: Reserved octet, 16-bit Length over Vendor-ID, Type and value.
        let cvse = Extension::Cvse { vendor_id: 1, vendor_type: 2, value: vec![3] };
        assert_eq!(emitted(&cvse), [38, 0, 0, 7, 0, 0, 0, 1, 0, 2, 3]);
        // NVSE: TLV with 2 reserved octets first.
        let nvse = Extension::Nvse { vendor_id: 1, vendor_type: 2, value: vec![] };
        assert_eq!(emitted(&nvse), [134, 8, 0, 0, 0, 0, 0, 1, 0, 2]);
        // Revocation Support, Length 6.
        let rs = Extension::RevocationSupport { flags: REVOCATION_SUPPORT_I, timestamp: 5 };
        assert_eq!(emitted(&rs), [137, 6, 0x80, 0, 0, 0, 0, 5]);
        // DSMIPv4 lengths 18 / 20 / 2 (RFC 5454, §14 #4).
        let p: Ipv6Addr = "2001:db8::".parse().unwrap();
        assert_eq!(emitted(&Extension::Ipv6PrefixRequest { prefix_len: 64, prefix: p })[..4], [152, 18, 1, 64]);
        assert_eq!(
            emitted(&Extension::Ipv6PrefixReply { code: 0, prefix_len: 64, prefix: p })[..6],
            [152, 20, 2, 0, 64, 0]
        );
        assert_eq!(emitted(&Extension::Ipv6TunnelingMode), [152, 2, 3, 0]);
        // PMIPv4 skippable: ATT Length 2.
        assert_eq!(emitted(&Extension::AccessTechnology(3)), [147, 2, 4, 3]);
        assert_eq!(emitted(&Extension::DeviceId { id_type: 1, id: vec![7] }), [147, 3, 2, 1, 7]);
    }

    #[test]
    fn dynamic_ha_is_accepted_in_the_short_layout_wireshark_uses() {
        let short = [139, 5, 2, 192, 0, 2, 9];
        let parsed = parse_all(&short, 0).unwrap();
        assert_eq!(parsed, [(0, Extension::DynamicHa { subtype: 2, addr: Ipv4Addr::new(192, 0, 2, 9) })]);
        // Neither layout: skipped by its Length octet as a skippable type.
        let odd = [139, 3, 9, 9, 9, 131, 1, b'x'];
        let parsed = parse_all(&odd, 0).unwrap();
        assert_eq!(parsed[0].1, Extension::Unknown { ext_type: 139, data: vec![9, 9, 9] });
        assert_eq!(parsed[1], (5, Extension::Nai(b"x".to_vec())));
    }

    #[test]
    fn unknown_skippable_extensions_are_skipped_by_their_length_octet() {
        let b = [200, 2, 0xff, 0xff, 131, 1, b'x'];
        let parsed = parse_all(&b, 24).unwrap();
        assert_eq!(parsed[0], (24, Extension::Unknown { ext_type: 200, data: vec![0xff, 0xff] }));
        assert_eq!(parsed[1], (28, Extension::Nai(b"x".to_vec())));
    }

    #[test]
    fn unknown_non_skippable_extensions_make_the_message_unusable() {
        for ty in [1u8, 31, 35, 37, 39, 45, 46, 49, 127] {
            let b = [131, 1, b'x', ty, 2, 0, 0];
            assert_eq!(parse_all(&b, 24), Err(Mip4Error::UnknownNonSkippable { ext_type: ty, offset: 27 }), "{ty}");
        }
        // Unknown sub-types of non-skippable types too.
        assert_eq!(
            parse_all(&[48, 1, 0, 4, 0, 0, 0, 1], 0),
            Err(Mip4Error::UnknownNonSkippable { ext_type: 48, offset: 0 })
        );
        assert_eq!(parse_all(&[47, 2, 0, 1, 1], 0), Err(Mip4Error::UnknownNonSkippable { ext_type: 47, offset: 0 }));
        assert_eq!(
            parse_all(&[44, 6, 1, 0, 0, 0, 0, 0], 0),
            Err(Mip4Error::UnknownNonSkippable { ext_type: 44, offset: 0 })
        );
    }

    #[test]
    fn unknown_sub_types_of_skippable_types_are_kept_as_unknown() {
        let b = [147, 2, 9, 1, 152, 1, 9, 144, 2, 5, 5];
        let parsed: Vec<Extension> = parse_all(&b, 0).unwrap().into_iter().map(|(_, e)| e).collect();
        assert_eq!(
            parsed,
            [
                Extension::Unknown { ext_type: 147, data: vec![9, 1] },
                Extension::Unknown { ext_type: 152, data: vec![9] },
                Extension::Unknown { ext_type: 144, data: vec![5, 5] },
            ]
        );
    }

    #[test]
    fn known_extensions_with_impossible_lengths_are_refused() {
        let cases: [&[u8]; 12] = [
            &[32, 3, 0, 0, 0],
            &[36, 1, 0, 3, 0, 0, 0],
            &[38, 0, 0, 5, 0, 0, 0, 0, 0],
            &[44, 5, 0, 0, 0, 0, 0],
            &[47, 1, 0, 2, 1, 1],
            &[48, 0, 0, 3, 0, 0, 0],
            &[130, 1, 0],
            &[134, 7, 0, 0, 0, 0, 0, 0, 0],
            &[137, 5, 0, 0, 0, 0, 0],
            &[144, 5, 0, 0, 0, 0, 0],
            &[147, 3, 4, 1, 1],
            &[152, 17, 1, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        for b in cases {
            assert_eq!(parse_all(b, 0), Err(Mip4Error::BadExtensionLength { ext_type: b[0], offset: 0 }), "{b:?}");
        }
        assert_eq!(parse_all(&[147, 1, 2], 0), Err(Mip4Error::BadExtensionLength { ext_type: 147, offset: 0 }));
    }

    #[test]
    fn an_extension_running_past_the_end_is_an_overrun() {
        for b in [&[131u8][..], &[131, 5, 1], &[48, 0, 0], &[48, 0, 0, 4, 1], &[200, 9]] {
            assert_eq!(parse_all(b, 30), Err(Mip4Error::ExtensionOverrun { offset: 30 }), "{b:?}");
        }
    }

    #[test]
    fn is_encodable_flags_what_emit_would_cut() {
        assert!(every_extension().iter().all(Extension::is_encodable));
        assert!(!Extension::Nai(vec![b'x'; 256]).is_encodable());
        assert!(!Extension::Unknown { ext_type: 5, data: vec![] }.is_encodable());
        let cut = emitted(&Extension::Nai(vec![b'x'; 300]));
        assert_eq!(cut.len(), 257);
        assert_eq!(cut[1], 255);
    }

    /// The draft -01 compatibility mode with private type 200.
    const DRAFT: Dialect = Dialect { dsmip4_draft01: Some(200) };

    #[test]
    fn draft01_extensions_are_read_under_the_configured_type_with_whole_lengths() {
        let p: Ipv6Addr = "2001:db8:100:1::".parse().unwrap();
        let mut b = vec![200, 20, 1, 64];
        b.extend_from_slice(&p.octets());
        b.extend_from_slice(&[200, 4, 3, 0, 131, 1, b'x']);
        let parsed = parse_all_in(&b, 24, DRAFT).unwrap();
        let request = Extension::Ipv6PrefixRequest { prefix_len: 64, prefix: p };
        assert_eq!(parsed[0], (24, Extension::Draft01 { ext_type: 200, ext: Box::new(request) }));
        assert_eq!(parsed[1], (44, Extension::Draft01 { ext_type: 200, ext: Box::new(Extension::Ipv6TunnelingMode) }));
        assert_eq!(parsed[2], (48, Extension::Nai(b"x".to_vec())));
        // Without the mode the same octets are an unknown type overrunning.
        assert!(parse_all(&b, 24).is_err());
        // And RFC 5454's type 152 still reads as RFC 5454 in the mode.
        let rfc = emitted(&Extension::Ipv6TunnelingMode);
        assert_eq!(parse_all_in(&rfc, 0, DRAFT).unwrap()[0].1, Extension::Ipv6TunnelingMode);
    }

    #[test]
    fn draft01_replies_are_written_under_the_private_type_with_whole_lengths() {
        let p: Ipv6Addr = "2001:db8:2::42".parse().unwrap();
        let reply = Extension::Ipv6PrefixReply { code: draft01_code::DAD_FAILED, prefix_len: 128, prefix: p };
        let ext = Extension::Draft01 { ext_type: 200, ext: Box::new(reply) };
        let b = emitted(&ext);
        assert_eq!(b[..6], [200, 22, 2, 11, 128, 0]);
        assert_eq!(b.len(), 22);
        assert_eq!(ext.wire_len(), 22);
        assert_eq!(parse_all_in(&b, 0, DRAFT).unwrap(), [(0, ext)]);
    }

    #[test]
    fn draft01_extensions_with_impossible_lengths_or_unknown_sub_types() {
        assert_eq!(
            parse_all_in(&[200, 2, 1], 0, DRAFT),
            Err(Mip4Error::BadExtensionLength { ext_type: 200, offset: 0 })
        );
        assert_eq!(
            parse_all_in(&[200, 5, 3, 0, 0], 0, DRAFT),
            Err(Mip4Error::BadExtensionLength { ext_type: 200, offset: 0 })
        );
        assert_eq!(parse_all_in(&[200, 30, 3, 0], 0, DRAFT), Err(Mip4Error::ExtensionOverrun { offset: 0 }));
        assert_eq!(
            parse_all_in(&[200, 4, 9, 0], 0, DRAFT).unwrap()[0].1,
            Extension::Unknown { ext_type: 200, data: vec![9, 0] }
        );
    }
}
