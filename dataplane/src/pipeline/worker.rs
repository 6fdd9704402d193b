//! The worker loop: for every port, receive a burst on this worker's queue,
//! classify each packet, hand punts to the control thread in one ring
//! operation per burst, free and count drops. No allocation, lock, atomic
//! read-modify-write or logging in here.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use crate::addrs::PortAddrs;
use crate::counters::{add, WorkerCounters};
use crate::port::{PacketBuf, Port, PuntRing, QueueId, BURST_MAX};

use super::classify::{classify, Verdict};

/// One worker's view of the ports: its RX queues and its own TX queue on
/// each, its punt ring and its counters.
pub struct Worker<'a, P: Port, R: PuntRing<P::Buf>> {
    ports: &'a [P],
    addrs: &'a [PortAddrs],
    /// Per port, the RX queues this worker polls.
    rx_queues: Vec<Vec<QueueId>>,
    punt: &'a R,
    counters: &'a WorkerCounters,
    burst: usize,
    rx: [Option<P::Buf>; BURST_MAX],
    punts: [Option<P::Buf>; BURST_MAX],
}

impl<'a, P: Port, R: PuntRing<P::Buf>> Worker<'a, P, R> {
    /// Worker `index` of `workers`: `addrs[i]` are the addresses of
    /// `ports[i]`; it polls RX queues index, index + workers, ... of each
    /// port and transmits on TX queue `index`.
    pub fn new(
        ports: &'a [P],
        addrs: &'a [PortAddrs],
        index: usize,
        workers: usize,
        punt: &'a R,
        counters: &'a WorkerCounters,
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
        Worker {
            ports,
            addrs,
            rx_queues,
            punt,
            counters,
            burst: burst.clamp(1, BURST_MAX),
            rx: [const { None }; BURST_MAX],
            punts: [const { None }; BURST_MAX],
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
        total
    }

    fn poll_queue(&mut self, index: usize, port: &P, queue: QueueId, addrs: &PortAddrs) -> usize {
        let n = port.rx_burst(queue, &mut self.rx[..self.burst]);
        if n == 0 {
            return 0;
        }
        let pc = self.counters.port(index);
        add(&pc.rx, n as u64);
        let mut npunt = 0;
        for slot in &mut self.rx[..n] {
            let Some(buf) = slot.take() else { continue };
            match classify(buf.data(), addrs) {
                Verdict::Punt => {
                    let mut buf = buf;
                    buf.set_rx_port(port.id());
                    self.punts[npunt] = Some(buf);
                    npunt += 1;
                }
                Verdict::Drop(reason) => {
                    self.counters.drop(index, reason);
                    drop(buf);
                }
            }
        }
        if npunt > 0 {
            let sent = self.punt.enqueue_burst(&mut self.punts[..npunt]);
            add(&pc.punted, sent as u64);
            let full = (npunt - sent) as u64;
            if full > 0 {
                add(&pc.punt_ring_full, full);
                add(&pc.dropped, full);
                self.punts[sent..npunt]
                    .iter_mut()
                    .for_each(|b| drop(b.take()));
            }
        }
        n
    }

    /// Polls until `stop` is set. With a non-zero `idle_backoff` the worker
    /// sleeps that long after a round that received nothing (VMs, CI).
    pub fn run(&mut self, stop: &AtomicBool, idle_backoff: Duration) {
        while !stop.load(Relaxed) {
            if self.poll() == 0 && !idle_backoff.is_zero() {
                std::thread::sleep(idle_backoff);
            }
        }
    }
}
