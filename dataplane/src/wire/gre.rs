//! GRE headers (RFC 2784 with the RFC 2890 key and sequence number), as
//! used by PMIPv6 (RFC 5845), MIPv4 (RFC 6245) and PMIPv4: PROTOCOLS.md §5.2.
//!
//! ```text
//!  0 1 2 3 4 5       13    16                              31
//!  +-+-+-+-+-+---------+-----+-------------------------------+
//!  |C|R|K|S|s|reserved | ver |         protocol type         |
//!  +-+-+-+-+-+---------+-----+-------------------------------+
//!  |      checksum (if C)      |      reserved1 (if C)       |
//!  +---------------------------+-----------------------------+
//!  |                         key (if K)                      |
//!  +---------------------------------------------------------+
//!  |                 sequence number (if S)                  |
//!  +---------------------------------------------------------+
//! ```
//!
//! R (0x4000), s (0x0800) and the top recursion bit (0x0400) are RFC 1701
//! fields that RFC 2784 receivers discard; the other reserved bits (0x03F8)
//! are ignored.

use super::checksum;
use super::field::{read_u16, read_u32, write_u16, write_u32, Field};
use super::WireError;

mod field {
    use super::Field;

    pub const FLAGS_VER: Field = 0..2;
    pub const PROTOCOL: Field = 2..4;
    /// Where the optional fields (checksum, key, sequence) start.
    pub const OPTIONAL: usize = 4;
}

/// The header without optional fields.
pub const MIN_HEADER_LEN: usize = 4;
/// The header with checksum, key and sequence number.
pub const MAX_HEADER_LEN: usize = 16;

/// Checksum present.
pub const FLAG_C: u16 = 0x8000;
/// Key present (RFC 2890).
pub const FLAG_K: u16 = 0x2000;
/// Sequence number present (RFC 2890).
pub const FLAG_S: u16 = 0x1000;
/// RFC 1701 routing, strict source route and the top recursion-control bit:
/// RFC 2784 bits 1–5 less K and S, which must be zero.
const FLAGS_MUST_BE_ZERO: u16 = 0x4000 | 0x0800 | 0x0400;
const VERSION_MASK: u16 = 0x0007;

/// Protocol types (EtherTypes) we carry.
pub mod protocol {
    pub const IPV4: u16 = 0x0800;
    pub const IPV6: u16 = 0x86DD;
}

/// A read/write view of a GRE packet: the header and everything after it to
/// the end of the buffer (hand it the IP payload, which the checksum covers).
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

    /// `Truncated` when the buffer is shorter than 4 bytes or than the
    /// header the C, K and S flags announce; `Malformed` for a version other
    /// than 0 or any of 0x4000, 0x0800, 0x0400 set. The reserved bits 0x03F8
    /// are ignored; the protocol type and checksum are not checked.
    pub fn check(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < MIN_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.version() != 0 || self.flags_version() & FLAGS_MUST_BE_ZERO != 0 {
            return Err(WireError::Malformed);
        }
        if self.header_len() > len {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The first 16 bits: flags, reserved bits and version.
    pub fn flags_version(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::FLAGS_VER])
    }

    pub fn version(&self) -> u8 {
        // Masked to 3 bits: the fallback is never taken.
        u8::try_from(self.flags_version() & VERSION_MASK).unwrap_or(0)
    }

    pub fn checksum_present(&self) -> bool {
        self.flags_version() & FLAG_C != 0
    }

    pub fn key_present(&self) -> bool {
        self.flags_version() & FLAG_K != 0
    }

    pub fn seq_present(&self) -> bool {
        self.flags_version() & FLAG_S != 0
    }

    pub fn protocol(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::PROTOCOL])
    }

    /// 4 bytes, plus 4 for each of C, K and S.
    pub fn header_len(&self) -> usize {
        let flags = self.flags_version();
        [FLAG_C, FLAG_K, FLAG_S].iter().filter(|&&f| flags & f != 0).count() * 4 + MIN_HEADER_LEN
    }

    /// Offset of the key field (after the checksum word when C is set).
    fn key_offset(&self) -> usize {
        field::OPTIONAL + if self.checksum_present() { 4 } else { 0 }
    }

    /// Offset of the sequence number (after checksum and key when present).
    fn seq_offset(&self) -> usize {
        self.key_offset() + if self.key_present() { 4 } else { 0 }
    }

    /// The checksum field when C is set.
    pub fn checksum(&self) -> Option<u16> {
        let at = field::OPTIONAL;
        self.checksum_present().then(|| read_u16(&self.buffer.as_ref()[at..at + 2]))
    }

    /// The key when K is set.
    pub fn key(&self) -> Option<u32> {
        let at = self.key_offset();
        self.key_present().then(|| read_u32(&self.buffer.as_ref()[at..at + 4]))
    }

    /// The sequence number when S is set.
    pub fn seq(&self) -> Option<u32> {
        let at = self.seq_offset();
        self.seq_present().then(|| read_u32(&self.buffer.as_ref()[at..at + 4]))
    }

    /// True when C is clear, or when the header and payload sum to zero
    /// (RFC 2784 §2.5).
    pub fn verify_checksum(&self) -> bool {
        !self.checksum_present() || checksum::fold(checksum::sum(self.buffer.as_ref())) == 0
    }

    /// The bytes after the header, to the end of the buffer.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the flags, reserved bits and version. The flags decide where
    /// the optional fields are: set them before the fields.
    pub fn set_flags_version(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::FLAGS_VER], value);
    }

    fn set_flag(&mut self, flag: u16, value: bool) {
        let v = self.flags_version() & !flag;
        self.set_flags_version(if value { v | flag } else { v });
    }

    /// Sets or clears C (the header layout changes; no bytes move).
    pub fn set_checksum_present(&mut self, value: bool) {
        self.set_flag(FLAG_C, value);
    }

    /// Sets or clears K (the header layout changes; no bytes move).
    pub fn set_key_present(&mut self, value: bool) {
        self.set_flag(FLAG_K, value);
    }

    /// Sets or clears S (the header layout changes; no bytes move).
    pub fn set_seq_present(&mut self, value: bool) {
        self.set_flag(FLAG_S, value);
    }

    pub fn set_version(&mut self, version: u8) {
        let v = self.flags_version() & !VERSION_MASK;
        self.set_flags_version(v | (u16::from(version) & VERSION_MASK));
    }

    pub fn set_protocol(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::PROTOCOL], value);
    }

    /// Writes the checksum field and zeroes Reserved1; does nothing when C
    /// is clear.
    pub fn set_checksum(&mut self, value: u16) {
        if self.checksum_present() {
            let at = field::OPTIONAL;
            let b = self.buffer.as_mut();
            write_u16(&mut b[at..at + 2], value);
            write_u16(&mut b[at + 2..at + 4], 0);
        }
    }

    /// Writes the key field; does nothing when K is clear.
    pub fn set_key(&mut self, key: u32) {
        if self.key_present() {
            let at = self.key_offset();
            write_u32(&mut self.buffer.as_mut()[at..at + 4], key);
        }
    }

    /// Writes the sequence number; does nothing when S is clear.
    pub fn set_seq(&mut self, seq: u32) {
        if self.seq_present() {
            let at = self.seq_offset();
            write_u32(&mut self.buffer.as_mut()[at..at + 4], seq);
        }
    }

    /// Computes the checksum over the header and the payload (to the end of
    /// the buffer) and stores it; does nothing when C is clear.
    pub fn fill_checksum(&mut self) {
        if self.checksum_present() {
            self.set_checksum(0);
            let csum = checksum::fold(checksum::sum(self.buffer.as_ref()));
            self.set_checksum(csum);
        }
    }

    /// The bytes after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

/// A GRE header as we emit it: no checksum, no sequence number, a key when
/// one is in use (PROTOCOLS.md §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreRepr {
    pub protocol: u16,
    pub key: Option<u32>,
}

impl GreRepr {
    /// `Checksum` when C is set and the checksum does not verify;
    /// `Unsupported` for a protocol type other than IPv4 or IPv6. A sequence
    /// number is ignored.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<GreRepr, WireError> {
        if !packet.verify_checksum() {
            return Err(WireError::Checksum);
        }
        let protocol = packet.protocol();
        if protocol != protocol::IPV4 && protocol != protocol::IPV6 {
            return Err(WireError::Unsupported);
        }
        Ok(GreRepr { protocol, key: packet.key() })
    }

    /// 4 bytes, 8 with a key.
    pub const fn buffer_len(&self) -> usize {
        if self.key.is_some() {
            MIN_HEADER_LEN + 4
        } else {
            MIN_HEADER_LEN
        }
    }

    /// Writes the header at the start of `buf`: C = 0, S = 0, version 0, K
    /// and the key when there is one.
    ///
    /// # Panics
    /// When `buf` is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit(&self, buf: &mut [u8]) {
        let mut packet = Packet::new_unchecked(&mut buf[..self.buffer_len()]);
        packet.set_flags_version(0);
        packet.set_protocol(self.protocol);
        if let Some(key) = self.key {
            packet.set_key_present(true);
            packet.set_key(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden vectors built by scapy (testdata/tunnel_headers.py) and decoded
    // by tshark 4.0.17: gre.flags_and_version, gre.proto, gre.key,
    // gre.checksum (status Good) and gre.sequence_number as asserted below.

    /// Frame 1: IPv4 192.0.2.1 -> 192.0.2.2 proto 47, GRE K, key 100
    /// (0x00000064), protocol 0x0800, inner IPv4/ICMP echo (28 bytes).
    static GRE_KEY: [u8; 56] = [
        0x45, 0x00, 0x00, 0x38, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0xf6, 0x92, // IPv4
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, //
        0x20, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x64, // GRE
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x46, 0xa5, // inner IPv4
        0x0a, 0x00, 0x00, 0x01, 0xc6, 0x33, 0x64, 0x07, //
        0x08, 0x00, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01, // ICMP echo
    ];

    /// Frame 2: GRE C+K+S (flags 0xb000), protocol 0x86dd, checksum 0x9725,
    /// key 0xdeadbeef, sequence 7, inner IPv6 with 4 payload bytes.
    static GRE_CKS: [u8; 80] = [
        0x45, 0x00, 0x00, 0x50, 0x00, 0x02, 0x00, 0x00, 0x40, 0x2f, 0xf6, 0x79, // IPv4
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, //
        0xb0, 0x00, 0x86, 0xdd, 0x97, 0x25, 0x00, 0x00, // GRE flags, proto, checksum
        0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x07, // key, sequence
        0x60, 0x00, 0x00, 0x00, 0x00, 0x04, 0x3b, 0x40, // inner IPv6
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, //
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, //
        0xde, 0xad, 0xbe, 0xef, //
    ];

    #[test]
    fn scapy_keyed_header_fields_are_read() {
        let p = Packet::new_checked(&GRE_KEY[20..]).unwrap();
        assert_eq!(p.flags_version(), 0x2000);
        assert!(!p.checksum_present());
        assert!(p.key_present());
        assert!(!p.seq_present());
        assert_eq!(p.version(), 0);
        assert_eq!(p.protocol(), protocol::IPV4);
        assert_eq!(p.header_len(), 8);
        assert_eq!(p.checksum(), None);
        assert_eq!(p.key(), Some(100));
        assert_eq!(p.seq(), None);
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), &GRE_KEY[28..]);
        assert_eq!(GreRepr::parse(&p), Ok(GreRepr { protocol: protocol::IPV4, key: Some(100) }));
    }

    #[test]
    fn scapy_header_with_checksum_key_and_sequence_is_read_and_verifies() {
        let p = Packet::new_checked(&GRE_CKS[20..]).unwrap();
        assert_eq!(p.flags_version(), 0xb000);
        assert!(p.checksum_present() && p.key_present() && p.seq_present());
        assert_eq!(p.protocol(), protocol::IPV6);
        assert_eq!(p.header_len(), MAX_HEADER_LEN);
        assert_eq!(p.checksum(), Some(0x9725));
        assert_eq!(p.key(), Some(0xdead_beef));
        assert_eq!(p.seq(), Some(7));
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), &GRE_CKS[36..]);
        assert_eq!(GreRepr::parse(&p), Ok(GreRepr { protocol: protocol::IPV6, key: Some(0xdead_beef) }));
    }

    #[test]
    fn fill_checksum_reproduces_scapy() {
        let mut b = GRE_CKS;
        let mut p = Packet::new_checked(&mut b[20..]).unwrap();
        p.set_checksum(0x5a5a);
        p.fill_checksum();
        assert_eq!(p.checksum(), Some(0x9725));
        assert_eq!(b, GRE_CKS);
    }

    #[test]
    fn a_flipped_payload_bit_fails_the_checksum() {
        let mut b = GRE_CKS;
        b[79] ^= 0x01;
        let p = Packet::new_checked(&b[20..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(GreRepr::parse(&p), Err(WireError::Checksum));
    }

    #[test]
    fn key_and_sequence_offsets_follow_the_flags() {
        // K+S without C: key at 4, sequence at 8.
        let b = [0x30, 0x00, 0x08, 0x00, 0, 0, 0, 1, 0, 0, 0, 2];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.key(), p.seq(), p.header_len()), (Some(1), Some(2), 12));
        // S only: sequence at 4.
        let b = [0x10, 0x00, 0x08, 0x00, 0, 0, 0, 9];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.key(), p.seq(), p.header_len()), (None, Some(9), 8));
        // C + K: key at 8.
        let b = [0xa0, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 5];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.key(), p.seq(), p.header_len()), (Some(5), None, 12));
    }

    #[test]
    fn rfc1701_bits_and_nonzero_versions_are_malformed() {
        for bad in [0x4000u16, 0x0800, 0x0400, 0x0001, 0x0007] {
            let mut b = GRE_KEY;
            b[20..22].copy_from_slice(&(0x2000 | bad).to_be_bytes());
            assert_eq!(Packet::new_checked(&b[20..]), Err(WireError::Malformed), "{bad:#06x}");
        }
    }

    #[test]
    fn reserved_bits_0x03f8_are_ignored() {
        let mut b = GRE_KEY;
        b[20..22].copy_from_slice(&(0x2000u16 | 0x03f8).to_be_bytes());
        let p = Packet::new_checked(&b[20..]).unwrap();
        assert_eq!((p.key(), p.header_len()), (Some(100), 8));
    }

    #[test]
    fn other_protocol_types_are_unsupported_by_the_repr() {
        let mut b = GRE_KEY;
        b[22..24].copy_from_slice(&0x6558u16.to_be_bytes());
        let p = Packet::new_checked(&b[20..]).unwrap();
        assert_eq!(p.protocol(), 0x6558);
        assert_eq!(GreRepr::parse(&p), Err(WireError::Unsupported));
    }

    #[test]
    fn every_truncation_is_rejected_without_panic() {
        for (v, header_len) in [(&GRE_KEY[20..], 8), (&GRE_CKS[20..], 16)] {
            for len in 0..header_len {
                assert_eq!(Packet::new_checked(&v[..len]), Err(WireError::Truncated), "len {len}");
            }
            // GRE has no length field: any payload length is accepted.
            for len in header_len..=v.len() {
                let p = Packet::new_checked(&v[..len]).unwrap();
                assert_eq!(p.payload().len(), len - header_len);
                let _ = (p.verify_checksum(), GreRepr::parse(&p));
            }
        }
    }

    #[test]
    fn checked_views_never_panic_on_random_bytes() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let mut b: Vec<u8> = (0..len).map(|i| (x >> (i % 56)) as u8).collect();
            if let Some(f) = b.first_mut() {
                // Keep the RFC 1701 bits clear half of the time.
                if x & 1 == 0 {
                    *f &= 0xb0;
                }
            }
            if let Some(f) = b.get_mut(1) {
                if x & 2 == 0 {
                    *f &= 0xf8;
                }
            }
            if let Ok(p) = Packet::new_checked(&b[..]) {
                let _ = (p.flags_version(), p.version(), p.protocol());
                let _ = (p.checksum(), p.key(), p.seq(), p.header_len());
                let _ = (p.verify_checksum(), p.payload().len());
                let _ = GreRepr::parse(&p);
            }
        }
    }

    #[test]
    fn repr_emit_with_key_matches_scapy_and_round_trips() {
        let repr = GreRepr { protocol: protocol::IPV4, key: Some(100) };
        assert_eq!(repr.buffer_len(), 8);
        let mut buf = [0x5a; 10];
        repr.emit(&mut buf);
        assert_eq!(buf[..8], GRE_KEY[20..28]);
        assert_eq!(buf[8..], [0x5a, 0x5a]);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(GreRepr::parse(&p), Ok(repr));
    }

    #[test]
    fn repr_emit_without_key_writes_four_bytes() {
        let repr = GreRepr { protocol: protocol::IPV6, key: None };
        assert_eq!(repr.buffer_len(), 4);
        let mut buf = [0x5a; 6];
        repr.emit(&mut buf);
        assert_eq!(buf, [0x00, 0x00, 0x86, 0xdd, 0x5a, 0x5a]);
        let p = Packet::new_checked(&buf[..4]).unwrap();
        assert_eq!(GreRepr::parse(&p), Ok(repr));
    }

    #[test]
    fn field_setters_do_nothing_when_their_flag_is_clear() {
        let mut buf = [0x5a; 8];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        p.set_flags_version(0);
        p.set_protocol(protocol::IPV4);
        p.set_key(1);
        p.set_seq(2);
        p.set_checksum(3);
        p.fill_checksum();
        assert_eq!(buf, [0, 0, 0x08, 0, 0x5a, 0x5a, 0x5a, 0x5a]);
    }
}
