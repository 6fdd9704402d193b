//! Registration Request processing at the home agent: the validity checks
//! of RFC 5944 §3.8 in the order of PROTOCOLS.md §8.7, the replay check of
//! §8.6, the encapsulation and UDP tunnelling decisions (§8.11–§8.13),
//! dynamic home agents (§8.10), DSMIPv4 prefixes (§9.2), proxy
//! registrations (§10), and the reply (§8.3, §8.5 extension order).

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anchor_config::{FaPeer, MnSecurityAssociation, Profile, ReverseTunnelPolicy};
use dataplane::tunnel::TunnelKind;

use super::auth::{self, SealKey};
use super::ext::{
    draft01_code, per_node_auth, prefix_code, udp_reply, udp_request_flags, AuthKind, Extension, REVOCATION_SUPPORT_I,
};
use super::wire::{code, rrq_flags, Message, Rrp, Rrq};
use super::{nai_text, ntp_of, Binding, Ha, Output, PendingDad, Received, RevocationPeer, Role, Tunnel};

/// Length of every DSMIPv4 prefix we grant.
const PREFIX_LEN: u8 = 64;
/// RFC 5454: prefix length 255 carries a link-local address.
const LINK_LOCAL_PREFIX_LEN: u8 = 255;
/// Lifetime value meaning "infinite".
const INFINITE: u16 = 0xffff;
/// RFC 3519 Encapsulation values.
const ENCAP_FOLLOW_FLAGS: u8 = 0;
const ENCAP_IP_IN_IP: u8 = 4;

/// How a request was authorised (§8.7 step 2).
#[derive(Debug, Clone)]
enum Authority {
    /// A valid MN-HA extension under one of the node's associations.
    Mn,
    /// RFC 5563 per-node authentication: a valid FA-HA extension and a
    /// Per-Node Authentication Method extension naming FA-HA.
    PerNode,
}

/// What every reply to one request needs.
#[derive(Debug, Clone)]
struct ReplyTo {
    /// Our address: the request's destination, or ours when it went to a
    /// broadcast address.
    src: Ipv4Addr,
    dst: Ipv4Addr,
    dst_port: u16,
    /// The request's NAI: the reply carries it too (§8.8).
    nai: Option<Vec<u8>>,
    /// Seals the reply's MN-HA extension.
    mn_sa: Option<MnSecurityAssociation>,
    /// Seals the reply's FA-HA extension (§8.5: both directions when we
    /// share an association with the foreign agent).
    fa: Option<FaPeer>,
    /// Per-node authentication: the reply carries the method too (§10.2).
    per_node: bool,
    /// The request's DSMIPv4 extensions came in the draft -01 layout under
    /// this type: the reply's come back in it.
    draft01: Option<u8>,
}

/// The request's extensions, sorted out by position (§8.5: what an FA
/// appends comes after the MN-HA extension, and only extensions before
/// the last authenticator that covers them are trusted).
#[derive(Debug, Default)]
struct Sorted {
    mn_ha: Option<usize>,
    fa_ha: Option<usize>,
    fa_ha_count: usize,
    nai: Option<Vec<u8>>,
    /// CVSEs: (index, placed by the mobile node).
    cvse: Option<bool>,
    /// UDP Tunnel Request: (flags, encapsulation, reserved3, placed by the MN).
    udp: Option<(u8, u8, u16, bool)>,
    gre_key: Option<u32>,
    /// Revocation Support: (flags, placed by the mobile node).
    revocation_support: Option<(u16, bool)>,
    requested_ha: Option<Ipv4Addr>,
    per_node_method: Option<u8>,
    pmip4: bool,
    att: Option<u8>,
    interface_id: Option<Vec<u8>>,
    device_id: Option<(u8, Vec<u8>)>,
    subscriber_id: Option<(u8, Vec<u8>)>,
    prefix_requests: Vec<(u8, Ipv6Addr)>,
    tunneling_mode: bool,
}

impl Sorted {
    fn of(extensions: &[Extension]) -> Sorted {
        let mut s = Sorted {
            mn_ha: extensions.iter().position(|e| matches!(e, Extension::Auth { kind: AuthKind::MnHa, .. })),
            ..Sorted::default()
        };
        let after_mn = s.mn_ha.map_or(0, |i| i + 1);
        s.fa_ha = extensions
            .iter()
            .enumerate()
            .skip(after_mn)
            .find(|(_, e)| matches!(e, Extension::Auth { kind: AuthKind::FaHa, .. }))
            .map(|(i, _)| i);
        s.fa_ha_count = extensions.iter().filter(|e| matches!(e, Extension::Auth { kind: AuthKind::FaHa, .. })).count();
        // Nothing after the last authenticator is trusted.
        let end = s.fa_ha.or(s.mn_ha).unwrap_or(extensions.len());
        for (i, e) in extensions.iter().enumerate().take(end) {
            let by_mn = s.mn_ha.is_some_and(|m| i < m);
            match e {
                // §8.8: the NAI precedes the authentication extension.
                Extension::Nai(n) if s.nai.is_none() => s.nai = Some(n.clone()),
                Extension::Cvse { .. } if s.cvse.is_none() => s.cvse = Some(by_mn),
                Extension::UdpTunnelRequest { flags, encapsulation, reserved3, .. } if s.udp.is_none() => {
                    s.udp = Some((*flags, *encapsulation, *reserved3, by_mn))
                }
                Extension::GreKey(k) if s.gre_key.is_none() => s.gre_key = Some(*k),
                Extension::RevocationSupport { flags, .. } if s.revocation_support.is_none() => {
                    s.revocation_support = Some((*flags, by_mn))
                }
                Extension::DynamicHa { subtype: 1, addr } if s.requested_ha.is_none() => s.requested_ha = Some(*addr),
                Extension::PerNodeAuthMethod(m) => {
                    s.per_node_method.get_or_insert(*m);
                    s.pmip4 = true;
                }
                Extension::AccessTechnology(t) => {
                    s.att.get_or_insert(*t);
                    s.pmip4 = true;
                }
                Extension::InterfaceId(id) => {
                    s.interface_id.get_or_insert_with(|| id.clone());
                    s.pmip4 = true;
                }
                Extension::DeviceId { id_type, id } => {
                    s.device_id.get_or_insert_with(|| (*id_type, id.clone()));
                    s.pmip4 = true;
                }
                Extension::SubscriberId { id_type, id } => {
                    s.subscriber_id.get_or_insert_with(|| (*id_type, id.clone()));
                    s.pmip4 = true;
                }
                // §9.1: DSMIPv4 extensions precede MN-HA (placed by the MN).
                Extension::Ipv6PrefixRequest { prefix_len, prefix } if by_mn => {
                    s.prefix_requests.push((*prefix_len, *prefix))
                }
                Extension::Ipv6TunnelingMode if by_mn => s.tunneling_mode = true,
                _ => {}
            }
        }
        s
    }
}

/// The tunnel decided for a registration (§8.11–§8.13), before keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TunnelChoice {
    gre: bool,
    /// UDP tunnelling granted: reply code of the UDP Tunnel Reply, F echo.
    udp: Option<UdpGrant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UdpGrant {
    /// Tunnel (true) or declined (false): the UDP Tunnel Reply's code.
    tunnel: bool,
    forced: bool,
    /// R = 1: wait for the mobile node's keepalive.
    wait_keepalive: bool,
    /// The request was placed by the mobile node (before MN-HA).
    by_mn: bool,
}

impl Ha {
    /// A Registration Request (§8.7). Checks run in order; the first
    /// failure decides the reply (or the silent discard).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_rrq(
        &mut self,
        rx: &Received,
        rrq: Rrq,
        offsets: &[usize],
        draft01: Option<u8>,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        let s = Sorted::of(&rrq.extensions);
        // Our address in replies: a request to a broadcast address is
        // answered from our unicast address (§8.1).
        let ours = self.cfg.address;
        let mut to = ReplyTo {
            src: if rx.dst == ours { rx.dst } else { ours },
            dst: rx.src,
            dst_port: rx.src_port,
            nai: s.nai.clone(),
            mn_sa: None,
            fa: None,
            per_node: false,
            draft01,
        };
        let reject = |ha: &mut Ha, out: &mut Vec<Output>, to: &ReplyTo, code: u8| {
            ha.reply(out, to, code, 0, rrq.home_address, rrq.identification, Vec::new(), Vec::new());
        };

        // The mobile node's identity: its NAI, else the profile whose
        // static home address the request names.
        let mn_id: Option<String> =
            s.nai.as_deref().map(nai_text).or_else(|| self.static_owner.get(&rrq.home_address).cloned());

        // §8.7 step 4 (second half): an FA-HA extension from a foreign agent
        // we share no association with → discard.
        let fa = self.fas.get(&rx.src).cloned();
        if fa.is_none() && s.fa_ha_count > 0 {
            self.counters.no_security_association += 1;
            return;
        }
        let fa_valid = match (&fa, s.fa_ha) {
            (Some(fa), Some(i)) => self.auth_ok(rx, &rrq.extensions, offsets, i, fa.spi, fa.algorithm, &fa.key),
            _ => false,
        };
        to.fa = fa.clone();

        // §8.7 step 2: an authorisation-enabling extension must be there.
        let authority = match s.mn_ha {
            Some(i) => {
                let Some(sas) = mn_id.as_deref().and_then(|id| self.sas.get(id)).cloned() else {
                    // No association with this mobile node: silent discard.
                    self.counters.no_security_association += 1;
                    return;
                };
                let Some(Extension::Auth { spi, .. }) = rrq.extensions.get(i) else { return };
                let sa = sas.iter().find(|sa| sa.spi == *spi);
                // The reply carries a valid MN-HA under the request's SPI, or
                // the node's first association when that SPI is unknown.
                to.mn_sa = sa.or(sas.first()).cloned();
                match sa {
                    Some(sa) if self.auth_ok(rx, &rrq.extensions, offsets, i, sa.spi, sa.algorithm, &sa.key) => {
                        Authority::Mn
                    }
                    _ => {
                        // Bad authenticator or unknown SPI → 131 (MUST with a
                        // valid FA-HA, MAY otherwise: we always answer), a
                        // security event.
                        self.counters.auth_failures += 1;
                        let mn = mn_id.as_deref().unwrap_or("?");
                        tracing::warn!(src = %rx.src, mn, spi, "mobile node failed authentication");
                        reject(self, out, &to, code::HA_MN_FAILED_AUTHENTICATION);
                        return;
                    }
                }
            }
            None => {
                // RFC 5563 per-node authentication: FA-HA and the method.
                if s.per_node_method != Some(per_node_auth::FA_HA) || fa.is_none() || s.fa_ha.is_none() {
                    self.counters.no_security_association += 1;
                    return;
                }
                to.per_node = true;
                if !fa_valid {
                    self.counters.auth_failures += 1;
                    tracing::warn!(src = %rx.src, "proxy mobility agent failed authentication");
                    reject(self, out, &to, code::HA_FA_FAILED_AUTHENTICATION);
                    return;
                }
                Authority::PerNode
            }
        };
        let Some(mn_id) = mn_id else {
            // Per-node authentication names the mobile node by NAI only.
            self.counters.no_security_association += 1;
            return;
        };
        let key = (mn_id.clone(), s.att.filter(|_| s.pmip4));
        let existing = self.by_mn.get(&key).copied();

        // §8.7 step 3 / §8.6: Identification. A repeat of the last accepted
        // request is a retransmission: answered again, not extended.
        if let Some(b) = existing.and_then(|id| self.bindings.get(&id)) {
            if rrq.lifetime != 0 && b.identification == rrq.identification && b.coa == rrq.care_of {
                let b = b.clone();
                self.counters.retransmissions += 1;
                self.accept_reply(out, &to, &rrq, &s, &b, now, None);
                return;
            }
        }
        let last = self.last_id.get(&mn_id).copied();
        if !self.identification_ok(rrq.identification, last, wall) {
            self.counters.replays += 1;
            let ours = (ntp_of(wall) & !0xffff_ffff) | (rrq.identification & 0xffff_ffff);
            self.reply(out, &to, code::HA_IDENTIFICATION_MISMATCH, 0, rrq.home_address, ours, Vec::new(), Vec::new());
            return;
        }

        // §8.7 step 4: a foreign agent we share an association with must
        // send exactly one valid FA-HA (not required on de-registrations).
        if fa.is_some() && !matches!(authority, Authority::PerNode) {
            let absent_ok = rrq.lifetime == 0 && s.fa_ha_count == 0;
            if !absent_ok && (s.fa_ha_count != 1 || !fa_valid) {
                self.counters.auth_failures += 1;
                tracing::warn!(src = %rx.src, "foreign agent failed authentication");
                reject(self, out, &to, code::HA_FA_FAILED_AUTHENTICATION);
                return;
            }
        }

        // §8.7 step 5: sent to a home subnet's directed broadcast → 136
        // with our unicast address.
        if self.home_broadcasts.contains(&rx.dst) {
            reject(self, out, &to, code::HA_UNKNOWN_HOME_AGENT_ADDRESS);
            return;
        }
        // Step 6 and RFC 4433 (§8.10): the Home Agent field is us, or
        // ALL-ZERO-ONE-ADDR asking for a home agent.
        let dynamic_ha = rrq.home_agent == Ipv4Addr::UNSPECIFIED || rrq.home_agent == Ipv4Addr::BROADCAST;
        if !dynamic_ha && rrq.home_agent != ours {
            reject(self, out, &to, code::HA_UNKNOWN_HOME_AGENT_ADDRESS);
            return;
        }
        if s.requested_ha.is_some_and(|a| a != rx.dst) {
            reject(self, out, &to, code::HA_UNKNOWN_HOME_AGENT_ADDRESS);
            return;
        }
        // Step 7: non-zero reserved fields (the r and x flag bits are
        // ignored, §14 #13): RFC 3519 Reserved 3.
        if s.udp.is_some_and(|(_, _, reserved3, _)| reserved3 != 0) {
            reject(self, out, &to, code::HA_POORLY_FORMED_REQUEST);
            return;
        }
        // RFC 3115: we understand no vendor's critical extension.
        if let Some(by_mn) = s.cvse {
            let c = if by_mn { code::HA_CVSE_FROM_MN_NOT_UNDERSTOOD } else { code::HA_CVSE_FROM_FA_NOT_UNDERSTOOD };
            reject(self, out, &to, c);
            return;
        }

        // §10: proxy registrations.
        let proxy = matches!(authority, Authority::PerNode) || s.pmip4;
        if proxy && !self.cfg.pmip4 {
            reject(self, out, &to, code::PMIP_UNSUPPORTED);
            return;
        }
        if proxy && !fa.as_ref().is_some_and(|f| f.proxy) {
            reject(self, out, &to, code::PMIP_DISALLOWED);
            return;
        }
        // Administrative policy (step 9): the profile.
        let profile = match (&authority, self.profile(&mn_id).cloned()) {
            (_, Some(p)) => p,
            // A mobile node with an association needs no profile.
            (Authority::Mn, None) => Profile::default(),
            (Authority::PerNode, None) => {
                reject(self, out, &to, code::HA_ADMINISTRATIVELY_PROHIBITED);
                return;
            }
        };
        if !profile.mip4 || !profile.ipv4 {
            reject(self, out, &to, code::HA_ADMINISTRATIVELY_PROHIBITED);
            return;
        }

        if rrq.lifetime == 0 {
            self.deregister(out, &to, &rrq, &s, existing, &mn_id);
            return;
        }

        // Step 8: encapsulation.
        let choice = match self.tunnel_choice(rx, &rrq, &s) {
            Ok(c) => c,
            Err(c) => {
                reject(self, out, &to, c);
                return;
            }
        };

        // Step 9: the home address and resources.
        let old = existing.and_then(|id| self.bindings.get(&id)).cloned();
        // draft -01 (PROTOCOLS.md §9.3): IPv6 home addresses on the home
        // link go through duplicate address detection first; the request
        // is run again, and answered, when the results are in.
        if draft01.is_some() && profile.ipv6 && self.cfg.dsmip4 {
            let wanted = self.dad_wanted(&s, old.as_ref());
            if !wanted.is_empty() {
                self.await_dad(rx, &rrq, &mn_id, wanted, now, out);
                return;
            }
        }
        if old.is_none() && self.bindings.len() >= self.cfg.max_bindings as usize {
            match self.cfg.redirect_to.filter(|_| dynamic_ha) {
                Some(other) => {
                    // RFC 4433: 143 with the alternative in a Redirected HA
                    // extension (mandatory with 143).
                    let redirect = vec![Extension::DynamicHa { subtype: 2, addr: other }];
                    self.reply(out, &to, code::HA_REDIRECT, 0, rrq.home_address, rrq.identification, redirect, vec![]);
                }
                None => reject(self, out, &to, code::HA_INSUFFICIENT_RESOURCES),
            }
            return;
        }
        let hoa = match self.home_address(&rrq, &profile, &mn_id, old.as_ref()) {
            Ok(a) => a,
            Err(c) => {
                reject(self, out, &to, c);
                return;
            }
        };
        let taken = old.as_ref().is_none_or(|b| b.hoa != hoa);

        // Tunnel and keys.
        let key_in = match (choice.gre && s.gre_key.is_some(), old.as_ref().and_then(|b| b.tunnel.key_in)) {
            (false, _) => None,
            (true, Some(k)) => Some(k),
            (true, None) => match self.keys.allocate().and_then(|k| u32::try_from(k).ok()) {
                Some(k) => Some(k),
                None => {
                    if taken {
                        self.hoas.release(hoa);
                    }
                    reject(self, out, &to, code::HA_INSUFFICIENT_RESOURCES);
                    return;
                }
            },
        };
        // §8.11: key 0 from the FA asks us to assign; ours serves both ways.
        let key_out = s.gre_key.filter(|_| choice.gre).map(|k| if k == 0 { key_in.unwrap_or(0) } else { k });
        let udp = choice.udp.filter(|u| u.tunnel);
        let tunnel = Tunnel {
            kind: match (udp.is_some(), choice.gre) {
                (true, _) => TunnelKind::MipUdp,
                (false, true) => TunnelKind::Gre,
                (false, false) => TunnelKind::IpIp,
            },
            local: ours,
            remote: if udp.is_some() { rx.src } else { rrq.care_of },
            key_in,
            key_out,
            peer_port: if udp.is_some() { rx.src_port } else { 0 },
        };

        // §9.2: DSMIPv4 prefixes (and draft -01 home addresses).
        let (prefixes, home_address6, prefix_replies) =
            self.prefixes_for(&rrq, &s, &profile, old.as_ref(), draft01.is_some());

        // Lifetime: at most what was asked, our cap and the profile's.
        let cap = profile.max_lifetime.map_or(self.cfg.max_lifetime, |p| p.min(self.cfg.max_lifetime));
        let asked = if rrq.lifetime == INFINITE { u64::MAX } else { u64::from(rrq.lifetime) };
        let granted = Duration::from_secs(asked.min(cap.as_secs()).min(u64::from(INFINITE - 1)));

        // RFC 3543: who advertised revocation support — a foreign agent we
        // share an association with (after MN-HA), or a co-located mobile
        // node (before MN-HA). Revocations go to the request's source.
        let revocation = match s.revocation_support.filter(|_| self.cfg.revocation) {
            Some((flags, by_mn)) if by_mn || fa.is_some() => {
                Some(RevocationPeer { addr: rx.src, via_fa: !by_mn, i_bit: flags & REVOCATION_SUPPORT_I != 0 })
            }
            _ => None,
        };

        let role = if proxy {
            Role::Pmip4
        } else if self.cfg.dsmip4 && !s.prefix_requests.is_empty() {
            Role::Dsmip4
        } else {
            Role::Mip4
        };
        let (prefix_len, router) = self.hoas.lookup(hoa).map_or((32, None), |(l, r)| (l, Some(r)));
        let binding = Binding {
            id: old.as_ref().map_or_else(|| self.new_id(), |b| b.id),
            mn_id: old.as_ref().map_or_else(|| Arc::from(mn_id.as_str()), |b| b.mn_id.clone()),
            role,
            hoa,
            hoa_prefix_len: prefix_len,
            default_router: router,
            coa: rrq.care_of,
            registered_from: (rx.src, rx.src_port),
            tunnel,
            awaiting_keepalive: udp.is_some_and(|u| u.wait_keepalive),
            reverse_tunnel: rrq.flags & rrq_flags::T != 0,
            prefixes,
            ipv6_to_coa: s.tunneling_mode && rrq.flags & rrq_flags::D != 0,
            home_address6,
            lifetime: granted,
            expires: now + granted,
            identification: rrq.identification,
            att: key.1,
            interface_id: s.interface_id.clone(),
            device_id: s.device_id.clone(),
            subscriber_id: s.subscriber_id.clone(),
            revocation,
        };
        self.last_id.insert(mn_id.clone(), rrq.identification);

        // Outcomes: a new binding, a renewal, or a move (handoff).
        match &old {
            None => {
                self.counters.bindings_created += 1;
                if !binding.awaiting_keepalive {
                    out.push(Output::Install(binding.clone()));
                }
            }
            Some(o) => {
                // Resources the old binding had and the new one does not.
                if o.hoa != binding.hoa {
                    self.hoas.release(o.hoa);
                }
                for p in o.prefixes.iter().filter(|p| !binding.prefixes.contains(p)) {
                    self.prefixes.release(*p);
                }
                if let Some(k) = o.tunnel.key_in.filter(|k| binding.tunnel.key_in != Some(*k)) {
                    self.keys.release(u64::from(k));
                }
                let moved = o.registered_from.0 != binding.registered_from.0 || o.coa != binding.coa;
                if moved {
                    self.counters.handoffs += 1;
                    // §10.4 / RFC 3543: the old peer learns its binding went.
                    if let Some(peer) = o.revocation.filter(|p| p.addr != rx.src) {
                        self.send_revocation(o, peer, now, wall, out);
                    }
                } else {
                    self.counters.renewals += 1;
                }
                let changed = o.tunnel != binding.tunnel
                    || o.prefixes != binding.prefixes
                    || o.home_address6 != binding.home_address6
                    || o.ipv6_to_coa != binding.ipv6_to_coa
                    || o.hoa != binding.hoa
                    || o.awaiting_keepalive != binding.awaiting_keepalive;
                if binding.awaiting_keepalive {
                    if !o.awaiting_keepalive {
                        out.push(Output::Remove { id: o.id });
                    }
                } else if changed {
                    out.push(Output::Install(binding.clone()));
                }
            }
        }
        self.replace_binding(binding.clone());
        self.accept_reply(out, &to, &rrq, &s, &binding, now, Some((choice, prefix_replies)));
    }

    /// Whether the authentication extension at `index` verifies under the
    /// association (`spi`, `alg`, `key`).
    #[allow(clippy::too_many_arguments)]
    fn auth_ok(
        &self,
        rx: &Received,
        extensions: &[Extension],
        offsets: &[usize],
        index: usize,
        spi: u32,
        alg: auth::Algorithm,
        key: &[u8],
    ) -> bool {
        let Some(Extension::Auth { spi: given, authenticator, .. }) = extensions.get(index) else { return false };
        let Some(covered) = offsets.get(index).and_then(|&at| auth::covered(&rx.payload, at)) else { return false };
        *given == spi && auth::verify(alg, key, covered, authenticator)
    }

    /// §8.6 timestamps: within the tolerance of our clock and newer than
    /// the last accepted one.
    fn identification_ok(&self, id: u64, last: Option<u64>, wall: SystemTime) -> bool {
        let now = ntp_of(wall);
        let tolerance = self.cfg.replay_tolerance.as_secs() << 32;
        // NTP seconds wrap in 2036: compare as a signed difference.
        let diff = (id.wrapping_sub(now) as i64).unsigned_abs();
        diff <= tolerance && last.is_none_or(|l| (id.wrapping_sub(l) as i64) > 0)
    }

    /// §8.11–§8.13 and RFC 3519: the tunnel, or the code refusing it.
    fn tunnel_choice(&self, rx: &Received, rrq: &Rrq, s: &Sorted) -> Result<TunnelChoice, u8> {
        let flag = |f: u8| rrq.flags & f != 0;
        // Minimal encapsulation is not in our data plane.
        if flag(rrq_flags::M) {
            return Err(code::HA_ENCAPSULATION_UNAVAILABLE);
        }
        let gre = flag(rrq_flags::G) || s.gre_key.is_some();
        if gre && !self.cfg.gre {
            return Err(code::HA_ENCAPSULATION_UNAVAILABLE);
        }
        match self.cfg.reverse_tunnel {
            ReverseTunnelPolicy::Disabled if flag(rrq_flags::T) => return Err(code::HA_REVERSE_TUNNEL_UNAVAILABLE),
            ReverseTunnelPolicy::Required if !flag(rrq_flags::T) => return Err(code::HA_REVERSE_TUNNEL_MANDATORY),
            _ => {}
        }
        let Some((flags, encapsulation, _, by_mn)) = s.udp else { return Ok(TunnelChoice { gre, udp: None }) };
        // RFC 3519: an MN-placed request needs D = 1, an FA-placed one D = 0.
        if by_mn != flag(rrq_flags::D) {
            return Err(code::HA_POORLY_FORMED_REQUEST);
        }
        let nat = rx.src != rrq.care_of;
        let forced = flags & udp_request_flags::F != 0;
        if !nat && !forced {
            // No NAT and no F: decline, tunnel as usual.
            let udp = UdpGrant { tunnel: false, forced: false, wait_keepalive: false, by_mn };
            return Ok(TunnelChoice { gre, udp: Some(udp) });
        }
        // We carry IP in UDP only: GRE- and minimal-in-UDP are unavailable.
        let ip_in_udp = match encapsulation {
            ENCAP_FOLLOW_FLAGS => !gre,
            ENCAP_IP_IN_IP => true,
            _ => false,
        };
        if !ip_in_udp {
            return Err(code::HA_UDP_ENCAPSULATION_UNAVAILABLE);
        }
        if !self.cfg.udp_tunnel || (forced && !nat && !self.cfg.udp_tunnel_force) {
            return Err(code::HA_ADMINISTRATIVELY_PROHIBITED);
        }
        let wait_keepalive = flags & udp_request_flags::R != 0;
        Ok(TunnelChoice { gre: false, udp: Some(UdpGrant { tunnel: true, forced, wait_keepalive, by_mn }) })
    }

    /// The home address of a registration (§8.7 "Dynamic HoA", RFC 2794),
    /// taken from the pool when new; `Err` is the reply code.
    fn home_address(
        &mut self,
        rrq: &Rrq,
        profile: &Profile,
        mn_id: &str,
        old: Option<&Binding>,
    ) -> Result<Ipv4Addr, u8> {
        let asked = rrq.home_address;
        if let Some(b) = old {
            // A renewal keeps its address; another one is refused.
            return if asked.is_unspecified() || asked == b.hoa {
                Ok(b.hoa)
            } else {
                Err(code::HA_ADMINISTRATIVELY_PROHIBITED)
            };
        }
        if let Some(fixed) = profile.static_ipv4_hoa {
            if !asked.is_unspecified() && asked != fixed {
                return Err(code::HA_ADMINISTRATIVELY_PROHIBITED);
            }
            // Inside our pools it is reserved; outside them (a subnet the
            // home agent does not allocate from) it only must be free here.
            let free = match self.hoas.lookup(fixed) {
                Some(_) => self.hoas.reserve(fixed),
                None => !self.by_hoa.contains_key(&fixed),
            };
            return if free { Ok(fixed) } else { Err(code::HA_ADMINISTRATIVELY_PROHIBITED) };
        }
        if asked.is_unspecified() {
            return self.hoas.allocate().map(|(a, _, _)| a).ok_or(code::HA_INSUFFICIENT_RESOURCES);
        }
        // A requested address: one of our dynamic addresses, free, and not
        // another node's static one.
        let other_static = self.static_owner.get(&asked).is_some_and(|owner| owner != mn_id);
        if !other_static && self.hoas.is_dynamic(asked) && self.hoas.reserve(asked) {
            Ok(asked)
        } else {
            Err(code::HA_ADMINISTRATIVELY_PROHIBITED)
        }
    }

    /// §9.2: the prefixes a registration holds and the Prefix Replies to
    /// send, one per distinct requested prefix. Prefixes of the old
    /// binding that are not asked for again are left out (released by the
    /// caller).
    fn prefixes_for(
        &mut self,
        rrq: &Rrq,
        s: &Sorted,
        profile: &Profile,
        old: Option<&Binding>,
        draft01: bool,
    ) -> (Vec<Ipv6Addr>, Option<Ipv6Addr>, Vec<Extension>) {
        let mut held: Vec<Ipv6Addr> = Vec::new();
        let mut address6: Option<Ipv6Addr> = None;
        let mut replies: Vec<Extension> = Vec::new();
        if !self.cfg.dsmip4 {
            // No Prefix Reply at all: "this home agent has no DSMIPv4".
            return (held, address6, replies);
        }
        let accepted = if s.tunneling_mode && rrq.flags & rrq_flags::D != 0 {
            prefix_code::ACCEPTED_TO_COA
        } else {
            prefix_code::ACCEPTED_TO_HOA
        };
        let old_prefixes: Vec<Ipv6Addr> = old.map(|b| b.prefixes.clone()).unwrap_or_default();
        let mut seen: Vec<(u8, Ipv6Addr)> = Vec::new();
        for &(len, prefix) in &s.prefix_requests {
            // Never two replies for the same prefix.
            if seen.contains(&(len, prefix)) {
                continue;
            }
            seen.push((len, prefix));
            let reply =
                |code: u8, prefix_len: u8, prefix: Ipv6Addr| Extension::Ipv6PrefixReply { code, prefix_len, prefix };
            if !profile.ipv6 {
                replies.push(reply(prefix_code::REJECTED_ADMIN_PROHIBITED, len, prefix));
                continue;
            }
            if len == LINK_LOCAL_PREFIX_LEN {
                replies.push(reply(prefix_code::REJECTED_UNSPECIFIED, len, prefix));
                continue;
            }
            if draft01 && len == 128 && !prefix.is_unspecified() {
                // draft -01: a home address on the home link, checked by
                // DAD before this run ([`Ha::dad_wanted`]). One per node.
                let code = match self.draft01_address(prefix) {
                    Err(code) => code,
                    Ok(a) if address6.is_some_and(|h| h != a) => prefix_code::REJECTED_UNSPECIFIED,
                    Ok(a) if old.is_some_and(|b| b.home_address6 == Some(a)) => {
                        address6 = Some(a);
                        accepted
                    }
                    Ok(a) if self.by_addr6.contains_key(&a) || self.dad_known.get(&a) != Some(&true) => {
                        draft01_code::DAD_FAILED
                    }
                    Ok(a) => {
                        address6 = Some(a);
                        accepted
                    }
                };
                let shown = address6.filter(|_| code == accepted).unwrap_or(prefix);
                replies.push(reply(code, len, shown));
                continue;
            }
            if prefix.is_unspecified() || len == 0 {
                // Allocation (draft -01 semantics): one the node already
                // holds and has not asked for by name, else a new one.
                let reuse = old_prefixes
                    .iter()
                    .find(|p| !held.contains(p) && !s.prefix_requests.iter().any(|(_, q)| slash64(*q) == **p))
                    .copied();
                let got = reuse.or_else(|| {
                    profile
                        .static_hnp
                        .map(|c| c.addr)
                        .filter(|p| !held.contains(p) && !old_prefixes.contains(p) && self.prefixes.reserve(*p))
                        .or_else(|| self.prefixes.allocate())
                });
                match got {
                    Some(p) => {
                        held.push(p);
                        replies.push(reply(accepted, PREFIX_LEN, p));
                    }
                    None => replies.push(reply(prefix_code::REJECTED_UNSPECIFIED, len, prefix)),
                }
                continue;
            }
            let p = slash64(prefix);
            let ok = held.contains(&p)
                || old_prefixes.contains(&p)
                || (profile.static_hnp.is_some_and(|c| c.addr == p) && self.prefixes.reserve(p))
                || (self.prefixes.is_dynamic(p) && self.prefixes.reserve(p));
            if ok {
                if !held.contains(&p) {
                    held.push(p);
                }
                replies.push(reply(accepted, len, prefix));
            } else {
                replies.push(reply(prefix_code::REJECTED_ADMIN_PROHIBITED, len, prefix));
            }
        }
        (held, address6, replies)
    }

    /// draft -01: the home-link address a /128 request names — `::IID`
    /// on the first home subnet, or a full address on any — or the reply
    /// code refusing it.
    fn draft01_address(&self, requested: Ipv6Addr) -> Result<Ipv6Addr, u8> {
        let bits = u128::from(requested);
        let addr = if bits >> 64 == 0 {
            let subnet = self.home_subnets6.iter().find(|c| c.prefix_len <= 64).ok_or(draft01_code::NOT_HOME_SUBNET)?;
            Ipv6Addr::from(u128::from(subnet.addr) | bits)
        } else if self.home_subnets6.iter().any(|c| c.contains(requested)) {
            requested
        } else {
            return Err(draft01_code::NOT_HOME_SUBNET);
        };
        let on_link = self.home_subnets6.iter().find(|c| c.contains(addr));
        if on_link.is_some_and(|c| c.addr == addr) {
            // The subnet-router anycast address is nobody's home address.
            return Err(prefix_code::REJECTED_UNSPECIFIED);
        }
        if self.our_addrs6.contains(&addr) {
            return Err(draft01_code::DAD_FAILED);
        }
        Ok(addr)
    }

    /// draft -01 home addresses of this request that need DAD: on the
    /// home link, not the old binding's, not another node's, not checked
    /// for this run.
    fn dad_wanted(&self, s: &Sorted, old: Option<&Binding>) -> BTreeSet<Ipv6Addr> {
        s.prefix_requests
            .iter()
            .filter(|(len, p)| *len == 128 && !p.is_unspecified())
            .filter_map(|(_, p)| self.draft01_address(*p).ok())
            .filter(|a| {
                old.is_none_or(|b| b.home_address6 != Some(*a))
                    && !self.by_addr6.contains_key(a)
                    && !self.dad_known.contains_key(a)
            })
            .collect()
    }

    /// Holds the request until DAD has checked `wanted`; a retransmission
    /// while it runs starts nothing new.
    fn await_dad(
        &mut self,
        rx: &Received,
        rrq: &Rrq,
        mn_id: &str,
        wanted: BTreeSet<Ipv6Addr>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if let Some(p) = self.dad_pending.get(mn_id) {
            if p.identification == rrq.identification {
                self.counters.retransmissions += 1;
                return;
            }
        }
        let running: BTreeSet<Ipv6Addr> = self.dad_pending.values().flat_map(|p| p.waiting.iter().copied()).collect();
        for addr in wanted.iter().filter(|a| !running.contains(a)) {
            self.counters.dad_started += 1;
            out.push(Output::Dad { addr: *addr });
        }
        let pending = PendingDad {
            rx: rx.clone(),
            identification: rrq.identification,
            waiting: wanted,
            results: HashMap::new(),
            since: now,
        };
        self.dad_pending.insert(mn_id.to_owned(), pending);
    }

    /// Lifetime 0 (§8.7 Accept): CoA = HoA removes every binding of the
    /// node, another CoA only the binding with that CoA.
    fn deregister(
        &mut self,
        out: &mut Vec<Output>,
        to: &ReplyTo,
        rrq: &Rrq,
        s: &Sorted,
        existing: Option<u32>,
        mn_id: &str,
    ) {
        // Kept for nodes with an association (bounded by the config); a
        // proxied host's ordering lives only as long as its binding.
        if self.sas.contains_key(mn_id) {
            self.last_id.insert(mn_id.to_owned(), rrq.identification);
        }
        let mut hoa = rrq.home_address;
        let mut removed = None;
        if let Some(id) = existing {
            let all = rrq.care_of == rrq.home_address;
            let matches = self.bindings.get(&id).is_some_and(|b| all || b.coa == rrq.care_of || b.hoa == rrq.care_of);
            if matches {
                if let Some(b) = self.remove_binding(id, out) {
                    hoa = b.hoa;
                    self.counters.deregistrations += 1;
                    removed = Some(b);
                }
            } else if let Some(b) = self.bindings.get(&id) {
                hoa = b.hoa;
            }
        }
        let mut mn = Vec::new();
        if !s.prefix_requests.is_empty() && self.cfg.dsmip4 {
            // Lifetime 0 removes the IPv6 bindings too: each prefix is
            // answered (accepted: it is gone).
            for &(prefix_len, prefix) in &s.prefix_requests {
                mn.push(Extension::Ipv6PrefixReply { code: prefix_code::ACCEPTED_TO_HOA, prefix_len, prefix });
            }
        }
        let fa_exts = self.fa_extensions(s, removed.as_ref());
        self.reply(out, to, code::ACCEPTED, 0, hoa, rrq.identification, mn, fa_exts);
    }

    /// The extensions an accepted reply carries for the foreign agent:
    /// UDP Tunnel Reply when the FA asked, GRE key, Revocation Support.
    fn fa_extensions(&self, s: &Sorted, binding: Option<&Binding>) -> Vec<Extension> {
        let mut fa = Vec::new();
        if let Some(key) = s.gre_key {
            // §8.11: every reply to a request with a GRE Key carries ours.
            fa.push(Extension::GreKey(binding.and_then(|b| b.tunnel.key_in).unwrap_or(key)));
        }
        if let Some((_, false)) = s.revocation_support.filter(|_| self.cfg.revocation) {
            fa.push(self.revocation_support_ext());
        }
        fa
    }

    /// Our Revocation Support extension (RFC 3543 §3.1): no I-bit support.
    fn revocation_support_ext(&self) -> Extension {
        Extension::RevocationSupport { flags: 0, timestamp: self.last_revocation_id }
    }

    /// The reply accepting `b` (code 0, or 1 when S was asked for: we keep
    /// one binding per node).
    #[allow(clippy::too_many_arguments)]
    fn accept_reply(
        &mut self,
        out: &mut Vec<Output>,
        to: &ReplyTo,
        rrq: &Rrq,
        s: &Sorted,
        b: &Binding,
        now: Instant,
        decided: Option<(TunnelChoice, Vec<Extension>)>,
    ) {
        let left = b.expires.saturating_duration_since(now);
        let lifetime = u16::try_from(left.as_secs()).unwrap_or(INFINITE - 1);
        let code = if rrq.flags & rrq_flags::S != 0 { code::ACCEPTED_NO_SIMULTANEOUS_BINDINGS } else { code::ACCEPTED };
        // A retransmission is answered from the binding as it stands.
        let (udp, prefix_replies) = match decided {
            Some((choice, replies)) => (choice.udp, replies),
            None => {
                let code = if b.ipv6_to_coa { prefix_code::ACCEPTED_TO_COA } else { prefix_code::ACCEPTED_TO_HOA };
                let prefixes = b.prefixes.iter().map(|p| (PREFIX_LEN, *p));
                let replies = prefixes
                    .chain(b.home_address6.map(|a| (128, a)))
                    .map(|(prefix_len, prefix)| Extension::Ipv6PrefixReply { code, prefix_len, prefix })
                    .collect();
                let udp = s.udp.map(|(flags, _, _, by_mn)| UdpGrant {
                    tunnel: b.tunnel.kind == TunnelKind::MipUdp,
                    forced: flags & udp_request_flags::F != 0,
                    wait_keepalive: false,
                    by_mn,
                });
                (udp, replies)
            }
        };
        let mut mn = prefix_replies;
        let mut fa = Vec::new();
        if let Some(u) = udp {
            let ext = Extension::UdpTunnelReply {
                reply_code: if u.tunnel { udp_reply::WILL_TUNNEL } else { udp_reply::DECLINED },
                flags: if u.tunnel && u.forced { udp_reply::F } else { 0 },
                keepalive: self.cfg.udp_keepalive_s,
            };
            if u.by_mn {
                mn.push(ext);
            } else {
                fa.push(ext);
            }
        }
        fa.extend(self.fa_extensions(s, Some(b)));
        if let Some((_, true)) = s.revocation_support.filter(|_| self.cfg.revocation) {
            // A co-located mobile node's Revocation Support is answered to it.
            mn.push(self.revocation_support_ext());
        }
        self.reply(out, to, code, lifetime, b.hoa, rrq.identification, mn, fa);
    }

    /// Builds, seals and sends a reply: the NAI and `mn` extensions, MN-HA,
    /// the FA's extensions, the per-node method, FA-HA (§8.5 order).
    #[allow(clippy::too_many_arguments)]
    fn reply(
        &mut self,
        out: &mut Vec<Output>,
        to: &ReplyTo,
        code: u8,
        lifetime: u16,
        home_address: Ipv4Addr,
        identification: u64,
        mn: Vec<Extension>,
        fa: Vec<Extension>,
    ) {
        let mut extensions = Vec::new();
        if let Some(nai) = &to.nai {
            // §8.8: the reply carries the request's NAI.
            extensions.push(Extension::Nai(nai.clone()));
        }
        extensions.extend(mn.into_iter().map(|e| match (to.draft01, e) {
            (Some(ext_type), e @ Extension::Ipv6PrefixReply { .. }) => {
                Extension::Draft01 { ext_type, ext: Box::new(e) }
            }
            (_, e) => e,
        }));
        let mut keys = Vec::new();
        if let Some(sa) = &to.mn_sa {
            extensions.push(Extension::Auth { kind: AuthKind::MnHa, spi: sa.spi, authenticator: Vec::new() });
            keys.push(SealKey { kind: AuthKind::MnHa, spi: sa.spi, alg: sa.algorithm, key: &sa.key });
        }
        extensions.extend(fa);
        if to.per_node {
            extensions.push(Extension::PerNodeAuthMethod(per_node_auth::FA_HA));
        }
        if let Some(f) = &to.fa {
            extensions.push(Extension::Auth { kind: AuthKind::FaHa, spi: f.spi, authenticator: Vec::new() });
            keys.push(SealKey { kind: AuthKind::FaHa, spi: f.spi, alg: f.algorithm, key: &f.key });
        }
        let mut msg = Message::Rrp(Rrp {
            code,
            lifetime: if code::is_accept(code) { lifetime } else { 0 },
            home_address,
            home_agent: self.cfg.address,
            identification,
            extensions,
        });
        auth::seal(&mut msg, &keys);
        let (src, dst, dst_port) = (to.src, to.dst, to.dst_port);
        self.send(out, src, dst, dst_port, msg);
    }
}

/// The /64 holding `addr`.
fn slash64(addr: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(addr) & !u128::from(u64::MAX))
}
