//! Keys of the forwarding table and their encoding into slot words.
//!
//! A key is stored as a 2-bit kind, the 16-bit VRF (both in the slot's
//! control word) and two address words: the IPv4 address or the upper 64
//! bits of the IPv6 prefix in `hi` (with `lo` zero), the IPv6 address in
//! `hi`/`lo` for a /128.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A virtual routing and forwarding instance.
pub type Vrf = u16;

/// What a worker looks up: a mobile node's address in its VRF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FibKey {
    /// An IPv4 home address.
    V4 { vrf: Vrf, addr: Ipv4Addr },
    /// An IPv6 home network prefix (/64). Build it with
    /// [`FibKey::v6_prefix`]; the table ignores the low 64 bits in any case.
    V6Prefix { vrf: Vrf, prefix: Ipv6Addr },
    /// An IPv6 home address (/128).
    V6Host { vrf: Vrf, addr: Ipv6Addr },
}

impl FibKey {
    /// The /64 prefix that holds `addr` (the low 64 bits are cleared).
    pub fn v6_prefix(vrf: Vrf, addr: Ipv6Addr) -> FibKey {
        let bits = u128::from(addr) & !u128::from(u64::MAX);
        FibKey::V6Prefix { vrf, prefix: Ipv6Addr::from(bits) }
    }

    /// The key as the table stores and hashes it.
    #[inline(always)]
    pub(crate) fn encode(&self) -> Encoded {
        match *self {
            FibKey::V4 { vrf, addr } => Encoded { kind: Kind::V4, vrf, hi: u64::from(u32::from(addr)), lo: 0 },
            FibKey::V6Prefix { vrf, prefix } => Encoded { kind: Kind::V6Prefix, vrf, hi: high64(prefix), lo: 0 },
            FibKey::V6Host { vrf, addr } => Encoded { kind: Kind::V6Host, vrf, hi: high64(addr), lo: low64(addr) },
        }
    }
}

fn high64(addr: Ipv6Addr) -> u64 {
    let [h0, h1, h2, h3, h4, h5, h6, h7, ..] = addr.octets();
    u64::from_be_bytes([h0, h1, h2, h3, h4, h5, h6, h7])
}

fn low64(addr: Ipv6Addr) -> u64 {
    let [.., l0, l1, l2, l3, l4, l5, l6, l7] = addr.octets();
    u64::from_be_bytes([l0, l1, l2, l3, l4, l5, l6, l7])
}

/// The kind of a key: two bits of a slot's control word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    V4 = 0,
    V6Prefix = 1,
    V6Host = 2,
}

impl Kind {
    /// The inverse of `kind as u64` on the two bits the writer stored.
    pub(crate) fn from_bits(bits: u64) -> Kind {
        match bits & 0b11 {
            0 => Kind::V4,
            1 => Kind::V6Prefix,
            _ => Kind::V6Host,
        }
    }
}

/// A key as the table stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Encoded {
    pub kind: Kind,
    pub vrf: Vrf,
    pub hi: u64,
    pub lo: u64,
}

impl Encoded {
    /// The inverse of [`FibKey::encode`] (a V6Prefix comes back masked).
    pub(crate) fn decode(&self) -> FibKey {
        let v6 = || Ipv6Addr::from((u128::from(self.hi) << 64) | u128::from(self.lo));
        match self.kind {
            Kind::V4 => FibKey::V4 { vrf: self.vrf, addr: Ipv4Addr::from(self.hi as u32) },
            Kind::V6Prefix => FibKey::V6Prefix { vrf: self.vrf, prefix: v6() },
            Kind::V6Host => FibKey::V6Host { vrf: self.vrf, addr: v6() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v6_prefix_constructor_clears_the_interface_identifier() {
        let key = FibKey::v6_prefix(3, "2001:db8:100:7:1:2:3:4".parse().unwrap());
        assert_eq!(key, FibKey::V6Prefix { vrf: 3, prefix: "2001:db8:100:7::".parse().unwrap() });
    }

    #[test]
    fn every_kind_of_key_survives_encode_and_decode() {
        let keys = [
            FibKey::V4 { vrf: 7, addr: [203, 0, 113, 9].into() },
            FibKey::v6_prefix(65535, "2001:db8:100:1::".parse().unwrap()),
            FibKey::V6Host { vrf: 0, addr: "2001:db8:200::1234:5678".parse().unwrap() },
        ];
        for key in keys {
            assert_eq!(key.encode().decode(), key);
        }
    }

    #[test]
    fn unmasked_v6_prefix_encodes_like_the_masked_one() {
        let raw = FibKey::V6Prefix { vrf: 1, prefix: "2001:db8:100:1::99".parse().unwrap() };
        let masked = FibKey::v6_prefix(1, "2001:db8:100:1::".parse().unwrap());
        assert_eq!(raw.encode(), masked.encode());
    }

    #[test]
    fn the_same_address_bits_in_another_kind_encode_differently() {
        let prefix = FibKey::v6_prefix(0, "::a00:1:0:0:0:0".parse().unwrap());
        let host = FibKey::V6Host { vrf: 0, addr: "::a00:1:0:0:0:0".parse().unwrap() };
        assert_ne!(prefix.encode(), host.encode());
    }
}
