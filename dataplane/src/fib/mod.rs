//! The forwarding table: `(VRF, address)` of a mobile node to its session
//! and tunnel. The control thread owns the one [`FibWriter`]; each worker
//! holds a clone of the [`FibReader`] and looks a whole RX burst up once.
//!
//! # Layout
//!
//! A fixed-capacity open-addressing index of 64-byte (cache-line aligned)
//! buckets, two slots each; a slot is four `AtomicU64` words holding the
//! key inline (control word with state, kind, VRF and a 28-bit hash tag;
//! two address words) and the value `session << 32 | tunnel` (see
//! `table.rs` for the bit layout). A hit costs the home bucket's line; keys
//! whose home bucket was full go to the next bucket with a free slot
//! (linear probing by bucket) and raise the overflow count of the buckets
//! they passed, so a probe, hit or miss, ends at the first bucket that
//! nothing overflowed. The table is sized for `capacity` live entries at
//! most 3/4 of the slots; [`FibWriter::insert`] refuses a new key beyond
//! that with [`FibError::Full`].
//!
//! # Publication
//!
//! One writer. A new key goes into a free slot: address and value words
//! first, then the control word with a Release store; readers load the
//! control word with Acquire before the words it guards, so they see a
//! whole slot or skip it. Removing a key stores a "retired" control word:
//! probes started later skip the slot, probes already past the control
//! word keep reading the words they matched, which stay untouched.
//!
//! Replacing the value of a present key is done in place: the value is a
//! single word, so one Release store is atomic for readers, who see the
//! old or the new `(session, tunnel)`, never a mix, and the key words do
//! not change. That avoids a second slot and a grace period per update.
//! (A removed key that is inserted again gets a new slot; the old one is
//! retired with its words intact, so a reader still holding it reads the
//! old entry whole.)
//! Publish anything the new value refers to (a tunnel table snapshot)
//! before the update: readers load the value with Acquire.
//!
//! # Reclamation
//!
//! A retired slot is freed for reuse only after a grace period, by quiescent
//! state based reclamation (`qsbr.rs`): each removal stores a new token;
//! workers copy the token into their own counter once per poll iteration
//! ([`FibReader::quiescent`]: a load and a store, no read-modify-write);
//! [`FibWriter::reclaim`] frees, in removal order, the slots whose token
//! every online worker has reached. So no reader ever reads a slot whose
//! words are being rewritten: a torn or stale-after-reclaim entry cannot be
//! seen, without per-slot versions, and no ABA either (a slot cannot be
//! freed and refilled under a reader). The writer's work is O(1) per
//! change (amortised; a probe for a free slot is short at 3/4 load), plus
//! O(workers + freed) per `reclaim` call. A worker must call `quiescent` only
//! between lookups, and `offline` before it stops or sleeps, or it holds
//! every reclamation back (retired slots then fill the table).
//!
//! # Burst lookup
//!
//! A worker looks a burst up in two steps ([`FibReader::burst`]):
//! [`FibBurst::start`] hashes a key and prefetches its home bucket while the
//! packet is classified; [`FibBurst::finish`] probes it once the whole burst
//! is classified, when the line has arrived. A prefetch rather than a load:
//! a load that misses holds up retirement, so with ~100 instructions of
//! classification between two starts only a few misses would overlap; a
//! burst's prefetches all do. The probe of the home bucket does not branch
//! on which slot matched (that would be mispredicted now and then, and
//! resolved only when the line arrives); the next bucket, for keys whose
//! home bucket overflowed (about 1 in 10 at half load), is probed inline,
//! further ones out of line. [`FibReader::lookup_burst`] runs the same two
//! steps over a slice of keys (benchmarks, stress tests).
//!
//! [`FibReader::lookup`] is the same probe for one key.
//!
//! # Hash
//!
//! Two folded 64x64->128-bit multiplies over the address words, VRF and
//! kind, with a per-table random seed (`table.rs`): a few cycles, and
//! sequential pool addresses spread over buckets like random ones.

mod key;
mod qsbr;
mod table;

use std::cell::Cell;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;

pub use key::{FibKey, Vrf};
use qsbr::Qsbr;
use table::Table;

/// What the table maps a key to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FibEntry {
    /// The session (binding) the address belongs to.
    pub session: u32,
    /// Index into the per-peer tunnel table.
    pub tunnel: u32,
}

impl FibEntry {
    fn pack(self) -> u64 {
        u64::from(self.session) << 32 | u64::from(self.tunnel)
    }

    fn unpack(word: u64) -> FibEntry {
        FibEntry { session: (word >> 32) as u32, tunnel: word as u32 }
    }
}

#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum FibError {
    /// The table holds `capacity` entries, or every other slot waits for
    /// its grace period.
    #[error("forwarding table full")]
    Full,
}

/// Keys a burst lookup hashes before it probes.
const BURST: usize = 32;

struct Shared {
    table: Table,
    qsbr: Qsbr,
}

/// Creates a table for `capacity` entries (rounded up so that it stays at
/// most 3/4 full) read by `workers` workers, numbered `0..workers`. Every
/// worker starts online.
pub fn new(capacity: usize, workers: usize) -> (FibWriter, FibReader) {
    with_seed(capacity, workers, None)
}

/// [`new`] with the hash seed derived from `seed` instead of drawn at
/// random: the same keys then land in the same buckets in every process
/// (for benchmarks that subtract one run from another). A daemon uses
/// [`new`], so that collisions cannot be precomputed.
pub fn with_seed(capacity: usize, workers: usize, seed: Option<u64>) -> (FibWriter, FibReader) {
    let table = Table::new(table::buckets_for(capacity), seed);
    let capacity = table.slots() * 3 / 4;
    let shared = Arc::new(Shared { table, qsbr: Qsbr::new(workers) });
    let writer = FibWriter {
        shared: Arc::clone(&shared),
        len: 0,
        capacity,
        token: Qsbr::first_token(),
        retired: VecDeque::new(),
        not_sync: PhantomData,
    };
    (writer, FibReader { shared })
}

/// A slot waiting for its grace period: free once every online worker has
/// seen `token`.
struct Retired {
    slot: usize,
    token: u64,
}

/// The single writer: owned by the control thread. Send, not Sync.
pub struct FibWriter {
    shared: Arc<Shared>,
    len: usize,
    capacity: usize,
    /// The last token published to the workers.
    token: u64,
    /// In removal order, hence in token order.
    retired: VecDeque<Retired>,
    not_sync: PhantomData<Cell<()>>,
}

impl FibWriter {
    /// Maps `key` to `entry`; returns the entry it replaced. A present key
    /// is updated in place (readers see the old or the new entry); a new
    /// key fails with [`FibError::Full`] when the table holds `capacity`
    /// entries or no slot is free even after [`FibWriter::reclaim`].
    pub fn insert(&mut self, key: FibKey, entry: FibEntry) -> Result<Option<FibEntry>, FibError> {
        let table = &self.shared.table;
        let key = key.encode();
        let hash = table.hash(&key);
        if let Some(hit) = table.view().find(&key, hash) {
            let old = FibEntry::unpack(hit.value());
            table.set_value(hit.slot, entry.pack());
            return Ok(Some(old));
        }
        if self.len >= self.capacity {
            return Err(FibError::Full);
        }
        let slot = match table.find_free(hash) {
            Some(slot) => slot,
            None => {
                self.reclaim();
                let table = &self.shared.table;
                table.find_free(hash).ok_or(FibError::Full)?
            }
        };
        self.shared.table.fill(slot, &key, hash, entry.pack());
        self.len += 1;
        Ok(None)
    }

    /// Unpublishes `key`; its slot is reused after the grace period.
    pub fn remove(&mut self, key: &FibKey) -> Option<FibEntry> {
        let table = &self.shared.table;
        let key = key.encode();
        let hash = table.hash(&key);
        let hit = table.view().find(&key, hash)?;
        let (slot, old) = (hit.slot, FibEntry::unpack(hit.value()));
        table.retire(slot, hash);
        self.token += 1;
        self.shared.qsbr.advance(self.token);
        self.retired.push_back(Retired { slot, token: self.token });
        self.len -= 1;
        Some(old)
    }

    pub fn get(&self, key: &FibKey) -> Option<FibEntry> {
        FibReader::lookup_in(&self.shared.table, key)
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most live entries the table takes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Frees the retired slots whose grace period has passed (every online
    /// worker called `quiescent` after their removal); returns how many.
    /// The control loop calls it once per iteration.
    pub fn reclaim(&mut self) -> usize {
        if self.retired.is_empty() {
            return 0;
        }
        let seen = self.shared.qsbr.oldest_seen(self.token);
        let mut freed = 0;
        while let Some(r) = self.retired.front() {
            if r.token > seen {
                break;
            }
            self.shared.table.free(r.slot);
            self.retired.pop_front();
            freed += 1;
        }
        freed
    }

    /// Retired slots still waiting for their grace period.
    pub fn pending_reclaim(&self) -> usize {
        self.retired.len()
    }

    /// Every live entry, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (FibKey, FibEntry)> + '_ {
        self.shared.table.live().map(|(key, value)| (key.decode(), FibEntry::unpack(value)))
    }

    /// Slots in the table (live, retired and free).
    pub fn slots(&self) -> usize {
        self.shared.table.slots()
    }
}

impl std::fmt::Debug for FibWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FibWriter")
            .field("len", &self.len)
            .field("capacity", &self.capacity)
            .field("pending_reclaim", &self.retired.len())
            .finish()
    }
}

/// The read side: one clone per worker. Lookups take no lock and do no
/// read-modify-write; a worker calls [`FibReader::quiescent`] once per
/// poll iteration, between lookups.
#[derive(Clone)]
pub struct FibReader {
    shared: Arc<Shared>,
}

impl FibReader {
    #[inline]
    pub fn lookup(&self, key: &FibKey) -> Option<FibEntry> {
        Self::lookup_in(&self.shared.table, key)
    }

    #[inline(always)]
    fn lookup_in(table: &Table, key: &FibKey) -> Option<FibEntry> {
        let key = key.encode();
        let hash = table.hash(&key);
        let hit = table.view().find(&key, hash)?;
        Some(FibEntry::unpack(hit.value()))
    }

    /// The table for the lookups of one burst, split in two steps so that
    /// a worker can start each packet's probe (hash, home bucket's line
    /// requested) while it classifies the burst and finish them all after.
    #[inline(always)]
    pub fn burst(&self) -> FibBurst<'_> {
        let table = &self.shared.table;
        FibBurst { table, view: table.view() }
    }

    /// Looks `keys` up into `out[..keys.len()]` through [`FibReader::burst`],
    /// as a worker does: every probe of up to 32 keys is started (hash,
    /// home bucket prefetched) before any is finished. Allocates nothing.
    /// Panics if `out` is shorter than `keys`.
    pub fn lookup_burst(&self, keys: &[FibKey], out: &mut [Option<FibEntry>]) {
        assert!(out.len() >= keys.len(), "lookup_burst: output too short");
        let burst = self.burst();
        let mut probes = [Probe::default(); BURST];
        for (keys, out) in keys.chunks(BURST).zip(out.chunks_mut(BURST)) {
            for (key, probe) in keys.iter().zip(probes.iter_mut()) {
                *probe = burst.start(key);
            }
            for ((key, probe), out) in keys.iter().zip(&probes).zip(out.iter_mut()) {
                *out = burst.finish(key, *probe);
            }
        }
    }

    /// Announces that worker `worker` (online) holds nothing from the table:
    /// call it once per poll iteration, between lookups. A load of the
    /// writer's token and, when it moved, a store to the worker's own cache
    /// line. Panics if `worker` is not below the `workers` given to
    /// [`new`].
    #[inline]
    pub fn quiescent(&self, worker: usize) {
        self.shared.qsbr.quiescent(worker);
    }

    /// A stopped (or sleeping) worker no longer holds up reclamation. It
    /// must not look anything up until [`FibReader::online`].
    pub fn offline(&self, worker: usize) {
        self.shared.qsbr.offline(worker);
    }

    /// The worker looks up again; it holds up reclamation from here on.
    pub fn online(&self, worker: usize) {
        self.shared.qsbr.online(worker);
    }

    /// Slots in the table (live, retired and free).
    pub fn slots(&self) -> usize {
        self.shared.table.slots()
    }

    /// Whether explicit huge pages back the table (see
    /// [`crate::port::hint::Lines`]).
    pub fn huge_pages(&self) -> bool {
        self.shared.table.huge_pages()
    }
}

/// A probe begun by [`FibBurst::start`]: the key's hash; its home bucket's
/// line has been prefetched.
#[derive(Debug, Clone, Copy, Default)]
pub struct Probe {
    hash: u64,
}

/// See [`FibReader::burst`]. Lookups through it are reads between two
/// quiescent points of the worker, like [`FibReader::lookup`].
#[derive(Clone, Copy)]
pub struct FibBurst<'a> {
    table: &'a Table,
    view: table::View<'a>,
}

impl FibBurst<'_> {
    /// Hashes `key` and prefetches its home bucket. A prefetch, not a
    /// load: the worker classifies many packets between two starts, and
    /// loads that miss would stall retirement after a few packets, whereas
    /// a burst's prefetches all overlap.
    #[inline(always)]
    pub fn start(&self, key: &FibKey) -> Probe {
        let hash = self.table.hash(&key.encode());
        self.view.prefetch(self.view.home(hash));
        Probe { hash }
    }

    /// The entry of `key`, whose probe `p` was started in this burst.
    #[inline(always)]
    pub fn finish(&self, key: &FibKey, p: Probe) -> Option<FibEntry> {
        let key = key.encode();
        let home = self.view.home(p.hash);
        let look = self.view.look(&key, p.hash, home, self.view.first_ctrl(home));
        if look.found {
            return Some(FibEntry::unpack(look.candidate.value()));
        }
        if !look.next {
            return None;
        }
        // The next bucket, inline: its line is usually the one the CPU's
        // adjacent-line prefetch brought with the home bucket.
        let next = home + 1;
        let look = self.view.look(&key, p.hash, next, self.view.first_ctrl(next));
        if look.found {
            return Some(FibEntry::unpack(look.candidate.value()));
        }
        if !look.next {
            return None;
        }
        self.finish_further(&key, p.hash, next + 1)
    }

    /// The rare case: the key went two buckets past its home bucket.
    #[inline(never)]
    fn finish_further(&self, key: &key::Encoded, hash: u64, next: usize) -> Option<FibEntry> {
        let view = self.view;
        view.probe_from(key, hash, next, view.first_ctrl(next), view.mask() - 1)
            .map(|hit| FibEntry::unpack(hit.value()))
    }
}

impl std::fmt::Debug for FibReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FibReader").field("slots", &self.slots()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;
    use std::time::{Duration, Instant};

    fn v4(vrf: Vrf, i: u32) -> FibKey {
        FibKey::V4 { vrf, addr: Ipv4Addr::from(0xcb00_7100 + i) }
    }

    fn entry(session: u32, tunnel: u32) -> FibEntry {
        FibEntry { session, tunnel }
    }

    /// SplitMix64: a few lines, no dependency, reproducible per seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Key number `id` of a mixed universe: all three kinds, two VRFs, and
    /// the same address bits under different kinds and VRFs.
    fn mixed_key(id: usize) -> FibKey {
        let vrf = (id / 3 % 2) as Vrf;
        let n = (id / 6) as u32;
        match id % 3 {
            0 => v4(vrf, n),
            1 => {
                FibKey::v6_prefix(vrf, Ipv6Addr::from(0x2001_0db8_0100_0000_0000_0000_0000_0000 | u128::from(n) << 64))
            }
            _ => {
                FibKey::V6Host { vrf, addr: Ipv6Addr::from(0x2001_0db8_0200_0000_0000_0000_0000_0000 | u128::from(n)) }
            }
        }
    }

    /// The session number the churn test stores for key `id`.
    fn session_of(id: usize) -> u32 {
        (id as u32).wrapping_mul(0x9e37_79b1) ^ 0x5a5a_0000
    }

    #[test]
    fn inserted_entries_are_found_and_removed_ones_are_not() {
        let (mut w, r) = new(16, 1);
        assert_eq!(w.insert(v4(0, 1), entry(10, 1)), Ok(None));
        assert_eq!(w.insert(v4(0, 2), entry(20, 2)), Ok(None));
        assert_eq!(w.len(), 2);
        assert_eq!(w.get(&v4(0, 1)), Some(entry(10, 1)));
        assert_eq!(r.lookup(&v4(0, 2)), Some(entry(20, 2)));
        assert_eq!(r.lookup(&v4(0, 3)), None);
        assert_eq!(w.remove(&v4(0, 1)), Some(entry(10, 1)));
        assert_eq!(w.remove(&v4(0, 1)), None);
        assert_eq!(r.lookup(&v4(0, 1)), None);
        assert_eq!(w.get(&v4(0, 2)), Some(entry(20, 2)));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn inserting_a_present_key_replaces_its_entry_in_place_and_returns_the_old_one() {
        let (mut w, r) = new(16, 1);
        w.insert(v4(0, 1), entry(10, 1)).unwrap();
        assert_eq!(w.insert(v4(0, 1), entry(11, 7)), Ok(Some(entry(10, 1))));
        assert_eq!(r.lookup(&v4(0, 1)), Some(entry(11, 7)));
        assert_eq!(w.len(), 1);
        assert_eq!(w.pending_reclaim(), 0);
    }

    #[test]
    fn keys_that_differ_only_in_vrf_or_kind_are_distinct() {
        let (mut w, r) = new(64, 1);
        for id in 0..36 {
            w.insert(mixed_key(id), entry(id as u32, 0)).unwrap();
        }
        let addr: Ipv6Addr = "2001:db8:300:1::".parse().unwrap();
        w.insert(FibKey::v6_prefix(0, addr), entry(100, 0)).unwrap();
        w.insert(FibKey::V6Host { vrf: 0, addr }, entry(101, 0)).unwrap();
        w.insert(FibKey::v6_prefix(1, addr), entry(102, 0)).unwrap();
        for id in 0..36 {
            assert_eq!(r.lookup(&mixed_key(id)), Some(entry(id as u32, 0)));
        }
        assert_eq!(r.lookup(&FibKey::V6Host { vrf: 0, addr }), Some(entry(101, 0)));
        assert_eq!(r.lookup(&FibKey::v6_prefix(1, addr)), Some(entry(102, 0)));
        // Any address inside the /64 finds the prefix.
        let inside: Ipv6Addr = "2001:db8:300:1:aa:bb:cc:dd".parse().unwrap();
        assert_eq!(r.lookup(&FibKey::v6_prefix(0, inside)), Some(entry(100, 0)));
    }

    #[test]
    fn a_full_table_refuses_new_keys_and_changes_nothing() {
        let (mut w, r) = new(10, 1);
        let capacity = w.capacity();
        assert!(capacity >= 10);
        for i in 0..capacity as u32 {
            w.insert(v4(0, i), entry(i, i)).unwrap();
        }
        let before: HashMap<_, _> = w.iter().collect();
        assert_eq!(w.insert(v4(0, 9999), entry(1, 1)), Err(FibError::Full));
        assert_eq!(w.len(), capacity);
        assert_eq!(w.get(&v4(0, 9999)), None);
        assert_eq!(r.lookup(&v4(0, 9999)), None);
        assert_eq!(w.iter().collect::<HashMap<_, _>>(), before);
        // Replacing a present key needs no slot.
        assert_eq!(w.insert(v4(0, 3), entry(33, 3)), Ok(Some(entry(3, 3))));
    }

    #[test]
    fn slots_waiting_for_their_grace_period_can_fill_the_table() {
        let (mut w, r) = new(4, 1);
        let slots = w.slots();
        // Every removal waits on worker 0, which never passes a quiescent
        // point, so live plus retired slots reach the total.
        let mut id = 0;
        while w.len() + w.pending_reclaim() < slots {
            w.insert(v4(0, id), entry(id, 0)).unwrap();
            if w.len() == w.capacity() {
                w.remove(&v4(0, id));
            }
            id += 1;
        }
        assert_eq!(w.insert(v4(0, 9999), entry(1, 1)), Err(FibError::Full));
        r.quiescent(0);
        assert_eq!(w.insert(v4(0, 9999), entry(1, 1)), Ok(None));
        assert_eq!(w.pending_reclaim(), 0);
    }

    #[test]
    fn a_removal_is_reclaimed_only_after_every_online_worker_passed_a_quiescent_point() {
        let (mut w, r) = new(16, 2);
        w.insert(v4(0, 1), entry(1, 1)).unwrap();
        r.quiescent(0);
        r.quiescent(1);
        w.remove(&v4(0, 1));
        assert_eq!(w.reclaim(), 0);
        r.quiescent(0);
        assert_eq!(w.reclaim(), 0);
        assert_eq!(w.pending_reclaim(), 1);
        r.quiescent(1);
        assert_eq!(w.reclaim(), 1);
        assert_eq!(w.pending_reclaim(), 0);
        assert_eq!(w.reclaim(), 0);
    }

    #[test]
    fn removals_are_reclaimed_in_order_up_to_what_the_slowest_worker_has_seen() {
        let (mut w, r) = new(16, 2);
        for i in 0..3 {
            w.insert(v4(0, i), entry(i, 0)).unwrap();
        }
        w.remove(&v4(0, 0));
        r.quiescent(0);
        r.quiescent(1);
        w.remove(&v4(0, 1));
        w.remove(&v4(0, 2));
        r.quiescent(0);
        assert_eq!(w.reclaim(), 1);
        assert_eq!(w.pending_reclaim(), 2);
        r.quiescent(1);
        assert_eq!(w.reclaim(), 2);
    }

    #[test]
    fn offline_workers_do_not_hold_up_reclamation_until_they_come_back_online() {
        let (mut w, r) = new(16, 2);
        for i in 0..2 {
            w.insert(v4(0, i), entry(i, 0)).unwrap();
        }
        r.offline(1);
        w.remove(&v4(0, 0));
        r.quiescent(0);
        assert_eq!(w.reclaim(), 1);
        r.online(1);
        w.remove(&v4(0, 1));
        r.quiescent(0);
        assert_eq!(w.reclaim(), 0);
        r.quiescent(1);
        assert_eq!(w.reclaim(), 1);
        r.offline(0);
        r.offline(1);
        w.insert(v4(0, 5), entry(5, 0)).unwrap();
        w.remove(&v4(0, 5));
        assert_eq!(w.reclaim(), 1);
    }

    #[test]
    fn a_table_without_workers_reclaims_at_once() {
        let (mut w, _r) = new(16, 0);
        w.insert(v4(0, 1), entry(1, 1)).unwrap();
        w.remove(&v4(0, 1));
        assert_eq!(w.reclaim(), 1);
    }

    #[test]
    fn burst_lookup_agrees_with_single_lookups_across_chunks() {
        let (mut w, r) = new(256, 1);
        for id in (0..200).step_by(2) {
            w.insert(mixed_key(id), entry(id as u32, 1)).unwrap();
        }
        let keys: Vec<FibKey> = (0..100).map(|i| mixed_key(i * 7 % 200)).collect();
        let mut out = vec![Some(entry(0, 0)); keys.len() + 3];
        r.lookup_burst(&keys, &mut out);
        for (key, got) in keys.iter().zip(&out) {
            assert_eq!(*got, r.lookup(key));
        }
        assert_eq!(out[keys.len()], Some(entry(0, 0)), "beyond keys untouched");
        r.lookup_burst(&[], &mut []);
    }

    #[test]
    fn iteration_yields_every_live_entry_once() {
        let (mut w, _r) = new(64, 1);
        let mut model = HashMap::new();
        for id in 0..40 {
            w.insert(mixed_key(id), entry(id as u32, 2)).unwrap();
            model.insert(mixed_key(id), entry(id as u32, 2));
        }
        for id in (0..40).step_by(3) {
            w.remove(&mixed_key(id));
            model.remove(&mixed_key(id));
        }
        let seen: Vec<_> = w.iter().collect();
        assert_eq!(seen.len(), model.len());
        assert_eq!(seen.into_iter().collect::<HashMap<_, _>>(), model);
    }

    #[test]
    fn random_operations_agree_with_a_hash_map_model() {
        const UNIVERSE: usize = 60;
        for seed in 0..40 {
            let mut rng = Rng(seed);
            let (mut w, r) = new(24, 2);
            let mut model: HashMap<FibKey, FibEntry> = HashMap::new();
            for step in 0..3000 {
                let key = mixed_key(rng.below(UNIVERSE));
                let value = entry(rng.next() as u32, step);
                match rng.below(10) {
                    0..=4 => match w.insert(key, value) {
                        Ok(old) => assert_eq!(old, model.insert(key, value), "seed {seed}"),
                        Err(FibError::Full) => {
                            assert!(!model.contains_key(&key), "seed {seed}");
                            assert!(
                                model.len() == w.capacity() || w.pending_reclaim() > 0,
                                "seed {seed}: full with {} live",
                                model.len()
                            );
                        }
                    },
                    5..=6 => assert_eq!(w.remove(&key), model.remove(&key), "seed {seed}"),
                    7 => {
                        let worker = rng.below(2);
                        match rng.below(8) {
                            0 => r.offline(worker),
                            1 => r.online(worker),
                            _ => r.quiescent(worker),
                        }
                    }
                    8 => {
                        w.reclaim();
                    }
                    _ => {}
                }
                assert_eq!(w.get(&key), model.get(&key).copied(), "seed {seed}");
                assert_eq!(r.lookup(&key), model.get(&key).copied(), "seed {seed}");
                assert_eq!(w.len(), model.len(), "seed {seed}");
                assert!(w.len() + w.pending_reclaim() <= w.slots());
                if step % 100 == 0 {
                    let all: Vec<FibKey> = (0..UNIVERSE).map(mixed_key).collect();
                    let mut out = [None; UNIVERSE];
                    r.lookup_burst(&all, &mut out);
                    for (key, got) in all.iter().zip(out) {
                        assert_eq!(got, model.get(key).copied(), "seed {seed}");
                    }
                    assert_eq!(w.iter().collect::<HashMap<_, _>>(), model, "seed {seed}");
                }
            }
        }
    }

    #[test]
    fn readers_never_see_a_torn_or_reclaimed_entry_while_the_writer_churns() {
        const UNIVERSE: usize = 160;
        const READERS: usize = 2;
        // Small enough that slots are reused all the time, and full now
        // and then.
        let (mut w, r) = new(96, READERS);
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..READERS)
            .map(|worker| {
                let r = r.clone();
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    let mut rng = Rng(worker as u64 + 100);
                    let mut newest = vec![0u32; UNIVERSE];
                    let mut keys = [v4(0, 0); 8];
                    let mut ids = [0usize; 8];
                    let mut out = [None; 8];
                    let (mut lookups, mut hits, mut iterations) = (0u64, 0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        for (id, key) in ids.iter_mut().zip(&mut keys) {
                            *id = rng.below(UNIVERSE);
                            *key = mixed_key(*id);
                        }
                        if iterations % 2 == 0 {
                            r.lookup_burst(&keys, &mut out);
                        } else {
                            for (key, out) in keys.iter().zip(&mut out) {
                                *out = r.lookup(key);
                            }
                        }
                        for (&id, got) in ids.iter().zip(&out) {
                            lookups += 1;
                            if let Some(e) = got {
                                hits += 1;
                                assert_eq!(e.session, session_of(id), "entry of another key");
                                assert!(e.tunnel >= newest[id], "older entry after a newer one");
                                newest[id] = e.tunnel;
                            }
                        }
                        r.quiescent(worker);
                        iterations += 1;
                        if iterations % 20_000 == 0 {
                            r.offline(worker);
                            thread::sleep(Duration::from_micros(50));
                            r.online(worker);
                        }
                    }
                    r.offline(worker);
                    (lookups, hits)
                })
            })
            .collect();

        let mut rng = Rng(7);
        let mut generation = 0u32;
        let (mut updates, mut full) = (0u64, 0u64);
        let mut reclaimed = 0;
        let deadline = Instant::now() + Duration::from_millis(2500);
        while Instant::now() < deadline {
            for _ in 0..64 {
                let id = rng.below(UNIVERSE);
                generation += 1;
                if rng.below(5) < 3 {
                    let value = entry(session_of(id), generation);
                    match w.insert(mixed_key(id), value) {
                        Ok(_) => updates += 1,
                        Err(FibError::Full) => full += 1,
                    }
                } else if w.remove(&mixed_key(id)).is_some() {
                    updates += 1;
                }
                if rng.below(4) == 0 {
                    reclaimed += w.reclaim();
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        let mut total_hits = 0;
        for reader in readers {
            let (lookups, hits) = reader.join().expect("reader saw a wrong entry");
            assert!(lookups > 0);
            total_hits += hits;
        }
        assert!(total_hits > 0);
        assert!(reclaimed > 0, "{updates} updates, {full} full");
        w.reclaim();
        assert_eq!(w.pending_reclaim(), 0, "all readers are offline");
    }

    #[test]
    fn writer_and_reader_can_move_to_their_threads() {
        fn send<T: Send>() {}
        fn send_sync_clone<T: Send + Sync + Clone>() {}
        send::<FibWriter>();
        send_sync_clone::<FibReader>();
    }
}
