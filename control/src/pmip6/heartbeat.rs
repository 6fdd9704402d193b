//! Heartbeat between the LMA and its MAGs (RFC 5847; PROTOCOLS.md §7).

use std::net::IpAddr;
use std::time::Instant;

use anchor_config::PeerFailureAction;

use crate::proto::{hb_flags, Heartbeat, MhMessage, MobilityOption};

use super::timers::Timer;
use super::{Lma, Origin, Output, Transport, PMIP6_CONTROL_PORT};

/// What we know of one MAG (by its signalling address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Peer {
    /// Sequence number of our next request (monotonically increasing).
    pub next_seq: u32,
    /// Our last request, while unanswered.
    pub outstanding: Option<u32>,
    /// Requests in a row that went unanswered.
    pub missed: u32,
    /// Declared unreachable (until it answers again).
    pub failed: bool,
    /// The peer's Restart Counter as last seen.
    pub restart_counter: Option<u32>,
    /// It answered a heartbeat with Binding Error status 2: never again.
    pub disabled: bool,
    /// Our address its PBUs went to, and how they came.
    pub local: Option<IpAddr>,
    pub transport: Transport,
}

impl Peer {
    fn new(addr: IpAddr) -> Peer {
        let transport = match addr {
            IpAddr::V4(_) => Transport::Udp4 { src_port: PMIP6_CONTROL_PORT },
            IpAddr::V6(_) => Transport::Ipv6,
        };
        Peer {
            next_seq: 0,
            outstanding: None,
            missed: 0,
            failed: false,
            restart_counter: None,
            disabled: false,
            local: None,
            transport,
        }
    }
}

/// A MAG's heartbeat state as `anchorctl show peers` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    /// `off` (no heartbeats configured), `unknown` (no exchange yet), `up`,
    /// `waiting` (a request unanswered), `unreachable` (declared failed),
    /// `unsupported` (it answered with Binding Error status 2).
    pub state: &'static str,
    /// Requests in a row that went unanswered.
    pub missed: u32,
    /// Its Restart Counter as last seen.
    pub restart_counter: Option<u32>,
}

impl Lma {
    /// The heartbeat state of the MAG at `addr`.
    pub fn peer_view(&self, addr: IpAddr) -> PeerView {
        let Some(p) = self.peers.get(&addr) else {
            let state = if self.cfg.heartbeat_interval.is_some() { "unknown" } else { "off" };
            return PeerView { state, missed: 0, restart_counter: None };
        };
        let state = if p.disabled {
            "unsupported"
        } else if p.failed {
            "unreachable"
        } else if self.cfg.heartbeat_interval.is_none() {
            "off"
        } else if p.outstanding.is_some() && p.missed > 0 {
            "waiting"
        } else if p.restart_counter.is_some() {
            "up"
        } else {
            "unknown"
        };
        PeerView { state, missed: p.missed, restart_counter: p.restart_counter }
    }

    /// Remembers where a MAG's accepted PBU came from (heartbeats go back
    /// the same way).
    pub(super) fn note_peer(&mut self, from: Origin) {
        let peer = self.peers.entry(from.src).or_insert_with(|| Peer::new(from.src));
        peer.local = Some(from.dst);
        peer.transport = from.transport;
    }

    /// Our address for talking to `peer` first (before any PBU from it).
    fn our_address(&self, peer: IpAddr) -> Option<IpAddr> {
        match peer {
            IpAddr::V4(_) => self.cfg.ipv4_lmaa.map(IpAddr::V4),
            IpAddr::V6(_) => self.cfg.lmaa.map(IpAddr::V6),
        }
    }

    /// §7: a request is always answered (R = 1, same sequence number, our
    /// Restart Counter); a response resets the miss counter and reveals a
    /// restart.
    pub(super) fn handle_heartbeat(&mut self, from: Origin, hb: Heartbeat, now: Instant, out: &mut Vec<Output>) {
        if !self.mags.contains_key(&from.src) {
            self.counters.dropped_unlisted_peer += 1;
            return;
        }
        if hb.flags & hb_flags::R == 0 {
            self.counters.heartbeat_requests_received += 1;
            let reply = Heartbeat {
                flags: hb_flags::R,
                seq: hb.seq,
                options: vec![MobilityOption::RestartCounter(self.restart_counter)],
            };
            out.push(Output::Send {
                src: from.dst,
                dst: from.src,
                transport: from.transport,
                msg: MhMessage::Heartbeat(reply),
            });
            self.counters.heartbeat_responses_sent += 1;
            return;
        }
        self.counters.heartbeat_responses_received += 1;
        let peer = self.peers.entry(from.src).or_insert_with(|| Peer::new(from.src));
        if hb.flags & hb_flags::U == 0 && peer.outstanding == Some(hb.seq) {
            peer.outstanding = None;
        }
        // Any response shows the peer alive.
        peer.missed = 0;
        peer.failed = false;
        let counter = hb.options.iter().find_map(|o| match o {
            MobilityOption::RestartCounter(c) => Some(*c),
            _ => None,
        });
        let Some(counter) = counter else { return };
        let restarted = peer.restart_counter.is_some_and(|old| old != counter);
        peer.restart_counter = Some(counter);
        if restarted {
            // The peer lost its state: its sessions are invalid.
            self.counters.heartbeat_peer_restarts += 1;
            self.peer_failed(from.src, now, out);
        }
    }

    /// Every HEARTBEAT_INTERVAL: a request to each MAG with at least one
    /// session, after counting the previous one if it went unanswered.
    pub(super) fn heartbeat_timer(&mut self, now: Instant, out: &mut Vec<Output>) {
        let Some(interval) = self.cfg.heartbeat_interval else { return };
        self.timers.arm(Timer::Heartbeat, now + interval);
        for mag in self.cache.mags() {
            let fallback = self.our_address(mag);
            let allowed = self.cfg.missing_heartbeats_allowed;
            let peer = self.peers.entry(mag).or_insert_with(|| Peer::new(mag));
            if peer.disabled {
                continue;
            }
            if peer.outstanding.is_some() {
                peer.missed += 1;
                if peer.missed > allowed && !peer.failed {
                    peer.failed = true;
                    self.counters.heartbeat_peer_failures += 1;
                    if self.peer_failed(mag, now, out) {
                        continue;
                    }
                }
            }
            let Some(peer) = self.peers.get_mut(&mag) else { continue };
            let Some(src) = peer.local.or(fallback) else { continue };
            let seq = peer.next_seq;
            peer.next_seq = peer.next_seq.wrapping_add(1);
            peer.outstanding = Some(seq);
            let msg = Heartbeat { flags: 0, seq, options: Vec::new() };
            out.push(Output::Send { src, dst: mag, transport: peer.transport, msg: MhMessage::Heartbeat(msg) });
            self.counters.heartbeat_requests_sent += 1;
        }
    }

    /// The local action for a MAG that stopped answering or restarted
    /// (`lma.on_peer_failure`). True when its sessions were removed.
    fn peer_failed(&mut self, mag: IpAddr, now: Instant, out: &mut Vec<Output>) -> bool {
        match self.cfg.on_peer_failure {
            PeerFailureAction::Keep => false,
            PeerFailureAction::Remove => {
                for id in self.cache.by_mag(mag) {
                    self.remove_session(id, now, out);
                }
                true
            }
        }
    }

    /// §7: a Binding Error status 2 while a request is outstanding: the peer
    /// does not implement heartbeats; stop sending them.
    pub(super) fn heartbeat_not_supported(&mut self, mag: IpAddr) {
        if let Some(peer) = self.peers.get_mut(&mag) {
            if peer.outstanding.is_some() {
                peer.disabled = true;
                peer.outstanding = None;
            }
        }
    }

    /// §7: after a restart that lost state, an unsolicited response (U = 1,
    /// R = 1) with our Restart Counter to every listed MAG.
    pub(super) fn announce_restart(&mut self, out: &mut Vec<Output>) {
        for i in 0..self.cfg.mags.len() {
            let Some(mag) = self.cfg.mags.get(i).map(|m| m.addr) else { continue };
            let Some(src) = self.our_address(mag) else { continue };
            let msg = Heartbeat {
                flags: hb_flags::U | hb_flags::R,
                seq: 0,
                options: vec![MobilityOption::RestartCounter(self.restart_counter)],
            };
            out.push(Output::Send {
                src,
                dst: mag,
                transport: Peer::new(mag).transport,
                msg: MhMessage::Heartbeat(msg),
            });
            self.counters.heartbeat_responses_sent += 1;
        }
    }
}
