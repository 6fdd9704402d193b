//! The MIP Tunnel Data message header (RFC 3519 §3.2, PROTOCOLS.md §8.12):
//! the UDP payload of Mobile IPv4 tunnelled data, to or from port 434.
//!
//! ```text
//!  0               8               16                              31
//!  +---------------+---------------+-------------------------------+
//!  |   type = 4    |  next header  |           reserved            |
//!  +---------------+---------------+-------------------------------+
//!  |  IPv4 / GRE / minimal encapsulation / IPv6 packet ...
//! ```

use super::field::{read_u16, write_u16, Field};
use super::WireError;

mod field {
    use super::Field;

    pub const TYPE: usize = 0;
    pub const NEXT_HEADER: usize = 1;
    pub const RESERVED: Field = 2..4;
}

/// Length of the header.
pub const HEADER_LEN: usize = 4;

/// The Mobile IPv4 message type of tunnel data (RFC 3519 §3.2).
pub const TYPE_TUNNEL_DATA: u8 = 4;

/// Next Header values RFC 3519 §3.2 (and RFC 5454 for IPv6) define.
pub mod next_header {
    pub const IPV4: u8 = 4;
    pub const IPV6: u8 = 41;
    pub const GRE: u8 = 47;
    /// Minimal encapsulation (RFC 2004); we do not implement it.
    pub const MINIMAL: u8 = 55;
}

/// A read/write view of a MIP Tunnel Data message.
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

    /// `Truncated` under 4 bytes; `Malformed` for a type other than 4. The
    /// next header is not checked here (see [`MipTunnelRepr::parse`]); the
    /// reserved field is ignored on reception.
    pub fn check(&self) -> Result<(), WireError> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.msg_type() != TYPE_TUNNEL_DATA {
            return Err(WireError::Malformed);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// IP protocol number of the payload (see [`next_header`](mod@next_header)).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    pub fn reserved(&self) -> u16 {
        read_u16(&self.buffer.as_ref()[field::RESERVED])
    }

    /// The bytes after the header, to the end of the buffer (the UDP payload).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = value;
    }

    pub fn set_reserved(&mut self, value: u16) {
        write_u16(&mut self.buffer.as_mut()[field::RESERVED], value);
    }

    /// The bytes after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// A MIP Tunnel Data header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MipTunnelRepr {
    pub next_header: u8,
}

impl MipTunnelRepr {
    /// `Unsupported` for a next header other than the four RFC 3519 and
    /// RFC 5454 define. Whether it matches the binding's mode is the
    /// caller's check (PROTOCOLS.md §8.12).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<MipTunnelRepr, WireError> {
        match packet.next_header() {
            nh @ (next_header::IPV4 | next_header::IPV6 | next_header::GRE | next_header::MINIMAL) => {
                Ok(MipTunnelRepr { next_header: nh })
            }
            _ => Err(WireError::Unsupported),
        }
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 4-byte header at the start of `buf`: type 4, reserved 0.
    ///
    /// # Panics
    /// When `buf` is shorter than [`HEADER_LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        let mut packet = Packet::new_unchecked(&mut buf[..HEADER_LEN]);
        packet.set_msg_type(TYPE_TUNNEL_DATA);
        packet.set_next_header(self.next_header);
        packet.set_reserved(0);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ipv4, udp};
    use super::*;

    /// Frame 4 of testdata/tunnel_headers.py, built by scapy as
    /// `IP/UDP(434, 434)/MobileIP(type=4)/MobileIPTunnelData(nexthdr=4)/IP/ICMP`
    /// and decoded by tshark 4.0.17: mip.type 4, mip.nattt.nexthdr 4,
    /// mip.nattt.reserved 0x0000, udp.length 40, udp.checksum 0x7432 (Good),
    /// inner IPv4 (ip.proto 1).
    static MIP_TUNNEL: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x00, 0x04, 0x00, 0x00, 0x40, 0x11, 0xf6, 0xa9, // IPv4
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, //
        0x01, 0xb2, 0x01, 0xb2, 0x00, 0x28, 0x74, 0x32, // UDP
        0x04, 0x04, 0x00, 0x00, // MIP tunnel data
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x46, 0xa5, // inner IPv4
        0x0a, 0x00, 0x00, 0x01, 0xc6, 0x33, 0x64, 0x07, //
        0x08, 0x00, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01, // ICMP echo
    ];

    const MIP: core::ops::RangeFrom<usize> = 28..;

    #[test]
    fn scapy_header_fields_are_read() {
        let p = Packet::new_checked(&MIP_TUNNEL[MIP]).unwrap();
        assert_eq!(p.msg_type(), TYPE_TUNNEL_DATA);
        assert_eq!(p.next_header(), next_header::IPV4);
        assert_eq!(p.reserved(), 0);
        assert_eq!(p.payload(), &MIP_TUNNEL[32..]);
        assert_eq!(MipTunnelRepr::parse(&p), Ok(MipTunnelRepr { next_header: next_header::IPV4 }));
    }

    #[test]
    fn the_udp_stack_parses_to_the_inner_packet() {
        let ip = ipv4::Packet::new_checked(&MIP_TUNNEL[..]).unwrap();
        let u = udp::Packet::new_checked(ip.payload()).unwrap();
        assert_eq!((u.src_port(), u.dst_port()), (udp::port::MIP, udp::port::MIP));
        assert!(u.verify_checksum_v4(ip.src_addr(), ip.dst_addr()));
        let m = Packet::new_checked(u.payload()).unwrap();
        let inner = ipv4::Packet::new_checked(m.payload()).unwrap();
        assert!(inner.verify_checksum());
        assert_eq!(inner.protocol(), ipv4::protocol::ICMP);
    }

    #[test]
    fn other_message_types_are_malformed() {
        // 1 = Registration Request, 3 = Registration Reply.
        for t in [0u8, 1, 3, 7, 0x45] {
            let b = [t, 4, 0, 0];
            assert_eq!(Packet::new_checked(&b[..]), Err(WireError::Malformed));
        }
    }

    #[test]
    fn reserved_is_ignored_on_reception() {
        let b = [4, 47, 0xff, 0xff];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.reserved(), 0xffff);
        assert_eq!(MipTunnelRepr::parse(&p), Ok(MipTunnelRepr { next_header: next_header::GRE }));
    }

    #[test]
    fn the_rfc_next_headers_parse_and_others_are_unsupported() {
        for nh in [4u8, 41, 47, 55] {
            let b = [4, nh, 0, 0];
            let p = Packet::new_checked(&b[..]).unwrap();
            assert_eq!(MipTunnelRepr::parse(&p), Ok(MipTunnelRepr { next_header: nh }));
        }
        for nh in [0u8, 17, 59, 135] {
            let b = [4, nh, 0, 0];
            let p = Packet::new_checked(&b[..]).unwrap();
            assert_eq!(MipTunnelRepr::parse(&p), Err(WireError::Unsupported));
        }
    }

    #[test]
    fn every_truncation_is_rejected_without_panic() {
        let v = &MIP_TUNNEL[MIP];
        for len in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&v[..len]), Err(WireError::Truncated), "len {len}");
        }
        for len in HEADER_LEN..=v.len() {
            let p = Packet::new_checked(&v[..len]).unwrap();
            assert_eq!(p.payload().len(), len - HEADER_LEN);
        }
    }

    #[test]
    fn checked_views_never_panic_on_random_bytes() {
        let mut x: u64 = 0xda94_2042_e4dd_58b5;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 12) as usize;
            let mut b: Vec<u8> = (0..len).map(|i| (x >> (i % 56)) as u8).collect();
            if let Some(f) = b.first_mut() {
                if x & 1 == 0 {
                    *f = TYPE_TUNNEL_DATA;
                }
            }
            if let Ok(p) = Packet::new_checked(&b[..]) {
                let _ = (p.msg_type(), p.next_header(), p.reserved());
                let _ = (p.payload().len(), MipTunnelRepr::parse(&p));
            }
        }
    }

    #[test]
    fn repr_emit_matches_scapy_and_round_trips() {
        let repr = MipTunnelRepr { next_header: next_header::IPV4 };
        assert_eq!(repr.buffer_len(), HEADER_LEN);
        let mut buf = [0x5a; 6];
        repr.emit(&mut buf);
        assert_eq!(buf[..4], MIP_TUNNEL[28..32]);
        assert_eq!(buf[4..], [0x5a, 0x5a]);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(MipTunnelRepr::parse(&p), Ok(repr));
    }
}
