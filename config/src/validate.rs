//! `validate`: the only way from the raw serde schema to [`Config`].
//!
//! Each rule returns a [`ConfigError::Invalid`] naming the key path (as
//! written in TOML: `port[1].ipv4[0]`, `route[0].via`) and the reason. The
//! first broken rule wins.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::cidr::{CidrError, IpCidr, Ipv4Cidr, Ipv6Cidr};
use crate::error::ConfigError;
use crate::model::{
    AuthAlgorithm, CliConfig, Config, DataplaneConfig, Dsmip6Config, Dsmip6Mn, EalConfig, EcnMode, FaPeer, GrePolicy,
    HaConfig, Ipv4Pool, LmaConfig, LogConfig, MagPeer, MetricsConfig, MnSecurityAssociation, NeighborConfig, Ordering,
    OverloadConfig, PeerFailureAction, PoolsConfig, PortConfig, PortDevice, PortRole, Profile, ProfilesConfig,
    ReverseTunnelPolicy, RouteConfig, StaticBinding, StoreConfig, TunnelConfig, TunnelMode,
};
use crate::raw::{
    RawBinding, RawCli, RawConfig, RawDataplane, RawDsmip6, RawDsmip6Mn, RawEal, RawFaPeer, RawHa, RawIpv4Pool, RawLma,
    RawLog, RawMag, RawMetrics, RawMnSa, RawNeighbor, RawOverload, RawPools, RawPort, RawProfile, RawProfiles,
    RawRoute, RawStore, RawTunnel,
};

/// Highest CPU number the EAL accepts in a CPU set (`CPU_SETSIZE` - 1).
const MAX_CPU: u16 = 1023;
/// `RTE_MAX_LCORE` of the default DPDK build; lcore 0 is the control thread.
const MAX_WORKERS: usize = 127;
/// `RTE_MEMPOOL_CACHE_MAX_SIZE`.
const MAX_MBUF_CACHE: u32 = 512;
/// Longest unix socket path (`sun_path` is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;
/// Longest idle back-off: beyond this an RX ring overflows at modest rates.
const MAX_IDLE_BACKOFF_US: u32 = 10_000;
/// Minimum IPv6 link MTU (RFC 8200 section 5).
const IPV6_MIN_MTU: u16 = 1280;
/// Minimum IPv4 datagram size every host must accept (RFC 791).
const MIN_MTU: u16 = 576;
/// Largest MTU we configure (common jumbo frame limit).
const MAX_MTU: u16 = 9000;
/// Largest static IPv6-over-IPv4 tunnel MTU (RFC 4213 section 3.2: 1280 to
/// 1480).
const MAX_IPV6_OVER_IPV4_MTU: u16 = 1480;
/// Forwarding-table capacity bounds.
const MIN_FIB_CAPACITY: u32 = 1 << 10;
const MAX_FIB_CAPACITY: u32 = 1 << 24;
/// Length of every home network prefix (RFC 5213 assigns /64s here).
const HNP_LEN: u8 = 64;
/// Longest mobile node identifier: the Mobile Node Identifier option's
/// Length octet counts the subtype too (RFC 4283, PROTOCOLS.md 2.10.2).
const MAX_MN_ID: usize = 254;
/// Largest DSCP (6 bits).
const MAX_DSCP: u8 = 63;
/// UDP ports on which our side receives signalling in a format that a plain
/// `udp`/`udp-tlv` data tunnel there would be confused with (PROTOCOLS.md
/// section 13). 4191 is not here: DSMIPv6 sends its data as plain IP in UDP
/// on that port (RFC 5555), told apart from its signalling by the inner
/// packet.
const SIGNALLING_UDP_PORTS: [(u16, &str); 2] =
    [(434, "Mobile IPv4 registration and RFC 3519 tunnel"), (5436, "PMIPv6 signalling over IPv4")];
/// Lifetime unit of the (P)BA Lifetime field (RFC 6275 section 6.1.8).
const LIFETIME_UNIT_S: u32 = 4;
/// Largest lifetime a (P)BA can carry: 65535 units of 4 s.
const MAX_LIFETIME_S: u32 = 65_535 * LIFETIME_UNIT_S;
/// HEARTBEAT_INTERVAL bounds (RFC 5847 section 5: configurable 30..3600 s).
const MIN_HEARTBEAT_INTERVAL_S: u32 = 30;
const MAX_HEARTBEAT_INTERVAL_S: u32 = 3_600;
/// InitMINDelayBRIs: never below 0.5 s (RFC 5846 section 11); above
/// MAX_BRACK_TIMEOUT (2 s), which caps its doubling, makes no sense.
const MIN_BRI_INITIAL_DELAY_MS: u32 = 500;
const MAX_BRACK_TIMEOUT_MS: u32 = 2_000;
/// Longest MinDelayBeforeBCEDelete we accept (10 minutes).
const MAX_MIN_DELAY_BEFORE_BCE_DELETE_MS: u32 = 600_000;
/// Longest MaxDelayBeforeNewBCEAssign: the MAG gives up retransmitting a
/// held PBU long before (its back-off is capped at 32 s).
const MAX_MAX_DELAY_BEFORE_NEW_BCE_ASSIGN_MS: u32 = 30_000;
/// Widest TimestampValidityWindow (one minute).
const MAX_TIMESTAMP_VALIDITY_WINDOW_MS: u32 = 60_000;
/// Levels `tracing` knows, as accepted by `EnvFilter`.
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
/// EAL options this crate generates; a copy in `eal.args` would conflict.
const GENERATED_EAL_OPTIONS: [(&str, &str); 6] = [
    ("--lcores", "generated from eal.control_cpus and eal.worker_cpus"),
    ("-l", "generated as --lcores from eal.control_cpus and eal.worker_cpus"),
    ("-c", "generated as --lcores from eal.control_cpus and eal.worker_cpus"),
    ("--main-lcore", "always 0, the control lcore"),
    ("--master-lcore", "always --main-lcore 0, the control lcore"),
    ("--file-prefix", "generated from eal.file_prefix"),
];

/// Checks every rule and builds the typed configuration.
pub(crate) fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let eal = eal(raw.eal)?;
    let log = log(raw.log)?;
    let cli = cli(raw.cli)?;
    let metrics = metrics(raw.metrics)?;
    let store = store(raw.store)?;
    let overload = overload(raw.overload)?;
    let dataplane = dataplane(raw.dataplane)?;
    let neighbor = neighbor(raw.neighbor)?;
    let ports = ports(raw.port, eal.worker_cpus.len())?;
    eal_against_ports(&eal, &ports)?;
    mbufs_suffice(&dataplane, ports.len(), eal.worker_cpus.len())?;
    let routes = routes(raw.route, &ports)?;
    let tunnel = tunnel(raw.tunnel, &ports)?;
    let bindings = bindings(raw.binding, &ports, &routes, &tunnel)?;
    let mut pools = pools(raw.pools, &ports)?;
    bindings_against_pools(&bindings, &pools)?;
    let lma = raw.lma.map(|raw| lma(raw, &ports, &routes, &tunnel, &bindings, &pools)).transpose()?;
    let ha = raw.ha.map(|raw| ha(raw, &ports, &routes, &tunnel, &bindings, &pools)).transpose()?;
    let dsmip6 = raw.dsmip6.map(|raw| dsmip6(raw, &ports, &pools, &bindings)).transpose()?;
    let profiles = profiles(raw.profiles, lma.as_ref(), &ports, &pools, &bindings)?;
    let dsmip6_statics: Vec<Ipv4Addr> =
        dsmip6.iter().flat_map(|d| d.mobile_nodes.iter().filter_map(|m| m.ipv4_home_address)).collect();
    auto_exclude(&mut pools, &profiles, &bindings, &ports, &routes, &dsmip6_statics);
    Ok(Config {
        eal,
        log,
        cli,
        metrics,
        store,
        overload,
        dataplane,
        neighbor,
        ports,
        routes,
        tunnel,
        bindings,
        lma,
        ha,
        dsmip6,
        pools,
        profiles,
    })
}

fn eal(raw: RawEal) -> Result<EalConfig, ConfigError> {
    for (i, arg) in raw.args.iter().enumerate() {
        let key = format!("eal.args[{i}]");
        if arg.is_empty() {
            return Err(ConfigError::invalid(key, "must not be empty"));
        }
        let option = eal_option_name(arg);
        if let Some((_, why)) = GENERATED_EAL_OPTIONS.iter().find(|(o, _)| *o == option) {
            return Err(ConfigError::invalid(key, format!("{arg:?} must not be given here: it is {why}")));
        }
    }
    let option_index = |name: &str| raw.args.iter().position(|a| eal_option_name(a) == name);
    if let (Some(i), Some(_)) = (option_index("--in-memory"), option_index("--no-huge")) {
        return Err(ConfigError::invalid(
            format!("eal.args[{i}]"),
            "\"--in-memory\" is refused by the EAL together with \"--no-huge\"; \
             use \"--no-shconf\" instead",
        ));
    }

    if raw.file_prefix.is_empty()
        || raw.file_prefix.len() > 64
        || !raw.file_prefix.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(ConfigError::invalid(
            "eal.file_prefix",
            format!("must be 1 to 64 letters, digits, '_', '-' or '.', got {:?}", raw.file_prefix),
        ));
    }

    let control_cpus = cpu_list(&raw.control_cpus).map_err(|reason| {
        ConfigError::invalid("eal.control_cpus", format!("invalid CPU list {:?}: {reason}", raw.control_cpus))
    })?;

    if raw.worker_cpus.is_empty() {
        return Err(ConfigError::invalid("eal.worker_cpus", "must not be empty"));
    }
    if raw.worker_cpus.len() > MAX_WORKERS {
        return Err(ConfigError::invalid(
            "eal.worker_cpus",
            format!("at most {MAX_WORKERS} workers, got {}", raw.worker_cpus.len()),
        ));
    }
    for (i, &cpu) in raw.worker_cpus.iter().enumerate() {
        let key = format!("eal.worker_cpus[{i}]");
        if cpu > MAX_CPU {
            return Err(ConfigError::invalid(key, format!("CPU {cpu} is above {MAX_CPU}")));
        }
        if let Some(first) = raw.worker_cpus[..i].iter().position(|&c| c == cpu) {
            return Err(ConfigError::invalid(
                key,
                format!("duplicate worker CPU {cpu} (also eal.worker_cpus[{first}])"),
            ));
        }
    }

    Ok(EalConfig { args: raw.args, file_prefix: raw.file_prefix, control_cpus, worker_cpus: raw.worker_cpus })
}

/// The option an EAL argument spells, without any `=value` or attached
/// short-option value; empty for a plain value.
fn eal_option_name(arg: &str) -> &str {
    if arg.starts_with("--") {
        arg.split('=').next().unwrap_or(arg)
    } else if arg.starts_with('-') {
        arg.get(..2).unwrap_or(arg)
    } else {
        ""
    }
}

/// Parses a cpuset list (`0-1`, `0,2`, `0-3,8`) and returns it normalised
/// (no spaces, single CPUs without a range).
fn cpu_list(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    let cpu = |s: &str| -> Result<u16, String> {
        let s = s.trim();
        let n: u16 = s
            .parse()
            .ok()
            .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("{s:?} is not a CPU number"))?;
        if n > MAX_CPU {
            return Err(format!("CPU {n} is above {MAX_CPU}"));
        }
        Ok(n)
    };
    let mut items = Vec::new();
    for item in text.split(',') {
        match item.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (cpu(first)?, cpu(last)?);
                if first > last {
                    return Err(format!("range {first}-{last} is backwards"));
                }
                if first == last {
                    items.push(first.to_string());
                } else {
                    items.push(format!("{first}-{last}"));
                }
            }
            None => items.push(cpu(item)?.to_string()),
        }
    }
    Ok(items.join(","))
}

fn log(raw: RawLog) -> Result<LogConfig, ConfigError> {
    let level = raw.level.trim().to_owned();
    log_filter(&level).map_err(|reason| {
        ConfigError::invalid("log.level", format!("invalid level or filter {:?}: {reason}", raw.level))
    })?;
    Ok(LogConfig { level })
}

fn is_log_level(s: &str) -> bool {
    LOG_LEVELS.iter().any(|l| l.eq_ignore_ascii_case(s))
}

/// Checks the shape of an `EnvFilter` directive list: comma-separated
/// `level` or `target[span{field=value}]=level`. Stricter than `EnvFilter`
/// in one way: a bare word must be a level, because `EnvFilter` would read a
/// misspelt level such as `inof` as "trace for target inof, nothing else".
fn log_filter(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let levels = "error, warn, info, debug, trace or off";
    for directive in text.split(',') {
        let directive = directive.trim();
        if directive.is_empty() {
            return Err("empty directive (stray comma)".to_owned());
        }
        let (selector, level) = match directive.rsplit_once('=') {
            Some((selector, level)) if !directive.ends_with(']') => (selector, Some(level)),
            _ => (directive, None),
        };
        match level {
            Some(level) if !is_log_level(level) => {
                return Err(format!("{level:?} is not a level ({levels})"));
            }
            Some(_) => {}
            None if is_log_level(selector) => continue,
            None => {
                return Err(format!(
                    "{selector:?} is not a level ({levels}); \
                     to filter a target write target=level"
                ));
            }
        }
        let (target, span) = match selector.find('[') {
            Some(i) => (&selector[..i], Some(&selector[i..])),
            None => (selector, None),
        };
        if span.is_some_and(|s| !s.ends_with(']')) {
            return Err(format!("unclosed '[' in {directive:?}"));
        }
        if target.is_empty() && span.is_none() {
            return Err(format!("{directive:?} has no target before '='"));
        }
        if !target.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')) {
            return Err(format!("{target:?} is not a target name"));
        }
    }
    Ok(())
}

fn cli(raw: RawCli) -> Result<CliConfig, ConfigError> {
    let len = raw.socket.as_os_str().len();
    if len == 0 {
        return Err(ConfigError::invalid("cli.socket", "must not be empty"));
    }
    if len > MAX_SOCKET_PATH {
        return Err(ConfigError::invalid(
            "cli.socket",
            format!("unix socket paths are at most {MAX_SOCKET_PATH} bytes, got {len}"),
        ));
    }
    if raw.socket.as_os_str().to_string_lossy().ends_with('/') {
        return Err(ConfigError::invalid("cli.socket", format!("{:?} is a directory, not a socket path", raw.socket)));
    }
    Ok(CliConfig { socket: raw.socket })
}

fn store(raw: RawStore) -> Result<StoreConfig, ConfigError> {
    let path = match raw.path.as_os_str().is_empty() {
        true => None,
        false if raw.path.is_relative() => {
            return Err(ConfigError::invalid(
                "store.path",
                format!("{:?} must be an absolute path (or \"\" for no store)", raw.path),
            ))
        }
        false if raw.path.as_os_str().to_string_lossy().ends_with('/') || raw.path.file_name().is_none() => {
            return Err(ConfigError::invalid("store.path", format!("{:?} is a directory, not a file", raw.path)))
        }
        false => Some(raw.path),
    };
    if raw.batch_interval_ms > StoreConfig::MAX_BATCH_INTERVAL_MS {
        return Err(ConfigError::invalid(
            "store.batch_interval_ms",
            format!(
                "{} is above {} (a reply held longer is retransmitted for)",
                raw.batch_interval_ms,
                StoreConfig::MAX_BATCH_INTERVAL_MS
            ),
        ));
    }
    Ok(StoreConfig {
        path,
        sync_replies: raw.sync_replies,
        batch_interval: Duration::from_millis(u64::from(raw.batch_interval_ms)),
    })
}

fn overload(raw: RawOverload) -> Result<OverloadConfig, ConfigError> {
    if raw.peer_rate > 0 && raw.peer_burst == 0 {
        return Err(ConfigError::invalid(
            "overload.peer_burst",
            "must be at least 1 while overload.peer_rate limits peers (0 would refuse every message)",
        ));
    }
    for (key, value) in [
        ("overload.punts_per_pass", raw.punts_per_pass),
        ("overload.signalling_per_pass", raw.signalling_per_pass),
        ("overload.signalling_backlog", raw.signalling_backlog),
    ] {
        if value == 0 {
            return Err(ConfigError::invalid(key, "must be at least 1"));
        }
    }
    if raw.signalling_backlog < raw.signalling_per_pass {
        return Err(ConfigError::invalid(
            "overload.signalling_backlog",
            format!(
                "{} is below overload.signalling_per_pass ({}): a pass could never be filled",
                raw.signalling_backlog, raw.signalling_per_pass
            ),
        ));
    }
    Ok(OverloadConfig {
        peer_rate: raw.peer_rate,
        peer_burst: raw.peer_burst,
        punts_per_pass: raw.punts_per_pass,
        signalling_per_pass: raw.signalling_per_pass,
        signalling_backlog: raw.signalling_backlog,
    })
}

fn metrics(raw: RawMetrics) -> Result<MetricsConfig, ConfigError> {
    let text = raw.listen.trim();
    if text.is_empty() {
        return Ok(MetricsConfig { listen: None });
    }
    let addr: SocketAddr = text.parse().map_err(|_| {
        ConfigError::invalid(
            "metrics.listen",
            format!("{text:?} is not an address and port such as \"127.0.0.1:9464\" or \"[::1]:9464\""),
        )
    })?;
    if addr.port() == 0 {
        return Err(ConfigError::invalid("metrics.listen", format!("{text:?} needs a port other than 0")));
    }
    Ok(MetricsConfig { listen: Some(addr) })
}

fn in_range<T: PartialOrd + std::fmt::Display>(key: &str, value: T, min: T, max: T) -> Result<T, ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::invalid(key, format!("must be between {min} and {max}, got {value}")));
    }
    Ok(value)
}

fn power_of_two<T: Into<u64> + Copy + std::fmt::Display>(
    key: &str,
    value: T,
    min: u64,
    max: u64,
) -> Result<T, ConfigError> {
    let v: u64 = value.into();
    if !v.is_power_of_two() {
        return Err(ConfigError::invalid(key, format!("must be a power of two, got {value}")));
    }
    if v < min || v > max {
        return Err(ConfigError::invalid(key, format!("must be between {min} and {max}, got {value}")));
    }
    Ok(value)
}

fn dataplane(raw: RawDataplane) -> Result<DataplaneConfig, ConfigError> {
    let burst_size = in_range("dataplane.burst_size", raw.burst_size, 1, 64)?;
    let rx_ring_size = power_of_two("dataplane.rx_ring_size", raw.rx_ring_size, 64, 32768)?;
    let tx_ring_size = power_of_two("dataplane.tx_ring_size", raw.tx_ring_size, 64, 32768)?;
    let punt_ring_size = power_of_two("dataplane.punt_ring_size", raw.punt_ring_size, 64, 1 << 20)?;
    let mbuf_cache = in_range("dataplane.mbuf_cache", raw.mbuf_cache, 0, MAX_MBUF_CACHE)?;
    // rte_mempool_create refuses a cache whose flush threshold (1.5 x size)
    // exceeds the pool.
    let flush_threshold = u64::from(mbuf_cache) * 3 / 2;
    if u64::from(raw.mbufs_per_socket) < flush_threshold.max(1) {
        return Err(ConfigError::invalid(
            "dataplane.mbufs_per_socket",
            format!("must be at least 1.5 x dataplane.mbuf_cache ({flush_threshold}), got {}", raw.mbufs_per_socket),
        ));
    }
    let idle_backoff_us = in_range("dataplane.idle_backoff_us", raw.idle_backoff_us, 0, MAX_IDLE_BACKOFF_US)?;
    Ok(DataplaneConfig {
        burst_size,
        rx_ring_size,
        tx_ring_size,
        mbufs_per_socket: raw.mbufs_per_socket,
        mbuf_cache,
        punt_ring_size,
        idle_backoff_us,
    })
}

/// Mbufs that can sit in rings and caches at once: every RX ring full (one
/// RX queue per worker per port), every TX ring full (one TX queue per worker
/// plus one for the control thread per port), every worker's punt ring full,
/// every lcore's mempool cache full. A smaller pool starves RX.
fn mbufs_suffice(dp: &DataplaneConfig, ports: usize, workers: usize) -> Result<(), ConfigError> {
    let (ports, workers) = (ports as u64, workers as u64);
    let rx = ports * workers * u64::from(dp.rx_ring_size);
    let tx = ports * (workers + 1) * u64::from(dp.tx_ring_size);
    let punt = workers * u64::from(dp.punt_ring_size);
    let caches = (workers + 1) * u64::from(dp.mbuf_cache);
    let need = rx + tx + punt + caches;
    if u64::from(dp.mbufs_per_socket) < need {
        return Err(ConfigError::invalid(
            "dataplane.mbufs_per_socket",
            format!(
                "{} is too few for {ports} ports and {workers} workers: need at least {need} \
                 (RX rings {rx} + TX rings {tx} + punt rings {punt} + mempool caches {caches})",
                dp.mbufs_per_socket
            ),
        ));
    }
    Ok(())
}

fn neighbor(raw: RawNeighbor) -> Result<NeighborConfig, ConfigError> {
    Ok(NeighborConfig {
        retry_interval_ms: in_range("neighbor.retry_interval_ms", raw.retry_interval_ms, 10, 60_000)?,
        max_retries: in_range("neighbor.max_retries", raw.max_retries, 1, 100)?,
        reachable_s: in_range("neighbor.reachable_s", raw.reachable_s, 1, 86_400)?,
    })
}

/// Recognises `DDDD:BB:DD.F` (hex; device 0..=1f, function 0..=7) and
/// returns it in lower case, the form DPDK names the device by.
fn pci_address(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let hex = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_hexdigit);
    if b.len() != 12
        || !hex(0..4)
        || b[4] != b':'
        || !hex(5..7)
        || b[7] != b':'
        || !hex(8..10)
        || b[10] != b'.'
        || !(b'0'..=b'7').contains(&b[11])
    {
        return None;
    }
    let device = u8::from_str_radix(text.get(8..10)?, 16).ok()?;
    (device <= 0x1f).then(|| text.to_ascii_lowercase())
}

/// A PCI address, or else a virtual device that must start with `net_`.
fn port_device(text: &str) -> Result<PortDevice, String> {
    if let Some(pci) = pci_address(text) {
        return Ok(PortDevice::Pci(pci));
    }
    let Some(rest) = text.strip_prefix("net_") else {
        return Err(format!(
            "{text:?} is neither a PCI address (DDDD:BB:DD.F in hex, e.g. \"0000:3b:02.1\") \
             nor a virtual device (starting with \"net_\", e.g. \"net_af_packet0,iface=eth1\")"
        ));
    };
    let mut parts = rest.split(',');
    let driver = parts.next().unwrap_or_default();
    if driver.is_empty() || !driver.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "virtual device name in {text:?} must be \"net_\" followed by letters, digits \
             and '_' (driver and instance, e.g. \"net_ring0\")"
        ));
    }
    if parts.any(|arg| arg.trim().is_empty()) {
        return Err(format!("{text:?} has an empty argument (stray comma)"));
    }
    Ok(PortDevice::Vdev(text.to_owned()))
}

/// The value of `key=value` in a vdev string's arguments.
fn vdev_arg<'a>(spec: &'a str, key: &str) -> Option<&'a str> {
    spec.split(',').skip(1).filter_map(|arg| arg.split_once('=')).find(|(k, _)| k.trim() == key).map(|(_, v)| v.trim())
}

fn ipv4_interface(key: &str, text: &str) -> Result<Ipv4Cidr, ConfigError> {
    let bad = |reason: String| ConfigError::invalid(key, format!("invalid IPv4 interface address {text:?}: {reason}"));
    let cidr: Ipv4Cidr = text.parse().map_err(|e: CidrError| bad(e.to_string()))?;
    let addr = cidr.addr;
    if cidr.prefix_len == 0 {
        return Err(bad("prefix length must be 1 to 32".to_owned()));
    }
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() || addr.is_loopback() {
        return Err(bad(format!("{addr} is not a unicast host address")));
    }
    if cidr.prefix_len <= 30 {
        if addr == cidr.network().addr {
            return Err(bad(format!("it is the network address of {}", cidr.network())));
        }
        if addr == cidr.broadcast() {
            return Err(bad(format!("it is the broadcast address of {}", cidr.network())));
        }
    }
    Ok(cidr)
}

fn ipv6_interface(key: &str, text: &str) -> Result<Ipv6Cidr, ConfigError> {
    let bad = |reason: String| ConfigError::invalid(key, format!("invalid IPv6 interface address {text:?}: {reason}"));
    let cidr: Ipv6Cidr = text.parse().map_err(|e: CidrError| bad(e.to_string()))?;
    let addr = cidr.addr;
    if cidr.prefix_len == 0 {
        return Err(bad("prefix length must be 1 to 128".to_owned()));
    }
    if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() {
        return Err(bad(format!("{addr} is not a unicast host address")));
    }
    Ok(cidr)
}

fn ports(raw: Vec<RawPort>, workers: usize) -> Result<Vec<PortConfig>, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::invalid("port", "at least one [[port]] is required"));
    }
    let mut ports: Vec<PortConfig> = Vec::with_capacity(raw.len());
    // Our addresses and subnets so far: (subnet, key that declared it, port).
    let mut subnets: Vec<(IpCidr, String, usize)> = Vec::new();
    let mut ifaces: HashMap<String, usize> = HashMap::new();
    for (p, raw) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("port[{p}].{field}");

        if raw.name.is_empty()
            || raw.name.len() > 32
            || !raw.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        {
            return Err(ConfigError::invalid(
                key("name"),
                format!("must be 1 to 32 letters, digits, '_' or '-', got {:?}", raw.name),
            ));
        }
        if let Some(first) = ports.iter().position(|q| q.name == raw.name) {
            return Err(ConfigError::invalid(
                key("name"),
                format!("duplicate port name {:?} (also port[{first}])", raw.name),
            ));
        }

        let role = match raw.role.as_str() {
            "core" => PortRole::Core,
            "home" => PortRole::Home,
            other => {
                return Err(ConfigError::invalid(key("role"), format!("must be \"core\" or \"home\", got {other:?}")))
            }
        };

        let device = port_device(&raw.device).map_err(|r| ConfigError::invalid(key("device"), r))?;
        if let Some(first) = ports.iter().position(|q| q.device.dpdk_name() == device.dpdk_name()) {
            return Err(ConfigError::invalid(
                key("device"),
                format!("duplicate device {:?} (also port[{first}])", device.dpdk_name()),
            ));
        }
        if let PortDevice::Vdev(spec) = &device {
            if let Some(iface) = vdev_arg(spec, "iface") {
                if let Some(first) = ifaces.insert(iface.to_owned(), p) {
                    return Err(ConfigError::invalid(
                        key("device"),
                        format!("interface {iface:?} is already used by port[{first}]"),
                    ));
                }
            }
            if device.dpdk_name().starts_with("net_af_packet") {
                let qpairs = match vdev_arg(spec, "qpairs") {
                    None => 1,
                    Some(v) => v
                        .parse::<usize>()
                        .map_err(|_| ConfigError::invalid(key("device"), format!("qpairs={v:?} is not a number")))?,
                };
                if qpairs < workers + 1 {
                    return Err(ConfigError::invalid(
                        key("device"),
                        format!(
                            "net_af_packet needs qpairs={} or more for {workers} worker(s) \
                             (one TX queue per worker plus one for the control thread), \
                             got qpairs={qpairs}",
                            workers + 1
                        ),
                    ));
                }
            }
        }

        let mut ipv4 = Vec::with_capacity(raw.ipv4.len());
        for (i, text) in raw.ipv4.iter().enumerate() {
            let k = key(&format!("ipv4[{i}]"));
            let cidr = ipv4_interface(&k, text)?;
            own_address_is_new(&k, cidr.into(), p, &subnets)?;
            subnets.push((cidr.into(), k, p));
            ipv4.push(cidr);
        }
        let mut ipv6 = Vec::with_capacity(raw.ipv6.len());
        for (i, text) in raw.ipv6.iter().enumerate() {
            let k = key(&format!("ipv6[{i}]"));
            let cidr = ipv6_interface(&k, text)?;
            own_address_is_new(&k, cidr.into(), p, &subnets)?;
            subnets.push((cidr.into(), k, p));
            ipv6.push(cidr);
        }
        if ipv4.is_empty() && ipv6.is_empty() {
            return Err(ConfigError::invalid(format!("port[{p}]"), "has no address: give it ipv4 and/or ipv6"));
        }

        let mtu = in_range(&key("mtu"), raw.mtu, MIN_MTU, MAX_MTU)?;
        if !ipv6.is_empty() && mtu < IPV6_MIN_MTU {
            return Err(ConfigError::invalid(
                key("mtu"),
                format!("must be at least {IPV6_MIN_MTU} on a port with IPv6, got {mtu}"),
            ));
        }

        if raw.home_link && role != PortRole::Home {
            return Err(ConfigError::invalid(
                key("home_link"),
                format!("only a port with role \"home\" can be a home link, port[{p}] has role {:?}", raw.role),
            ));
        }

        ports.push(PortConfig { name: raw.name, role, device, ipv4, ipv6, mtu, home_link: raw.home_link });
    }
    Ok(ports)
}

/// An address of ours must be unique, and subnets of different ports must
/// not overlap (a next hop would be reachable through two ports).
fn own_address_is_new(
    key: &str,
    cidr: IpCidr,
    port: usize,
    seen: &[(IpCidr, String, usize)],
) -> Result<(), ConfigError> {
    for (other, other_key, other_port) in seen {
        if other.addr() == cidr.addr() {
            return Err(ConfigError::invalid(key, format!("address {} is already used by {other_key}", cidr.addr())));
        }
        let overlap = match (cidr, other) {
            (IpCidr::V4(a), IpCidr::V4(b)) => a.network().overlaps(&b.network()),
            (IpCidr::V6(a), IpCidr::V6(b)) => a.network().overlaps(&b.network()),
            _ => false,
        };
        if overlap && *other_port != port {
            return Err(ConfigError::invalid(
                key,
                format!("subnet {} overlaps {} of {other_key} on another port", cidr.network(), other.network()),
            ));
        }
    }
    Ok(())
}

fn eal_against_ports(eal: &EalConfig, ports: &[PortConfig]) -> Result<(), ConfigError> {
    let no_pci = eal.args.iter().position(|a| a == "--no-pci");
    let pci_port = ports.iter().position(|p| matches!(p.device, PortDevice::Pci(_)));
    if let (Some(i), Some(p)) = (no_pci, pci_port) {
        return Err(ConfigError::invalid(
            format!("eal.args[{i}]"),
            format!("\"--no-pci\" hides port[{p}]'s PCI device from the EAL"),
        ));
    }
    Ok(())
}

fn routes(raw: Vec<RawRoute>, ports: &[PortConfig]) -> Result<Vec<RouteConfig>, ConfigError> {
    let mut routes: Vec<RouteConfig> = Vec::with_capacity(raw.len());
    for (r, raw) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("route[{r}].{field}");

        let prefix: IpCidr = raw.prefix.parse().map_err(|e: CidrError| {
            ConfigError::invalid(key("prefix"), format!("invalid prefix {:?}: {e}", raw.prefix))
        })?;
        if prefix.network() != prefix {
            return Err(ConfigError::invalid(
                key("prefix"),
                format!("{:?} has host bits set; the network is {}", raw.prefix, prefix.network()),
            ));
        }
        if let Some(first) = routes.iter().position(|q| q.prefix == prefix) {
            return Err(ConfigError::invalid(
                key("prefix"),
                format!("duplicate route for {prefix} (also route[{first}])"),
            ));
        }

        let via: IpAddr = raw
            .via
            .parse()
            .map_err(|e| ConfigError::invalid(key("via"), format!("invalid IP address {:?}: {e}", raw.via)))?;
        if via.is_ipv4() != prefix.is_ipv4() {
            let family = |v4: bool| if v4 { "IPv4" } else { "IPv6" };
            return Err(ConfigError::invalid(
                key("via"),
                format!("{via} is {} but the prefix {prefix} is {}", family(via.is_ipv4()), family(prefix.is_ipv4())),
            ));
        }

        let Some(port) = ports.iter().position(|p| p.name == raw.port) else {
            let names: Vec<String> = ports.iter().map(|p| format!("{:?}", p.name)).collect();
            return Err(ConfigError::invalid(
                key("port"),
                format!("no port named {:?} (ports: {})", raw.port, names.join(", ")),
            ));
        };
        next_hop_is_on_link(&key("via"), via, &ports[port])?;

        routes.push(RouteConfig { prefix, via, port });
    }
    Ok(routes)
}

/// The next hop must be a neighbour on the port: inside one of its subnets,
/// not one of our addresses, not a subnet's network or broadcast address.
fn next_hop_is_on_link(key: &str, via: IpAddr, port: &PortConfig) -> Result<(), ConfigError> {
    let subnets: Vec<IpCidr> = match via {
        IpAddr::V4(_) => port.ipv4.iter().copied().map(IpCidr::V4).collect(),
        IpAddr::V6(_) => port.ipv6.iter().copied().map(IpCidr::V6).collect(),
    };
    if subnets.iter().any(|s| s.addr() == via) {
        return Err(ConfigError::invalid(key, format!("{via} is port {:?}'s own address", port.name)));
    }
    let Some(subnet) = subnets.iter().find(|s| s.contains(via)) else {
        let list: Vec<String> = subnets.iter().map(|s| s.network().to_string()).collect();
        let family = if via.is_ipv4() { "IPv4" } else { "IPv6" };
        return Err(ConfigError::invalid(
            key,
            format!(
                "{via} is not inside any {family} subnet of port {:?} ({})",
                port.name,
                if list.is_empty() { "it has none".to_owned() } else { list.join(", ") }
            ),
        ));
    };
    if let (IpCidr::V4(s), IpAddr::V4(v)) = (subnet, via) {
        if s.prefix_len <= 30 && (v == s.network().addr || v == s.broadcast()) {
            return Err(ConfigError::invalid(
                key,
                format!("{via} is the network or broadcast address of {}", s.network()),
            ));
        }
    }
    Ok(())
}

fn tunnel(raw: RawTunnel, ports: &[PortConfig]) -> Result<TunnelConfig, ConfigError> {
    let ttl = in_range("tunnel.ttl", raw.ttl, 1, u32::from(u8::MAX))?;
    // In range, so the conversion cannot fail.
    let ttl = u8::try_from(ttl).unwrap_or(u8::MAX);
    let ecn = match raw.ecn.as_str() {
        "normal" => EcnMode::Normal,
        "compat" => EcnMode::Compat,
        other => {
            return Err(ConfigError::invalid("tunnel.ecn", format!("must be \"normal\" or \"compat\", got {other:?}")))
        }
    };
    let mtu = match raw.mtu {
        None => None,
        Some(mtu) => {
            let mtu = in_range("tunnel.mtu", mtu, IPV6_MIN_MTU, MAX_MTU)?;
            let too_small = ports.iter().enumerate().find(|(_, port)| port.role == PortRole::Core && port.mtu < mtu);
            if let Some((p, port)) = too_small {
                return Err(ConfigError::invalid(
                    "tunnel.mtu",
                    format!(
                        "{mtu} is above port[{p}].mtu ({}, port {:?}): a path cannot carry \
                         more than the link it starts on",
                        port.mtu, port.name
                    ),
                ));
            }
            Some(mtu)
        }
    };
    let ipv6_over_ipv4_mtu =
        in_range("tunnel.ipv6_over_ipv4_mtu", raw.ipv6_over_ipv4_mtu, IPV6_MIN_MTU, MAX_IPV6_OVER_IPV4_MTU)?;
    let fib_capacity = in_range("tunnel.fib_capacity", raw.fib_capacity, MIN_FIB_CAPACITY, MAX_FIB_CAPACITY)?;
    Ok(TunnelConfig { ttl, ecn, mtu, ipv6_over_ipv4_mtu, fib_capacity })
}

fn bindings(
    raw: Vec<RawBinding>,
    ports: &[PortConfig],
    routes: &[RouteConfig],
    tunnel: &TunnelConfig,
) -> Result<Vec<StaticBinding>, ConfigError> {
    let mut bindings: Vec<StaticBinding> = Vec::with_capacity(raw.len());
    for (b, raw) in raw.into_iter().enumerate() {
        let binding = binding(b, &raw, ports, routes)?;
        binding_is_distinct(b, &binding, &bindings)?;
        bindings.push(binding);
    }
    // Each address of a binding is one forwarding-table entry.
    let entries = static_entries(&bindings);
    if entries > u64::from(tunnel.fib_capacity) {
        return Err(ConfigError::invalid(
            "tunnel.fib_capacity",
            format!("{} entries cannot hold the {entries} addresses of the static bindings", tunnel.fib_capacity),
        ));
    }
    Ok(bindings)
}

fn binding(
    b: usize,
    raw: &RawBinding,
    ports: &[PortConfig],
    routes: &[RouteConfig],
) -> Result<StaticBinding, ConfigError> {
    let key = |field: &str| format!("binding[{b}].{field}");

    let mn_id = match &raw.mn_id {
        None => format!("binding-{b}"),
        Some(id) => mn_id(&key("mn_id"), id)?,
    };

    // A VRF 0 home address may be on the home link (proxied there).
    let home_link_ok = raw.vrf == 0;
    let ipv4_hoa =
        raw.ipv4_hoa.as_deref().map(|text| home_ipv4(&key("ipv4_hoa"), text, ports, home_link_ok)).transpose()?;
    let hnps = raw
        .hnps
        .iter()
        .enumerate()
        .map(|(i, text)| home_prefix(&key(&format!("hnps[{i}]")), text, ports))
        .collect::<Result<Vec<_>, _>>()?;
    let ipv6_hoa =
        raw.ipv6_hoa.as_deref().map(|text| home_ipv6(&key("ipv6_hoa"), text, ports, home_link_ok)).transpose()?;
    if ipv4_hoa.is_none() && hnps.is_empty() && ipv6_hoa.is_none() {
        return Err(ConfigError::invalid(
            format!("binding[{b}]"),
            "has no address: give it ipv4_hoa, hnps and/or ipv6_hoa",
        ));
    }

    let tunnel = tunnel_mode(&key, raw)?;

    let endpoint = tunnel_endpoint(&key("endpoint"), &raw.endpoint, ports)?;
    if endpoint.is_ipv6() && !matches!(tunnel, TunnelMode::IpIp | TunnelMode::Gre { .. }) {
        return Err(ConfigError::invalid(
            key("endpoint"),
            format!(
                "{endpoint} is IPv6, but tunnel {:?} runs over IPv4 only \
                 (UDP encapsulation is never used over IPv6 here)",
                tunnel.name()
            ),
        ));
    }
    let local = tunnel_local(&key("local"), raw.local.as_deref(), endpoint, ports)?;
    let port = egress_port(&key, raw.port.as_deref(), endpoint, ports, routes)?;
    let dscp = raw.dscp.map(|dscp| in_range(&key("dscp"), dscp, 0, MAX_DSCP)).transpose()?;

    Ok(StaticBinding { mn_id, vrf: raw.vrf, ipv4_hoa, hnps, ipv6_hoa, endpoint, local, tunnel, dscp, port })
}

/// A mobile node identifier (NAI, `user@realm`) as the Mobile Node
/// Identifier option can carry it.
fn mn_id(key: &str, id: &str) -> Result<String, ConfigError> {
    if id.is_empty() {
        return Err(ConfigError::invalid(key, "must not be empty"));
    }
    if id.len() > MAX_MN_ID {
        return Err(ConfigError::invalid(key, format!("at most {MAX_MN_ID} bytes (RFC 4283), got {}", id.len())));
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::invalid(key, format!("{id:?} must not contain spaces or control characters")));
    }
    Ok(id.to_owned())
}

/// Why a home address or prefix cannot be ours: it is one of our addresses,
/// or it lies on a port's link (traffic to it would be answered or resolved
/// there instead of going through its tunnel). With `home_link_ok`, a home
/// address, or a home subnet lying wholly inside the link's subnet, may be
/// on the link of a home-link port (`home_link = true`): the anchor answers
/// ARP / ND for it there while it is registered. Never our own address (a
/// pool holding it never allocates it, see [`auto_exclude`]).
fn on_our_links(
    key: &str,
    what: &str,
    addr: IpCidr,
    ports: &[PortConfig],
    home_link_ok: bool,
) -> Result<(), ConfigError> {
    for (p, port) in ports.iter().enumerate() {
        let subnets = port
            .ipv4
            .iter()
            .map(|c| (IpCidr::V4(*c), "ipv4"))
            .enumerate()
            .chain(port.ipv6.iter().map(|c| (IpCidr::V6(*c), "ipv6")).enumerate());
        for (i, (subnet, family)) in subnets {
            let here = format!("port[{p}].{family}[{i}]");
            let overlap = match (addr, subnet) {
                (IpCidr::V4(a), IpCidr::V4(s)) => a.network().overlaps(&s.network()),
                (IpCidr::V6(a), IpCidr::V6(s)) => a.network().overlaps(&s.network()),
                _ => false,
            };
            if !overlap {
                continue;
            }
            let host = addr.prefix_len() == addr_bits(addr);
            let shown = if host { addr.addr().to_string() } else { addr.to_string() };
            let inside = addr.prefix_len() >= subnet.prefix_len();
            let reason = if host && subnet.addr() == addr.addr() {
                format!("{what} {shown} is our own address ({here})")
            } else if port.home_link && home_link_ok && inside {
                continue;
            } else if port.home_link && home_link_ok {
                format!(
                    "{what} {shown} is wider than the link of {here} ({}); on a home link a \
                     home subnet must lie inside the link's subnet",
                    subnet.network()
                )
            } else if port.role == PortRole::Home && home_link_ok {
                format!(
                    "{what} {shown} lies on the link of {here} ({}); a home address is \
                     reached through its tunnel, not on a port's link, unless the port is \
                     the home link (port[{p}].home_link = true)",
                    subnet.network()
                )
            } else {
                format!(
                    "{what} {shown} lies on the link of {here} ({}); a home address is \
                     reached through its tunnel, not on a port's link",
                    subnet.network()
                )
            };
            return Err(ConfigError::invalid(key, reason));
        }
    }
    Ok(())
}

fn addr_bits(cidr: IpCidr) -> u8 {
    if cidr.is_ipv4() {
        32
    } else {
        128
    }
}

fn home_ipv4(key: &str, text: &str, ports: &[PortConfig], home_link_ok: bool) -> Result<Ipv4Addr, ConfigError> {
    let addr: Ipv4Addr =
        text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IPv4 address {text:?}: {e}")))?;
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() || addr.is_loopback() {
        return Err(ConfigError::invalid(key, format!("{addr} is not a unicast host address")));
    }
    let host = Ipv4Cidr { addr, prefix_len: 32 };
    on_our_links(key, "home address", host.into(), ports, home_link_ok)?;
    Ok(addr)
}

fn home_ipv6(key: &str, text: &str, ports: &[PortConfig], home_link_ok: bool) -> Result<Ipv6Addr, ConfigError> {
    let addr: Ipv6Addr =
        text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IPv6 address {text:?}: {e}")))?;
    if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() || addr.is_unicast_link_local() {
        return Err(ConfigError::invalid(key, format!("{addr} is not a routable unicast address")));
    }
    let host = Ipv6Cidr { addr, prefix_len: 128 };
    on_our_links(key, "home address", host.into(), ports, home_link_ok)?;
    Ok(addr)
}

fn home_prefix(key: &str, text: &str, ports: &[PortConfig]) -> Result<Ipv6Cidr, ConfigError> {
    let prefix: Ipv6Cidr = text
        .parse()
        .map_err(|e: CidrError| ConfigError::invalid(key, format!("invalid home network prefix {text:?}: {e}")))?;
    if prefix.prefix_len != HNP_LEN {
        return Err(ConfigError::invalid(
            key,
            format!("a home network prefix must be a /{HNP_LEN}, got /{}", prefix.prefix_len),
        ));
    }
    if prefix.network() != prefix {
        return Err(ConfigError::invalid(
            key,
            format!("{text:?} has host bits set; the prefix is {}", prefix.network()),
        ));
    }
    let addr = prefix.addr;
    if addr.is_multicast() || addr.is_unicast_link_local() || addr.segments()[..4] == [0; 4] {
        return Err(ConfigError::invalid(key, format!("{prefix} is not a routable unicast prefix")));
    }
    on_our_links(key, "home network prefix", prefix.into(), ports, false)?;
    Ok(prefix)
}

/// The encapsulation and the keys and ports that go with it.
fn tunnel_mode(key: &dyn Fn(&str) -> String, raw: &RawBinding) -> Result<TunnelMode, ConfigError> {
    let kind = raw.tunnel.as_str();
    if !matches!(kind, "ipip" | "gre" | "udp" | "udp-tlv" | "mip-udp") {
        return Err(ConfigError::invalid(
            key("tunnel"),
            format!("must be \"ipip\", \"gre\", \"udp\", \"udp-tlv\" or \"mip-udp\", got {kind:?}"),
        ));
    }
    if !matches!(kind, "gre" | "udp-tlv") {
        for (field, value) in [("gre_key_in", raw.gre_key_in), ("gre_key_out", raw.gre_key_out)] {
            if value.is_some() {
                return Err(ConfigError::invalid(
                    key(field),
                    format!("only allowed with tunnel \"gre\" or \"udp-tlv\", not {kind:?}"),
                ));
            }
        }
    }
    if !matches!(kind, "udp" | "udp-tlv" | "mip-udp") && raw.udp_port.is_some() {
        return Err(ConfigError::invalid(
            key("udp_port"),
            format!("only allowed with tunnel \"udp\", \"udp-tlv\" or \"mip-udp\", not {kind:?}"),
        ));
    }
    if raw.local_udp_port.is_some() {
        if kind == "mip-udp" {
            return Err(ConfigError::invalid(
                key("local_udp_port"),
                format!(
                    "not allowed with tunnel \"mip-udp\": our side is always port {} \
                     (RFC 3519)",
                    TunnelMode::MIP_UDP_PORT
                ),
            ));
        }
        if !matches!(kind, "udp" | "udp-tlv") {
            return Err(ConfigError::invalid(
                key("local_udp_port"),
                format!("only allowed with tunnel \"udp\" or \"udp-tlv\", not {kind:?}"),
            ));
        }
    }

    let peer_port = raw.udp_port.unwrap_or(TunnelMode::DEFAULT_UDP_PORT);
    if peer_port == 0 {
        return Err(ConfigError::invalid(key("udp_port"), "must not be 0"));
    }
    let local_port = raw.local_udp_port.unwrap_or(TunnelMode::DEFAULT_UDP_PORT);
    if local_port == 0 {
        return Err(ConfigError::invalid(key("local_udp_port"), "must not be 0"));
    }
    if let Some((_, what)) = SIGNALLING_UDP_PORTS.iter().find(|(p, _)| *p == local_port) {
        return Err(ConfigError::invalid(
            key("local_udp_port"),
            format!("{local_port} is the {what} port; tunnelled data there would be taken for signalling"),
        ));
    }
    let both_keys = |why: &str| -> Result<(u32, u32), ConfigError> {
        match (raw.gre_key_in, raw.gre_key_out) {
            (Some(key_in), Some(key_out)) => Ok((key_in, key_out)),
            (None, _) => Err(ConfigError::invalid(key("gre_key_in"), why)),
            (_, None) => Err(ConfigError::invalid(key("gre_key_out"), why)),
        }
    };
    Ok(match kind {
        "ipip" => TunnelMode::IpIp,
        "gre" => match (raw.gre_key_in, raw.gre_key_out) {
            (None, None) => TunnelMode::Gre { key_in: None, key_out: None },
            _ => {
                let (key_in, key_out) = both_keys(
                    "gre_key_in and gre_key_out go together: give both (keyed GRE) or \
                     neither (GRE without keys)",
                )?;
                TunnelMode::Gre { key_in: Some(key_in), key_out: Some(key_out) }
            }
        },
        "udp" => TunnelMode::Udp { peer_port, local_port },
        "udp-tlv" => {
            let (key_in, key_out) =
                both_keys("required with tunnel \"udp-tlv\": the TLV header carries keyed GRE (RFC 5845)")?;
            TunnelMode::UdpTlv { peer_port, local_port, key_in, key_out }
        }
        _ => {
            if raw.udp_port.is_none() {
                return Err(ConfigError::invalid(
                    key("udp_port"),
                    "required with tunnel \"mip-udp\": the UDP source port the mobile node \
                     or foreign agent registered from (RFC 3519)",
                ));
            }
            TunnelMode::MipUdp { peer_port }
        }
    })
}

/// Every address of ours, with the key that declares it.
fn own_addresses(ports: &[PortConfig]) -> impl Iterator<Item = (IpAddr, String)> + '_ {
    ports.iter().enumerate().flat_map(|(p, port)| {
        let v4 = port.ipv4.iter().enumerate().map(move |(i, c)| (IpAddr::V4(c.addr), format!("port[{p}].ipv4[{i}]")));
        let v6 = port.ipv6.iter().enumerate().map(move |(i, c)| (IpAddr::V6(c.addr), format!("port[{p}].ipv6[{i}]")));
        v4.chain(v6)
    })
}

fn tunnel_endpoint(key: &str, text: &str, ports: &[PortConfig]) -> Result<IpAddr, ConfigError> {
    let endpoint: IpAddr =
        text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IP address {text:?}: {e}")))?;
    let unicast = match endpoint {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast() || a.is_loopback() || a.is_unicast_link_local()),
    };
    if !unicast {
        return Err(ConfigError::invalid(key, format!("{endpoint} is not a routable unicast address")));
    }
    if let Some((_, ours)) = own_addresses(ports).find(|(a, _)| *a == endpoint) {
        return Err(ConfigError::invalid(
            key,
            format!("{endpoint} is our own address ({ours}); the endpoint is the peer's address"),
        ));
    }
    Ok(endpoint)
}

/// Our end of the tunnel: the given address, which must be ours and of the
/// endpoint's family, or the first address of that family on a core port.
fn tunnel_local(key: &str, text: Option<&str>, endpoint: IpAddr, ports: &[PortConfig]) -> Result<IpAddr, ConfigError> {
    let Some(text) = text else {
        return ports
            .iter()
            .filter(|p| p.role == PortRole::Core)
            .flat_map(|p| {
                let v4 = p.ipv4.iter().map(|c| IpAddr::V4(c.addr));
                let v6 = p.ipv6.iter().map(|c| IpAddr::V6(c.addr));
                v4.chain(v6)
            })
            .find(|a| a.is_ipv4() == endpoint.is_ipv4())
            .ok_or_else(|| {
                ConfigError::invalid(
                    key,
                    format!(
                        "no core port has an {} address to be our end of the tunnel to \
                         {endpoint}; give local",
                        family_name(endpoint)
                    ),
                )
            });
    };
    let local: IpAddr =
        text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IP address {text:?}: {e}")))?;
    if local.is_ipv4() != endpoint.is_ipv4() {
        return Err(ConfigError::invalid(
            key,
            format!("{local} is {} but the endpoint {endpoint} is {}", family_name(local), family_name(endpoint)),
        ));
    }
    if !own_addresses(ports).any(|(a, _)| a == local) {
        return Err(ConfigError::invalid(key, format!("{local} is not an address of any port")));
    }
    Ok(local)
}

/// The port a tunnel to `endpoint` leaves by: the port on whose link the
/// endpoint is, else the port of the most specific route covering it. A
/// port named in the file must agree with that.
fn egress_port(
    key: &dyn Fn(&str) -> String,
    name: Option<&str>,
    endpoint: IpAddr,
    ports: &[PortConfig],
    routes: &[RouteConfig],
) -> Result<usize, ConfigError> {
    let subnets_of = |port: &PortConfig| -> Vec<IpCidr> {
        match endpoint {
            IpAddr::V4(_) => port.ipv4.iter().copied().map(IpCidr::V4).collect(),
            IpAddr::V6(_) => port.ipv6.iter().copied().map(IpCidr::V6).collect(),
        }
    };
    // Subnets of different ports never overlap, so at most one port matches.
    let on_link = ports.iter().position(|port| subnets_of(port).iter().any(|s| s.contains(endpoint)));
    let routed = |port: Option<usize>| {
        routes
            .iter()
            .filter(|r| r.prefix.contains(endpoint) && port.is_none_or(|p| p == r.port))
            .max_by_key(|r| r.prefix.prefix_len())
            .map(|r| r.port)
    };
    let port = match name {
        None => on_link.or_else(|| routed(None)).ok_or_else(|| {
            ConfigError::invalid(
                key("endpoint"),
                format!(
                    "{endpoint} is not inside a subnet of any port and no [[route]] covers \
                     it: the anchor has no way to reach it"
                ),
            )
        })?,
        Some(name) => {
            let Some(port) = ports.iter().position(|p| p.name == name) else {
                let names: Vec<String> = ports.iter().map(|p| format!("{:?}", p.name)).collect();
                return Err(ConfigError::invalid(
                    key("port"),
                    format!("no port named {name:?} (ports: {})", names.join(", ")),
                ));
            };
            match on_link {
                Some(link) if link != port => {
                    return Err(ConfigError::invalid(
                        key("port"),
                        format!(
                            "endpoint {endpoint} is on the link of port {:?}, so the tunnel \
                             leaves by that port, not by {name:?}",
                            ports[link].name
                        ),
                    ))
                }
                Some(_) => {}
                None if routed(Some(port)).is_some() => {}
                None => {
                    return Err(ConfigError::invalid(
                        key("port"),
                        format!(
                            "port {name:?} cannot reach endpoint {endpoint}: it is not inside \
                             the port's subnets and no [[route]] through the port covers it"
                        ),
                    ))
                }
            }
            port
        }
    };
    if on_link == Some(port) {
        next_hop_is_on_link(&key("endpoint"), endpoint, &ports[port])?;
    }
    Ok(port)
}

/// What tells the uplink packets of an unkeyed tunnel apart from other
/// tunnels: outer addresses, encapsulation and UDP ports. `None` for a keyed
/// tunnel, whose uplink key alone identifies the session.
fn unkeyed_channel(b: &StaticBinding) -> Option<(IpAddr, IpAddr, TunnelMode)> {
    match b.tunnel {
        TunnelMode::Gre { key_in: Some(_), .. } | TunnelMode::UdpTlv { .. } => None,
        mode => Some((b.endpoint, b.local, mode)),
    }
}

fn family_name(addr: IpAddr) -> &'static str {
    if addr.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// The rules between bindings: an address or prefix belongs to one binding
/// per VRF, an uplink GRE key to one binding per endpoint, and an unkeyed
/// tunnel to one VRF.
fn binding_is_distinct(b: usize, new: &StaticBinding, earlier: &[StaticBinding]) -> Result<(), ConfigError> {
    let key = |field: &str| format!("binding[{b}].{field}");
    let vrf = new.vrf;
    for (i, hnp) in new.hnps.iter().enumerate() {
        if let Some(first) = new.hnps[..i].iter().position(|h| h == hnp) {
            return Err(ConfigError::invalid(
                key(&format!("hnps[{i}]")),
                format!("duplicate prefix {hnp} (also binding[{b}].hnps[{first}])"),
            ));
        }
    }
    for (j, other) in earlier.iter().enumerate() {
        if other.vrf == vrf {
            if let (Some(a), Some(o)) = (new.ipv4_hoa, other.ipv4_hoa) {
                if a == o {
                    return Err(ConfigError::invalid(
                        key("ipv4_hoa"),
                        format!("{a} in vrf {vrf} is already bound by binding[{j}]"),
                    ));
                }
            }
            for (i, hnp) in new.hnps.iter().enumerate() {
                if other.hnps.contains(hnp) {
                    return Err(ConfigError::invalid(
                        key(&format!("hnps[{i}]")),
                        format!("{hnp} in vrf {vrf} is already bound by binding[{j}]"),
                    ));
                }
                if let Some(hoa) = other.ipv6_hoa.filter(|a| hnp.contains(*a)) {
                    return Err(ConfigError::invalid(
                        key(&format!("hnps[{i}]")),
                        format!("{hnp} in vrf {vrf} contains {hoa}, binding[{j}].ipv6_hoa"),
                    ));
                }
            }
            if let Some(hoa) = new.ipv6_hoa {
                if other.ipv6_hoa == Some(hoa) {
                    return Err(ConfigError::invalid(
                        key("ipv6_hoa"),
                        format!("{hoa} in vrf {vrf} is already bound by binding[{j}]"),
                    ));
                }
                if let Some(k) = other.hnps.iter().position(|h| h.contains(hoa)) {
                    return Err(ConfigError::invalid(
                        key("ipv6_hoa"),
                        format!("{hoa} in vrf {vrf} lies inside {}, binding[{j}].hnps[{k}]", other.hnps[k]),
                    ));
                }
            }
        }

        if let Some(k) = new.tunnel.key_in() {
            if other.endpoint == new.endpoint && other.tunnel.key_in() == Some(k) {
                return Err(ConfigError::invalid(
                    key("gre_key_in"),
                    format!(
                        "key {k} from endpoint {} is already the uplink key of binding[{j}]; \
                         the uplink key identifies the session (RFC 5845)",
                        new.endpoint
                    ),
                ));
            }
        }

        if other.vrf != vrf {
            if let Some((endpoint, local, mode)) = unkeyed_channel(new) {
                if unkeyed_channel(other) == Some((endpoint, local, mode)) {
                    return Err(ConfigError::invalid(
                        key("vrf"),
                        format!(
                            "binding[{j}] uses the same {} tunnel from {endpoint} to {local} \
                             in vrf {}: without a GRE key an uplink packet's VRF is known only \
                             from its tunnel, so give the bindings GRE keys or one vrf",
                            mode.name(),
                            other.vrf
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Names of ports and MAGs: 1 to 32 letters, digits, '_' or '-'.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 32 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// Forwarding-table entries the static bindings take: one per address or
/// prefix.
fn static_entries(bindings: &[StaticBinding]) -> u64 {
    bindings
        .iter()
        .map(|b| u64::from(b.ipv4_hoa.is_some()) + b.hnps.len() as u64 + u64::from(b.ipv6_hoa.is_some()))
        .sum()
}

/// A lifetime in seconds: 4..=`max`, a multiple of 4 (the (P)BA Lifetime
/// field counts 4-second units).
fn lifetime(key: &str, value: u32, max: u32, max_name: &str) -> Result<Duration, ConfigError> {
    if value < LIFETIME_UNIT_S {
        return Err(ConfigError::invalid(key, format!("must be at least {LIFETIME_UNIT_S}, got {value}")));
    }
    if value > max {
        return Err(ConfigError::invalid(key, format!("must be at most {max_name} ({max}), got {value}")));
    }
    // Both neighbours are in range: `max` is a multiple of 4 too.
    let below = value - value % LIFETIME_UNIT_S;
    if below != value {
        return Err(ConfigError::invalid(
            key,
            format!(
                "must be a multiple of {LIFETIME_UNIT_S} (the Lifetime field counts 4-second units), got {value}; \
                 use {below} or {}",
                below + LIFETIME_UNIT_S
            ),
        ));
    }
    Ok(Duration::from_secs(u64::from(value)))
}

/// `lma.lmaa` / `lma.ipv4_lmaa` (already parsed): an address of ours on a
/// core port.
fn lma_address(key: &str, addr: IpAddr, ports: &[PortConfig]) -> Result<(), ConfigError> {
    let on = |port: &PortConfig| -> bool {
        match addr {
            IpAddr::V4(a) => port.ipv4.iter().any(|c| c.addr == a),
            IpAddr::V6(a) => port.ipv6.iter().any(|c| c.addr == a),
        }
    };
    match ports.iter().find(|p| on(p)) {
        Some(port) if port.role == PortRole::Core => Ok(()),
        Some(port) => Err(ConfigError::invalid(
            key,
            format!(
                "{addr} is an address of port {:?}, whose role is \"home\"; the LMA address is on a core port, \
                 where the MAGs are",
                port.name
            ),
        )),
        None => {
            let core: Vec<String> = ports
                .iter()
                .filter(|p| p.role == PortRole::Core)
                .flat_map(|p| {
                    let v4s = p.ipv4.iter().map(|c| IpAddr::V4(c.addr));
                    let v6s = p.ipv6.iter().map(|c| IpAddr::V6(c.addr));
                    v4s.chain(v6s)
                })
                .filter(|a| a.is_ipv4() == addr.is_ipv4())
                .map(|a| a.to_string())
                .collect();
            Err(ConfigError::invalid(
                key,
                format!(
                    "{addr} is not an address of any port; the LMA address must be one of the core ports' \
                     {} addresses ({})",
                    family_name(addr),
                    if core.is_empty() { "they have none".to_owned() } else { core.join(", ") }
                ),
            ))
        }
    }
}

fn lma(
    raw: RawLma,
    ports: &[PortConfig],
    routes: &[RouteConfig],
    tunnel: &TunnelConfig,
    bindings: &[StaticBinding],
    pools: &PoolsConfig,
) -> Result<LmaConfig, ConfigError> {
    let lmaa = raw
        .lmaa
        .as_deref()
        .map(|text| {
            let key = "lma.lmaa";
            let addr: Ipv6Addr =
                text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IPv6 address {text:?}: {e}")))?;
            lma_address(key, addr.into(), ports).map(|()| addr)
        })
        .transpose()?;
    let ipv4_lmaa = raw
        .ipv4_lmaa
        .as_deref()
        .map(|text| {
            let key = "lma.ipv4_lmaa";
            let addr: Ipv4Addr =
                text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IPv4 address {text:?}: {e}")))?;
            lma_address(key, addr.into(), ports).map(|()| addr)
        })
        .transpose()?;
    if lmaa.is_none() && ipv4_lmaa.is_none() {
        return Err(ConfigError::invalid(
            "lma",
            "has no address: give lmaa (IPv6) and/or ipv4_lmaa (IPv4, RFC 5844), addresses of a core port",
        ));
    }

    let min_delay_before_bce_delete = Duration::from_millis(u64::from(in_range(
        "lma.min_delay_before_bce_delete_ms",
        raw.min_delay_before_bce_delete_ms,
        0,
        MAX_MIN_DELAY_BEFORE_BCE_DELETE_MS,
    )?));
    let max_delay_before_new_bce_assign = Duration::from_millis(u64::from(in_range(
        "lma.max_delay_before_new_bce_assign_ms",
        raw.max_delay_before_new_bce_assign_ms,
        0,
        MAX_MAX_DELAY_BEFORE_NEW_BCE_ASSIGN_MS,
    )?));
    let timestamp_validity_window = Duration::from_millis(u64::from(in_range(
        "lma.timestamp_validity_window_ms",
        raw.timestamp_validity_window_ms,
        1,
        MAX_TIMESTAMP_VALIDITY_WINDOW_MS,
    )?));
    let max_lifetime = lifetime("lma.max_lifetime_s", raw.max_lifetime_s, MAX_LIFETIME_S, "65535 x 4 s")?;
    let gre = match raw.gre.as_str() {
        "supported" => GrePolicy::Supported,
        "required" => GrePolicy::Required,
        "disabled" => GrePolicy::Disabled,
        other => {
            return Err(ConfigError::invalid(
                "lma.gre",
                format!("must be \"supported\", \"required\" or \"disabled\", got {other:?}"),
            ))
        }
    };
    let heartbeat_interval = match raw.heartbeat_interval_s {
        0 => None,
        s if (MIN_HEARTBEAT_INTERVAL_S..=MAX_HEARTBEAT_INTERVAL_S).contains(&s) => {
            Some(Duration::from_secs(u64::from(s)))
        }
        s => {
            return Err(ConfigError::invalid(
                "lma.heartbeat_interval_s",
                format!(
                    "must be 0 (send no heartbeats) or between {MIN_HEARTBEAT_INTERVAL_S} and \
                     {MAX_HEARTBEAT_INTERVAL_S} (RFC 5847), got {s}"
                ),
            ))
        }
    };
    let missing_heartbeats_allowed =
        in_range("lma.missing_heartbeats_allowed", raw.missing_heartbeats_allowed, 1, 100)?;
    let on_peer_failure = match raw.on_peer_failure.as_str() {
        "keep" => PeerFailureAction::Keep,
        "remove" => PeerFailureAction::Remove,
        other => {
            return Err(ConfigError::invalid(
                "lma.on_peer_failure",
                format!("must be \"keep\" or \"remove\", got {other:?}"),
            ))
        }
    };
    let bri_max_retries = in_range("lma.bri_max_retries", raw.bri_max_retries, 0, 10)?;
    let bri_initial_delay = Duration::from_millis(u64::from(in_range(
        "lma.bri_initial_delay_ms",
        raw.bri_initial_delay_ms,
        MIN_BRI_INITIAL_DELAY_MS,
        MAX_BRACK_TIMEOUT_MS,
    )?));
    // Extended home link (PROTOCOLS.md section 11.4): a shadow BCE that is
    // never activated is revoked after this; 0 would revoke it at once.
    let max_shadow_timeout_s = LmaConfig::MAX_SHADOW_TIMEOUT.as_secs();
    if !(1..=max_shadow_timeout_s).contains(&u64::from(raw.shadow_timeout_s)) {
        return Err(ConfigError::invalid(
            "lma.shadow_timeout_s",
            format!(
                "must be between 1 and {max_shadow_timeout_s} (seconds a shadow binding waits for the mobile node \
                 to de-register its own binding before the LMA revokes it), got {}",
                raw.shadow_timeout_s
            ),
        ));
    }
    let shadow_timeout = Duration::from_secs(u64::from(raw.shadow_timeout_s));
    // Every session takes at least one forwarding entry, next to those of
    // the static bindings.
    let room = u64::from(tunnel.fib_capacity).saturating_sub(static_entries(bindings));
    if raw.max_sessions == 0 {
        return Err(ConfigError::invalid("lma.max_sessions", "must be at least 1"));
    }
    if u64::from(raw.max_sessions) > room {
        return Err(ConfigError::invalid(
            "lma.max_sessions",
            format!(
                "{} sessions do not fit the forwarding table: tunnel.fib_capacity ({}) less the static \
                 bindings' entries leaves {room}, and every session takes at least one entry",
                raw.max_sessions, tunnel.fib_capacity
            ),
        ));
    }

    if raw.mag.is_empty() {
        return Err(ConfigError::invalid(
            "lma.mag",
            "at least one [[lma.mag]] is required: PBUs from sources not listed are dropped",
        ));
    }
    let mut mags: Vec<MagPeer> = Vec::with_capacity(raw.mag.len());
    for (m, raw) in raw.mag.into_iter().enumerate() {
        let mag = mag_peer(m, raw, lmaa.is_some(), ipv4_lmaa.is_some(), ports, routes, pools)?;
        if let Some(first) = mags.iter().position(|o| o.name == mag.name) {
            return Err(ConfigError::invalid(
                format!("lma.mag[{m}].name"),
                format!("duplicate MAG name {:?} (also lma.mag[{first}])", mag.name),
            ));
        }
        if let Some(first) = mags.iter().position(|o| o.addr == mag.addr) {
            return Err(ConfigError::invalid(
                format!("lma.mag[{m}].address"),
                format!("duplicate MAG address {} (also lma.mag[{first}])", mag.addr),
            ));
        }
        mags.push(mag);
    }

    Ok(LmaConfig {
        lmaa,
        ipv4_lmaa,
        mags,
        min_delay_before_bce_delete,
        max_delay_before_new_bce_assign,
        timestamp_validity_window,
        mn_generated_timestamp: raw.mn_generated_timestamp,
        max_lifetime,
        accept_forced_udp: raw.accept_forced_udp,
        tlv_supported: raw.tlv_supported,
        gre,
        heartbeat_interval,
        missing_heartbeats_allowed,
        on_peer_failure,
        bri_max_retries,
        bri_initial_delay,
        max_sessions: raw.max_sessions,
        shadow_timeout,
    })
}

/// SPIs 0-255 are reserved (RFC 5944 section 1.6).
const MIN_SPI: u32 = 256;
/// Key sizes of a Mobile IPv4 security association: at least the 128 bits
/// HMAC-MD5 is specified with, at most one MD5 block.
const MIN_SA_KEY: usize = 16;
const MAX_SA_KEY: usize = 64;
/// Widest Identification tolerance (five minutes).
const MAX_REPLAY_TOLERANCE_S: u32 = 300;

/// A shared key written as hex digits.
fn sa_key(key: &str, text: &str) -> Result<Vec<u8>, ConfigError> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    if !text.len().is_multiple_of(2) || !text.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ConfigError::invalid(
            key,
            format!(
                "must be an even number of hex digits (e.g. \"00112233445566778899aabbccddeeff\"), got {} characters",
                text.len()
            ),
        ));
    }
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .filter_map(|i| text.get(i..i + 2))
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    if !(MIN_SA_KEY..=MAX_SA_KEY).contains(&bytes.len()) {
        return Err(ConfigError::invalid(
            key,
            format!("must be {MIN_SA_KEY} to {MAX_SA_KEY} octets (HMAC-MD5 keys are 128 bits), got {}", bytes.len()),
        ));
    }
    Ok(bytes)
}

fn sa_spi(key: &str, spi: u32) -> Result<u32, ConfigError> {
    if spi < MIN_SPI {
        return Err(ConfigError::invalid(key, format!("SPIs 0 to 255 are reserved (RFC 5944), got {spi}")));
    }
    Ok(spi)
}

fn sa_algorithm(key: &str, text: &str) -> Result<AuthAlgorithm, ConfigError> {
    match text {
        "hmac-md5" => Ok(AuthAlgorithm::HmacMd5),
        "prefix-suffix-md5" => Ok(AuthAlgorithm::PrefixSuffixMd5),
        other => {
            Err(ConfigError::invalid(key, format!("must be \"hmac-md5\" or \"prefix-suffix-md5\", got {other:?}")))
        }
    }
}

/// An IPv4 peer address: unicast, not ours, not inside a home pool.
fn ipv4_peer(key: &str, text: &str, ports: &[PortConfig], pools: &PoolsConfig) -> Result<Ipv4Addr, ConfigError> {
    let addr: Ipv4Addr =
        text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IPv4 address {text:?}: {e}")))?;
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() || addr.is_loopback() {
        return Err(ConfigError::invalid(key, format!("{addr} is not a routable unicast address")));
    }
    if let Some((_, ours)) = own_addresses(ports).find(|(a, _)| *a == IpAddr::V4(addr)) {
        return Err(ConfigError::invalid(key, format!("{addr} is our own address ({ours}); this is a peer's address")));
    }
    if let Some(i) = pools.ipv4.iter().position(|p| p.subnet.contains(addr)) {
        return Err(ConfigError::invalid(
            key,
            format!("{addr} lies inside pools.ipv4[{i}].subnet ({}), a home pool", pools.ipv4[i].subnet),
        ));
    }
    Ok(addr)
}

fn ha(
    raw: RawHa,
    ports: &[PortConfig],
    routes: &[RouteConfig],
    tunnel: &TunnelConfig,
    bindings: &[StaticBinding],
    pools: &PoolsConfig,
) -> Result<HaConfig, ConfigError> {
    let Some(text) = raw.address.as_deref() else {
        return Err(ConfigError::invalid("ha.address", "required: the home agent's IPv4 address, on a core port"));
    };
    let address: Ipv4Addr =
        text.parse().map_err(|e| ConfigError::invalid("ha.address", format!("invalid IPv4 address {text:?}: {e}")))?;
    match ports.iter().find(|p| p.ipv4.iter().any(|c| c.addr == address)) {
        Some(p) if p.role == PortRole::Core => {}
        Some(p) => {
            return Err(ConfigError::invalid(
                "ha.address",
                format!("{address} is an address of port {:?}, whose role is \"home\"; the home agent address is on a core port", p.name),
            ))
        }
        None => {
            return Err(ConfigError::invalid(
                "ha.address",
                format!("{address} is not an IPv4 address of any port; it must be one of a core port's"),
            ))
        }
    }
    let max_lifetime =
        Duration::from_secs(u64::from(in_range("ha.max_lifetime_s", raw.max_lifetime_s, 1, HaConfig::MAX_LIFETIME_S)?));
    let replay_tolerance = Duration::from_secs(u64::from(in_range(
        "ha.replay_tolerance_s",
        raw.replay_tolerance_s,
        1,
        MAX_REPLAY_TOLERANCE_S,
    )?));
    let reverse_tunnel = match raw.reverse_tunnel.as_str() {
        "supported" => ReverseTunnelPolicy::Supported,
        "required" => ReverseTunnelPolicy::Required,
        "disabled" => ReverseTunnelPolicy::Disabled,
        other => {
            return Err(ConfigError::invalid(
                "ha.reverse_tunnel",
                format!("must be \"supported\", \"required\" or \"disabled\", got {other:?}"),
            ))
        }
    };
    let redirect_to = raw
        .redirect_to
        .as_deref()
        .map(|text| {
            let addr = ipv4_peer("ha.redirect_to", text, ports, pools)?;
            Ok::<_, ConfigError>(addr)
        })
        .transpose()?;
    let dsmip4_draft01_type = raw.dsmip4_draft01_type.map(|t| dsmip4_draft01_type(t, raw.dsmip4)).transpose()?;
    let room = u64::from(tunnel.fib_capacity).saturating_sub(static_entries(bindings));
    if raw.max_bindings == 0 {
        return Err(ConfigError::invalid("ha.max_bindings", "must be at least 1"));
    }
    if u64::from(raw.max_bindings) > room {
        return Err(ConfigError::invalid(
            "ha.max_bindings",
            format!(
                "{} bindings do not fit the forwarding table: tunnel.fib_capacity ({}) less the static \
                 bindings' entries leaves {room}",
                raw.max_bindings, tunnel.fib_capacity
            ),
        ));
    }
    let ipv4_pools = pool_subnets("ha.ipv4_pools", &raw.ipv4_pools, pools)?;

    let mut mobile_nodes: Vec<MnSecurityAssociation> = Vec::with_capacity(raw.mn.len());
    // (MN-ID, SPI) -> first entry: a list of a million associations is
    // checked in linear time.
    let mut seen: std::collections::HashMap<(String, u32), usize> = std::collections::HashMap::new();
    for (i, RawMnSa { mn_id: id, spi, key: secret, algorithm }) in raw.mn.into_iter().enumerate() {
        let key = |field: &str| format!("ha.mn[{i}].{field}");
        let sa = MnSecurityAssociation {
            mn_id: mn_id(&key("mn_id"), &id)?,
            spi: sa_spi(&key("spi"), spi)?,
            key: sa_key(&key("key"), &secret)?,
            algorithm: sa_algorithm(&key("algorithm"), &algorithm)?,
        };
        if let Some(j) = seen.insert((sa.mn_id.clone(), sa.spi), i) {
            return Err(ConfigError::invalid(
                key("spi"),
                format!("{} already has SPI {} (ha.mn[{j}])", sa.mn_id, sa.spi),
            ));
        }
        mobile_nodes.push(sa);
    }
    let mut foreign_agents: Vec<FaPeer> = Vec::with_capacity(raw.fa.len());
    for (i, RawFaPeer { name, address, spi, key: secret, algorithm, proxy }) in raw.fa.into_iter().enumerate() {
        let key = |field: &str| format!("ha.fa[{i}].{field}");
        if !is_plain_name(&name) {
            return Err(ConfigError::invalid(
                key("name"),
                format!("must be 1 to 32 letters, digits, '_' or '-', got {name:?}"),
            ));
        }
        let addr = ipv4_peer(&key("address"), &address, ports, pools)?;
        if redirect_to == Some(addr) {
            return Err(ConfigError::invalid(key("address"), format!("{addr} is ha.redirect_to, another home agent")));
        }
        // Replies and revocations go to it: it must be reachable.
        let endpoint_key = |field: &str| if field == "endpoint" { key("address") } else { key(field) };
        egress_port(&endpoint_key, None, IpAddr::V4(addr), ports, routes)?;
        let fa = FaPeer {
            name,
            addr,
            spi: sa_spi(&key("spi"), spi)?,
            key: sa_key(&key("key"), &secret)?,
            algorithm: sa_algorithm(&key("algorithm"), &algorithm)?,
            proxy,
        };
        if let Some(j) = foreign_agents.iter().position(|o| o.name == fa.name) {
            return Err(ConfigError::invalid(key("name"), format!("duplicate name {:?} (also ha.fa[{j}])", fa.name)));
        }
        if let Some(j) = foreign_agents.iter().position(|o| o.addr == fa.addr) {
            return Err(ConfigError::invalid(
                key("address"),
                format!("duplicate address {} (also ha.fa[{j}])", fa.addr),
            ));
        }
        foreign_agents.push(fa);
    }

    Ok(HaConfig {
        address,
        max_lifetime,
        replay_tolerance,
        reverse_tunnel,
        gre: raw.gre,
        udp_tunnel: raw.udp_tunnel,
        udp_tunnel_force: raw.udp_tunnel_force,
        udp_keepalive_s: raw.udp_keepalive_s,
        revocation: raw.revocation,
        redirect_to,
        pmip4: raw.pmip4,
        dsmip4: raw.dsmip4,
        dsmip4_draft01_type,
        max_bindings: raw.max_bindings,
        ipv4_pools,
        mobile_nodes,
        foreign_agents,
    })
}

/// Mobile IPv4 extension types with an IANA meaning the home agent reads
/// (PROTOCOLS.md §8.4): a private draft -01 type may be none of them.
const MIP4_ASSIGNED_TYPES: [u32; 18] = [0, 32, 33, 34, 36, 38, 44, 47, 48, 130, 131, 132, 134, 137, 139, 144, 147, 152];

/// `ha.dsmip4_draft01_type`: an extension type (1 to 255) that is not one
/// the home agent already reads, with DSMIPv4 on.
fn dsmip4_draft01_type(t: u32, dsmip4: bool) -> Result<u8, ConfigError> {
    const KEY: &str = "ha.dsmip4_draft01_type";
    let ty = in_range(KEY, t, 1, 255)?;
    if MIP4_ASSIGNED_TYPES.contains(&ty) {
        return Err(ConfigError::invalid(
            KEY,
            format!(
                "{ty} is an extension type the home agent already reads (PROTOCOLS.md 8.4); pick an unassigned one"
            ),
        ));
    }
    if !dsmip4 {
        return Err(ConfigError::invalid(KEY, "the draft -01 DSMIPv4 mode needs ha.dsmip4 = true"));
    }
    u8::try_from(ty).map_err(|_| ConfigError::invalid(KEY, "must be 1 to 255"))
}

/// A role's `ipv4_pools` (`key`): indexes of the `[[pools.ipv4]]` subnets
/// it names, each once; every pool when it names none.
fn pool_subnets(key: &str, subnets: &[String], pools: &PoolsConfig) -> Result<Vec<usize>, ConfigError> {
    if subnets.is_empty() {
        return Ok((0..pools.ipv4.len()).collect());
    }
    let mut chosen: Vec<usize> = Vec::new();
    for (i, text) in subnets.iter().enumerate() {
        let key = format!("{key}[{i}]");
        let subnet: Ipv4Cidr = text
            .parse()
            .map_err(|e: CidrError| ConfigError::invalid(&key, format!("invalid IPv4 subnet {text:?}: {e}")))?;
        let Some(p) = pools.ipv4.iter().position(|p| p.subnet == subnet) else {
            let known: Vec<String> = pools.ipv4.iter().map(|p| p.subnet.to_string()).collect();
            return Err(ConfigError::invalid(
                key,
                format!(
                    "{subnet} is not the subnet of any [[pools.ipv4]] ({})",
                    if known.is_empty() { "there is none".to_owned() } else { known.join(", ") }
                ),
            ));
        };
        if chosen.contains(&p) {
            return Err(ConfigError::invalid(key, format!("duplicate pool {subnet}")));
        }
        chosen.push(p);
    }
    Ok(chosen)
}

/// Widest NAT keepalive refresh time: an hour.
const MAX_NAT_KEEPALIVE_S: u32 = 3600;
/// RFC 6275 lifetimes are in 4-second units of a 16-bit field.
const MAX_DSMIP6_LIFETIME_S: u32 = 0xffff * 4;
/// HMAC-SHA1 keys of at least the hash's length (RFC 2104).
const MIN_SHA1_KEY: usize = 20;

/// `[dsmip6]`: addresses on core ports, limits in range, pools named once,
/// mobile nodes with unique home addresses, SPIs and NAIs.
fn dsmip6(
    raw: RawDsmip6,
    ports: &[PortConfig],
    pools: &PoolsConfig,
    bindings: &[StaticBinding],
) -> Result<Dsmip6Config, ConfigError> {
    let Some(text) = raw.address.as_deref() else {
        return Err(ConfigError::invalid("dsmip6.address", "required: the home agent's IPv6 address, on a core port"));
    };
    let address: Ipv6Addr = text
        .parse()
        .map_err(|e| ConfigError::invalid("dsmip6.address", format!("invalid IPv6 address {text:?}: {e}")))?;
    let Some(port) = ports.iter().find(|p| p.ipv6.iter().any(|c| c.addr == address)) else {
        return Err(ConfigError::invalid(
            "dsmip6.address",
            format!("{address} is not an IPv6 address of any port; it must be one of a core port's"),
        ));
    };
    if port.role != PortRole::Core {
        return Err(ConfigError::invalid(
            "dsmip6.address",
            format!("{address} is an address of port {:?}, whose role is \"home\"; the home agent address is on a core port", port.name),
        ));
    }
    let ipv4_address = match raw.ipv4_address.as_deref() {
        Some(text) => {
            let a: Ipv4Addr = text.parse().map_err(|e| {
                ConfigError::invalid("dsmip6.ipv4_address", format!("invalid IPv4 address {text:?}: {e}"))
            })?;
            match ports.iter().find(|p| p.ipv4.iter().any(|c| c.addr == a)) {
                Some(p) if p.role == PortRole::Core => a,
                _ => {
                    return Err(ConfigError::invalid(
                        "dsmip6.ipv4_address",
                        format!("{a} is not an IPv4 address of a core port"),
                    ))
                }
            }
        }
        None => port.ipv4.first().map(|c| c.addr).ok_or_else(|| {
            ConfigError::invalid(
                "dsmip6.ipv4_address",
                format!("required: port {:?} of dsmip6.address has no IPv4 address to default to", port.name),
            )
        })?,
    };
    let max_lifetime_s = in_range("dsmip6.max_lifetime_s", raw.max_lifetime_s, 4, MAX_DSMIP6_LIFETIME_S)?;
    let nat_keepalive_s = in_range("dsmip6.nat_keepalive_s", raw.nat_keepalive_s, 1, MAX_NAT_KEEPALIVE_S)?;
    let replay_tolerance_s = in_range("dsmip6.replay_tolerance_s", raw.replay_tolerance_s, 1, MAX_REPLAY_TOLERANCE_S)?;
    let ipv4_pools = pool_subnets("dsmip6.ipv4_pools", &raw.ipv4_pools, pools)?;
    let mut mobile_nodes: Vec<Dsmip6Mn> = Vec::with_capacity(raw.mn.len());
    let mut seen_hoa: HashMap<Ipv6Addr, usize> = HashMap::new();
    let mut seen_hoa4: HashMap<Ipv4Addr, usize> = HashMap::new();
    let mut seen_id: HashMap<String, usize> = HashMap::new();
    let mut seen_spi: HashMap<u32, usize> = HashMap::new();
    for (i, RawDsmip6Mn { mn_id: id, home_address, ipv4_home_address, spi, key: secret }) in
        raw.mn.into_iter().enumerate()
    {
        let key = |field: &str| format!("dsmip6.mn[{i}].{field}");
        let mn_id = id.as_deref().map(|id| mn_id(&key("mn_id"), id)).transpose()?;
        let hoa = home_ipv6(&key("home_address"), &home_address, ports, true)?;
        if pools.hnp.iter().any(|p| p.contains(hoa)) {
            return Err(ConfigError::invalid(
                key("home_address"),
                format!("{hoa} lies in pools.hnp, whose /64s the LMA and the MIPv4 home agent hand out"),
            ));
        }
        if let Some(b) = bindings.iter().find(|b| b.vrf == 0 && b.ipv6_hoa == Some(hoa)) {
            return Err(ConfigError::invalid(
                key("home_address"),
                format!("{hoa} is the home address of binding {:?}", b.mn_id),
            ));
        }
        let hoa4 =
            ipv4_home_address.as_deref().map(|t| home_ipv4(&key("ipv4_home_address"), t, ports, true)).transpose()?;
        let spi = sa_spi(&key("spi"), spi)?;
        let secret = sa_key(&key("key"), &secret)?;
        if secret.len() < MIN_SHA1_KEY {
            return Err(ConfigError::invalid(
                key("key"),
                format!("an HMAC-SHA1 key must be at least {MIN_SHA1_KEY} octets (RFC 2104), got {}", secret.len()),
            ));
        }
        let dup = |what: &str, j: usize| ConfigError::invalid(key(what), format!("the same as dsmip6.mn[{j}]'s"));
        if let Some(j) = seen_hoa.insert(hoa, i) {
            return Err(dup("home_address", j));
        }
        if let Some(j) = hoa4.and_then(|a| seen_hoa4.insert(a, i)) {
            return Err(dup("ipv4_home_address", j));
        }
        if let Some(j) = mn_id.clone().and_then(|n| seen_id.insert(n, i)) {
            return Err(dup("mn_id", j));
        }
        if let Some(j) = seen_spi.insert(spi, i) {
            return Err(dup("spi", j));
        }
        mobile_nodes.push(Dsmip6Mn { mn_id, home_address: hoa, ipv4_home_address: hoa4, spi, key: secret });
    }
    Ok(Dsmip6Config {
        address,
        ipv4_address,
        max_lifetime: Duration::from_secs(u64::from(max_lifetime_s)),
        nat_keepalive_s,
        udp_forcing: raw.udp_forcing,
        replay_tolerance: Duration::from_secs(u64::from(replay_tolerance_s)),
        require_mesg_id: raw.require_mesg_id,
        ipv4_pools,
        mobile_nodes,
    })
}

fn mag_peer(
    m: usize,
    raw: RawMag,
    has_lmaa: bool,
    has_ipv4_lmaa: bool,
    ports: &[PortConfig],
    routes: &[RouteConfig],
    pools: &PoolsConfig,
) -> Result<MagPeer, ConfigError> {
    let key = |field: &str| format!("lma.mag[{m}].{field}");
    if !is_plain_name(&raw.name) {
        return Err(ConfigError::invalid(
            key("name"),
            format!("must be 1 to 32 letters, digits, '_' or '-', got {:?}", raw.name),
        ));
    }

    let addr_key = key("address");
    let text = &raw.address;
    let addr: IpAddr =
        text.parse().map_err(|e| ConfigError::invalid(&addr_key, format!("invalid IP address {text:?}: {e}")))?;
    let unicast = match addr {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast() || a.is_loopback() || a.is_unicast_link_local()),
    };
    if !unicast {
        return Err(ConfigError::invalid(&addr_key, format!("{addr} is not a routable unicast address")));
    }
    if let Some((_, ours)) = own_addresses(ports).find(|(a, _)| *a == addr) {
        return Err(ConfigError::invalid(
            &addr_key,
            format!("{addr} is our own address ({ours}); a MAG's address is the peer's"),
        ));
    }
    match addr {
        IpAddr::V6(_) if !has_lmaa => {
            return Err(ConfigError::invalid(
                &addr_key,
                format!("{addr} is IPv6, but lma.lmaa is not set: the LMA has no IPv6 address for this MAG"),
            ))
        }
        IpAddr::V4(_) if !has_ipv4_lmaa => {
            return Err(ConfigError::invalid(
                &addr_key,
                format!("{addr} is IPv4, but lma.ipv4_lmaa is not set: the LMA has no IPv4 address for this MAG"),
            ))
        }
        _ => {}
    }
    let home = match addr {
        IpAddr::V4(a) => pools
            .ipv4
            .iter()
            .position(|p| p.subnet.contains(a))
            .map(|i| (format!("pools.ipv4[{i}].subnet"), IpCidr::V4(pools.ipv4[i].subnet))),
        IpAddr::V6(a) => {
            pools.hnp.iter().position(|p| p.contains(a)).map(|i| (format!("pools.hnp[{i}]"), IpCidr::V6(pools.hnp[i])))
        }
    };
    if let Some((pool_key, pool)) = home {
        return Err(ConfigError::invalid(
            &addr_key,
            format!("{addr} lies inside {pool_key} ({pool}), a home pool; a MAG's address is a transport address"),
        ));
    }
    // PBAs, heartbeats and revocations go to it: it must be reachable.
    let endpoint_key = |field: &str| if field == "endpoint" { key("address") } else { key(field) };
    egress_port(&endpoint_key, None, addr, ports, routes)?;

    let ordering = match raw.ordering.as_deref() {
        None | Some("timestamp") => Ordering::Timestamp,
        Some("sequence") => Ordering::Sequence,
        Some(other) => {
            return Err(ConfigError::invalid(
                key("ordering"),
                format!("must be \"timestamp\" or \"sequence\", got {other:?}"),
            ))
        }
    };
    Ok(MagPeer { name: raw.name, addr, ordering })
}

/// Whether a prefix overlaps IPv6 space that is not global unicast
/// (unspecified/loopback/IPv4-mapped ::/64s, link-local, multicast).
fn ipv6_non_unicast(prefix: Ipv6Cidr) -> bool {
    let special: [Ipv6Cidr; 2] = [
        Ipv6Cidr { addr: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), prefix_len: 10 },
        Ipv6Cidr { addr: Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), prefix_len: 8 },
    ];
    prefix.addr.segments()[..4] == [0; 4] || special.iter().any(|s| s.overlaps(&prefix))
}

/// Whether a subnet overlaps IPv4 space that is not unicast ("this network"
/// 0/8, loopback 127/8, multicast and reserved 224/3).
fn ipv4_non_unicast(subnet: Ipv4Cidr) -> bool {
    let special: [Ipv4Cidr; 3] = [
        Ipv4Cidr { addr: Ipv4Addr::new(0, 0, 0, 0), prefix_len: 8 },
        Ipv4Cidr { addr: Ipv4Addr::new(127, 0, 0, 0), prefix_len: 8 },
        Ipv4Cidr { addr: Ipv4Addr::new(224, 0, 0, 0), prefix_len: 3 },
    ];
    special.iter().any(|s| s.overlaps(&subnet))
}

fn pools(raw: RawPools, ports: &[PortConfig]) -> Result<PoolsConfig, ConfigError> {
    let mut hnp: Vec<Ipv6Cidr> = Vec::with_capacity(raw.hnp.len());
    for (i, text) in raw.hnp.iter().enumerate() {
        let key = format!("pools.hnp[{i}]");
        let prefix: Ipv6Cidr =
            text.parse().map_err(|e: CidrError| ConfigError::invalid(&key, format!("invalid prefix {text:?}: {e}")))?;
        if prefix.network() != prefix {
            return Err(ConfigError::invalid(
                &key,
                format!("{text:?} has host bits set; the prefix is {}", prefix.network()),
            ));
        }
        if prefix.prefix_len >= HNP_LEN {
            return Err(ConfigError::invalid(
                &key,
                format!(
                    "must be shorter than /{HNP_LEN}: /{HNP_LEN} home network prefixes are allocated from it, \
                     got /{}",
                    prefix.prefix_len
                ),
            ));
        }
        if ipv6_non_unicast(prefix) {
            return Err(ConfigError::invalid(&key, format!("{prefix} is not a routable unicast prefix")));
        }
        on_our_links(&key, "home network prefix pool", prefix.into(), ports, false)?;
        if let Some(j) = hnp.iter().position(|p| p.overlaps(&prefix)) {
            return Err(ConfigError::invalid(&key, format!("{prefix} overlaps pools.hnp[{j}] ({})", hnp[j])));
        }
        hnp.push(prefix);
    }

    let mut ipv4: Vec<Ipv4Pool> = Vec::with_capacity(raw.ipv4.len());
    for (i, raw) in raw.ipv4.into_iter().enumerate() {
        let pool = ipv4_pool(i, raw, ports)?;
        if let Some(j) = ipv4.iter().position(|p| p.subnet.overlaps(&pool.subnet)) {
            return Err(ConfigError::invalid(
                format!("pools.ipv4[{i}].subnet"),
                format!("{} overlaps pools.ipv4[{j}].subnet ({})", pool.subnet, ipv4[j].subnet),
            ));
        }
        ipv4.push(pool);
    }
    Ok(PoolsConfig { hnp, ipv4 })
}

/// Why `addr` cannot be a mobile node's address in `pool`: it is the
/// subnet's network or broadcast address or its default router.
fn reserved_in_pool(addr: Ipv4Addr, pool: &Ipv4Pool, p: usize) -> Option<String> {
    if addr == pool.subnet.addr {
        Some(format!("{addr} is the network address of pools.ipv4[{p}].subnet ({})", pool.subnet))
    } else if addr == pool.subnet.broadcast() {
        Some(format!("{addr} is the broadcast address of pools.ipv4[{p}].subnet ({})", pool.subnet))
    } else if addr == pool.default_router {
        Some(format!("{addr} is the mobile nodes' default router (pools.ipv4[{p}].default_router)"))
    } else {
        None
    }
}

fn ipv4_pool(i: usize, raw: RawIpv4Pool, ports: &[PortConfig]) -> Result<Ipv4Pool, ConfigError> {
    let key = |field: &str| format!("pools.ipv4[{i}].{field}");
    let text = &raw.subnet;
    let subnet: Ipv4Cidr = text
        .parse()
        .map_err(|e: CidrError| ConfigError::invalid(key("subnet"), format!("invalid subnet {text:?}: {e}")))?;
    if subnet.network() != subnet {
        return Err(ConfigError::invalid(
            key("subnet"),
            format!("{text:?} has host bits set; the subnet is {}", subnet.network()),
        ));
    }
    if !(1..=30).contains(&subnet.prefix_len) {
        return Err(ConfigError::invalid(
            key("subnet"),
            format!(
                "prefix length must be 1 to 30 (room for a default router and a mobile node), got /{}",
                subnet.prefix_len
            ),
        ));
    }
    if ipv4_non_unicast(subnet) {
        return Err(ConfigError::invalid(key("subnet"), format!("{subnet} is not a unicast subnet")));
    }
    on_our_links(&key("subnet"), "home subnet", subnet.into(), ports, true)?;

    let parse = |k: &str, text: &str| -> Result<Ipv4Addr, ConfigError> {
        text.parse().map_err(|e| ConfigError::invalid(k, format!("invalid IPv4 address {text:?}: {e}")))
    };
    let default_router = parse(&key("default_router"), &raw.default_router)?;
    if !subnet.contains(default_router) {
        return Err(ConfigError::invalid(key("default_router"), format!("{default_router} is not inside {subnet}")));
    }
    if default_router == subnet.addr || default_router == subnet.broadcast() {
        return Err(ConfigError::invalid(
            key("default_router"),
            format!("{default_router} is the network or broadcast address of {subnet}"),
        ));
    }

    let mut pool = Ipv4Pool { subnet, default_router, exclude: Vec::with_capacity(raw.exclude.len()) };
    for (x, text) in raw.exclude.iter().enumerate() {
        let k = key(&format!("exclude[{x}]"));
        let addr = parse(&k, text)?;
        if !subnet.contains(addr) {
            return Err(ConfigError::invalid(k, format!("{addr} is not inside {subnet}")));
        }
        if let Some(why) = reserved_in_pool(addr, &pool, i) {
            return Err(ConfigError::invalid(k, format!("{why}, which is never allocated anyway")));
        }
        if let Some(first) = pool.exclude.iter().position(|a| *a == addr) {
            return Err(ConfigError::invalid(
                k,
                format!("duplicate address {addr} (also pools.ipv4[{i}].exclude[{first}])"),
            ));
        }
        pool.exclude.push(addr);
    }
    Ok(pool)
}

/// Static bindings live beside the pools (whose addresses are in VRF 0): a
/// VRF 0 binding address inside a pool is excluded from dynamic allocation
/// automatically, but it cannot be what is never a mobile node's address.
fn bindings_against_pools(bindings: &[StaticBinding], pools: &PoolsConfig) -> Result<(), ConfigError> {
    for (b, binding) in bindings.iter().enumerate().filter(|(_, b)| b.vrf == 0) {
        let Some(addr) = binding.ipv4_hoa else { continue };
        for (p, pool) in pools.ipv4.iter().enumerate().filter(|(_, p)| p.subnet.contains(addr)) {
            if let Some(why) = reserved_in_pool(addr, pool, p) {
                return Err(ConfigError::invalid(
                    format!("binding[{b}].ipv4_hoa"),
                    format!("{why}, not a home address"),
                ));
            }
        }
    }
    Ok(())
}

/// Adds every profile's static IPv4 HoA and every VRF 0 static binding's
/// IPv4 HoA to the exclude list of the pool they are in; and, for a pool on
/// a home link, our own addresses and the IPv4 next hops of routes inside
/// it (other nodes on that link, which no mobile node may be given).
fn auto_exclude(
    pools: &mut PoolsConfig,
    profiles: &ProfilesConfig,
    bindings: &[StaticBinding],
    ports: &[PortConfig],
    routes: &[RouteConfig],
    more_statics: &[Ipv4Addr],
) {
    let statics = profiles.mobile_nodes.iter().filter_map(|p| p.static_ipv4_hoa).chain(more_statics.iter().copied());
    let bound = bindings.iter().filter(|b| b.vrf == 0).filter_map(|b| b.ipv4_hoa);
    let home_links = ports.iter().filter(|p| p.home_link);
    let ours = home_links.flat_map(|p| p.ipv4.iter().map(|c| c.addr));
    let hops = routes.iter().filter_map(|r| match r.via {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    });
    for addr in statics.chain(bound).chain(ours).chain(hops) {
        if let Some(pool) = pools.ipv4.iter_mut().find(|p| p.subnet.contains(addr)) {
            if !pool.exclude.contains(&addr) {
                pool.exclude.push(addr);
            }
        }
    }
}

fn profiles(
    raw: RawProfiles,
    lma: Option<&LmaConfig>,
    ports: &[PortConfig],
    pools: &PoolsConfig,
    bindings: &[StaticBinding],
) -> Result<ProfilesConfig, ConfigError> {
    let context = ProfileContext { lma, ports, pools, bindings };
    let default = raw.default.map(|raw| profile("profiles.default", raw.into(), true, &context)).transpose()?;
    let mut mobile_nodes: Vec<Profile> = Vec::with_capacity(raw.mn.len());
    for (i, raw) in raw.mn.into_iter().enumerate() {
        let prefix = format!("profiles.mn[{i}]");
        let new = profile(&prefix, raw, false, &context)?;
        let key = |field: &str| format!("{prefix}.{field}");
        for (j, other) in mobile_nodes.iter().enumerate() {
            if other.mn_id == new.mn_id {
                return Err(ConfigError::invalid(
                    key("mn_id"),
                    format!("duplicate MN-ID {:?} (also profiles.mn[{j}])", new.mn_id),
                ));
            }
            if let Some(a) = new.static_ipv4_hoa.filter(|a| other.static_ipv4_hoa == Some(*a)) {
                return Err(ConfigError::invalid(
                    key("static_ipv4_hoa"),
                    format!("{a} is already the static address of profiles.mn[{j}] ({})", other.mn_id),
                ));
            }
            if let Some(p) = new.static_hnp.filter(|p| other.static_hnp == Some(*p)) {
                return Err(ConfigError::invalid(
                    key("static_hnp"),
                    format!("{p} is already the static prefix of profiles.mn[{j}] ({})", other.mn_id),
                ));
            }
        }
        mobile_nodes.push(new);
    }
    Ok(ProfilesConfig { default, mobile_nodes })
}

/// What a profile is checked against.
struct ProfileContext<'a> {
    lma: Option<&'a LmaConfig>,
    ports: &'a [PortConfig],
    pools: &'a PoolsConfig,
    bindings: &'a [StaticBinding],
}

fn profile(prefix: &str, raw: RawProfile, is_default: bool, cx: &ProfileContext<'_>) -> Result<Profile, ConfigError> {
    let key = |field: &str| format!("{prefix}.{field}");
    // The default profile's raw form has no mn_id and no static address.
    let mn_id = match &raw.mn_id {
        None if is_default => String::new(),
        None => return Err(ConfigError::invalid(key("mn_id"), "required: the mobile node's identifier (NAI)")),
        Some(id) => mn_id(&key("mn_id"), id)?,
    };
    if raw.pmip6 && !raw.ipv4 && !raw.ipv6 {
        return Err(ConfigError::invalid(
            prefix,
            "allows neither ipv4 nor ipv6, so every PBU would be refused; to refuse network-based mobility \
             set pmip6 = false",
        ));
    }
    let static_ipv4_hoa = raw
        .static_ipv4_hoa
        .as_deref()
        .map(|text| static_ipv4_hoa(&key("static_ipv4_hoa"), text, raw.ipv4, cx))
        .transpose()?;
    let static_hnp =
        raw.static_hnp.as_deref().map(|text| static_hnp(&key("static_hnp"), text, raw.ipv6, cx)).transpose()?;

    let max_lifetime = match raw.max_lifetime_s {
        None => None,
        Some(s) => Some(match cx.lma {
            Some(lma) => {
                let cap = u32::try_from(lma.max_lifetime.as_secs()).unwrap_or(MAX_LIFETIME_S);
                lifetime(&key("max_lifetime_s"), s, cap, "lma.max_lifetime_s")?
            }
            None => lifetime(&key("max_lifetime_s"), s, MAX_LIFETIME_S, "65535 x 4 s")?,
        }),
    };

    if raw.gre_required && cx.lma.is_some_and(|l| l.gre == GrePolicy::Disabled) {
        return Err(ConfigError::invalid(
            key("gre_required"),
            "lma.gre is \"disabled\", so no session can use GRE; set lma.gre to \"supported\" or \"required\"",
        ));
    }

    for (i, name) in raw.mags.iter().enumerate() {
        let k = key(&format!("mags[{i}]"));
        let known = cx.lma.is_some_and(|l| l.mags.iter().any(|m| &m.name == name));
        if !known {
            let names = match cx.lma {
                None => "there is no [lma]".to_owned(),
                Some(l) => {
                    let names: Vec<String> = l.mags.iter().map(|m| format!("{:?}", m.name)).collect();
                    format!("MAGs: {}", names.join(", "))
                }
            };
            return Err(ConfigError::invalid(k, format!("no [[lma.mag]] named {name:?} ({names})")));
        }
        if let Some(first) = raw.mags[..i].iter().position(|n| n == name) {
            return Err(ConfigError::invalid(k, format!("duplicate MAG {name:?} (also {prefix}.mags[{first}])")));
        }
    }

    Ok(Profile {
        mn_id,
        pmip6: raw.pmip6,
        mip4: raw.mip4,
        ipv4: raw.ipv4,
        ipv6: raw.ipv6,
        static_ipv4_hoa,
        static_hnp,
        max_lifetime,
        gre_required: raw.gre_required,
        mags: raw.mags,
    })
}

/// A profile's static IPv4 home address: inside a pool (which then excludes
/// it from dynamic allocation), a host address there, bound by no VRF 0
/// static binding.
fn static_ipv4_hoa(key: &str, text: &str, ipv4: bool, cx: &ProfileContext<'_>) -> Result<Ipv4Addr, ConfigError> {
    let addr: Ipv4Addr =
        text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IPv4 address {text:?}: {e}")))?;
    if !ipv4 {
        return Err(ConfigError::invalid(key, "the profile does not allow IPv4 (ipv4 = false)"));
    }
    let Some((p, pool)) = cx.pools.ipv4.iter().enumerate().find(|(_, p)| p.subnet.contains(addr)) else {
        let subnets: Vec<String> = cx.pools.ipv4.iter().map(|p| p.subnet.to_string()).collect();
        return Err(ConfigError::invalid(
            key,
            format!(
                "{addr} is not inside any pools.ipv4 subnet ({}); a static home address belongs to a home subnet",
                if subnets.is_empty() { "there is none".to_owned() } else { subnets.join(", ") }
            ),
        ));
    };
    if let Some(why) = reserved_in_pool(addr, pool, p) {
        return Err(ConfigError::invalid(key, format!("{why}, not a home address")));
    }
    // Only a pool on a home link can hold one of our addresses.
    if let Some((_, here)) = own_addresses(cx.ports).find(|(a, _)| *a == IpAddr::V4(addr)) {
        return Err(ConfigError::invalid(key, format!("{addr} is our own address ({here}), not a home address")));
    }
    if let Some(b) = cx.bindings.iter().position(|b| b.vrf == 0 && b.ipv4_hoa == Some(addr)) {
        return Err(ConfigError::invalid(
            key,
            format!("{addr} is already bound by binding[{b}] ({}), a static binding", cx.bindings[b].mn_id),
        ));
    }
    Ok(addr)
}

/// A profile's static home network prefix: a /64 inside a `pools.hnp`
/// aggregate, not a VRF 0 static binding's.
fn static_hnp(key: &str, text: &str, ipv6: bool, cx: &ProfileContext<'_>) -> Result<Ipv6Cidr, ConfigError> {
    let prefix = home_prefix(key, text, cx.ports)?;
    if !ipv6 {
        return Err(ConfigError::invalid(key, "the profile does not allow IPv6 (ipv6 = false)"));
    }
    if !cx.pools.hnp.iter().any(|p| p.contains(prefix.addr)) {
        let pools: Vec<String> = cx.pools.hnp.iter().map(|p| p.to_string()).collect();
        return Err(ConfigError::invalid(
            key,
            format!(
                "{prefix} is not inside any pools.hnp prefix ({})",
                if pools.is_empty() { "there is none".to_owned() } else { pools.join(", ") }
            ),
        ));
    }
    for (b, binding) in cx.bindings.iter().enumerate().filter(|(_, b)| b.vrf == 0) {
        if binding.hnps.contains(&prefix) || binding.ipv6_hoa.is_some_and(|a| prefix.contains(a)) {
            return Err(ConfigError::invalid(
                key,
                format!("{prefix} is already bound by binding[{b}] ({}), a static binding", binding.mn_id),
            ));
        }
    }
    Ok(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    /// A small valid file; tests break one thing in it at a time.
    pub(super) const BASE: &str = r#"
[eal]
args = ["--no-huge", "--no-pci"]
control_cpus = "0"
worker_cpus = [1]

[[port]]
name = "core"
role = "core"
device = "net_af_packet0,iface=lma-core,qpairs=2"
ipv4 = ["192.0.2.1/24"]
ipv6 = ["2001:db8:1::1/64"]

[[port]]
name = "home"
role = "home"
device = "net_af_packet1,iface=lma-home,qpairs=2"
ipv4 = ["198.51.100.1/24"]
ipv6 = ["2001:db8:2::1/64"]

[[route]]
prefix = "0.0.0.0/0"
via = "198.51.100.2"
port = "home"
"#;

    /// `BASE` with `from` replaced by `to` (which must occur), parsed.
    fn with(from: &str, to: &str) -> Result<Config, ConfigError> {
        assert!(BASE.contains(from), "{from:?} not in BASE");
        parse(&BASE.replacen(from, to, 1))
    }

    /// The error message of `with`, which must fail.
    fn error(from: &str, to: &str) -> String {
        match with(from, to) {
            Ok(_) => panic!("replacing {from:?} by {to:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn base_config_is_valid() {
        let c = parse(BASE).unwrap();
        assert_eq!(c.ports.len(), 2);
        assert_eq!(c.routes[0].port, 1);
    }

    #[test]
    fn bad_ipv4_interface_address_names_the_key_and_the_text() {
        let msg = error("198.51.100.1/24", "192.0.2.300/24");
        assert!(msg.starts_with("port[1].ipv4[0]: invalid IPv4 interface address \"192.0.2.300/24\": "), "{msg}");
    }

    #[test]
    fn interface_address_without_prefix_length_is_rejected() {
        let msg = error("192.0.2.1/24", "192.0.2.1");
        assert!(msg.starts_with("port[0].ipv4[0]: "), "{msg}");
        assert!(msg.contains("missing prefix length"), "{msg}");
    }

    #[test]
    fn network_and_broadcast_addresses_are_not_interface_addresses() {
        assert!(error("192.0.2.1/24", "192.0.2.0/24").contains("network address"));
        assert!(error("192.0.2.1/24", "192.0.2.255/24").contains("broadcast address"));
        assert!(with("192.0.2.1/24", "192.0.2.0/31").is_ok());
        assert!(error("192.0.2.1/24", "224.0.0.1/24").contains("not a unicast"));
    }

    #[test]
    fn bad_ipv6_interface_address_names_the_key() {
        let msg = error("2001:db8:1::1/64", "2001:db8:1::g/64");
        assert!(msg.starts_with("port[0].ipv6[0]: invalid IPv6 interface address \"2001:db8:1::g/64\""), "{msg}");
        assert!(error("2001:db8:1::1/64", "ff02::1/64").contains("not a unicast"));
        assert!(error("2001:db8:1::1/64", "2001:db8:1::1/129").contains("longer than 128"));
    }

    #[test]
    fn same_address_on_two_ports_is_rejected() {
        let msg = error("198.51.100.1/24", "192.0.2.1/24");
        assert_eq!(msg, "port[1].ipv4[0]: address 192.0.2.1 is already used by port[0].ipv4[0]");
    }

    #[test]
    fn overlapping_subnets_on_two_ports_are_rejected_but_allowed_on_one_port() {
        let msg = error("2001:db8:2::1/64", "2001:db8:1::9/48");
        assert!(
            msg == "port[1].ipv6[0]: subnet 2001:db8:1::/48 overlaps 2001:db8:1::/64 of \
                   port[0].ipv6[0] on another port",
            "{msg}"
        );
        let c = with("ipv4 = [\"192.0.2.1/24\"]", "ipv4 = [\"192.0.2.1/24\", \"192.0.2.9/24\"]").unwrap();
        assert_eq!(c.ports[0].ipv4.len(), 2);
    }

    #[test]
    fn route_naming_a_missing_port_is_rejected() {
        let msg = error("port = \"home\"", "port = \"hom\"");
        assert!(msg.starts_with("route[0].port: no port named \"hom\""), "{msg}");
    }

    #[test]
    fn zero_ports_are_rejected() {
        let msg = parse("[eal]\nworker_cpus = [1]\n").unwrap_err().to_string();
        assert_eq!(msg, "port: at least one [[port]] is required");
    }

    #[test]
    fn duplicate_port_names_are_rejected() {
        let msg = error("name = \"home\"", "name = \"core\"");
        assert_eq!(msg, "port[1].name: duplicate port name \"core\" (also port[0])");
    }

    #[test]
    fn bad_port_name_and_role_are_rejected() {
        assert!(error("name = \"home\"", "name = \"home side\"").starts_with("port[1].name: "));
        assert_eq!(
            error("role = \"home\"", "role = \"internet\""),
            "port[1].role: must be \"core\" or \"home\", got \"internet\""
        );
    }

    #[test]
    fn pci_addresses_are_told_apart_from_vdevs() {
        assert_eq!(port_device("0000:3b:02.1"), Ok(PortDevice::Pci("0000:3b:02.1".into())));
        assert_eq!(port_device("0000:AF:1f.7"), Ok(PortDevice::Pci("0000:af:1f.7".into())));
        assert_eq!(port_device("net_ring0"), Ok(PortDevice::Vdev("net_ring0".into())));
        assert_eq!(
            port_device("net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"),
            Ok(PortDevice::Vdev("net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap".into()))
        );
        // Not PCI (short form, bad function, device above 1f, non-hex) and
        // not starting with net_.
        for text in ["3b:02.1", "0000:3b:02.8", "0000:3b:20.0", "0000:3g:02.1", "eth0", ""] {
            let err = port_device(text).unwrap_err();
            assert!(err.contains("neither a PCI address"), "{text}: {err}");
        }
        assert!(port_device("net_").is_err());
        assert!(port_device("net_af packet0").is_err());
        assert!(port_device("net_ring0,,x=1").is_err());
    }

    #[test]
    fn device_that_is_neither_pci_nor_vdev_names_the_key() {
        let msg = error("net_af_packet1,iface=lma-home,qpairs=2", "af_packet1,iface=lma-home");
        assert!(msg.starts_with("port[1].device: \"af_packet1,iface=lma-home\" is neither"), "{msg}");
    }

    #[test]
    fn pci_port_with_no_pci_in_eal_args_is_rejected() {
        let msg = error("net_af_packet1,iface=lma-home,qpairs=2", "0000:3b:02.1");
        assert_eq!(msg, "eal.args[1]: \"--no-pci\" hides port[1]'s PCI device from the EAL");
    }

    #[test]
    fn duplicate_devices_and_interfaces_are_rejected() {
        assert_eq!(
            error("net_af_packet1,iface=lma-home", "net_af_packet0,iface=lma-home"),
            "port[1].device: duplicate device \"net_af_packet0\" (also port[0])"
        );
        assert_eq!(
            error("iface=lma-home", "iface=lma-core"),
            "port[1].device: interface \"lma-core\" is already used by port[0]"
        );
    }

    #[test]
    fn af_packet_needs_a_queue_pair_per_worker_plus_one() {
        let msg = error("worker_cpus = [1]", "worker_cpus = [1, 2]");
        assert!(msg.starts_with("port[0].device: net_af_packet needs qpairs=3"), "{msg}");
        assert!(msg.ends_with("got qpairs=2"), "{msg}");
        let msg = error("net_af_packet0,iface=lma-core,qpairs=2", "net_af_packet0,iface=lma-core");
        assert!(msg.ends_with("got qpairs=1"), "{msg}");
    }

    #[test]
    fn mtu_outside_576_to_9000_is_rejected() {
        let text = BASE.replacen("role = \"core\"", "role = \"core\"\nmtu = 100", 1);
        assert_eq!(parse(&text).unwrap_err().to_string(), "port[0].mtu: must be between 576 and 9000, got 100");
        let text = BASE.replacen("role = \"core\"", "role = \"core\"\nmtu = 1000", 1);
        assert!(parse(&text).unwrap_err().to_string().contains("at least 1280 on a port with IPv6"));
    }

    #[test]
    fn port_without_addresses_is_rejected() {
        // Without the route, which would fail first on the bare port.
        let text = &BASE[..BASE.find("[[route]]").unwrap()];
        let text =
            text.replacen("ipv4 = [\"198.51.100.1/24\"]\n", "", 1).replacen("ipv6 = [\"2001:db8:2::1/64\"]\n", "", 1);
        let text = text.as_str();
        assert_eq!(parse(text).unwrap_err().to_string(), "port[1]: has no address: give it ipv4 and/or ipv6");
    }

    #[test]
    fn route_prefix_with_host_bits_is_rejected() {
        assert_eq!(
            error("prefix = \"0.0.0.0/0\"", "prefix = \"10.1.2.3/8\""),
            "route[0].prefix: \"10.1.2.3/8\" has host bits set; the network is 10.0.0.0/8"
        );
        assert!(error("prefix = \"0.0.0.0/0\"", "prefix = \"10.0.0.0\"")
            .starts_with("route[0].prefix: invalid prefix \"10.0.0.0\": missing prefix length"));
    }

    #[test]
    fn route_via_of_the_other_family_is_rejected() {
        assert_eq!(
            error("prefix = \"0.0.0.0/0\"", "prefix = \"::/0\""),
            "route[0].via: 198.51.100.2 is IPv4 but the prefix ::/0 is IPv6"
        );
    }

    #[test]
    fn route_via_outside_the_ports_subnets_is_rejected() {
        assert_eq!(
            error("via = \"198.51.100.2\"", "via = \"192.0.2.2\""),
            "route[0].via: 192.0.2.2 is not inside any IPv4 subnet of port \"home\" \
             (198.51.100.0/24)"
        );
        assert!(error("via = \"198.51.100.2\"", "via = \"198.51.100.1\"").contains("own address"));
        assert!(error("via = \"198.51.100.2\"", "via = \"198.51.100.255\"").contains("broadcast"));
        assert!(error("via = \"198.51.100.2\"", "via = \"198.51.100\"")
            .starts_with("route[0].via: invalid IP address \"198.51.100\""));
    }

    #[test]
    fn duplicate_route_prefixes_are_rejected() {
        let text = format!("{BASE}\n[[route]]\nprefix = \"0.0.0.0/0\"\nvia = \"198.51.100.3\"\nport = \"home\"\n");
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "route[1].prefix: duplicate route for 0.0.0.0/0 (also route[0])"
        );
    }

    #[test]
    fn punt_ring_size_must_be_a_power_of_two() {
        let text = format!("{BASE}\n[dataplane]\npunt_ring_size = 1000\n");
        assert_eq!(parse(&text).unwrap_err().to_string(), "dataplane.punt_ring_size: must be a power of two, got 1000");
    }

    #[test]
    fn dataplane_sizes_out_of_range_are_rejected() {
        let bad = |line: &str| parse(&format!("{BASE}\n[dataplane]\n{line}\n")).unwrap_err().to_string();
        assert_eq!(bad("burst_size = 0"), "dataplane.burst_size: must be between 1 and 64, got 0");
        assert_eq!(bad("burst_size = 65"), "dataplane.burst_size: must be between 1 and 64, got 65");
        assert_eq!(bad("rx_ring_size = 1000"), "dataplane.rx_ring_size: must be a power of two, got 1000");
        assert_eq!(bad("tx_ring_size = 32"), "dataplane.tx_ring_size: must be between 64 and 32768, got 32");
        assert_eq!(bad("mbuf_cache = 513"), "dataplane.mbuf_cache: must be between 0 and 512, got 513");
        assert!(bad("idle_backoff_us = 1000000").starts_with("dataplane.idle_backoff_us: "));
        assert!(bad("mbufs_per_socket = 300").starts_with("dataplane.mbufs_per_socket: "));
    }

    #[test]
    fn too_few_mbufs_for_the_rings_is_rejected_with_the_needed_count() {
        let text = format!("{BASE}\n[dataplane]\nmbufs_per_socket = 4095\n");
        let msg = parse(&text).unwrap_err().to_string();
        assert_eq!(
            msg,
            "dataplane.mbufs_per_socket: 4095 is too few for 2 ports and 1 workers: need at \
             least 7680 (RX rings 2048 + TX rings 4096 + punt rings 1024 + mempool caches 512)"
        );
    }

    #[test]
    fn neighbor_timers_out_of_range_are_rejected() {
        let text = format!("{BASE}\n[neighbor]\nmax_retries = 0\n");
        assert_eq!(parse(&text).unwrap_err().to_string(), "neighbor.max_retries: must be between 1 and 100, got 0");
    }

    #[test]
    fn empty_worker_cpus_are_rejected() {
        assert_eq!(error("worker_cpus = [1]", "worker_cpus = []"), "eal.worker_cpus: must not be empty");
    }

    #[test]
    fn duplicate_worker_cpus_are_rejected() {
        assert_eq!(
            error("worker_cpus = [1]", "worker_cpus = [1, 2, 1]"),
            "eal.worker_cpus[2]: duplicate worker CPU 1 (also eal.worker_cpus[0])"
        );
    }

    #[test]
    fn control_cpus_are_parsed_and_normalised() {
        assert_eq!(cpu_list("0-1"), Ok("0-1".into()));
        assert_eq!(cpu_list(" 0, 2 ,4-7"), Ok("0,2,4-7".into()));
        assert_eq!(cpu_list("3-3"), Ok("3".into()));
        assert!(cpu_list("").is_err());
        assert!(cpu_list("1-0").unwrap_err().contains("backwards"));
        assert!(cpu_list("0,,1").is_err());
        assert!(cpu_list("0-").is_err());
        assert!(cpu_list("+1").is_err());
        assert!(cpu_list("2048").unwrap_err().contains("above"));
        assert!(error("control_cpus = \"0\"", "control_cpus = \"zero\"")
            .starts_with("eal.control_cpus: invalid CPU list \"zero\": "));
    }

    #[test]
    fn eal_args_that_the_crate_generates_are_rejected() {
        for (arg, bad) in [
            ("-l", "\"-l\""),
            ("-l0-3", "\"-l0-3\""),
            ("--lcores=0@0", "\"--lcores=0@0\""),
            ("--file-prefix", "\"--file-prefix\""),
            ("--main-lcore", "\"--main-lcore\""),
        ] {
            let msg = error("\"--no-huge\", \"--no-pci\"", &format!("\"--no-pci\", \"{arg}\""));
            assert!(msg.starts_with(&format!("eal.args[1]: {bad} must not be given here")), "{msg}");
        }
        assert!(error("\"--no-huge\", \"--no-pci\"", "\"--no-huge\", \"--in-memory\"").contains("refused by the EAL"));
        assert_eq!(error("\"--no-huge\", \"--no-pci\"", "\"--no-huge\", \"\""), "eal.args[1]: must not be empty");
    }

    #[test]
    fn file_prefix_must_be_a_plain_name() {
        let text = BASE.replacen("[eal]", "[eal]\nfile_prefix = \"a/b\"", 1);
        assert!(parse(&text).unwrap_err().to_string().starts_with("eal.file_prefix: must be 1 to 64 letters"));
    }

    #[test]
    fn log_levels_and_filter_directives_are_accepted() {
        for ok in [
            "info",
            "TRACE",
            "off",
            "warn,control=debug",
            "info, control::pmip6=trace ,dataplane=warn",
            "anchord[session{id=3}]=debug",
            "[span]=info",
        ] {
            assert_eq!(log_filter(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn misspelt_log_levels_and_malformed_directives_are_rejected() {
        for bad in ["", "inof", "control=loud", "info,", "=debug", "a b=info", "x[span=info"] {
            assert!(log_filter(bad).is_err(), "{bad:?} accepted");
        }
        let text = format!("{BASE}\n[log]\nlevel = \"verbose\"\n");
        assert!(parse(&text).unwrap_err().to_string().starts_with("log.level: invalid level or filter \"verbose\": "));
    }

    /// `BASE` plus one `[[binding]]` table per entry, parsed.
    fn with_bindings(tables: &[&str]) -> Result<Config, ConfigError> {
        let mut text = BASE.to_owned();
        for table in tables {
            text.push_str(&format!("\n[[binding]]\n{table}\n"));
        }
        parse(&text)
    }

    /// The error message of `with_bindings`, which must fail.
    fn binding_error(tables: &[&str]) -> String {
        match with_bindings(tables) {
            Ok(_) => panic!("bindings {tables:?} were accepted"),
            Err(e) => e.to_string(),
        }
    }

    /// A valid binding: IPv4 HoA over IPIP to a peer on the core link.
    const IPIP: &str = "ipv4_hoa = \"203.0.113.200\"\nendpoint = \"192.0.2.2\"\ntunnel = \"ipip\"";

    /// `IPIP` with `from` replaced by `to` (which must occur).
    fn ipip(from: &str, to: &str) -> String {
        assert!(IPIP.contains(from), "{from:?} not in IPIP");
        IPIP.replacen(from, to, 1)
    }

    #[test]
    fn binding_defaults_fill_mn_id_vrf_local_port_and_dscp() {
        let c = with_bindings(&[IPIP]).unwrap();
        assert_eq!(
            c.bindings,
            [StaticBinding {
                mn_id: "binding-0".into(),
                vrf: 0,
                ipv4_hoa: Some(Ipv4Addr::new(203, 0, 113, 200)),
                hnps: Vec::new(),
                ipv6_hoa: None,
                endpoint: "192.0.2.2".parse().unwrap(),
                local: "192.0.2.1".parse().unwrap(),
                tunnel: TunnelMode::IpIp,
                dscp: None,
                port: 0,
            }]
        );
    }

    #[test]
    fn binding_without_any_address_is_rejected() {
        assert_eq!(
            binding_error(&["endpoint = \"192.0.2.2\"\ntunnel = \"ipip\"\nhnps = []"]),
            "binding[0]: has no address: give it ipv4_hoa, hnps and/or ipv6_hoa"
        );
    }

    #[test]
    fn binding_with_only_an_hnp_or_only_an_ipv6_hoa_is_accepted() {
        let c = with_bindings(&[
            "hnps = [\"2001:db8:100:1::/64\"]\nendpoint = \"2001:db8:1::2\"\ntunnel = \"ipip\"",
            "ipv6_hoa = \"2001:db8:200::5\"\nendpoint = \"2001:db8:1::3\"\ntunnel = \"ipip\"",
        ])
        .unwrap();
        assert_eq!(c.bindings[0].hnps, ["2001:db8:100:1::/64".parse().unwrap()]);
        assert_eq!(c.bindings[1].ipv6_hoa, Some("2001:db8:200::5".parse().unwrap()));
    }

    #[test]
    fn empty_mn_id_is_rejected() {
        assert_eq!(binding_error(&[&format!("mn_id = \"\"\n{IPIP}")]), "binding[0].mn_id: must not be empty");
        let long = format!("mn_id = \"{}@anchor.test\"\n{IPIP}", "x".repeat(250));
        assert!(binding_error(&[&long]).starts_with("binding[0].mn_id: at most 254 bytes"));
        assert!(binding_error(&[&format!("mn_id = \"a b@anchor.test\"\n{IPIP}")]).contains("must not contain spaces"));
    }

    #[test]
    fn unknown_tunnel_kind_is_rejected() {
        assert_eq!(
            binding_error(&[&ipip("\"ipip\"", "\"vxlan\"")]),
            "binding[0].tunnel: must be \"ipip\", \"gre\", \"udp\", \"udp-tlv\" or \"mip-udp\", \
             got \"vxlan\""
        );
    }

    #[test]
    fn udp_udp_tlv_and_mip_udp_need_an_ipv4_endpoint() {
        for tunnel in ["\"udp\"", "\"udp-tlv\"\ngre_key_in = 1\ngre_key_out = 2", "\"mip-udp\"\nudp_port = 40001"] {
            let table = ipip("\"192.0.2.2\"", "\"2001:db8:1::2\"").replacen("\"ipip\"", tunnel, 1);
            let msg = binding_error(&[&table]);
            assert!(msg.starts_with("binding[0].endpoint: 2001:db8:1::2 is IPv6, but tunnel"), "{msg}");
            assert!(msg.contains("IPv4 only"), "{msg}");
        }
        // IPIP and GRE run over IPv6 too.
        let table = ipip("\"192.0.2.2\"", "\"2001:db8:1::2\"").replacen("ipip", "gre", 1);
        assert_eq!(with_bindings(&[&table]).unwrap().bindings[0].local, "2001:db8:1::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn endpoint_and_local_of_different_families_are_rejected() {
        assert_eq!(
            binding_error(&[&format!("{IPIP}\nlocal = \"2001:db8:1::1\"")]),
            "binding[0].local: 2001:db8:1::1 is IPv6 but the endpoint 192.0.2.2 is IPv4"
        );
    }

    #[test]
    fn local_that_is_not_one_of_our_port_addresses_is_rejected() {
        assert_eq!(
            binding_error(&[&format!("{IPIP}\nlocal = \"192.0.2.9\"")]),
            "binding[0].local: 192.0.2.9 is not an address of any port"
        );
        assert!(binding_error(&[&format!("{IPIP}\nlocal = \"192.0.2\"")])
            .starts_with("binding[0].local: invalid IP address \"192.0.2\""));
        // Any port's address will do, not only the core port's.
        let c = with_bindings(&[&format!("{IPIP}\nlocal = \"198.51.100.1\"")]).unwrap();
        assert_eq!(c.bindings[0].local, "198.51.100.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn local_defaults_to_the_first_core_address_of_the_endpoints_family() {
        let text = BASE.replacen("ipv6 = [\"2001:db8:1::1/64\"]\n", "", 1)
            + "\n[[binding]]\nipv4_hoa = \"203.0.113.200\"\nendpoint = \"2001:db8:2::9\"\n\
               tunnel = \"ipip\"\n";
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "binding[0].local: no core port has an IPv6 address to be our end of the tunnel \
             to 2001:db8:2::9; give local"
        );
        let with_local = text + "local = \"2001:db8:2::1\"\n";
        assert_eq!(parse(&with_local).unwrap().bindings[0].port, 1);
    }

    #[test]
    fn gre_keys_are_only_allowed_with_gre_and_udp_tlv() {
        for (tunnel, extra) in [("ipip", ""), ("udp", ""), ("mip-udp", "\nudp_port = 40001")] {
            let table = format!("{}{extra}\ngre_key_in = 1\ngre_key_out = 2", ipip("ipip", tunnel));
            assert_eq!(
                binding_error(&[&table]),
                format!(
                    "binding[0].gre_key_in: only allowed with tunnel \"gre\" or \"udp-tlv\", \
                     not \"{tunnel}\""
                )
            );
        }
        assert!(
            binding_error(&[&format!("{IPIP}\ngre_key_out = 2")]).starts_with("binding[0].gre_key_out: only allowed")
        );
    }

    #[test]
    fn gre_keys_go_in_pairs() {
        let gre = ipip("ipip", "gre");
        assert!(binding_error(&[&format!("{gre}\ngre_key_in = 1")])
            .starts_with("binding[0].gre_key_out: gre_key_in and gre_key_out go together"));
        assert!(binding_error(&[&format!("{gre}\ngre_key_out = 1")])
            .starts_with("binding[0].gre_key_in: gre_key_in and gre_key_out go together"));
        let c = with_bindings(&[
            &gre,
            &format!("{gre}\ngre_key_in = 0\ngre_key_out = 7").replacen("203.0.113.200", "203.0.113.201", 1),
        ])
        .unwrap();
        assert_eq!(c.bindings[0].tunnel, TunnelMode::Gre { key_in: None, key_out: None });
        assert_eq!(c.bindings[1].tunnel, TunnelMode::Gre { key_in: Some(0), key_out: Some(7) });
    }

    #[test]
    fn udp_tlv_requires_both_gre_keys() {
        let tlv = ipip("ipip", "udp-tlv");
        assert!(binding_error(&[&tlv]).starts_with("binding[0].gre_key_in: required with tunnel \"udp-tlv\""));
        assert!(binding_error(&[&format!("{tlv}\ngre_key_in = 1")])
            .starts_with("binding[0].gre_key_out: required with tunnel \"udp-tlv\""));
        let c = with_bindings(&[&format!("{tlv}\ngre_key_in = 1\ngre_key_out = 2")]).unwrap();
        assert_eq!(
            c.bindings[0].tunnel,
            TunnelMode::UdpTlv { peer_port: 5437, local_port: 5437, key_in: 1, key_out: 2 }
        );
    }

    #[test]
    fn udp_ports_are_only_allowed_with_udp_kinds() {
        for tunnel in ["ipip", "gre"] {
            assert_eq!(
                binding_error(&[&format!("{}\nudp_port = 5437", ipip("ipip", tunnel))]),
                format!(
                    "binding[0].udp_port: only allowed with tunnel \"udp\", \"udp-tlv\" or \
                     \"mip-udp\", not \"{tunnel}\""
                )
            );
            assert_eq!(
                binding_error(&[&format!("{}\nlocal_udp_port = 5437", ipip("ipip", tunnel))]),
                format!(
                    "binding[0].local_udp_port: only allowed with tunnel \"udp\" or \
                     \"udp-tlv\", not \"{tunnel}\""
                )
            );
        }
    }

    #[test]
    fn mip_udp_requires_udp_port_and_always_uses_434_on_our_side() {
        let mip = ipip("ipip", "mip-udp");
        assert!(binding_error(&[&mip]).starts_with("binding[0].udp_port: required with tunnel \"mip-udp\""));
        assert!(binding_error(&[&format!("{mip}\nudp_port = 40001\nlocal_udp_port = 434")])
            .starts_with("binding[0].local_udp_port: not allowed with tunnel \"mip-udp\""));
        let c = with_bindings(&[&format!("{mip}\nudp_port = 40001")]).unwrap();
        assert_eq!(c.bindings[0].tunnel, TunnelMode::MipUdp { peer_port: 40001 });
    }

    #[test]
    fn udp_ports_default_to_5437_and_may_be_set() {
        let udp = ipip("ipip", "udp");
        let c =
            with_bindings(&[
                &udp,
                &format!("{udp}\nudp_port = 6000\nlocal_udp_port = 6001")
                    .replacen("192.0.2.2", "192.0.2.3", 1)
                    .replacen("203.0.113.200", "203.0.113.201", 1),
            ])
            .unwrap();
        assert_eq!(c.bindings[0].tunnel, TunnelMode::Udp { peer_port: 5437, local_port: 5437 });
        assert_eq!(c.bindings[1].tunnel, TunnelMode::Udp { peer_port: 6000, local_port: 6001 });
    }

    #[test]
    fn udp_port_zero_and_local_udp_port_of_signalling_are_rejected() {
        let udp = ipip("ipip", "udp");
        assert_eq!(binding_error(&[&format!("{udp}\nudp_port = 0")]), "binding[0].udp_port: must not be 0");
        assert_eq!(binding_error(&[&format!("{udp}\nlocal_udp_port = 0")]), "binding[0].local_udp_port: must not be 0");
        for port in [434, 5436] {
            let msg = binding_error(&[&format!("{udp}\nlocal_udp_port = {port}")]);
            assert!(msg.starts_with(&format!("binding[0].local_udp_port: {port} is the ")), "{msg}");
            assert!(msg.contains("taken for signalling"), "{msg}");
        }
        // The DSMIPv6 UDP port carries plain IP in UDP (RFC 5555).
        let c = with_bindings(&[&format!("{udp}\nudp_port = 4191\nlocal_udp_port = 4191")]).unwrap();
        assert_eq!(c.bindings[0].tunnel, TunnelMode::Udp { peer_port: 4191, local_port: 4191 });
    }

    #[test]
    fn dscp_above_63_is_rejected() {
        assert_eq!(
            binding_error(&[&format!("{IPIP}\ndscp = 64")]),
            "binding[0].dscp: must be between 0 and 63, got 64"
        );
        let c = with_bindings(&[&format!("{IPIP}\ndscp = 63")]).unwrap();
        assert_eq!(c.bindings[0].dscp, Some(63));
    }

    #[test]
    fn bad_home_addresses_and_prefixes_name_the_key() {
        assert!(binding_error(&[&ipip("203.0.113.200", "203.0.113.300")])
            .starts_with("binding[0].ipv4_hoa: invalid IPv4 address \"203.0.113.300\""));
        assert!(binding_error(&[&ipip("203.0.113.200", "2001:db8::1")])
            .starts_with("binding[0].ipv4_hoa: invalid IPv4 address"));
        assert_eq!(
            binding_error(&[&ipip("203.0.113.200", "224.0.0.5")]),
            "binding[0].ipv4_hoa: 224.0.0.5 is not a unicast host address"
        );
        let v6 = |hoa: &str| format!("ipv6_hoa = \"{hoa}\"\nendpoint = \"192.0.2.2\"\ntunnel = \"ipip\"");
        assert!(binding_error(&[&v6("fe80::1")]).starts_with("binding[0].ipv6_hoa: fe80::1 is not"));
        assert!(binding_error(&[&v6("ff02::1")]).starts_with("binding[0].ipv6_hoa: ff02::1 is not"));
    }

    #[test]
    fn hnp_must_be_a_64_with_host_bits_zero() {
        let hnp =
            |p: &str| format!("hnps = [\"2001:db8:100:1::/64\", \"{p}\"]\nendpoint = \"192.0.2.2\"\ntunnel = \"ipip\"");
        assert_eq!(
            binding_error(&[&hnp("2001:db8:100::/48")]),
            "binding[0].hnps[1]: a home network prefix must be a /64, got /48"
        );
        assert_eq!(
            binding_error(&[&hnp("2001:db8:100:2::1/64")]),
            "binding[0].hnps[1]: \"2001:db8:100:2::1/64\" has host bits set; the prefix is \
             2001:db8:100:2::/64"
        );
        assert!(
            binding_error(&[&hnp("2001:db8:100:2::")]).starts_with("binding[0].hnps[1]: invalid home network prefix")
        );
        for bad in ["fe80::/64", "ff0e::/64", "::/64"] {
            assert_eq!(
                binding_error(&[&hnp(bad)]),
                format!("binding[0].hnps[1]: {bad} is not a routable unicast prefix")
            );
        }
    }

    #[test]
    fn home_address_or_prefix_on_a_ports_link_or_ours_is_rejected() {
        assert_eq!(
            binding_error(&[&ipip("203.0.113.200", "192.0.2.50")]),
            "binding[0].ipv4_hoa: home address 192.0.2.50 lies on the link of \
             port[0].ipv4[0] (192.0.2.0/24); a home address is reached through its tunnel, \
             not on a port's link"
        );
        assert_eq!(
            binding_error(&[&ipip("203.0.113.200", "198.51.100.1")]),
            "binding[0].ipv4_hoa: home address 198.51.100.1 is our own address \
             (port[1].ipv4[0])"
        );
        let v6 = |key: &str, value: &str| format!("{key} = {value}\nendpoint = \"192.0.2.2\"\ntunnel = \"ipip\"");
        assert!(binding_error(&[&v6("ipv6_hoa", "\"2001:db8:2::9\"")])
            .starts_with("binding[0].ipv6_hoa: home address 2001:db8:2::9 lies on the link of port[1].ipv6[0]"));
        assert!(
            binding_error(&[&v6("ipv6_hoa", "\"2001:db8:1::1\"")]).ends_with("is our own address (port[0].ipv6[0])")
        );
        assert!(binding_error(&[&v6("hnps", "[\"2001:db8:1::/64\"]")]).starts_with(
            "binding[0].hnps[0]: home network prefix 2001:db8:1::/64 lies on the link of port[0].ipv6[0]"
        ));
    }

    #[test]
    fn same_ipv4_hoa_twice_in_one_vrf_is_rejected_but_allowed_in_another() {
        let other_peer = ipip("192.0.2.2", "192.0.2.3");
        assert_eq!(
            binding_error(&[IPIP, &other_peer]),
            "binding[1].ipv4_hoa: 203.0.113.200 in vrf 0 is already bound by binding[0]"
        );
        let c = with_bindings(&[IPIP, &format!("{other_peer}\nvrf = 1")]).unwrap();
        assert_eq!(c.bindings[1].vrf, 1);
    }

    #[test]
    fn same_hnp_twice_in_one_vrf_is_rejected() {
        let hnps = |list: &str, peer: &str| format!("hnps = [{list}]\nendpoint = \"{peer}\"\ntunnel = \"ipip\"");
        let p1 = "\"2001:db8:100:1::/64\"";
        assert_eq!(
            binding_error(&[&hnps(p1, "192.0.2.2"), &hnps(p1, "192.0.2.3")]),
            "binding[1].hnps[0]: 2001:db8:100:1::/64 in vrf 0 is already bound by binding[0]"
        );
        assert_eq!(
            binding_error(&[&hnps(&format!("{p1}, {p1}"), "192.0.2.2")]),
            "binding[0].hnps[1]: duplicate prefix 2001:db8:100:1::/64 (also binding[0].hnps[0])"
        );
        let c = with_bindings(&[&hnps(p1, "192.0.2.2"), &format!("{}\nvrf = 2", hnps(p1, "192.0.2.3"))]).unwrap();
        assert_eq!(c.bindings.len(), 2);
    }

    #[test]
    fn same_ipv6_hoa_twice_or_inside_another_bindings_hnp_in_one_vrf_is_rejected() {
        let hoa = |peer: &str| format!("ipv6_hoa = \"2001:db8:200::5\"\nendpoint = \"{peer}\"\ntunnel = \"ipip\"");
        assert_eq!(
            binding_error(&[&hoa("192.0.2.2"), &hoa("192.0.2.3")]),
            "binding[1].ipv6_hoa: 2001:db8:200::5 in vrf 0 is already bound by binding[0]"
        );
        let hnp = "hnps = [\"2001:db8:200::/64\"]\nendpoint = \"192.0.2.3\"\ntunnel = \"ipip\"";
        assert_eq!(
            binding_error(&[hnp, &hoa("192.0.2.2")]),
            "binding[1].ipv6_hoa: 2001:db8:200::5 in vrf 0 lies inside 2001:db8:200::/64, \
             binding[0].hnps[0]"
        );
        assert_eq!(
            binding_error(&[&hoa("192.0.2.2"), hnp]),
            "binding[1].hnps[0]: 2001:db8:200::/64 in vrf 0 contains 2001:db8:200::5, \
             binding[0].ipv6_hoa"
        );
    }

    #[test]
    fn gre_key_in_is_unique_per_endpoint_among_gre_and_udp_tlv_bindings() {
        let keyed = |tunnel: &str, hoa: &str, peer: &str, key_in: u32| {
            format!(
                "ipv4_hoa = \"{hoa}\"\nendpoint = \"{peer}\"\ntunnel = \"{tunnel}\"\n\
                 gre_key_in = {key_in}\ngre_key_out = 7"
            )
        };
        assert_eq!(
            binding_error(&[
                &keyed("gre", "203.0.113.200", "192.0.2.2", 100),
                &keyed("udp-tlv", "203.0.113.201", "192.0.2.2", 100),
            ]),
            "binding[1].gre_key_in: key 100 from endpoint 192.0.2.2 is already the uplink key \
             of binding[0]; the uplink key identifies the session (RFC 5845)"
        );
        // Another endpoint, or another key: fine; downlink keys may repeat.
        let c = with_bindings(&[
            &keyed("gre", "203.0.113.200", "192.0.2.2", 100),
            &keyed("gre", "203.0.113.201", "192.0.2.3", 100),
            &keyed("udp-tlv", "203.0.113.202", "192.0.2.2", 101),
        ])
        .unwrap();
        assert_eq!(c.bindings.len(), 3);
    }

    #[test]
    fn an_unkeyed_tunnel_carrying_two_vrfs_is_rejected() {
        let msg = binding_error(&[IPIP, &format!("{}\nvrf = 1", ipip("200", "201"))]);
        assert!(
            msg.starts_with(
                "binding[1].vrf: binding[0] uses the same ipip tunnel from 192.0.2.2 to \
                 192.0.2.1 in vrf 0"
            ),
            "{msg}"
        );
        // Keyed GRE tells the VRFs apart; so does another encapsulation.
        let keyed = |key: u32| format!("{}\ngre_key_in = {key}\ngre_key_out = {key}", ipip("ipip", "gre"));
        let c = with_bindings(&[&keyed(1), &format!("{}\nvrf = 1", keyed(2))]).unwrap();
        assert_eq!(c.bindings[1].vrf, 1);
        assert!(with_bindings(&[IPIP, &format!("{}\nvrf = 1", ipip("ipip", "udp"))]).is_ok());
    }

    #[test]
    fn bad_endpoint_is_rejected() {
        assert!(binding_error(&[&ipip("192.0.2.2", "192.0.2")])
            .starts_with("binding[0].endpoint: invalid IP address \"192.0.2\""));
        assert_eq!(
            binding_error(&[&ipip("192.0.2.2", "192.0.2.1")]),
            "binding[0].endpoint: 192.0.2.1 is our own address (port[0].ipv4[0]); the \
             endpoint is the peer's address"
        );
        assert_eq!(
            binding_error(&[&ipip("192.0.2.2", "0.0.0.0")]),
            "binding[0].endpoint: 0.0.0.0 is not a routable unicast address"
        );
        assert!(binding_error(&[&ipip("192.0.2.2", "192.0.2.255")])
            .starts_with("binding[0].endpoint: 192.0.2.255 is the network or broadcast address"));
    }

    #[test]
    fn egress_port_defaults_to_the_endpoints_link_else_the_most_specific_route() {
        let text = format!(
            "{BASE}\n[[route]]\nprefix = \"100.64.0.0/10\"\nvia = \"192.0.2.254\"\nport = \"core\"\n\
             \n[[binding]]\n{}\n\n[[binding]]\n{}\n",
            ipip("192.0.2.2", "100.64.1.1"),
            ipip("192.0.2.2", "100.128.0.1").replacen("200", "201", 1)
        );
        let c = parse(&text).unwrap();
        // 100.64.0.0/10 via core beats 0.0.0.0/0 via home.
        assert_eq!(c.bindings[0].port, 0);
        assert_eq!(c.bindings[1].port, 1);
        assert_eq!(with_bindings(&[IPIP]).unwrap().bindings[0].port, 0);
        assert_eq!(
            binding_error(&[&ipip("192.0.2.2", "2001:db8:99::1")]),
            "binding[0].endpoint: 2001:db8:99::1 is not inside a subnet of any port and no \
             [[route]] covers it: the anchor has no way to reach it"
        );
    }

    #[test]
    fn named_egress_port_must_exist_and_reach_the_endpoint() {
        assert!(
            binding_error(&[&format!("{IPIP}\nport = \"cor\"")]).starts_with("binding[0].port: no port named \"cor\"")
        );
        assert_eq!(
            binding_error(&[&format!("{IPIP}\nport = \"home\"")]),
            "binding[0].port: endpoint 192.0.2.2 is on the link of port \"core\", so the \
             tunnel leaves by that port, not by \"home\""
        );
        let far = ipip("192.0.2.2", "100.64.1.1");
        assert!(binding_error(&[&format!("{far}\nport = \"core\"")])
            .starts_with("binding[0].port: port \"core\" cannot reach endpoint 100.64.1.1"));
        let c = with_bindings(&[&format!("{far}\nport = \"home\"")]).unwrap();
        assert_eq!(c.bindings[0].port, 1);
    }

    #[test]
    fn tunnel_settings_out_of_range_are_rejected() {
        let bad = |line: &str| parse(&format!("{BASE}\n[tunnel]\n{line}\n")).unwrap_err().to_string();
        assert_eq!(bad("ttl = 0"), "tunnel.ttl: must be between 1 and 255, got 0");
        assert_eq!(bad("ttl = 256"), "tunnel.ttl: must be between 1 and 255, got 256");
        assert_eq!(bad("ecn = \"ecn\""), "tunnel.ecn: must be \"normal\" or \"compat\", got \"ecn\"");
        assert_eq!(bad("mtu = 1279"), "tunnel.mtu: must be between 1280 and 9000, got 1279");
        assert_eq!(
            bad("ipv6_over_ipv4_mtu = 1481"),
            "tunnel.ipv6_over_ipv4_mtu: must be between 1280 and 1480, got 1481"
        );
        assert_eq!(bad("fib_capacity = 1023"), "tunnel.fib_capacity: must be between 1024 and 16777216, got 1023");
        assert!(bad("fib_capacity = 16777217").starts_with("tunnel.fib_capacity: "));
        let c = parse(&format!("{BASE}\n[tunnel]\nttl = 255\necn = \"compat\"\nmtu = 1400\n")).unwrap();
        assert_eq!((c.tunnel.ttl, c.tunnel.ecn, c.tunnel.mtu), (255, EcnMode::Compat, Some(1400)));
    }

    #[test]
    fn tunnel_mtu_above_a_core_ports_mtu_is_rejected() {
        let text = format!("{BASE}\n[tunnel]\nmtu = 1600\n");
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "tunnel.mtu: 1600 is above port[0].mtu (1500, port \"core\"): a path cannot carry \
             more than the link it starts on"
        );
        let jumbo = text.replacen("role = \"core\"", "role = \"core\"\nmtu = 9000", 1);
        assert_eq!(parse(&jumbo).unwrap().tunnel.mtu, Some(1600));
    }

    #[test]
    fn fib_capacity_below_the_static_binding_addresses_is_rejected() {
        let hnps: Vec<String> = (0..1024).map(|i| format!("\"2001:db8:100:{i:x}::/64\"")).collect();
        let table = format!(
            "ipv4_hoa = \"203.0.113.200\"\nhnps = [{}]\nendpoint = \"192.0.2.2\"\ntunnel = \"ipip\"",
            hnps.join(", ")
        );
        let text = format!("{BASE}\n[tunnel]\nfib_capacity = 1024\n\n[[binding]]\n{table}\n");
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "tunnel.fib_capacity: 1024 entries cannot hold the 1025 addresses of the static \
             bindings"
        );
        let roomy = text.replacen("fib_capacity = 1024", "fib_capacity = 2048", 1);
        assert_eq!(parse(&roomy).unwrap().bindings[0].hnps.len(), 1024);
    }

    #[test]
    fn overload_absent_takes_the_defaults_and_its_keys_are_read() {
        assert_eq!(parse(BASE).unwrap().overload, OverloadConfig::default());
        let text = format!(
            "{BASE}\n[overload]\npeer_rate = 0\npeer_burst = 0\npunts_per_pass = 64\nsignalling_per_pass = 8\n\
             signalling_backlog = 16\n"
        );
        let o = parse(&text).unwrap().overload;
        assert_eq!((o.peer_rate, o.peer_burst, o.punts_per_pass), (0, 0, 64));
        assert_eq!((o.signalling_per_pass, o.signalling_backlog), (8, 16));
    }

    #[test]
    fn overload_values_that_would_stall_signalling_are_rejected_naming_the_key() {
        for (text, key) in [
            ("peer_rate = 10\npeer_burst = 0", "overload.peer_burst"),
            ("punts_per_pass = 0", "overload.punts_per_pass"),
            ("signalling_per_pass = 0", "overload.signalling_per_pass"),
            ("signalling_backlog = 0", "overload.signalling_backlog"),
            ("signalling_per_pass = 64\nsignalling_backlog = 32", "overload.signalling_backlog"),
            ("peers = 3", "peers"),
        ] {
            let err = parse(&format!("{BASE}\n[overload]\n{text}\n")).unwrap_err();
            assert!(err.to_string().contains(key), "{text}: {err}");
        }
    }

    #[test]
    fn store_absent_is_on_at_the_default_path_with_replies_after_commit() {
        let c = parse(BASE).unwrap();
        assert_eq!(c.store, StoreConfig::default());
        assert_eq!(c.store.path.as_deref(), Some(std::path::Path::new("/var/lib/anchor/anchord.db")));
        assert!(c.store.sync_replies);
        assert_eq!(c.store.batch_interval, Duration::from_millis(5));
    }

    #[test]
    fn store_keys_are_read_and_an_empty_path_turns_the_store_off() {
        let text = format!("{BASE}\n[store]\npath = \"/tmp/a.db\"\nsync_replies = false\nbatch_interval_ms = 0\n");
        let c = parse(&text).unwrap();
        assert_eq!(c.store.path.as_deref(), Some(std::path::Path::new("/tmp/a.db")));
        assert!(!c.store.sync_replies);
        assert_eq!(c.store.batch_interval, Duration::ZERO);
        assert_eq!(parse(&format!("{BASE}\n[store]\npath = \"\"\n")).unwrap().store.path, None);
    }

    #[test]
    fn store_path_that_is_relative_or_a_directory_is_rejected_naming_the_key() {
        for bad in ["anchord.db", "/var/lib/anchor/", "/"] {
            let err = parse(&format!("{BASE}\n[store]\npath = \"{bad}\"\n")).unwrap_err();
            assert_eq!(err.key(), Some("store.path"), "{bad}: {err}");
            assert!(err.to_string().starts_with("store.path: "), "{err}");
        }
    }

    #[test]
    fn store_batch_interval_above_half_a_second_is_rejected_naming_the_key() {
        let err = parse(&format!("{BASE}\n[store]\nbatch_interval_ms = 501\n")).unwrap_err();
        assert_eq!(err.key(), Some("store.batch_interval_ms"), "{err}");
        assert!(parse(&format!("{BASE}\n[store]\nbatch_interval_ms = 500\n")).is_ok());
        let msg = parse(&format!("{BASE}\n[store]\nfile = \"/x\"\n")).unwrap_err().to_string();
        assert!(msg.contains("file"), "{msg}");
    }

    #[test]
    fn metrics_listen_takes_an_ipv4_or_ipv6_address_and_port() {
        let c = parse(&format!("{BASE}\n[metrics]\nlisten = \"127.0.0.1:9464\"\n")).unwrap();
        assert_eq!(c.metrics.listen, Some("127.0.0.1:9464".parse().unwrap()));
        let c = parse(&format!("{BASE}\n[metrics]\nlisten = \"[::1]:9100\"\n")).unwrap();
        assert_eq!(c.metrics.listen, Some("[::1]:9100".parse().unwrap()));
    }

    #[test]
    fn metrics_listen_absent_or_empty_means_no_endpoint() {
        assert_eq!(parse(BASE).unwrap().metrics.listen, None);
        assert_eq!(parse(&format!("{BASE}\n[metrics]\nlisten = \"\"\n")).unwrap().metrics.listen, None);
        assert_eq!(parse(&format!("{BASE}\n[metrics]\n")).unwrap().metrics.listen, None);
    }

    #[test]
    fn metrics_listen_that_is_not_an_address_and_port_is_rejected_naming_the_key() {
        for bad in ["127.0.0.1", "localhost:9464", "127.0.0.1:99999", "::1:9464", "1.2.3.4:x"] {
            let err = parse(&format!("{BASE}\n[metrics]\nlisten = \"{bad}\"\n")).unwrap_err();
            assert_eq!(err.key(), Some("metrics.listen"), "{bad}: {err}");
            assert!(err.to_string().starts_with("metrics.listen: "), "{err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        let err = parse(&format!("{BASE}\n[metrics]\nlisten = \"127.0.0.1:0\"\n")).unwrap_err();
        assert_eq!(err.to_string(), "metrics.listen: \"127.0.0.1:0\" needs a port other than 0");
    }

    #[test]
    fn metrics_unknown_key_is_a_syntax_error() {
        let msg = parse(&format!("{BASE}\n[metrics]\nport = 9464\n")).unwrap_err().to_string();
        assert!(msg.contains("port") && msg.contains("unknown field"), "{msg}");
    }

    #[test]
    fn cli_socket_must_fit_a_unix_socket_address() {
        let long = format!("/run/{}.sock", "x".repeat(110));
        let text = format!("{BASE}\n[cli]\nsocket = \"{long}\"\n");
        assert!(parse(&text)
            .unwrap_err()
            .to_string()
            .starts_with("cli.socket: unix socket paths are at most 107 bytes"));
        let text = format!("{BASE}\n[cli]\nsocket = \"\"\n");
        assert_eq!(parse(&text).unwrap_err().to_string(), "cli.socket: must not be empty");
    }

    /// An LMA, pools and profiles that fit `BASE`; tests break one thing in
    /// it at a time.
    const LMA: &str = r#"
[lma]
lmaa = "2001:db8:1::1"
ipv4_lmaa = "192.0.2.1"

[[lma.mag]]
name = "mag1"
address = "2001:db8:1::2"

[[lma.mag]]
name = "mag1-v4"
address = "192.0.2.2"
ordering = "sequence"

[pools]
hnp = ["2001:db8:100::/48"]

[[pools.ipv4]]
subnet = "203.0.113.0/24"
default_router = "203.0.113.1"
exclude = ["203.0.113.250"]

[[profiles.mn]]
mn_id = "dual@anchor.test"

[[profiles.mn]]
mn_id = "static4@anchor.test"
ipv6 = false
static_ipv4_hoa = "203.0.113.200"
mags = ["mag1-v4"]
"#;

    /// `BASE` + `LMA` with `from` replaced by `to` (which must occur in
    /// `LMA`), then `extra`, parsed.
    fn with_lma(from: &str, to: &str, extra: &str) -> Result<Config, ConfigError> {
        assert!(LMA.contains(from), "{from:?} not in LMA");
        parse(&format!("{BASE}{}\n{extra}\n", LMA.replacen(from, to, 1)))
    }

    /// The error message of `with_lma`, which must fail.
    fn lma_error(from: &str, to: &str, extra: &str) -> String {
        match with_lma(from, to, extra) {
            Ok(_) => panic!("replacing {from:?} by {to:?} (and {extra:?}) was accepted"),
            Err(e) => e.to_string(),
        }
    }

    /// The error message of `LMA` with `line` added to `[lma]`.
    fn lma_setting_error(line: &str) -> String {
        lma_error("[lma]\n", &format!("[lma]\n{line}\n"), "")
    }

    #[test]
    fn lma_pools_and_profiles_are_parsed_into_the_typed_model() {
        let c = with_lma("", "", "").unwrap();
        let lma = c.lma.unwrap();
        assert_eq!(lma.lmaa, Some("2001:db8:1::1".parse().unwrap()));
        assert_eq!(lma.ipv4_lmaa, Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            lma.mags,
            [
                MagPeer { name: "mag1".into(), addr: "2001:db8:1::2".parse().unwrap(), ordering: Ordering::Timestamp },
                MagPeer { name: "mag1-v4".into(), addr: "192.0.2.2".parse().unwrap(), ordering: Ordering::Sequence },
            ]
        );
        assert_eq!(c.pools.hnp, ["2001:db8:100::/48".parse().unwrap()]);
        assert_eq!(c.pools.ipv4[0].default_router, Ipv4Addr::new(203, 0, 113, 1));
        assert_eq!(c.profiles.default, None);
        assert_eq!(c.profiles.mobile_nodes[0], Profile { mn_id: "dual@anchor.test".into(), ..Profile::default() });
        let static4 = &c.profiles.mobile_nodes[1];
        assert_eq!(static4.static_ipv4_hoa, Some(Ipv4Addr::new(203, 0, 113, 200)));
        assert!(!static4.ipv6 && static4.allows_mag("mag1-v4") && !static4.allows_mag("mag1"));
    }

    #[test]
    fn every_lma_setting_is_read_from_the_file() {
        let settings = "min_delay_before_bce_delete_ms = 0\nmax_delay_before_new_bce_assign_ms = 0\n\
                        timestamp_validity_window_ms = 1000\nmn_generated_timestamp = true\nmax_lifetime_s = 262140\n\
                        accept_forced_udp = true\ntlv_supported = false\ngre = \"required\"\n\
                        heartbeat_interval_s = 0\nmissing_heartbeats_allowed = 5\non_peer_failure = \"remove\"\n\
                        bri_max_retries = 0\nbri_initial_delay_ms = 500\nmax_sessions = 10\nshadow_timeout_s = 3600";
        let lma = with_lma("[lma]\n", &format!("[lma]\n{settings}\n"), "").unwrap().lma.unwrap();
        assert_eq!(lma.min_delay_before_bce_delete, Duration::ZERO);
        assert_eq!(lma.max_delay_before_new_bce_assign, Duration::ZERO);
        assert_eq!(lma.timestamp_validity_window, Duration::from_secs(1));
        assert!(lma.mn_generated_timestamp && lma.accept_forced_udp && !lma.tlv_supported);
        assert_eq!(lma.max_lifetime, LmaConfig::MAX_LIFETIME);
        assert_eq!(lma.gre, GrePolicy::Required);
        assert_eq!(lma.heartbeat_interval, None);
        assert_eq!(lma.missing_heartbeats_allowed, 5);
        assert_eq!(lma.on_peer_failure, PeerFailureAction::Remove);
        assert_eq!(lma.bri_max_retries, 0);
        assert_eq!(lma.bri_initial_delay, Duration::from_millis(500));
        assert_eq!(lma.max_sessions, 10);
        assert_eq!(lma.shadow_timeout, LmaConfig::MAX_SHADOW_TIMEOUT);
        let lma =
            with_lma("[lma]\n", "[lma]\ngre = \"disabled\"\nheartbeat_interval_s = 3600\n", "").unwrap().lma.unwrap();
        assert_eq!((lma.gre, lma.heartbeat_interval), (GrePolicy::Disabled, Some(Duration::from_secs(3600))));
    }

    #[test]
    fn lma_without_any_address_is_rejected() {
        let msg = lma_error("lmaa = \"2001:db8:1::1\"\nipv4_lmaa = \"192.0.2.1\"\n", "", "");
        assert!(msg.starts_with("lma: has no address: give lmaa (IPv6) and/or ipv4_lmaa"), "{msg}");
    }

    #[test]
    fn lmaa_must_be_an_address_of_a_core_port() {
        assert_eq!(
            lma_error("lmaa = \"2001:db8:1::1\"", "lmaa = \"2001:db8:1::9\"", ""),
            "lma.lmaa: 2001:db8:1::9 is not an address of any port; the LMA address must be one of the \
             core ports' IPv6 addresses (2001:db8:1::1)"
        );
        assert!(lma_error("lmaa = \"2001:db8:1::1\"", "lmaa = \"2001:db8:2::1\"", "")
            .starts_with("lma.lmaa: 2001:db8:2::1 is an address of port \"home\", whose role is \"home\""));
        assert!(lma_error("lmaa = \"2001:db8:1::1\"", "lmaa = \"192.0.2.1\"", "")
            .starts_with("lma.lmaa: invalid IPv6 address \"192.0.2.1\""));
        assert!(lma_error("ipv4_lmaa = \"192.0.2.1\"", "ipv4_lmaa = \"192.0.2.9\"", "")
            .starts_with("lma.ipv4_lmaa: 192.0.2.9 is not an address of any port"));
        assert!(lma_error("ipv4_lmaa = \"192.0.2.1\"", "ipv4_lmaa = \"198.51.100.1\"", "")
            .contains("whose role is \"home\""));
    }

    #[test]
    fn lma_timers_out_of_range_are_rejected() {
        for (line, msg) in [
            (
                "min_delay_before_bce_delete_ms = 600001",
                "lma.min_delay_before_bce_delete_ms: must be between 0 and 600000, got 600001",
            ),
            (
                "max_delay_before_new_bce_assign_ms = 30001",
                "lma.max_delay_before_new_bce_assign_ms: must be between 0 and 30000, got 30001",
            ),
            (
                "timestamp_validity_window_ms = 0",
                "lma.timestamp_validity_window_ms: must be between 1 and 60000, got 0",
            ),
            ("missing_heartbeats_allowed = 0", "lma.missing_heartbeats_allowed: must be between 1 and 100, got 0"),
            ("bri_max_retries = 11", "lma.bri_max_retries: must be between 0 and 10, got 11"),
            ("bri_initial_delay_ms = 499", "lma.bri_initial_delay_ms: must be between 500 and 2000, got 499"),
            ("bri_initial_delay_ms = 2001", "lma.bri_initial_delay_ms: must be between 500 and 2000, got 2001"),
        ] {
            assert_eq!(lma_setting_error(line), msg);
        }
    }

    #[test]
    fn shadow_timeout_is_1_to_3600_seconds_and_defaults_to_90() {
        for bad in [0, 3601] {
            assert_eq!(
                lma_setting_error(&format!("shadow_timeout_s = {bad}")),
                format!(
                    "lma.shadow_timeout_s: must be between 1 and 3600 (seconds a shadow binding waits for the \
                     mobile node to de-register its own binding before the LMA revokes it), got {bad}"
                )
            );
        }
        let lma = with_lma("[lma]\n", "[lma]\nshadow_timeout_s = 1\n", "").unwrap().lma.unwrap();
        assert_eq!(lma.shadow_timeout, Duration::from_secs(1));
        let lma = with_lma("", "", "").unwrap().lma.unwrap();
        assert_eq!(lma.shadow_timeout, Duration::from_secs(90));
    }

    #[test]
    fn heartbeat_interval_is_zero_or_30_to_3600_seconds() {
        for bad in [1, 29, 3601] {
            assert_eq!(
                lma_setting_error(&format!("heartbeat_interval_s = {bad}")),
                format!(
                    "lma.heartbeat_interval_s: must be 0 (send no heartbeats) or between 30 and 3600 \
                     (RFC 5847), got {bad}"
                )
            );
        }
        let lma = with_lma("[lma]\n", "[lma]\nheartbeat_interval_s = 30\n", "").unwrap().lma.unwrap();
        assert_eq!(lma.heartbeat_interval, Some(Duration::from_secs(30)));
    }

    #[test]
    fn max_lifetime_is_4_to_262140_seconds_in_4_second_units() {
        assert_eq!(lma_setting_error("max_lifetime_s = 0"), "lma.max_lifetime_s: must be at least 4, got 0");
        assert_eq!(
            lma_setting_error("max_lifetime_s = 262144"),
            "lma.max_lifetime_s: must be at most 65535 x 4 s (262140), got 262144"
        );
        assert_eq!(
            lma_setting_error("max_lifetime_s = 3601"),
            "lma.max_lifetime_s: must be a multiple of 4 (the Lifetime field counts 4-second units), got \
             3601; use 3600 or 3604"
        );
    }

    #[test]
    fn unknown_gre_policy_and_peer_failure_action_are_rejected() {
        assert_eq!(
            lma_setting_error("gre = \"always\""),
            "lma.gre: must be \"supported\", \"required\" or \"disabled\", got \"always\""
        );
        assert_eq!(
            lma_setting_error("on_peer_failure = \"revoke\""),
            "lma.on_peer_failure: must be \"keep\" or \"remove\", got \"revoke\""
        );
    }

    #[test]
    fn max_sessions_must_fit_the_forwarding_table_beside_the_static_bindings() {
        assert_eq!(lma_setting_error("max_sessions = 0"), "lma.max_sessions: must be at least 1");
        let tight = "[lma]\nmax_sessions = 1024\n";
        let binding = format!("[tunnel]\nfib_capacity = 1024\n\n[[binding]]\n{IPIP}");
        assert!(with_lma("[lma]\n", tight, "[tunnel]\nfib_capacity = 1024").is_ok());
        assert_eq!(
            lma_error("[lma]\n", tight, &binding),
            "lma.max_sessions: 1024 sessions do not fit the forwarding table: tunnel.fib_capacity (1024) \
             less the static bindings' entries leaves 1023, and every session takes at least one entry"
        );
    }

    #[test]
    fn lma_without_mags_is_rejected() {
        let text = format!("{BASE}\n[lma]\nlmaa = \"2001:db8:1::1\"\n");
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "lma.mag: at least one [[lma.mag]] is required: PBUs from sources not listed are dropped"
        );
    }

    #[test]
    fn bad_and_duplicate_mag_names_are_rejected() {
        assert!(lma_error("name = \"mag1\"", "name = \"mag 1\"", "")
            .starts_with("lma.mag[0].name: must be 1 to 32 letters, digits, '_' or '-', got \"mag 1\""));
        assert_eq!(
            lma_error("name = \"mag1-v4\"", "name = \"mag1\"", ""),
            "lma.mag[1].name: duplicate MAG name \"mag1\" (also lma.mag[0])"
        );
    }

    #[test]
    fn duplicate_mag_addresses_are_rejected() {
        let extra = "[[lma.mag]]\nname = \"again\"\naddress = \"2001:db8:1:0::2\"";
        assert_eq!(
            lma_error("", "", extra),
            "lma.mag[2].address: duplicate MAG address 2001:db8:1::2 (also lma.mag[0])"
        );
    }

    #[test]
    fn mag_address_must_be_a_peers_unicast_address() {
        assert_eq!(
            lma_error("address = \"192.0.2.2\"", "address = \"192.0.2.1\"", ""),
            "lma.mag[1].address: 192.0.2.1 is our own address (port[0].ipv4[0]); a MAG's address is the peer's"
        );
        assert_eq!(
            lma_error("address = \"2001:db8:1::2\"", "address = \"ff02::2\"", ""),
            "lma.mag[0].address: ff02::2 is not a routable unicast address"
        );
        assert!(lma_error("address = \"192.0.2.2\"", "address = \"192.0.2\"", "")
            .starts_with("lma.mag[1].address: invalid IP address \"192.0.2\""));
        assert!(lma_error("address = \"192.0.2.2\"", "address = \"192.0.2.255\"", "")
            .starts_with("lma.mag[1].address: 192.0.2.255 is the network or broadcast address"));
    }

    #[test]
    fn mag_address_family_needs_the_matching_lma_address() {
        assert_eq!(
            lma_error("lmaa = \"2001:db8:1::1\"\n", "", ""),
            "lma.mag[0].address: 2001:db8:1::2 is IPv6, but lma.lmaa is not set: the LMA has no IPv6 \
             address for this MAG"
        );
        assert_eq!(
            lma_error("ipv4_lmaa = \"192.0.2.1\"\n", "", ""),
            "lma.mag[1].address: 192.0.2.2 is IPv4, but lma.ipv4_lmaa is not set: the LMA has no IPv4 \
             address for this MAG"
        );
    }

    #[test]
    fn mag_address_inside_a_home_pool_is_rejected() {
        assert_eq!(
            lma_error("address = \"192.0.2.2\"", "address = \"203.0.113.7\"", ""),
            "lma.mag[1].address: 203.0.113.7 lies inside pools.ipv4[0].subnet (203.0.113.0/24), a home pool; \
             a MAG's address is a transport address"
        );
        assert!(lma_error("address = \"2001:db8:1::2\"", "address = \"2001:db8:100::7\"", "")
            .starts_with("lma.mag[0].address: 2001:db8:100::7 lies inside pools.hnp[0] (2001:db8:100::/48)"));
    }

    #[test]
    fn unreachable_mag_is_rejected_and_a_routed_one_accepted() {
        assert_eq!(
            lma_error("address = \"2001:db8:1::2\"", "address = \"2001:db8:99::2\"", ""),
            "lma.mag[0].address: 2001:db8:99::2 is not inside a subnet of any port and no [[route]] covers \
             it: the anchor has no way to reach it"
        );
        // 0.0.0.0/0 via the home port covers any IPv4 MAG.
        let c = with_lma("address = \"192.0.2.2\"", "address = \"100.64.1.1\"", "").unwrap();
        assert_eq!(c.lma.unwrap().mags[1].addr, "100.64.1.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn mag_ordering_is_timestamp_or_sequence() {
        assert_eq!(
            lma_error("ordering = \"sequence\"", "ordering = \"seq\"", ""),
            "lma.mag[1].ordering: must be \"timestamp\" or \"sequence\", got \"seq\""
        );
        let c = with_lma("ordering = \"sequence\"", "ordering = \"timestamp\"", "").unwrap();
        assert!(c.lma.unwrap().mags.iter().all(|m| m.ordering == Ordering::Timestamp));
    }

    #[test]
    fn hnp_pool_must_be_a_network_shorter_than_64() {
        let pool = "hnp = [\"2001:db8:100::/48\"]";
        let bad = |p: &str| lma_error(pool, &format!("hnp = [\"{p}\"]"), "");
        assert_eq!(
            bad("2001:db8:100::1/48"),
            "pools.hnp[0]: \"2001:db8:100::1/48\" has host bits set; the prefix is 2001:db8:100::/48"
        );
        assert_eq!(
            bad("2001:db8:100::/64"),
            "pools.hnp[0]: must be shorter than /64: /64 home network prefixes are allocated from it, got /64"
        );
        assert!(bad("2001:db8:100::").starts_with("pools.hnp[0]: invalid prefix \"2001:db8:100::\""));
        for p in ["fe80::/16", "ff00::/8", "::/0", "8000::/1"] {
            assert_eq!(bad(p), format!("pools.hnp[0]: {p} is not a routable unicast prefix"));
        }
    }

    #[test]
    fn hnp_pools_must_not_overlap_each_other_or_a_ports_link() {
        let pool = "hnp = [\"2001:db8:100::/48\"]";
        assert_eq!(
            lma_error(pool, "hnp = [\"2001:db8:100::/48\", \"2001:db8:100::/40\"]", ""),
            "pools.hnp[1]: 2001:db8:100::/40 overlaps pools.hnp[0] (2001:db8:100::/48)"
        );
        assert!(lma_error(pool, "hnp = [\"2001:db8:1::/48\"]", "")
            .starts_with("pools.hnp[0]: home network prefix pool 2001:db8:1::/48 lies on the link of port[0].ipv6[0]"));
        let c = with_lma(pool, "hnp = [\"2001:db8:100::/48\", \"2001:db8:101::/48\"]", "").unwrap();
        assert_eq!(c.pools.hnp.len(), 2);
    }

    #[test]
    fn ipv4_pool_subnet_must_be_a_unicast_network_off_our_links() {
        let subnet = "subnet = \"203.0.113.0/24\"";
        let bad = |s: &str| lma_error(subnet, &format!("subnet = \"{s}\""), "");
        assert_eq!(
            bad("203.0.113.1/24"),
            "pools.ipv4[0].subnet: \"203.0.113.1/24\" has host bits set; the subnet is 203.0.113.0/24"
        );
        assert!(bad("203.0.113.0/31").starts_with("pools.ipv4[0].subnet: prefix length must be 1 to 30"));
        assert!(bad("203.0.113.0").starts_with("pools.ipv4[0].subnet: invalid subnet \"203.0.113.0\""));
        assert_eq!(bad("224.0.0.0/24"), "pools.ipv4[0].subnet: 224.0.0.0/24 is not a unicast subnet");
        assert!(bad("192.0.2.0/25").starts_with("pools.ipv4[0].subnet: home subnet 192.0.2.0/25 lies on the link"));
    }

    #[test]
    fn overlapping_ipv4_pools_are_rejected() {
        let extra = "[[pools.ipv4]]\nsubnet = \"203.0.113.128/25\"\ndefault_router = \"203.0.113.129\"";
        assert_eq!(
            lma_error("", "", extra),
            "pools.ipv4[1].subnet: 203.0.113.128/25 overlaps pools.ipv4[0].subnet (203.0.113.0/24)"
        );
    }

    #[test]
    fn default_router_must_be_a_host_of_the_pool_subnet() {
        let router = "default_router = \"203.0.113.1\"";
        assert_eq!(
            lma_error(router, "default_router = \"203.0.114.1\"", ""),
            "pools.ipv4[0].default_router: 203.0.114.1 is not inside 203.0.113.0/24"
        );
        assert_eq!(
            lma_error(router, "default_router = \"203.0.113.255\"", ""),
            "pools.ipv4[0].default_router: 203.0.113.255 is the network or broadcast address of 203.0.113.0/24"
        );
    }

    #[test]
    fn excluded_addresses_must_be_distinct_hosts_of_the_subnet() {
        let exclude = "exclude = [\"203.0.113.250\"]";
        let bad = |list: &str| lma_error(exclude, &format!("exclude = [{list}]"), "");
        assert_eq!(bad("\"203.0.114.9\""), "pools.ipv4[0].exclude[0]: 203.0.114.9 is not inside 203.0.113.0/24");
        assert_eq!(
            bad("\"203.0.113.9\", \"203.0.113.1\""),
            "pools.ipv4[0].exclude[1]: 203.0.113.1 is the mobile nodes' default router \
             (pools.ipv4[0].default_router), which is never allocated anyway"
        );
        assert!(bad("\"203.0.113.0\"").starts_with("pools.ipv4[0].exclude[0]: 203.0.113.0 is the network address"));
        assert_eq!(
            bad("\"203.0.113.9\", \"203.0.113.9\""),
            "pools.ipv4[0].exclude[1]: duplicate address 203.0.113.9 (also pools.ipv4[0].exclude[0])"
        );
        assert!(bad("\"x\"").starts_with("pools.ipv4[0].exclude[0]: invalid IPv4 address \"x\""));
    }

    #[test]
    fn static_addresses_of_profiles_and_vrf0_bindings_are_excluded_from_the_pool_automatically() {
        let bindings = format!(
            "[[binding]]\n{}\n\n[[binding]]\n{}\nvrf = 3\n\n[[binding]]\nhnps = [\"2001:db8:100:7::/64\"]\n\
             ipv6_hoa = \"2001:db8:100:8::5\"\nendpoint = \"2001:db8:1::3\"\ntunnel = \"ipip\"\n\n\
             [[binding]]\nhnps = [\"2001:db8:300::/64\"]\nendpoint = \"2001:db8:1::3\"\ntunnel = \"gre\"",
            ipip("203.0.113.200", "203.0.113.7"),
            ipip("203.0.113.200", "203.0.113.8").replacen("192.0.2.2", "192.0.2.3", 1)
        );
        let c = with_lma("", "", &bindings).unwrap();
        // Listed, then the profile's static address, then the VRF 0 binding's;
        // not the VRF 3 binding's.
        let exclude: Vec<String> = c.pools.ipv4[0].exclude.iter().map(|a| a.to_string()).collect();
        assert_eq!(exclude, ["203.0.113.250", "203.0.113.200", "203.0.113.7"]);
        assert!(c.pools.ipv4[0].is_dynamic(Ipv4Addr::new(203, 0, 113, 8)));
        // The binding's prefix and the /64 of its IPv6 HoA, inside the pool;
        // not the prefix outside it.
        let reserved: Vec<String> = c.reserved_hnps().iter().map(|p| p.to_string()).collect();
        assert_eq!(reserved, ["2001:db8:100:7::/64", "2001:db8:100:8::/64"]);
        // Listing a static address in exclude as well is no error.
        let c = with_lma("exclude = [\"203.0.113.250\"]", "exclude = [\"203.0.113.200\"]", "").unwrap();
        assert_eq!(c.pools.ipv4[0].exclude, [Ipv4Addr::new(203, 0, 113, 200)]);
    }

    #[test]
    fn a_binding_address_that_is_a_pools_router_network_or_broadcast_is_rejected() {
        for (addr, what) in
            [("203.0.113.1", "default router"), ("203.0.113.0", "network"), ("203.0.113.255", "broadcast")]
        {
            let binding = format!("[[binding]]\n{}", ipip("203.0.113.200", addr));
            let msg = lma_error("", "", &binding);
            assert!(msg.starts_with(&format!("binding[0].ipv4_hoa: {addr} is the ")), "{msg}");
            assert!(msg.contains(what) && msg.ends_with(", not a home address"), "{msg}");
        }
        // In another VRF the pool does not apply.
        let binding = format!("[[binding]]\n{}\nvrf = 1", ipip("203.0.113.200", "203.0.113.1"));
        assert!(with_lma("", "", &binding).is_ok());
    }

    #[test]
    fn profile_without_mn_id_or_with_a_bad_one_is_rejected() {
        assert_eq!(
            lma_error("mn_id = \"dual@anchor.test\"\n", "", ""),
            "profiles.mn[0].mn_id: required: the mobile node's identifier (NAI)"
        );
        assert_eq!(lma_error("\"dual@anchor.test\"", "\"\"", ""), "profiles.mn[0].mn_id: must not be empty");
        assert!(lma_error("\"dual@anchor.test\"", "\"du al@anchor.test\"", "").contains("must not contain spaces"));
    }

    #[test]
    fn duplicate_mn_ids_are_rejected() {
        assert_eq!(
            lma_error("", "", "[[profiles.mn]]\nmn_id = \"dual@anchor.test\""),
            "profiles.mn[2].mn_id: duplicate MN-ID \"dual@anchor.test\" (also profiles.mn[0])"
        );
    }

    #[test]
    fn a_pmip6_profile_must_allow_ipv4_or_ipv6() {
        let neither = "mn_id = \"dual@anchor.test\"\nipv4 = false\nipv6 = false";
        let msg = lma_error("mn_id = \"dual@anchor.test\"", neither, "");
        assert!(msg.starts_with("profiles.mn[0]: allows neither ipv4 nor ipv6"), "{msg}");
        let c = with_lma("mn_id = \"dual@anchor.test\"", &format!("{neither}\npmip6 = false"), "").unwrap();
        assert!(!c.profiles.mobile_nodes[0].pmip6);
        let msg = lma_error("", "", "[profiles.default]\nipv4 = false\nipv6 = false");
        assert!(msg.starts_with("profiles.default: allows neither"), "{msg}");
    }

    #[test]
    fn static_ipv4_hoa_must_lie_in_a_pool_and_be_a_host_address_there() {
        let hoa = "static_ipv4_hoa = \"203.0.113.200\"";
        let bad = |a: &str| lma_error(hoa, &format!("static_ipv4_hoa = \"{a}\""), "");
        assert_eq!(
            bad("198.18.0.1"),
            "profiles.mn[1].static_ipv4_hoa: 198.18.0.1 is not inside any pools.ipv4 subnet (203.0.113.0/24); \
             a static home address belongs to a home subnet"
        );
        assert_eq!(
            bad("203.0.113.1"),
            "profiles.mn[1].static_ipv4_hoa: 203.0.113.1 is the mobile nodes' default router \
             (pools.ipv4[0].default_router), not a home address"
        );
        assert!(bad("203.0.113.255").contains("is the broadcast address of pools.ipv4[0].subnet"));
        assert!(bad("203.0.113").starts_with("profiles.mn[1].static_ipv4_hoa: invalid IPv4 address"));
        let no_pool = LMA.replacen(
            "[[pools.ipv4]]\nsubnet = \"203.0.113.0/24\"\ndefault_router = \"203.0.113.1\"\nexclude = [\"203.0.113.250\"]\n",
            "",
            1,
        );
        assert!(parse(&format!("{BASE}{no_pool}"))
            .unwrap_err()
            .to_string()
            .contains("is not inside any pools.ipv4 subnet (there is none)"));
    }

    #[test]
    fn static_ipv4_hoa_needs_ipv4_allowed() {
        assert_eq!(
            lma_error("ipv6 = false\n", "ipv4 = false\n", ""),
            "profiles.mn[1].static_ipv4_hoa: the profile does not allow IPv4 (ipv4 = false)"
        );
    }

    #[test]
    fn one_static_ipv4_hoa_per_profile_and_none_of_a_vrf0_binding() {
        let twin = "[[profiles.mn]]\nmn_id = \"twin@anchor.test\"\nstatic_ipv4_hoa = \"203.0.113.200\"";
        assert_eq!(
            lma_error("", "", twin),
            "profiles.mn[2].static_ipv4_hoa: 203.0.113.200 is already the static address of profiles.mn[1] \
             (static4@anchor.test)"
        );
        let binding = format!("[[binding]]\nmn_id = \"pinned@anchor.test\"\n{IPIP}");
        assert_eq!(
            lma_error("", "", &binding),
            "profiles.mn[1].static_ipv4_hoa: 203.0.113.200 is already bound by binding[0] \
             (pinned@anchor.test), a static binding"
        );
        // A binding in another VRF does not take the pool's address.
        assert!(with_lma("", "", &format!("{binding}\nvrf = 1")).is_ok());
    }

    #[test]
    fn static_hnp_must_be_a_64_inside_a_hnp_pool() {
        let dual = "mn_id = \"dual@anchor.test\"";
        let with_hnp = |p: &str| format!("{dual}\nstatic_hnp = \"{p}\"");
        let c = with_lma(dual, &with_hnp("2001:db8:100:5::/64"), "").unwrap();
        assert_eq!(c.profiles.mobile_nodes[0].static_hnp, Some("2001:db8:100:5::/64".parse().unwrap()));
        assert_eq!(c.reserved_hnps(), ["2001:db8:100:5::/64".parse().unwrap()]);
        assert_eq!(
            lma_error(dual, &with_hnp("2001:db8:300::/64"), ""),
            "profiles.mn[0].static_hnp: 2001:db8:300::/64 is not inside any pools.hnp prefix (2001:db8:100::/48)"
        );
        assert_eq!(
            lma_error(dual, &with_hnp("2001:db8:100::/56"), ""),
            "profiles.mn[0].static_hnp: a home network prefix must be a /64, got /56"
        );
        assert!(lma_error(dual, &with_hnp("2001:db8:100:5::1/64"), "").contains("has host bits set"));
        assert_eq!(
            lma_error(dual, &format!("{}\nipv6 = false", with_hnp("2001:db8:100:5::/64")), ""),
            "profiles.mn[0].static_hnp: the profile does not allow IPv6 (ipv6 = false)"
        );
    }

    #[test]
    fn one_static_hnp_per_profile_and_none_of_a_vrf0_binding() {
        let dual = "mn_id = \"dual@anchor.test\"";
        let p5 = format!("{dual}\nstatic_hnp = \"2001:db8:100:5::/64\"");
        let twin = "[[profiles.mn]]\nmn_id = \"twin@anchor.test\"\nstatic_hnp = \"2001:db8:100:5::/64\"";
        assert_eq!(
            lma_error(dual, &p5, twin),
            "profiles.mn[2].static_hnp: 2001:db8:100:5::/64 is already the static prefix of profiles.mn[0] \
             (dual@anchor.test)"
        );
        for binding in ["hnps = [\"2001:db8:100:5::/64\"]", "ipv6_hoa = \"2001:db8:100:5::9\""] {
            let table = format!("[[binding]]\n{binding}\nendpoint = \"2001:db8:1::3\"\ntunnel = \"ipip\"");
            assert_eq!(
                lma_error(dual, &p5, &table),
                "profiles.mn[0].static_hnp: 2001:db8:100:5::/64 is already bound by binding[0] (binding-0), \
                 a static binding"
            );
        }
    }

    #[test]
    fn profile_max_lifetime_is_at_most_the_lmas_in_4_second_units() {
        let dual = "mn_id = \"dual@anchor.test\"";
        let c = with_lma(dual, &format!("{dual}\nmax_lifetime_s = 3600"), "").unwrap();
        assert_eq!(c.profiles.mobile_nodes[0].max_lifetime, Some(Duration::from_secs(3600)));
        assert_eq!(
            lma_error(dual, &format!("{dual}\nmax_lifetime_s = 3604"), ""),
            "profiles.mn[0].max_lifetime_s: must be at most lma.max_lifetime_s (3600), got 3604"
        );
        assert!(lma_error(dual, &format!("{dual}\nmax_lifetime_s = 601"), "")
            .starts_with("profiles.mn[0].max_lifetime_s: must be a multiple of 4"));
        assert!(lma_error("", "", "[profiles.default]\nmax_lifetime_s = 2")
            .starts_with("profiles.default.max_lifetime_s: must be at least 4"));
    }

    #[test]
    fn gre_required_profile_conflicts_with_gre_disabled() {
        let dual = "mn_id = \"dual@anchor.test\"";
        let required = LMA.replacen(dual, &format!("{dual}\ngre_required = true"), 1);
        let c = parse(&format!("{BASE}{required}")).unwrap();
        assert!(c.profiles.mobile_nodes[0].gre_required);
        let disabled = required.replacen("[lma]\n", "[lma]\ngre = \"disabled\"\n", 1);
        assert_eq!(
            parse(&format!("{BASE}{disabled}")).unwrap_err().to_string(),
            "profiles.mn[0].gre_required: lma.gre is \"disabled\", so no session can use GRE; set lma.gre to \
             \"supported\" or \"required\""
        );
    }

    #[test]
    fn profile_mags_must_name_distinct_listed_mags() {
        assert_eq!(
            lma_error("mags = [\"mag1-v4\"]", "mags = [\"mag1-v4\", \"mag2\"]", ""),
            "profiles.mn[1].mags[1]: no [[lma.mag]] named \"mag2\" (MAGs: \"mag1\", \"mag1-v4\")"
        );
        assert_eq!(
            lma_error("mags = [\"mag1-v4\"]", "mags = [\"mag1-v4\", \"mag1-v4\"]", ""),
            "profiles.mn[1].mags[1]: duplicate MAG \"mag1-v4\" (also profiles.mn[1].mags[0])"
        );
        assert_eq!(
            lma_error("", "", "[profiles.default]\nmags = [\"magX\"]"),
            "profiles.default.mags[0]: no [[lma.mag]] named \"magX\" (MAGs: \"mag1\", \"mag1-v4\")"
        );
    }

    #[test]
    fn profiles_and_pools_without_an_lma_are_valid_but_cannot_name_mags() {
        let start = LMA.find("[pools]").unwrap();
        let no_lma = &LMA[start..];
        let c = parse(&format!("{BASE}{no_lma}")).unwrap_err().to_string();
        assert_eq!(c, "profiles.mn[1].mags[0]: no [[lma.mag]] named \"mag1-v4\" (there is no [lma])");
        let c = parse(&format!("{BASE}{}", no_lma.replacen("mags = [\"mag1-v4\"]", "", 1))).unwrap();
        assert_eq!(c.lma, None);
        assert_eq!(c.profiles.mobile_nodes.len(), 2);
        assert_eq!(c.pools.ipv4[0].exclude.len(), 2);
    }

    #[test]
    fn the_default_profile_applies_to_unlisted_nais() {
        let c = with_lma("", "", "[profiles.default]\nipv4 = false\nmags = [\"mag1\"]").unwrap();
        let default = c.profiles.default.as_ref().unwrap();
        assert_eq!(
            *default,
            Profile { mn_id: String::new(), ipv4: false, mags: vec!["mag1".into()], ..Profile::default() }
        );
        assert_eq!(c.profiles.lookup("stranger@anchor.test"), Some(default));
        assert_eq!(c.profiles.lookup("dual@anchor.test").map(|p| p.ipv4), Some(true));
    }

    /// A home agent that fits `BASE` + `LMA`'s pools; tests break one thing
    /// in it at a time.
    const HA: &str = r#"
[ha]
address = "192.0.2.1"
ipv4_pools = ["203.0.113.0/24"]

[[ha.mn]]
mn_id = "dual@anchor.test"
spi = 4096
key = "00112233445566778899aabbccddeeff"

[[ha.fa]]
name = "pma1"
address = "192.0.2.2"
spi = 8192
key = "0x000102030405060708090a0b0c0d0e0f"
algorithm = "prefix-suffix-md5"
proxy = true
"#;

    fn with_ha(from: &str, to: &str) -> Result<Config, ConfigError> {
        assert!(HA.contains(from), "{from:?} not in HA");
        with_lma("", "", &HA.replacen(from, to, 1))
    }

    fn ha_error(from: &str, to: &str) -> String {
        match with_ha(from, to) {
            Ok(_) => panic!("replacing {from:?} by {to:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn ha_section_is_parsed_into_the_typed_model_with_the_defaults() {
        let c = with_ha("", "").unwrap();
        let ha = c.ha.unwrap();
        assert_eq!(ha.address, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(ha.ipv4_pools, [0]);
        assert_eq!(ha.mobile_nodes.len(), 1);
        let sa = &ha.mobile_nodes[0];
        assert_eq!((sa.mn_id.as_str(), sa.spi, sa.algorithm), ("dual@anchor.test", 4096, AuthAlgorithm::HmacMd5));
        assert_eq!(sa.key, (0..16).map(|i| i * 0x11).collect::<Vec<u8>>());
        let fa = &ha.foreign_agents[0];
        assert_eq!((fa.name.as_str(), fa.addr, fa.spi), ("pma1", Ipv4Addr::new(192, 0, 2, 2), 8192));
        assert_eq!((fa.key.clone(), fa.algorithm, fa.proxy), ((0..16).collect(), AuthAlgorithm::PrefixSuffixMd5, true));
        assert_eq!(ha.mn_sas("dual@anchor.test").count(), 1);
        assert!(ha.fa(Ipv4Addr::new(192, 0, 2, 2)).is_some());
        // The documented defaults, spelled out once.
        assert_eq!(ha.max_lifetime, Duration::from_secs(1800));
        assert_eq!(ha.replay_tolerance, Duration::from_secs(7));
        assert_eq!(ha.reverse_tunnel, ReverseTunnelPolicy::Supported);
        assert!(ha.gre && ha.udp_tunnel && ha.udp_tunnel_force && ha.revocation && ha.pmip4 && ha.dsmip4);
        assert_eq!(ha.udp_keepalive_s, 110);
        assert_eq!(ha.redirect_to, None);
        assert_eq!(ha.max_bindings, 1_000_000);
        // No pool named: every pool.
        let c = with_ha("ipv4_pools = [\"203.0.113.0/24\"]\n", "").unwrap();
        assert_eq!(c.ha.unwrap().ipv4_pools, [0]);
        // Keys never reach a log through Debug.
        let text = format!("{:?}", with_ha("", "").unwrap().ha);
        assert!(text.contains("<redacted>") && !text.contains("17, 34"), "{text}");
    }

    #[test]
    fn ha_address_must_be_an_ipv4_address_of_a_core_port() {
        assert_eq!(
            ha_error("address = \"192.0.2.1\"\n", ""),
            "ha.address: required: the home agent's IPv4 address, on a core port"
        );
        assert!(ha_error("\"192.0.2.1\"", "\"192.0.2.7\"").starts_with("ha.address: 192.0.2.7 is not an IPv4 address"));
        assert!(ha_error("\"192.0.2.1\"", "\"198.51.100.1\"").contains("whose role is \"home\""));
        assert!(ha_error("\"192.0.2.1\"", "\"2001:db8:1::1\"").starts_with("ha.address: invalid IPv4 address"));
    }

    #[test]
    fn ha_timers_and_limits_out_of_range_are_rejected_naming_the_key() {
        for (line, key) in [
            ("max_lifetime_s = 0", "ha.max_lifetime_s"),
            ("max_lifetime_s = 65535", "ha.max_lifetime_s"),
            ("replay_tolerance_s = 0", "ha.replay_tolerance_s"),
            ("replay_tolerance_s = 301", "ha.replay_tolerance_s"),
            ("max_bindings = 0", "ha.max_bindings"),
            ("max_bindings = 4294967295", "ha.max_bindings"),
            ("reverse_tunnel = \"always\"", "ha.reverse_tunnel"),
            ("redirect_to = \"192.0.2.1\"", "ha.redirect_to"),
            ("redirect_to = \"203.0.113.9\"", "ha.redirect_to"),
            ("redirect_to = \"255.255.255.255\"", "ha.redirect_to"),
        ] {
            let msg = ha_error("[ha]\n", &format!("[ha]\n{line}\n"));
            assert!(msg.starts_with(&format!("{key}: ")), "{line}: {msg}");
        }
        let c = with_ha("[ha]\n", "[ha]\nredirect_to = \"192.0.2.9\"\nreverse_tunnel = \"required\"\n").unwrap();
        let ha = c.ha.unwrap();
        assert_eq!(ha.redirect_to, Some(Ipv4Addr::new(192, 0, 2, 9)));
        assert_eq!(ha.reverse_tunnel, ReverseTunnelPolicy::Required);
    }

    /// A `[dsmip6]` section with one mobile node, `from` replaced by `to`.
    fn with_dsmip6(from: &str, to: &str) -> Result<Config, ConfigError> {
        const DSMIP6: &str = "[dsmip6]\naddress = \"2001:db8:1::1\"\n\n[[dsmip6.mn]]\nmn_id = \"ds6@x\"\n\
            home_address = \"2001:db8:300::10\"\nspi = 8448\nkey = \"2122232425262728292a2b2c2d2e2f3031323334\"\n";
        assert!(DSMIP6.contains(from), "{from:?} not in the [dsmip6] snippet");
        with_lma("", "", &DSMIP6.replacen(from, to, 1))
    }

    fn dsmip6_error(from: &str, to: &str) -> String {
        match with_dsmip6(from, to) {
            Ok(_) => panic!("replacing {from:?} by {to:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn dsmip6_section_is_parsed_with_its_defaults() {
        let d = with_dsmip6("", "").unwrap().dsmip6.unwrap();
        assert_eq!((d.address, d.ipv4_address), ("2001:db8:1::1".parse().unwrap(), Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            (d.max_lifetime, d.nat_keepalive_s, d.replay_tolerance),
            (Duration::from_secs(3600), 110, Duration::from_secs(7))
        );
        assert!(d.udp_forcing && d.require_mesg_id);
        let mn = &d.mobile_nodes[0];
        assert_eq!((mn.mn_id.as_deref(), mn.spi, mn.key.len(), mn.ipv4_home_address), (Some("ds6@x"), 8448, 20, None));
        assert!(format!("{mn:?}").contains("<redacted>"));
    }

    #[test]
    fn dsmip6_bad_keys_stop_start_up_naming_the_key() {
        for (from, to, key) in [
            ("address = \"2001:db8:1::1\"\n", "", "dsmip6.address"),
            ("\"2001:db8:1::1\"", "\"2001:db8:2::1\"", "dsmip6.address"),
            ("\"2001:db8:1::1\"", "\"2001:db8:1::1\"\nipv4_address = \"198.51.100.1\"", "dsmip6.ipv4_address"),
            ("\"2001:db8:1::1\"", "\"2001:db8:1::1\"\nmax_lifetime_s = 0", "dsmip6.max_lifetime_s"),
            ("\"2001:db8:1::1\"", "\"2001:db8:1::1\"\nipv4_pools = [\"10.0.0.0/8\"]", "dsmip6.ipv4_pools[0]"),
            ("2001:db8:300::10", "2001:db8:1::1", "dsmip6.mn[0].home_address"),
            ("2001:db8:300::10", "fe80::1", "dsmip6.mn[0].home_address"),
            ("spi = 8448", "spi = 3", "dsmip6.mn[0].spi"),
            ("2122232425262728292a2b2c2d2e2f3031323334", "00112233445566778899aabbccddeeff", "dsmip6.mn[0].key"),
            ("ds6@x\"", "a b\"", "dsmip6.mn[0].mn_id"),
        ] {
            let msg = dsmip6_error(from, to);
            assert!(msg.starts_with(&format!("{key}: ")), "{to}: {msg}");
        }
        // Two nodes with one home address.
        let mn = "[[dsmip6.mn]]\nhome_address = \"2001:db8:300::10\"\nspi = 8449\nkey = \"2122232425262728292a2b2c2d2e2f3031323334\"\n";
        let msg = dsmip6_error("3031323334\"\n", &format!("3031323334\"\n{mn}"));
        assert!(msg.starts_with("dsmip6.mn[1].home_address: "), "{msg}");
    }

    #[test]
    fn ha_draft01_type_is_an_unassigned_extension_type_with_dsmip4_on() {
        assert_eq!(with_ha("", "").unwrap().ha.unwrap().dsmip4_draft01_type, None);
        let c = with_ha("[ha]\n", "[ha]\ndsmip4_draft01_type = 200\n").unwrap();
        assert_eq!(c.ha.unwrap().dsmip4_draft01_type, Some(200));
        for (line, why) in [
            ("dsmip4_draft01_type = 0", "between 1 and 255"),
            ("dsmip4_draft01_type = 256", "between 1 and 255"),
            ("dsmip4_draft01_type = 152", "already reads"),
            ("dsmip4_draft01_type = 131", "already reads"),
            ("dsmip4_draft01_type = 200\ndsmip4 = false", "needs ha.dsmip4 = true"),
        ] {
            let msg = ha_error("[ha]\n", &format!("[ha]\n{line}\n"));
            assert!(msg.starts_with("ha.dsmip4_draft01_type: ") && msg.contains(why), "{line}: {msg}");
        }
    }

    #[test]
    fn ha_pools_must_name_ipv4_pool_subnets_once() {
        assert_eq!(
            ha_error("\"203.0.113.0/24\"", "\"10.0.0.0/8\""),
            "ha.ipv4_pools[0]: 10.0.0.0/8 is not the subnet of any [[pools.ipv4]] (203.0.113.0/24)"
        );
        assert_eq!(
            ha_error("\"203.0.113.0/24\"", "\"203.0.113.0/24\", \"203.0.113.0/24\""),
            "ha.ipv4_pools[1]: duplicate pool 203.0.113.0/24"
        );
        assert!(ha_error("\"203.0.113.0/24\"", "\"203.0.113.0\"").starts_with("ha.ipv4_pools[0]: invalid IPv4 subnet"));
    }

    #[test]
    fn ha_security_associations_with_bad_spis_keys_or_algorithms_stop_start_up_naming_the_key() {
        assert_eq!(ha_error("spi = 4096", "spi = 255"), "ha.mn[0].spi: SPIs 0 to 255 are reserved (RFC 5944), got 255");
        assert!(
            ha_error("key = \"0011", "key = \"xx11").starts_with("ha.mn[0].key: must be an even number of hex digits")
        );
        assert!(
            ha_error("key = \"0011", "key = \"011").starts_with("ha.mn[0].key: must be an even number of hex digits")
        );
        assert_eq!(
            ha_error("key = \"00112233445566778899aabbccddeeff\"", "key = \"0011\""),
            "ha.mn[0].key: must be 16 to 64 octets (HMAC-MD5 keys are 128 bits), got 2"
        );
        assert_eq!(
            ha_error("algorithm = \"prefix-suffix-md5\"", "algorithm = \"sha1\""),
            "ha.fa[0].algorithm: must be \"hmac-md5\" or \"prefix-suffix-md5\", got \"sha1\""
        );
        assert_eq!(ha_error("spi = 8192", "spi = 0"), "ha.fa[0].spi: SPIs 0 to 255 are reserved (RFC 5944), got 0");
        assert!(ha_error("mn_id = \"dual@anchor.test\"", "mn_id = \"\"").starts_with("ha.mn[0].mn_id: "));
        let dup = "[[ha.mn]]\nmn_id = \"dual@anchor.test\"\nspi = 4096\nkey = \"00112233445566778899aabbccddeeff\"\n";
        assert_eq!(
            ha_error("[[ha.fa]]", &format!("{dup}[[ha.fa]]")),
            "ha.mn[1].spi: dual@anchor.test already has SPI 4096 (ha.mn[0])"
        );
        let err =
            with_lma("", "", "[ha]\naddress = \"192.0.2.1\"\n[[ha.mn]]\nmn_id = \"x@y\"\nspi = 300\n").unwrap_err();
        assert!(err.to_string().contains("missing field `key`"), "{err}");
    }

    #[test]
    fn ha_foreign_agents_are_unique_reachable_peers() {
        assert!(ha_error("address = \"192.0.2.2\"", "address = \"192.0.2.1\"")
            .starts_with("ha.fa[0].address: 192.0.2.1 is our own address"));
        assert!(ha_error("address = \"192.0.2.2\"", "address = \"203.0.113.7\"").contains("a home pool"));
        assert!(ha_error("name = \"pma1\"", "name = \"pma 1\"").starts_with("ha.fa[0].name: "));
        let again = "[[ha.fa]]\nname = \"pma1\"\naddress = \"192.0.2.3\"\nspi = 9000\nkey = \"00112233445566778899aabbccddeeff\"\n";
        assert_eq!(
            ha_error("[[ha.mn]]", &format!("{again}[[ha.mn]]")),
            "ha.fa[1].name: duplicate name \"pma1\" (also ha.fa[0])"
        );
        let again = again.replace("pma1", "pma2").replace("192.0.2.3", "192.0.2.2");
        assert_eq!(
            ha_error("[[ha.mn]]", &format!("{again}[[ha.mn]]")),
            "ha.fa[1].address: duplicate address 192.0.2.2 (also ha.fa[0])"
        );
    }

    #[test]
    fn profiles_carry_the_mip4_switch() {
        let c = with_lma("mn_id = \"dual@anchor.test\"\n", "mn_id = \"dual@anchor.test\"\nmip4 = false\n", "").unwrap();
        assert!(!c.profiles.lookup("dual@anchor.test").unwrap().mip4);
        assert!(c.profiles.lookup("static4@anchor.test").unwrap().mip4);
    }
}

/// `home_link = true` (issue 5 item 6): which ports may be a home link, and
/// which home addresses may then lie on it.
#[cfg(test)]
mod home_link_tests {
    use std::net::Ipv4Addr;

    use crate::{parse, Config};

    /// The tests' small valid file (two ports as in the demo network, a
    /// route via the correspondent) with `home_link` on the home port and
    /// `extra` appended.
    fn config(home_link: &str, extra: &str) -> Result<Config, String> {
        let home = "ipv6 = [\"2001:db8:2::1/64\"]\n";
        assert!(super::tests::BASE.contains(home));
        let text = super::tests::BASE.replacen(home, &format!("{home}{home_link}\n"), 1);
        parse(&format!("{text}\n{extra}\n")).map_err(|e| e.to_string())
    }

    fn error(home_link: &str, extra: &str) -> String {
        match config(home_link, extra) {
            Ok(_) => panic!("accepted: {home_link} {extra}"),
            Err(e) => e,
        }
    }

    const ON: &str = "home_link = true";

    fn pool(subnet: &str, router: &str) -> String {
        format!("[[pools.ipv4]]\nsubnet = \"{subnet}\"\ndefault_router = \"{router}\"\n")
    }

    #[test]
    fn home_link_defaults_to_false_and_is_read_on_a_home_port() {
        let c = config("", "").unwrap();
        assert!(!c.ports[0].home_link && !c.ports[1].home_link);
        let c = config(ON, "").unwrap();
        assert!(c.ports[1].home_link);
    }

    #[test]
    fn home_link_on_a_core_port_is_rejected_naming_the_key() {
        let msg = parse(
            r#"
[eal]
args = ["--no-huge", "--no-pci"]
worker_cpus = [1]

[[port]]
name = "core"
role = "core"
device = "net_af_packet0,iface=lma-core,qpairs=2"
ipv4 = ["192.0.2.1/24"]
home_link = true
"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            msg,
            "port[0].home_link: only a port with role \"home\" can be a home link, port[0] has role \"core\""
        );
    }

    #[test]
    fn a_pool_inside_the_home_link_subnet_is_accepted_and_never_allocates_our_address_or_a_next_hop() {
        let c = config(ON, &pool("198.51.100.128/25", "198.51.100.129")).unwrap();
        assert!(c.pools.ipv4[0].is_dynamic(Ipv4Addr::new(198, 51, 100, 130)));
        // The whole link as a pool: our address (the mobile nodes' default
        // router here) and the correspondent's (a route's next hop) are
        // never handed out.
        let c = config(ON, &pool("198.51.100.0/24", "198.51.100.1")).unwrap();
        let p = &c.pools.ipv4[0];
        assert!(!p.is_dynamic(Ipv4Addr::new(198, 51, 100, 1)));
        assert!(!p.is_dynamic(Ipv4Addr::new(198, 51, 100, 2)));
        assert!(p.exclude.contains(&Ipv4Addr::new(198, 51, 100, 2)));
        assert!(p.is_dynamic(Ipv4Addr::new(198, 51, 100, 3)));
        // Our address is excluded even when it is not the default router.
        let c = config(ON, &pool("198.51.100.0/24", "198.51.100.254")).unwrap();
        assert!(c.pools.ipv4[0].exclude.contains(&Ipv4Addr::new(198, 51, 100, 1)));
    }

    #[test]
    fn a_pool_on_a_home_port_that_is_not_a_home_link_is_rejected_with_a_hint() {
        let msg = error("", &pool("198.51.100.128/25", "198.51.100.129"));
        assert!(
            msg.starts_with("pools.ipv4[0].subnet: home subnet 198.51.100.128/25 lies on the link of port[1].ipv4[0]")
        );
        assert!(msg.ends_with("unless the port is the home link (port[1].home_link = true)"), "{msg}");
    }

    #[test]
    fn a_pool_wider_than_the_home_link_subnet_is_rejected() {
        let msg = error(ON, &pool("198.51.100.0/23", "198.51.100.129"));
        assert!(msg.starts_with(
            "pools.ipv4[0].subnet: home subnet 198.51.100.0/23 is wider than the link of port[1].ipv4[0]"
        ));
    }

    #[test]
    fn a_pool_on_the_core_link_stays_rejected_with_a_home_link_elsewhere() {
        let msg = error(ON, &pool("192.0.2.128/25", "192.0.2.129"));
        assert_eq!(
            msg,
            "pools.ipv4[0].subnet: home subnet 192.0.2.128/25 lies on the link of port[0].ipv4[0] \
             (192.0.2.0/24); a home address is reached through its tunnel, not on a port's link"
        );
    }

    #[test]
    fn a_home_network_prefix_is_never_on_a_home_link() {
        let msg = error(ON, "[pools]\nhnp = [\"2001:db8:2::/48\"]\n");
        assert!(msg.starts_with("pools.hnp[0]: home network prefix pool 2001:db8:2::/48"), "{msg}");
    }

    fn binding(addr_key: &str, addr: &str, vrf: u32) -> String {
        format!("[[binding]]\n{addr_key} = \"{addr}\"\nendpoint = \"192.0.2.2\"\ntunnel = \"ipip\"\nvrf = {vrf}\n")
    }

    #[test]
    fn a_static_home_address_may_lie_on_the_home_link_but_never_be_ours() {
        let c = config(ON, &binding("ipv4_hoa", "198.51.100.50", 0)).unwrap();
        assert_eq!(c.bindings[0].ipv4_hoa, Some(Ipv4Addr::new(198, 51, 100, 50)));
        assert!(config(ON, &binding("ipv6_hoa", "2001:db8:2::50", 0)).is_ok());
        assert_eq!(
            error(ON, &binding("ipv4_hoa", "198.51.100.1", 0)),
            "binding[0].ipv4_hoa: home address 198.51.100.1 is our own address (port[1].ipv4[0])"
        );
        assert_eq!(
            error(ON, &binding("ipv6_hoa", "2001:db8:2::1", 0)),
            "binding[0].ipv6_hoa: home address 2001:db8:2::1 is our own address (port[1].ipv6[0])"
        );
        // The home link is in the default realm only.
        assert!(error(ON, &binding("ipv4_hoa", "198.51.100.50", 7)).contains("lies on the link of port[1].ipv4[0]"));
        // Without home_link the address stays refused.
        assert!(error("", &binding("ipv4_hoa", "198.51.100.50", 0)).contains("home_link = true"));
    }

    #[test]
    fn a_profile_static_address_in_a_home_link_pool_is_accepted_but_not_our_own() {
        let profile = |addr: &str| {
            format!(
                "{}\n[[profiles.mn]]\nmn_id = \"m@anchor.test\"\nstatic_ipv4_hoa = \"{addr}\"\n",
                pool("198.51.100.0/24", "198.51.100.254")
            )
        };
        let c = config(ON, &profile("198.51.100.60")).unwrap();
        assert!(!c.pools.ipv4[0].is_dynamic(Ipv4Addr::new(198, 51, 100, 60)));
        assert_eq!(
            error(ON, &profile("198.51.100.1")),
            "profiles.mn[0].static_ipv4_hoa: 198.51.100.1 is our own address (port[1].ipv4[0]), not a home address"
        );
    }

    #[test]
    fn on_home_link_names_addresses_in_the_subnet_that_are_not_ours() {
        let c = config(ON, "").unwrap();
        let on = |a: &str| c.home_link_port(a.parse().unwrap());
        assert_eq!(on("198.51.100.77"), Some(1));
        assert_eq!(on("2001:db8:2::77"), Some(1));
        assert_eq!(on("198.51.100.1"), None, "our own address");
        assert_eq!(on("192.0.2.77"), None, "the core link");
        assert_eq!(on("203.0.113.77"), None);
        let off = config("", "").unwrap();
        assert_eq!(off.home_link_port("198.51.100.77".parse().unwrap()), None);
    }
}
