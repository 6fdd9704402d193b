//! The home agent's side of the session store (issue 7): which bindings
//! changed, each one as a [`SavedBinding`], and a saved binding put back
//! after a restart — indexes, lifetime timer, home address, prefixes and
//! uplink GRE key taken out of the pools, the Identification remembered
//! against replays — as if its request had just been accepted, but with
//! no reply.

use std::time::Duration;

use dataplane::tunnel::TunnelKind;

use crate::store::records::{Clock, SavedBinding};

use super::{Binding, Ha, RevocationPeer, Role, Tunnel};

/// What became of a saved binding at restore.
#[derive(Debug, Clone, PartialEq)]
pub enum Restored {
    /// Back: install its forwarding (as for `Output::Install`).
    Installed(Binding),
    /// Back, but RFC 3519 R = 1 and no keepalive yet: nothing to install.
    AwaitingKeepalive(Binding),
    /// Its lifetime ran out while we were down.
    Expired,
    /// It clashes with what is already here (id, NAI, home address,
    /// prefix, key) or names what this code does not know: left out.
    Conflict(&'static str),
}

fn role_of(name: &str) -> Option<Role> {
    [Role::Mip4, Role::Dsmip4, Role::Pmip4].into_iter().find(|r| r.name() == name)
}

fn kind_of(name: &str) -> Option<TunnelKind> {
    [TunnelKind::IpIp, TunnelKind::Gre, TunnelKind::MipUdp].into_iter().find(|k| k.name() == name)
}

impl Ha {
    /// Starts noting changed bindings for [`Ha::take_changed`].
    pub fn track_changes(&mut self) {
        self.changed.get_or_insert_with(Default::default);
    }

    /// Ids of the bindings created, changed or removed since the last call.
    pub fn take_changed(&mut self) -> Vec<u32> {
        self.changed.as_mut().map(|c| std::mem::take(c).into_iter().collect()).unwrap_or_default()
    }

    /// Binding `id` as the store keeps it; `None` when there is none.
    pub fn saved(&self, id: u32, clock: Clock) -> Option<SavedBinding> {
        let b = self.bindings.get(&id)?;
        Some(SavedBinding {
            id,
            mn_id: b.mn_id.to_string(),
            role: b.role.name().to_string(),
            hoa: b.hoa,
            hoa_prefix_len: b.hoa_prefix_len,
            default_router: b.default_router,
            coa: b.coa,
            registered_from: b.registered_from,
            tunnel_kind: b.tunnel.kind.name().to_string(),
            tunnel_local: b.tunnel.local,
            tunnel_remote: b.tunnel.remote,
            key_in: b.tunnel.key_in,
            key_out: b.tunnel.key_out,
            peer_port: b.tunnel.peer_port,
            awaiting_keepalive: b.awaiting_keepalive,
            reverse_tunnel: b.reverse_tunnel,
            prefixes: b.prefixes.clone(),
            ipv6_to_coa: b.ipv6_to_coa,
            home_address6: b.home_address6,
            lifetime_ms: u64::try_from(b.lifetime.as_millis()).unwrap_or(u64::MAX),
            expires_ms: clock.wall_ms(b.expires),
            identification: b.identification,
            att: b.att,
            interface_id: b.interface_id.clone(),
            device_id: b.device_id.clone(),
            subscriber_id: b.subscriber_id.clone(),
            revocation: b.revocation.map(|r| (r.addr, r.via_fa, r.i_bit)),
        })
    }

    /// Puts a saved binding back (before any request is handled). An
    /// expired one, or one that clashes with what is already here, is left
    /// out and said so.
    pub fn restore(&mut self, saved: SavedBinding, clock: Clock) -> Restored {
        let Some(expires) = clock.instant(saved.expires_ms) else { return Restored::Expired };
        let (Some(role), Some(kind)) = (role_of(&saved.role), kind_of(&saved.tunnel_kind)) else {
            return Restored::Conflict("role or tunnel kind");
        };
        let id = saved.id;
        if id == 0 || self.bindings.contains_key(&id) {
            return Restored::Conflict("binding id");
        }
        if self.by_mn.contains_key(&(saved.mn_id.clone(), saved.att)) {
            return Restored::Conflict("NAI");
        }
        if self.by_hoa.contains_key(&saved.hoa) || self.hoas.is_in_use(saved.hoa) {
            return Restored::Conflict("home address");
        }
        if saved.prefixes.iter().any(|p| self.prefixes.is_in_use(*p)) {
            return Restored::Conflict("prefix");
        }
        if saved.home_address6.is_some_and(|a| self.by_addr6.contains_key(&a)) {
            return Restored::Conflict("IPv6 home address");
        }
        if let Some(k) = saved.key_in {
            if !self.keys.reserve(u64::from(k)) {
                return Restored::Conflict("GRE key");
            }
        }
        // Static addresses outside the pools are not reserved; the indexes
        // keep them unique.
        self.hoas.reserve(saved.hoa);
        for p in &saved.prefixes {
            self.prefixes.reserve(*p);
        }
        self.last_id.insert(saved.mn_id.clone(), saved.identification);
        let b = Binding {
            id,
            mn_id: saved.mn_id.as_str().into(),
            role,
            hoa: saved.hoa,
            hoa_prefix_len: saved.hoa_prefix_len,
            default_router: saved.default_router,
            coa: saved.coa,
            registered_from: saved.registered_from,
            tunnel: Tunnel {
                kind,
                local: saved.tunnel_local,
                remote: saved.tunnel_remote,
                key_in: saved.key_in,
                key_out: saved.key_out,
                peer_port: saved.peer_port,
            },
            awaiting_keepalive: saved.awaiting_keepalive,
            reverse_tunnel: saved.reverse_tunnel,
            prefixes: saved.prefixes,
            ipv6_to_coa: saved.ipv6_to_coa,
            home_address6: saved.home_address6,
            lifetime: Duration::from_millis(saved.lifetime_ms),
            expires,
            identification: saved.identification,
            att: saved.att,
            interface_id: saved.interface_id,
            device_id: saved.device_id,
            subscriber_id: saved.subscriber_id,
            revocation: saved.revocation.map(|(addr, via_fa, i_bit)| RevocationPeer { addr, via_fa, i_bit }),
        };
        self.next_id = self.next_id.max(id);
        self.insert_binding(b.clone());
        if b.awaiting_keepalive {
            Restored::AwaitingKeepalive(b)
        } else {
            Restored::Installed(b)
        }
    }
}

#[cfg(test)]
mod tests;
