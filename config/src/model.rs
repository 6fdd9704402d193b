//! The validated configuration: what the rest of Anchor reads.
//!
//! Values of these types come only out of [`crate::parse`] / [`crate::load`]
//! (or `Default` for the optional sections), so every rule in `validate.rs`
//! holds for them.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::cidr::{IpCidr, Ipv4Cidr, Ipv6Cidr};

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DPDK EAL: cores, file prefix, extra arguments.
    pub eal: EalConfig,
    /// Logging.
    pub log: LogConfig,
    /// Operator socket.
    pub cli: CliConfig,
    /// Worker and ring sizing.
    pub dataplane: DataplaneConfig,
    /// ARP / neighbour discovery timers.
    pub neighbor: NeighborConfig,
    /// Ports, in file order; a port's index here is its `port` number
    /// everywhere else (routes, forwarding entries).
    pub ports: Vec<PortConfig>,
    /// Static routes, in file order.
    pub routes: Vec<RouteConfig>,
}

impl Config {
    /// Full argv for `rte_eal_init`, `argv[0]` = `program`.
    ///
    /// In order: `--lcores 0@(<control_cpus>),1@<w1>,2@<w2>...` (lcore 0 is
    /// the control thread, which may float over `control_cpus`; lcore `i` is
    /// worker `i`, pinned to `worker_cpus[i-1]`), `--main-lcore 0`,
    /// `--file-prefix <file_prefix>`, then per port in port order `--vdev
    /// <device>` or `-a <pci address>`, then `eal.args` verbatim.
    pub fn eal_args(&self, program: &str) -> Vec<String> {
        let control = &self.eal.control_cpus;
        let mut lcores = if control.contains([',', '-']) {
            format!("0@({control})")
        } else {
            format!("0@{control}")
        };
        for (i, cpu) in self.eal.worker_cpus.iter().enumerate() {
            lcores.push_str(&format!(",{}@{}", i + 1, cpu));
        }
        let mut args = vec![
            program.to_owned(),
            "--lcores".to_owned(),
            lcores,
            "--main-lcore".to_owned(),
            "0".to_owned(),
            "--file-prefix".to_owned(),
            self.eal.file_prefix.clone(),
        ];
        for port in &self.ports {
            match &port.device {
                PortDevice::Pci(addr) => args.extend(["-a".to_owned(), addr.clone()]),
                PortDevice::Vdev(spec) => args.extend(["--vdev".to_owned(), spec.clone()]),
            }
        }
        args.extend(self.eal.args.iter().cloned());
        args
    }

    /// Number of worker lcores (= `eal.worker_cpus.len()`, at least 1).
    pub fn workers(&self) -> usize {
        self.eal.worker_cpus.len()
    }

    /// Index into [`Config::ports`] of the port called `name`.
    pub fn port_index(&self, name: &str) -> Option<usize> {
        self.ports.iter().position(|p| p.name == name)
    }
}

/// DPDK environment abstraction layer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EalConfig {
    /// Extra EAL arguments, passed verbatim after the generated ones.
    pub args: Vec<String>,
    /// `--file-prefix`: keeps this process's DPDK runtime files apart.
    pub file_prefix: String,
    /// CPU set of the control lcore (and the threads it spawns), normalised
    /// cpuset list such as `0-1` or `0,2`.
    pub control_cpus: String,
    /// One worker per entry, pinned to that CPU; no duplicates, not empty.
    pub worker_cpus: Vec<u16>,
}

impl Default for EalConfig {
    fn default() -> Self {
        EalConfig {
            args: Vec::new(),
            file_prefix: "anchor".to_owned(),
            control_cpus: "0".to_owned(),
            worker_cpus: vec![1],
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// A level (`error`, `warn`, `info`, `debug`, `trace`, `off`) or a
    /// `tracing_subscriber::EnvFilter` directive list such as
    /// `info,control::pmip6=debug`; checked for shape, not for target names.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".to_owned(),
        }
    }
}

/// Operator interface settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliConfig {
    /// Unix socket `anchorctl` connects to.
    pub socket: PathBuf,
}

impl Default for CliConfig {
    fn default() -> Self {
        CliConfig {
            socket: PathBuf::from("/run/anchor/anchord.sock"),
        }
    }
}

/// Packet-path sizing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataplaneConfig {
    /// Packets per RX/TX burst, 1..=64.
    pub burst_size: u16,
    /// RX descriptors per queue, power of two, 64..=32768.
    pub rx_ring_size: u16,
    /// TX descriptors per queue, power of two, 64..=32768.
    pub tx_ring_size: u16,
    /// Mbufs in the packet pool of each NUMA socket.
    pub mbufs_per_socket: u32,
    /// Per-lcore mempool cache, 0..=512.
    pub mbuf_cache: u32,
    /// Slots in each worker's punt ring towards the control thread, power of
    /// two.
    pub punt_ring_size: u32,
    /// 0 = pure busy poll; N > 0 = a worker sleeps N microseconds after a poll
    /// round that found no packet (for VMs and CI).
    pub idle_backoff_us: u32,
}

impl Default for DataplaneConfig {
    fn default() -> Self {
        DataplaneConfig {
            burst_size: 32,
            rx_ring_size: 1024,
            tx_ring_size: 1024,
            mbufs_per_socket: 8191,
            mbuf_cache: 256,
            punt_ring_size: 1024,
            idle_backoff_us: 0,
        }
    }
}

/// ARP / IPv6 neighbour discovery timers for next hops and peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborConfig {
    /// Time between solicitations for an unresolved neighbour (RFC 4861
    /// RetransTimer, 1000 ms).
    pub retry_interval_ms: u32,
    /// Solicitations before a neighbour is declared unreachable (RFC 4861
    /// MAX_MULTICAST_SOLICIT, 3).
    pub max_retries: u32,
    /// Seconds a resolved entry is used before it is re-resolved.
    pub reachable_s: u32,
}

impl Default for NeighborConfig {
    fn default() -> Self {
        NeighborConfig {
            retry_interval_ms: 1000,
            max_retries: 3,
            reachable_s: 300,
        }
    }
}

/// Which side of the anchor a port faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortRole {
    /// Access/transport side: MAGs, FAs, PMAs, mobile nodes; tunnels end here.
    Core,
    /// Internet/home side: correspondents; plain IP.
    Home,
}

/// The DPDK device behind a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortDevice {
    /// PCI address `DDDD:BB:DD.F`, lower-case hex, e.g. `0000:3b:02.1`.
    Pci(String),
    /// Full virtual-device string, e.g. `net_af_packet0,iface=lma-core,qpairs=2`.
    Vdev(String),
}

impl PortDevice {
    /// Name to give `rte_eth_dev_get_port_by_name`: the PCI address, or the
    /// vdev string up to its first comma.
    pub fn dpdk_name(&self) -> &str {
        match self {
            PortDevice::Pci(addr) => addr,
            PortDevice::Vdev(spec) => spec.split(',').next().unwrap_or(spec),
        }
    }
}

/// One DPDK port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    /// Unique name, used by routes and the CLI.
    pub name: String,
    /// Which side it faces.
    pub role: PortRole,
    /// The device.
    pub device: PortDevice,
    /// Our IPv4 interface addresses on this port (host bits set).
    pub ipv4: Vec<Ipv4Cidr>,
    /// Our IPv6 interface addresses on this port (host bits set).
    pub ipv6: Vec<Ipv6Cidr>,
    /// IP MTU, 576..=9000 (1280..=9000 when the port has IPv6).
    pub mtu: u16,
}

impl PortConfig {
    /// Default IP MTU.
    pub const DEFAULT_MTU: u16 = 1500;
}

/// A static route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    /// Destination network (host bits zero), e.g. `0.0.0.0/0`.
    pub prefix: IpCidr,
    /// Next hop, same family as `prefix`, inside a subnet of the port.
    pub via: IpAddr,
    /// Index into [`Config::ports`].
    pub port: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(control: &str, workers: &[u16], devices: &[PortDevice]) -> Config {
        Config {
            eal: EalConfig {
                args: vec!["--no-huge".into(), "-m".into(), "256".into()],
                file_prefix: "t".into(),
                control_cpus: control.into(),
                worker_cpus: workers.to_vec(),
            },
            log: LogConfig::default(),
            cli: CliConfig::default(),
            dataplane: DataplaneConfig::default(),
            neighbor: NeighborConfig::default(),
            ports: devices
                .iter()
                .enumerate()
                .map(|(i, device)| PortConfig {
                    name: format!("p{i}"),
                    role: PortRole::Core,
                    device: device.clone(),
                    ipv4: Vec::new(),
                    ipv6: Vec::new(),
                    mtu: PortConfig::DEFAULT_MTU,
                })
                .collect(),
            routes: Vec::new(),
        }
    }

    #[test]
    fn eal_args_put_generated_arguments_first_and_user_arguments_last() {
        let c = config(
            "0-1",
            &[2, 3],
            &[
                PortDevice::Pci("0000:3b:02.1".into()),
                PortDevice::Vdev("net_ring0".into()),
            ],
        );
        assert_eq!(
            c.eal_args("anchord"),
            [
                "anchord",
                "--lcores",
                "0@(0-1),1@2,2@3",
                "--main-lcore",
                "0",
                "--file-prefix",
                "t",
                "-a",
                "0000:3b:02.1",
                "--vdev",
                "net_ring0",
                "--no-huge",
                "-m",
                "256"
            ]
        );
    }

    #[test]
    fn eal_args_leave_a_single_control_cpu_unbracketed() {
        let c = config("0", &[1], &[]);
        assert_eq!(c.eal_args("x")[2], "0@0,1@1");
        let c = config("0,4", &[1], &[]);
        assert_eq!(c.eal_args("x")[2], "0@(0,4),1@1");
    }

    #[test]
    fn dpdk_name_is_the_pci_address_or_the_vdev_name_before_the_first_comma() {
        assert_eq!(
            PortDevice::Pci("0000:3b:02.1".into()).dpdk_name(),
            "0000:3b:02.1"
        );
        assert_eq!(
            PortDevice::Vdev("net_af_packet0,iface=lma-core,qpairs=2".into()).dpdk_name(),
            "net_af_packet0"
        );
        assert_eq!(
            PortDevice::Vdev("net_null0".into()).dpdk_name(),
            "net_null0"
        );
    }

    #[test]
    fn port_index_finds_ports_by_name_and_workers_counts_worker_cpus() {
        let c = config(
            "0",
            &[1, 2, 3],
            &[
                PortDevice::Vdev("net_null0".into()),
                PortDevice::Vdev("net_null1".into()),
            ],
        );
        assert_eq!(c.port_index("p1"), Some(1));
        assert_eq!(c.port_index("p2"), None);
        assert_eq!(c.workers(), 3);
    }
}
