//! The slot array: 64-byte buckets of two slots, the probe readers run,
//! and the single writer's slot operations (fill, retire, free).
//!
//! Slot words (four `AtomicU64`, 32 bytes; slot 0 and slot 1 of a bucket
//! share its cache line):
//!
//! | word | contents |
//! |---|---|
//! | 0 control | bits 0-1 state (free, live, retired), 2-3 key kind, 4-19 VRF, 20-47 hash tag; in slot 0 only, bits 48-63 the bucket's overflow count |
//! | 1 | IPv4 address, or the upper 64 bits of the IPv6 prefix/address |
//! | 2 | the lower 64 bits of an IPv6 /128, else 0 |
//! | 3 | the value: session in the upper 32 bits, tunnel in the lower 32 |
//!
//! The overflow count of a bucket is the number of live keys whose probe
//! passed over it (their home bucket, or a later one, was full when they
//! were inserted). A probe stops at the first bucket whose count is zero,
//! so a miss usually costs one bucket and the table needs no tombstones.
//! A count that reaches its maximum sticks there (it only costs longer
//! probes for misses); a probe also stops after visiting every bucket.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::key::{Encoded, Kind};
use crate::port::hint::{Lines, LINE_WORDS};

pub(crate) const SLOTS_PER_BUCKET: usize = 2;
const WORDS_PER_SLOT: usize = 4;

const STATE_MASK: u64 = 0b11;
pub(crate) const FREE: u64 = 0;
pub(crate) const LIVE: u64 = 1;
pub(crate) const RETIRED: u64 = 2;
const KIND_SHIFT: u32 = 2;
const VRF_SHIFT: u32 = 4;
const TAG_SHIFT: u32 = 20;
/// Bits of the hash kept in the control word (the top 28).
const TAG_FROM_HASH: u32 = 64 - 28;
const OVERFLOW_SHIFT: u32 = 48;
const SLOT_BITS: u64 = (1 << OVERFLOW_SHIFT) - 1;
const OVERFLOW_MAX: u64 = u64::MAX >> OVERFLOW_SHIFT;

/// One cache line: two slots of four words (64-byte aligned: the table's
/// memory is page aligned).
pub(crate) type Bucket = [AtomicU64; LINE_WORDS];

const _: () = assert!(SLOTS_PER_BUCKET * WORDS_PER_SLOT == LINE_WORDS && std::mem::size_of::<Bucket>() == 64);

/// The four words of one slot.
struct Slot<'a> {
    ctrl: &'a AtomicU64,
    hi: &'a AtomicU64,
    lo: &'a AtomicU64,
    value: &'a AtomicU64,
}

/// A slot that holds a key (see [`View::look`]).
pub(crate) struct Hit<'a> {
    pub slot: usize,
    value: &'a AtomicU64,
}

impl Hit<'_> {
    /// The slot's value. Acquire: whatever the writer published before
    /// storing this value (a tunnel table snapshot the value indexes) is
    /// visible to the reader.
    #[inline(always)]
    pub(crate) fn value(&self) -> u64 {
        self.value.load(Acquire)
    }
}

/// A table's buckets for a run of lookups (see [`Table::view`]).
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    buckets: &'a [Bucket],
    mask: usize,
}

impl<'a> View<'a> {
    #[inline(always)]
    pub(crate) fn home(&self, hash: u64) -> usize {
        hash as usize & self.mask
    }

    /// Prefetches `bucket`'s line (see [`crate::port::hint::prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch(&self, bucket: usize) {
        crate::port::hint::prefetch(&self.buckets[bucket & self.mask]);
    }

    /// Loads the first control word of `bucket` (slot 0's control word and
    /// the overflow count). Issued for a whole burst before any probe, it
    /// doubles as the prefetch of the bucket's line.
    #[inline(always)]
    pub(crate) fn first_ctrl(&self, bucket: usize) -> u64 {
        self.buckets[bucket & self.mask][0].load(Acquire)
    }

    /// The slot that holds `key` live, if any.
    #[inline(always)]
    pub(crate) fn find(&self, key: &Encoded, hash: u64) -> Option<Hit<'a>> {
        let home = self.home(hash);
        self.probe_from(key, hash, home, self.first_ctrl(home), self.mask)
    }

    /// Looks for `key` in `bucket`, whose first control word `ctrl0` was
    /// loaded by [`View::first_ctrl`] earlier in the same read-side critical
    /// section. Branch-free: found or not, the candidate slot's value word
    /// can be loaded (it is in the same line) and selected afterwards.
    ///
    /// Each control word is loaded with Acquire and the key words after it,
    /// so when the control word says live with this key's tag the key words
    /// are the ones the writer stored before publishing the slot; the
    /// writer rewrites them only after a grace period, which cannot end
    /// while this reader is between two quiescent points.
    #[inline(always)]
    pub(crate) fn look(&self, key: &Encoded, hash: u64, bucket: usize, ctrl0: u64) -> Look<'a> {
        let want = live_ctrl(key, hash);
        let bucket = bucket & self.mask;
        let words = &self.buckets[bucket];
        let ctrl1 = words[WORDS_PER_SLOT].load(Acquire);
        let in0 = (ctrl0 & SLOT_BITS == want) & (words[1].load(Relaxed) == key.hi) & (words[2].load(Relaxed) == key.lo);
        let in1 = (ctrl1 == want)
            & (words[WORDS_PER_SLOT + 1].load(Relaxed) == key.hi)
            & (words[WORDS_PER_SLOT + 2].load(Relaxed) == key.lo);
        // A key is live in one slot at most.
        let i = usize::from(!in0);
        let found = in0 | in1;
        Look {
            found,
            next: !found & (ctrl0 >> OVERFLOW_SHIFT != 0),
            candidate: Hit { slot: bucket * SLOTS_PER_BUCKET + i, value: &words[i * WORDS_PER_SLOT + 3] },
        }
    }

    /// Probes from `bucket` (first control word `ctrl0`, see
    /// [`View::look`]) on, through at most `left` more buckets.
    #[inline(always)]
    pub(crate) fn probe_from(
        &self,
        key: &Encoded,
        hash: u64,
        mut bucket: usize,
        mut ctrl0: u64,
        mut left: usize,
    ) -> Option<Hit<'a>> {
        loop {
            let look = self.look(key, hash, bucket, ctrl0);
            if look.found {
                return Some(look.candidate);
            }
            if !look.next || left == 0 {
                return None;
            }
            left -= 1;
            bucket = (bucket + 1) & self.mask;
            ctrl0 = self.first_ctrl(bucket);
        }
    }

    /// Buckets a probe visits at most after the first.
    pub(crate) fn mask(&self) -> usize {
        self.mask
    }
}

/// What one bucket says about a key.
pub(crate) struct Look<'a> {
    /// `candidate` holds the key.
    pub found: bool,
    /// Not found here, but keys from this bucket's probe overflowed to the
    /// next bucket.
    pub next: bool,
    /// The slot the key is in if `found`; meaningless otherwise.
    pub candidate: Hit<'a>,
}

pub(crate) struct Table {
    buckets: Lines,
    mask: usize,
    seed: [u64; 4],
}

/// The live control word (without overflow bits) a key's slot holds.
#[inline(always)]
fn live_ctrl(key: &Encoded, hash: u64) -> u64 {
    LIVE | (key.kind as u64) << KIND_SHIFT | u64::from(key.vrf) << VRF_SHIFT | (hash >> TAG_FROM_HASH) << TAG_SHIFT
}

#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The number of buckets for `capacity` live entries at most 3/4 full.
pub(crate) fn buckets_for(capacity: usize) -> usize {
    let slots = capacity.saturating_mul(4).div_ceil(3).max(2 * SLOTS_PER_BUCKET);
    let buckets = slots.div_ceil(SLOTS_PER_BUCKET).next_power_of_two();
    assert!(buckets <= 1 << 30, "forwarding table capacity {capacity} too large");
    buckets
}

impl Table {
    /// A table of `buckets` (a power of two) empty buckets, hashed with a
    /// random seed of its own, or one derived from `seed` (benchmarks that
    /// compare runs want the same layout in each).
    pub(crate) fn new(buckets: usize, seed: Option<u64>) -> Table {
        assert!(buckets.is_power_of_two() && buckets >= 2);
        let random = RandomState::new();
        let derive = |i: usize| match seed {
            // SplitMix64 steps from the given seed.
            Some(s) => {
                let mut z = s.wrapping_add((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            }
            None => random.hash_one(i),
        };
        Table { buckets: Lines::zeroed(buckets), mask: buckets - 1, seed: std::array::from_fn(derive) }
    }

    pub(crate) fn huge_pages(&self) -> bool {
        self.buckets.huge()
    }

    pub(crate) fn slots(&self) -> usize {
        self.buckets.len() * SLOTS_PER_BUCKET
    }

    /// Two folded 64x64->128 multiplies: every input bit reaches every
    /// output bit, sequential addresses spread like random ones, and the
    /// per-table random seed keeps collisions from being precomputed.
    #[inline(always)]
    pub(crate) fn hash(&self, key: &Encoded) -> u64 {
        let meta = (key.kind as u64) << 16 | u64::from(key.vrf);
        let a = folded_multiply(key.hi ^ self.seed[0], key.lo ^ self.seed[1]);
        folded_multiply(a ^ self.seed[2], meta ^ self.seed[3])
    }

    #[inline(always)]
    pub(crate) fn home(&self, hash: u64) -> usize {
        hash as usize & self.mask
    }

    #[inline(always)]
    fn slot(&self, slot: usize) -> Slot<'_> {
        let words = &self.buckets[slot / SLOTS_PER_BUCKET];
        let base = (slot % SLOTS_PER_BUCKET) * WORDS_PER_SLOT;
        Slot { ctrl: &words[base], hi: &words[base + 1], lo: &words[base + 2], value: &words[base + 3] }
    }

    /// The buckets and mask as locals for a run of lookups: after an
    /// Acquire load the compiler would reload the table's fields from
    /// memory, and slicing to `mask + 1` buckets lets it drop the index
    /// checks.
    #[inline(always)]
    pub(crate) fn view(&self) -> View<'_> {
        View { buckets: &self.buckets[..=self.mask], mask: self.mask }
    }

    // Writer side. Only the single writer calls these; its own loads are
    // Relaxed, its stores that readers may act on are Release.

    /// Replaces the value of a live slot in place: one store of one word,
    /// so a reader sees the old or the new value, never a mix.
    pub(crate) fn set_value(&self, slot: usize, value: u64) {
        self.slot(slot).value.store(value, Release);
    }

    pub(crate) fn state(&self, slot: usize) -> u64 {
        self.slot(slot).ctrl.load(Relaxed) & STATE_MASK
    }

    /// The first free slot at or after the home bucket of `hash`.
    pub(crate) fn find_free(&self, hash: u64) -> Option<usize> {
        let mut bucket = self.home(hash);
        for _ in 0..self.buckets.len() {
            for i in 0..SLOTS_PER_BUCKET {
                let slot = bucket * SLOTS_PER_BUCKET + i;
                if self.state(slot) == FREE {
                    return Some(slot);
                }
            }
            bucket = (bucket + 1) & self.mask;
        }
        None
    }

    /// Writes `key` and `value` into the free `slot` and publishes it:
    /// the overflow counts of the buckets passed over first, then the key
    /// and value words (Relaxed: no reader looks at them before the
    /// control word says live), then the control word with Release.
    pub(crate) fn fill(&self, slot: usize, key: &Encoded, hash: u64, value: u64) {
        debug_assert_eq!(self.state(slot), FREE);
        self.add_overflow_on_path(hash, slot, true);
        let s = self.slot(slot);
        s.hi.store(key.hi, Relaxed);
        s.lo.store(key.lo, Relaxed);
        s.value.store(value, Relaxed);
        self.set_ctrl(slot, live_ctrl(key, hash));
    }

    /// Unpublishes a live slot: readers that start a probe from now on skip
    /// it; readers that already matched it keep reading unchanged words
    /// (nothing in it is rewritten until [`Table::free`]).
    pub(crate) fn retire(&self, slot: usize, hash: u64) {
        debug_assert_eq!(self.state(slot), LIVE);
        self.set_ctrl(slot, RETIRED);
        self.add_overflow_on_path(hash, slot, false);
    }

    /// Makes a retired slot free for [`Table::fill`]; only after its grace
    /// period.
    pub(crate) fn free(&self, slot: usize) {
        debug_assert_eq!(self.state(slot), RETIRED);
        self.set_ctrl(slot, FREE);
    }

    /// Stores a slot's control word, keeping the bucket's overflow count.
    fn set_ctrl(&self, slot: usize, ctrl: u64) {
        let word = self.slot(slot).ctrl;
        let keep = word.load(Relaxed) & !SLOT_BITS;
        word.store(keep | ctrl, Release);
    }

    /// Counts one more (or one fewer) key passing over each bucket from
    /// the home bucket of `hash` up to, not including, `slot`'s bucket.
    fn add_overflow_on_path(&self, hash: u64, slot: usize, more: bool) {
        let target = slot / SLOTS_PER_BUCKET;
        let mut bucket = self.home(hash);
        while bucket != target {
            let word = &self.buckets[bucket][0];
            let ctrl = word.load(Relaxed);
            let count = ctrl >> OVERFLOW_SHIFT;
            if count != OVERFLOW_MAX {
                debug_assert!(more || count > 0);
                let count = if more { count + 1 } else { count - 1 };
                word.store(ctrl & SLOT_BITS | count << OVERFLOW_SHIFT, Release);
            }
            bucket = (bucket + 1) & self.mask;
        }
    }

    /// Every live slot with its key and value, for the writer.
    pub(crate) fn live(&self) -> impl Iterator<Item = (Encoded, u64)> + '_ {
        (0..self.slots()).filter_map(move |slot| {
            let s = self.slot(slot);
            let ctrl = s.ctrl.load(Relaxed);
            (ctrl & STATE_MASK == LIVE).then(|| {
                let key = Encoded {
                    kind: Kind::from_bits(ctrl >> KIND_SHIFT),
                    vrf: (ctrl >> VRF_SHIFT) as u16,
                    hi: s.hi.load(Relaxed),
                    lo: s.lo.load(Relaxed),
                };
                (key, s.value.load(Relaxed))
            })
        })
    }

    #[cfg(test)]
    fn overflow(&self, bucket: usize) -> u64 {
        self.buckets[bucket][0].load(Relaxed) >> OVERFLOW_SHIFT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fib::FibKey;

    fn v4(i: u32) -> Encoded {
        FibKey::V4 { vrf: 0, addr: (0x0a00_0000 + i).into() }.encode()
    }

    fn lookup(t: &Table, key: &Encoded) -> Option<usize> {
        let hash = t.hash(key);
        t.view().find(key, hash).map(|hit| hit.slot)
    }

    #[test]
    fn a_given_seed_gives_the_same_layout_in_every_table_and_none_a_fresh_one() {
        let (a, b) = (Table::new(1 << 10, Some(7)), Table::new(1 << 10, Some(7)));
        assert_eq!(a.seed, b.seed);
        assert_ne!(a.seed, Table::new(1 << 10, Some(8)).seed);
        assert_ne!(Table::new(1 << 10, None).seed, Table::new(1 << 10, None).seed);
    }

    #[test]
    fn capacity_is_rounded_up_to_a_power_of_two_of_buckets_at_most_three_quarters_full() {
        assert_eq!(buckets_for(0), 2);
        assert_eq!(buckets_for(6), 4);
        assert_eq!(buckets_for(7), 8);
        assert_eq!(buckets_for(1 << 20), 1 << 20);
        for capacity in [1, 5, 100, 1000, 12345] {
            assert!(buckets_for(capacity) * SLOTS_PER_BUCKET * 3 / 4 >= capacity);
        }
    }

    #[test]
    fn sequential_addresses_spread_over_buckets_like_random_ones() {
        let t = Table::new(1 << 16, None);
        let mut per_bucket = vec![0u32; 1 << 16];
        for i in 0..(1 << 15) {
            per_bucket[t.home(t.hash(&v4(i)))] += 1;
        }
        // Half-full by keys: Poisson(0.5) has ~39 % non-empty buckets and
        // a maximum around 7; a weak hash gives either extreme.
        let used = per_bucket.iter().filter(|&&n| n > 0).count();
        assert!(used > (1 << 16) * 35 / 100, "{used} buckets used");
        assert!(*per_bucket.iter().max().unwrap() <= 10);
    }

    #[test]
    fn keys_overflowing_a_full_bucket_are_found_and_counted_until_retired() {
        let t = Table::new(8, None);
        // Three keys with the same home bucket: the third overflows.
        let hash = t.hash(&v4(0));
        let keys: Vec<Encoded> = (0..).map(v4).filter(|k| t.home(t.hash(k)) == t.home(hash)).take(3).collect();
        let slots: Vec<usize> = keys
            .iter()
            .map(|k| {
                let h = t.hash(k);
                let slot = t.find_free(h).unwrap();
                t.fill(slot, k, h, 7);
                slot
            })
            .collect();
        let home = t.home(hash);
        assert_eq!(slots[2] / SLOTS_PER_BUCKET, (home + 1) & t.mask);
        assert_eq!(t.overflow(home), 1);
        for (k, s) in keys.iter().zip(&slots) {
            assert_eq!(lookup(&t, k), Some(*s));
        }
        t.retire(slots[2], t.hash(&keys[2]));
        assert_eq!(t.overflow(home), 0);
        assert_eq!(lookup(&t, &keys[2]), None);
    }

    #[test]
    fn a_miss_terminates_when_every_bucket_counts_overflow() {
        let t = Table::new(4, None);
        for bucket in 0..4 {
            t.buckets[bucket][0].store(OVERFLOW_MAX << OVERFLOW_SHIFT, Relaxed);
        }
        assert_eq!(lookup(&t, &v4(1)), None);
    }

    #[test]
    fn a_saturated_overflow_count_sticks() {
        let t = Table::new(4, None);
        let key = v4(0);
        let hash = t.hash(&key);
        let home = t.home(hash);
        t.buckets[home][0].store(OVERFLOW_MAX << OVERFLOW_SHIFT, Relaxed);
        // Fill the home bucket so the key lands in the next one.
        t.buckets[home][0].store(OVERFLOW_MAX << OVERFLOW_SHIFT | RETIRED, Relaxed);
        t.buckets[home][WORDS_PER_SLOT].store(RETIRED, Relaxed);
        let slot = t.find_free(hash).unwrap();
        t.fill(slot, &key, hash, 1);
        t.retire(slot, hash);
        assert_eq!(t.overflow(home), OVERFLOW_MAX);
    }
}
