//! Packet-path cost without DPDK (issue part a): the real `Worker` over two
//! in-memory replay ports, one worker thread, pre-built frames.
//!
//! The ingress port hands out full bursts of 32 buffers from a recycled
//! pool, each refilled with the next pre-built frame (a 60- or 88-byte copy,
//! what a NIC's DMA or pcap's memcpy would do); the egress port takes the
//! buffers back into the pool. Downlink: IPv4 to a home address, GRE-with-key
//! encapsulation. Uplink: GRE with the right key from the right peer, inner
//! source a home address, anti-spoofing check and decapsulation. Keys: one
//! hot binding, or uniformly random over 1k or 1M bindings (one frame per
//! packet of the cycle: 1M distinct frames for 1M bindings, so no cache
//! keeps the table's lines between visits).
//!
//! Each case also runs a minimal rx->tx loop over the same ports (testpmd io
//! forwarding's shape): "net" = worker - io is what Anchor's packet path
//! costs per packet on top of moving buffers.
//!
//! `path` runs every case natively (pin it: `taskset -c 1`); `path insn`
//! counts instructions per packet of the same loops with callgrind
//! (`--toggle-collect` on the loop function: warm loop only, setup excluded).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

use bench::{
    callgrind, destinations, fill_plain, find_result, median, parse_count, pcap_mac, plain_frame, plain_state,
    port_addrs, result, Args, Keys, Res, CORE, HOME,
};
use dataplane::counters::WorkerCounters;
use dataplane::pipeline::Worker;
use dataplane::port::mem::{MemBuf, MemRing};
use dataplane::port::{PacketBuf, Port, PortId, QueueId};
use dataplane::route::StatePublisher;

const BURST: usize = 32;

/// A port that replays pre-built frames on RX and recycles what is sent.
struct ReplayPort {
    id: PortId,
    frames: Vec<u8>,
    len: usize,
    count: usize,
    cursor: Cell<usize>,
    pool: Rc<RefCell<Vec<MemBuf>>>,
}

impl ReplayPort {
    fn new(id: u16, frames: &[Vec<u8>], pool: Rc<RefCell<Vec<MemBuf>>>) -> ReplayPort {
        let len = frames.first().map_or(0, Vec::len);
        ReplayPort { id: PortId(id), frames: frames.concat(), len, count: frames.len(), cursor: Cell::new(0), pool }
    }
}

impl Port for ReplayPort {
    type Buf = MemBuf;

    #[inline]
    fn rx_burst(&self, _queue: QueueId, bufs: &mut [Option<MemBuf>]) -> usize {
        if self.count == 0 {
            return 0;
        }
        let mut pool = self.pool.borrow_mut();
        let mut cur = self.cursor.get();
        for slot in bufs.iter_mut() {
            let mut b = pool.pop().unwrap_or_else(|| MemBuf::from_frame(self.id, &[]));
            let frame = &self.frames[cur * self.len..(cur + 1) * self.len];
            if let Some(d) = b.reset(self.len) {
                d.copy_from_slice(frame);
            }
            *slot = Some(b);
            cur += 1;
            if cur == self.count {
                cur = 0;
            }
        }
        self.cursor.set(cur);
        bufs.len()
    }

    #[inline]
    fn tx_burst(&self, _queue: QueueId, bufs: &mut [Option<MemBuf>]) -> usize {
        let mut pool = self.pool.borrow_mut();
        pool.extend(bufs.iter_mut().filter_map(Option::take));
        bufs.len()
    }

    fn alloc(&self) -> Option<MemBuf> {
        None
    }

    fn id(&self) -> PortId {
        self.id
    }

    fn rx_queues(&self) -> u16 {
        1
    }
}

type BenchWorker<'a> = Worker<'a, ReplayPort, MemRing<MemBuf>>;

/// The measured loop: polls until `packets` were received.
#[inline(never)]
fn worker_loop(w: &mut BenchWorker<'_>, packets: u64) -> u64 {
    let mut n = 0u64;
    while n < packets {
        n += w.poll() as u64;
    }
    n
}

/// testpmd io forwarding's shape over the same ports: every port is polled,
/// what comes in goes out of the other one.
#[inline(never)]
fn io_loop(ports: &[ReplayPort], packets: u64) -> u64 {
    let mut bufs: [Option<MemBuf>; BURST] = [const { None }; BURST];
    let mut n = 0u64;
    while n < packets {
        for (i, p) in ports.iter().enumerate() {
            let got = p.rx_burst(QueueId(0), &mut bufs);
            if got > 0 {
                ports[1 - i].tx_burst(QueueId(0), &mut bufs[..got]);
                n += got as u64;
            }
        }
    }
    n
}

#[derive(Debug, Clone)]
struct Case {
    down: bool,
    keys: Keys,
    bindings: u32,
}

impl Case {
    fn id(&self) -> String {
        let dir = if self.down { "down" } else { "up" };
        match self.keys {
            Keys::Hot => format!("{dir}.hot"),
            Keys::Random => format!("{dir}.{}", size_name(self.bindings)),
        }
    }
}

fn size_name(n: u32) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1000 && n % 1000 == 0 => format!("{}k", n / 1000),
        n => n.to_string(),
    }
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for down in [true, false] {
        v.push(Case { down, keys: Keys::Hot, bindings: 1_000_000 });
        v.push(Case { down, keys: Keys::Random, bindings: 1000 });
        v.push(Case { down, keys: Keys::Random, bindings: 1_000_000 });
    }
    v
}

struct Measured {
    worker_ns: Vec<f64>,
    io_ns: Vec<f64>,
    /// Packets through the measured loop(s) of the worker, or of the io
    /// loop when the worker did not run, warm-up round included.
    total: u64,
}

/// Builds the case and runs `rounds` rounds of `packets` through the worker
/// (when `worker`) and the io loop (when `io`), after one warm-up round each.
fn run_case(case: &Case, frames: usize, packets: u64, rounds: usize, worker: bool, io: bool) -> Res<Measured> {
    let macs = [pcap_mac(0), pcap_mac(1)];
    let addrs = port_addrs(&macs);
    let count = if case.keys == Keys::Hot { 1 } else { frames };
    let ingress_mac = if case.down { macs[HOME] } else { macs[CORE] };
    let dests = destinations(case.keys, case.bindings, count, 0x5eed ^ u64::from(case.bindings));
    let built: Vec<Vec<u8>> =
        dests.iter().enumerate().map(|(n, &i)| plain_frame(case.down, ingress_mac, i, n as u16)).collect();
    let pool = Rc::new(RefCell::new(Vec::new()));
    let (core_frames, home_frames) = if case.down { (Vec::new(), built) } else { (built, Vec::new()) };
    let ports = [ReplayPort::new(0, &core_frames, pool.clone()), ReplayPort::new(1, &home_frames, pool)];

    let (mut writer, reader) = dataplane::fib::new(case.bindings as usize, 1);
    fill_plain(&mut writer, case.bindings)?;
    let publisher = StatePublisher::new(plain_state(&macs));
    // As the daemon: per-session counters.
    let counters = WorkerCounters::with_sessions(case.bindings as usize + 1);
    let punt = MemRing::new(64);
    let mut w = Worker::new(&ports, &addrs, 0, 1, &punt, &counters, reader, publisher.reader(), BURST);

    let mut m = Measured { worker_ns: Vec::new(), io_ns: Vec::new(), total: 0 };
    for round in 0..=rounds {
        if worker {
            let t = Instant::now();
            let n = worker_loop(&mut w, packets);
            let ns = t.elapsed().as_nanos() as f64 / n as f64;
            m.total += n;
            if round > 0 {
                m.worker_ns.push(ns);
            }
        }
        if io {
            let t = Instant::now();
            let n = io_loop(&ports, packets);
            let ns = t.elapsed().as_nanos() as f64 / n as f64;
            if !worker {
                m.total += n;
            }
            if round > 0 {
                m.io_ns.push(ns);
            }
        }
    }
    if worker {
        let s = counters.snapshot(2);
        let (ingress, egress) = if case.down { (HOME, CORE) } else { (CORE, HOME) };
        let dropped: u64 = s.drops.iter().map(|(_, n)| n).sum();
        if s.ports[ingress].rx != s.ports[egress].tx || dropped != 0 || s.ports[ingress].punted != 0 {
            return Err(format!(
                "{}: worker did not forward everything: rx {} tx {} drops {:?}",
                case.id(),
                s.ports[ingress].rx,
                s.ports[egress].tx,
                s.drops.iter().filter(|(_, n)| *n > 0).collect::<Vec<_>>()
            )
            .into());
        }
    }
    Ok(m)
}

fn native(args: &Args) -> Res<()> {
    let frames = parse_count(&args.str("frames", "1M"))? as usize;
    let packets = u64::from(parse_count(&args.str("packets", "4M"))?);
    let rounds: usize = args.num("rounds", 5)?;
    println!("packet path over in-memory replay ports, one worker, burst {BURST}; ns per packet, median of {rounds}");
    println!("{:<12} {:>10} {:>10} {:>10}", "case", "worker", "io loop", "net");
    for case in cases() {
        let m = run_case(&case, frames, packets, rounds, true, true)?;
        let (w, io) = (median(&m.worker_ns), median(&m.io_ns));
        println!("{:<12} {w:>10.2} {io:>10.2} {:>10.2}", case.id(), w - io);
        let id = case.id();
        result(&format!("path.{id}.ns"), w, "ns/pkt");
        result(&format!("path.{id}.io_ns"), io, "ns/pkt");
        result(&format!("path.{id}.net_ns"), w - io, "ns/pkt");
    }
    Ok(())
}

/// One case, one loop: the child that `insn` runs under callgrind.
fn one(args: &Args) -> Res<()> {
    let case = Case {
        down: args.str("dir", "down") == "down",
        keys: Keys::parse(&args.str("keys", "random"))?,
        bindings: parse_count(&args.str("bindings", "1k"))?,
    };
    let lp = args.str("loop", "worker");
    let frames = parse_count(&args.str("frames", "64k"))? as usize;
    let packets = u64::from(parse_count(&args.str("packets", "200k"))?);
    let m = run_case(&case, frames, packets, 1, lp == "worker", lp == "io")?;
    result("packets", m.total as f64, "pkts");
    Ok(())
}

/// Instructions per packet of `lp` ("worker" or "io") for `case`, counted by
/// callgrind over every call of the loop function.
fn count_insn(case: &Case, lp: &str, frames: &str, packets: &str) -> Res<f64> {
    let exe = std::env::current_exe()?;
    let child: Vec<String> = [
        "one",
        "--dir",
        if case.down { "down" } else { "up" },
        "--keys",
        case.keys.name(),
        "--bindings",
        &case.bindings.to_string(),
        "--frames",
        frames,
        "--packets",
        packets,
        "--loop",
        lp,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let toggle = format!("--toggle-collect=*{lp}_loop*");
    let (ir, out) = callgrind(&exe, &child, &["--collect-atstart=no", &toggle], &format!("path.{}.{lp}", case.id()))?;
    let n = find_result(&out, "packets").ok_or("child printed no packet count")?;
    Ok(ir as f64 / n)
}

fn insn(args: &Args) -> Res<()> {
    let packets = args.str("packets", "200k");
    let frames = args.str("frames", "64k");
    let all = args.flag("all");
    println!("instructions per packet (callgrind, warm loop only: --toggle-collect on the loop function)");
    println!("{:<12} {:>10} {:>10} {:>10}", "case", "worker", "io loop", "net");
    // The io loop does not depend on the keys: counted once per direction.
    let mut io = [None, None];
    for case in cases() {
        // Instruction counts do not depend on the table size (no cache
        // effect), only on probe lengths: 1k only with --all.
        if case.bindings == 1000 && case.keys == Keys::Random && !all {
            continue;
        }
        let d = usize::from(!case.down);
        let io_insn = match io[d] {
            Some(v) => v,
            None => {
                let v = count_insn(&case, "io", &frames, &packets)?;
                io[d] = Some(v);
                v
            }
        };
        let w = count_insn(&case, "worker", &frames, &packets)?;
        println!("{:<12} {w:>10.1} {io_insn:>10.1} {:>10.1}", case.id(), w - io_insn);
        let id = case.id();
        result(&format!("path.{id}.insn"), w, "insn/pkt");
        result(&format!("path.{id}.io_insn"), io_insn, "insn/pkt");
        result(&format!("path.{id}.net_insn"), w - io_insn, "insn/pkt");
    }
    Ok(())
}

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("path: {e}");
            std::process::exit(2);
        }
    };
    let r = match args.command.as_deref() {
        None | Some("run") => native(&args),
        Some("one") => one(&args),
        Some("insn") => insn(&args),
        Some(c) => Err(format!("unknown command {c:?} (run, insn, one)").into()),
    };
    if let Err(e) = r {
        eprintln!("path: {e}");
        std::process::exit(1);
    }
}
