//! Neighbour resolution for next hops (ARP, RFC 826; IPv6 Neighbor
//! Discovery, RFC 4861 §7) and the answers for the anchor's own addresses
//! (ARP, NS, ICMP and ICMPv6 echo), and on a home link for the home
//! addresses the anchor proxies (proxy ARP with gratuitous ARP, proxy ND
//! with DAD: [`proxy`]).
//!
//! Pure: punted frames and the time come in, frames to send go out. The
//! control loop calls [`Neighbors::handle_frame`] per punted frame,
//! [`Neighbors::resolve`] for each wanted next hop and [`Neighbors::poll`]
//! on its timer (see [`Neighbors::next_timeout`]).

mod emit;
pub mod proxy;
mod responder;
mod table;
#[cfg(test)]
pub(crate) mod testutil;

use core::net::IpAddr;
use std::time::{Duration, Instant};

use dataplane::addrs::PortAddrs;
use dataplane::wire::MacAddr;

use proxy::ProxySet;
pub use proxy::{ProxyAdded, ProxyCounters, ProxyEntry, ProxyError, ProxyEvent, ProxyState};
use table::NeighTable;

/// Index of a port in the `ports` given to [`Neighbors::new`].
pub type PortIndex = usize;

/// Resolution timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborConfig {
    /// Time between probes of an unresolved or stale entry (RFC 4861
    /// RetransTimer).
    pub retry_interval: Duration,
    /// Unanswered probes before an entry is `Failed` (RFC 4861
    /// MAX_MULTICAST_SOLICIT / MAX_UNICAST_SOLICIT).
    pub max_retries: u32,
    /// How long a confirmed entry stays `Reachable` (RFC 4861 ReachableTime).
    pub reachable: Duration,
}

impl Default for NeighborConfig {
    /// RFC 4861 §10: RETRANS_TIMER 1 s, MAX_MULTICAST_SOLICIT 3,
    /// REACHABLE_TIME 30 s.
    fn default() -> Self {
        NeighborConfig { retry_interval: Duration::from_secs(1), max_retries: 3, reachable: Duration::from_secs(30) }
    }
}

/// Neighbour cache states (RFC 4861 §7.3.2, with DELAY/PROBE folded into
/// `Stale` and `Failed` standing for an unanswered resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeighState {
    /// Being resolved; no MAC yet.
    Incomplete,
    /// Confirmed within the reachable time.
    Reachable,
    /// MAC known but not recently confirmed; used, and re-probed while wanted.
    Stale,
    /// Probes went unanswered; retried every 10 retry intervals while wanted.
    Failed,
}

/// One neighbour, as `show neighbors` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighEntry {
    pub port: PortIndex,
    pub ip: IpAddr,
    /// Known for `Reachable` and `Stale`, `None` otherwise.
    pub mac: Option<MacAddr>,
    pub state: NeighState,
    /// When the neighbour was last heard from (learned or confirmed by a
    /// frame), or when the entry was created.
    pub updated: Instant,
    /// Probes sent in the current state.
    pub probes: u32,
}

/// What became of a punted frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Punted {
    /// Send this Ethernet frame back out of the port it came in on (the
    /// frame may also have taught us a neighbour).
    Reply(Vec<u8>),
    /// No reply; the neighbour table learned or refreshed an entry.
    Learned,
    /// No reply and nothing learned; one of the [`reason`] strings.
    Ignored(&'static str),
}

/// Why a punted frame was ignored: declared once here, used as the
/// `Punted::Ignored` value and as counter names ([`reason::ALL`]).
pub mod reason {
    macro_rules! reasons {
        ($($(#[$doc:meta])* $name:ident = $text:literal,)*) => {
            $($(#[$doc])* pub const $name: &str = $text;)*
            /// Every reason, for registering counters.
            pub const ALL: &[&str] = &[$($name),*];
        };
    }

    reasons! {
        /// The port index is not one of ours.
        UNKNOWN_PORT = "unknown port",
        /// Shorter than an Ethernet header (or its VLAN tag).
        BAD_ETHERNET = "malformed ethernet header",
        /// Two VLAN tags (or an 802.1ad outer tag).
        STACKED_VLAN = "stacked vlan tags",
        /// Unicast to another MAC.
        NOT_OUR_MAC = "destination mac not ours",
        /// A group source MAC address.
        MULTICAST_SOURCE_MAC = "multicast source mac",
        /// Neither ARP, IPv4 nor IPv6.
        UNHANDLED_ETHERTYPE = "unhandled ethertype",
        /// Not Ethernet/IPv4 ARP, too short, or an opcode other than 1 or 2.
        BAD_ARP = "malformed arp",
        /// ARP sender hardware address zero or group.
        ARP_BAD_SENDER = "arp sender hardware address not unicast",
        /// A neighbour claims one of our addresses.
        ADDRESS_CONFLICT = "peer claims our address",
        /// ARP neither for our address nor about a neighbour we track.
        ARP_NOT_FOR_US = "arp not for us",
        /// IPv4 header check failed.
        BAD_IPV4 = "malformed ipv4",
        BAD_IPV4_CHECKSUM = "bad ipv4 header checksum",
        IPV4_FRAGMENT = "ipv4 fragment",
        /// IP destination is not one of our addresses (or groups).
        NOT_FOR_US = "destination address not ours",
        /// IP source unspecified, group, broadcast, loopback or our own.
        BAD_SOURCE = "source address not unicast",
        /// Neither ICMP nor ICMPv6 (IPv6 extension headers included).
        UNHANDLED_PROTOCOL = "unhandled ip protocol",
        BAD_ICMP = "malformed icmp",
        BAD_ICMP_CHECKSUM = "bad icmp checksum",
        /// ICMP other than echo request.
        UNHANDLED_ICMP = "unhandled icmp type",
        /// IPv6 header check failed.
        BAD_IPV6 = "malformed ipv6",
        BAD_ICMPV6 = "malformed icmpv6",
        BAD_ICMPV6_CHECKSUM = "bad icmpv6 checksum",
        /// ICMPv6 other than echo request, NS or NA.
        UNHANDLED_ICMPV6 = "unhandled icmpv6 type",
        /// ND message with hop limit other than 255 (RFC 4861 §7.1).
        ND_HOP_LIMIT = "nd hop limit not 255",
        /// ND message failing RFC 4861 §7.1 validation.
        BAD_ND = "malformed nd",
        /// NS for an address that is not ours.
        ND_TARGET_NOT_OURS = "ns target not ours",
        /// NA for a neighbour we have no entry for (RFC 4861 §7.2.5).
        ND_UNKNOWN_TARGET = "na for untracked neighbour",
        /// NA for an unresolved entry without target link-layer address.
        ND_NO_LLADDR = "na without target link-layer address",
        /// NA with a different address and no override flag.
        ND_NO_OVERRIDE = "na without override for a different address",
        /// ARP or ND from our own MAC (a frame of ours looped back).
        OWN_FRAME = "our own frame looped back",
        /// ARP from a home address we proxy (its mobile node, back home, or
        /// a conflict): its MAC noted, nothing learned.
        PROXIED_SENDER = "arp from a proxied home address",
        /// NA for a home address we proxy: its MAC noted, nothing learned.
        PROXIED_TARGET = "na for a proxied home address",
        /// NS for a home address whose DAD is running (RFC 4862 §5.4.3).
        PROXY_TENTATIVE = "ns for a tentative proxied address",
        /// Another node uses an address under our DAD (RFC 4862 §5.4.3-4).
        DAD_CONFLICT = "duplicate address detected",
    }
}

/// The neighbour table and responder of all ports.
#[derive(Debug)]
pub struct Neighbors {
    ports: Vec<PortAddrs>,
    table: NeighTable,
    proxies: ProxySet,
    /// RFC 4861 RetransTimer: DAD wait, spacing of announcements.
    retrans: Duration,
}

impl Neighbors {
    pub fn new(ports: Vec<PortAddrs>, cfg: NeighborConfig) -> Self {
        Neighbors { ports, table: NeighTable::new(cfg), proxies: ProxySet::default(), retrans: cfg.retry_interval }
    }

    /// A frame the worker punted from `port` (full Ethernet frame).
    ///
    /// Answers ARP requests for our IPv4 addresses (RFC 826), NS for our
    /// IPv6 addresses including the link-local (RFC 4861 §7.2.4; DAD probes
    /// get an NA to ff02::1 with S=0), and echo requests to our unicast
    /// addresses; replies go to the request's Ethernet source (DAD: the
    /// all-nodes MAC) from our port MAC, with the request's VLAN tag. Learns
    /// neighbours from ARP (RFC 826 merge), NS with a source link-layer
    /// option (§7.2.3) and NA (§7.2.5). Never panics.
    pub fn handle_frame(&mut self, port: PortIndex, frame: &[u8], now: Instant) -> Punted {
        match self.ports.get(port) {
            Some(addrs) => responder::handle(addrs, port, &mut self.table, &mut self.proxies, frame, now),
            None => Punted::Ignored(reason::UNKNOWN_PORT),
        }
    }

    /// Starts answering for home address `ip` on home-link `port` (see
    /// [`proxy`] for the rules): IPv4 at once, after gratuitous ARPs sent
    /// from the next [`poll`](Self::poll); IPv6 after DAD, whose result
    /// comes from [`take_proxy_events`](Self::take_proxy_events). A
    /// neighbour entry for `ip` is dropped (its MAC kept as the mobile
    /// node's own). Adding what is proxied already changes nothing.
    pub fn proxy_add(&mut self, port: PortIndex, ip: IpAddr, now: Instant) -> Result<ProxyAdded, ProxyError> {
        let addrs = self.ports.get(port).ok_or(ProxyError::UnknownPort)?;
        let on_link = match ip {
            IpAddr::V4(a) => addrs.on_home_link_v4(a),
            IpAddr::V6(a) => addrs.on_home_link_v6(a),
        };
        let own_mac =
            if on_link && self.proxies.state(port, ip).is_none() { self.table.forget(port, ip) } else { None };
        self.proxies.add(addrs, port, ip, own_mac, now)
    }

    /// Stops answering for `ip` on `port` (a DAD still running is
    /// abandoned, without an event); an IPv4 address whose mobile node's
    /// MAC is known gets gratuitous ARPs with that MAC (RFC 5944 §4.6).
    /// False when it was not proxied.
    pub fn proxy_remove(&mut self, port: PortIndex, ip: IpAddr, now: Instant) -> bool {
        self.proxies.remove(port, ip, now)
    }

    /// DAD results since the last call, for the owners of the addresses.
    pub fn take_proxy_events(&mut self) -> Vec<ProxyEvent> {
        self.proxies.take_events()
    }

    /// The proxied addresses, ordered by port then address.
    pub fn proxies(&self) -> impl Iterator<Item = &ProxyEntry> {
        self.proxies.entries()
    }

    pub fn proxy_counters(&self) -> ProxyCounters {
        self.proxies.counters
    }

    /// Asks for (port, ip) to be resolved and kept fresh; returns the MAC
    /// when known (`Reachable` or `Stale`). A new next hop is probed on the
    /// next [`poll`](Self::poll); calling this again (e.g. every tick)
    /// changes nothing else. Our own, group and unspecified addresses, and
    /// unknown ports, are refused with `None`.
    pub fn resolve(&mut self, port: PortIndex, ip: IpAddr, now: Instant) -> Option<MacAddr> {
        let addrs = self.ports.get(port)?;
        let ours = match ip {
            IpAddr::V4(a) => addrs.is_local_v4(a) || a.is_broadcast(),
            IpAddr::V6(a) => addrs.is_local_v6(a),
        };
        if ours || ip.is_multicast() || ip.is_unspecified() || self.proxies.state(port, ip).is_some() {
            return None;
        }
        self.table.want(port, ip, now)
    }

    /// Stops keeping (port, ip) fresh; the entry then ages out like a
    /// learned one.
    pub fn release(&mut self, port: PortIndex, ip: IpAddr) {
        self.table.release(port, ip);
    }

    /// The MAC of a `Reachable` or `Stale` entry.
    pub fn lookup(&self, port: PortIndex, ip: IpAddr) -> Option<MacAddr> {
        self.table.lookup(port, ip)
    }

    /// Runs the timers and returns the frames to send:
    /// * `Incomplete`: a broadcast ARP request / NS to the solicited-node
    ///   group every retry interval, `max_retries` times, then `Failed`;
    /// * `Failed` (wanted): one such probe every 10 retry intervals;
    /// * `Reachable` not heard from for `reachable`: `Stale`; while wanted,
    ///   unicast probes every retry interval, `max_retries` times, then `Failed`;
    /// * not wanted: not probed, removed 2 × `reachable` after last heard
    ///   from (at once when unresolved);
    ///
    /// and the proxies' DAD probes and announcements ([`proxy`]).
    pub fn poll(&mut self, now: Instant) -> Vec<(PortIndex, Vec<u8>)> {
        let mut out: Vec<(PortIndex, Vec<u8>)> = self
            .table
            .poll(now)
            .into_iter()
            .filter_map(|p| {
                let addrs = self.ports.get(p.port)?;
                Some((p.port, emit::probe(addrs, p.ip, p.unicast)))
            })
            .collect();
        out.extend(self.proxies.poll(&self.ports, self.retrans, now));
        out
    }

    /// When [`poll`](Self::poll) next has work; `None` when there is none.
    pub fn next_timeout(&self) -> Option<Instant> {
        match (self.table.next_timeout(), self.proxies.next_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// All entries, ordered by port then address.
    pub fn entries(&self) -> impl Iterator<Item = &NeighEntry> {
        self.table.entries()
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    /// Cheap deterministic bytes (xorshift), no dependency needed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn valid_frames() -> Vec<Vec<u8>> {
        vec![
            arp_request(MAG_MAC, MAG_V4, CORE_V4),
            arp_reply(MAG_MAC, MAG_V4, CORE_MAC, CORE_V4),
            tagged(&arp_request(MAG_MAC, MAG_V4, CORE_V4), 0x0064),
            ns(MAG_MAC, MAG_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC)),
            ns(MAG_MAC, UNSPEC_V6, solicited(CORE_V6), CORE_V6, None),
            na(MAG_MAC, MAG_V6, CORE_V6, MAG_V6, true, true, Some(MAG_MAC)),
            echo4(MAG_MAC, MAG_V4, CORE_V4, b"0123456789"),
            echo6(MAG_MAC, MAG_V6, CORE_V6, b"0123456789"),
            tagged(&echo6(MAG_MAC, MAG_V6, CORE_V6, b"abc"), 0x2005),
        ]
    }

    #[test]
    fn no_truncation_bit_flip_or_random_input_panics() {
        let mut n = neighbors();
        let now = Instant::now();
        n.resolve(0, MAG_V6.into(), now);
        n.resolve(0, MAG_V4.into(), now);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for frame in valid_frames() {
            for len in 0..=frame.len() {
                n.handle_frame(0, &frame[..len], now);
            }
            for bit in 0..frame.len() * 8 {
                let mut f = frame.clone();
                f[bit / 8] ^= 1 << (bit % 8);
                n.handle_frame(0, &f, now);
                n.handle_frame(1, &f, now);
            }
            for _ in 0..200 {
                let mut f = frame.clone();
                let at = (rng.next() as usize) % f.len();
                f[at] = rng.next() as u8;
                n.handle_frame(0, &f, now);
            }
        }
        for i in 0..20_000u32 {
            let len = (rng.next() % 200) as usize;
            let mut f: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Steer a share of the noise past the Ethernet check.
            if len >= 14 && i % 2 == 0 {
                f[..6].copy_from_slice(&CORE_MAC.0);
                f[6] &= 0xfe;
                let types: [u16; 4] = [0x0806, 0x0800, 0x86dd, 0x8100];
                f[12..14].copy_from_slice(&types[(i as usize / 2) % 4].to_be_bytes());
            }
            n.handle_frame((i % 3) as usize, &f, now);
        }
        for s in 0..50 {
            n.poll(now + Duration::from_secs(s));
        }
    }

    #[test]
    fn a_frame_from_an_unknown_port_is_ignored() {
        let mut n = neighbors();
        let f = arp_request(MAG_MAC, MAG_V4, CORE_V4);
        assert_eq!(n.handle_frame(7, &f, Instant::now()), Punted::Ignored(reason::UNKNOWN_PORT));
    }

    #[test]
    fn reason_list_holds_every_reason_once() {
        let mut all = reason::ALL.to_vec();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), reason::ALL.len());
        assert!(reason::ALL.contains(&reason::ND_NO_OVERRIDE));
    }
}
