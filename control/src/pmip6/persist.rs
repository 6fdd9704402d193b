//! The LMA's side of the session store (issue 7): which sessions changed,
//! each one as a [`SavedSession`], and a saved session put back after a
//! restart — binding cache and its indexes, session timer, home network
//! prefixes, IPv4 home address and uplink GRE key taken out of the pools
//! and key allocator, the MAG remembered for heartbeats — exactly as if its
//! PBU had just been accepted, but with no PBA.

use std::time::Duration;

use crate::store::records::{Clock, SavedEncap, SavedSession};

use super::cache::Bce;
use super::timers::Timer;
use super::{gre, Encap, Lma, Origin, Session, SessionState, Transport};

/// What became of a saved session at restore.
#[derive(Debug, Clone, PartialEq)]
pub enum Restored {
    /// Back and active: install its forwarding (as for `Output::Install`).
    Active(Session),
    /// Back, deprecated (no forwarding) until its deletion time.
    Deprecated(Session),
    /// Its lifetime (or deletion delay) ran out while we were down.
    Expired,
    /// It clashes with what is already restored or configured (its id, a
    /// prefix, the IPv4 home address or the GRE key is taken): left out.
    Conflict(&'static str),
}

impl Lma {
    /// Starts noting changed sessions for [`Lma::take_changed`].
    pub fn track_changes(&mut self) {
        self.cache.track_changes();
    }

    /// Ids of the sessions created, changed or deleted since the last call.
    pub fn take_changed(&mut self) -> Vec<u32> {
        self.cache.take_changed()
    }

    /// Session `id` as the store keeps it; `None` when there is none, or
    /// when it is a shadow BCE not activated yet (§11.4): the mobile node's
    /// own DSMIPv6 binding that it shadows is not kept either, so after a
    /// restart the MAG's next PBU decides afresh.
    pub fn saved(&self, id: u32, clock: Clock) -> Option<SavedSession> {
        let b = self.cache.get(id).filter(|b| b.shadow.is_none())?;
        let s = &b.session;
        Some(SavedSession {
            id,
            mn_id: s.mn_id.to_string(),
            mn_id_subtype: b.mn_id_subtype,
            mn_id_hex: b.mn_id_hex,
            active: s.state == SessionState::Active,
            att: s.att,
            mn_ll_id: s.mn_ll_id.clone(),
            link_local: s.link_local,
            hnps: s.hnps.clone(),
            ipv4_hoa: s.ipv4_hoa,
            proxy_coa: s.proxy_coa,
            local: s.local,
            encap: match s.encap {
                Encap::IpIp => SavedEncap::IpIp,
                Encap::Gre { key_up, key_down } => SavedEncap::Gre { key_up, key_down },
                Encap::Udp { mag_port } => SavedEncap::Udp { mag_port },
                Encap::UdpTlv { mag_port, key_up, key_down } => SavedEncap::UdpTlv { mag_port, key_up, key_down },
            },
            lifetime_ms: u64::try_from(s.lifetime.as_millis()).unwrap_or(u64::MAX),
            expires_ms: clock.wall_ms(s.expires),
            timer_ms: clock.wall_ms(b.timer),
            last_seq: s.last_seq,
            last_timestamp: s.last_timestamp,
            mag: b.mag,
            mag_udp_port: match b.transport {
                Transport::Ipv6 => None,
                Transport::Udp4 { src_port } => Some(src_port),
            },
        })
    }

    /// Puts a saved session back (before any message is handled). An
    /// expired one, or one that clashes with what is already here, is
    /// left out and said so.
    pub fn restore(&mut self, saved: SavedSession, clock: Clock) -> Restored {
        let Some(timer) = clock.instant(saved.timer_ms) else { return Restored::Expired };
        let id = saved.id;
        if id == 0 || self.cache.contains(id) {
            return Restored::Conflict("session id");
        }
        if saved.hnps.iter().any(|p| self.cache.by_hnp(*p).is_some() || self.prefixes.is_in_use(*p)) {
            return Restored::Conflict("home network prefix");
        }
        if let Some((hoa, _, _)) = saved.ipv4_hoa {
            if self.cache.by_hoa(hoa).is_some() || self.hoas.is_in_use(hoa) {
                return Restored::Conflict("IPv4 home address");
            }
        }
        let encap = match saved.encap {
            SavedEncap::IpIp => Encap::IpIp,
            SavedEncap::Gre { key_up, key_down } => Encap::Gre { key_up, key_down },
            SavedEncap::Udp { mag_port } => Encap::Udp { mag_port },
            SavedEncap::UdpTlv { mag_port, key_up, key_down } => Encap::UdpTlv { mag_port, key_up, key_down },
        };
        if let Some(key) = gre::uplink_key(&encap) {
            if !self.keys.reserve(key) {
                return Restored::Conflict("GRE key");
            }
        }
        // Addresses outside the pools (static ones the pools do not hold)
        // are not reserved; the indexes keep them unique.
        for p in &saved.hnps {
            self.prefixes.reserve(*p);
        }
        if let Some((hoa, _, _)) = saved.ipv4_hoa {
            self.hoas.reserve(hoa);
        }
        let state = if saved.active { SessionState::Active } else { SessionState::Deprecated };
        let session = Session {
            id,
            mn_id: saved.mn_id.as_str().into(),
            state,
            att: saved.att,
            mn_ll_id: saved.mn_ll_id,
            link_local: saved.link_local,
            hnps: saved.hnps,
            ipv4_hoa: saved.ipv4_hoa,
            proxy_coa: saved.proxy_coa,
            local: saved.local,
            encap,
            lifetime: Duration::from_millis(saved.lifetime_ms),
            expires: clock.instant(saved.expires_ms).unwrap_or(clock.now),
            last_seq: saved.last_seq,
            last_timestamp: saved.last_timestamp,
        };
        let transport = match saved.mag_udp_port {
            None => Transport::Ipv6,
            Some(src_port) => Transport::Udp4 { src_port },
        };
        let bce = Bce {
            session: session.clone(),
            mn_id_subtype: saved.mn_id_subtype,
            mn_id_hex: saved.mn_id_hex,
            mag: saved.mag,
            transport,
            timer,
            installed: saved.active,
            revoking: None,
            shadow: None,
        };
        self.cache.insert(bce);
        self.timers.arm(Timer::Session(id), timer);
        if self.mags.contains_key(&saved.mag) {
            self.note_peer(Origin { src: saved.mag, dst: saved.local, transport });
        }
        match state {
            SessionState::Active => Restored::Active(session),
            SessionState::Deprecated | SessionState::Shadow => Restored::Deprecated(session),
        }
    }
}

#[cfg(test)]
mod tests;
