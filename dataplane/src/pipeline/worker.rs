//! The worker loop: for every port, receive a burst on this worker's
//! queues and handle it in two passes, then send per egress port in one
//! burst; punts go to the control thread in one ring operation per burst.
//! No allocation, lock, atomic read-modify-write or logging in here.
//!
//! Pass 1 classifies each packet. The express check comes first
//! ([`express`]: plain IPv4 or IPv6 transit, or GRE-in-IPv4 to us around IPv4, the
//! bulk of a mobility anchor's traffic) and records a few words; anything
//! else gets the general classifier's [`Verdict`]. Either way the packet's
//! forwarding-table probe is started: key hashed, home bucket prefetched,
//! so that the burst's cache misses overlap.
//!
//! Pass 2 finishes each probe and acts: express packets are encapsulated
//! with the tunnel's constant-size header window
//! ([`encap::express`]) or checked against their session (§12.6) and
//! decapsulated ([`decap::express_v4`]) with the burst's last route reused;
//! whatever the express nodes decline (TTL expiring, too big, no headroom,
//! ECN drop, unresolved next hop...) and every general packet go through
//! [`downlink`] / [`uplink`], which decide exactly as the standards say.
//! Per-kind counters of the express nodes are added once per burst.

use core::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use crate::addrs::PortAddrs;
use crate::counters::{add, DropReason, WorkerCounters};
use crate::fib::{FibEntry, FibKey, FibReader, Probe};
use crate::port::{PacketBuf, Port, PuntRing, QueueId, BURST_MAX};
use crate::route::{Egress, ForwardingState, RouteMiss, StateReader};
use crate::tunnel::decap::{self, DecapError, Uplink};
use crate::tunnel::encap::{self, EncapError};
use crate::tunnel::{Tunnel, TunnelKind};

use super::classify::{classify, express, nested_uplink, Express, ExpressAddrs, ExpressUp, Verdict};

/// Why a packet was punted, left in the buffer's meta word for the control
/// thread. The low 16 bits carry an argument (an MTU).
pub mod punt_reason {
    /// Addressed to us (ARP, ND, ICMP...).
    pub const LOCAL: u32 = 0;
    /// Inner TTL expired on the downlink: send ICMP Time Exceeded.
    pub const TTL_EXPIRED: u32 = 1 << 24;
    /// Too big for the tunnel: send fragmentation needed / Packet Too Big
    /// with the MTU in the low 16 bits.
    pub const TOO_BIG: u32 = 2 << 24;
    /// The next hop of a decapsulated packet is unresolved: resolve it.
    pub const RESOLVE: u32 = 3 << 24;
    /// Larger than the tunnel MTU and fragmentable: fragment, then encapsulate.
    pub const FRAGMENT: u32 = 4 << 24;
    /// An outer fragment addressed to us: reassemble, then decapsulate.
    pub const REASSEMBLE: u32 = 5 << 24;
    /// Inner TTL expired on the uplink: ICMP Time Exceeded to the mobile
    /// node, encapsulated in its tunnel.
    pub const UPLINK_TTL_EXPIRED: u32 = 6 << 24;
    pub const KIND_MASK: u32 = 0xff << 24;
}

/// The lookup key of an address: IPv4 HoA, or IPv6 /64 prefix first (HNP)
/// and the /128 home address as the fallback.
#[inline]
pub fn key_of(a: IpAddr) -> FibKey {
    match a {
        IpAddr::V4(addr) => FibKey::V4 { vrf: 0, addr },
        IpAddr::V6(addr) => FibKey::v6_prefix(0, addr),
    }
}

/// The /128 fallback lookup of an IPv6 address (after the /64 missed).
#[inline]
pub fn lookup_host(fib: &FibReader, a: IpAddr) -> Option<FibEntry> {
    match a {
        IpAddr::V6(addr) => fib.lookup(&FibKey::V6Host { vrf: 0, addr }),
        IpAddr::V4(_) => None,
    }
}

/// How pass 2 of a burst handles a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Plain IPv4 transit (see [`express`]): express encapsulation.
    Down,
    /// IPv6 transit (see [`express`]): express encapsulation.
    Down6,
    /// GRE over IPv4 carrying IPv4 (see [`express`]): express decapsulation.
    Up,
    /// General path with a lookup of its key.
    Lookup,
    /// General path, nothing to look up.
    Other,
}

#[inline(always)]
fn v4_key(addr: u32) -> FibKey {
    FibKey::V4 { vrf: 0, addr: addr.into() }
}

/// One port's pending transmissions within a burst.
struct TxBatch<B> {
    bufs: [Option<B>; BURST_MAX],
    len: usize,
}

/// One worker's view of the ports: its RX queues and its own TX queue on
/// each, its punt ring, the forwarding table and state, and its counters.
pub struct Worker<'a, P: Port, R: PuntRing<P::Buf>> {
    ports: &'a [P],
    addrs: &'a [PortAddrs],
    index: usize,
    tx_queue: QueueId,
    /// Per port, the RX queues this worker polls.
    rx_queues: Vec<Vec<QueueId>>,
    punt: &'a R,
    counters: &'a WorkerCounters,
    fib: FibReader,
    state: StateReader,
    burst: usize,
    ip_id: u16,
    /// Per port, the fast classifier's addresses (None: general path only).
    express: Vec<Option<ExpressAddrs>>,
    rx: [Option<P::Buf>; BURST_MAX],
    /// Per packet of the burst: its class, and what pass 2 needs of it
    /// (the express path's destination, the general path's verdict and
    /// key, the lookup begun for either).
    class: [Class; BURST_MAX],
    dst4: [u32; BURST_MAX],
    dst6: [u128; BURST_MAX],
    ups: [ExpressUp; BURST_MAX],
    verdicts: [Verdict; BURST_MAX],
    keys: [FibKey; BURST_MAX],
    probes: [Probe; BURST_MAX],
    punts: [Option<P::Buf>; BURST_MAX],
    tx: Vec<TxBatch<P::Buf>>,
}

impl<'a, P: Port, R: PuntRing<P::Buf>> Worker<'a, P, R> {
    /// Worker `index` of `workers`: `addrs[i]` are the addresses of
    /// `ports[i]`; it polls RX queues index, index + workers, ... of each
    /// port and transmits on TX queue `index`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ports: &'a [P],
        addrs: &'a [PortAddrs],
        index: usize,
        workers: usize,
        punt: &'a R,
        counters: &'a WorkerCounters,
        fib: FibReader,
        state: StateReader,
        burst: usize,
    ) -> Self {
        let rx_queues = ports
            .iter()
            .map(|p| {
                (index..usize::from(p.rx_queues()))
                    .step_by(workers.max(1))
                    .filter_map(|q| u16::try_from(q).ok())
                    .map(QueueId)
                    .collect()
            })
            .collect();
        let unspecified = FibKey::V4 { vrf: 0, addr: core::net::Ipv4Addr::UNSPECIFIED };
        Worker {
            ports,
            addrs,
            index,
            tx_queue: QueueId(u16::try_from(index).unwrap_or(u16::MAX)),
            rx_queues,
            punt,
            counters,
            fib,
            state,
            burst: burst.clamp(1, BURST_MAX),
            ip_id: 0,
            express: addrs.iter().map(ExpressAddrs::new).collect(),
            rx: [const { None }; BURST_MAX],
            class: [Class::Other; BURST_MAX],
            dst4: [0; BURST_MAX],
            dst6: [0; BURST_MAX],
            ups: [ExpressUp::default(); BURST_MAX],
            verdicts: [Verdict::Punt; BURST_MAX],
            keys: [unspecified; BURST_MAX],
            probes: [Probe::default(); BURST_MAX],
            punts: [const { None }; BURST_MAX],
            tx: ports.iter().map(|_| TxBatch { bufs: [const { None }; BURST_MAX], len: 0 }).collect(),
        }
    }

    /// One round over every port; returns how many packets it received.
    pub fn poll(&mut self) -> usize {
        let mut total = 0;
        let (ports, all_addrs) = (self.ports, self.addrs);
        for (index, (port, addrs)) in ports.iter().zip(all_addrs).enumerate() {
            for q in 0..self.rx_queues[index].len() {
                let queue = self.rx_queues[index][q];
                total += self.poll_queue(index, port, queue, addrs);
            }
        }
        add(&self.counters.polls, 1);
        self.fib.quiescent(self.index);
        total
    }

    fn poll_queue(&mut self, index: usize, port: &P, queue: QueueId, addrs: &PortAddrs) -> usize {
        let n = port.rx_burst(queue, &mut self.rx[..self.burst]);
        if n == 0 {
            return 0;
        }
        add(&self.counters.port(index).rx, n as u64);
        let fib = self.fib.burst();

        // Pass 1: classify; start the lookup of each packet that needs one
        // (its bucket's line is requested now and used in pass 2). The
        // headers of the whole burst are prefetched first.
        for b in self.rx[..n].iter().flatten() {
            b.prefetch();
        }
        let express_addrs = self.express.get(index).copied().flatten();
        for i in 0..n {
            let Some(buf) = self.rx[i].as_ref() else {
                self.class[i] = Class::Other;
                continue;
            };
            match express_addrs.and_then(|x| express(buf.data(), &x)) {
                Some(Express::Down(dst)) => {
                    self.class[i] = Class::Down;
                    self.dst4[i] = dst;
                    self.probes[i] = fib.start(&v4_key(dst));
                    continue;
                }
                Some(Express::Down6(dst)) => {
                    self.class[i] = Class::Down6;
                    self.dst6[i] = dst;
                    self.probes[i] = fib.start(&key_of(IpAddr::V6(dst.into())));
                    continue;
                }
                Some(Express::Up(up)) => {
                    self.class[i] = Class::Up;
                    self.ups[i] = up;
                    self.probes[i] = fib.start(&v4_key(up.inner_src));
                    continue;
                }
                None => {}
            }
            let v = classify(buf.data(), addrs);
            let key = match v {
                Verdict::Downlink { dst, .. } => Some(key_of(dst)),
                Verdict::Uplink(up) => Some(key_of(up.inner_src)),
                _ => None,
            };
            self.class[i] = match key {
                Some(k) => {
                    self.keys[i] = k;
                    self.probes[i] = fib.start(&k);
                    Class::Lookup
                }
                None => Class::Other,
            };
            self.verdicts[i] = v;
        }

        // Pass 2: finish the lookups and act on each packet.
        let state: &ForwardingState = self.state.load();
        let mut encaps = [0u64; TunnelKind::ALL.len()];
        let mut decaps = 0u64;
        // The uplink's last route within this burst (the state is fixed
        // for the burst): most packets of a burst go to the same place.
        let mut route_cache: Option<(u32, Egress)> = None;
        // Consecutive packets of one session and direction are counted
        // together: (tunnel slot, towards the node, packets, bytes).
        let mut run: (u32, bool, u64, u64) = (u32::MAX, false, 0, 0);
        let mut npunt = 0;
        for i in 0..n {
            let Some(mut buf) = self.rx[i].take() else {
                continue;
            };
            // The session the packet belongs to, and whether it goes
            // towards the mobile node: counted once it is sent.
            let session: Option<(u32, bool)>;
            let outcome = match self.class[i] {
                Class::Down => {
                    let entry = fib.finish(&v4_key(self.dst4[i]), self.probes[i]);
                    session = entry.map(|e| (e.tunnel, true));
                    express_down(
                        &mut buf,
                        entry,
                        false,
                        &self.fib,
                        state,
                        &mut encaps,
                        &mut self.ip_id,
                        self.counters,
                        index,
                    )
                }
                Class::Down6 => {
                    let dst = IpAddr::V6(self.dst6[i].into());
                    let entry = fib.finish(&key_of(dst), self.probes[i]).or_else(|| lookup_host(&self.fib, dst));
                    session = entry.map(|e| (e.tunnel, true));
                    express_down(
                        &mut buf,
                        entry,
                        true,
                        &self.fib,
                        state,
                        &mut encaps,
                        &mut self.ip_id,
                        self.counters,
                        index,
                    )
                }
                Class::Up => {
                    let up = self.ups[i];
                    let entry = fib.finish(&v4_key(up.inner_src), self.probes[i]);
                    session = entry.map(|e| (e.tunnel, false));
                    match tunnel_of(state, entry) {
                        None => {
                            self.counters.drop(index, DropReason::NoBinding);
                            Err(None)
                        }
                        // §12.6: outer source, encapsulation and key of the session.
                        Some(t)
                            if t.spec.kind != TunnelKind::Gre
                                || t.spec.remote != IpAddr::V4(up.outer_src.into())
                                || t.spec.key_in != up.key =>
                        {
                            self.counters.drop(index, DropReason::Spoofed);
                            Err(None)
                        }
                        Some(_) => {
                            let dst = IpAddr::V4(up.inner_dst.into());
                            let egress = match route_cache {
                                Some((cached, e)) if cached == up.inner_dst => Some(e),
                                // To another mobile node: the general node's hairpin.
                                _ if state.is_mobile(dst) => None,
                                _ => state.egress(dst).ok(),
                            };
                            match egress {
                                Some(e)
                                    if decap::express_v4(
                                        &mut buf,
                                        usize::from(up.inner_off),
                                        usize::from(up.inner_len),
                                        up.outer_ecn,
                                        e.src,
                                        e.dst,
                                    ) =>
                                {
                                    route_cache = Some((up.inner_dst, e));
                                    decaps += 1;
                                    Ok(e.port)
                                }
                                // The general path gives the precise outcome
                                // (unresolved next hop, TTL, ECN drop...).
                                _ => {
                                    let v = classify(buf.data(), addrs);
                                    general(&mut buf, v, entry, &self.fib, state, &mut self.ip_id, self.counters, index)
                                }
                            }
                        }
                    }
                }
                class => {
                    let entry = match class {
                        Class::Lookup => fib.finish(&self.keys[i], self.probes[i]),
                        _ => None,
                    };
                    session = match self.verdicts[i] {
                        Verdict::Downlink { .. } => entry.map(|e| (e.tunnel, true)),
                        Verdict::Uplink(_) => entry.map(|e| (e.tunnel, false)),
                        _ => None,
                    };
                    general(&mut buf, self.verdicts[i], entry, &self.fib, state, &mut self.ip_id, self.counters, index)
                }
            };
            match outcome {
                Ok(egress) => {
                    let Some(batch) = self.tx.get_mut(egress) else {
                        self.counters.drop(index, DropReason::NoBinding);
                        continue;
                    };
                    if let Some((slot, down)) = session {
                        let bytes = buf.data().len() as u64;
                        if (slot, down) == (run.0, run.1) {
                            run.2 += 1;
                            run.3 += bytes;
                        } else {
                            self.counters.sessions.count(run.0, run.1, run.2, run.3);
                            run = (slot, down, 1, bytes);
                        }
                    }
                    batch.bufs[batch.len] = Some(buf);
                    batch.len += 1;
                }
                Err(Some(reason)) => {
                    buf.set_rx_port(port.id());
                    buf.set_meta(reason);
                    self.punts[npunt] = Some(buf);
                    npunt += 1;
                }
                Err(None) => drop(buf),
            }
        }
        self.counters.sessions.count(run.0, run.1, run.2, run.3);
        for (counter, &count) in self.counters.encap.iter().zip(&encaps) {
            if count != 0 {
                add(counter, count);
            }
        }
        if decaps != 0 {
            add(&self.counters.decap[TunnelKind::Gre.index()], decaps);
        }

        self.flush_tx();
        if npunt > 0 {
            let pc = self.counters.port(index);
            let sent = self.punt.enqueue_burst(&mut self.punts[..npunt]);
            add(&pc.punted, sent as u64);
            let full = (npunt - sent) as u64;
            if full > 0 {
                add(&pc.punt_ring_full, full);
                add(&pc.dropped, full);
                self.punts[sent..npunt].iter_mut().for_each(|b| drop(b.take()));
            }
        }
        n
    }

    fn flush_tx(&mut self) {
        for (index, batch) in self.tx.iter_mut().enumerate() {
            if batch.len == 0 {
                continue;
            }
            let Some(port) = self.ports.get(index) else {
                continue;
            };
            let sent = port.tx_burst(self.tx_queue, &mut batch.bufs[..batch.len]);
            let pc = self.counters.port(index);
            add(&pc.tx, sent as u64);
            let unsent = batch.len - sent;
            if unsent > 0 {
                add(&pc.tx_full, unsent as u64);
                add(&pc.dropped, unsent as u64);
                batch.bufs[sent..batch.len].iter_mut().for_each(|b| drop(b.take()));
            }
            batch.len = 0;
        }
    }

    /// Polls until `stop` is set. With a non-zero `idle_backoff` the worker
    /// sleeps that long after a round that received nothing (VMs, CI).
    /// The worker is offline for reclamation once it returns.
    pub fn run(&mut self, stop: &AtomicBool, idle_backoff: Duration) {
        self.fib.online(self.index);
        while !stop.load(Relaxed) {
            if self.poll() == 0 && !idle_backoff.is_zero() {
                self.fib.offline(self.index);
                std::thread::sleep(idle_backoff);
                self.fib.online(self.index);
            }
        }
        self.fib.offline(self.index);
    }
}

/// Outcome of one packet: Ok(egress port), Err(Some(punt reason)), or
/// Err(None) when dropped (already counted).
pub type Outcome = Result<usize, Option<u32>>;

/// Express encapsulation of a packet whose lookup gave `entry` (counted in
/// `encaps`); the general downlink node when the express one declines.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn express_down<B: PacketBuf>(
    buf: &mut B,
    entry: Option<FibEntry>,
    inner_v6: bool,
    fib: &FibReader,
    state: &ForwardingState,
    encaps: &mut [u64; TunnelKind::ALL.len()],
    ip_id: &mut u16,
    c: &WorkerCounters,
    port: usize,
) -> Outcome {
    let Some(t) = tunnel_of(state, entry) else {
        c.drop(port, DropReason::NoBinding);
        return Err(None);
    };
    match &t.express[usize::from(inner_v6)] {
        Some(x) if encap::express(buf, x, inner_v6, ip_id) => {
            encaps[t.spec.kind.index()] += 1;
            Ok(t.spec.port)
        }
        _ => downlink(buf, 14, entry, fib, state, ip_id, c, port),
    }
}

/// A packet on the general path, by its verdict; `entry` is the result of
/// the lookup of its key, if it had one.
#[allow(clippy::too_many_arguments)]
#[inline]
fn general<B: PacketBuf>(
    buf: &mut B,
    verdict: Verdict,
    entry: Option<FibEntry>,
    fib: &FibReader,
    state: &ForwardingState,
    ip_id: &mut u16,
    c: &WorkerCounters,
    port: usize,
) -> Outcome {
    match verdict {
        Verdict::Punt => Err(Some(punt_reason::LOCAL)),
        Verdict::Reassemble => Err(Some(punt_reason::REASSEMBLE)),
        Verdict::Drop(reason) => {
            c.drop(port, reason);
            Err(None)
        }
        Verdict::Downlink { l3_off, dst } => {
            let entry = entry.or_else(|| lookup_host(fib, dst));
            downlink(buf, l3_off, entry, fib, state, ip_id, c, port)
        }
        Verdict::Uplink(up) => {
            let entry = entry.or_else(|| lookup_host(fib, up.inner_src));
            uplink(buf, &up, entry, fib, state, ip_id, c, port)
        }
    }
}

#[inline]
fn tunnel_of(state: &ForwardingState, entry: Option<FibEntry>) -> Option<&Tunnel> {
    entry.and_then(|e| state.tunnel(e.tunnel))
}

/// Downlink node: encapsulate into the entry's tunnel. A nested tunnel's
/// packet (IPv6 in IPv4 to a DSMIPv4 node's home address, RFC 5454 §9.2)
/// then goes into the home address's own tunnel.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn downlink<B: PacketBuf>(
    buf: &mut B,
    l3_off: usize,
    entry: Option<FibEntry>,
    fib: &FibReader,
    state: &ForwardingState,
    ip_id: &mut u16,
    c: &WorkerCounters,
    port: usize,
) -> Outcome {
    let Some(t) = tunnel_of(state, entry) else {
        c.drop(port, DropReason::NoBinding);
        return Err(None);
    };
    if is_tunnel_loop(buf.data(), l3_off, t) {
        c.drop(port, DropReason::TunnelLoop);
        return Err(None);
    }
    let outcome = encap_into(buf, l3_off, t, ip_id, c, port)?;
    if !t.spec.nested {
        return Ok(outcome);
    }
    // The outer tunnel, one level only; the first encapsulation's MTU is
    // the outer tunnel's inner MTU (set by the control thread), so what
    // fails here is no neighbour or no binding: dropped and counted. A
    // home address with no binding is on its native home link (the
    // extended home link, PROTOCOLS.md §11.4): routed there.
    let outer = match t.spec.remote {
        IpAddr::V4(hoa) => fib.lookup(&v4_key(u32::from(hoa))),
        IpAddr::V6(hoa) => fib.lookup(&key_of(hoa.into())).or_else(|| lookup_host(fib, hoa.into())),
    };
    match tunnel_of(state, outer) {
        Some(o) if !o.spec.nested => encap_into(buf, 14, o, ip_id, c, port).map_err(|_| None),
        Some(_) => {
            c.drop(port, DropReason::NoBinding);
            Err(None)
        }
        None => match state.egress(t.spec.remote) {
            Ok(e) => {
                let f = buf.data_mut();
                f[0..6].copy_from_slice(&e.dst.0);
                f[6..12].copy_from_slice(&e.src.0);
                Ok(e.port)
            }
            Err(RouteMiss::Unresolved { port: out, .. }) => {
                // Addressed to our MAC, so that the control thread's
                // classifier sees the packet it must resolve a hop for.
                if let Some(mac) = state.port_macs.get(out) {
                    buf.data_mut()[0..6].copy_from_slice(&mac.0);
                }
                c.drop(port, DropReason::NoNeighbor);
                Err(Some(punt_reason::RESOLVE))
            }
            Err(RouteMiss::NoRoute) => {
                c.drop(port, DropReason::NoBinding);
                Err(None)
            }
        },
    }
}

/// RFC 5944 §4.2.2 (PROTOCOLS.md §8.13): an IP-in-IP packet for a home
/// address that comes from the far end of the home address's tunnel and
/// whose inner destination is that home address again would only go back
/// where it came from.
#[inline]
fn is_tunnel_loop(frame: &[u8], l3_off: usize, t: &Tunnel) -> bool {
    let (Some(p), IpAddr::V4(remote)) = (frame.get(l3_off..), t.spec.remote) else { return false };
    if p.len() < 40 || p[0] >> 4 != 4 || p[9] != 4 || p[12..16] != remote.octets() {
        return false;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    p.get(ihl + 16..ihl + 20) == Some(&p[16..20])
}

/// Encapsulates into `t` and counts it, or counts the failure and says
/// what becomes of the packet.
#[inline]
fn encap_into<B: PacketBuf>(
    buf: &mut B,
    l3_off: usize,
    t: &Tunnel,
    ip_id: &mut u16,
    c: &WorkerCounters,
    port: usize,
) -> Outcome {
    match encap::encapsulate(buf, l3_off, t, ip_id) {
        Ok(()) => {
            add(&c.encap[t.spec.kind.index()], 1);
            Ok(t.spec.port)
        }
        Err(e) => {
            let (reason, punt) = match e {
                EncapError::TtlExceeded => (DropReason::TtlExpired, Some(punt_reason::TTL_EXPIRED)),
                EncapError::TooBig { mtu } => (DropReason::TooBig, Some(punt_reason::TOO_BIG | u32::from(mtu))),
                EncapError::NeedsFragmentation => return Err(Some(punt_reason::FRAGMENT)),
                EncapError::NoNeighbor => (DropReason::NoNeighbor, None),
                EncapError::NoHeadroom => (DropReason::NoHeadroom, None),
                EncapError::Malformed => (DropReason::InnerMalformed, None),
            };
            c.drop(port, reason);
            Err(punt)
        }
    }
}

/// The inner destination of an uplink packet.
#[inline]
pub fn inner_dst(frame: &[u8], up: &Uplink) -> Option<IpAddr> {
    let inner = frame.get(up.inner_off..)?;
    if up.inner_v4 {
        let b: [u8; 4] = inner.get(16..20)?.try_into().ok()?;
        Some(IpAddr::from(b))
    } else {
        let b: [u8; 16] = inner.get(24..40)?.try_into().ok()?;
        Some(IpAddr::from(b))
    }
}

/// Uplink node: anti-spoofing check, route the inner packet, decapsulate.
/// A packet to another mobile node of this anchor goes straight into that
/// node's tunnel (one hop through the anchor) instead of to the home side.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn uplink<B: PacketBuf>(
    buf: &mut B,
    up: &Uplink,
    entry: Option<FibEntry>,
    fib: &FibReader,
    state: &ForwardingState,
    ip_id: &mut u16,
    c: &WorkerCounters,
    port: usize,
) -> Outcome {
    let Some(t) = tunnel_of(state, entry) else {
        c.drop(port, DropReason::NoBinding);
        return Err(None);
    };
    if !decap::matches(t, up) {
        // Signalling to us from a node on its home link behind a MAG while
        // its own binding still holds its address elsewhere (a DSMIPv6
        // Binding Update in UDP 4191, PROTOCOLS.md §11.4): for the control
        // thread, which authenticates it; anything else is spoofed.
        if up.inner_to_us && is_dsmip6_signalling(buf.data(), up) {
            return match decap::decapsulate_keeping_ttl(buf, up) {
                Ok(()) => Err(Some(punt_reason::LOCAL)),
                Err(e) => decap_failed(e, c, port),
            };
        }
        c.drop(port, DropReason::Spoofed);
        return Err(None);
    }
    let Some(dst) = inner_dst(buf.data(), up) else {
        c.drop(port, DropReason::InnerMalformed);
        return Err(None);
    };
    if (dst == t.spec.local || up.inner_to_us) && !t.spec.nested {
        // IPv6 in IPv4 (or IPv4 in IPv6) from a home address: nested.
        let protocol = buf.data().get(up.inner_off + if up.inner_v4 { 9 } else { 6 }).copied();
        if (up.inner_v4 && protocol == Some(41)) || (!up.inner_v4 && protocol == Some(4)) {
            return nested(buf, up, fib, state, ip_id, c, port);
        }
        // Addressed to us through the node's own tunnel: signalling of a
        // node on its home link behind a MAG (a DSMIPv6 Binding Update,
        // PROTOCOLS.md §11.4), for the control thread, decapsulated.
        return match decap::decapsulate_keeping_ttl(buf, up) {
            Ok(()) => {
                add(&c.decap[up.kind.index()], 1);
                Err(Some(punt_reason::LOCAL))
            }
            Err(e) => decap_failed(e, c, port),
        };
    }
    if state.is_mobile(dst) {
        if let Some(to) = fib.lookup(&key_of(dst)).or_else(|| lookup_host(fib, dst)) {
            return match decap::decapsulate_keeping_ttl(buf, up) {
                Ok(()) => {
                    add(&c.decap[up.kind.index()], 1);
                    downlink(buf, 14, Some(to), fib, state, ip_id, c, port)
                }
                Err(e) => decap_failed(e, c, port),
            };
        }
    }
    let egress = match state.egress(dst) {
        Ok(e) => e,
        Err(RouteMiss::NoRoute) => {
            c.drop(port, DropReason::NoBinding);
            return Err(None);
        }
        Err(RouteMiss::Unresolved { .. }) => {
            c.drop(port, DropReason::NoNeighbor);
            return Err(Some(punt_reason::RESOLVE));
        }
    };
    match decap::decapsulate(buf, up, egress.src, egress.dst) {
        Ok(()) => {
            add(&c.decap[up.kind.index()], 1);
            Ok(egress.port)
        }
        Err(e) => decap_failed(e, c, port),
    }
}

/// An uplink packet whose inner packet is addressed to the tunnel's own
/// address: IPv6 in IPv4 from a DSMIPv4 node's home address (RFC 5454
/// §9.2). Decapsulated once, then handled as an uplink packet of the
/// nested tunnel, whose source checks (outer source = the home address,
/// inner source in the node's prefixes) apply as to any other.
#[allow(clippy::too_many_arguments)]
fn nested<B: PacketBuf>(
    buf: &mut B,
    up: &Uplink,
    fib: &FibReader,
    state: &ForwardingState,
    ip_id: &mut u16,
    c: &WorkerCounters,
    port: usize,
) -> Outcome {
    if let Err(e) = decap::decapsulate_keeping_ttl(buf, up) {
        return decap_failed(e, c, port);
    }
    add(&c.decap[up.kind.index()], 1);
    let inner = match nested_uplink(buf.data()) {
        Ok(inner) => inner,
        Err(reason) => {
            c.drop(port, reason);
            return Err(None);
        }
    };
    let entry = fib.lookup(&key_of(inner.inner_src)).or_else(|| lookup_host(fib, inner.inner_src));
    match tunnel_of(state, entry) {
        Some(t) if t.spec.nested => uplink(buf, &inner, entry, fib, state, ip_id, c, port),
        _ => {
            c.drop(port, DropReason::Spoofed);
            Err(None)
        }
    }
}

/// Whether an uplink packet's inner packet is DSMIPv6 signalling: IPv4 |
/// UDP to port 4191 (RFC 5555), or IPv6 carrying a Mobility Header
/// (directly or behind Destination Options).
fn is_dsmip6_signalling(frame: &[u8], up: &Uplink) -> bool {
    let Some(p) = frame.get(up.inner_off..) else { return false };
    if !up.inner_v4 {
        return p.len() >= 40 && matches!(p[6], 135 | 60);
    }
    if p.len() < 28 || p[9] != 17 {
        return false;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    p.get(ihl + 2..ihl + 4) == Some(&crate::wire::udp::port::DSMIP6.to_be_bytes()[..])
}

/// Counts a decapsulation that failed and says what becomes of the packet.
fn decap_failed(e: DecapError, c: &WorkerCounters, port: usize) -> Outcome {
    let (reason, punt) = match e {
        DecapError::EcnDrop => (DropReason::EcnDrop, None),
        // The frame is unchanged: the control thread answers the mobile
        // node through its tunnel.
        DecapError::TtlExceeded => (DropReason::TtlExpired, Some(punt_reason::UPLINK_TTL_EXPIRED)),
        DecapError::Malformed => (DropReason::InnerMalformed, None),
    };
    c.drop(port, reason);
    Err(punt)
}

#[cfg(test)]
mod tests {
    //! The nested tunnel of a DSMIPv4 node without Tunneling Mode (RFC 5454
    //! §9.2): IPv6 in IPv4 to the home address, inside the home address's
    //! own tunnel, both ways, with the source checks of both levels.

    use core::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::addrs::Ipv4Cidr;
    use crate::fib::FibWriter;
    use crate::port::mem::MemBuf;
    use crate::port::PortId;
    use crate::route::Route;
    use crate::tunnel::TunnelSpec;
    use crate::wire::MacAddr;

    const US: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const PEER: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
    const CN_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 3]);
    const HA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const COA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
    const HOA: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);
    const MN6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 1, 0, 0, 0, 0x100);
    const CN6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 2);

    /// An Ethernet frame to us with an IPv6 packet (no next header, 8
    /// octets of payload).
    fn v6_frame(src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&US.0);
        f.extend_from_slice(&PEER.0);
        f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 59, 64]);
        f.extend_from_slice(&src.octets());
        f.extend_from_slice(&dst.octets());
        f.extend_from_slice(&[0xab; 8]);
        f
    }

    fn ipip(local: Ipv4Addr, remote: Ipv4Addr, nested: bool, next_hop: Option<MacAddr>) -> Tunnel {
        let mut spec = TunnelSpec::new(TunnelKind::IpIp, local.into(), remote.into());
        spec.nested = nested;
        spec.path_mtu = if nested { 1480 } else { 1500 };
        Tunnel::new(spec, US, next_hop)
    }

    /// The HoA's tunnel to the care-of address (tunnel 0), the prefix's
    /// nested one to the HoA (tunnel 1), and the correspondent's route.
    fn setup() -> (FibWriter, FibReader, ForwardingState) {
        let (mut w, r) = crate::fib::new(64, 1);
        let mut state = ForwardingState::default();
        state.tunnels.set(0, Some(ipip(HA, COA, false, Some(PEER))));
        state.tunnels.set(1, Some(ipip(HA, HOA, true, None)));
        w.insert(FibKey::V4 { vrf: 0, addr: HOA }, FibEntry { session: 1, tunnel: 0 }).unwrap();
        w.insert(FibKey::v6_prefix(0, MN6), FibEntry { session: 1, tunnel: 1 }).unwrap();
        state.routes = vec![Route { prefix: CN6.into(), len: 64, port: 1, via: None }];
        state.neighbors = vec![(1, CN6.into(), CN_MAC)];
        state.port_macs = vec![US, US];
        (w, r, state)
    }

    #[test]
    fn downlink_ipv6_goes_in_ipv4_to_the_home_address_inside_its_tunnel() {
        let (_w, fib, state) = setup();
        let c = WorkerCounters::default();
        let mut buf = MemBuf::from_frame(PortId(1), &v6_frame(CN6, MN6));
        let entry = fib.lookup(&key_of(MN6.into()));
        assert_eq!(downlink(&mut buf, 14, entry, &fib, &state, &mut 0, &c, 1), Ok(0));
        let f = buf.data();
        assert_eq!(f[..6], PEER.0);
        // Outer: HA → CoA, IP-in-IP (4) around IPv4.
        assert_eq!((f[14], f[23], &f[26..30], &f[30..34]), (0x45, 4, &HA.octets()[..], &COA.octets()[..]));
        // Nested: HA → HoA, protocol 41 around IPv6, whose hop limit went down once.
        assert_eq!((f[34], f[43], &f[46..50], &f[50..54]), (0x45, 41, &HA.octets()[..], &HOA.octets()[..]));
        assert_eq!((f[54] >> 4, f[61]), (6, 63));
        assert_eq!(usize::from(u16::from_be_bytes([f[16], f[17]])), f.len() - 14);
        assert_eq!(usize::from(u16::from_be_bytes([f[36], f[37]])), f.len() - 34);
        assert!(crate::wire::ipv4::Packet::new_checked(&f[14..]).unwrap().verify_checksum());
        assert!(crate::wire::ipv4::Packet::new_checked(&f[34..]).unwrap().verify_checksum());
    }

    #[test]
    fn ip_in_ip_from_the_care_of_address_back_to_its_own_home_address_is_a_loop_and_dropped() {
        let (_w, fib, state) = setup();
        let c = WorkerCounters::default();
        let frame = |outer_src: Ipv4Addr, inner_dst: Ipv4Addr| {
            // An IPv4 packet to `inner_dst` in IP-in-IP from `outer_src` to the HoA.
            let mut buf = MemBuf::from_frame(PortId(1), &v6_frame(CN6, MN6));
            encap::encapsulate(&mut buf, 14, &ipip(Ipv4Addr::new(198, 51, 100, 2), inner_dst, false, Some(US)), &mut 0)
                .unwrap();
            encap::encapsulate(&mut buf, 14, &ipip(outer_src, HOA, false, Some(US)), &mut 0).unwrap();
            buf
        };
        let entry = fib.lookup(&key_of(HOA.into()));
        let mut looped = frame(COA, HOA);
        assert_eq!(downlink(&mut looped, 14, entry, &fib, &state, &mut 0, &c, 1), Err(None));
        assert_eq!(c.drops[DropReason::TunnelLoop as usize].load(Relaxed), 1);
        // From elsewhere, or to another inner destination: tunnelled again.
        let mut other = frame(Ipv4Addr::new(198, 51, 100, 7), HOA);
        assert_eq!(downlink(&mut other, 14, entry, &fib, &state, &mut 0, &c, 1), Ok(0));
        let mut other = frame(COA, Ipv4Addr::new(203, 0, 113, 9));
        assert_eq!(downlink(&mut other, 14, entry, &fib, &state, &mut 0, &c, 1), Ok(0));
        assert_eq!(c.drops[DropReason::TunnelLoop as usize].load(Relaxed), 1);
    }

    #[test]
    fn a_nested_tunnel_to_a_home_address_without_a_binding_is_routed_to_its_native_home_link() {
        let (mut w, fib, mut state) = setup();
        // A node at home on the home link 198.51.100.0/24 (port 1): its IPv6
        // goes in IPv4 to its IPv4 home address, which has no binding.
        let at_home = Ipv4Addr::new(198, 51, 100, 50);
        let home_mac = MacAddr([2, 0, 0, 0, 0, 9]);
        let prefix = Ipv6Addr::new(0x2001, 0xdb8, 0x300, 0, 0, 0, 0, 0x10);
        state.tunnels.set(2, Some(ipip(HA, at_home, true, None)));
        w.insert(FibKey::V6Host { vrf: 0, addr: prefix }, FibEntry { session: 3, tunnel: 2 }).unwrap();
        state.routes.push(Route { prefix: at_home.into(), len: 24, port: 1, via: None });
        state.sort_routes();
        let c = WorkerCounters::default();
        let mut buf = MemBuf::from_frame(PortId(1), &v6_frame(CN6, prefix));
        let entry = lookup_host(&fib, prefix.into());
        // The neighbour is not resolved yet: dropped, punted to resolve it.
        assert_eq!(downlink(&mut buf, 14, entry, &fib, &state, &mut 0, &c, 1), Err(Some(punt_reason::RESOLVE)));
        assert_eq!(c.drops[DropReason::NoNeighbor as usize].load(Relaxed), 1);
        state.neighbors.push((1, at_home.into(), home_mac));
        let mut buf = MemBuf::from_frame(PortId(1), &v6_frame(CN6, prefix));
        assert_eq!(downlink(&mut buf, 14, entry, &fib, &state, &mut 0, &c, 1), Ok(1));
        let f = buf.data();
        assert_eq!((&f[0..6], &f[6..12]), (&home_mac.0[..], &US.0[..]));
        assert_eq!((f[23], &f[30..34]), (41, &at_home.octets()[..]));
    }

    /// The mobile node's packet from `src6`: in IPv4 from `inner_src` to
    /// the HA, in IPv4 from the care-of address to the HA.
    fn from_mn(src6: Ipv6Addr, inner_src: Ipv4Addr) -> MemBuf {
        let mut buf = MemBuf::from_frame(PortId(0), &v6_frame(src6, CN6));
        encap::encapsulate(&mut buf, 14, &ipip(inner_src, HA, false, Some(US)), &mut 0).unwrap();
        encap::encapsulate(&mut buf, 14, &ipip(COA, HA, false, Some(US)), &mut 0).unwrap();
        buf
    }

    fn up(buf: &mut MemBuf, fib: &FibReader, state: &ForwardingState, c: &WorkerCounters) -> Outcome {
        let addrs = PortAddrs::new(US, vec![Ipv4Cidr { addr: HA, prefix_len: 24 }], Vec::new());
        let verdict = classify(buf.data(), &addrs);
        let entry = match verdict {
            Verdict::Uplink(up) => fib.lookup(&key_of(up.inner_src)),
            _ => None,
        };
        general(buf, verdict, entry, fib, state, &mut 0, c, 0)
    }

    #[test]
    fn uplink_ipv6_in_ipv4_from_the_home_address_is_unwrapped_twice_and_routed() {
        let (_w, fib, state) = setup();
        let c = WorkerCounters::default();
        let mut buf = from_mn(MN6, HOA);
        assert_eq!(up(&mut buf, &fib, &state, &c), Ok(1));
        let f = buf.data();
        assert_eq!((&f[..6], &f[12..14]), (&CN_MAC.0[..], &[0x86, 0xdd][..]));
        assert_eq!(&f[22..38], &MN6.octets()[..]);
        assert_eq!(f[21], 62, "one hop for the anchor after the mobile node's encapsulation");
        assert_eq!(f.len(), 14 + 48);
    }

    #[test]
    fn uplink_nested_packets_with_a_wrong_source_at_either_level_are_spoofed() {
        let (mut w, fib, state) = setup();
        // Another node's home address behind the same care-of address.
        let other = Ipv4Addr::new(203, 0, 113, 6);
        w.insert(FibKey::V4 { vrf: 0, addr: other }, FibEntry { session: 2, tunnel: 0 }).unwrap();
        let c = WorkerCounters::default();
        let spoofed = |c: &WorkerCounters| c.drops[DropReason::Spoofed as usize].load(Relaxed);
        // IPv6 source outside the node's prefix.
        let mut buf = from_mn(Ipv6Addr::new(0x2001, 0xdb8, 0x100, 9, 0, 0, 0, 1), HOA);
        assert_eq!(up(&mut buf, &fib, &state, &c), Err(None));
        assert_eq!(spoofed(&c), 1);
        // The other node's home address sending from this node's prefix:
        // the outer level passes, the nested tunnel's far end is not it.
        let mut buf = from_mn(MN6, other);
        assert_eq!(up(&mut buf, &fib, &state, &c), Err(None));
        assert_eq!(spoofed(&c), 2);
        // A nested source with no binding at all.
        let mut buf = from_mn(MN6, Ipv4Addr::new(203, 0, 113, 7));
        assert_eq!(up(&mut buf, &fib, &state, &c), Err(None));
        assert_eq!(c.drops[DropReason::NoBinding as usize].load(Relaxed), 1);
    }
}
