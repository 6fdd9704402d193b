//! Zero-copy typed views over packet bytes, in the smoltcp shape: a
//! `Packet<T: AsRef<[u8]>>` whose `new_checked` guarantees that no accessor
//! can panic, a `Repr` that parses from a view and emits into a buffer.

use core::fmt;

pub mod arp;
pub mod checksum;
pub mod ethernet;
mod field;
pub mod gre;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod mip_tunnel;
pub mod tlv;
pub mod udp;

/// Why a view refused a buffer. `Copy`, no allocation: used on the packet path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The buffer is shorter than the header (or than a length field says).
    #[error("truncated")]
    Truncated,
    /// A field holds a value the protocol does not allow (version, IHL, lengths).
    #[error("malformed")]
    Malformed,
    /// A checksum does not verify.
    #[error("bad checksum")]
    Checksum,
    /// Valid but not something we handle (e.g. a second VLAN tag).
    #[error("unsupported")]
    Unsupported,
}

/// An Ethernet MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    pub fn is_broadcast(&self) -> bool {
        self.0 == [0xff; 6]
    }
    /// Group bit set: broadcast or multicast.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
    /// The multicast MAC an IPv6 multicast address maps to (RFC 2464 §7).
    pub fn ipv6_multicast(addr: &core::net::Ipv6Addr) -> MacAddr {
        let o = addr.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls every getter of every view that accepts `b`: `new_checked`
    /// promises none of them can panic.
    fn read_everything(b: &[u8]) {
        if let Ok(f) = ethernet::Frame::new_checked(b) {
            let _ = (f.dst_addr(), f.src_addr(), f.vlan_id(), f.ethertype());
            let _ = (f.header_len(), f.payload().len());
        }
        if let Ok(p) = arp::Packet::new_checked(b) {
            let _ = (p.operation(), p.sender_hw(), p.sender_ip());
            let _ = (p.target_hw(), p.target_ip(), arp::ArpRepr::parse(&p));
        }
        if let Ok(p) = ipv4::Packet::new_checked(b) {
            let _ = (p.verify_checksum(), p.header_len(), p.total_len(), p.ident());
            let _ = (p.dont_frag(), p.more_frags(), p.frag_offset(), p.is_fragment());
            let _ = (p.ttl(), p.protocol(), p.dscp_ecn(), p.src_addr(), p.dst_addr());
            let _ = (p.payload().len(), ipv4::Ipv4Repr::parse(&p));
        }
        if let Ok(p) = ipv6::Packet::new_checked(b) {
            let _ = (p.payload_len(), p.next_header(), p.hop_limit());
            let _ = (p.traffic_class(), p.flow_label(), p.src_addr(), p.dst_addr());
            let _ = (p.payload().len(), ipv6::Ipv6Repr::parse(&p));
        }
        if let Ok(p) = icmpv4::Packet::new_checked(b) {
            let _ = (p.msg_type(), p.code(), p.echo_ident(), p.echo_seq());
            let _ = (p.verify_checksum(), p.payload().len());
        }
        if let Ok(p) = icmpv6::Packet::new_checked(b) {
            let a = core::net::Ipv6Addr::LOCALHOST;
            let _ = (p.msg_type(), p.code(), p.echo_ident(), p.echo_seq());
            let _ = (p.verify_checksum(a, a), p.payload().len());
            let _ = icmpv6::NdRepr::parse(&p);
        }
    }

    #[test]
    fn checked_views_never_panic_on_any_prefix_or_random_bytes() {
        // Ethernet + IPv6 + NS with an option, and Ethernet + IPv4 + ICMP.
        let mut ns = [0u8; 86];
        ethernet::emit_header(&mut ns, MacAddr::BROADCAST, MacAddr::ZERO, 0x86dd);
        let ip = ipv6::Ipv6Repr {
            src: core::net::Ipv6Addr::LOCALHOST,
            dst: core::net::Ipv6Addr::LOCALHOST,
            next_header: ipv4::protocol::ICMPV6,
            hop_limit: 255,
            payload_len: 32,
        };
        ip.emit(&mut ns[14..]);
        icmpv6::NdRepr::NeighborSolicit { target: core::net::Ipv6Addr::LOCALHOST, source_lladdr: Some(MacAddr::ZERO) }
            .emit(&mut ns[54..]);
        let mut echo = [0u8; 42];
        ethernet::emit_header(&mut echo, MacAddr::BROADCAST, MacAddr::ZERO, 0x0800);
        let ip4 = ipv4::Ipv4Repr {
            src: core::net::Ipv4Addr::LOCALHOST,
            dst: core::net::Ipv4Addr::LOCALHOST,
            protocol: ipv4::protocol::ICMP,
            ttl: 1,
            tos: 0,
            payload_len: 8,
        };
        ip4.emit(&mut echo[14..]);
        echo[34] = icmpv4::TYPE_ECHO_REQUEST;
        for frame in [&ns[..], &echo[..]] {
            for start in [0, 14, 34, 54] {
                let Some(rest) = frame.get(start..) else {
                    continue;
                };
                for len in 0..=rest.len() {
                    read_everything(&rest[..len]);
                }
            }
        }
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 120) as usize;
            let bytes: Vec<u8> = (0..len).map(|i| (x.rotate_left(i as u32 % 64) >> 3) as u8).collect();
            read_everything(&bytes);
            // Version nibbles that pass the IP checks, to reach the length logic.
            let mut v = bytes.clone();
            if let Some(b) = v.first_mut() {
                *b = 0x40 | (*b & 0x0f);
            }
            read_everything(&v);
            if let Some(b) = v.first_mut() {
                *b = 0x60 | (*b & 0x0f);
            }
            read_everything(&v);
        }
    }
}
