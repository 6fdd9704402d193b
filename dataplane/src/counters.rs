//! Per-worker counters, cache-line padded. Each counter has exactly one
//! writer (its worker), which adds with a relaxed load and store, never an
//! atomic read-modify-write; readers (the CLI) load them relaxed.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Ports a worker counts separately; more ports share the last slot.
pub const MAX_PORTS: usize = 8;

/// Declares the drop reasons once: the enum, its counter names and help.
macro_rules! drop_reasons {
    ($($variant:ident => $name:literal, $help:literal;)*) => {
        /// Why the data plane dropped a packet. Each has a counter.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum DropReason { $($variant),* }

        impl DropReason {
            pub const ALL: &'static [DropReason] = &[$(DropReason::$variant),*];
            pub const COUNT: usize = Self::ALL.len();
            /// The counter name shown by `anchorctl show stats`.
            pub fn name(self) -> &'static str {
                match self { $(DropReason::$variant => $name),* }
            }
            pub fn help(self) -> &'static str {
                match self { $(DropReason::$variant => $help),* }
            }
        }
    };
}

drop_reasons! {
    EthMalformed => "eth-malformed", "Ethernet header truncated or with more than one VLAN tag";
    L2NotOurs => "l2-not-ours", "unicast frame for another MAC address";
    EthertypeUnknown => "ethertype-unknown", "neither IPv4, IPv6 nor ARP";
    ArpMalformed => "arp-malformed", "ARP packet truncated or not Ethernet/IPv4";
    ArpNotOurs => "arp-not-ours", "ARP for an address that is not ours";
    Ipv4Malformed => "ipv4-malformed", "IPv4 header truncated, bad version, IHL or length";
    Ipv4Checksum => "ipv4-checksum", "IPv4 header checksum does not verify";
    Ipv6Malformed => "ipv6-malformed", "IPv6 header truncated, bad version or length";
    LocalUnhandled => "local-unhandled", "addressed to us with a protocol we do not serve";
    MulticastNotOurs => "multicast-not-ours", "multicast or broadcast we do not listen to";
    NoBinding => "no-binding", "transit packet with no binding (forwarding-table miss) or route";
    InnerMalformed => "tunnel-malformed", "tunnel header or inner packet truncated or invalid";
    Spoofed => "spoofed", "uplink whose outer source, port, key or encapsulation is not its session's";
    TtlExpired => "ttl-expired", "inner TTL/hop limit would reach 0 (ICMP time exceeded sent by the control thread)";
    TooBig => "too-big", "larger than the tunnel MTU and not fragmentable (ICMP error sent by the control thread)";
    FragmentFailed => "fragment-failed", "larger than the tunnel MTU and could not be fragmented";
    NoNeighbor => "no-neighbor", "next hop or tunnel endpoint not resolved yet";
    EcnDrop => "ecn-drop", "outer CE on an inner Not-ECT packet (RFC 6040)";
    NoHeadroom => "no-headroom", "no room in the buffer for the tunnel header";
    ReassemblyFailed => "reassembly-failed", "outer fragment refused: malformed, overlapping, too long or table full";
    TunnelLoop => "tunnel-loop", "IP-in-IP from a mobile node's care-of address to its own home address: sending it back would loop (RFC 5944 4.2.2)";
}

/// Tunnel kinds counted separately (order of `tunnel::TunnelKind`).
pub const TUNNEL_KINDS: usize = 5;

/// Counters of one port as seen by one worker (or the control thread).
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct PortCounters {
    pub rx: AtomicU64,
    pub tx: AtomicU64,
    pub dropped: AtomicU64,
    pub punted: AtomicU64,
    /// Punts dropped because the ring to the control thread was full.
    pub punt_ring_full: AtomicU64,
    /// Packets the TX queue did not take (freed).
    pub tx_full: AtomicU64,
}

/// Everything one worker counts.
#[derive(Debug)]
#[repr(align(64))]
pub struct WorkerCounters {
    pub ports: [PortCounters; MAX_PORTS],
    pub drops: [AtomicU64; DropReason::COUNT],
    /// Poll iterations (display only; the forwarding table keeps its own
    /// quiescent-state counters).
    pub polls: AtomicU64,
    /// Packets encapsulated / decapsulated, per tunnel kind.
    pub encap: [AtomicU64; TUNNEL_KINDS],
    pub decap: [AtomicU64; TUNNEL_KINDS],
    /// Packets and bytes per session (by tunnel slot).
    pub sessions: SessionCounters,
}

/// One session's packets and bytes as one worker counted them: towards the
/// mobile node (encapsulated) and from it (decapsulated). Bytes are the
/// Ethernet frames as sent.
#[derive(Debug, Default)]
#[repr(align(32))]
pub struct SessionSlot {
    pub down_packets: AtomicU64,
    pub down_bytes: AtomicU64,
    pub up_packets: AtomicU64,
    pub up_bytes: AtomicU64,
}

/// Per-session counters of one worker, indexed by the session's tunnel
/// slot (`FibEntry::tunnel`); 32 bytes a slot. Slots beyond the capacity
/// are not counted. A slot is reused by another session only after the
/// forwarding table's grace period, so a reader takes a session's figures
/// as the difference from the slot's values when the session got it.
#[derive(Debug, Default)]
pub struct SessionCounters {
    slots: Box<[SessionSlot]>,
}

impl SessionCounters {
    /// Counters for tunnel slots `0..capacity`.
    pub fn new(capacity: usize) -> SessionCounters {
        SessionCounters { slots: (0..capacity).map(|_| SessionSlot::default()).collect() }
    }

    /// Counts `packets` packets of `bytes` in all for the session of tunnel
    /// slot `slot` (nothing for a slot beyond the capacity).
    #[inline(always)]
    pub fn count(&self, slot: u32, down: bool, packets: u64, bytes: u64) {
        if let Some(s) = self.slots.get(slot as usize) {
            let (p, b) = if down { (&s.down_packets, &s.down_bytes) } else { (&s.up_packets, &s.up_bytes) };
            add(p, packets);
            add(b, bytes);
        }
    }

    /// [down packets, down bytes, up packets, up bytes] of slot `slot`.
    pub fn read(&self, slot: u32) -> [u64; 4] {
        self.slots
            .get(slot as usize)
            .map_or([0; 4], |s| [&s.down_packets, &s.down_bytes, &s.up_packets, &s.up_bytes].map(|c| c.load(Relaxed)))
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

impl Default for WorkerCounters {
    fn default() -> Self {
        WorkerCounters {
            ports: Default::default(),
            drops: std::array::from_fn(|_| AtomicU64::new(0)),
            polls: AtomicU64::new(0),
            encap: std::array::from_fn(|_| AtomicU64::new(0)),
            decap: std::array::from_fn(|_| AtomicU64::new(0)),
            sessions: SessionCounters::default(),
        }
    }
}

/// Single-writer add: a relaxed load and store, no read-modify-write.
#[inline(always)]
pub fn add(c: &AtomicU64, n: u64) {
    c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
}

impl WorkerCounters {
    /// Counters with per-session slots for tunnel slots `0..sessions`.
    pub fn with_sessions(sessions: usize) -> WorkerCounters {
        WorkerCounters { sessions: SessionCounters::new(sessions), ..WorkerCounters::default() }
    }

    #[inline(always)]
    pub fn port(&self, index: usize) -> &PortCounters {
        &self.ports[index.min(MAX_PORTS - 1)]
    }

    #[inline(always)]
    pub fn drop(&self, port: usize, reason: DropReason) {
        add(&self.drops[reason as usize], 1);
        add(&self.port(port).dropped, 1);
    }

    /// A plain copy for display.
    pub fn snapshot(&self, nports: usize) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Relaxed);
        CounterSnapshot {
            ports: self.ports[..nports.min(MAX_PORTS)]
                .iter()
                .map(|p| PortCounts {
                    rx: get(&p.rx),
                    tx: get(&p.tx),
                    dropped: get(&p.dropped),
                    punted: get(&p.punted),
                    punt_ring_full: get(&p.punt_ring_full),
                    tx_full: get(&p.tx_full),
                })
                .collect(),
            drops: DropReason::ALL.iter().map(|r| (r.name(), get(&self.drops[*r as usize]))).collect(),
            polls: get(&self.polls),
            encap: std::array::from_fn(|i| get(&self.encap[i])),
            decap: std::array::from_fn(|i| get(&self.decap[i])),
        }
    }
}

/// Plain values of one port's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortCounts {
    pub rx: u64,
    pub tx: u64,
    pub dropped: u64,
    pub punted: u64,
    pub punt_ring_full: u64,
    pub tx_full: u64,
}

/// Plain values of a worker's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    pub ports: Vec<PortCounts>,
    pub drops: Vec<(&'static str, u64)>,
    pub polls: u64,
    pub encap: [u64; TUNNEL_KINDS],
    pub decap: [u64; TUNNEL_KINDS],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reason_names_are_unique() {
        let mut names: Vec<_> = DropReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
    }

    #[test]
    fn session_slots_count_each_direction_and_ignore_slots_beyond_capacity() {
        let c = WorkerCounters::with_sessions(4);
        c.sessions.count(2, true, 1, 100);
        c.sessions.count(2, true, 1, 60);
        c.sessions.count(2, false, 1, 84);
        c.sessions.count(9, true, 1, 1);
        assert_eq!(c.sessions.read(2), [2, 160, 1, 84]);
        assert_eq!(c.sessions.read(9), [0; 4]);
        assert_eq!(WorkerCounters::default().sessions.capacity(), 0);
    }

    #[test]
    fn drop_counts_both_reason_and_port() {
        let c = WorkerCounters::default();
        c.drop(1, DropReason::Ipv4Checksum);
        let s = c.snapshot(2);
        assert_eq!(s.ports[1].dropped, 1);
        assert!(s.drops.contains(&("ipv4-checksum", 1)));
    }
}
