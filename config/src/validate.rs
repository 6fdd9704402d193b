//! `validate`: the only way from the raw serde schema to [`Config`].
//!
//! Each rule returns a [`ConfigError::Invalid`] naming the key path (as
//! written in TOML: `port[1].ipv4[0]`, `route[0].via`) and the reason. The
//! first broken rule wins.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::cidr::{CidrError, IpCidr, Ipv4Cidr, Ipv6Cidr};
use crate::error::ConfigError;
use crate::model::{
    CliConfig, Config, DataplaneConfig, EalConfig, EcnMode, LogConfig, NeighborConfig, PortConfig, PortDevice,
    PortRole, RouteConfig, StaticBinding, TunnelConfig, TunnelMode,
};
use crate::raw::{
    RawBinding, RawCli, RawConfig, RawDataplane, RawEal, RawLog, RawNeighbor, RawPort, RawRoute, RawTunnel,
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
    let dataplane = dataplane(raw.dataplane)?;
    let neighbor = neighbor(raw.neighbor)?;
    let ports = ports(raw.port, eal.worker_cpus.len())?;
    eal_against_ports(&eal, &ports)?;
    mbufs_suffice(&dataplane, ports.len(), eal.worker_cpus.len())?;
    let routes = routes(raw.route, &ports)?;
    let tunnel = tunnel(raw.tunnel, &ports)?;
    let bindings = bindings(raw.binding, &ports, &routes, &tunnel)?;
    Ok(Config { eal, log, cli, dataplane, neighbor, ports, routes, tunnel, bindings })
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

        ports.push(PortConfig { name: raw.name, role, device, ipv4, ipv6, mtu });
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
    let entries: u64 = bindings
        .iter()
        .map(|b| u64::from(b.ipv4_hoa.is_some()) + b.hnps.len() as u64 + u64::from(b.ipv6_hoa.is_some()))
        .sum();
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

    let ipv4_hoa = raw.ipv4_hoa.as_deref().map(|text| home_ipv4(&key("ipv4_hoa"), text, ports)).transpose()?;
    let hnps = raw
        .hnps
        .iter()
        .enumerate()
        .map(|(i, text)| home_prefix(&key(&format!("hnps[{i}]")), text, ports))
        .collect::<Result<Vec<_>, _>>()?;
    let ipv6_hoa = raw.ipv6_hoa.as_deref().map(|text| home_ipv6(&key("ipv6_hoa"), text, ports)).transpose()?;
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
/// there instead of going through its tunnel).
fn on_our_links(key: &str, what: &str, addr: IpCidr, ports: &[PortConfig]) -> Result<(), ConfigError> {
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
            let reason = if host && subnet.addr() == addr.addr() {
                format!("{what} {shown} is our own address ({here})")
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

fn home_ipv4(key: &str, text: &str, ports: &[PortConfig]) -> Result<Ipv4Addr, ConfigError> {
    let addr: Ipv4Addr =
        text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IPv4 address {text:?}: {e}")))?;
    if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() || addr.is_loopback() {
        return Err(ConfigError::invalid(key, format!("{addr} is not a unicast host address")));
    }
    let host = Ipv4Cidr { addr, prefix_len: 32 };
    on_our_links(key, "home address", host.into(), ports)?;
    Ok(addr)
}

fn home_ipv6(key: &str, text: &str, ports: &[PortConfig]) -> Result<Ipv6Addr, ConfigError> {
    let addr: Ipv6Addr =
        text.parse().map_err(|e| ConfigError::invalid(key, format!("invalid IPv6 address {text:?}: {e}")))?;
    if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() || addr.is_unicast_link_local() {
        return Err(ConfigError::invalid(key, format!("{addr} is not a routable unicast address")));
    }
    let host = Ipv6Cidr { addr, prefix_len: 128 };
    on_our_links(key, "home address", host.into(), ports)?;
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
    on_our_links(key, "home network prefix", prefix.into(), ports)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    /// A small valid file; tests break one thing in it at a time.
    const BASE: &str = r#"
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
}
