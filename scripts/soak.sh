#!/usr/bin/env bash
# Soak test (README "Reliability"; not part of CI by default, scripts/test.sh
# runs a 60 s version): in the demo network, PMIPv6 sessions are attached,
# refreshed, handed off between the two MAGs and detached over and over for
# DURATION_S seconds while pings flow through a tunnel that is itself
# refreshed and handed off; scripts/sim/soak_driver.py drives it and judges
# the run. Prints the registrations done (show stats), pings sent / lost,
# anchord's VmRSS and open fds at start and end; exits non-zero if anchord
# died, a registration failed, RSS grew more than SOAK_RSS_GROWTH_KB
# (default 16384 kB) after the warm-up, fds grew, or pings were lost outside
# handoff windows. Skips (exit 0 with a message) without root or tools.
#
# Usage: bash scripts/soak.sh [DURATION_S (600)] [SESSIONS (50, at most 100)]
# Takes /tmp/anchor-e2e.lock itself (other runs use the same namespace
# names): do not wrap it in another flock on that file.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-600}
sessions=${2:-50}
[[ "$duration" =~ ^[0-9]+$ && "$sessions" =~ ^[0-9]+$ ]] || { echo "usage: $0 [duration_s] [sessions]" >&2; exit 2; }
# Two home addresses per session at most (old one deprecated, new one) from
# the /24 IPv4 pool.
((sessions >= 1 && sessions <= 100)) || { echo "soak: sessions must be 1..100" >&2; exit 2; }

if [ "$(id -u)" != 0 ]; then
  echo "soak: skipped: needs root (network namespaces, DPDK)"
  exit 0
fi
for tool in ip ping flock /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "soak: skipped: $tool not found"; exit 0; }
done
export PATH="$HOME/.cargo/bin:$PATH"
profile=${SOAK_PROFILE:-debug}
if [ "$profile" = release ]; then
  cargo build --release --quiet -p control --bins
else
  cargo build --quiet -p control --bins
fi
bin=target/$profile

work=$(mktemp -d /tmp/anchor-soak.XXXXXX)
sock=$work/anchord.sock
pid=
driver=
net_up=
mn_ns=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
    kill -TERM "$driver"; wait "$driver" 2>/dev/null || true
  fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  fi
  [ -n "$mn_ns" ] && { ip netns del anc-mn 2>/dev/null || true; }
  # Only what this run built: never another run's namespaces.
  [ -n "$net_up" ] && { bash scripts/netns.sh down || true; }
  if [ "$rc" != 0 ] && [ -f "$work/anchord.log" ]; then
    echo "soak: anchord log (tail):" >&2
    tail -n 30 "$work/anchord.log" >&2
    if [ -f "$work/mag.stderr" ]; then
      echo "soak: mag.py stderr (tail):" >&2
      tail -n 20 "$work/mag.stderr" >&2
    fi
  fi
  rm -rf "$work" "/var/run/dpdk/anchor-soak-$$"
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

exec 9>/tmp/anchor-e2e.lock
flock -w 900 9 || { echo "soak: /tmp/anchor-e2e.lock still held after 15 minutes" >&2; exit 1; }
# Another run's demo network (one that does not take the lock) goes away first.
for _ in $(seq 120); do
  ip netns list | grep -q '^anc-' || break
  sleep 1
done
if ip netns list | grep -q '^anc-'; then
  echo "soak: demo namespaces still exist after 2 minutes (another demo or test running?)" >&2
  exit 1
fi

# config/demo.toml with this run's socket, EAL prefix and store, a default
# profile for the churn sessions (soak-N@anchor.test) and a short
# MinDelayBeforeBCEDelete so that detached sessions go away within the run.
sed -e "s|\"/run/anchor/anchord.sock\"|\"$sock\"|" \
    -e "s|\"anchor-demo\"|\"anchor-soak-$$\"|" \
    -e "s|\"/run/anchor/demo-store.db\"|\"$work/store.db\"|" \
    -e "s|^min_delay_before_bce_delete_ms = .*|min_delay_before_bce_delete_ms = 2000|" \
    config/demo.toml >"$work/anchor.toml"
cat >>"$work/anchor.toml" <<'EOF'

[profiles.default]
pmip6 = true
ipv4 = true
ipv6 = true
EOF

echo "soak: ${duration} s, ${sessions} sessions; set-up started after ${SECONDS} s"
bash scripts/netns.sh up
net_up=1
ip netns add anc-mn
mn_ns=1
ip netns exec anc-mn ip link set lo up

# `ip netns exec` execs anchord: $! is anchord's pid.
ip netns exec anc-lma "$bin/anchord" --config "$work/anchor.toml" >"$work/anchord.log" 2>&1 &
pid=$!
for _ in $(seq 150); do
  "$bin/anchorctl" --socket "$sock" show version >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "soak: anchord failed to start" >&2; exit 1; }
  sleep 0.2
done
"$bin/anchorctl" --socket "$sock" show version >/dev/null

/usr/bin/python3 scripts/sim/soak_driver.py --duration "$duration" --sessions "$sessions" --pid "$pid" \
  --anchorctl "$bin/anchorctl" --socket "$sock" --dir "$work" \
  --rss-growth-kb "${SOAK_RSS_GROWTH_KB:-16384}" &
driver=$!
status=0
wait "$driver" || status=$?
driver=
kill -0 "$pid" 2>/dev/null || { echo "soak: FAIL: anchord died" >&2; status=1; }
echo "soak: $([ "$status" = 0 ] && echo passed || echo FAILED) (set-up and run: ${SECONDS} s)"
exit "$status"
