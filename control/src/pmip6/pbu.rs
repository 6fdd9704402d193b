//! Proxy Binding Update processing: the normative order of RFC 5213 §5.3.1
//! (PROTOCOLS.md §3.2) with the RFC 5844 additions (§4.2), the BCE existence
//! test (§3.3, §4.5), and the outcomes: initial registration, lifetime
//! extension, handoff, de-registration (§3.4, §4.3).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{Ordering, Profile};

use crate::proto::{bu_flags, handoff, hoa_reply_status, status, BindingUpdate, MhMessage, MobilityOption};

use super::cache::Bce;
use super::gre::{self, Decision};
use super::pba::{self, Answer};
use super::revocation::Purpose;
use super::timers::Timer;
use super::{
    mn_id_text, ordering, slash64, timestamp_of, Encap, Lma, Origin, Output, Session, SessionState, Transport,
};

/// Length of every prefix we assign (§3.1: per-MN /64s).
const HNP_LEN: u8 = 64;

/// The options of a PBU, sorted out (§2.8 cardinality: MN-ID, HI, ATT,
/// Timestamp, MN-LL-ID and LLA at most once; HNP and IPv4 HoA Request may
/// repeat; vendor-specific and unknown options are skipped).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct PbuOptions {
    /// MN-ID subtype and identifier.
    pub mn_id: Option<(u8, Vec<u8>)>,
    /// HNP options as sent: (prefix length, prefix).
    pub hnps: Vec<(u8, Ipv6Addr)>,
    pub hi: Option<u8>,
    pub att: Option<u8>,
    pub mn_ll_id: Option<Vec<u8>>,
    pub link_local: Option<Ipv6Addr>,
    pub timestamp: Option<u64>,
    pub alt_coa: Option<Ipv6Addr>,
    /// The first GRE Key option: `Some(key)` when present.
    pub gre: Option<Option<u32>>,
    /// IPv4 HoA Request options: (prefix length, address).
    pub ipv4_requests: Vec<(u8, Ipv4Addr)>,
    /// An option that may appear once appeared more than once.
    pub duplicated: bool,
}

fn once<T>(slot: &mut Option<T>, value: T, duplicated: &mut bool) {
    if slot.is_some() {
        *duplicated = true;
    } else {
        *slot = Some(value);
    }
}

impl PbuOptions {
    pub fn parse(options: &[MobilityOption]) -> PbuOptions {
        let mut o = PbuOptions::default();
        let mut dup = false;
        for option in options {
            match option {
                MobilityOption::MnIdentifier { subtype, id } => once(&mut o.mn_id, (*subtype, id.clone()), &mut dup),
                MobilityOption::HomeNetworkPrefix { prefix_len, prefix } => o.hnps.push((*prefix_len, *prefix)),
                MobilityOption::HandoffIndicator(v) => once(&mut o.hi, *v, &mut dup),
                MobilityOption::AccessTechnology(v) => once(&mut o.att, *v, &mut dup),
                MobilityOption::MnLinkLayerId(v) => once(&mut o.mn_ll_id, v.clone(), &mut dup),
                MobilityOption::LinkLocalAddress(a) => once(&mut o.link_local, *a, &mut dup),
                MobilityOption::Timestamp(t) => once(&mut o.timestamp, *t, &mut dup),
                // Not limited to one by §2.8: the first counts.
                MobilityOption::AlternateCareOf(a) => {
                    o.alt_coa.get_or_insert(*a);
                }
                MobilityOption::GreKey(k) => {
                    o.gre.get_or_insert(*k);
                }
                MobilityOption::Ipv4HoaRequest { prefix_len, addr } => o.ipv4_requests.push((*prefix_len, *addr)),
                // Vendor-specific, unknown and options without meaning in a
                // PBU are skipped (§3.2).
                _ => {}
            }
        }
        o.duplicated = dup;
        o
    }

    /// The distinct non-zero prefixes requested, as /64s.
    fn nonzero_hnps(&self) -> BTreeSet<Ipv6Addr> {
        self.hnps.iter().filter(|(_, p)| !p.is_unspecified()).map(|(_, p)| slash64(*p)).collect()
    }

    pub fn ipv4_request(&self) -> Option<(u8, Ipv4Addr)> {
        self.ipv4_requests.first().copied()
    }
}

/// A PBU that passed steps 1–12 (and the RFC 5844 checks): what step 13
/// and the outcomes need, also kept while an HI = 4 PBU is held.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pbu {
    pub from: Origin,
    /// The Proxy-CoA the PBU registers: the IPv6 source, or the Alternate
    /// Care-of Address when present; the IPv4 source for IPv4 transport.
    pub coa: IpAddr,
    pub seq: u16,
    pub flags: u16,
    /// Requested lifetime, 4-s units.
    pub lifetime: u16,
    pub opts: PbuOptions,
    pub mn_id: String,
    pub profile: Profile,
    /// §4.8.2 / §5.1 outcome (for lifetime > 0).
    pub decision: Decision,
}

/// A PBU with HI = 4 waiting for the old MAG (§3.3 B.3, C.2).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Held {
    pub pbu: Pbu,
    /// The session it may take over.
    pub old: u32,
    pub deadline: Instant,
}

/// Result of the existence test (§3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Existence {
    New,
    Existing(u32),
    /// HI = 4 with exactly one candidate session: wait for its MAG.
    Hold(u32),
    Reject(u8),
}

/// How a hold ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HoldEnd {
    /// The old MAG de-registered, or acknowledged our BRI: the held PBU
    /// takes the old session over (a handoff).
    Handoff,
    /// MaxDelayBeforeNewBCEAssign passed, the BRI failed, or the old session
    /// is gone: the existence test runs again without holding.
    Timeout,
}

/// Why a registration was refused: the PBA status and, for the IPv4 HoA
/// Reply, its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Refusal {
    status: u8,
    reply: u8,
}

impl Refusal {
    fn new(status: u8) -> Refusal {
        Refusal { status, reply: pba::reply_status_for(status) }
    }
}

/// Resources taken while registering, given back if the registration fails.
#[derive(Debug, Default)]
struct Taken {
    prefixes: Vec<Ipv6Addr>,
    hoa: Option<Ipv4Addr>,
    key: Option<u32>,
}

impl Lma {
    /// A Binding Update (§3.2). Steps are applied in order; the first
    /// failure decides the reply.
    pub(super) fn handle_bu(
        &mut self,
        from: Origin,
        bu: BindingUpdate,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        // A BU with P = 0 is a MIPv6/DSMIPv6 registration, not for the LMA.
        if bu.flags & bu_flags::P == 0 {
            self.counters.not_proxy += 1;
            return;
        }
        // §3.2 step 1: the source must be a listed MAG; else drop silently.
        let Some(&mag) = self.mags.get(&from.src) else {
            self.counters.dropped_unlisted_peer += 1;
            return;
        };
        self.counters.pbu_received += 1;
        // Step 2 (generic MH checks) was done by the codec; step 3: no Home
        // Address option is required.
        let opts = PbuOptions::parse(&bu.options);
        let reject = |lma: &mut Lma, out: &mut Vec<Output>, status: u8| {
            lma.reject(from, &bu, &opts, Refusal::new(status), None, out);
        };
        // §3.3 note: retransmissions of a held PBU are absorbed.
        if let Some((_, id)) = &opts.mn_id {
            let mn_id = mn_id_text(id);
            if self.holds.values().any(|h| h.pbu.from.src == from.src && h.pbu.mn_id == mn_id) {
                self.counters.pbu_absorbed += 1;
                return;
            }
        }
        // §2.8: an option allowed once appears twice → 128.
        if opts.duplicated {
            self.counters.malformed += 1;
            return reject(self, out, status::REASON_UNSPECIFIED);
        }
        // Step 4: no MN-ID → 160.
        let Some((_, raw_id)) = &opts.mn_id else {
            return reject(self, out, status::MISSING_MN_IDENTIFIER_OPTION);
        };
        let mn_id = mn_id_text(raw_id);
        let profile = self.profile(&mn_id).cloned();
        // Steps 5/6: the MN's profile does not list this MAG → 154.
        let mag_name = self.cfg.mags.get(mag).map(|m| m.name.clone()).unwrap_or_default();
        if profile.as_ref().is_some_and(|p| !p.allows_mag(&mag_name)) {
            return reject(self, out, status::MAG_NOT_AUTHORIZED_FOR_PROXY_REG);
        }
        // Step 7: unknown MN-ID (and no default profile) → 153.
        let Some(profile) = profile else {
            return reject(self, out, status::NOT_LMA_FOR_THIS_MOBILE_NODE);
        };
        // Step 8: network-based mobility not enabled for this MN → 152.
        if !profile.pmip6 {
            return reject(self, out, status::PROXY_REG_NOT_ENABLED);
        }
        let coa = match (from.transport, opts.alt_coa) {
            (Transport::Ipv6, Some(alt)) => IpAddr::V6(alt),
            _ => from.src,
        };
        let mut pbu = Pbu {
            from,
            coa,
            seq: bu.seq,
            flags: bu.flags,
            lifetime: bu.lifetime,
            opts: opts.clone(),
            mn_id,
            profile,
            decision: Decision::NONE,
        };
        // Step 9 runs against the session the existence test finds (§3.5
        // last paragraph): look it up first, use its verdict at step 13.
        let existence = self.existence(&pbu, true);
        let ordered = match existence {
            Existence::Existing(id) => self.cache.get(id),
            _ => None,
        };
        if let Err((refusal, seq, timestamp)) = self.check_order(&pbu, mag, ordered, wall) {
            return self.reject(from, &bu, &opts, refusal, Some((seq, timestamp)), out);
        }
        // Step 10 with the RFC 5844 relaxation: an HNP or an IPv4 HoA
        // Request → else 158.
        if opts.hnps.is_empty() && opts.ipv4_requests.is_empty() {
            return reject(self, out, status::MISSING_HOME_NETWORK_PREFIX_OPTION);
        }
        // Step 11: no HI → 161. Step 12: no ATT → 162.
        if opts.hi.is_none() {
            return reject(self, out, status::MISSING_HANDOFF_INDICATOR_OPTION);
        }
        if opts.att.is_none() {
            return reject(self, out, status::MISSING_ACCESS_TECH_TYPE_OPTION);
        }
        // §4.2: IPv4 HoA Request without IPv4 service → 170; HNP without
        // IPv6 service → 172; more than one IPv4 HoA Request → 173.
        if !opts.ipv4_requests.is_empty() && !pbu.profile.ipv4 {
            return reject(self, out, status::NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE);
        }
        if !opts.hnps.is_empty() && !pbu.profile.ipv6 {
            return reject(self, out, status::NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE);
        }
        if opts.ipv4_requests.len() > 1 {
            return reject(self, out, status::MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED);
        }
        // §4.8.2 / §5.1: encapsulation (not for de-registrations, which
        // normally carry no GRE Key option).
        if pbu.lifetime > 0 {
            let request = gre::Request {
                flags: bu.flags,
                gre: opts.gre,
                ipv4_transport: matches!(from.transport, Transport::Udp4 { .. }),
                policy: self.cfg.gre,
                profile_requires_gre: pbu.profile.gre_required,
                accept_forced_udp: self.cfg.accept_forced_udp,
                tlv_supported: self.cfg.tlv_supported,
            };
            match gre::decide(&request) {
                Ok(decision) => pbu.decision = decision,
                Err(status) => return reject(self, out, status),
            }
            // §5.1: the TLV format SHOULD NOT change on re-registration
            // from the same MAG (a handoff may renegotiate it).
            if let Some(b) = ordered.filter(|b| b.session.proxy_coa == pbu.coa) {
                pbu.decision = gre::keep_tlv_format(pbu.decision, &b.session.encap);
            }
        }
        // Step 13.
        self.register(pbu, existence, now, out);
    }

    /// Step 9 (§3.5). `Err` carries the refusal, the PBA Sequence Number and
    /// the PBA Timestamp value.
    #[allow(clippy::type_complexity)]
    fn check_order(
        &self,
        pbu: &Pbu,
        mag: usize,
        bce: Option<&Bce>,
        wall: SystemTime,
    ) -> Result<(), (Refusal, u16, Option<u64>)> {
        match pbu.opts.timestamp {
            Some(ts) => {
                let last = bce.and_then(|b| b.session.last_timestamp);
                ordering::check_timestamp(
                    ts,
                    last,
                    timestamp_of(wall),
                    self.cfg.timestamp_validity_window,
                    self.cfg.mn_generated_timestamp,
                )
                // Rejected: the PBA carries our time of day.
                .map_err(|status| (Refusal::new(status), pbu.seq, Some(timestamp_of(wall))))
            }
            // A MAG configured for timestamps sent none: 156 (our decision,
            // docs/conformance/pmipv6.md).
            None if self.cfg.mags.get(mag).is_some_and(|m| m.ordering == Ordering::Timestamp) => {
                Err((Refusal::new(status::TIMESTAMP_MISMATCH), pbu.seq, None))
            }
            None => match bce {
                Some(b) if !ordering::sequence_is_newer(pbu.seq, b.session.last_seq) => {
                    Err((Refusal::new(status::SEQUENCE_NUMBER_OUT_OF_WINDOW), b.session.last_seq, None))
                }
                _ => Ok(()),
            },
        }
    }

    /// The BCE existence test (§3.3, with §4.5 for an IPv4 HoA key).
    /// `allow_hold`: whether HI = 4 may hold the PBU (false when a hold
    /// ends, so that it decides).
    pub(super) fn existence(&self, pbu: &Pbu, allow_hold: bool) -> Existence {
        let o = &pbu.opts;
        let hi = o.hi;
        let att = o.att;
        // A.4 (and its §4.5 analogue): the PBU updates this BCE.
        let updates = |b: &Bce| {
            let s = &b.session;
            let same_att = att == Some(s.att);
            (o.mn_ll_id.as_deref().is_some_and(|ll| ll == s.mn_ll_id.as_slice()) && same_att)
                || hi == Some(handoff::HANDOFF_BETWEEN_DIFFERENT_INTERFACES)
                || (o.mn_ll_id.is_none()
                    && s.mn_ll_id.iter().all(|b| *b == 0)
                    && same_att
                    && hi == Some(handoff::HANDOFF_BETWEEN_MAGS_SAME_INTERFACE))
                || (s.proxy_coa == pbu.coa && same_att)
        };
        // HI = 4 with one candidate: hold, unless the candidate is this
        // MAG's own (there is nobody else to wait for) or already waited on.
        let hold = |id: u32, otherwise: Existence| {
            let Some(b) = self.cache.get(id) else { return otherwise };
            if allow_hold
                && !self.cfg.max_delay_before_new_bce_assign.is_zero()
                && b.session.proxy_coa != pbu.coa
                && !self.holds.values().any(|h| h.old == id)
            {
                Existence::Hold(id)
            } else {
                otherwise
            }
        };
        let nonzero = o.nonzero_hnps();
        if !nonzero.is_empty() {
            // Case A: keyed by the non-zero prefixes.
            let owners: BTreeSet<u32> = nonzero.iter().filter_map(|p| self.cache.by_hnp(*p)).collect();
            let Some(&id) = owners.first() else { return Existence::New };
            if owners.iter().any(|id| self.cache.get(*id).is_some_and(|b| *b.session.mn_id != *pbu.mn_id)) {
                return Existence::Reject(status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX);
            }
            let Some(b) = self.cache.get(id) else { return Existence::New };
            let same_set = owners.len() == 1
                && o.hnps.iter().all(|(_, p)| !p.is_unspecified())
                && nonzero == b.session.hnps.iter().copied().collect::<BTreeSet<_>>();
            if !same_set {
                return Existence::Reject(status::BCE_PBU_PREFIX_SET_DO_NOT_MATCH);
            }
            if updates(b) {
                return Existence::Existing(id);
            }
            // HI = 4 (§3.3 notes: A/B/C wait alike). The prefixes are this
            // session's, so when the wait ends the PBU takes it over.
            if hi == Some(handoff::HANDOFF_STATE_UNKNOWN) {
                return hold(id, Existence::Existing(id));
            }
            return Existence::New;
        }
        if let Some((_, hoa)) = o.ipv4_request().filter(|(_, a)| !a.is_unspecified()) {
            // §4.5: Case A with the IPv4 HoA as the key.
            let Some(id) = self.cache.by_hoa(hoa) else { return Existence::New };
            let Some(b) = self.cache.get(id) else { return Existence::New };
            if *b.session.mn_id != *pbu.mn_id {
                // §14 #16: the IPv4 analogue of 155.
                return Existence::Reject(status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS);
            }
            if updates(b) {
                return Existence::Existing(id);
            }
            if hi == Some(handoff::HANDOFF_STATE_UNKNOWN) {
                return hold(id, Existence::Existing(id));
            }
            return Existence::New;
        }
        let sessions = self.cache.by_mn(&pbu.mn_id);
        let only = if sessions.len() == 1 { sessions.first().copied() } else { None };
        if let Some(ll) = &o.mn_ll_id {
            // Case B: keyed by (MN-ID, ATT, MN-LL-ID).
            if let Some(att) = att {
                if let Some(&id) = self.cache.by_link(&pbu.mn_id, att, ll).first() {
                    return Existence::Existing(id);
                }
            }
            return match (hi, only) {
                (Some(handoff::HANDOFF_BETWEEN_DIFFERENT_INTERFACES), Some(id)) => Existence::Existing(id),
                (Some(handoff::HANDOFF_STATE_UNKNOWN), Some(id)) => hold(id, Existence::New),
                _ => Existence::New,
            };
        }
        // Case C: keyed by the MN-ID.
        match (hi, only) {
            (
                Some(handoff::HANDOFF_BETWEEN_DIFFERENT_INTERFACES | handoff::HANDOFF_BETWEEN_MAGS_SAME_INTERFACE),
                Some(id),
            ) => Existence::Existing(id),
            (Some(handoff::HANDOFF_STATE_UNKNOWN), Some(id)) => hold(id, Existence::New),
            _ => Existence::New,
        }
    }

    /// Step 13: the outcome of an accepted-so-far PBU.
    pub(super) fn register(&mut self, pbu: Pbu, existence: Existence, now: Instant, out: &mut Vec<Output>) {
        match existence {
            Existence::Reject(status) => self.refuse(&pbu, Refusal::new(status), out),
            // §3.3 A.5/B.4/C.3: a lifetime-0 PBU not tied to a session is
            // ignored without a reply.
            _ if pbu.lifetime == 0 => match existence {
                Existence::Existing(id) => self.deregister(id, pbu, now, out),
                _ => self.counters.pbu_ignored += 1,
            },
            Existence::New => self.create(pbu, now, out),
            Existence::Existing(id) => {
                let handoff = self.cache.get(id).is_some_and(|b| b.session.proxy_coa != pbu.coa);
                self.update(id, pbu, handoff, now, out);
            }
            Existence::Hold(old) => self.hold(pbu, old, now, out),
        }
    }

    /// §3.3 B.3: hold the PBU for MaxDelayBeforeNewBCEAssign, and (RFC 5846,
    /// §6.1) ask the old MAG at once with a BRI, trigger 4.
    fn hold(&mut self, pbu: Pbu, old: u32, now: Instant, out: &mut Vec<Output>) {
        let key = self.next_hold;
        self.next_hold += 1;
        let deadline = now + self.cfg.max_delay_before_new_bce_assign;
        self.timers.arm(Timer::Hold(key), deadline);
        self.holds.insert(key, Held { pbu, old, deadline });
        self.counters.pbu_held += 1;
        self.send_bri(old, Purpose::HandoffUnknown, now, out);
    }

    /// MaxDelayBeforeNewBCEAssign passed for hold `key`.
    pub(super) fn hold_timer(&mut self, key: u64, now: Instant, _wall: SystemTime, out: &mut Vec<Output>) {
        if let Some(held) = self.holds.remove(&key) {
            self.end_hold(held, HoldEnd::Timeout, now, out);
        }
    }

    /// Ends every hold waiting on session `old`.
    pub(super) fn release_holds_for(&mut self, old: u32, how: HoldEnd, now: Instant, out: &mut Vec<Output>) {
        let mut keys: Vec<u64> = self.holds.iter().filter(|(_, h)| h.old == old).map(|(k, _)| *k).collect();
        keys.sort_unstable();
        for key in keys {
            if let Some(held) = self.holds.remove(&key) {
                self.timers.disarm(Timer::Hold(key), held.deadline);
                self.end_hold(held, how, now, out);
            }
        }
    }

    fn end_hold(&mut self, held: Held, how: HoldEnd, now: Instant, out: &mut Vec<Output>) {
        let Held { pbu, old, .. } = held;
        match how {
            HoldEnd::Handoff if self.cache.contains(old) => self.update(old, pbu, true, now, out),
            _ => {
                let existence = self.existence(&pbu, false);
                self.register(pbu, existence, now, out);
            }
        }
    }

    /// Granted lifetime in 4-s units: the request capped by the LMA's and
    /// the profile's maximum (§3.7), at least one unit.
    fn granted(&self, pbu: &Pbu) -> u16 {
        let cap = pbu.profile.max_lifetime.map_or(self.cfg.max_lifetime, |p| p.min(self.cfg.max_lifetime));
        let units = u16::try_from(cap.as_secs() / 4).unwrap_or(u16::MAX).max(1);
        pbu.lifetime.min(units)
    }

    /// §3.4.1 / §4.3.1: a new mobility session. §11.4: one that asks for a
    /// home address the mobile node's own binding holds is a shadow BCE
    /// with that address copied (not from the pools), no forwarding, and a
    /// `shadow_timeout` timer.
    fn create(&mut self, pbu: Pbu, now: Instant, out: &mut Vec<Output>) {
        if self.cache.len() >= usize::try_from(self.cfg.max_sessions).unwrap_or(usize::MAX) {
            return self.refuse(&pbu, Refusal::new(status::INSUFFICIENT_RESOURCES), out);
        }
        let claim = self.shadow_claim(&pbu);
        // What the pools assign: the PBU less the requests the claim answers.
        let rest = claim.map(|c| c.rest_of(&pbu));
        let mut taken = Taken::default();
        let result =
            self.assign_addresses(rest.as_ref().unwrap_or(&pbu), &[], None, &mut taken).and_then(|(hnps, hoa)| {
                let (encap, fresh) = gre::encap(pbu.decision.mode, None, &mut self.keys)
                    .ok_or(Refusal::new(status::INSUFFICIENT_RESOURCES))?;
                taken.key = fresh;
                Ok((hnps, hoa, encap))
            });
        let (mut hnps, mut ipv4_hoa, encap) = match result {
            Ok(v) => v,
            Err(refusal) => {
                self.give_back(taken);
                return self.refuse(&pbu, refusal, out);
            }
        };
        if let Some(c) = claim {
            if let Some(p) = c.hnp {
                hnps.insert(0, p);
            }
            ipv4_hoa = c.hoa.or(ipv4_hoa);
        }
        let id = self.cache.allocate_id();
        let granted = self.granted(&pbu);
        let lifetime = Duration::from_secs(u64::from(granted) * 4);
        let link_local =
            pbu.opts.link_local.map(|lla| if lla.is_unspecified() { generated_link_local(id) } else { lla });
        let state = if claim.is_some() { SessionState::Shadow } else { SessionState::Active };
        let session = Session {
            id,
            mn_id: pbu.mn_id.as_str().into(),
            state,
            att: pbu.opts.att.unwrap_or(0),
            mn_ll_id: pbu.opts.mn_ll_id.clone().unwrap_or_else(|| vec![0, 0]),
            link_local,
            hnps,
            ipv4_hoa,
            proxy_coa: pbu.coa,
            local: pbu.from.dst,
            encap,
            lifetime,
            expires: now + lifetime,
            last_seq: pbu.seq,
            last_timestamp: pbu.opts.timestamp,
        };
        let bce = Bce {
            session: session.clone(),
            mn_id_subtype: pbu.opts.mn_id.as_ref().map_or(1, |(subtype, _)| *subtype),
            mn_id_hex: pbu.opts.mn_id.as_ref().is_some_and(|(_, id)| std::str::from_utf8(id).is_err()),
            mag: pbu.from.src,
            transport: pbu.from.transport,
            timer: session.expires,
            installed: state == SessionState::Active,
            revoking: None,
            shadow: claim.map(|_| now + self.cfg.shadow_timeout),
        };
        if let Some(deadline) = bce.shadow {
            self.timers.arm(Timer::Shadow(id), deadline);
            self.counters.shadows_created += 1;
        }
        self.cache.insert(bce);
        self.timers.arm(Timer::Session(id), session.expires);
        self.note_peer(pbu.from);
        self.counters.sessions_created += 1;
        // §11.4: a shadow BCE does not forward; the mobile node's own
        // binding does.
        if state == SessionState::Active {
            out.push(Output::Install(session.clone()));
        }
        self.accept(&pbu, &session, granted, out);
    }

    /// Takes the addresses of a new session, or those an existing session
    /// gains (`has`: its prefixes, `has_hoa`: its IPv4 HoA). Requested HNPs
    /// that the session already has are kept as they are.
    #[allow(clippy::type_complexity)]
    fn assign_addresses(
        &mut self,
        pbu: &Pbu,
        has: &[Ipv6Addr],
        has_hoa: Option<(Ipv4Addr, u8, Ipv4Addr)>,
        taken: &mut Taken,
    ) -> Result<(Vec<Ipv6Addr>, Option<(Ipv4Addr, u8, Ipv4Addr)>), Refusal> {
        let mut hnps: Vec<Ipv6Addr> = has.to_vec();
        if has.is_empty() {
            let mut seen = BTreeSet::new();
            for &(prefix_len, prefix) in &pbu.opts.hnps {
                if prefix.is_unspecified() {
                    // §3.4.1 step 1: allocate; none left → 130.
                    let p = self.allocate_prefix(pbu, &hnps).ok_or(Refusal::new(status::INSUFFICIENT_RESOURCES))?;
                    taken.prefixes.push(p);
                    hnps.push(p);
                } else if seen.insert(slash64(prefix)) {
                    // §3.4.1 step 2: ours and authorised for this MN, else 155.
                    let p = slash64(prefix);
                    if prefix_len != HNP_LEN || !self.take_prefix(&pbu.mn_id, p) {
                        return Err(Refusal::new(status::NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX));
                    }
                    taken.prefixes.push(p);
                    hnps.push(p);
                }
            }
        }
        let hoa = match (pbu.opts.ipv4_request(), has_hoa) {
            (None, current) => current,
            (Some((_, addr)), Some(current)) => {
                // A re-registration carries the session's HoA (or 0.0.0.0);
                // another address is not this MN's to take.
                if !addr.is_unspecified() && addr != current.0 {
                    return Err(Refusal {
                        status: status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS,
                        reply: hoa_reply_status::ADMINISTRATIVELY_PROHIBITED,
                    });
                }
                Some(current)
            }
            (Some((_, addr)), None) => {
                let hoa = self.take_hoa(pbu, addr)?;
                taken.hoa = Some(hoa.0);
                Some(hoa)
            }
        };
        Ok((hnps, hoa))
    }

    /// A prefix for an ALL_ZERO HNP: the profile's static one when free,
    /// else one from the pool.
    fn allocate_prefix(&mut self, pbu: &Pbu, already: &[Ipv6Addr]) -> Option<Ipv6Addr> {
        if let Some(s) = pbu.profile.static_hnp {
            let p = slash64(s.addr);
            if !already.contains(&p) && self.take_prefix(&pbu.mn_id, p) {
                return Some(p);
            }
        }
        loop {
            let p = self.prefixes.allocate()?;
            // §11.4: a session holds it while the pool thought it free (the
            // mobile node's own binding let it go): the pool now holds it
            // for that session; take the next one.
            if self.cache.by_hnp(p).is_none() {
                return Some(p);
            }
        }
    }

    /// Takes a requested prefix: free, and either the MN's own static
    /// prefix or one that dynamic allocation could hand out.
    fn take_prefix(&mut self, mn_id: &str, p: Ipv6Addr) -> bool {
        if self.cache.by_hnp(p).is_some() {
            return false;
        }
        match self.static_hnp_owner.get(&p) {
            Some(owner) if owner != mn_id => false,
            Some(_) if !self.prefixes.contains(p) => true,
            Some(_) => self.prefixes.reserve(p),
            None => self.prefixes.is_dynamic(p) && self.prefixes.reserve(p),
        }
    }

    /// §4.3.1: the IPv4 HoA for a request of `addr` (0.0.0.0 = allocate).
    fn take_hoa(&mut self, pbu: &Pbu, addr: Ipv4Addr) -> Result<(Ipv4Addr, u8, Ipv4Addr), Refusal> {
        let no_pool =
            Refusal { status: status::INSUFFICIENT_RESOURCES, reply: hoa_reply_status::FAILURE_REASON_UNSPECIFIED };
        let prohibited = Refusal {
            status: status::NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS,
            reply: hoa_reply_status::ADMINISTRATIVELY_PROHIBITED,
        };
        let static_hoa = pbu.profile.static_ipv4_hoa;
        let wanted = match (addr.is_unspecified(), static_hoa) {
            // The profile's static address is the only one this MN gets.
            (true, Some(s)) => s,
            (true, None) => {
                // Pool empty → 130 with Reply 128 (§4.3.1, §14 #9). An
                // address a session holds while the pool thought it free
                // (§11.4, as for prefixes) stays taken for that session.
                loop {
                    let (hoa, len, router) = self.hoas.allocate().ok_or(no_pool)?;
                    if self.cache.by_hoa(hoa).is_none() {
                        return Ok((hoa, len, router));
                    }
                }
            }
            (false, Some(s)) if s != addr => return Err(prohibited),
            (false, _) => addr,
        };
        if self.cache.by_hoa(wanted).is_some() {
            return Err(if addr.is_unspecified() { no_pool } else { prohibited });
        }
        let owner_ok = match self.static_hoa_owner.get(&wanted) {
            Some(owner) => *owner == pbu.mn_id,
            None => self.hoas.is_dynamic(wanted),
        };
        let Some((len, router)) = self.hoas.lookup(wanted) else { return Err(prohibited) };
        if !owner_ok || !self.hoas.reserve(wanted) {
            return Err(prohibited);
        }
        Ok((wanted, len, router))
    }

    fn give_back(&mut self, taken: Taken) {
        for p in taken.prefixes {
            self.prefixes.release(p);
        }
        if let Some(hoa) = taken.hoa {
            self.hoas.release(hoa);
        }
        if let Some(key) = taken.key {
            self.keys.release(key);
        }
    }

    /// §3.4.2 / §3.4.3 / §4.3.3: lifetime extension, with or without a
    /// handoff. Also revives a deprecated session (§3.4.4 step 3) and clears
    /// a revocation in progress (§6.1).
    fn update(&mut self, id: u32, pbu: Pbu, handoff: bool, now: Instant, out: &mut Vec<Output>) {
        let Some(old) = self.cache.get(id).cloned() else {
            return self.create(pbu, now, out);
        };
        let mut b = old.clone();
        let mut taken = Taken::default();
        let mut released_prefixes = Vec::new();
        let mut released_hoa = None;
        let has_v4_request = !pbu.opts.ipv4_requests.is_empty();
        // §4.3.3: a handoff PBU without HNPs extends only the IPv4 HoA (the
        // LMA SHOULD release the prefixes); without an IPv4 HoA Request it
        // keeps IPv6 and releases the IPv4 HoA.
        let mut hnps = b.session.hnps.clone();
        let mut hoa = b.session.ipv4_hoa;
        if handoff && pbu.opts.hnps.is_empty() && !hnps.is_empty() {
            released_prefixes = std::mem::take(&mut hnps);
        }
        if handoff && !has_v4_request && !pbu.opts.hnps.is_empty() {
            released_hoa = hoa.take().map(|h| h.0);
        }
        let result = self.assign_addresses(&pbu, &hnps, hoa, &mut taken).and_then(|(h, a)| {
            let (encap, fresh) = gre::encap(pbu.decision.mode, Some(&old.session.encap), &mut self.keys)
                .ok_or(Refusal::new(status::INSUFFICIENT_RESOURCES))?;
            taken.key = fresh;
            Ok((h, a, encap))
        });
        let (hnps, hoa, encap) = match result {
            Ok(v) => v,
            Err(refusal) => {
                self.give_back(taken);
                return self.refuse(&pbu, refusal, out);
            }
        };
        // Commit: give back what the session no longer holds.
        for p in released_prefixes {
            self.release_prefix(p);
        }
        if let Some(a) = released_hoa {
            self.release_hoa(a);
        }
        if gre::uplink_key(&old.session.encap).is_some() && gre::uplink_key(&encap).is_none() {
            gre::release_keys(&mut self.keys, &old.session.encap);
        }
        if let Some(seq) = b.revoking.take() {
            self.leave_bri(seq, id);
        }
        let granted = self.granted(&pbu);
        let s = &mut b.session;
        s.hnps = hnps;
        s.ipv4_hoa = hoa;
        s.encap = encap;
        s.proxy_coa = pbu.coa;
        s.local = pbu.from.dst;
        s.att = pbu.opts.att.unwrap_or(s.att);
        if let Some(ll) = &pbu.opts.mn_ll_id {
            s.mn_ll_id = ll.clone();
        }
        if let Some(lla) = pbu.opts.link_local {
            s.link_local =
                Some(if lla.is_unspecified() { s.link_local.unwrap_or(generated_link_local(id)) } else { lla });
        }
        s.lifetime = Duration::from_secs(u64::from(granted) * 4);
        s.expires = now + s.lifetime;
        s.last_seq = pbu.seq;
        s.last_timestamp = pbu.opts.timestamp;
        b.mag = pbu.from.src;
        b.transport = pbu.from.transport;
        let changed = forwarding(&old.session) != forwarding(&b.session) || !old.installed;
        let expires = b.session.expires;
        // §11.4: a shadow BCE (or one deprecated before it was activated)
        // stays a shadow.
        let state = if b.shadow.is_some() { SessionState::Shadow } else { SessionState::Active };
        let overdue = b.shadow.is_some_and(|deadline| deadline <= now);
        self.cache.replace(b);
        // The one state setter: active (or shadow), timer at the new expiry.
        self.set_state(id, state, expires, changed, out);
        self.note_peer(pbu.from);
        if handoff {
            self.counters.handoffs += 1;
        }
        let Some(session) = self.cache.get(id).map(|b| b.session.clone()) else { return };
        self.accept(&pbu, &session, granted, out);
        // A shadow past its time (revived, or refreshed while its BRI was
        // out, which the refresh cleared) is revoked again.
        if overdue {
            self.counters.shadows_revoked += 1;
            self.send_bri(id, Purpose::ShadowTimeout, now, out);
        }
    }

    /// §3.4.4 / §4.3.4: de-registration of session `id`.
    fn deregister(&mut self, id: u32, pbu: Pbu, now: Instant, out: &mut Vec<Output>) {
        let Some(mut b) = self.cache.get(id).cloned() else { return };
        // Step 1: from another MAG than the session's → ignore silently.
        if b.session.proxy_coa != pbu.coa {
            self.counters.pbu_ignored += 1;
            return;
        }
        self.counters.deregistrations += 1;
        let before = b.session.clone();
        b.session.last_seq = pbu.seq;
        b.session.last_timestamp = pbu.opts.timestamp.or(b.session.last_timestamp);
        let requested: BTreeSet<Ipv6Addr> = pbu.opts.nonzero_hnps();
        let assigned: BTreeSet<Ipv6Addr> = b.session.hnps.iter().copied().collect();
        let v4_only = pbu.opts.hnps.is_empty()
            && pbu.opts.ipv4_requests.len() == 1
            && pbu.opts.ipv4_request().map(|r| r.1) == b.session.ipv4_hoa.map(|h| h.0)
            && !b.session.hnps.is_empty();
        let v6_only = !pbu.opts.hnps.is_empty()
            && pbu.opts.ipv4_requests.is_empty()
            && b.session.ipv4_hoa.is_some()
            && requested == assigned;
        if v4_only || v6_only {
            // Selective de-registration: one family goes, the BCE stays.
            if v4_only {
                if let Some((hoa, _, _)) = b.session.ipv4_hoa.take() {
                    self.release_hoa(hoa);
                }
            } else {
                for p in std::mem::take(&mut b.session.hnps) {
                    self.release_prefix(p);
                }
            }
            let installed = b.installed;
            let timer = b.timer;
            let state = b.session.state;
            self.cache.replace(b);
            if installed {
                self.set_state(id, state, timer, true, out);
            }
            return self.accept_deregistration(&pbu, &before, out);
        }
        let deprecated = b.session.state == SessionState::Deprecated;
        let timer = b.timer;
        self.cache.replace(b);
        // Step 2: PBA 0 at once; deprecated for MinDelayBeforeBCEDelete
        // (a repeated de-registration keeps the first deadline).
        let delete_at = if deprecated { timer } else { now + self.cfg.min_delay_before_bce_delete };
        self.set_state(id, SessionState::Deprecated, delete_at, false, out);
        self.accept_deregistration(&pbu, &before, out);
        // §3.3 B.3: the old MAG's de-registration ends a hold as a handoff.
        self.release_holds_for(id, HoldEnd::Handoff, now, out);
    }

    fn accept_deregistration(&mut self, pbu: &Pbu, before: &Session, out: &mut Vec<Output>) {
        let answer = Answer {
            status: status::ACCEPTED,
            seq: pbu.seq,
            lifetime: 0,
            hnps: if before.hnps.is_empty() {
                pbu.opts.nonzero_hnps().into_iter().collect()
            } else {
                before.hnps.clone()
            },
            timestamp: pbu.opts.timestamp,
            link_local: before.link_local,
            ipv4_reply: before.ipv4_hoa.map(|(a, len, _)| (hoa_reply_status::SUCCESS, len, a)),
            default_router: before.ipv4_hoa.map(|h| h.2),
            ..Answer::default()
        };
        self.send_pba(pbu.from, &pbu.opts, &answer, out);
    }

    /// PBA for an accepted registration (§3.6, §4.4, §5.1, §4.8.4).
    fn accept(&mut self, pbu: &Pbu, session: &Session, granted: u16, out: &mut Vec<Output>) {
        let d = pbu.decision;
        let gre_key = if d.gre_option() {
            Some(match session.encap {
                Encap::Gre { key_up, .. } => key_up,
                Encap::UdpTlv { key_up, .. } => Some(key_up),
                Encap::IpIp | Encap::Udp { .. } => None,
            })
        } else {
            None
        };
        let answer = Answer {
            status: d.status,
            seq: pbu.seq,
            lifetime: granted,
            hnps: session.hnps.clone(),
            timestamp: pbu.opts.timestamp,
            link_local: session.link_local,
            gre_key,
            tlv: d.tlv,
            ipv4_reply: session.ipv4_hoa.map(|(a, len, _)| (hoa_reply_status::SUCCESS, len, a)),
            default_router: session.ipv4_hoa.map(|h| h.2),
            nat_detection: d.nat_detection(),
        };
        self.send_pba(pbu.from, &pbu.opts, &answer, out);
    }

    /// PBA rejecting a PBU that got past step 12.
    fn refuse(&mut self, pbu: &Pbu, refusal: Refusal, out: &mut Vec<Output>) {
        let reply = pbu.opts.ipv4_request().map(|(len, addr)| (refusal.reply, len, addr));
        let answer = Answer {
            status: refusal.status,
            seq: pbu.seq,
            timestamp: pbu.opts.timestamp,
            ipv4_reply: reply,
            ..Answer::default()
        };
        self.send_pba(pbu.from, &pbu.opts, &answer, out);
    }

    /// PBA rejecting a PBU before step 13; `ordering` overrides the Sequence
    /// Number (135) and the Timestamp value (156/157).
    fn reject(
        &mut self,
        from: Origin,
        bu: &BindingUpdate,
        opts: &PbuOptions,
        refusal: Refusal,
        ordering: Option<(u16, Option<u64>)>,
        out: &mut Vec<Output>,
    ) {
        let (seq, timestamp) = ordering.unwrap_or((bu.seq, opts.timestamp));
        let reply = opts.ipv4_request().map(|(len, addr)| (refusal.reply, len, addr));
        let answer = Answer {
            status: refusal.status,
            seq,
            timestamp: timestamp.or(opts.timestamp),
            ipv4_reply: reply,
            ..Answer::default()
        };
        self.send_pba(from, opts, &answer, out);
    }

    /// §3.6: from the PBU's destination to its source, the same transport.
    fn send_pba(&mut self, from: Origin, opts: &PbuOptions, answer: &Answer, out: &mut Vec<Output>) {
        let ba = pba::build(opts, answer);
        self.send(out, from.dst, from.src, from.transport, MhMessage::BindingAck(ba));
    }
}

/// What forwarding depends on: a change here needs an `Output::Install`.
fn forwarding(s: &Session) -> impl PartialEq + '_ {
    (&s.hnps, s.ipv4_hoa, s.proxy_coa, s.local, s.encap, s.state)
}

/// A link-local address for the MAG on the MN's link when the PBU asks the
/// LMA for one (LLA option ALL_ZERO, §3.6): `fe80::200:0:0:<session id>`,
/// stable for the session (so it survives handoffs) and unique per session.
pub(super) fn generated_link_local(id: u32) -> Ipv6Addr {
    Ipv6Addr::from((0xfe80_u128 << 112) | (0x0200_u128 << 48) | u128::from(id))
}
