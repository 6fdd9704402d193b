//! IPv4 home addresses out of home subnets (RFC 5844 §3.1.2.2; PROTOCOLS.md
//! §4.3.1): never a subnet's network or broadcast address, its default
//! router, or an excluded address.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use anchor_config::Ipv4Pool;

use super::{Allocator, RangeUsage};

#[derive(Debug, Clone, Copy)]
struct Subnet {
    network: u32,
    broadcast: u32,
    prefix_len: u8,
    default_router: Ipv4Addr,
}

/// Allocates IPv4 home addresses, each with its subnet's prefix length and
/// default router (what the IPv4 HoA Reply and the IPv4 Default-Router
/// Address options carry).
#[derive(Debug, Clone, Default)]
pub struct Ipv4HoaPool {
    subnets: Vec<Subnet>,
    alloc: Allocator,
}

impl Ipv4HoaPool {
    /// A pool of the host addresses of `pools`. Excluded addresses (static
    /// home addresses among them) are never allocated dynamically but may be
    /// [`reserve`](Self::reserve)d.
    pub fn new(pools: &[Ipv4Pool]) -> Ipv4HoaPool {
        let subnets: Vec<Subnet> = pools
            .iter()
            .map(|p| {
                let net = p.subnet.network();
                Subnet {
                    network: u32::from(net.addr),
                    broadcast: u32::from(net.broadcast()),
                    prefix_len: net.prefix_len,
                    default_router: p.default_router,
                }
            })
            .collect();
        let ranges = subnets
            .iter()
            .filter(|s| s.broadcast.saturating_sub(s.network) >= 2)
            .map(|s| (u64::from(s.network) + 1, u64::from(s.broadcast) - 1))
            .collect();
        let never: HashSet<u64> = pools
            .iter()
            .flat_map(|p| p.exclude.iter().chain(std::iter::once(&p.default_router)))
            .map(|a| u64::from(u32::from(*a)))
            .collect();
        Ipv4HoaPool { subnets, alloc: Allocator::new(ranges, never) }
    }

    fn subnet(&self, addr: Ipv4Addr) -> Option<&Subnet> {
        let a = u32::from(addr);
        self.subnets.iter().find(|s| (s.network..=s.broadcast).contains(&a))
    }

    /// A free address with its prefix length and default router, now in
    /// use; `None` when every subnet is exhausted.
    pub fn allocate(&mut self) -> Option<(Ipv4Addr, u8, Ipv4Addr)> {
        let value = self.alloc.allocate()?;
        let addr = Ipv4Addr::from(u32::try_from(value).ok()?);
        let (prefix_len, router) = self.lookup(addr)?;
        Some((addr, prefix_len, router))
    }

    /// Takes `addr` (a static or requested home address; excluded ones
    /// included). False when it is no host address of a subnet (network,
    /// broadcast, default router, outside) or already in use.
    pub fn reserve(&mut self, addr: Ipv4Addr) -> bool {
        match self.subnet(addr) {
            Some(s) if s.default_router != addr => self.alloc.reserve(u64::from(u32::from(addr))),
            _ => false,
        }
    }

    /// Gives `addr` back (a no-op when it is not in use).
    pub fn release(&mut self, addr: Ipv4Addr) {
        self.alloc.release(u64::from(u32::from(addr)))
    }

    /// Prefix length and default router of the subnet holding `addr`.
    pub fn lookup(&self, addr: Ipv4Addr) -> Option<(u8, Ipv4Addr)> {
        self.subnet(addr).map(|s| (s.prefix_len, s.default_router))
    }

    /// Whether dynamic allocation may hand `addr` out: a host address of a
    /// subnet, not its default router, not excluded.
    pub fn is_dynamic(&self, addr: Ipv4Addr) -> bool {
        let value = u64::from(u32::from(addr));
        self.alloc.range_of(value).is_some() && !self.alloc.never.contains(&value)
    }

    /// Whether `addr` is out.
    pub fn is_in_use(&self, addr: Ipv4Addr) -> bool {
        self.alloc.is_in_use(u64::from(u32::from(addr)))
    }

    /// Number of addresses out.
    pub fn in_use(&self) -> usize {
        self.alloc.in_use()
    }

    /// The pool of `pools` holding every address out here; the first
    /// address out that none of them holds otherwise (for a configuration
    /// reload: pools may grow, not drop an address in use).
    pub fn regrown(&self, pools: &[Ipv4Pool]) -> Result<Ipv4HoaPool, Ipv4Addr> {
        let fresh = Ipv4HoaPool::new(pools);
        let to_addr = |v: u64| Ipv4Addr::from(u32::try_from(v).unwrap_or(0));
        let alloc = self.alloc.carry_into(fresh.alloc).map_err(to_addr)?;
        Ok(Ipv4HoaPool { subnets: fresh.subnets, alloc })
    }

    /// Each subnet (`a.b.c.d/n`) with how its host addresses are used; the
    /// default router and excluded addresses count as withheld.
    pub fn usage(&self) -> Vec<(String, RangeUsage)> {
        let usage = self.alloc.usage();
        self.subnets
            .iter()
            .filter(|s| s.broadcast.saturating_sub(s.network) >= 2)
            .zip(usage)
            .map(|(s, u)| (format!("{}/{}", Ipv4Addr::from(s.network), s.prefix_len), u))
            .collect()
    }

    /// Number of host addresses in the subnets (network and broadcast not
    /// counted; default routers and excluded addresses counted).
    pub fn capacity(&self) -> u128 {
        self.alloc.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(subnet: &str, router: &str, exclude: &[&str]) -> Ipv4Pool {
        Ipv4Pool {
            subnet: subnet.parse().unwrap(),
            default_router: router.parse().unwrap(),
            exclude: exclude.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    fn a(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_pool_never_allocates_network_broadcast_default_router_or_excluded_addresses() {
        let mut p = Ipv4HoaPool::new(&[pool("203.0.113.0/29", "203.0.113.1", &["203.0.113.3"])]);
        let got: Vec<Ipv4Addr> = std::iter::from_fn(|| p.allocate().map(|(addr, _, _)| addr)).collect();
        assert_eq!(got, [a("203.0.113.2"), a("203.0.113.4"), a("203.0.113.5"), a("203.0.113.6")]);
        assert_eq!(p.capacity(), 6);
    }

    #[test]
    fn ipv4_pool_allocation_carries_the_prefix_length_and_default_router_of_the_subnet() {
        let mut p =
            Ipv4HoaPool::new(&[pool("203.0.113.0/30", "203.0.113.1", &[]), pool("10.0.0.0/24", "10.0.0.1", &[])]);
        assert_eq!(p.allocate(), Some((a("203.0.113.2"), 30, a("203.0.113.1"))));
        assert_eq!(p.allocate(), Some((a("10.0.0.2"), 24, a("10.0.0.1"))));
        assert_eq!(p.lookup(a("10.0.0.200")), Some((24, a("10.0.0.1"))));
        assert_eq!(p.lookup(a("10.0.1.1")), None);
    }

    #[test]
    fn ipv4_pool_reserves_excluded_addresses_but_not_the_router_network_or_broadcast() {
        let mut p = Ipv4HoaPool::new(&[pool("203.0.113.0/24", "203.0.113.1", &["203.0.113.200"])]);
        assert!(!p.is_dynamic(a("203.0.113.200")));
        assert!(p.is_dynamic(a("203.0.113.100")));
        assert!(p.reserve(a("203.0.113.200")));
        assert!(!p.reserve(a("203.0.113.200")));
        assert!(!p.reserve(a("203.0.113.1")));
        assert!(!p.reserve(a("203.0.113.0")));
        assert!(!p.reserve(a("203.0.113.255")));
        assert!(!p.reserve(a("198.51.100.7")));
        assert_eq!(p.in_use(), 1);
    }

    #[test]
    fn ipv4_pool_does_not_hand_out_a_reserved_address_and_reuses_released_ones() {
        let mut p = Ipv4HoaPool::new(&[pool("203.0.113.0/29", "203.0.113.1", &[])]);
        assert!(p.reserve(a("203.0.113.2")));
        assert_eq!(p.allocate().map(|x| x.0), Some(a("203.0.113.3")));
        p.release(a("203.0.113.2"));
        assert!(!p.is_in_use(a("203.0.113.2")));
        for expected in ["203.0.113.4", "203.0.113.5", "203.0.113.6", "203.0.113.2"] {
            assert_eq!(p.allocate().map(|x| x.0), Some(a(expected)));
        }
        assert_eq!(p.allocate(), None);
    }
}
