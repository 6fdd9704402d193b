//! Address/prefix-length pairs: `192.0.2.1/24`, `2001:db8::/32`.
//!
//! The same types serve as interface addresses (host bits set, as in
//! `port.ipv4`) and as networks (host bits zero, as in `route.prefix`);
//! validation decides which form a key requires.

use std::fmt;
use std::net::{AddrParseError, IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Why a `address/prefix_len` string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// No `/` in the text.
    #[error("missing prefix length (write it as address/length, e.g. \"/24\")")]
    MissingPrefixLen,
    /// The part before `/` is not an address of the expected family.
    #[error("{0}")]
    Address(#[from] AddrParseError),
    /// The part after `/` is not a decimal number.
    #[error("prefix length {0:?} is not a number")]
    PrefixLenSyntax(String),
    /// The prefix length is larger than the address.
    #[error("prefix length {len} is longer than {max}")]
    PrefixLenTooLong {
        /// The length given.
        len: u8,
        /// 32 for IPv4, 128 for IPv6.
        max: u8,
    },
}

fn split_prefix(text: &str, max: u8) -> Result<(&str, u8), CidrError> {
    let (addr, len) = text.split_once('/').ok_or(CidrError::MissingPrefixLen)?;
    // `u8::from_str` accepts a leading `+`; a prefix length never has one.
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CidrError::PrefixLenSyntax(len.to_owned()));
    }
    let len: u8 = len.parse().map_err(|_| CidrError::PrefixLenSyntax(len.to_owned()))?;
    if len > max {
        return Err(CidrError::PrefixLenTooLong { len, max });
    }
    Ok((addr, len))
}

/// An IPv4 address with a prefix length (0..=32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    /// The address; for a network, host bits are zero.
    pub addr: Ipv4Addr,
    /// Number of leading network bits, 0..=32.
    pub prefix_len: u8,
}

impl Ipv4Cidr {
    /// Mask with the `prefix_len` leading bits set.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(Self::mask_bits(self.prefix_len))
    }

    /// The network (host bits cleared), same prefix length.
    pub fn network(&self) -> Ipv4Cidr {
        Ipv4Cidr {
            addr: Ipv4Addr::from(u32::from(self.addr) & Self::mask_bits(self.prefix_len)),
            prefix_len: self.prefix_len,
        }
    }

    /// The all-ones host address of the subnet.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !Self::mask_bits(self.prefix_len))
    }

    /// Whether `addr` lies inside this subnet.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        let mask = Self::mask_bits(self.prefix_len);
        u32::from(addr) & mask == u32::from(self.addr) & mask
    }

    /// Whether the two subnets share at least one address.
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        if self.prefix_len <= other.prefix_len {
            self.contains(other.addr)
        } else {
            other.contains(self.addr)
        }
    }

    fn mask_bits(prefix_len: u8) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(prefix_len.min(32))).unwrap_or(0)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr, prefix_len) = split_prefix(text, 32)?;
        Ok(Ipv4Cidr { addr: addr.parse()?, prefix_len })
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// An IPv6 address with a prefix length (0..=128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Cidr {
    /// The address; for a network, host bits are zero.
    pub addr: Ipv6Addr,
    /// Number of leading network bits, 0..=128.
    pub prefix_len: u8,
}

impl Ipv6Cidr {
    /// The network (host bits cleared), same prefix length.
    pub fn network(&self) -> Ipv6Cidr {
        Ipv6Cidr {
            addr: Ipv6Addr::from(u128::from(self.addr) & Self::mask_bits(self.prefix_len)),
            prefix_len: self.prefix_len,
        }
    }

    /// Whether `addr` lies inside this subnet.
    pub fn contains(&self, addr: Ipv6Addr) -> bool {
        let mask = Self::mask_bits(self.prefix_len);
        u128::from(addr) & mask == u128::from(self.addr) & mask
    }

    /// Whether the two subnets share at least one address.
    pub fn overlaps(&self, other: &Ipv6Cidr) -> bool {
        if self.prefix_len <= other.prefix_len {
            self.contains(other.addr)
        } else {
            other.contains(self.addr)
        }
    }

    fn mask_bits(prefix_len: u8) -> u128 {
        u128::MAX.checked_shl(128 - u32::from(prefix_len.min(128))).unwrap_or(0)
    }
}

impl FromStr for Ipv6Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr, prefix_len) = split_prefix(text, 128)?;
        Ok(Ipv6Cidr { addr: addr.parse()?, prefix_len })
    }
}

impl fmt::Display for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// An IPv4 or IPv6 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpCidr {
    /// An IPv4 prefix.
    V4(Ipv4Cidr),
    /// An IPv6 prefix.
    V6(Ipv6Cidr),
}

impl IpCidr {
    /// The address part.
    pub fn addr(&self) -> IpAddr {
        match self {
            IpCidr::V4(c) => IpAddr::V4(c.addr),
            IpCidr::V6(c) => IpAddr::V6(c.addr),
        }
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        match self {
            IpCidr::V4(c) => c.prefix_len,
            IpCidr::V6(c) => c.prefix_len,
        }
    }

    /// The network (host bits cleared).
    pub fn network(&self) -> IpCidr {
        match self {
            IpCidr::V4(c) => IpCidr::V4(c.network()),
            IpCidr::V6(c) => IpCidr::V6(c.network()),
        }
    }

    /// Whether `addr` lies inside this prefix (always false across families).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (IpCidr::V4(c), IpAddr::V4(a)) => c.contains(a),
            (IpCidr::V6(c), IpAddr::V6(a)) => c.contains(a),
            _ => false,
        }
    }

    /// Whether this is an IPv4 prefix.
    pub fn is_ipv4(&self) -> bool {
        matches!(self, IpCidr::V4(_))
    }
}

impl FromStr for IpCidr {
    type Err = CidrError;

    /// Text with a `:` is IPv6, anything else IPv4.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.contains(':') {
            text.parse().map(IpCidr::V6)
        } else {
            text.parse().map(IpCidr::V4)
        }
    }
}

impl fmt::Display for IpCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpCidr::V4(c) => c.fmt(f),
            IpCidr::V6(c) => c.fmt(f),
        }
    }
}

impl From<Ipv4Cidr> for IpCidr {
    fn from(c: Ipv4Cidr) -> Self {
        IpCidr::V4(c)
    }
}

impl From<Ipv6Cidr> for IpCidr {
    fn from(c: Ipv6Cidr) -> Self {
        IpCidr::V6(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> Ipv4Cidr {
        text.parse().unwrap()
    }

    fn v6(text: &str) -> Ipv6Cidr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_cidr_parses_and_displays_round_trip() {
        let c = v4("192.0.2.1/24");
        assert_eq!(c.addr, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(c.prefix_len, 24);
        assert_eq!(c.to_string(), "192.0.2.1/24");
    }

    #[test]
    fn ipv4_cidr_computes_network_broadcast_and_mask() {
        let c = v4("192.0.2.77/26");
        assert_eq!(c.network(), v4("192.0.2.64/26"));
        assert_eq!(c.broadcast(), Ipv4Addr::new(192, 0, 2, 127));
        assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 255, 192));
        assert_eq!(v4("10.0.0.0/0").netmask(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(v4("10.0.0.1/32").network(), v4("10.0.0.1/32"));
    }

    #[test]
    fn ipv4_cidr_without_prefix_length_is_rejected() {
        assert_eq!("192.0.2.1".parse::<Ipv4Cidr>(), Err(CidrError::MissingPrefixLen));
    }

    #[test]
    fn ipv4_cidr_with_bad_octet_or_length_is_rejected() {
        assert!(matches!("192.0.2.300/24".parse::<Ipv4Cidr>(), Err(CidrError::Address(_))));
        assert_eq!("192.0.2.1/33".parse::<Ipv4Cidr>(), Err(CidrError::PrefixLenTooLong { len: 33, max: 32 }));
        assert_eq!("192.0.2.1/+8".parse::<Ipv4Cidr>(), Err(CidrError::PrefixLenSyntax("+8".into())));
        assert_eq!("192.0.2.1/".parse::<Ipv4Cidr>(), Err(CidrError::PrefixLenSyntax(String::new())));
    }

    #[test]
    fn ipv6_cidr_parses_and_finds_its_network() {
        let c = v6("2001:db8:1::1/64");
        assert_eq!(c.network(), v6("2001:db8:1::/64"));
        assert!(c.contains("2001:db8:1::ffff".parse().unwrap()));
        assert!(!c.contains("2001:db8:2::1".parse().unwrap()));
        assert_eq!(v6("::/0").network(), v6("::/0"));
        assert_eq!("::1/129".parse::<Ipv6Cidr>(), Err(CidrError::PrefixLenTooLong { len: 129, max: 128 }));
    }

    #[test]
    fn subnets_overlap_when_one_contains_the_other() {
        assert!(v4("10.0.0.0/8").overlaps(&v4("10.1.0.0/16")));
        assert!(v4("10.1.0.0/16").overlaps(&v4("10.0.0.0/8")));
        assert!(!v4("10.0.0.0/16").overlaps(&v4("10.1.0.0/16")));
        assert!(v6("2001:db8::/32").overlaps(&v6("2001:db8:5::/48")));
        assert!(!v6("2001:db8:1::/48").overlaps(&v6("2001:db8:2::/48")));
    }

    #[test]
    fn ip_cidr_picks_the_family_from_the_text() {
        assert!("0.0.0.0/0".parse::<IpCidr>().unwrap().is_ipv4());
        assert!(!"::/0".parse::<IpCidr>().unwrap().is_ipv4());
        let c: IpCidr = "2001:db8::/32".parse().unwrap();
        assert!(c.contains("2001:db8::5".parse().unwrap()));
        assert!(!c.contains("192.0.2.1".parse().unwrap()));
        assert_eq!(c.to_string(), "2001:db8::/32");
    }
}
