//! What the store keeps of a session: plain data, times as milliseconds
//! since the Unix epoch (a monotonic `Instant` means nothing after a
//! restart). The role modules convert their entries to and from these
//! (`pmip6::persist`, `mip4::persist`); only what a restarted anchor needs
//! to go on forwarding and answering is kept — transient state (held
//! PBUs, outstanding BRIs and revocations, heartbeat misses) is not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

/// A PMIPv6 Binding Cache Entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSession {
    pub id: u32,
    pub mn_id: String,
    pub mn_id_subtype: u8,
    pub mn_id_hex: bool,
    /// Still forwarding (`true`), or deprecated waiting for deletion.
    pub active: bool,
    pub att: u8,
    pub mn_ll_id: Vec<u8>,
    pub link_local: Option<Ipv6Addr>,
    pub hnps: Vec<Ipv6Addr>,
    /// Address, prefix length, default router.
    pub ipv4_hoa: Option<(Ipv4Addr, u8, Ipv4Addr)>,
    pub proxy_coa: IpAddr,
    pub local: IpAddr,
    pub encap: SavedEncap,
    pub lifetime_ms: u64,
    /// Lifetime end (Unix ms).
    pub expires_ms: u64,
    /// When the session timer fires: expiry, or deletion while deprecated.
    pub timer_ms: u64,
    pub last_seq: u16,
    pub last_timestamp: Option<u64>,
    /// The MAG's signalling address and how it signals (the UDP port of
    /// IPv4 transport, `None` for IPv6).
    pub mag: IpAddr,
    pub mag_udp_port: Option<u16>,
}

/// A PMIPv6 session's tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SavedEncap {
    IpIp,
    Gre { key_up: Option<u32>, key_down: Option<u32> },
    Udp { mag_port: u16 },
    UdpTlv { mag_port: u16, key_up: u32, key_down: u32 },
}

/// A Mobile IPv4 home agent binding (MIPv4, DSMIPv4, PMIPv4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedBinding {
    pub id: u32,
    pub mn_id: String,
    /// `mip4`, `dsmip4` or `pmip4`.
    pub role: String,
    pub hoa: Ipv4Addr,
    pub hoa_prefix_len: u8,
    pub default_router: Option<Ipv4Addr>,
    pub coa: Ipv4Addr,
    pub registered_from: (Ipv4Addr, u16),
    /// `ipip`, `gre` or `mip-udp`.
    pub tunnel_kind: String,
    pub tunnel_local: Ipv4Addr,
    pub tunnel_remote: Ipv4Addr,
    pub key_in: Option<u32>,
    pub key_out: Option<u32>,
    pub peer_port: u16,
    pub awaiting_keepalive: bool,
    pub reverse_tunnel: bool,
    pub prefixes: Vec<Ipv6Addr>,
    pub ipv6_to_coa: bool,
    pub home_address6: Option<Ipv6Addr>,
    pub lifetime_ms: u64,
    pub expires_ms: u64,
    pub identification: u64,
    pub att: Option<u8>,
    pub interface_id: Option<Vec<u8>>,
    pub device_id: Option<(u8, Vec<u8>)>,
    pub subscriber_id: Option<(u8, Vec<u8>)>,
    /// Revocation peer: address, via a foreign agent, I bit.
    pub revocation: Option<(Ipv4Addr, bool, bool)>,
}

/// A DSMIPv6 home registration (RFC 6275 / RFC 5555): the node's IPv6
/// home address binding and, when RFC 5555's IPv4 part was accepted, its
/// IPv4 one. Keyed by the IPv6 binding's id, which a registration keeps
/// for its whole life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRegistration6 {
    /// The IPv6 home address's binding id (the record's key).
    pub id: u32,
    /// The node's name in bindings: its NAI, or the IPv6 home address.
    pub mn_id: String,
    /// The IPv6 home address: finds the node's security association again.
    pub hoa: Ipv6Addr,
    /// Sequence number of the last accepted Binding Update.
    pub seq: u16,
    pub care_of: SavedCareOf6,
    /// `away`, `ipv4` or `ipv6` (on which home link the node is).
    pub home: String,
    pub v6_tunnel: SavedTunnel6,
    /// The IPv4 home address binding: id, address, prefix length, tunnel.
    pub v4: Option<(u32, Ipv4Addr, u8, SavedTunnel6)>,
    pub lifetime_ms: u64,
    pub expires_ms: u64,
    /// The last accepted RFC 4285 MESG-ID (replay protection across the restart).
    pub last_mesg_id: Option<u64>,
    /// De-registered, to be deleted at `expires_ms` (PROTOCOLS.md §11.4).
    #[serde(default)]
    pub deprecated: bool,
}

/// How a DSMIPv6 node is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SavedCareOf6 {
    Ipv6 { coa: Ipv6Addr },
    Ipv4 { coa: Ipv4Addr, src: Ipv4Addr, src_port: u16, local: Ipv4Addr, local_port: u16, nat: bool, udp_forced: bool },
}

/// A DSMIPv6 binding's tunnel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTunnel6 {
    /// `ipip` or `udp`.
    pub kind: String,
    pub local: IpAddr,
    pub remote: IpAddr,
    pub local_port: u16,
    pub peer_port: u16,
    pub nested: bool,
}

/// The clock pair a conversion needs: a monotonic instant and the time of
/// day taken together.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: Instant,
    pub wall: SystemTime,
}

impl Clock {
    pub fn new(now: Instant, wall: SystemTime) -> Clock {
        Clock { now, wall }
    }

    /// Unix milliseconds of the time time `at` stands for.
    pub fn wall_ms(&self, at: Instant) -> u64 {
        let wall_now = self.wall.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let at = match at.checked_duration_since(self.now) {
            Some(ahead) => wall_now.saturating_add(ahead),
            None => wall_now.saturating_sub(self.now.saturating_duration_since(at)),
        };
        u64::try_from(at.as_millis()).unwrap_or(u64::MAX)
    }

    /// The instant of Unix milliseconds `ms`; `None` when that time has
    /// passed (or cannot be an instant).
    pub fn instant(&self, ms: u64) -> Option<Instant> {
        let wall_now = self.wall.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let ahead = Duration::from_millis(ms).checked_sub(wall_now).filter(|d| !d.is_zero())?;
        self.now.checked_add(ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_ahead_goes_to_wall_milliseconds_and_back_and_a_past_one_is_gone() {
        let c = Clock::new(Instant::now(), SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
        let ahead = c.now + Duration::from_millis(40_500);
        assert_eq!(c.wall_ms(ahead), 1_000_040_500);
        assert_eq!(c.instant(1_000_040_500), Some(ahead));
        assert_eq!(c.instant(1_000_000_000), None);
        assert_eq!(c.instant(999_000_000), None);
        // After a restart: another monotonic origin, the same time of day.
        let later = Clock::new(Instant::now() + Duration::from_secs(5), c.wall + Duration::from_secs(10));
        assert_eq!(later.instant(1_000_040_500), Some(later.now + Duration::from_millis(30_500)));
    }
}
