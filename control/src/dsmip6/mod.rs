//! The DSMIPv6 home agent (RFC 6275 home registration, RFC 5555 dual
//! stack, RFC 4285 authentication; PROTOCOLS.md §11): a pure state machine
//! [`Ha6`] over the codec of [`crate::proto`] and [`crate::proto::dsmip6`].
//!
//! Files: `auth` (RFC 4285 MN-HA authenticator and MESG-ID, §11.3), `bu`
//! (Binding Update processing, §11.1–§11.2), `persist` (registrations to
//! and from the session store's records), `golden` (scapy- and
//! tshark-checked vectors in `testdata/`), `tests` (one test per rule).
//! `docs/conformance/dsmip6.md` maps each rule to its test.
//!
//! Like [`crate::mip4::Ha`], [`Ha6`] never reads a clock and never touches
//! a socket: the control loop hands it received IP packets ([`Ha6::handle`]:
//! IPv6 carrying a Mobility Header, or IPv4 | UDP 4191 | IPv6), calls
//! [`Ha6::poll`] when [`Ha6::next_deadline`] passes, and executes the
//! [`Output`]s: send a Binding Acknowledgement (a whole IP packet), install
//! or remove the forwarding of a home address.
//!
//! A registration holds one binding per address family: the IPv6 home
//! address always, the IPv4 home address when RFC 5555's IPv4 part was
//! accepted. Each has its own id and tunnel, so that the extended home link
//! rules (PROTOCOLS.md §11.4, not implemented yet) can remove one family's
//! binding while the other stays.

pub mod auth;
mod bu;
#[cfg(test)]
mod golden;
mod persist;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anchor_config::Ipv4Pool;
use dataplane::tunnel::{TunnelKind, TunnelSpec};

use crate::pool::Ipv4HoaPool;
use crate::proto::dsmip6::{framing_of, ipv6_packet, parse_packet, udp4_packet, Framing, PacketError};
use crate::proto::{be_status, emit, BindingAck, BindingError, Checksum, MhMessage};

pub use crate::mip4::ntp_of;
pub use crate::proto::dsmip6::DSMIP6_PORT;
pub use persist::Restored;

/// NATKATIMEOUT (RFC 5555 §4.1): the default NAT keepalive refresh time.
pub const NAT_KEEPALIVE_DEFAULT: u32 = 110;

/// The NAT Detection option's refresh time when no NAT was detected: no
/// keepalives needed.
pub const NO_KEEPALIVES: u32 = 0xffff_ffff;

/// RFC 4285 §6: the default MESG-ID timestamp tolerance.
pub const REPLAY_TOLERANCE_DEFAULT: Duration = Duration::from_secs(7);

/// One mobile node the home agent serves: its MN-HA security association
/// (RFC 4285) and its home addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileNode {
    /// The NAI of its Mobile Node Identifier option (RFC 4283 subtype 1),
    /// when it sends one; without one the association is found by home
    /// address.
    pub mn_id: Option<String>,
    /// The static IPv6 home address.
    pub hoa: Ipv6Addr,
    /// Mobility SPI of the MN-HA association (RFC 4285; 0–255 reserved).
    pub spi: u32,
    /// HMAC-SHA1 key of the association.
    pub key: Vec<u8>,
    /// A static IPv4 home address; without one an IPv4 home address
    /// request for 0.0.0.0 is served from the pools.
    pub ipv4_hoa: Option<Ipv4Addr>,
}

/// The home agent's configuration (the `[dsmip6]` TOML section will be
/// turned into this).
#[derive(Debug, Clone, PartialEq)]
pub struct Ha6Config {
    /// Our IPv6 address: the Binding Updates' (inner) destination, the
    /// Binding Acknowledgements' (inner) source, the tunnels' local end
    /// towards IPv6 care-of addresses.
    pub address: Ipv6Addr,
    pub mobile_nodes: Vec<MobileNode>,
    /// IPv4 home addresses for requests of 0.0.0.0 (RFC 5555 §4.5).
    pub ipv4_pools: Vec<Ipv4Pool>,
    /// The longest lifetime granted (RFC 6275 §10.3.1 lets the home agent
    /// shorten the request).
    pub max_lifetime: Duration,
    /// Refresh time in the NAT Detection option when a NAT was detected,
    /// seconds (NATKATIMEOUT).
    pub nat_keepalive: u32,
    /// Whether a Binding Update with F = 1 (force UDP encapsulation) is
    /// accepted (else status 129, PROTOCOLS.md §14 #2).
    pub accept_udp_forcing: bool,
    /// MESG-ID timestamp tolerance (RFC 4285 §6).
    pub replay_tolerance: Duration,
    /// Whether a Binding Update without a MESG-ID option is refused with
    /// status 145 (RFC 4285 policy).
    pub require_mesg_id: bool,
    /// The IPv6 subnets of our home links (ports with `home_link = true`),
    /// as (prefix, length): an IPv6 home address in one goes through
    /// duplicate address detection before its binding is accepted (RFC
    /// 6275 §10.3.1, [`Output::Dad`]).
    pub home_links: Vec<(Ipv6Addr, u8)>,
    /// MinDelayBeforeBCEDelete for a node's de-registration where the home
    /// agent is also the LMA (the extended home link, PROTOCOLS.md §11.4:
    /// "any de-registration (from MAG or MN): do not delete immediately;
    /// mark deprecated and delete after MinDelayBeforeBCEDelete unless a
    /// related mobility message arrives first"). `None`: deleted at once
    /// (RFC 6275 §10.3.2).
    pub deregistration_delay: Option<Duration>,
}

impl Default for Ha6Config {
    fn default() -> Self {
        Ha6Config {
            address: Ipv6Addr::UNSPECIFIED,
            mobile_nodes: Vec::new(),
            ipv4_pools: Vec::new(),
            max_lifetime: Duration::from_secs(3600),
            nat_keepalive: NAT_KEEPALIVE_DEFAULT,
            accept_udp_forcing: true,
            replay_tolerance: REPLAY_TOLERANCE_DEFAULT,
            require_mesg_id: true,
            home_links: Vec::new(),
            deregistration_delay: None,
        }
    }
}

/// What the home agent asks the control loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `packet`, a whole IP packet from its IP header on (IPv6 | type 2
    /// routing header | MH, or IPv4 | UDP | IPv6 | MH), to `dst` (its IP
    /// destination: the care-of address, or the NAT's public address).
    /// `ba` is the acknowledgement it carries, for logs and tests.
    Send { dst: IpAddr, packet: Vec<u8>, ba: BindingAck },
    /// A home address's forwarding was created or changed: (re)install it.
    Install(Binding),
    /// The forwarding of binding `id` must go.
    Remove { id: u32 },
    /// The home addresses node `mn_id`'s own registration holds and
    /// forwards now (none: no registration): another role must not take
    /// them, but a proxy registration for them becomes a shadow binding
    /// (PROTOCOLS.md §11.4). Sent whenever this changes.
    Owned { mn_id: Arc<str>, ipv4: Option<Ipv4Addr>, ipv6: Option<Ipv6Addr> },
    /// Node `mn_id` says it is on its home link for `addr`'s family
    /// (PROTOCOLS.md §11.4): its own binding for `addr` no longer forwards,
    /// and a shadow proxy binding holding `addr` takes over.
    AtHome { mn_id: Arc<str>, addr: IpAddr },
    /// RFC 6275 §10.3.1: run duplicate address detection for home address
    /// `addr` on its home link, then report it with [`Ha6::dad_done`]; the
    /// Binding Update that asked for it is answered then (134 when another
    /// node holds the address). A unique address is defended (proxy ND)
    /// by the binding that takes it.
    Dad { addr: Ipv6Addr },
    /// Send a Binding Error (RFC 6275 §9.3.3) with `status`: `packet` a
    /// whole IP packet to `dst`, the offending packet's source. Rate
    /// limited by the control loop (RFC 6275 §9.2).
    BindingError { dst: IpAddr, packet: Vec<u8>, status: u8 },
}

/// Where a registered node is (draft-premec-mext-extended-home-link §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Home {
    /// Away from home: both bindings forward to the care-of address.
    #[default]
    Away,
    /// On its IPv4 home link (IPv4 CoA = IPv4 HoA): the IPv4 binding does
    /// not forward; IPv6 goes in IPv4 to the IPv4 home address.
    Ipv4,
    /// On its IPv6 home link (CoA = IPv6 HoA, with an IPv4 HoA option):
    /// the IPv6 binding does not forward; IPv4 goes in IPv6 to the IPv6
    /// home address.
    Ipv6,
}

/// A binding's tunnel to the care-of address (PROTOCOLS.md §11.1, §11.2
/// item 10), in the terms of [`TunnelSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// [`TunnelKind::IpIp`]: IPv6-in-IPv6 or IPv4-in-IPv6 to an IPv6
    /// care-of address, IPv4-in-IPv4 or IPv6-in-IPv4 to an IPv4 one.
    /// [`TunnelKind::Udp`]: IPv4 | UDP (4191 on our side) | inner packet,
    /// with no TLV header (RFC 5555 §4.1), when a NAT was detected or UDP
    /// was forced.
    pub kind: TunnelKind,
    /// Our address: [`Ha6Config::address`], or the IPv4 address the
    /// Binding Update was sent to.
    pub local: IpAddr,
    /// The care-of address; with UDP, the NAT's public address.
    pub remote: IpAddr,
    /// UDP only: our port (the one the Binding Update came to).
    pub local_port: u16,
    /// UDP only: the mobile node's (or NAT's) port.
    pub peer_port: u16,
    /// To the node's home address of the other family while it is on that
    /// family's home link (draft-premec-mext-extended-home-link §5.2):
    /// once in this tunnel a packet goes into whatever tunnel the
    /// forwarding table has for `remote` (a proxy binding through a MAG:
    /// two tunnels), or is routed to it on a native home link.
    pub nested: bool,
}

impl Tunnel {
    /// The data plane's description of this tunnel, with its defaults for
    /// the fields that are the daemon's (egress port, TTL, ECN, MTUs).
    pub fn spec(&self) -> TunnelSpec {
        let mut spec = TunnelSpec::new(self.kind, self.local, self.remote);
        spec.local_port = self.local_port;
        spec.peer_port = self.peer_port;
        spec.nested = self.nested;
        spec
    }
}

/// One home address bound to a care-of address (RFC 6275 §9.1; RFC 5555
/// §4.5 item "two binding cache entries").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Unique among the bindings out; the key of [`Output::Remove`].
    pub id: u32,
    /// The NAI, or the IPv6 home address as text.
    pub mn_id: Arc<str>,
    /// IPv6 or IPv4 home address.
    pub hoa: IpAddr,
    /// 128 for the IPv6 home address; for the IPv4 one, the prefix length
    /// acknowledged (its home subnet's).
    pub prefix_len: u8,
    pub tunnel: Tunnel,
}

/// How the mobile node is reached (PROTOCOLS.md §11.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CareOf {
    /// An IPv6 care-of address.
    Ipv6(Ipv6Addr),
    /// An IPv4 care-of address (option 32), reached at `src`:`src_port`
    /// (the Binding Update's outer source) from our `local`:`local_port`.
    Ipv4 {
        coa: Ipv4Addr,
        src: Ipv4Addr,
        src_port: u16,
        local: Ipv4Addr,
        local_port: u16,
        /// The care-of address differs from the outer source (§11.2 item 1).
        nat: bool,
        /// F = 1 was accepted.
        udp_forced: bool,
    },
}

impl CareOf {
    /// The care-of address itself (the IPv4 CoA option's, not the NAT's).
    pub fn addr(&self) -> IpAddr {
        match *self {
            CareOf::Ipv6(a) => a.into(),
            CareOf::Ipv4 { coa, .. } => coa.into(),
        }
    }

    /// The tunnel to this care-of address.
    fn tunnel(&self, ha: Ipv6Addr) -> Tunnel {
        match *self {
            CareOf::Ipv6(coa) => Tunnel {
                kind: TunnelKind::IpIp,
                local: ha.into(),
                remote: coa.into(),
                local_port: 0,
                peer_port: 0,
                nested: false,
            },
            CareOf::Ipv4 { src, src_port, local, local_port, nat, udp_forced, .. } => {
                if nat || udp_forced {
                    Tunnel {
                        kind: TunnelKind::Udp,
                        local: local.into(),
                        remote: src.into(),
                        local_port,
                        peer_port: src_port,
                        nested: false,
                    }
                } else {
                    Tunnel {
                        kind: TunnelKind::IpIp,
                        local: local.into(),
                        remote: src.into(),
                        local_port: 0,
                        peer_port: 0,
                        nested: false,
                    }
                }
            }
        }
    }
}

/// A mobile node's home registration: its bindings, one per family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Index of the mobile node in [`Ha6Config::mobile_nodes`].
    pub mn: usize,
    /// Sequence number of the last accepted Binding Update.
    pub seq: u16,
    pub care_of: CareOf,
    /// Granted lifetime.
    pub lifetime: Duration,
    pub expires: Instant,
    /// The IPv6 home address's binding.
    pub v6: Binding,
    /// The IPv4 home address's binding, when RFC 5555's IPv4 part was accepted.
    pub v4: Option<Binding>,
    /// Whether the node is on a home link, and of which family.
    pub home: Home,
    /// De-registered, waiting [`Ha6Config::deregistration_delay`] before it
    /// is deleted: nothing forwards, its addresses stay the node's, and a
    /// Binding Update from the node revives it.
    pub deprecated: bool,
}

impl Registration {
    /// The home addresses whose bindings forward (see [`Home`]).
    pub fn forwarded(&self) -> (Option<Ipv4Addr>, Option<Ipv6Addr>) {
        let v4 = self.v4.as_ref().and_then(|b| match b.hoa {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        });
        let v6 = match self.v6.hoa {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => None,
        };
        if self.deprecated {
            return (None, None);
        }
        (v4.filter(|_| self.home != Home::Ipv4), v6.filter(|_| self.home != Home::Ipv6))
    }

    /// Its bindings, IPv6 first, each with whether it forwards now
    /// ([`Registration::forwarded`]).
    pub fn bindings(&self) -> impl Iterator<Item = (&Binding, bool)> {
        let (fwd4, fwd6) = self.forwarded();
        std::iter::once(&self.v6).chain(self.v4.as_ref()).map(move |b| {
            let forwards = match b.hoa {
                IpAddr::V4(a) => fwd4 == Some(a),
                IpAddr::V6(a) => fwd6 == Some(a),
            };
            (b, forwards)
        })
    }
}

/// Counters, one field per event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ha6Counters {
    pub bu_received: u64,
    /// Binding Acknowledgements sent, by status.
    pub ba_sent: BTreeMap<u8, u64>,
    /// Packets the codec refused.
    pub malformed: u64,
    /// Mobility messages other than a Binding Update, and proxy (P = 1) or
    /// non-home (H = 0) registrations: not this home agent's.
    pub unexpected: u64,
    /// Binding Updates to another address than ours.
    pub not_for_us: u64,
    /// Binding Updates over IPv4 without an IPv4 Care-of Address option.
    pub missing_ipv4_coa: u64,
    /// Binding Updates from a source that is not a unicast address: no
    /// answer can go back.
    pub bad_source: u64,
    /// Binding Updates from a mobile node we share no association with:
    /// dropped silently.
    pub no_security_association: u64,
    /// Authentication failures (146).
    pub auth_failures: u64,
    /// MESG-ID refused (144) or missing (145).
    pub replays: u64,
    pub mesg_id_missing: u64,
    pub registrations_created: u64,
    pub renewals: u64,
    /// Registrations that moved to another care-of address.
    pub handoffs: u64,
    pub deregistrations: u64,
    pub expired: u64,
    /// De-registered registrations deleted after the deprecation delay.
    pub deleted_after_delay: u64,
    /// Deprecated registrations a Binding Update revived.
    pub revived: u64,
    /// Binding Updates over IPv4 whose care-of address differed from the
    /// outer source.
    pub nat_detected: u64,
    /// Registrations that put the node on a home link (PROTOCOLS.md §11.4).
    pub at_home: u64,
    /// Duplicate address detection runs asked for ([`Output::Dad`]).
    pub dad_started: u64,
    /// Home addresses another node on the home link holds (BA 134).
    pub dad_duplicates: u64,
    /// Binding Updates dropped because DAD gave no result in time.
    pub dad_timeouts: u64,
    /// Binding Errors asked for, by status (1: no binding for the Home
    /// Address option, 2: unrecognized MH Type).
    pub binding_errors: BTreeMap<u8, u64>,
}

/// A Binding Update waiting for duplicate address detection of its home
/// address (RFC 6275 §10.3.1): run again, and answered, with the result.
#[derive(Debug)]
struct PendingDad {
    /// The whole packet, as received.
    packet: Vec<u8>,
    addr: Ipv6Addr,
    since: Instant,
}

/// How long a Binding Update waits for a DAD result before it is dropped
/// (the node retransmits); DAD itself takes one RetransTimer (1 s).
const DAD_WAIT_MAX: Duration = Duration::from_secs(10);

/// The DSMIPv6 home agent: registrations and their indexes, the IPv4 pool,
/// the replay state, timers.
#[derive(Debug)]
pub struct Ha6 {
    cfg: Ha6Config,
    /// Associations by NAI and by IPv6 home address.
    by_nai: HashMap<Vec<u8>, usize>,
    by_hoa: HashMap<Ipv6Addr, usize>,
    /// Registrations by mobile node index.
    regs: HashMap<usize, Registration>,
    /// IPv4 home addresses bound, by owner.
    by_ipv4: HashMap<Ipv4Addr, usize>,
    /// Binding ids out (both families).
    ids: HashSet<u32>,
    /// Static IPv4 home addresses, by the mobile node they belong to.
    static_ipv4: HashMap<Ipv4Addr, usize>,
    /// Each mobile node's name in bindings: the NAI, or the IPv6 home address.
    names: Vec<Arc<str>>,
    pool: Ipv4HoaPool,
    /// The last accepted MESG-ID per mobile node, kept after
    /// de-registration so an old Binding Update cannot be replayed.
    last_mesg_id: HashMap<usize, u64>,
    timers: BTreeSet<(Instant, usize)>,
    next_id: u32,
    counters: Ha6Counters,
    /// Registrations by their IPv6 binding's id (the session store's key).
    by_v6_id: HashMap<u32, usize>,
    /// IPv6 binding ids of the registrations created, changed or removed
    /// since [`Ha6::take_changed`] (only once [`Ha6::track_changes`] ran).
    changed: Option<BTreeSet<u32>>,
    /// Binding Updates waiting for DAD, by mobile node (one each: a newer
    /// authentic one replaces it).
    dad_pending: HashMap<usize, PendingDad>,
    /// While a waiting Binding Update is run again: its address and
    /// whether DAD found it unique.
    dad_result: Option<(Ipv6Addr, bool)>,
}

impl Ha6 {
    /// The home agent of `cfg`. Static IPv4 home addresses inside a pool
    /// are taken out of it for good.
    pub fn new(cfg: Ha6Config) -> Ha6 {
        let mut pool = Ipv4HoaPool::new(&cfg.ipv4_pools);
        let mut by_nai = HashMap::new();
        let mut by_hoa = HashMap::new();
        let mut static_ipv4 = HashMap::new();
        let mut names = Vec::with_capacity(cfg.mobile_nodes.len());
        for (i, mn) in cfg.mobile_nodes.iter().enumerate() {
            if let Some(nai) = &mn.mn_id {
                by_nai.insert(nai.as_bytes().to_vec(), i);
            }
            by_hoa.insert(mn.hoa, i);
            if let Some(a) = mn.ipv4_hoa {
                pool.reserve(a);
                static_ipv4.insert(a, i);
            }
            names.push(match &mn.mn_id {
                Some(nai) => Arc::from(nai.as_str()),
                None => Arc::from(mn.hoa.to_string().as_str()),
            });
        }
        Ha6 {
            cfg,
            by_nai,
            by_hoa,
            regs: HashMap::new(),
            by_ipv4: HashMap::new(),
            ids: HashSet::new(),
            static_ipv4,
            names,
            pool,
            last_mesg_id: HashMap::new(),
            timers: BTreeSet::new(),
            next_id: 0,
            counters: Ha6Counters::default(),
            by_v6_id: HashMap::new(),
            changed: None,
            dad_pending: HashMap::new(),
            dad_result: None,
        }
    }

    /// One received packet: IPv6 (from its header) with a Mobility Header,
    /// or IPv4 | UDP 4191 | IPv6 | MH. `now` is monotonic; `wall` the time
    /// of day, for MESG-ID timestamps.
    pub fn handle(&mut self, packet: &[u8], now: Instant, wall: SystemTime) -> Vec<Output> {
        let mut out = Vec::new();
        let pkt = match parse_packet(packet) {
            Ok(p) => p,
            Err(e) => {
                if e != PacketError::NotMobility {
                    self.counters.malformed += 1;
                }
                tracing::debug!("dsmip6 packet refused: {e}");
                // RFC 6275 §9.2: an unknown MH Type gets Binding Error 2
                // (1 when its Home Address option names no binding, the
                // option being processed first, §9.3.1).
                if let PacketError::Mh(m) = e {
                    if let (Some(status), Ok(framing)) = (m.binding_error_status(), framing_of(packet)) {
                        let status = if self.unknown_home_address(&framing) {
                            be_status::UNKNOWN_BINDING_FOR_HOME_ADDRESS_DEST_OPTION
                        } else {
                            status
                        };
                        self.binding_error(framing, status, &mut out);
                    }
                }
                return out;
            }
        };
        match &pkt.msg {
            MhMessage::BindingUpdate(bu) => {
                self.counters.bu_received += 1;
                let bu = bu.clone();
                self.handle_bu(packet, &pkt, &bu, now, wall, &mut out);
            }
            _ => {
                self.counters.unexpected += 1;
                // RFC 6275 §9.3.1: a Home Address option (outside a
                // Binding Update) for which there is no binding → Binding
                // Error 1.
                if self.unknown_home_address(&pkt.framing) {
                    let status = be_status::UNKNOWN_BINDING_FOR_HOME_ADDRESS_DEST_OPTION;
                    self.binding_error(pkt.framing, status, &mut out);
                }
            }
        }
        out
    }

    /// Whether `framing` carries a Home Address option for which there is
    /// no binding with the packet's source as care-of address (RFC 6275
    /// §9.3.1).
    fn unknown_home_address(&self, framing: &Framing) -> bool {
        let Framing::Ipv6 { src, home_address: Some(h), .. } = *framing else { return false };
        !self.registration(h).is_some_and(|r| r.forwarded().1 == Some(h) && r.care_of.addr() == IpAddr::V6(src))
    }

    /// Asks for a Binding Error with `status` to the source of the packet
    /// `framing` describes (RFC 6275 §9.3.3: to its source address, the
    /// care-of address when it carried a Home Address option, whose
    /// address goes in the message; no routing header), from our address;
    /// over IPv4 | UDP 4191 back to where it came from. Nothing for a
    /// packet not sent to us or from a source no answer can reach.
    fn binding_error(&mut self, framing: Framing, status: u8, out: &mut Vec<Output>) {
        let ha = self.cfg.address;
        let (dst, packet) = match framing {
            Framing::Ipv6 { src, dst, home_address, .. } => {
                if dst != ha || !bu::is_unicast_v6(src) {
                    return;
                }
                let msg = BindingError { status, home_address: home_address.unwrap_or(Ipv6Addr::UNSPECIFIED) };
                let mh = emit(&MhMessage::BindingError(msg), Checksum::Ipv6 { src: ha, dst: src });
                (IpAddr::V6(src), ipv6_packet(ha, src, None, &mh))
            }
            Framing::Udp4 { src, dst, src_port, dst_port, inner_src, inner_dst } => {
                if inner_dst != ha || dst_port != DSMIP6_PORT || !bu::is_unicast(src) {
                    return;
                }
                let back = Framing::Udp4 {
                    src: dst,
                    dst: src,
                    src_port: dst_port,
                    dst_port: src_port,
                    inner_src: ha,
                    inner_dst: inner_src,
                };
                let msg = BindingError { status, home_address: Ipv6Addr::UNSPECIFIED };
                let mh = emit(&MhMessage::BindingError(msg), back.checksum());
                let Some(p) = udp4_packet(&back, &mh) else { return };
                (IpAddr::V4(src), p)
            }
        };
        *self.counters.binding_errors.entry(status).or_default() += 1;
        out.push(Output::BindingError { dst, packet, status });
    }

    /// Registrations whose lifetime ended by `now` go, silently (RFC 6275
    /// §10.3.1: no message is sent on expiry).
    pub fn poll(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        let before = self.dad_pending.len();
        self.dad_pending.retain(|_, p| now < p.since + DAD_WAIT_MAX);
        self.counters.dad_timeouts += (before - self.dad_pending.len()) as u64;
        while let Some(&(at, mn)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            if let Some(deprecated) = self.regs.get(&mn).filter(|r| r.expires <= now).map(|r| r.deprecated) {
                self.remove_registration(mn, &mut out);
                if deprecated {
                    self.counters.deleted_after_delay += 1;
                } else {
                    self.counters.expired += 1;
                }
            }
        }
        out
    }

    /// The earliest time [`Ha6::poll`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        let dad = self.dad_pending.values().map(|p| p.since + DAD_WAIT_MAX).min();
        self.timers.first().map(|(at, _)| *at).into_iter().chain(dad).min()
    }

    /// The result of an [`Output::Dad`]: `unique` when no other node on
    /// the home link answered for `addr`. The Binding Update that waited
    /// for it is run again with the result and answered (RFC 6275
    /// §10.3.1: 134 for a duplicate). A result nobody waits for (the node
    /// sent another Binding Update meanwhile, or it timed out) does nothing.
    pub fn dad_done(&mut self, addr: Ipv6Addr, unique: bool, now: Instant, wall: SystemTime) -> Vec<Output> {
        let mut out = Vec::new();
        if !unique {
            self.counters.dad_duplicates += 1;
        }
        let Some(mn) = self.dad_pending.iter().find(|(_, p)| p.addr == addr).map(|(mn, _)| *mn) else {
            return out;
        };
        let Some(p) = self.dad_pending.remove(&mn) else { return out };
        // It parsed and was a Binding Update when it came.
        if let Ok(pkt) = parse_packet(&p.packet) {
            if let MhMessage::BindingUpdate(bu) = &pkt.msg {
                let bu = bu.clone();
                self.dad_result = Some((addr, unique));
                self.handle_bu(&p.packet, &pkt, &bu, now, wall, &mut out);
                self.dad_result = None;
            }
        }
        out
    }

    /// Whether IPv6 home address `a` lies on one of our home links.
    fn on_home_link(&self, a: Ipv6Addr) -> bool {
        self.cfg.home_links.iter().any(|&(prefix, len)| {
            let len = u32::from(len.min(128));
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            u128::from(a) & mask == u128::from(prefix) & mask
        })
    }

    /// Every registration.
    pub fn registrations(&self) -> impl Iterator<Item = &Registration> {
        self.regs.values()
    }

    /// The registration of IPv6 home address `hoa`.
    pub fn registration(&self, hoa: Ipv6Addr) -> Option<&Registration> {
        self.by_hoa.get(&hoa).and_then(|mn| self.regs.get(mn))
    }

    /// The registration holding IPv4 home address `hoa`.
    pub fn registration_by_ipv4(&self, hoa: Ipv4Addr) -> Option<&Registration> {
        self.by_ipv4.get(&hoa).and_then(|mn| self.regs.get(mn))
    }

    pub fn counters(&self) -> &Ha6Counters {
        &self.counters
    }

    /// The IPv4 home address pool (for `anchorctl show pools`, and to keep
    /// it in step with another role's).
    pub fn pool(&self) -> &Ipv4HoaPool {
        &self.pool
    }

    /// The pool, for reserving what other roles hold (one address space
    /// with the LMA and the MIPv4 home agent).
    pub fn pool_mut(&mut self) -> &mut Ipv4HoaPool {
        &mut self.pool
    }

    /// Checks settings from a configuration reload: the mobile nodes must
    /// be the same ones in the same order (same NAI, home address and
    /// IPv4 home address; registrations are indexed by position), the
    /// pools and home links unchanged. Their keys, SPIs, timers and limits
    /// may change. Changes nothing.
    pub fn check_reload(&self, cfg: &Ha6Config) -> Result<(), String> {
        let identity = |m: &MobileNode| (m.mn_id.clone(), m.hoa, m.ipv4_hoa);
        if self.cfg.mobile_nodes.iter().map(identity).ne(cfg.mobile_nodes.iter().map(identity)) {
            return Err("dsmip6.mn: adding, removing, reordering or readdressing a mobile node needs a restart \
                 (its keys, SPIs and the [dsmip6] timers may change)"
                .into());
        }
        if self.cfg.ipv4_pools != cfg.ipv4_pools || self.cfg.home_links != cfg.home_links {
            return Err("dsmip6.ipv4_pools: cannot change while anchord runs (restart to apply)".into());
        }
        Ok(())
    }

    /// Takes settings [`Ha6::check_reload`] accepted: the next Binding
    /// Update is authenticated and answered with them; registrations stay.
    pub fn apply_reload(&mut self, cfg: Ha6Config) {
        self.cfg = cfg;
    }

    pub fn config(&self) -> &Ha6Config {
        &self.cfg
    }

    /// The mobile node's name in bindings and logs.
    fn mn_name(&self, mn: usize) -> Arc<str> {
        self.names.get(mn).cloned().unwrap_or_else(|| Arc::from(""))
    }

    /// The static IPv4 home address's owner.
    fn static_owner(&self, addr: Ipv4Addr) -> Option<usize> {
        self.static_ipv4.get(&addr).copied()
    }

    /// A binding id not out; [`Ha6::store`] marks it out.
    fn new_id(&mut self) -> u32 {
        loop {
            self.next_id = self.next_id.wrapping_add(1).max(1);
            if !self.ids.contains(&self.next_id) {
                return self.next_id;
            }
        }
    }

    /// The one way a registration is stored or replaced: the IPv4 index and
    /// the timer follow.
    fn store(&mut self, reg: Registration) {
        if let Some(old) = self.regs.remove(&reg.mn) {
            self.timers.remove(&(old.expires, old.mn));
            self.ids.remove(&old.v6.id);
            self.by_v6_id.remove(&old.v6.id);
            self.note_changed(old.v6.id);
            if let Some(b) = &old.v4 {
                self.ids.remove(&b.id);
                if let IpAddr::V4(a) = b.hoa {
                    self.by_ipv4.remove(&a);
                }
            }
        }
        self.ids.insert(reg.v6.id);
        self.by_v6_id.insert(reg.v6.id, reg.mn);
        self.note_changed(reg.v6.id);
        if let Some(b) = &reg.v4 {
            self.ids.insert(b.id);
            if let IpAddr::V4(a) = b.hoa {
                self.by_ipv4.insert(a, reg.mn);
            }
        }
        self.timers.insert((reg.expires, reg.mn));
        self.regs.insert(reg.mn, reg);
    }

    /// The one way a registration leaves: forwarding of both families,
    /// indexes, timer, the IPv4 home address.
    fn remove_registration(&mut self, mn: usize, out: &mut Vec<Output>) -> Option<Registration> {
        let reg = self.regs.remove(&mn)?;
        self.timers.remove(&(reg.expires, mn));
        self.ids.remove(&reg.v6.id);
        self.by_v6_id.remove(&reg.v6.id);
        self.note_changed(reg.v6.id);
        out.push(Output::Owned { mn_id: reg.v6.mn_id.clone(), ipv4: None, ipv6: None });
        out.push(Output::Remove { id: reg.v6.id });
        if let Some(b) = &reg.v4 {
            self.ids.remove(&b.id);
            out.push(Output::Remove { id: b.id });
            if let IpAddr::V4(a) = b.hoa {
                self.by_ipv4.remove(&a);
                self.release_ipv4(a);
            }
        }
        Some(reg)
    }

    /// Gives a dynamic IPv4 home address back to the pool (a static one
    /// stays reserved).
    fn release_ipv4(&mut self, addr: Ipv4Addr) {
        if self.static_owner(addr).is_none() {
            self.pool.release(addr);
        }
    }
}
