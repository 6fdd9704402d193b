//! The PMIPv6 UDP-TLV header (RFC 5845 §7.1, PROTOCOLS.md §5.3), between
//! UDP and GRE in the IPv4-UDP-TLV mode: `IPv4 | UDP | TLV | GRE | payload`.
//!
//! ```text
//!  0       4       8               16                              31
//!  +-------+-------+---------------+-------------------------------+
//!  | type  | rsvd  |  next header  |            length             |
//!  +-------+-------+---------------+-------------------------------+
//! ```
//!
//! Type is 0, which tells the header from an IP header (first nibble 4 or
//! 6); length counts the octets after this header. A receiver drops the
//! packet when UDP length − 8 − 4 ≠ length (the caller compares, it needs
//! the UDP header).

use super::field::{read_u16, write_u16, Field};
use super::WireError;

mod field {
    use super::Field;

    pub const TYPE_RSVD: usize = 0;
    pub const NEXT_HEADER: usize = 1;
    pub const LENGTH: Field = 2..4;
}

/// Length of the header.
pub const HEADER_LEN: usize = 4;

/// The only Type value: a TLV header, not an IP header.
pub const TYPE_TLV: u8 = 0;

/// A read/write view of a TLV header and what it announces.
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

    /// `Truncated` when the buffer is shorter than 4 bytes or than 4 plus
    /// the length field; `Malformed` for a type nibble other than 0. The
    /// reserved nibble is ignored; bytes after the length are allowed (they
    /// are not payload).
    pub fn check(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.tlv_type() != TYPE_TLV {
            return Err(WireError::Malformed);
        }
        if HEADER_LEN + usize::from(self.length()) > len {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The high nibble of the first byte.
    pub fn tlv_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE_RSVD] >> 4
    }

    /// IP protocol number of what follows (47 GRE, 4 IPv4, 41 IPv6).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Octets after this header.
    pub fn length(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// The `length` bytes after the header.
    pub fn payload(&self) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.length());
        &self.buffer.as_ref()[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the type nibble and clears the reserved nibble.
    pub fn set_tlv_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE_RSVD] = (value & 0x0f) << 4;
    }

    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value;
    }

    pub fn set_length(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::LENGTH], value);
    }

    /// The `length` bytes after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.length());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// A TLV header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlvRepr {
    pub next_header: u8,
    /// Octets after the header.
    pub length: u16,
}

impl TlvRepr {
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> TlvRepr {
        TlvRepr { next_header: packet.next_header(), length: packet.length() }
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 4-byte header at the start of `buf`: type 0, reserved 0.
    ///
    /// # Panics
    /// When `buf` is shorter than [`HEADER_LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        let mut packet = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        packet.set_tlv_type(TYPE_TLV);
        packet.set_next_header(self.next_header);
        packet.set_length(self.length);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{gre, ipv4, udp};
    use super::*;

    /// Frame 5 of testdata/tunnel_headers.py: IPv4 192.0.2.1 -> 192.0.2.2,
    /// UDP 5437 -> 5437 (length 48, checksum 0x2859), TLV, GRE key 100,
    /// inner IPv4/ICMP echo. Neither scapy nor tshark knows the TLV header,
    /// so its 4 bytes are hand-built from PROTOCOLS.md §5.3 (type 0,
    /// reserved 0, next header 47, length 36 = 8 GRE + 28 inner); scapy
    /// built the rest and the UDP checksum, which tshark 4.0.17 validates
    /// (udp.length 48, udp.checksum.status Good, UDP payload starting
    /// `002f0024` as data).
    static UDP_TLV: [u8; 68] = [
        0x45, 0x00, 0x00, 0x44, 0x00, 0x05, 0x00, 0x00, 0x40, 0x11, 0xf6, 0xa0, // IPv4
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, //
        0x15, 0x3d, 0x15, 0x3d, 0x00, 0x30, 0x28, 0x59, // UDP
        0x00, 0x2f, 0x00, 0x24, // TLV (hand-built)
        0x20, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x64, // GRE
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x46, 0xa5, // inner IPv4
        0x0a, 0x00, 0x00, 0x01, 0xc6, 0x33, 0x64, 0x07, //
        0x08, 0x00, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01, // ICMP echo
    ];

    const TLV: core::ops::RangeFrom<usize> = 28..;

    #[test]
    fn header_fields_are_read() {
        let p = Packet::new_checked(&UDP_TLV[TLV]).unwrap();
        assert_eq!(p.tlv_type(), TYPE_TLV);
        assert_eq!(p.next_header(), ipv4::protocol::GRE);
        assert_eq!(p.length(), 36);
        assert_eq!(p.payload(), &UDP_TLV[32..]);
        assert_eq!(TlvRepr::parse(&p), TlvRepr { next_header: 47, length: 36 });
    }

    #[test]
    fn the_udp_tlv_gre_stack_parses_and_the_lengths_agree() {
        let ip = ipv4::Packet::new_checked(&UDP_TLV[..]).unwrap();
        let u = udp::Packet::new_checked(ip.payload()).unwrap();
        assert!(u.verify_checksum_v4(ip.src_addr(), ip.dst_addr()));
        let t = Packet::new_checked(u.payload()).unwrap();
        // RFC 5845: drop unless UDP length − 8 − 4 = TLV length.
        assert_eq!(usize::from(u.len()) - udp::HEADER_LEN - HEADER_LEN, usize::from(t.length()));
        let g = gre::Packet::new_checked(t.payload()).unwrap();
        assert_eq!(g.key(), Some(100));
        assert_eq!(g.protocol(), gre::protocol::IPV4);
    }

    #[test]
    fn an_ip_first_nibble_is_malformed() {
        for first in [0x45u8, 0x60, 0x10] {
            let mut b = [first, 47, 0, 0];
            assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Malformed));
            b[0] &= 0x0f;
            assert!(Packet::new_checked(&b[..]).is_ok());
        }
    }

    #[test]
    fn the_reserved_nibble_is_ignored() {
        let b = [0x0f, 4, 0, 0];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.tlv_type(), p.next_header(), p.length()), (0, 4, 0));
    }

    #[test]
    fn bytes_after_the_length_are_not_payload() {
        let b = [0x00, 47, 0x00, 0x02, 0xaa, 0xbb, 0xcc];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload(), &[0xaa, 0xbb]);
    }

    #[test]
    fn every_truncation_is_rejected_without_panic() {
        let v = &UDP_TLV[TLV];
        for len in 0..v.len() {
            assert_eq!(Packet::new_checked(&v[..len]), Err(WireError::Truncated), "len {len}");
        }
    }

    #[test]
    fn checked_views_never_panic_on_random_bytes() {
        let mut x: u64 = 0x853c_49e6_748f_ea9b;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let mut b: Vec<u8> = (0..len).map(|i| (x >> (i % 56)) as u8).collect();
            if let Some(f) = b.first_mut() {
                *f &= 0x1f;
            }
            if let Some(f) = b.get_mut(2) {
                *f = 0;
            }
            if let Some(f) = b.get_mut(3) {
                *f %= 24;
            }
            if let Ok(p) = Packet::new_checked(&b[..]) {
                let _ = (p.tlv_type(), p.next_header(), p.length());
                let _ = (p.payload().len(), TlvRepr::parse(&p));
            }
        }
    }

    #[test]
    fn repr_emit_matches_the_hand_built_header_and_round_trips() {
        let repr = TlvRepr { next_header: ipv4::protocol::GRE, length: 36 };
        assert_eq!(repr.buffer_len(), HEADER_LEN);
        let mut buf = [0x5a; 6];
        repr.emit(&mut buf);
        assert_eq!(buf[..4], UDP_TLV[28..32]);
        assert_eq!(buf[4..], [0x5a, 0x5a]);
        let mut b = UDP_TLV;
        b[28..32].fill(0xff);
        repr.emit(&mut b[TLV]);
        assert_eq!(b, UDP_TLV);
        let p = Packet::new_checked(&b[TLV]).unwrap();
        assert_eq!(TlvRepr::parse(&p), repr);
    }
}
