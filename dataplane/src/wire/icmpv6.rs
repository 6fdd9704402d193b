//! ICMPv6 (RFC 4443) and the Neighbor Discovery messages we answer and send
//! (RFC 4861 §4.3 Neighbor Solicitation, §4.4 Neighbor Advertisement, §4.6.1
//! link-layer address options).
//!
//! ```text
//!  0       8       16              31
//!  +-------+-------+---------------+
//!  | type  | code  |   checksum    |
//!  +-------+-------+---------------+
//!  | identifier    | sequence      |  echo
//!  |R|S|O| reserved                |  NA (NS: reserved)
//!  +---------------+---------------+
//!  | target address (16 bytes)     |  NS / NA
//!  +-------------------------------+
//!  | options: type, length (×8 bytes), data ...
//! ```

use core::net::Ipv6Addr;

use super::checksum;
use super::field::{read_ipv6, read_mac, read_u16, write_u16, Field};
use super::ipv4::protocol;
use super::{MacAddr, WireError};

mod field {
    use super::Field;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQ: Field = 6..8;
    pub const NA_FLAGS: usize = 4;
    pub const TARGET: Field = 8..24;
    pub const ND_OPTIONS: usize = 24;
}

/// Type, code and checksum.
pub const MIN_LEN: usize = 4;
/// The header of echo, error and ND messages (type to the 4-byte rest).
pub const HEADER_LEN: usize = 8;
/// NS and NA up to the end of the target address.
pub const ND_FIXED_LEN: usize = 24;

pub const TYPE_DEST_UNREACHABLE: u8 = 1;
pub const TYPE_PACKET_TOO_BIG: u8 = 2;
pub const TYPE_TIME_EXCEEDED: u8 = 3;
pub const TYPE_PARAMETER_PROBLEM: u8 = 4;
pub const TYPE_ECHO_REQUEST: u8 = 128;
pub const TYPE_ECHO_REPLY: u8 = 129;
pub const TYPE_ROUTER_SOLICIT: u8 = 133;
pub const TYPE_ROUTER_ADVERT: u8 = 134;
pub const TYPE_NEIGHBOR_SOLICIT: u8 = 135;
pub const TYPE_NEIGHBOR_ADVERT: u8 = 136;
pub const TYPE_REDIRECT: u8 = 137;

/// ND option types (RFC 4861 §4.6).
pub const OPT_SOURCE_LLADDR: u8 = 1;
pub const OPT_TARGET_LLADDR: u8 = 2;
/// A link-layer address option for Ethernet: type, length 1, 6-byte MAC.
pub const LLADDR_OPT_LEN: usize = 8;

const NA_FLAG_ROUTER: u8 = 0x80;
const NA_FLAG_SOLICITED: u8 = 0x40;
const NA_FLAG_OVERRIDE: u8 = 0x20;

/// Types whose fixed header is 8 bytes (RFC 4443 §2.1, §3, §4; RFC 4861 §4).
fn has_8_byte_header(msg_type: u8) -> bool {
    matches!(
        msg_type,
        TYPE_DEST_UNREACHABLE..=TYPE_PARAMETER_PROBLEM
            | TYPE_ECHO_REQUEST
            | TYPE_ECHO_REPLY
            | TYPE_ROUTER_SOLICIT..=TYPE_REDIRECT
    )
}

/// A read/write view of an ICMPv6 message (the whole upper-layer payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short one.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check`](Self::check): no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check()?;
        Ok(packet)
    }

    /// `Truncated` under 4 bytes, or under 8 for echo, error and ND types.
    pub fn check(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < MIN_LEN || (has_8_byte_header(self.msg_type()) && len < HEADER_LEN) {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Echo identifier (0 for a 4-byte message of another type).
    pub fn echo_ident(&self) -> u16 {
        self.buffer.as_ref().get(field::ECHO_IDENT).map_or(0, read_u16)
    }

    /// Echo sequence number (0 for a 4-byte message of another type).
    pub fn echo_seq(&self) -> u16 {
        self.buffer.as_ref().get(field::ECHO_SEQ).map_or(0, read_u16)
    }

    fn pseudo_sum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> u32 {
        let data = self.buffer.as_ref();
        // An upper-layer length over u32 cannot occur on IPv6 (jumbograms
        // top out at 2^32 - 1).
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        checksum::pseudo_v6(src, dst, protocol::ICMPV6, len) + checksum::sum(data)
    }

    /// True when the message and the pseudo-header (RFC 8200 §8.1) sum to zero.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        checksum::fold(self.pseudo_sum(src, dst)) == 0
    }

    /// The bytes after the 8-byte header (empty for shorter messages).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    pub fn set_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    pub fn set_checksum(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    pub fn set_echo_ident(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::ECHO_IDENT], value);
    }

    pub fn set_echo_seq(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::ECHO_SEQ], value);
    }

    /// Computes the checksum over the pseudo-header and the whole message
    /// and stores it.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let csum = checksum::fold(self.pseudo_sum(src, dst));
        self.set_checksum(csum);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut().get_mut(HEADER_LEN..).unwrap_or(&mut [])
    }
}

/// A Neighbor Solicitation or Advertisement with the Ethernet link-layer
/// address option it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdRepr {
    /// RFC 4861 §4.3.
    NeighborSolicit { target: Ipv6Addr, source_lladdr: Option<MacAddr> },
    /// RFC 4861 §4.4.
    NeighborAdvert { router: bool, solicited: bool, override_: bool, target: Ipv6Addr, target_lladdr: Option<MacAddr> },
}

impl NdRepr {
    /// Parses an NS or NA: `Unsupported` for other types, `Malformed` for a
    /// code other than 0 or an option of length 0 (RFC 4861 §7.1.1, §7.1.2),
    /// `Truncated` when the fixed part or an option runs past the buffer.
    /// Unknown options are skipped; the first link-layer option of the
    /// message's kind wins. The checksum, hop limit and addresses are the
    /// caller's to validate.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<NdRepr, WireError> {
        let msg_type = packet.msg_type();
        let wanted_opt = match msg_type {
            TYPE_NEIGHBOR_SOLICIT => OPT_SOURCE_LLADDR,
            TYPE_NEIGHBOR_ADVERT => OPT_TARGET_LLADDR,
            _ => return Err(WireError::Unsupported),
        };
        if packet.code() != 0 {
            return Err(WireError::Malformed);
        }
        let data = packet.buffer.as_ref();
        if data.len() < ND_FIXED_LEN {
            return Err(WireError::Truncated);
        }
        let target = read_ipv6(&data[field::TARGET]);
        let mut lladdr = None;
        let mut options = &data[field::ND_OPTIONS..];
        while !options.is_empty() {
            let [opt_type, opt_units, ..] = *options else {
                return Err(WireError::Truncated);
            };
            let opt_len = usize::from(opt_units) * 8;
            if opt_len == 0 {
                return Err(WireError::Malformed);
            }
            let Some(option) = options.get(..opt_len) else {
                return Err(WireError::Truncated);
            };
            if opt_type == wanted_opt && lladdr.is_none() {
                // opt_len >= 8, so the 6 MAC bytes after type and length are there.
                lladdr = Some(read_mac(&option[2..8]));
            }
            options = &options[opt_len..];
        }
        Ok(match msg_type {
            TYPE_NEIGHBOR_SOLICIT => NdRepr::NeighborSolicit { target, source_lladdr: lladdr },
            _ => {
                let flags = data[field::NA_FLAGS];
                NdRepr::NeighborAdvert {
                    router: flags & NA_FLAG_ROUTER != 0,
                    solicited: flags & NA_FLAG_SOLICITED != 0,
                    override_: flags & NA_FLAG_OVERRIDE != 0,
                    target,
                    target_lladdr: lladdr,
                }
            }
        })
    }

    /// 24 bytes, plus 8 with a link-layer address option.
    pub fn buffer_len(&self) -> usize {
        let lladdr = match self {
            NdRepr::NeighborSolicit { source_lladdr, .. } => source_lladdr,
            NdRepr::NeighborAdvert { target_lladdr, .. } => target_lladdr,
        };
        ND_FIXED_LEN + if lladdr.is_some() { LLADDR_OPT_LEN } else { 0 }
    }

    /// Writes the message at the start of `buf` with a zero checksum: call
    /// [`Packet::fill_checksum`] once the IPv6 addresses are known.
    ///
    /// # Panics
    /// When `buf` is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit(&self, buf: &mut [u8]) {
        let buf = &mut buf[..self.buffer_len()];
        let (msg_type, flags, target, opt) = match *self {
            NdRepr::NeighborSolicit { target, source_lladdr } => {
                (TYPE_NEIGHBOR_SOLICIT, 0, target, source_lladdr.map(|m| (OPT_SOURCE_LLADDR, m)))
            }
            NdRepr::NeighborAdvert { router, solicited, override_, target, target_lladdr } => {
                let mut flags = 0;
                if router {
                    flags |= NA_FLAG_ROUTER;
                }
                if solicited {
                    flags |= NA_FLAG_SOLICITED;
                }
                if override_ {
                    flags |= NA_FLAG_OVERRIDE;
                }
                (TYPE_NEIGHBOR_ADVERT, flags, target, target_lladdr.map(|m| (OPT_TARGET_LLADDR, m)))
            }
        };
        buf[..field::ND_OPTIONS].fill(0);
        buf[field::TYPE] = msg_type;
        buf[field::NA_FLAGS] = flags;
        buf[field::TARGET].copy_from_slice(&target.octets());
        if let Some((opt_type, mac)) = opt {
            let opt = &mut buf[field::ND_OPTIONS..field::ND_OPTIONS + LLADDR_OPT_LEN];
            opt[0] = opt_type;
            opt[1] = 1;
            opt[2..8].copy_from_slice(&mac.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);

    // RFC 4861 §4.3 NS for 2001:db8:1::1 with a source link-layer address
    // option 02:00:00:00:00:02, sent 2001:db8:1::2 -> ff02::1:ff00:1.
    // Checksum 0x1c25 computed independently (Python one's complement sum
    // over the RFC 8200 pseudo-header and these bytes).
    static NS: [u8; 32] = [
        0x87, 0x00, 0x1c, 0x25, // type 135, code 0, checksum
        0x00, 0x00, 0x00, 0x00, // reserved
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // target
        0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // SLLA option
    ];

    #[test]
    fn ns_bytes_parse_with_source_lladdr_and_verify() {
        let p = Packet::new_checked(&NS[..]).unwrap();
        assert!(p.verify_checksum(addr("2001:db8:1::2"), addr("ff02::1:ff00:1")));
        assert_eq!(
            NdRepr::parse(&p),
            Ok(NdRepr::NeighborSolicit { target: addr("2001:db8:1::1"), source_lladdr: Some(MAC) })
        );
    }

    #[test]
    fn ns_emit_and_fill_checksum_reproduce_the_rfc_layout() {
        let repr = NdRepr::NeighborSolicit { target: addr("2001:db8:1::1"), source_lladdr: Some(MAC) };
        assert_eq!(repr.buffer_len(), 32);
        let mut buf = [0x5a; 34];
        repr.emit(&mut buf);
        Packet::new_unchecked(&mut buf[..32]).fill_checksum(addr("2001:db8:1::2"), addr("ff02::1:ff00:1"));
        assert_eq!(&buf[..32], &NS[..]);
        assert_eq!(&buf[32..], &[0x5a, 0x5a]);
    }

    #[test]
    fn na_flags_and_target_lladdr_round_trip() {
        let repr = NdRepr::NeighborAdvert {
            router: true,
            solicited: true,
            override_: false,
            target: addr("2001:db8:1::1"),
            target_lladdr: Some(MAC),
        };
        let mut buf = [0x5a; 32];
        repr.emit(&mut buf);
        assert_eq!(buf[0], TYPE_NEIGHBOR_ADVERT);
        assert_eq!(buf[4..8], [0xc0, 0, 0, 0]);
        assert_eq!(buf[24..26], [OPT_TARGET_LLADDR, 1]);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(NdRepr::parse(&p), Ok(repr));
    }

    #[test]
    fn nd_without_options_has_no_lladdr() {
        let repr = NdRepr::NeighborAdvert {
            router: false,
            solicited: false,
            override_: true,
            target: addr("fe80::1"),
            target_lladdr: None,
        };
        assert_eq!(repr.buffer_len(), 24);
        let mut buf = [0u8; 24];
        repr.emit(&mut buf);
        assert_eq!(buf[4], 0x20);
        assert_eq!(NdRepr::parse(&Packet::new_checked(&buf[..]).unwrap()), Ok(repr));
    }

    #[test]
    fn unknown_options_are_skipped_and_the_wanted_one_found() {
        let mut b = [0u8; 48];
        b[..24].copy_from_slice(&NS[..24]);
        // Nonce option (type 14, length 1), then an MTU option (5, 1), then SLLA.
        b[24..26].copy_from_slice(&[14, 1]);
        b[32..34].copy_from_slice(&[5, 1]);
        b[40..48].copy_from_slice(&NS[24..32]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            NdRepr::parse(&p),
            Ok(NdRepr::NeighborSolicit { target: addr("2001:db8:1::1"), source_lladdr: Some(MAC) })
        );
    }

    #[test]
    fn a_zero_length_option_is_malformed() {
        let mut b = NS;
        b[25] = 0;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(NdRepr::parse(&p), Err(WireError::Malformed));
    }

    #[test]
    fn an_option_past_the_buffer_is_truncated() {
        let mut b = NS;
        b[25] = 2;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(NdRepr::parse(&p), Err(WireError::Truncated));
        let p = Packet::new_checked(&NS[..25]).unwrap();
        assert_eq!(NdRepr::parse(&p), Err(WireError::Truncated));
        let p = Packet::new_checked(&NS[..23]).unwrap();
        assert_eq!(NdRepr::parse(&p), Err(WireError::Truncated));
    }

    #[test]
    fn a_nonzero_code_is_malformed_and_other_types_unsupported() {
        let mut b = NS;
        b[1] = 1;
        assert_eq!(NdRepr::parse(&Packet::new_checked(&b[..]).unwrap()), Err(WireError::Malformed));
        b[0] = TYPE_ROUTER_SOLICIT;
        assert_eq!(NdRepr::parse(&Packet::new_checked(&b[..]).unwrap()), Err(WireError::Unsupported));
    }

    #[test]
    fn echo_and_nd_need_8_bytes_other_types_4() {
        let echo = [TYPE_ECHO_REQUEST, 0, 0, 0, 0, 1, 0];
        assert_eq!(Packet::new_checked(&echo[..]), Err(WireError::Truncated));
        let ns = [TYPE_NEIGHBOR_SOLICIT, 0, 0, 0, 0, 0, 0];
        assert_eq!(Packet::new_checked(&ns[..]), Err(WireError::Truncated));
        let other = [200, 0, 0, 0];
        assert!(Packet::new_checked(&other[..]).is_ok());
        assert_eq!(Packet::new_checked(&other[..3]), Err(WireError::Truncated));
        let short = Packet::new_checked(&other[..]).unwrap();
        assert!(short.payload().is_empty());
        assert_eq!((short.echo_ident(), short.echo_seq()), (0, 0));
    }

    #[test]
    fn echo_checksum_covers_the_pseudo_header() {
        let (src, dst) = (addr("2001:db8:1::2"), addr("2001:db8:1::1"));
        let mut b = [TYPE_ECHO_REQUEST, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, b'h', b'i'];
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(src, dst);
        assert!(p.verify_checksum(src, dst));
        assert!(!p.verify_checksum(dst, addr("2001:db8:1::3")));
        assert_eq!((p.echo_ident(), p.echo_seq()), (0x1234, 1));
        assert_eq!(p.payload(), b"hi");
    }
}
