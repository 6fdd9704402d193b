//! Mobility options (PROTOCOLS.md §2.8–§2.10): the typed [`MobilityOption`],
//! a walker over the raw TLVs ([`RawOptions`]), and emission with Pad1/PadN
//! in front of each option for its xn+y alignment.
//!
//! ```text
//!  +---------------+---------------+--------------------------------
//!  |  Option Type  | Option Length |  Option Data (Length octets) ...
//!  +---------------+---------------+--------------------------------
//! ```
//!
//! Pad1 is the single octet 0; PadN is type 1 with Length N − 2. Receivers
//! skip unknown types by their Length and accept misaligned options; an
//! option that runs past the end of the Mobility Header makes the message
//! malformed. Offsets in errors count from the first octet of the Mobility
//! Header, like the alignment rule.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::header::MAX_LEN;
use super::MhError;

/// Mobility option types (IANA "Mobility Options", PROTOCOLS.md §2.9).
pub mod option_type {
    pub const PAD1: u8 = 0;
    pub const PADN: u8 = 1;
    pub const BINDING_REFRESH_ADVICE: u8 = 2;
    pub const ALTERNATE_CARE_OF_ADDRESS: u8 = 3;
    pub const MN_IDENTIFIER: u8 = 8;
    /// Mobility Message Authentication, RFC 4285.
    pub const AUTH: u8 = 9;
    /// Mobility Message Replay Protection, RFC 4285.
    pub const MESG_ID: u8 = 10;
    pub const VENDOR_SPECIFIC: u8 = 19;
    pub const HOME_NETWORK_PREFIX: u8 = 22;
    pub const HANDOFF_INDICATOR: u8 = 23;
    pub const ACCESS_TECHNOLOGY_TYPE: u8 = 24;
    pub const MN_LINK_LAYER_ID: u8 = 25;
    pub const LINK_LOCAL_ADDRESS: u8 = 26;
    pub const TIMESTAMP: u8 = 27;
    pub const RESTART_COUNTER: u8 = 28;
    pub const IPV4_HOME_ADDRESS: u8 = 29;
    pub const IPV4_ADDRESS_ACK: u8 = 30;
    pub const NAT_DETECTION: u8 = 31;
    pub const IPV4_CARE_OF_ADDRESS: u8 = 32;
    pub const GRE_KEY: u8 = 33;
    pub const IPV4_HOA_REQUEST: u8 = 36;
    pub const IPV4_HOA_REPLY: u8 = 37;
    pub const IPV4_DEFAULT_ROUTER: u8 = 38;
    pub const IPV4_DHCP_SUPPORT_MODE: u8 = 39;
}

/// Mobile Node Identifier subtypes (RFC 4283, IANA; PROTOCOLS.md §2.10.2).
pub mod mn_id_subtype {
    /// Network Access Identifier, `user@realm`.
    pub const NAI: u8 = 1;
    pub const IPV6_ADDRESS: u8 = 2;
    pub const IMSI: u8 = 3;
    pub const P_TMSI: u8 = 4;
    pub const EUI_48: u8 = 5;
    pub const EUI_64: u8 = 6;
    pub const GUTI: u8 = 7;
    pub const DUID: u8 = 8;
}

/// Authentication option subtypes (RFC 4285; PROTOCOLS.md §11.3).
pub mod auth_subtype {
    pub const MN_HA: u8 = 1;
    pub const MN_AAA: u8 = 2;
}

use option_type as ty;

/// IPv4 prefix lengths sit in the upper 6 bits of their field.
const PREFIX_LEN_6_BITS: u8 = 0x3f;
const IPV4_HOA_P: u16 = 0x0200;
const NAT_DETECTION_F: u16 = 0x8000;
const DHCP_SUPPORT_MODE_S: u16 = 0x0001;

/// One mobility option. Fields hold the wire values; reserved fields are
/// sent as 0 and ignored on receipt (PROTOCOLS.md §2.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MobilityOption {
    /// 2: refresh interval in 4-second units.
    BindingRefreshAdvice(u16),
    /// 3: care-of address to use instead of the IPv6 source.
    AlternateCareOf(Ipv6Addr),
    /// 8 (RFC 4283): subtype ([`mn_id_subtype`]) and identifier octets.
    MnIdentifier { subtype: u8, id: Vec<u8> },
    /// 9 (RFC 4285): subtype ([`auth_subtype`]), Mobility SPI, authenticator.
    /// Always emitted last, with no padding after it.
    Auth { subtype: u8, spi: u32, data: Vec<u8> },
    /// 10 (RFC 4285): 64-bit NTP timestamp, carried opaque.
    MesgId(u64),
    /// 19 (RFC 5094): vendor id (SMI enterprise number), subtype, data.
    VendorSpecific { vendor: u32, subtype: u8, data: Vec<u8> },
    /// 22: prefix length in bits and prefix; `::` asks the LMA to allocate.
    HomeNetworkPrefix { prefix_len: u8, prefix: Ipv6Addr },
    /// 23: Handoff Indicator value ([`super::handoff`]).
    HandoffIndicator(u8),
    /// 24: Access Technology Type value ([`super::att`]).
    AccessTechnology(u8),
    /// 25: the link-layer identifier (after 2 reserved octets).
    MnLinkLayerId(Vec<u8>),
    /// 26: link-local address of the MAG; `::` in a PBU asks for one.
    LinkLocalAddress(Ipv6Addr),
    /// 27: 48.16 fixed point seconds since the Unix epoch — not NTP
    /// (PROTOCOLS.md §2.10.7).
    Timestamp(u64),
    /// 28 (RFC 5847).
    RestartCounter(u32),
    /// 29 (RFC 5555): 6-bit prefix length, P (mobile network prefix
    /// requested), address (`0.0.0.0` = allocate).
    Ipv4HomeAddress { prefix_len: u8, p: bool, addr: Ipv4Addr },
    /// 30 (RFC 5555): status ([`super::ipv4_ack_status`]), 6-bit prefix length, address.
    Ipv4AddressAck { status: u8, prefix_len: u8, addr: Ipv4Addr },
    /// 31 (RFC 5555): F (UDP encapsulation required), refresh time in seconds.
    NatDetection { f: bool, refresh: u32 },
    /// 32 (RFC 5555).
    Ipv4CareOf(Ipv4Addr),
    /// 33 (RFC 5845): `None` = Length 2, GRE encapsulation without a key.
    GreKey(Option<u32>),
    /// 36 (RFC 5844): 6-bit prefix length, requested address (`0.0.0.0` = allocate).
    Ipv4HoaRequest { prefix_len: u8, addr: Ipv4Addr },
    /// 37 (RFC 5844): status ([`super::hoa_reply_status`]), 6-bit prefix length, address.
    Ipv4HoaReply { status: u8, prefix_len: u8, addr: Ipv4Addr },
    /// 38 (RFC 5844).
    Ipv4DefaultRouter(Ipv4Addr),
    /// 39 (RFC 5844): S = 1 the MAG is a DHCP server, 0 a DHCP relay.
    Ipv4DhcpSupportMode { server: bool },
    /// Any other type, skipped by the codec and kept with its data octets.
    Unknown { option_type: u8, data: Vec<u8> },
}

impl MobilityOption {
    /// The Option Type octet.
    pub fn option_type(&self) -> u8 {
        match self {
            Self::BindingRefreshAdvice(_) => ty::BINDING_REFRESH_ADVICE,
            Self::AlternateCareOf(_) => ty::ALTERNATE_CARE_OF_ADDRESS,
            Self::MnIdentifier { .. } => ty::MN_IDENTIFIER,
            Self::Auth { .. } => ty::AUTH,
            Self::MesgId(_) => ty::MESG_ID,
            Self::VendorSpecific { .. } => ty::VENDOR_SPECIFIC,
            Self::HomeNetworkPrefix { .. } => ty::HOME_NETWORK_PREFIX,
            Self::HandoffIndicator(_) => ty::HANDOFF_INDICATOR,
            Self::AccessTechnology(_) => ty::ACCESS_TECHNOLOGY_TYPE,
            Self::MnLinkLayerId(_) => ty::MN_LINK_LAYER_ID,
            Self::LinkLocalAddress(_) => ty::LINK_LOCAL_ADDRESS,
            Self::Timestamp(_) => ty::TIMESTAMP,
            Self::RestartCounter(_) => ty::RESTART_COUNTER,
            Self::Ipv4HomeAddress { .. } => ty::IPV4_HOME_ADDRESS,
            Self::Ipv4AddressAck { .. } => ty::IPV4_ADDRESS_ACK,
            Self::NatDetection { .. } => ty::NAT_DETECTION,
            Self::Ipv4CareOf(_) => ty::IPV4_CARE_OF_ADDRESS,
            Self::GreKey(_) => ty::GRE_KEY,
            Self::Ipv4HoaRequest { .. } => ty::IPV4_HOA_REQUEST,
            Self::Ipv4HoaReply { .. } => ty::IPV4_HOA_REPLY,
            Self::Ipv4DefaultRouter(_) => ty::IPV4_DEFAULT_ROUTER,
            Self::Ipv4DhcpSupportMode { .. } => ty::IPV4_DHCP_SUPPORT_MODE,
            Self::Unknown { option_type, .. } => *option_type,
        }
    }

    /// The alignment `(x, y)`: the Type octet goes at an offset from the
    /// start of the Mobility Header that is ≡ y (mod x) (PROTOCOLS.md §2.9).
    /// `(1, 0)` = no requirement. MN-LL-ID is placed at 8n+4 so a MAC starts
    /// on an 8-octet boundary (our choice, §2.10.5).
    pub fn alignment(&self) -> (u8, u8) {
        match self {
            Self::BindingRefreshAdvice(_) => (2, 0),
            Self::AlternateCareOf(_) | Self::LinkLocalAddress(_) => (8, 6),
            Self::Auth { .. } => (4, 1),
            Self::MesgId(_) | Self::Timestamp(_) => (8, 2),
            Self::VendorSpecific { .. } | Self::RestartCounter(_) => (4, 2),
            Self::HomeNetworkPrefix { .. } | Self::MnLinkLayerId(_) => (8, 4),
            Self::Ipv4HomeAddress { .. }
            | Self::Ipv4AddressAck { .. }
            | Self::NatDetection { .. }
            | Self::Ipv4CareOf(_)
            | Self::GreKey(_)
            | Self::Ipv4HoaRequest { .. }
            | Self::Ipv4HoaReply { .. }
            | Self::Ipv4DefaultRouter(_) => (4, 0),
            Self::MnIdentifier { .. }
            | Self::HandoffIndicator(_)
            | Self::AccessTechnology(_)
            | Self::Ipv4DhcpSupportMode { .. }
            | Self::Unknown { .. } => (1, 0),
        }
    }

    /// Decodes one option found by [`RawOptions`]. A known type whose
    /// Length is not the one its layout has (or below the minimum for a
    /// variable one) is `BadOptionLength`; values are not judged here.
    pub fn parse(raw: &RawOption<'_>) -> Result<MobilityOption, MhError> {
        let bad = MhError::BadOptionLength { option: raw.option_type, offset: raw.offset };
        let d = raw.data;
        let fixed = |n: usize| if d.len() == n { Ok(()) } else { Err(bad) };
        // Each arm checks the Length before reading, so these never fall
        // back to their defaults; they only keep the reads panic-free.
        let u16_at = |at: usize| d.get(at..at + 2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
        let u32_at = |at: usize| d.get(at..at + 4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let v4_at = |at: usize| Ipv4Addr::from(u32_at(at));
        let v6_at = |at: usize| {
            d.get(at..at + 16).and_then(|b| <[u8; 16]>::try_from(b).ok()).map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from)
        };
        let byte = |at: usize| d.get(at).copied().unwrap_or(0);
        let opt = match raw.option_type {
            ty::BINDING_REFRESH_ADVICE => {
                fixed(2)?;
                Self::BindingRefreshAdvice(u16_at(0))
            }
            ty::ALTERNATE_CARE_OF_ADDRESS => {
                fixed(16)?;
                Self::AlternateCareOf(v6_at(0))
            }
            ty::MN_IDENTIFIER => {
                let (&subtype, id) = d.split_first().ok_or(bad)?;
                Self::MnIdentifier { subtype, id: id.to_vec() }
            }
            ty::AUTH => {
                let (_, data) = d.split_at_checked(5).ok_or(bad)?;
                Self::Auth { subtype: byte(0), spi: u32_at(1), data: data.to_vec() }
            }
            ty::MESG_ID => {
                fixed(8)?;
                Self::MesgId(u64::from(u32_at(0)) << 32 | u64::from(u32_at(4)))
            }
            ty::VENDOR_SPECIFIC => {
                let (_, data) = d.split_at_checked(5).ok_or(bad)?;
                Self::VendorSpecific { vendor: u32_at(0), subtype: byte(4), data: data.to_vec() }
            }
            ty::HOME_NETWORK_PREFIX => {
                fixed(18)?;
                Self::HomeNetworkPrefix { prefix_len: byte(1), prefix: v6_at(2) }
            }
            ty::HANDOFF_INDICATOR => {
                fixed(2)?;
                Self::HandoffIndicator(byte(1))
            }
            ty::ACCESS_TECHNOLOGY_TYPE => {
                fixed(2)?;
                Self::AccessTechnology(byte(1))
            }
            ty::MN_LINK_LAYER_ID => {
                let (_, id) = d.split_at_checked(2).ok_or(bad)?;
                Self::MnLinkLayerId(id.to_vec())
            }
            ty::LINK_LOCAL_ADDRESS => {
                fixed(16)?;
                Self::LinkLocalAddress(v6_at(0))
            }
            ty::TIMESTAMP => {
                fixed(8)?;
                Self::Timestamp(u64::from(u32_at(0)) << 32 | u64::from(u32_at(4)))
            }
            ty::RESTART_COUNTER => {
                fixed(4)?;
                Self::RestartCounter(u32_at(0))
            }
            ty::IPV4_HOME_ADDRESS => {
                fixed(6)?;
                let word = u16_at(0);
                Self::Ipv4HomeAddress { prefix_len: (word >> 10) as u8, p: word & IPV4_HOA_P != 0, addr: v4_at(2) }
            }
            ty::IPV4_ADDRESS_ACK => {
                fixed(6)?;
                Self::Ipv4AddressAck { status: byte(0), prefix_len: byte(1) >> 2, addr: v4_at(2) }
            }
            ty::NAT_DETECTION => {
                fixed(6)?;
                Self::NatDetection { f: u16_at(0) & NAT_DETECTION_F != 0, refresh: u32_at(2) }
            }
            ty::IPV4_CARE_OF_ADDRESS => {
                fixed(6)?;
                Self::Ipv4CareOf(v4_at(2))
            }
            ty::GRE_KEY => match d.len() {
                2 => Self::GreKey(None),
                6 => Self::GreKey(Some(u32_at(2))),
                _ => return Err(bad),
            },
            ty::IPV4_HOA_REQUEST => {
                fixed(6)?;
                Self::Ipv4HoaRequest { prefix_len: (u16_at(0) >> 10) as u8, addr: v4_at(2) }
            }
            ty::IPV4_HOA_REPLY => {
                fixed(6)?;
                Self::Ipv4HoaReply { status: byte(0), prefix_len: byte(1) >> 2, addr: v4_at(2) }
            }
            ty::IPV4_DEFAULT_ROUTER => {
                fixed(6)?;
                Self::Ipv4DefaultRouter(v4_at(2))
            }
            ty::IPV4_DHCP_SUPPORT_MODE => {
                fixed(2)?;
                Self::Ipv4DhcpSupportMode { server: u16_at(0) & DHCP_SUPPORT_MODE_S != 0 }
            }
            option_type => Self::Unknown { option_type, data: d.to_vec() },
        };
        Ok(opt)
    }

    /// The variable part and the octets of fixed data before it, for the
    /// options whose Length depends on their contents.
    fn variable(&self) -> Option<(usize, &[u8])> {
        match self {
            Self::MnIdentifier { id, .. } => Some((1, id)),
            Self::Auth { data, .. } | Self::VendorSpecific { data, .. } => Some((5, data)),
            Self::MnLinkLayerId(id) => Some((2, id)),
            Self::Unknown { data, .. } => Some((0, data)),
            _ => None,
        }
    }

    /// True when the option can be sent as it is: its Length fits in an
    /// octet, and it is not an `Unknown` of type 0 (Pad1 has no Length).
    pub fn is_encodable(&self) -> bool {
        let fits = self.variable().is_none_or(|(fixed, v)| fixed + v.len() <= usize::from(u8::MAX));
        fits && !matches!(self, Self::Unknown { option_type: ty::PAD1, .. })
    }

    /// Octets the option takes on the wire, Type and Length included
    /// (variable data beyond what Length can say is cut, as [`emit`](Self::emit) does).
    pub fn buffer_len(&self) -> usize {
        2 + usize::from(self.data_len())
    }

    /// The Length octet.
    fn data_len(&self) -> u8 {
        let len = match self {
            Self::BindingRefreshAdvice(_)
            | Self::HandoffIndicator(_)
            | Self::AccessTechnology(_)
            | Self::Ipv4DhcpSupportMode { .. }
            | Self::GreKey(None) => 2,
            Self::RestartCounter(_) => 4,
            Self::Ipv4HomeAddress { .. }
            | Self::Ipv4AddressAck { .. }
            | Self::NatDetection { .. }
            | Self::Ipv4CareOf(_)
            | Self::GreKey(Some(_))
            | Self::Ipv4HoaRequest { .. }
            | Self::Ipv4HoaReply { .. }
            | Self::Ipv4DefaultRouter(_) => 6,
            Self::MesgId(_) | Self::Timestamp(_) => 8,
            Self::AlternateCareOf(_) | Self::LinkLocalAddress(_) => 16,
            Self::HomeNetworkPrefix { .. } => 18,
            Self::MnIdentifier { .. }
            | Self::Auth { .. }
            | Self::VendorSpecific { .. }
            | Self::MnLinkLayerId(_)
            | Self::Unknown { .. } => match self.variable() {
                Some((fixed, v)) => fixed + v.len(),
                None => 0,
            },
        };
        u8::try_from(len).unwrap_or(u8::MAX)
    }

    /// Appends Type, Length and data to `out`. Reserved fields are 0; 6-bit
    /// prefix lengths are masked to 6 bits; variable data longer than the
    /// Length octet allows is cut (see [`is_encodable`](Self::is_encodable)).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let len = self.data_len();
        out.push(self.option_type());
        out.push(len);
        let v4 = |out: &mut Vec<u8>, head: u16, addr: &Ipv4Addr| {
            out.extend_from_slice(&head.to_be_bytes());
            out.extend_from_slice(&addr.octets());
        };
        let six_bits = |p: u8| p & PREFIX_LEN_6_BITS;
        match self {
            Self::BindingRefreshAdvice(v) => out.extend_from_slice(&v.to_be_bytes()),
            Self::AlternateCareOf(a) | Self::LinkLocalAddress(a) => out.extend_from_slice(&a.octets()),
            Self::MnIdentifier { subtype, .. } => out.push(*subtype),
            Self::Auth { subtype, spi, .. } => {
                out.push(*subtype);
                out.extend_from_slice(&spi.to_be_bytes());
            }
            Self::MesgId(v) | Self::Timestamp(v) => out.extend_from_slice(&v.to_be_bytes()),
            Self::VendorSpecific { vendor, subtype, .. } => {
                out.extend_from_slice(&vendor.to_be_bytes());
                out.push(*subtype);
            }
            Self::HomeNetworkPrefix { prefix_len, prefix } => {
                out.extend_from_slice(&[0, *prefix_len]);
                out.extend_from_slice(&prefix.octets());
            }
            Self::HandoffIndicator(v) | Self::AccessTechnology(v) => out.extend_from_slice(&[0, *v]),
            Self::MnLinkLayerId(_) => out.extend_from_slice(&[0, 0]),
            Self::RestartCounter(v) => out.extend_from_slice(&v.to_be_bytes()),
            Self::Ipv4HomeAddress { prefix_len, p, addr } => {
                let p_bit = if *p { IPV4_HOA_P } else { 0 };
                v4(out, u16::from(six_bits(*prefix_len)) << 10 | p_bit, addr);
            }
            Self::Ipv4AddressAck { status, prefix_len, addr } | Self::Ipv4HoaReply { status, prefix_len, addr } => {
                v4(out, u16::from_be_bytes([*status, six_bits(*prefix_len) << 2]), addr);
            }
            Self::NatDetection { f, refresh } => {
                out.extend_from_slice(&(if *f { NAT_DETECTION_F } else { 0 }).to_be_bytes());
                out.extend_from_slice(&refresh.to_be_bytes());
            }
            Self::Ipv4CareOf(addr) | Self::Ipv4DefaultRouter(addr) => v4(out, 0, addr),
            Self::GreKey(key) => {
                out.extend_from_slice(&[0, 0]);
                if let Some(key) = key {
                    out.extend_from_slice(&key.to_be_bytes());
                }
            }
            Self::Ipv4HoaRequest { prefix_len, addr } => v4(out, u16::from(six_bits(*prefix_len)) << 10, addr),
            Self::Ipv4DhcpSupportMode { server } => {
                out.extend_from_slice(&(if *server { DHCP_SUPPORT_MODE_S } else { 0 }).to_be_bytes());
            }
            Self::Unknown { .. } => {}
        }
        if let Some((fixed, v)) = self.variable() {
            let room = usize::from(len).saturating_sub(fixed);
            out.extend_from_slice(v.get(..room).unwrap_or(v));
        }
    }
}

/// The first option for which `f` returns `Some`, e.g.
/// `find(&pbu.options, |o| match o { MobilityOption::Timestamp(t) => Some(*t), _ => None })`.
pub fn find<'a, T>(options: &'a [MobilityOption], f: impl Fn(&'a MobilityOption) -> Option<T>) -> Option<T> {
    options.iter().find_map(f)
}

/// How many options of `option_type` there are (to apply "at most once").
pub fn count(options: &[MobilityOption], option_type: u8) -> usize {
    options.iter().filter(|o| o.option_type() == option_type).count()
}

/// One option as found in a Mobility Header, Pad1/PadN excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// Offset of the Type octet from the start of the Mobility Header.
    pub offset: usize,
    pub option_type: u8,
    /// The Length octets after the Length octet.
    pub data: &'a [u8],
}

/// Walks the options area of a Mobility Header, skipping Pad1 and PadN
/// (whose contents are ignored). Yields `OptionOverrun` once, and then
/// nothing, when an option's Length octet or data runs past the end.
#[derive(Debug, Clone)]
pub struct RawOptions<'a> {
    area: &'a [u8],
    pos: usize,
    base: usize,
    done: bool,
}

impl<'a> RawOptions<'a> {
    /// `area`: the octets from the first option to the end of the Mobility
    /// Header; `base`: the offset of `area` in the Mobility Header.
    pub fn new(area: &'a [u8], base: usize) -> RawOptions<'a> {
        RawOptions { area, pos: 0, base, done: false }
    }
}

impl<'a> Iterator for RawOptions<'a> {
    type Item = Result<RawOption<'a>, MhError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let rest = self.area.get(self.pos..)?;
            let (&option_type, after) = rest.split_first()?;
            let offset = self.base + self.pos;
            if option_type == ty::PAD1 {
                self.pos += 1;
                continue;
            }
            let data = after.split_first().and_then(|(&len, body)| body.get(..usize::from(len)));
            let Some(data) = data else {
                self.done = true;
                return Some(Err(MhError::OptionOverrun { offset }));
            };
            self.pos += 2 + data.len();
            if option_type != ty::PADN {
                return Some(Ok(RawOption { offset, option_type, data }));
            }
        }
        None
    }
}

/// Parses every option of an options area (see [`RawOptions::new`]), in
/// order, duplicates kept.
pub fn parse_all(area: &[u8], base: usize) -> Result<Vec<MobilityOption>, MhError> {
    RawOptions::new(area, base).map(|raw| raw.and_then(|raw| MobilityOption::parse(&raw))).collect()
}

/// Appends `n` octets of padding: nothing, Pad1, or one PadN.
fn pad(out: &mut Vec<u8>, n: usize) {
    match n {
        0 => {}
        1 => out.push(ty::PAD1),
        _ => {
            out.extend_from_slice(&[ty::PADN, u8::try_from(n - 2).unwrap_or(0)]);
            out.resize(out.len() + (n - 2), 0);
        }
    }
}

/// Padding needed at `offset` for alignment `(x, y)`.
fn padding_for(offset: usize, (x, y): (u8, u8)) -> usize {
    let (x, y) = (usize::from(x.max(1)), usize::from(y));
    (y + x - offset % x) % x
}

/// Appends `options` to `out`, which holds the Mobility Header so far (so
/// `out.len()` is the next option's offset), and pads the end to a
/// multiple of 8 (PROTOCOLS.md §2.8): Pad1/PadN before each option for its
/// alignment; AUTH options after all others, the last one placed so that
/// the message ends right after it. Options that would take the message
/// past 2048 octets, and `Unknown`s of type 0, are left out. Returns
/// `false` when something was left out.
pub(crate) fn emit_all(out: &mut Vec<u8>, options: &[MobilityOption]) -> bool {
    let mut complete = true;
    let is_auth = |o: &&MobilityOption| matches!(o, MobilityOption::Auth { .. });
    let auths: Vec<&MobilityOption> = options.iter().filter(is_auth).collect();
    let ordered = options.iter().filter(|o| !is_auth(o)).chain(auths.iter().copied());
    let last_auth = auths.len();
    let mut auth_seen = 0;
    for option in ordered {
        if matches!(option, MobilityOption::Unknown { option_type: ty::PAD1, .. }) {
            complete = false;
            continue;
        }
        let len = option.buffer_len();
        let padding = if is_auth(&option) {
            auth_seen += 1;
            if auth_seen == last_auth {
                (8 - (out.len() + len) % 8) % 8
            } else {
                padding_for(out.len(), option.alignment())
            }
        } else {
            padding_for(out.len(), option.alignment())
        };
        if out.len() + padding + len > MAX_LEN {
            complete = false;
            continue;
        }
        pad(out, padding);
        option.emit(out);
    }
    pad(out, (8 - out.len() % 8) % 8);
    complete
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// One of each option with non-trivial values.
    pub(crate) fn every_option() -> Vec<MobilityOption> {
        use MobilityOption::*;
        vec![
            BindingRefreshAdvice(0x1234),
            AlternateCareOf(v6("2001:db8::b")),
            MnIdentifier { subtype: 1, id: b"mn1@example.net".to_vec() },
            MesgId(0xe8e8_e8e8_8000_0000),
            VendorSpecific { vendor: 10415, subtype: 7, data: vec![1, 2, 3] },
            HomeNetworkPrefix { prefix_len: 64, prefix: v6("2001:db8:1:2::") },
            HandoffIndicator(3),
            AccessTechnology(4),
            MnLinkLayerId(vec![2, 0, 0, 0, 0, 7]),
            LinkLocalAddress(v6("fe80::1")),
            Timestamp(0x0000_6553_f100_8000),
            RestartCounter(0xdead_beef),
            Ipv4HomeAddress { prefix_len: 32, p: true, addr: v4("192.0.2.200") },
            Ipv4AddressAck { status: 133, prefix_len: 24, addr: v4("10.9.8.7") },
            NatDetection { f: true, refresh: 0xffff_ffff },
            Ipv4CareOf(v4("198.51.100.7")),
            GreKey(None),
            GreKey(Some(0x5678)),
            Ipv4HoaRequest { prefix_len: 32, addr: v4("192.0.2.77") },
            Ipv4HoaReply { status: 128, prefix_len: 0, addr: v4("0.0.0.0") },
            Ipv4DefaultRouter(v4("10.1.2.1")),
            Ipv4DhcpSupportMode { server: true },
            Ipv4DhcpSupportMode { server: false },
            Unknown { option_type: 200, data: b"\x00\x01abc".to_vec() },
            Unknown { option_type: 20, data: Vec::new() },
            Auth { subtype: 1, spi: 256, data: (0xa0..0xac).collect() },
        ]
    }

    /// Walks `mh` from `base` and returns (offset, option) pairs.
    fn walk(mh: &[u8], base: usize) -> Vec<(usize, MobilityOption)> {
        RawOptions::new(&mh[base..], base)
            .map(|r| {
                let r = r.unwrap();
                (r.offset, MobilityOption::parse(&r).unwrap())
            })
            .collect()
    }

    fn emitted(opt: &MobilityOption) -> Vec<u8> {
        let mut out = Vec::new();
        opt.emit(&mut out);
        out
    }

    fn parsed(bytes: &[u8]) -> Result<MobilityOption, MhError> {
        let raw = RawOption { offset: 12, option_type: bytes[0], data: &bytes[2..] };
        MobilityOption::parse(&raw)
    }

    #[test]
    fn every_option_round_trips_through_its_bytes() {
        for opt in every_option() {
            let b = emitted(&opt);
            assert_eq!(b.len(), opt.buffer_len(), "{opt:?}");
            assert_eq!(usize::from(b[1]) + 2, b.len(), "{opt:?}");
            assert_eq!(b[0], opt.option_type());
            assert_eq!(parsed(&b), Ok(opt.clone()));
        }
    }

    /// Layouts of PROTOCOLS.md §2.10, octet by octet.
    #[test]
    fn option_layouts_follow_protocols_2_10() {
        use MobilityOption::*;
        let cases: Vec<(MobilityOption, Vec<u8>)> = vec![
            (
                HomeNetworkPrefix { prefix_len: 64, prefix: v6("2001:db8::") },
                [&[22, 18, 0, 64, 0x20, 0x01, 0x0d, 0xb8][..], &[0; 12]].concat(),
            ),
            (HandoffIndicator(4), vec![23, 2, 0, 4]),
            (AccessTechnology(3), vec![24, 2, 0, 3]),
            (MnLinkLayerId(vec![0xaa, 0xbb]), vec![25, 4, 0, 0, 0xaa, 0xbb]),
            // 1700000000.5 s since 1970 (PROTOCOLS.md §2.10.7 example).
            (Timestamp(1_700_000_000 << 16 | 0x8000), vec![27, 8, 0, 0, 0x65, 0x53, 0xf1, 0x00, 0x80, 0x00]),
            (RestartCounter(7), vec![28, 4, 0, 0, 0, 7]),
            (Ipv4HomeAddress { prefix_len: 32, p: true, addr: v4("1.2.3.4") }, vec![29, 6, 0x82, 0x00, 1, 2, 3, 4]),
            (Ipv4AddressAck { status: 129, prefix_len: 24, addr: v4("1.2.3.4") }, vec![30, 6, 129, 0x60, 1, 2, 3, 4]),
            (NatDetection { f: true, refresh: 110 }, vec![31, 6, 0x80, 0, 0, 0, 0, 110]),
            (Ipv4CareOf(v4("1.2.3.4")), vec![32, 6, 0, 0, 1, 2, 3, 4]),
            (GreKey(None), vec![33, 2, 0, 0]),
            (GreKey(Some(0x0102_0304)), vec![33, 6, 0, 0, 1, 2, 3, 4]),
            (Ipv4HoaRequest { prefix_len: 24, addr: v4("1.2.3.4") }, vec![36, 6, 0x60, 0x00, 1, 2, 3, 4]),
            (Ipv4HoaReply { status: 0, prefix_len: 32, addr: v4("1.2.3.4") }, vec![37, 6, 0, 0x80, 1, 2, 3, 4]),
            (Ipv4DefaultRouter(v4("1.2.3.4")), vec![38, 6, 0, 0, 1, 2, 3, 4]),
            (Ipv4DhcpSupportMode { server: true }, vec![39, 2, 0, 1]),
            (MnIdentifier { subtype: 1, id: b"a@b".to_vec() }, vec![8, 4, 1, b'a', b'@', b'b']),
            (Auth { subtype: 2, spi: 3, data: vec![9] }, vec![9, 6, 2, 0, 0, 0, 3, 9]),
            (MesgId(0x0102_0304_0506_0708), vec![10, 8, 1, 2, 3, 4, 5, 6, 7, 8]),
            (VendorSpecific { vendor: 10415, subtype: 7, data: vec![1] }, vec![19, 6, 0, 0, 0x28, 0xaf, 7, 1]),
            (BindingRefreshAdvice(50), vec![2, 2, 0, 50]),
            (Unknown { option_type: 200, data: vec![5, 6] }, vec![200, 2, 5, 6]),
        ];
        for (opt, bytes) in cases {
            assert_eq!(emitted(&opt), bytes, "{opt:?}");
            assert_eq!(parsed(&bytes), Ok(opt));
        }
    }

    #[test]
    fn reserved_bits_are_ignored_on_receipt() {
        use MobilityOption::*;
        assert_eq!(parsed(&[22, 18, 0xff, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap(), {
            HomeNetworkPrefix { prefix_len: 64, prefix: Ipv6Addr::UNSPECIFIED }
        });
        assert_eq!(parsed(&[23, 2, 0xff, 1]), Ok(HandoffIndicator(1)));
        assert_eq!(parsed(&[29, 6, 0x83, 0xff, 1, 2, 3, 4]).unwrap(), {
            Ipv4HomeAddress { prefix_len: 32, p: true, addr: v4("1.2.3.4") }
        });
        assert_eq!(parsed(&[36, 6, 0x83, 0xff, 1, 2, 3, 4]).unwrap(), {
            Ipv4HoaRequest { prefix_len: 32, addr: v4("1.2.3.4") }
        });
        assert_eq!(parsed(&[37, 6, 5, 0x83, 1, 2, 3, 4]).unwrap(), {
            Ipv4HoaReply { status: 5, prefix_len: 32, addr: v4("1.2.3.4") }
        });
        assert_eq!(parsed(&[31, 6, 0x7f, 0xff, 0, 0, 0, 1]), Ok(NatDetection { f: false, refresh: 1 }));
        assert_eq!(parsed(&[39, 2, 0xff, 0xfe]), Ok(Ipv4DhcpSupportMode { server: false }));
        assert_eq!(parsed(&[33, 6, 0xff, 0xff, 0, 0, 0, 9]), Ok(GreKey(Some(9))));
    }

    #[test]
    fn prefix_lengths_are_masked_to_six_bits_on_emit() {
        let opt = MobilityOption::Ipv4HoaRequest { prefix_len: 0xff, addr: v4("1.2.3.4") };
        assert_eq!(emitted(&opt)[2..4], [0xfc, 0x00]);
        let opt = MobilityOption::Ipv4HoaReply { status: 1, prefix_len: 0xff, addr: v4("1.2.3.4") };
        assert_eq!(emitted(&opt)[2..4], [1, 0xfc]);
    }

    #[test]
    fn a_known_option_with_the_wrong_length_is_refused_with_its_offset() {
        let fixed: [(u8, &[usize]); 20] = [
            (2, &[2]),
            (3, &[16]),
            (10, &[8]),
            (22, &[18]),
            (23, &[2]),
            (24, &[2]),
            (26, &[16]),
            (27, &[8]),
            (28, &[4]),
            (29, &[6]),
            (30, &[6]),
            (31, &[6]),
            (32, &[6]),
            (33, &[2, 6]),
            (36, &[6]),
            (37, &[6]),
            (38, &[6]),
            (39, &[2]),
            (8, &[1, 2, 3, 100]),
            (25, &[2, 3, 8]),
        ];
        for (option, good) in fixed {
            for len in 0..=40usize {
                let data = vec![0u8; len];
                let raw = RawOption { offset: 36, option_type: option, data: &data };
                let got = MobilityOption::parse(&raw);
                let variable_ok = (option == 8 && len >= 1) || (option == 25 && len >= 2);
                if good.contains(&len) || variable_ok {
                    assert!(got.is_ok(), "type {option} length {len}");
                } else {
                    assert_eq!(got, Err(MhError::BadOptionLength { option, offset: 36 }), "len {len}");
                }
            }
        }
        for option in [9u8, 19] {
            for len in 0..5 {
                let data = vec![0u8; len];
                let raw = RawOption { offset: 13, option_type: option, data: &data };
                assert_eq!(MobilityOption::parse(&raw), Err(MhError::BadOptionLength { option, offset: 13 }));
            }
        }
    }

    #[test]
    fn pad1_and_padn_are_consumed_and_unknown_types_kept() {
        // Pad1, PadN(3) with non-zero contents, unknown 99, HI, Pad1.
        let area = [0, 1, 1, 0xee, 99, 2, 7, 8, 23, 2, 0, 1, 0];
        let got = parse_all(&area, 12).unwrap();
        assert_eq!(
            got,
            vec![MobilityOption::Unknown { option_type: 99, data: vec![7, 8] }, MobilityOption::HandoffIndicator(1)]
        );
        let offsets: Vec<usize> = RawOptions::new(&area, 12).map(|r| r.unwrap().offset).collect();
        assert_eq!(offsets, [16, 20]);
    }

    #[test]
    fn an_option_running_past_the_end_is_an_overrun_at_its_offset() {
        // Length byte missing.
        assert_eq!(parse_all(&[0, 0, 23], 12), Err(MhError::OptionOverrun { offset: 14 }));
        // Data too short.
        assert_eq!(parse_all(&[23, 2, 0, 1, 1, 4, 0, 0], 12), Err(MhError::OptionOverrun { offset: 16 }));
        // A PadN may overrun too.
        assert_eq!(parse_all(&[1, 9, 0], 24), Err(MhError::OptionOverrun { offset: 24 }));
        // The walker stops after the error.
        let mut it = RawOptions::new(&[23, 9, 0, 1], 12);
        assert!(matches!(it.next(), Some(Err(MhError::OptionOverrun { offset: 12 }))));
        assert!(it.next().is_none());
        // An empty area and a trailing Pad1 are fine.
        assert_eq!(parse_all(&[], 12), Ok(Vec::new()));
        assert_eq!(parse_all(&[0], 12), Ok(Vec::new()));
    }

    #[test]
    fn duplicates_are_preserved_in_order() {
        use MobilityOption::HomeNetworkPrefix as Hnp;
        let opts = vec![
            Hnp { prefix_len: 64, prefix: v6("2001:db8:1::") },
            MobilityOption::HandoffIndicator(1),
            Hnp { prefix_len: 64, prefix: v6("2001:db8:2::") },
            MobilityOption::HandoffIndicator(2),
        ];
        let mut out = vec![0u8; 12];
        assert!(emit_all(&mut out, &opts));
        assert_eq!(parse_all(&out[12..], 12), Ok(opts.clone()));
        assert_eq!(count(&opts, option_type::HOME_NETWORK_PREFIX), 2);
        assert_eq!(count(&opts, option_type::TIMESTAMP), 0);
        let hi = |o: &MobilityOption| match o {
            MobilityOption::HandoffIndicator(v) => Some(*v),
            _ => None,
        };
        assert_eq!(find(&opts, hi), Some(1));
        let prefixes: Vec<Ipv6Addr> = opts
            .iter()
            .filter_map(|o| match o {
                Hnp { prefix, .. } => Some(*prefix),
                _ => None,
            })
            .collect();
        assert_eq!(prefixes, [v6("2001:db8:1::"), v6("2001:db8:2::")]);
        assert_eq!(find(&[], hi), None);
    }

    /// Every option, behind every amount of preceding data (so every
    /// starting offset mod 8), lands on its xn+y; the message is a multiple
    /// of 8; AUTH ends the message with no padding after it.
    #[test]
    fn every_option_alignment_rule_holds_on_emitted_bytes() {
        for opt in every_option() {
            let (x, y) = opt.alignment();
            for lead in 0..8usize {
                // An unknown option of `lead` data octets shifts the start.
                let mut opts = vec![MobilityOption::Unknown { option_type: 99, data: vec![0xcc; lead] }];
                opts.push(opt.clone());
                let mut out = vec![0u8; 12];
                assert!(emit_all(&mut out, &opts));
                assert_eq!(out.len() % 8, 0, "{opt:?} lead {lead}");
                let found = walk(&out, 12);
                assert_eq!(found.len(), 2);
                let (offset, got) = &found[1];
                assert_eq!(got, &opt);
                if let MobilityOption::Auth { data, .. } = &opt {
                    assert_eq!(offset + opt.buffer_len(), out.len(), "AUTH last, no trailing padding");
                    // With a multiple-of-4 authenticator 4n+1 holds as well.
                    assert_eq!(data.len() % 4, 0);
                }
                assert_eq!(offset % usize::from(x), usize::from(y), "{opt:?} lead {lead} at {offset}");
            }
        }
    }

    #[test]
    fn padding_uses_pad1_for_one_octet_and_a_single_padn_otherwise() {
        for start in 8..16usize {
            let mut out = vec![0xeeu8; start];
            assert!(emit_all(&mut out, &[MobilityOption::Timestamp(1)]));
            // Timestamp goes to 8n+2.
            let n = (8 + 2 - start % 8) % 8;
            let want = match n {
                0 => vec![],
                1 => vec![0],
                _ => [vec![1, (n - 2) as u8], vec![0; n - 2]].concat(),
            };
            assert_eq!(out[start..start + n], want[..], "start {start}");
            assert_eq!(out[start + n], option_type::TIMESTAMP);
        }
        let mut out = vec![0u8; 12];
        assert!(emit_all(&mut out, &[]));
        assert_eq!(out[12..], [1, 2, 0, 0]);
    }

    #[test]
    fn auth_is_moved_after_every_other_option() {
        let auth = MobilityOption::Auth { subtype: 1, spi: 256, data: vec![7; 12] };
        let opts = vec![auth.clone(), MobilityOption::MesgId(5), MobilityOption::RestartCounter(1)];
        let mut out = vec![0u8; 12];
        assert!(emit_all(&mut out, &opts));
        let got: Vec<MobilityOption> = walk(&out, 12).into_iter().map(|(_, o)| o).collect();
        assert_eq!(got, vec![MobilityOption::MesgId(5), MobilityOption::RestartCounter(1), auth]);
        assert_eq!(out[out.len() - 19..out.len() - 12], [9, 17, 1, 0, 0, 1, 0]);
    }

    #[test]
    fn unencodable_options_are_cut_or_left_out_and_reported() {
        let long = MobilityOption::MnIdentifier { subtype: 1, id: vec![b'x'; 300] };
        assert!(!long.is_encodable());
        assert_eq!(long.buffer_len(), 257);
        let b = emitted(&long);
        assert_eq!((b.len(), b[1]), (257, 255));
        let pad1 = MobilityOption::Unknown { option_type: 0, data: vec![] };
        assert!(!pad1.is_encodable());
        let mut out = vec![0u8; 12];
        assert!(!emit_all(&mut out, &[pad1]));
        assert_eq!(out.len(), 16);
        // Eight 255-octet options do not fit in 2048 octets: the last is dropped.
        let big = MobilityOption::Unknown { option_type: 99, data: vec![1; 253] };
        let mut out = vec![0u8; 12];
        assert!(!emit_all(&mut out, &vec![big; 9]));
        assert!(out.len() <= MAX_LEN && out.len().is_multiple_of(8));
        assert_eq!(walk(&out, 12).len(), 7);
        assert!(MobilityOption::MnIdentifier { subtype: 1, id: vec![0; 254] }.is_encodable());
    }
}
