//! The end-to-end harness shared by the `e2e_*` tests: the demo network of
//! DESIGN.md (scripts/netns.sh, optionally the mobile-node namespace anc-mn),
//! the real `anchord` in anc-lma with demo.toml changed to use a CLI socket,
//! EAL file prefix and directory of the test's own, `anchorctl --json`,
//! pings, and processes ended by pid.
//!
//! Everything needs root: [`guard`] says "skipped" and returns `None`
//! otherwise, and holds one lock per test binary so that the tests of one
//! binary run one after the other (they share the demo namespaces). Between
//! binaries, [`Env::namespaces`] waits for the demo network of another run
//! to go away. [`Env`] deletes what it built on drop, also when a test fails;
//! a test's own processes (simulators) must be ended before that (a wrapper
//! struct with its own `Drop` that holds the `Env` as a field does it: the
//! wrapper's `drop` runs first, then the field's).

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code, unused_macros)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The mobile-node namespace (behind a simulator's TUN device).
pub const MN_NS: &str = "anc-mn";
/// The correspondent in anc-cn.
pub const CN_V4: &str = "198.51.100.2";
pub const CN_V6: &str = "2001:db8:2::2";

/// demo.toml's first `[[ha.mn]]`: the IPv4-only node's MN-HA association.
pub mod v4only {
    pub const NAI: &str = "v4only@anchor.test";
    pub const SPI: &str = "4096";
    pub const KEY: &str = "00112233445566778899aabbccddeeff";
}

/// demo.toml's `[[dsmip6.mn]]`: the DSMIPv6 node, its home addresses and
/// MN-HA association (RFC 4285).
pub mod ds6 {
    pub const NAI: &str = "ds6@anchor.test";
    pub const HOA: &str = "2001:db8:300::10";
    pub const HOA4: &str = "203.0.113.201";
    pub const SPI: &str = "8448";
    pub const KEY: &str = "2122232425262728292a2b2c2d2e2f3031323334";
}

static NETNS: Mutex<()> = Mutex::new(());

/// `return Err(format!(...))` unless the condition holds (`#[macro_use] mod common;`).
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!($($arg)+));
        }
    };
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The path of `scripts/<name>`.
pub fn script(name: &str) -> String {
    repo().join("scripts").join(name).to_str().unwrap().to_string()
}

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

pub fn run(cmd: &[&str]) -> Output {
    Command::new(cmd[0]).args(&cmd[1..]).output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

pub fn netns_list() -> Vec<String> {
    String::from_utf8_lossy(&run(&["ip", "netns", "list"]).stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

pub fn netns_exists(name: &str) -> bool {
    netns_list().iter().any(|n| n == name)
}

/// `None` (after saying "skipped") without root; else the lock that
/// serialises this binary's tests.
pub fn guard() -> Option<MutexGuard<'static, ()>> {
    if !is_root() {
        eprintln!("skipped: end-to-end tests need root (network namespaces, DPDK)");
        return None;
    }
    Some(NETNS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// SIGTERM by pid, then up to `grace` for it to exit, then SIGKILL (by pid).
pub fn terminate(child: &mut Child, grace: Duration) -> Option<i32> {
    if let Ok(Some(st)) = child.try_wait() {
        return st.code();
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + grace;
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Calls `f` every 100 ms until it returns `Some`, an error, or `timeout` passes.
pub fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut f: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The demo network (plus anc-mn when asked for), a working directory and,
/// once [`Env::start_anchord`] ran, the daemon; all ended and deleted on drop.
pub struct Env {
    pub daemon: Option<Child>,
    pub socket: PathBuf,
    pub dir: PathBuf,
    /// `<prefix>-<tag>-<pid>`: names the directory and the EAL file prefix.
    name: String,
}

impl Env {
    /// Builds the demo network (waiting up to 2 minutes for another run's to
    /// go away) and, with `mn_ns`, the empty namespace anc-mn.
    pub fn namespaces(prefix: &str, tag: &str, mn_ns: bool) -> Env {
        let busy = || netns_list().into_iter().filter(|n| n.starts_with("anc-")).collect::<Vec<_>>();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !busy().is_empty() {
            assert!(
                Instant::now() < deadline,
                "namespaces {:?} still exist after 2 minutes (another demo or test running?)",
                busy()
            );
            std::thread::sleep(Duration::from_secs(1));
        }
        let name = format!("{prefix}-{tag}-{}", std::process::id());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let up = run(&["bash", &script("netns.sh"), "up"]);
        assert!(up.status.success(), "netns up: {}", String::from_utf8_lossy(&up.stderr));
        // From here on Drop removes what was built.
        let env = Env { daemon: None, socket: dir.join("anchord.sock"), dir, name };
        if mn_ns {
            env.sh(&["ip", "netns", "add", MN_NS]);
            env.sh(&["ip", "-n", MN_NS, "link", "set", "lo", "up"]);
        }
        env
    }

    /// config/demo.toml with this run's CLI socket, EAL file prefix and
    /// session store and log level debug.
    pub fn demo_config(&self) -> toml::Table {
        let text = std::fs::read_to_string(repo().join("config/demo.toml")).unwrap();
        let mut cfg: toml::Table = text.parse().unwrap();
        cfg["cli"]["socket"] = toml::Value::String(self.socket.display().to_string());
        cfg["eal"]["file_prefix"] = toml::Value::String(self.name.clone());
        cfg["log"]["level"] = toml::Value::String("debug".into());
        // Each run its own session store: nothing is restored from another.
        cfg["store"]["path"] = toml::Value::String(self.dir.join("anchord.db").display().to_string());
        cfg
    }

    /// Writes `cfg`, starts anchord with it in anc-lma (output in
    /// `anchord.log`) and waits up to 30 s for its CLI socket.
    pub fn start_anchord(&mut self, cfg: &toml::Table) {
        let config = self.dir.join("anchor.toml");
        std::fs::write(&config, toml::to_string(cfg).unwrap()).unwrap();
        let log = std::fs::File::create(self.dir.join("anchord.log")).unwrap();
        let daemon = Command::new("ip")
            .args(["netns", "exec", "anc-lma", env!("CARGO_BIN_EXE_anchord"), "--config"])
            .arg(&config)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn anchord");
        self.daemon = Some(daemon);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.ctl(&["show", "version"]).is_err() {
            if let Some(Ok(Some(status))) = self.daemon.as_mut().map(Child::try_wait) {
                panic!("anchord exited at start with {status} (config {}):\n{}", config.display(), self.log());
            }
            assert!(Instant::now() < deadline, "anchord did not open its socket:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// This run's EAL file prefix (`eal.file_prefix`): DPDK's runtime files,
    /// the telemetry socket among them, are in `/var/run/dpdk/<prefix>`.
    pub fn prefix(&self) -> &str {
        &self.name
    }

    /// Runs a command that must succeed.
    pub fn sh(&self, cmd: &[&str]) {
        let out = run(cmd);
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("anchord.log")).unwrap_or_default()
    }

    /// `anchorctl --json <words>`: the parsed JSON, or its error text.
    pub fn ctl(&self, words: &[&str]) -> Result<Value, String> {
        let out = Command::new(env!("CARGO_BIN_EXE_anchorctl"))
            .arg("--socket")
            .arg(&self.socket)
            .args(words)
            .arg("--json")
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("anchorctl {}: {}", words.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("anchorctl {}: {e}", words.join(" ")))
    }

    /// The daemon still runs and answers.
    pub fn alive(&mut self) -> Result<(), String> {
        if let Some(Ok(Some(status))) = self.daemon.as_mut().map(Child::try_wait) {
            return Err(format!("anchord exited with {status}"));
        }
        self.ctl(&["show", "version"]).map(|_| ())
    }

    pub fn stats(&self) -> Result<Value, String> {
        self.ctl(&["show", "stats"])
    }

    /// The MAC address of anchord's port `name` ("core", "home").
    pub fn port_mac(&self, name: &str) -> Result<String, String> {
        let ports = self.ctl(&["show", "ports"])?;
        ports
            .as_array()
            .and_then(|a| a.iter().find(|p| p["name"] == name))
            .and_then(|p| p["mac"].as_str())
            .map(String::from)
            .ok_or_else(|| format!("no MAC of the {name} port in {ports}"))
    }

    /// Ends anchord (SIGTERM by pid, 20 s grace); its exit code.
    pub fn stop_anchord(&mut self) -> Option<i32> {
        let mut child = self.daemon.take()?;
        terminate(&mut child, Duration::from_secs(20))
    }

    /// anchord's view (bindings, stats) and the tail of its log, for a
    /// failure report.
    pub fn daemon_report(&self) -> String {
        let mut r = String::new();
        if self.daemon.is_some() {
            for what in [&["show", "bindings"][..], &["show", "stats"][..]] {
                let v = self.ctl(what).map(|v| v.to_string());
                r += &format!("--- anchorctl {}: {}\n", what.join(" "), v.unwrap_or_else(|e| e));
            }
            r += &format!("--- anchord log (tail):\n{}\n", tail(&self.log(), 150));
        }
        r
    }

    /// Three pings from `ns` that must all be answered (no retry).
    pub fn ping3(&self, ns: &str, addr: &str) -> bool {
        let mut args = vec!["netns", "exec", ns, "ping"];
        if addr.contains(':') {
            args.push("-6");
        }
        args.extend(["-c", "3", "-i", "0.2", "-W", "2", addr]);
        let out = Command::new("ip").args(&args).output().unwrap();
        if !out.status.success() {
            eprintln!("ping {addr} from {ns} failed:\n{}", String::from_utf8_lossy(&out.stdout));
        }
        out.status.success()
    }

    /// Pings from `ns`: first waits (up to ~10 s) for one answer, since the
    /// first packets may wait for ARP/ND on the way; then 3 of 3 must answer.
    pub fn ping(&self, ns: &str, addr: &str) -> Result<(), String> {
        let once = |count: &str, deadline: &str| {
            let mut args = vec!["netns", "exec", ns, "ping"];
            if addr.contains(':') {
                args.push("-6");
            }
            args.extend(["-c", count, "-i", "0.2", "-W", "1", "-w", deadline, addr]);
            Command::new("ip").args(&args).output().unwrap()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !once("1", "1").status.success() {
            if Instant::now() > deadline {
                break;
            }
        }
        let out = once("3", "5");
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("ping {addr} from {ns} failed:\n{}", String::from_utf8_lossy(&out.stdout)))
        }
    }

    /// Pings that must NOT get an answer (`wait_s`: ping's -w).
    pub fn ping_fails(&self, ns: &str, addr: &str, wait_s: u32) -> Result<(), String> {
        let wait = wait_s.to_string();
        let mut args = vec!["netns", "exec", ns, "ping"];
        if addr.contains(':') {
            args.push("-6");
        }
        args.extend(["-c", "3", "-i", "0.2", "-W", "1", "-w", &wait, addr]);
        let out = Command::new("ip").args(&args).output().unwrap();
        if out.status.success() {
            Err(format!("ping {addr} from {ns} got through:\n{}", String::from_utf8_lossy(&out.stdout)))
        } else {
            Ok(())
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop_anchord();
        if netns_exists(MN_NS) {
            let _ = run(&["ip", "netns", "del", MN_NS]);
        }
        let _ = run(&["bash", &script("netns.sh"), "down"]);
        let _ = std::fs::remove_dir_all(&self.dir);
        // The EAL's runtime files (config, telemetry and multi-process
        // sockets) of this run's own file prefix.
        let _ = std::fs::remove_dir_all(Path::new("/var/run/dpdk").join(&self.name));
    }
}

/// A background process (simulator, server) whose stdout lines are read
/// by a thread into a channel and whose stderr goes to a file.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub stderr: PathBuf,
}

impl Proc {
    /// Starts `/usr/bin/python3 <args>` in `ns` with its stdout lines sent to
    /// the returned channel (and stdin piped when `stdin`).
    pub fn python(
        dir: &Path,
        name: &str,
        ns: &str,
        args: &[String],
        stdin: bool,
    ) -> Result<(Proc, std::sync::mpsc::Receiver<String>), String> {
        use std::io::{BufRead, BufReader};
        let stderr = dir.join(format!("{name}.stderr"));
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, "/usr/bin/python3"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&stderr).map_err(|e| e.to_string())?));
        if stdin {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().map_err(|e| format!("spawn {name}: {e}"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok((Proc { name: name.into(), child, stderr }, rx))
    }

    /// SIGTERM by pid (5 s grace); the exit code and the stderr tail.
    pub fn stop(&mut self) -> String {
        let code = terminate(&mut self.child, Duration::from_secs(5));
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        format!("--- {} (exit {code:?}):\n{}", self.name, tail(&err, 40))
    }
}

/// A simulator speaking a line protocol: commands on its stdin, one JSON
/// event per line on its stdout (scripts/sim/mag.py, scripts/sim/mip4.py).
pub struct Sim {
    pub name: String,
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    events: std::sync::mpsc::Receiver<Value>,
    /// Every event read so far (for the failure report).
    pub seen: Vec<Value>,
    stderr: PathBuf,
}

impl Sim {
    /// Starts `/usr/bin/python3 <args>` in `ns` (stderr in `dir/<name>.stderr`)
    /// and waits up to 15 s for its "ready" event.
    pub fn start(dir: &Path, name: &str, ns: &str, args: &[String]) -> Result<Sim, String> {
        use std::io::{BufRead, BufReader};
        let stderr = dir.join(format!("{name}.stderr"));
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, "/usr/bin/python3"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&stderr).map_err(|e| e.to_string())?))
            .spawn()
            .map_err(|e| format!("spawn {name}: {e}"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let ev = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({"event": "unparsed", "line": line}));
                if tx.send(ev).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut sim = Sim { name: name.into(), child, stdin, events: rx, seen: Vec::new(), stderr };
        if let Err(e) = sim.event("ready", Duration::from_secs(15)) {
            let report = sim.stop();
            return Err(format!("{e}\n{report}"));
        }
        Ok(sim)
    }

    /// Writes one command line.
    pub fn send(&mut self, line: &str) -> Result<(), String> {
        use std::io::Write;
        let stdin = self.stdin.as_mut().ok_or_else(|| format!("{}: stdin closed", self.name))?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("{}: write {line:?}: {e}", self.name))
    }

    /// The next event for which `want` holds, read within `timeout`. An
    /// "error" or "exit" event that `want` does not accept ends the wait.
    pub fn wait(&mut self, what: &str, timeout: Duration, want: impl Fn(&Value) -> bool) -> Result<Value, String> {
        use std::sync::mpsc::RecvTimeoutError;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(ev) => {
                    self.seen.push(ev.clone());
                    if want(&ev) {
                        return Ok(ev);
                    }
                    if ev["event"] == "error" || ev["event"] == "exit" {
                        return Err(format!("{}: {ev} while waiting for {what}", self.name));
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("{}: no {what} within {timeout:?}", self.name));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("{}: exited while waiting for {what}", self.name));
                }
            }
        }
    }

    /// The next event named `name`.
    pub fn event(&mut self, name: &str, timeout: Duration) -> Result<Value, String> {
        self.wait(&format!("a {name:?} event"), timeout, |e| e["event"] == name)
    }

    /// SIGTERM by pid (the simulators then close their TUN devices); its
    /// stderr tail and the events it printed.
    pub fn stop(&mut self) -> String {
        self.stdin.take();
        let code = terminate(&mut self.child, Duration::from_secs(5));
        while let Ok(ev) = self.events.try_recv() {
            self.seen.push(ev);
        }
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let events: Vec<String> = self.seen.iter().map(Value::to_string).collect();
        format!(
            "--- {} (exit {code:?}) events:\n{}\n--- {} stderr:\n{}",
            self.name,
            tail(&events.join("\n"), 40),
            self.name,
            tail(&err, 40)
        )
    }
}

/// The demo network with anchord (an [`Env`]) and the simulators a test
/// started: on drop the simulators are ended first (closing their TUNs),
/// then the Env ends anchord and deletes the namespaces.
pub struct Net {
    pub env: Env,
    pub sims: Vec<Sim>,
}

impl std::ops::Deref for Net {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.env
    }
}

impl std::ops::DerefMut for Net {
    fn deref_mut(&mut self) -> &mut Env {
        &mut self.env
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for s in &mut self.sims {
            s.stop();
        }
    }
}

impl Net {
    pub fn new(env: Env) -> Net {
        Net { env, sims: Vec::new() }
    }

    /// Starts the Python simulator `args` (script, then its arguments) in
    /// namespace `ns`; returns its index in `sims`.
    pub fn start_sim(&mut self, name: &str, ns: &str, args: &[&str]) -> Result<usize, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let sim = Sim::start(&self.env.dir, name, ns, &args)?;
        self.sims.push(sim);
        Ok(self.sims.len() - 1)
    }

    /// Sends `line` to simulator `i` and waits for its event `event` whose
    /// `cmd` is the command's first word.
    pub fn answer(&mut self, i: usize, line: &str, event: &str) -> Result<Value, String> {
        self.sims[i].send(line)?;
        let name = line.split_whitespace().next().unwrap_or_default().to_string();
        self.sims[i].wait(&format!("the answer to {line:?}"), Duration::from_secs(15), |e| {
            e["event"] == event && e["cmd"] == name.as_str()
        })
    }

    /// The simulators' events and stderr (they are stopped), then anchord's
    /// report: what a failed test prints.
    pub fn report(&mut self) -> String {
        let mut r = String::new();
        for s in &mut self.sims {
            r += &s.stop();
            r += "\n";
        }
        r + &self.daemon_report()
    }
}
