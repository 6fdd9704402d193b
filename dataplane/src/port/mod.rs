//! Ports: the `Port` trait the worker pipeline and the control thread use,
//! its DPDK implementation (the only place besides `dpdk-sys` that may hold
//! unsafe code) and an in-memory implementation for unit tests.

pub mod dpdk;
pub mod hint;
pub mod mem;
pub mod telemetry;

/// Largest burst a worker handles at once (the config's `burst_size` is <= this).
pub const BURST_MAX: usize = 64;

/// A DPDK port id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId(pub u16);

/// A queue index on one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(pub u16);

/// An EAL logical core id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LcoreId(pub u32);

/// One packet buffer: an mbuf, or a test buffer with the same headroom rules.
/// Headroom operations move the start of the data instead of moving payloads.
pub trait PacketBuf {
    /// The packet bytes (first segment).
    fn data(&self) -> &[u8];
    fn data_mut(&mut self) -> &mut [u8];
    /// The DPDK port id the packet arrived on.
    fn rx_port(&self) -> PortId;
    /// Records the arrival port (not every PMD fills it in, e.g. net_ring).
    fn set_rx_port(&mut self, port: PortId);
    /// A 32-bit note a worker leaves for the control thread on a punted
    /// packet (why it was punted); 0 means "addressed to us".
    fn meta(&self) -> u32;
    fn set_meta(&mut self, meta: u32);
    /// Hints the CPU to fetch the packet's first bytes (a few packets ahead
    /// of the one being processed).
    #[inline(always)]
    fn prefetch(&self) {}
    /// Grows the packet at the front by `n` bytes of headroom.
    fn prepend(&mut self, n: usize) -> Option<&mut [u8]>;
    /// Removes `n` bytes from the front.
    fn adj(&mut self, n: usize) -> bool;
    /// Removes `n` bytes from the end.
    fn trim(&mut self, n: usize) -> bool;
    /// Re-frames a single-segment packet in one step (the encapsulation
    /// fast path): the data becomes `head` bytes before offset `at` of the
    /// current data up to `at + len` (what follows is cut, what precedes is
    /// given up to the headroom), and the returned slice covers the
    /// `window` bytes before `at` and the `len` bytes from it, so that a
    /// constant-size header copy may end at `at` (the bytes it writes before
    /// the new start are headroom). `None`, changing nothing, unless
    /// `head <= window`, `window` bytes lie before `at` (headroom included)
    /// and `at + len` is within the data.
    fn reframe(&mut self, at: usize, head: usize, len: usize, window: usize) -> Option<&mut [u8]>;
    /// Makes the packet `len` bytes long, starting at the default headroom,
    /// for reusing a received buffer to send a reply.
    fn reset(&mut self, len: usize) -> Option<&mut [u8]>;
}

/// A network port as seen by one thread: each worker owns one RX and one TX
/// queue on every port, the control thread owns one more TX queue.
pub trait Port {
    type Buf: PacketBuf;
    /// Receives up to `bufs.len()` packets into `bufs[..n]`.
    fn rx_burst(&self, queue: QueueId, bufs: &mut [Option<Self::Buf>]) -> usize;
    /// Sends `bufs` (all `Some`) in order; the sent ones are taken (`None`),
    /// the unsent ones stay for the caller to retry or free and count.
    fn tx_burst(&self, queue: QueueId, bufs: &mut [Option<Self::Buf>]) -> usize;
    /// A fresh buffer from this port's pool (control thread only).
    fn alloc(&self) -> Option<Self::Buf>;
    /// The DPDK port id.
    fn id(&self) -> PortId;
    /// RX queues configured; workers share them round-robin (worker i polls
    /// queues i, i + workers, ...). Usually one per worker.
    fn rx_queues(&self) -> u16;
}

/// A bounded single-producer single-consumer queue of buffers from a worker
/// to the control thread.
pub trait PuntRing<B> {
    /// Enqueues as many of `bufs` as fit, in order; those enqueued are taken.
    fn enqueue_burst(&self, bufs: &mut [Option<B>]) -> usize;
    /// Dequeues up to `out.len()` buffers into `out[..n]`.
    fn dequeue_burst(&self, out: &mut [Option<B>]) -> usize;
}

/// Errors of the port layer; each names what DPDK refused and why.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("EAL initialisation failed: {0}")]
    EalInit(String),
    #[error("EAL is already initialised in this process")]
    EalTwice,
    #[error("port {name}: {what}")]
    Port { name: String, what: String },
    #[error("mempool {name}: {what}")]
    Mempool { name: String, what: String },
    #[error("ring {name}: {what}")]
    Ring { name: String, what: String },
    #[error("packet capture (pdump): {0}")]
    Pdump(String),
    #[error("lcore {lcore}: {what}")]
    Lcore { lcore: u32, what: String },
}
