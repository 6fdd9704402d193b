//! The Mobility Header common part (RFC 6275 §6.1.1, PROTOCOLS.md §2.1) as a
//! byte view, and the offsets of every message's fixed part.
//!
//! ```text
//!  0               8               16              24              31
//!  +---------------+---------------+---------------+---------------+
//!  | Payload Proto |  Header Len   |    MH Type    |   Reserved    |
//!  +---------------+---------------+---------------+---------------+
//!  |           Checksum            |                               |
//!  +-------------------------------+                               |
//!  |                   message data and options                    |
//!  +---------------------------------------------------------------+
//! ```
//!
//! Header Len counts 8-octet units after the first 8 octets, so a Mobility
//! Header is always a multiple of 8 octets long. The checksum covers the IPv6
//! pseudo-header (next header 135) and the whole Mobility Header; carried in
//! UDP over IPv4 it is sent as 0 and ignored (PROTOCOLS.md §4.8.1).

use core::net::Ipv6Addr;
use core::ops::Range;

use dataplane::wire::checksum::{fold, pseudo_v6, sum};

use super::{Checksum, MhError};

/// Offsets from the first octet of the Mobility Header (the Payload Proto
/// octet) of the common header and of each message's fixed part
/// (PROTOCOLS.md §2.3–§2.7).
pub mod field {
    use core::ops::Range;

    pub const PAYLOAD_PROTO: usize = 0;
    pub const HEADER_LEN: usize = 1;
    pub const MH_TYPE: usize = 2;
    pub const RESERVED: usize = 3;
    pub const CHECKSUM: Range<usize> = 4..6;

    /// Binding Update (type 5).
    pub const BU_SEQ: Range<usize> = 6..8;
    pub const BU_FLAGS: Range<usize> = 8..10;
    pub const BU_LIFETIME: Range<usize> = 10..12;
    pub const BU_OPTIONS: usize = 12;

    /// Binding Acknowledgement (type 6).
    pub const BA_STATUS: usize = 6;
    pub const BA_FLAGS: usize = 7;
    pub const BA_SEQ: Range<usize> = 8..10;
    pub const BA_LIFETIME: Range<usize> = 10..12;
    pub const BA_OPTIONS: usize = 12;

    /// Binding Error (type 7).
    pub const BE_STATUS: usize = 6;
    pub const BE_RESERVED: usize = 7;
    pub const BE_HOME_ADDRESS: Range<usize> = 8..24;
    pub const BE_OPTIONS: usize = 24;

    /// Heartbeat (type 13).
    pub const HB_FLAGS: Range<usize> = 6..8;
    pub const HB_SEQ: Range<usize> = 8..12;
    pub const HB_OPTIONS: usize = 12;

    /// Binding Revocation (type 16).
    pub const BR_TYPE: usize = 6;
    pub const BR_TRIGGER_OR_STATUS: usize = 7;
    pub const BR_SEQ: Range<usize> = 8..10;
    pub const BR_FLAGS: Range<usize> = 10..12;
    pub const BR_OPTIONS: usize = 12;

    /// Binding Refresh Request (type 0): 2 reserved octets, then options.
    pub const BRR_RESERVED: Range<usize> = 6..8;
    pub const BRR_OPTIONS: usize = 8;
}

/// The shortest Mobility Header: Header Len 0.
pub const MIN_LEN: usize = 8;

/// The longest Mobility Header: Header Len 255.
pub const MAX_LEN: usize = (255 + 1) * 8;

/// IP protocol number of the Mobility Header, the pseudo-header's next header.
pub const NEXT_HEADER_MOBILITY: u8 = 135;

/// IPPROTO_NONE: the only Payload Proto a sender uses.
pub const PAYLOAD_PROTO_NONE: u8 = 59;

/// A read/write view of a Mobility Header.
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
    pub fn new_checked(buffer: T) -> Result<Packet<T>, MhError> {
        let packet = Self::new_unchecked(buffer);
        packet.check()?;
        Ok(packet)
    }

    /// `Truncated` when the buffer is shorter than 8 octets or than Header
    /// Len says. Octets after the Mobility Header are allowed: after a
    /// Payload Proto of 59 they are ignored (RFC 8200 §4.7).
    pub fn check(&self) -> Result<(), MhError> {
        let len = self.buffer.as_ref().len();
        if len < MIN_LEN || self.mh_len() > len {
            return Err(MhError::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn payload_proto(&self) -> u8 {
        self.buffer.as_ref()[field::PAYLOAD_PROTO]
    }

    /// The Header Len field: 8-octet units after the first 8 octets.
    pub fn header_len(&self) -> u8 {
        self.buffer.as_ref()[field::HEADER_LEN]
    }

    /// Length of the Mobility Header in octets, from Header Len.
    pub fn mh_len(&self) -> usize {
        (usize::from(self.header_len()) + 1) * 8
    }

    pub fn mh_type(&self) -> u8 {
        self.buffer.as_ref()[field::MH_TYPE]
    }

    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::RESERVED]
    }

    pub fn checksum(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::CHECKSUM.start], b[field::CHECKSUM.start + 1]])
    }

    /// The Mobility Header, [`mh_len`](Self::mh_len) octets.
    pub fn message(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.mh_len()]
    }

    /// True when the checksum over the pseudo-header `src`, `dst` and the
    /// Mobility Header verifies (RFC 6275 §6.1.1).
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        let mh = self.message();
        fold(pseudo_sum(src, dst, mh.len()) + sum(mh)) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_payload_proto(&mut self, value: u8) {
        self.buffer.as_mut()[field::PAYLOAD_PROTO] = value;
    }

    pub fn set_header_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HEADER_LEN] = value;
    }

    pub fn set_mh_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::MH_TYPE] = value;
    }

    pub fn set_reserved(&mut self, value: u8) {
        self.buffer.as_mut()[field::RESERVED] = value;
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// Writes the checksum the way `checksum` says: computed over the IPv6
    /// pseudo-header and the Mobility Header, or 0 for MH-in-UDP over IPv4.
    /// Call it again after changing any octet (e.g. an RFC 4285
    /// authenticator filled in after [`emit`](super::emit)).
    pub fn fill_checksum(&mut self, checksum: Checksum) {
        self.set_checksum(0);
        if let Checksum::Ipv6 { src, dst } = checksum {
            let len = self.mh_len();
            let value = fold(pseudo_sum(src, dst, len) + sum(&self.buffer.as_ref()[..len]));
            self.set_checksum(value);
        }
    }
}

/// Partial sum of the pseudo-header for a Mobility Header of `len` octets.
fn pseudo_sum(src: Ipv6Addr, dst: Ipv6Addr, len: usize) -> u32 {
    pseudo_v6(src, dst, NEXT_HEADER_MOBILITY, u32::try_from(len).unwrap_or(u32::MAX))
}

/// `N` octets at `at`, or `Truncated`: the fixed-part readers of `parse`.
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], MhError> {
    b.get(at..).and_then(|s| s.get(..N)).and_then(|s| <[u8; N]>::try_from(s).ok()).ok_or(MhError::Truncated)
}

pub(crate) fn read_u16(b: &[u8], at: Range<usize>) -> Result<u16, MhError> {
    array(b, at.start).map(u16::from_be_bytes)
}

pub(crate) fn read_u32(b: &[u8], at: Range<usize>) -> Result<u32, MhError> {
    array(b, at.start).map(u32::from_be_bytes)
}

pub(crate) fn read_u8(b: &[u8], at: usize) -> Result<u8, MhError> {
    b.get(at).copied().ok_or(MhError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Heartbeat request of testdata/emitted.hex (`hb_req_v6`), as scapy
    /// built it: 2001:db8::1 -> 2001:db8::a, sequence 1, PadN 4.
    const HB_REQ: [u8; 16] = [0x3b, 0x01, 0x0d, 0x00, 0x5a, 0xe7, 0x00, 0x00, 0, 0, 0, 1, 0x01, 0x02, 0, 0];

    fn lma() -> Ipv6Addr {
        "2001:db8::1".parse().unwrap()
    }

    fn mag() -> Ipv6Addr {
        "2001:db8::a".parse().unwrap()
    }

    #[test]
    fn header_fields_are_read() {
        let p = Packet::new_checked(&HB_REQ[..]).unwrap();
        assert_eq!(p.payload_proto(), 59);
        assert_eq!(p.header_len(), 1);
        assert_eq!(p.mh_len(), 16);
        assert_eq!(p.mh_type(), 13);
        assert_eq!(p.reserved(), 0);
        assert_eq!(p.checksum(), 0x5ae7);
        assert_eq!(p.message(), &HB_REQ[..]);
    }

    #[test]
    fn scapys_checksum_verifies_and_a_flipped_bit_does_not() {
        let p = Packet::new_checked(&HB_REQ[..]).unwrap();
        assert!(p.verify_checksum(lma(), mag()));
        assert!(!p.verify_checksum(lma(), "2001:db8::b".parse().unwrap()));
        let mut b = HB_REQ;
        b[11] ^= 0x10;
        assert!(!Packet::new_checked(&b[..]).unwrap().verify_checksum(lma(), mag()));
    }

    #[test]
    fn fill_checksum_computes_scapys_value_or_writes_zero() {
        let mut b = HB_REQ;
        b[4] = 0xaa;
        b[5] = 0x55;
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(Checksum::Ipv6 { src: lma(), dst: mag() });
        assert_eq!(p.checksum(), 0x5ae7);
        p.fill_checksum(Checksum::None);
        assert_eq!(p.checksum(), 0);
    }

    #[test]
    fn buffers_shorter_than_header_len_are_truncated_and_longer_ones_are_cut() {
        for len in 0..HB_REQ.len() {
            assert_eq!(Packet::new_checked(&HB_REQ[..len]), Err(MhError::Truncated), "len {len}");
        }
        let mut long = HB_REQ.to_vec();
        long.extend_from_slice(&[0xee; 5]);
        let p = Packet::new_checked(&long[..]).unwrap();
        assert_eq!(p.message(), &HB_REQ[..]);
        assert!(p.verify_checksum(lma(), mag()));
    }

    #[test]
    fn setters_write_the_common_header() {
        let mut b = [0xffu8; 8];
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_payload_proto(PAYLOAD_PROTO_NONE);
        p.set_header_len(0);
        p.set_mh_type(0);
        p.set_reserved(0);
        p.set_checksum(0x1234);
        assert_eq!(b, [59, 0, 0, 0, 0x12, 0x34, 0xff, 0xff]);
    }

    #[test]
    fn fixed_part_readers_refuse_short_buffers() {
        let b = [1u8, 2, 3, 4];
        assert_eq!(read_u16(&b, 2..4), Ok(0x0304));
        assert_eq!(read_u16(&b, 3..5), Err(MhError::Truncated));
        assert_eq!(read_u32(&b, 0..4), Ok(0x0102_0304));
        assert_eq!(read_u32(&b, 1..5), Err(MhError::Truncated));
        assert_eq!(read_u8(&b, 4), Err(MhError::Truncated));
        assert_eq!(array::<2>(&b, usize::MAX), Err(MhError::Truncated));
    }
}
