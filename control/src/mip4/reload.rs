//! Configuration reload (`anchorctl reload`, SIGHUP): what the home agent
//! takes from a new configuration — security associations (keys), foreign
//! agents and PMAs, profiles, timers and limits, grown pools — while every
//! binding stays as it is.

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use anchor_config::{Config, FaPeer, HaConfig, MnSecurityAssociation, Profile};

use super::{Dialect, Ha};
use crate::pool::{Ipv4HoaPool, PrefixPool};

/// The parts of the home agent that come from the configuration alone.
#[derive(Debug)]
pub(super) struct Policy {
    pub sas: HashMap<String, Vec<MnSecurityAssociation>>,
    pub fas: HashMap<Ipv4Addr, FaPeer>,
    pub profiles: HashMap<String, Profile>,
    pub default_profile: Option<Profile>,
    pub static_owner: HashMap<Ipv4Addr, String>,
    pub home_broadcasts: BTreeSet<Ipv4Addr>,
}

impl Policy {
    pub fn of(ha: &HaConfig, cfg: &Config) -> Policy {
        let mut sas: HashMap<String, Vec<MnSecurityAssociation>> = HashMap::new();
        for sa in &ha.mobile_nodes {
            sas.entry(sa.mn_id.clone()).or_default().push(sa.clone());
        }
        let nodes = &cfg.profiles.mobile_nodes;
        Policy {
            sas,
            fas: ha.foreign_agents.iter().map(|f| (f.addr, f.clone())).collect(),
            profiles: nodes.iter().map(|p| (p.mn_id.clone(), p.clone())).collect(),
            default_profile: cfg.profiles.default.clone(),
            static_owner: nodes.iter().filter_map(|p| p.static_ipv4_hoa.map(|a| (a, p.mn_id.clone()))).collect(),
            home_broadcasts: pools_of(ha, cfg).iter().map(|p| p.subnet.broadcast()).collect(),
        }
    }
}

/// The IPv4 pools the home agent hands addresses from (`ha.ipv4_pools`).
pub(super) fn pools_of(ha: &HaConfig, cfg: &Config) -> Vec<anchor_config::Ipv4Pool> {
    ha.ipv4_pools.iter().filter_map(|&i| cfg.pools.ipv4.get(i).cloned()).collect()
}

/// A checked new configuration, ready to apply.
#[derive(Debug)]
pub struct HaReload {
    cfg: HaConfig,
    policy: Policy,
    hoas: Ipv4HoaPool,
    prefixes: PrefixPool,
}

impl Ha {
    /// Checks that `cfg` can replace the running configuration: the home
    /// agent role is still on and its pools still hold every address and
    /// prefix a binding holds. Changes nothing.
    pub fn prepare_reload(&self, cfg: &Config) -> Result<HaReload, String> {
        let ha = cfg.ha.clone().ok_or("ha: the home agent role cannot be turned off while running")?;
        let hoas = self.hoas.regrown(&pools_of(&ha, cfg)).map_err(|a| {
            format!(
                "ha.ipv4_pools: {a} is in use but would be in no pool of the home agent (pools may grow, not shrink)"
            )
        })?;
        let prefixes = self
            .prefixes
            .regrown(&cfg.pools.hnp, &cfg.reserved_hnps())
            .map_err(|p| format!("pools.hnp: {p}/64 is in use but would be in no pool (pools may grow, not shrink)"))?;
        Ok(HaReload { policy: Policy::of(&ha, cfg), cfg: ha, hoas, prefixes })
    }

    /// Takes the new configuration. Bindings keep their addresses, tunnels
    /// and lifetimes; a changed key authenticates the next request; a
    /// removed association or foreign agent refuses the next request of
    /// its node (the binding stays until it expires or is cleared).
    pub fn apply_reload(&mut self, r: HaReload) {
        let Policy { sas, fas, profiles, default_profile, static_owner, home_broadcasts } = r.policy;
        self.sas = sas;
        self.fas = fas;
        self.profiles = profiles;
        self.default_profile = default_profile;
        self.static_owner = static_owner;
        self.home_broadcasts = home_broadcasts;
        self.hoas = r.hoas;
        self.prefixes = r.prefixes;
        self.dialect = Dialect { dsmip4_draft01: r.cfg.dsmip4_draft01_type };
        self.cfg = r.cfg;
    }
}
