//! The validated configuration: what the rest of Anchor reads.
//!
//! Values of these types come only out of [`crate::parse`] / [`crate::load`]
//! (or `Default` for the optional sections), so every rule in `validate.rs`
//! holds for them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

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
    /// The Prometheus text endpoint.
    pub metrics: MetricsConfig,
    /// The durable session store.
    pub store: StoreConfig,
    /// Signalling admission: per-peer rate limits and the control loop's
    /// budget per pass.
    pub overload: OverloadConfig,
    /// Worker and ring sizing.
    pub dataplane: DataplaneConfig,
    /// ARP / neighbour discovery timers.
    pub neighbor: NeighborConfig,
    /// Ports, in file order; a port's index here is its `port` number
    /// everywhere else (routes, forwarding entries).
    pub ports: Vec<PortConfig>,
    /// Static routes, in file order.
    pub routes: Vec<RouteConfig>,
    /// Data-plane tunnel settings.
    pub tunnel: TunnelConfig,
    /// Static bindings (fixed tunnels), in file order.
    pub bindings: Vec<StaticBinding>,
    /// `[lma]`: the PMIPv6 local mobility anchor role; `None` = off.
    pub lma: Option<LmaConfig>,
    /// `[ha]`: the Mobile IPv4 home agent role (MIPv4, DSMIPv4, PMIPv4);
    /// `None` = off.
    pub ha: Option<HaConfig>,
    /// `[dsmip6]`: the DSMIPv6 home agent role; `None` = off.
    pub dsmip6: Option<Dsmip6Config>,
    /// `[pools]`: home addresses and prefixes handed out dynamically.
    pub pools: PoolsConfig,
    /// `[profiles]`: mobile-node policy.
    pub profiles: ProfilesConfig,
}

impl Config {
    /// The index of the home-link port on whose link home address `addr`
    /// lies ([`PortConfig::on_home_link`]), if any.
    pub fn home_link_port(&self, addr: IpAddr) -> Option<usize> {
        self.ports.iter().position(|p| p.on_home_link(addr))
    }

    /// Full argv for `rte_eal_init`, `argv[0]` = `program`.
    ///
    /// In order: `--lcores 0@(<control_cpus>),1@<w1>,2@<w2>...` (lcore 0 is
    /// the control thread, which may float over `control_cpus`; lcore `i` is
    /// worker `i`, pinned to `worker_cpus[i-1]`), `--main-lcore 0`,
    /// `--file-prefix <file_prefix>`, then per port in port order `--vdev
    /// <device>` or `-a <pci address>`, then `eal.args` verbatim.
    pub fn eal_args(&self, program: &str) -> Vec<String> {
        let control = &self.eal.control_cpus;
        let mut lcores = if control.contains([',', '-']) { format!("0@({control})") } else { format!("0@{control}") };
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

    /// The /64s inside [`PoolsConfig::hnp`] that dynamic allocation must
    /// skip, sorted, without duplicates: every profile's
    /// [`Profile::static_hnp`], and every prefix of a VRF 0 static binding
    /// (its `hnps`, and the /64 around its `ipv6_hoa`) that lies inside a
    /// pool. The IPv4 counterpart is already in [`Ipv4Pool::exclude`].
    pub fn reserved_hnps(&self) -> Vec<Ipv6Cidr> {
        let in_pool = |p: &Ipv6Cidr| self.pools.hnp.iter().any(|pool| pool.contains(p.addr));
        let from_bindings = self.bindings.iter().filter(|b| b.vrf == 0).flat_map(|b| {
            let around_hoa = b.ipv6_hoa.map(|a| Ipv6Cidr { addr: a, prefix_len: 64 }.network());
            b.hnps.iter().copied().chain(around_hoa)
        });
        let from_profiles = self.profiles.mobile_nodes.iter().filter_map(|p| p.static_hnp);
        let mut reserved: Vec<Ipv6Cidr> = from_profiles.chain(from_bindings).filter(in_pool).collect();
        reserved.sort_by_key(|p| (p.addr, p.prefix_len));
        reserved.dedup();
        reserved
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
        LogConfig { level: "info".to_owned() }
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
        CliConfig { socket: PathBuf::from("/run/anchor/anchord.sock") }
    }
}

/// The Prometheus text endpoint (`GET /metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Where it listens; `None` (the default) = no endpoint at all.
    pub listen: Option<SocketAddr>,
}

/// The durable session store (`[store]`): where sessions are kept across
/// restarts and whether replies wait for them to be on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The database file; `None` (`path = ""`) = nothing is persisted.
    pub path: Option<PathBuf>,
    /// A PBA / Registration Reply / Binding Acknowledgement is sent only
    /// once the change it announces is committed (batched): a peer never
    /// holds a binding the anchor would forget in a crash.
    pub sync_replies: bool,
    /// How long changes may wait before they are committed together.
    pub batch_interval: Duration,
}

impl StoreConfig {
    /// Where the store lives unless the config says otherwise.
    pub const DEFAULT_PATH: &'static str = "/var/lib/anchor/anchord.db";
    /// Longest `batch_interval_ms` accepted (a held reply must arrive
    /// before the peer's first retransmission, 1 s in RFC 6275).
    pub const MAX_BATCH_INTERVAL_MS: u32 = 500;
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: Some(PathBuf::from(StoreConfig::DEFAULT_PATH)),
            sync_replies: true,
            batch_interval: Duration::from_millis(5),
        }
    }
}

/// Overload protection (`[overload]`): how much signalling one peer may
/// send and how much work one pass of the control loop takes on, so that a
/// registration storm is shed instead of starving timers, revocations and
/// the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverloadConfig {
    /// Signalling messages per second accepted from one source address
    /// (token bucket refill); `0` = no limit.
    pub peer_rate: u32,
    /// Messages one source address may send at once (bucket depth).
    pub peer_burst: u32,
    /// Packets taken from the punt rings per control-loop pass; the rest
    /// wait in the rings (bounded; a full ring is counted).
    pub punts_per_pass: u32,
    /// Signalling messages handed to the roles per control-loop pass.
    pub signalling_per_pass: u32,
    /// Admitted signalling messages that may wait for a later pass; beyond
    /// it they are dropped and counted.
    pub signalling_backlog: u32,
}

impl OverloadConfig {
    /// Source addresses whose buckets are kept; beyond it new peers share one
    /// bucket (memory stays bounded whatever the sources).
    pub const MAX_PEERS: usize = 65_536;
}

impl Default for OverloadConfig {
    fn default() -> Self {
        OverloadConfig {
            peer_rate: 2_000,
            peer_burst: 4_000,
            punts_per_pass: 1_024,
            signalling_per_pass: 256,
            signalling_backlog: 8_192,
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
        NeighborConfig { retry_interval_ms: 1000, max_retries: 3, reachable_s: 300 }
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
    /// The mobile nodes' home link (a `Home` port only): home addresses
    /// registered with the anchor may lie on its subnets, and while they
    /// are registered the anchor answers for them there (proxy ARP with
    /// gratuitous ARP, RFC 5944 section 4.6; proxy ND with DAD, RFC 6275
    /// section 10.4.1).
    pub home_link: bool,
}

impl PortConfig {
    /// Default IP MTU.
    pub const DEFAULT_MTU: u16 = 1500;

    /// Whether `addr` is a home address on this port's home link: the port
    /// is a home link and `addr` lies in one of its subnets without being
    /// one of our addresses there.
    pub fn on_home_link(&self, addr: IpAddr) -> bool {
        self.home_link
            && match addr {
                IpAddr::V4(a) => self.ipv4.iter().any(|c| c.contains(a)) && !self.ipv4.iter().any(|c| c.addr == a),
                IpAddr::V6(a) => self.ipv6.iter().any(|c| c.contains(a)) && !self.ipv6.iter().any(|c| c.addr == a),
            }
    }
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

/// How the ECN field is written into the outer header on encapsulation
/// (RFC 6040 section 4.1; decapsulation always follows the normal-mode
/// table, PROTOCOLS.md section 12.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EcnMode {
    /// Normal mode: copy the inner ECN field (CE included) to the outer header.
    #[default]
    Normal,
    /// Compatibility mode: the outer header is Not-ECT, for peers whose
    /// decapsulator predates ECN.
    Compat,
}

impl EcnMode {
    /// The name used in the config file: `normal` or `compat`.
    pub fn name(self) -> &'static str {
        match self {
            EcnMode::Normal => "normal",
            EcnMode::Compat => "compat",
        }
    }
}

/// Data-plane tunnel settings (`[tunnel]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelConfig {
    /// Outer IPv4 TTL / IPv6 Hop Limit, 1..=255 (PROTOCOLS.md section 12.3:
    /// the outer value is independent of the inner one).
    pub ttl: u8,
    /// ECN on encapsulation.
    pub ecn: EcnMode,
    /// Path MTU towards peers, 1280..=9000 and at most every core port's MTU;
    /// `None` = the egress port's MTU. The tunnel MTU is this minus the
    /// encapsulation overhead (PROTOCOLS.md section 12.5); see
    /// [`TunnelConfig::path_mtu`].
    pub mtu: Option<u16>,
    /// Static tunnel MTU for IPv6 payload in an IPv4 outer header (RFC 4213
    /// section 3.2), 1280..=1480.
    pub ipv6_over_ipv4_mtu: u16,
    /// Entries of the forwarding table (one per IPv4 HoA, HNP or IPv6 HoA of
    /// every binding, static or signalled), 1024..=16777216.
    pub fib_capacity: u32,
}

impl TunnelConfig {
    /// Default outer TTL / Hop Limit.
    pub const DEFAULT_TTL: u8 = 64;
    /// Default IPv6-over-IPv4 tunnel MTU (RFC 4213: SHOULD be 1280).
    pub const DEFAULT_IPV6_OVER_IPV4_MTU: u16 = 1280;
    /// Default forwarding-table capacity.
    pub const DEFAULT_FIB_CAPACITY: u32 = 1 << 20;

    /// Path MTU for tunnels leaving by `port`: [`TunnelConfig::mtu`] when
    /// set, never more than the port's own MTU.
    pub fn path_mtu(&self, port: &PortConfig) -> u16 {
        self.mtu.map_or(port.mtu, |mtu| mtu.min(port.mtu))
    }
}

impl Default for TunnelConfig {
    fn default() -> Self {
        TunnelConfig {
            ttl: Self::DEFAULT_TTL,
            ecn: EcnMode::Normal,
            mtu: None,
            ipv6_over_ipv4_mtu: Self::DEFAULT_IPV6_OVER_IPV4_MTU,
            fib_capacity: Self::DEFAULT_FIB_CAPACITY,
        }
    }
}

/// Encapsulation of a static binding's tunnel (PROTOCOLS.md section 12.1).
///
/// "In" is peer to us (uplink), "out" is us to the peer (downlink). UDP
/// kinds run over IPv4 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelMode {
    /// IP in IP: IPv4 protocol 4/41 or IPv6 next header 4/41, no extra header.
    IpIp,
    /// GRE (RFC 2784/2890, PROTOCOLS.md section 5.2); keys both present or
    /// both absent.
    Gre {
        /// Key the peer sends (the uplink key; it identifies the session).
        key_in: Option<u32>,
        /// Key we send (the downlink key).
        key_out: Option<u32>,
    },
    /// RFC 5844 IPv4-UDP: `IPv4 | UDP | payload`.
    Udp {
        /// The peer's UDP port.
        peer_port: u16,
        /// Our UDP port.
        local_port: u16,
    },
    /// RFC 5845 IPv4-UDP-TLV: `IPv4 | UDP | TLV | GRE | payload`
    /// (PROTOCOLS.md section 5.3).
    UdpTlv {
        /// The peer's UDP port.
        peer_port: u16,
        /// Our UDP port.
        local_port: u16,
        /// Key the peer sends (uplink).
        key_in: u32,
        /// Key we send (downlink).
        key_out: u32,
    },
    /// RFC 3519 MIPv4 UDP tunnel: `IPv4 | UDP | MIP Tunnel Data | payload`;
    /// our side is always port [`TunnelMode::MIP_UDP_PORT`]
    /// (PROTOCOLS.md section 8.12).
    MipUdp {
        /// The mobile node's or FA's UDP port.
        peer_port: u16,
    },
}

impl TunnelMode {
    /// RFC 5844 data port, the default of both UDP ports for `udp` and
    /// `udp-tlv`.
    pub const DEFAULT_UDP_PORT: u16 = 5437;
    /// Our port of RFC 3519 UDP tunnels (the MIPv4 registration port).
    pub const MIP_UDP_PORT: u16 = 434;

    /// The name used in the config file and by `anchorctl`: `ipip`, `gre`,
    /// `udp`, `udp-tlv` or `mip-udp`.
    pub fn name(&self) -> &'static str {
        match self {
            TunnelMode::IpIp => "ipip",
            TunnelMode::Gre { .. } => "gre",
            TunnelMode::Udp { .. } => "udp",
            TunnelMode::UdpTlv { .. } => "udp-tlv",
            TunnelMode::MipUdp { .. } => "mip-udp",
        }
    }

    /// The uplink GRE key, if the mode has one.
    pub fn key_in(&self) -> Option<u32> {
        match *self {
            TunnelMode::Gre { key_in, .. } => key_in,
            TunnelMode::UdpTlv { key_in, .. } => Some(key_in),
            _ => None,
        }
    }
}

/// A binding an operator pins in the config (`[[binding]]`): a fixed tunnel
/// that exists without signaling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticBinding {
    /// Mobile node identifier (NAI), not empty; `binding-<index>` when the
    /// file gives none.
    pub mn_id: String,
    /// Routing realm of the addresses below; 0 is the default realm.
    pub vrf: u16,
    /// IPv4 home address.
    pub ipv4_hoa: Option<Ipv4Addr>,
    /// IPv6 home network prefixes, each exactly a /64 with host bits zero.
    pub hnps: Vec<Ipv6Cidr>,
    /// IPv6 home address.
    pub ipv6_hoa: Option<Ipv6Addr>,
    /// The peer's tunnel address (MAG, FA or the mobile node's care-of
    /// address); not one of ours.
    pub endpoint: IpAddr,
    /// Our tunnel address, same family as `endpoint`, an address of a port.
    pub local: IpAddr,
    /// Encapsulation.
    pub tunnel: TunnelMode,
    /// Fixed outer DSCP, 0..=63; `None` copies the inner DSCP (PROTOCOLS.md
    /// section 12.4).
    pub dscp: Option<u8>,
    /// Index into [`Config::ports`] of the egress port.
    pub port: usize,
}

/// Whether the LMA uses GRE (RFC 5845, PROTOCOLS.md section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GrePolicy {
    /// GRE when the MAG asks for it (a GRE Key option), a plain tunnel
    /// otherwise.
    #[default]
    Supported,
    /// Every session uses GRE: a PBU without a GRE Key option gets status 163
    /// GRE_KEY_OPTION_REQUIRED (e.g. overlapping private IPv4 home addresses).
    Required,
    /// Never GRE: a GRE Key option gets status 2 GRE_KEY_OPTION_NOT_REQUIRED
    /// and a plain tunnel.
    Disabled,
}

impl GrePolicy {
    /// The name used in the config file: `supported`, `required` or
    /// `disabled`.
    pub fn name(self) -> &'static str {
        match self {
            GrePolicy::Supported => "supported",
            GrePolicy::Required => "required",
            GrePolicy::Disabled => "disabled",
        }
    }
}

/// What the LMA does with the sessions of a MAG that stopped answering
/// heartbeats or restarted and lost its state (RFC 5847 section 5, a local
/// action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PeerFailureAction {
    /// Log it and keep the sessions until their lifetimes run out.
    #[default]
    Keep,
    /// Remove the MAG's sessions (as at lifetime expiry, no PBA is sent).
    Remove,
}

impl PeerFailureAction {
    /// The name used in the config file: `keep` or `remove`.
    pub fn name(self) -> &'static str {
        match self {
            PeerFailureAction::Keep => "keep",
            PeerFailureAction::Remove => "remove",
        }
    }
}

/// How a MAG orders its PBUs (TimestampBasedApproachInUse, per MAG; RFC
/// 5213 section 5.5). A PBU is checked by the scheme it carries (a Timestamp
/// option or not, PROTOCOLS.md section 3.5); this says which one to expect
/// from the MAG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Ordering {
    /// The MAG sends a Timestamp option (TimestampBasedApproachInUse = 1).
    #[default]
    Timestamp,
    /// The MAG sends no Timestamp option; RFC 6275 sequence numbers order its
    /// PBUs (several deployed MAGs).
    Sequence,
}

impl Ordering {
    /// The name used in the config file: `timestamp` or `sequence`.
    pub fn name(self) -> &'static str {
        match self {
            Ordering::Timestamp => "timestamp",
            Ordering::Sequence => "sequence",
        }
    }
}

/// One MAG of the allow-list (`[[lma.mag]]`). PBUs from any other source are
/// dropped without a reply (PROTOCOLS.md section 3.2 step 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagPeer {
    /// Unique name, used by [`Profile::mags`] and the CLI.
    pub name: String,
    /// Its Proxy-CoA: the IPv6 source of its PBUs, or the IPv4 source for
    /// IPv4 transport (RFC 5844). Not ours, unique, reachable, of a family
    /// for which the LMA has an address.
    pub addr: IpAddr,
    /// Which ordering scheme its PBUs use.
    pub ordering: Ordering,
}

/// `[lma]`: present = the LMA role is on. Defaults are the standards'
/// (PROTOCOLS.md sections 3.8, 4.9, 6, 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmaConfig {
    /// Our IPv6 LMA address (LMAA), an IPv6 address of a core port. At least
    /// one of `lmaa` and `ipv4_lmaa` is set.
    pub lmaa: Option<Ipv6Addr>,
    /// RFC 5844 IPv4-LMAA (PBUs over IPv4-UDP 5436), an IPv4 address of a
    /// core port.
    pub ipv4_lmaa: Option<Ipv4Addr>,
    /// The MAG allow-list, in file order; not empty.
    pub mags: Vec<MagPeer>,
    /// MinDelayBeforeBCEDelete: how long a de-registered session stays
    /// deprecated before it is deleted.
    pub min_delay_before_bce_delete: Duration,
    /// MaxDelayBeforeNewBCEAssign: how long a handoff PBU with HI = 4 waits
    /// for the old MAG's de-registration; zero = create the session at once.
    pub max_delay_before_new_bce_assign: Duration,
    /// TimestampValidityWindow: the largest difference between a PBU's
    /// Timestamp and our time of day.
    pub timestamp_validity_window: Duration,
    /// MobileNodeGeneratedTimestampInUse: skip the validity-window test
    /// (timestamps come from the mobile node's clock).
    pub mn_generated_timestamp: bool,
    /// Longest lifetime the LMA grants, 4 s..=65535 x 4 s, a multiple of 4 s.
    pub max_lifetime: Duration,
    /// AcceptForcedIPv4UDPEncapsulationRequest: accept F = 1 (IPv4-UDP)
    /// requests; otherwise they get status 129.
    pub accept_forced_udp: bool,
    /// The RFC 5845 TLV header (UDP-TLV mode) is supported: T = 1 with a GRE
    /// Key option is accepted; otherwise status 3.
    pub tlv_supported: bool,
    /// GRE negotiation policy.
    pub gre: GrePolicy,
    /// HEARTBEAT_INTERVAL, 30..=3600 s; `None` = send no heartbeats (we
    /// still answer them).
    pub heartbeat_interval: Option<Duration>,
    /// MISSING_HEARTBEATS_ALLOWED: unanswered heartbeats before a MAG is
    /// declared unreachable.
    pub missing_heartbeats_allowed: u32,
    /// What to do with a dead or restarted MAG's sessions.
    pub on_peer_failure: PeerFailureAction,
    /// BRIMaxRetriesNumber: retransmissions of an unanswered BRI.
    pub bri_max_retries: u32,
    /// InitMINDelayBRIs: first BRI retransmission timeout, 500..=2000 ms
    /// (it doubles up to MAX_BRACK_TIMEOUT, 2 s).
    pub bri_initial_delay: Duration,
    /// Most mobility sessions at once; a PBU beyond gets status 130.
    pub max_sessions: u32,
    /// How long a shadow BCE (draft-premec-mext-extended-home-link-00,
    /// PROTOCOLS.md section 11.4) waits for the mobile node to de-register
    /// the home address from its own DSMIPv6 binding before the LMA revokes
    /// the proxy binding at the MAG with a BRI; 1..=3600 s.
    pub shadow_timeout: Duration,
}

impl LmaConfig {
    /// MinDelayBeforeBCEDelete default (RFC 5213).
    pub const DEFAULT_MIN_DELAY_BEFORE_BCE_DELETE: Duration = Duration::from_millis(10_000);
    /// MaxDelayBeforeNewBCEAssign default (RFC 5213).
    pub const DEFAULT_MAX_DELAY_BEFORE_NEW_BCE_ASSIGN: Duration = Duration::from_millis(1_500);
    /// TimestampValidityWindow default (RFC 5213).
    pub const DEFAULT_TIMESTAMP_VALIDITY_WINDOW: Duration = Duration::from_millis(300);
    /// Default lifetime cap.
    pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(3_600);
    /// Largest lifetime a PBA can carry: 65535 units of 4 s.
    pub const MAX_LIFETIME: Duration = Duration::from_secs(65_535 * 4);
    /// HEARTBEAT_INTERVAL default (RFC 5847).
    pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(60);
    /// MISSING_HEARTBEATS_ALLOWED default (RFC 5847).
    pub const DEFAULT_MISSING_HEARTBEATS_ALLOWED: u32 = 3;
    /// BRIMaxRetriesNumber default (RFC 5846).
    pub const DEFAULT_BRI_MAX_RETRIES: u32 = 1;
    /// InitMINDelayBRIs default (RFC 5846).
    pub const DEFAULT_BRI_INITIAL_DELAY: Duration = Duration::from_secs(1);
    /// Default session limit.
    pub const DEFAULT_MAX_SESSIONS: u32 = 1_000_000;
    /// Default shadow BCE timeout. The draft asks for "a reasonable time"
    /// and gives no value (PROTOCOLS.md section 15 marks ours UNVERIFIED):
    /// 90 s lets the mobile node's at-home Binding Update through every
    /// retransmission RFC 6275 allows (1 s doubling up to
    /// MAX_BINDACK_TIMEOUT, 32 s: 1 + 2 + 4 + 8 + 16 + 32 = 63 s) with room
    /// for movement detection and address configuration on the new link,
    /// while a MAG whose mobile node never comes home learns it within two
    /// minutes instead of keeping a binding that forwards nothing.
    pub const DEFAULT_SHADOW_TIMEOUT: Duration = Duration::from_secs(90);
    /// Longest shadow BCE timeout.
    pub const MAX_SHADOW_TIMEOUT: Duration = Duration::from_secs(3_600);

    /// The allow-listed MAG whose Proxy-CoA is `addr`, with its index.
    pub fn mag(&self, addr: IpAddr) -> Option<(usize, &MagPeer)> {
        self.mags.iter().enumerate().find(|(_, m)| m.addr == addr)
    }
}

impl Default for LmaConfig {
    /// The standards' defaults, with no address and no MAG (which a valid
    /// `[lma]` has).
    fn default() -> Self {
        LmaConfig {
            lmaa: None,
            ipv4_lmaa: None,
            mags: Vec::new(),
            min_delay_before_bce_delete: Self::DEFAULT_MIN_DELAY_BEFORE_BCE_DELETE,
            max_delay_before_new_bce_assign: Self::DEFAULT_MAX_DELAY_BEFORE_NEW_BCE_ASSIGN,
            timestamp_validity_window: Self::DEFAULT_TIMESTAMP_VALIDITY_WINDOW,
            mn_generated_timestamp: false,
            max_lifetime: Self::DEFAULT_MAX_LIFETIME,
            accept_forced_udp: false,
            tlv_supported: true,
            gre: GrePolicy::Supported,
            heartbeat_interval: Some(Self::DEFAULT_HEARTBEAT_INTERVAL),
            missing_heartbeats_allowed: Self::DEFAULT_MISSING_HEARTBEATS_ALLOWED,
            on_peer_failure: PeerFailureAction::Keep,
            bri_max_retries: Self::DEFAULT_BRI_MAX_RETRIES,
            bri_initial_delay: Self::DEFAULT_BRI_INITIAL_DELAY,
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
            shadow_timeout: Self::DEFAULT_SHADOW_TIMEOUT,
        }
    }
}

/// Reverse tunnelling policy of the home agent (RFC 3024, PROTOCOLS.md
/// section 8.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReverseTunnelPolicy {
    /// T = 1 is granted, T = 0 too.
    #[default]
    Supported,
    /// T = 0 is refused with code 138.
    Required,
    /// T = 1 is refused with code 137.
    Disabled,
}

impl ReverseTunnelPolicy {
    /// The name used in the config file.
    pub fn name(self) -> &'static str {
        match self {
            ReverseTunnelPolicy::Supported => "supported",
            ReverseTunnelPolicy::Required => "required",
            ReverseTunnelPolicy::Disabled => "disabled",
        }
    }
}

/// Algorithm of a Mobile IPv4 security association (RFC 5944 section 3.5.1,
/// PROTOCOLS.md section 8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthAlgorithm {
    /// HMAC-MD5 (RFC 2104), the mandatory default.
    #[default]
    HmacMd5,
    /// RFC 2002 keyed MD5, MD5(key ‖ data ‖ key), for legacy peers.
    PrefixSuffixMd5,
}

impl AuthAlgorithm {
    /// The name used in the config file: `hmac-md5` or `prefix-suffix-md5`.
    pub fn name(self) -> &'static str {
        match self {
            AuthAlgorithm::HmacMd5 => "hmac-md5",
            AuthAlgorithm::PrefixSuffixMd5 => "prefix-suffix-md5",
        }
    }
}

/// A mobility security association between a mobile node and the home
/// agent (`[[ha.mn]]`), keyed by NAI and SPI.
#[derive(Clone, PartialEq, Eq)]
pub struct MnSecurityAssociation {
    /// The mobile node's NAI (as in its MN-NAI extension, or the NAI of the
    /// profile whose `static_ipv4_hoa` is its home address).
    pub mn_id: String,
    /// Security Parameter Index, 256 and above (0-255 are reserved).
    pub spi: u32,
    /// The shared key, 16 to 64 octets.
    pub key: Vec<u8>,
    /// The authenticator algorithm.
    pub algorithm: AuthAlgorithm,
}

impl std::fmt::Debug for MnSecurityAssociation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MnSecurityAssociation")
            .field("mn_id", &self.mn_id)
            .field("spi", &self.spi)
            .field("key", &"<redacted>")
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

/// A foreign agent or proxy mobility agent that shares an FA-HA security
/// association with the home agent (`[[ha.fa]]`).
#[derive(Clone, PartialEq, Eq)]
pub struct FaPeer {
    /// Unique name.
    pub name: String,
    /// Its address: the IP source of its requests (its care-of address).
    pub addr: Ipv4Addr,
    /// FA-HA Security Parameter Index, 256 and above.
    pub spi: u32,
    /// The shared key, 16 to 64 octets.
    pub key: Vec<u8>,
    /// The authenticator algorithm.
    pub algorithm: AuthAlgorithm,
    /// It may send proxy registrations (RFC 5563); otherwise they get code
    /// 150 (PMIP_DISALLOWED).
    pub proxy: bool,
}

impl std::fmt::Debug for FaPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaPeer")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .field("spi", &self.spi)
            .field("key", &"<redacted>")
            .field("algorithm", &self.algorithm)
            .field("proxy", &self.proxy)
            .finish()
    }
}

/// `[ha]`: present = the Mobile IPv4 home agent role is on (RFC 5944 with
/// RFC 3024, 3519, 3543, 4433, 5454, 5563, 6245; PROTOCOLS.md sections
/// 8-10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaConfig {
    /// Our home agent address: an IPv4 address of a core port, put in the
    /// Home Agent field of replies and used as the tunnel source.
    pub address: Ipv4Addr,
    /// Longest registration lifetime granted, 1..=65534 s (a request for
    /// more, or for 65535 = infinite, gets this).
    pub max_lifetime: Duration,
    /// How far a request's Identification timestamp may be from our clock
    /// (RFC 5944 section 5.7: SHOULD be more than 3 s), 1..=300 s.
    pub replay_tolerance: Duration,
    /// Reverse tunnelling (T flag).
    pub reverse_tunnel: ReverseTunnelPolicy,
    /// GRE encapsulation (G flag and the RFC 6245 GRE Key extension)
    /// supported; otherwise code 139.
    pub gre: bool,
    /// RFC 3519 UDP tunnelling for mobile nodes behind a NAT; otherwise a
    /// NATed request asking for it gets code 129.
    pub udp_tunnel: bool,
    /// Accept F = 1 (UDP tunnelling although no NAT is seen); otherwise
    /// code 129.
    pub udp_tunnel_force: bool,
    /// Keepalive interval in UDP Tunnel Replies, seconds; 0 = the RFC 3519
    /// default (110 s).
    pub udp_keepalive_s: u16,
    /// RFC 3543 registration revocation supported (Revocation Support
    /// extension answered, revocations sent).
    pub revocation: bool,
    /// RFC 4433: a dynamic-HA request that this home agent cannot serve
    /// (binding limit reached) is redirected here with code 143; `None` =
    /// code 130.
    pub redirect_to: Option<Ipv4Addr>,
    /// RFC 5563 proxy registrations accepted; otherwise code 149.
    pub pmip4: bool,
    /// RFC 5454 IPv6 Prefix Requests answered (prefixes from `pools.hnp`).
    pub dsmip4: bool,
    /// draft-ietf-mip4-dsmipv4-01 compatibility mode: the private
    /// extension type number draft peers use (PROTOCOLS.md §9.3); `None`:
    /// off.
    pub dsmip4_draft01_type: Option<u8>,
    /// Most bindings at once; a new one beyond gets code 130 (or 143).
    pub max_bindings: u32,
    /// Indexes into [`PoolsConfig::ipv4`] of the subnets home addresses are
    /// allocated from; every subnet when the file lists none.
    pub ipv4_pools: Vec<usize>,
    /// MN-HA security associations, in file order; (NAI, SPI) unique.
    pub mobile_nodes: Vec<MnSecurityAssociation>,
    /// Foreign agents and proxy mobility agents, in file order; names and
    /// addresses unique.
    pub foreign_agents: Vec<FaPeer>,
}

impl HaConfig {
    /// Default lifetime cap.
    pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(1_800);
    /// Default Identification tolerance (RFC 5944 section 5.7 suggests 7 s).
    pub const DEFAULT_REPLAY_TOLERANCE: Duration = Duration::from_secs(7);
    /// Largest lifetime ever granted: 65535 would mean infinite.
    pub const MAX_LIFETIME_S: u32 = 65_534;
    /// Default binding limit.
    pub const DEFAULT_MAX_BINDINGS: u32 = 1_000_000;

    /// The MN-HA security associations of `mn_id`.
    pub fn mn_sas<'a>(&'a self, mn_id: &'a str) -> impl Iterator<Item = &'a MnSecurityAssociation> + 'a {
        self.mobile_nodes.iter().filter(move |s| s.mn_id == mn_id)
    }

    /// The foreign agent whose address is `addr`.
    pub fn fa(&self, addr: Ipv4Addr) -> Option<&FaPeer> {
        self.foreign_agents.iter().find(|f| f.addr == addr)
    }
}

impl Default for HaConfig {
    /// The defaults, with the unspecified address and no peer (a valid
    /// `[ha]` has an address).
    fn default() -> Self {
        HaConfig {
            address: Ipv4Addr::UNSPECIFIED,
            max_lifetime: Self::DEFAULT_MAX_LIFETIME,
            replay_tolerance: Self::DEFAULT_REPLAY_TOLERANCE,
            reverse_tunnel: ReverseTunnelPolicy::Supported,
            gre: true,
            udp_tunnel: true,
            udp_tunnel_force: true,
            udp_keepalive_s: 110,
            revocation: true,
            redirect_to: None,
            pmip4: true,
            dsmip4: true,
            dsmip4_draft01_type: None,
            max_bindings: Self::DEFAULT_MAX_BINDINGS,
            ipv4_pools: Vec::new(),
            mobile_nodes: Vec::new(),
            foreign_agents: Vec::new(),
        }
    }
}

/// One IPv4 home subnet (`[[pools.ipv4]]`), in the default realm (VRF 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Pool {
    /// The home subnet (host bits zero, /1../30); its prefix length is the
    /// one the IPv4 HoA Reply carries.
    pub subnet: Ipv4Cidr,
    /// The mobile nodes' default router, inside the subnet; never allocated.
    pub default_router: Ipv4Addr,
    /// Addresses of the subnet never allocated dynamically: the ones the file
    /// lists, then (auto-excluded) every profile's `static_ipv4_hoa` and
    /// every VRF 0 static binding's `ipv4_hoa` inside the subnet; no
    /// duplicates.
    pub exclude: Vec<Ipv4Addr>,
}

impl Ipv4Pool {
    /// Whether `addr` may be allocated dynamically: inside the subnet, not
    /// its network or broadcast address, not the default router, not
    /// excluded.
    pub fn is_dynamic(&self, addr: Ipv4Addr) -> bool {
        self.subnet.contains(addr)
            && addr != self.subnet.addr
            && addr != self.subnet.broadcast()
            && addr != self.default_router
            && !self.exclude.contains(&addr)
    }
}

/// `[pools]`: what the LMA (and later roles) allocate home addresses from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolsConfig {
    /// Aggregates (host bits zero, shorter than /64, not overlapping) from
    /// which /64 home network prefixes are allocated, skipping
    /// [`Config::reserved_hnps`].
    pub hnp: Vec<Ipv6Cidr>,
    /// IPv4 home subnets, not overlapping.
    pub ipv4: Vec<Ipv4Pool>,
}

/// Policy for one mobile node (`[[profiles.mn]]`) or for every unlisted one
/// (`[profiles.default]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The NAI; `""` for the default profile.
    pub mn_id: String,
    /// Network-based mobility (PMIPv6) enabled; false → status 152.
    pub pmip6: bool,
    /// Mobile IPv4 home agent service (MIPv4, DSMIPv4, PMIPv4) enabled;
    /// false → Registration Reply code 129.
    pub mip4: bool,
    /// IPv4 home address service allowed (false → status 170).
    pub ipv4: bool,
    /// IPv6 home network prefix service allowed (false → status 172).
    pub ipv6: bool,
    /// The only IPv4 HoA this MN gets; inside a `pools.ipv4` subnet and
    /// excluded from dynamic allocation there (automatically).
    pub static_ipv4_hoa: Option<Ipv4Addr>,
    /// The /64 this MN gets, inside a `pools.hnp` aggregate and reserved for
    /// it (see [`Config::reserved_hnps`]).
    pub static_hnp: Option<Ipv6Cidr>,
    /// Lifetime cap for this MN, at most `lma.max_lifetime`, a multiple of
    /// 4 s; `None` = the LMA's cap.
    pub max_lifetime: Option<Duration>,
    /// Its sessions must use GRE (a PBU without a GRE Key option gets status
    /// 163), whatever `lma.gre` says (which must not be `disabled`).
    pub gre_required: bool,
    /// Names of `[[lma.mag]]` entries allowed to register this MN (others get
    /// status 154); empty = every listed MAG.
    pub mags: Vec<String>,
}

impl Profile {
    /// Whether the MAG called `name` may register this mobile node.
    pub fn allows_mag(&self, name: &str) -> bool {
        self.mags.is_empty() || self.mags.iter().any(|m| m == name)
    }
}

impl Default for Profile {
    /// The default profile's defaults: PMIPv6 with both families, nothing
    /// static, every MAG.
    fn default() -> Self {
        Profile {
            mn_id: String::new(),
            pmip6: true,
            mip4: true,
            ipv4: true,
            ipv6: true,
            static_ipv4_hoa: None,
            static_hnp: None,
            max_lifetime: None,
            gre_required: false,
            mags: Vec::new(),
        }
    }
}

/// `[profiles]`: mobile-node policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfilesConfig {
    /// Applies to NAIs not listed; `None` = an unknown MN-ID gets status 153
    /// NOT_LMA_FOR_THIS_MOBILE_NODE.
    pub default: Option<Profile>,
    /// One per listed NAI (unique), in file order.
    pub mobile_nodes: Vec<Profile>,
}

impl ProfilesConfig {
    /// The profile for `mn_id`: its own, else the default one, else `None`.
    pub fn lookup(&self, mn_id: &str) -> Option<&Profile> {
        self.mobile_nodes.iter().find(|p| p.mn_id == mn_id).or(self.default.as_ref())
    }
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
            metrics: MetricsConfig::default(),
            store: StoreConfig::default(),
            overload: OverloadConfig::default(),
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
                    home_link: false,
                })
                .collect(),
            routes: Vec::new(),
            tunnel: TunnelConfig::default(),
            bindings: Vec::new(),
            lma: None,
            ha: None,
            dsmip6: None,
            pools: PoolsConfig::default(),
            profiles: ProfilesConfig::default(),
        }
    }

    #[test]
    fn eal_args_put_generated_arguments_first_and_user_arguments_last() {
        let c = config("0-1", &[2, 3], &[PortDevice::Pci("0000:3b:02.1".into()), PortDevice::Vdev("net_ring0".into())]);
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
        assert_eq!(PortDevice::Pci("0000:3b:02.1".into()).dpdk_name(), "0000:3b:02.1");
        assert_eq!(PortDevice::Vdev("net_af_packet0,iface=lma-core,qpairs=2".into()).dpdk_name(), "net_af_packet0");
        assert_eq!(PortDevice::Vdev("net_null0".into()).dpdk_name(), "net_null0");
    }

    #[test]
    fn port_index_finds_ports_by_name_and_workers_counts_worker_cpus() {
        let c = config("0", &[1, 2, 3], &[PortDevice::Vdev("net_null0".into()), PortDevice::Vdev("net_null1".into())]);
        assert_eq!(c.port_index("p1"), Some(1));
        assert_eq!(c.port_index("p2"), None);
        assert_eq!(c.workers(), 3);
    }

    #[test]
    fn tunnel_path_mtu_is_the_configured_mtu_capped_by_the_port() {
        let c = config("0", &[1], &[PortDevice::Vdev("net_null0".into())]);
        let mut t = TunnelConfig::default();
        assert_eq!(t.path_mtu(&c.ports[0]), 1500);
        t.mtu = Some(1400);
        assert_eq!(t.path_mtu(&c.ports[0]), 1400);
        t.mtu = Some(9000);
        assert_eq!(t.path_mtu(&c.ports[0]), 1500);
    }

    #[test]
    fn tunnel_mode_names_match_the_config_file_and_key_in_is_the_uplink_key() {
        let gre = TunnelMode::Gre { key_in: Some(100), key_out: Some(200) };
        let tlv = TunnelMode::UdpTlv { peer_port: 5437, local_port: 5437, key_in: 7, key_out: 8 };
        assert_eq!(gre.name(), "gre");
        assert_eq!(tlv.name(), "udp-tlv");
        assert_eq!(TunnelMode::IpIp.name(), "ipip");
        assert_eq!(TunnelMode::MipUdp { peer_port: 1 }.name(), "mip-udp");
        assert_eq!(gre.key_in(), Some(100));
        assert_eq!(tlv.key_in(), Some(7));
        assert_eq!(TunnelMode::IpIp.key_in(), None);
        assert_eq!(EcnMode::default().name(), "normal");
    }
}

/// `[dsmip6]`: the DSMIPv6 home agent role (RFC 6275 home registration,
/// RFC 5555 IPv4 support and NAT traversal, RFC 4285 authentication;
/// PROTOCOLS.md §11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsmip6Config {
    /// Our IPv6 home agent address, on a core port: the Binding Updates'
    /// destination and the tunnels' local end towards IPv6 care-of
    /// addresses.
    pub address: Ipv6Addr,
    /// Our IPv4 address, on a core port, for mobile nodes in IPv4-only
    /// networks (Binding Updates in UDP 4191, tunnels to IPv4 care-of
    /// addresses).
    pub ipv4_address: Ipv4Addr,
    /// Longest lifetime granted.
    pub max_lifetime: Duration,
    /// NAT Detection refresh time (NATKATIMEOUT), seconds.
    pub nat_keepalive_s: u32,
    /// Binding Updates with F = 1 (UDP encapsulation forced) accepted;
    /// otherwise status 129.
    pub udp_forcing: bool,
    /// MESG-ID timestamp tolerance (RFC 4285).
    pub replay_tolerance: Duration,
    /// A Binding Update without a MESG-ID option is refused (145).
    pub require_mesg_id: bool,
    /// Indexes into [`PoolsConfig::ipv4`] that IPv4 home addresses of 0.0.0.0
    /// requests come from; every pool when the file lists none.
    pub ipv4_pools: Vec<usize>,
    /// The mobile nodes served, in file order.
    pub mobile_nodes: Vec<Dsmip6Mn>,
}

impl Dsmip6Config {
    /// Default longest lifetime (RFC 6275 leaves it to the home agent).
    pub const DEFAULT_MAX_LIFETIME_S: u32 = 3600;
    /// RFC 5555 §4.1 NATKATIMEOUT.
    pub const DEFAULT_NAT_KEEPALIVE_S: u32 = 110;
}

/// One `[[dsmip6.mn]]`: a mobile node's RFC 4285 MN-HA security
/// association and home addresses.
#[derive(Clone, PartialEq, Eq)]
pub struct Dsmip6Mn {
    /// Its NAI when it sends a Mobile Node Identifier option.
    pub mn_id: Option<String>,
    /// Its IPv6 home address.
    pub home_address: Ipv6Addr,
    /// A static IPv4 home address; `None`: one from the pools when it asks
    /// with 0.0.0.0.
    pub ipv4_home_address: Option<Ipv4Addr>,
    /// Mobility SPI (RFC 4285; 256 and above).
    pub spi: u32,
    /// The HMAC-SHA1 key.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for Dsmip6Mn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dsmip6Mn")
            .field("mn_id", &self.mn_id)
            .field("home_address", &self.home_address)
            .field("ipv4_home_address", &self.ipv4_home_address)
            .field("spi", &self.spi)
            .field("key", &"<redacted>")
            .finish()
    }
}
