#!/usr/bin/python3
"""Soak driver for scripts/soak.sh (issue 7 item 5): churns PMIPv6 sessions
through scripts/sim/mag.py while traffic flows, and judges the run.

Run by soak.sh from the root namespace once the demo network and anchord are
up (it starts its processes in anc-mag and anc-cn with `ip netns exec` and
ends them by pid):

  soak_driver.py --duration S --sessions N --pid ANCHORD_PID \\
      --anchorctl PATH --socket SOCK --dir WORKDIR [--rss-growth-kb K]

* One traffic session (dual@anchor.test, GRE, a TUN in anc-mn) stays up the
  whole run; the correspondent in anc-cn pings its IPv4 and IPv6 addresses
  every 0.1 s. It is refreshed, and handed off between MAG1 (2001:db8:1::2)
  and MAG2 (2001:db8:1::3), every 5 s; each handoff is a window
  in which lost pings are excused.
* N churn sessions (soak-<i>@anchor.test, IPv4 + IPv6, signalling only)
  each go attach -> refresh -> handoff to the other MAG -> detach, over and
  over, round robin, until the duration is up; then all are detached.
* anchord's VmRSS and open file descriptors are sampled at the start, after
  the warm-up (a third of the run, at most 30 s) and at the end.

Exits non-zero when: anchord died; a PBU went unanswered or was refused;
RSS grew more than --rss-growth-kb after the warm-up; the number of open
fds at the end is above the warm-up's; a ping was lost outside a handoff
window. Prints a summary, and its last line is one JSON object with the
figures.
"""

import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LMAA, LMAA4 = "2001:db8:1::1", "192.0.2.1"
MAGS = ("2001:db8:1::2", "2001:db8:1::3")
MAGS4 = ("192.0.2.2", "192.0.2.3")
PING_INTERVAL = 0.1
# Lost pings sent from this long before a handoff's PBU until this long after
# its PBA (the MAG re-points its tunnel end on the PBA) are excused.
WINDOW_BEFORE, WINDOW_AFTER = 0.3, 1.0
# The traffic session is refreshed and handed off this often (s): the
# windows then excuse about a quarter of the run, not all of it.
TRAFFIC_HANDOFF_EVERY = 5.0


class Failed(Exception):
    pass


def proc_status(pid):
    """(VmRSS in kB, number of open fds) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration, ValueError):
        return None


class Mag:
    """mag.py in anc-mag, driven over stdin/stdout."""

    def __init__(self, workdir):
        self.err = open(os.path.join(workdir, "mag.stderr"), "w")
        cmd = ["ip", "netns", "exec", "anc-mag", "/usr/bin/python3", os.path.join(HERE, "mag.py"),
               "--mag", MAGS[0], "--lma", LMAA, "--mag4", MAGS4[0], "--lma4", LMAA4, "--mn-ns", "anc-mn"]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                  text=True, bufsize=1)
        self.buf = ""
        self.wait_for(lambda e: e["event"] == "ready", 20, "ready")

    def events(self, timeout):
        """The next event within timeout, or None."""
        while "\n" not in self.buf:
            r, _, _ = select.select([self.p.stdout], [], [], timeout)
            if not r:
                return None
            chunk = os.read(self.p.stdout.fileno(), 65536).decode()
            if not chunk:
                raise Failed("mag.py exited")
            self.buf += chunk
        line, self.buf = self.buf.split("\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return {"event": "unparsed", "line": line}

    def wait_for(self, want, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ev = self.events(max(0.0, left)) if left > 0 else None
            if ev is None:
                raise Failed(f"mag.py: no {what} within {timeout} s")
            if want(ev):
                return ev
            if ev["event"] in ("error", "exit"):
                raise Failed(f"mag.py: {ev} while waiting for {what}")

    def pbu(self, line, mn_id):
        """Sends a PBU command; its "pba" event (status 0 required)."""
        cmd = line.split()[0]
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        ev = self.wait_for(lambda e: e["event"] == "pba" and e.get("cmd") == cmd and e.get("mn_id") == mn_id,
                           20, f"the PBA to {line!r}")
        if ev.get("timeout") or ev.get("status") is None or ev["status"] >= 128:
            raise Failed(f"{line!r}: {ev}")
        return ev

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.err.close()


class Ping:
    """ping -D -O from anc-cn to addr every PING_INTERVAL, output in a file."""

    def __init__(self, workdir, addr):
        self.addr = addr
        self.path = os.path.join(workdir, f"ping-{addr.replace(':', '_')}.log")
        self.out = open(self.path, "w")
        cmd = ["ip", "netns", "exec", "anc-cn", "ping", "-D", "-O", "-n", "-i", str(PING_INTERVAL), "-W", "1", addr]
        if ":" in addr:
            cmd.insert(5, "-6")
        self.p = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)

    def stop(self):
        """SIGINT (ping prints its summary); (sent, [send time of each lost ping])."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.out.close()
        text = open(self.path).read()
        m = re.search(r"(\d+) packets transmitted", text)
        sent = int(m.group(1)) if m else 0
        got = {}
        for ts, seq in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)", text, re.M):
            got.setdefault(int(seq), float(ts))
        lost = []
        known = sorted(got.items())
        for seq in range(1, sent + 1):
            if seq in got:
                continue
            # Its send time, from the nearest answered ping before it.
            prev = [(s, t) for s, t in known if s < seq]
            if prev:
                s, t = prev[-1]
                lost.append(t + (seq - s) * PING_INTERVAL)
            else:
                lost.append(0.0)
        return sent, lost


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--sessions", type=int, required=True)
    p.add_argument("--pid", type=int, required=True, help="anchord's pid")
    p.add_argument("--anchorctl", required=True)
    p.add_argument("--socket", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--rss-growth-kb", type=int, default=16384)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def stats():
        out = subprocess.run([a.anchorctl, "--socket", a.socket, "show", "stats", "--json"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise Failed(f"anchorctl show stats: {out.stderr.strip()}")
        return json.loads(out.stdout)

    def alive():
        if proc_status(a.pid) is None:
            raise Failed("anchord died")

    mag, pings, failures = None, [], []
    start = proc_status(a.pid)
    warm = None
    sessions = {}  # mn_id -> state: None (detached), "attached", "refreshed", "moved"; and its MAG
    windows = []  # (from, to) wall-clock handoff windows of the traffic session
    counts = {"attach": 0, "refresh": 0, "handoff": 0, "detach": 0}
    t0 = time.monotonic()
    try:
        if start is None:
            raise Failed("anchord is not running")
        mag = Mag(a.dir)
        pba = mag.pbu("attach dual@anchor.test --ipv4 --ipv6 --gre", "dual@anchor.test")
        attached = mag.wait_for(lambda e: e["event"] == "attached", 10, "the traffic session's TUN")
        hoa4 = pba["ipv4_hoa"]
        hoa6 = next(x.split("/")[0] for x in attached["mn_addrs"] if ":" in x)
        # The first answers wait for neighbour resolution: warm the path up.
        for addr in (hoa4, hoa6):
            ok = subprocess.run(["ip", "netns", "exec", "anc-cn", "ping", "-c", "1", "-w", "10", addr],
                                capture_output=True).returncode == 0
            if not ok:
                raise Failed(f"no answer from the traffic session's {addr} before the soak")
        pings = [Ping(a.dir, hoa4), Ping(a.dir, hoa6)]
        # mag.py attaches from the MAG address of its last handoff (any
        # session's): the process "is" that MAG.
        traffic_mag = proc_mag = 0
        names = [f"soak-{i}@anchor.test" for i in range(a.sessions)]
        sessions = {n: [None, 0] for n in names}
        warmup = min(30.0, a.duration / 3)
        last_traffic_handoff = time.monotonic()
        while time.monotonic() - t0 < a.duration:
            for n in names:
                state, at = sessions[n]
                other = MAGS[1 - at]
                if state is None:
                    mag.pbu(f"attach {n} --ipv4 --ipv6 --gre --no-dataplane", n)
                    sessions[n] = ["attached", proc_mag]
                    counts["attach"] += 1
                elif state == "attached":
                    mag.pbu(f"refresh {n}", n)
                    sessions[n][0] = "refreshed"
                    counts["refresh"] += 1
                elif state == "refreshed":
                    mag.pbu(f"handoff {other} --mn {n}", n)
                    sessions[n] = ["moved", 1 - at]
                    proc_mag = 1 - at
                    counts["handoff"] += 1
                else:
                    mag.pbu(f"detach {n}", n)
                    mag.wait_for(lambda e, n=n: e["event"] == "detached" and e.get("mn_id") == n, 10, "detached")
                    sessions[n] = [None, at]
                    counts["detach"] += 1
                time.sleep(0.01)  # a shared machine: leave it some CPU
            alive()
            # Now and then: refresh the traffic session, then hand it over
            # to the other MAG (churn sessions follow the process).
            if time.monotonic() - last_traffic_handoff >= TRAFFIC_HANDOFF_EVERY:
                last_traffic_handoff = time.monotonic()
                mag.pbu("refresh dual@anchor.test", "dual@anchor.test")
                counts["refresh"] += 1
                w0 = time.time()
                traffic_mag = proc_mag = 1 - traffic_mag
                mag.pbu(f"handoff {MAGS[traffic_mag]} --mn dual@anchor.test", "dual@anchor.test")
                mag.wait_for(lambda e: e["event"] == "handoff", 10, "the traffic session's handoff")
                windows.append((w0 - WINDOW_BEFORE, time.time() + WINDOW_AFTER))
                counts["handoff"] += 1
            if warm is None and time.monotonic() - t0 >= warmup:
                warm = proc_status(a.pid)
        for n, (state, _) in sessions.items():
            if state is not None:
                mag.pbu(f"detach {n}", n)
                counts["detach"] += 1
        sessions = {}
        time.sleep(1.0)  # the last pings come back
        alive()
    except Failed as e:
        failures.append(str(e))
    finally:
        ping_results = [(pg.addr, *pg.stop()) for pg in pings]
        if mag is not None:
            mag.stop()
    end = proc_status(a.pid)
    st = None
    try:
        st = stats() if end is not None else None
    except (Failed, ValueError, subprocess.TimeoutExpired) as e:
        failures.append(str(e))
    elapsed = time.monotonic() - t0

    sent = sum(s for _, s, _ in ping_results)
    lost = [t for _, _, ls in ping_results for t in ls]
    excused = [t for t in lost if any(f <= t <= to for f, to in windows)]
    unexcused = len(lost) - len(excused)
    lma = (st or {}).get("lma") or {}
    accepted = int((lma.get("pba_sent") or {}).get("0", 0))
    warm = warm or start
    figures = {
        "duration_s": round(elapsed, 1), "sessions": a.sessions, "steps": counts,
        "sessions_churned": counts["attach"],
        "registrations": accepted, "pbu_received": lma.get("pbu_received"),
        "sessions_created": lma.get("sessions_created"), "handoffs": lma.get("handoffs"),
        "deregistrations": lma.get("deregistrations"),
        "pings_sent": sent, "pings_lost": len(lost), "lost_in_handoff_windows": len(excused),
        "lost_outside_windows": unexcused, "traffic_handoffs": len(windows),
        "rss_kb": {"start": start and start[0], "warm": warm and warm[0], "end": end and end[0]},
        "fds": {"start": start and start[1], "warm": warm and warm[1], "end": end and end[1]},
        "rss_growth_bound_kb": a.rss_growth_kb,
    }
    if end is None:
        failures.append("anchord is not running at the end")
    else:
        if warm and end[0] - warm[0] > a.rss_growth_kb:
            failures.append(f"RSS grew {end[0] - warm[0]} kB after the warm-up (bound {a.rss_growth_kb} kB)")
        if warm and end[1] > warm[1]:
            failures.append(f"open fds grew from {warm[1]} to {end[1]}")
    if unexcused:
        failures.append(f"{unexcused} pings lost outside handoff windows")
    if sent == 0:
        failures.append("no pings sent")

    print(f"soak: {figures['duration_s']} s, {a.sessions} churn sessions, steps {counts}")
    print(f"soak: registrations accepted (lma.pba_sent.0) {accepted}, PBUs received {lma.get('pbu_received')}, "
          f"sessions created {lma.get('sessions_created')}, handoffs {lma.get('handoffs')}, "
          f"de-registrations {lma.get('deregistrations')}")
    for addr, s, ls in ping_results:
        print(f"soak: ping {addr}: {s} sent, {len(ls)} lost")
    print(f"soak: pings lost {len(lost)} of {sent} ({len(excused)} inside {len(windows)} handoff windows)")
    print(f"soak: anchord VmRSS start {figures['rss_kb']['start']} kB, after warm-up {figures['rss_kb']['warm']} kB, "
          f"end {figures['rss_kb']['end']} kB (bound: +{a.rss_growth_kb} kB after warm-up)")
    print(f"soak: anchord open fds start {figures['fds']['start']}, after warm-up {figures['fds']['warm']}, "
          f"end {figures['fds']['end']}")
    for f in failures:
        print(f"soak: FAIL: {f}")
    print(json.dumps({"ok": not failures, **figures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
