//! Safe wrappers over DPDK: EAL, lcores, mempools, mbufs, ethdev ports and
//! rings. Every unsafe block says why its pointers and lengths are valid.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_uint, c_void, CStr};
use core::ptr::NonNull;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dpdk_sys as sys;

use super::{LcoreId, PacketBuf, Port, PortError, PortId, PuntRing, QueueId};
use crate::wire::MacAddr;

static EAL_STARTED: AtomicBool = AtomicBool::new(false);

fn errno_text(code: c_int) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local
    // NUL-terminated string for any errno value.
    let s = unsafe { CStr::from_ptr(sys::rte_strerror(code.abs())) };
    s.to_string_lossy().into_owned()
}

fn rte_errno_text() -> String {
    // SAFETY: reads the calling thread's rte_errno; no pointers involved.
    errno_text(unsafe { sys::anchor_errno() })
}

fn c_name(name: &str) -> Result<CString, String> {
    CString::new(name).map_err(|_| format!("name {name:?} contains a NUL byte"))
}

/// Proof that the EAL is initialised; every DPDK object is made through it.
#[derive(Debug)]
pub struct Eal {
    _private: (),
}

impl Eal {
    /// Initialises the EAL with `args` (`argv[0]` first). Once per process.
    pub fn init(args: &[String]) -> Result<Eal, PortError> {
        if EAL_STARTED.swap(true, Ordering::SeqCst) {
            return Err(PortError::EalTwice);
        }
        let owned: Vec<CString> =
            args.iter().map(|a| c_name(a).map_err(PortError::EalInit)).collect::<Result<_, _>>()?;
        // EAL may permute argv; it keeps pointers into the strings for the
        // life of the process, so both are leaked on purpose.
        let owned: &'static [CString] = Box::leak(owned.into_boxed_slice());
        let argv: &'static mut [*mut c_char] =
            Box::leak(owned.iter().map(|c| c.as_ptr().cast_mut()).collect::<Vec<_>>().into_boxed_slice());
        let argc = c_int::try_from(argv.len()).map_err(|_| PortError::EalInit("too many arguments".into()))?;
        // SAFETY: argv holds argc valid NUL-terminated strings that live for
        // the rest of the process.
        let rc = unsafe { sys::rte_eal_init(argc, argv.as_mut_ptr()) };
        if rc < 0 {
            return Err(PortError::EalInit(rte_errno_text()));
        }
        Ok(Eal { _private: () })
    }

    /// The DPDK version string, e.g. "DPDK 22.11.11".
    pub fn version() -> String {
        // SAFETY: rte_version returns a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(sys::rte_version()) };
        s.to_string_lossy().into_owned()
    }

    /// Every enabled lcore except the main one, in order.
    pub fn worker_lcores(&self) -> Vec<LcoreId> {
        let mut out = Vec::new();
        let mut i: c_uint = u32::MAX;
        loop {
            // SAFETY: plain query of EAL's lcore table; EAL is initialised.
            i = unsafe { sys::rte_get_next_lcore(i, 1, 0) };
            if i >= sys::RTE_MAX_LCORE {
                return out;
            }
            out.push(LcoreId(i));
        }
    }

    /// The NUMA socket of an lcore (0 on machines without NUMA).
    pub fn lcore_socket(&self, lcore: LcoreId) -> u32 {
        // SAFETY: plain query; an unknown lcore yields an out-of-range value.
        let s = unsafe { sys::rte_lcore_to_socket_id(lcore.0) };
        if s >= sys::RTE_MAX_NUMA_NODES {
            0
        } else {
            s
        }
    }

    /// Starts `f` on worker lcore `lcore`. The closure runs until it returns.
    pub fn launch<F>(&self, lcore: LcoreId, f: F) -> Result<(), PortError>
    where
        F: FnOnce() -> i32 + Send + 'static,
    {
        type Job = Box<dyn FnOnce() -> i32 + Send>;
        unsafe extern "C" fn trampoline(arg: *mut c_void) -> c_int {
            // SAFETY: `arg` is the Box<Job> leaked by `launch` below, handed
            // to exactly one lcore, so it is taken back exactly once.
            let job: Box<Job> = unsafe { Box::from_raw(arg.cast::<Job>()) };
            job()
        }
        let job: Box<Job> = Box::new(Box::new(f));
        let arg = Box::into_raw(job).cast::<c_void>();
        // SAFETY: trampoline matches lcore_function_t; arg stays valid until
        // the trampoline takes it back.
        let rc = unsafe { sys::rte_eal_remote_launch(Some(trampoline), arg, lcore.0) };
        if rc != 0 {
            // SAFETY: the launch failed, so the job was not handed over.
            drop(unsafe { Box::from_raw(arg.cast::<Job>()) });
            return Err(PortError::Lcore { lcore: lcore.0, what: errno_text(rc) });
        }
        Ok(())
    }

    /// Waits for the job on `lcore` to return and gives its return value.
    pub fn wait(&self, lcore: LcoreId) -> i32 {
        // SAFETY: plain EAL call on a worker lcore id.
        unsafe { sys::rte_eal_wait_lcore(lcore.0) }
    }

    /// Makes the calling non-EAL thread able to use mempool caches and lcore
    /// ids (for control/CLI threads spawned by Rust).
    pub fn register_thread(&self) -> Result<(), PortError> {
        // SAFETY: registers the calling thread with EAL; no pointers.
        let rc = unsafe { sys::rte_thread_register() };
        if rc < 0 {
            return Err(PortError::Lcore { lcore: u32::MAX, what: rte_errno_text() });
        }
        Ok(())
    }

    /// Releases EAL resources. Ports and pools must be closed first.
    pub fn cleanup(self) {
        // SAFETY: called once, after every worker returned and ports closed.
        unsafe { sys::rte_eal_cleanup() };
    }

    /// Lets DPDK secondary processes such as `dpdk-dumpcap` capture any
    /// port's packets (`rte_pdump_init`): it only registers a request
    /// handler on the EAL's multi-process channel; the RX/TX callbacks that
    /// copy packets are installed while a capture runs and removed after,
    /// so an idle capture costs the workers nothing. Needs the EAL's shared
    /// runtime files (no `--no-shconf`); secondaries attach only to a
    /// primary that uses hugepages (no `--no-huge`).
    pub fn pdump_init(&self) -> Result<(), PortError> {
        // SAFETY: plain EAL call once the EAL is up (self proves it).
        if unsafe { sys::rte_pdump_init() } != 0 {
            return Err(PortError::Pdump(rte_errno_text()));
        }
        Ok(())
    }

    /// Undoes [`Eal::pdump_init`] (before the ports close).
    pub fn pdump_uninit(&self) {
        // SAFETY: plain EAL call; harmless when pdump_init failed.
        unsafe { sys::rte_pdump_uninit() };
    }

    /// TSC ticks per second.
    pub fn tsc_hz(&self) -> u64 {
        // SAFETY: plain query.
        unsafe { sys::rte_get_tsc_hz() }
    }
}

/// Reads the time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    // SAFETY: reads the TSC; no memory access.
    unsafe { sys::anchor_rdtsc() }
}

/// A packet mbuf pool on one NUMA socket.
#[derive(Debug)]
pub struct Mempool {
    ptr: NonNull<sys::rte_mempool>,
    name: String,
}

// SAFETY: rte_mempool is designed for concurrent use from many lcores.
unsafe impl Send for Mempool {}
// SAFETY: as above; every operation on it is thread-safe in DPDK.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pool of `n` mbufs with the default data room (2176 bytes,
    /// 128 of them headroom).
    pub fn new(_eal: &Eal, name: &str, n: u32, cache: u32, socket: u32) -> Result<Mempool, PortError> {
        let err = |what: String| PortError::Mempool { name: name.to_string(), what };
        let cname = c_name(name).map_err(err)?;
        let room = u16::try_from(sys::RTE_MBUF_DEFAULT_BUF_SIZE).map_err(|_| err("data room".into()))?;
        let socket = c_int::try_from(socket).map_err(|_| err("socket id".into()))?;
        // SAFETY: cname is a valid C string for the duration of the call.
        let p = unsafe { sys::rte_pktmbuf_pool_create(cname.as_ptr(), n, cache, 0, room, socket) };
        let ptr = NonNull::new(p).ok_or_else(|| err(rte_errno_text()))?;
        Ok(Mempool { ptr, name: name.to_string() })
    }

    /// One mbuf, or None when the pool is empty.
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: the pool pointer is valid for self's lifetime.
        let m = unsafe { sys::anchor_pktmbuf_alloc(self.ptr.as_ptr()) };
        NonNull::new(m).map(Mbuf)
    }

    /// Mbufs currently free in the pool (including per-lcore caches).
    pub fn available(&self) -> u32 {
        // SAFETY: the pool pointer is valid for self's lifetime.
        unsafe { sys::anchor_mempool_avail(self.ptr.as_ptr()) }
    }

    /// Mbufs currently handed out.
    pub fn in_use(&self) -> u32 {
        // SAFETY: the pool pointer is valid for self's lifetime.
        unsafe { sys::anchor_mempool_in_use(self.ptr.as_ptr()) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn as_ptr(&self) -> *mut sys::rte_mempool {
        self.ptr.as_ptr()
    }
}

impl Drop for Mempool {
    fn drop(&mut self) {
        // SAFETY: no port uses the pool any more: each EthPort holds an Arc
        // of its pool and closes itself before releasing it.
        unsafe { sys::rte_mempool_free(self.ptr.as_ptr()) };
    }
}

/// One packet buffer, freed to its pool on drop. Same layout as a
/// `*mut rte_mbuf`, so `[Option<Mbuf>]` is passed straight to burst calls.
#[repr(transparent)]
#[derive(Debug)]
pub struct Mbuf(NonNull<sys::rte_mbuf>);

// SAFETY: an mbuf is owned by exactly one Mbuf at a time; ownership moves
// between lcores through rings, which DPDK supports.
unsafe impl Send for Mbuf {}

impl Mbuf {
    #[inline]
    fn raw(&self) -> &sys::rte_mbuf {
        // SAFETY: we own the mbuf; the pointer is valid until drop.
        unsafe { self.0.as_ref() }
    }

    #[inline]
    fn raw_mut(&mut self) -> &mut sys::rte_mbuf {
        // SAFETY: we own the mbuf exclusively; the pointer is valid until drop.
        unsafe { self.0.as_mut() }
    }

    /// Total packet length over all segments.
    pub fn pkt_len(&self) -> u32 {
        self.raw().pkt_len
    }

    /// Bytes of headroom before the data.
    pub fn headroom(&self) -> usize {
        usize::from(self.raw().data_off)
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own the mbuf; it is freed exactly once, here.
        unsafe { sys::anchor_pktmbuf_free(self.0.as_ptr()) };
    }
}

impl PacketBuf for Mbuf {
    #[inline]
    fn data(&self) -> &[u8] {
        let m = self.raw();
        // SAFETY: buf_addr + data_off .. + data_len lies inside the mbuf's
        // data room, which DPDK keeps consistent for a segment we own.
        unsafe {
            core::slice::from_raw_parts(m.buf_addr.cast::<u8>().add(usize::from(m.data_off)), usize::from(m.data_len))
        }
    }

    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        let m = self.raw_mut();
        // SAFETY: as in `data`, and we hold the only reference.
        unsafe {
            core::slice::from_raw_parts_mut(
                m.buf_addr.cast::<u8>().add(usize::from(m.data_off)),
                usize::from(m.data_len),
            )
        }
    }

    #[inline]
    fn rx_port(&self) -> PortId {
        PortId(self.raw().port)
    }

    #[inline]
    fn set_rx_port(&mut self, port: PortId) {
        self.raw_mut().port = port.0;
    }

    #[inline(always)]
    fn prefetch(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            let m = self.raw();
            let p = m.buf_addr.cast::<i8>().wrapping_add(usize::from(m.data_off)).cast_const();
            // SAFETY: a prefetch is only a hint: it never faults and reads
            // nothing architecturally, whatever the address.
            unsafe { core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p) };
        }
    }

    #[inline]
    fn meta(&self) -> u32 {
        // SAFETY: every member of the hash union is plain integers, so any
        // bit pattern read as u32 is valid.
        unsafe { self.raw().__bindgen_anon_2.hash.usr }
    }

    #[inline]
    fn set_meta(&mut self, meta: u32) {
        self.raw_mut().__bindgen_anon_2.hash.usr = meta;
    }

    #[inline]
    fn prepend(&mut self, n: usize) -> Option<&mut [u8]> {
        let m = self.raw_mut();
        let n16 = u16::try_from(n).ok()?;
        if n16 > m.data_off {
            return None;
        }
        m.data_off -= n16;
        m.data_len += n16;
        m.pkt_len += u32::from(n16);
        Some(&mut self.data_mut()[..n])
    }

    #[inline]
    fn adj(&mut self, n: usize) -> bool {
        let m = self.raw_mut();
        let Ok(n16) = u16::try_from(n) else {
            return false;
        };
        if n16 > m.data_len {
            return false;
        }
        m.data_off += n16;
        m.data_len -= n16;
        m.pkt_len -= u32::from(n16);
        true
    }

    #[inline]
    fn trim(&mut self, n: usize) -> bool {
        let m = self.raw_mut();
        let Ok(n16) = u16::try_from(n) else {
            return false;
        };
        if n16 > m.data_len || m.nb_segs != 1 {
            return false;
        }
        m.data_len -= n16;
        m.pkt_len -= u32::from(n16);
        true
    }

    #[inline(always)]
    fn reframe(&mut self, at: usize, head: usize, len: usize, window: usize) -> Option<&mut [u8]> {
        let m = self.raw_mut();
        let abs = usize::from(m.data_off) + at;
        if head > window || window > abs || at + len > usize::from(m.data_len) || m.nb_segs != 1 {
            return None;
        }
        // Both fit in u16: abs - head <= data_off + data_len, head + len <= window + data_len.
        m.data_off = (abs - head) as u16;
        m.data_len = (head + len) as u16;
        m.pkt_len = (head + len) as u32;
        let start = m.buf_addr.cast::<u8>();
        // The range starts at or after buf_addr (window <= abs) and ends at
        // or before the old data end (at + len <= data_len).
        // SAFETY: so it lies inside the mbuf's data room; we own the segment.
        unsafe { Some(core::slice::from_raw_parts_mut(start.add(abs - window), window + len)) }
    }

    fn reset(&mut self, len: usize) -> Option<&mut [u8]> {
        let m = self.raw_mut();
        if m.nb_segs != 1 {
            return None;
        }
        let head = u16::try_from(sys::RTE_PKTMBUF_HEADROOM).ok()?.min(m.buf_len);
        let len16 = u16::try_from(len).ok()?;
        if u32::from(head) + u32::from(len16) > u32::from(m.buf_len) {
            return None;
        }
        m.data_off = head;
        m.data_len = len16;
        m.pkt_len = u32::from(len16);
        m.ol_flags = 0;
        Some(self.data_mut())
    }
}

/// How to set one port up.
#[derive(Debug, Clone)]
pub struct PortSetup {
    pub rx_queues: u16,
    pub tx_queues: u16,
    pub rx_desc: u16,
    pub tx_desc: u16,
    pub mtu: u16,
}

/// Link state as DPDK reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStatus {
    pub up: bool,
    pub speed_mbps: u32,
    pub full_duplex: bool,
}

/// Basic counters of one port (`rte_eth_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortStats {
    pub ipackets: u64,
    pub opackets: u64,
    pub ibytes: u64,
    pub obytes: u64,
    pub imissed: u64,
    pub ierrors: u64,
    pub oerrors: u64,
    pub rx_nombuf: u64,
}

/// The NUMA socket of the device `dpdk_name` (0 when unknown), to pick the
/// mempool its queues take buffers from.
pub fn device_socket(_eal: &Eal, dpdk_name: &str) -> u32 {
    let Ok(cdev) = c_name(dpdk_name) else {
        return 0;
    };
    let mut id: u16 = 0;
    // SAFETY: cdev is a valid C string, id a valid out pointer.
    if unsafe { sys::rte_eth_dev_get_port_by_name(cdev.as_ptr(), &mut id) } != 0 {
        return 0;
    }
    // SAFETY: plain query on a known port id.
    let s = unsafe { sys::rte_eth_dev_socket_id(id) };
    u32::try_from(s).unwrap_or(0)
}

/// A configured and started ethdev port. Queues are owned by threads by
/// convention: worker i uses RX queue i and TX queue i, the control thread
/// uses the last TX queue.
#[derive(Debug)]
pub struct EthPort {
    id: PortId,
    name: String,
    driver: String,
    pool: Arc<Mempool>,
    mac: MacAddr,
    rss: bool,
    rx_queues: u16,
    tx_queues: u16,
    started: bool,
}

// SAFETY: a port id is usable from any lcore; queue ownership is kept by
// the worker/control convention above.
unsafe impl Send for EthPort {}
// SAFETY: as above; concurrent bursts on distinct queues are allowed.
unsafe impl Sync for EthPort {}

impl EthPort {
    /// Finds the device `dpdk_name` (PCI address or vdev name), configures
    /// its queues with buffers from `pool`, and starts it.
    pub fn open(
        _eal: &Eal,
        name: &str,
        dpdk_name: &str,
        setup: &PortSetup,
        pool: Arc<Mempool>,
    ) -> Result<Self, PortError> {
        let err = |what: String| PortError::Port { name: name.to_string(), what };
        let cdev = c_name(dpdk_name).map_err(&err)?;
        let mut id: u16 = 0;
        // SAFETY: cdev is a valid C string, id a valid out pointer.
        let rc = unsafe { sys::rte_eth_dev_get_port_by_name(cdev.as_ptr(), &mut id) };
        if rc != 0 {
            return Err(err(format!("no DPDK device named {dpdk_name:?} (is it given to EAL by --vdev/-a?)")));
        }
        let mut info = sys::rte_eth_dev_info::default();
        // SAFETY: info is a valid out pointer for this port id.
        let rc = unsafe { sys::rte_eth_dev_info_get(id, &mut info) };
        if rc != 0 {
            return Err(err(format!("cannot read device info: {}", errno_text(rc))));
        }
        let driver = if info.driver_name.is_null() {
            String::new()
        } else {
            // SAFETY: the driver name is a static NUL-terminated string.
            unsafe { CStr::from_ptr(info.driver_name) }.to_string_lossy().into_owned()
        };
        // net_af_packet opens one socket per queue pair at probe time and
        // spreads flows over them (PACKET_FANOUT hash) whatever we configure:
        // every one of its RX queues must be polled or flows vanish.
        let self_spreading = driver == "net_af_packet";
        let rx_queues = if self_spreading { info.max_rx_queues.max(setup.rx_queues) } else { setup.rx_queues };
        if rx_queues > info.max_rx_queues || setup.tx_queues > info.max_tx_queues {
            return Err(err(format!(
                "needs {} RX and {} TX queues (one RX per worker, one TX per worker plus one for the control thread) \
                 but {driver} offers {} RX and {} TX{}",
                rx_queues,
                setup.tx_queues,
                info.max_rx_queues,
                info.max_tx_queues,
                if self_spreading { "; raise qpairs= in the vdev string" } else { "" }
            )));
        }
        let mut conf = sys::rte_eth_conf::default();
        let rss_hf =
            u64::from(sys::RTE_ETH_RSS_IP | sys::RTE_ETH_RSS_UDP | sys::RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
        let rss = rx_queues > 1 && rss_hf != 0;
        if rss {
            conf.rxmode.mq_mode = sys::rte_eth_rx_mq_mode_RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
        } else if rx_queues > 1 && !self_spreading {
            return Err(err(format!("{driver} has no RSS, so it cannot spread packets over {rx_queues} workers")));
        }
        if setup.mtu > info.max_mtu || setup.mtu < info.min_mtu {
            return Err(err(format!(
                "mtu {} outside what {driver} allows ({}..={})",
                setup.mtu, info.min_mtu, info.max_mtu
            )));
        }
        conf.rxmode.mtu = u32::from(setup.mtu);
        // SAFETY: conf is a valid, fully initialised configuration.
        let rc = unsafe { sys::rte_eth_dev_configure(id, rx_queues, setup.tx_queues, &conf) };
        if rc != 0 {
            return Err(err(format!("configure failed: {}", errno_text(rc))));
        }
        let (mut rxd, mut txd) = (setup.rx_desc, setup.tx_desc);
        // SAFETY: valid out pointers for a configured port.
        let rc = unsafe { sys::rte_eth_dev_adjust_nb_rx_tx_desc(id, &mut rxd, &mut txd) };
        if rc != 0 {
            return Err(err(format!("descriptor counts refused: {}", errno_text(rc))));
        }
        // SAFETY: plain query.
        let socket = unsafe { sys::rte_eth_dev_socket_id(id) }.max(0);
        let socket = c_uint::try_from(socket).unwrap_or(0);
        for q in 0..rx_queues {
            // SAFETY: the port holds an Arc of the pool, so it outlives the
            // queues; NULL rxconf = defaults.
            let rc = unsafe { sys::rte_eth_rx_queue_setup(id, q, rxd, socket, core::ptr::null(), pool.as_ptr()) };
            if rc != 0 {
                return Err(err(format!("rx queue {q}: {}", errno_text(rc))));
            }
        }
        for q in 0..setup.tx_queues {
            // SAFETY: NULL txconf = driver defaults.
            let rc = unsafe { sys::rte_eth_tx_queue_setup(id, q, txd, socket, core::ptr::null()) };
            if rc != 0 {
                return Err(err(format!("tx queue {q}: {}", errno_text(rc))));
            }
        }
        let mut addr = sys::rte_ether_addr::default();
        // SAFETY: valid out pointer.
        let rc = unsafe { sys::rte_eth_macaddr_get(id, &mut addr) };
        if rc != 0 {
            return Err(err(format!("cannot read MAC address: {}", errno_text(rc))));
        }
        // SAFETY: plain call on a configured port.
        let rc = unsafe { sys::rte_eth_dev_start(id) };
        if rc != 0 {
            return Err(err(format!("start failed: {}", errno_text(rc))));
        }
        // Neighbour discovery needs solicited-node multicast; drivers without
        // a multicast filter (virtual devices) refuse, which is fine.
        // SAFETY: plain call on a started port.
        let _ = unsafe { sys::rte_eth_allmulticast_enable(id) };
        Ok(EthPort {
            id: PortId(id),
            name: name.to_string(),
            driver,
            pool,
            mac: MacAddr(addr.addr_bytes),
            rss,
            rx_queues,
            tx_queues: setup.tx_queues,
            started: true,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn driver(&self) -> &str {
        &self.driver
    }

    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    pub fn rss(&self) -> bool {
        self.rss
    }

    pub fn link(&self) -> LinkStatus {
        let mut link = sys::rte_eth_link::default();
        // SAFETY: valid out pointer; the nowait variant never blocks.
        let rc = unsafe { sys::rte_eth_link_get_nowait(self.id.0, &mut link) };
        if rc != 0 {
            return LinkStatus::default();
        }
        LinkStatus {
            up: link.link_status() == sys::RTE_ETH_LINK_UP as u16,
            speed_mbps: link.link_speed,
            full_duplex: link.link_duplex() == sys::RTE_ETH_LINK_FULL_DUPLEX as u16,
        }
    }

    pub fn stats(&self) -> PortStats {
        let mut s = sys::rte_eth_stats::default();
        // SAFETY: valid out pointer.
        let rc = unsafe { sys::rte_eth_stats_get(self.id.0, &mut s) };
        if rc != 0 {
            return PortStats::default();
        }
        PortStats {
            ipackets: s.ipackets,
            opackets: s.opackets,
            ibytes: s.ibytes,
            obytes: s.obytes,
            imissed: s.imissed,
            ierrors: s.ierrors,
            oerrors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        }
    }

    /// Extended statistics by name (`rte_eth_xstats`).
    pub fn xstats(&self) -> Vec<(String, u64)> {
        // SAFETY: a NULL array with size 0 asks for the count.
        let n = unsafe { sys::rte_eth_xstats_get_names(self.id.0, core::ptr::null_mut(), 0) };
        let Ok(n) = usize::try_from(n) else {
            return Vec::new();
        };
        let mut names = vec![sys::rte_eth_xstat_name { name: [0; 64] }; n];
        let mut vals = vec![sys::rte_eth_xstat::default(); n];
        let cap = c_uint::try_from(n).unwrap_or(0);
        // SAFETY: both arrays hold `cap` elements.
        let got_names = unsafe { sys::rte_eth_xstats_get_names(self.id.0, names.as_mut_ptr(), cap) };
        // SAFETY: as above.
        let got_vals = unsafe { sys::rte_eth_xstats_get(self.id.0, vals.as_mut_ptr(), cap) };
        let Ok(k) = usize::try_from(got_names.min(got_vals)) else {
            return Vec::new();
        };
        vals.iter()
            .take(k.min(n))
            .filter_map(|v| {
                let nm = names.get(usize::try_from(v.id).ok()?)?;
                // SAFETY: DPDK NUL-terminates names within the 64-byte array.
                let s = unsafe { CStr::from_ptr(nm.name.as_ptr()) };
                Some((s.to_string_lossy().into_owned(), v.value))
            })
            .collect()
    }

    /// Stops and closes the port. Workers must have stopped polling it.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.started {
            self.started = false;
            // SAFETY: no thread polls the port any more (caller's contract).
            unsafe {
                sys::rte_eth_dev_stop(self.id.0);
                sys::rte_eth_dev_close(self.id.0);
            }
        }
    }
}

impl Drop for EthPort {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Port for EthPort {
    type Buf = Mbuf;

    #[inline]
    fn rx_burst(&self, queue: QueueId, bufs: &mut [Option<Mbuf>]) -> usize {
        debug_assert!(bufs.iter().all(Option::is_none));
        // The burst functions do not check the queue: an unconfigured one
        // would be read out of bounds.
        if queue.0 >= self.rx_queues {
            return 0;
        }
        let n = u16::try_from(bufs.len()).unwrap_or(u16::MAX);
        let slots = bufs.as_mut_ptr().cast::<*mut sys::rte_mbuf>();
        // SAFETY: Option<Mbuf> has the layout of *mut rte_mbuf; the driver
        // writes at most n pointers, each an mbuf we then own.
        let got = unsafe { sys::anchor_rx_burst(self.id.0, queue.0, slots, n) };
        usize::from(got)
    }

    #[inline]
    fn tx_burst(&self, queue: QueueId, bufs: &mut [Option<Mbuf>]) -> usize {
        let n = u16::try_from(bufs.len()).unwrap_or(u16::MAX);
        debug_assert!(bufs.iter().all(Option::is_some));
        if queue.0 >= self.tx_queues {
            return 0;
        }
        // SAFETY: bufs[..n] are owned non-null mbufs with the layout of
        // *mut rte_mbuf; the driver takes ownership of the first `sent`.
        let sent = usize::from(unsafe {
            sys::anchor_tx_burst(self.id.0, queue.0, bufs.as_mut_ptr().cast::<*mut sys::rte_mbuf>(), n)
        });
        for b in &mut bufs[..sent] {
            // The driver owns these now: forget without freeing.
            core::mem::forget(b.take());
        }
        sent
    }

    fn alloc(&self) -> Option<Mbuf> {
        self.pool.alloc()
    }

    fn rx_queues(&self) -> u16 {
        self.rx_queues
    }

    fn id(&self) -> PortId {
        self.id
    }
}

/// A bounded single-producer single-consumer ring of mbufs (worker →
/// control thread punt path).
#[derive(Debug)]
pub struct Ring {
    ptr: NonNull<sys::rte_ring>,
}

// SAFETY: rte_ring is built for one producer and one consumer lcore.
unsafe impl Send for Ring {}
// SAFETY: the SP/SC discipline is kept by construction (one worker enqueues,
// the control thread dequeues).
unsafe impl Sync for Ring {}

impl Ring {
    /// `size` must be a power of two; the ring holds size - 1 entries.
    pub fn new(_eal: &Eal, name: &str, size: u32, socket: u32) -> Result<Ring, PortError> {
        let err = |what: String| PortError::Ring { name: name.to_string(), what };
        let cname = c_name(name).map_err(err)?;
        let socket = c_int::try_from(socket).unwrap_or(0);
        // SAFETY: cname is valid for the call; flags are DPDK constants.
        let p = unsafe { sys::rte_ring_create(cname.as_ptr(), size, socket, sys::RING_F_SP_ENQ | sys::RING_F_SC_DEQ) };
        NonNull::new(p).map(|ptr| Ring { ptr }).ok_or_else(|| err(rte_errno_text()))
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let mut rest: [Option<Mbuf>; 32] = Default::default();
        while self.dequeue_burst(&mut rest) > 0 {
            rest.iter_mut().for_each(|b| drop(b.take()));
        }
        // SAFETY: nobody uses the ring any more; it is freed once.
        unsafe { sys::rte_ring_free(self.ptr.as_ptr()) };
    }
}

impl PuntRing<Mbuf> for Ring {
    fn enqueue_burst(&self, bufs: &mut [Option<Mbuf>]) -> usize {
        let n = c_uint::try_from(bufs.len()).unwrap_or(0);
        // SAFETY: bufs[..n] are owned non-null mbufs laid out as pointers;
        // the ring takes the first `done`.
        let done = unsafe { sys::anchor_ring_enqueue_burst(self.ptr.as_ptr(), bufs.as_ptr().cast::<*mut c_void>(), n) };
        let done = usize::try_from(done).unwrap_or(0);
        for b in &mut bufs[..done] {
            core::mem::forget(b.take());
        }
        done
    }

    fn dequeue_burst(&self, out: &mut [Option<Mbuf>]) -> usize {
        let n = c_uint::try_from(out.len()).unwrap_or(0);
        // SAFETY: out has room for n pointers; each dequeued mbuf becomes ours.
        let got =
            unsafe { sys::anchor_ring_dequeue_burst(self.ptr.as_ptr(), out.as_mut_ptr().cast::<*mut c_void>(), n) };
        usize::try_from(got).unwrap_or(0)
    }
}
