//! The anchor's own addresses on each port: what workers punt to the control
//! thread and what the control thread answers ARP/ND and echo for.

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::MacAddr;

/// An interface address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Cidr {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

/// An IPv6 interface address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Cidr {
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
}

impl Ipv4Cidr {
    /// True when `other` lies in this address's subnet.
    pub fn contains(&self, other: Ipv4Addr) -> bool {
        let mask = if self.prefix_len == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix_len.min(32))) };
        u32::from(self.addr) & mask == u32::from(other) & mask
    }
}

impl Ipv6Cidr {
    /// True when `other` lies in this address's subnet.
    pub fn contains(&self, other: Ipv6Addr) -> bool {
        let mask = if self.prefix_len == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix_len.min(128))) };
        u128::from(self.addr) & mask == u128::from(other) & mask
    }
}

/// Addresses of one port. Built once from the config; workers hold it read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortAddrs {
    pub mac: MacAddr,
    pub ipv4: Vec<Ipv4Cidr>,
    pub ipv6: Vec<Ipv6Cidr>,
    /// fe80::/64 address derived from the MAC (modified EUI-64, RFC 4291 App. A).
    pub link_local: Ipv6Addr,
    /// The port is the mobile nodes' home link (config `home_link`): ARP
    /// for any address on its IPv4 subnets, and NS to any solicited-node
    /// group, go to the control thread, which answers for the home
    /// addresses it proxies (RFC 5944 §4.6, RFC 6275 §10.4.1).
    pub home_link: bool,
}

impl PortAddrs {
    pub fn new(mac: MacAddr, ipv4: Vec<Ipv4Cidr>, ipv6: Vec<Ipv6Cidr>) -> Self {
        let m = mac.0;
        let link_local =
            Ipv6Addr::from([0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
        PortAddrs { mac, ipv4, ipv6, link_local, home_link: false }
    }

    /// The same addresses, on a home link or not.
    pub fn with_home_link(mut self, home_link: bool) -> Self {
        self.home_link = home_link;
        self
    }

    /// On a home link: `a` lies in one of the port's IPv4 subnets and is
    /// not ours (a home address the control thread may answer for).
    pub fn on_home_link_v4(&self, a: Ipv4Addr) -> bool {
        self.home_link && self.ipv4.iter().any(|c| c.contains(a)) && !self.is_local_v4(a)
    }

    /// On a home link: `a` lies in one of the port's IPv6 subnets and is
    /// not ours.
    pub fn on_home_link_v6(&self, a: Ipv6Addr) -> bool {
        self.home_link && self.ipv6.iter().any(|c| c.contains(a)) && !self.is_local_v6(a)
    }

    pub fn is_local_v4(&self, a: Ipv4Addr) -> bool {
        self.ipv4.iter().any(|c| c.addr == a)
    }

    /// One of our unicast IPv6 addresses (global or link-local).
    pub fn is_local_v6(&self, a: Ipv6Addr) -> bool {
        a == self.link_local || self.ipv6.iter().any(|c| c.addr == a)
    }

    /// ff02::1:ffXX:XXXX of one of our addresses, or all-nodes ff02::1.
    pub fn is_our_multicast_v6(&self, a: Ipv6Addr) -> bool {
        if a == Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1) {
            return true;
        }
        let o = a.octets();
        let prefix = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff];
        if o[..13] != prefix {
            return false;
        }
        let ours = |x: Ipv6Addr| x.octets()[13..] == o[13..];
        ours(self.link_local) || self.ipv6.iter().any(|c| ours(c.addr))
    }

    /// Our IPv4 address on the subnet of `peer`, else the first one.
    pub fn source_v4_for(&self, peer: Ipv4Addr) -> Option<Ipv4Addr> {
        self.ipv4.iter().find(|c| c.contains(peer)).or(self.ipv4.first()).map(|c| c.addr)
    }

    /// Our IPv6 address on the subnet of `peer` (link-local for fe80::/10).
    pub fn source_v6_for(&self, peer: Ipv6Addr) -> Ipv6Addr {
        if peer.segments()[0] & 0xffc0 == 0xfe80 {
            return self.link_local;
        }
        self.ipv6.iter().find(|c| c.contains(peer)).or(self.ipv6.first()).map_or(self.link_local, |c| c.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_is_modified_eui64_of_the_mac() {
        let a = PortAddrs::new(MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]), vec![], vec![]);
        assert_eq!(a.link_local, "fe80::11:22ff:fe33:4455".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn solicited_node_multicast_of_our_address_matches() {
        let a = PortAddrs::new(
            MacAddr([2, 0, 0, 0, 0, 1]),
            vec![],
            vec![Ipv6Cidr { addr: "2001:db8:1::1".parse().unwrap(), prefix_len: 64 }],
        );
        assert!(a.is_our_multicast_v6("ff02::1:ff00:1".parse().unwrap()));
        assert!(!a.is_our_multicast_v6("ff02::1:ff00:2".parse().unwrap()));
    }

    #[test]
    fn only_a_home_link_has_home_addresses_on_its_subnets_and_never_ours() {
        let a = PortAddrs::new(
            MacAddr([2, 0, 0, 0, 1, 1]),
            vec![Ipv4Cidr { addr: Ipv4Addr::new(198, 51, 100, 1), prefix_len: 24 }],
            vec![Ipv6Cidr { addr: "2001:db8:2::1".parse().unwrap(), prefix_len: 64 }],
        );
        let hoa = Ipv4Addr::new(198, 51, 100, 130);
        let hoa6: Ipv6Addr = "2001:db8:2::130".parse().unwrap();
        assert!(!a.on_home_link_v4(hoa) && !a.on_home_link_v6(hoa6));
        let a = a.with_home_link(true);
        assert!(a.on_home_link_v4(hoa) && a.on_home_link_v6(hoa6));
        assert!(!a.on_home_link_v4(Ipv4Addr::new(198, 51, 100, 1)), "ours");
        assert!(!a.on_home_link_v6("2001:db8:2::1".parse().unwrap()), "ours");
        assert!(!a.on_home_link_v4(Ipv4Addr::new(203, 0, 113, 9)), "off the link");
        assert!(!a.on_home_link_v6("2001:db8:3::1".parse().unwrap()), "off the link");
    }
}
