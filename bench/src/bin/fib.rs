//! Forwarding-table micro-benchmark: lookup cost for IPv4 keys in a table of
//! 1k and of 1M entries (one hot key, uniformly random present keys, random
//! absent keys), single lookups against bursts of 32, and the writer's
//! update cost, next to the machine's memory floor for a buffer of the
//! table's size. One thread: the reader's figures are throughput (the CPU
//! overlaps independent lookups), not latency. "insert (fill)" fills the
//! empty table once and includes first-touch page faults.
//! Run: `cargo run --release -p bench --bin fib`. Figures are for comparison
//! between runs on one machine, never assertions.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

use dataplane::fib::{self, FibEntry, FibKey, FibReader};

const ROUNDS: usize = 5;
const BURST: usize = 32;
/// Random keys a lookup round walks through, at most (4 per entry, so the
/// key array of the small table stays in cache).
const RANDOM_KEYS: usize = 1 << 20;
/// Remove+insert pairs per churn round.
const CHURN_PAIRS: usize = 1 << 18;
const LOOKUPS: usize = 1 << 22;

/// SplitMix64.
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

/// Pool-like keys: consecutive addresses from 10.0.0.0.
fn key(i: usize) -> FibKey {
    FibKey::V4 { vrf: 0, addr: Ipv4Addr::from(0x0a00_0000 + i as u32) }
}

fn entry(i: usize) -> FibEntry {
    FibEntry { session: i as u32, tunnel: (i % 64) as u32 }
}

/// Median nanoseconds per operation of `ROUNDS` runs of `f`, which returns
/// how many operations it did.
fn median_ns(mut f: impl FnMut() -> usize) -> f64 {
    let mut ns: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            let ops = f();
            start.elapsed().as_nanos() as f64 / ops as f64
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    ns[ROUNDS / 2]
}

fn single(r: &FibReader, keys: &[FibKey]) -> f64 {
    median_ns(|| {
        let mut sum = 0u64;
        let mut done = 0;
        while done < LOOKUPS {
            for k in keys {
                if let Some(e) = r.lookup(black_box(k)) {
                    sum += u64::from(e.tunnel);
                }
            }
            done += keys.len();
        }
        black_box(sum);
        done
    })
}

fn burst(r: &FibReader, keys: &[FibKey]) -> f64 {
    let mut out = [None; BURST];
    median_ns(|| {
        let mut sum = 0u64;
        let mut done = 0;
        while done < LOOKUPS {
            for chunk in keys.chunks_exact(BURST) {
                r.lookup_burst(black_box(chunk), &mut out);
                sum += out.iter().flatten().map(|e| u64::from(e.tunnel)).sum::<u64>();
            }
            done += keys.len() / BURST * BURST;
        }
        black_box(sum);
        done
    })
}

/// The machine's floor for a table of `bytes`: ns per random 8-byte load
/// from a buffer that size, dependent (each address from the previous load:
/// latency) and independent (throughput, what a burst can approach).
fn memory_floor(bytes: usize, rng: &mut Rng) -> (f64, f64) {
    const STRIDE: usize = 8; // u64s per cache line
    let lines = (bytes / 64).max(2);
    // Sattolo's shuffle: one cycle through every line.
    let mut order: Vec<usize> = (0..lines).collect();
    for i in (1..lines).rev() {
        order.swap(i, rng.below(i));
    }
    let mut next = vec![0usize; lines * STRIDE];
    for (i, &line) in order.iter().enumerate() {
        next[line * STRIDE] = order[(i + 1) % lines] * STRIDE;
    }
    let starts: Vec<usize> = (0..RANDOM_KEYS).map(|_| rng.below(lines) * STRIDE).collect();
    let dependent = median_ns(|| {
        let mut at = 0;
        for _ in 0..LOOKUPS / 4 {
            at = next[at];
        }
        black_box(at);
        LOOKUPS / 4
    });
    let independent = median_ns(|| {
        let mut sum = 0;
        for &at in &starts {
            sum += next[at];
        }
        black_box(sum);
        starts.len()
    });
    (dependent, independent)
}

struct Row {
    entries: &'static str,
    case: &'static str,
    single: f64,
    burst: f64,
}

fn main() {
    let mut lookups = Vec::new();
    let mut updates = Vec::new();
    let mut floors = Vec::new();
    for (label, n) in [("1k", 1_000), ("1M", 1_000_000)] {
        let (mut w, r) = fib::new(n, 1);
        let start = Instant::now();
        for i in 0..n {
            w.insert(key(i), entry(i)).expect("sized for n");
        }
        let fill = start.elapsed().as_nanos() as f64 / n as f64;

        let mut rng = Rng(n as u64);
        let hot = vec![key(n / 2); BURST];
        let count = (4 * n).clamp(4 * BURST, RANDOM_KEYS);
        let present: Vec<FibKey> = (0..count).map(|_| key(rng.below(n))).collect();
        let absent: Vec<FibKey> = (0..count).map(|_| key(n + rng.below(n))).collect();
        for (case, keys) in [("hot key", &hot), ("uniform random", &present), ("random miss", &absent)] {
            lookups.push(Row { entries: label, case, single: single(&r, keys), burst: burst(&r, keys) });
        }
        let (dependent, independent) = memory_floor(r.slots() * 32, &mut rng);
        floors.push((label, r.slots() * 32, dependent, independent));

        let replace = median_ns(|| {
            for (i, k) in present.iter().enumerate() {
                w.insert(*k, entry(i)).expect("present");
            }
            present.len()
        });
        // Steady churn at n entries: remove the oldest key, insert a new
        // one; the control loop's quiescent/reclaim every 32 changes.
        let mut oldest = 0;
        let churn = median_ns(|| {
            for _ in 0..CHURN_PAIRS / BURST {
                for _ in 0..BURST {
                    w.remove(&key(oldest)).expect("present");
                    w.insert(key(oldest + n), entry(oldest)).expect("room");
                    oldest += 1;
                }
                r.quiescent(0);
                w.reclaim();
            }
            CHURN_PAIRS * 2
        });
        updates.push((label, fill, replace, churn));
    }

    println!("fib lookup, IPv4 keys, ns per lookup, median of {ROUNDS} rounds of {LOOKUPS}");
    println!("{:<8} {:<16} {:>10} {:>12}", "entries", "keys", "single", "burst of 32");
    for row in &lookups {
        println!("{:<8} {:<16} {:>10.2} {:>12.2}", row.entries, row.case, row.single, row.burst);
    }
    println!();
    println!("memory floor: ns per random 8-byte load from a buffer the table's size");
    println!("{:<8} {:>10} {:>12} {:>12}", "entries", "bytes", "dependent", "independent");
    for (label, bytes, dependent, independent) in &floors {
        println!("{label:<8} {bytes:>10} {dependent:>12.2} {independent:>12.2}");
    }
    println!();
    println!("fib update, ns per operation");
    println!("{:<8} {:>14} {:>14} {:>22}", "entries", "insert (fill)", "replace value", "remove+insert+reclaim");
    for (label, fill, replace, churn) in &updates {
        println!("{label:<8} {fill:>14.2} {replace:>14.2} {churn:>22.2}");
    }
}
