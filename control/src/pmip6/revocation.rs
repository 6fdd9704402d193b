//! Binding Revocation at the LMA (RFC 5846; PROTOCOLS.md §6): BRIs we send
//! (operator revocation of one session, of an MN, of a whole MAG with G = 1
//! or of an IPv4 HoA with V = 1; HI = 4 handoffs) with their retransmission
//! and the BRAs that answer them, and BRIs a MAG sends us.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use crate::proto::{br_flags, br_type, bra_status, revocation_trigger, BindingRevocation, MhMessage, MobilityOption};

use super::pbu::HoldEnd;
use super::timers::Timer;
use super::{Lma, Origin, Output, SessionState, Transport};

/// MAX_BRACK_TIMEOUT: the retransmission timeout stops doubling here.
pub(super) const MAX_BRACK_TIMEOUT: Duration = Duration::from_secs(2);

/// InitMINDelayBRIs is never below this.
pub(super) const MIN_BRI_DELAY: Duration = Duration::from_millis(500);

/// Why we revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// `anchorctl clear binding`: trigger 1 (128 with G = 1); the sessions
    /// go whatever the answer.
    Administrative,
    /// A PBU with HI = 4 from another MAG (§6.1 last bullet): trigger 4 to
    /// the old MAG.
    HandoffUnknown,
    /// A shadow BCE not activated within `shadow_timeout` (§11.4): trigger 1
    /// "administrative reason" (the draft names none; this is the LMA's own
    /// policy, as for an operator's revocation), and the session goes
    /// whatever the answer.
    ShadowTimeout,
}

/// What one BRI asks the MAG to revoke (RFC 5846 §6.1, §8.1; PROTOCOLS.md
/// §2.6, §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// One BCE: MN-ID and the session's HNP options (an IPv4-only
    /// session: V = 1 and its IPv4 HoA Request).
    Session,
    /// Every binding of the MN at that MAG: MN-ID alone.
    Mn,
    /// Every binding at that MAG (Proxy-CoA): G = 1, trigger 128, no MN-ID.
    Mag,
    /// Only the IPv4 HoA of one BCE: V = 1, MN-ID and an IPv4 HoA Request
    /// option with the address.
    Ipv4Hoa,
}

/// An outstanding BRI.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bri {
    /// The sessions it covers, each marked "revocation in progress" with
    /// this BRI's sequence number. A session leaves the set when it is
    /// re-registered or deleted; the BRI is forgotten when none is left.
    pub sessions: Vec<u32>,
    pub reach: Reach,
    pub purpose: Purpose,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport,
    pub msg: BindingRevocation,
    /// Retransmissions left (BRIMaxRetriesNumber at first).
    pub retries_left: u32,
    pub timeout: Duration,
    /// When the next retransmission (or giving up) is due.
    pub next: Instant,
}

fn is_unicast(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_broadcast() || a.is_multicast()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast()),
    }
}

/// Where a BRI for a session goes and which Proxy-CoA it names: sessions
/// with the same key can share one BRI.
type Path = (IpAddr, IpAddr, Transport, IpAddr);

impl Lma {
    /// §6.1: revoke session `id` with a BRI to its MAG, mark it "revocation
    /// in progress" and arm the retransmission timer. The BRI carries the
    /// MN-ID and every HNP of the session (RFC 5846 §6.1: the HNP option
    /// is mandatory when one PMIPv6 BCE is revoked; see the decision in
    /// `docs/conformance/pmipv6.md`).
    pub(super) fn send_bri(&mut self, id: u32, purpose: Purpose, now: Instant, out: &mut Vec<Output>) {
        if self.take_over_revocation(id, purpose, true) {
            return;
        }
        self.start_bri(&[id], Reach::Session, purpose, now, out);
    }

    /// §6.1: revoke only the IPv4 HoA of session `id` (V = 1). A session
    /// already under revocation keeps its BRI, which becomes
    /// administrative.
    pub(super) fn send_ipv4_bri(&mut self, id: u32, now: Instant, out: &mut Vec<Output>) {
        if self.take_over_revocation(id, Purpose::Administrative, false) {
            return;
        }
        self.start_bri(&[id], Reach::Ipv4Hoa, Purpose::Administrative, now, out);
    }

    /// An operator revocation of sessions `ids` with as few BRIs as the
    /// standard allows: `reach` [`Reach::Mn`] (all are one MN's) or
    /// [`Reach::Mag`] (all are one MAG's) sends one BRI per MAG path;
    /// sessions already under revocation keep their BRI, which becomes
    /// administrative.
    pub(super) fn send_group_bri(&mut self, ids: &[u32], reach: Reach, now: Instant, out: &mut Vec<Output>) {
        let mut groups: Vec<(Path, Vec<u32>)> = Vec::new();
        for &id in ids {
            if self.take_over_revocation(id, Purpose::Administrative, true) {
                continue;
            }
            let Some(path) = self.cache.get(id).map(|b| (b.session.local, b.mag, b.transport, b.session.proxy_coa))
            else {
                continue;
            };
            match groups.iter_mut().find(|(p, _)| *p == path) {
                Some((_, group)) => group.push(id),
                None => groups.push((path, vec![id])),
            }
        }
        for (_, group) in groups {
            self.start_bri(&group, reach, Purpose::Administrative, now, out);
        }
    }

    /// When session `id` is already being revoked: an operator revocation
    /// takes the outstanding BRI over, and no second BRI is sent; but a
    /// BRI that takes only the IPv4 HoA does not do for one of the whole
    /// session (`whole`), which then leaves it.
    fn take_over_revocation(&mut self, id: u32, purpose: Purpose, whole: bool) -> bool {
        let Some(seq) = self.cache.get(id).and_then(|b| b.revoking) else { return false };
        let Some(bri) = self.bris.get_mut(&seq) else { return false };
        if whole && bri.reach == Reach::Ipv4Hoa {
            self.leave_bri(seq, id);
            self.set_revoking(id, None);
            return false;
        }
        // Revocations that take the session whatever the answer win over
        // an HI = 4 question to the old MAG.
        if purpose != Purpose::HandoffUnknown {
            bri.purpose = purpose;
        }
        true
    }

    /// Builds, sends and arms one BRI for `ids` (non-empty, one MAG path;
    /// one MN unless `reach` is [`Reach::Mag`]).
    fn start_bri(&mut self, ids: &[u32], reach: Reach, purpose: Purpose, now: Instant, out: &mut Vec<Output>) {
        let Some(first) = ids.first().and_then(|id| self.cache.get(*id)) else { return };
        let s = &first.session;
        let (src, dst, transport) = (s.local, first.mag, first.transport);
        let mut flags = br_flags::P;
        let mut trigger = match purpose {
            Purpose::Administrative | Purpose::ShadowTimeout => revocation_trigger::ADMINISTRATIVE_REASON,
            Purpose::HandoffUnknown => revocation_trigger::INTER_MAG_HANDOVER_UNKNOWN,
        };
        let mut options = Vec::new();
        match reach {
            Reach::Session => {
                options.push(first.mn_id_option());
                options
                    .extend(s.hnps.iter().map(|&prefix| MobilityOption::HomeNetworkPrefix { prefix_len: 64, prefix }));
                // No HNP to name it by (IPv4-only): the V = 1 form, whose
                // IPv4 HoA Request names exactly this binding.
                if let (true, Some((addr, prefix_len, _))) = (s.hnps.is_empty(), s.ipv4_hoa) {
                    flags |= br_flags::V;
                    options.push(MobilityOption::Ipv4HoaRequest { prefix_len, addr });
                }
            }
            Reach::Mn => options.push(first.mn_id_option()),
            Reach::Mag => {
                flags |= br_flags::G;
                trigger = revocation_trigger::PER_PEER_POLICY;
            }
            Reach::Ipv4Hoa => {
                flags |= br_flags::V;
                options.push(first.mn_id_option());
                if let Some((addr, prefix_len, _)) = s.ipv4_hoa {
                    options.push(MobilityOption::Ipv4HoaRequest { prefix_len, addr });
                }
            }
        }
        // The Proxy-CoA differs from the MAG's signalling address (with
        // G = 1 it names the Proxy-CoA whose bindings go).
        if let (IpAddr::V6(coa), true) = (s.proxy_coa, s.proxy_coa != first.mag) {
            options.push(MobilityOption::AlternateCareOf(coa));
        }
        let seq = self.allocate_bri_seq();
        let msg = BindingRevocation { br_type: br_type::BRI, trigger_or_status: trigger, seq, flags, options };
        let timeout = self.cfg.bri_initial_delay.max(MIN_BRI_DELAY);
        let bri = Bri {
            sessions: ids.to_vec(),
            reach,
            purpose,
            src,
            dst,
            transport,
            msg: msg.clone(),
            retries_left: self.cfg.bri_max_retries,
            timeout,
            next: now + timeout,
        };
        self.timers.arm(Timer::Bri(seq), bri.next);
        out.push(Output::Send { src, dst, transport, msg: MhMessage::BindingRevocation(msg) });
        self.bris.insert(seq, bri);
        for &id in ids {
            self.set_revoking(id, Some(seq));
        }
        self.counters.bri_sent += 1;
    }

    /// A sequence number distinct from every outstanding BRI's (§6.1).
    fn allocate_bri_seq(&mut self) -> u16 {
        loop {
            let seq = self.next_bri_seq;
            self.next_bri_seq = self.next_bri_seq.wrapping_add(1);
            if !self.bris.contains_key(&seq) {
                return seq;
            }
        }
    }

    /// Session `id` no longer waits for BRI `seq` (it was re-registered or
    /// deleted); the BRI is forgotten when it covers nothing else, and a
    /// late BRA for it is then unknown.
    pub(super) fn leave_bri(&mut self, seq: u16, id: u32) {
        let Some(bri) = self.bris.get_mut(&seq) else { return };
        bri.sessions.retain(|s| *s != id);
        if bri.sessions.is_empty() {
            if let Some(bri) = self.bris.remove(&seq) {
                self.timers.disarm(Timer::Bri(seq), bri.next);
            }
        }
    }

    fn set_revoking(&mut self, id: u32, revoking: Option<u16>) {
        if let Some(mut bce) = self.cache.get(id).cloned() {
            bce.revoking = revoking;
            self.cache.replace(bce);
        }
    }

    /// §6.1: retransmit with a doubling timeout up to MAX_BRACK_TIMEOUT, at
    /// most BRIMaxRetriesNumber times; then clean up anyway.
    pub(super) fn bri_timer(&mut self, seq: u16, now: Instant, _wall: SystemTime, out: &mut Vec<Output>) {
        let Some(bri) = self.bris.get_mut(&seq) else { return };
        if bri.retries_left > 0 {
            bri.retries_left -= 1;
            bri.timeout = (bri.timeout * 2).min(MAX_BRACK_TIMEOUT);
            bri.next = now + bri.timeout;
            let (next, src, dst, transport, msg) = (bri.next, bri.src, bri.dst, bri.transport, bri.msg.clone());
            self.timers.arm(Timer::Bri(seq), next);
            out.push(Output::Send { src, dst, transport, msg: MhMessage::BindingRevocation(msg) });
            self.counters.bri_retransmitted += 1;
            return;
        }
        let Some(bri) = self.bris.remove(&seq) else { return };
        self.counters.bri_exhausted += 1;
        // Retransmissions exhausted: what it revokes goes; PBUs held for
        // its session are decided anew (§6.1 last bullet).
        self.complete_revocation(&bri, now, out);
    }

    /// Takes away what `bri` revoked: the IPv4 HoAs (V = 1) or the
    /// sessions.
    fn complete_revocation(&mut self, bri: &Bri, now: Instant, out: &mut Vec<Output>) {
        for &id in &bri.sessions {
            self.set_revoking(id, None);
        }
        for &id in &bri.sessions {
            if bri.reach == Reach::Ipv4Hoa {
                self.drop_ipv4(id, now, out);
            } else {
                self.remove_session(id, now, out);
            }
        }
    }

    /// A Binding Revocation message (MH type 16).
    pub(super) fn handle_revocation(
        &mut self,
        from: Origin,
        br: BindingRevocation,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if !self.mags.contains_key(&from.src) {
            self.counters.dropped_unlisted_peer += 1;
            return;
        }
        match br.br_type {
            br_type::BRA => self.handle_bra(from, br, now, out),
            br_type::BRI => self.handle_bri(from, br, now, out),
            _ => self.counters.malformed += 1,
        }
    }

    /// §6.1 BRA handling: unknown sequence → drop; success / partial
    /// success → delete the binding(s); failure → local policy.
    fn handle_bra(&mut self, from: Origin, br: BindingRevocation, now: Instant, out: &mut Vec<Output>) {
        self.counters.bra_received += 1;
        let known = self.bris.get(&br.seq).is_some_and(|b| b.dst == from.src);
        if !known {
            self.counters.bra_unknown += 1;
            return;
        }
        let Some(bri) = self.bris.remove(&br.seq) else { return };
        self.timers.disarm(Timer::Bri(br.seq), bri.next);
        let success = br.trigger_or_status < bra_status::BINDING_DOES_NOT_EXIST;
        match (bri.purpose, success, bri.sessions.as_slice()) {
            // Our policy for a refused operator revocation: what it revoked
            // goes anyway (the operator asked), the refusal is counted.
            (Purpose::Administrative, _, _) => self.complete_revocation(&bri, now, out),
            // §11.4: the shadow BCE is dropped whatever the MAG answers.
            (Purpose::ShadowTimeout, _, _) => self.complete_revocation(&bri, now, out),
            (Purpose::HandoffUnknown, true, &[id]) if self.holds.values().any(|h| h.old == id) => {
                // The old MAG let go: the held PBU takes the session over.
                self.set_revoking(id, None);
                self.release_holds_for(id, HoldEnd::Handoff, now, out);
            }
            (Purpose::HandoffUnknown, true, _) => self.complete_revocation(&bri, now, out),
            // 132 "MN is attached" (or another failure): the old session
            // stays; a held PBU gets a session of its own.
            (Purpose::HandoffUnknown, false, ids) => {
                for &id in ids {
                    self.set_revoking(id, None);
                    self.release_holds_for(id, HoldEnd::Timeout, now, out);
                }
            }
        }
    }

    /// §6.2: a BRI from a MAG; always answered with a BRA (unless its source
    /// is not unicast).
    fn handle_bri(&mut self, from: Origin, br: BindingRevocation, now: Instant, out: &mut Vec<Output>) {
        self.counters.bri_received += 1;
        if !is_unicast(from.src) {
            self.counters.malformed += 1;
            return;
        }
        let status = self.revoke_for_mag(from, &br, now, out);
        let mut options = Vec::new();
        if br.flags & br_flags::P != 0 {
            if let Some(mn) = br.options.iter().find(|o| matches!(o, MobilityOption::MnIdentifier { .. })) {
                options.push(mn.clone());
            }
        }
        let bra = BindingRevocation {
            br_type: br_type::BRA,
            trigger_or_status: status,
            seq: br.seq,
            flags: br.flags & (br_flags::P | br_flags::V | br_flags::G),
            options,
        };
        out.push(Output::Send {
            src: from.dst,
            dst: from.src,
            transport: from.transport,
            msg: MhMessage::BindingRevocation(bra),
        });
        self.counters.bra_sent += 1;
    }

    /// The revocation a MAG asked for; returns the BRA status.
    fn revoke_for_mag(&mut self, from: Origin, br: &BindingRevocation, now: Instant, out: &mut Vec<Output>) -> u8 {
        let trigger = br.trigger_or_status;
        let global = br.flags & br_flags::G != 0;
        let proxy = br.flags & br_flags::P != 0;
        let v4 = br.flags & br_flags::V != 0;
        let per_mn_trigger = trigger <= revocation_trigger::POSSIBLE_OUT_OF_SYNC_BCE_STATE;
        let global_trigger = matches!(
            trigger,
            revocation_trigger::PER_PEER_POLICY | revocation_trigger::REVOKING_MOBILITY_NODE_LOCAL_POLICY
        );
        if !per_mn_trigger && !global_trigger {
            return bra_status::REVOCATION_TRIGGER_NOT_SUPPORTED;
        }
        if global != global_trigger {
            return bra_status::REVOCATION_FUNCTION_NOT_SUPPORTED;
        }
        // Every binding of ours is a proxy binding; a BRI for others finds
        // nothing.
        if !proxy {
            return bra_status::BINDING_DOES_NOT_EXIST;
        }
        let mn_id = br.options.iter().find_map(|o| match o {
            MobilityOption::MnIdentifier { id, .. } => Some(super::mn_id_text(id)),
            _ => None,
        });
        let scope = br
            .options
            .iter()
            .find_map(|o| match o {
                MobilityOption::AlternateCareOf(a) => Some(IpAddr::V6(*a)),
                _ => None,
            })
            .unwrap_or(from.src);
        let at_mag: Vec<u32> = self.cache.by_coa(scope);
        if global {
            // G = 1 needs the MAG's identity in an MN-ID option.
            let Some(identity) = mn_id else { return bra_status::GLOBAL_REVOCATION_NOT_AUTHORIZED };
            let ids: Vec<u32> = if trigger == revocation_trigger::PER_PEER_POLICY {
                at_mag
            } else {
                // "@realm": NAIs whose part after '@' equals the realm.
                let Some(realm) = identity.strip_prefix('@') else {
                    return bra_status::GLOBAL_REVOCATION_NOT_AUTHORIZED;
                };
                at_mag
                    .into_iter()
                    .filter(|id| {
                        self.cache
                            .get(*id)
                            .is_some_and(|b| b.session.mn_id.rsplit_once('@').map(|(_, r)| r) == Some(realm))
                    })
                    .collect()
            };
            if ids.is_empty() {
                return bra_status::BINDING_DOES_NOT_EXIST;
            }
            for id in ids {
                self.remove_session(id, now, out);
            }
            return bra_status::SUCCESS;
        }
        let Some(mn_id) = mn_id else { return bra_status::REVOKED_MOBILE_NODES_IDENTITY_REQUIRED };
        let mine: Vec<u32> =
            at_mag.into_iter().filter(|id| self.cache.get(*id).is_some_and(|b| *b.session.mn_id == *mn_id)).collect();
        if v4 {
            // Only the IPv4 HoA of the binding named by the IPv4 HoA Request.
            let Some(hoa) = br.options.iter().find_map(|o| match o {
                MobilityOption::Ipv4HoaRequest { addr, .. } => Some(*addr),
                _ => None,
            }) else {
                return bra_status::IPV4_HOME_ADDRESS_OPTION_REQUIRED;
            };
            let Some(id) = mine.into_iter().find(|id| self.cache.by_hoa(hoa) == Some(*id)) else {
                return bra_status::BINDING_DOES_NOT_EXIST;
            };
            self.drop_ipv4(id, now, out);
            return bra_status::SUCCESS;
        }
        let hnps: Vec<_> = br
            .options
            .iter()
            .filter_map(|o| match o {
                MobilityOption::HomeNetworkPrefix { prefix, .. } => Some(super::slash64(*prefix)),
                _ => None,
            })
            .collect();
        if hnps.is_empty() {
            if mine.is_empty() {
                return bra_status::BINDING_DOES_NOT_EXIST;
            }
            for id in mine {
                self.remove_session(id, now, out);
            }
            return bra_status::SUCCESS;
        }
        let owned: Vec<u32> =
            hnps.iter().filter_map(|p| self.cache.by_hnp(*p)).filter(|id| mine.contains(id)).collect();
        let found = owned.len();
        let ids: BTreeSet<u32> = owned.into_iter().collect();
        for id in ids {
            self.remove_session(id, now, out);
        }
        match found {
            0 => bra_status::BINDING_DOES_NOT_EXIST,
            n if n < hnps.len() => bra_status::PARTIAL_SUCCESS,
            _ => bra_status::SUCCESS,
        }
    }

    /// Removes only the IPv4 HoA of a session (the session goes when
    /// nothing else is left).
    fn drop_ipv4(&mut self, id: u32, now: Instant, out: &mut Vec<Output>) {
        let Some(mut bce) = self.cache.get(id).cloned() else { return };
        if bce.session.hnps.is_empty() {
            self.remove_session(id, now, out);
            return;
        }
        if let Some((hoa, _, _)) = bce.session.ipv4_hoa.take() {
            self.release_hoa(hoa);
        }
        let (state, timer, installed) = (bce.session.state, bce.timer, bce.installed);
        self.cache.replace(bce);
        if installed && state == SessionState::Active {
            self.set_state(id, state, timer, true, out);
        }
    }
}
