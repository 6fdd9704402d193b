//! Quiescent-state-based reclamation: the writer's token and one counter
//! per worker, in the shape of DPDK's `rte_rcu_qsbr`.
//!
//! After unpublishing a slot the writer stores a new, larger token. A
//! worker, once per poll iteration (outside any lookup), loads the token
//! with Acquire and stores it into its own counter with Release. When a
//! worker's counter is at least the token stored after a removal, that
//! worker has passed a quiescent point after the removal:
//!
//! - it loaded the token (Acquire) the writer stored (Release) after the
//!   unpublish, so every probe it starts later sees the slot unpublished;
//! - its loads from before that point precede its counter store (Release),
//!   which the writer loads (Acquire) before it rewrites the slot, so no
//!   such load can see the rewrite.
//!
//! A worker that is offline (counter 0) holds nothing and is skipped. A
//! bare per-worker loop counter that the writer compares with a snapshot
//! would not do: the writer's "unpublish, then read the counter" and the
//! worker's "bump the counter, then read the slot" are a store-buffering
//! pair that x86 reorders without a full fence on both sides. Reading the
//! token avoids the fence on the packet path; only `online` needs one.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{fence, AtomicU64};

const OFFLINE: u64 = 0;
const FIRST_TOKEN: u64 = 1;

/// One atomic on a cache line of its own.
#[repr(align(64))]
struct Padded(AtomicU64);

pub(crate) struct Qsbr {
    token: Padded,
    workers: Box<[Padded]>,
}

impl Qsbr {
    /// Every worker starts online, as if it had passed a quiescent point
    /// just now: a worker that has not run yet holds nothing, but one that
    /// starts reading before it says so would otherwise race the writer.
    pub(crate) fn new(workers: usize) -> Qsbr {
        Qsbr {
            token: Padded(AtomicU64::new(FIRST_TOKEN)),
            workers: (0..workers).map(|_| Padded(AtomicU64::new(FIRST_TOKEN))).collect(),
        }
    }

    // Worker side.

    /// A load of the shared token and, when it moved, a store to the
    /// worker's own line. No read-modify-write.
    #[inline(always)]
    pub(crate) fn quiescent(&self, worker: usize) {
        let token = self.token.0.load(Acquire);
        let own = &self.workers[worker].0;
        if own.load(Relaxed) != token {
            own.store(token, Release);
        }
    }

    /// The worker holds nothing from here until [`Qsbr::online`].
    pub(crate) fn offline(&self, worker: usize) {
        self.workers[worker].0.store(OFFLINE, Release);
    }

    /// The worker may read from here on. The fence orders the store before
    /// the worker's next loads of the table (a store-load barrier, as in
    /// `rte_rcu_qsbr_thread_online`); together with the writer's fence in
    /// [`Qsbr::oldest_seen`] either the writer sees this worker online or
    /// the worker sees the writer's unpublish.
    pub(crate) fn online(&self, worker: usize) {
        let token = self.token.0.load(Acquire);
        self.workers[worker].0.store(token, Relaxed);
        fence(SeqCst);
    }

    // Writer side.

    /// The first token; a writer counts on from it.
    pub(crate) fn first_token() -> u64 {
        FIRST_TOKEN
    }

    /// Publishes a new token; called after unpublishing slots.
    pub(crate) fn advance(&self, token: u64) {
        self.token.0.store(token, Release);
    }

    /// The smallest token an online worker has announced, or `current` when
    /// no worker is online: every removal stamped with a token up to it has
    /// passed its grace period.
    pub(crate) fn oldest_seen(&self, current: u64) -> u64 {
        fence(SeqCst);
        self.workers.iter().map(|w| w.0.load(Acquire)).filter(|&seen| seen != OFFLINE).min().unwrap_or(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_has_not_seen_the_new_token_holds_back_the_oldest() {
        let q = Qsbr::new(2);
        q.advance(2);
        assert_eq!(q.oldest_seen(2), 1);
        q.quiescent(0);
        assert_eq!(q.oldest_seen(2), 1);
        q.quiescent(1);
        assert_eq!(q.oldest_seen(2), 2);
    }

    #[test]
    fn offline_workers_are_skipped_and_online_ones_count_from_the_current_token() {
        let q = Qsbr::new(2);
        q.offline(1);
        q.advance(5);
        q.quiescent(0);
        assert_eq!(q.oldest_seen(5), 5);
        q.offline(0);
        assert_eq!(q.oldest_seen(5), 5);
        q.online(1);
        q.advance(6);
        assert_eq!(q.oldest_seen(6), 5);
    }
}
