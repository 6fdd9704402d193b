//! Zero-copy typed views over packet bytes, in the smoltcp shape: a
//! `Packet<T: AsRef<[u8]>>` whose `new_checked` guarantees that no accessor
//! can panic, a `Repr` that parses from a view and emits into a buffer.

use core::fmt;

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
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
