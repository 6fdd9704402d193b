//! Shadow binding cache entries: the LMA side of the extended home link
//! (draft-premec-mext-extended-home-link-00 §4.2, §5.2; PROTOCOLS.md
//! §11.4), for an anchor that is the mobile node's DSMIPv6 home agent and
//! its LMA at once.
//!
//! The daemon tells the LMA which home addresses each mobile node's own
//! DSMIPv6 registration holds ([`Lma::set_mn_owned`],
//! [`Lma::clear_mn_owned`]). A PBU that asks for such an address (IPv4 HoA
//! Request of 0.0.0.0 or that address; an HNP option of ALL_ZERO or that
//! /64) creates a **shadow** BCE with the address copied into it, answered
//! like any other but with no forwarding: the mobile node's binding
//! forwards. When the mobile node de-registers that address (it is at home,
//! on the MAG's link), [`Lma::activate_shadow`] makes the shadow BCE active
//! and installs it. One not activated within `shadow_timeout` is revoked at
//! the MAG with a BRI and dropped (the RFC 5846 machinery of `revocation`).
//!
//! Pools: while a mobile node's registration owns an address, the daemon
//! holds it in the LMA's pools for that registration, so a shadow BCE takes
//! nothing from them and gives nothing back. Once the registration lets the
//! address go, a session holding it keeps it: [`Lma::set_mn_owned`],
//! [`Lma::clear_mn_owned`] and [`Lma::activate_shadow`] reserve it in the
//! pools for the session, and dynamic allocation skips (and so keeps
//! reserved) an address a session holds whichever order the daemon's calls
//! come in.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Instant, SystemTime};

use super::pbu::Pbu;
use super::revocation::Purpose;
use super::timers::Timer;
use super::{slash64, Lma, Output, SessionState};

/// Length of the prefixes a shadow BCE copies (§3.1: per-MN /64s).
const HNP_LEN: u8 = 64;

/// The home addresses one mobile node's own registration holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Owned {
    ipv4: Option<Ipv4Addr>,
    /// The /64 holding its IPv6 home address.
    ipv6_prefix: Option<Ipv6Addr>,
}

/// The home addresses the mobile nodes' own registrations hold, by MN-ID
/// and by address (kept in step by [`OwnedAddresses::set`] only).
#[derive(Debug, Default)]
pub(super) struct OwnedAddresses {
    by_mn: HashMap<String, Owned>,
    by_hoa: HashMap<Ipv4Addr, String>,
    by_prefix: HashMap<Ipv6Addr, String>,
}

impl OwnedAddresses {
    /// Sets what `mn_id` owns (nothing: forgets it); returns what it owned
    /// before.
    fn set(&mut self, mn_id: &str, owned: Owned) -> Owned {
        let before = self.by_mn.remove(mn_id).unwrap_or_default();
        if let Some(a) = before.ipv4 {
            if self.by_hoa.get(&a).is_some_and(|m| m == mn_id) {
                self.by_hoa.remove(&a);
            }
        }
        if let Some(p) = before.ipv6_prefix {
            if self.by_prefix.get(&p).is_some_and(|m| m == mn_id) {
                self.by_prefix.remove(&p);
            }
        }
        if owned != Owned::default() {
            if let Some(a) = owned.ipv4 {
                self.by_hoa.insert(a, mn_id.to_owned());
            }
            if let Some(p) = owned.ipv6_prefix {
                self.by_prefix.insert(p, mn_id.to_owned());
            }
            self.by_mn.insert(mn_id.to_owned(), owned);
        }
        before
    }

    fn of(&self, mn_id: &str) -> Option<Owned> {
        self.by_mn.get(mn_id).copied()
    }

    fn holds_hoa(&self, a: Ipv4Addr) -> bool {
        self.by_hoa.contains_key(&a)
    }

    fn holds_prefix(&self, p: Ipv6Addr) -> bool {
        self.by_prefix.contains_key(&p)
    }
}

/// The mobile node's own home addresses a new session's PBU asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Claim {
    /// IPv4 home address, prefix length, default router.
    pub hoa: Option<(Ipv4Addr, u8, Ipv4Addr)>,
    /// The /64.
    pub hnp: Option<Ipv6Addr>,
}

impl Claim {
    /// `pbu` less the requests this claim answers: what the pools assign.
    pub fn rest_of(&self, pbu: &Pbu) -> Pbu {
        let mut rest = pbu.clone();
        if self.hoa.is_some() {
            rest.opts.ipv4_requests.clear();
        }
        if let Some(p) = self.hnp {
            let named = |&(len, h): &(u8, Ipv6Addr)| len == HNP_LEN && !h.is_unspecified() && slash64(h) == p;
            if rest.opts.hnps.iter().any(named) {
                rest.opts.hnps.retain(|h| !named(h));
            } else if let Some(at) = rest.opts.hnps.iter().position(|(_, h)| h.is_unspecified()) {
                rest.opts.hnps.remove(at);
            }
        }
        rest
    }
}

impl Lma {
    /// The home addresses that an active DSMIPv6 registration created by
    /// the mobile node `mn_id` itself holds (§11.4): its IPv4 home address
    /// and the /64 holding its IPv6 home address (any address inside it
    /// will do). Replaces what was set before; both `None` is
    /// [`Lma::clear_mn_owned`]. Call it whenever that registration changes.
    ///
    /// From now on a new session for `mn_id` whose PBU asks for one of them
    /// is a shadow BCE. Sessions that exist are left as they are; an address
    /// the registration no longer holds and a session does is reserved in
    /// the LMA's pools for that session.
    pub fn set_mn_owned(&mut self, mn_id: &str, ipv4: Option<Ipv4Addr>, ipv6_prefix: Option<Ipv6Addr>) {
        let owned = Owned { ipv4, ipv6_prefix: ipv6_prefix.map(slash64) };
        let before = self.owned.set(mn_id, owned);
        self.keep_for_sessions(before, owned);
    }

    /// The mobile node `mn_id` has no registration of its own any more
    /// (it went, or the daemon stops the home agent): its PBUs are handled
    /// as usual again. Shadow BCEs already made stay shadows until
    /// [`Lma::activate_shadow`] or their timeout.
    pub fn clear_mn_owned(&mut self, mn_id: &str) {
        let before = self.owned.set(mn_id, Owned::default());
        self.keep_for_sessions(before, Owned::default());
    }

    /// The mobile node de-registered the home address `addr` from its own
    /// binding (the DSMIPv6 home agent found it at home for that family,
    /// §11.4): the shadow BCE holding `addr` (an IPv4 home address, or any
    /// address inside a /64 it holds) becomes active, and its forwarding
    /// through its MAG is installed (`Output::Install`). `addr` is no longer
    /// counted as the mobile node's own.
    ///
    /// Nothing happens, and nothing is returned, when no shadow BCE holds
    /// `addr`, or the one that does is already being revoked for its
    /// timeout. One the MAG has de-registered (deprecated) is only marked
    /// activated: a PBU reviving it makes it active.
    pub fn activate_shadow(&mut self, addr: IpAddr, now: Instant, _wall: SystemTime) -> Vec<Output> {
        let mut out = self.start(now);
        let id = match addr {
            IpAddr::V4(a) => self.cache.by_hoa(a),
            IpAddr::V6(a) => self.cache.by_hnp(slash64(a)),
        };
        let Some(mut b) = id.and_then(|id| self.cache.get(id)).cloned() else { return out };
        let Some(deadline) = b.shadow else { return out };
        if b.revoking.is_some_and(|seq| self.bris.get(&seq).is_some_and(|bri| bri.purpose == Purpose::ShadowTimeout)) {
            return out;
        }
        let id = b.session.id;
        // The mobile node let go of this address.
        if let Some(owned) = self.owned.of(&b.session.mn_id) {
            let left = match addr {
                IpAddr::V4(a) if owned.ipv4 == Some(a) => Owned { ipv4: None, ..owned },
                IpAddr::V6(a) if owned.ipv6_prefix == Some(slash64(a)) => Owned { ipv6_prefix: None, ..owned },
                _ => owned,
            };
            let before = self.owned.set(&b.session.mn_id, left);
            self.keep_for_sessions(before, left);
        }
        self.timers.disarm(Timer::Shadow(id), deadline);
        b.shadow = None;
        let (state, timer) = (b.session.state, b.timer);
        self.cache.replace(b);
        if state == SessionState::Shadow {
            self.counters.shadows_activated += 1;
            self.set_state(id, SessionState::Active, timer, true, &mut out);
        }
        out
    }

    /// The mobile node's own addresses that `pbu` (for a new session) asks
    /// for and no session holds yet; `None` when there are none (an
    /// ordinary session).
    pub(super) fn shadow_claim(&self, pbu: &Pbu) -> Option<Claim> {
        let owned = self.owned.of(&pbu.mn_id)?;
        let hoa = match (owned.ipv4, pbu.opts.ipv4_request()) {
            (Some(a), Some((_, wanted)))
                if (wanted.is_unspecified() || wanted == a) && self.cache.by_hoa(a).is_none() =>
            {
                // The subnet's prefix length and router when one of our
                // pools has it; else the address alone.
                let (len, router) = self.hoas.lookup(a).unwrap_or((32, Ipv4Addr::UNSPECIFIED));
                Some((a, len, router))
            }
            _ => None,
        };
        let hnp = owned.ipv6_prefix.filter(|p| {
            self.cache.by_hnp(*p).is_none()
                && pbu.opts.hnps.iter().any(|&(len, h)| h.is_unspecified() || (len == HNP_LEN && slash64(h) == *p))
        });
        (hoa.is_some() || hnp.is_some()).then_some(Claim { hoa, hnp })
    }

    /// `shadow_timeout` passed for session `id`: a shadow BCE still not
    /// activated is revoked at its MAG (a BRI, trigger 1) and goes with the
    /// BRA or when the retransmissions run out. A deprecated one is left to
    /// MinDelayBeforeBCEDelete (a PBU reviving it revokes it then).
    pub(super) fn shadow_timer(&mut self, id: u32, now: Instant, out: &mut Vec<Output>) {
        let Some(b) = self.cache.get(id) else { return };
        if b.shadow.is_none_or(|deadline| deadline > now) || b.session.state != SessionState::Shadow {
            return;
        }
        self.counters.shadows_revoked += 1;
        self.send_bri(id, Purpose::ShadowTimeout, now, out);
    }

    /// Gives the /64 `p` back to the pool, unless a mobile node's own
    /// registration holds it (its reservation is the daemon's).
    pub(super) fn release_prefix(&mut self, p: Ipv6Addr) {
        if !self.owned.holds_prefix(p) {
            self.prefixes.release(p);
        }
    }

    /// Gives the IPv4 home address `a` back to the pool, unless a mobile
    /// node's own registration holds it.
    pub(super) fn release_hoa(&mut self, a: Ipv4Addr) {
        if !self.owned.holds_hoa(a) {
            self.hoas.release(a);
        }
    }

    /// Addresses owned `before` and not `now` that a session holds: the
    /// pools hold them for the session from now on.
    fn keep_for_sessions(&mut self, before: Owned, now: Owned) {
        if let Some(a) = before.ipv4.filter(|a| now.ipv4 != Some(*a) && !self.owned.holds_hoa(*a)) {
            if self.cache.by_hoa(a).is_some() {
                self.hoas.reserve(a);
            }
        }
        if let Some(p) = before.ipv6_prefix.filter(|p| now.ipv6_prefix != Some(*p) && !self.owned.holds_prefix(*p)) {
            if self.cache.by_hnp(p).is_some() {
                self.prefixes.reserve(p);
            }
        }
    }
}
