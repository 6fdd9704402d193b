//! IPv6 fixed headers (RFC 8200 §3).
//!
//! ```text
//!  0       4               12                                      31
//!  +-------+---------------+---------------------------------------+
//!  |version| traffic class |              flow label               |
//!  +-------+---------------+-------+---------------+---------------+
//!  |        payload length         |  next header  |   hop limit   |
//!  +-------------------------------+---------------+---------------+
//!  |                 source address (16 bytes)                     |
//!  |              destination address (16 bytes)                   |
//! ```

use core::net::Ipv6Addr;

use super::field::{read_ipv6, read_u16, read_u32, write_u16, write_u32, Field};
use super::WireError;

mod field {
    use super::Field;

    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;

/// The all-nodes link-local multicast address ff02::1 (RFC 4291 §2.7.1).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The solicited-node multicast address of `addr`: ff02::1:ffXX:XXXX with
/// its low 24 bits (RFC 4291 §2.7.1).
pub fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15]])
}

/// True for any ff02::1:ffXX:XXXX address.
pub fn is_solicited_node(addr: Ipv6Addr) -> bool {
    addr.octets()[..13] == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff]
}

/// A read/write view of an IPv6 packet.
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

    /// `Truncated` when the buffer is shorter than 40 bytes plus the payload
    /// length; `Malformed` for a version other than 6. Bytes after the
    /// payload (Ethernet padding) are allowed.
    pub fn check(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.version() != 6 {
            return Err(WireError::Malformed);
        }
        if HEADER_LEN + usize::from(self.payload_len()) > len {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn ver_tc_flow(&self) -> u32 {
        read_u32(&self.buffer.as_ref()[field::VER_TC_FLOW])
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// The DSCP/ECN byte.
    pub fn traffic_class(&self) -> u8 {
        ((self.ver_tc_flow() >> 20) & 0xff) as u8
    }

    pub fn flow_label(&self) -> u32 {
        self.ver_tc_flow() & 0x000f_ffff
    }

    pub fn payload_len(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        read_ipv6(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        read_ipv6(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// The `payload_len` bytes after the fixed header.
    pub fn payload(&self) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &self.buffer.as_ref()[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_ver_tc_flow(&mut self, value: u32) {
        write_u32(&mut self.buffer.as_mut()[field::VER_TC_FLOW], value);
    }

    pub fn set_version(&mut self, version: u8) {
        let v = self.ver_tc_flow() & 0x0fff_ffff;
        self.set_ver_tc_flow(v | (u32::from(version & 0x0f) << 28));
    }

    pub fn set_traffic_class(&mut self, tc: u8) {
        let v = self.ver_tc_flow() & 0xf00f_ffff;
        self.set_ver_tc_flow(v | (u32::from(tc) << 20));
    }

    pub fn set_flow_label(&mut self, label: u32) {
        let v = self.ver_tc_flow() & 0xfff0_0000;
        self.set_ver_tc_flow(v | (label & 0x000f_ffff));
    }

    pub fn set_payload_len(&mut self, len: u16) {
        write_u16(&mut self.buffer.as_mut()[field::LENGTH], len);
    }

    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NXT_HDR] = value;
    }

    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = value;
    }

    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }

    /// The `payload_len` bytes after the fixed header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// An IPv6 fixed header with traffic class and flow label zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub hop_limit: u8,
    /// Bytes after the fixed header.
    pub payload_len: usize,
}

impl Ipv6Repr {
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Ipv6Repr {
        Ipv6Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            next_header: packet.next_header(),
            hop_limit: packet.hop_limit(),
            payload_len: usize::from(packet.payload_len()),
        }
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 40-byte header at the start of `buf`. A `payload_len`
    /// over 65535 is written as 65535.
    ///
    /// # Panics
    /// When `buf` is shorter than [`HEADER_LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        let mut packet = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        packet.set_ver_tc_flow(6 << 28);
        packet.set_payload_len(u16::try_from(self.payload_len).unwrap_or(u16::MAX));
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2001:db8:1::2 -> 2001:db8:1::1, traffic class 0xb8, flow label 0x12345,
    // next header 58, hop limit 255, 4 payload bytes, then 2 padding bytes.
    static PACKET: [u8; 46] = [
        0x6b, 0x81, 0x23, 0x45, // version 6, TC b8, flow 12345
        0x00, 0x04, 0x3a, 0xff, // payload length 4, ICMPv6, hop limit 255
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // src
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // dst
        0xde, 0xad, 0xbe, 0xef, // payload
        0x00, 0x00, // padding
    ];

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn header_fields_are_read_and_padding_is_not_payload() {
        let p = Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb8);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 4);
        assert_eq!(p.next_header(), 58);
        assert_eq!(p.hop_limit(), 255);
        assert_eq!(p.src_addr(), addr("2001:db8:1::2"));
        assert_eq!(p.dst_addr(), addr("2001:db8:1::1"));
        assert_eq!(p.payload(), &[0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn short_buffers_are_truncated_and_other_versions_malformed() {
        assert_eq!(Packet::new_checked(&PACKET[..39]), Err(WireError::Truncated));
        assert_eq!(Packet::new_checked(&PACKET[..43]), Err(WireError::Truncated));
        let mut b = PACKET;
        b[0] = 0x4b;
        assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Malformed));
    }

    #[test]
    fn setters_keep_the_other_bits_of_the_first_word() {
        let mut b = PACKET;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_traffic_class(0x01);
        assert_eq!((p.version(), p.flow_label()), (6, 0x12345));
        p.set_flow_label(0xabcde);
        assert_eq!((p.version(), p.traffic_class()), (6, 0x01));
    }

    #[test]
    fn repr_emit_writes_the_rfc8200_layout() {
        let repr = Ipv6Repr {
            src: addr("2001:db8:1::2"),
            dst: addr("2001:db8:1::1"),
            next_header: 58,
            hop_limit: 255,
            payload_len: 4,
        };
        let mut buf = [0x5a; 42];
        repr.emit(&mut buf);
        assert_eq!(buf[..4], [0x60, 0, 0, 0]);
        assert_eq!(buf[4..40], PACKET[4..40]);
        assert_eq!(buf[40..], [0x5a, 0x5a]);
        let mut full = [0u8; 44];
        full[..40].copy_from_slice(&buf[..40]);
        assert_eq!(Ipv6Repr::parse(&Packet::new_checked(&full[..]).unwrap()), repr);
    }

    #[test]
    fn solicited_node_address_keeps_the_low_24_bits() {
        assert_eq!(solicited_node(addr("2001:db8:1::1")), addr("ff02::1:ff00:1"));
        assert_eq!(solicited_node(addr("fe80::11:22ff:fe33:4455")), addr("ff02::1:ff33:4455"));
        assert!(is_solicited_node(addr("ff02::1:ff33:4455")));
        assert!(!is_solicited_node(ALL_NODES));
    }
}
