//! The DSMIPv6 home agent's side of the session store: which registrations
//! changed, each one as a [`SavedRegistration6`], and a saved registration
//! put back after a restart — indexes, lifetime timer, the IPv4 home
//! address taken out of the pool, the last MESG-ID remembered against
//! replays — as if its Binding Update had just been accepted, but with no
//! Binding Acknowledgement.
//!
//! A registration is kept under its IPv6 binding's id, which it holds for
//! its whole life; the node's security association is found again by its
//! IPv6 home address (the index of a `[[dsmip6.mn]]` may change with the
//! config), and a registration whose node is no longer configured, or
//! whose NAI changed, is left out.

use std::net::IpAddr;
use std::time::Duration;

use dataplane::tunnel::TunnelKind;

use crate::store::records::{Clock, SavedCareOf6, SavedRegistration6, SavedTunnel6};

use super::{Binding, CareOf, Ha6, Home, Registration, Tunnel};

/// What became of a saved registration at restore.
#[derive(Debug, Clone, PartialEq)]
pub enum Restored {
    /// Back: install the forwarding of the home addresses it forwards
    /// ([`Registration::forwarded`]), as for `Output::Install`.
    Active(Box<Registration>),
    /// Its lifetime ran out while we were down.
    Expired,
    /// It clashes with what is already here (node, id, IPv4 home address)
    /// or names what this code does not know: left out.
    Conflict(&'static str),
}

fn home_name(h: Home) -> &'static str {
    match h {
        Home::Away => "away",
        Home::Ipv4 => "ipv4",
        Home::Ipv6 => "ipv6",
    }
}

fn home_of(name: &str) -> Option<Home> {
    [Home::Away, Home::Ipv4, Home::Ipv6].into_iter().find(|h| home_name(*h) == name)
}

fn saved_tunnel(t: &Tunnel) -> SavedTunnel6 {
    SavedTunnel6 {
        kind: t.kind.name().to_string(),
        local: t.local,
        remote: t.remote,
        local_port: t.local_port,
        peer_port: t.peer_port,
        nested: t.nested,
    }
}

/// A saved tunnel back; `None` for a kind a DSMIPv6 binding never has.
fn tunnel_of(t: &SavedTunnel6) -> Option<Tunnel> {
    let kind = [TunnelKind::IpIp, TunnelKind::Udp].into_iter().find(|k| k.name() == t.kind)?;
    Some(Tunnel {
        kind,
        local: t.local,
        remote: t.remote,
        local_port: t.local_port,
        peer_port: t.peer_port,
        nested: t.nested,
    })
}

impl Ha6 {
    /// Starts noting changed registrations for [`Ha6::take_changed`].
    pub fn track_changes(&mut self) {
        self.changed.get_or_insert_with(Default::default);
    }

    /// Ids (of the IPv6 bindings) of the registrations created, changed
    /// or removed since the last call.
    pub fn take_changed(&mut self) -> Vec<u32> {
        self.changed.as_mut().map(|c| std::mem::take(c).into_iter().collect()).unwrap_or_default()
    }

    /// Notes a change of registration `id` when changes are tracked.
    pub(super) fn note_changed(&mut self, id: u32) {
        if let Some(c) = self.changed.as_mut() {
            c.insert(id);
        }
    }

    /// Registration `id` (its IPv6 binding's id) as the store keeps it;
    /// `None` when there is none.
    pub fn saved(&self, id: u32, clock: Clock) -> Option<SavedRegistration6> {
        let r = self.by_v6_id.get(&id).and_then(|mn| self.regs.get(mn))?;
        let IpAddr::V6(hoa) = r.v6.hoa else { return None };
        let care_of = match r.care_of {
            CareOf::Ipv6(coa) => SavedCareOf6::Ipv6 { coa },
            CareOf::Ipv4 { coa, src, src_port, local, local_port, nat, udp_forced } => {
                SavedCareOf6::Ipv4 { coa, src, src_port, local, local_port, nat, udp_forced }
            }
        };
        let v4 = r.v4.as_ref().and_then(|b| match b.hoa {
            IpAddr::V4(a) => Some((b.id, a, b.prefix_len, saved_tunnel(&b.tunnel))),
            IpAddr::V6(_) => None,
        });
        Some(SavedRegistration6 {
            id,
            mn_id: r.v6.mn_id.to_string(),
            hoa,
            seq: r.seq,
            care_of,
            home: home_name(r.home).to_string(),
            v6_tunnel: saved_tunnel(&r.v6.tunnel),
            v4,
            lifetime_ms: u64::try_from(r.lifetime.as_millis()).unwrap_or(u64::MAX),
            expires_ms: clock.wall_ms(r.expires),
            last_mesg_id: self.last_mesg_id.get(&r.mn).copied(),
            deprecated: r.deprecated,
        })
    }

    /// Puts a saved registration back (before any Binding Update is
    /// handled). An expired one, or one that clashes with what is already
    /// here, is left out and said so. Its IPv4 home address is taken out of
    /// the pool (a static one, or one another role reserved here, already
    /// is).
    pub fn restore(&mut self, saved: SavedRegistration6, clock: Clock) -> Restored {
        let Some(expires) = clock.instant(saved.expires_ms) else { return Restored::Expired };
        let Some(&mn) = self.by_hoa.get(&saved.hoa) else { return Restored::Conflict("mobile node") };
        if *self.mn_name(mn) != *saved.mn_id {
            return Restored::Conflict("mobile node");
        }
        if self.regs.contains_key(&mn) {
            return Restored::Conflict("registration");
        }
        let (Some(home), Some(v6_tunnel)) = (home_of(&saved.home), tunnel_of(&saved.v6_tunnel)) else {
            return Restored::Conflict("home or tunnel kind");
        };
        let v4_id = saved.v4.as_ref().map(|(id, ..)| *id);
        let taken = |id: u32| id == 0 || self.ids.contains(&id);
        if taken(saved.id) || v4_id.is_some_and(|v| taken(v) || v == saved.id) {
            return Restored::Conflict("binding id");
        }
        let v4 = match &saved.v4 {
            Some((id, addr, prefix_len, t)) => {
                let Some(tunnel) = tunnel_of(t) else { return Restored::Conflict("home or tunnel kind") };
                if self.by_ipv4.contains_key(addr) || self.static_owner(*addr).is_some_and(|o| o != mn) {
                    return Restored::Conflict("IPv4 home address");
                }
                Some(Binding { id: *id, mn_id: self.mn_name(mn), hoa: (*addr).into(), prefix_len: *prefix_len, tunnel })
            }
            None => None,
        };
        if let Some(Binding { hoa: IpAddr::V4(a), .. }) = &v4 {
            // Already reserved when static (or held here by another role
            // for this node's shadow binding): reserved either way.
            self.pool.reserve(*a);
        }
        let care_of = match saved.care_of {
            SavedCareOf6::Ipv6 { coa } => CareOf::Ipv6(coa),
            SavedCareOf6::Ipv4 { coa, src, src_port, local, local_port, nat, udp_forced } => {
                CareOf::Ipv4 { coa, src, src_port, local, local_port, nat, udp_forced }
            }
        };
        if let Some(m) = saved.last_mesg_id {
            self.last_mesg_id.insert(mn, m);
        }
        let reg = Registration {
            mn,
            seq: saved.seq,
            care_of,
            lifetime: Duration::from_millis(saved.lifetime_ms),
            expires,
            v6: Binding {
                id: saved.id,
                mn_id: self.mn_name(mn),
                hoa: saved.hoa.into(),
                prefix_len: 128,
                tunnel: v6_tunnel,
            },
            v4,
            home,
            deprecated: saved.deprecated,
        };
        self.next_id = self.next_id.max(saved.id).max(v4_id.unwrap_or(0));
        self.store(reg.clone());
        Restored::Active(Box::new(reg))
    }
}

#[cfg(test)]
mod tests;
