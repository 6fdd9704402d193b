//! Turns the `RESULT` lines collected by `bench/run.sh` into the results
//! table (value, target, pass/fail; informational, the exit code does not
//! depend on it) and writes `bench/RESULTS.md` with the figures, the
//! command, the date and the machine.
//!
//! `report --results FILE --command CMD --load-before L --load-after L [--out PATH]`

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use bench::{Args, Res};

type Results = BTreeMap<String, (f64, String)>;
/// Per case, (instructions per packet, function) in the order printed.
type PerFunction = BTreeMap<String, Vec<(f64, String)>>;

fn load(path: &str) -> Res<(Results, PerFunction)> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut r = Results::new();
    let mut f = PerFunction::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        match w.next() {
            Some("RESULT") => {
                if let (Some(id), Some(v)) = (w.next(), w.next().and_then(|v| v.parse::<f64>().ok())) {
                    r.insert(id.to_string(), (v, w.next().unwrap_or("").to_string()));
                }
            }
            Some("RESULTFN") => {
                if let (Some(case), Some(v)) = (w.next(), w.next().and_then(|v| v.parse::<f64>().ok())) {
                    f.entry(case.to_string()).or_default().push((v, w.collect::<Vec<_>>().join(" ")));
                }
            }
            _ => {}
        }
    }
    Ok((r, f))
}

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}

fn lscpu(field: &str) -> String {
    sh("lscpu", &[])
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == field).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "?".into())
}

struct Target {
    what: &'static str,
    id: &'static str,
    /// true: value >= bound; false: value <= bound.
    at_least: bool,
    bound: f64,
    detail: fn(&Results) -> String,
}

/// Decimals for a target's measured value: ratios get three, counts none.
fn digits(v: Option<f64>) -> usize {
    if v.is_some_and(|v| v.abs() >= 100.0) {
        0
    } else {
        3
    }
}

fn get(r: &Results, id: &str) -> Option<f64> {
    r.get(id).map(|(v, _)| *v)
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.digits$}"))
}

fn mpps_detail(r: &Results, case: &str) -> String {
    format!(
        "Anchor {} Mpps / testpmd io {} Mpps",
        fmt(get(r, &format!("dp.{case}.anchor_mpps")), 2),
        fmt(get(r, &format!("dp.{case}.testpmd_mpps")), 2)
    )
}

fn targets() -> Vec<Target> {
    vec![
        Target {
            what: "downlink GRE encap, one hot binding: Anchor / testpmd io",
            id: "dp.down.hot.ratio",
            at_least: true,
            bound: 0.8,
            detail: |r| mpps_detail(r, "down.hot"),
        },
        Target {
            what: "downlink GRE encap, uniform over 1M bindings: Anchor / testpmd io",
            id: "dp.down.random.ratio",
            at_least: true,
            bound: 0.5,
            detail: |r| mpps_detail(r, "down.random"),
        },
        Target {
            what: "uplink decap + anti-spoofing, one hot binding: Anchor / testpmd io",
            id: "dp.up.hot.ratio",
            at_least: true,
            bound: 0.8,
            detail: |r| mpps_detail(r, "up.hot"),
        },
        Target {
            what: "uplink decap + anti-spoofing, uniform over 1M: Anchor / testpmd io",
            id: "dp.up.random.ratio",
            at_least: true,
            bound: 0.5,
            detail: |r| mpps_detail(r, "up.random"),
        },
        Target {
            what: "instructions/packet, downlink (callgrind, whole process): Anchor / testpmd io",
            id: "insn.down.hot.ratio",
            at_least: false,
            bound: 1.6,
            detail: |r| {
                format!(
                    "Anchor {} / testpmd io {} insn/pkt",
                    fmt(get(r, "insn.down.hot.anchor"), 1),
                    fmt(get(r, "insn.down.hot.testpmd"), 1)
                )
            },
        },
        Target {
            what: "misrouted packets under 100k updates/s",
            id: "churn.misrouted",
            at_least: false,
            bound: 0.0,
            detail: |r| {
                format!(
                    "{} packets checked, {} updates/s, lost {}",
                    fmt(get(r, "churn.checked_packets"), 0),
                    fmt(get(r, "churn.updates_per_s"), 0),
                    fmt(get(r, "churn.lost"), 0)
                )
            },
        },
        Target {
            what: "PMIPv6 initial registrations/s, one core, 1M sessions resident",
            id: "lma.initial_per_s",
            at_least: true,
            bound: 100_000.0,
            detail: |r| format!("re-registrations/s {}", fmt(get(r, "lma.rereg_per_s"), 0)),
        },
        Target {
            what: "PMIPv6 resident bytes per session",
            id: "lma.bytes_per_session",
            at_least: false,
            bound: 1024.0,
            detail: |r| format!("forwarding installs/s {}", fmt(get(r, "publish.install"), 0)),
        },
        Target {
            what: "Mobile IPv4 initial registrations/s, one core, 1M bindings resident",
            id: "mip4.initial_per_s",
            at_least: true,
            bound: 100_000.0,
            detail: |r| format!("re-registrations/s {}", fmt(get(r, "mip4.rereg_per_s"), 0)),
        },
        Target {
            what: "Mobile IPv4 resident bytes per binding",
            id: "mip4.bytes_per_binding",
            at_least: false,
            bound: 1024.0,
            detail: |_| "MN-HA HMAC-MD5, co-located care-of address, dynamic home address".into(),
        },
    ]
}

fn verdict(t: &Target, v: Option<f64>) -> &'static str {
    match v {
        None => "n/a",
        Some(v) if (t.at_least && v >= t.bound) || (!t.at_least && v <= t.bound) => "pass",
        Some(_) => "FAIL",
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("report: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    let (r, per_fn) = load(&args.str("results", "bench/out/results.txt"))?;
    let out = args.str("out", concat!(env!("CARGO_MANIFEST_DIR"), "/RESULTS.md"));
    let command = args.str("command", "bench/run.sh");

    // Console table.
    println!();
    println!("{:<80} {:>9} {:>8} {:>6}", "target", "measured", "target", "");
    for t in targets() {
        let v = get(&r, t.id);
        let bound = format!("{}{}", if t.at_least { ">= " } else { "<= " }, t.bound);
        println!("{:<80} {:>9} {:>8} {:>6}", t.what, fmt(v, digits(v)), bound, verdict(&t, v));
        println!("    {}", (t.detail)(&r));
    }
    println!("(informational: the exit status does not depend on these)");

    let mut md = String::new();
    let date = sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let model = format!("{} (family {}, model {})", lscpu("Model name"), lscpu("CPU family"), lscpu("Model"));
    let cpus = lscpu("CPU(s)");
    let hyper = lscpu("Hypervisor vendor");
    let l3 = lscpu("L3 cache");
    let dpdk = sh("pkg-config", &["--modversion", "libdpdk"]);
    let kernel = sh("uname", &["-r"]);
    let rustc = sh("rustc", &["--version"]);
    let commit = sh("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = sh("git", &["status", "--porcelain", "--", "dataplane", "dpdk-sys"]);
    let dirty_files: Vec<&str> = dirty.lines().filter(|l| !l.is_empty() && *l != "?").collect();
    let _ = writeln!(md, "# Anchor benchmark results\n");
    let _ = writeln!(md, "Produced by `{command}` on {date}.\n");
    let _ = writeln!(md, "- Machine: {model}, {cpus} vCPUs ({hyper} guest), L3 {l3}, no hugepages, no NIC");
    let _ = writeln!(md, "- DPDK {dpdk} (Debian packages, shared linking), kernel {kernel}, {rustc}");
    let _ = writeln!(
        md,
        "- Code: commit {commit}{}",
        if dirty_files.is_empty() {
            String::new()
        } else {
            format!(
                " with uncommitted changes in {}",
                dirty_files.iter().map(|l| l.get(3..).unwrap_or(l)).collect::<Vec<_>>().join(", ")
            )
        }
    );
    let _ = writeln!(
        md,
        "- Load average (1, 5, 15 min) before: {}; after: {}\n",
        args.str("load-before", "?"),
        args.str("load-after", "?")
    );

    let _ = writeln!(md, "## Targets\n");
    let _ = writeln!(md, "| target | measured | target | result | detail |\n|---|---|---|---|---|");
    for t in targets() {
        let v = get(&r, t.id);
        let _ = writeln!(
            md,
            "| {} | {} | {} {} | {} | {} |",
            t.what,
            fmt(v, digits(v)),
            if t.at_least { "≥" } else { "≤" },
            t.bound,
            verdict(&t, v),
            (t.detail)(&r)
        );
    }
    let _ = writeln!(md, "\nPass/fail is informational; `run.sh` never fails on it.\n");

    let _ =
        writeln!(md, "## Through DPDK: Anchor against testpmd io forwarding (same ports, same packets, same run)\n");
    let null = get(&r, "dp.null.testpmd_mpps");
    let _ = writeln!(
        md,
        "Two `net_pcap` ports, the ingress one replaying a pcap file forever (`rx_pcap=...,infinite_rx=1`), \
         the other reading an empty file; both drop what they transmit. Worker (or testpmd's forwarding \
         lcore) alone on CPU 1, main lcore asleep on CPU 0, burst 32, 60-byte frames downlink and 88-byte \
         frames uplink (GRE with key over IPv4, 8 tunnels to 4 peers), table of 1M bindings. Medians of \
         1-second periods, Anchor and testpmd alternated (the ratio uses the medians over all rounds; \
         \"per round\" is the range of the rounds' own ratios).\n"
    );
    let _ = writeln!(
        md,
        "| case | Anchor Mpps | testpmd io Mpps | ratio | ratio per round | Anchor ns/pkt | testpmd ns/pkt | Anchor adds ns/pkt | ratio if the ports were net_null (est.) | CPU wait % |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for (case, label) in [
        ("down.hot", "downlink, one hot binding"),
        ("down.random", "downlink, uniform over 1M"),
        ("up.hot", "uplink, one hot binding"),
        ("up.random", "uplink, uniform over 1M"),
    ] {
        let g = |k: &str| get(&r, &format!("dp.{case}.{k}"));
        // Same added cost on top of testpmd's net_null cost per packet.
        let est = match (null, g("delta_ns")) {
            (Some(n), Some(d)) => Some((1e3 / n) / (1e3 / n + d)),
            _ => None,
        };
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} | {}–{} | {} | {} | {} | {} | {} |",
            fmt(g("anchor_mpps"), 2),
            fmt(g("testpmd_mpps"), 2),
            fmt(g("ratio"), 3),
            fmt(g("ratio_min"), 2),
            fmt(g("ratio_max"), 2),
            fmt(g("anchor_ns"), 1),
            fmt(g("testpmd_ns"), 1),
            fmt(g("delta_ns"), 1),
            fmt(est, 3),
            fmt(g("cpu_wait_pct"), 1)
        );
    }
    let _ = writeln!(
        md,
        "\nReference, same run: testpmd io forwarding over two `net_null` ports (both directions, one core): {} Mpps. \
         The estimated column assumes Anchor's added ns/pkt stay the same on those ports. CPU wait: the \
         largest share of a measurement during which the forwarding thread (Anchor's or testpmd's) was \
         runnable but off its CPU (`/proc/<pid>/task/<tid>/schedstat`), i.e. another process disturbed it; \
         figures with more than about 1 % are suspect.\n",
        fmt(null, 2)
    );

    let _ = writeln!(md, "## Instructions per packet (callgrind, whole process, warm loop)\n");
    let _ = writeln!(
        md,
        "Each program run under `valgrind --tool=callgrind --fair-sched=yes` at two packet counts \
         (Anchor: the worker polls until N packets, N = 400k and 1.2M; testpmd: two durations); \
         instructions = (Ir2 - Ir1) / (packets2 - packets1), so start-up and shut-down cancel. Same \
         ports and pcap file (one hot binding) for both. Both Anchor runs hash the table with the same \
         seed (`--seed`, default 1), so its layout is the same in each; with another seed the hot key \
         may sit one bucket past its home bucket, which costs about 30 instructions more per packet.\n"
    );
    let _ = writeln!(md, "| path | Anchor | testpmd io | ratio |\n|---|---|---|---|");
    for (case, label) in [("down.hot", "downlink (GRE encap)"), ("up.hot", "uplink (GRE decap + anti-spoofing)")] {
        let g = |k: &str| get(&r, &format!("insn.{case}.{k}"));
        if g("anchor").is_none() {
            continue; // uplink: `run.sh --extra`
        }
        let _ =
            writeln!(md, "| {label} | {} | {} | {} |", fmt(g("anchor"), 1), fmt(g("testpmd"), 1), fmt(g("ratio"), 3));
    }
    if let (Some(n), Some(e)) = (get(&r, "insn.down.hot.testpmd_null"), get(&r, "insn.down.hot.ratio_null_est")) {
        let _ = writeln!(
            md,
            "\ntestpmd io over two `net_null` ports, same method: {n:.1} insn/pkt. With Anchor's own \
             instructions (Anchor - testpmd above) on top of that, the downlink ratio on `net_null` ports \
             would be about {e:.2}."
        );
    }

    for (case, label) in [("insn.down.hot", "downlink"), ("insn.up.hot", "uplink")] {
        let Some(rows) = per_fn.get(case) else { continue };
        let _ = writeln!(
            md,
            "\nWhere the {label} instructions go (Anchor, per packet, self cost per function with what was \
             inlined into it; unnamed addresses are in the PMD):\n"
        );
        let _ = writeln!(md, "| insn/pkt | function |\n|---|---|");
        for (v, name) in rows {
            let _ = writeln!(md, "| {v:.1} | `{name}` |");
        }
    }

    let _ = writeln!(md, "\n## Packet path without DPDK (one worker, pre-built bursts)\n");
    let _ = writeln!(
        md,
        "The real `Worker` over two in-memory replay ports (`bench/src/bin/path.rs`): full bursts of 32, \
         each buffer refilled with the next pre-built frame (a 60/88-byte copy), transmitted buffers \
         recycled. \"io\" is a minimal rx->tx loop over the same ports; \"net\" = worker - io is the cost \
         of Anchor's packet path. Random keys: one distinct frame per packet of the cycle (1M frames for \
         1M bindings). ns: median of the rounds run.sh asks for (3 x 3M packets), pinned to CPU 1; instructions: callgrind \
         with `--toggle-collect` on the loop function (instruction counts do not depend on the table size, so \
         the 1k rows are counted only with `run.sh --extra`).\n"
    );
    let _ = writeln!(
        md,
        "| case | worker ns/pkt | io ns/pkt | net ns/pkt | worker insn/pkt | io insn/pkt | net insn/pkt |\n|---|---|---|---|---|---|---|"
    );
    for (case, label) in [
        ("down.hot", "encap, 1 hot binding (1M table)"),
        ("down.1k", "encap, uniform over 1k"),
        ("down.1M", "encap, uniform over 1M"),
        ("up.hot", "decap, 1 hot binding (1M table)"),
        ("up.1k", "decap, uniform over 1k"),
        ("up.1M", "decap, uniform over 1M"),
    ] {
        let g = |k: &str| get(&r, &format!("path.{case}.{k}"));
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} | {} | {} | {} |",
            fmt(g("ns"), 1),
            fmt(g("io_ns"), 1),
            fmt(g("net_ns"), 1),
            fmt(g("insn"), 0),
            fmt(g("io_insn"), 0),
            fmt(g("net_insn"), 0)
        );
    }

    let _ = writeln!(md, "\n## Table churn while forwarding\n");
    let _ = writeln!(
        md,
        "Table of 1M slots: 4096 bindings carry the traffic (downlink, uniform over them, each with a \
         GRE key of its own), 500k others. A writer thread on CPU 0 makes 100k updates/s in 1-ms ticks: \
         inserts and removals of bindings outside the traffic set (whose tunnels lead to a trap port) and \
         replacements of traffic bindings' entries by equivalent ones (an identical twin tunnel), \
         reclaiming every tick and republishing the forwarding state every 100 ms. Phases with and without \
         churn alternate three times (windows pooled per kind). Every packet the \
         worker transmits is checked (tunnel key and peer against its inner destination) in the checked \
         phases; lost = received - transmitted.\n"
    );
    let _ = writeln!(md, "| figure | value |\n|---|---|");
    for (id, label, d) in [
        ("churn.updates_per_s", "updates/s achieved", 0),
        ("churn.mpps", "Mpps without churn (median of 100-ms windows)", 2),
        ("churn.mpps_churn", "Mpps with churn", 2),
        ("churn.dip_pct", "throughput dip, %", 1),
        ("churn.dip_checked_pct", "throughput dip with every packet checked, %", 1),
        ("churn.min_window_mpps", "slowest 100-ms window without churn, Mpps", 2),
        ("churn.min_window_churn_mpps", "slowest 100-ms window with churn, Mpps", 2),
        ("churn.checked_packets", "packets checked under churn", 0),
        ("churn.lost", "lost packets (all phases)", 0),
        ("churn.misrouted", "misrouted packets (all phases)", 0),
        (
            "churn.selftest_misrouted",
            "checker self-test: misrouted packets seen after deliberately wrong entries (must be > 0)",
            0,
        ),
        ("churn.cpu_wait_pct", "worker runnable but off its CPU, worst phase, % (disturbance)", 1),
    ] {
        let _ = writeln!(md, "| {label} | {} |", fmt(get(&r, id), d));
    }

    let _ = writeln!(md, "\n## Control thread: signalling and publication (1M sessions resident)\n");
    let _ = writeln!(
        md,
        "`lma`: the PMIPv6 `Lma` state machine fed PBUs as the codec delivers them (target: >= 100k \
         registrations/s on one core, <= 1 KiB per session). `mip4`: the Mobile IPv4 `Ha` fed Registration \
         Requests as UDP 434 delivers them, each with its own MN-HA association (HMAC-MD5 checked, reply \
         sealed; same targets per binding). `publish`: `Forwarding::install` / `remove` \
         (tunnel template, forwarding-table entry, snapshot published to the workers) over the last / first \
         100k of 1M sessions; a snapshot shares every tunnel-table node it does not change.\n"
    );
    let _ = writeln!(md, "| figure | value |\n|---|---|");
    for (id, label, d) in [
        ("lma.initial_per_s", "PMIPv6 LMA initial registrations/s", 0),
        ("lma.rereg_per_s", "PMIPv6 LMA re-registrations/s", 0),
        ("lma.bytes_per_session", "PMIPv6 LMA resident bytes per session", 0),
        ("mip4.initial_per_s", "Mobile IPv4 initial registrations/s", 0),
        ("mip4.rereg_per_s", "Mobile IPv4 re-registrations/s", 0),
        ("mip4.bytes_per_binding", "Mobile IPv4 resident bytes per binding", 0),
        ("publish.install", "forwarding installs/s (tunnel + entry + snapshot)", 0),
        ("publish.remove", "forwarding removals/s", 0),
    ] {
        let _ = writeln!(md, "| {label} | {} |", fmt(get(&r, id), d));
    }

    let _ = writeln!(md, "\n## How to reproduce\n");
    let _ = writeln!(
        md,
        "`{command}` (needs `scripts/setup.sh`: DPDK, dpdk-testpmd, valgrind). It builds the bench crate \
         in release mode, writes pcap files and logs to `bench/out/` (git-ignored), prints this table and \
         rewrites this file. Single benchmarks: `target/release/dp tput --dir down --keys random`, \
         `target/release/dp insn --dir down --keys hot`, `target/release/dp churn`, \
         `taskset -c 1 target/release/path`, `target/release/path insn`. On a 2-vCPU VM other processes \
         distort the figures: compare ratios from one run, and rerun when the load average was not near 0."
    );

    std::fs::write(&out, md).map_err(|e| format!("{out}: {e}"))?;
    println!("wrote {out}");
    Ok(())
}
