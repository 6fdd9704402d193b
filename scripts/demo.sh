#!/usr/bin/env bash
# README command 1: sets up, builds, brings the demo network up, starts
# anchord on virtual DPDK ports inside it, shows it answering ping from both
# sides and its ports, then keeps it running until Ctrl-C (or stops at once
# with DEMO_ONESHOT=1). Everything is torn down on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (namespaces, DPDK)" >&2; exit 1; }

bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet -p control
bin=target/release
sock=/run/anchor/anchord.sock
ctl() { "$bin/anchorctl" --socket "$sock" "$@"; }

pid=
sim=
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$sim" ] && kill -0 "$sim" 2>/dev/null; then
    kill -TERM "$sim"; wait "$sim" 2>/dev/null || true
  fi
  ip netns del anc-mn 2>/dev/null || true
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" && echo "demo: anchord stopped cleanly" || echo "demo: anchord exited with $?"
  fi
  bash scripts/netns.sh down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/netns.sh up
ip netns exec anc-lma "$bin/anchord" --config config/demo.toml &
pid=$!
for _ in $(seq 100); do
  ctl show version >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "demo: anchord failed to start" >&2; exit 1; }
  sleep 0.2
done
ctl show version

step() { printf '\n== %s\n' "$*"; "$@"; }
step ip netns exec anc-mag ping -c 3 -i 0.2 -W 2 192.0.2.1
step ip netns exec anc-mag ping -6 -c 3 -i 0.2 -W 2 2001:db8:1::1
step ip netns exec anc-cn ping -c 3 -i 0.2 -W 2 198.51.100.1
step ip netns exec anc-cn ping -6 -c 3 -i 0.2 -W 2 2001:db8:2::1
step ctl show ports
step ctl show neighbors

# A mobile node behind a MAG: the demo's static binding pinned@anchor.test
# (203.0.113.250, GRE keys 100 up / 200 down, MAG 192.0.2.2). The MAG's
# tunnel end is the userspace simulator (this kernel has no GRE module); the
# mobile node lives in namespace anc-mn.
printf '\n== mobile node 203.0.113.250 (anc-mn) behind the MAG simulator, GRE to the anchor\n'
ip netns add anc-mn
ip netns exec anc-mn ip link set lo up
coproc SIM { exec ip netns exec anc-mag /usr/bin/python3 scripts/sim/tunnel_peer.py --kind gre \
  --local 192.0.2.2 --remote 192.0.2.1 --mn-ns anc-mn --ipv4-hoa 203.0.113.250 --key-up 100 --key-down 200; }
sim=$SIM_PID
read -r -t 10 ready <&"${SIM[0]}" || true
[ "${ready:-}" = ready ] || { echo "demo: tunnel simulator did not start" >&2; exit 1; }
step ip netns exec anc-mn ping -c 3 -i 0.2 -W 2 198.51.100.2
step ip netns exec anc-cn ping -c 3 -i 0.2 -W 2 203.0.113.250
step ctl show bindings
step ctl show stats

if [ -z "${DEMO_ONESHOT:-}" ]; then
  printf '\nAnchor is running in namespace anc-lma. Try: %s/anchorctl show stats\nPress Ctrl-C to stop.\n' "$bin"
  wait "$pid"
fi
