//! Admission of signalling under load (`[overload]`): a token bucket per
//! source address, then a bounded backlog the control loop works through a
//! bounded number of messages at a time. A storm from one peer costs that
//! peer its excess messages (it retransmits later); other peers, timers,
//! revocations and the CLI keep their turn.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use anchor_config::OverloadConfig;
use dataplane::wire::ethernet;
use serde_json::{json, Value};

use crate::punt::ip_endpoints;

/// How often the peer table may be swept for idle buckets when it is full.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// One source's tokens, refilled at the configured rate up to the burst.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Bucket {
        Bucket { tokens: burst, at: now }
    }

    /// Refills for the time since the last message and takes one token.
    fn take(&mut self, rate: f64, burst: f64, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * rate).min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Per-peer rate limits and the backlog of admitted messages.
#[derive(Debug)]
pub struct Admission {
    cfg: OverloadConfig,
    peers: HashMap<IpAddr, Bucket>,
    /// The bucket of every source that found the peer table full (and of
    /// frames without an IP source).
    others: Bucket,
    last_sweep: Instant,
    backlog: VecDeque<(usize, Vec<u8>)>,
    /// Messages dropped because their source was over its rate.
    pub rate_limited: u64,
    /// Admitted messages dropped because the backlog was full.
    pub backlog_dropped: u64,
    /// Passes that left messages for a later pass.
    pub passes_at_budget: u64,
}

impl Admission {
    pub fn new(cfg: &OverloadConfig, now: Instant) -> Admission {
        Admission {
            cfg: cfg.clone(),
            peers: HashMap::new(),
            others: Bucket::full(f64::from(cfg.peer_burst), now),
            last_sweep: now,
            backlog: VecDeque::new(),
            rate_limited: 0,
            backlog_dropped: 0,
            passes_at_budget: 0,
        }
    }

    /// Takes new limits (a configuration reload); buckets and the backlog
    /// stay, a smaller backlog is trimmed from its newest end (counted).
    pub fn reconfigure(&mut self, cfg: &OverloadConfig) {
        self.cfg = cfg.clone();
        let keep = cfg.signalling_backlog as usize;
        if self.backlog.len() > keep {
            self.backlog_dropped += (self.backlog.len() - keep) as u64;
            self.backlog.truncate(keep);
        }
    }

    /// Queues the frames whose source is within its rate and that fit the
    /// backlog; counts the others.
    pub fn offer(&mut self, frames: Vec<(usize, Vec<u8>)>, now: Instant) {
        for (port, frame) in frames {
            if !self.allowed(source(&frame), now) {
                self.rate_limited += 1;
                continue;
            }
            if self.backlog.len() >= self.cfg.signalling_backlog as usize {
                self.backlog_dropped += 1;
                continue;
            }
            self.backlog.push_back((port, frame));
        }
    }

    /// The messages for this pass: at most `signalling_per_pass`, oldest
    /// first.
    pub fn take_pass(&mut self) -> Vec<(usize, Vec<u8>)> {
        let n = self.backlog.len().min(self.cfg.signalling_per_pass as usize);
        let pass: Vec<_> = self.backlog.drain(..n).collect();
        if !self.backlog.is_empty() {
            self.passes_at_budget += 1;
        }
        pass
    }

    /// Whether messages wait for a later pass.
    pub fn pending(&self) -> bool {
        !self.backlog.is_empty()
    }

    fn allowed(&mut self, src: Option<IpAddr>, now: Instant) -> bool {
        if self.cfg.peer_rate == 0 {
            return true;
        }
        let (rate, burst) = (f64::from(self.cfg.peer_rate), f64::from(self.cfg.peer_burst));
        let Some(src) = src else { return self.others.take(rate, burst, now) };
        if !self.peers.contains_key(&src) && self.peers.len() >= OverloadConfig::MAX_PEERS {
            self.sweep(rate, burst, now);
        }
        if let Some(b) = self.peers.get_mut(&src) {
            return b.take(rate, burst, now);
        }
        if self.peers.len() >= OverloadConfig::MAX_PEERS {
            return self.others.take(rate, burst, now);
        }
        let mut b = Bucket::full(burst, now);
        let ok = b.take(rate, burst, now);
        self.peers.insert(src, b);
        ok
    }

    /// Forgets peers whose bucket has refilled (idle long enough that a new
    /// full bucket is the same thing), at most once per `SWEEP_INTERVAL`.
    fn sweep(&mut self, rate: f64, burst: f64, now: Instant) {
        if now.saturating_duration_since(self.last_sweep) < SWEEP_INTERVAL {
            return;
        }
        self.last_sweep = now;
        let refill = Duration::from_secs_f64(burst / rate);
        self.peers.retain(|_, b| now.saturating_duration_since(b.at) < refill);
    }

    /// `show stats` `overload`.
    pub fn stats_json(&self) -> Value {
        json!({
            "rate_limited": self.rate_limited,
            "backlog_dropped": self.backlog_dropped,
            "passes_at_budget": self.passes_at_budget,
            "backlog": self.backlog.len(),
            "peers": self.peers.len(),
        })
    }
}

/// The IP source address of an Ethernet frame.
fn source(frame: &[u8]) -> Option<IpAddr> {
    let eth = ethernet::Frame::new_checked(frame).ok()?;
    ip_endpoints(eth.payload()).map(|(src, _)| src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(rate: u32, burst: u32, per_pass: u32, backlog: u32) -> OverloadConfig {
        OverloadConfig {
            peer_rate: rate,
            peer_burst: burst,
            punts_per_pass: 64,
            signalling_per_pass: per_pass,
            signalling_backlog: backlog,
        }
    }

    /// An Ethernet + IPv4 frame from `src` (the rest does not matter here).
    fn frame(src: [u8; 4]) -> (usize, Vec<u8>) {
        let mut f = vec![0u8; 14 + 20 + 8];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[14 + 12..14 + 16].copy_from_slice(&src);
        f[14 + 16..14 + 20].copy_from_slice(&[192, 0, 2, 1]);
        (0, f)
    }

    fn from(src: [u8; 4], n: usize) -> Vec<(usize, Vec<u8>)> {
        (0..n).map(|_| frame(src)).collect()
    }

    #[test]
    fn a_peer_gets_its_burst_then_its_rate_and_others_are_not_charged() {
        let t0 = Instant::now();
        let mut a = Admission::new(&cfg(10, 5, 1000, 1000), t0);
        a.offer(from([198, 51, 100, 1], 8), t0);
        assert_eq!((a.backlog.len(), a.rate_limited), (5, 3));
        a.offer(from([198, 51, 100, 2], 5), t0);
        assert_eq!((a.backlog.len(), a.rate_limited), (10, 3), "another peer has its own bucket");
        // 10 per second: after 0.3 s three more from the first peer.
        a.offer(from([198, 51, 100, 1], 5), t0 + Duration::from_millis(300));
        assert_eq!((a.backlog.len(), a.rate_limited), (13, 5));
    }

    #[test]
    fn rate_zero_admits_everything() {
        let t0 = Instant::now();
        let mut a = Admission::new(&cfg(0, 0, 1000, 1000), t0);
        a.offer(from([198, 51, 100, 1], 500), t0);
        assert_eq!((a.backlog.len(), a.rate_limited), (500, 0));
    }

    #[test]
    fn a_pass_takes_at_most_its_budget_oldest_first_and_the_backlog_is_bounded() {
        let t0 = Instant::now();
        let mut a = Admission::new(&cfg(0, 0, 4, 10), t0);
        let frames: Vec<_> = (0..12u8).map(|i| frame([198, 51, 100, i])).collect();
        a.offer(frames.clone(), t0);
        assert_eq!(a.backlog_dropped, 2);
        let first = a.take_pass();
        assert_eq!(first, frames[..4].to_vec());
        assert!(a.pending());
        assert_eq!(a.take_pass().len(), 4);
        assert_eq!(a.take_pass().len(), 2);
        assert!(!a.pending());
        assert_eq!(a.passes_at_budget, 2);
        assert!(a.take_pass().is_empty());
    }

    #[test]
    fn frames_without_an_ip_source_share_one_bucket() {
        let t0 = Instant::now();
        let mut a = Admission::new(&cfg(1, 2, 10, 10), t0);
        a.offer(vec![(0, vec![1, 2, 3]); 4], t0);
        assert_eq!((a.backlog.len(), a.rate_limited), (2, 2));
    }

    #[test]
    fn idle_peers_are_swept_when_the_table_is_full() {
        let t0 = Instant::now();
        let mut a = Admission::new(&cfg(1000, 1, 10, 10), t0);
        for i in 0..OverloadConfig::MAX_PEERS {
            let b = u32::try_from(i).unwrap().to_be_bytes();
            assert!(a.allowed(Some(IpAddr::from([10, b[1], b[2], b[3]])), t0));
        }
        assert_eq!(a.peers.len(), OverloadConfig::MAX_PEERS);
        // Full table: a newcomer shares the others' bucket (depth 1).
        let late = Some(IpAddr::from([203, 0, 113, 9]));
        assert!(a.allowed(late, t0));
        assert!(!a.allowed(late, t0));
        // Two seconds later every bucket has refilled: the sweep frees them.
        let t2 = t0 + Duration::from_secs(2);
        assert!(a.allowed(late, t2));
        assert_eq!(a.peers.len(), 1);
    }
}
