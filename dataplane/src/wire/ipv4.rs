//! IPv4 headers (RFC 791).
//!
//! ```text
//!  0       4       8              16      19                      31
//!  +-------+-------+---------------+-------------------------------+
//!  |version|  IHL  |  DSCP / ECN   |         total length          |
//!  +-------+-------+---------------+-----+-------------------------+
//!  |        identification         |flags|    fragment offset      |
//!  +---------------+---------------+-----+-------------------------+
//!  |      TTL      |   protocol    |        header checksum        |
//!  +---------------+---------------+-------------------------------+
//!  |                        source address                         |
//!  |                     destination address                       |
//!  |                   options (IHL > 5) ...                       |
//! ```

use core::net::Ipv4Addr;

use super::checksum;
use super::field::{read_ipv4, read_u16, write_u16, Field};
use super::WireError;

mod field {
    use super::Field;

    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), also used
/// as IPv6 next-header values.
pub mod protocol {
    pub const ICMP: u8 = 1;
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6: u8 = 41;
    pub const GRE: u8 = 47;
    pub const ICMPV6: u8 = 58;
    pub const MOBILITY: u8 = 135;
}

/// A read/write view of an IPv4 packet.
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

    /// `Truncated` when the buffer is shorter than 20 bytes, the IHL or the
    /// total length; `Malformed` for a version other than 4, an IHL under 5
    /// or a total length under the header length. Bytes after the total
    /// length (Ethernet padding) are allowed. The checksum is not verified.
    pub fn check(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.version() != 4 {
            return Err(WireError::Malformed);
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(WireError::Malformed);
        }
        if header_len > len {
            return Err(WireError::Truncated);
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(WireError::Malformed);
        }
        if total_len > len {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// The DSCP/ECN (former TOS) byte.
    pub fn dscp_ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN]
    }

    /// Header plus payload, in bytes.
    pub fn total_len(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    pub fn ident(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::IDENT])
    }

    fn flags_and_offset(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::FLG_OFF])
    }

    pub fn dont_frag(&self) -> bool {
        self.flags_and_offset() & FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        self.flags_and_offset() & FLAG_MF != 0
    }

    /// Fragment offset in bytes (the field × 8).
    pub fn frag_offset(&self) -> u16 {
        (self.flags_and_offset() & OFFSET_MASK) << 3
    }

    /// More-fragments set or a non-zero offset: any piece of a fragmented packet.
    pub fn is_fragment(&self) -> bool {
        self.flags_and_offset() & (FLAG_MF | OFFSET_MASK) != 0
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        read_ipv4(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        read_ipv4(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// True when the header (options included) sums to zero.
    pub fn verify_checksum(&self) -> bool {
        checksum::fold(checksum::sum(&self.buffer.as_ref()[..self.header_len()])) == 0
    }

    /// The bytes from the end of the header to the total length (any
    /// Ethernet padding after it excluded).
    pub fn payload(&self) -> &[u8] {
        let range = self.header_len()..usize::from(self.total_len());
        &self.buffer.as_ref()[range]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (version << 4);
    }

    /// Sets the IHL from a length in bytes (a multiple of 4, at most 60).
    pub fn set_header_len(&mut self, len: usize) {
        let ihl = u8::try_from((len / 4) & 0x0f).unwrap_or(0x0f);
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ihl;
    }

    pub fn set_dscp_ecn(&mut self, value: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = value;
    }

    pub fn set_total_len(&mut self, len: u16) {
        write_u16(&mut self.buffer.as_mut()[field::LENGTH], len);
    }

    pub fn set_ident(&mut self, ident: u16) {
        write_u16(&mut self.buffer.as_mut()[field::IDENT], ident);
    }

    fn set_flags_and_offset(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::FLG_OFF], value);
    }

    /// Clears the flags and the fragment offset.
    pub fn clear_flags(&mut self) {
        self.set_flags_and_offset(0);
    }

    pub fn set_dont_frag(&mut self, value: bool) {
        let v = self.flags_and_offset() & !FLAG_DF;
        self.set_flags_and_offset(if value { v | FLAG_DF } else { v });
    }

    pub fn set_more_frags(&mut self, value: bool) {
        let v = self.flags_and_offset() & !FLAG_MF;
        self.set_flags_and_offset(if value { v | FLAG_MF } else { v });
    }

    /// Sets the fragment offset from a value in bytes (a multiple of 8).
    pub fn set_frag_offset(&mut self, offset: u16) {
        let v = self.flags_and_offset() & !OFFSET_MASK;
        self.set_flags_and_offset(v | (offset >> 3));
    }

    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    pub fn set_protocol(&mut self, protocol: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol;
    }

    pub fn set_checksum(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// Computes the header checksum over the header (options included) and
    /// stores it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = self.header_len();
        let csum = checksum::fold(checksum::sum(&self.buffer.as_ref()[..header_len]));
        self.set_checksum(csum);
    }

    /// The payload up to the total length, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        &mut self.buffer.as_mut()[range]
    }
}

/// An IPv4 header without options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    /// The DSCP/ECN byte.
    pub tos: u8,
    /// Bytes after the header.
    pub payload_len: usize,
}

impl Ipv4Repr {
    /// `Checksum` when the header does not verify; `Unsupported` for a
    /// fragment. Options are skipped.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Ipv4Repr, WireError> {
        if !packet.verify_checksum() {
            return Err(WireError::Checksum);
        }
        if packet.is_fragment() {
            return Err(WireError::Unsupported);
        }
        Ok(Ipv4Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            protocol: packet.protocol(),
            ttl: packet.ttl(),
            tos: packet.dscp_ecn(),
            payload_len: packet.payload().len(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes a 20-byte header at the start of `buf`: IHL 5, DF set,
    /// identification 0, checksum filled. A `payload_len` over 65515 is
    /// written as total length 65535.
    ///
    /// # Panics
    /// When `buf` is shorter than [`HEADER_LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        let total = u16::try_from(HEADER_LEN.saturating_add(self.payload_len)).unwrap_or(u16::MAX);
        let mut packet = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN);
        packet.set_dscp_ecn(self.tos);
        packet.set_total_len(total);
        packet.set_ident(0);
        packet.clear_flags();
        packet.set_dont_frag(true);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 192.0.2.2 -> 192.0.2.1, ICMP, TTL 64, DF, ident 0x1234, 4 payload bytes,
    // then 2 bytes of Ethernet padding. The checksum is filled by `packet()`.
    static PACKET: [u8; 26] = [
        0x45, 0x00, 0x00, 0x18, // version/IHL, DSCP/ECN, total length 24
        0x12, 0x34, 0x40, 0x00, // ident, DF
        0x40, 0x01, 0x00, 0x00, // TTL, ICMP, checksum (filled below)
        0xc0, 0x00, 0x02, 0x02, // src
        0xc0, 0x00, 0x02, 0x01, // dst
        0xde, 0xad, 0xbe, 0xef, // payload
        0x00, 0x00, // padding
    ];

    fn packet() -> [u8; 26] {
        let mut b = PACKET;
        Packet::new_unchecked(&mut b[..]).fill_checksum();
        b
    }

    #[test]
    fn header_fields_are_read_and_padding_is_not_payload() {
        let b = packet();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 24);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
        assert!(!p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), protocol::ICMP);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.payload(), &[0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn hand_computed_checksum_matches() {
        // Sum of the words: 4500+0018+1234+4000+4001+c000+0202+c000+0201
        // = 0x2_5b50 → 5b52, complement a4ad.
        assert_eq!(packet()[10..12], [0xa4, 0xad]);
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let mut b = packet();
        b[8] ^= 1;
        assert!(!Packet::new_checked(&b[..]).unwrap().verify_checksum());
    }

    #[test]
    fn bad_version_and_ihl_are_malformed() {
        let mut b = packet();
        b[0] = 0x65;
        assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Malformed));
        b[0] = 0x44;
        assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Malformed));
    }

    #[test]
    fn ihl_past_the_buffer_is_truncated() {
        let mut b = packet();
        b[0] = 0x4f;
        assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Truncated));
    }

    #[test]
    fn total_length_under_the_header_is_malformed_and_past_the_buffer_truncated() {
        let mut b = packet();
        b[3] = 19;
        assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Malformed));
        b[3] = 27;
        assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Truncated));
        assert_eq!(Packet::new_checked(&packet()[..23]), Err(WireError::Truncated));
        assert_eq!(Packet::new_checked(&packet()[..19]), Err(WireError::Truncated));
    }

    #[test]
    fn fragments_are_recognised_by_more_fragments_or_offset() {
        let mut b = packet();
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_more_frags(true);
        assert!(p.is_fragment());
        p.set_more_frags(false);
        p.set_frag_offset(1480);
        assert!(p.is_fragment());
        assert_eq!(p.frag_offset(), 1480);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
    }

    #[test]
    fn repr_emit_writes_a_verified_header_with_df_and_ident_zero() {
        let repr = Ipv4Repr {
            src: Ipv4Addr::new(192, 0, 2, 2),
            dst: Ipv4Addr::new(192, 0, 2, 1),
            protocol: protocol::ICMP,
            ttl: 64,
            tos: 0,
            payload_len: 4,
        };
        let mut buf = [0x5a; 22];
        repr.emit(&mut buf);
        assert_eq!(buf[20..], [0x5a, 0x5a]);
        let mut expect = packet();
        expect[4] = 0;
        expect[5] = 0;
        Packet::new_unchecked(&mut expect[..]).fill_checksum();
        assert_eq!(buf[..20], expect[..20]);
        let mut full = [0u8; 24];
        full[..20].copy_from_slice(&buf[..20]);
        let p = Packet::new_checked(&full[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p), Ok(repr));
    }

    #[test]
    fn repr_parse_rejects_bad_checksum_and_fragments() {
        let mut b = packet();
        b[11] ^= 1;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p), Err(WireError::Checksum));
        let mut b = packet();
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_more_frags(true);
        p.fill_checksum();
        assert_eq!(Ipv4Repr::parse(&p), Err(WireError::Unsupported));
    }

    #[test]
    fn options_are_skipped_by_payload_and_covered_by_the_checksum() {
        let mut b = [0u8; 28];
        b[0] = 0x46;
        b[3] = 28;
        b[9] = protocol::UDP;
        b[20..24].copy_from_slice(&[0x01, 0x01, 0x01, 0x00]); // NOP NOP NOP EOL
        b[24..28].copy_from_slice(&[1, 2, 3, 4]);
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
    }
}
