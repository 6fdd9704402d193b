//! Registration Revocation (RFC 3543, PROTOCOLS.md §8.9): revocations the
//! home agent sends (handoff to another foreign agent or PMA, `anchorctl
//! clear binding`), their acknowledgements, and revocations a foreign agent
//! sends us.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use super::auth::{self, SealKey};
use super::ext::{AuthKind, Extension};
use super::wire::{revocation_flags, Message, Revocation, RevocationAck};
use super::{Binding, Ha, Output, Received, RevocationPeer, Timer, MIP4_PORT};

/// First retransmission delay of an unacknowledged revocation (RFC 3543:
/// at most one message per second per binding); it doubles.
const FIRST_RETRANSMISSION: Duration = Duration::from_secs(1);
/// Retransmissions before giving up.
const MAX_RETRANSMISSIONS: u32 = 3;

/// A revocation waiting for its acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outstanding {
    hoa: Ipv4Addr,
    peer: RevocationPeer,
    /// The binding's NAI (for the MN-HA association of a co-located MN).
    mn_id: String,
    msg: Message,
    retries_left: u32,
    delay: Duration,
    at: Instant,
}

impl Ha {
    /// Sends a revocation of binding `b` to `peer` and waits for the ack.
    /// The binding itself is removed by the caller (or already moved).
    pub(super) fn send_revocation(
        &mut self,
        b: &Binding,
        peer: RevocationPeer,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        let Some((kind, spi, alg, key)) = self.revocation_sa(&peer, &b.mn_id) else { return };
        // RFC 3543: the identifier is the sender's 32-bit clock, increasing.
        let secs = wall.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let id = u32::try_from(secs & 0xffff_ffff).unwrap_or(0).max(self.last_revocation_id.wrapping_add(1));
        self.last_revocation_id = id;
        let mut msg = Message::Revocation(Revocation {
            flags: revocation_flags::A,
            home_address: b.hoa,
            home_domain: b.tunnel.local,
            foreign_domain: if peer.via_fa { peer.addr } else { b.coa },
            revocation_id: id,
            extensions: vec![Extension::Auth { kind, spi, authenticator: Vec::new() }],
        });
        auth::seal(&mut msg, &[SealKey { kind, spi, alg, key: &key }]);
        self.counters.revocations_sent += 1;
        out.push(Output::Send { src: b.tunnel.local, dst: peer.addr, dst_port: MIP4_PORT, msg: msg.clone() });
        let at = now + FIRST_RETRANSMISSION;
        self.arm(Timer::Revocation(id), at);
        let o = Outstanding {
            hoa: b.hoa,
            peer,
            mn_id: b.mn_id.to_string(),
            msg,
            retries_left: MAX_RETRANSMISSIONS,
            delay: FIRST_RETRANSMISSION,
            at,
        };
        self.revocations.insert(id, o);
    }

    /// The association that authenticates messages with `peer`: FA-HA
    /// with a foreign agent, MN-HA with a co-located mobile node.
    fn revocation_sa(&self, peer: &RevocationPeer, mn_id: &str) -> Option<(AuthKind, u32, auth::Algorithm, Vec<u8>)> {
        if peer.via_fa {
            let fa = self.fas.get(&peer.addr)?;
            Some((AuthKind::FaHa, fa.spi, fa.algorithm, fa.key.clone()))
        } else {
            let sa = self.sas.get(mn_id)?.first()?;
            Some((AuthKind::MnHa, sa.spi, sa.algorithm, sa.key.clone()))
        }
    }

    pub(super) fn revocation_timer(&mut self, id: u32, now: Instant, _wall: SystemTime, out: &mut Vec<Output>) {
        let Some(o) = self.revocations.get_mut(&id) else { return };
        if o.at > now {
            return;
        }
        if o.retries_left == 0 {
            self.revocations.remove(&id);
            return;
        }
        o.retries_left -= 1;
        o.delay *= 2;
        o.at = now + o.delay;
        let (at, msg, dst) = (o.at, o.msg.clone(), o.peer.addr);
        self.counters.revocations_retransmitted += 1;
        out.push(Output::Send { src: self.cfg.address, dst, dst_port: MIP4_PORT, msg });
        self.arm(Timer::Revocation(id), at);
    }

    /// An acknowledgement: it must match an outstanding revocation (home
    /// address, identifier, peer) and carry a valid authenticator; else it
    /// is dropped.
    pub(super) fn handle_revocation_ack(&mut self, rx: &Received, ack: RevocationAck, offsets: &[usize]) {
        let Some(o) = self.revocations.get(&ack.revocation_id) else {
            self.counters.unexpected += 1;
            return;
        };
        if o.hoa != ack.home_address || o.peer.addr != rx.src {
            self.counters.unexpected += 1;
            return;
        }
        let Some((kind, spi, alg, key)) = self.revocation_sa(&o.peer, &o.mn_id) else { return };
        if !self.last_auth_ok(rx, &ack.extensions, offsets, kind, spi, alg, &key) {
            self.counters.auth_failures += 1;
            return;
        }
        let at = o.at;
        self.revocations.remove(&ack.revocation_id);
        self.disarm(Timer::Revocation(ack.revocation_id), at);
        self.counters.revocation_acks_received += 1;
    }

    /// A foreign agent revokes a binding it registered (RFC 3543 §5):
    /// authenticated by FA-HA, newer than its last revocation, not one of
    /// ours reflected (A = 1); the binding goes and we acknowledge.
    pub(super) fn handle_revocation(
        &mut self,
        rx: &Received,
        rev: Revocation,
        offsets: &[usize],
        _now: Instant,
        out: &mut Vec<Output>,
    ) {
        let Some(fa) = self.fas.get(&rx.src).cloned() else {
            self.counters.unexpected += 1;
            return;
        };
        if rev.flags & revocation_flags::A != 0 {
            self.counters.unexpected += 1;
            return;
        }
        if !self.last_auth_ok(rx, &rev.extensions, offsets, AuthKind::FaHa, fa.spi, fa.algorithm, &fa.key) {
            self.counters.auth_failures += 1;
            return;
        }
        if self.peer_revocation_ids.get(&rx.src).is_some_and(|&last| (rev.revocation_id.wrapping_sub(last) as i32) <= 0)
        {
            self.counters.replays += 1;
            return;
        }
        self.peer_revocation_ids.insert(rx.src, rev.revocation_id);
        self.counters.revocations_received += 1;
        if let Some(&id) = self.by_hoa.get(&rev.home_address) {
            if self.bindings.get(&id).is_some_and(|b| b.registered_from.0 == rx.src)
                && self.remove_binding(id, out).is_some()
            {
                self.counters.deregistrations += 1;
            }
        }
        let mut msg = Message::RevocationAck(RevocationAck {
            flags: 0,
            home_address: rev.home_address,
            revocation_id: rev.revocation_id,
            extensions: vec![Extension::Auth { kind: AuthKind::FaHa, spi: fa.spi, authenticator: Vec::new() }],
        });
        auth::seal(&mut msg, &[SealKey { kind: AuthKind::FaHa, spi: fa.spi, alg: fa.algorithm, key: &fa.key }]);
        self.counters.revocation_acks_sent += 1;
        out.push(Output::Send { src: self.cfg.address, dst: rx.src, dst_port: rx.src_port, msg });
    }

    /// Whether the last authentication extension of a message is of `kind`
    /// and verifies under (`spi`, `alg`, `key`).
    #[allow(clippy::too_many_arguments)]
    fn last_auth_ok(
        &self,
        rx: &Received,
        extensions: &[Extension],
        offsets: &[usize],
        kind: AuthKind,
        spi: u32,
        alg: auth::Algorithm,
        key: &[u8],
    ) -> bool {
        let Some(i) = extensions.iter().rposition(|e| matches!(e, Extension::Auth { .. })) else { return false };
        let Some(Extension::Auth { kind: k, spi: s, authenticator }) = extensions.get(i) else { return false };
        let Some(covered) = offsets.get(i).and_then(|&at| auth::covered(&rx.payload, at)) else { return false };
        *k == kind && *s == spi && auth::verify(alg, key, covered, authenticator)
    }

    /// Operator revocation (`anchorctl clear binding <nai|address|id>`):
    /// the matching bindings go at once; those whose peer advertised
    /// revocation support are revoked there (RFC 3543).
    pub fn revoke(&mut self, what: &str, now: Instant, wall: SystemTime) -> Result<Vec<Output>, String> {
        let what = what.trim();
        let mut ids: Vec<u32> = self.by_mn.iter().filter(|((mn, _), _)| mn == what).map(|(_, id)| *id).collect();
        if ids.is_empty() {
            if let Ok(a) = what.parse::<Ipv4Addr>() {
                ids.extend(self.by_hoa.get(&a));
            } else if let Ok(id) = what.parse::<u32>() {
                ids.extend(self.bindings.get(&id).map(|b| b.id));
            }
        }
        if ids.is_empty() {
            return Err(format!("no mobile ipv4 binding matches {what:?}"));
        }
        ids.sort_unstable();
        let mut out = Vec::new();
        for id in ids {
            if let Some(b) = self.remove_binding(id, &mut out) {
                if let Some(peer) = b.revocation {
                    self.send_revocation(&b, peer, now, wall, &mut out);
                }
            }
        }
        Ok(out)
    }
}
