//! Binding Update processing at the home agent (RFC 6275 §9.5, §10.3.1,
//! §10.3.2; RFC 4285 §5–§6; RFC 5555 §4.5; PROTOCOLS.md §11.1–§11.3).
//!
//! The order: who sent it and to whom (framing, H = 1, our address, the
//! IPv4 Care-of Address option over UDP), the security association (none:
//! silent drop), RFC 4285 authentication (146) and MESG-ID (145, 144) — a
//! Binding Update that fails these changes nothing but the replay state of
//! an authenticated one — then the home registration rules (home address,
//! sequence number 135, de-registration 133, F flag 129, duplicate address
//! detection of a home address on a home link 134, lifetime), the IPv4 part
//! (its result in the IPv4 Address Acknowledgement), the bindings, and the
//! Binding Acknowledgement.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use super::auth::{self, auth_care_of, auth_option, mesg_id_mismatch_reply, mesg_id_valid, AUTHENTICATOR_LEN};
use super::{ntp_of, Binding, CareOf, Ha6, Home, Output, PendingDad, Registration, Tunnel, NO_KEEPALIVES};
use crate::proto::dsmip6::{ipv6_packet, udp4_packet, Framing, MhPacket};
use crate::proto::options::{auth_subtype, find, mn_id_subtype};
use crate::proto::{bu_flags, emit, ipv4_ack_status, status, BindingAck, BindingUpdate, MhMessage, MobilityOption};
use dataplane::tunnel::TunnelKind;

/// Seconds in one unit of the MH Lifetime field.
const LIFETIME_UNIT: u64 = 4;

/// What the Binding Acknowledgement needs from the Binding Update.
struct Reply {
    framing: Framing,
    hoa: Ipv6Addr,
    /// The care-of address as the authenticator input.
    auth_coa: [u8; 16],
    /// The association's key and SPI, when it is known.
    sa: Option<(Vec<u8>, u32)>,
    /// The MESG-ID to put in the BA.
    mesg_id: Option<u64>,
    /// NAT Detection option contents, when the BU came over UDP.
    nat_detection: Option<(bool, u32)>,
    seq: u16,
    /// The BU's A flag.
    ack_requested: bool,
}

impl Ha6 {
    /// One Binding Update: `raw` the whole packet (kept when it must wait
    /// for DAD), `pkt` its parse.
    pub(super) fn handle_bu(
        &mut self,
        raw: &[u8],
        pkt: &MhPacket,
        bu: &BindingUpdate,
        now: Instant,
        wall: SystemTime,
        out: &mut Vec<Output>,
    ) {
        // PROTOCOLS.md §13: P = 1 is the LMA's; H = 0 is a correspondent
        // registration, which a home agent without route optimisation
        // does not take (RFC 6275 §9.5.1).
        if bu.flags & bu_flags::P != 0 || bu.flags & bu_flags::H == 0 {
            self.counters.unexpected += 1;
            return;
        }
        // Home address and care-of address by framing (§11.1).
        let (hoa, care_of) = match pkt.framing {
            Framing::Ipv6 { routing_home: Some(_), .. } => {
                // A routing header belongs in what we send, not in a BU.
                self.counters.malformed += 1;
                return;
            }
            Framing::Ipv6 { src, dst, home_address, routing_home: None } => {
                if dst != self.cfg.address {
                    self.counters.not_for_us += 1;
                    return;
                }
                if !is_unicast_v6(src) {
                    self.counters.bad_source += 1;
                    return;
                }
                let alt = find(&bu.options, |o| match o {
                    MobilityOption::AlternateCareOf(a) => Some(*a),
                    _ => None,
                });
                (home_address.unwrap_or(src), CareOf::Ipv6(alt.unwrap_or(src)))
            }
            Framing::Udp4 { src, dst, src_port, dst_port, inner_src, inner_dst } => {
                if inner_dst != self.cfg.address {
                    self.counters.not_for_us += 1;
                    return;
                }
                if !is_unicast(src) {
                    self.counters.bad_source += 1;
                    return;
                }
                // RFC 5555 §4.1: over IPv4 the BU carries its IPv4 CoA.
                let Some(coa) = find(&bu.options, |o| match o {
                    MobilityOption::Ipv4CareOf(a) => Some(*a),
                    _ => None,
                }) else {
                    self.counters.missing_ipv4_coa += 1;
                    return;
                };
                let udp_forced = bu.flags & bu_flags::F != 0;
                let care_of = CareOf::Ipv4 {
                    coa,
                    src,
                    src_port,
                    local: dst,
                    local_port: dst_port,
                    nat: coa != src,
                    udp_forced: udp_forced && self.cfg.accept_udp_forcing,
                };
                (inner_src, care_of)
            }
        };
        // §11.2 item 9: the NAT Detection option of a BA over UDP.
        let nat_detection = match care_of {
            CareOf::Ipv4 { nat, udp_forced, .. } => {
                Some((udp_forced, if nat { self.cfg.nat_keepalive } else { NO_KEEPALIVES }))
            }
            CareOf::Ipv6(_) => None,
        };
        let mesg_id = find(&bu.options, |o| match o {
            MobilityOption::MesgId(v) => Some(*v),
            _ => None,
        });
        let mut reply = Reply {
            framing: pkt.framing,
            hoa,
            auth_coa: auth_care_of(care_of.addr()),
            sa: None,
            mesg_id,
            nat_detection,
            seq: bu.seq,
            ack_requested: bu.flags & bu_flags::A != 0,
        };

        // The security association: by the NAI of an MN-ID option, else by
        // home address. None: drop silently (§11.3).
        let nai = find(&bu.options, |o| match o {
            MobilityOption::MnIdentifier { subtype, id } if *subtype == mn_id_subtype::NAI => Some(id.clone()),
            _ => None,
        });
        let found = match &nai {
            Some(id) => self.by_nai.get(id),
            None => self.by_hoa.get(&hoa),
        };
        let Some((mn, sa)) = found.and_then(|&i| self.cfg.mobile_nodes.get(i).map(|m| (i, m.clone()))) else {
            self.counters.no_security_association += 1;
            return;
        };
        reply.sa = Some((sa.key.clone(), sa.spi));

        // RFC 4285 §5: one MN-HA option, last, with the association's SPI
        // and the right authenticator; else 146 and nothing changes.
        let authentic = auth_option(&pkt.mh).is_some_and(|a| {
            a.subtype == auth_subtype::MN_HA
                && a.spi == sa.spi
                && a.data.len() == AUTHENTICATOR_LEN
                && auth::verify(&sa.key, reply.auth_coa, hoa, &pkt.mh, &a)
        });
        if !authentic {
            self.counters.auth_failures += 1;
            self.send_ba(&reply, status::MIPV6_AUTH_FAIL, 0, None, out);
            return;
        }

        // RFC 4285 §6: MESG-ID required (145), timely and newer (144).
        // A Binding Update run again with its DAD result passed this when
        // it came (its MESG-ID is the last accepted one now).
        let ntp_now = ntp_of(wall);
        let resumed = self.dad_result.is_some();
        match mesg_id {
            _ if resumed => {}
            None if self.cfg.require_mesg_id => {
                self.counters.mesg_id_missing += 1;
                self.send_ba(&reply, status::MIPV6_MESG_ID_REQD, 0, None, out);
                return;
            }
            None => {}
            Some(ts) => {
                if !mesg_id_valid(ts, ntp_now, self.last_mesg_id.get(&mn).copied(), self.cfg.replay_tolerance) {
                    self.counters.replays += 1;
                    reply.mesg_id = Some(mesg_id_mismatch_reply(ts, ntp_now));
                    self.send_ba(&reply, status::MIPV6_ID_MISMATCH, 0, None, out);
                    return;
                }
                self.last_mesg_id.insert(mn, ts);
            }
        }

        // An authentic, timely Binding Update replaces one of the same node
        // still waiting for DAD (the node moved on; that one goes
        // unanswered).
        let waiting = if resumed { None } else { self.dad_pending.remove(&mn) };

        // RFC 6275 §10.3.1: the home address must be this mobile node's.
        if hoa != sa.hoa {
            self.send_ba(&reply, status::NOT_HOME_SUBNET, 0, None, out);
            return;
        }
        // RFC 6275 §9.5.1: the care-of address must be a unicast routable
        // address (an Alternate CoA or IPv4 CoA option can say anything).
        let coa_ok = match care_of {
            CareOf::Ipv6(a) => is_unicast_v6(a),
            CareOf::Ipv4 { coa, .. } => is_unicast(coa),
        };
        if !coa_ok {
            self.send_ba(&reply, status::INVALID_CARE_OF_ADDRESS, 0, None, out);
            return;
        }
        // RFC 6275 §9.5.1: a sequence number not newer than the last
        // accepted one → 135 carrying the last accepted number.
        if let Some(reg) = self.regs.get(&mn) {
            let ahead = bu.seq.wrapping_sub(reg.seq);
            if ahead == 0 || ahead >= 0x8000 {
                reply.seq = reg.seq;
                self.send_ba(&reply, status::SEQUENCE_NUMBER_OUT_OF_WINDOW, 0, None, out);
                return;
            }
        }
        let ipv4_request = find(&bu.options, |o| match o {
            MobilityOption::Ipv4HomeAddress { prefix_len, p, addr } => Some((*prefix_len, *p, *addr)),
            _ => None,
        });

        // RFC 6275 §10.3.2: lifetime 0 or CoA = HoA de-registers; without
        // a registration → 133. With an IPv4 HoA option CoA = HoA is the
        // node on its IPv6 home link instead (PROTOCOLS.md §11.4): only
        // that family's binding stops.
        let at_ipv6_home = care_of.addr() == IpAddr::V6(hoa) && ipv4_request.is_some();
        if bu.lifetime == 0 || (care_of.addr() == IpAddr::V6(hoa) && !at_ipv6_home) {
            let Some(reg) = self.deregister(mn, bu.seq, now, out) else {
                self.send_ba(&reply, status::NOT_HOME_AGENT_FOR_THIS_MOBILE_NODE, 0, None, out);
                return;
            };
            let ack = ipv4_request.map(|(_, _, addr)| {
                let bound = reg.v4.as_ref().and_then(|b| match b.hoa {
                    IpAddr::V4(a) => Some((a, b.prefix_len)),
                    IpAddr::V6(_) => None,
                });
                let (addr, prefix_len) = bound.unwrap_or((addr, 0));
                MobilityOption::Ipv4AddressAck { status: ipv4_ack_status::SUCCESS, prefix_len, addr }
            });
            self.send_ba(&reply, status::ACCEPTED, 0, ack, out);
            return;
        }

        // §11.2 item 2: F = 1 and UDP forcing not accepted → 129 (§14 #2).
        if matches!(pkt.framing, Framing::Udp4 { .. }) && bu.flags & bu_flags::F != 0 && !self.cfg.accept_udp_forcing {
            self.send_ba(&reply, status::ADMINISTRATIVELY_PROHIBITED, 0, None, out);
            return;
        }

        // RFC 6275 §10.3.1: a home address on a home link we answer for
        // goes through duplicate address detection before we start
        // defending it (a new binding, or the node leaving its IPv6 home);
        // the BA waits for the result, 134 when another node holds it, and
        // then nothing is installed.
        let defended = self.regs.get(&mn).is_some_and(|r| r.forwarded().1 == Some(hoa));
        if !at_ipv6_home && !defended && self.on_home_link(hoa) {
            match self.dad_result {
                Some((a, true)) if a == hoa => {}
                Some((a, false)) if a == hoa => {
                    self.send_ba(&reply, status::DUPLICATE_ADDRESS_DETECTION_FAILED, 0, None, out);
                    return;
                }
                _ => {
                    // A retransmission while DAD runs starts nothing new.
                    let since = match &waiting {
                        Some(w) if w.addr == hoa => w.since,
                        _ => {
                            self.counters.dad_started += 1;
                            out.push(Output::Dad { addr: hoa });
                            now
                        }
                    };
                    self.dad_pending.insert(mn, PendingDad { packet: raw.to_vec(), addr: hoa, since });
                    return;
                }
            }
        }

        // Accepted: the lifetime, capped (RFC 6275 §10.3.1).
        let max_units = (self.cfg.max_lifetime.as_secs() / LIFETIME_UNIT).min(u64::from(u16::MAX));
        let units = u16::try_from(u64::from(bu.lifetime).min(max_units)).unwrap_or(u16::MAX);
        let lifetime = Duration::from_secs(u64::from(units) * LIFETIME_UNIT);
        if let CareOf::Ipv4 { nat: true, .. } = care_of {
            self.counters.nat_detected += 1;
        }
        let away = care_of.tunnel(self.cfg.address);
        let name = self.mn_name(mn);
        let old = self.regs.get(&mn).cloned();
        // A deprecated registration (de-registered, not deleted yet) comes
        // back: its ids and addresses, but nothing of it forwards now.
        let old_forwarded = old.as_ref().map(Registration::forwarded);
        match &old {
            None => self.counters.registrations_created += 1,
            Some(o) if o.deprecated => self.counters.revived += 1,
            Some(o) if o.care_of.addr() != care_of.addr() => self.counters.handoffs += 1,
            Some(_) => self.counters.renewals += 1,
        }

        // The IPv4 part (§11.2 items 3–7): its result goes in the Ack.
        let old_v4 = old.as_ref().and_then(|r| r.v4.clone());
        let old_v4_addr = old_v4.as_ref().and_then(|b| match b.hoa {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        });
        let v4_result = ipv4_request.map(|req| self.ipv4_home_address(mn, req, old_v4_addr));
        let ack = ipv4_request.zip(v4_result).map(|((_, _, asked), r)| match r {
            Ok((addr, prefix_len)) => {
                MobilityOption::Ipv4AddressAck { status: ipv4_ack_status::SUCCESS, prefix_len, addr }
            }
            Err(status) => MobilityOption::Ipv4AddressAck { status, prefix_len: 0, addr: asked },
        });
        // PROTOCOLS.md §11.4: a care-of address equal to the home address
        // of its family puts the node on that home link; the other family
        // is tunnelled to that home address (nested: through whatever
        // carries it, a proxy binding or the native link).
        let home = match (care_of, &v4_result) {
            (CareOf::Ipv4 { coa, .. }, Some(Ok((addr, _)))) if coa == *addr => Home::Ipv4,
            (CareOf::Ipv6(_), Some(Ok(_))) if at_ipv6_home => Home::Ipv6,
            _ => Home::Away,
        };
        let (v6_tunnel, v4_tunnel) = match (home, care_of) {
            (Home::Ipv4, CareOf::Ipv4 { coa, local, .. }) => {
                let t = Tunnel {
                    kind: TunnelKind::IpIp,
                    local: local.into(),
                    remote: coa.into(),
                    local_port: 0,
                    peer_port: 0,
                    nested: true,
                };
                (t, away)
            }
            (Home::Ipv6, _) => {
                let t = Tunnel {
                    kind: TunnelKind::IpIp,
                    local: self.cfg.address.into(),
                    remote: hoa.into(),
                    local_port: 0,
                    peer_port: 0,
                    nested: true,
                };
                (away, t)
            }
            _ => (away, away),
        };
        let v4 = match v4_result {
            Some(Ok((addr, prefix_len))) => {
                let id = match &old_v4 {
                    Some(b) if b.hoa == IpAddr::V4(addr) => b.id,
                    _ => self.new_id(),
                };
                Some(Binding { id, mn_id: name.clone(), hoa: addr.into(), prefix_len, tunnel: v4_tunnel })
            }
            _ => None,
        };
        // The old IPv4 binding goes when it is not the new one.
        if let Some(b) = &old_v4 {
            if v4.as_ref().is_none_or(|n| n.id != b.id) {
                out.push(Output::Remove { id: b.id });
                if let IpAddr::V4(a) = b.hoa {
                    self.release_ipv4(a);
                }
            }
        }
        let v6_id = match &old {
            Some(o) => o.v6.id,
            None => self.new_id(),
        };
        let v6 = Binding { id: v6_id, mn_id: name.clone(), hoa: hoa.into(), prefix_len: 128, tunnel: v6_tunnel };
        let old_home = old.as_ref().filter(|o| !o.deprecated).map(|o| o.home);
        // Each family's binding forwards unless the node is on its home
        // link; one that stops forwarding is removed (a shadow proxy
        // binding takes over), one that starts again is installed.
        let was_fwd_v6 = old_forwarded.is_some_and(|(_, v6)| v6.is_some());
        if home != Home::Ipv6 {
            if !was_fwd_v6 || old.as_ref().is_some_and(|o| o.v6 != v6) {
                out.push(Output::Install(v6.clone()));
            }
        } else if was_fwd_v6 {
            out.push(Output::Remove { id: v6.id });
        }
        if let Some(b) = &v4 {
            let was_fwd_v4 =
                old_v4.as_ref().is_some_and(|o| o.id == b.id) && old_forwarded.is_some_and(|(v4, _)| v4.is_some());
            if home != Home::Ipv4 {
                if !was_fwd_v4 || old_v4.as_ref() != Some(b) {
                    out.push(Output::Install(b.clone()));
                }
            } else if was_fwd_v4 {
                out.push(Output::Remove { id: b.id });
            }
        }
        if home != Home::Away && old_home != Some(home) {
            self.counters.at_home += 1;
            let addr = match home {
                Home::Ipv4 => v4.as_ref().map(|b| b.hoa),
                _ => Some(v6.hoa),
            };
            if let Some(addr) = addr {
                out.push(Output::AtHome { mn_id: name.clone(), addr });
            }
        }
        let reg = Registration {
            mn,
            seq: bu.seq,
            care_of,
            lifetime,
            expires: now + lifetime,
            v6,
            v4,
            home,
            deprecated: false,
        };
        let owned = reg.forwarded();
        let old_owned = old_forwarded;
        self.store(reg);
        if old_owned != Some(owned) {
            out.push(Output::Owned { mn_id: name, ipv4: owned.0, ipv6: owned.1 });
        }
        self.send_ba(&reply, status::ACCEPTED, units, ack, out);
    }

    /// RFC 6275 §10.3.2: a de-registration deletes the node's registration
    /// (returned, `None` when it has none). Where the home agent is also
    /// the LMA (PROTOCOLS.md §11.4, [`Ha6Config::deregistration_delay`]) it
    /// is deprecated instead: its forwarding goes, its addresses stay, and
    /// it is deleted after MinDelayBeforeBCEDelete unless a Binding Update
    /// revives it first; a repeated de-registration changes nothing.
    fn deregister(&mut self, mn: usize, seq: u16, now: Instant, out: &mut Vec<Output>) -> Option<Registration> {
        let Some(delay) = self.cfg.deregistration_delay else {
            let reg = self.remove_registration(mn, out)?;
            self.counters.deregistrations += 1;
            return Some(reg);
        };
        let mut reg = self.regs.get(&mn)?.clone();
        reg.seq = seq;
        if reg.deprecated {
            // Its deletion stays where the first de-registration put it.
            self.store(reg.clone());
            return Some(reg);
        }
        self.counters.deregistrations += 1;
        let (fwd4, fwd6) = reg.forwarded();
        if fwd6.is_some() {
            out.push(Output::Remove { id: reg.v6.id });
        }
        if let Some(b) = reg.v4.as_ref().filter(|_| fwd4.is_some()) {
            out.push(Output::Remove { id: b.id });
        }
        out.push(Output::Owned { mn_id: reg.v6.mn_id.clone(), ipv4: None, ipv6: None });
        reg.deprecated = true;
        reg.expires = now + delay;
        self.store(reg.clone());
        Some(reg)
    }

    /// The IPv4 home address for a request (prefix length, P, address),
    /// or the IPv4 Address Acknowledgement failure status (§11.2 item 3,
    /// PROTOCOLS.md §2.11.4). A new address is taken from the pool here.
    fn ipv4_home_address(
        &mut self,
        mn: usize,
        (prefix_len, p, addr): (u8, bool, Ipv4Addr),
        current: Option<Ipv4Addr>,
    ) -> Result<(Ipv4Addr, u8), u8> {
        // Prefix-len 0 is invalid; RFC 5555 names no code (§15: 128).
        if prefix_len == 0 {
            return Err(ipv4_ack_status::FAILURE_REASON_UNSPECIFIED);
        }
        // Mobile network prefixes are not offered.
        if p {
            return Err(ipv4_ack_status::PREFIX_ALLOCATION_UNAUTHORIZED);
        }
        let static_hoa = self.cfg.mobile_nodes.get(mn).and_then(|m| m.ipv4_hoa);
        let prefix_of = |pool: &crate::pool::Ipv4HoaPool, a: Ipv4Addr| pool.lookup(a).map_or(32, |(len, _)| len);
        if addr.is_unspecified() {
            // "SHOULD allocate": the one it has, its static one, or a new one.
            if let Some(a) = current.or(static_hoa) {
                return Ok((a, prefix_of(&self.pool, a)));
            }
            return match self.pool.allocate() {
                Some((a, len, _)) => Ok((a, len)),
                None => Err(ipv4_ack_status::DYNAMIC_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_AVAILABLE),
            };
        }
        if !is_unicast(addr) {
            return Err(ipv4_ack_status::INVALID_IPV4_ADDRESS);
        }
        // A unicast address must be (or become) this mobile node's.
        if Some(addr) == current || Some(addr) == static_hoa {
            return Ok((addr, prefix_of(&self.pool, addr)));
        }
        let owned_by_other =
            self.by_ipv4.get(&addr).is_some_and(|&o| o != mn) || self.static_owner(addr).is_some_and(|o| o != mn);
        if !owned_by_other && self.pool.reserve(addr) {
            return Ok((addr, prefix_of(&self.pool, addr)));
        }
        Err(ipv4_ack_status::INCORRECT_IPV4_HOME_ADDRESS)
    }

    /// Sends the Binding Acknowledgement when RFC 6275 §9.5.4 asks for one:
    /// A = 1, or a rejection (which the mobile node must learn of). Options:
    /// MESG-ID, IPv4 Address Acknowledgement, NAT Detection, then the MN-HA
    /// AUTH option (last) when the association is known.
    fn send_ba(&mut self, r: &Reply, status: u8, lifetime: u16, ack: Option<MobilityOption>, out: &mut Vec<Output>) {
        if !r.ack_requested && status < status::REJECTED {
            return;
        }
        let mut options = Vec::new();
        if let Some(v) = r.mesg_id {
            options.push(MobilityOption::MesgId(v));
        }
        options.extend(ack);
        if let Some((f, refresh)) = r.nat_detection {
            options.push(MobilityOption::NatDetection { f, refresh });
        }
        if let Some((_, spi)) = &r.sa {
            options.push(MobilityOption::Auth {
                subtype: auth_subtype::MN_HA,
                spi: *spi,
                data: vec![0; AUTHENTICATOR_LEN],
            });
        }
        let ba = BindingAck { status, flags: 0, seq: r.seq, lifetime, options };
        let msg = MhMessage::BindingAck(ba.clone());
        let ha = self.cfg.address;
        let (dst, packet, mh) = match r.framing {
            Framing::Ipv6 { src, home_address, .. } => {
                // RFC 6275 §9.5.4: back to the BU's source; with a type 2
                // routing header holding the home address when the BU
                // carried a Home Address option (the MH checksum then uses
                // the home address as destination).
                let final_dst = home_address.unwrap_or(src);
                let checksum = crate::proto::Checksum::Ipv6 { src: ha, dst: final_dst };
                let mh = self.sealed(&msg, r, checksum);
                (IpAddr::V6(src), ipv6_packet(ha, src, home_address, &mh), mh)
            }
            Framing::Udp4 { src, dst, src_port, dst_port, .. } => {
                // §11.1: IPv4 HA → BU source, UDP our port → its port,
                // IPv6 HA → HoA, no routing header.
                let back = Framing::Udp4 {
                    src: dst,
                    dst: src,
                    src_port: dst_port,
                    dst_port: src_port,
                    inner_src: ha,
                    inner_dst: r.hoa,
                };
                let mh = self.sealed(&msg, r, back.checksum());
                let Some(p) = udp4_packet(&back, &mh) else { return };
                (IpAddr::V4(src), p, mh)
            }
        };
        *self.counters.ba_sent.entry(status).or_default() += 1;
        // The typed copy with the authenticator as sent.
        let ba = match crate::proto::parse(&mh, crate::proto::Checksum::None) {
            Ok(MhMessage::BindingAck(b)) => b,
            _ => ba,
        };
        out.push(Output::Send { dst, packet, ba });
    }

    /// `msg` emitted with its AUTH option sealed under the association's
    /// key and the checksum filled.
    fn sealed(&self, msg: &MhMessage, r: &Reply, checksum: crate::proto::Checksum) -> Vec<u8> {
        let mut mh = emit(msg, checksum);
        if let Some((key, _)) = &r.sa {
            auth::seal(&mut mh, key, r.auth_coa, r.hoa, checksum);
        }
        mh
    }
}

/// A unicast routable IPv6 address: not unspecified, loopback, multicast
/// or link-local.
pub(super) fn is_unicast_v6(a: Ipv6Addr) -> bool {
    !(a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.segments()[0] & 0xffc0 == 0xfe80)
}

/// A unicast IPv4 address a host may hold.
pub(super) fn is_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback() || a.octets()[0] >= 240)
}
