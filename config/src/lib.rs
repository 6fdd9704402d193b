//! Anchor's configuration: the TOML schema, its validation, and the EAL
//! arguments derived from it.
//!
//! One TOML file configures `anchord`. [`parse`] and [`load`] turn it into a
//! [`Config`] in which every rule already holds; a broken rule is a
//! [`ConfigError`] that names the key path (`port[1].ipv4[0]`,
//! `route[0].port`) and the reason. Unknown keys and wrong types are reported
//! by toml with line and column.
//!
//! `config/demo.toml` (embedded as [`DEMO_TOML`]) documents every key and
//! matches the demo network of `DESIGN.md`; `config/production.example.toml`
//! shows a bare-metal setup.

mod cidr;
mod error;
mod model;
mod raw;
mod validate;

use std::path::Path;

pub use cidr::{CidrError, IpCidr, Ipv4Cidr, Ipv6Cidr};
pub use error::ConfigError;
pub use model::{
    AuthAlgorithm, CliConfig, Config, DataplaneConfig, Dsmip6Config, Dsmip6Mn, EalConfig, EcnMode, FaPeer, GrePolicy,
    HaConfig, Ipv4Pool, LmaConfig, LogConfig, MagPeer, MetricsConfig, MnSecurityAssociation, NeighborConfig, Ordering,
    OverloadConfig, PeerFailureAction, PoolsConfig, PortConfig, PortDevice, PortRole, Profile, ProfilesConfig,
    ReverseTunnelPolicy, RouteConfig, StaticBinding, StoreConfig, TunnelConfig, TunnelMode,
};

/// The demo configuration (`config/demo.toml`), the default when `anchord`
/// runs from the repository.
pub const DEMO_TOML: &str = include_str!("../demo.toml");

/// Parses and validates TOML text.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let raw: raw::RawConfig = toml::from_str(text)?;
    validate::validate(raw)
}

/// Reads the file at `path`, then [`parse`]s it; every error message starts
/// with the path.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.to_owned(), error })?;
    parse(&text).map_err(|error| ConfigError::InFile { path: path.to_owned(), error: Box::new(error) })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::net::IpAddr;
    use std::path::PathBuf;

    use serde::Deserialize as _;

    use super::*;

    const PRODUCTION_TOML: &str = include_str!("../production.example.toml");

    #[test]
    fn demo_config_parses_and_matches_the_demo_network() {
        let c = parse(DEMO_TOML).unwrap();
        assert_eq!(c.eal.file_prefix, "anchor-demo");
        assert_eq!(c.eal.control_cpus, "0-1");
        assert_eq!(c.eal.worker_cpus, [1]);
        assert_eq!(c.dataplane.idle_backoff_us, 50);
        assert_eq!(c.cli.socket, PathBuf::from("/run/anchor/anchord.sock"));
        let core = &c.ports[c.port_index("core").unwrap()];
        assert_eq!(core.role, PortRole::Core);
        assert_eq!(core.device.dpdk_name(), "net_af_packet0");
        assert_eq!(core.ipv4, ["192.0.2.1/24".parse().unwrap()]);
        assert_eq!(core.ipv6, ["2001:db8:1::1/64".parse().unwrap()]);
        let home_index = c.port_index("home").unwrap();
        let home = &c.ports[home_index];
        assert_eq!(home.role, PortRole::Home);
        assert_eq!(home.device, PortDevice::Vdev("net_af_packet1,iface=lma-home,qpairs=2".into()));
        assert_eq!(home.ipv4, ["198.51.100.1/24".parse().unwrap()]);
        assert_eq!(home.ipv6, ["2001:db8:2::1/64".parse().unwrap()]);
        let routes: Vec<(String, IpAddr, usize)> =
            c.routes.iter().map(|r| (r.prefix.to_string(), r.via, r.port)).collect();
        assert_eq!(
            routes,
            [
                ("0.0.0.0/0".into(), "198.51.100.2".parse().unwrap(), home_index),
                ("::/0".into(), "2001:db8:2::2".parse().unwrap(), home_index),
            ]
        );
        assert_eq!(
            c.tunnel,
            TunnelConfig {
                ttl: 64,
                ecn: EcnMode::Normal,
                mtu: Some(1500),
                ipv6_over_ipv4_mtu: 1280,
                fib_capacity: 1 << 20,
            }
        );
    }

    #[test]
    fn demo_config_has_exactly_one_binding_pinning_pinned_to_mag1_over_keyed_gre() {
        let c = parse(DEMO_TOML).unwrap();
        assert_eq!(
            c.bindings,
            [StaticBinding {
                mn_id: "pinned@anchor.test".into(),
                vrf: 0,
                ipv4_hoa: Some("203.0.113.250".parse().unwrap()),
                hnps: Vec::new(),
                ipv6_hoa: None,
                endpoint: "192.0.2.2".parse().unwrap(),
                local: "192.0.2.1".parse().unwrap(),
                tunnel: TunnelMode::Gre { key_in: Some(100), key_out: Some(200) },
                dscp: Some(46),
                port: c.port_index("core").unwrap(),
            }]
        );
    }

    /// The commented-out examples of `text` whose table header is `header`.
    fn examples_of(text: &str, header: &str) -> Vec<String> {
        commented_examples(text).into_iter().filter(|e| e.lines().next() == Some(header)).collect()
    }

    #[test]
    fn demo_commented_binding_examples_are_valid_and_show_every_other_tunnel_kind() {
        let examples = examples_of(DEMO_TOML, "[[binding]]");
        let mut kinds = vec![parse(DEMO_TOML).unwrap().bindings[0].tunnel.name()];
        for example in &examples {
            let c = parse(&format!("{DEMO_TOML}\n{example}"))
                .unwrap_or_else(|e| panic!("example\n{example}\nis invalid: {e}"));
            assert_eq!(c.bindings.len(), 2, "{example}");
            kinds.push(c.bindings[1].tunnel.name());
        }
        kinds.sort_unstable();
        assert_eq!(kinds, ["gre", "ipip", "mip-udp", "udp", "udp-tlv"]);
        // All of them at once, too.
        let all = parse(&format!("{DEMO_TOML}\n{}", examples.join("\n"))).unwrap();
        assert_eq!(all.bindings.len(), 1 + examples.len());
        let ipip = &all.bindings[1];
        assert_eq!(ipip.local, "2001:db8:1::1".parse::<IpAddr>().unwrap());
        assert_eq!(ipip.hnps, ["2001:db8:100:1::/64".parse().unwrap()]);
    }

    #[test]
    fn demo_commented_examples_are_bindings_a_default_profile_and_a_static_prefix_profile() {
        let headers: BTreeSet<String> =
            commented_examples(DEMO_TOML).iter().filter_map(|e| e.lines().next().map(str::to_owned)).collect();
        assert_eq!(
            headers,
            BTreeSet::from(["[[binding]]".into(), "[[profiles.mn]]".into(), "[profiles.default]".into()])
        );
        // Every example at once (bindings, profiles) is valid too.
        let all = parse(&format!("{DEMO_TOML}\n{}", commented_examples(DEMO_TOML).join("\n"))).unwrap();
        assert!(all.profiles.default.is_some());
        assert_eq!(all.profiles.mobile_nodes.len(), 6);
    }

    #[test]
    fn demo_config_turns_the_lma_on_with_exactly_the_demo_mag_allow_list() {
        let c = parse(DEMO_TOML).unwrap();
        let lma = c.lma.as_ref().expect("the demo runs the LMA");
        assert_eq!(lma.lmaa, Some("2001:db8:1::1".parse().unwrap()));
        assert_eq!(lma.ipv4_lmaa, Some("192.0.2.1".parse().unwrap()));
        let mags: Vec<(&str, IpAddr, Ordering)> =
            lma.mags.iter().map(|m| (m.name.as_str(), m.addr, m.ordering)).collect();
        assert_eq!(
            mags,
            [
                ("mag1", "2001:db8:1::2".parse().unwrap(), Ordering::Timestamp),
                ("mag2", "2001:db8:1::3".parse().unwrap(), Ordering::Timestamp),
                ("mag1-v4", "192.0.2.2".parse().unwrap(), Ordering::Timestamp),
                ("mag2-v4", "192.0.2.3".parse().unwrap(), Ordering::Timestamp),
            ]
        );
        // The demo spells out the standards' defaults.
        assert_eq!(LmaConfig { mags: Vec::new(), lmaa: None, ipv4_lmaa: None, ..lma.clone() }, LmaConfig::default());
        assert_eq!(lma.mag("192.0.2.3".parse().unwrap()).map(|(i, _)| i), Some(3));
        assert_eq!(lma.mag("192.0.2.4".parse().unwrap()), None);
    }

    #[test]
    fn demo_config_runs_the_home_agent_with_keys_for_three_demo_nodes_and_two_pmas() {
        let c = parse(DEMO_TOML).unwrap();
        let ha = c.ha.as_ref().expect("the demo runs the home agent");
        assert_eq!(ha.address, "192.0.2.1".parse::<std::net::Ipv4Addr>().unwrap());
        let nais: Vec<&str> = ha.mobile_nodes.iter().map(|s| s.mn_id.as_str()).collect();
        assert_eq!(nais, ["v4only@anchor.test", "dual@anchor.test", "static4@anchor.test"]);
        assert!(ha.mobile_nodes.iter().all(|s| s.key.len() == 16 && s.algorithm == AuthAlgorithm::HmacMd5));
        let fas: Vec<(&str, String, bool)> =
            ha.foreign_agents.iter().map(|f| (f.name.as_str(), f.addr.to_string(), f.proxy)).collect();
        assert_eq!(fas, [("pma1", "192.0.2.2".into(), true), ("pma2", "192.0.2.3".into(), true)]);
        assert_eq!(ha.ipv4_pools, [0]);
        // The demo spells out the defaults, except for what it sets on purpose.
        let d = HaConfig::default();
        assert_eq!(
            HaConfig {
                address: d.address,
                max_bindings: d.max_bindings,
                redirect_to: None,
                dsmip4_draft01_type: None,
                ipv4_pools: Vec::new(),
                mobile_nodes: Vec::new(),
                foreign_agents: Vec::new(),
                ..ha.clone()
            },
            d
        );
        // Every demo node may register with the home agent but ds6, the
        // DSMIPv6 node, whose profile is for its PMIPv6 home link only.
        assert!(c.profiles.mobile_nodes.iter().all(|p| p.mip4 || p.mn_id == "ds6@anchor.test"));
        assert_eq!(ha.dsmip4_draft01_type, Some(200));
    }

    #[test]
    fn demo_pools_match_the_demo_network_and_exclude_the_static_addresses() {
        let c = parse(DEMO_TOML).unwrap();
        assert_eq!(c.pools.hnp, ["2001:db8:100::/48".parse().unwrap()]);
        assert_eq!(
            c.pools.ipv4,
            [Ipv4Pool {
                subnet: "203.0.113.0/24".parse().unwrap(),
                default_router: "203.0.113.1".parse().unwrap(),
                // Listed (the pinned binding), then added (static4's profile,
                // the DSMIPv6 node's static IPv4 home address).
                exclude: vec![
                    "203.0.113.250".parse().unwrap(),
                    "203.0.113.200".parse().unwrap(),
                    "203.0.113.201".parse().unwrap(),
                ],
            }]
        );
        let pool = &c.pools.ipv4[0];
        assert!(pool.is_dynamic("203.0.113.2".parse().unwrap()));
        for never in ["203.0.113.0", "203.0.113.1", "203.0.113.200", "203.0.113.250", "203.0.113.255", "198.51.100.9"] {
            assert!(!pool.is_dynamic(never.parse().unwrap()), "{never}");
        }
        assert!(c.reserved_hnps().is_empty());
    }

    #[test]
    fn demo_profiles_are_the_demo_mobile_nodes_and_unknown_nais_get_none() {
        let c = parse(DEMO_TOML).unwrap();
        assert_eq!(c.profiles.default, None);
        let p = |mn_id: &str, ipv4: bool, ipv6: bool, static_ipv4_hoa: Option<&str>| Profile {
            mn_id: mn_id.into(),
            ipv4,
            ipv6,
            static_ipv4_hoa: static_ipv4_hoa.map(|a| a.parse().unwrap()),
            ..Profile::default()
        };
        assert_eq!(
            c.profiles.mobile_nodes,
            [
                p("dual@anchor.test", true, true, None),
                p("v4only@anchor.test", true, false, None),
                p("v6only@anchor.test", false, true, None),
                p("static4@anchor.test", true, true, Some("203.0.113.200")),
                Profile { mip4: false, ..p("ds6@anchor.test", true, true, None) },
            ]
        );
        assert_eq!(c.profiles.lookup("v6only@anchor.test").map(|p| p.ipv4), Some(false));
        assert_eq!(c.profiles.lookup("stranger@anchor.test"), None);
        assert!(c.profiles.mobile_nodes.iter().all(|p| p.allows_mag("mag2-v4")));
    }

    #[test]
    fn demo_default_profile_example_applies_to_unlisted_nais() {
        let example = examples_of(DEMO_TOML, "[profiles.default]").concat();
        let c = parse(&format!("{DEMO_TOML}\n{example}")).unwrap();
        let default = c.profiles.lookup("stranger@anchor.test").unwrap();
        assert_eq!(default.mn_id, "");
        assert_eq!(default.max_lifetime, Some(std::time::Duration::from_secs(1800)));
        assert!(default.allows_mag("mag2") && !default.allows_mag("mag1-v4"));
        // Listed NAIs keep their own profile.
        assert_eq!(c.profiles.lookup("v4only@anchor.test").map(|p| p.ipv6), Some(false));
    }

    #[test]
    fn demo_static_prefix_profile_example_reserves_its_prefix() {
        let example = examples_of(DEMO_TOML, "[[profiles.mn]]").concat();
        let c = parse(&format!("{DEMO_TOML}\n{example}")).unwrap();
        let fixed = c.profiles.lookup("fixed6@anchor.test").unwrap();
        assert_eq!(fixed.static_hnp, Some("2001:db8:100:ff::/64".parse().unwrap()));
        assert_eq!(c.reserved_hnps(), ["2001:db8:100:ff::/64".parse().unwrap()]);
    }

    #[test]
    fn production_commented_binding_example_is_valid() {
        let examples = commented_examples(PRODUCTION_TOML);
        assert_eq!(examples.len(), 1);
        let c = parse(&format!("{PRODUCTION_TOML}\n{}", examples[0])).unwrap();
        let core = c.port_index("core").unwrap();
        assert_eq!(c.bindings.len(), 1);
        assert_eq!(c.bindings[0].vrf, 7);
        assert_eq!(c.bindings[0].port, core);
        assert_eq!(c.bindings[0].local, "192.0.2.1".parse::<IpAddr>().unwrap());
        let c = parse(PRODUCTION_TOML).unwrap();
        assert!(c.bindings.is_empty());
        assert_eq!(c.tunnel.fib_capacity, 1 << 22);
        assert_eq!(c.tunnel.mtu, None);
        assert_eq!(c.tunnel.path_mtu(&c.ports[core]), 1600);
    }

    #[test]
    fn production_example_runs_the_lma_with_routed_mags_and_a_default_profile() {
        let c = parse(PRODUCTION_TOML).unwrap();
        let lma = c.lma.as_ref().unwrap();
        assert_eq!(lma.lmaa, Some("2001:db8:10::1".parse().unwrap()));
        assert_eq!(lma.ipv4_lmaa, Some("192.0.2.1".parse().unwrap()));
        assert!(lma.mags.len() >= 2);
        assert!(lma.mags.iter().any(|m| m.ordering == Ordering::Sequence));
        assert!(c.profiles.default.is_some());
        assert!(!c.pools.hnp.is_empty() && !c.pools.ipv4.is_empty());
    }

    #[test]
    fn eal_args_for_the_demo_config_pin_control_and_worker_and_add_vdevs() {
        let args = parse(DEMO_TOML).unwrap().eal_args("anchord");
        assert_eq!(
            args,
            [
                "anchord",
                "--lcores",
                "0@(0-1),1@1",
                "--main-lcore",
                "0",
                "--file-prefix",
                "anchor-demo",
                "--vdev",
                "net_af_packet0,iface=lma-core,qpairs=2",
                "--vdev",
                "net_af_packet1,iface=lma-home,qpairs=2",
                "--no-huge",
                "-m",
                "256",
                "--no-pci",
            ]
        );
    }

    #[test]
    fn production_example_parses_with_pci_ports_and_hugepages() {
        let c = parse(PRODUCTION_TOML).unwrap();
        assert_eq!(c.workers(), 4);
        assert_eq!(c.eal.control_cpus, "0");
        assert_eq!(c.dataplane.idle_backoff_us, 0);
        assert!(c.ports.iter().all(|p| matches!(p.device, PortDevice::Pci(_))));
        assert!(!c.eal.args.iter().any(|a| a == "--no-huge"));
        let args = c.eal_args("anchord");
        assert_eq!(args.iter().filter(|a| *a == "-a").count(), 2);
        assert!(!args.iter().any(|a| a == "--vdev"));
    }

    #[test]
    fn defaults_are_applied_to_every_optional_section() {
        let c = parse(
            "[[port]]\nname = \"p\"\nrole = \"core\"\ndevice = \"net_ring0\"\n\
             ipv6 = [\"2001:db8::1/64\"]\n",
        )
        .unwrap();
        assert_eq!(c.eal, EalConfig::default());
        assert_eq!(c.log, LogConfig::default());
        assert_eq!(c.cli, CliConfig::default());
        assert_eq!(c.metrics, MetricsConfig::default());
        assert_eq!(c.metrics.listen, None);
        assert_eq!(c.dataplane, DataplaneConfig::default());
        assert_eq!(c.neighbor, NeighborConfig::default());
        assert!(c.routes.is_empty());
        assert_eq!(c.tunnel, TunnelConfig::default());
        assert!(c.bindings.is_empty());
        assert_eq!(c.lma, None);
        assert_eq!(c.pools, PoolsConfig::default());
        assert_eq!(c.profiles, ProfilesConfig::default());
        assert_eq!(c.ports[0].mtu, 1500);
        assert!(c.ports[0].ipv4.is_empty());
        // The documented defaults, spelled out once.
        assert_eq!(c.dataplane.burst_size, 32);
        assert_eq!(c.dataplane.rx_ring_size, 1024);
        assert_eq!(c.dataplane.tx_ring_size, 1024);
        assert_eq!(c.dataplane.mbufs_per_socket, 8191);
        assert_eq!(c.dataplane.mbuf_cache, 256);
        assert_eq!(c.dataplane.punt_ring_size, 1024);
        assert_eq!(c.dataplane.idle_backoff_us, 0);
        assert_eq!(c.neighbor.retry_interval_ms, 1000);
        assert_eq!(c.neighbor.max_retries, 3);
        assert_eq!(c.neighbor.reachable_s, 300);
        assert_eq!(c.cli.socket, PathBuf::from("/run/anchor/anchord.sock"));
        assert_eq!(c.log.level, "info");
        assert_eq!(c.tunnel.ttl, 64);
        assert_eq!(c.tunnel.ecn, EcnMode::Normal);
        assert_eq!(c.tunnel.mtu, None);
        assert_eq!(c.tunnel.ipv6_over_ipv4_mtu, 1280);
        assert_eq!(c.tunnel.fib_capacity, 1_048_576);
        assert_eq!(c.workers(), 1);
    }

    #[test]
    fn an_lma_section_with_an_address_and_a_mag_gets_the_standards_defaults() {
        let c = parse(
            "[[port]]\nname = \"p\"\nrole = \"core\"\ndevice = \"net_ring0\"\n\
             ipv6 = [\"2001:db8::1/64\"]\n[lma]\nlmaa = \"2001:db8::1\"\n\
             [[lma.mag]]\nname = \"m\"\naddress = \"2001:db8::2\"\n",
        )
        .unwrap();
        let lma = c.lma.unwrap();
        let mag = MagPeer { name: "m".into(), addr: "2001:db8::2".parse().unwrap(), ordering: Ordering::Timestamp };
        assert_eq!(
            lma,
            LmaConfig { lmaa: Some("2001:db8::1".parse().unwrap()), mags: vec![mag], ..LmaConfig::default() }
        );
        // The documented defaults, spelled out once.
        use std::time::Duration;
        assert_eq!(lma.min_delay_before_bce_delete, Duration::from_millis(10_000));
        assert_eq!(lma.max_delay_before_new_bce_assign, Duration::from_millis(1_500));
        assert_eq!(lma.timestamp_validity_window, Duration::from_millis(300));
        assert!(!lma.mn_generated_timestamp);
        assert_eq!(lma.max_lifetime, Duration::from_secs(3_600));
        assert!(!lma.accept_forced_udp);
        assert!(lma.tlv_supported);
        assert_eq!(lma.gre, GrePolicy::Supported);
        assert_eq!(lma.heartbeat_interval, Some(Duration::from_secs(60)));
        assert_eq!(lma.missing_heartbeats_allowed, 3);
        assert_eq!(lma.on_peer_failure, PeerFailureAction::Keep);
        assert_eq!(lma.bri_max_retries, 1);
        assert_eq!(lma.bri_initial_delay, Duration::from_secs(1));
        assert_eq!(lma.max_sessions, 1_000_000);
        assert_eq!(lma.shadow_timeout, Duration::from_secs(90));
        assert_eq!(lma.ipv4_lmaa, None);
    }

    #[test]
    fn unknown_key_error_names_the_key() {
        let text = DEMO_TOML.replacen("\n[dataplane]\n", "\n[dataplane]\nburst_sise = 16\n", 1);
        let err = parse(&text).unwrap_err();
        assert!(matches!(err, ConfigError::Syntax(_)));
        let msg = err.to_string();
        assert!(msg.contains("burst_sise"), "{msg}");
        assert!(msg.contains("unknown field"), "{msg}");
    }

    #[test]
    fn unknown_top_level_section_error_names_it() {
        let msg = parse("[portz]\n").unwrap_err().to_string();
        assert!(msg.contains("portz"), "{msg}");
    }

    #[test]
    fn wrong_type_is_a_syntax_error_with_a_line() {
        let text = DEMO_TOML.replacen("burst_size = 32", "burst_size = \"32\"", 1);
        let msg = parse(&text).unwrap_err().to_string();
        assert!(msg.contains("burst_size"), "{msg}");
        assert!(msg.contains("line"), "{msg}");
    }

    /// A file in the temporary directory, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> Self {
            let path = std::env::temp_dir().join(format!("anchor-config-{}-{name}.toml", std::process::id()));
            std::fs::write(&path, text).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn load_reads_a_valid_file() {
        let file = TempFile::new("valid", DEMO_TOML);
        assert_eq!(load(&file.0).unwrap(), parse(DEMO_TOML).unwrap());
    }

    #[test]
    fn load_errors_start_with_the_path() {
        let file = TempFile::new("unknown-key", "[eal]\nworkers = [1]\n");
        let msg = load(&file.0).unwrap_err().to_string();
        assert!(msg.starts_with(&format!("{}: ", file.0.display())), "{msg}");
        assert!(msg.contains("workers"), "{msg}");

        let file = TempFile::new("invalid", "[eal]\nworker_cpus = []\n");
        let err = load(&file.0).unwrap_err();
        assert_eq!(err.to_string(), format!("{}: eal.worker_cpus: must not be empty", file.0.display()));
        assert_eq!(err.key(), Some("eal.worker_cpus"));

        let missing = std::env::temp_dir().join("anchor-config-no-such-file.toml");
        let msg = load(&missing).unwrap_err().to_string();
        assert!(msg.starts_with(&format!("{}: cannot read config file: ", missing.display())), "{msg}");
    }

    /// Every key path the schema knows (`eal`, `eal.args`, `port.name`, ...),
    /// read from the serde derive itself so a new field cannot be missed.
    fn schema_keys() -> BTreeSet<String> {
        let keys = RefCell::new(BTreeSet::new());
        let collector = schema::Collector { path: String::new(), keys: &keys };
        raw::RawConfig::deserialize(collector).unwrap();
        keys.into_inner()
    }

    /// Every key path present in a TOML document; arrays of tables (`[[port]]`)
    /// contribute their keys without an index.
    fn document_keys(table: &toml::Table, prefix: &str, keys: &mut BTreeSet<String>) {
        for (name, value) in table {
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            match value {
                toml::Value::Table(t) => document_keys(t, &path, keys),
                toml::Value::Array(items) => {
                    for item in items {
                        if let toml::Value::Table(t) = item {
                            document_keys(t, &path, keys);
                        }
                    }
                }
                _ => {}
            }
            keys.insert(path);
        }
    }

    /// The commented-out examples of a file, uncommented. A comment is
    /// `# text`; a commented-out setting is `#key = value` (no space). An
    /// example starts at a `#[[table]]` or `#[table]` line and runs over the
    /// settings right after it; a setting anywhere else fails the test, so
    /// every commented-out setting is an example that other tests parse.
    fn commented_examples(text: &str) -> Vec<String> {
        let mut examples: Vec<String> = Vec::new();
        let mut open = false;
        for (n, line) in text.lines().enumerate() {
            let setting =
                line.trim().strip_prefix('#').filter(|rest| !rest.is_empty() && !rest.starts_with([' ', '#']));
            match setting {
                Some(rest) if rest.starts_with('[') => {
                    examples.push(format!("{rest}\n"));
                    open = true;
                }
                Some(rest) => match examples.last_mut().filter(|_| open) {
                    Some(example) => {
                        example.push_str(rest);
                        example.push('\n');
                    }
                    None => panic!("line {}: {line:?} is outside a #[[table]] example", n + 1),
                },
                None => open = false,
            }
        }
        examples
    }

    #[test]
    fn commented_examples_are_found_and_uncommented() {
        let text = "# a comment\n#[[binding]]\n#tunnel = \"ipip\"\n#\n\
                    #[[binding]]\n#vrf = 1\n# prose = not a setting\nx = 1\n#[t]\n#y = 2\n";
        assert_eq!(
            commented_examples(text),
            ["[[binding]]\ntunnel = \"ipip\"\n", "[[binding]]\nvrf = 1\n", "[t]\ny = 2\n"]
        );
    }

    #[test]
    fn demo_config_sets_every_key_the_schema_knows() {
        let schema = schema_keys();
        assert!(schema.contains("dataplane.idle_backoff_us"), "{schema:?}");
        assert!(schema.contains("route.via"), "{schema:?}");
        assert!(schema.contains("binding.udp_port"), "{schema:?}");
        assert!(schema.contains("tunnel.fib_capacity"), "{schema:?}");
        assert!(schema.contains("lma.mag.ordering"), "{schema:?}");
        assert!(schema.contains("pools.ipv4.exclude"), "{schema:?}");
        assert!(schema.contains("profiles.default.mags"), "{schema:?}");
        let mut demo = BTreeSet::new();
        document_keys(&DEMO_TOML.parse().unwrap(), "", &mut demo);
        // Keys that cannot go together with the live binding (other tunnel
        // kinds) are set in the commented-out examples, which
        // demo_commented_binding_examples_are_valid_... parses; so are those
        // of the default profile (the demo has none: unknown NAIs get 153)
        // and the static prefix and lifetime cap of a profile (no demo
        // mobile node has them).
        let live = demo.clone();
        for example in commented_examples(DEMO_TOML) {
            document_keys(&example.parse().unwrap(), "", &mut demo);
        }
        let only_in_examples: Vec<_> = demo.difference(&live).collect();
        let may_be_example_only = |k: &str| {
            k.starts_with("binding.")
                || k == "profiles.default"
                || k.starts_with("profiles.default.")
                || k == "profiles.mn.static_hnp"
                || k == "profiles.mn.max_lifetime_s"
        };
        assert!(
            only_in_examples.iter().all(|k| may_be_example_only(k)),
            "only binding keys, the default profile and a static prefix may be left to the examples: \
             {only_in_examples:?}"
        );
        let missing: Vec<_> = schema.difference(&demo).collect();
        assert!(missing.is_empty(), "demo.toml lacks {missing:?}");
        assert_eq!(schema, demo);
    }

    #[test]
    fn demo_config_documents_every_key_and_table_with_a_comment_above_it() {
        let mut previous = "";
        for (n, line) in DEMO_TOML.lines().enumerate() {
            let line = line.trim();
            let is_key = line.split_once('=').is_some_and(|(k, _)| !k.trim().is_empty() && !k.contains(['#', '"']));
            if line.starts_with('[') || is_key {
                assert!(previous.starts_with('#'), "demo.toml line {}: {line:?} has no comment above it", n + 1);
            }
            if !line.is_empty() {
                previous = line;
            }
        }
    }

    /// A serde deserializer that walks the schema instead of data: it
    /// answers every struct with all of its fields and every sequence with
    /// one element, and records the key path of each field.
    mod schema {
        use std::cell::RefCell;
        use std::collections::BTreeSet;

        use serde::de::value::Error;
        use serde::de::{self, IntoDeserializer, Visitor};

        pub(super) struct Collector<'a> {
            pub path: String,
            pub keys: &'a RefCell<BTreeSet<String>>,
        }

        macro_rules! answer {
            ($($method:ident => $visit:ident($value:expr);)*) => {$(
                fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                    visitor.$visit($value)
                }
            )*};
        }

        impl<'de> de::Deserializer<'de> for Collector<'_> {
            type Error = Error;

            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
                Err(de::Error::custom(format!("untyped value at {}", self.path)))
            }

            answer! {
                deserialize_bool => visit_bool(false);
                deserialize_i8 => visit_i64(0);
                deserialize_i16 => visit_i64(0);
                deserialize_i32 => visit_i64(0);
                deserialize_i64 => visit_i64(0);
                deserialize_u8 => visit_u64(0);
                deserialize_u16 => visit_u64(0);
                deserialize_u32 => visit_u64(0);
                deserialize_u64 => visit_u64(0);
                deserialize_f32 => visit_f64(0.0);
                deserialize_f64 => visit_f64(0.0);
                deserialize_char => visit_char('x');
                deserialize_str => visit_str("");
                deserialize_string => visit_str("");
                deserialize_identifier => visit_str("");
                deserialize_bytes => visit_bytes(&[]);
                deserialize_byte_buf => visit_bytes(&[]);
            }

            fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                visitor.visit_unit()
            }

            fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                visitor.visit_unit()
            }

            fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                visitor.visit_some(self)
            }

            fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
                visitor.visit_unit()
            }

            fn deserialize_newtype_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                visitor: V,
            ) -> Result<V::Value, Error> {
                visitor.visit_newtype_struct(self)
            }

            fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                visitor.visit_seq(One(Some(self)))
            }

            fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
                visitor.visit_seq(One(Some(self)))
            }

            fn deserialize_tuple_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                _: usize,
                visitor: V,
            ) -> Result<V::Value, Error> {
                visitor.visit_seq(One(Some(self)))
            }

            fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
                Err(de::Error::custom(format!("free-form map at {}", self.path)))
            }

            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                visitor: V,
            ) -> Result<V::Value, Error> {
                visitor.visit_map(Fields { fields, next: 0, path: self.path, keys: self.keys })
            }

            fn deserialize_enum<V: Visitor<'de>>(
                self,
                _: &'static str,
                variants: &'static [&'static str],
                visitor: V,
            ) -> Result<V::Value, Error> {
                let first = variants.first().copied().unwrap_or_default();
                visitor.visit_enum(first.into_deserializer())
            }
        }

        struct One<'a>(Option<Collector<'a>>);

        impl<'de> de::SeqAccess<'de> for One<'_> {
            type Error = Error;

            fn next_element_seed<T: de::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
                self.0.take().map(|c| seed.deserialize(c)).transpose()
            }
        }

        struct Fields<'a> {
            fields: &'static [&'static str],
            next: usize,
            path: String,
            keys: &'a RefCell<BTreeSet<String>>,
        }

        impl<'de> de::MapAccess<'de> for Fields<'_> {
            type Error = Error;

            fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
                match self.fields.get(self.next) {
                    Some(field) => seed.deserialize(field.into_deserializer()).map(Some),
                    None => Ok(None),
                }
            }

            fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
                let field = self.fields.get(self.next).copied().unwrap_or_default();
                self.next += 1;
                let path = if self.path.is_empty() { field.to_owned() } else { format!("{}.{field}", self.path) };
                self.keys.borrow_mut().insert(path.clone());
                seed.deserialize(Collector { path, keys: self.keys })
            }
        }
    }
}
