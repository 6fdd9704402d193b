//! The Mobile IPv4 home agent family (PROTOCOLS.md §8–§10): the UDP 434
//! codec and a pure home agent state machine for Mobile IPv4 (RFC 5944
//! with RFC 3024 reverse tunnelling, RFC 3519 UDP tunnelling, RFC 3543
//! revocation, RFC 4433 dynamic home agents and RFC 6245 GRE keys),
//! Dual-Stack MIPv4 (RFC 5454) and Proxy MIPv4 (RFC 5563).
//!
//! Files: `wire` (messages, [`parse`]/[`emit`]), `ext` (every extension
//! shape of §8.4), `auth` (HMAC-MD5 authenticators, §8.5), `rrq`
//! (Registration Request processing, §8.7, §9.2, §10.4), `revocation`
//! (RFC 3543, §8.9), `golden` (tests against scapy- and tshark-checked
//! vectors in `testdata/`). `docs/conformance/mip4.md` maps each rule to
//! its test.
//!
//! Like [`crate::pmip6::Lma`], [`Ha`] never reads a clock and never touches
//! a socket: the control loop hands it received UDP payloads
//! ([`Ha::handle`]), calls [`Ha::poll`] when [`Ha::next_deadline`] passes,
//! and executes the [`Output`]s (send a message, install or remove a
//! binding's forwarding).

pub mod auth;
pub mod ext;
#[cfg(test)]
mod golden;
mod persist;
mod reload;
mod revocation;
mod rrq;
pub mod wire;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{Config, FaPeer, HaConfig, Ipv6Cidr, MnSecurityAssociation, Profile};
use dataplane::tunnel::{TunnelKind, TunnelSpec};

use crate::pool::{Allocator, Ipv4HoaPool, PrefixPool};

pub use ext::{AuthKind, Dialect, Extension};
pub use persist::Restored;
pub use reload::HaReload;
pub use wire::{code, emit, parse, Message, Revocation, RevocationAck, Rrp, Rrq};

/// The Mobile IPv4 UDP port: registrations, revocations and RFC 3519
/// tunnel data, on the home agent's side.
pub const MIP4_PORT: u16 = dataplane::wire::udp::port::MIP;

/// Why a UDP 434 payload was refused. Every one means: discard silently
/// (and count); no Registration Reply can be built from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Mip4Error {
    /// Empty, or shorter than its type's fixed part.
    #[error("mobile ipv4 message truncated")]
    Truncated,
    /// A message type we do not handle (§8.1: ignored).
    #[error("unknown mobile ipv4 message type {msg_type}")]
    UnknownType { msg_type: u8 },
    /// The extension whose Type octet is at `offset` runs past the end.
    #[error("extension at offset {offset} runs past the end of the message")]
    ExtensionOverrun { offset: usize },
    /// A known extension whose length its layout does not allow.
    #[error("extension {ext_type} at offset {offset} has a bad length")]
    BadExtensionLength { ext_type: u8, offset: usize },
    /// A non-skippable extension (type 0–127, or a sub-type) we do not
    /// know: RFC 5944 §1.9 discards the whole message.
    #[error("unknown non-skippable extension {ext_type} at offset {offset}")]
    UnknownNonSkippable { ext_type: u8, offset: usize },
}

/// One received UDP datagram to port 434.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub src: Ipv4Addr,
    /// The IP destination: our address, or a broadcast address.
    pub dst: Ipv4Addr,
    /// The sender's UDP port: replies go back to it.
    pub src_port: u16,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// What the home agent asks the control loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `msg` as IPv4 | UDP 434 → `dst_port` from `src` to `dst`.
    Send { src: Ipv4Addr, dst: Ipv4Addr, dst_port: u16, msg: Message },
    /// A binding was created or its forwarding changed: (re)install it.
    Install(Binding),
    /// The binding's forwarding must go.
    Remove { id: u32 },
    /// draft-ietf-mip4-dsmipv4-01 mode: run duplicate address detection
    /// for `addr` on the home link, then report it with [`Ha::dad_done`];
    /// the registration that asked for it is answered then. A unique
    /// address is defended (proxy ND) while a binding holds it as its
    /// `home_address6`.
    Dad { addr: Ipv6Addr },
}

/// Which rule set registered a binding (DESIGN.md `role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A Mobile IPv4 client, directly or through a foreign agent.
    Mip4,
    /// A Mobile IPv4 client with IPv6 prefixes (RFC 5454).
    Dsmip4,
    /// A proxy mobility agent on behalf of a host (RFC 5563).
    Pmip4,
}

impl Role {
    /// `mip4`, `dsmip4` or `pmip4`, as `anchorctl show bindings` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Mip4 => "mip4",
            Role::Dsmip4 => "dsmip4",
            Role::Pmip4 => "pmip4",
        }
    }
}

/// A binding's tunnel, in the terms of [`TunnelSpec`] (whose remaining
/// fields — egress port, TTL, ECN, MTUs — are the daemon's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// [`TunnelKind::IpIp`], [`TunnelKind::Gre`] or [`TunnelKind::MipUdp`].
    pub kind: TunnelKind,
    /// Our tunnel address (the reply's Home Agent field).
    pub local: Ipv4Addr,
    /// The care-of address, or for UDP tunnelling the NAT's public address.
    pub remote: Ipv4Addr,
    /// GRE key expected on the uplink (allocated by us).
    pub key_in: Option<u32>,
    /// GRE key put on the downlink (the FA's or PMA's).
    pub key_out: Option<u32>,
    /// UDP tunnelling: the peer's port (ours is [`MIP4_PORT`]).
    pub peer_port: u16,
}

impl Tunnel {
    /// The data plane's description of this tunnel.
    pub fn spec(&self, port: usize, ttl: u8, ecn_compat: bool, path_mtu: u16, ipv6_over_ipv4_mtu: u16) -> TunnelSpec {
        let udp = self.kind == TunnelKind::MipUdp;
        TunnelSpec {
            kind: self.kind,
            local: self.local.into(),
            remote: self.remote.into(),
            key_in: self.key_in,
            key_out: self.key_out,
            local_port: if udp { MIP4_PORT } else { 0 },
            peer_port: if udp { self.peer_port } else { 0 },
            port,
            dscp: None,
            ttl,
            ecn_compat,
            path_mtu,
            ipv6_over_ipv4_mtu,
            nested: false,
        }
    }

    /// `ipip`, `gre` or `mip-udp`, as `anchorctl` prints it.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// Who a revocation for a binding goes to (RFC 3543, §8.9): the foreign
/// agent or PMA that registered it, or the mobile node itself with a
/// co-located care-of address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationPeer {
    pub addr: Ipv4Addr,
    /// Authenticated with the FA-HA association (else MN-HA).
    pub via_fa: bool,
    /// Both sides set the I bit.
    pub i_bit: bool,
}

/// The shared NAI text of a binding.
pub type MnId = Arc<str>;

/// One mobility binding (RFC 5944 §3.8; a session in DESIGN.md's words).
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub id: u32,
    /// The NAI, or the home address as text for a request without one.
    pub mn_id: MnId,
    pub role: Role,
    pub hoa: Ipv4Addr,
    /// Prefix length and default router of the home subnet.
    pub hoa_prefix_len: u8,
    pub default_router: Option<Ipv4Addr>,
    /// The registered care-of address (the request's Care-of Address).
    pub coa: Ipv4Addr,
    /// Source address and port of the last accepted request.
    pub registered_from: (Ipv4Addr, u16),
    pub tunnel: Tunnel,
    /// RFC 3519 R = 1: the tunnel's far end is learnt from the mobile
    /// node's first keepalive; nothing is installed until then.
    pub awaiting_keepalive: bool,
    /// T = 1 was granted (RFC 3024).
    pub reverse_tunnel: bool,
    /// DSMIPv4 prefixes (each a /64).
    pub prefixes: Vec<Ipv6Addr>,
    /// DSMIPv4 Tunneling Mode granted: IPv6 goes straight to the care-of
    /// address (reply code 1), else to the IPv4 home address (code 0).
    pub ipv6_to_coa: bool,
    /// draft -01 mode: an IPv6 home address on the home link (a /128 that
    /// passed duplicate address detection).
    pub home_address6: Option<Ipv6Addr>,
    /// Granted lifetime.
    pub lifetime: Duration,
    pub expires: Instant,
    /// Identification of the last accepted request.
    pub identification: u64,
    /// RFC 5563 extensions of a proxy registration.
    pub att: Option<u8>,
    pub interface_id: Option<Vec<u8>>,
    pub device_id: Option<(u8, Vec<u8>)>,
    pub subscriber_id: Option<(u8, Vec<u8>)>,
    /// Where a revocation would go, if the peer advertised support.
    pub revocation: Option<RevocationPeer>,
}

/// Counters, one field per event (`anchorctl show stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HaCounters {
    pub rrq_received: u64,
    /// Registration Replies sent, by code.
    pub rrp_sent: BTreeMap<u8, u64>,
    /// Payloads the codec refused (truncated, bad or unknown non-skippable
    /// extensions, unknown message types).
    pub malformed: u64,
    /// Requests without an authorisation-enabling extension or from a
    /// mobile node (or foreign agent) we share no association with:
    /// discarded silently (§8.7 step 2, step 4).
    pub no_security_association: u64,
    /// Authentication failures (131, 132): security events.
    pub auth_failures: u64,
    /// Identification mismatches answered with 133.
    pub replays: u64,
    /// Retransmissions of the last accepted request, answered again
    /// without extending the lifetime.
    pub retransmissions: u64,
    pub bindings_created: u64,
    pub renewals: u64,
    /// Registrations that moved a binding to another care-of address.
    pub handoffs: u64,
    pub deregistrations: u64,
    pub expired: u64,
    pub revocations_sent: u64,
    pub revocations_retransmitted: u64,
    pub revocation_acks_received: u64,
    pub revocations_received: u64,
    pub revocation_acks_sent: u64,
    /// RFC 3519 keepalives that set or moved a UDP tunnel's far end.
    pub keepalives_applied: u64,
    /// Messages a home agent does not expect (replies, tunnel data).
    pub unexpected: u64,
    /// draft -01 home addresses sent to duplicate address detection, and
    /// those found in use (code 11).
    pub dad_started: u64,
    pub dad_duplicates: u64,
    /// Registrations dropped because DAD never reported.
    pub dad_timeouts: u64,
}

impl HaCounters {
    fn rrp(&mut self, code: u8) {
        *self.rrp_sent.entry(code).or_default() += 1;
    }
}

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// A binding's lifetime.
    Binding(u32),
    /// Retransmission of an outstanding revocation, by identifier.
    Revocation(u32),
}

/// A draft -01 registration waiting for duplicate address detection.
#[derive(Debug)]
struct PendingDad {
    rx: Received,
    identification: u64,
    waiting: BTreeSet<Ipv6Addr>,
    /// Address → unique.
    results: HashMap<Ipv6Addr, bool>,
    since: Instant,
}

/// How long a registration waits for DAD results before it is dropped
/// (the node retransmits); DAD itself takes one RetransTimer.
const DAD_WAIT_MAX: Duration = Duration::from_secs(10);

/// The home agent: bindings and their indexes, pools, keys, timers.
#[derive(Debug)]
pub struct Ha {
    cfg: HaConfig,
    /// MN-HA associations by NAI.
    sas: HashMap<String, Vec<MnSecurityAssociation>>,
    /// Foreign agents / PMAs by address.
    fas: HashMap<Ipv4Addr, FaPeer>,
    profiles: HashMap<String, Profile>,
    default_profile: Option<Profile>,
    /// Profile static home addresses → their NAI.
    static_owner: HashMap<Ipv4Addr, String>,
    /// Directed broadcast addresses of the home subnets (§8.7 step 5).
    home_broadcasts: BTreeSet<Ipv4Addr>,
    hoas: Ipv4HoaPool,
    prefixes: PrefixPool,
    /// Uplink GRE keys, unique in the home agent, never 0.
    keys: Allocator,
    bindings: HashMap<u32, Binding>,
    /// (NAI, access technology of a proxy registration) → binding.
    by_mn: HashMap<(String, Option<u8>), u32>,
    by_hoa: HashMap<Ipv4Addr, u32>,
    next_id: u32,
    /// Identification of the last accepted request per NAI, kept after
    /// de-registration for mobile nodes with an association (bounded by
    /// the config), so that an old request cannot be replayed.
    last_id: HashMap<String, u64>,
    timers: BTreeSet<(Instant, Timer)>,
    revocations: HashMap<u32, revocation::Outstanding>,
    /// Last revocation identifier we used (RFC 3543: increasing).
    last_revocation_id: u32,
    /// Last revocation identifier received from each foreign agent.
    peer_revocation_ids: HashMap<Ipv4Addr, u32>,
    counters: HaCounters,
    /// Private extension types read besides IANA's (draft -01 mode).
    dialect: Dialect,
    /// IPv6 subnets of the home-link ports: where draft -01 home
    /// addresses live.
    home_subnets6: Vec<Ipv6Cidr>,
    /// Our own IPv6 addresses: never anyone's home address.
    our_addrs6: BTreeSet<Ipv6Addr>,
    /// draft -01 home addresses → binding.
    by_addr6: HashMap<Ipv6Addr, u32>,
    /// Registrations waiting for DAD, by NAI.
    dad_pending: HashMap<String, PendingDad>,
    /// DAD results of the registration being run again (address → unique).
    dad_known: HashMap<Ipv6Addr, bool>,
    /// Bindings created, changed or removed since the last
    /// [`Ha::take_changed`], once tracking is on (the store).
    changed: Option<BTreeSet<u32>>,
}

impl Ha {
    /// The home agent of `cfg`; `None` when `cfg.ha` is `None`.
    pub fn new(cfg: &Config) -> Option<Ha> {
        let ha = cfg.ha.clone()?;
        let pools = reload::pools_of(&ha, cfg);
        let reload::Policy { sas, fas, profiles, default_profile, static_owner, home_broadcasts } =
            reload::Policy::of(&ha, cfg);
        Some(Ha {
            sas,
            fas,
            profiles,
            default_profile,
            static_owner,
            home_broadcasts,
            hoas: Ipv4HoaPool::new(&pools),
            prefixes: PrefixPool::new(&cfg.pools.hnp, &cfg.reserved_hnps()),
            keys: Allocator::new(vec![(1, u64::from(u32::MAX))], Default::default()),
            bindings: HashMap::new(),
            by_mn: HashMap::new(),
            by_hoa: HashMap::new(),
            next_id: 0,
            last_id: HashMap::new(),
            timers: BTreeSet::new(),
            revocations: HashMap::new(),
            last_revocation_id: 0,
            peer_revocation_ids: HashMap::new(),
            counters: HaCounters::default(),
            dialect: Dialect { dsmip4_draft01: ha.dsmip4_draft01_type },
            home_subnets6: cfg
                .ports
                .iter()
                .filter(|p| p.home_link)
                .flat_map(|p| p.ipv6.iter().map(|c| c.network()))
                .collect(),
            our_addrs6: cfg.ports.iter().flat_map(|p| p.ipv6.iter().map(|c| c.addr)).collect(),
            by_addr6: HashMap::new(),
            dad_pending: HashMap::new(),
            dad_known: HashMap::new(),
            changed: None,
            cfg: ha,
        })
    }

    /// One datagram received on UDP 434. `now` is monotonic, `wall` the
    /// time of day (Identification timestamps, revocation identifiers).
    pub fn handle(&mut self, rx: Received, now: Instant, wall: SystemTime) -> Vec<Output> {
        let mut out = Vec::new();
        let parsed = match wire::parse_with_offsets_in(&rx.payload, self.dialect) {
            Ok(p) => p,
            Err(e) => {
                self.counters.malformed += 1;
                tracing::debug!(src = %rx.src, "mobile ipv4 message refused: {e}");
                return out;
            }
        };
        match parsed.message {
            Message::Rrq(mut rrq) => {
                self.counters.rrq_received += 1;
                // draft -01 extensions are read as RFC 5454's; the reply
                // answers in the layout the request used.
                let mut draft01 = None;
                for e in &mut rrq.extensions {
                    if let Extension::Draft01 { ext_type, ext } = e {
                        draft01 = Some(*ext_type);
                        *e = std::mem::replace(&mut **ext, Extension::Pad);
                    }
                }
                self.handle_rrq(&rx, rrq, &parsed.offsets, draft01, now, wall, &mut out);
            }
            Message::RevocationAck(ack) => self.handle_revocation_ack(&rx, ack, &parsed.offsets),
            Message::Revocation(rev) => self.handle_revocation(&rx, rev, &parsed.offsets, now, &mut out),
            Message::Rrp(_) | Message::TunnelData { .. } => self.counters.unexpected += 1,
        }
        out
    }

    /// Timers due at `now`: binding expiry (silent, §8.7), revocation
    /// retransmissions.
    pub fn poll(&mut self, now: Instant, wall: SystemTime) -> Vec<Output> {
        let mut out = Vec::new();
        let before = self.dad_pending.len();
        self.dad_pending.retain(|_, p| now < p.since + DAD_WAIT_MAX);
        self.counters.dad_timeouts += (before - self.dad_pending.len()) as u64;
        while let Some(&(at, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            match timer {
                Timer::Binding(id) => {
                    if self.bindings.get(&id).is_some_and(|b| b.expires <= now) {
                        // §8.7: bindings expire silently (no reply is sent).
                        self.remove_binding(id, &mut out);
                        self.counters.expired += 1;
                    }
                }
                Timer::Revocation(rid) => self.revocation_timer(rid, now, wall, &mut out),
            }
        }
        out
    }

    /// The earliest time [`Ha::poll`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        let dad = self.dad_pending.values().map(|p| p.since + DAD_WAIT_MAX).min();
        self.timers.first().map(|(at, _)| *at).into_iter().chain(dad).min()
    }

    /// The result of an [`Output::Dad`]: `unique` when nobody answered
    /// for `addr`. Registrations that have all their results are run
    /// again with them (code 11 for a duplicate) and answered.
    pub fn dad_done(&mut self, addr: Ipv6Addr, unique: bool, now: Instant, wall: SystemTime) -> Vec<Output> {
        if !unique {
            self.counters.dad_duplicates += 1;
        }
        let mut ready: Vec<String> = Vec::new();
        for (mn, p) in &mut self.dad_pending {
            if p.waiting.remove(&addr) {
                p.results.insert(addr, unique);
                if p.waiting.is_empty() {
                    ready.push(mn.clone());
                }
            }
        }
        let mut out = Vec::new();
        ready.sort();
        for mn in ready {
            if let Some(p) = self.dad_pending.remove(&mn) {
                self.dad_known = p.results;
                out.extend(self.handle(p.rx, now, wall));
                self.dad_known.clear();
            }
        }
        out
    }

    /// An RFC 3519 keepalive (a UDP-tunnelled ICMP echo request from the
    /// home address `inner_src` to us) arrived from `src:src_port`. For a
    /// binding registered with R = 1 whose request came from `src`, the
    /// keepalive's address and port become the tunnel's far end (§8.12);
    /// for any other UDP-tunnelled binding from `src`, a new source port
    /// (NAT rebinding) moves the tunnel.
    pub fn udp_keepalive(&mut self, src: Ipv4Addr, src_port: u16, inner_src: Ipv4Addr) -> Vec<Output> {
        let mut out = Vec::new();
        let Some(&id) = self.by_hoa.get(&inner_src) else { return out };
        let Some(b) = self.bindings.get_mut(&id) else { return out };
        if b.tunnel.kind != TunnelKind::MipUdp || b.registered_from.0 != src {
            return out;
        }
        if b.awaiting_keepalive || b.tunnel.peer_port != src_port || b.tunnel.remote != src {
            b.awaiting_keepalive = false;
            b.tunnel.remote = src;
            b.tunnel.peer_port = src_port;
            self.counters.keepalives_applied += 1;
            if let Some(c) = self.changed.as_mut() {
                c.insert(id);
            }
            out.push(Output::Install(b.clone()));
        }
        out
    }

    /// Every binding.
    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.values()
    }

    pub fn binding(&self, id: u32) -> Option<&Binding> {
        self.bindings.get(&id)
    }

    /// The binding holding home address `hoa`.
    pub fn binding_by_hoa(&self, hoa: Ipv4Addr) -> Option<&Binding> {
        self.by_hoa.get(&hoa).and_then(|id| self.bindings.get(id))
    }

    pub fn counters(&self) -> &HaCounters {
        &self.counters
    }

    /// Home addresses and prefixes out, for `anchorctl show pools`.
    pub fn pools(&self) -> (&Ipv4HoaPool, &PrefixPool) {
        (&self.hoas, &self.prefixes)
    }

    /// The pools, for keeping them in step with another role's (the
    /// daemon reserves there what the PMIPv6 LMA holds).
    pub fn pools_mut(&mut self) -> (&mut Ipv4HoaPool, &mut PrefixPool) {
        (&mut self.hoas, &mut self.prefixes)
    }

    fn profile(&self, mn_id: &str) -> Option<&Profile> {
        self.profiles.get(mn_id).or(self.default_profile.as_ref())
    }

    fn arm(&mut self, timer: Timer, at: Instant) {
        self.timers.insert((at, timer));
    }

    fn disarm(&mut self, timer: Timer, at: Instant) {
        self.timers.remove(&(at, timer));
    }

    /// The one way a binding enters the store: indexes and timer follow.
    fn insert_binding(&mut self, b: Binding) {
        if let Some(c) = self.changed.as_mut() {
            c.insert(b.id);
        }
        self.by_mn.insert((b.mn_id.to_string(), b.att), b.id);
        self.by_hoa.insert(b.hoa, b.id);
        if let Some(a) = b.home_address6 {
            self.by_addr6.insert(a, b.id);
        }
        self.arm(Timer::Binding(b.id), b.expires);
        self.bindings.insert(b.id, b);
    }

    /// Replaces a binding's value (same id), moving its indexes and timer.
    fn replace_binding(&mut self, b: Binding) {
        if let Some(old) = self.bindings.remove(&b.id) {
            self.by_mn.remove(&(old.mn_id.to_string(), old.att));
            self.by_hoa.remove(&old.hoa);
            if let Some(a) = old.home_address6 {
                self.by_addr6.remove(&a);
            }
            self.disarm(Timer::Binding(old.id), old.expires);
        }
        self.insert_binding(b);
    }

    /// The one way a binding leaves: forwarding, indexes, timer, home
    /// address, prefixes, GRE key.
    fn remove_binding(&mut self, id: u32, out: &mut Vec<Output>) -> Option<Binding> {
        let b = self.bindings.remove(&id)?;
        if let Some(c) = self.changed.as_mut() {
            c.insert(id);
        }
        self.by_mn.remove(&(b.mn_id.to_string(), b.att));
        self.by_hoa.remove(&b.hoa);
        if let Some(a) = b.home_address6 {
            self.by_addr6.remove(&a);
        }
        self.disarm(Timer::Binding(id), b.expires);
        if !b.awaiting_keepalive {
            out.push(Output::Remove { id });
        }
        self.hoas.release(b.hoa);
        for p in &b.prefixes {
            self.prefixes.release(*p);
        }
        if let Some(k) = b.tunnel.key_in {
            self.keys.release(u64::from(k));
        }
        if !self.sas.contains_key(&*b.mn_id) {
            self.last_id.remove(&*b.mn_id);
        }
        Some(b)
    }

    fn new_id(&mut self) -> u32 {
        loop {
            self.next_id = self.next_id.wrapping_add(1).max(1);
            if !self.bindings.contains_key(&self.next_id) {
                return self.next_id;
            }
        }
    }

    fn send(&mut self, out: &mut Vec<Output>, src: Ipv4Addr, dst: Ipv4Addr, dst_port: u16, msg: Message) {
        if let Message::Rrp(rrp) = &msg {
            self.counters.rrp(rrp.code);
        }
        out.push(Output::Send { src, dst, dst_port, msg });
    }
}

/// Seconds between 1900-01-01 (NTP) and 1970-01-01 (Unix).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// `wall` as a 64-bit NTP timestamp: seconds since 1900 in the high 32
/// bits, fraction in the low 32 (§8.6).
pub fn ntp_of(wall: SystemTime) -> u64 {
    let since = wall.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = (since.as_secs() + NTP_UNIX_OFFSET) & 0xffff_ffff;
    let fraction = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | fraction
}

/// The NAI as text: itself when UTF-8, else `0x` and hex digits.
fn nai_text(id: &[u8]) -> String {
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
