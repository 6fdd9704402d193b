//! ARP for IPv4 over Ethernet (RFC 826).
//!
//! ```text
//!  0       2       4   5   6       8             14      18            24      28
//!  +-------+-------+---+---+-------+-------------+-------+-------------+-------+
//!  | htype | ptype |hln|pln|  op   | sender hw   |sndr ip| target hw   |tgt ip |
//!  +-------+-------+---+---+-------+-------------+-------+-------------+-------+
//! ```

use core::net::Ipv4Addr;

use super::field::{read_ipv4, read_mac, read_u16, write_u16, Field};
use super::{MacAddr, WireError};

mod field {
    use super::Field;

    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const SHA: Field = 8..14;
    pub const SPA: Field = 14..18;
    pub const THA: Field = 18..24;
    pub const TPA: Field = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const BUFFER_LEN: usize = 28;

pub const OP_REQUEST: u16 = 1;
pub const OP_REPLY: u16 = 2;

/// Hardware type Ethernet (RFC 826; IANA ARP parameters).
pub const HTYPE_ETHERNET: u16 = 1;
/// Protocol type IPv4 (the IPv4 EtherType).
pub const PTYPE_IPV4: u16 = 0x0800;

/// A read/write view of an Ethernet/IPv4 ARP packet.
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

    /// `Truncated` under 28 bytes; `Malformed` unless the packet is
    /// Ethernet (1) / IPv4 (0x0800) with lengths 6 and 4.
    pub fn check(&self) -> Result<(), WireError> {
        let data = self.buffer.as_ref();
        if data.len() < BUFFER_LEN {
            return Err(WireError::Truncated);
        }
        if self.hardware_type() != HTYPE_ETHERNET
            || self.protocol_type() != PTYPE_IPV4
            || data[field::HLEN] != 6
            || data[field::PLEN] != 4
        {
            return Err(WireError::Malformed);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn hardware_type(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::HTYPE])
    }

    pub fn protocol_type(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::PTYPE])
    }

    /// [`OP_REQUEST`], [`OP_REPLY`] or another opcode.
    pub fn operation(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::OPER])
    }

    pub fn sender_hw(&self) -> MacAddr {
        read_mac(&self.buffer.as_ref()[field::SHA])
    }

    pub fn sender_ip(&self) -> Ipv4Addr {
        read_ipv4(&self.buffer.as_ref()[field::SPA])
    }

    pub fn target_hw(&self) -> MacAddr {
        read_mac(&self.buffer.as_ref()[field::THA])
    }

    pub fn target_ip(&self) -> Ipv4Addr {
        read_ipv4(&self.buffer.as_ref()[field::TPA])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the fixed Ethernet/IPv4 type and length fields.
    pub fn set_ethernet_ipv4(&mut self) {
        let data = self.buffer.as_mut();
        write_u16(&mut data[field::HTYPE], HTYPE_ETHERNET);
        write_u16(&mut data[field::PTYPE], PTYPE_IPV4);
        data[field::HLEN] = 6;
        data[field::PLEN] = 4;
    }

    pub fn set_operation(&mut self, op: u16) {
        write_u16(&mut self.buffer.as_mut()[field::OPER], op);
    }

    pub fn set_sender_hw(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::SHA].copy_from_slice(&addr.0);
    }

    pub fn set_sender_ip(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::SPA].copy_from_slice(&addr.octets());
    }

    pub fn set_target_hw(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[field::THA].copy_from_slice(&addr.0);
    }

    pub fn set_target_ip(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[field::TPA].copy_from_slice(&addr.octets());
    }
}

/// A parsed ARP request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    /// [`OP_REQUEST`] or [`OP_REPLY`].
    pub op: u16,
    pub sender_hw: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_hw: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// `Unsupported` for opcodes other than request and reply (RARP, InARP).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<ArpRepr, WireError> {
        let op = packet.operation();
        if op != OP_REQUEST && op != OP_REPLY {
            return Err(WireError::Unsupported);
        }
        Ok(ArpRepr {
            op,
            sender_hw: packet.sender_hw(),
            sender_ip: packet.sender_ip(),
            target_hw: packet.target_hw(),
            target_ip: packet.target_ip(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        BUFFER_LEN
    }

    /// Writes the 28-byte packet at the start of `buf`.
    ///
    /// # Panics
    /// When `buf` is shorter than [`BUFFER_LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        let mut packet = Packet::new_unchecked(&mut buf[..BUFFER_LEN]);
        packet.set_ethernet_ipv4();
        packet.set_operation(self.op);
        packet.set_sender_hw(self.sender_hw);
        packet.set_sender_ip(self.sender_ip);
        packet.set_target_hw(self.target_hw);
        packet.set_target_ip(self.target_ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 826 layout: who-has 192.0.2.1 tell 192.0.2.2 (from 02:00:00:00:00:02).
    static REQUEST: [u8; 28] = [
        0x00, 0x01, // htype Ethernet
        0x08, 0x00, // ptype IPv4
        0x06, 0x04, // hlen, plen
        0x00, 0x01, // request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // sender hw
        0xc0, 0x00, 0x02, 0x02, // sender ip
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target hw
        0xc0, 0x00, 0x02, 0x01, // target ip
    ];

    fn request_repr() -> ArpRepr {
        ArpRepr {
            op: OP_REQUEST,
            sender_hw: MacAddr([2, 0, 0, 0, 0, 2]),
            sender_ip: Ipv4Addr::new(192, 0, 2, 2),
            target_hw: MacAddr::ZERO,
            target_ip: Ipv4Addr::new(192, 0, 2, 1),
        }
    }

    #[test]
    fn request_bytes_parse_into_their_fields() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(p.operation(), OP_REQUEST);
        assert_eq!(p.sender_hw(), MacAddr([2, 0, 0, 0, 0, 2]));
        assert_eq!(p.sender_ip(), Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(p.target_hw(), MacAddr::ZERO);
        assert_eq!(p.target_ip(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(ArpRepr::parse(&p), Ok(request_repr()));
    }

    #[test]
    fn emit_writes_exactly_the_rfc826_layout() {
        let mut buf = [0x5a; 30];
        request_repr().emit(&mut buf);
        assert_eq!(&buf[..28], &REQUEST[..]);
        assert_eq!(&buf[28..], &[0x5a, 0x5a]);
    }

    #[test]
    fn packets_shorter_than_28_bytes_are_truncated() {
        assert_eq!(Packet::new_checked(&REQUEST[..27]), Err(WireError::Truncated));
    }

    #[test]
    fn other_hardware_protocol_or_lengths_are_malformed() {
        for (at, value) in [(1, 6), (2, 0x86), (4, 8), (5, 16)] {
            let mut b = REQUEST;
            b[at] = value;
            assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Malformed));
        }
    }

    #[test]
    fn opcodes_other_than_request_and_reply_are_unsupported() {
        let mut b = REQUEST;
        b[7] = 3;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p), Err(WireError::Unsupported));
    }
}
