//! UDP headers (RFC 768), as used by the UDP tunnel modes (PROTOCOLS.md
//! §12.1, §12.2): PMIPv6 IPv4-UDP and UDP-TLV, MIPv4 UDP tunnelling, DSMIPv6.
//!
//! ```text
//!  0               16              31
//!  +---------------+---------------+
//!  |  source port  |  dest. port   |
//!  +---------------+---------------+
//!  |    length     |   checksum    |
//!  +---------------+---------------+
//!  |  payload (length - 8) ...
//! ```

use core::net::{Ipv4Addr, Ipv6Addr};

use super::checksum;
use super::field::{read_u16, write_u16, Field};
use super::ipv4::protocol;
use super::WireError;

mod field {
    use super::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the header.
pub const HEADER_LEN: usize = 8;

/// The UDP ports of the tunnel and signalling modes we handle.
pub mod port {
    /// Mobile IPv4 registration and RFC 3519 tunnel data (RFC 5944 §3.3).
    pub const MIP: u16 = 434;
    /// DSMIPv6 UDP encapsulation (RFC 5555 §4.1).
    pub const DSMIP6: u16 = 4191;
    /// PMIPv6 signalling over IPv4 (RFC 5844 §4).
    pub const PMIP6_CONTROL: u16 = 5436;
    /// PMIPv6 data over IPv4-UDP (RFC 5844 §4; also UDP-TLV, PROTOCOLS.md §15).
    pub const PMIP6_DATA: u16 = 5437;
}

/// A read/write view of a UDP datagram.
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

    /// `Truncated` when the buffer is shorter than 8 bytes or than the
    /// length field; `Malformed` for a length field under 8. Bytes after the
    /// length are allowed (they are not payload). The checksum is not
    /// verified.
    pub fn check(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let udp_len = usize::from(self.len());
        if udp_len < HEADER_LEN {
            return Err(WireError::Malformed);
        }
        if udp_len > len {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn src_port(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    pub fn dst_port(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// Header plus payload, in bytes (the length field).
    // The RFC 768 field name; a checked datagram is never empty (>= 8).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    pub fn checksum(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The bytes from the end of the header to the length field.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.len())]
    }

    /// Sum of the datagram (up to the length field) without the pseudo-header.
    fn datagram_sum(&self) -> u32 {
        checksum::sum(&self.buffer.as_ref()[..usize::from(self.len())])
    }

    fn pseudo_sum_v4(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u32 {
        checksum::pseudo_v4(src, dst, protocol::UDP, self.len()) + self.datagram_sum()
    }

    fn pseudo_sum_v6(&self, src: Ipv6Addr, dst: Ipv6Addr) -> u32 {
        checksum::pseudo_v6(src, dst, protocol::UDP, u32::from(self.len())) + self.datagram_sum()
    }

    /// True when the checksum is zero (no checksum, allowed over IPv4 by
    /// RFC 768) or the datagram and the IPv4 pseudo-header sum to zero.
    pub fn verify_checksum_v4(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.checksum() == 0 || checksum::fold(self.pseudo_sum_v4(src, dst)) == 0
    }

    /// True when the datagram and the IPv6 pseudo-header (RFC 8200 §8.1)
    /// sum to zero. A zero checksum is invalid over IPv6 and fails.
    pub fn verify_checksum_v6(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        self.checksum() != 0 && checksum::fold(self.pseudo_sum_v6(src, dst)) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_src_port(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::SRC_PORT], value);
    }

    pub fn set_dst_port(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::DST_PORT], value);
    }

    pub fn set_len(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::LENGTH], value);
    }

    pub fn set_checksum(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::CHECKSUM], value);
    }

    /// Computes the checksum over the IPv4 pseudo-header and the datagram
    /// (up to the length field) and stores it; a computed zero is sent as
    /// `0xffff` (RFC 768).
    pub fn fill_checksum_v4(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let csum = checksum::fold(self.pseudo_sum_v4(src, dst));
        self.set_checksum(if csum == 0 { 0xffff } else { csum });
    }

    /// As [`fill_checksum_v4`](Self::fill_checksum_v4) with the IPv6
    /// pseudo-header (RFC 8200 §8.1).
    pub fn fill_checksum_v6(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let csum = checksum::fold(self.pseudo_sum_v6(src, dst));
        self.set_checksum(if csum == 0 { 0xffff } else { csum });
    }

    /// The payload up to the length field, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// A UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    /// Bytes after the header.
    pub payload_len: usize,
}

impl UdpRepr {
    /// The checksum is not verified here: it needs the IP addresses, see
    /// [`Packet::verify_checksum_v4`] and [`Packet::verify_checksum_v6`].
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> UdpRepr {
        UdpRepr { src_port: packet.src_port(), dst_port: packet.dst_port(), payload_len: packet.payload().len() }
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 8-byte header at the start of `buf` with checksum 0 (to be
    /// filled, over IPv6 or for signalling, once the payload is in place). A
    /// `payload_len` over 65527 is written as length 65535.
    ///
    /// # Panics
    /// When `buf` is shorter than [`HEADER_LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        let len = u16::try_from(HEADER_LEN.saturating_add(self.payload_len)).unwrap_or(u16::MAX);
        let mut packet = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len);
        packet.set_checksum(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Golden vectors built by scapy (testdata/tunnel_headers.py) and decoded
    // by tshark 4.0.17 with udp.check_checksum on: ports, udp.length,
    // udp.checksum as asserted below, udp.checksum.status Good.

    /// Frame 3: IPv4 192.0.2.1 -> 192.0.2.2, UDP 5437 -> 5437 (PMIPv6
    /// IPv4-UDP data), length 36, checksum 0x5128, inner IPv4/ICMP echo.
    static UDP_5437: [u8; 56] = [
        0x45, 0x00, 0x00, 0x38, 0x00, 0x03, 0x00, 0x00, 0x40, 0x11, 0xf6, 0xae, // IPv4
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, //
        0x15, 0x3d, 0x15, 0x3d, 0x00, 0x24, 0x51, 0x28, // UDP
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x46, 0xa5, // inner IPv4
        0x0a, 0x00, 0x00, 0x01, 0xc6, 0x33, 0x64, 0x07, //
        0x08, 0x00, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01, // ICMP echo
    ];

    /// Frame 6: IPv6 2001:db8::a -> 2001:db8::b, UDP 5437 -> 5437, length
    /// 14, checksum 0x4588, payload "anchor".
    static UDP_V6: [u8; 54] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x11, 0x40, // IPv6
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, //
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, //
        0x15, 0x3d, 0x15, 0x3d, 0x00, 0x0e, 0x45, 0x88, // UDP
        0x61, 0x6e, 0x63, 0x68, 0x6f, 0x72, // "anchor"
    ];

    const SRC4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const DST4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn scapy_ipv4_datagram_fields_are_read_and_checksum_verifies() {
        let p = Packet::new_checked(&UDP_5437[20..]).unwrap();
        assert_eq!(p.src_port(), port::PMIP6_DATA);
        assert_eq!(p.dst_port(), port::PMIP6_DATA);
        assert_eq!(p.len(), 36);
        assert_eq!(p.checksum(), 0x5128);
        assert_eq!(p.payload(), &UDP_5437[28..]);
        assert!(p.verify_checksum_v4(SRC4, DST4));
        assert!(!p.verify_checksum_v4(DST4, Ipv4Addr::new(192, 0, 2, 3)));
    }

    #[test]
    fn fill_checksum_v4_reproduces_scapy() {
        let mut b = UDP_5437;
        let mut p = Packet::new_checked(&mut b[20..]).unwrap();
        p.set_checksum(0x5a5a);
        p.fill_checksum_v4(SRC4, DST4);
        assert_eq!(p.checksum(), 0x5128);
    }

    #[test]
    fn zero_checksum_over_ipv4_means_none_and_verifies() {
        let mut b = UDP_5437;
        b[20 + 6] = 0;
        b[20 + 7] = 0;
        let p = Packet::new_checked(&b[20..]).unwrap();
        assert!(p.verify_checksum_v4(SRC4, DST4));
        assert!(p.verify_checksum_v4(DST4, DST4));
    }

    #[test]
    fn a_flipped_payload_bit_fails_the_checksum() {
        let mut b = UDP_5437;
        b[40] ^= 0x10;
        let p = Packet::new_checked(&b[20..]).unwrap();
        assert!(!p.verify_checksum_v4(SRC4, DST4));
    }

    #[test]
    fn scapy_ipv6_datagram_verifies_and_fill_checksum_v6_reproduces_it() {
        let (src, dst) = (v6("2001:db8::a"), v6("2001:db8::b"));
        let p = Packet::new_checked(&UDP_V6[40..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (5437, 5437));
        assert_eq!(p.len(), 14);
        assert_eq!(p.payload(), b"anchor");
        assert!(p.verify_checksum_v6(src, dst));
        assert!(!p.verify_checksum_v6(src, v6("2001:db8::c")));
        let mut b = UDP_V6;
        let mut p = Packet::new_checked(&mut b[40..]).unwrap();
        p.fill_checksum_v6(src, dst);
        assert_eq!(p.checksum(), 0x4588);
    }

    #[test]
    fn zero_checksum_over_ipv6_is_invalid() {
        let mut b = UDP_V6;
        b[46] = 0;
        b[47] = 0;
        let p = Packet::new_checked(&b[40..]).unwrap();
        assert!(!p.verify_checksum_v6(v6("2001:db8::a"), v6("2001:db8::b")));
    }

    #[test]
    fn a_computed_zero_checksum_is_sent_as_ffff() {
        // Ports, length and payload chosen so that the pseudo-header and the
        // datagram sum to 0xffff: the computed checksum is zero.
        let mut b = [0u8; 10];
        let (src, dst) = (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED);
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_len(10);
        // pseudo: 17 + 10; header: 10; payload word w: sum = 37 + w.
        p.payload_mut().copy_from_slice(&(0xffff_u16 - 37).to_be_bytes());
        p.fill_checksum_v4(src, dst);
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum_v4(src, dst));
    }

    #[test]
    fn bytes_after_the_length_field_are_not_payload() {
        let mut b = [0u8; 64];
        b[..56].copy_from_slice(&UDP_5437);
        let p = Packet::new_checked(&b[20..]).unwrap();
        assert_eq!(p.payload().len(), 28);
        assert!(p.verify_checksum_v4(SRC4, DST4));
    }

    #[test]
    fn length_under_8_is_malformed_and_past_the_buffer_truncated() {
        let mut b = UDP_5437;
        b[25] = 7;
        assert_eq!(Packet::new_checked(&b[20..]), Err(WireError::Malformed));
        b[25] = 37;
        assert_eq!(Packet::new_checked(&b[20..]), Err(WireError::Truncated));
        b[25] = 8;
        assert_eq!(Packet::new_checked(&b[20..]).unwrap().payload(), &[]);
    }

    #[test]
    fn every_truncation_is_rejected_without_panic() {
        for v in [&UDP_5437[20..], &UDP_V6[40..]] {
            for len in 0..v.len() {
                assert_eq!(Packet::new_checked(&v[..len]), Err(WireError::Truncated), "len {len}");
            }
        }
    }

    #[test]
    fn checked_views_never_panic_on_random_bytes() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let mut b: Vec<u8> = (0..len).map(|i| (x >> (i % 56)) as u8).collect();
            if let Some(l) = b.get_mut(5) {
                // Bias the length field towards the buffer length.
                *l = (x >> 58) as u8 % 48;
            }
            if let Some(h) = b.get_mut(4) {
                *h = 0;
            }
            if let Ok(p) = Packet::new_checked(&b[..]) {
                let _ = (p.src_port(), p.dst_port(), p.len(), p.checksum());
                let _ = (p.payload().len(), UdpRepr::parse(&p));
                let _ = p.verify_checksum_v4(SRC4, DST4);
                let _ = p.verify_checksum_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST);
            }
        }
    }

    #[test]
    fn repr_emit_writes_ports_length_and_zero_checksum() {
        let repr = UdpRepr { src_port: port::PMIP6_DATA, dst_port: port::PMIP6_DATA, payload_len: 28 };
        let mut buf = [0x5a; 10];
        repr.emit(&mut buf);
        assert_eq!(buf[..8], [0x15, 0x3d, 0x15, 0x3d, 0x00, 0x24, 0x00, 0x00]);
        assert_eq!(buf[8..], [0x5a, 0x5a]);
        assert_eq!(repr.buffer_len(), HEADER_LEN);
        // Emit + payload + fill reproduces scapy's datagram.
        let mut b = UDP_5437;
        repr.emit(&mut b[20..]);
        let mut p = Packet::new_checked(&mut b[20..]).unwrap();
        assert_eq!(UdpRepr::parse(&p), repr);
        p.fill_checksum_v4(SRC4, DST4);
        assert_eq!(b, UDP_5437);
    }

    #[test]
    fn repr_emit_clamps_an_oversized_payload_length() {
        let repr = UdpRepr { src_port: 1, dst_port: 2, payload_len: 70_000 };
        let mut buf = [0u8; 8];
        repr.emit(&mut buf);
        assert_eq!(Packet::new_unchecked(&buf[..]).len(), u16::MAX);
    }
}
