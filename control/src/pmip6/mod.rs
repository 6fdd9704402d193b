//! The PMIPv6 Local Mobility Anchor (RFC 5213 with RFC 5844 IPv4 support,
//! RFC 5845 GRE keys, RFC 5846 revocation and RFC 5847 heartbeat), as a
//! pure state machine: received Mobility Header messages, operator commands
//! and the time come in; messages to send and forwarding changes come out
//! ([`Output`]). It never reads a clock and never touches a socket.
//!
//! The control loop calls [`Lma::handle`] per received message,
//! [`Lma::poll`] when [`Lma::next_deadline`] passes, and [`Lma::revoke`] for
//! `anchorctl clear binding`. Rules cite PROTOCOLS.md (`§3.2` etc.), which
//! restates the RFCs; `docs/conformance/pmipv6.md` maps each rule to its
//! test.
//!
//! Files: `cache` (binding cache and indexes), `pbu` (PBU processing order,
//! existence test, outcomes), `pba` (PBA contents), `ordering` (timestamp and
//! sequence rules), `gre` (encapsulation decision and GRE keys),
//! `revocation` (BRI/BRA), `heartbeat`, `shadow` (shadow BCEs of the
//! extended home link), `timers`.

mod cache;
mod gre;
mod heartbeat;
pub use heartbeat::PeerView;
mod ordering;
mod pba;
mod pbu;
mod persist;
mod reload;
mod revocation;
mod shadow;
mod timers;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{Config, LmaConfig, Profile};

use crate::pool::{Ipv4HoaPool, PrefixPool};
use crate::proto::{self, MhMessage};

use cache::BindingCache;
use gre::KeyAllocator;
use heartbeat::Peer;
use pbu::Held;
pub use reload::LmaReload;
use revocation::Bri;
use timers::{Timer, Timers};

pub use persist::Restored;

/// RFC 5844 "pmip6-data": UDP port of IPv4-UDP (and, our choice, UDP-TLV)
/// data on both sides (PROTOCOLS.md §4.8.3).
pub const PMIP6_DATA_PORT: u16 = dataplane::wire::udp::port::PMIP6_DATA;

/// RFC 5844 "pmip6-cntl": our UDP port for signalling over IPv4.
pub const PMIP6_CONTROL_PORT: u16 = dataplane::wire::udp::port::PMIP6_CONTROL;

/// One received Mobility Header message.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// IPv6 source, or the IPv4 source for IPv4 transport.
    pub src: IpAddr,
    /// IPv6 destination (our LMAA), or the IPv4 destination (IPv4-LMAA).
    pub dst: IpAddr,
    pub transport: Transport,
    pub msg: MhMessage,
}

/// How a Mobility Header message travels (PROTOCOLS.md §2.1, §4.8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// IPv6, next header 135, MH checksum over the IPv6 pseudo-header.
    Ipv6,
    /// RFC 5844 IPv4 transport: IPv4 | UDP | MH, MH checksum 0. `src_port`
    /// is the MAG's UDP port: the source port of what it sent us, and the
    /// destination port of what we send it (ours is always
    /// [`PMIP6_CONTROL_PORT`]).
    Udp4 { src_port: u16 },
}

/// What the LMA asks the control loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `msg` from `src` to `dst` (IPv6 with MH checksum, or IPv4 UDP
    /// 5436 → the MAG's port for `Udp4`).
    Send { src: IpAddr, dst: IpAddr, transport: Transport, msg: MhMessage },
    /// A session was created or changed (addresses, Proxy-CoA, tunnel mode,
    /// keys, state): (re)install its forwarding.
    Install(Session),
    /// The session's forwarding must go (deleted, or deprecated: "while
    /// deprecated the LMA SHOULD drop the MN's data traffic"). Sent once per
    /// loss of forwarding: a deprecated session that is then deleted gets no
    /// second `Remove`.
    Remove { id: u32 },
}

/// A mobility session's state (PROTOCOLS.md §3.4.4, §11.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    Active,
    /// De-registered; deleted after MinDelayBeforeBCEDelete unless a new
    /// PBU revives it. No forwarding.
    Deprecated,
    /// A shadow BCE (extended home link, §11.4): registered and answered
    /// like any other, but the mobile node's own DSMIPv6 binding holds its
    /// home address and forwards, so it has no forwarding until
    /// [`Lma::activate_shadow`] (or is revoked after `shadow_timeout`).
    Shadow,
}

impl SessionState {
    /// Every state, in the order `anchorctl show stats` lists them.
    pub const ALL: [SessionState; 3] = [SessionState::Active, SessionState::Deprecated, SessionState::Shadow];

    /// `active`, `deprecated` or `shadow`, as `anchorctl show bindings`
    /// prints it.
    pub fn name(self) -> &'static str {
        match self {
            SessionState::Active => "active",
            SessionState::Deprecated => "deprecated",
            SessionState::Shadow => "shadow",
        }
    }
}

/// A session's tunnel (PROTOCOLS.md §3.9, §4.8.3, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encap {
    /// IPv6-in-IPv6 / IPv4-in-IPv6 (IPv6 transport) or IPv4-in-IPv4 /
    /// IPv6-in-IPv4 (IPv4 transport).
    IpIp,
    /// GRE (RFC 5845). `key_up`: uplink key (MAG → LMA), allocated by us,
    /// unique in the LMA; `key_down`: downlink key (LMA → MAG), chosen by
    /// the MAG. Both `None` for GRE without keys.
    Gre { key_up: Option<u32>, key_down: Option<u32> },
    /// RFC 5844 IPv4-UDP, `IPv4 | UDP 5437 → mag_port | payload`.
    Udp { mag_port: u16 },
    /// RFC 5845 IPv4-UDP-TLV, `IPv4 | UDP | TLV | GRE (key) | payload`.
    UdpTlv { mag_port: u16, key_up: u32, key_down: u32 },
}

impl Encap {
    /// `ipip`, `gre`, `udp` or `udp-tlv`, as `anchorctl` prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Encap::IpIp => "ipip",
            Encap::Gre { .. } => "gre",
            Encap::Udp { .. } => "udp",
            Encap::UdpTlv { .. } => "udp-tlv",
        }
    }
}

/// An MN-ID as text ([`Session::mn_id`]): one allocation shared by every
/// holder, so a million sessions do not keep their identifiers several
/// times over.
pub type MnId = std::sync::Arc<str>;

/// One mobility session (a proxy Binding Cache Entry, PROTOCOLS.md §3.1,
/// §4.1) as the rest of the daemon sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: u32,
    /// The MN-ID option's identifier (an NAI); identifiers that are not
    /// UTF-8 are shown as `0x` and hex digits. Shared by all of the MN's
    /// sessions and the binding cache's MN-ID index.
    pub mn_id: MnId,
    pub state: SessionState,
    /// Access Technology Type (reserved and unknown values kept as sent).
    pub att: u8,
    /// MN link-layer identifier; two zero octets when the PBU had none.
    pub mn_ll_id: Vec<u8>,
    /// The MAG's link-local address on the MN's link (given or generated).
    pub link_local: Option<Ipv6Addr>,
    /// Home network prefixes, each a /64 (interface identifier zero).
    pub hnps: Vec<Ipv6Addr>,
    /// IPv4 home address, prefix length, default router.
    pub ipv4_hoa: Option<(Ipv4Addr, u8, Ipv4Addr)>,
    /// The MAG's tunnel endpoint: IPv6 Proxy-CoA, or IPv4-Proxy-CoA for IPv4
    /// transport.
    pub proxy_coa: IpAddr,
    /// Our tunnel endpoint: LMAA or IPv4-LMAA (the address the PBU was sent
    /// to).
    pub local: IpAddr,
    pub encap: Encap,
    /// Granted lifetime.
    pub lifetime: Duration,
    /// When the lifetime runs out.
    pub expires: Instant,
    /// Sequence Number of the last accepted PBU.
    pub last_seq: u16,
    /// Timestamp option of the last accepted PBU (48.16 fixed point, Unix
    /// epoch); `None` when the MAG orders by sequence number.
    pub last_timestamp: Option<u64>,
}

/// Counters, one field per event (`anchorctl show stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LmaCounters {
    /// Binding Updates with P = 1 received from listed MAGs.
    pub pbu_received: u64,
    /// PBAs sent, by status.
    pub pba_sent: BTreeMap<u8, u64>,
    /// Messages from a source that is not on the MAG allow-list, dropped
    /// without a reply (§3.2 step 1).
    pub dropped_unlisted_peer: u64,
    /// PBUs whose options break the cardinality rules of §2.8 (answered 128),
    /// and BRIs/BRAs that make no sense.
    pub malformed: u64,
    /// Binding Updates with P = 0 (not for the LMA; dropped).
    pub not_proxy: u64,
    /// Lifetime-0 PBUs not tied to a session, or from another Proxy-CoA,
    /// ignored without a reply (§3.3 A.5, §3.4.4 step 1).
    pub pbu_ignored: u64,
    /// PBUs with HI = 4 held for the old MAG's de-registration (§3.3 B.3).
    pub pbu_held: u64,
    /// Retransmissions of a held PBU, absorbed.
    pub pbu_absorbed: u64,
    pub sessions_created: u64,
    pub handoffs: u64,
    pub deregistrations: u64,
    /// Sessions deleted for any reason.
    pub sessions_deleted: u64,
    /// Sessions deleted because their lifetime ran out.
    pub sessions_expired: u64,
    pub heartbeat_requests_sent: u64,
    pub heartbeat_requests_received: u64,
    pub heartbeat_responses_sent: u64,
    pub heartbeat_responses_received: u64,
    /// MAGs declared unreachable after MISSING_HEARTBEATS_ALLOWED misses.
    pub heartbeat_peer_failures: u64,
    /// MAGs whose Restart Counter changed.
    pub heartbeat_peer_restarts: u64,
    pub bri_sent: u64,
    pub bri_retransmitted: u64,
    /// BRIs given up after BRIMaxRetriesNumber retransmissions.
    pub bri_exhausted: u64,
    pub bra_received: u64,
    /// BRAs with no outstanding BRI of that sequence number (dropped).
    pub bra_unknown: u64,
    /// Sessions created as shadow BCEs (§11.4).
    pub shadows_created: u64,
    /// Shadow BCEs activated: the mobile node de-registered its own binding.
    pub shadows_activated: u64,
    /// Shadow BCEs revoked with a BRI because `shadow_timeout` passed.
    pub shadows_revoked: u64,
    pub bri_received: u64,
    pub bra_sent: u64,
    pub binding_errors_received: u64,
    /// Messages an LMA does not expect (BA, Binding Refresh Request).
    pub unexpected: u64,
}

impl LmaCounters {
    fn pba(&mut self, status: u8) {
        *self.pba_sent.entry(status).or_default() += 1;
    }
}

/// The LMA: binding cache, pools, timers and peer state.
#[derive(Debug)]
pub struct Lma {
    cfg: LmaConfig,
    /// Listed MAG address → index in `cfg.mags`.
    mags: HashMap<IpAddr, usize>,
    profiles: HashMap<String, Profile>,
    default_profile: Option<Profile>,
    /// Profile static HNPs (/64) → the NAI allowed to use them.
    static_hnp_owner: HashMap<Ipv6Addr, String>,
    /// Profile static IPv4 HoAs → the NAI allowed to use them.
    static_hoa_owner: HashMap<Ipv4Addr, String>,
    prefixes: PrefixPool,
    hoas: Ipv4HoaPool,
    keys: KeyAllocator,
    cache: BindingCache,
    timers: Timers,
    /// PBUs with HI = 4 waiting for the old MAG, by hold number.
    holds: HashMap<u64, Held>,
    /// Outstanding BRIs by sequence number.
    bris: HashMap<u16, Bri>,
    next_bri_seq: u16,
    /// Heartbeat state per MAG address.
    peers: HashMap<IpAddr, Peer>,
    /// Home addresses that the mobile nodes' own DSMIPv6 registrations hold
    /// (§11.4), by MN-ID and by address.
    owned: shadow::OwnedAddresses,
    restart_counter: u32,
    /// Whether the first `handle`/`poll` has armed the periodic timers.
    started: bool,
    next_hold: u64,
    counters: LmaCounters,
}

impl Lma {
    /// The LMA of `cfg`; `None` when `cfg.lma` is `None`.
    ///
    /// It reads no clock, so its periodic work starts with the first
    /// [`Lma::handle`] or [`Lma::poll`]: call `poll` once right after
    /// [`Lma::set_restart_counter`] to arm the heartbeat timer and send the
    /// restart announcement ([`Lma::next_deadline`] is `None` until then).
    pub fn new(cfg: &Config) -> Option<Lma> {
        let lma = cfg.lma.clone()?;
        let reload::Policy { mags, profiles, default_profile, static_hnp_owner, static_hoa_owner } =
            reload::Policy::of(&lma, cfg);
        Some(Lma {
            mags,
            profiles,
            default_profile,
            static_hnp_owner,
            static_hoa_owner,
            prefixes: PrefixPool::new(&cfg.pools.hnp, &cfg.reserved_hnps()),
            hoas: Ipv4HoaPool::new(&cfg.pools.ipv4),
            keys: KeyAllocator::default(),
            cache: BindingCache::default(),
            timers: Timers::default(),
            holds: HashMap::new(),
            bris: HashMap::new(),
            next_bri_seq: 1,
            peers: HashMap::new(),
            owned: shadow::OwnedAddresses::default(),
            restart_counter: 0,
            started: false,
            next_hold: 1,
            counters: LmaCounters::default(),
            cfg: lma,
        })
    }

    /// Sets the Restart Counter we put in heartbeat responses (RFC 5847
    /// §3.4: persistent, incremented by every restart that loses session
    /// state; the daemon keeps it). Call before the first `poll`.
    pub fn set_restart_counter(&mut self, value: u32) {
        self.restart_counter = value;
    }

    /// One received Mobility Header message. `now` is monotonic, `wall` the
    /// time of day (for Timestamp options).
    pub fn handle(&mut self, rx: Received, now: Instant, wall: SystemTime) -> Vec<Output> {
        let mut out = self.start(now);
        let Received { src, dst, transport, msg } = rx;
        let from = Origin { src, dst, transport };
        match msg {
            MhMessage::BindingUpdate(bu) => self.handle_bu(from, bu, now, wall, &mut out),
            MhMessage::Heartbeat(hb) => self.handle_heartbeat(from, hb, now, &mut out),
            MhMessage::BindingRevocation(br) => self.handle_revocation(from, br, now, &mut out),
            MhMessage::BindingError(be) => self.handle_binding_error(from, be),
            MhMessage::BindingAck(_) | MhMessage::BindingRefreshRequest => self.counters.unexpected += 1,
        }
        out
    }

    /// Timers due at `now`: MinDelayBeforeBCEDelete, lifetime expiry, held
    /// HI = 4 PBUs (MaxDelayBeforeNewBCEAssign), BRI retransmission,
    /// heartbeats, shadow BCEs not activated in time.
    pub fn poll(&mut self, now: Instant, wall: SystemTime) -> Vec<Output> {
        let mut out = self.start(now);
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Session(id) => self.session_timer(id, now, &mut out),
                Timer::Shadow(id) => self.shadow_timer(id, now, &mut out),
                Timer::Hold(key) => self.hold_timer(key, now, wall, &mut out),
                Timer::Bri(seq) => self.bri_timer(seq, now, wall, &mut out),
                Timer::Heartbeat => self.heartbeat_timer(now, &mut out),
            }
        }
        out
    }

    /// The earliest time [`Lma::poll`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Operator revocation (`anchorctl clear binding <mn-id|address|id>`,
    /// `clear binding mag <address>`): BRIs (trigger 1 "administrative
    /// reason", §6.1) for the matching sessions, retransmitted until the
    /// BRA; then the sessions go. `what` is an MN-ID (all its sessions, as
    /// [`Lma::revoke_mn`]), an IPv4 home address or an address inside a
    /// home network prefix (that session), a session id, or `mag` and a
    /// MAG's address (all its sessions, as [`Lma::revoke_mag`]).
    pub fn revoke(&mut self, what: &str, now: Instant) -> Result<Vec<Output>, String> {
        let what = what.trim();
        if self.cache.count_mn(what) > 0 {
            return self.revoke_mn(what, now);
        }
        if let Some(mag) = what.strip_prefix("mag ") {
            let mag: IpAddr = mag.trim().parse().map_err(|_| format!("not a MAG address: {mag:?}"))?;
            return self.revoke_mag(mag, now);
        }
        let mut out = self.start(now);
        let ids = self.find_sessions(what);
        if ids.is_empty() {
            return Err(format!("no binding matches {what:?}"));
        }
        for id in ids {
            self.send_bri(id, revocation::Purpose::Administrative, now, &mut out);
        }
        Ok(out)
    }

    /// Revokes every session of the MN `mn_id`: one BRI per MAG holding
    /// some, carrying the MN-ID alone (RFC 5846: P = 1, G = 0 and no HNP
    /// option name all of that MN's bindings at the MAG). The BRA (or the
    /// last retransmission going unanswered) removes them all.
    pub fn revoke_mn(&mut self, mn_id: &str, now: Instant) -> Result<Vec<Output>, String> {
        let mut out = self.start(now);
        let ids = self.cache.by_mn(mn_id);
        if ids.is_empty() {
            return Err(format!("no binding of {mn_id:?}"));
        }
        self.send_group_bri(&ids, revocation::Reach::Mn, now, &mut out);
        Ok(out)
    }

    /// `anchorctl clear binding mag <address>`: revokes every session that
    /// the MAG with signalling address `mag` registered, with one global
    /// BRI (G = 1, trigger 128 "per-peer policy", no MN-ID; §6.1) per
    /// Proxy-CoA (an Alternate Care-of Address option names one that is
    /// not `mag`). The BRA removes them all.
    pub fn revoke_mag(&mut self, mag: IpAddr, now: Instant) -> Result<Vec<Output>, String> {
        let mut out = self.start(now);
        let ids = self.cache.by_mag(mag);
        if ids.is_empty() {
            return Err(format!("no binding registered by {mag}"));
        }
        self.send_group_bri(&ids, revocation::Reach::Mag, now, &mut out);
        Ok(out)
    }

    /// Revokes only the IPv4 home address `hoa` of its session: a BRI with
    /// V = 1, the MN-ID and an IPv4 HoA Request option carrying `hoa`
    /// (§6.1). The BRA takes the address away; the session keeps its HNPs
    /// (and goes when it has none).
    pub fn revoke_ipv4_hoa(&mut self, hoa: Ipv4Addr, now: Instant) -> Result<Vec<Output>, String> {
        let mut out = self.start(now);
        let id = self.cache.by_hoa(hoa).ok_or_else(|| format!("no binding holds {hoa}"))?;
        self.send_ipv4_bri(id, now, &mut out);
        Ok(out)
    }

    /// Every session, by id.
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.cache.iter().map(|b| &b.session)
    }

    /// The session `id`.
    pub fn session(&self, id: u32) -> Option<&Session> {
        self.cache.get(id).map(|b| &b.session)
    }

    pub fn counters(&self) -> &LmaCounters {
        &self.counters
    }

    /// /64s and IPv4 home addresses out, for `anchorctl show pools`.
    pub fn pools(&self) -> (&PrefixPool, &Ipv4HoaPool) {
        (&self.prefixes, &self.hoas)
    }

    /// The pools, for keeping them in step with another role's (the
    /// daemon reserves there what the home agent holds).
    pub fn pools_mut(&mut self) -> (&mut PrefixPool, &mut Ipv4HoaPool) {
        (&mut self.prefixes, &mut self.hoas)
    }

    /// Arms the periodic timers on the first call, and sends the unsolicited
    /// heartbeat responses of a restart that lost state (RFC 5847 §5: every
    /// start of `anchord` loses the binding cache) to every listed MAG.
    fn start(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            if let Some(interval) = self.cfg.heartbeat_interval {
                self.timers.arm(Timer::Heartbeat, now + interval);
            }
            self.announce_restart(&mut out);
        }
        out
    }

    fn find_sessions(&self, what: &str) -> Vec<u32> {
        match what.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => return self.cache.by_hoa(a).into_iter().collect(),
            Ok(IpAddr::V6(a)) => return self.cache.by_hnp(slash64(a)).into_iter().collect(),
            Err(_) => {}
        }
        match what.parse::<u32>() {
            Ok(id) if self.cache.contains(id) => vec![id],
            _ => Vec::new(),
        }
    }

    fn profile(&self, mn_id: &str) -> Option<&Profile> {
        self.profiles.get(mn_id).or(self.default_profile.as_ref())
    }

    /// The one setter of a session's state (§3.4.4, §11.4): moves the
    /// session timer to `timer` and adds or removes its forwarding. Becoming
    /// (or staying) active installs the forwarding when `changed` or when it
    /// was not installed; becoming deprecated or shadow removes it.
    fn set_state(&mut self, id: u32, state: SessionState, timer: Instant, changed: bool, out: &mut Vec<Output>) {
        let Some(mut bce) = self.cache.get(id).cloned() else { return };
        bce.session.state = state;
        self.timers.disarm(Timer::Session(id), bce.timer);
        bce.timer = timer;
        self.timers.arm(Timer::Session(id), timer);
        match state {
            SessionState::Active => {
                if changed || !bce.installed {
                    bce.installed = true;
                    out.push(Output::Install(bce.session.clone()));
                }
            }
            SessionState::Deprecated | SessionState::Shadow => {
                if bce.installed {
                    bce.installed = false;
                    out.push(Output::Remove { id });
                }
            }
        }
        self.cache.replace(bce);
    }

    /// Deletes a session (§3.4.4 step 4): forwarding, addresses, keys,
    /// timers, outstanding BRI; then HI = 4 PBUs held for it are decided
    /// anew (§3.3: the old session is gone).
    fn remove_session(&mut self, id: u32, now: Instant, out: &mut Vec<Output>) -> bool {
        let Some(bce) = self.cache.remove(id) else { return false };
        self.timers.disarm(Timer::Session(id), bce.timer);
        if let Some(deadline) = bce.shadow {
            self.timers.disarm(Timer::Shadow(id), deadline);
        }
        if bce.installed {
            out.push(Output::Remove { id });
        }
        for p in &bce.session.hnps {
            self.release_prefix(*p);
        }
        if let Some((hoa, _, _)) = bce.session.ipv4_hoa {
            self.release_hoa(hoa);
        }
        gre::release_keys(&mut self.keys, &bce.session.encap);
        if let Some(seq) = bce.revoking {
            self.leave_bri(seq, id);
        }
        self.counters.sessions_deleted += 1;
        self.release_holds_for(id, pbu::HoldEnd::Timeout, now, out);
        true
    }

    fn session_timer(&mut self, id: u32, now: Instant, out: &mut Vec<Output>) {
        let Some(bce) = self.cache.get(id) else { return };
        if bce.timer > now {
            return;
        }
        let expired = bce.session.state != SessionState::Deprecated;
        // §3.7: the lifetime ran out with no refresh (no PBA is sent), or
        // §3.4.4 step 4: MinDelayBeforeBCEDelete passed.
        if self.remove_session(id, now, out) && expired {
            self.counters.sessions_expired += 1;
        }
    }

    fn send(&mut self, out: &mut Vec<Output>, src: IpAddr, dst: IpAddr, transport: Transport, msg: MhMessage) {
        if let MhMessage::BindingAck(ba) = &msg {
            self.counters.pba(ba.status);
        }
        out.push(Output::Send { src, dst, transport, msg });
    }

    fn handle_binding_error(&mut self, from: Origin, be: proto::BindingError) {
        self.counters.binding_errors_received += 1;
        if !self.mags.contains_key(&from.src) {
            self.counters.dropped_unlisted_peer += 1;
            return;
        }
        // §7: a Binding Error status 2 (unrecognized MH type) in reply to a
        // heartbeat → never send heartbeats to that peer again.
        if be.status == proto::be_status::UNRECOGNIZED_MH_TYPE {
            self.heartbeat_not_supported(from.src);
        }
    }
}

/// Where a message came from, and where replies go back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    src: IpAddr,
    dst: IpAddr,
    transport: Transport,
}

/// The /64 holding `addr` (interface identifier zeroed).
fn slash64(addr: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(addr) & !u128::from(u64::MAX))
}

/// `wall` as a Timestamp option value: 48-bit seconds and 16-bit fraction
/// since the Unix epoch (§2.10.7; not NTP, §14 #18).
fn timestamp_of(wall: SystemTime) -> u64 {
    let since = wall.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let fraction = (u64::from(since.subsec_nanos()) << 16) / 1_000_000_000;
    (since.as_secs() << 16) | fraction
}

/// The MN-ID as text: the identifier when it is UTF-8, else `0x` + hex.
fn mn_id_text(id: &[u8]) -> String {
    match std::str::from_utf8(id) {
        Ok(text) => text.to_owned(),
        Err(_) => {
            let mut s = String::from("0x");
            for b in id {
                s.push_str(&format!("{b:02x}"));
            }
            s
        }
    }
}
