//! IPv6 home network prefixes: /64s out of shorter aggregates (RFC 5213
//! §5.3.2 step 1; PROTOCOLS.md §3.4.1 "allocate one or more prefixes not used
//! by any other session").

use std::collections::HashSet;
use std::net::Ipv6Addr;

use anchor_config::Ipv6Cidr;

use super::{Allocator, RangeUsage};

/// The upper 64 bits of an address: a /64 as a number.
fn index(prefix: Ipv6Addr) -> u64 {
    // The shift leaves exactly the upper 64 bits, so the cast loses nothing.
    (u128::from(prefix) >> 64) as u64
}

fn prefix_of(index: u64) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(index) << 64)
}

/// Allocates /64 home network prefixes from a list of aggregates.
///
/// A /64 is named by its address with the interface identifier zero; any
/// address inside it names the same /64 (its lower 64 bits are ignored).
#[derive(Debug, Clone, Default)]
pub struct PrefixPool {
    alloc: Allocator,
}

impl PrefixPool {
    /// A pool of every /64 inside `aggregates` (each /0../64; a /64
    /// aggregate is a pool of one), of which `reserved` (e.g.
    /// `Config::reserved_hnps`: static prefixes) are never allocated
    /// dynamically but may be [`reserve`](Self::reserve)d.
    pub fn new(aggregates: &[Ipv6Cidr], reserved: &[Ipv6Cidr]) -> PrefixPool {
        let ranges = aggregates
            .iter()
            .filter(|a| a.prefix_len <= 64)
            .map(|a| {
                let first = index(a.network().addr);
                let host_bits = 64 - u32::from(a.prefix_len);
                let last = first | u64::MAX.checked_shr(64 - host_bits).unwrap_or(0);
                (first, last)
            })
            .collect();
        let never: HashSet<u64> = reserved.iter().map(|p| index(p.addr)).collect();
        PrefixPool { alloc: Allocator::new(ranges, never) }
    }

    /// A free /64 (address with a zero interface identifier), now in use;
    /// `None` when the pool is exhausted.
    pub fn allocate(&mut self) -> Option<Ipv6Addr> {
        self.alloc.allocate().map(prefix_of)
    }

    /// Takes the /64 of `prefix` (a static or a requested prefix; reserved
    /// ones included). False when it is outside every aggregate or already
    /// in use.
    pub fn reserve(&mut self, prefix: Ipv6Addr) -> bool {
        self.alloc.reserve(index(prefix))
    }

    /// Gives the /64 of `prefix` back (a no-op when it is not in use).
    /// Reserved prefixes are not handed out dynamically afterwards either.
    pub fn release(&mut self, prefix: Ipv6Addr) {
        self.alloc.release(index(prefix))
    }

    /// Whether the /64 of `prefix` lies inside one of the aggregates (the
    /// prefix "belongs to this LMA").
    pub fn contains(&self, prefix: Ipv6Addr) -> bool {
        self.alloc.range_of(index(prefix)).is_some()
    }

    /// Whether the /64 of `prefix` is one dynamic allocation may hand out:
    /// inside an aggregate and not reserved.
    pub fn is_dynamic(&self, prefix: Ipv6Addr) -> bool {
        self.contains(prefix) && !self.alloc.never.contains(&index(prefix))
    }

    /// Whether the /64 of `prefix` is out.
    pub fn is_in_use(&self, prefix: Ipv6Addr) -> bool {
        self.alloc.is_in_use(index(prefix))
    }

    /// Number of /64s out.
    pub fn in_use(&self) -> usize {
        self.alloc.in_use()
    }

    /// The pool of `aggregates` (with `reserved` withheld) holding every
    /// /64 out here; the first /64 out outside them otherwise (for a
    /// configuration reload).
    pub fn regrown(&self, aggregates: &[Ipv6Cidr], reserved: &[Ipv6Cidr]) -> Result<PrefixPool, Ipv6Addr> {
        let alloc = self.alloc.carry_into(PrefixPool::new(aggregates, reserved).alloc).map_err(prefix_of)?;
        Ok(PrefixPool { alloc })
    }

    /// Each aggregate (`prefix/len`) with how its /64s are used; static
    /// prefixes count as withheld.
    pub fn usage(&self) -> Vec<(String, RangeUsage)> {
        self.alloc
            .ranges
            .iter()
            .zip(self.alloc.usage())
            .map(|(&(first, last), u)| {
                let len = 64 - (last - first).checked_add(1).map_or(64, u64::trailing_zeros);
                (format!("{}/{len}", prefix_of(first)), u)
            })
            .collect()
    }

    /// Number of /64s in the aggregates (reserved ones included).
    pub fn capacity(&self) -> u128 {
        self.alloc.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Ipv6Cidr {
        text.parse().unwrap()
    }

    fn addr(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    #[test]
    fn prefix_pool_hands_out_consecutive_64s_of_the_first_aggregate_then_the_next() {
        let mut p = PrefixPool::new(&[cidr("2001:db8:100::/63"), cidr("2001:db8:200::/64")], &[]);
        assert_eq!(p.capacity(), 3);
        assert_eq!(p.allocate(), Some(addr("2001:db8:100::")));
        assert_eq!(p.allocate(), Some(addr("2001:db8:100:1::")));
        assert_eq!(p.allocate(), Some(addr("2001:db8:200::")));
        assert_eq!(p.allocate(), None);
        assert_eq!(p.in_use(), 3);
    }

    #[test]
    fn prefix_pool_never_allocates_a_reserved_prefix_but_reserves_it_on_request() {
        let mut p = PrefixPool::new(&[cidr("2001:db8:100::/63")], &[cidr("2001:db8:100::/64")]);
        assert!(!p.is_dynamic(addr("2001:db8:100::")));
        assert!(p.is_dynamic(addr("2001:db8:100:1::")));
        assert_eq!(p.allocate(), Some(addr("2001:db8:100:1::")));
        assert_eq!(p.allocate(), None);
        assert!(p.reserve(addr("2001:db8:100::")));
        assert!(!p.reserve(addr("2001:db8:100::")));
        p.release(addr("2001:db8:100::"));
        assert_eq!(p.allocate(), None);
    }

    #[test]
    fn prefix_pool_reserve_refuses_prefixes_outside_the_aggregates_and_ignores_the_interface_id() {
        let mut p = PrefixPool::new(&[cidr("2001:db8:100::/48")], &[]);
        assert!(!p.contains(addr("2001:db8:101::")));
        assert!(!p.reserve(addr("2001:db8:101::")));
        assert!(p.reserve(addr("2001:db8:100:5::1")));
        assert!(p.is_in_use(addr("2001:db8:100:5::")));
        assert!(p.contains(addr("2001:db8:100:ffff::")));
    }

    #[test]
    fn prefix_pool_reuses_a_released_prefix_only_after_the_fresh_ones() {
        let mut p = PrefixPool::new(&[cidr("2001:db8:100::/62")], &[]);
        let first = p.allocate().unwrap();
        p.release(first);
        assert!(!p.is_in_use(first));
        assert_eq!(p.allocate(), Some(addr("2001:db8:100:1::")));
        assert_eq!(p.allocate(), Some(addr("2001:db8:100:2::")));
        assert_eq!(p.allocate(), Some(addr("2001:db8:100:3::")));
        assert_eq!(p.allocate(), Some(first));
    }

    #[test]
    fn prefix_pool_of_a_slash_32_has_four_billion_prefixes_without_building_a_bitmap() {
        let mut p = PrefixPool::new(&[cidr("2001:db8::/32")], &[]);
        assert_eq!(p.capacity(), 1 << 32);
        assert_eq!(p.allocate(), Some(addr("2001:db8::")));
    }
}
