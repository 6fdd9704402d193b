//! `validate`: the only way from the raw serde schema to [`Config`].
//!
//! Each rule returns a [`ConfigError::Invalid`] naming the key path (as
//! written in TOML: `port[1].ipv4[0]`, `route[0].via`) and the reason. The
//! first broken rule wins.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::cidr::{CidrError, IpCidr, Ipv4Cidr, Ipv6Cidr};
use crate::error::ConfigError;
use crate::model::{
    CliConfig, Config, DataplaneConfig, EalConfig, LogConfig, NeighborConfig, PortConfig,
    PortDevice, PortRole, RouteConfig,
};
use crate::raw::{RawCli, RawConfig, RawDataplane, RawEal, RawLog, RawNeighbor, RawPort, RawRoute};

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
/// Levels `tracing` knows, as accepted by `EnvFilter`.
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
/// EAL options this crate generates; a copy in `eal.args` would conflict.
const GENERATED_EAL_OPTIONS: [(&str, &str); 6] = [
    (
        "--lcores",
        "generated from eal.control_cpus and eal.worker_cpus",
    ),
    (
        "-l",
        "generated as --lcores from eal.control_cpus and eal.worker_cpus",
    ),
    (
        "-c",
        "generated as --lcores from eal.control_cpus and eal.worker_cpus",
    ),
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
    Ok(Config {
        eal,
        log,
        cli,
        dataplane,
        neighbor,
        ports,
        routes,
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
            return Err(ConfigError::invalid(
                key,
                format!("{arg:?} must not be given here: it is {why}"),
            ));
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
        || !raw
            .file_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(ConfigError::invalid(
            "eal.file_prefix",
            format!(
                "must be 1 to 64 letters, digits, '_', '-' or '.', got {:?}",
                raw.file_prefix
            ),
        ));
    }

    let control_cpus = cpu_list(&raw.control_cpus).map_err(|reason| {
        ConfigError::invalid(
            "eal.control_cpus",
            format!("invalid CPU list {:?}: {reason}", raw.control_cpus),
        )
    })?;

    if raw.worker_cpus.is_empty() {
        return Err(ConfigError::invalid("eal.worker_cpus", "must not be empty"));
    }
    if raw.worker_cpus.len() > MAX_WORKERS {
        return Err(ConfigError::invalid(
            "eal.worker_cpus",
            format!(
                "at most {MAX_WORKERS} workers, got {}",
                raw.worker_cpus.len()
            ),
        ));
    }
    for (i, &cpu) in raw.worker_cpus.iter().enumerate() {
        let key = format!("eal.worker_cpus[{i}]");
        if cpu > MAX_CPU {
            return Err(ConfigError::invalid(
                key,
                format!("CPU {cpu} is above {MAX_CPU}"),
            ));
        }
        if let Some(first) = raw.worker_cpus[..i].iter().position(|&c| c == cpu) {
            return Err(ConfigError::invalid(
                key,
                format!("duplicate worker CPU {cpu} (also eal.worker_cpus[{first}])"),
            ));
        }
    }

    Ok(EalConfig {
        args: raw.args,
        file_prefix: raw.file_prefix,
        control_cpus,
        worker_cpus: raw.worker_cpus,
    })
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
        ConfigError::invalid(
            "log.level",
            format!("invalid level or filter {:?}: {reason}", raw.level),
        )
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
        if !target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
        {
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
        return Err(ConfigError::invalid(
            "cli.socket",
            format!("{:?} is a directory, not a socket path", raw.socket),
        ));
    }
    Ok(CliConfig { socket: raw.socket })
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    key: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::invalid(
            key,
            format!("must be between {min} and {max}, got {value}"),
        ));
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
        return Err(ConfigError::invalid(
            key,
            format!("must be a power of two, got {value}"),
        ));
    }
    if v < min || v > max {
        return Err(ConfigError::invalid(
            key,
            format!("must be between {min} and {max}, got {value}"),
        ));
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
            format!(
                "must be at least 1.5 x dataplane.mbuf_cache ({flush_threshold}), got {}",
                raw.mbufs_per_socket
            ),
        ));
    }
    let idle_backoff_us = in_range(
        "dataplane.idle_backoff_us",
        raw.idle_backoff_us,
        0,
        MAX_IDLE_BACKOFF_US,
    )?;
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
        retry_interval_ms: in_range(
            "neighbor.retry_interval_ms",
            raw.retry_interval_ms,
            10,
            60_000,
        )?,
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
    if driver.is_empty()
        || !driver
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
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
    spec.split(',')
        .skip(1)
        .filter_map(|arg| arg.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
}

fn ipv4_interface(key: &str, text: &str) -> Result<Ipv4Cidr, ConfigError> {
    let bad = |reason: String| {
        ConfigError::invalid(
            key,
            format!("invalid IPv4 interface address {text:?}: {reason}"),
        )
    };
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
            return Err(bad(format!(
                "it is the network address of {}",
                cidr.network()
            )));
        }
        if addr == cidr.broadcast() {
            return Err(bad(format!(
                "it is the broadcast address of {}",
                cidr.network()
            )));
        }
    }
    Ok(cidr)
}

fn ipv6_interface(key: &str, text: &str) -> Result<Ipv6Cidr, ConfigError> {
    let bad = |reason: String| {
        ConfigError::invalid(
            key,
            format!("invalid IPv6 interface address {text:?}: {reason}"),
        )
    };
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
        return Err(ConfigError::invalid(
            "port",
            "at least one [[port]] is required",
        ));
    }
    let mut ports: Vec<PortConfig> = Vec::with_capacity(raw.len());
    // Our addresses and subnets so far: (subnet, key that declared it, port).
    let mut subnets: Vec<(IpCidr, String, usize)> = Vec::new();
    let mut ifaces: HashMap<String, usize> = HashMap::new();
    for (p, raw) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("port[{p}].{field}");

        if raw.name.is_empty()
            || raw.name.len() > 32
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        {
            return Err(ConfigError::invalid(
                key("name"),
                format!(
                    "must be 1 to 32 letters, digits, '_' or '-', got {:?}",
                    raw.name
                ),
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
                return Err(ConfigError::invalid(
                    key("role"),
                    format!("must be \"core\" or \"home\", got {other:?}"),
                ))
            }
        };

        let device =
            port_device(&raw.device).map_err(|r| ConfigError::invalid(key("device"), r))?;
        if let Some(first) = ports
            .iter()
            .position(|q| q.device.dpdk_name() == device.dpdk_name())
        {
            return Err(ConfigError::invalid(
                key("device"),
                format!(
                    "duplicate device {:?} (also port[{first}])",
                    device.dpdk_name()
                ),
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
                    Some(v) => v.parse::<usize>().map_err(|_| {
                        ConfigError::invalid(key("device"), format!("qpairs={v:?} is not a number"))
                    })?,
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
            return Err(ConfigError::invalid(
                format!("port[{p}]"),
                "has no address: give it ipv4 and/or ipv6",
            ));
        }

        let mtu = in_range(&key("mtu"), raw.mtu, MIN_MTU, MAX_MTU)?;
        if !ipv6.is_empty() && mtu < IPV6_MIN_MTU {
            return Err(ConfigError::invalid(
                key("mtu"),
                format!("must be at least {IPV6_MIN_MTU} on a port with IPv6, got {mtu}"),
            ));
        }

        ports.push(PortConfig {
            name: raw.name,
            role,
            device,
            ipv4,
            ipv6,
            mtu,
        });
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
            return Err(ConfigError::invalid(
                key,
                format!("address {} is already used by {other_key}", cidr.addr()),
            ));
        }
        let overlap = match (cidr, other) {
            (IpCidr::V4(a), IpCidr::V4(b)) => a.network().overlaps(&b.network()),
            (IpCidr::V6(a), IpCidr::V6(b)) => a.network().overlaps(&b.network()),
            _ => false,
        };
        if overlap && *other_port != port {
            return Err(ConfigError::invalid(
                key,
                format!(
                    "subnet {} overlaps {} of {other_key} on another port",
                    cidr.network(),
                    other.network()
                ),
            ));
        }
    }
    Ok(())
}

fn eal_against_ports(eal: &EalConfig, ports: &[PortConfig]) -> Result<(), ConfigError> {
    let no_pci = eal.args.iter().position(|a| a == "--no-pci");
    let pci_port = ports
        .iter()
        .position(|p| matches!(p.device, PortDevice::Pci(_)));
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
            ConfigError::invalid(
                key("prefix"),
                format!("invalid prefix {:?}: {e}", raw.prefix),
            )
        })?;
        if prefix.network() != prefix {
            return Err(ConfigError::invalid(
                key("prefix"),
                format!(
                    "{:?} has host bits set; the network is {}",
                    raw.prefix,
                    prefix.network()
                ),
            ));
        }
        if let Some(first) = routes.iter().position(|q| q.prefix == prefix) {
            return Err(ConfigError::invalid(
                key("prefix"),
                format!("duplicate route for {prefix} (also route[{first}])"),
            ));
        }

        let via: IpAddr = raw.via.parse().map_err(|e| {
            ConfigError::invalid(key("via"), format!("invalid IP address {:?}: {e}", raw.via))
        })?;
        if via.is_ipv4() != prefix.is_ipv4() {
            let family = |v4: bool| if v4 { "IPv4" } else { "IPv6" };
            return Err(ConfigError::invalid(
                key("via"),
                format!(
                    "{via} is {} but the prefix {prefix} is {}",
                    family(via.is_ipv4()),
                    family(prefix.is_ipv4())
                ),
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
        return Err(ConfigError::invalid(
            key,
            format!("{via} is port {:?}'s own address", port.name),
        ));
    }
    let Some(subnet) = subnets.iter().find(|s| s.contains(via)) else {
        let list: Vec<String> = subnets.iter().map(|s| s.network().to_string()).collect();
        let family = if via.is_ipv4() { "IPv4" } else { "IPv6" };
        return Err(ConfigError::invalid(
            key,
            format!(
                "{via} is not inside any {family} subnet of port {:?} ({})",
                port.name,
                if list.is_empty() {
                    "it has none".to_owned()
                } else {
                    list.join(", ")
                }
            ),
        ));
    };
    if let (IpCidr::V4(s), IpAddr::V4(v)) = (subnet, via) {
        if s.prefix_len <= 30 && (v == s.network().addr || v == s.broadcast()) {
            return Err(ConfigError::invalid(
                key,
                format!(
                    "{via} is the network or broadcast address of {}",
                    s.network()
                ),
            ));
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
        assert!(
            msg.starts_with("port[1].ipv4[0]: invalid IPv4 interface address \"192.0.2.300/24\": "),
            "{msg}"
        );
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
        assert!(
            msg.starts_with("port[0].ipv6[0]: invalid IPv6 interface address \"2001:db8:1::g/64\""),
            "{msg}"
        );
        assert!(error("2001:db8:1::1/64", "ff02::1/64").contains("not a unicast"));
        assert!(error("2001:db8:1::1/64", "2001:db8:1::1/129").contains("longer than 128"));
    }

    #[test]
    fn same_address_on_two_ports_is_rejected() {
        let msg = error("198.51.100.1/24", "192.0.2.1/24");
        assert_eq!(
            msg,
            "port[1].ipv4[0]: address 192.0.2.1 is already used by port[0].ipv4[0]"
        );
    }

    #[test]
    fn overlapping_subnets_on_two_ports_are_rejected_but_allowed_on_one_port() {
        let msg = error("2001:db8:2::1/64", "2001:db8:1::9/48");
        assert!(
            msg == "port[1].ipv6[0]: subnet 2001:db8:1::/48 overlaps 2001:db8:1::/64 of \
                   port[0].ipv6[0] on another port",
            "{msg}"
        );
        let c = with(
            "ipv4 = [\"192.0.2.1/24\"]",
            "ipv4 = [\"192.0.2.1/24\", \"192.0.2.9/24\"]",
        )
        .unwrap();
        assert_eq!(c.ports[0].ipv4.len(), 2);
    }

    #[test]
    fn route_naming_a_missing_port_is_rejected() {
        let msg = error("port = \"home\"", "port = \"hom\"");
        assert!(
            msg.starts_with("route[0].port: no port named \"hom\""),
            "{msg}"
        );
    }

    #[test]
    fn zero_ports_are_rejected() {
        let msg = parse("[eal]\nworker_cpus = [1]\n").unwrap_err().to_string();
        assert_eq!(msg, "port: at least one [[port]] is required");
    }

    #[test]
    fn duplicate_port_names_are_rejected() {
        let msg = error("name = \"home\"", "name = \"core\"");
        assert_eq!(
            msg,
            "port[1].name: duplicate port name \"core\" (also port[0])"
        );
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
        assert_eq!(
            port_device("0000:3b:02.1"),
            Ok(PortDevice::Pci("0000:3b:02.1".into()))
        );
        assert_eq!(
            port_device("0000:AF:1f.7"),
            Ok(PortDevice::Pci("0000:af:1f.7".into()))
        );
        assert_eq!(
            port_device("net_ring0"),
            Ok(PortDevice::Vdev("net_ring0".into()))
        );
        assert_eq!(
            port_device("net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"),
            Ok(PortDevice::Vdev(
                "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap".into()
            ))
        );
        // Not PCI (short form, bad function, device above 1f, non-hex) and
        // not starting with net_.
        for text in [
            "3b:02.1",
            "0000:3b:02.8",
            "0000:3b:20.0",
            "0000:3g:02.1",
            "eth0",
            "",
        ] {
            let err = port_device(text).unwrap_err();
            assert!(err.contains("neither a PCI address"), "{text}: {err}");
        }
        assert!(port_device("net_").is_err());
        assert!(port_device("net_af packet0").is_err());
        assert!(port_device("net_ring0,,x=1").is_err());
    }

    #[test]
    fn device_that_is_neither_pci_nor_vdev_names_the_key() {
        let msg = error(
            "net_af_packet1,iface=lma-home,qpairs=2",
            "af_packet1,iface=lma-home",
        );
        assert!(
            msg.starts_with("port[1].device: \"af_packet1,iface=lma-home\" is neither"),
            "{msg}"
        );
    }

    #[test]
    fn pci_port_with_no_pci_in_eal_args_is_rejected() {
        let msg = error("net_af_packet1,iface=lma-home,qpairs=2", "0000:3b:02.1");
        assert_eq!(
            msg,
            "eal.args[1]: \"--no-pci\" hides port[1]'s PCI device from the EAL"
        );
    }

    #[test]
    fn duplicate_devices_and_interfaces_are_rejected() {
        assert_eq!(
            error(
                "net_af_packet1,iface=lma-home",
                "net_af_packet0,iface=lma-home"
            ),
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
        assert!(
            msg.starts_with("port[0].device: net_af_packet needs qpairs=3"),
            "{msg}"
        );
        assert!(msg.ends_with("got qpairs=2"), "{msg}");
        let msg = error(
            "net_af_packet0,iface=lma-core,qpairs=2",
            "net_af_packet0,iface=lma-core",
        );
        assert!(msg.ends_with("got qpairs=1"), "{msg}");
    }

    #[test]
    fn mtu_outside_576_to_9000_is_rejected() {
        let text = BASE.replacen("role = \"core\"", "role = \"core\"\nmtu = 100", 1);
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "port[0].mtu: must be between 576 and 9000, got 100"
        );
        let text = BASE.replacen("role = \"core\"", "role = \"core\"\nmtu = 1000", 1);
        assert!(parse(&text)
            .unwrap_err()
            .to_string()
            .contains("at least 1280 on a port with IPv6"));
    }

    #[test]
    fn port_without_addresses_is_rejected() {
        // Without the route, which would fail first on the bare port.
        let text = &BASE[..BASE.find("[[route]]").unwrap()];
        let text = text
            .replacen("ipv4 = [\"198.51.100.1/24\"]\n", "", 1)
            .replacen("ipv6 = [\"2001:db8:2::1/64\"]\n", "", 1);
        let text = text.as_str();
        assert_eq!(
            parse(text).unwrap_err().to_string(),
            "port[1]: has no address: give it ipv4 and/or ipv6"
        );
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
        let text = format!(
            "{BASE}\n[[route]]\nprefix = \"0.0.0.0/0\"\nvia = \"198.51.100.3\"\nport = \"home\"\n"
        );
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "route[1].prefix: duplicate route for 0.0.0.0/0 (also route[0])"
        );
    }

    #[test]
    fn punt_ring_size_must_be_a_power_of_two() {
        let text = format!("{BASE}\n[dataplane]\npunt_ring_size = 1000\n");
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "dataplane.punt_ring_size: must be a power of two, got 1000"
        );
    }

    #[test]
    fn dataplane_sizes_out_of_range_are_rejected() {
        let bad = |line: &str| {
            parse(&format!("{BASE}\n[dataplane]\n{line}\n"))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad("burst_size = 0"),
            "dataplane.burst_size: must be between 1 and 64, got 0"
        );
        assert_eq!(
            bad("burst_size = 65"),
            "dataplane.burst_size: must be between 1 and 64, got 65"
        );
        assert_eq!(
            bad("rx_ring_size = 1000"),
            "dataplane.rx_ring_size: must be a power of two, got 1000"
        );
        assert_eq!(
            bad("tx_ring_size = 32"),
            "dataplane.tx_ring_size: must be between 64 and 32768, got 32"
        );
        assert_eq!(
            bad("mbuf_cache = 513"),
            "dataplane.mbuf_cache: must be between 0 and 512, got 513"
        );
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
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "neighbor.max_retries: must be between 1 and 100, got 0"
        );
    }

    #[test]
    fn empty_worker_cpus_are_rejected() {
        assert_eq!(
            error("worker_cpus = [1]", "worker_cpus = []"),
            "eal.worker_cpus: must not be empty"
        );
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
            let msg = error(
                "\"--no-huge\", \"--no-pci\"",
                &format!("\"--no-pci\", \"{arg}\""),
            );
            assert!(
                msg.starts_with(&format!("eal.args[1]: {bad} must not be given here")),
                "{msg}"
            );
        }
        assert!(error(
            "\"--no-huge\", \"--no-pci\"",
            "\"--no-huge\", \"--in-memory\""
        )
        .contains("refused by the EAL"));
        assert_eq!(
            error("\"--no-huge\", \"--no-pci\"", "\"--no-huge\", \"\""),
            "eal.args[1]: must not be empty"
        );
    }

    #[test]
    fn file_prefix_must_be_a_plain_name() {
        let text = BASE.replacen("[eal]", "[eal]\nfile_prefix = \"a/b\"", 1);
        assert!(parse(&text)
            .unwrap_err()
            .to_string()
            .starts_with("eal.file_prefix: must be 1 to 64 letters"));
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
        for bad in [
            "",
            "inof",
            "control=loud",
            "info,",
            "=debug",
            "a b=info",
            "x[span=info",
        ] {
            assert!(log_filter(bad).is_err(), "{bad:?} accepted");
        }
        let text = format!("{BASE}\n[log]\nlevel = \"verbose\"\n");
        assert!(parse(&text)
            .unwrap_err()
            .to_string()
            .starts_with("log.level: invalid level or filter \"verbose\": "));
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
        assert_eq!(
            parse(&text).unwrap_err().to_string(),
            "cli.socket: must not be empty"
        );
    }
}
