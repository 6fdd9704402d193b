//! End to end: DPDK's stock tools on a running `anchord` in the demo
//! network, while scripts/sim/mag.py attaches a mobile node over GRE and it
//! pings the correspondent:
//!
//! - `dpdk-telemetry.py -f <file-prefix>` lists Anchor's `/anchor/...`
//!   commands next to DPDK's, `/anchor/sessions` counts the one PMIPv6
//!   session, `/anchor/stats` the GRE traffic, `/anchor/pools` the home
//!   address taken, and DPDK's own `/ethdev/stats,0` works beside them
//!   (the demo config, without hugepages: telemetry needs none);
//! - `dpdk-dumpcap` (a DPDK secondary process) captures the core port
//!   during the PBU/PBA exchange and the tunnelled pings, and tshark finds
//!   the Proxy Binding Update, the Proxy Binding Acknowledgement and GRE
//!   packets both ways in the pcapng file. A secondary attaches only to a
//!   primary on hugepages, so this test drops `--no-huge` and reserves 2 MiB
//!   pages (and mounts hugetlbfs) when too few are free, and puts back what
//!   it changed.
//!
//! Needs root and the tools (`dpdk-dev` and `tshark`, from
//! scripts/setup.sh); skipped with a message otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[macro_use]
mod common;
use common::{guard, run, script, terminate, Env, Net, CN_V4, CN_V6, MN_NS};

const LMAA: &str = "2001:db8:1::1";
const MAG1: &str = "2001:db8:1::2";
const DUAL: &str = "dual@anchor.test";
/// 2 MiB pages the capture test wants free: anchord's mbufs and rings,
/// the forwarding table (when it fits) and dumpcap's capture pool.
const HUGEPAGES: u64 = 256;

/// The tools a test needs that are not on the PATH.
fn missing(tools: &[&str]) -> Vec<String> {
    tools
        .iter()
        .filter(|t| {
            !Command::new("sh").args(["-c", &format!("command -v {t}")]).output().is_ok_and(|o| o.status.success())
        })
        .map(|t| t.to_string())
        .collect()
}

/// Root, the tools, and the lock; `None` (after saying why) to skip.
fn ready(tools: &[&str]) -> Option<std::sync::MutexGuard<'static, ()>> {
    let g = guard()?;
    let gone = missing(tools);
    if !gone.is_empty() {
        eprintln!("skipped: {} not installed (scripts/setup.sh installs dpdk-dev and tshark)", gone.join(", "));
        return None;
    }
    Some(g)
}

/// The demo network with anc-mn, anchord with `cfg` changed by `tweak`
/// (no static bindings) and the MAG simulator with dual@anchor.test
/// attached over GRE; the mobile node has pinged the correspondent.
fn attach(net: &mut Net) -> Result<(), String> {
    let mag =
        net.start_sim("mag1", "anc-mag", &[&script("sim/mag.py"), "--mag", MAG1, "--lma", LMAA, "--mn-ns", MN_NS])?;
    let pba = net.answer(mag, &format!("attach {DUAL} --ipv4 --ipv6 --gre --gre-key 5001"), "pba")?;
    ensure!(pba["status"] == 0, "attach refused: {pba}");
    let attached = net.sims[mag].event("attached", Duration::from_secs(10))?;
    ensure!(attached["mode"] == "gre", "mag.py did not choose GRE: {attached}");
    net.ping(MN_NS, CN_V4)?;
    net.ping(MN_NS, CN_V6)?;
    Ok(())
}

/// Runs `dpdk-telemetry.py -f <prefix>` with `commands` on its stdin and
/// returns each reply (one JSON object per line, keyed by the command).
fn telemetry(prefix: &str, commands: &[&str]) -> Result<Vec<Value>, String> {
    use std::io::Write;
    let mut child = Command::new("dpdk-telemetry.py")
        .args(["-f", prefix])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("dpdk-telemetry.py: {e}"))?;
    let mut input = commands.join("\n");
    input.push('\n');
    child.stdin.take().ok_or("no stdin")?.write_all(input.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    ensure!(out.status.success(), "dpdk-telemetry.py failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let replies: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    ensure!(replies.len() == commands.len(), "{} replies to {commands:?}:\n{text}", replies.len());
    for (cmd, reply) in commands.iter().zip(&replies) {
        let key = cmd.split(',').next().unwrap_or(cmd);
        ensure!(reply.get(key).is_some(), "the reply to {cmd} is not keyed by it: {reply}");
    }
    Ok(replies)
}

fn run_test(tag: &str, tweak: impl FnOnce(&mut toml::Table), body: impl FnOnce(&mut Net) -> Result<(), String>) {
    let mut net = Net::new(Env::namespaces("anchor-tools", tag, true));
    let mut cfg = net.demo_config();
    cfg.remove("binding");
    tweak(&mut cfg);
    net.start_anchord(&cfg);
    if let Err(e) = body(&mut net) {
        panic!("{tag}: {e}\n{}", net.report());
    }
}

#[test]
fn telemetry_answers_anchors_commands_next_to_dpdks_own() {
    let Some(_g) = ready(&["dpdk-telemetry.py"]) else { return };
    run_test(
        "tel",
        |_| {},
        |net| {
            let prefix = net.prefix().to_string();
            let before = telemetry(&prefix, &["/anchor/sessions"])?;
            ensure!(before[0]["/anchor/sessions"]["total"] == 0, "sessions before any attach: {}", before[0]);

            attach(net)?;
            let replies = telemetry(
                &prefix,
                &[
                    "/",
                    "/anchor/info",
                    "/anchor/sessions",
                    "/anchor/stats",
                    "/anchor/stats,0",
                    "/anchor/pools",
                    "/ethdev/stats,0",
                    "/mempool/info,mbufs-s0",
                ],
            )?;
            let list = &replies[0]["/"];
            for cmd in control::telemetry::command_names().chain(["/ethdev/stats"]) {
                ensure!(list.as_array().is_some_and(|a| a.iter().any(|c| c == cmd)), "{cmd} is not listed: {list}");
            }
            let info = &replies[1]["/anchor/info"];
            ensure!(info["dpdk"].as_str().is_some_and(|v| v.starts_with("DPDK")), "/anchor/info: {info}");

            let sessions = &replies[2]["/anchor/sessions"];
            ensure!(sessions["total"] == 1, "/anchor/sessions total is not 1: {sessions}");
            ensure!(sessions["pmip6"]["active"] == 1, "/anchor/sessions pmip6 active is not 1: {sessions}");
            ensure!(sessions["fib"]["entries"].as_u64().is_some_and(|n| n >= 2), "fib entries: {sessions}");

            let stats = &replies[3]["/anchor/stats"];
            let (enc, dec) = (stats["encap"]["gre"].as_u64(), stats["decap"]["gre"].as_u64());
            ensure!(
                enc.is_some_and(|n| n >= 6) && dec.is_some_and(|n| n >= 6),
                "/anchor/stats GRE encap {enc:?}, decap {dec:?} (6 pings each way at least): {stats}"
            );
            ensure!(stats["worker_0"]["rx"].as_u64().is_some_and(|n| n >= 12), "worker_0 rx: {stats}");
            ensure!(stats["worker_0"]["punted"].as_u64().is_some_and(|n| n >= 1), "worker_0 punted: {stats}");
            ensure!(stats["port_core"]["hw/ipackets"].as_u64().is_some_and(|n| n >= 1), "port_core: {stats}");
            ensure!(stats["control"]["tx"].as_u64().is_some_and(|n| n >= 1), "control tx (the PBA): {stats}");
            let worker = &replies[4]["/anchor/stats"];
            ensure!(worker["worker"] == 0 && worker["port_core"]["rx"].as_u64().is_some(), "/anchor/stats,0: {worker}");
            ensure!(worker["encap"]["gre"].as_u64().is_some_and(|n| n >= 1), "/anchor/stats,0 encap: {worker}");

            let pools = &replies[5]["/anchor/pools"];
            let find = |prefix: &str, name: &str| {
                pools
                    .as_object()
                    .and_then(|o| o.iter().find(|(k, v)| k.starts_with(prefix) && v["pool"] == name))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("no {prefix}* with pool {name} in /anchor/pools: {pools}"))
            };
            let hoas = find("pmip6/ipv4/", "203.0.113.0/24")?;
            ensure!(hoas["in_use"].as_u64().is_some_and(|n| n >= 1), "pmip6 IPv4 home addresses in use: {hoas}");
            let hnps = find("pmip6/ipv6_prefix/", "2001:db8:100::/48")?;
            ensure!(hnps["in_use"] == 1, "pmip6 home network prefixes in use: {hnps}");
            let mbufs = find("mbuf/", "mbufs-s0")?;
            ensure!(mbufs["free"].as_u64().is_some_and(|n| n > 0), "mbuf pool: {mbufs}");

            let eth = &replies[6]["/ethdev/stats"];
            ensure!(eth["ipackets"].as_u64().is_some_and(|n| n >= 12), "/ethdev/stats,0: {eth}");
            let mempool = &replies[7]["/mempool/info"];
            ensure!(mempool["name"] == "mbufs-s0", "/mempool/info,mbufs-s0: {mempool}");

            // The same figures as anchorctl's show pools.
            let shown = net.ctl(&["show", "pools"])?;
            let again = telemetry(&prefix, &["/anchor/pools"])?;
            let tel = again[0]["/anchor/pools"].as_object().cloned().unwrap_or_default();
            let rows = shown.as_array().cloned().unwrap_or_default();
            ensure!(
                rows.len() + 1 == tel.len(),
                "show pools has {} rows, /anchor/pools {} entries",
                rows.len(),
                tel.len()
            );
            for row in &rows {
                let same = tel
                    .values()
                    .any(|t| ["pool", "in_use", "withheld", "free", "size"].iter().all(|k| t[*k] == row[*k]));
                ensure!(same, "show pools row {row} is not in /anchor/pools: {}", again[0]);
            }
            Ok(())
        },
    );
}

/// What the capture test changed in the machine's hugepage set-up, put
/// back on drop.
struct Hugepages {
    /// `vm.nr_hugepages` before, when the test raised it.
    nr_before: Option<u64>,
    /// Where the test mounted hugetlbfs, when none was mounted.
    mounted: Option<PathBuf>,
}

impl Drop for Hugepages {
    fn drop(&mut self) {
        if let Some(dir) = self.mounted.take() {
            let out = run(&["umount", &dir.display().to_string()]);
            // The mount may take a moment to go from every mount namespace
            // (ip netns exec made some).
            let removed = (0..50).any(|_| {
                std::fs::remove_dir(&dir).is_ok() || {
                    std::thread::sleep(Duration::from_millis(100));
                    false
                }
            });
            if !removed {
                eprintln!("could not remove {} (umount: {:?})", dir.display(), String::from_utf8_lossy(&out.stderr));
            }
        }
        if let Some(n) = self.nr_before {
            let _ = std::fs::write("/proc/sys/vm/nr_hugepages", n.to_string());
        }
    }
}

fn meminfo(key: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key)?.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// At least [`HUGEPAGES`] free 2 MiB pages and a hugetlbfs mount (at `dir`
/// when there is none), or why not.
fn hugepages(dir: &Path) -> Result<Hugepages, String> {
    let mut h = Hugepages { nr_before: None, mounted: None };
    if meminfo("Hugepagesize:") != 2048 {
        return Err(format!("the default hugepage size is {} kB, not 2048", meminfo("Hugepagesize:")));
    }
    let free = meminfo("HugePages_Free:");
    if free < HUGEPAGES {
        let nr: u64 = std::fs::read_to_string("/proc/sys/vm/nr_hugepages")
            .map_err(|e| e.to_string())?
            .trim()
            .parse()
            .map_err(|e| format!("vm.nr_hugepages: {e}"))?;
        h.nr_before = Some(nr);
        std::fs::write("/proc/sys/vm/nr_hugepages", (nr + HUGEPAGES - free).to_string())
            .map_err(|e| format!("raising vm.nr_hugepages: {e}"))?;
        let now = meminfo("HugePages_Free:");
        if now < HUGEPAGES {
            return Err(format!("only {now} hugepages free after raising vm.nr_hugepages"));
        }
    }
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    if !mounts.lines().any(|l| l.split_whitespace().nth(2) == Some("hugetlbfs")) {
        let at = dir.to_path_buf();
        std::fs::create_dir_all(&at).map_err(|e| e.to_string())?;
        let out = run(&["mount", "-t", "hugetlbfs", "nodev", &at.display().to_string()]);
        ensure!(out.status.success(), "mount hugetlbfs: {}", String::from_utf8_lossy(&out.stderr));
        h.mounted = Some(at);
    }
    Ok(h)
}

/// `tshark -r <file>` fields of every frame.
fn decode(file: &Path, fields: &[&str]) -> Result<Vec<Vec<String>>, String> {
    let mut args = vec!["-r".to_string(), file.display().to_string(), "-T".into(), "fields".into()];
    for f in fields {
        args.extend(["-e".to_string(), f.to_string()]);
    }
    let out = Command::new("tshark").args(&args).output().map_err(|e| format!("tshark: {e}"))?;
    ensure!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').map(String::from).collect()).collect())
}

#[test]
fn dumpcap_captures_the_pbu_pba_and_gre_tunnelled_traffic() {
    let Some(_g) = ready(&["dpdk-dumpcap", "tshark"]) else { return };
    // Declared before the network so that it is put back after anchord ends.
    let huge = match hugepages(&std::env::temp_dir().join(format!("anchor-tools-huge-{}", std::process::id()))) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("skipped: dpdk-dumpcap needs hugepages: {e}");
            return;
        }
    };
    let mut net = Net::new(Env::namespaces("anchor-tools", "cap", true));
    let mut cfg = net.demo_config();
    cfg.remove("binding");
    // A secondary process maps the primary's memory: hugepages, no --no-huge.
    let args = vec![toml::Value::String("--no-pci".into())];
    cfg["eal"]["args"] = toml::Value::Array(args);
    net.start_anchord(&cfg);
    let pcap = net.dir.join("core.pcapng");
    let result = capture(&mut net, &pcap);
    if let Err(e) = result {
        panic!("{e}\n{}", net.report());
    }
    drop(net);
    drop(huge);
}

/// Captures the core port during an attach and pings; checks the file.
fn capture(net: &mut Net, pcap: &Path) -> Result<(), String> {
    let (out, err) = (net.dir.join("dumpcap.stdout"), net.dir.join("dumpcap.stderr"));
    let mut dumpcap = Command::new("ip")
        .args(["netns", "exec", "anc-lma", "dpdk-dumpcap", "--file-prefix", net.prefix()])
        .args(["-i", "net_af_packet0", "-a", "duration:120", "-w"])
        .arg(pcap)
        .stdout(Stdio::from(std::fs::File::create(&out).map_err(|e| e.to_string())?))
        .stderr(Stdio::from(std::fs::File::create(&err).map_err(|e| e.to_string())?))
        .spawn()
        .map_err(|e| format!("dpdk-dumpcap: {e}"))?;
    let stderr =
        || std::fs::read_to_string(&out).unwrap_or_default() + &std::fs::read_to_string(&err).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let started = loop {
        // "Capturing on '<port>'" once the primary has installed the
        // callbacks, then a running count of packets.
        if stderr().contains("Capturing on") || stderr().contains("Packets captured") {
            break Ok(());
        }
        if let Ok(Some(status)) = dumpcap.try_wait() {
            break Err(format!("dpdk-dumpcap exited with {status}:\n{}", stderr()));
        }
        if Instant::now() > deadline {
            break Err(format!("dpdk-dumpcap did not start capturing in 30 s:\n{}", stderr()));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let traffic = started.and_then(|()| attach(net));
    let code = terminate(&mut dumpcap, Duration::from_secs(10));
    traffic?;
    ensure!(code == Some(0), "dpdk-dumpcap exit {code:?}:\n{}", stderr());
    net.alive()?;

    let frames = decode(pcap, &["mip6.mhtype", "gre.key", "ip.src", "ipv6.src"])?;
    let mh = |t: &str| frames.iter().filter(|f| f[0] == t).count();
    ensure!(mh("5") >= 1, "no Proxy Binding Update (MH type 5) in {} frames:\n{frames:?}", frames.len());
    ensure!(mh("6") >= 1, "no Proxy Binding Acknowledgement (MH type 6) in {} frames:\n{frames:?}", frames.len());
    let gre_from =
        |src: &str| frames.iter().filter(|f| !f[1].is_empty() && f[3].split(',').next() == Some(src)).count();
    let (up, down) = (gre_from(MAG1), gre_from(LMAA));
    ensure!(
        up >= 6 && down >= 6,
        "GRE frames from the MAG {up}, from the LMA {down} (6 pings each way at least):\n{frames:?}"
    );
    eprintln!(
        "captured {} frames: {} PBU, {} PBA, GRE {up} from the MAG and {down} from the LMA",
        frames.len(),
        mh("5"),
        mh("6")
    );
    ensure!(net.log().contains("packet capture ready: dpdk-dumpcap"), "no capture line in the log:\n{}", net.log());
    // The capture is over: the workers run without pdump's callbacks.
    net.ping(MN_NS, CN_V4)?;
    Ok(())
}
