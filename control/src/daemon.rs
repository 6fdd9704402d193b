//! The daemon's life: EAL, pools, ports, punt rings, worker lcores, the CLI
//! thread and the control loop on the main lcore; orderly shutdown on
//! SIGINT/SIGTERM.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_config::{Config, PortConfig, PortRole};
use anyhow::{bail, Context};
use dataplane::addrs::{Ipv4Cidr, Ipv6Cidr, PortAddrs};
use dataplane::counters::{CounterSnapshot, WorkerCounters};
use dataplane::pipeline::Worker;
use dataplane::port::dpdk::{device_socket, Eal, EthPort, Mempool, PortSetup, Ring};
use dataplane::port::{LcoreId, Port, QueueId};
use dataplane::route::{ForwardingState, StatePublisher};
use dataplane::tunnel::TunnelKind;
use serde_json::{json, Value};

use crate::cli::server::{CliCall, CliServer};
use crate::cli::Reply;
use crate::forwarding::Forwarding;
use crate::metrics::server::MetricsServer;
use crate::neigh::{NeighState, NeighborConfig, Neighbors};
use crate::punt::ControlPlane;
use crate::signalling::Signalling;
use crate::store::{Opened, Store, Writer};

/// How often the control loop runs the neighbour timers.
const TIMER_TICK: Duration = Duration::from_millis(10);
/// How long the control loop sleeps when there was nothing to do.
const CONTROL_IDLE: Duration = Duration::from_micros(200);
/// How long a stop waits for the last session changes to be committed.
const STORE_FINAL_WAIT: Duration = Duration::from_secs(5);

/// The session store of `[store]` (none with `path = ""`): what it held,
/// the Restart Counter of this start (RFC 5847: the same as before when the
/// sessions survived, one more when they may not have; already durable)
/// and the writer thread. Without a store the counter is
/// the time of day, as `Signalling::new` sets it.
fn open_store(config: &Config) -> anyhow::Result<Option<Opened>> {
    let Some(path) = config.store.path.as_deref() else {
        tracing::warn!("no session store (store.path = \"\"): sessions do not survive a restart");
        return Ok(None);
    };
    let store = Store::open(path)?;
    let loaded = store.load()?;
    let start = store.start(config.store.sync_replies)?;
    let restart_counter = start.restart_counter;
    tracing::info!(
        path = %path.display(),
        pmip6 = loaded.lma.len(),
        ha = loaded.ha.len(),
        restart_counter,
        lost_state = start.lost_state,
        sync_replies = config.store.sync_replies,
        "session store open"
    );
    let writer = Writer::spawn(store).context("starting the session store's writer thread")?;
    Ok(Some(Opened { loaded, restart_counter, writer }))
}

/// State shared read-only by the workers and the control thread.
struct Shared {
    ports: Vec<EthPort>,
    addrs: Vec<PortAddrs>,
    rings: Vec<Ring>,
    workers: Vec<WorkerCounters>,
    control: WorkerCounters,
    /// The mbuf pools, one per NUMA socket with a port (`show stats` `mempools`).
    mempools: Vec<Arc<Mempool>>,
}

/// Tunnel slots each worker counts packets and bytes for: one per
/// forwarding-table entry, plus room for slots waiting out their reuse grace
/// under churn (32 bytes each, per worker).
fn session_slots(config: &Config) -> usize {
    config.tunnel.fib_capacity as usize + config.bindings.len() + (1 << 16)
}

/// Converts the config's addresses into the data plane's.
pub fn port_addrs(cfg: &PortConfig, mac: dataplane::wire::MacAddr) -> PortAddrs {
    PortAddrs::new(
        mac,
        cfg.ipv4.iter().map(|c| Ipv4Cidr { addr: c.addr, prefix_len: c.prefix_len }).collect(),
        cfg.ipv6.iter().map(|c| Ipv6Cidr { addr: c.addr, prefix_len: c.prefix_len }).collect(),
    )
    .with_home_link(cfg.home_link)
}

/// Runs the daemon until `stop` is set (by a signal). Returns after every
/// worker has stopped, ports are closed and EAL is cleaned up.
/// Sets the process's log filter (a level or a directive list).
pub type SetLogLevel = Box<dyn Fn(&str) -> Result<(), String> + Send>;

/// What the daemon may change beyond its own state: the process's log
/// filter, and where its configuration comes from for `reload`.
pub struct Hooks {
    /// Sets the log filter (a level or a directive list).
    pub set_log_level: SetLogLevel,
    /// The configuration file `reload` (and SIGHUP) reads again; `None`
    /// refuses reloads.
    pub config_path: Option<PathBuf>,
    /// Set by SIGHUP: reload at the next pass of the control loop.
    pub reload: Arc<AtomicBool>,
}

impl Hooks {
    /// No log control and no reloads.
    pub fn none() -> Hooks {
        Hooks {
            set_log_level: Box::new(|_| Err("this anchord cannot change its log filter".into())),
            config_path: None,
            reload: Arc::new(AtomicBool::new(false)),
        }
    }
}

pub fn run(config: Config, stop: Arc<AtomicBool>, hooks: Hooks) -> anyhow::Result<()> {
    let started = Instant::now();
    let eal = Eal::init(&config.eal_args("anchord")).context("starting DPDK")?;
    tracing::info!("{} initialised", Eal::version());
    let pdump = start_pdump(&eal, &config);
    let result = run_with_eal(&eal, &config, &stop, started, &hooks);
    if pdump {
        eal.pdump_uninit();
    }
    eal.cleanup();
    result
}

/// Whether an EAL argument is in `eal.args`.
fn eal_arg(config: &Config, arg: &str) -> bool {
    config.eal.args.iter().any(|a| a == arg)
}

/// Lets `dpdk-dumpcap` capture the ports (`rte_pdump_init`). A failure is
/// only a warning: anchord forwards the same without it.
fn start_pdump(eal: &Eal, config: &Config) -> bool {
    let prefix = &config.eal.file_prefix;
    if eal_arg(config, "--no-shconf") || eal_arg(config, "--in-memory") {
        tracing::warn!("packet capture off: eal.args has --no-shconf or --in-memory, so dpdk-dumpcap cannot attach (anchord runs on without it)");
        return false;
    }
    match eal.pdump_init() {
        Ok(()) if eal_arg(config, "--no-huge") => {
            tracing::info!("packet capture ready, but dpdk-dumpcap cannot attach to an EAL started with --no-huge: drop it from eal.args and reserve hugepages to capture");
            true
        }
        Ok(()) => {
            tracing::info!("packet capture ready: dpdk-dumpcap --file-prefix {prefix} -i <port> -w <file.pcapng>");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "packet capture (dpdk-dumpcap) unavailable; anchord runs on without it");
            false
        }
    }
}

/// Registers Anchor's telemetry commands (`telemetry.rs`); a refusal is
/// only a warning.
fn start_telemetry(config: &Config, control: &std::sync::mpsc::Sender<CliCall>) {
    if eal_arg(config, "--no-telemetry") {
        tracing::info!("telemetry off (eal.args has --no-telemetry)");
        return;
    }
    let refused = crate::telemetry::register(control);
    for e in &refused {
        tracing::warn!(error = %e, "telemetry command not registered; anchord runs on without it");
    }
    if refused.is_empty() {
        tracing::info!(
            "telemetry commands registered: dpdk-telemetry.py -f {} (/anchor/stats, /anchor/sessions, /anchor/pools...)",
            config.eal.file_prefix
        );
    }
}

fn run_with_eal(
    eal: &Eal,
    config: &Config,
    stop: &Arc<AtomicBool>,
    started: Instant,
    hooks: &Hooks,
) -> anyhow::Result<()> {
    let lcores = eal.worker_lcores();
    let workers = config.workers();
    if lcores.len() != workers {
        bail!("EAL started {} worker lcores but eal.worker_cpus lists {workers}", lcores.len());
    }
    let dp = &config.dataplane;
    // The session store first: a bad file stops us before any port is up.
    let store = open_store(config)?;

    // One mempool per NUMA socket that a port sits on.
    let mut pools: BTreeMap<u32, Arc<Mempool>> = BTreeMap::new();
    let mut ports = Vec::with_capacity(config.ports.len());
    let setup = PortSetup {
        rx_queues: u16::try_from(workers)?,
        tx_queues: u16::try_from(workers + 1)?,
        rx_desc: dp.rx_ring_size,
        tx_desc: dp.tx_ring_size,
        mtu: 0,
    };
    for pc in &config.ports {
        let socket = device_socket(eal, pc.device.dpdk_name());
        let pool = match pools.get(&socket) {
            Some(p) => p.clone(),
            None => {
                let p = Arc::new(Mempool::new(
                    eal,
                    &format!("mbufs-s{socket}"),
                    dp.mbufs_per_socket,
                    dp.mbuf_cache,
                    socket,
                )?);
                pools.insert(socket, p.clone());
                p
            }
        };
        let port =
            EthPort::open(eal, &pc.name, pc.device.dpdk_name(), &PortSetup { mtu: pc.mtu, ..setup.clone() }, pool)?;
        tracing::info!(port = %pc.name, id = port.id().0, driver = port.driver(), mac = %port.mac(), rss = port.rss(), "port started");
        ports.push(port);
    }
    let addrs: Vec<PortAddrs> = config.ports.iter().zip(&ports).map(|(pc, p)| port_addrs(pc, p.mac())).collect();
    let mut rings = Vec::with_capacity(workers);
    for (i, l) in lcores.iter().enumerate() {
        rings.push(Ring::new(eal, &format!("punt-w{i}"), dp.punt_ring_size, eal.lcore_socket(*l))?);
    }
    let port_macs = ports.iter().map(EthPort::mac).collect();
    let capacity = usize::try_from(config.tunnel.fib_capacity)?;
    let (fib_writer, fib_reader) = dataplane::fib::new(capacity, workers);
    let publisher = StatePublisher::new(ForwardingState::default());
    let mut forwarding = Forwarding::new(config, port_macs, fib_writer, publisher.clone())?;
    tracing::info!(bindings = config.bindings.len(), fib_capacity = capacity, "forwarding state published");
    // Saved sessions go back into the roles and the forwarding table before
    // the workers poll.
    let mut signalling = Signalling::new(config, Instant::now());
    if let Some(opened) = store {
        let restart_counter = opened.restart_counter;
        let r = signalling.restore(opened, &mut forwarding, config, Instant::now(), std::time::SystemTime::now());
        tracing::info!(
            pmip6 = r.lma,
            ha = r.ha,
            dsmip6 = r.dsmip6,
            expired = r.expired,
            conflicts = r.conflicts,
            restart_counter,
            "sessions restored"
        );
    }
    let shared = Arc::new(Shared {
        ports,
        addrs,
        rings,
        workers: (0..workers).map(|_| WorkerCounters::with_sessions(session_slots(config))).collect(),
        control: WorkerCounters::default(),
        mempools: pools.values().cloned().collect(),
    });
    let sh = shared.clone();
    forwarding.set_session_counters(Box::new(move |slot| {
        sh.workers.iter().map(|w| w.sessions.read(slot)).fold([0u64; 4], |a, b| std::array::from_fn(|i| a[i] + b[i]))
    }));

    let mut launched = Vec::new();
    let mut launch_error = None;
    for (i, &lcore) in lcores.iter().enumerate() {
        let (sh, st) = (shared.clone(), stop.clone());
        let (fib, state) = (fib_reader.clone(), publisher.reader());
        let burst = usize::from(dp.burst_size);
        let backoff = Duration::from_micros(u64::from(dp.idle_backoff_us));
        let job = move || {
            let mut w =
                Worker::new(&sh.ports, &sh.addrs, i, sh.workers.len(), &sh.rings[i], &sh.workers[i], fib, state, burst);
            w.run(&st, backoff);
            0
        };
        match eal.launch(lcore, job) {
            Ok(()) => launched.push(lcore),
            Err(e) => {
                launch_error = Some(e);
                break;
            }
        }
    }
    let result = match launch_error {
        Some(e) => Err(anyhow::Error::from(e)),
        None => {
            tracing::info!(workers = launched.len(), "workers polling");
            control_loop(config, &shared, (forwarding, signalling), fib_reader.clone(), &lcores, stop, started, hooks)
        }
    };
    stop.store(true, Ordering::SeqCst);
    for l in launched {
        eal.wait(l);
    }
    tracing::info!("workers stopped");
    match Arc::try_unwrap(shared) {
        Ok(sh) => {
            for p in sh.ports {
                p.close();
            }
        }
        Err(_) => tracing::warn!("ports still referenced at shutdown"),
    }
    drop(pools);
    result
}

#[allow(clippy::too_many_arguments)]
fn control_loop(
    config: &Config,
    shared: &Shared,
    (mut forwarding, mut signalling): (Forwarding, Signalling),
    fib: dataplane::fib::FibReader,
    lcores: &[LcoreId],
    stop: &AtomicBool,
    started: Instant,
    hooks: &Hooks,
) -> anyhow::Result<()> {
    let (cli, calls) = CliServer::start(&config.cli.socket)?;
    tracing::info!(socket = %config.cli.socket.display(), "cli listening");
    let metrics = match config.metrics.listen {
        Some(addr) => {
            let m = MetricsServer::start(addr, cli.control())?;
            tracing::info!(listen = %m.local_addr(), "metrics endpoint listening");
            Some(m)
        }
        None => None,
    };
    start_telemetry(config, &cli.control());
    let n = &config.neighbor;
    let neigh = Neighbors::new(
        shared.addrs.clone(),
        NeighborConfig {
            retry_interval: Duration::from_millis(u64::from(n.retry_interval_ms)),
            max_retries: n.max_retries,
            reachable: Duration::from_secs(u64::from(n.reachable_s)),
        },
    );
    let next_hops: Vec<(usize, IpAddr)> = forwarding.wanted_neighbors();
    let queue = QueueId(u16::try_from(lcores.len())?);
    let mut cp = ControlPlane::new(
        &shared.ports,
        &shared.addrs,
        &shared.rings,
        queue,
        neigh,
        &shared.control,
        next_hops,
        forwarding.publisher().clone(),
        fib,
    );
    signalling.claim_static_home_addresses(&mut cp, config, Instant::now());
    signalling.claim_restored(&mut cp, config, Instant::now());
    if signalling.lma().is_some() {
        tracing::info!("PMIPv6 LMA on");
    }
    if signalling.has_ha() {
        tracing::info!("Mobile IPv4 home agent on");
    }
    if signalling.has_dsmip6() {
        tracing::info!("DSMIPv6 home agent on");
    }
    // The configuration as reloads change it (what they may change).
    let mut live = config.clone();
    let config = &mut live;
    let mut next_tick = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        // One bounded pass: some punts, some signalling, then timers, the
        // CLI and the store, whatever arrives (overload.* in the config).
        let mut busy = cp.service_punts(now, config.overload.punts_per_pass as usize) > 0;
        signalling.admit(cp.take_signalling(), now);
        busy |= signalling.work(&mut cp, &mut forwarding, config, now);
        if hooks.reload.swap(false, Ordering::Relaxed) {
            match reload(config, &mut signalling, hooks) {
                Ok(v) => tracing::info!(changed = %v["changed"], "configuration reloaded on SIGHUP"),
                Err(e) => tracing::warn!("configuration reload on SIGHUP refused: {e}"),
            }
        }
        if now >= next_tick {
            cp.run_timers(now);
            signalling.poll(&mut cp, &mut forwarding, config, now);
            forwarding.refresh(cp.neighbors());
            next_tick = now + TIMER_TICK;
        }
        let mut ctx = Ctx {
            config,
            shared,
            cp: &mut cp,
            forwarding: &mut forwarding,
            signalling: &mut signalling,
            lcores,
            started,
            hooks,
        };
        busy |= serve_cli(&calls, &mut ctx);
        signalling.persist(&mut cp, Instant::now());
        if !busy {
            std::thread::sleep(CONTROL_IDLE);
        }
    }
    tracing::info!("stopping");
    signalling.persist_final(STORE_FINAL_WAIT);
    // Queued requests go with the receiver, so neither thread waits for an
    // answer that will not come.
    crate::telemetry::withdraw();
    drop(calls);
    drop(metrics);
    drop(cli);
    Ok(())
}

type Cp<'a> = ControlPlane<'a, EthPort, Ring>;

/// What a CLI request may look at or change.
struct Ctx<'c, 'a> {
    config: &'c mut Config,
    shared: &'c Shared,
    cp: &'c mut Cp<'a>,
    forwarding: &'c mut Forwarding,
    signalling: &'c mut Signalling,
    lcores: &'c [LcoreId],
    started: Instant,
    hooks: &'c Hooks,
}

fn serve_cli(calls: &Receiver<CliCall>, ctx: &mut Ctx<'_, '_>) -> bool {
    let mut any = false;
    loop {
        match calls.try_recv() {
            Ok(call) => {
                any = true;
                let reply = answer(&call.request.command, ctx);
                let _ = call.reply.send(reply);
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => return any,
        }
    }
}

fn answer(command: &str, ctx: &mut Ctx<'_, '_>) -> Reply {
    let now = Instant::now();
    if command == "reload" {
        return match reload(ctx.config, ctx.signalling, ctx.hooks) {
            Ok(v) => {
                tracing::info!(changed = %v["changed"], "configuration reloaded from the CLI");
                Reply::data(v)
            }
            Err(e) => {
                tracing::warn!("configuration reload refused: {e}");
                Reply::error(e)
            }
        };
    }
    if let Some(what) = command.strip_prefix("clear binding ") {
        return match ctx.signalling.clear(what.trim(), ctx.cp, ctx.forwarding, ctx.config, now) {
            Ok(v) => Reply::data(v),
            Err(e) => Reply::error(e),
        };
    }
    match command {
        "show version" => Reply::data(json!({
            "anchord": env!("CARGO_PKG_VERSION"),
            "dpdk": Eal::version(),
            "uptime_s": ctx.started.elapsed().as_secs(),
            "workers": ctx.lcores.len(),
        })),
        "show ports" => Reply::data(show_ports(ctx.config, ctx.shared)),
        "show stats" => {
            let mut stats = show_stats(ctx.config, ctx.shared, ctx.lcores);
            stats["uptime_s"] = json!(ctx.started.elapsed().as_secs());
            stats["sessions"] = session_counts(ctx);
            let (entries, capacity) = ctx.forwarding.fib_usage();
            stats["fib"] = json!({ "entries": entries, "capacity": capacity });
            stats["lma"] = ctx.signalling.stats_json();
            stats["ha"] = ctx.signalling.ha_stats_json();
            stats["store"] = ctx.signalling.store_stats_json();
            stats["overload"] = ctx.signalling.overload_stats_json();
            stats["pools"] = ctx.signalling.pools_json();
            stats["dsmip6"] = ctx.signalling.dsmip6_stats_json();
            stats["home_link"] = home_link_stats(ctx);
            stats["mempools"] = mempool_stats(ctx.shared);
            Reply::data(stats)
        }
        "show neighbors" => Reply::data(show_neighbors(ctx.config, ctx.cp)),
        "show proxy" => Reply::data(show_proxy(ctx)),
        "show bindings" => {
            let mut rows = match ctx.forwarding.bindings_json(now) {
                Value::Array(a) => a,
                _ => Vec::new(),
            };
            rows.extend(ctx.signalling.bindings_json(now));
            add_session_counters(&mut rows, ctx.forwarding);
            Reply::data(Value::Array(rows))
        }
        "show peers" => Reply::data(ctx.signalling.peers_json(ctx.config)),
        "show pools" => Reply::data(ctx.signalling.pools_json()),
        c if c.starts_with("show bindings ") => {
            let filters: Vec<&str> = c.trim_start_matches("show bindings ").split_whitespace().collect();
            let mut rows = match ctx.forwarding.bindings_json(now) {
                Value::Array(a) => a,
                _ => Vec::new(),
            };
            rows.extend(ctx.signalling.bindings_json(now));
            add_session_counters(&mut rows, ctx.forwarding);
            rows.retain(|b| filters.chunks(2).all(|f| matches!(f, [k, v] if binding_filter(b, k, v))));
            Reply::data(Value::Array(rows))
        }
        c if c.starts_with("set log-level ") => {
            let level = c.trim_start_matches("set log-level ").trim();
            match (ctx.hooks.set_log_level)(level) {
                Ok(()) => {
                    tracing::info!(level, "log level set from the CLI");
                    Reply::data(json!({ "log_level": level }))
                }
                Err(e) => Reply::error(format!("log level {level:?} refused: {e}")),
            }
        }
        c if c.starts_with("show binding ") => {
            let what = c.trim_start_matches("show binding ").trim();
            let mut rows = match ctx.forwarding.bindings_json(now) {
                Value::Array(a) => a,
                _ => Vec::new(),
            };
            rows.extend(ctx.signalling.bindings_json(now));
            add_session_counters(&mut rows, ctx.forwarding);
            let found: Vec<Value> = rows.into_iter().filter(|b| binding_matches(b, what)).collect();
            if found.is_empty() {
                Reply::error(format!("no binding matches {what:?} (an MN-ID, a home address or prefix, or an id)"))
            } else {
                Reply::data(Value::Array(found))
            }
        }
        other => Reply::error(format!("unknown command {other:?}")),
    }
}

/// `anchorctl reload` and SIGHUP: reads the configuration file again and
/// applies it when every change may be made live (crate::reload); returns
/// the sections that changed. On any error nothing has changed.
fn reload(config: &mut Config, signalling: &mut Signalling, hooks: &Hooks) -> Result<Value, String> {
    let path = hooks.config_path.as_ref().ok_or("this anchord has no configuration file to reload")?;
    let new = anchor_config::load(path).map_err(|e| format!("reload refused, nothing changed: {e}"))?;
    let refused = crate::reload::refused(config, &new);
    if !refused.is_empty() {
        return Err(format!("reload refused, nothing changed: {}", refused.join("; ")));
    }
    let prepared = signalling.prepare_reload(&new).map_err(|e| format!("reload refused, nothing changed: {e}"))?;
    if new.log.level != config.log.level {
        (hooks.set_log_level)(&new.log.level)
            .map_err(|e| format!("reload refused, nothing changed: log.level: {e}"))?;
    }
    signalling.apply_reload(prepared, Instant::now());
    let mut changed = Vec::new();
    for (key, same) in [
        ("log", config.log == new.log),
        ("overload", config.overload == new.overload),
        ("lma", config.lma == new.lma),
        ("ha", config.ha == new.ha),
        ("pools", config.pools == new.pools),
        ("profiles", config.profiles == new.profiles),
    ] {
        if !same {
            changed.push(key);
        }
    }
    *config = new;
    Ok(json!({ "reloaded": path.display().to_string(), "changed": changed }))
}

/// Adds each row's packets and bytes since its binding was installed
/// (summed over the workers; bytes are Ethernet frames as sent): towards
/// the mobile node (`packets_down`, `bytes_down`) and from it (`_up`).
fn add_session_counters(rows: &mut [Value], forwarding: &Forwarding) {
    for row in rows {
        let Some(c) =
            row["id"].as_u64().and_then(|id| u32::try_from(id).ok()).and_then(|id| forwarding.session_counters(id))
        else {
            continue;
        };
        for (key, value) in ["packets_down", "bytes_down", "packets_up", "bytes_up"].into_iter().zip(c) {
            row[key] = json!(value);
        }
    }
}

/// Whether a `show bindings` row passes the filter `key value`
/// (cli::BINDING_FILTERS).
fn binding_filter(b: &Value, key: &str, value: &str) -> bool {
    let field = |k: &str| b[k].as_str().unwrap_or_default().to_string();
    match key {
        "role" => {
            let role = field("role");
            match value {
                "lma" => role == "pmip6",
                "ha" => ["mip4", "dsmip4", "pmip4"].contains(&role.as_str()),
                v => role == v,
            }
        }
        "state" => field("state") == value,
        "peer" => {
            let Ok(peer) = value.parse::<IpAddr>() else { return false };
            let from = field("registered_from");
            let from = from.rsplit_once(':').map_or(from.as_str(), |(a, _)| a);
            [field("coa").as_str(), from].iter().any(|a| a.parse::<IpAddr>().is_ok_and(|a| a == peer))
        }
        "mn-id" => field("mn_id").starts_with(value),
        "address" => binding_matches(b, value) || in_home_prefix(b, value),
        _ => false,
    }
}

/// Whether `addr` lies inside one of a row's home network prefixes (/64).
fn in_home_prefix(b: &Value, addr: &str) -> bool {
    let Ok(std::net::IpAddr::V6(a)) = addr.parse::<IpAddr>() else { return false };
    let Some(prefixes) = b["hnps"].as_array() else { return false };
    prefixes.iter().filter_map(Value::as_str).any(|p| {
        let net = p.split('/').next().and_then(|n| n.parse::<std::net::Ipv6Addr>().ok());
        net.is_some_and(|n| n.segments()[..4] == a.segments()[..4])
    })
}

/// Whether a `show bindings` row is the one `what` names: its MN-ID, id,
/// session, an IPv4 / IPv6 home address, or a home network prefix (with
/// or without its length).
fn binding_matches(b: &Value, what: &str) -> bool {
    let text = |k: &str| match &b[k] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if ["mn_id", "id", "session", "ipv4_hoa", "ipv6_hoa"].iter().any(|k| text(k).as_deref() == Some(what)) {
        return true;
    }
    b["hnps"]
        .as_array()
        .is_some_and(|a| a.iter().filter_map(Value::as_str).any(|p| p == what || p.split('/').next() == Some(what)))
}

fn role_name(r: &PortRole) -> &'static str {
    match r {
        PortRole::Core => "core",
        PortRole::Home => "home",
    }
}

fn show_ports(config: &Config, shared: &Shared) -> Value {
    let rows: Vec<Value> = config
        .ports
        .iter()
        .zip(&shared.ports)
        .map(|(pc, p)| {
            let link = p.link();
            let hw = p.stats();
            let mut addresses: Vec<String> = pc.ipv4.iter().map(|c| format!("{}/{}", c.addr, c.prefix_len)).collect();
            addresses.extend(pc.ipv6.iter().map(|c| format!("{}/{}", c.addr, c.prefix_len)));
            json!({
                "name": pc.name,
                "role": role_name(&pc.role),
                "port_id": p.id().0,
                "device": pc.device.dpdk_name(),
                "driver": p.driver(),
                "mac": p.mac().to_string(),
                "link_up": link.up,
                "speed_mbps": link.speed_mbps,
                "full_duplex": link.full_duplex,
                "mtu": pc.mtu,
                "rx_queues": p.rx_queues(),
                "tx_queues": config.workers() + 1,
                "rss": p.rss(),
                "addresses": addresses,
                "hw": {
                    "ipackets": hw.ipackets, "opackets": hw.opackets,
                    "ibytes": hw.ibytes, "obytes": hw.obytes,
                    "imissed": hw.imissed, "ierrors": hw.ierrors,
                    "oerrors": hw.oerrors, "rx_nombuf": hw.rx_nombuf,
                },
            })
        })
        .collect();
    Value::Array(rows)
}

fn port_rows(config: &Config, snap: &CounterSnapshot) -> Vec<Value> {
    config
        .ports
        .iter()
        .zip(&snap.ports)
        .map(|(pc, c)| {
            json!({
                "port": pc.name, "rx": c.rx, "tx": c.tx, "dropped": c.dropped,
                "punted": c.punted, "punt_ring_full": c.punt_ring_full, "tx_full": c.tx_full,
            })
        })
        .collect()
}

/// Adds one thread's drop counters to the totals of `show stats`.
fn add_drops(total: &mut BTreeMap<&'static str, u64>, snap: &CounterSnapshot) {
    for &(name, n) in &snap.drops {
        *total.entry(name).or_default() += n;
    }
}

fn show_stats(config: &Config, shared: &Shared, lcores: &[LcoreId]) -> Value {
    let nports = config.ports.len();
    let mut drops: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut totals: Vec<[u64; 5]> = vec![[0; 5]; nports];
    let workers: Vec<Value> = shared
        .workers
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let snap = w.snapshot(nports);
            add_drops(&mut drops, &snap);
            for (t, c) in totals.iter_mut().zip(&snap.ports) {
                let add = [c.rx, c.tx, c.dropped, c.punted, c.punt_ring_full];
                t.iter_mut().zip(add).for_each(|(a, b)| *a += b);
            }
            json!({
                "worker": i,
                "lcore": lcores.get(i).map(|l| l.0),
                "polls": snap.polls,
                "ports": port_rows(config, &snap),
                "drops": snap.drops.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "encap": per_kind(&snap.encap),
                "decap": per_kind(&snap.decap),
            })
        })
        .collect();
    let control = shared.control.snapshot(nports);
    // The control thread drops too (reassembly, fragmentation, uplinks it
    // forwards after reassembling them): its reasons count in the totals.
    add_drops(&mut drops, &control);
    let ports: Vec<Value> = config
        .ports
        .iter()
        .zip(&shared.ports)
        .zip(&totals)
        .map(|((pc, p), t)| {
            let hw = p.stats();
            let xstats: serde_json::Map<String, Value> = p.xstats().into_iter().map(|(k, v)| (k, json!(v))).collect();
            json!({
                "port": pc.name, "rx": t[0], "tx": t[1], "dropped": t[2], "punted": t[3], "punt_ring_full": t[4],
                "hw": { "ipackets": hw.ipackets, "opackets": hw.opackets, "ibytes": hw.ibytes, "obytes": hw.obytes,
                        "imissed": hw.imissed, "ierrors": hw.ierrors, "oerrors": hw.oerrors,
                        "rx_nombuf": hw.rx_nombuf },
                "xstats": xstats,
            })
        })
        .collect();
    json!({
        "ports": ports,
        "workers": workers,
        "control": {
            "ports": port_rows(config, &control),
            "drops": control.drops.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        },
        "drops": drops,
    })
}

/// Sessions by role and state (`show stats` `sessions`): one row per
/// pair, the states each role on can be in listed even at 0.
fn session_counts(ctx: &Ctx<'_, '_>) -> Value {
    let mut counts: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    ctx.forwarding.count_static(&mut counts);
    ctx.signalling.count_sessions(&mut counts);
    let rows: Vec<Value> = counts
        .into_iter()
        .map(|((role, state), count)| json!({ "role": role, "state": state, "count": count }))
        .collect();
    Value::Array(rows)
}

fn per_kind(counts: &[u64; 5]) -> Value {
    Value::Object(TunnelKind::ALL.iter().zip(counts).map(|(k, n)| (k.name().to_string(), json!(n))).collect())
}

/// The mbuf pools (`show stats` `mempools`): mbufs in use (in rings,
/// queues and per-lcore caches) and free, of each pool.
fn mempool_stats(shared: &Shared) -> Value {
    let rows: Vec<Value> = shared
        .mempools
        .iter()
        .map(|m| {
            let (in_use, free) = (m.in_use(), m.available());
            json!({ "pool": m.name(), "size": u64::from(in_use) + u64::from(free), "in_use": in_use, "free": free })
        })
        .collect();
    Value::Array(rows)
}

/// Proxy ARP / ND on home links (`show stats` `home_link`), null when no
/// port is a home link.
fn home_link_stats(ctx: &Ctx<'_, '_>) -> Value {
    if !ctx.config.ports.iter().any(|p| p.home_link) {
        return Value::Null;
    }
    let c = ctx.cp.neighbors().proxy_counters();
    json!({
        "proxied": ctx.cp.neighbors().proxies().count(),
        "arp_replies": c.arp_replies,
        "gratuitous_arps": c.gratuitous_arps,
        "na_replies": c.na_replies,
        "unsolicited_nas": c.unsolicited_nas,
        "dad_probes": c.dad_probes,
        "dad_succeeded": c.dad_succeeded,
        "dad_failed": c.dad_failed,
        "withdrawn": c.withdrawn,
        "refused": ctx.signalling.home_link_refused(),
    })
}

/// The home addresses answered for on home links (`show proxy`).
fn show_proxy(ctx: &Ctx<'_, '_>) -> Value {
    let now = Instant::now();
    let rows: Vec<Value> = ctx
        .cp
        .neighbors()
        .proxies()
        .map(|e| {
            json!({
                "port": ctx.config.ports.get(e.port).map(|p| p.name.as_str()),
                "ip": e.ip.to_string(),
                "state": e.state.name(),
                "owner": ctx.signalling.home_link_owner(e.port, e.ip).map(|o| o.to_string()),
                "own_mac": e.own_mac.map(|m| m.to_string()),
                "answered": e.answered,
                "age_s": now.saturating_duration_since(e.since).as_secs(),
            })
        })
        .collect();
    Value::Array(rows)
}

fn show_neighbors(config: &Config, cp: &Cp<'_>) -> Value {
    let now = Instant::now();
    let rows: Vec<Value> = cp
        .neighbors()
        .entries()
        .map(|e| {
            json!({
                "port": config.ports.get(e.port).map(|p| p.name.as_str()),
                "ip": e.ip.to_string(),
                "mac": e.mac.map(|m| m.to_string()),
                "state": match e.state {
                    NeighState::Incomplete => "incomplete",
                    NeighState::Reachable => "reachable",
                    NeighState::Stale => "stale",
                    NeighState::Failed => "failed",
                },
                "age_s": now.saturating_duration_since(e.updated).as_secs(),
                "probes": e.probes,
            })
        })
        .collect();
    Value::Array(rows)
}

#[cfg(test)]
mod tests {
    use dataplane::counters::{DropReason, WorkerCounters};

    use super::*;

    #[test]
    fn drops_counted_by_the_control_thread_are_in_the_totals() {
        let (worker, control) = (WorkerCounters::default(), WorkerCounters::default());
        worker.drop(0, DropReason::Spoofed);
        control.drop(0, DropReason::ReassemblyFailed);
        control.drop(0, DropReason::Spoofed);
        let mut total = BTreeMap::new();
        add_drops(&mut total, &worker.snapshot(1));
        add_drops(&mut total, &control.snapshot(1));
        assert_eq!(total.get("reassembly-failed"), Some(&1));
        assert_eq!(total.get("spoofed"), Some(&2));
    }
}
