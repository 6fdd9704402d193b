//! The DSMIPv6 home agent's glue (PROTOCOLS.md §11): punted Binding
//! Updates — IPv6 with a Home Address option, or IPv4 | UDP 4191 | IPv6 —
//! go to [`Ha6::handle`] as IP packets; its outputs are executed here:
//! Binding Acknowledgements framed towards the care-of address (or the
//! NAT), each home address's binding turned into a forwarding entry with
//! its IP-in-IP (4/41 in IPv6 or IPv4) or UDP 4191 tunnel, and the home
//! address answered for on its home link while it is away.
//!
//! One address space with the other roles: an IPv4 home address the
//! DSMIPv6 home agent binds is reserved in the LMA's and the MIPv4 home
//! agent's pools while it is installed, and what those roles hold is
//! reserved in this one's pool (see [`Signalling::dsmip6_reserve_foreign`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Instant, SystemTime};

use anchor_config::{Config, EcnMode};
use dataplane::port::{Port, PuntRing};
use dataplane::wire::ethernet::{self, ethertype};
use serde_json::{json, Value};

use super::ha::{HomeLinkClaim, HomeLinkOwner};
use super::{binding_of, Signalling};
use crate::dsmip6::{self, CareOf, Ha6, Ha6Config, MobileNode, Output};
use crate::forwarding::{Binding, Forwarding};
use crate::pmip6::SessionState;
use crate::punt::ControlPlane;
use dataplane::tunnel::Tunnel;

/// The DSMIPv6 home agent and what the glue keeps for it.
pub(super) struct Dsmip6Glue {
    pub(super) ha: Ha6,
    /// Ha6 binding id → forwarding binding id.
    installed: HashMap<u32, u32>,
    /// Ha6 binding id → the IPv4 home address reserved for it in the
    /// other roles' pools.
    reserved: HashMap<u32, Foreign>,
    /// Frames that were no IP packet we could hand over.
    malformed: u64,
    /// Acknowledgements we could not send: no route or no next-hop MAC yet.
    unrouted: u64,
    /// Bindings the forwarding table refused.
    install_failures: u64,
    /// Binding Errors over the rate limit, not sent.
    binding_errors_rate_limited: u64,
    /// Acknowledgements whose tunnel had no next-hop MAC yet (a proxy
    /// binding just activated): sent again on the next ticks, until
    /// [`RETRY_FOR`] has passed.
    retry: Vec<(Instant, Vec<u8>)>,
}

/// The largest outer tunnel header a nested tunnel's packet may get:
/// IPv6 40 + UDP 8 + TLV 4 + GRE with key 8 (PROTOCOLS.md §12.1).
const NESTED_OUTER_MAX: u16 = 60;

/// How long an acknowledgement waits for its tunnel's next hop.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_millis(500);

/// The DSMIPv6 home agent's settings from `config` (`None` without
/// `[dsmip6]`).
pub(super) fn ha6_config(config: &Config) -> Option<Ha6Config> {
    let d = config.dsmip6.as_ref()?;
    Some(Ha6Config {
        address: d.address,
        mobile_nodes: d
            .mobile_nodes
            .iter()
            .map(|m| MobileNode {
                mn_id: m.mn_id.clone(),
                hoa: m.home_address,
                spi: m.spi,
                key: m.key.clone(),
                ipv4_hoa: m.ipv4_home_address,
            })
            .collect(),
        ipv4_pools: d.ipv4_pools.iter().filter_map(|&i| config.pools.ipv4.get(i).cloned()).collect(),
        max_lifetime: d.max_lifetime,
        nat_keepalive: d.nat_keepalive_s,
        accept_udp_forcing: d.udp_forcing,
        replay_tolerance: d.replay_tolerance,
        require_mesg_id: d.require_mesg_id,
        home_links: config
            .ports
            .iter()
            .filter(|p| p.home_link)
            .flat_map(|p| p.ipv6.iter().map(|c| (c.addr, c.prefix_len)))
            .collect(),
        // The extended home link: the home agent is also the LMA.
        deregistration_delay: config.lma.as_ref().map(|l| l.min_delay_before_bce_delete),
    })
}

impl Dsmip6Glue {
    /// The home agent of `config`'s `[dsmip6]`; `None` without one.
    pub(super) fn new(config: &Config) -> Option<Dsmip6Glue> {
        let cfg = ha6_config(config)?;
        Some(Dsmip6Glue {
            ha: Ha6::new(cfg),
            installed: HashMap::new(),
            reserved: HashMap::new(),
            malformed: 0,
            unrouted: 0,
            install_failures: 0,
            binding_errors_rate_limited: 0,
            retry: Vec::new(),
        })
    }
}

/// An IPv4 home address reserved in the other roles' pools, and where the
/// reservation took (only those are released: an address another role
/// already held stays its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Foreign {
    addr: Ipv4Addr,
    at_lma: bool,
    at_ha: bool,
}

/// Whether a punted frame is DSMIPv6 signalling: IPv6 with a Destination
/// Options header (a Binding Update's Home Address option; the LMA's
/// messages never carry one), an IPv6 Binding Update with P clear (a home
/// registration), or IPv4 | UDP to port 4191.
pub(super) fn is_dsmip6(frame: &[u8]) -> bool {
    let Ok(eth) = ethernet::Frame::new_checked(frame) else { return false };
    let p = eth.payload();
    match eth.ethertype() {
        ethertype::IPV6 => match p.get(6) {
            Some(60) => true,
            // MH type 5 (Binding Update), flags octet: P = 0x02.
            Some(135) => p.get(42) == Some(&5) && p.get(48).is_some_and(|f| f & 0x02 == 0),
            _ => false,
        },
        ethertype::IPV4 => {
            let ihl = usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4;
            p.get(9) == Some(&17) && p.get(ihl + 2..ihl + 4) == Some(&dsmip6::DSMIP6_PORT.to_be_bytes()[..])
        }
        _ => false,
    }
}

impl Signalling {
    /// A punted DSMIPv6 frame: its IP packet to the home agent.
    pub(super) fn receive_dsmip6<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        port: usize,
        frame: &[u8],
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let Some(glue) = self.dsmip6.as_mut() else {
            self.malformed += 1;
            return;
        };
        let Ok(eth) = ethernet::Frame::new_checked(frame) else {
            glue.malformed += 1;
            return;
        };
        let packet = eth.payload();
        let Some((src, _)) = crate::punt::ip_endpoints(packet) else {
            glue.malformed += 1;
            return;
        };
        let out = glue.ha.handle(packet, now, SystemTime::now());
        self.learn_peer(src, port, frame);
        self.apply_dsmip6(out, cp, fwd, config, now);
    }

    /// The home agent's timers (binding expiry).
    pub(super) fn poll_dsmip6<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let Some(glue) = self.dsmip6.as_mut() else { return };
        for (until, packet) in std::mem::take(&mut glue.retry) {
            match cp.send_into_tunnel(&packet) {
                Some(true) => {}
                Some(false) if now < until => glue.retry.push((until, packet)),
                _ => glue.unrouted += 1,
            }
        }
        if glue.ha.next_deadline().is_some_and(|d| d <= now) {
            let out = glue.ha.poll(now);
            self.apply_dsmip6(out, cp, fwd, config, now);
        }
    }

    /// The port and Ethernet frame that carry IP packet `packet` towards
    /// `dst` (its next hop resolved); `None`, counted as unrouted, when
    /// there is no way yet (the node retransmits).
    fn dsmip6_frame<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        dst: IpAddr,
        packet: &[u8],
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &Forwarding,
        now: Instant,
    ) -> Option<(usize, Vec<u8>)> {
        let Some((port, src_mac, mac)) = self.egress(dst, cp, fwd, now) else {
            if let Some(g) = self.dsmip6.as_mut() {
                g.unrouted += 1;
            }
            return None;
        };
        let ethertype = if dst.is_ipv4() { ethertype::IPV4 } else { ethertype::IPV6 };
        let mut frame = Vec::with_capacity(14 + packet.len());
        frame.extend_from_slice(&mac.0);
        frame.extend_from_slice(&src_mac.0);
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame.extend_from_slice(packet);
        Some((port, frame))
    }

    /// Executes the home agent's outputs, in order.
    fn apply_dsmip6<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        outputs: Vec<Output>,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let mut hops_changed = false;
        // DAD results known at once (an address already checked, or one
        // that cannot be).
        let mut decided: Vec<(std::net::Ipv6Addr, bool)> = Vec::new();
        for o in outputs {
            match o {
                Output::Send { dst, packet, ba } => {
                    // A destination the forwarding table binds (a node on
                    // its home link behind a MAG, reached through the proxy
                    // binding's tunnel) goes into that tunnel, as the
                    // workers would send it; any other is routed. Either
                    // way held until the changes are durable when
                    // `store.sync_replies` says so.
                    //
                    // A destination the node's own binding still forwards
                    // is the node at home (the BA goes to the BU's source:
                    // its home address): never into that binding's tunnel,
                    // which leads to where the node was (a 135 to a stale
                    // BU from home changes nothing). Through the shadow
                    // proxy binding that holds the address when there is
                    // one (a refusal changes nothing: not held), else routed
                    // to its home link.
                    let at_home = self.dsmip6_own_binding_holds(dst);
                    if at_home && self.dsmip6_send_through_shadow(&packet, dst, cp, fwd, config, now) {
                        continue;
                    }
                    let tunnelled = if at_home { None } else { self.send_reply_into_tunnel(cp, packet.clone()) };
                    match tunnelled {
                        Some(true) => continue,
                        Some(false) => {
                            // Its next hop is being resolved: again soon.
                            if let Some(g) = self.dsmip6.as_mut() {
                                g.retry.push((now + RETRY_FOR, packet));
                            }
                            continue;
                        }
                        None => {}
                    }
                    let Some((port, frame)) = self.dsmip6_frame(dst, &packet, cp, fwd, now) else { continue };
                    tracing::debug!(%dst, status = ba.status, seq = ba.seq, port, "sending binding acknowledgement");
                    self.send_reply(cp, port, frame);
                }
                Output::Install(b) => {
                    let expires = self.dsmip6.as_ref().and_then(|glue| {
                        glue.ha
                            .registrations()
                            .find(|r| r.v6.id == b.id || r.v4.as_ref().is_some_and(|v| v.id == b.id))
                            .map(|r| r.expires)
                    });
                    if self.dsmip6_install_forwarding(&b, expires, fwd, config, now) {
                        hops_changed = true;
                        // RFC 6275 §10.4.1 / RFC 5555 §4.5: answered
                        // for on its home link while away; an IPv6 home
                        // address that passed DAD for this registration
                        // (Dsmip6Dad) is handed over as it is.
                        let owner = HomeLinkOwner::Dsmip6(b.id);
                        let checked = match b.hoa {
                            IpAddr::V6(a) => self.home_link_transfer(HomeLinkOwner::Dsmip6Dad(a), owner, b.hoa),
                            IpAddr::V4(_) => false,
                        };
                        if !checked {
                            self.home_link_claim(owner, b.hoa, cp, config, now);
                        }
                    }
                    if let IpAddr::V4(a) = b.hoa {
                        self.dsmip6_reserve_foreign(b.id, a);
                    }
                }
                Output::Owned { mn_id, ipv4, ipv6 } => {
                    // PROTOCOLS.md §11.4: the LMA makes a PBU for these a
                    // shadow BCE.
                    tracing::debug!(mn_id = %mn_id, ?ipv4, ?ipv6, "home addresses the node's own registration forwards");
                    if let Some(lma) = self.lma.as_mut() {
                        if ipv4.is_none() && ipv6.is_none() {
                            lma.clear_mn_owned(&mn_id);
                        } else {
                            lma.set_mn_owned(&mn_id, ipv4, ipv6);
                        }
                    }
                }
                Output::AtHome { mn_id, addr } => {
                    // The node's own binding for `addr` stopped: a shadow
                    // proxy binding holding it takes over.
                    tracing::info!(mn_id = %mn_id, %addr, "mobile node on its home link for this family");
                    if let Some(lma) = self.lma.as_mut() {
                        let out = lma.activate_shadow(addr, now, SystemTime::now());
                        self.apply(out, cp, fwd, config, now);
                    }
                }
                Output::BindingError { dst, packet, status } => {
                    // RFC 6275 §9.2: rate limited (one budget with the
                    // LMA's Binding Errors); it changes nothing, so it
                    // waits for no commit.
                    if !self.binding_error_allowed(now) {
                        if let Some(g) = self.dsmip6.as_mut() {
                            g.binding_errors_rate_limited += 1;
                        }
                        continue;
                    }
                    let Some((port, frame)) = self.dsmip6_frame(dst, &packet, cp, fwd, now) else { continue };
                    tracing::debug!(%dst, status, port, "sending binding error");
                    cp.send_now(port, &frame);
                }
                Output::Dad { addr } => {
                    // RFC 6275 §10.3.1: DAD on the home link, answered
                    // through home_link_dad_done; an address another
                    // binding holds, or that cannot be checked, counts as
                    // in use (134).
                    match self.home_link_claim(HomeLinkOwner::Dsmip6Dad(addr), IpAddr::V6(addr), cp, config, now) {
                        HomeLinkClaim::DadPending => {}
                        HomeLinkClaim::Proxied | HomeLinkClaim::NotOnHomeLink => decided.push((addr, true)),
                        HomeLinkClaim::HeldBy(_) | HomeLinkClaim::Refused(_) => decided.push((addr, false)),
                    }
                }
                Output::Remove { id } => {
                    if let Some(fid) = self.dsmip6.as_mut().and_then(|g| g.installed.remove(&id)) {
                        fwd.remove(fid, now);
                        hops_changed = true;
                    }
                    self.home_link_release(HomeLinkOwner::Dsmip6(id), cp, now);
                    // A de-registered (deprecated) registration still holds
                    // its IPv4 home address until it is deleted
                    // (PROTOCOLS.md §11.4): the other roles must not hand
                    // it out meanwhile.
                    if !self.dsmip6_held_while_deprecated(id) {
                        self.dsmip6_release_foreign(id);
                    }
                }
            }
        }
        for (addr, unique) in decided {
            self.dsmip6_dad_done(addr, unique, cp, fwd, config, now);
        }
        if hops_changed {
            cp.set_next_hops(fwd.wanted_neighbors());
        }
    }

    /// Whether `dst` is a home address a DSMIPv6 registration's own
    /// binding forwards (to its care-of address).
    fn dsmip6_own_binding_holds(&self, dst: IpAddr) -> bool {
        let Some(g) = &self.dsmip6 else { return false };
        match dst {
            IpAddr::V6(a) => g.ha.registration(a).is_some_and(|r| r.forwarded().1 == Some(a)),
            IpAddr::V4(a) => g.ha.registration_by_ipv4(a).is_some_and(|r| r.forwarded().0 == Some(a)),
        }
    }

    /// Sends `packet` (to `dst`, a home address) through the tunnel of the
    /// LMA's shadow binding holding `dst` (the node on its home link behind
    /// that MAG, PROTOCOLS.md §11.4); false when there is none or its MAG
    /// is not resolved.
    fn dsmip6_send_through_shadow<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        packet: &[u8],
        dst: IpAddr,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &Forwarding,
        config: &Config,
        now: Instant,
    ) -> bool {
        let Some(lma) = self.lma.as_ref() else { return false };
        let holds = |s: &&crate::pmip6::Session| match dst {
            IpAddr::V4(a) => s.ipv4_hoa.is_some_and(|(h, _, _)| h == a),
            IpAddr::V6(a) => s.hnps.iter().any(|p| p.segments()[..4] == a.segments()[..4]),
        };
        let Some(session) = lma.sessions().filter(|s| s.state == SessionState::Shadow).find(holds) else {
            return false;
        };
        let (_, spec) = binding_of(session, fwd, config);
        let Some((port, src_mac, mac)) = self.egress(spec.remote, cp, fwd, now) else { return false };
        let sent = cp.send_through(port, packet, &Tunnel::new(spec, src_mac, Some(mac)));
        if sent {
            tracing::debug!(%dst, port, "binding acknowledgement to a node at home, through its shadow proxy binding");
        }
        sent
    }

    /// A DAD result for a home address a Binding Update waits for: the
    /// home agent answers it (and installs the binding when the address is
    /// unique); what no binding took is withdrawn.
    pub(super) fn dsmip6_dad_done<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        addr: std::net::Ipv6Addr,
        unique: bool,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let Some(glue) = self.dsmip6.as_mut() else { return };
        let out = glue.ha.dad_done(addr, unique, now, SystemTime::now());
        self.apply_dsmip6(out, cp, fwd, config, now);
        self.home_link_release(HomeLinkOwner::Dsmip6Dad(addr), cp, now);
    }

    /// Binding `b`'s forwarding entry with its tunnel (installed or
    /// replaced); false when the forwarding table refused it.
    fn dsmip6_install_forwarding(
        &mut self,
        b: &dsmip6::Binding,
        expires: Option<Instant>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) -> bool {
        let mut spec = b.tunnel.spec();
        spec.port = fwd.port_towards(spec.remote).unwrap_or(0);
        spec.ttl = config.tunnel.ttl;
        spec.ecn_compat = config.tunnel.ecn == EcnMode::Compat;
        spec.path_mtu = config.ports.get(spec.port).map_or(1500, |p| config.tunnel.path_mtu(p));
        if spec.nested {
            // The outer tunnel (a proxy binding's, chosen per packet) takes
            // its headers from the same path MTU: leave room for the
            // largest, so that what is too big is refused (ICMP) before the
            // first header.
            spec.path_mtu = spec.path_mtu.saturating_sub(NESTED_OUTER_MAX);
        }
        spec.ipv6_over_ipv4_mtu = config.tunnel.ipv6_over_ipv4_mtu;
        let binding = Binding {
            id: 0,
            mn_id: b.mn_id.to_string(),
            role: "dsmip6",
            vrf: 0,
            ipv4_hoa: match b.hoa {
                IpAddr::V4(a) => Some(a),
                IpAddr::V6(_) => None,
            },
            hnps: Vec::new(),
            ipv6_hoa: match b.hoa {
                IpAddr::V6(a) => Some(a),
                IpAddr::V4(_) => None,
            },
            tunnel: 0,
            expires,
            state: "active",
        };
        let Some(glue) = self.dsmip6.as_mut() else { return false };
        match fwd.install(glue.installed.get(&b.id).copied(), binding, spec, now) {
            Ok(id) => {
                glue.installed.insert(b.id, id);
                true
            }
            Err(e) => {
                glue.install_failures += 1;
                tracing::warn!(binding = b.id, mn_id = %b.mn_id, "cannot install: {e}");
                false
            }
        }
    }

    /// A registration restored from the session store (signalling/persist.rs),
    /// before the workers poll: the forwarding of the home addresses it
    /// forwards, its IPv4 home address reserved in the other roles' pools,
    /// and the LMA told which addresses the node holds itself (a PBU for
    /// them makes a shadow binding, PROTOCOLS.md §11.4). The home-link
    /// claims are made by [`Signalling::claim_restored`] once the control
    /// plane runs.
    pub(super) fn dsmip6_restored(
        &mut self,
        r: &dsmip6::Registration,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        for (b, forwarded) in r.bindings() {
            if forwarded {
                self.dsmip6_install_forwarding(b, Some(r.expires), fwd, config, now);
            }
            if let IpAddr::V4(a) = b.hoa {
                // The home agent holds the address in its own pool now: an
                // LMA session's reservation there (an activated shadow
                // restored before it) must not free it when it goes.
                for e in self.lma_reserved_at_ha.values_mut() {
                    if e.at_dsmip6 == Some(a) {
                        e.at_dsmip6 = None;
                    }
                }
                self.dsmip6_reserve_foreign(b.id, a);
            }
        }
        if let Some(lma) = self.lma.as_mut() {
            let (fwd4, fwd6) = r.forwarded();
            if fwd4.is_none() && fwd6.is_none() {
                lma.clear_mn_owned(&r.v6.mn_id);
            } else {
                lma.set_mn_owned(&r.v6.mn_id, fwd4, fwd6);
            }
        }
    }

    /// (binding id, home address) of every home address the DSMIPv6
    /// registrations forward (for the home-link claims after a restore).
    pub(super) fn dsmip6_forwarded(&self) -> Vec<(u32, IpAddr)> {
        let Some(glue) = &self.dsmip6 else { return Vec::new() };
        let mut out = Vec::new();
        for r in glue.ha.registrations() {
            for (b, forwarded) in r.bindings() {
                if forwarded && glue.installed.contains_key(&b.id) {
                    out.push((b.id, b.hoa));
                }
            }
        }
        out
    }

    /// Acknowledgements whose tunnel had no next-hop MAC yet when their
    /// batch was committed: sent again on the next ticks, as those of
    /// [`Output::Send`].
    pub(super) fn dsmip6_retry_later(&mut self, packets: Vec<Vec<u8>>, now: Instant) {
        if let Some(g) = self.dsmip6.as_mut() {
            g.retry.extend(packets.into_iter().map(|p| (now + RETRY_FOR, p)));
        }
    }

    /// Whether IPv4 binding `id`'s home address is still held by a
    /// deprecated registration (its reservation in the other roles' pools
    /// stays until the registration is deleted).
    fn dsmip6_held_while_deprecated(&self, id: u32) -> bool {
        let Some(g) = &self.dsmip6 else { return false };
        let Some(f) = g.reserved.get(&id) else { return false };
        g.ha.registration_by_ipv4(f.addr).is_some_and(|r| r.deprecated && r.v4.as_ref().is_some_and(|b| b.id == id))
    }

    /// Reserves a DSMIPv6 binding's IPv4 home address in the LMA's and the
    /// MIPv4 home agent's pools (one address space).
    fn dsmip6_reserve_foreign(&mut self, id: u32, addr: Ipv4Addr) {
        if self.dsmip6.as_ref().and_then(|g| g.reserved.get(&id)).is_some_and(|f| f.addr == addr) {
            return;
        }
        self.dsmip6_release_foreign(id);
        let at_lma = self.lma.as_mut().is_some_and(|lma| lma.pools_mut().1.reserve(addr));
        let at_ha = self.ha.as_mut().is_some_and(|ha| ha.ha.pools_mut().0.reserve(addr));
        if let Some(glue) = self.dsmip6.as_mut() {
            glue.reserved.insert(id, Foreign { addr, at_lma, at_ha });
        }
    }

    fn dsmip6_release_foreign(&mut self, id: u32) {
        let Some(f) = self.dsmip6.as_mut().and_then(|g| g.reserved.remove(&id)) else { return };
        if let Some(lma) = self.lma.as_mut().filter(|_| f.at_lma) {
            lma.pools_mut().1.release(f.addr);
        }
        if let Some(ha) = self.ha.as_mut().filter(|_| f.at_ha) {
            ha.ha.pools_mut().0.release(f.addr);
        }
    }

    /// The DSMIPv6 home agent's registrations, one row per home address, as
    /// `anchorctl show bindings` lists them.
    pub(super) fn dsmip6_bindings_json(&self, now: Instant) -> Vec<Value> {
        let Some(glue) = &self.dsmip6 else { return Vec::new() };
        let mut rows = Vec::new();
        for r in glue.ha.registrations() {
            // On its home link for this family (PROTOCOLS.md §11.4) the
            // node's own binding is deprecated: it forwards nothing (a proxy
            // binding through the MAG may).
            for (b, forwarded) in r.bindings() {
                let (coa, nat) = match &r.care_of {
                    CareOf::Ipv6(a) => (a.to_string(), false),
                    CareOf::Ipv4 { coa, nat, .. } => (coa.to_string(), *nat),
                };
                rows.push(json!({
                    "id": glue.installed.get(&b.id),
                    "session": b.id,
                    "mn_id": &*b.mn_id,
                    "role": "dsmip6",
                    "state": if forwarded { "active" } else { "deprecated" },
                    "ipv4_hoa": match b.hoa { IpAddr::V4(a) => Some(a.to_string()), IpAddr::V6(_) => None },
                    "ipv6_hoa": match b.hoa { IpAddr::V6(a) => Some(a.to_string()), IpAddr::V4(_) => None },
                    "hnps": Vec::<String>::new(),
                    "coa": coa,
                    "nat": nat,
                    "sequence": r.seq,
                    "local": b.tunnel.local.to_string(),
                    "tunnel": forwarded.then(|| b.tunnel.kind.name()),
                    "tunnel_remote": forwarded.then(|| b.tunnel.remote.to_string()),
                    "nested": b.tunnel.nested,
                    "udp_port": (b.tunnel.peer_port != 0).then_some(b.tunnel.peer_port),
                    "gre_key_in": Value::Null,
                    "gre_key_out": Value::Null,
                    "lifetime_s": r.lifetime.as_secs(),
                    "lifetime_left_s": r.expires.saturating_duration_since(now).as_secs(),
                }));
            }
        }
        rows.sort_by_key(|r| r["session"].as_u64());
        rows
    }

    /// Registrations by role and state, for `show stats` `sessions`.
    pub(super) fn count_dsmip6(&self, counts: &mut std::collections::BTreeMap<(&'static str, &'static str), u64>) {
        if let Some(glue) = &self.dsmip6 {
            for state in ["active", "deprecated"] {
                counts.entry(("dsmip6", state)).or_default();
            }
            for r in glue.ha.registrations() {
                *counts.entry(("dsmip6", if r.deprecated { "deprecated" } else { "active" })).or_default() += 1;
            }
        }
    }

    /// The DSMIPv6 home agent's counters for `show stats` (`null` when off).
    pub fn dsmip6_stats_json(&self) -> Value {
        let Some(glue) = &self.dsmip6 else { return Value::Null };
        let c = glue.ha.counters();
        json!({
            "bu_received": c.bu_received,
            "ba_sent": c.ba_sent.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "malformed": c.malformed + glue.malformed,
            "unexpected": c.unexpected,
            "not_for_us": c.not_for_us,
            "no_security_association": c.no_security_association,
            "auth_failures": c.auth_failures,
            "replays": c.replays,
            "mesg_id_missing": c.mesg_id_missing,
            "missing_ipv4_coa": c.missing_ipv4_coa,
            "bad_source": c.bad_source,
            "nat_detected": c.nat_detected,
            "at_home": c.at_home,
            "registrations_created": c.registrations_created,
            "renewals": c.renewals,
            "handoffs": c.handoffs,
            "deregistrations": c.deregistrations,
            "expired": c.expired,
            "deleted_after_delay": c.deleted_after_delay,
            "revived": c.revived,
            "dad_started": c.dad_started,
            "dad_duplicates": c.dad_duplicates,
            "dad_timeouts": c.dad_timeouts,
            "binding_errors": c.binding_errors.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "binding_errors_rate_limited": glue.binding_errors_rate_limited,
            "registrations": glue.ha.registrations().count(),
            "unrouted_messages": glue.unrouted,
            "install_failures": glue.install_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;
    use std::path::Path;

    use super::*;
    use crate::proto::dsmip6::ipv6_packet_with_home_address;
    use crate::proto::header::Packet;
    use crate::proto::Checksum;

    #[test]
    fn a_reload_takes_new_dsmip6_keys_and_timers_and_refuses_a_new_mobile_node() {
        let config = anchor_config::parse(anchor_config::DEMO_TOML).unwrap();
        let mut s = Signalling::new(&config, std::time::Instant::now());
        let mut keys = config.clone();
        let ds = keys.dsmip6.as_mut().unwrap();
        ds.mobile_nodes[0].key = vec![0x5a; 20];
        ds.max_lifetime /= 2;
        keys.lma.as_mut().unwrap().min_delay_before_bce_delete *= 3;
        let r = s.prepare_reload(&keys).unwrap();
        s.apply_reload(r, std::time::Instant::now());
        let cfg = s.dsmip6.as_ref().unwrap().ha.config();
        assert_eq!(cfg.mobile_nodes[0].key, vec![0x5a; 20]);
        assert_eq!(cfg.max_lifetime, keys.dsmip6.as_ref().unwrap().max_lifetime);
        assert_eq!(cfg.deregistration_delay, keys.lma.as_ref().map(|l| l.min_delay_before_bce_delete));

        let mut more = keys.clone();
        let mut extra = more.dsmip6.as_ref().unwrap().mobile_nodes[0].clone();
        extra.home_address = "2001:db8:300::99".parse().unwrap();
        extra.mn_id = Some("extra@anchor.test".into());
        more.dsmip6.as_mut().unwrap().mobile_nodes.push(extra);
        let e = s.prepare_reload(&more).unwrap_err();
        assert!(e.starts_with("dsmip6.mn: "), "{e}");
    }

    #[test]
    fn binding_errors_are_rate_limited_to_ten_a_second() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml");
        let config = anchor_config::load(&path).expect("config/demo.toml loads");
        let rig = crate::signalling::testutil::Rig::new();
        let ports = &rig.ports;
        let mut cp = rig.cp();
        let mut fwd = crate::signalling::testutil::forwarding(&config);
        let now = Instant::now();
        let mut s = Signalling::new(&config, now);
        // An unknown MH Type (99) with a Home Address option, from
        // 2001:db8:1::2 to the home agent of demo.toml.
        let (coa, ha, hoa): (Ipv6Addr, Ipv6Addr, Ipv6Addr) =
            ("2001:db8:1::2".parse().unwrap(), "2001:db8:1::1".parse().unwrap(), "2001:db8:300::10".parse().unwrap());
        let mut mh = vec![59, 1, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Packet::new_checked(&mut mh[..]).unwrap().fill_checksum(Checksum::Ipv6 { src: hoa, dst: ha });
        let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x86, 0xdd];
        frame.extend(ipv6_packet_with_home_address(coa, ha, hoa, &mh));
        s.receive(vec![(0, frame.clone()); 15], &mut cp, &mut fwd, &config, now);
        assert_eq!(ports[0].take_tx().len(), 10, "ten Binding Errors in the first second");
        assert_eq!(s.dsmip6_stats_json()["binding_errors_rate_limited"], 5);
        assert_eq!(s.dsmip6_stats_json()["binding_errors"]["1"], 15);
        // A second later there is room again.
        s.receive(vec![(0, frame)], &mut cp, &mut fwd, &config, now + std::time::Duration::from_millis(1001));
        assert_eq!(ports[0].take_tx().len(), 1);
    }
    #[test]
    fn a_deprecated_registration_keeps_its_ipv4_home_address_reserved_in_the_other_roles_pools_until_deleted() {
        use crate::dsmip6::tests::{Bu, MesgId, Via};
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml");
        let config = anchor_config::load(&path).expect("config/demo.toml loads");
        let rig = crate::signalling::testutil::Rig::new();
        let mut cp = rig.cp();
        let mut fwd = crate::signalling::testutil::forwarding(&config);
        let now = Instant::now();
        let mut s = Signalling::new(&config, now);
        // ds6@anchor.test of demo.toml (static IPv4 home address
        // 203.0.113.201) from 2001:db8:1::2; demo.toml has [lma], so a
        // de-registration deprecates for MinDelayBeforeBCEDelete (10 s).
        let bu = |seq: u16, lifetime: u16| {
            let mut bu = Bu::new("2001:db8:300::10", seq)
                .via(Via::Ipv6 { coa: "2001:db8:1::2".parse().unwrap() })
                .ipv4_hoa("0.0.0.0")
                .lifetime(lifetime)
                .mesg_id(MesgId::Value(crate::dsmip6::ntp_of(SystemTime::now()) + u64::from(seq)));
            bu.key = (0x21..=0x34).collect();
            bu.spi = 8448;
            bu.ha = "2001:db8:1::1".parse().unwrap();
            let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x86, 0xdd];
            frame.extend(bu.packet());
            frame
        };
        let hoa4: Ipv4Addr = "203.0.113.201".parse().unwrap();
        let at_lma = |s: &Signalling| s.lma.as_ref().unwrap().pools().1.is_in_use(hoa4);
        s.receive(vec![(0, bu(1, 100))], &mut cp, &mut fwd, &config, now);
        assert_eq!(s.dsmip6.as_ref().unwrap().ha.registrations().count(), 1);
        assert!(at_lma(&s), "registered: reserved at the LMA");
        s.receive(vec![(0, bu(2, 0))], &mut cp, &mut fwd, &config, now);
        assert!(s.dsmip6.as_ref().unwrap().ha.registrations().all(|r| r.deprecated));
        assert!(at_lma(&s), "deprecated: still reserved at the LMA");
        s.poll(&mut cp, &mut fwd, &config, now + std::time::Duration::from_secs(11));
        assert_eq!(s.dsmip6.as_ref().unwrap().ha.registrations().count(), 0);
        assert!(!at_lma(&s), "deleted: released");
    }
}
