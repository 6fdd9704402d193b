//! Anchor through DPDK (issue parts b and c, and the instruction counts):
//! the real `Worker` on its own lcore over `net_pcap` virtual ports that
//! replay pre-built packets (`rx_pcap=...,infinite_rx=1`; a port without TX
//! arguments drops what it is given), against `dpdk-testpmd` io forwarding
//! on the very same vdev arguments and pcap files, in the same run.
//!
//! Commands:
//! - `tput --dir down|up --keys hot|random`: Mpps of Anchor and of testpmd,
//!   alternated `--rounds` times, medians of 1-second periods; prints the
//!   ratio Anchor / testpmd.
//! - `null`: testpmd io over two `net_null` ports (the reference).
//! - `insn --dir down --keys hot`: instructions per packet, whole process,
//!   callgrind at two packet counts (difference / difference), Anchor and
//!   testpmd on the same ports.
//! - `count ...`: the child `insn` runs: forwards about `--packets` and exits.
//! - `churn`: a writer thread publishes `--rate` table updates/s while the
//!   worker forwards; every transmitted packet is checked against its
//!   destination's tunnel; lost and misrouted packets and the throughput dip.
//!
//! EAL: `--no-huge --no-pci --no-shconf --no-telemetry`, the main lcore on
//! CPU 0 (asleep while measuring), the worker on CPU 1. Generated pcap files
//! go to `bench/out/` (git-ignored).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use bench::{
    callgrind, destinations, fill_plain, find_result, gre_tunnel, hoa, hoa_index, hoa_key, median, out_dir,
    parse_count, pcap_mac, peer, plain_frame, plain_state, port_addrs, result, write_pcap, Args, Keys, Res, Rng, CORE,
    HOME, PEERS, TRAP,
};
use dataplane::addrs::PortAddrs;
use dataplane::counters::{add, CounterSnapshot, WorkerCounters};
use dataplane::fib::{FibEntry, FibReader, FibWriter};
use dataplane::pipeline::Worker;
use dataplane::port::dpdk::{Eal, EthPort, Mbuf, Mempool, PortSetup, Ring};
use dataplane::port::{LcoreId, PacketBuf, Port, PortId, QueueId};
use dataplane::route::{ForwardingState, StatePublisher, StateReader};
use dataplane::wire::MacAddr;

const BURST: usize = 32;
/// testpmd's default mempool cache (`--mbcache`), used by both.
const MBUF_CACHE: u32 = 250;
/// Mbufs beyond the replayed packets (RX bursts in flight, caches).
const EXTRA_MBUFS: u32 = 16 * 1024;

// ---------------------------------------------------------------------------
// Topology: the vdev arguments both Anchor and testpmd get
// ---------------------------------------------------------------------------

struct Topology {
    /// `--vdev` values, port i = `net_pcap<i>` (or `net_null<i>`).
    vdevs: Vec<String>,
    names: Vec<String>,
    macs: Vec<MacAddr>,
    mbufs: u32,
    mem_mb: u32,
}

/// `nports` pcap ports; `ingress` replays `pcap` forever, the others read an
/// empty file (no packets) and every port drops what it transmits.
fn pcap_topology(nports: usize, ingress: usize, pcap: &Path, flows: u32, mem_mb: u32) -> Res<Topology> {
    let empty = out_dir()?.join("empty.pcap");
    write_pcap(&empty, std::iter::empty())?;
    let names: Vec<String> = (0..nports).map(|i| format!("net_pcap{i}")).collect();
    let vdevs = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i == ingress {
                format!("{n},rx_pcap={},infinite_rx=1", pcap.display())
            } else {
                format!("{n},rx_pcap={}", empty.display())
            }
        })
        .collect();
    Ok(Topology {
        vdevs,
        names,
        macs: (0..nports).map(|i| pcap_mac(i as u8)).collect(),
        mbufs: flows + EXTRA_MBUFS,
        mem_mb,
    })
}

/// EAL arguments shared by the harness and testpmd (argv[0] not included).
fn eal_args(prefix: &str, topo: &Topology) -> Vec<String> {
    let mut v: Vec<String> = [
        "--no-huge",
        "-m",
        &topo.mem_mb.to_string(),
        "--no-pci",
        "--no-shconf",
        "--no-telemetry",
        "--file-prefix",
        prefix,
        "--lcores",
        "0@0,1@1",
        "--main-lcore",
        "0",
        "--log-level",
        "warning",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for d in &topo.vdevs {
        v.push("--vdev".into());
        v.push(d.clone());
    }
    v
}

/// Writes the replay file of a throughput case and returns its path.
fn plain_pcap(down: bool, keys: Keys, bindings: u32, flows: u32) -> Res<PathBuf> {
    let dir = if down { "down" } else { "up" };
    let count = if keys == Keys::Hot { 1 } else { flows as usize };
    let path = out_dir()?.join(format!("{dir}-{}-{bindings}-{count}.pcap", keys.name()));
    let ingress_mac = pcap_mac(if down { HOME } else { CORE } as u8);
    let frames: Vec<Vec<u8>> = destinations(keys, bindings, count, 0xd00d ^ u64::from(bindings))
        .iter()
        .enumerate()
        .map(|(n, &i)| plain_frame(down, ingress_mac, i, n as u16))
        .collect();
    write_pcap(&path, frames.iter().map(Vec::as_slice))?;
    Ok(path)
}

// ---------------------------------------------------------------------------
// The harness: EAL, ports, one worker lcore
// ---------------------------------------------------------------------------

/// Counts of the transmit-side checker (churn benchmark).
struct Verify {
    /// Bindings 0..traffic are the traffic set.
    traffic: u32,
    checked: AtomicU64,
    misrouted: AtomicU64,
}

impl Verify {
    /// Every packet sent must leave by CORE in the tunnel of its inner
    /// destination: GRE key `traffic_key_out(i)` to peer `i % PEERS`.
    #[inline]
    fn check(&self, port: usize, bufs: &[Option<Mbuf>]) {
        let (mut n, mut bad) = (0u64, 0u64);
        for b in bufs.iter().flatten() {
            n += 1;
            if port != CORE || !self.ok(b.data()) {
                bad += 1;
            }
        }
        add(&self.checked, n);
        add(&self.misrouted, bad);
    }

    #[inline]
    fn ok(&self, d: &[u8]) -> bool {
        const INNER_DST: usize = 14 + 20 + 8 + 16;
        if d.len() < INNER_DST + 4 || d[12..14] != [0x08, 0x00] || d[23] != 47 || d[34..36] != [0x20, 0x00] {
            return false;
        }
        let key = u32::from_be_bytes([d[38], d[39], d[40], d[41]]);
        let outer_dst = [d[30], d[31], d[32], d[33]];
        let inner = [d[INNER_DST], d[INNER_DST + 1], d[INNER_DST + 2], d[INNER_DST + 3]];
        match hoa_index(inner) {
            Some(i) if i < self.traffic => key == traffic_key_out(i) && outer_dst == peer(i as usize % PEERS).octets(),
            _ => false,
        }
    }
}

/// A port that checks what the worker transmits before handing it to the
/// real port (churn benchmark only; the throughput runs use `EthPort`).
struct Checked<'a> {
    port: &'a EthPort,
    index: usize,
    verify: &'a Verify,
}

impl Port for Checked<'_> {
    type Buf = Mbuf;

    #[inline]
    fn rx_burst(&self, queue: QueueId, bufs: &mut [Option<Mbuf>]) -> usize {
        self.port.rx_burst(queue, bufs)
    }

    #[inline]
    fn tx_burst(&self, queue: QueueId, bufs: &mut [Option<Mbuf>]) -> usize {
        self.verify.check(self.index, bufs);
        self.port.tx_burst(queue, bufs)
    }

    fn alloc(&self) -> Option<Mbuf> {
        self.port.alloc()
    }

    fn id(&self) -> PortId {
        self.port.id()
    }

    fn rx_queues(&self) -> u16 {
        self.port.rx_queues()
    }
}

struct Shared {
    ports: Vec<EthPort>,
    addrs: Vec<PortAddrs>,
    punt: Ring,
    counters: WorkerCounters,
    stop: AtomicBool,
    /// Set by a counted job when it has forwarded its packets.
    done: AtomicBool,
    verify: Verify,
}

/// What the worker lcore runs.
#[derive(Debug, Clone, Copy)]
enum Job {
    /// `Worker::run` until stopped; the transmitted packets are checked
    /// when `checked`.
    Run { checked: bool },
    /// `Worker::poll` until `packets` were received (the body of `run`
    /// without its stop flag), then returns: the exact count callgrind
    /// runs want, without the main lcore busy-waiting for the worker.
    Count { packets: u64 },
}

struct Harness {
    eal: Eal,
    shared: Arc<Shared>,
    lcore: LcoreId,
    pool: Arc<Mempool>,
}

impl Harness {
    fn open(topo: &Topology, traffic: u32) -> Res<Harness> {
        let mut args = vec!["bench-dp".to_string()];
        args.extend(eal_args(&format!("bench-{}", std::process::id()), topo));
        let eal = Eal::init(&args)?;
        let lcore = *eal.worker_lcores().first().ok_or("EAL started no worker lcore")?;
        let pool = Arc::new(Mempool::new(&eal, "bench-pool", topo.mbufs, MBUF_CACHE, 0)?);
        let setup = PortSetup { rx_queues: 1, tx_queues: 1, rx_desc: 1024, tx_desc: 1024, mtu: 1500 };
        let mut ports = Vec::new();
        for (i, name) in topo.names.iter().enumerate() {
            let p = EthPort::open(&eal, name, name, &setup, pool.clone())?;
            if p.mac() != topo.macs[i] {
                return Err(
                    format!("{name} has MAC {}, the pcap files were built for {}", p.mac(), topo.macs[i]).into()
                );
            }
            ports.push(p);
        }
        let shared = Arc::new(Shared {
            addrs: port_addrs(&topo.macs),
            ports,
            punt: Ring::new(&eal, "bench-punt", 1024, 0)?,
            // As the daemon: per-session counters for the largest case.
            counters: WorkerCounters::with_sessions(1 << 21),
            stop: AtomicBool::new(false),
            done: AtomicBool::new(false),
            verify: Verify { traffic, checked: AtomicU64::new(0), misrouted: AtomicU64::new(0) },
        });
        Ok(Harness { eal, shared, lcore, pool })
    }

    /// Starts `job` on the worker lcore.
    fn start(&self, fib: FibReader, state: StateReader, job: Job) -> Res<()> {
        let sh = self.shared.clone();
        sh.stop.store(false, Ordering::SeqCst);
        sh.done.store(false, Ordering::SeqCst);
        self.eal.launch(self.lcore, move || {
            let s = &*sh;
            match job {
                Job::Run { checked: true } => {
                    let ports: Vec<Checked<'_>> = s
                        .ports
                        .iter()
                        .enumerate()
                        .map(|(index, port)| Checked { port, index, verify: &s.verify })
                        .collect();
                    let mut w = Worker::new(&ports, &s.addrs, 0, 1, &s.punt, &s.counters, fib, state, BURST);
                    w.run(&s.stop, Duration::ZERO);
                }
                Job::Run { checked: false } => {
                    let mut w = Worker::new(&s.ports, &s.addrs, 0, 1, &s.punt, &s.counters, fib, state, BURST);
                    w.run(&s.stop, Duration::ZERO);
                }
                Job::Count { packets } => {
                    let reader = fib.clone();
                    let mut w = Worker::new(&s.ports, &s.addrs, 0, 1, &s.punt, &s.counters, fib, state, BURST);
                    reader.online(0);
                    let mut n = 0u64;
                    while n < packets {
                        n += w.poll() as u64;
                    }
                    reader.offline(0);
                }
            }
            s.done.store(true, Ordering::SeqCst);
            0
        })?;
        Ok(())
    }

    fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.eal.wait(self.lcore);
    }

    fn snapshot(&self) -> CounterSnapshot {
        self.shared.counters.snapshot(self.shared.ports.len())
    }

    /// Packets transmitted so far, all ports.
    fn tx(&self) -> u64 {
        self.snapshot().ports.iter().map(|p| p.tx).sum()
    }

    fn close(self) {
        let Harness { eal, shared, pool, .. } = self;
        if let Ok(sh) = Arc::try_unwrap(shared) {
            for p in sh.ports {
                p.close();
            }
        }
        drop(pool);
        eal.cleanup();
    }
}

/// Counter differences between two snapshots: (rx, tx, dropped, punted) of
/// all ports and the non-zero drop reasons.
struct Delta {
    rx: u64,
    tx: Vec<u64>,
    dropped: u64,
    punted: u64,
    reasons: Vec<(&'static str, u64)>,
}

fn delta(a: &CounterSnapshot, b: &CounterSnapshot) -> Delta {
    let sum = |f: fn(&dataplane::counters::PortCounts) -> u64| -> u64 {
        b.ports.iter().map(f).sum::<u64>() - a.ports.iter().map(f).sum::<u64>()
    };
    Delta {
        rx: sum(|p| p.rx),
        tx: b.ports.iter().zip(&a.ports).map(|(y, x)| y.tx - x.tx).collect(),
        dropped: sum(|p| p.dropped),
        punted: sum(|p| p.punted),
        reasons: b
            .drops
            .iter()
            .zip(&a.drops)
            .map(|((name, y), (_, x))| (*name, y - x))
            .filter(|(_, n)| *n > 0)
            .collect(),
    }
}

/// Mpps of the worker over `periods` windows of `period` after `warmup`,
/// and the percentage of that time the worker waited for its CPU.
fn sample(h: &Harness, warmup: Duration, period: Duration, periods: usize) -> (Vec<f64>, f64) {
    thread::sleep(warmup);
    let mut out = Vec::with_capacity(periods);
    let pid = std::process::id();
    let (start, s0) = (Instant::now(), worker_sched(pid));
    let (mut t0, mut n0) = (start, h.tx());
    for _ in 0..periods {
        thread::sleep(period);
        let (t1, n1) = (Instant::now(), h.tx());
        out.push((n1 - n0) as f64 / t1.duration_since(t0).as_secs_f64() / 1e6);
        (t0, n0) = (t1, n1);
    }
    (out, wait_pct(s0, worker_sched(pid), start.elapsed()))
}

// ---------------------------------------------------------------------------
// testpmd
// ---------------------------------------------------------------------------

fn testpmd_command(topo: &Topology, via_valgrind: Option<&Path>) -> Command {
    // Line-buffered stdout: testpmd's stats and prompts reach us as printed.
    let mut c = Command::new("stdbuf");
    c.arg("-oL");
    if let Some(out) = via_valgrind {
        c.args(["valgrind", "--tool=callgrind", "--fair-sched=yes"])
            .arg(format!("--callgrind-out-file={}", out.display()));
    }
    c.arg("dpdk-testpmd").args(eal_args(&format!("tp-{}", std::process::id()), topo)).arg("--").args([
        "--forward-mode=io".to_string(),
        "--nb-cores=1".into(),
        "--burst=32".into(),
        "--rxq=1".into(),
        "--txq=1".into(),
        format!("--total-num-mbufs={}", topo.mbufs),
        format!("--mbcache={MBUF_CACHE}"),
        "--no-mlockall".into(),
    ]);
    c
}

fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Kills `pid` with `signal` if `done` is not set within `after`.
fn watchdog(pid: u32, after: Duration, done: Arc<AtomicBool>) {
    thread::spawn(move || {
        let until = Instant::now() + after;
        while Instant::now() < until {
            if done.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        eprintln!("dp: child {pid} did not finish in {after:?}; killing it");
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    });
}

/// (run, wait) nanoseconds of the EAL worker thread `rte-worker-*` of
/// process `pid`, from /proc/<pid>/task/*/schedstat: "wait" is time spent
/// runnable while something else held its CPU, i.e. how much another
/// process disturbed the measurement.
fn worker_sched(pid: u32) -> Option<(u64, u64)> {
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.starts_with("rte-worker") || comm.starts_with("lcore-worker") {
            let s = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let mut w = s.split_whitespace().map(|v| v.parse::<u64>().ok());
            return Some((w.next()??, w.next()??));
        }
    }
    None
}

/// Percent of `elapsed` the worker thread waited for its CPU between two
/// `worker_sched` readings.
fn wait_pct(a: Option<(u64, u64)>, b: Option<(u64, u64)>, elapsed: Duration) -> f64 {
    match (a, b) {
        (Some((_, w0)), Some((_, w1))) => (w1 - w0) as f64 / elapsed.as_nanos().max(1) as f64 * 100.0,
        _ => f64::NAN,
    }
}

fn log_file(name: &str) -> Res<(std::fs::File, PathBuf)> {
    let path = out_dir()?.join(name);
    Ok((std::fs::File::create(&path)?, path))
}

/// testpmd io forwarding with `--stats-period 1`: the Rx-pps of `ports`
/// (summed) of `skip + periods` prints, the first `skip` dropped, and the
/// percentage of the measured time its forwarding thread waited for its CPU.
fn testpmd_tput(topo: &Topology, ports: &[u16], skip: usize, periods: usize) -> Res<(Vec<f64>, f64)> {
    let (log, log_path) = log_file("testpmd.log")?;
    let mut child = testpmd_command(topo, None)
        .arg("--stats-period=1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("dpdk-testpmd: {e} (apt-get install dpdk-dev)"))?;
    let done = Arc::new(AtomicBool::new(false));
    watchdog(child.id(), Duration::from_secs((skip + periods) as u64 + 60), done.clone());
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let nports = topo.vdevs.len() as u16;
    let mut port: Option<u16> = None;
    let mut current = 0f64;
    let mut values = Vec::new();
    let mut signalled = false;
    let mut sched0 = None;
    let mut wait = f64::NAN;
    for line in BufReader::new(stdout).lines() {
        let line = strip_escapes(&line?);
        if let Some(rest) = line.split("NIC statistics for port").nth(1) {
            port = rest.split_whitespace().next().and_then(|p| p.parse().ok());
        }
        if let Some(rest) = line.trim_start().strip_prefix("Rx-pps:") {
            let v: f64 = rest.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
            if port.is_some_and(|p| ports.contains(&p)) {
                current += v;
            }
            if port == Some(nports - 1) {
                values.push(current / 1e6);
                current = 0.0;
                if values.len() == skip {
                    sched0 = Some((Instant::now(), worker_sched(child.id())));
                }
            }
        }
        if !signalled && values.len() >= skip + periods {
            if let Some((t, s0)) = sched0 {
                wait = wait_pct(s0, worker_sched(child.id()), t.elapsed());
            }
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            signalled = true;
        }
    }
    let _ = child.wait();
    done.store(true, Ordering::SeqCst);
    if values.len() < skip + periods {
        return Err(format!(
            "testpmd printed {} stats, wanted {}: see {}",
            values.len(),
            skip + periods,
            log_path.display()
        )
        .into());
    }
    Ok((values[skip..skip + periods].to_vec(), wait))
}

/// testpmd io forwarding under callgrind for about `secs` of forwarding:
/// (instructions, packets forwarded).
fn testpmd_callgrind(topo: &Topology, secs: f64, tag: &str) -> Res<(u64, u64)> {
    let out = out_dir()?.join(format!("callgrind.{tag}.out"));
    let (log, log_path) = log_file(&format!("{tag}.log"))?;
    let mut child = testpmd_command(topo, Some(&out))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("valgrind dpdk-testpmd: {e}"))?;
    let done = Arc::new(AtomicBool::new(false));
    watchdog(child.id(), Duration::from_secs_f64(secs + 300.0), done.clone());
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut accumulated = false;
    let mut packets = None;
    for line in BufReader::new(stdout).lines() {
        let line = strip_escapes(&line?);
        if line.contains("Press enter to exit") {
            thread::sleep(Duration::from_secs_f64(secs));
            stdin.write_all(b"\n")?;
            stdin.flush()?;
        }
        if line.contains("Accumulated forward statistics for all ports") {
            accumulated = true;
        }
        if accumulated && packets.is_none() {
            if let Some(rest) = line.trim_start().strip_prefix("TX-packets:") {
                packets = rest.split_whitespace().next().and_then(|v| v.parse::<u64>().ok());
            }
        }
    }
    let status = child.wait()?;
    done.store(true, Ordering::SeqCst);
    let packets =
        packets.ok_or_else(|| format!("testpmd under callgrind ({status}): no totals, see {}", log_path.display()))?;
    Ok((bench::summary_ir(&out)?, packets))
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

struct Plain {
    down: bool,
    keys: Keys,
    bindings: u32,
    topo: Topology,
    /// The table's hash seed (`--seed`); random when absent.
    seed: Option<u64>,
}

impl Plain {
    fn from_args(args: &Args, default_flows: &str, mem_mb: u32) -> Res<Plain> {
        let down = match args.str("dir", "down").as_str() {
            "down" => true,
            "up" => false,
            d => return Err(format!("--dir must be down or up, not {d:?}").into()),
        };
        let keys = Keys::parse(&args.str("keys", "hot"))?;
        let bindings = parse_count(&args.str("bindings", "1M"))?;
        let flows = if keys == Keys::Hot { 1 } else { parse_count(&args.str("flows", default_flows))? };
        let pcap = plain_pcap(down, keys, bindings, flows)?;
        let ingress = if down { HOME } else { CORE };
        let topo = pcap_topology(2, ingress, &pcap, flows, args.num("mem", mem_mb)?)?;
        let seed = match args.str("seed", "").as_str() {
            "" => None,
            s => Some(s.parse().map_err(|_| format!("--seed: {s:?}"))?),
        };
        Ok(Plain { down, keys, bindings, topo, seed })
    }

    fn id(&self) -> String {
        let dir = if self.down { "down" } else { "up" };
        match self.keys {
            Keys::Hot => format!("{dir}.hot"),
            Keys::Random => format!("{dir}.random"),
        }
    }

    fn ingress(&self) -> u16 {
        if self.down {
            HOME as u16
        } else {
            CORE as u16
        }
    }

    /// EAL up, ports open, table filled, static state published.
    fn harness(&self) -> Res<(Harness, FibWriter, FibReader, StatePublisher)> {
        let h = Harness::open(&self.topo, 0)?;
        let (mut writer, reader) = dataplane::fib::with_seed(self.bindings as usize, 1, self.seed);
        println!(
            "  forwarding table: {} slots, {}",
            reader.slots(),
            if reader.huge_pages() { "2 MiB huge pages" } else { "4 KiB pages (no free huge pages)" }
        );
        fill_plain(&mut writer, self.bindings)?;
        let publisher = StatePublisher::new(plain_state(&self.topo.macs));
        Ok((h, writer, reader, publisher))
    }
}

fn fmt_waits(w: &[f64]) -> String {
    w.iter().map(|v| format!("{v:.1} %")).collect::<Vec<_>>().join(" / ")
}

/// Fails unless every packet received was forwarded (no drop, no punt).
fn all_forwarded(what: &str, d: &Delta) -> Res<()> {
    let tx: u64 = d.tx.iter().sum();
    if d.rx != tx || d.dropped != 0 || d.punted != 0 {
        return Err(format!(
            "{what}: rx {} tx {tx} dropped {} punted {} {:?}: the benchmark setup is wrong",
            d.rx, d.dropped, d.punted, d.reasons
        )
        .into());
    }
    Ok(())
}

fn tput(args: &Args) -> Res<()> {
    let case = Plain::from_args(args, "128k", 1024)?;
    let rounds: usize = args.num("rounds", 2)?;
    let periods: usize = args.num("periods", 4)?;
    let warmup = Duration::from_millis(args.num("warmup-ms", 1000)?);
    let with_testpmd = !args.flag("no-testpmd");
    let id = case.id();
    let (h, _writer, reader, publisher) = case.harness()?;
    println!(
        "{id}: {} bindings, {} packets replayed, {} ports; {rounds} rounds of {periods} 1-s periods each",
        case.bindings,
        if case.keys == Keys::Hot { 1 } else { case.topo.mbufs - EXTRA_MBUFS },
        case.topo.vdevs.len()
    );
    let (mut anchor, mut testpmd) = (Vec::new(), Vec::new());
    let mut waits = Vec::new();
    let mut round_ratios = Vec::new();
    for round in 1..=rounds {
        let before = h.snapshot();
        h.start(reader.clone(), publisher.reader(), Job::Run { checked: false })?;
        let (a, aw) = sample(&h, warmup, Duration::from_secs(1), periods);
        h.stop();
        let d = delta(&before, &h.snapshot());
        all_forwarded(&id, &d)?;
        print!("  round {round}: anchor {:.2} Mpps", median(&a));
        let ra = median(&a);
        anchor.extend(a);
        waits.push(aw);
        if with_testpmd {
            let (t, tw) = testpmd_tput(&case.topo, &[case.ingress()], 2, periods)?;
            print!(", testpmd io {:.2} Mpps, ratio {:.3}", median(&t), ra / median(&t));
            round_ratios.push(ra / median(&t));
            testpmd.extend(t);
            waits.push(tw);
        }
        let n = 1 + usize::from(with_testpmd);
        println!("; forwarding thread waited for its CPU {}", fmt_waits(&waits[waits.len() - n..]));
    }
    // Time the forwarding thread spent runnable but off its CPU (another
    // process on CPU 1): the figures are disturbed when this is not ~0.
    let worst_wait = waits.iter().copied().filter(|w| !w.is_nan()).fold(0.0, f64::max);
    result(&format!("dp.{id}.cpu_wait_pct"), worst_wait, "%");
    let (a, t) = (median(&anchor), median(&testpmd));
    result(&format!("dp.{id}.anchor_mpps"), a, "Mpps");
    result(&format!("dp.{id}.anchor_ns"), 1e3 / a, "ns/pkt");
    if with_testpmd {
        result(&format!("dp.{id}.testpmd_mpps"), t, "Mpps");
        result(&format!("dp.{id}.testpmd_ns"), 1e3 / t, "ns/pkt");
        result(&format!("dp.{id}.delta_ns"), 1e3 / a - 1e3 / t, "ns/pkt");
        result(&format!("dp.{id}.ratio"), a / t, "x");
        result(&format!("dp.{id}.ratio_min"), round_ratios.iter().copied().fold(f64::INFINITY, f64::min), "x");
        result(&format!("dp.{id}.ratio_max"), round_ratios.iter().copied().fold(0.0, f64::max), "x");
        println!("{id}: anchor {a:.2} Mpps, testpmd io {t:.2} Mpps, anchor/testpmd {:.3}", a / t);
    }
    h.close();
    Ok(())
}

/// Two net_null ports (testpmd only: their packets are not Anchor's).
fn null_topology() -> Topology {
    Topology {
        vdevs: vec!["net_null0".into(), "net_null1".into()],
        names: vec!["net_null0".into(), "net_null1".into()],
        macs: vec![],
        mbufs: EXTRA_MBUFS,
        mem_mb: 512,
    }
}

/// testpmd io forwarding over two net_null ports: the reference figure of
/// the issue (both directions, one core).
fn null_ref(args: &Args) -> Res<()> {
    let periods: usize = args.num("periods", 4)?;
    let (t, _) = testpmd_tput(&null_topology(), &[0, 1], 2, periods)?;
    let m = median(&t);
    println!("testpmd io, two net_null ports, one core: {m:.2} Mpps");
    result("dp.null.testpmd_mpps", m, "Mpps");
    Ok(())
}

/// Forwards about `--packets` packets and exits (run under callgrind).
fn count(args: &Args) -> Res<()> {
    let case = Plain::from_args(args, "1", 256)?;
    let packets = u64::from(parse_count(&args.str("packets", "1M"))?);
    let (h, _writer, reader, publisher) = case.harness()?;
    let before = h.snapshot();
    h.start(reader, publisher.reader(), Job::Count { packets })?;
    while !h.shared.done.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(2));
    }
    h.stop();
    let d = delta(&before, &h.snapshot());
    all_forwarded("count", &d)?;
    result("packets", d.rx as f64, "pkts");
    h.close();
    Ok(())
}

fn insn(args: &Args) -> Res<()> {
    let case = Plain::from_args(args, "1", 256)?;
    let id = case.id();
    let exe = std::env::current_exe()?;
    let counts: Vec<u32> = args.str("packets", "400k,1200k").split(',').map(parse_count).collect::<Res<Vec<_>>>()?;
    let secs: Vec<f64> = args
        .str("testpmd-secs", "2,6")
        .split(',')
        .map(|s| s.parse::<f64>().map_err(|_| format!("--testpmd-secs: {s:?}").into()))
        .collect::<Res<Vec<_>>>()?;
    if counts.len() != 2 || secs.len() != 2 {
        return Err("--packets and --testpmd-secs take two values each".into());
    }
    // Both runs hash with the same seed, so the table has the same layout
    // in each and the difference is the packets' alone.
    let seed: u64 = args.num("seed", 1)?;
    println!("  table hash seed {seed} (--seed)");
    let mut anchor = Vec::new();
    for (k, n) in counts.iter().enumerate() {
        let child: Vec<String> = [
            "count",
            "--dir",
            if case.down { "down" } else { "up" },
            "--keys",
            case.keys.name(),
            "--bindings",
            &case.bindings.to_string(),
            "--flows",
            &args.str("flows", "1"),
            "--mem",
            &case.topo.mem_mb.to_string(),
            "--packets",
            &n.to_string(),
            "--seed",
            &seed.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (ir, out) = callgrind(&exe, &child, &[], &format!("dp.{id}.anchor{k}"))?;
        let pkts = find_result(&out, "packets").ok_or("count printed no packet count")?;
        println!("  anchor under callgrind: {pkts} packets, {ir} instructions");
        anchor.push((ir as f64, pkts));
    }
    let mut tp = Vec::new();
    for (k, s) in secs.iter().enumerate() {
        let (ir, pkts) = testpmd_callgrind(&case.topo, *s, &format!("dp.{id}.testpmd{k}"))?;
        println!("  testpmd under callgrind: {pkts} packets, {ir} instructions");
        tp.push((ir as f64, pkts as f64));
    }
    let per = |v: &[(f64, f64)]| (v[1].0 - v[0].0) / (v[1].1 - v[0].1);
    let (a, t) = (per(&anchor), per(&tp));
    println!("{id}: instructions per packet: anchor {a:.1}, testpmd io {t:.1}, ratio {:.3}", a / t);
    result(&format!("insn.{id}.anchor"), a, "insn/pkt");
    result(&format!("insn.{id}.testpmd"), t, "insn/pkt");
    result(&format!("insn.{id}.ratio"), a / t, "x");

    if args.flag("null") {
        // testpmd io over two net_null ports (the denominator): what
        // the ratio would be on those ports if Anchor's own instructions
        // stayed the same (the PMD's share is what testpmd spends).
        let null = null_topology();
        let mut tn = Vec::new();
        for (k, s) in secs.iter().enumerate() {
            let (ir, pkts) = testpmd_callgrind(&null, *s, &format!("dp.null.testpmd{k}"))?;
            tn.push((ir as f64, pkts as f64));
        }
        let n = per(&tn);
        let est = (a - t + n) / n;
        println!(
            "  testpmd io on two net_null ports: {n:.1} insn/pkt; Anchor on them (est.) {:.1}, ratio {est:.3}",
            a - t + n
        );
        result(&format!("insn.{id}.testpmd_null"), n, "insn/pkt");
        result(&format!("insn.{id}.ratio_null_est"), est, "x");
    }

    // Where Anchor's instructions go: per function (inlined code counts for
    // the function it was inlined into), difference of the two runs.
    let out = out_dir()?;
    let f0 = bench::per_function(&out.join(format!("callgrind.dp.{id}.anchor0.out")))?;
    let f1 = bench::per_function(&out.join(format!("callgrind.dp.{id}.anchor1.out")))?;
    let dp = anchor[1].1 - anchor[0].1;
    let mut per_fn: Vec<(f64, String)> = f1
        .iter()
        .map(|(name, n1)| ((*n1 as f64 - f0.get(name).copied().unwrap_or(0) as f64) / dp, name.clone()))
        .filter(|(v, _)| *v >= 2.0)
        .collect();
    per_fn.sort_by(|x, y| y.0.total_cmp(&x.0));
    println!("  Anchor's instructions per packet by function:");
    for (v, name) in &per_fn {
        println!("  {v:8.1}  {name}");
        println!("RESULTFN insn.{id} {v:.1} {name}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Churn
// ---------------------------------------------------------------------------

/// Traffic binding i has tunnel i and an identical twin TRAFFIC + i; the
/// GRE keys are unique per binding so a packet in the wrong tunnel shows.
fn traffic_key_in(i: u32) -> u32 {
    0x1000_0000 + i
}

fn traffic_key_out(i: u32) -> u32 {
    0x2000_0000 + i
}

/// Decoy bindings (never in the traffic) start at this binding number and
/// use DECOY_TUNNELS tunnels that lead to the trap port.
const DECOY_BASE: u32 = 1 << 23;
const DECOY_TUNNELS: u32 = 8;

struct ChurnPlan {
    traffic: u32,
    state: ForwardingState,
}

impl ChurnPlan {
    fn new(traffic: u32, macs: &[MacAddr]) -> ChurnPlan {
        let mut tunnels = Vec::new();
        for _twin in 0..2 {
            for i in 0..traffic {
                let p = i as usize % PEERS;
                tunnels.push(Some(gre_tunnel(p, traffic_key_in(i), traffic_key_out(i), CORE, macs[CORE])));
            }
        }
        for j in 0..DECOY_TUNNELS {
            tunnels.push(Some(gre_tunnel(j as usize % PEERS, 0x3000_0000 + j, 0x3100_0000 + j, TRAP, macs[TRAP])));
        }
        ChurnPlan { traffic, state: bench::forwarding_state(tunnels, macs) }
    }

    fn decoy_entry(&self, j: u32) -> FibEntry {
        FibEntry { session: DECOY_BASE + j, tunnel: 2 * self.traffic + j % DECOY_TUNNELS }
    }
}

struct WriterReport {
    updates: u64,
    failed: u64,
    publishes: u64,
    elapsed: Duration,
    max_pending: usize,
}

/// The control thread's stand-in: `rate` updates per second in 1-ms ticks,
/// a third each of decoy insertions, decoy removals (oldest first) and
/// replacements of a traffic binding's entry by its equivalent twin;
/// reclamation every tick; the forwarding state republished every 100 ms.
fn churn_writer(
    mut fib: FibWriter,
    mut decoys: VecDeque<u32>,
    mut next_decoy: u32,
    plan: Arc<ChurnPlan>,
    publisher: StatePublisher,
    rate: u32,
    stop: Arc<AtomicBool>,
) -> (FibWriter, VecDeque<u32>, u32, WriterReport) {
    let mut rng = Rng(0xc0ffee);
    let mut flipped = vec![false; plan.traffic as usize];
    let mut r = WriterReport { updates: 0, failed: 0, publishes: 0, elapsed: Duration::ZERO, max_pending: 0 };
    let start = Instant::now();
    let tick = Duration::from_millis(1);
    let mut next_tick = start;
    let mut last_publish = start;
    let mut op = 0u64;
    while !stop.load(Ordering::Relaxed) {
        // Updates due by now at `rate`, so a late tick catches up.
        let due = (start.elapsed().as_secs_f64() * f64::from(rate)) as u64;
        while r.updates + r.failed < due {
            let ok = match op % 3 {
                0 => {
                    let j = next_decoy;
                    next_decoy = (next_decoy + 1) % DECOY_BASE;
                    decoys.push_back(j);
                    fib.insert(hoa_key(DECOY_BASE + j), plan.decoy_entry(j)).is_ok()
                }
                1 => decoys.pop_front().is_some_and(|j| fib.remove(&hoa_key(DECOY_BASE + j)).is_some()),
                _ => {
                    let i = rng.below(plan.traffic as usize);
                    flipped[i] = !flipped[i];
                    let tunnel = i as u32 + if flipped[i] { plan.traffic } else { 0 };
                    fib.insert(hoa_key(i as u32), FibEntry { session: i as u32, tunnel }).is_ok()
                }
            };
            op += 1;
            if ok {
                r.updates += 1;
            } else {
                r.failed += 1;
            }
        }
        r.max_pending = r.max_pending.max(fib.pending_reclaim());
        fib.reclaim();
        if last_publish.elapsed() >= Duration::from_millis(100) {
            publisher.publish(plan.state.clone());
            r.publishes += 1;
            last_publish = Instant::now();
        }
        next_tick += tick;
        let now = Instant::now();
        if next_tick > now {
            thread::sleep(next_tick - now);
        } else {
            next_tick = now;
        }
    }
    r.elapsed = start.elapsed();
    (fib, decoys, next_decoy, r)
}

struct Phase {
    name: &'static str,
    checked: bool,
    churn: bool,
}

struct PhaseResult {
    mpps: Vec<f64>,
    /// Percent of the time the worker waited for its CPU (worst phase).
    wait: f64,
    delta: Delta,
    checked: u64,
    misrouted: u64,
    writer: Option<WriterReport>,
}

impl PhaseResult {
    fn merge(&mut self, o: PhaseResult) {
        self.mpps.extend(o.mpps);
        self.wait = self.wait.max(o.wait);
        self.delta.rx += o.delta.rx;
        for (a, b) in self.delta.tx.iter_mut().zip(o.delta.tx) {
            *a += b;
        }
        self.delta.dropped += o.delta.dropped;
        self.delta.punted += o.delta.punted;
        self.delta.reasons.extend(o.delta.reasons);
        self.checked += o.checked;
        self.misrouted += o.misrouted;
        if let (Some(a), Some(b)) = (self.writer.as_mut(), o.writer) {
            a.updates += b.updates;
            a.failed += b.failed;
            a.publishes += b.publishes;
            a.elapsed += b.elapsed;
            a.max_pending = a.max_pending.max(b.max_pending);
        }
    }
}

/// The table and the writer's bookkeeping: handed to the writer thread for
/// a churn phase and back.
type Table = (FibWriter, VecDeque<u32>, u32);

struct ChurnRun<'a> {
    h: &'a Harness,
    reader: FibReader,
    publisher: StatePublisher,
    plan: Arc<ChurnPlan>,
    table: Option<Table>,
    rate: u32,
    window: Duration,
}

impl ChurnRun<'_> {
    fn phase(&mut self, ph: &Phase, ms: u64) -> Res<PhaseResult> {
        let h = self.h;
        let v = &h.shared.verify;
        let before = h.snapshot();
        let (c0, m0) = (v.checked.load(Ordering::Relaxed), v.misrouted.load(Ordering::Relaxed));
        h.start(self.reader.clone(), self.publisher.reader(), Job::Run { checked: ph.checked })?;
        thread::sleep(Duration::from_millis(500));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        if ph.churn {
            let (w, d, next) = self.table.take().ok_or("table lost")?;
            let (p, s, st, rate) = (self.plan.clone(), self.publisher.clone(), stop.clone(), self.rate);
            thread::spawn(move || {
                let _ = tx.send(churn_writer(w, d, next, p, s, rate, st));
            });
        }
        let windows = (ms / self.window.as_millis().max(1) as u64).max(1) as usize;
        let (mpps, wait) = sample(h, Duration::ZERO, self.window, windows);
        stop.store(true, Ordering::SeqCst);
        let mut writer = None;
        if ph.churn {
            let (w, d, next, r) = rx.recv().map_err(|_| "writer thread died")?;
            self.table = Some((w, d, next));
            writer = Some(r);
        }
        h.stop();
        Ok(PhaseResult {
            mpps,
            wait,
            delta: delta(&before, &h.snapshot()),
            checked: v.checked.load(Ordering::Relaxed) - c0,
            misrouted: v.misrouted.load(Ordering::Relaxed) - m0,
            writer,
        })
    }

    /// Points `n` traffic bindings at a neighbour's tunnel and `n` at a
    /// decoy tunnel (or back at their own when `restore`).
    fn sabotage(&mut self, n: u32, restore: bool) -> Res<()> {
        let traffic = self.plan.traffic;
        let (fib, _, _) = self.table.as_mut().ok_or("table lost")?;
        for i in 0..(2 * n).min(traffic) {
            let tunnel = match (restore, i < n) {
                (true, _) => i,
                (false, true) => (i + 1) % traffic,
                (false, false) => 2 * traffic + i % DECOY_TUNNELS,
            };
            fib.insert(hoa_key(i), FibEntry { session: i, tunnel }).map_err(|e| format!("sabotage {i}: {e}"))?;
        }
        Ok(())
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn churn(args: &Args) -> Res<()> {
    let bindings = parse_count(&args.str("bindings", "1M"))?;
    let traffic = parse_count(&args.str("traffic", "4096"))?;
    let ndecoys = parse_count(&args.str("decoys", "500k"))?;
    let rate = parse_count(&args.str("rate", "100k"))?;
    let flows = parse_count(&args.str("flows", "64k"))?;
    let phase_ms: u64 = args.num("phase-ms", 3000)?;
    let window = Duration::from_millis(args.num("window-ms", 100)?);

    // Downlink traffic uniformly over the traffic set.
    let macs: Vec<MacAddr> = (0..3).map(pcap_mac).collect();
    let pcap = out_dir()?.join(format!("churn-{traffic}-{flows}.pcap"));
    let frames: Vec<Vec<u8>> = destinations(Keys::Random, traffic, flows as usize, 0xc4u64)
        .iter()
        .enumerate()
        .map(|(n, &i)| bench::downlink_frame(macs[HOME], hoa(i), n as u16).to_vec())
        .collect();
    write_pcap(&pcap, frames.iter().map(Vec::as_slice))?;
    let topo = pcap_topology(3, HOME, &pcap, flows, args.num("mem", 1024)?)?;
    let h = Harness::open(&topo, traffic)?;

    let plan = Arc::new(ChurnPlan::new(traffic, &macs));
    let (mut writer, reader) = dataplane::fib::new(bindings as usize, 1);
    for i in 0..traffic {
        writer.insert(hoa_key(i), FibEntry { session: i, tunnel: i }).map_err(|e| format!("traffic {i}: {e}"))?;
    }
    let decoys: VecDeque<u32> = (0..ndecoys).collect();
    for &j in &decoys {
        writer.insert(hoa_key(DECOY_BASE + j), plan.decoy_entry(j)).map_err(|e| format!("decoy {j}: {e}"))?;
    }
    let publisher = StatePublisher::new(plan.state.clone());
    println!(
        "churn: table of {bindings} ({traffic} in the traffic set, {ndecoys} others), {rate} updates/s, \
         {phase_ms} ms per kind of phase, {} ms windows",
        window.as_millis()
    );
    let mut run = ChurnRun { h: &h, reader, publisher, plan, table: Some((writer, decoys, ndecoys)), rate, window };

    let phases = [
        Phase { name: "plain", checked: false, churn: false },
        Phase { name: "plain+churn", checked: false, churn: true },
        Phase { name: "checked+churn", checked: true, churn: true },
        Phase { name: "checked", checked: true, churn: false },
    ];
    // The kinds alternate `cycles` times, so that drift (other tenants of
    // the VM, frequency) spreads over all of them; windows of one kind are
    // pooled.
    let cycles: usize = args.num("cycles", 2)?;
    let mut results: Vec<PhaseResult> = Vec::new();
    for cycle in 0..cycles.max(1) {
        for (k, ph) in phases.iter().enumerate() {
            let r = run.phase(ph, phase_ms / cycles.max(1) as u64)?;
            if cycle == 0 {
                results.push(r);
            } else {
                results[k].merge(r);
            }
        }
    }

    println!(
        "{:<14} {:>8} {:>8} {:>11} {:>9} {:>9} {:>11} {:>10} {:>10}",
        "phase", "Mpps", "min", "updates/s", "rx", "lost", "misrouted", "trap tx", "checked"
    );
    let mut total_lost = 0u64;
    let mut total_misrouted = 0u64;
    for (ph, r) in phases.iter().zip(&results) {
        let tx: u64 = r.delta.tx.iter().sum();
        let lost = r.delta.rx - tx;
        let trap = r.delta.tx.get(TRAP).copied().unwrap_or(0);
        // Unchecked phases: a packet in a decoy's tunnel shows on the trap
        // port; checked phases see every wrong tunnel.
        let misrouted = if ph.checked { r.misrouted } else { trap };
        total_lost += lost;
        total_misrouted += misrouted;
        let ups = r.writer.as_ref().map_or(0.0, |w| w.updates as f64 / w.elapsed.as_secs_f64());
        println!(
            "{:<14} {:>8.2} {:>8.2} {:>11.0} {:>9} {:>9} {:>11} {:>10} {:>10}",
            ph.name,
            median(&r.mpps),
            min(&r.mpps),
            ups,
            r.delta.rx,
            lost,
            if ph.checked { misrouted.to_string() } else { "-".into() },
            trap,
            if ph.checked { r.checked.to_string() } else { "-".into() },
        );
        if !r.delta.reasons.is_empty() {
            println!("{:<14} drops: {:?}", "", r.delta.reasons);
        }
        if let Some(w) = &r.writer {
            println!(
                "{:<14} writer: {} updates ({} failed), {} snapshots published, at most {} slots awaiting reclamation",
                "", w.updates, w.failed, w.publishes, w.max_pending
            );
        }
    }

    // The checker must see deliberately wrong entries.
    run.sabotage(16, false)?;
    let st = run.phase(&Phase { name: "self-test", checked: true, churn: false }, 1000)?;
    run.sabotage(16, true)?;
    println!(
        "checker self-test: 16 bindings in a neighbour's tunnel, 16 in a decoy's: {} of {} packets flagged \
         misrouted ({} on the trap port)",
        st.misrouted,
        st.checked,
        st.delta.tx.get(TRAP).copied().unwrap_or(0)
    );

    let med = |i: usize| median(&results[i].mpps);
    let dip = 1.0 - med(1) / med(0);
    let dip_checked = 1.0 - med(2) / med(3);
    let ups = results[1].writer.as_ref().map_or(0.0, |w| w.updates as f64 / w.elapsed.as_secs_f64());
    println!(
        "churn: throughput dip {:.1} % (medians of {} ms windows; {:.1} % with every packet checked); slowest \
         window {:.2} Mpps with churn, {:.2} without; lost {total_lost}, misrouted {total_misrouted}",
        dip * 100.0,
        window.as_millis(),
        dip_checked * 100.0,
        min(&results[1].mpps),
        min(&results[0].mpps),
    );
    result("churn.updates_per_s", ups, "upd/s");
    result("churn.mpps", med(0), "Mpps");
    result("churn.mpps_churn", med(1), "Mpps");
    result("churn.dip_pct", dip * 100.0, "%");
    result("churn.dip_checked_pct", dip_checked * 100.0, "%");
    result("churn.min_window_mpps", min(&results[0].mpps), "Mpps");
    result("churn.min_window_churn_mpps", min(&results[1].mpps), "Mpps");
    result("churn.checked_packets", results[2].checked as f64, "pkts");
    result("churn.lost", total_lost as f64, "pkts");
    result("churn.misrouted", total_misrouted as f64, "pkts");
    result("churn.selftest_misrouted", st.misrouted as f64, "pkts");
    let wait = results.iter().map(|r| r.wait).filter(|w| !w.is_nan()).fold(0.0, f64::max);
    println!("churn: the worker waited for its CPU at most {wait:.1} % of a phase");
    result("churn.cpu_wait_pct", wait, "%");
    drop(run);
    h.close();
    Ok(())
}

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("dp: {e}");
            std::process::exit(2);
        }
    };
    let r = match args.command.as_deref() {
        Some("tput") => tput(&args),
        Some("null") => null_ref(&args),
        Some("insn") => insn(&args),
        Some("count") => count(&args),
        Some("churn") => churn(&args),
        other => Err(format!("command {other:?}: use tput, null, insn, count or churn").into()),
    };
    // The EAL leaves its runtime directory behind, ours and testpmd's
    // (prefixes named after this process), even with --no-shconf.
    for prefix in ["bench", "tp"] {
        let _ = std::fs::remove_dir_all(format!("/var/run/dpdk/{prefix}-{}", std::process::id()));
    }
    if let Err(e) = r {
        eprintln!("dp: {e}");
        std::process::exit(1);
    }
}
