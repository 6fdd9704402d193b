//! Glue between the punt path and the role state machines: signalling
//! frames go to the PMIPv6 LMA; its outputs are executed here in one place —
//! messages are framed and sent on the right port, session changes become
//! forwarding-table changes that the workers see.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Instant, SystemTime};

use anchor_config::{Config, EcnMode};
use dataplane::port::{Port, PuntRing};
use dataplane::route::RouteMiss;
use dataplane::tunnel::{TunnelKind, TunnelSpec};
use dataplane::wire::MacAddr;
use serde_json::{json, Value};

use crate::forwarding::{Binding, Forwarding};
use crate::icmp_error::{self, IcmpError};
use crate::mh_io::{self, RxError};
use crate::mip4_io;
use crate::pmip6::{Encap, Lma, Output, Session, Transport, PMIP6_DATA_PORT};
use crate::proto::{BindingError, MhError, MhMessage};
use crate::punt::ControlPlane;

mod dsmip6;
mod ha;
mod overload;
mod persist;
#[cfg(test)]
pub(crate) mod testutil;
mod views;

pub use ha::{HomeLinkClaim, HomeLinkOwner};
pub use persist::{collect_batch, RestoreReport};

/// Peers whose last Ethernet source is remembered (bounded memory).
const MAX_PEERS_REMEMBERED: usize = 4096;

/// Binding Errors sent per second at most.
const BINDING_ERRORS_PER_S: u32 = 10;

/// A reloaded configuration the roles have checked.
#[derive(Debug)]
pub struct Reload {
    lma: Option<crate::pmip6::LmaReload>,
    ha: Option<crate::mip4::HaReload>,
    dsmip6: Option<crate::dsmip6::Ha6Config>,
    overload: anchor_config::OverloadConfig,
}

/// The role modules and what they installed.
pub struct Signalling {
    lma: Option<Lma>,
    /// The Mobile IPv4 home agent (signalling/ha.rs).
    ha: Option<ha::HaGlue>,
    /// The DSMIPv6 home agent (signalling/dsmip6.rs).
    dsmip6: Option<dsmip6::Dsmip6Glue>,
    /// LMA session id → its addresses reserved in the HA's pools.
    lma_reserved_at_ha: HashMap<u32, ha::LmaReservation>,
    /// Home addresses answered for on home links (signalling/ha.rs).
    home_link: ha::HomeLink,
    /// LMA session id → forwarding binding id.
    installed: HashMap<u32, u32>,
    /// Port and Ethernet source of the last signalling frame from each peer:
    /// a reply goes back the way the request came even before the
    /// neighbour table has resolved the peer.
    came_from: HashMap<IpAddr, (usize, MacAddr)>,
    /// Frames that were not signalling for any role on, or that the codec refused.
    pub malformed: u64,
    pub unrouted: u64,
    /// Start of the current one-second window and Binding Errors sent in it.
    errors_window: (Instant, u32),
    /// The session store, once [`Signalling::restore`] attached it.
    store: Option<persist::Persistence>,
    /// Per-peer rate limits and the backlog of admitted messages.
    admission: overload::Admission,
}

impl Signalling {
    pub fn new(config: &Config, now: Instant) -> Signalling {
        let mut lma = Lma::new(config);
        if let Some(lma) = lma.as_mut() {
            // RFC 5847: the Restart Counter changes whenever the LMA restarts;
            // seconds since the epoch do (kept in a state file once bindings
            // survive restarts).
            let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(1, |d| d.as_secs());
            lma.set_restart_counter(u32::try_from(secs & 0xffff_ffff).unwrap_or(1));
            // Arms the periodic work (heartbeats); nothing is sent yet.
            let _ = lma.poll(now, SystemTime::now());
        }
        Signalling {
            lma,
            ha: ha::HaGlue::new(config),
            dsmip6: dsmip6::Dsmip6Glue::new(config),
            lma_reserved_at_ha: HashMap::new(),
            home_link: ha::HomeLink::default(),
            installed: HashMap::new(),
            came_from: HashMap::new(),
            malformed: 0,
            unrouted: 0,
            errors_window: (now, 0),
            store: None,
            admission: overload::Admission::new(&config.overload, now),
        }
    }

    pub fn lma(&self) -> Option<&Lma> {
        self.lma.as_ref()
    }

    /// Whether the Mobile IPv4 home agent role is on.
    pub fn has_ha(&self) -> bool {
        self.ha.is_some()
    }

    /// Whether the DSMIPv6 home agent role is on.
    pub fn has_dsmip6(&self) -> bool {
        self.dsmip6.is_some()
    }

    /// Takes received signalling frames in: those within their source's
    /// rate join the backlog ([`Signalling::work`] hands them on).
    pub fn admit(&mut self, frames: Vec<(usize, Vec<u8>)>, now: Instant) {
        if !frames.is_empty() {
            self.admission.offer(frames, now);
        }
    }

    /// Hands one pass's share of the backlog to the role modules; returns
    /// whether messages are left for the next pass.
    pub fn work<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) -> bool {
        let pass = self.admission.take_pass();
        if !pass.is_empty() {
            self.receive(pass, cp, fwd, config, now);
        }
        self.admission.pending()
    }

    /// Checks that the roles can take a reloaded configuration (one that
    /// [`crate::reload::refused`] let through); changes nothing. Apply
    /// what it returns with [`Signalling::apply_reload`].
    pub fn prepare_reload(&self, config: &Config) -> Result<Reload, String> {
        Ok(Reload {
            lma: self.lma.as_ref().map(|l| l.prepare_reload(config)).transpose()?,
            ha: self.ha.as_ref().map(|g| g.ha.prepare_reload(config)).transpose()?,
            dsmip6: match (&self.dsmip6, dsmip6::ha6_config(config)) {
                (Some(g), Some(cfg)) => {
                    g.ha.check_reload(&cfg)?;
                    Some(cfg)
                }
                (Some(_), None) => return Err("dsmip6: a role cannot be turned off while anchord runs".into()),
                _ => None,
            },
            overload: config.overload.clone(),
        })
    }

    /// Takes a prepared reload: the roles' new peers, keys, profiles,
    /// timers and pools, and the new overload limits. Sessions stay.
    pub fn apply_reload(&mut self, r: Reload, now: Instant) {
        if let (Some(lma), Some(new)) = (self.lma.as_mut(), r.lma) {
            lma.apply_reload(new, now);
        }
        if let (Some(glue), Some(new)) = (self.ha.as_mut(), r.ha) {
            glue.ha.apply_reload(new);
        }
        if let (Some(glue), Some(new)) = (self.dsmip6.as_mut(), r.dsmip6) {
            glue.ha.apply_reload(new);
        }
        self.admission.reconfigure(&r.overload);
    }

    /// `show stats` `overload`: what admission dropped and what waits.
    pub fn overload_stats_json(&self) -> Value {
        self.admission.stats_json()
    }

    /// Hands received signalling frames to the role modules.
    pub fn receive<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        frames: Vec<(usize, Vec<u8>)>,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        for (port, frame) in frames {
            if self.dsmip6.is_some() && dsmip6::is_dsmip6(&frame) {
                self.receive_dsmip6(port, &frame, cp, fwd, config, now);
                continue;
            }
            if mip4_io::is_mip4(&frame) {
                self.receive_mip4(port, &frame, cp, fwd, config, now);
                continue;
            }
            if mip4_io::is_keepalive(&frame) {
                self.receive_keepalive(port, &frame, cp, fwd, config, now);
                continue;
            }
            if self.lma.is_none() {
                self.malformed += 1;
                continue;
            }
            match mh_io::receive(&frame) {
                Ok(rx) => {
                    self.learn_peer(rx.src, port, &frame);
                    let Some(lma) = self.lma.as_mut() else { continue };
                    let out = lma.handle(rx, now, SystemTime::now());
                    self.apply(out, cp, fwd, config, now);
                }
                Err(RxError::Mh { error, src, dst, transport }) => {
                    self.malformed += 1;
                    tracing::debug!("mobility header from {src} refused: {error}");
                    // RFC 6275 §9.2: an unknown MH Type gets Binding Error
                    // status 2, to a unicast source only, rate limited.
                    if let Some(status) = error.binding_error_status() {
                        let unicast = match src {
                            IpAddr::V6(a) => !a.is_multicast() && !a.is_unspecified(),
                            IpAddr::V4(a) => !a.is_multicast() && !a.is_broadcast() && !a.is_unspecified(),
                        };
                        if unicast && self.binding_error_allowed(now) {
                            let msg = MhMessage::BindingError(BindingError {
                                status,
                                home_address: std::net::Ipv6Addr::UNSPECIFIED,
                            });
                            self.apply(vec![Output::Send { src: dst, dst: src, transport, msg }], cp, fwd, config, now);
                        }
                    }
                    // §2.1: a wrong Payload Proto or a Header Len below the
                    // type's minimum SHOULD get an ICMPv6 Parameter Problem
                    // pointing at the field (rate limited with the Binding
                    // Errors); over IPv4-UDP there is none.
                    if let Some(frame) = self.parameter_problem(port, &frame, &error, transport, cp, now) {
                        self.send_reply(cp, port, frame);
                    }
                }
                Err(RxError::NotMobility) => self.malformed += 1,
            }
        }
    }

    /// The ICMPv6 Parameter Problem for a refused Mobility Header over
    /// IPv6 (RFC 6275 §9.2), if one is due and the rate limit allows.
    fn parameter_problem<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        port: usize,
        frame: &[u8],
        error: &MhError,
        transport: Transport,
        cp: &ControlPlane<'_, P, R>,
        now: Instant,
    ) -> Option<Vec<u8>> {
        let at = error.parameter_problem_pointer()?;
        if !matches!(transport, Transport::Ipv6) || !self.binding_error_allowed(now) {
            return None;
        }
        // mh_io takes a Mobility Header only right after the fixed IPv6 header.
        let pointer = u32::try_from(40 + at).ok()?;
        icmp_error::build(frame, cp.port_addrs(port)?, IcmpError::ParameterProblem { pointer })
    }

    /// Role timers (lifetimes, deletion delays, retransmissions, heartbeats).
    pub fn poll<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        if let Some(lma) = self.lma.as_mut() {
            if lma.next_deadline().is_some_and(|d| d <= now) {
                let out = lma.poll(now, SystemTime::now());
                self.apply(out, cp, fwd, config, now);
            }
        }
        self.poll_mip4(cp, fwd, config, now);
        self.poll_dsmip6(cp, fwd, config, now);
        self.poll_home_link(cp, fwd, config, now);
    }

    /// `anchorctl clear binding <mn-id|address>`: revocation (RFC 5846).
    pub fn clear<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        what: &str,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) -> Result<Value, String> {
        // Each role clears what it has under that name; an error only when
        // neither had anything.
        let lma = match self.lma.as_mut() {
            Some(lma) => lma.revoke(what, now).map(|out| {
                self.apply(out, cp, fwd, config, now);
                json!({ "revoking": what })
            }),
            None => Err("the LMA role is not configured".to_string()),
        };
        let ha = self.clear_mip4(what, cp, fwd, config, now);
        match (lma, ha) {
            (Ok(l), Ok(h)) => Ok(json!({ "revoking": what, "pmip6": l, "mip4": h })),
            (Ok(v), Err(_)) | (Err(_), Ok(v)) => Ok(v),
            (Err(l), Err(h)) => Err(format!("{l}; {h}")),
        }
    }

    fn apply<P: Port, R: PuntRing<P::Buf>>(
        &mut self,
        outputs: Vec<Output>,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &mut Forwarding,
        config: &Config,
        now: Instant,
    ) {
        let mut hops_changed = false;
        for o in outputs {
            match o {
                Output::Send { src, dst, transport, msg } => {
                    // The MAG retransmits; by then its address is resolved.
                    let Some((port, src_mac, mac)) = self.egress(dst, cp, fwd, now) else {
                        self.unrouted += 1;
                        continue;
                    };
                    match mh_io::frame(src_mac, mac, src, dst, transport, &msg) {
                        Some(frame) => {
                            tracing::debug!(%src, %dst, mh_type = msg.mh_type(), port, "sending mobility header");
                            self.send_reply(cp, port, frame);
                        }
                        None => tracing::warn!(%src, %dst, "cannot frame a mobility header message"),
                    }
                }
                Output::Install(session) => {
                    self.lma_installed(session.id, session.ipv4_hoa.map(|(a, _, _)| a), &session.hnps);
                    let (binding, spec) = binding_of(&session, fwd, config);
                    match fwd.install(self.installed.get(&session.id).copied(), binding, spec, now) {
                        Ok(id) => {
                            self.installed.insert(session.id, id);
                            hops_changed = true;
                            if let Some((hoa, _, _)) = session.ipv4_hoa {
                                let owner = HomeLinkOwner::Lma(session.id);
                                self.home_link_claim(owner, IpAddr::V4(hoa), cp, config, now);
                            }
                        }
                        Err(e) => tracing::warn!(session = session.id, mn_id = %session.mn_id, "cannot install: {e}"),
                    }
                }
                Output::Remove { id } => {
                    self.lma_removed(id);
                    self.home_link_release(HomeLinkOwner::Lma(id), cp, now);
                    if let Some(fid) = self.installed.remove(&id) {
                        fwd.remove(fid, now);
                        hops_changed = true;
                    }
                }
            }
        }
        if hops_changed {
            cp.set_next_hops(fwd.wanted_neighbors());
        }
    }

    /// Port, our MAC and the next hop's MAC for a message to `dst`: the
    /// route's resolved next hop, else the neighbour table or the MAC the
    /// peer's last signalling frame came from (on the route's port). `None`
    /// (after starting resolution) when no MAC is known yet: the peer
    /// retransmits, and by then it is resolved.
    fn egress<P: Port, R: PuntRing<P::Buf>>(
        &self,
        dst: IpAddr,
        cp: &mut ControlPlane<'_, P, R>,
        fwd: &Forwarding,
        now: Instant,
    ) -> Option<(usize, MacAddr, MacAddr)> {
        let state = fwd.publisher().current();
        let (port, mac) = match state.egress(dst) {
            Ok(e) => (e.port, Some(e.dst)),
            Err(RouteMiss::Unresolved { port, ip }) => {
                let learned = self.came_from.get(&dst).filter(|(p, _)| *p == port).map(|(_, m)| *m);
                (port, cp.neighbors().lookup(port, ip).or(learned))
            }
            Err(RouteMiss::NoRoute) => return None,
        };
        let Some(mac) = mac else {
            if let Err(RouteMiss::Unresolved { port, ip }) = state.egress(dst) {
                cp.neighbors_mut().resolve(port, ip, now);
            }
            return None;
        };
        let src_mac = state.port_macs.get(port).copied()?;
        Some((port, src_mac, mac))
    }

    /// Remembers the port and Ethernet source of a signalling frame from `src`.
    fn learn_peer(&mut self, src: IpAddr, port: usize, frame: &[u8]) {
        if let Ok(eth) = dataplane::wire::ethernet::Frame::new_checked(frame) {
            if self.came_from.len() < MAX_PEERS_REMEMBERED || self.came_from.contains_key(&src) {
                self.came_from.insert(src, (port, eth.src_addr()));
            }
        }
    }

    /// `show bindings` rows of the signalled sessions.
    pub fn bindings_json(&self, now: Instant) -> Vec<Value> {
        let mut rows = self.lma_bindings_json(now);
        rows.extend(self.mip4_bindings_json(now));
        rows.extend(self.dsmip6_bindings_json(now));
        rows
    }

    fn lma_bindings_json(&self, now: Instant) -> Vec<Value> {
        let Some(lma) = &self.lma else { return Vec::new() };
        lma.sessions()
            .map(|s| {
                let (key_in, key_out) = match s.encap {
                    Encap::Gre { key_up, key_down } => (key_up, key_down),
                    Encap::UdpTlv { key_up, key_down, .. } => (Some(key_up), Some(key_down)),
                    _ => (None, None),
                };
                json!({
                    "id": self.installed.get(&s.id),
                    "session": s.id,
                    "mn_id": &*s.mn_id,
                    "role": "pmip6",
                    "state": s.state.name(),
                    "ipv4_hoa": s.ipv4_hoa.map(|(a, _, _)| a.to_string()),
                    "ipv4_prefix_len": s.ipv4_hoa.map(|(_, l, _)| l),
                    "ipv4_default_router": s.ipv4_hoa.map(|(_, _, r)| r.to_string()),
                    "hnps": s.hnps.iter().map(|p| format!("{p}/64")).collect::<Vec<_>>(),
                    "ipv6_hoa": Value::Null,
                    "coa": s.proxy_coa.to_string(),
                    "local": s.local.to_string(),
                    "tunnel": s.encap.name(),
                    "gre_key_in": key_in,
                    "gre_key_out": key_out,
                    "att": s.att,
                    "lifetime_left_s": s.expires.saturating_duration_since(now).as_secs(),
                })
            })
            .collect()
    }

    /// At most BINDING_ERRORS_PER_S Binding Errors a second (RFC 6275 §9.2:
    /// rate limited like ICMPv6).
    fn binding_error_allowed(&mut self, now: Instant) -> bool {
        let second = now.checked_duration_since(self.errors_window.0).is_some_and(|d| d.as_secs() < 1);
        if !second {
            self.errors_window = (now, 0);
        }
        self.errors_window.1 += 1;
        self.errors_window.1 <= BINDING_ERRORS_PER_S
    }

    /// LMA counters for `show stats`.
    /// Adds the LMA's sessions and the home agent's bindings to `counts`
    /// by (role, state); each role that is on lists its states even at 0.
    pub fn count_sessions(&self, counts: &mut std::collections::BTreeMap<(&'static str, &'static str), u64>) {
        if let Some(lma) = &self.lma {
            for state in crate::pmip6::SessionState::ALL {
                counts.entry(("pmip6", state.name())).or_default();
            }
            for s in lma.sessions() {
                *counts.entry(("pmip6", s.state.name())).or_default() += 1;
            }
        }
        self.count_ha_bindings(counts);
        self.count_dsmip6(counts);
    }

    pub fn stats_json(&self) -> Value {
        let Some(lma) = &self.lma else { return Value::Null };
        let c = lma.counters();
        json!({
            "sessions": lma.sessions().count(),
            "pbu_received": c.pbu_received,
            "pba_sent": c.pba_sent.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "dropped_unlisted_peer": c.dropped_unlisted_peer,
            "malformed": c.malformed + self.malformed,
            "pbu_ignored": c.pbu_ignored,
            "sessions_created": c.sessions_created,
            "handoffs": c.handoffs,
            "deregistrations": c.deregistrations,
            "sessions_deleted": c.sessions_deleted,
            "sessions_expired": c.sessions_expired,
            "heartbeat_requests_sent": c.heartbeat_requests_sent,
            "heartbeat_responses_received": c.heartbeat_responses_received,
            "heartbeat_peer_failures": c.heartbeat_peer_failures,
            "bri_sent": c.bri_sent,
            "bra_received": c.bra_received,
            "shadows_created": c.shadows_created,
            "shadows_activated": c.shadows_activated,
            "shadows_revoked": c.shadows_revoked,
            "not_proxy": c.not_proxy,
            "pbu_held": c.pbu_held,
            "pbu_absorbed": c.pbu_absorbed,
            "heartbeat_requests_received": c.heartbeat_requests_received,
            "heartbeat_responses_sent": c.heartbeat_responses_sent,
            "heartbeat_peer_restarts": c.heartbeat_peer_restarts,
            "bri_retransmitted": c.bri_retransmitted,
            "bri_exhausted": c.bri_exhausted,
            "bra_unknown": c.bra_unknown,
            "bri_received": c.bri_received,
            "bra_sent": c.bra_sent,
            "binding_errors_received": c.binding_errors_received,
            "unexpected": c.unexpected,
            "unrouted_replies": self.unrouted,
        })
    }
}

/// The forwarding binding and tunnel of a signalled session.
fn binding_of(s: &Session, fwd: &Forwarding, config: &Config) -> (Binding, TunnelSpec) {
    let (kind, key_in, key_out, local_port, peer_port) = match s.encap {
        Encap::IpIp => (TunnelKind::IpIp, None, None, 0, 0),
        Encap::Gre { key_up, key_down } => (TunnelKind::Gre, key_up, key_down, 0, 0),
        Encap::Udp { mag_port } => (TunnelKind::Udp, None, None, PMIP6_DATA_PORT, mag_port),
        Encap::UdpTlv { mag_port, key_up, key_down } => {
            (TunnelKind::UdpTlv, Some(key_up), Some(key_down), PMIP6_DATA_PORT, mag_port)
        }
    };
    let port = fwd.port_towards(s.proxy_coa).unwrap_or(0);
    let path_mtu = config.ports.get(port).map_or(1500, |p| config.tunnel.path_mtu(p));
    let spec = TunnelSpec {
        kind,
        local: s.local,
        remote: s.proxy_coa,
        key_in,
        key_out,
        local_port,
        peer_port,
        port,
        dscp: None,
        ttl: config.tunnel.ttl,
        ecn_compat: config.tunnel.ecn == EcnMode::Compat,
        path_mtu,
        ipv6_over_ipv4_mtu: config.tunnel.ipv6_over_ipv4_mtu,
        nested: false,
    };
    let binding = Binding {
        id: 0,
        mn_id: s.mn_id.to_string(),
        role: "pmip6",
        vrf: 0,
        ipv4_hoa: s.ipv4_hoa.map(|(a, _, _)| a),
        hnps: s.hnps.iter().map(|p| (*p, 64)).collect(),
        ipv6_hoa: None,
        tunnel: 0,
        expires: Some(s.expires),
        state: s.state.name(),
    };
    (binding, spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The top-level field names of a struct's `Debug` output.
    fn fields(debug: &str) -> Vec<String> {
        let inner = debug.split_once('{').map(|(_, r)| r).unwrap_or_default();
        let (mut depth, mut names, mut word) = (0, Vec::new(), String::new());
        for ch in inner.chars() {
            match ch {
                '{' | '[' | '(' => depth += 1,
                '}' | ']' | ')' => depth -= 1,
                ':' if depth == 0 => names.push(std::mem::take(&mut word).trim().to_string()),
                ',' if depth == 0 => word.clear(),
                c if depth == 0 => word.push(c),
                _ => {}
            }
        }
        names
    }

    /// Every counter a role keeps is in `show stats` under its own name: a
    /// silent drop that moves a counter the operator cannot see looks like
    /// no drop at all (the bad-input suite found `missing_ipv4_coa`,
    /// `not_proxy` and others missing).
    #[test]
    fn show_stats_has_every_counter_of_each_role() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo.toml");
        let config = anchor_config::load(&path).expect("config/demo.toml loads");
        let s = Signalling::new(&config, Instant::now());
        let roles = [
            ("lma", format!("{:?}", s.lma().map(|l| l.counters().clone()).unwrap_or_default()), s.stats_json()),
            (
                "ha",
                format!("{:?}", s.ha.as_ref().map(|g| g.ha.counters().clone()).unwrap_or_default()),
                s.ha_stats_json(),
            ),
            (
                "dsmip6",
                format!("{:?}", s.dsmip6.as_ref().map(|g| g.ha.counters().clone()).unwrap_or_default()),
                s.dsmip6_stats_json(),
            ),
        ];
        for (role, debug, json) in roles {
            let names = fields(&debug);
            assert!(names.len() > 10, "{role}: {names:?} from {debug}");
            for name in names {
                assert!(json.get(&name).is_some(), "{role}: counter {name} is not in show stats: {json}");
            }
        }
    }
}
