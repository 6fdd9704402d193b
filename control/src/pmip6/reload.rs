//! Configuration reload (`anchorctl reload`, SIGHUP): what the LMA takes
//! from a new configuration — its MAGs, profiles, timers and limits, grown
//! pools — while every session stays as it is.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use anchor_config::{Config, LmaConfig, Profile};

use super::timers::Timer;
use super::{slash64, Lma};
use crate::pool::{Ipv4HoaPool, PrefixPool};

/// The parts of the LMA that come from the configuration alone.
#[derive(Debug)]
pub(super) struct Policy {
    pub mags: HashMap<IpAddr, usize>,
    pub profiles: HashMap<String, Profile>,
    pub default_profile: Option<Profile>,
    pub static_hnp_owner: HashMap<Ipv6Addr, String>,
    pub static_hoa_owner: HashMap<Ipv4Addr, String>,
}

impl Policy {
    pub fn of(lma: &LmaConfig, cfg: &Config) -> Policy {
        let nodes = &cfg.profiles.mobile_nodes;
        Policy {
            mags: lma.mags.iter().enumerate().map(|(i, m)| (m.addr, i)).collect(),
            profiles: nodes.iter().map(|p| (p.mn_id.clone(), p.clone())).collect(),
            default_profile: cfg.profiles.default.clone(),
            static_hnp_owner: nodes
                .iter()
                .filter_map(|p| p.static_hnp.map(|h| (slash64(h.addr), p.mn_id.clone())))
                .collect(),
            static_hoa_owner: nodes.iter().filter_map(|p| p.static_ipv4_hoa.map(|a| (a, p.mn_id.clone()))).collect(),
        }
    }
}

/// A checked new configuration, ready to apply.
#[derive(Debug)]
pub struct LmaReload {
    cfg: LmaConfig,
    policy: Policy,
    prefixes: PrefixPool,
    hoas: Ipv4HoaPool,
}

impl Lma {
    /// Checks that `cfg` can replace the running configuration: the LMA
    /// role is still on and the pools still hold every address and prefix
    /// a session holds. Changes nothing.
    pub fn prepare_reload(&self, cfg: &Config) -> Result<LmaReload, String> {
        let lma = cfg.lma.clone().ok_or("lma: the LMA role cannot be turned off while running")?;
        let prefixes = self
            .prefixes
            .regrown(&cfg.pools.hnp, &cfg.reserved_hnps())
            .map_err(|p| format!("pools.hnp: {p}/64 is in use but would be in no pool (pools may grow, not shrink)"))?;
        let hoas = self
            .hoas
            .regrown(&cfg.pools.ipv4)
            .map_err(|a| format!("pools.ipv4: {a} is in use but would be in no pool (pools may grow, not shrink)"))?;
        Ok(LmaReload { policy: Policy::of(&lma, cfg), cfg: lma, prefixes, hoas })
    }

    /// Takes the new configuration. Sessions keep their addresses, tunnels
    /// and lifetimes (a shorter `max_lifetime` applies from their next
    /// re-registration); MAGs no longer listed lose their heartbeat state
    /// (their sessions stay until they expire or are revoked); a heartbeat
    /// interval turned on starts now.
    pub fn apply_reload(&mut self, r: LmaReload, now: Instant) {
        let heartbeat_started = self.cfg.heartbeat_interval.is_none() && r.cfg.heartbeat_interval.is_some();
        let Policy { mags, profiles, default_profile, static_hnp_owner, static_hoa_owner } = r.policy;
        self.peers.retain(|addr, _| mags.contains_key(addr));
        self.mags = mags;
        self.profiles = profiles;
        self.default_profile = default_profile;
        self.static_hnp_owner = static_hnp_owner;
        self.static_hoa_owner = static_hoa_owner;
        self.prefixes = r.prefixes;
        self.hoas = r.hoas;
        self.cfg = r.cfg;
        if let (true, true, Some(interval)) = (heartbeat_started, self.started, self.cfg.heartbeat_interval) {
            self.timers.arm(Timer::Heartbeat, now + interval);
        }
    }
}
