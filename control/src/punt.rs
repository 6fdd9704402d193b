//! The control thread's packet side: drains the workers' punt rings, hands
//! each frame to the neighbour/ICMP responder, and sends replies and probes
//! on the control thread's own TX queue of each port.

use std::net::IpAddr;
use std::time::Instant;

use dataplane::counters::{add, WorkerCounters};
use dataplane::port::{PacketBuf, Port, PuntRing, QueueId, BURST_MAX};

use crate::neigh::{Neighbors, Punted};

/// Packet-handling state of the control thread, generic over the port so
/// that it runs on DPDK ports in the daemon and on in-memory ports in tests.
pub struct ControlPlane<'a, P: Port, R: PuntRing<P::Buf>> {
    ports: &'a [P],
    rings: &'a [R],
    queue: QueueId,
    neigh: Neighbors,
    counters: &'a WorkerCounters,
    next_hops: Vec<(usize, IpAddr)>,
    bufs: [Option<P::Buf>; BURST_MAX],
    pending: Vec<Vec<Option<P::Buf>>>,
}

impl<'a, P: Port, R: PuntRing<P::Buf>> ControlPlane<'a, P, R> {
    /// `queue` is the control thread's TX queue on every port; `next_hops`
    /// are (port index, address) pairs to resolve and keep fresh.
    pub fn new(
        ports: &'a [P],
        rings: &'a [R],
        queue: QueueId,
        neigh: Neighbors,
        counters: &'a WorkerCounters,
        next_hops: Vec<(usize, IpAddr)>,
    ) -> Self {
        ControlPlane {
            ports,
            rings,
            queue,
            neigh,
            counters,
            next_hops,
            bufs: [const { None }; BURST_MAX],
            pending: ports.iter().map(|_| Vec::new()).collect(),
        }
    }

    pub fn neighbors(&self) -> &Neighbors {
        &self.neigh
    }

    fn port_index(&self, buf: &P::Buf) -> Option<usize> {
        let id = buf.rx_port();
        self.ports.iter().position(|p| p.id() == id)
    }

    /// Handles everything waiting in the punt rings; returns how many
    /// packets it took.
    pub fn service_punts(&mut self, now: Instant) -> usize {
        let mut total = 0;
        for ring in self.rings {
            loop {
                let n = ring.dequeue_burst(&mut self.bufs);
                if n == 0 {
                    break;
                }
                total += n;
                for i in 0..n {
                    let Some(mut buf) = self.bufs[i].take() else {
                        continue;
                    };
                    let Some(index) = self.port_index(&buf) else {
                        continue;
                    };
                    add(&self.counters.port(index).rx, 1);
                    match self.neigh.handle_frame(index, buf.data(), now) {
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

    /// Neighbour timers: resolution of wanted next hops, retries, ageing.
    pub fn run_timers(&mut self, now: Instant) {
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
