//! The TOML schema as serde sees it. Private: `validate::validate` is the
//! only way from these types to [`crate::Config`].
//!
//! Values that need a rule with a good message (addresses, devices, roles)
//! are kept as strings here and checked in `validate.rs`; serde/toml report
//! unknown keys, wrong types and out-of-range integers with line and column.

use std::path::PathBuf;

use serde::Deserialize;

use crate::model::{
    AuthAlgorithm, CliConfig, DataplaneConfig, EalConfig, GrePolicy, HaConfig, LmaConfig, LogConfig, NeighborConfig,
    OverloadConfig, PeerFailureAction, PortConfig, Profile, StoreConfig, TunnelConfig,
};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    /// `[eal]`: DPDK EAL cores, file prefix and extra arguments.
    #[serde(default)]
    pub eal: RawEal,
    /// `[log]`: log level / filter.
    #[serde(default)]
    pub log: RawLog,
    /// `[cli]`: operator socket.
    #[serde(default)]
    pub cli: RawCli,
    /// `[metrics]`: the Prometheus text endpoint; absent or empty = off.
    #[serde(default)]
    pub metrics: RawMetrics,
    /// `[store]`: the durable session store; absent = on with defaults.
    #[serde(default)]
    pub store: RawStore,
    /// `[overload]`: per-peer signalling rate limits and control-loop
    /// budgets; absent = the defaults.
    #[serde(default)]
    pub overload: RawOverload,
    /// `[dataplane]`: burst, ring and pool sizes, idle back-off.
    #[serde(default)]
    pub dataplane: RawDataplane,
    /// `[neighbor]`: ARP / ND timers.
    #[serde(default)]
    pub neighbor: RawNeighbor,
    /// `[[port]]`: one table per DPDK port; at least one is required (checked
    /// in validation so the message says so).
    #[serde(default)]
    pub port: Vec<RawPort>,
    /// `[[route]]`: static routes.
    #[serde(default)]
    pub route: Vec<RawRoute>,
    /// `[tunnel]`: outer TTL, ECN mode, tunnel MTUs, forwarding-table size.
    #[serde(default)]
    pub tunnel: RawTunnel,
    /// `[[binding]]`: static bindings (fixed tunnels).
    #[serde(default)]
    pub binding: Vec<RawBinding>,
    /// `[lma]`: the PMIPv6 LMA role; absent = off.
    pub lma: Option<RawLma>,
    /// `[ha]`: the Mobile IPv4 home agent role (MIPv4, DSMIPv4, PMIPv4);
    /// absent = off.
    pub ha: Option<RawHa>,
    /// `[dsmip6]`: the DSMIPv6 home agent role; absent = off.
    pub dsmip6: Option<RawDsmip6>,
    /// `[pools]`: dynamic home address and prefix pools.
    #[serde(default)]
    pub pools: RawPools,
    /// `[profiles]`: mobile-node policy.
    #[serde(default)]
    pub profiles: RawProfiles,
}

/// `[eal]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawEal {
    /// Extra EAL arguments appended after the generated ones.
    pub args: Vec<String>,
    /// `--file-prefix` value.
    pub file_prefix: String,
    /// CPU list for the control lcore, e.g. `"0-1"` or `"0,2"`.
    pub control_cpus: String,
    /// One worker lcore per CPU listed.
    pub worker_cpus: Vec<u16>,
}

impl Default for RawEal {
    fn default() -> Self {
        let d = EalConfig::default();
        RawEal { args: d.args, file_prefix: d.file_prefix, control_cpus: d.control_cpus, worker_cpus: d.worker_cpus }
    }
}

/// `[log]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawLog {
    /// Level name or EnvFilter-style directive list.
    pub level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog { level: LogConfig::default().level }
    }
}

/// `[cli]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawCli {
    /// Path of the unix socket `anchorctl` talks to.
    pub socket: PathBuf,
}

impl Default for RawCli {
    fn default() -> Self {
        RawCli { socket: CliConfig::default().socket }
    }
}

/// `[metrics]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawMetrics {
    /// `address:port` the Prometheus endpoint listens on; empty = off.
    pub listen: String,
}

/// `[overload]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawOverload {
    pub peer_rate: u32,
    pub peer_burst: u32,
    pub punts_per_pass: u32,
    pub signalling_per_pass: u32,
    pub signalling_backlog: u32,
}

impl Default for RawOverload {
    fn default() -> Self {
        let d = OverloadConfig::default();
        RawOverload {
            peer_rate: d.peer_rate,
            peer_burst: d.peer_burst,
            punts_per_pass: d.punts_per_pass,
            signalling_per_pass: d.signalling_per_pass,
            signalling_backlog: d.signalling_backlog,
        }
    }
}

/// `[store]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawStore {
    /// Database file; empty = no store.
    pub path: PathBuf,
    /// Replies wait for their change to be durable.
    pub sync_replies: bool,
    /// Longest wait before changes are committed, in milliseconds.
    pub batch_interval_ms: u32,
}

impl Default for RawStore {
    fn default() -> Self {
        let d = StoreConfig::default();
        RawStore {
            path: d.path.unwrap_or_default(),
            sync_replies: d.sync_replies,
            batch_interval_ms: u32::try_from(d.batch_interval.as_millis()).unwrap_or(u32::MAX),
        }
    }
}

/// `[dataplane]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawDataplane {
    /// Packets per RX/TX burst.
    pub burst_size: u16,
    /// RX descriptors per queue.
    pub rx_ring_size: u16,
    /// TX descriptors per queue.
    pub tx_ring_size: u16,
    /// Mbufs per NUMA socket pool.
    pub mbufs_per_socket: u32,
    /// Per-lcore mempool cache size.
    pub mbuf_cache: u32,
    /// Slots of each worker's punt ring.
    pub punt_ring_size: u32,
    /// Microseconds a worker sleeps after an empty poll round; 0 = busy poll.
    pub idle_backoff_us: u32,
}

impl Default for RawDataplane {
    fn default() -> Self {
        let d = DataplaneConfig::default();
        RawDataplane {
            burst_size: d.burst_size,
            rx_ring_size: d.rx_ring_size,
            tx_ring_size: d.tx_ring_size,
            mbufs_per_socket: d.mbufs_per_socket,
            mbuf_cache: d.mbuf_cache,
            punt_ring_size: d.punt_ring_size,
            idle_backoff_us: d.idle_backoff_us,
        }
    }
}

/// `[neighbor]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawNeighbor {
    /// Milliseconds between ARP requests / neighbour solicitations.
    pub retry_interval_ms: u32,
    /// Solicitations before giving up on a neighbour.
    pub max_retries: u32,
    /// Seconds a resolved neighbour stays valid.
    pub reachable_s: u32,
}

impl Default for RawNeighbor {
    fn default() -> Self {
        let d = NeighborConfig::default();
        RawNeighbor { retry_interval_ms: d.retry_interval_ms, max_retries: d.max_retries, reachable_s: d.reachable_s }
    }
}

/// One `[[port]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPort {
    /// Unique port name.
    pub name: String,
    /// `"core"` or `"home"`.
    pub role: String,
    /// PCI address or vdev string.
    pub device: String,
    /// IPv4 interface addresses, `address/prefix_len`.
    #[serde(default)]
    pub ipv4: Vec<String>,
    /// IPv6 interface addresses, `address/prefix_len`.
    #[serde(default)]
    pub ipv6: Vec<String>,
    /// IP MTU.
    #[serde(default = "default_mtu")]
    pub mtu: u16,
    /// The mobile nodes' home link (role "home" only): home addresses may
    /// lie on its subnets and the anchor answers ARP / ND for them.
    #[serde(default)]
    pub home_link: bool,
}

fn default_mtu() -> u16 {
    PortConfig::DEFAULT_MTU
}

/// One `[[route]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    /// Destination network, `address/prefix_len` with host bits zero.
    pub prefix: String,
    /// Next-hop address.
    pub via: String,
    /// Name of the port the next hop is on.
    pub port: String,
}

/// `[tunnel]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawTunnel {
    /// Outer IPv4 TTL / IPv6 Hop Limit. Wider than the typed `u8` so that 0
    /// and 256 get the same range message.
    pub ttl: u32,
    /// `"normal"` or `"compat"` (RFC 6040).
    pub ecn: String,
    /// Path MTU towards peers; `None` = the egress port's MTU.
    pub mtu: Option<u16>,
    /// RFC 4213 static MTU of IPv6-over-IPv4 tunnels.
    pub ipv6_over_ipv4_mtu: u16,
    /// Forwarding-table entries.
    pub fib_capacity: u32,
}

impl Default for RawTunnel {
    fn default() -> Self {
        let d = TunnelConfig::default();
        RawTunnel {
            ttl: u32::from(d.ttl),
            ecn: d.ecn.name().to_owned(),
            mtu: d.mtu,
            ipv6_over_ipv4_mtu: d.ipv6_over_ipv4_mtu,
            fib_capacity: d.fib_capacity,
        }
    }
}

/// One `[[binding]]` table. Which keys go together depends on `tunnel`;
/// validation checks that.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBinding {
    /// Mobile node identifier (NAI); default `binding-<index>`.
    pub mn_id: Option<String>,
    /// Routing realm of the addresses.
    #[serde(default)]
    pub vrf: u16,
    /// IPv4 home address.
    pub ipv4_hoa: Option<String>,
    /// IPv6 home network prefixes, each a /64.
    #[serde(default)]
    pub hnps: Vec<String>,
    /// IPv6 home address.
    pub ipv6_hoa: Option<String>,
    /// The peer's tunnel address.
    pub endpoint: String,
    /// Our tunnel address; default: the first of its family on a core port.
    pub local: Option<String>,
    /// `"ipip"`, `"gre"`, `"udp"`, `"udp-tlv"` or `"mip-udp"`.
    pub tunnel: String,
    /// GRE key the peer puts in packets to us (uplink).
    pub gre_key_in: Option<u32>,
    /// GRE key we put in packets to the peer (downlink).
    pub gre_key_out: Option<u32>,
    /// The peer's UDP port.
    pub udp_port: Option<u16>,
    /// Our UDP port (`udp`, `udp-tlv`).
    pub local_udp_port: Option<u16>,
    /// Fixed outer DSCP; absent = copy the inner one.
    pub dscp: Option<u8>,
    /// Name of the egress port; default from the endpoint.
    pub port: Option<String>,
}

/// Milliseconds of a duration that fits (the defaults all do).
fn millis(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// Seconds of a duration that fits (the defaults all do).
fn secs(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// `[lma]`. Timers are integers in the unit their name ends with.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawLma {
    /// Our IPv6 LMA address.
    pub lmaa: Option<String>,
    /// Our IPv4 LMA address (RFC 5844).
    pub ipv4_lmaa: Option<String>,
    /// MinDelayBeforeBCEDelete.
    pub min_delay_before_bce_delete_ms: u32,
    /// MaxDelayBeforeNewBCEAssign; 0 = no wait.
    pub max_delay_before_new_bce_assign_ms: u32,
    /// TimestampValidityWindow.
    pub timestamp_validity_window_ms: u32,
    /// MobileNodeGeneratedTimestampInUse.
    pub mn_generated_timestamp: bool,
    /// Lifetime cap granted by the LMA.
    pub max_lifetime_s: u32,
    /// AcceptForcedIPv4UDPEncapsulationRequest.
    pub accept_forced_udp: bool,
    /// RFC 5845 TLV header mode supported.
    pub tlv_supported: bool,
    /// `"supported"`, `"required"` or `"disabled"`.
    pub gre: String,
    /// HEARTBEAT_INTERVAL; 0 = send no heartbeats.
    pub heartbeat_interval_s: u32,
    /// MISSING_HEARTBEATS_ALLOWED.
    pub missing_heartbeats_allowed: u32,
    /// `"keep"` or `"remove"`.
    pub on_peer_failure: String,
    /// BRIMaxRetriesNumber.
    pub bri_max_retries: u32,
    /// InitMINDelayBRIs.
    pub bri_initial_delay_ms: u32,
    /// Session limit.
    pub max_sessions: u32,
    /// Shadow BCE timeout (extended home link draft).
    pub shadow_timeout_s: u32,
    /// `[[lma.mag]]`: the MAG allow-list.
    pub mag: Vec<RawMag>,
}

impl Default for RawLma {
    fn default() -> Self {
        let d = LmaConfig::default();
        RawLma {
            lmaa: None,
            ipv4_lmaa: None,
            min_delay_before_bce_delete_ms: millis(d.min_delay_before_bce_delete),
            max_delay_before_new_bce_assign_ms: millis(d.max_delay_before_new_bce_assign),
            timestamp_validity_window_ms: millis(d.timestamp_validity_window),
            mn_generated_timestamp: d.mn_generated_timestamp,
            max_lifetime_s: secs(d.max_lifetime),
            accept_forced_udp: d.accept_forced_udp,
            tlv_supported: d.tlv_supported,
            gre: GrePolicy::default().name().to_owned(),
            heartbeat_interval_s: d.heartbeat_interval.map_or(0, secs),
            missing_heartbeats_allowed: d.missing_heartbeats_allowed,
            on_peer_failure: PeerFailureAction::default().name().to_owned(),
            bri_max_retries: d.bri_max_retries,
            bri_initial_delay_ms: millis(d.bri_initial_delay),
            max_sessions: d.max_sessions,
            shadow_timeout_s: secs(d.shadow_timeout),
            mag: Vec::new(),
        }
    }
}

/// One `[[lma.mag]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMag {
    /// Unique name.
    pub name: String,
    /// Its Proxy-CoA (IPv6 or IPv4).
    pub address: String,
    /// `"timestamp"` (default) or `"sequence"`.
    pub ordering: Option<String>,
}

/// `[pools]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawPools {
    /// IPv6 aggregates the /64 home network prefixes come from.
    pub hnp: Vec<String>,
    /// `[[pools.ipv4]]`: IPv4 home subnets.
    pub ipv4: Vec<RawIpv4Pool>,
}

/// `[ha]`. Durations are integers in the unit their name ends with.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawHa {
    /// Our home agent address (IPv4, on a core port); required.
    pub address: Option<String>,
    /// Longest registration lifetime granted.
    pub max_lifetime_s: u32,
    /// Identification timestamp tolerance.
    pub replay_tolerance_s: u32,
    /// `"supported"`, `"required"` or `"disabled"` (RFC 3024).
    pub reverse_tunnel: String,
    /// GRE encapsulation (G flag, RFC 6245 GRE Key extension) supported.
    pub gre: bool,
    /// RFC 3519 UDP tunnelling for mobile nodes behind NAT.
    pub udp_tunnel: bool,
    /// Accept F = 1 (UDP tunnelling without a NAT).
    pub udp_tunnel_force: bool,
    /// Keepalive interval put in UDP Tunnel Replies.
    pub udp_keepalive_s: u16,
    /// RFC 3543 registration revocation.
    pub revocation: bool,
    /// RFC 4433: the home agent named in REDIRECT-HA-REQ (143) replies.
    pub redirect_to: Option<String>,
    /// RFC 5563 proxy registrations accepted.
    pub pmip4: bool,
    /// RFC 5454 IPv6 prefixes over the IPv4 registration.
    pub dsmip4: bool,
    /// draft-ietf-mip4-dsmipv4-01 compatibility: its private type number.
    pub dsmip4_draft01_type: Option<u32>,
    /// Binding limit.
    pub max_bindings: u32,
    /// `[[pools.ipv4]]` subnets the home addresses come from; [] = all.
    pub ipv4_pools: Vec<String>,
    /// `[[ha.mn]]`: MN-HA mobility security associations.
    pub mn: Vec<RawMnSa>,
    /// `[[ha.fa]]`: foreign agents / proxy mobility agents.
    pub fa: Vec<RawFaPeer>,
}

impl Default for RawHa {
    fn default() -> Self {
        let d = HaConfig::default();
        RawHa {
            address: None,
            max_lifetime_s: secs(d.max_lifetime),
            replay_tolerance_s: secs(d.replay_tolerance),
            reverse_tunnel: d.reverse_tunnel.name().to_owned(),
            gre: d.gre,
            udp_tunnel: d.udp_tunnel,
            udp_tunnel_force: d.udp_tunnel_force,
            udp_keepalive_s: d.udp_keepalive_s,
            revocation: d.revocation,
            redirect_to: None,
            pmip4: d.pmip4,
            dsmip4: d.dsmip4,
            dsmip4_draft01_type: None,
            max_bindings: d.max_bindings,
            ipv4_pools: Vec::new(),
            mn: Vec::new(),
            fa: Vec::new(),
        }
    }
}

/// One `[[ha.mn]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMnSa {
    /// The mobile node's NAI.
    pub mn_id: String,
    /// Security Parameter Index (256 and above).
    pub spi: u32,
    /// Shared key, hex.
    pub key: String,
    /// `"hmac-md5"` (default) or `"prefix-suffix-md5"`.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
}

/// One `[[ha.fa]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFaPeer {
    /// Unique name.
    pub name: String,
    /// Its address: the source (and care-of address) of its requests.
    pub address: String,
    /// FA-HA Security Parameter Index (256 and above).
    pub spi: u32,
    /// Shared key, hex.
    pub key: String,
    /// `"hmac-md5"` (default) or `"prefix-suffix-md5"`.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// Proxy registrations (PMIPv4) from it allowed.
    #[serde(default)]
    pub proxy: bool,
}

fn default_algorithm() -> String {
    AuthAlgorithm::default().name().to_owned()
}

/// One `[[pools.ipv4]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIpv4Pool {
    /// The subnet, `address/prefix_len` with host bits zero.
    pub subnet: String,
    /// The mobile nodes' default router inside it.
    pub default_router: String,
    /// Addresses never allocated dynamically.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// `[profiles]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawProfiles {
    /// `[profiles.default]`: policy for unlisted NAIs; absent = reject them.
    pub default: Option<RawDefaultProfile>,
    /// `[[profiles.mn]]`: one per listed NAI.
    pub mn: Vec<RawProfile>,
}

/// `[profiles.default]`: the keys of a profile that are not about one mobile
/// node (no NAI, no static address).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawDefaultProfile {
    /// Network-based mobility enabled.
    pub pmip6: bool,
    /// Mobile IPv4 home agent service enabled.
    pub mip4: bool,
    /// IPv4 home address service allowed.
    pub ipv4: bool,
    /// IPv6 home network prefix service allowed.
    pub ipv6: bool,
    /// Lifetime cap.
    pub max_lifetime_s: Option<u32>,
    /// Sessions must use GRE.
    pub gre_required: bool,
    /// Names of `[[lma.mag]]` entries allowed to register unlisted MNs.
    pub mags: Vec<String>,
}

impl Default for RawDefaultProfile {
    fn default() -> Self {
        let d = Profile::default();
        RawDefaultProfile {
            pmip6: d.pmip6,
            mip4: d.mip4,
            ipv4: d.ipv4,
            ipv6: d.ipv6,
            max_lifetime_s: None,
            gre_required: d.gre_required,
            mags: Vec::new(),
        }
    }
}

impl From<RawDefaultProfile> for RawProfile {
    fn from(d: RawDefaultProfile) -> Self {
        RawProfile {
            mn_id: None,
            pmip6: d.pmip6,
            mip4: d.mip4,
            ipv4: d.ipv4,
            ipv6: d.ipv6,
            static_ipv4_hoa: None,
            static_hnp: None,
            max_lifetime_s: d.max_lifetime_s,
            gre_required: d.gre_required,
            mags: d.mags,
        }
    }
}

/// One `[[profiles.mn]]` table.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawProfile {
    /// The NAI; required (checked in validation so the message says so).
    pub mn_id: Option<String>,
    /// Network-based mobility enabled.
    pub pmip6: bool,
    /// Mobile IPv4 home agent service enabled.
    pub mip4: bool,
    /// IPv4 home address service allowed.
    pub ipv4: bool,
    /// IPv6 home network prefix service allowed.
    pub ipv6: bool,
    /// Static IPv4 home address.
    pub static_ipv4_hoa: Option<String>,
    /// Static /64 home network prefix.
    pub static_hnp: Option<String>,
    /// Per-MN lifetime cap.
    pub max_lifetime_s: Option<u32>,
    /// Sessions must use GRE.
    pub gre_required: bool,
    /// Names of `[[lma.mag]]` entries allowed to register the MN.
    pub mags: Vec<String>,
}

impl Default for RawProfile {
    fn default() -> Self {
        let d = Profile::default();
        RawProfile {
            mn_id: None,
            pmip6: d.pmip6,
            mip4: d.mip4,
            ipv4: d.ipv4,
            ipv6: d.ipv6,
            static_ipv4_hoa: None,
            static_hnp: None,
            max_lifetime_s: None,
            gre_required: d.gre_required,
            mags: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_every_section_its_default() {
        let raw: RawConfig = toml::from_str("").unwrap();
        assert_eq!(raw.eal.worker_cpus, [1]);
        assert_eq!(raw.log.level, "info");
        assert_eq!(raw.dataplane.burst_size, 32);
        assert_eq!(raw.neighbor.max_retries, 3);
        assert!(raw.port.is_empty());
        assert!(raw.route.is_empty());
        assert!(raw.binding.is_empty());
        assert_eq!(raw.tunnel.ttl, 64);
        assert_eq!(raw.tunnel.ecn, "normal");
        assert_eq!(raw.tunnel.mtu, None);
        assert!(raw.lma.is_none());
        assert!(raw.pools.hnp.is_empty() && raw.pools.ipv4.is_empty());
        assert!(raw.profiles.default.is_none() && raw.profiles.mn.is_empty());
    }

    #[test]
    fn an_lma_section_with_only_addresses_gets_the_standards_timers() {
        let raw: RawConfig = toml::from_str("[lma]\nlmaa = \"2001:db8::1\"\n").unwrap();
        let lma = raw.lma.unwrap();
        assert_eq!(lma.min_delay_before_bce_delete_ms, 10_000);
        assert_eq!(lma.max_delay_before_new_bce_assign_ms, 1_500);
        assert_eq!(lma.timestamp_validity_window_ms, 300);
        assert_eq!(lma.max_lifetime_s, 3_600);
        assert_eq!(lma.heartbeat_interval_s, 60);
        assert_eq!(lma.bri_initial_delay_ms, 1_000);
        assert_eq!(lma.gre, "supported");
        assert_eq!(lma.on_peer_failure, "keep");
        assert!(lma.tlv_supported && !lma.accept_forced_udp && !lma.mn_generated_timestamp);
        assert!(lma.mag.is_empty());
    }

    #[test]
    fn a_profile_allows_pmip6_and_both_families_unless_told_otherwise() {
        let raw: RawConfig = toml::from_str("[[profiles.mn]]\nmn_id = \"a@b\"\nipv6 = false\n").unwrap();
        let p = &raw.profiles.mn[0];
        assert!(p.pmip6 && p.ipv4 && !p.ipv6 && !p.gre_required);
        assert!(p.mags.is_empty() && p.static_ipv4_hoa.is_none() && p.max_lifetime_s.is_none());
    }

    #[test]
    fn unknown_key_in_a_mag_or_profile_is_a_toml_error_naming_the_key() {
        let err = toml::from_str::<RawConfig>("[[lma.mag]]\nname = \"m\"\naddress = \"::1\"\nkey = 1\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `key`"), "{err}");
        let err = toml::from_str::<RawConfig>("[profiles.default]\nipv5 = true\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `ipv5`"), "{err}");
    }

    #[test]
    fn the_default_profile_has_no_mn_id_and_no_static_addresses() {
        for key in ["mn_id = \"a@b\"", "static_ipv4_hoa = \"203.0.113.9\"", "static_hnp = \"2001:db8::/64\""] {
            let err = toml::from_str::<RawConfig>(&format!("[profiles.default]\n{key}\n")).unwrap_err();
            let field = key.split(' ').next().unwrap();
            assert!(err.to_string().contains(&format!("unknown field `{field}`")), "{err}");
        }
    }

    #[test]
    fn a_section_with_some_keys_keeps_defaults_for_the_others() {
        let raw: RawConfig = toml::from_str("[dataplane]\nburst_size = 8\n").unwrap();
        assert_eq!(raw.dataplane.burst_size, 8);
        assert_eq!(raw.dataplane.rx_ring_size, 1024);
        assert_eq!(raw.dataplane.mbufs_per_socket, 8191);
    }

    #[test]
    fn unknown_key_in_a_section_is_a_toml_error_naming_the_key() {
        let err = toml::from_str::<RawConfig>("[dataplane]\nburst = 8\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown field `burst`"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn port_without_device_is_a_toml_error_naming_the_key() {
        let err = toml::from_str::<RawConfig>("[[port]]\nname = \"a\"\nrole = \"core\"\n").unwrap_err();
        assert!(err.to_string().contains("missing field `device`"), "{err}");
    }

    #[test]
    fn binding_without_endpoint_or_tunnel_is_a_toml_error_naming_the_key() {
        let err = toml::from_str::<RawConfig>("[[binding]]\ntunnel = \"ipip\"\n").unwrap_err();
        assert!(err.to_string().contains("missing field `endpoint`"), "{err}");
        let err = toml::from_str::<RawConfig>("[[binding]]\nendpoint = \"192.0.2.2\"\n").unwrap_err();
        assert!(err.to_string().contains("missing field `tunnel`"), "{err}");
    }
}

/// `[dsmip6]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDsmip6 {
    /// Our IPv6 home agent address; required.
    pub address: Option<String>,
    /// Our IPv4 address for UDP 4191; default: the first IPv4 address of
    /// the port holding `address`.
    pub ipv4_address: Option<String>,
    #[serde(default = "default_dsmip6_max_lifetime")]
    pub max_lifetime_s: u32,
    #[serde(default = "default_dsmip6_nat_keepalive")]
    pub nat_keepalive_s: u32,
    #[serde(default = "default_true")]
    pub udp_forcing: bool,
    #[serde(default = "default_dsmip6_replay_tolerance")]
    pub replay_tolerance_s: u32,
    #[serde(default = "default_true")]
    pub require_mesg_id: bool,
    #[serde(default)]
    pub ipv4_pools: Vec<String>,
    #[serde(default)]
    pub mn: Vec<RawDsmip6Mn>,
}

/// One `[[dsmip6.mn]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDsmip6Mn {
    pub mn_id: Option<String>,
    pub home_address: String,
    pub ipv4_home_address: Option<String>,
    pub spi: u32,
    pub key: String,
}

fn default_dsmip6_max_lifetime() -> u32 {
    crate::model::Dsmip6Config::DEFAULT_MAX_LIFETIME_S
}

fn default_dsmip6_nat_keepalive() -> u32 {
    crate::model::Dsmip6Config::DEFAULT_NAT_KEEPALIVE_S
}

fn default_dsmip6_replay_tolerance() -> u32 {
    7
}

fn default_true() -> bool {
    true
}
