//! The control thread's packet side: drains the workers' punt rings, hands
//! each frame to the neighbour/ICMP responder, and sends replies and probes
//! on the control thread's own TX queue of each port.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dataplane::addrs::PortAddrs;
use dataplane::counters::{add, DropReason, WorkerCounters};
use dataplane::fib::{FibEntry, FibReader};
use dataplane::pipeline::worker::{self, punt_reason};
use dataplane::pipeline::{classify, Verdict};
use dataplane::port::{PacketBuf, Port, PuntRing, QueueId, BURST_MAX};
use dataplane::route::{ForwardingState, RouteMiss, StatePublisher};
use dataplane::tunnel::encap::{encapsulate, encapsulate_oversize};
use dataplane::tunnel::Tunnel;

use crate::icmp_error::{self, IcmpError};
use crate::neigh::{Neighbors, Punted};
use crate::slowpath::{fragment_v4, fragment_v6, Reassembly};

/// Outer-fragment reassembly limits: datagrams in flight, largest
/// reassembled packet (one mbuf; RFC 4213 asks for 1500), timeout.
const REASSEMBLY_DATAGRAMS: usize = 1024;
const REASSEMBLY_MAX_LEN: usize = 1900;
const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(15);

/// ICMP errors the control thread may send per second (and in a burst):
/// RFC 1812 §4.3.2.8 / RFC 4443 §2.4 (f) rate limiting.
const ICMP_ERRORS_PER_S: f64 = 100.0;

/// Mobility Header (IPv6 next header 135), PMIPv6 signalling over IPv4
/// (UDP 5436), Mobile IPv4 signalling (UDP 434 except RFC 3519 tunnel
/// data; PROTOCOLS.md §13) or an RFC 3519 keepalive (tunnel data the
/// classifier punts: an echo request to us, §8.12): for the role modules,
/// not the neighbour responder.
fn is_signalling(frame: &[u8]) -> bool {
    let Ok(eth) = dataplane::wire::ethernet::Frame::new_checked(frame) else { return false };
    let p = eth.payload();
    match eth.ethertype() {
        dataplane::wire::ethernet::ethertype::IPV6 => {
            // A Mobility Header, directly or behind Destination Options
            // (DSMIPv6 Binding Updates carry the Home Address option).
            p.get(6) == Some(&dataplane::wire::ipv4::protocol::MOBILITY) || p.get(6) == Some(&60)
        }
        dataplane::wire::ethernet::ethertype::IPV4 => {
            let ihl = usize::from(p.first().map_or(0, |b| b & 0x0f)) * 4;
            let udp_to = |port: u16| {
                p.get(9) == Some(&dataplane::wire::ipv4::protocol::UDP)
                    && p.get(ihl + 2..ihl + 4) == Some(&port.to_be_bytes()[..])
            };
            udp_to(crate::pmip6::PMIP6_CONTROL_PORT)
                || udp_to(crate::proto::dsmip6::DSMIP6_PORT)
                || crate::mip4_io::is_mip4(frame)
                || crate::mip4_io::is_keepalive(frame)
        }
        _ => false,
    }
}

/// Source and destination of an IP packet (from its IP header on), when
/// its header is long enough for them.
pub(crate) fn ip_endpoints(packet: &[u8]) -> Option<(IpAddr, IpAddr)> {
    let addr16 = |at: usize| -> Option<IpAddr> {
        let b: [u8; 16] = packet.get(at..at + 16)?.try_into().ok()?;
        Some(IpAddr::from(b))
    };
    let addr4 = |at: usize| -> Option<IpAddr> {
        let b: [u8; 4] = packet.get(at..at + 4)?.try_into().ok()?;
        Some(IpAddr::from(b))
    };
    match packet.first().map(|b| b >> 4) {
        Some(4) if packet.len() >= 20 => Some((addr4(12)?, addr4(16)?)),
        Some(6) if packet.len() >= 40 => Some((addr16(8)?, addr16(24)?)),
        _ => None,
    }
}

/// Packet-handling state of the control thread, generic over the port so
/// that it runs on DPDK ports in the daemon and on in-memory ports in tests.
pub struct ControlPlane<'a, P: Port, R: PuntRing<P::Buf>> {
    ports: &'a [P],
    addrs: &'a [PortAddrs],
    rings: &'a [R],
    state: StatePublisher,
    fib: FibReader,
    reassembly: Reassembly,
    ip_id: u16,
    icmp_tokens: f64,
    icmp_refilled: Option<Instant>,
    queue: QueueId,
    neigh: Neighbors,
    counters: &'a WorkerCounters,
    next_hops: Vec<(usize, IpAddr)>,
    bufs: [Option<P::Buf>; BURST_MAX],
    pending: Vec<Vec<Option<P::Buf>>>,
    /// Signalling frames (Mobility Header, PMIPv6 over UDP) for the role
    /// modules, with the port they came in on.
    signalling: Vec<(usize, Vec<u8>)>,
}

impl<'a, P: Port, R: PuntRing<P::Buf>> ControlPlane<'a, P, R> {
    /// `queue` is the control thread's TX queue on every port; `next_hops`
    /// are (port index, address) pairs to resolve and keep fresh.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ports: &'a [P],
        addrs: &'a [PortAddrs],
        rings: &'a [R],
        queue: QueueId,
        neigh: Neighbors,
        counters: &'a WorkerCounters,
        next_hops: Vec<(usize, IpAddr)>,
        state: StatePublisher,
        fib: FibReader,
    ) -> Self {
        ControlPlane {
            ports,
            addrs,
            rings,
            state,
            fib,
            reassembly: Reassembly::new(REASSEMBLY_DATAGRAMS, REASSEMBLY_MAX_LEN, REASSEMBLY_TIMEOUT),
            ip_id: 0x8000,
            icmp_tokens: ICMP_ERRORS_PER_S,
            icmp_refilled: None,
            queue,
            neigh,
            counters,
            next_hops,
            bufs: [const { None }; BURST_MAX],
            pending: ports.iter().map(|_| Vec::new()).collect(),
            signalling: Vec::new(),
        }
    }

    /// Signalling frames received since the last call.
    pub fn take_signalling(&mut self) -> Vec<(usize, Vec<u8>)> {
        std::mem::take(&mut self.signalling)
    }

    /// Sends a frame the role modules built on port `index`, now.
    pub fn send_now(&mut self, index: usize, frame: &[u8]) {
        self.send_frame(index, frame);
        self.flush();
    }

    /// Sends `packet` (an IP packet, no Ethernet header) into the tunnel of
    /// the binding that holds its destination, as a worker would (a
    /// Binding Acknowledgement to a mobile node on its home link behind a
    /// MAG, PROTOCOLS.md §11.4). `None` when no binding holds the
    /// destination; `Some(false)` when its tunnel refuses the packet (no
    /// neighbour yet, too big...).
    pub fn send_into_tunnel(&mut self, packet: &[u8]) -> Option<bool> {
        let (_, dst) = ip_endpoints(packet)?;
        let ethertype: [u8; 2] = if dst.is_ipv4() { [0x08, 0x00] } else { [0x86, 0xdd] };
        let entry = self.lookup(dst)?;
        let l2 = [[0u8; 12].as_slice(), &ethertype].concat();
        let Some(mut b) = self.buffer(0, &l2, packet) else { return Some(false) };
        let state = self.state.current();
        match worker::downlink(&mut b, 14, Some(entry), &self.fib, &state, &mut self.ip_id, self.counters, 0) {
            Ok(egress) => {
                self.pending[egress].push(Some(b));
                self.flush();
                Some(true)
            }
            Err(_) => Some(false),
        }
    }

    /// Sends `packet` (an IP packet) inside tunnel `t` (its template holds
    /// the Ethernet header to the next hop) on `port`, now: for a tunnel
    /// that is in no forwarding entry (a shadow proxy binding's, PROTOCOLS.md
    /// §11.4). False when the packet does not fit or no buffer is free.
    pub fn send_through(&mut self, port: usize, packet: &[u8], t: &Tunnel) -> bool {
        let Some((_, dst)) = ip_endpoints(packet) else { return false };
        let ethertype: [u8; 2] = if dst.is_ipv4() { [0x08, 0x00] } else { [0x86, 0xdd] };
        let l2 = [[0u8; 12].as_slice(), &ethertype].concat();
        if port >= self.pending.len() {
            return false;
        }
        let Some(mut b) = self.buffer(0, &l2, packet) else { return false };
        if encapsulate(&mut b, 14, t, &mut self.ip_id).is_err() {
            return false;
        }
        self.pending[port].push(Some(b));
        self.flush();
        true
    }

    /// The neighbour table, for resolving where signalling goes.
    pub fn neighbors_mut(&mut self) -> &mut Neighbors {
        &mut self.neigh
    }

    pub fn neighbors(&self) -> &Neighbors {
        &self.neigh
    }

    /// Replaces the addresses to keep resolved (bindings changed).
    pub fn set_next_hops(&mut self, next_hops: Vec<(usize, IpAddr)>) {
        self.next_hops = next_hops;
    }

    fn icmp_allowed(&mut self, now: Instant) -> bool {
        let last = self.icmp_refilled.unwrap_or(now);
        let refill = now.saturating_duration_since(last).as_secs_f64() * ICMP_ERRORS_PER_S;
        self.icmp_tokens = (self.icmp_tokens + refill).min(ICMP_ERRORS_PER_S);
        self.icmp_refilled = Some(now);
        if self.icmp_tokens >= 1.0 {
            self.icmp_tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// What to send back for a frame punted on port `index` with `meta`.
    fn answer(&mut self, index: usize, frame: &[u8], meta: u32, now: Instant) -> Punted {
        let addrs = match self.addrs.get(index) {
            Some(a) => a,
            None => return Punted::Ignored("unknown port"),
        };
        let err = match meta & punt_reason::KIND_MASK {
            punt_reason::LOCAL if is_signalling(frame) => {
                self.signalling.push((index, frame.to_vec()));
                return Punted::Learned;
            }
            punt_reason::LOCAL => return self.neigh.handle_frame(index, frame, now),
            punt_reason::TTL_EXPIRED => IcmpError::TimeExceeded,
            punt_reason::TOO_BIG => IcmpError::TooBig { mtu: (meta & 0xffff) as u16 },
            punt_reason::RESOLVE => {
                // The decapsulated packet's next hop has no MAC, or the
                // nested-tunnel packet's (to a home address on its native
                // home link): resolve it (the packet itself is dropped, as
                // a router does).
                let dst = match classify(frame, addrs) {
                    Verdict::Uplink(up) => dataplane::pipeline::worker::inner_dst(frame, &up),
                    Verdict::Downlink { dst, .. } => Some(dst),
                    _ => None,
                };
                if let Some(dst) = dst {
                    if let Err(RouteMiss::Unresolved { port, ip }) = self.state.current().egress(dst) {
                        self.neigh.resolve(port, ip, now);
                    }
                }
                return Punted::Ignored("next hop being resolved");
            }
            _ => return Punted::Ignored("unknown punt reason"),
        };
        if !self.icmp_allowed(now) {
            return Punted::Ignored("icmp error rate limit");
        }
        match icmp_error::build(frame, addrs, err) {
            Some(f) => Punted::Reply(f),
            None => Punted::Ignored("no icmp error for this packet"),
        }
    }

    /// The addresses of port `index`.
    pub fn port_addrs(&self, index: usize) -> Option<&PortAddrs> {
        self.addrs.get(index)
    }

    fn port_index(&self, buf: &P::Buf) -> Option<usize> {
        let id = buf.rx_port();
        self.ports.iter().position(|p| p.id() == id)
    }

    /// Handles what waits in the punt rings, at most about `budget` packets
    /// (whole bursts, the rings taken in turn so that one busy worker does
    /// not hold the others' punts back); returns how many it took. What is
    /// left waits in the rings for the next pass, which keeps one pass short
    /// under a storm: timers and the CLI run between passes.
    pub fn service_punts(&mut self, now: Instant, budget: usize) -> usize {
        let mut total = 0;
        let rings = self.rings;
        // Rounds over the rings until the budget is spent or a round finds
        // them all empty.
        let mut progress = true;
        while total < budget && progress {
            progress = false;
            for ring in rings {
                if total >= budget {
                    break;
                }
                let n = ring.dequeue_burst(&mut self.bufs);
                if n == 0 {
                    continue;
                }
                progress = true;
                total += n;
                for i in 0..n {
                    let Some(mut buf) = self.bufs[i].take() else {
                        continue;
                    };
                    let Some(index) = self.port_index(&buf) else {
                        tracing::warn!(port = buf.rx_port().0, "punted frame from an unknown port");
                        continue;
                    };
                    add(&self.counters.port(index).rx, 1);
                    let meta = buf.meta();
                    if matches!(
                        meta & punt_reason::KIND_MASK,
                        punt_reason::FRAGMENT | punt_reason::REASSEMBLE | punt_reason::UPLINK_TTL_EXPIRED
                    ) {
                        self.slow_path(index, buf.data(), meta, now);
                        continue;
                    }
                    match self.answer(index, buf.data(), meta, now) {
                        Punted::Reply(frame) => match buf.reset(frame.len()) {
                            Some(out) => {
                                out.copy_from_slice(&frame);
                                self.pending[index].push(Some(buf));
                            }
                            None => add(&self.counters.port(index).dropped, 1),
                        },
                        Punted::Learned => {}
                        Punted::Ignored(reason) => {
                            add(&self.counters.port(index).dropped, 1);
                            tracing::trace!(port = index, reason, "punted frame ignored");
                        }
                    }
                }
            }
        }
        self.flush();
        total
    }

    /// Whether the forwarding table binds `a` (what
    /// [`ControlPlane::send_into_tunnel`] looks for).
    pub fn binds(&self, a: IpAddr) -> bool {
        self.lookup(a).is_some()
    }

    fn lookup(&self, a: IpAddr) -> Option<FibEntry> {
        self.fib.lookup(&worker::key_of(a)).or_else(|| worker::lookup_host(&self.fib, a))
    }

    /// A fresh buffer holding `l2` followed by `l3`.
    fn buffer(&self, index: usize, l2: &[u8], l3: &[u8]) -> Option<P::Buf> {
        let mut b = self.ports.get(index)?.alloc()?;
        b.set_rx_port(self.ports[index].id());
        let out = b.reset(l2.len() + l3.len())?;
        out[..l2.len()].copy_from_slice(l2);
        out[l2.len()..].copy_from_slice(l3);
        Some(b)
    }

    /// Encapsulates a downlink packet larger than its tunnel's MTU whole and
    /// sends the outer packet in fragments of the path MTU (§12.5: RFC 2473
    /// §7.1/§7.2 for an IPv6 outer, RFC 4213 for IPv6 over IPv4 with DF
    /// clear).
    fn fragment_outer(
        &mut self,
        index: usize,
        frame: &[u8],
        l3_off: usize,
        entry: Option<dataplane::fib::FibEntry>,
        state: &ForwardingState,
    ) {
        let Some(t) = entry.and_then(|e| state.tunnel(e.tunnel)) else { return };
        let Some(mut b) = self.buffer(index, frame, &[]) else { return };
        if encapsulate_oversize(&mut b, l3_off, t, &mut self.ip_id).is_err() {
            self.counters.drop(index, DropReason::FragmentFailed);
            return;
        }
        let (eth, outer) = b.data().split_at(t.ip_offset().min(b.data().len()));
        let mtu = usize::from(t.spec.path_mtu);
        let frags = if t.outer_is_v4() {
            fragment_v4(outer, mtu)
        } else {
            self.ip_id = self.ip_id.wrapping_add(1);
            fragment_v6(outer, mtu, u32::from(self.ip_id))
        };
        let Some(frags) = frags else {
            self.counters.drop(index, DropReason::FragmentFailed);
            return;
        };
        let eth = eth.to_vec();
        add(&self.counters.encap[t.spec.kind.index()], 1);
        for f in frags {
            if let Some(out) = self.buffer(index, &eth, &f) {
                self.pending[t.spec.port].push(Some(out));
            }
        }
    }

    /// Fragments an oversized downlink packet before encapsulation, or
    /// reassembles an outer fragment and decapsulates the whole packet;
    /// both with the workers' own nodes.
    fn slow_path(&mut self, index: usize, frame: &[u8], meta: u32, now: Instant) {
        let Some(addrs) = self.addrs.get(index) else { return };
        let state = self.state.current();
        let verdict = classify(frame, addrs);
        match (meta & punt_reason::KIND_MASK, verdict) {
            (punt_reason::FRAGMENT, Verdict::Downlink { l3_off, dst }) => {
                let entry = self.lookup(dst);
                let Some(t) = entry.and_then(|e| state.tunnel(e.tunnel)) else { return };
                // IPv4 in IPv4 (RFC 2003) and UDP tunnels fragment the inner
                // packet; IPv6 inside or outside fragments the outer one.
                if !(dst.is_ipv4() && t.outer_is_v4()) {
                    self.fragment_outer(index, frame, l3_off, entry, &state);
                    return;
                }
                let Some(frags) = fragment_v4(&frame[l3_off..], usize::from(t.mtu_v4)) else {
                    self.counters.drop(index, DropReason::FragmentFailed);
                    return;
                };
                for f in frags {
                    let Some(mut b) = self.buffer(index, &frame[..l3_off], &f) else { continue };
                    if let Ok(egress) = worker::downlink(
                        &mut b,
                        l3_off,
                        entry,
                        &self.fib,
                        &state,
                        &mut self.ip_id,
                        self.counters,
                        index,
                    ) {
                        self.pending[egress].push(Some(b));
                    }
                }
            }
            (punt_reason::REASSEMBLE, Verdict::Reassemble) => {
                let Ok(eth) = dataplane::wire::ethernet::Frame::new_checked(frame) else { return };
                let l3_off = eth.header_len();
                let whole = match self.reassembly.add(&frame[l3_off..], now) {
                    Ok(Some(whole)) => whole,
                    Ok(None) => return,
                    Err(_) => {
                        self.counters.drop(index, DropReason::ReassemblyFailed);
                        return;
                    }
                };
                let Some(mut b) = self.buffer(index, &frame[..l3_off], &whole) else {
                    self.counters.drop(index, DropReason::ReassemblyFailed);
                    return;
                };
                match classify(b.data(), addrs) {
                    Verdict::Uplink(up) => {
                        let entry = self.lookup(up.inner_src);
                        if let Ok(egress) =
                            worker::uplink(&mut b, &up, entry, &self.fib, &state, &mut self.ip_id, self.counters, index)
                        {
                            self.pending[egress].push(Some(b));
                        }
                    }
                    Verdict::Punt => {
                        if let Punted::Reply(r) = self.answer(index, b.data(), punt_reason::LOCAL, now) {
                            if let Some(out) = b.reset(r.len()) {
                                out.copy_from_slice(&r);
                                self.pending[index].push(Some(b));
                            }
                        }
                    }
                    Verdict::Drop(reason) => self.counters.drop(index, reason),
                    _ => {}
                }
            }
            (punt_reason::UPLINK_TTL_EXPIRED, Verdict::Uplink(up)) => {
                // RFC 792 / 4443: Time Exceeded to the inner source (the
                // mobile node), sent back down its own tunnel.
                if !self.icmp_allowed(now) {
                    return;
                }
                let inner = &frame[up.inner_off..];
                let ethertype: &[u8] = if up.inner_v4 { &[0x08, 0x00] } else { &[0x86, 0xdd] };
                let l2 = [&frame[..12], ethertype].concat();
                let Some(error) = icmp_error::build(&[&l2[..], inner].concat(), addrs, IcmpError::TimeExceeded) else {
                    return;
                };
                let entry = self.lookup(up.inner_src);
                let Some(mut b) = self.buffer(index, &error[..14], &error[14..]) else { return };
                if let Ok(egress) =
                    worker::downlink(&mut b, 14, entry, &self.fib, &state, &mut self.ip_id, self.counters, index)
                {
                    self.pending[egress].push(Some(b));
                }
            }
            _ => add(&self.counters.port(index).dropped, 1),
        }
    }

    /// Neighbour timers: resolution of wanted next hops, retries, ageing.
    pub fn run_timers(&mut self, now: Instant) {
        self.reassembly.expire(now);
        for &(port, ip) in &self.next_hops {
            self.neigh.resolve(port, ip, now);
        }
        for (index, frame) in self.neigh.poll(now) {
            self.send_frame(index, &frame);
        }
        self.flush();
    }

    /// Sends one frame built by the control thread on port `index`.
    pub fn send_frame(&mut self, index: usize, frame: &[u8]) {
        let Some(port) = self.ports.get(index) else {
            return;
        };
        let Some(mut buf) = port.alloc() else {
            add(&self.counters.port(index).dropped, 1);
            tracing::warn!(port = index, "mbuf pool empty; control frame not sent");
            return;
        };
        match buf.reset(frame.len()) {
            Some(out) => {
                out.copy_from_slice(frame);
                self.pending[index].push(Some(buf));
            }
            None => add(&self.counters.port(index).dropped, 1),
        }
    }

    fn flush(&mut self) {
        for (index, port) in self.ports.iter().enumerate() {
            let pending = &mut self.pending[index];
            if pending.is_empty() {
                continue;
            }
            let sent = port.tx_burst(self.queue, pending);
            let pc = self.counters.port(index);
            add(&pc.tx, sent as u64);
            let unsent = (pending.len() - sent) as u64;
            if unsent > 0 {
                add(&pc.tx_full, unsent);
                add(&pc.dropped, unsent);
            }
            pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    //! The whole punt path on in-memory ports: a worker classifies and
    //! punts, the control thread answers on its own TX queue.
    use std::time::Instant;

    use dataplane::counters::WorkerCounters;
    use dataplane::fib::{FibEntry, FibKey, FibReader, FibWriter};
    use dataplane::pipeline::Worker;
    use dataplane::port::mem::{MemBuf, MemPort, MemRing};
    use dataplane::port::{PortId, QueueId};
    use dataplane::route::{ForwardingState, Route, StatePublisher};
    use dataplane::tunnel::{Tunnel, TunnelKind, TunnelSpec};
    use dataplane::wire::{arp, checksum, ethernet, gre, icmpv4, icmpv6, ipv4, ipv6};

    use super::ControlPlane;
    use crate::neigh::testutil::*;

    const CONTROL_Q: QueueId = QueueId(1);

    struct Rig {
        ports: Vec<MemPort>,
        ring: Vec<MemRing<MemBuf>>,
        worker: WorkerCounters,
        control: WorkerCounters,
    }

    impl Rig {
        fn new(ring_capacity: usize) -> Rig {
            Rig {
                ports: vec![MemPort::new(PortId(0), 1), MemPort::new(PortId(1), 1)],
                ring: vec![MemRing::new(ring_capacity)],
                worker: WorkerCounters::default(),
                control: WorkerCounters::default(),
            }
        }

        /// The control thread's side on these ports with `addrs`.
        fn control<'r>(
            &'r self,
            addrs: &'r [dataplane::addrs::PortAddrs],
            next_hops: Vec<(usize, std::net::IpAddr)>,
            publisher: StatePublisher,
            fib: FibReader,
        ) -> ControlPlane<'r, MemPort, MemRing<MemBuf>> {
            ControlPlane::new(
                &self.ports,
                addrs,
                &self.ring,
                CONTROL_Q,
                neighbors(),
                &self.control,
                next_hops,
                publisher,
                fib,
            )
        }

        /// Injects `frames` on port `index`, runs one worker poll and one
        /// control pass; returns what the control thread sent per port.
        fn exchange(&self, index: usize, frames: &[Vec<u8>]) -> Vec<Vec<(QueueId, Vec<u8>)>> {
            let (_fib_writer, fib) = dataplane::fib::new(1024, 1);
            self.exchange_with(index, frames, fib, StatePublisher::new(Default::default()))
        }

        /// The same with a forwarding table and state.
        fn exchange_with(
            &self,
            index: usize,
            frames: &[Vec<u8>],
            fib: FibReader,
            publisher: StatePublisher,
        ) -> Vec<Vec<(QueueId, Vec<u8>)>> {
            let addrs = ports();
            for f in frames {
                self.ports[index].inject(QueueId(0), f);
            }
            let reader = publisher.reader();
            let mut w = Worker::new(&self.ports, &addrs, 0, 1, &self.ring[0], &self.worker, fib.clone(), reader, 32);
            w.poll();
            let mut cp = self.control(&addrs, vec![], publisher, fib);
            cp.service_punts(Instant::now(), usize::MAX);
            self.ports.iter().map(MemPort::take_tx).collect()
        }
    }

    #[test]
    fn one_pass_takes_about_its_budget_and_leaves_the_rest_in_the_ring() {
        let rig = Rig::new(256);
        let addrs = ports();
        let (_fib_writer, fib) = dataplane::fib::new(1024, 1);
        let publisher = StatePublisher::new(Default::default());
        let reader = publisher.reader();
        let mut w = Worker::new(&rig.ports, &addrs, 0, 1, &rig.ring[0], &rig.worker, fib.clone(), reader, 32);
        for _ in 0..96 {
            rig.ports[0].inject(QueueId(0), &arp_request(MAG_MAC, MAG_V4, CORE_V4));
        }
        for _ in 0..3 {
            w.poll();
        }
        let mut cp = rig.control(&addrs, vec![], publisher, fib);
        // Whole bursts: a budget of 40 takes two bursts of up to 32.
        let first = cp.service_punts(Instant::now(), 40);
        assert!((40..=64).contains(&first), "{first}");
        assert_eq!(rig.ports[0].take_tx().len(), first, "each punt taken is answered in the same pass");
        let second = cp.service_punts(Instant::now(), usize::MAX);
        assert_eq!(first + second, 96, "nothing is lost, the rest waits for the next pass");
        assert_eq!(cp.service_punts(Instant::now(), usize::MAX), 0);
    }

    fn only(sent: &[(QueueId, Vec<u8>)]) -> &[u8] {
        assert_eq!(sent.len(), 1, "expected exactly one frame, got {sent:?}");
        assert_eq!(sent[0].0, CONTROL_Q, "replies go out on the control thread's queue");
        &sent[0].1
    }

    #[test]
    fn arp_request_for_our_address_is_answered_on_the_control_queue() {
        let rig = Rig::new(64);
        let tx = rig.exchange(0, &[arp_request(MAG_MAC, MAG_V4, CORE_V4)]);
        let frame = only(&tx[0]);
        let eth = ethernet::Frame::new_checked(frame).unwrap();
        assert_eq!((eth.dst_addr(), eth.src_addr()), (MAG_MAC, CORE_MAC));
        let a = arp::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(a.operation(), arp::OP_REPLY);
        assert_eq!((a.sender_hw(), a.sender_ip()), (CORE_MAC, CORE_V4));
        assert_eq!((a.target_hw(), a.target_ip()), (MAG_MAC, MAG_V4));
        assert!(tx[1].is_empty());
        let w = rig.worker.snapshot(2);
        assert_eq!((w.ports[0].rx, w.ports[0].punted, w.ports[0].dropped), (1, 1, 0));
        assert_eq!(rig.control.snapshot(2).ports[0].tx, 1);
    }

    #[test]
    fn neighbor_solicitation_to_the_solicited_node_group_gets_an_advert() {
        let rig = Rig::new(64);
        let tx = rig.exchange(0, &[ns(MAG_MAC, MAG_V6, solicited(CORE_V6), CORE_V6, Some(MAG_MAC))]);
        let frame = only(&tx[0]);
        let eth = ethernet::Frame::new_checked(frame).unwrap();
        assert_eq!(eth.dst_addr(), MAG_MAC);
        let ip = ipv6::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!((ip.src_addr(), ip.dst_addr(), ip.hop_limit()), (CORE_V6, MAG_V6, 255));
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(ip.src_addr(), ip.dst_addr()));
        match icmpv6::NdRepr::parse(&icmp).unwrap() {
            icmpv6::NdRepr::NeighborAdvert { solicited, target, target_lladdr, .. } => {
                assert!(solicited);
                assert_eq!((target, target_lladdr), (CORE_V6, Some(CORE_MAC)));
            }
            other => panic!("expected an NA, got {other:?}"),
        }
    }

    #[test]
    fn icmp_echo_request_to_our_ipv4_address_gets_an_echo_reply_with_the_same_data() {
        let rig = Rig::new(64);
        let tx = rig.exchange(0, &[echo4(MAG_MAC, MAG_V4, CORE_V4, b"anchor")]);
        let frame = only(&tx[0]);
        let eth = ethernet::Frame::new_checked(frame).unwrap();
        let ip = ipv4::Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!((ip.src_addr(), ip.dst_addr()), (CORE_V4, MAG_V4));
        let icmp = icmpv4::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!(icmp.msg_type(), icmpv4::TYPE_ECHO_REPLY);
        assert_eq!((icmp.echo_ident(), icmp.echo_seq()), (0x4242, 7));
        assert_eq!(icmp.payload(), b"anchor");
    }

    #[test]
    fn icmpv6_echo_request_to_our_address_gets_an_echo_reply() {
        let rig = Rig::new(64);
        let tx = rig.exchange(0, &[echo6(MAG_MAC, MAG_V6, CORE_V6, b"anchor6")]);
        let frame = only(&tx[0]);
        let eth = ethernet::Frame::new_checked(frame).unwrap();
        let ip = ipv6::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!((ip.src_addr(), ip.dst_addr()), (CORE_V6, MAG_V6));
        let icmp = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(ip.src_addr(), ip.dst_addr()));
        assert_eq!(icmp.msg_type(), icmpv6::TYPE_ECHO_REPLY);
        assert_eq!(icmp.payload(), b"anchor6");
    }

    #[test]
    fn echo_to_another_host_is_not_punted_and_counted_as_no_binding() {
        let rig = Rig::new(64);
        let tx = rig.exchange(0, &[echo4(MAG_MAC, MAG_V4, "203.0.113.9".parse().unwrap(), b"x")]);
        assert!(tx.iter().all(Vec::is_empty));
        let w = rig.worker.snapshot(2);
        assert_eq!((w.ports[0].punted, w.ports[0].dropped), (0, 1));
        assert!(w.drops.contains(&("no-binding", 1)));
    }

    #[test]
    fn a_full_punt_ring_drops_and_counts_the_rest_and_answers_what_fit() {
        let rig = Rig::new(2);
        let frames: Vec<Vec<u8>> = (0..5).map(|_| echo4(MAG_MAC, MAG_V4, CORE_V4, b"x")).collect();
        let tx = rig.exchange(0, &frames);
        assert_eq!(tx[0].len(), 2);
        let w = rig.worker.snapshot(2);
        assert_eq!((w.ports[0].rx, w.ports[0].punted, w.ports[0].punt_ring_full, w.ports[0].dropped), (5, 2, 3, 3));
    }

    #[test]
    fn wanted_next_hop_is_resolved_with_an_arp_request_from_the_pool() {
        let rig = Rig::new(64);
        let next_hop = (1, "198.51.100.2".parse().unwrap());
        let addrs = ports();
        let publisher = StatePublisher::new(Default::default());
        let mut cp = rig.control(&addrs, vec![next_hop], publisher, dataplane::fib::new(1024, 1).1);
        cp.run_timers(Instant::now());
        let tx = rig.ports[1].take_tx();
        let frame = only(&tx);
        let eth = ethernet::Frame::new_checked(frame).unwrap();
        assert!(eth.dst_addr().is_broadcast());
        let a = arp::Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(a.operation(), arp::OP_REQUEST);
        assert_eq!(a.target_ip(), "198.51.100.2".parse::<std::net::Ipv4Addr>().unwrap());
        assert_eq!(a.sender_ip(), HOME_V4);
    }

    const HOA: std::net::Ipv4Addr = std::net::Ipv4Addr::new(203, 0, 113, 10);
    const CN_V4: std::net::Ipv4Addr = std::net::Ipv4Addr::new(198, 51, 100, 2);

    /// One GRE binding (keys 100 in / 200 out) for 203.0.113.10 behind the
    /// MAG at 192.0.2.2 with a path MTU of `mtu`; the correspondent
    /// 198.51.100.2 resolved on the home port.
    fn forwarding(mtu: u16) -> (FibWriter, FibReader, StatePublisher) {
        let mut spec = TunnelSpec::new(TunnelKind::Gre, CORE_V4.into(), MAG_V4.into());
        (spec.key_in, spec.key_out, spec.path_mtu) = (Some(100), Some(200), mtu);
        let mut state = ForwardingState {
            tunnels: std::iter::once(Some(Tunnel::new(spec, CORE_MAC, Some(MAG_MAC)))).collect(),
            routes: vec![Route { prefix: "198.51.100.0".parse().unwrap(), len: 24, port: 1, via: None }],
            neighbors: vec![(1, CN_V4.into(), OTHER_MAC)],
            port_macs: vec![CORE_MAC, HOME_MAC],
            mobile: vec![("203.0.113.0".parse().unwrap(), 24)],
        };
        state.sort_routes();
        let (mut w, r) = dataplane::fib::new(1024, 1);
        w.insert(FibKey::V4 { vrf: 0, addr: HOA }, FibEntry { session: 1, tunnel: 0 }).unwrap();
        (w, r, StatePublisher::new(state))
    }

    /// Like [`forwarding`], with the tunnel over IPv6 (CORE_V6 → MAG_V6).
    fn forwarding_v6(mtu: u16) -> (FibWriter, FibReader, StatePublisher) {
        let (w, r, publisher) = forwarding(mtu);
        let mut state = (*publisher.current()).clone();
        let mut spec = state.tunnel(0).unwrap().spec.clone();
        (spec.local, spec.remote) = (CORE_V6.into(), MAG_V6.into());
        state.tunnels.set(0, Some(Tunnel::new(spec, CORE_MAC, Some(MAG_MAC))));
        publisher.publish(state);
        (w, r, publisher)
    }

    /// RFC 2473 §7.2: an IPv4 packet without DF that does not fit an IPv6
    /// tunnel goes in whole and the outer IPv6 packet is fragmented.
    #[test]
    fn ipv4_without_df_too_big_for_an_ipv6_tunnel_has_its_outer_packet_fragmented() {
        let rig = Rig::new(64);
        let (_w, fib, publisher) = forwarding_v6(1280);
        let big = ipv4_frame(HOME_MAC, CN_V4, HOA, 1300, false);
        let tx = rig.exchange_with(1, std::slice::from_ref(&big), fib, publisher);
        assert_eq!(tx[0].len(), 2, "two outer fragments on the core port");
        let mut r = crate::slowpath::Reassembly::new(4, 65535, std::time::Duration::from_secs(30));
        let mut whole = None;
        for (_, f) in &tx[0] {
            assert!(f.len() - 14 <= 1280, "each fits the path MTU");
            assert_eq!(&f[0..6], &MAG_MAC.0);
            let ip = ipv6::Packet::new_checked(&f[14..]).unwrap();
            assert_eq!((ip.src_addr(), ip.dst_addr(), ip.next_header()), (CORE_V6, MAG_V6, 44));
            whole = r.add(&f[14..], Instant::now()).unwrap();
        }
        let whole = whole.expect("the fragments reassemble");
        let ip = ipv6::Packet::new_checked(&whole[..]).unwrap();
        assert_eq!(ip.next_header(), 47);
        let g = gre::Packet::new_checked(ip.payload()).unwrap();
        assert_eq!((g.key(), g.protocol()), (Some(200), 0x0800));
        let inner = ipv4::Packet::new_checked(g.payload()).unwrap();
        assert_eq!((inner.ttl(), usize::from(inner.total_len())), (63, 1320));
        assert!(inner.verify_checksum());
        assert_eq!(&g.payload()[20..], &big[34..]);
    }

    /// RFC 2473 §7.1: an IPv6 packet of at most 1280 octets that does not
    /// fit the tunnel goes in whole, the outer packet fragmented; over an
    /// IPv4 outer (RFC 4213, DF clear) as IPv4 fragments.
    #[test]
    fn ipv6_of_at_most_1280_too_big_for_the_tunnel_has_its_outer_packet_fragmented() {
        let hnp_host: std::net::Ipv6Addr = "2001:db8:100:1::10".parse().unwrap();
        let cn: std::net::Ipv6Addr = "2001:db8:2::2".parse().unwrap();
        let mut big = vec![0u8; 14 + 40 + 1210];
        ethernet::emit_header(&mut big, HOME_MAC, OTHER_MAC, ethernet::ethertype::IPV6);
        big[14..22].copy_from_slice(&[0x60, 0, 0, 0, 0x04, 0xba, 17, 64]);
        big[22..38].copy_from_slice(&cn.octets());
        big[38..54].copy_from_slice(&hnp_host.octets());
        for (i, b) in big[54..].iter_mut().enumerate() {
            *b = i as u8;
        }
        for (v6_outer, path_mtu) in [(true, 1280), (false, 1240)] {
            let rig = Rig::new(64);
            let (mut w, fib, publisher) = if v6_outer { forwarding_v6(path_mtu) } else { forwarding(path_mtu) };
            w.insert(FibKey::v6_prefix(0, hnp_host), FibEntry { session: 1, tunnel: 0 }).unwrap();
            let tx = rig.exchange_with(1, std::slice::from_ref(&big), fib, publisher);
            assert!(tx[0].len() >= 2, "outer fragments on the core port (IPv6 outer {v6_outer})");
            let mut r = crate::slowpath::Reassembly::new(4, 65535, std::time::Duration::from_secs(30));
            let mut whole = None;
            for (_, f) in &tx[0] {
                assert!(f.len() - 14 <= usize::from(path_mtu), "each fits the path MTU");
                whole = r.add(&f[14..], Instant::now()).unwrap();
            }
            let whole = whole.expect("the fragments reassemble");
            let gre_payload = if v6_outer {
                ipv6::Packet::new_checked(&whole[..]).unwrap().payload().to_vec()
            } else {
                let ip = ipv4::Packet::new_checked(&whole[..]).unwrap();
                assert!(!ip.dont_frag(), "RFC 4213: outer DF clear");
                ip.payload().to_vec()
            };
            let g = gre::Packet::new_checked(&gre_payload[..]).unwrap();
            assert_eq!(g.protocol(), 0x86dd);
            let inner = g.payload();
            assert_eq!(inner[7], 63, "one hop");
            assert_eq!(&inner[40..], &big[54..]);
        }
    }

    /// Ethernet + IPv4 `src` → `dst`, UDP-ish payload of `len` bytes, DF as given.
    fn ipv4_frame(
        dst_mac: dataplane::wire::MacAddr,
        src: std::net::Ipv4Addr,
        dst: std::net::Ipv4Addr,
        len: usize,
        df: bool,
    ) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + len];
        ethernet::emit_header(&mut f, dst_mac, OTHER_MAC, ethernet::ethertype::IPV4);
        let repr = ipv4::Ipv4Repr { src, dst, protocol: 17, ttl: 64, tos: 0, payload_len: len };
        repr.emit(&mut f[14..34]);
        if !df {
            f[20] = 0;
            f[24..26].copy_from_slice(&[0, 0]);
            let c = checksum::fold(checksum::sum(&f[14..34]));
            f[24..26].copy_from_slice(&c.to_be_bytes());
        }
        for (i, b) in f[34..].iter_mut().enumerate() {
            *b = i as u8;
        }
        f
    }

    #[test]
    fn a_packet_larger_than_the_tunnel_mtu_without_df_is_fragmented_then_encapsulated() {
        let rig = Rig::new(64);
        let (_w, fib, publisher) = forwarding(300);
        let big = ipv4_frame(HOME_MAC, CN_V4, HOA, 600, false);
        let tx = rig.exchange_with(1, std::slice::from_ref(&big), fib, publisher);
        assert!(tx[0].len() >= 3, "fragments sent on the core port: {}", tx[0].len());
        let mut payload = Vec::new();
        for (_, f) in &tx[0] {
            assert!(f.len() - 14 <= 300, "outer packet fits the path MTU");
            let outer = ipv4::Packet::new_checked(&f[14..]).unwrap();
            assert!(outer.verify_checksum());
            let g = gre::Packet::new_checked(outer.payload()).unwrap();
            assert_eq!(g.key(), Some(200));
            let inner = ipv4::Packet::new_checked(g.payload()).unwrap();
            assert!(inner.verify_checksum());
            assert_eq!(usize::from(inner.frag_offset()), payload.len());
            payload.extend_from_slice(inner.payload());
        }
        assert_eq!(payload, &big[34..]);
    }

    /// RFC 3519 / §12.5: a UDP tunnel fragments the inner packet before
    /// encapsulation, so that every fragment carries the UDP and MIP
    /// tunnel headers.
    #[test]
    fn a_mip_udp_tunnel_fragments_the_inner_packet_so_each_piece_carries_udp() {
        let rig = Rig::new(64);
        let (_w, fib, publisher) = forwarding(300);
        let mut state = (*publisher.current()).clone();
        let mut spec = state.tunnel(0).unwrap().spec.clone();
        (spec.kind, spec.key_in, spec.key_out, spec.peer_port) = (TunnelKind::MipUdp, None, None, 1434);
        state.tunnels.set(0, Some(Tunnel::new(spec, CORE_MAC, Some(MAG_MAC))));
        publisher.publish(state);
        let big = ipv4_frame(HOME_MAC, CN_V4, HOA, 600, false);
        let tx = rig.exchange_with(1, std::slice::from_ref(&big), fib, publisher);
        assert!(tx[0].len() >= 3, "fragments sent on the core port: {}", tx[0].len());
        let mut payload = Vec::new();
        for (_, f) in &tx[0] {
            assert!(f.len() - 14 <= 300, "outer packet fits the path MTU");
            let outer = ipv4::Packet::new_checked(&f[14..]).unwrap();
            assert_eq!(outer.protocol(), 17);
            let udp = &outer.payload()[..8];
            assert_eq!((&udp[0..2], &udp[2..4]), (&434u16.to_be_bytes()[..], &1434u16.to_be_bytes()[..]));
            let mip = &outer.payload()[8..12];
            assert_eq!(&mip[..2], &[4, 4], "MIP tunnel data, next header IPv4");
            let inner = ipv4::Packet::new_checked(&outer.payload()[12..]).unwrap();
            assert!(inner.verify_checksum());
            assert_eq!(usize::from(inner.frag_offset()), payload.len());
            payload.extend_from_slice(inner.payload());
        }
        assert_eq!(payload, &big[34..]);
    }

    #[test]
    fn too_big_with_df_gets_fragmentation_needed_back_to_the_sender() {
        let rig = Rig::new(64);
        let (_w, fib, publisher) = forwarding(300);
        let tx = rig.exchange_with(1, &[ipv4_frame(HOME_MAC, CN_V4, HOA, 600, true)], fib, publisher);
        let f = only(&tx[1]);
        let icmp = &f[34..];
        assert_eq!((icmp[0], icmp[1], u16::from_be_bytes([icmp[6], icmp[7]])), (3, 4, 300 - 24 - 4));
        assert!(tx[0].is_empty());
    }

    /// Two mobile nodes of this anchor: a packet from one to the other goes
    /// from the first tunnel straight into the second (one hop: TTL - 1),
    /// both when the worker's express check takes the uplink (a plain inner
    /// header) and when the general classifier does (an inner header with
    /// options).
    #[test]
    fn a_packet_between_two_mobile_nodes_goes_from_one_tunnel_into_the_other() {
        const HOA2: std::net::Ipv4Addr = std::net::Ipv4Addr::new(203, 0, 113, 20);
        let (mut w, fib, publisher) = forwarding(1500);
        // The second node's tunnel: GRE to another MAG with its own keys.
        let mut state = (*publisher.current()).clone();
        let mut spec = TunnelSpec::new(TunnelKind::Gre, CORE_V4.into(), [192, 0, 2, 3].into());
        (spec.key_in, spec.key_out) = (Some(300), Some(400));
        state.tunnels.set(1, Some(Tunnel::new(spec, CORE_MAC, Some(OTHER_MAC))));
        publisher.publish(state);
        w.insert(FibKey::V4 { vrf: 0, addr: HOA2 }, FibEntry { session: 2, tunnel: 1 }).unwrap();
        for options in [false, true] {
            let rig = Rig::new(64);
            let mut inner = ipv4_frame(CORE_MAC, HOA, HOA2, 64, false);
            if options {
                // A 24-byte header (NOP options): not the express path's.
                inner.splice(34..34, [1u8, 1, 1, 0]);
                inner[14] = 0x46;
                let total = (inner.len() - 14) as u16;
                inner[16..18].copy_from_slice(&total.to_be_bytes());
                inner[24..26].fill(0);
                let c = checksum::fold(checksum::sum(&inner[14..38]));
                inner[24..26].copy_from_slice(&c.to_be_bytes());
            }
            let mut outer = vec![0u8; 14 + 20 + 8];
            ethernet::emit_header(&mut outer, CORE_MAC, MAG_MAC, ethernet::ethertype::IPV4);
            let payload_len = 8 + inner.len() - 14;
            let repr = ipv4::Ipv4Repr { src: MAG_V4, dst: CORE_V4, protocol: 47, ttl: 64, tos: 0, payload_len };
            repr.emit(&mut outer[14..34]);
            outer[34..42].copy_from_slice(&[0x20, 0, 0x08, 0, 0, 0, 0, 100]);
            outer.extend_from_slice(&inner[14..]);
            let tx = rig.exchange_with(0, &[outer], fib.clone(), publisher.clone());
            assert!(tx[1].is_empty(), "nothing to the home side (options {options})");
            assert_eq!(tx[0].len(), 1, "one packet back on the core port");
            let f = &tx[0][0].1;
            assert_eq!(&f[0..6], &OTHER_MAC.0, "towards the second node's MAG");
            let ip = ipv4::Packet::new_checked(&f[14..]).unwrap();
            assert_eq!(ip.dst_addr(), std::net::Ipv4Addr::new(192, 0, 2, 3));
            let g = gre::Packet::new_checked(ip.payload()).unwrap();
            assert_eq!(g.key(), Some(400), "the second tunnel's key");
            let hop = ipv4::Packet::new_checked(g.payload()).unwrap();
            assert_eq!((hop.src_addr(), hop.dst_addr(), hop.ttl()), (HOA, HOA2, 63), "one hop");
            assert!(hop.verify_checksum());
        }
    }

    #[test]
    fn an_uplink_arriving_as_outer_fragments_is_reassembled_and_decapsulated() {
        let rig = Rig::new(64);
        let (_w, fib, publisher) = forwarding(1500);
        // The MAG's GRE packet: outer 192.0.2.2 -> 192.0.2.1, key 100, inner HoA -> CN.
        let inner = ipv4_frame(CORE_MAC, HOA, CN_V4, 400, false);
        let mut outer = vec![0u8; 14 + 20 + 8];
        ethernet::emit_header(&mut outer, CORE_MAC, MAG_MAC, ethernet::ethertype::IPV4);
        let repr = ipv4::Ipv4Repr { src: MAG_V4, dst: CORE_V4, protocol: 47, ttl: 64, tos: 0, payload_len: 8 + 420 };
        repr.emit(&mut outer[14..34]);
        outer[20] = 0; // DF clear so that it may be fragmented
        outer[18..20].copy_from_slice(&[0x43, 0x21]);
        outer[34..42].copy_from_slice(&[0x20, 0, 0x08, 0, 0, 0, 0, 100]);
        outer.extend_from_slice(&inner[14..]);
        outer[24..26].copy_from_slice(&[0, 0]);
        let c = checksum::fold(checksum::sum(&outer[14..34]));
        outer[24..26].copy_from_slice(&c.to_be_bytes());
        let frags = crate::slowpath::fragment_v4(&outer[14..], 200).unwrap();
        let frames: Vec<Vec<u8>> = frags.iter().map(|f| [&outer[..14], &f[..]].concat()).collect();
        let tx = rig.exchange_with(0, &frames, fib, publisher);
        let f = only(&tx[1]);
        let mut want = inner.clone();
        want[0..6].copy_from_slice(&OTHER_MAC.0);
        want[6..12].copy_from_slice(&HOME_MAC.0);
        let ip = ipv4::Packet::new_checked(&f[14..]).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(ip.ttl(), 63);
        assert_eq!(&f[..12], &want[..12]);
        assert_eq!(&f[34..], &want[34..]);
    }

    #[test]
    fn an_uplink_whose_inner_ttl_expires_gets_time_exceeded_back_through_its_tunnel() {
        let rig = Rig::new(64);
        let (_w, fib, publisher) = forwarding(1500);
        let mut inner = ipv4_frame(CORE_MAC, HOA, CN_V4, 20, true);
        inner[22] = 1; // TTL
        inner[24..26].copy_from_slice(&[0, 0]);
        let c = checksum::fold(checksum::sum(&inner[14..34]));
        inner[24..26].copy_from_slice(&c.to_be_bytes());
        let mut f = vec![0u8; 14 + 20 + 8];
        ethernet::emit_header(&mut f, CORE_MAC, MAG_MAC, ethernet::ethertype::IPV4);
        let repr = ipv4::Ipv4Repr { src: MAG_V4, dst: CORE_V4, protocol: 47, ttl: 64, tos: 0, payload_len: 8 + 40 };
        repr.emit(&mut f[14..34]);
        f[34..42].copy_from_slice(&[0x20, 0, 0x08, 0, 0, 0, 0, 100]);
        f.extend_from_slice(&inner[14..]);
        let tx = rig.exchange_with(0, &[f], fib, publisher);
        let out = only(&tx[0]);
        let outer = ipv4::Packet::new_checked(&out[14..]).unwrap();
        assert_eq!(outer.dst_addr(), MAG_V4);
        let g = gre::Packet::new_checked(outer.payload()).unwrap();
        assert_eq!(g.key(), Some(200), "down the binding's own tunnel");
        let ip = ipv4::Packet::new_checked(g.payload()).unwrap();
        assert_eq!(ip.dst_addr(), HOA);
        let icmp = icmpv4::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!((icmp.msg_type(), icmp.code()), (11, 0));
        assert!(tx[1].is_empty(), "nothing forwarded to the correspondent");
    }
}
