//! An in-memory port and punt ring with the same traits as the DPDK ones,
//! so the pipeline and the control thread are unit-tested without EAL.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::{PacketBuf, Port, PortId, PuntRing, QueueId};

/// Headroom of a test buffer, as DPDK's RTE_PKTMBUF_HEADROOM.
pub const HEADROOM: usize = 128;
const ROOM: usize = 2048;

/// A test packet buffer with DPDK-like headroom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemBuf {
    room: Vec<u8>,
    start: usize,
    end: usize,
    port: PortId,
    meta: u32,
}

impl MemBuf {
    /// A buffer holding `frame` after the default headroom.
    pub fn from_frame(port: PortId, frame: &[u8]) -> MemBuf {
        let mut room = vec![0u8; (HEADROOM + frame.len()).max(ROOM)];
        room[HEADROOM..HEADROOM + frame.len()].copy_from_slice(frame);
        MemBuf { room, start: HEADROOM, end: HEADROOM + frame.len(), port, meta: 0 }
    }
}

impl PacketBuf for MemBuf {
    fn data(&self) -> &[u8] {
        &self.room[self.start..self.end]
    }
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.room[self.start..self.end]
    }
    fn rx_port(&self) -> PortId {
        self.port
    }
    fn set_rx_port(&mut self, port: PortId) {
        self.port = port;
    }
    fn meta(&self) -> u32 {
        self.meta
    }
    fn set_meta(&mut self, meta: u32) {
        self.meta = meta;
    }
    fn prepend(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.start {
            return None;
        }
        self.start -= n;
        Some(&mut self.room[self.start..self.start + n])
    }
    fn adj(&mut self, n: usize) -> bool {
        if n > self.end - self.start {
            return false;
        }
        self.start += n;
        true
    }
    fn trim(&mut self, n: usize) -> bool {
        if n > self.end - self.start {
            return false;
        }
        self.end -= n;
        true
    }
    fn reframe(&mut self, at: usize, head: usize, len: usize, window: usize) -> Option<&mut [u8]> {
        let abs = self.start + at;
        if head > window || window > abs || at + len > self.end - self.start {
            return None;
        }
        self.start = abs - head;
        self.end = abs + len;
        Some(&mut self.room[abs - window..abs + len])
    }
    fn reset(&mut self, len: usize) -> Option<&mut [u8]> {
        if HEADROOM + len > self.room.len() {
            return None;
        }
        self.start = HEADROOM;
        self.end = HEADROOM + len;
        Some(self.data_mut())
    }
}

/// An in-memory port: frames injected for RX, frames sent collected per TX
/// queue. `tx_capacity` limits how many a single burst accepts.
#[derive(Debug)]
pub struct MemPort {
    id: PortId,
    rx: Mutex<Vec<VecDeque<MemBuf>>>,
    tx: Mutex<Vec<(QueueId, Vec<u8>)>>,
    tx_capacity: usize,
    pool_left: Mutex<usize>,
}

impl MemPort {
    pub fn new(id: PortId, rx_queues: usize) -> MemPort {
        MemPort {
            id,
            rx: Mutex::new(vec![VecDeque::new(); rx_queues.max(1)]),
            tx: Mutex::new(Vec::new()),
            tx_capacity: usize::MAX,
            pool_left: Mutex::new(1024),
        }
    }

    /// A port whose TX accepts at most `n` packets per burst.
    pub fn with_tx_capacity(mut self, n: usize) -> MemPort {
        self.tx_capacity = n;
        self
    }

    /// Queues `frame` for reception on RX queue `queue`.
    pub fn inject(&self, queue: QueueId, frame: &[u8]) {
        if let Ok(mut rx) = self.rx.lock() {
            if let Some(q) = rx.get_mut(usize::from(queue.0)) {
                q.push_back(MemBuf::from_frame(self.id, frame));
            }
        }
    }

    /// Frames sent so far, with their TX queue; clears the record.
    pub fn take_tx(&self) -> Vec<(QueueId, Vec<u8>)> {
        self.tx.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default()
    }
}

impl Port for MemPort {
    type Buf = MemBuf;

    fn rx_burst(&self, queue: QueueId, bufs: &mut [Option<MemBuf>]) -> usize {
        let Ok(mut rx) = self.rx.lock() else { return 0 };
        let Some(q) = rx.get_mut(usize::from(queue.0)) else {
            return 0;
        };
        let mut n = 0;
        while n < bufs.len() {
            let Some(b) = q.pop_front() else { break };
            bufs[n] = Some(b);
            n += 1;
        }
        n
    }

    fn tx_burst(&self, queue: QueueId, bufs: &mut [Option<MemBuf>]) -> usize {
        let Ok(mut tx) = self.tx.lock() else { return 0 };
        let n = bufs.len().min(self.tx_capacity);
        for b in &mut bufs[..n] {
            if let Some(b) = b.take() {
                tx.push((queue, b.data().to_vec()));
            }
        }
        n
    }

    fn alloc(&self) -> Option<MemBuf> {
        let mut left = self.pool_left.lock().ok()?;
        *left = left.checked_sub(1)?;
        Some(MemBuf::from_frame(self.id, &[]))
    }

    fn id(&self) -> PortId {
        self.id
    }

    fn rx_queues(&self) -> u16 {
        self.rx.lock().map(|q| u16::try_from(q.len()).unwrap_or(u16::MAX)).unwrap_or(1)
    }
}

/// A bounded in-memory punt ring holding at most `capacity` buffers.
#[derive(Debug)]
pub struct MemRing<B> {
    q: Mutex<VecDeque<B>>,
    capacity: usize,
}

impl<B> MemRing<B> {
    pub fn new(capacity: usize) -> Self {
        MemRing { q: Mutex::new(VecDeque::new()), capacity }
    }
}

impl<B> PuntRing<B> for MemRing<B> {
    fn enqueue_burst(&self, bufs: &mut [Option<B>]) -> usize {
        let Ok(mut q) = self.q.lock() else { return 0 };
        let mut n = 0;
        for b in bufs.iter_mut() {
            if q.len() >= self.capacity {
                break;
            }
            match b.take() {
                Some(x) => q.push_back(x),
                None => break,
            }
            n += 1;
        }
        n
    }

    fn dequeue_burst(&self, out: &mut [Option<B>]) -> usize {
        let Ok(mut q) = self.q.lock() else { return 0 };
        let mut n = 0;
        while n < out.len() {
            let Some(b) = q.pop_front() else { break };
            out[n] = Some(b);
            n += 1;
        }
        n
    }
}
