//! The Mobile IPv4 home agent's glue (PROTOCOLS.md §8–§10): UDP 434
//! datagrams go to [`Ha::handle`], its outputs are executed here — replies
//! and revocations framed from our address and port 434 to the sender's
//! port, bindings turned into forwarding entries with their IP-in-IP, GRE
//! (with keys) or RFC 3519 UDP tunnel — and the home addresses and prefixes
//! of the HA and of the LMA are kept in one address space (below).
//!
//! One address space: the PMIPv6 LMA and the home agent are pure state
//! machines that each own their pools, and both may allocate from the same
//! `[[pools.ipv4]]` subnets and `pools.hnp` aggregates (demo.toml does).
//! What one role holds is reserved in the other's pool, so that neither
//! hands out an address or prefix the other has: a binding the HA installs
//! is reserved in the LMA's pools and released when the HA removes it (the
//! HA frees its addresses at that moment); a session the LMA installs is
//! reserved in the HA's pools and released once the LMA no longer holds
//! the addresses (a de-registered session keeps them, deprecated, for
//! MinDelayBeforeBCEDelete after its forwarding is gone), which the timer
//! tick checks. A static home address registered with one role is thus
//! refused by the other while the first holds it. The window not covered:
//! an RFC 3519 binding that waits for its first keepalive (R = 1) is not
//! installed yet, so its address is not reserved at the LMA until then.
//!
//! Home-link presence (PROTOCOLS.md §8.7 "Home-link duties", §11.2 item 8):
//! a home address that lies on a home link (`home_link = true`) is
//! answered for there while a binding holds it — proxy ARP after gratuitous
//! ARPs for IPv4, proxy ND after DAD for IPv6 (`neigh::proxy`) — and
//! withdrawn when the binding goes. [`HomeLinkOwner`] names who holds it;
//! [`Signalling::home_link_claim`] / [`Signalling::home_link_release`] are
//! the calls a role's glue makes, and a DAD result comes back through
//! [`Signalling::home_link_dad_done`], which the signalling loop calls from
//! its timer tick. DSMIPv4 prefixes are routed, never proxied (§9.2).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{Config, EcnMode};
use dataplane::port::{Port, PuntRing};
use dataplane::tunnel::TunnelKind;
use serde_json::{json, Value};

use super::Signalling;
use crate::forwarding::{Binding, Forwarding};
use crate::mip4::{self, Ha, Output, Role};
use crate::mip4_io::{self, Keepalive, RxError};
use crate::neigh::{ProxyAdded, ProxyError, ProxyEvent, ProxyState};
use crate::punt::ControlPlane;

/// Keepalive echo replies sent per second at most: enough for 100 000
/// bindings at the default 110 s interval, and a bound on what a flood of
/// echo requests through the punt ring can make us send.
const KEEPALIVE_REPLIES_PER_S: u32 = 1000;

/// The home agent and what the glue keeps for it.
pub(super) struct HaGlue {
    pub(super) ha: Ha,
    /// HA binding id → forwarding binding id.
    installed: HashMap<u32, u32>,
    /// HA binding id → forwarding binding id of its nested IPv6 tunnel
    /// (DSMIPv4 without Tunneling Mode, [`nested_of`]).
    installed_v6: HashMap<u32, u32>,
    /// Addresses of each installed HA binding reserved in the LMA's pools.
    reserved_at_lma: HashMap<u32, Held>,
    /// HA binding id → its home address reserved in the DSMIPv6 home
    /// agent's pool.
    reserved_at_dsmip6: HashMap<u32, Ipv4Addr>,
    /// Datagrams with a wrong UDP checksum (dropped silently, §8.7 step 1).
    bad_checksum: u64,
    /// Messages we could not send: no route or no next-hop MAC yet.
    unrouted: u64,
    /// Bindings the forwarding table refused.
    install_failures: u64,
    keepalives: KeepaliveCounters,
    /// Start of the current one-second window and replies sent in it.
    reply_window: Option<(Instant, u32)>,
}

/// What became of RFC 3519 keepalives (§8.12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct KeepaliveCounters {
    received: u64,
    /// Echo replies sent back through the tunnel.
    answered: u64,
    /// From a sender with no binding whose UDP tunnel goes to its address
    /// and port (even after the keepalive rules): dropped.
    no_binding: u64,
    /// Over [`KEEPALIVE_REPLIES_PER_S`]: dropped.
    rate_limited: u64,
    /// Bad inner IPv4 or ICMP header or checksum: dropped.
    malformed: u64,
}

/// What to do about one keepalive once the home agent has seen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeepaliveAnswer {
    /// Send the echo reply from `local`:434 (the tunnel's address).
    Reply {
        local: Ipv4Addr,
    },
    NoBinding,
    RateLimited,
}

/// Home addresses and prefixes one role holds, mirrored in the other's pools.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Held {
    hoa: Option<Ipv4Addr>,
    prefixes: Vec<Ipv6Addr>,
}

impl HaGlue {
    pub(super) fn new(config: &Config) -> Option<HaGlue> {
        Ha::new(config).map(HaGlue::with)
    }

    fn with(ha: Ha) -> HaGlue {
        HaGlue {
            ha,
            installed: HashMap::new(),
            installed_v6: HashMap::new(),
            reserved_at_lma: HashMap::new(),
            reserved_at_dsmip6: HashMap::new(),
            bad_checksum: 0,
            unrouted: 0,
            install_failures: 0,
            keepalives: KeepaliveCounters::default(),
            reply_window: None,
        }
    }

    /// Keepalive `ka` (§8.12): the home agent's rules first — an R = 1
    /// binding learns its tunnel's far end, a NATed tunnel follows a new
    /// source port, as [`Ha::udp_keepalive`] allows — then the two-way
    /// keepalive: answered only when the sender now has a binding whose
    /// UDP tunnel goes to the keepalive's source address and port.
    fn keepalive(&mut self, ka: &Keepalive, now: Instant) -> (Vec<Output>, KeepaliveAnswer) {
        self.keepalives.received += 1;
        let out = self.ha.udp_keepalive(ka.src, ka.src_port, ka.inner_src);
        let local = self
            .ha
            .binding_by_hoa(ka.inner_src)
            .filter(|b| {
                b.tunnel.kind == dataplane::tunnel::TunnelKind::MipUdp
                    && !b.awaiting_keepalive
                    && (b.tunnel.remote, b.tunnel.peer_port) == (ka.src, ka.src_port)
            })
            .map(|b| b.tunnel.local);
        let answer = match local {
            None => {
                self.keepalives.no_binding += 1;
                KeepaliveAnswer::NoBinding
            }
            Some(_) if !self.reply_allowed(now) => {
                self.keepalives.rate_limited += 1;
                KeepaliveAnswer::RateLimited
            }
            Some(local) => KeepaliveAnswer::Reply { local },
        };
        (out, answer)
    }

    /// At most [`KEEPALIVE_REPLIES_PER_S`] replies in any one-second window.
    fn reply_allowed(&mut self, now: Instant) -> bool {
        let (start, sent) = self.reply_window.get_or_insert((now, 0));
        if now.saturating_duration_since(*start) >= Duration::from_secs(1) {
            (*start, *sent) = (now, 0);
        }
        if *sent >= KEEPALIVE_REPLIES_PER_S {
            return false;
        }
        *sent += 1;
        true
    }
}

impl Signalling {
    /// A punted UDP 434 frame: to the home agent (§8.1), or dropped and
    /// counted when there is none or the checksum is wrong.
    pub(super) fn receive_mip4<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        port: usize,
        frame: &[u8],
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let Some(glue) = self.ha.as_mut() else {
            self.malformed += 1;
            return;
        };
        let rx = match mip4_io::receive(frame) {
            Ok(rx) => rx,
            Err(RxError::BadChecksum) => {
                glue.bad_checksum += 1;
                return;
            }
            Err(RxError::NotMip4 | RxError::BadKeepalive) => {
                self.malformed += 1;
                return;
            }
        };
        let src = rx.src;
        let out = glue.ha.handle(rx, now, SystemTime::now());
        self.learn_peer(IpAddr::V4(src), port, frame);
        self.apply_mip4(out, cp, fwd, config, now);
    }

    /// A punted RFC 3519 keepalive (§8.12): the home agent's rules, then
    /// the echo reply through the tunnel, or a counted drop.
    pub(super) fn receive_keepalive<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        port: usize,
        frame: &[u8],
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let Some(glue) = self.ha.as_mut() else {
            self.malformed += 1;
            return;
        };
        let ka = match mip4_io::receive_keepalive(frame) {
            Ok(ka) => ka,
            Err(RxError::BadChecksum) => {
                glue.bad_checksum += 1;
                return;
            }
            Err(RxError::NotMip4 | RxError::BadKeepalive) => {
                glue.keepalives.malformed += 1;
                return;
            }
        };
        let (out, answer) = glue.keepalive(&ka, now);
        self.apply_mip4(out, cp, fwd, config, now);
        let KeepaliveAnswer::Reply { local } = answer else {
            tracing::trace!(src = %ka.src, src_port = ka.src_port, hoa = %ka.inner_src, ?answer, "keepalive not answered");
            return;
        };
        self.learn_peer(IpAddr::V4(ka.src), port, frame);
        let Some((egress, src_mac, mac)) = self.egress(IpAddr::V4(ka.src), cp, fwd, now) else {
            if let Some(g) = self.ha.as_mut() {
                g.unrouted += 1;
            }
            return;
        };
        cp.send_now(egress, &mip4_io::keepalive_reply(src_mac, mac, local, &ka));
        if let Some(g) = self.ha.as_mut() {
            g.keepalives.answered += 1;
        }
    }

    /// The home agent's timers (binding expiry, revocation retransmissions)
    /// and the LMA addresses whose reservation at the HA can end.
    pub(super) fn poll_mip4<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        self.sweep_lma_reservations();
        let Some(glue) = self.ha.as_mut() else { return };
        if glue.ha.next_deadline().is_some_and(|d| d <= now) {
            let out = glue.ha.poll(now, SystemTime::now());
            self.apply_mip4(out, cp, fwd, config, now);
        }
    }

    /// `anchorctl clear binding` for the home agent: removes the matching
    /// bindings and revokes them where the peer supports it (RFC 3543).
    pub(super) fn clear_mip4<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        what: &str,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) -> Result<Value, String> {
        let glue = self.ha.as_mut().ok_or("the home agent role is not configured")?;
        let out = glue.ha.revoke(what, now, SystemTime::now())?;
        let revocations = out.iter().filter(|o| matches!(o, Output::Send { .. })).count();
        self.apply_mip4(out, cp, fwd, config, now);
        Ok(json!({ "cleared": what, "role": "mip4", "revocations_sent": revocations }))
    }

    /// Executes the home agent's outputs, in order.
    fn apply_mip4<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        outputs: Vec<Output>,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let mut hops_changed = false;
        // DAD results known at once (draft -01 mode).
        let mut decided: Vec<(Ipv6Addr, bool)> = Vec::new();
        for o in outputs {
            match o {
                Output::Send { src, dst, dst_port, msg } => {
                    let Some((port, src_mac, mac)) = self.egress(IpAddr::V4(dst), cp, fwd, now) else {
                        if let Some(g) = self.ha.as_mut() {
                            g.unrouted += 1;
                        }
                        continue;
                    };
                    let payload = mip4::emit(&msg);
                    let frame = mip4_io::frame(src_mac, mac, src, dst, dst_port, &payload);
                    tracing::debug!(%src, %dst, dst_port, msg_type = payload.first().copied(), port, "sending mobile ipv4 message");
                    self.send_reply(cp, port, frame);
                }
                Output::Install(b) => {
                    // Every prefix the binding holds (straight or nested).
                    let held = Held { hoa: Some(b.hoa), prefixes: b.prefixes.clone() };
                    let (binding, spec) = binding_of(&b, fwd, config);
                    let Some(glue) = self.ha.as_mut() else { continue };
                    match fwd.install(glue.installed.get(&b.id).copied(), binding, spec, now) {
                        Ok(id) => {
                            glue.installed.insert(b.id, id);
                            hops_changed = true;
                            // RFC 5944 §4.6: the home address is answered
                            // for on its home link (the DSMIPv4 prefixes are
                            // routed, §9.2); so is a draft -01 IPv6 home
                            // address, which passed DAD as HaDad.
                            self.home_link_claim(HomeLinkOwner::Ha(b.id), IpAddr::V4(b.hoa), cp, config, now);
                            let mut keep = vec![IpAddr::V4(b.hoa)];
                            if let Some(a) = b.home_address6 {
                                let a = IpAddr::V6(a);
                                keep.push(a);
                                let under_dad = HomeLinkOwner::HaDad(b.home_address6.unwrap_or(Ipv6Addr::UNSPECIFIED));
                                if !self.home_link_transfer(under_dad, HomeLinkOwner::Ha(b.id), a) {
                                    self.home_link_claim(HomeLinkOwner::Ha(b.id), a, cp, config, now);
                                }
                            }
                            self.home_link_keep_only(HomeLinkOwner::Ha(b.id), &keep, cp, now);
                        }
                        Err(e) => {
                            glue.install_failures += 1;
                            tracing::warn!(binding = b.id, mn_id = %b.mn_id, "cannot install: {e}");
                        }
                    }
                    self.reserve_at_lma(b.id, held);
                    self.install_nested(&b, fwd, config, now);
                }
                Output::Remove { id } => {
                    if let Some(fid) = self.ha.as_mut().and_then(|g| g.installed.remove(&id)) {
                        fwd.remove(fid, now);
                        hops_changed = true;
                    }
                    if let Some(fid) = self.ha.as_mut().and_then(|g| g.installed_v6.remove(&id)) {
                        fwd.remove(fid, now);
                    }
                    self.home_link_release(HomeLinkOwner::Ha(id), cp, now);
                    self.release_at_lma(id);
                }
                Output::Dad { addr } => {
                    // draft -01 (PROTOCOLS.md §9.3): DAD on the home link,
                    // answered through home_link_dad_done; an address that
                    // cannot be checked counts as in use (code 11).
                    match self.home_link_claim(HomeLinkOwner::HaDad(addr), IpAddr::V6(addr), cp, config, now) {
                        HomeLinkClaim::DadPending => {}
                        HomeLinkClaim::Proxied => decided.push((addr, true)),
                        _ => decided.push((addr, false)),
                    }
                }
            }
        }
        for (addr, unique) in decided {
            self.ha_dad_done(addr, unique, cp, fwd, config, now);
        }
        if hops_changed {
            cp.set_next_hops(fwd.wanted_neighbors());
        }
    }

    /// A restored binding's forwarding (signalling/persist.rs): the
    /// install half of [`Output::Install`], the home-link claims left for
    /// later.
    pub(super) fn ha_install_forwarding(
        &mut self,
        b: &mip4::Binding,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let held = Held { hoa: Some(b.hoa), prefixes: b.prefixes.clone() };
        let (binding, spec) = binding_of(b, fwd, config);
        let Some(glue) = self.ha.as_mut() else { return };
        match fwd.install(None, binding, spec, now) {
            Ok(id) => {
                glue.installed.insert(b.id, id);
            }
            Err(e) => {
                glue.install_failures += 1;
                tracing::warn!(binding = b.id, mn_id = %b.mn_id, "cannot install a restored binding: {e}");
            }
        }
        self.reserve_at_lma(b.id, held);
        self.install_nested(b, fwd, config, now);
    }

    /// Installs, moves or removes the nested IPv6 tunnel of a DSMIPv4
    /// binding without Tunneling Mode ([`nested_of`]).
    fn install_nested(&mut self, b: &mip4::Binding, fwd: &mut Forwarding, config: &Config, now: Instant) {
        let Some(glue) = self.ha.as_mut() else { return };
        let existing = glue.installed_v6.get(&b.id).copied();
        match nested_of(b, fwd, config) {
            Some((binding, spec)) => match fwd.install(existing, binding, spec, now) {
                Ok(id) => {
                    glue.installed_v6.insert(b.id, id);
                }
                Err(e) => {
                    glue.install_failures += 1;
                    tracing::warn!(binding = b.id, mn_id = %b.mn_id, "cannot install the IPv6 tunnel to the home address: {e}");
                }
            },
            None => {
                if let Some(fid) = existing {
                    glue.installed_v6.remove(&b.id);
                    fwd.remove(fid, now);
                }
            }
        }
    }

    /// Reserves a HA binding's addresses in the LMA's pools (replacing
    /// what an earlier install of the same binding reserved).
    fn reserve_at_lma(&mut self, id: u32, held: Held) {
        self.release_at_lma(id);
        if let (Some(a), Some(glue)) = (held.hoa, self.ha.as_mut()) {
            if self.dsmip6.as_mut().is_some_and(|d| d.ha.pool_mut().reserve(a)) {
                glue.reserved_at_dsmip6.insert(id, a);
            }
        }
        let (Some(lma), Some(glue)) = (self.lma.as_mut(), self.ha.as_mut()) else { return };
        let (prefixes, hoas) = lma.pools_mut();
        let mut mine = Held::default();
        if let Some(a) = held.hoa {
            if hoas.reserve(a) {
                mine.hoa = Some(a);
            }
        }
        for p in held.prefixes {
            if prefixes.reserve(p) {
                mine.prefixes.push(p);
            }
        }
        glue.reserved_at_lma.insert(id, mine);
    }

    fn release_at_lma(&mut self, id: u32) {
        if let Some(a) = self.ha.as_mut().and_then(|g| g.reserved_at_dsmip6.remove(&id)) {
            if let Some(d) = self.dsmip6.as_mut() {
                d.ha.pool_mut().release(a);
            }
        }
        let Some(held) = self.ha.as_mut().and_then(|g| g.reserved_at_lma.remove(&id)) else { return };
        let Some(lma) = self.lma.as_mut() else { return };
        let (prefixes, hoas) = lma.pools_mut();
        if let Some(a) = held.hoa {
            hoas.release(a);
        }
        for p in held.prefixes {
            prefixes.release(p);
        }
    }

    /// An LMA session was installed: its addresses are reserved in the
    /// HA's pools until the LMA lets them go.
    pub(super) fn lma_installed(&mut self, session: u32, hoa: Option<Ipv4Addr>, hnps: &[Ipv6Addr]) {
        if self.ha.is_none() && self.dsmip6.is_none() {
            return;
        }
        let entry = self.lma_reserved_at_ha.entry(session).or_default();
        entry.draining = false;
        if let (Some(a), Some(d)) = (hoa, self.dsmip6.as_mut()) {
            if entry.at_dsmip6 != Some(a) && d.ha.pool_mut().reserve(a) {
                if let Some(old) = entry.at_dsmip6.replace(a) {
                    d.ha.pool_mut().release(old);
                }
            }
        }
        let Some(glue) = self.ha.as_mut() else { return };
        let (hoas, prefixes) = glue.ha.pools_mut();
        if let Some(a) = hoa {
            if entry.held.hoa != Some(a) && hoas.reserve(a) {
                entry.held.hoa = Some(a);
            }
        }
        for p in hnps {
            if !entry.held.prefixes.contains(p) && prefixes.reserve(*p) {
                entry.held.prefixes.push(*p);
            }
        }
        entry.draining = false;
    }

    /// An LMA session's forwarding went away; its addresses may still be
    /// held (deprecated) until the LMA deletes it.
    pub(super) fn lma_removed(&mut self, session: u32) {
        if let Some(e) = self.lma_reserved_at_ha.get_mut(&session) {
            e.draining = true;
        }
    }

    /// Ends the HA-side reservation of LMA addresses the LMA no longer holds.
    fn sweep_lma_reservations(&mut self) {
        if !self.lma_reserved_at_ha.values().any(|e| e.draining) {
            return;
        }
        let Some(lma) = self.lma.as_ref() else { return };
        let (lma_prefixes, lma_hoas) = lma.pools();
        let mut ha_pools = self.ha.as_mut().map(|g| g.ha.pools_mut());
        let mut dsmip6_pool = self.dsmip6.as_mut().map(|d| d.ha.pool_mut());
        self.lma_reserved_at_ha.retain(|_, e| {
            if !e.draining {
                return true;
            }
            let still = e.held.hoa.or(e.at_dsmip6).is_some_and(|a| lma_hoas.is_in_use(a))
                || e.held.prefixes.iter().any(|p| lma_prefixes.is_in_use(*p));
            if still {
                return true;
            }
            if let Some((hoas, prefixes)) = ha_pools.as_mut() {
                if let Some(a) = e.held.hoa {
                    hoas.release(a);
                }
                for p in &e.held.prefixes {
                    prefixes.release(*p);
                }
            }
            if let (Some(a), Some(pool)) = (e.at_dsmip6, dsmip6_pool.as_mut()) {
                pool.release(a);
            }
            false
        });
    }

    /// `show bindings` rows of the home agent.
    pub(super) fn mip4_bindings_json(&self, now: Instant) -> Vec<Value> {
        let Some(glue) = &self.ha else { return Vec::new() };
        let mut rows: Vec<&mip4::Binding> = glue.ha.bindings().collect();
        rows.sort_unstable_by_key(|b| b.id);
        rows.into_iter()
            .map(|b| {
                json!({
                    "id": glue.installed.get(&b.id),
                    "session": b.id,
                    "mn_id": &*b.mn_id,
                    "role": b.role.name(),
                    "state": if b.awaiting_keepalive { "awaiting-keepalive" } else { "active" },
                    "ipv4_hoa": b.hoa.to_string(),
                    "ipv4_prefix_len": b.hoa_prefix_len,
                    "ipv4_default_router": b.default_router.map(|r| r.to_string()),
                    "hnps": b.prefixes.iter().map(|p| format!("{p}/64")).collect::<Vec<_>>(),
                    "ipv6_hoa": b.home_address6.map(|a| a.to_string()),
                    "coa": b.coa.to_string(),
                    "registered_from": format!("{}:{}", b.registered_from.0, b.registered_from.1),
                    "local": b.tunnel.local.to_string(),
                    "tunnel": b.tunnel.name(),
                    "tunnel_remote": b.tunnel.remote.to_string(),
                    "udp_port": (b.tunnel.kind == dataplane::tunnel::TunnelKind::MipUdp).then_some(b.tunnel.peer_port),
                    "gre_key_in": b.tunnel.key_in,
                    "gre_key_out": b.tunnel.key_out,
                    "reverse_tunnel": b.reverse_tunnel,
                    "ipv6_to_coa": b.ipv6_to_coa,
                    "att": b.att,
                    "interface_id": b.interface_id.as_deref().map(hex),
                    "device_id": b.device_id.as_ref().map(|(t, id)| json!({ "type": t, "id": hex(id) })),
                    "subscriber_id": b.subscriber_id.as_ref().map(|(t, id)| json!({ "type": t, "id": hex(id) })),
                    "revocation": b.revocation.map(|r| r.addr.to_string()),
                    "lifetime_s": b.lifetime.as_secs(),
                    "lifetime_left_s": b.expires.saturating_duration_since(now).as_secs(),
                })
            })
            .collect()
    }

    /// Adds the home agent's bindings to `counts` by (role, state), as
    /// `show bindings` names them.
    pub(super) fn count_ha_bindings(&self, counts: &mut std::collections::BTreeMap<(&'static str, &'static str), u64>) {
        let Some(glue) = &self.ha else { return };
        for role in [mip4::Role::Mip4, mip4::Role::Dsmip4, mip4::Role::Pmip4] {
            counts.entry((role.name(), "active")).or_default();
        }
        for b in glue.ha.bindings() {
            let state = if b.awaiting_keepalive { "awaiting-keepalive" } else { "active" };
            *counts.entry((b.role.name(), state)).or_default() += 1;
        }
    }

    /// The home agent's counters for `show stats` (`ha`), null without one.
    pub fn ha_stats_json(&self) -> Value {
        let Some(glue) = &self.ha else { return Value::Null };
        let c = glue.ha.counters();
        json!({
            "bindings": glue.ha.bindings().count(),
            "rrq_received": c.rrq_received,
            "rrp_sent": c.rrp_sent.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "malformed": c.malformed,
            "bad_udp_checksum": glue.bad_checksum,
            "no_security_association": c.no_security_association,
            "auth_failures": c.auth_failures,
            "replays": c.replays,
            "retransmissions": c.retransmissions,
            "bindings_created": c.bindings_created,
            "renewals": c.renewals,
            "handoffs": c.handoffs,
            "deregistrations": c.deregistrations,
            "expired": c.expired,
            "revocations_sent": c.revocations_sent,
            "revocations_retransmitted": c.revocations_retransmitted,
            "revocation_acks_received": c.revocation_acks_received,
            "revocations_received": c.revocations_received,
            "revocation_acks_sent": c.revocation_acks_sent,
            "keepalives_applied": c.keepalives_applied,
            "keepalives_received": glue.keepalives.received,
            "keepalives_answered": glue.keepalives.answered,
            "keepalives_no_binding": glue.keepalives.no_binding,
            "keepalives_rate_limited": glue.keepalives.rate_limited,
            "keepalives_malformed": glue.keepalives.malformed,
            "unexpected": c.unexpected,
            "dad_started": c.dad_started,
            "dad_duplicates": c.dad_duplicates,
            "dad_timeouts": c.dad_timeouts,
            "install_failures": glue.install_failures,
            "unrouted_messages": glue.unrouted,
        })
    }
}

/// Who holds a home address proxied on a home link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HomeLinkOwner {
    /// A Mobile IPv4 home agent binding (its id).
    Ha(u32),
    /// A draft -01 DSMIPv4 IPv6 home address under DAD for a registration
    /// not answered yet; handed to the binding that takes it.
    HaDad(Ipv6Addr),
    /// A PMIPv6 LMA session (its id).
    Lma(u32),
    /// A `[[binding]]` of the config (its index).
    Static(usize),
    /// A DSMIPv6 home agent binding (its id; issue 6).
    Dsmip6(u32),
    /// A DSMIPv6 IPv6 home address under DAD for a Binding Update not
    /// answered yet (RFC 6275 §10.3.1); handed to the binding that takes it.
    Dsmip6Dad(Ipv6Addr),
}

impl std::fmt::Display for HomeLinkOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HomeLinkOwner::Ha(id) => write!(f, "mip4 binding {id}"),
            HomeLinkOwner::HaDad(a) => write!(f, "mip4 registration waiting for DAD of {a}"),
            HomeLinkOwner::Lma(id) => write!(f, "pmip6 session {id}"),
            HomeLinkOwner::Static(i) => write!(f, "binding[{i}]"),
            HomeLinkOwner::Dsmip6(id) => write!(f, "dsmip6 binding {id}"),
            HomeLinkOwner::Dsmip6Dad(a) => write!(f, "dsmip6 registration waiting for DAD of {a}"),
        }
    }
}

/// What [`Signalling::home_link_claim`] did with an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeLinkClaim {
    /// Not on a home link: nothing to do (routed as usual).
    NotOnHomeLink,
    /// Answered for (IPv4 at once; an IPv6 address that passed DAD before).
    Proxied,
    /// IPv6: DAD runs; [`Signalling::home_link_dad_done`] follows with its
    /// result for the owner.
    DadPending,
    /// Another owner holds it (refused, logged and counted).
    HeldBy(HomeLinkOwner),
    /// The neighbour code refused it (logged and counted).
    Refused(ProxyError),
}

/// The home addresses proxied on home links, by owner.
#[derive(Debug, Default)]
pub(super) struct HomeLink {
    /// Owner → the (port, address) pairs proxied for it.
    by_owner: HashMap<HomeLinkOwner, Vec<(usize, IpAddr)>>,
    /// (port, address) → its owner.
    owner_of: HashMap<(usize, IpAddr), HomeLinkOwner>,
    /// Claims the neighbour code refused.
    refused: u64,
}

impl Signalling {
    /// Proxies `addr` for `owner` when it lies on a home link (config
    /// `home_link`; RFC 5944 §4.6 for IPv4, RFC 6275 §10.4.1 for IPv6).
    /// Claiming again what the owner holds changes nothing. An address that
    /// another owner holds is left to it (refused as already proxied).
    pub fn home_link_claim<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        owner: HomeLinkOwner,
        addr: IpAddr,
        cp: &mut ControlPlane<'_, P, R>,
        config: &Config,
        now: Instant,
    ) -> HomeLinkClaim {
        let Some(port) = config.home_link_port(addr) else { return HomeLinkClaim::NotOnHomeLink };
        let hl = &mut self.home_link;
        if let Some(other) = hl.owner_of.get(&(port, addr)).copied().filter(|o| *o != owner) {
            hl.refused += 1;
            tracing::warn!(%addr, %owner, holder = %other, "home address already proxied for another binding");
            return HomeLinkClaim::HeldBy(other);
        }
        match cp.neighbors_mut().proxy_add(port, addr, now) {
            Ok(added) => {
                if hl.owner_of.insert((port, addr), owner).is_none() {
                    hl.by_owner.entry(owner).or_default().push((port, addr));
                    tracing::info!(%addr, %owner, port, "answering for the home address on its home link");
                }
                match added {
                    ProxyAdded::Tentative | ProxyAdded::Already(ProxyState::Tentative) => HomeLinkClaim::DadPending,
                    ProxyAdded::Active | ProxyAdded::Already(ProxyState::Active) => HomeLinkClaim::Proxied,
                }
            }
            Err(e) => {
                hl.refused += 1;
                tracing::warn!(%addr, %owner, port, "cannot answer for the home address: {e}");
                HomeLinkClaim::Refused(e)
            }
        }
    }

    /// Hands (port, `addr`) from `from` to `to` without withdrawing it;
    /// false when `from` does not hold it.
    pub fn home_link_transfer(&mut self, from: HomeLinkOwner, to: HomeLinkOwner, addr: IpAddr) -> bool {
        let hl = &mut self.home_link;
        let Some(held) = hl.by_owner.get_mut(&from) else { return false };
        let Some(i) = held.iter().position(|(_, a)| *a == addr) else { return false };
        let key = held.remove(i);
        if held.is_empty() {
            hl.by_owner.remove(&from);
        }
        hl.owner_of.insert(key, to);
        hl.by_owner.entry(to).or_default().push(key);
        true
    }

    /// Withdraws what `owner` holds besides `keep` (a re-registration that
    /// left an address out).
    pub fn home_link_keep_only<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        owner: HomeLinkOwner,
        keep: &[IpAddr],
        cp: &mut ControlPlane<'_, P, R>,
        now: Instant,
    ) {
        let Some(held) = self.home_link.by_owner.get_mut(&owner) else { return };
        let (kept, gone): (Vec<_>, Vec<_>) = held.drain(..).partition(|(_, a)| keep.contains(a));
        *held = kept;
        for (port, addr) in gone {
            self.home_link.owner_of.remove(&(port, addr));
            cp.neighbors_mut().proxy_remove(port, addr, now);
            tracing::info!(%addr, %owner, port, "no longer answering for the home address");
        }
    }

    /// A draft -01 DAD result: the home agent answers the registration
    /// that waited; an address no binding took is withdrawn.
    fn ha_dad_done<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        addr: Ipv6Addr,
        unique: bool,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let Some(glue) = self.ha.as_mut() else { return };
        let out = glue.ha.dad_done(addr, unique, now, SystemTime::now());
        self.apply_mip4(out, cp, fwd, config, now);
        self.home_link_release(HomeLinkOwner::HaDad(addr), cp, now);
    }

    /// Withdraws every address proxied for `owner` (de-registration,
    /// expiry, removal).
    pub fn home_link_release<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        owner: HomeLinkOwner,
        cp: &mut ControlPlane<'_, P, R>,
        now: Instant,
    ) {
        let Some(held) = self.home_link.by_owner.remove(&owner) else { return };
        for (port, addr) in held {
            self.home_link.owner_of.remove(&(port, addr));
            cp.neighbors_mut().proxy_remove(port, addr, now);
            tracing::info!(%addr, %owner, port, "no longer answering for the home address");
        }
    }

    /// Withdraws one address of `owner` (a re-registration that no longer
    /// holds it), leaving its others.
    pub fn home_link_release_addr<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        owner: HomeLinkOwner,
        addr: IpAddr,
        cp: &mut ControlPlane<'_, P, R>,
        now: Instant,
    ) {
        let Some(held) = self.home_link.by_owner.get_mut(&owner) else { return };
        let Some(at) = held.iter().position(|(_, a)| *a == addr) else { return };
        let (port, _) = held.swap_remove(at);
        if held.is_empty() {
            self.home_link.by_owner.remove(&owner);
        }
        self.home_link.owner_of.remove(&(port, addr));
        cp.neighbors_mut().proxy_remove(port, addr, now);
        tracing::info!(%addr, %owner, port, "no longer answering for the home address");
    }

    /// Proxies the home addresses of the config's `[[binding]]`s that lie on
    /// a home link (once, at start: static bindings never change).
    pub fn claim_static_home_addresses<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        config: &Config,
        now: Instant,
    ) {
        for (i, b) in config.bindings.iter().enumerate().filter(|(_, b)| b.vrf == 0) {
            let addrs = b.ipv4_hoa.map(IpAddr::V4).into_iter().chain(b.ipv6_hoa.map(IpAddr::V6));
            for addr in addrs {
                self.home_link_claim(HomeLinkOwner::Static(i), addr, cp, config, now);
            }
        }
    }

    /// Hands the neighbour code's DAD results to the owners of the
    /// addresses (called on every timer tick).
    pub(super) fn poll_home_link<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        for ev in cp.neighbors_mut().take_proxy_events() {
            let (port, ip, ok) = match ev {
                ProxyEvent::DadSucceeded { port, ip } => (port, ip, true),
                ProxyEvent::DadFailed { port, ip, by } => {
                    tracing::warn!(%ip, port, by = ?by, "duplicate address detected: not answering for it");
                    (port, ip, false)
                }
            };
            let key = (port, IpAddr::V6(ip));
            let Some(owner) = self.home_link.owner_of.get(&key).copied() else { continue };
            if !ok {
                // The neighbour code dropped it already.
                self.home_link.owner_of.remove(&key);
                if let Some(v) = self.home_link.by_owner.get_mut(&owner) {
                    v.retain(|k| *k != key);
                }
            }
            self.home_link_dad_done(owner, ip, ok, cp, fwd, config, now);
        }
    }

    /// A DAD result for `owner`'s IPv6 home address `ip` (RFC 4862 §5.4;
    /// `ok` = no other node uses it, now proxied). The place where a role
    /// that must wait for DAD before answering (RFC 6275 §10.3.1: BA status
    /// 134 on failure; the draft-01 DSMIPv4 mode, PROTOCOLS.md §9.3: code
    /// 11) finishes its registration.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn home_link_dad_done<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        owner: HomeLinkOwner,
        ip: Ipv6Addr,
        ok: bool,
        _cp: &mut ControlPlane<'_, P, R>,
        _fwd: &mut Forwarding,
        _config: &Config,
        _now: Instant,
    ) {
        match owner {
            // draft -01 DSMIPv4: the registration that waited is answered.
            HomeLinkOwner::HaDad(addr) => self.ha_dad_done(addr, ok, _cp, _fwd, _config, _now),
            // RFC 6275 §10.3.1: the DSMIPv6 Binding Update that waited.
            HomeLinkOwner::Dsmip6Dad(addr) => self.dsmip6_dad_done(addr, ok, _cp, _fwd, _config, _now),
            HomeLinkOwner::Ha(_) | HomeLinkOwner::Lma(_) | HomeLinkOwner::Static(_) | HomeLinkOwner::Dsmip6(_) => {
                if ok {
                    tracing::info!(%ip, %owner, "duplicate address detection passed");
                } else {
                    tracing::warn!(%ip, %owner, "duplicate address detection failed: the address is not answered for");
                }
            }
        }
    }

    /// The owner of proxied (port, address), for `show proxy`.
    pub fn home_link_owner(&self, port: usize, addr: IpAddr) -> Option<HomeLinkOwner> {
        self.home_link.owner_of.get(&(port, addr)).copied()
    }

    /// Claims the neighbour code refused (`show stats`).
    pub fn home_link_refused(&self) -> u64 {
        self.home_link.refused
    }
}

/// An LMA session's addresses reserved in the HA's pools (and its IPv4
/// home address in the DSMIPv6 home agent's pool).
#[derive(Debug, Default)]
pub(super) struct LmaReservation {
    held: Held,
    pub(super) at_dsmip6: Option<Ipv4Addr>,
    /// Its forwarding is gone; released once the LMA frees the addresses.
    draining: bool,
}

/// The prefixes a DSMIPv4 binding's own forwarding carries: IPv6 straight
/// to the care-of address (Tunneling Mode granted, reply code 1). Without
/// it they go through the nested tunnel of [`nested_of`].
fn forwarded_prefixes(b: &mip4::Binding) -> Vec<Ipv6Addr> {
    if b.role == Role::Dsmip4 && b.ipv6_to_coa {
        b.prefixes.clone()
    } else {
        Vec::new()
    }
}

/// RFC 5454 §9.2, reply code 0: a DSMIPv4 binding without Tunneling Mode
/// has its IPv6 (prefixes, draft -01 home address) tunnelled in IPv4 to
/// its IPv4 home address, and that packet into the binding's own tunnel:
/// a second forwarding binding with a nested IP-in-IP tunnel from our
/// address to the home address, whose MTU is the outer tunnel's inner one.
fn nested_of(b: &mip4::Binding, fwd: &Forwarding, config: &Config) -> Option<(Binding, dataplane::tunnel::TunnelSpec)> {
    if b.role != Role::Dsmip4 || b.ipv6_to_coa || (b.prefixes.is_empty() && b.home_address6.is_none()) {
        return None;
    }
    let (_, outer) = binding_of(b, fwd, config);
    let inner_mtu = dataplane::tunnel::Tunnel::new(outer.clone(), dataplane::wire::MacAddr::ZERO, None).mtu_v4;
    let mut spec = dataplane::tunnel::TunnelSpec::new(TunnelKind::IpIp, b.tunnel.local.into(), b.hoa.into());
    spec.nested = true;
    spec.port = outer.port;
    spec.ttl = config.tunnel.ttl;
    spec.ecn_compat = config.tunnel.ecn == EcnMode::Compat;
    spec.path_mtu = inner_mtu;
    spec.ipv6_over_ipv4_mtu = config.tunnel.ipv6_over_ipv4_mtu;
    let binding = Binding {
        id: 0,
        mn_id: b.mn_id.to_string(),
        role: b.role.name(),
        vrf: 0,
        ipv4_hoa: None,
        hnps: b.prefixes.iter().map(|p| (*p, 64)).collect(),
        ipv6_hoa: b.home_address6,
        tunnel: 0,
        expires: Some(b.expires),
        state: "active",
    };
    Some((binding, spec))
}

/// RFC 5563 identifiers as the CLI shows them: lower-case hex octets.
fn hex(octets: &[u8]) -> String {
    octets.iter().map(|o| format!("{o:02x}")).collect()
}

/// The forwarding binding and tunnel of a home agent binding.
fn binding_of(b: &mip4::Binding, fwd: &Forwarding, config: &Config) -> (Binding, dataplane::tunnel::TunnelSpec) {
    let port = fwd.port_towards(IpAddr::V4(b.tunnel.remote)).unwrap_or(0);
    let path_mtu = config.ports.get(port).map_or(1500, |p| config.tunnel.path_mtu(p));
    let spec = b.tunnel.spec(
        port,
        config.tunnel.ttl,
        config.tunnel.ecn == EcnMode::Compat,
        path_mtu,
        config.tunnel.ipv6_over_ipv4_mtu,
    );
    let binding = Binding {
        id: 0,
        mn_id: b.mn_id.to_string(),
        role: b.role.name(),
        vrf: 0,
        ipv4_hoa: Some(b.hoa),
        hnps: forwarded_prefixes(b).into_iter().map(|p| (p, 64)).collect(),
        ipv6_hoa: b.home_address6.filter(|_| b.role == Role::Dsmip4 && b.ipv6_to_coa),
        tunnel: 0,
        expires: Some(b.expires),
        state: "active",
    };
    (binding, spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signalling() -> Signalling {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml");
        let config = anchor_config::load(&path).expect("config/demo.toml loads");
        let s = Signalling::new(&config, Instant::now());
        assert!(s.lma.is_some() && s.ha.is_some(), "demo.toml has both roles");
        s
    }

    const X: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 50);
    const P: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0x50, 0, 0, 0, 0);

    fn lma_holds(s: &Signalling) -> (bool, bool) {
        let (prefixes, hoas) = s.lma.as_ref().map(|l| l.pools()).unwrap();
        (hoas.is_in_use(X), prefixes.is_in_use(P))
    }

    fn ha_holds(s: &Signalling) -> (bool, bool) {
        let (hoas, prefixes) = s.ha.as_ref().map(|g| g.ha.pools()).unwrap();
        (hoas.is_in_use(X), prefixes.is_in_use(P))
    }

    #[test]
    fn what_the_home_agent_installs_is_reserved_in_the_lma_pools_until_it_removes_it() {
        let mut s = signalling();
        s.reserve_at_lma(7, Held { hoa: Some(X), prefixes: vec![P] });
        assert_eq!(lma_holds(&s), (true, true));
        // A re-install of the same binding keeps one reservation.
        s.reserve_at_lma(7, Held { hoa: Some(X), prefixes: vec![P] });
        assert_eq!(lma_holds(&s), (true, true));
        s.release_at_lma(7);
        assert_eq!(lma_holds(&s), (false, false));
    }

    #[test]
    fn an_lma_session_stays_reserved_at_the_home_agent_until_the_lma_frees_its_addresses() {
        let mut s = signalling();
        // The LMA holds X and P (allocated for a session it installs).
        if let Some(lma) = s.lma.as_mut() {
            let (prefixes, hoas) = lma.pools_mut();
            assert!(hoas.reserve(X) && prefixes.reserve(P));
        }
        s.lma_installed(3, Some(X), &[P]);
        assert_eq!(ha_holds(&s), (true, true));
        // De-registered: forwarding gone, addresses still the LMA's (deprecated).
        s.lma_removed(3);
        s.sweep_lma_reservations();
        assert_eq!(ha_holds(&s), (true, true));
        // Deleted: the LMA lets them go, and so does the reservation.
        if let Some(lma) = s.lma.as_mut() {
            let (prefixes, hoas) = lma.pools_mut();
            hoas.release(X);
            prefixes.release(P);
        }
        s.sweep_lma_reservations();
        assert_eq!(ha_holds(&s), (false, false));
    }

    mod keepalives {
        use super::super::*;
        use crate::mip4::ext::{udp_request_flags, Extension};
        use crate::mip4::tests::{rrp, v4, Req, H, HA_ADDR, MN, NAT};

        fn udp_request(flags: u8) -> Extension {
            Extension::UdpTunnelRequest { reserved1: 0, flags, encapsulation: 0, reserved3: 0 }
        }

        /// A home agent with `mn` registered from NAT:`port` with a UDP
        /// Tunnel Request carrying `flags`; its glue and the home address.
        fn registered(flags: u8, port: u16) -> (HaGlue, Ipv4Addr, Instant) {
            let mut h = H::new();
            let id = h.id();
            let out = h.send(Req::mn(MN).id(id).from(NAT, port).mn_ext(udp_request(flags)));
            assert_eq!(rrp(&out).code, 0);
            let hoa = h.ha.bindings().next().unwrap().hoa;
            (HaGlue::with(h.ha), hoa, h.now)
        }

        fn ka(src: &str, src_port: u16, hoa: Ipv4Addr) -> Keepalive {
            Keepalive {
                src: v4(src),
                src_port,
                dst: v4(HA_ADDR),
                inner_src: hoa,
                inner_dst: v4(HA_ADDR),
                ident: 1,
                seq: 1,
                data: vec![],
            }
        }

        fn reply() -> KeepaliveAnswer {
            KeepaliveAnswer::Reply { local: v4(HA_ADDR) }
        }

        #[test]
        fn a_keepalive_from_the_tunnels_address_and_port_is_answered_and_changes_nothing() {
            let (mut g, hoa, now) = registered(0, 40001);
            let (out, answer) = g.keepalive(&ka(NAT, 40001, hoa), now);
            assert!(out.is_empty());
            assert_eq!(answer, reply());
            assert_eq!((g.keepalives.received, g.keepalives.no_binding), (1, 0));
        }

        #[test]
        fn with_r_set_the_first_keepalive_installs_the_tunnel_and_is_answered() {
            let (mut g, hoa, now) = registered(udp_request_flags::R, 40001);
            // From another address: no binding of its own, nothing installed.
            let (out, answer) = g.keepalive(&ka("198.51.100.98", 40777, hoa), now);
            assert!(out.is_empty());
            assert_eq!(answer, KeepaliveAnswer::NoBinding);
            // From the request's source address: its port becomes the tunnel's.
            let (out, answer) = g.keepalive(&ka(NAT, 40777, hoa), now);
            let Some(Output::Install(b)) = out.first() else { panic!("{out:?}") };
            assert_eq!((b.tunnel.remote, b.tunnel.peer_port), (v4(NAT), 40777));
            assert_eq!(answer, reply());
            assert_eq!((g.keepalives.received, g.keepalives.no_binding), (2, 1));
        }

        #[test]
        fn a_keepalive_without_a_udp_tunnel_binding_is_dropped_and_counted() {
            let mut h = H::new();
            let plain = h.register(MN);
            let mut g = HaGlue::with(h.ha);
            // An IP-in-IP binding, and a home address nobody holds.
            for hoa in [plain.hoa, v4("203.0.113.77")] {
                let (out, answer) = g.keepalive(&ka(NAT, 40001, hoa), h.now);
                assert!(out.is_empty());
                assert_eq!(answer, KeepaliveAnswer::NoBinding);
            }
            assert_eq!(g.keepalives.no_binding, 2);
        }

        #[test]
        fn keepalive_replies_are_rate_limited_per_second() {
            let (mut g, hoa, now) = registered(0, 40001);
            for _ in 0..KEEPALIVE_REPLIES_PER_S {
                assert_eq!(g.keepalive(&ka(NAT, 40001, hoa), now).1, reply());
            }
            assert_eq!(g.keepalive(&ka(NAT, 40001, hoa), now).1, KeepaliveAnswer::RateLimited);
            assert_eq!(g.keepalives.rate_limited, 1);
            let later = now + Duration::from_secs(1);
            assert_eq!(g.keepalive(&ka(NAT, 40001, hoa), later).1, reply());
        }
    }

    /// Home-link presence through the glue's calls, on in-memory ports.
    mod home_link {
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        use std::time::{Duration, Instant};

        use dataplane::counters::WorkerCounters;
        use dataplane::port::mem::{MemBuf, MemPort, MemRing};
        use dataplane::port::{PortId, QueueId};
        use dataplane::route::StatePublisher;

        use super::super::*;
        use crate::neigh::testutil::{home_link_neighbors, na, ports, CORE_MAC, HOME_MAC, MN_MAC};
        use crate::neigh::ProxyState;

        /// demo.toml with the home port a home link.
        fn config() -> Config {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml");
            let text = std::fs::read_to_string(path).unwrap();
            let off = "pools (203.0.113.0/24, 2001:db8:100::/48) are routed to the anchor.\nhome_link = false";
            assert!(text.contains(off), "demo.toml's home port says home_link = false");
            let on = off.replace("home_link = false", "home_link = true");
            anchor_config::parse(&text.replacen(off, &on, 1)).unwrap()
        }

        struct Rig {
            ports: Vec<MemPort>,
            rings: Vec<MemRing<MemBuf>>,
            counters: WorkerCounters,
            addrs: Vec<dataplane::addrs::PortAddrs>,
        }

        impl Rig {
            fn new() -> Rig {
                let mut addrs = ports();
                addrs[1] = addrs[1].clone().with_home_link(true);
                Rig {
                    ports: vec![MemPort::new(PortId(0), 1), MemPort::new(PortId(1), 1)],
                    rings: vec![MemRing::new(64)],
                    counters: WorkerCounters::default(),
                    addrs,
                }
            }

            fn cp(&self) -> ControlPlane<'_, MemPort, MemRing<MemBuf>> {
                let (_w, fib) = dataplane::fib::new(64, 1);
                ControlPlane::new(
                    &self.ports,
                    &self.addrs,
                    &self.rings,
                    QueueId(1),
                    home_link_neighbors(),
                    &self.counters,
                    vec![],
                    StatePublisher::new(Default::default()),
                    fib,
                )
            }
        }

        const HOA: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 130));
        const HOA6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x130);

        fn proxied(cp: &ControlPlane<'_, MemPort, MemRing<MemBuf>>) -> Vec<(IpAddr, ProxyState)> {
            cp.neighbors().proxies().map(|e| (e.ip, e.state)).collect()
        }

        #[test]
        fn a_home_address_on_the_home_link_is_proxied_for_its_owner_until_released() {
            let config = config();
            let rig = Rig::new();
            let mut cp = rig.cp();
            let mut s = Signalling::new(&config, Instant::now());
            let now = Instant::now();
            let owner = HomeLinkOwner::Ha(7);
            assert_eq!(s.home_link_claim(owner, HOA, &mut cp, &config, now), HomeLinkClaim::Proxied);
            assert_eq!(proxied(&cp), vec![(HOA, ProxyState::Active)]);
            assert_eq!(s.home_link_owner(1, HOA), Some(owner));
            // A renewal claims it again: nothing changes.
            assert_eq!(s.home_link_claim(owner, HOA, &mut cp, &config, now), HomeLinkClaim::Proxied);
            assert_eq!(proxied(&cp).len(), 1);
            // Another binding cannot take it over.
            let other = HomeLinkOwner::Lma(3);
            assert_eq!(s.home_link_claim(other, HOA, &mut cp, &config, now), HomeLinkClaim::HeldBy(owner));
            assert_eq!(s.home_link_refused(), 1);
            s.home_link_release(owner, &mut cp, now);
            assert!(proxied(&cp).is_empty());
            assert_eq!(s.home_link_owner(1, HOA), None);
        }

        #[test]
        fn one_address_of_an_owner_can_be_withdrawn_leaving_its_others() {
            let config = config();
            let rig = Rig::new();
            let mut cp = rig.cp();
            let mut s = Signalling::new(&config, Instant::now());
            let now = Instant::now();
            let owner = HomeLinkOwner::Dsmip6(4);
            assert_eq!(s.home_link_claim(owner, HOA, &mut cp, &config, now), HomeLinkClaim::Proxied);
            assert_eq!(s.home_link_claim(owner, IpAddr::V6(HOA6), &mut cp, &config, now), HomeLinkClaim::DadPending);
            s.home_link_release_addr(owner, IpAddr::V6(HOA6), &mut cp, now);
            assert_eq!(proxied(&cp), vec![(HOA, ProxyState::Active)]);
            assert_eq!(s.home_link_owner(1, HOA), Some(owner));
            s.home_link_release(owner, &mut cp, now);
            assert!(proxied(&cp).is_empty());
        }

        #[test]
        fn addresses_off_the_home_link_are_left_to_routing() {
            let config = config();
            let rig = Rig::new();
            let mut cp = rig.cp();
            let mut s = Signalling::new(&config, Instant::now());
            let now = Instant::now();
            for addr in ["203.0.113.7", "192.0.2.7", "198.51.100.1", "2001:db8:100::7"] {
                let claim = s.home_link_claim(HomeLinkOwner::Ha(1), addr.parse().unwrap(), &mut cp, &config, now);
                assert_eq!(claim, HomeLinkClaim::NotOnHomeLink, "{addr}");
            }
            assert!(proxied(&cp).is_empty());
            // Without home_link nothing is ever proxied.
            let demo =
                anchor_config::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml"))
                    .unwrap();
            let mut s = Signalling::new(&demo, now);
            assert_eq!(s.home_link_claim(HomeLinkOwner::Ha(1), HOA, &mut cp, &demo, now), HomeLinkClaim::NotOnHomeLink);
        }

        #[test]
        fn an_ipv6_home_address_waits_for_dad_and_a_duplicate_is_dropped_from_its_owner() {
            let config = config();
            let rig = Rig::new();
            let mut cp = rig.cp();
            let mut fwd = crate::forwarding::Forwarding::new(
                &config,
                vec![CORE_MAC, HOME_MAC],
                dataplane::fib::new(64, 1).0,
                StatePublisher::new(Default::default()),
            )
            .unwrap();
            let mut s = Signalling::new(&config, Instant::now());
            let t = Instant::now();
            let (ok, dup) = (HomeLinkOwner::Static(0), HomeLinkOwner::Static(1));
            let dup_addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x131);
            assert_eq!(s.home_link_claim(ok, IpAddr::V6(HOA6), &mut cp, &config, t), HomeLinkClaim::DadPending);
            assert_eq!(s.home_link_claim(dup, IpAddr::V6(dup_addr), &mut cp, &config, t), HomeLinkClaim::DadPending);
            cp.run_timers(t);
            // Someone answers for the second address during its DAD.
            let adv = na(MN_MAC, dup_addr, dataplane::wire::ipv6::ALL_NODES, dup_addr, false, true, Some(MN_MAC));
            cp.neighbors_mut().handle_frame(1, &adv, t);
            let later = t + Duration::from_secs(1);
            cp.run_timers(later);
            s.poll_home_link(&mut cp, &mut fwd, &config, later);
            assert_eq!(proxied(&cp), vec![(IpAddr::V6(HOA6), ProxyState::Active)]);
            assert_eq!(s.home_link_owner(1, IpAddr::V6(HOA6)), Some(ok));
            assert_eq!(s.home_link_owner(1, IpAddr::V6(dup_addr)), None, "the duplicate is no longer its owner's");
        }
    }

    #[test]
    fn a_session_installed_again_before_the_sweep_keeps_its_reservation() {
        let mut s = signalling();
        s.lma_installed(3, Some(X), &[]);
        s.lma_removed(3);
        s.lma_installed(3, Some(X), &[]);
        s.sweep_lma_reservations();
        assert!(ha_holds(&s).0);
    }
}
