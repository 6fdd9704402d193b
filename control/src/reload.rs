//! Configuration reload (`anchorctl reload`, SIGHUP): which changes the
//! running daemon may take. What may change live: profiles, the LMA's MAGs,
//! the home agents' mobile-node keys (MIPv4 and DSMIPv6) and foreign
//! agents, timers and limits of the roles, added pools, the log level and
//! the overload limits. What shapes ports, workers, tables and sockets
//! needs a restart; a reload that changes any of it is refused as a whole,
//! naming the keys, and changes nothing.

use anchor_config::Config;

/// "key: why" for each change in `new` that cannot be made while running;
/// empty when the reload may go ahead.
pub fn refused(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let restart = "cannot change while anchord runs (restart to apply)";
    let mut whole = |key: &str, same: bool| {
        if !same {
            out.push(format!("{key}: {restart}"));
        }
    };
    whole("eal", old.eal == new.eal);
    whole("cli", old.cli == new.cli);
    whole("metrics", old.metrics == new.metrics);
    whole("store", old.store == new.store);
    whole("dataplane", old.dataplane == new.dataplane);
    whole("neighbor", old.neighbor == new.neighbor);
    whole("port", old.ports == new.ports);
    whole("route", old.routes == new.routes);
    whole("tunnel", old.tunnel == new.tunnel);
    whole("binding", old.bindings == new.bindings);
    for (key, was, is) in [
        ("lma", old.lma.is_some(), new.lma.is_some()),
        ("ha", old.ha.is_some(), new.ha.is_some()),
        ("dsmip6", old.dsmip6.is_some(), new.dsmip6.is_some()),
    ] {
        if was != is {
            out.push(format!("{key}: a role cannot be turned {} while anchord runs", if is { "on" } else { "off" }));
        }
    }
    if let (Some(o), Some(n)) = (&old.lma, &new.lma) {
        if o.lmaa != n.lmaa {
            out.push(format!("lma.lmaa: {restart}"));
        }
        if o.ipv4_lmaa != n.ipv4_lmaa {
            out.push(format!("lma.ipv4_lmaa: {restart}"));
        }
    }
    if let (Some(o), Some(n)) = (&old.ha, &new.ha) {
        if o.address != n.address {
            out.push(format!("ha.address: {restart}"));
        }
    }
    // The DSMIPv6 home agent's mobile nodes are checked by the role (their
    // registrations are indexed by position): keys, SPIs and timers may
    // change, not who they are.
    if let (Some(o), Some(n)) = (&old.dsmip6, &new.dsmip6) {
        if o.address != n.address {
            out.push(format!("dsmip6.address: {restart}"));
        }
        if o.ipv4_address != n.ipv4_address {
            out.push(format!("dsmip6.ipv4_address: {restart}"));
        }
        if o.ipv4_pools != n.ipv4_pools {
            out.push(format!("dsmip6.ipv4_pools: {restart}"));
        }
    }
    // Pools may be added after the existing ones (whose positions the roles
    // name), not changed or removed.
    if !new.pools.ipv4.starts_with(&old.pools.ipv4) {
        out.push(
            "pools.ipv4: existing pools cannot change while anchord runs; new pools may be added after them".into(),
        );
    }
    if !new.pools.hnp.starts_with(&old.pools.hnp) {
        out.push(
            "pools.hnp: existing prefixes cannot change while anchord runs; new ones may be added after them".into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Config {
        anchor_config::parse(anchor_config::DEMO_TOML).unwrap()
    }

    #[test]
    fn the_same_configuration_reloads() {
        assert!(refused(&demo(), &demo()).is_empty());
    }

    #[test]
    fn profiles_peers_keys_timers_log_and_overload_may_change() {
        let old = demo();
        let mut new = demo();
        new.log.level = "debug".into();
        new.overload.peer_rate = 10;
        new.profiles.mobile_nodes.pop();
        let lma = new.lma.as_mut().unwrap();
        lma.mags.pop();
        lma.max_lifetime /= 2;
        lma.heartbeat_interval = None;
        let ha = new.ha.as_mut().unwrap();
        ha.mobile_nodes[0].key = vec![7; 16];
        ha.foreign_agents.pop();
        let ds = new.dsmip6.as_mut().unwrap();
        ds.mobile_nodes[0].key = vec![9; 20];
        ds.max_lifetime /= 2;
        let mut pool = new.pools.ipv4[0].clone();
        pool.subnet = "192.0.2.128/25".parse().unwrap();
        new.pools.ipv4.push(pool);
        assert_eq!(refused(&old, &new), Vec::<String>::new());
    }

    #[test]
    fn ports_addresses_and_shrinking_pools_are_refused_naming_each_key() {
        let old = demo();
        let mut new = demo();
        new.ports[0].mtu -= 100;
        new.dataplane.burst_size = 16;
        new.lma.as_mut().unwrap().lmaa = None;
        new.pools.ipv4.remove(0);
        let got = refused(&old, &new);
        let keys: Vec<&str> = got.iter().filter_map(|r| r.split(':').next()).collect();
        assert_eq!(keys, ["dataplane", "port", "lma.lmaa", "pools.ipv4"], "{got:?}");
        assert!(got.iter().all(|r| r.contains("anchord runs")), "{got:?}");
    }

    #[test]
    fn turning_a_role_off_is_refused() {
        let old = demo();
        let mut new = demo();
        new.ha = None;
        assert_eq!(refused(&old, &new), ["ha: a role cannot be turned off while anchord runs"]);
    }
}
