//! Home address allocators: IPv6 home network prefixes (/64s carved out of
//! shorter aggregates, RFC 5213 §5.3.2 / PROTOCOLS.md §3.4.1) and IPv4 home
//! addresses (RFC 5844 §3.1.2.2 / PROTOCOLS.md §4.3.1).
//!
//! Both pools share one allocator (`Allocator`): a cursor that walks the
//! never-used values once, plus a FIFO free list of released ones, plus the
//! set of values in use. An allocation advances the cursor or, once it has
//! walked everything, pops the free list; values the cursor or the free list meet that are in use or must
//! never be allocated are skipped, and each such value is skipped at most
//! once per pass of the cursor, so allocation is amortised O(1) however
//! large the pool (a /32 aggregate holds 2^32 /64s) and however many values
//! are out (1M sessions). Released values are reused only when no fresh one
//! is left, oldest first, so a prefix does not go straight back to a new
//! mobile node.

mod ipv4;
mod prefix;

use std::collections::{HashSet, VecDeque};

pub use ipv4::Ipv4HoaPool;
pub use prefix::PrefixPool;

/// How one range of an [`Allocator`] is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeUsage {
    /// Values in the range.
    pub size: u128,
    /// Values out (allocated or reserved).
    pub in_use: u64,
    /// Values allocation never hands out (excluded, default routers,
    /// static prefixes) that are not out either.
    pub withheld: u64,
}

impl RangeUsage {
    /// Values allocation could still hand out.
    pub fn free(&self) -> u128 {
        self.size.saturating_sub(u128::from(self.in_use) + u128::from(self.withheld))
    }
}

/// Hands out values from inclusive ranges `first..=last`, never one of
/// `never`, never one twice. Also the LMA's GRE key allocator.
#[derive(Debug, Clone, Default)]
pub(crate) struct Allocator {
    /// The ranges, walked in this order by the cursor; not overlapping.
    ranges: Vec<(u64, u64)>,
    /// Values that are never handed out by [`Allocator::allocate`] (they
    /// may still be [`Allocator::reserve`]d).
    never: HashSet<u64>,
    /// Values out, by allocation or reservation.
    in_use: HashSet<u64>,
    /// Released values the cursor has already passed, oldest first. May
    /// hold values reserved again since, and duplicates of them; both are
    /// skipped when popped.
    free: VecDeque<u64>,
    /// Next never-walked value: (range index, value); `None` once every
    /// range has been walked.
    cursor: Option<(usize, u64)>,
    /// Per range: how it is used, kept as values come and go so that
    /// [`Allocator::usage`] costs nothing however many are out.
    usage: Vec<RangeUsage>,
}

impl Allocator {
    pub(crate) fn new(ranges: Vec<(u64, u64)>, never: HashSet<u64>) -> Allocator {
        let ranges: Vec<(u64, u64)> = ranges.into_iter().filter(|(first, last)| first <= last).collect();
        let cursor = ranges.first().map(|&(first, _)| (0, first));
        let mut usage: Vec<RangeUsage> = ranges
            .iter()
            .map(|&(first, last)| RangeUsage { size: u128::from(last - first) + 1, in_use: 0, withheld: 0 })
            .collect();
        for &v in &never {
            if let Some(u) = ranges.iter().position(|&(first, last)| (first..=last).contains(&v)).map(|i| &mut usage[i])
            {
                u.withheld += 1;
            }
        }
        Allocator { ranges, never, in_use: HashSet::new(), free: VecDeque::new(), cursor, usage }
    }

    /// Marks `value` (inside range `range`) out; false when it already was.
    fn take(&mut self, range: usize, value: u64) -> bool {
        if !self.in_use.insert(value) {
            return false;
        }
        if let Some(u) = self.usage.get_mut(range) {
            u.in_use += 1;
            if self.never.contains(&value) {
                u.withheld = u.withheld.saturating_sub(1);
            }
        }
        true
    }

    /// Index of the range holding `value`.
    fn range_of(&self, value: u64) -> Option<usize> {
        self.ranges.iter().position(|&(first, last)| (first..=last).contains(&value))
    }

    /// Whether the cursor has not reached `value` yet (it will hand it out
    /// when it gets there, unless it is in use then).
    fn ahead_of_cursor(&self, value: u64) -> bool {
        match (self.cursor, self.range_of(value)) {
            (Some(cursor), Some(range)) => (range, value) >= cursor,
            _ => false,
        }
    }

    fn advance(&mut self) -> Option<u64> {
        let (range, value) = self.cursor?;
        let &(_, last) = self.ranges.get(range)?;
        self.cursor = if value < last {
            Some((range, value + 1))
        } else {
            self.ranges.get(range + 1).map(|&(first, _)| (range + 1, first))
        };
        Some(value)
    }

    /// A never-used value while there are any, else the oldest released
    /// one.
    pub(crate) fn allocate(&mut self) -> Option<u64> {
        while let Some((range, value)) = self.cursor.and_then(|(range, _)| Some((range, self.advance()?))) {
            if !self.never.contains(&value) && self.take(range, value) {
                return Some(value);
            }
        }
        while let Some(value) = self.free.pop_front() {
            let Some(range) = self.range_of(value) else { continue };
            if !self.never.contains(&value) && self.take(range, value) {
                return Some(value);
            }
        }
        None
    }

    /// Takes `value` (inside a range, `never` values included); false when
    /// it is outside every range or already out.
    pub(crate) fn reserve(&mut self, value: u64) -> bool {
        self.range_of(value).is_some_and(|range| self.take(range, value))
    }

    /// Gives `value` back; a no-op when it is not out.
    pub(crate) fn release(&mut self, value: u64) {
        if !self.in_use.remove(&value) {
            return;
        }
        let never = self.never.contains(&value);
        if let Some(u) = self.range_of(value).and_then(|i| self.usage.get_mut(i)) {
            u.in_use = u.in_use.saturating_sub(1);
            if never {
                u.withheld += 1;
            }
        }
        if !never && !self.ahead_of_cursor(value) {
            self.free.push_back(value);
        }
    }

    pub(crate) fn is_in_use(&self, value: u64) -> bool {
        self.in_use.contains(&value)
    }

    pub(crate) fn in_use(&self) -> usize {
        self.in_use.len()
    }

    /// `into` (a freshly built allocator, e.g. of a grown pool) with every
    /// value out here taken there too; the first value it cannot hold (no
    /// longer inside a range) otherwise. Values out stay out, whatever
    /// `never` now says.
    pub(crate) fn carry_into(&self, mut into: Allocator) -> Result<Allocator, u64> {
        for &v in &self.in_use {
            let range = into.range_of(v).ok_or(v)?;
            into.take(range, v);
        }
        Ok(into)
    }

    /// How each range is used, in order (kept up to date as values come
    /// and go: no walk over the values out).
    pub(crate) fn usage(&self) -> Vec<RangeUsage> {
        self.usage.clone()
    }

    /// Values in all ranges, `never` ones included.
    pub(crate) fn size(&self) -> u128 {
        self.ranges.iter().map(|&(first, last)| u128::from(last - first) + 1).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrying_over_keeps_every_value_out_and_refuses_one_outside_the_new_ranges() {
        let mut a = Allocator::new(vec![(10, 12)], HashSet::new());
        assert_eq!((a.allocate(), a.allocate()), (Some(10), Some(11)));
        let mut grown = a.carry_into(Allocator::new(vec![(10, 12), (20, 21)], HashSet::new())).unwrap();
        assert_eq!(grown.in_use(), 2);
        assert_eq!(
            [grown.allocate(), grown.allocate(), grown.allocate(), grown.allocate()],
            [Some(12), Some(20), Some(21), None]
        );
        assert_eq!(a.carry_into(Allocator::new(vec![(11, 12)], HashSet::new())).unwrap_err(), 10);
    }

    #[test]
    fn usage_kept_as_values_come_and_go_equals_a_recount() {
        let never: HashSet<u64> = [3, 15, 40].into_iter().collect();
        let mut a = Allocator::new(vec![(1, 20), (30, 45)], never.clone());
        let mut x = 7u64;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = x % 50;
            match x % 3 {
                0 => {
                    a.allocate();
                }
                1 => {
                    a.reserve(v);
                }
                _ => a.release(v),
            }
            let recount: Vec<RangeUsage> = a
                .ranges
                .iter()
                .map(|&(first, last)| {
                    let inside = |w: &&u64| (first..=last).contains(*w);
                    RangeUsage {
                        size: u128::from(last - first) + 1,
                        in_use: a.in_use.iter().filter(inside).count() as u64,
                        withheld: never.iter().filter(inside).filter(|w| !a.in_use.contains(w)).count() as u64,
                    }
                })
                .collect();
            assert_eq!(a.usage(), recount);
        }
    }

    #[test]
    fn usage_counts_each_range_apart_with_withheld_values_not_free() {
        let mut a = Allocator::new(vec![(10, 19), (100, 103)], [11, 101].into_iter().collect());
        assert_eq!(a.allocate(), Some(10));
        assert!(a.reserve(11));
        assert!(a.reserve(102));
        let u = a.usage();
        assert_eq!(u[0], RangeUsage { size: 10, in_use: 2, withheld: 0 });
        assert_eq!(u[1], RangeUsage { size: 4, in_use: 1, withheld: 1 });
        assert_eq!((u[0].free(), u[1].free()), (8, 2));
    }

    #[test]
    fn allocator_walks_the_ranges_in_order_and_skips_never_values() {
        let mut a = Allocator::new(vec![(10, 12), (20, 21)], HashSet::from([11, 20]));
        let got: Vec<u64> = std::iter::from_fn(|| a.allocate()).collect();
        assert_eq!(got, [10, 12, 21]);
        assert_eq!(a.in_use(), 3);
        assert_eq!(a.size(), 5);
    }

    #[test]
    fn allocator_reuses_released_values_oldest_first_after_the_cursor_is_done() {
        let mut a = Allocator::new(vec![(1, 4)], HashSet::new());
        assert_eq!((a.allocate(), a.allocate(), a.allocate()), (Some(1), Some(2), Some(3)));
        a.release(2);
        a.release(1);
        assert_eq!(a.allocate(), Some(4));
        assert_eq!(a.allocate(), Some(2));
        assert_eq!(a.allocate(), Some(1));
        assert_eq!(a.allocate(), None);
    }

    #[test]
    fn allocator_never_hands_out_a_reserved_value_and_a_released_one_ahead_of_the_cursor_comes_once() {
        let mut a = Allocator::new(vec![(1, 3)], HashSet::new());
        assert!(a.reserve(2));
        assert!(!a.reserve(2));
        assert_eq!(a.allocate(), Some(1));
        a.release(2);
        assert_eq!(a.allocate(), Some(2));
        assert_eq!(a.allocate(), Some(3));
        assert_eq!(a.allocate(), None);
    }

    #[test]
    fn allocator_skips_free_list_entries_reserved_again_and_duplicates() {
        let mut a = Allocator::new(vec![(1, 2)], HashSet::new());
        assert_eq!(a.allocate(), Some(1));
        assert_eq!(a.allocate(), Some(2));
        a.release(1);
        assert!(a.reserve(1));
        a.release(1);
        assert!(a.reserve(1));
        assert_eq!(a.allocate(), None);
        a.release(1);
        assert_eq!(a.allocate(), Some(1));
        assert_eq!(a.allocate(), None);
    }

    #[test]
    fn allocator_reserves_never_values_but_does_not_recycle_them() {
        let mut a = Allocator::new(vec![(1, 2)], HashSet::from([1]));
        assert!(a.reserve(1));
        assert!(!a.reserve(7));
        a.release(1);
        assert_eq!(a.allocate(), Some(2));
        assert_eq!(a.allocate(), None);
    }

    #[test]
    fn allocator_handles_a_range_ending_at_the_largest_value() {
        let mut a = Allocator::new(vec![(u64::MAX - 1, u64::MAX)], HashSet::new());
        assert_eq!(a.allocate(), Some(u64::MAX - 1));
        assert_eq!(a.allocate(), Some(u64::MAX));
        assert_eq!(a.allocate(), None);
        assert_eq!(a.size(), 2);
    }

    #[test]
    fn allocator_hands_out_a_million_values_without_repeats() {
        let mut a = Allocator::new(vec![(0, (1 << 32) - 1)], HashSet::new());
        let mut seen = HashSet::new();
        for _ in 0..1_000_000 {
            let v = a.allocate().unwrap();
            assert!(seen.insert(v));
        }
        for v in (0..1_000_000u64).step_by(2) {
            a.release(v);
        }
        assert_eq!(a.allocate(), Some(1_000_000));
        assert_eq!(a.in_use(), 500_001);
    }
}
