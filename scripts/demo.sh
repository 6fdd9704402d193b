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
mip4=
mn4_ns=
dsmip6=
mn6_ns=
fifos=
net_up=
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$sim" ] && kill -0 "$sim" 2>/dev/null; then
    kill -TERM "$sim"; wait "$sim" 2>/dev/null || true
  fi
  if [ -n "$mip4" ] && kill -0 "$mip4" 2>/dev/null; then
    kill -TERM "$mip4"; wait "$mip4" 2>/dev/null || true
  fi
  if [ -n "$dsmip6" ] && kill -0 "$dsmip6" 2>/dev/null; then
    kill -TERM "$dsmip6"; wait "$dsmip6" 2>/dev/null || true
  fi
  [ -n "$fifos" ] && rm -rf "$fifos"
  [ -n "$mn6_ns" ] && ip netns del anc-mn6 2>/dev/null
  [ -n "$mn4_ns" ] && ip netns del anc-mn4 2>/dev/null
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" && echo "demo: anchord stopped cleanly" || echo "demo: anchord exited with $?"
    # DPDK's runtime files (telemetry and multi-process sockets).
    rm -rf /var/run/dpdk/anchor-demo
  fi
  # Only what this demo built: never another run's namespaces.
  [ -n "$net_up" ] && bash scripts/netns.sh down
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/netns.sh up
net_up=1
# Each demo starts with no sessions: an earlier run's session store (demo.toml
# [store] path) would bring its bindings back.
rm -f /run/anchor/demo-store.db
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

# A dual-stack mobile node attaches through a MAG (PMIPv6): the MAG simulator
# in anc-mag sends a Proxy Binding Update for dual@anchor.test, the anchor
# allocates a home network prefix and an IPv4 home address, answers with a
# PBA and installs the GRE tunnel (keys negotiated, RFC 5845). The MAG's
# tunnel end runs in userspace (this kernel has no GRE module); the mobile
# node lives in namespace anc-mn.
printf '\n== PMIPv6: dual@anchor.test attaches via MAG 2001:db8:1::2\n'
ip netns add anc-mn
ip netns exec anc-mn ip link set lo up
coproc SIM { exec ip netns exec anc-mag /usr/bin/python3 scripts/sim/mag.py --mag 2001:db8:1::2 \
  --lma 2001:db8:1::1 --mag4 192.0.2.2 --lma4 192.0.2.1 --mn-ns anc-mn 2>/dev/null; }
sim=$SIM_PID
# Sets EVENT to the first event line of type $2 (JSON) read from file
# descriptor $1, 15 s at most. (No subshell: bash closes coprocess
# descriptors in subshells.)
wait_event() {
  local line
  while read -r -t 15 line <&"$1"; do
    case "$line" in *"\"event\": \"$2\""*) EVENT=$line; return 0 ;; esac
  done
  return 1
}
wait_event "${SIM[0]}" ready || { echo "demo: MAG simulator did not start" >&2; exit 1; }
echo "attach dual@anchor.test --ipv4 --ipv6 --gre" >&"${SIM[1]}"
wait_event "${SIM[0]}" attached || { echo "demo: attach failed" >&2; exit 1; }
printf '%s' "$EVENT" | /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin); print("attached:", ", ".join(e["mn_addrs"]), "- tunnel", e["mode"], "- GRE keys up/down", e["gre_key_up"], e["gre_key_down"])'
step ip netns exec anc-mn ping -c 3 -i 0.2 -W 2 198.51.100.2
step ip netns exec anc-mn ping -6 -c 3 -i 0.2 -W 2 2001:db8:2::2
step ctl show bindings

# A dual-stack Mobile IPv4 node registers with the home agent (RFC 5944 with
# RFC 5454 DSMIPv4): dual@anchor.test, at a co-located care-of address
# (192.0.2.10, on the access link of anc-mag), sends a Registration Request
# authenticated with its MN-HA key from config/demo.toml, asks for an IPv4
# home address and an IPv6 prefix tunnelled straight to its care-of address,
# and gets them in the reply; the anchor installs the IP-in-IP tunnel. The
# simulator carries the node's traffic from namespace anc-mn4 through a TUN.
printf '\n== MIPv4: dual@anchor.test registers from care-of address 192.0.2.10\n'
ip netns add anc-mn4
mn4_ns=1
ip netns exec anc-mn4 ip link set lo up
ip -n anc-mag addr add 192.0.2.10/24 dev mag-core
# (Through FIFOs: bash keeps one coprocess, the MAG simulator's.)
fifos=$(mktemp -d)
mkfifo "$fifos/in" "$fifos/out"
ip netns exec anc-mag /usr/bin/python3 scripts/sim/mip4.py --nai dual@anchor.test \
  --spi 4097 --key 0102030405060708090a0b0c0d0e0f10 --coa 192.0.2.10 --ha 192.0.2.1 --encap ipip \
  --ipv6-prefix ::/64 --tunneling-mode --mn-ns anc-mn4 --tun mn4 <"$fifos/in" >"$fifos/out" 2>/dev/null &
mip4=$!
exec {mip4_in}>"$fifos/in" {mip4_out}<"$fifos/out"
wait_event "$mip4_out" ready || { echo "demo: MIPv4 simulator did not start" >&2; exit 1; }
echo register >&"$mip4_in"
wait_event "$mip4_out" attached || { echo "demo: MIPv4 registration failed" >&2; exit 1; }
printf '%s' "$EVENT" | /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin); print("registered:", ", ".join(e["mn_addrs"]), "- tunnel", e["encap"])'
step ip netns exec anc-mn4 ping -c 3 -i 0.2 -W 2 198.51.100.2
step ip netns exec anc-mn4 ping -6 -c 3 -i 0.2 -W 2 2001:db8:2::2
step ctl show binding dual@anchor.test

# A DSMIPv6 mobile node in an IPv4-only network behind a NAT (RFC 5555):
# ds6@anchor.test sends its Binding Update in UDP 4191 with an RFC 4285
# authenticator (key from config/demo.toml); its IPv4 care-of address
# option (192.0.2.77) differs from the packet's source (192.0.2.2), so the
# home agent detects the NAT, binds the IPv6 home address 2001:db8:300::10
# and the IPv4 home address 203.0.113.201, and tunnels both in UDP 4191.
printf '\n== DSMIPv6: ds6@anchor.test registers over IPv4 behind a NAT\n'
ip netns add anc-mn6
mn6_ns=1
ip netns exec anc-mn6 ip link set lo up
mkfifo "$fifos/in6" "$fifos/out6"
ip netns exec anc-mag /usr/bin/python3 scripts/sim/dsmip6.py --mn-id ds6@anchor.test \
  --hoa 2001:db8:300::10 --spi 8448 --key 2122232425262728292a2b2c2d2e2f3031323334 --ha 2001:db8:1::1 \
  --ha4 192.0.2.1 --coa 192.0.2.2 --nat-coa 192.0.2.77 --ipv4-hoa 0.0.0.0 --mn-ns anc-mn6 --tun mn6 \
  <"$fifos/in6" >"$fifos/out6" 2>/dev/null &
dsmip6=$!
exec {mn6_in}>"$fifos/in6" {mn6_out}<"$fifos/out6"
wait_event "$mn6_out" ready || { echo "demo: DSMIPv6 simulator did not start" >&2; exit 1; }
echo register >&"$mn6_in"
wait_event "$mn6_out" attached || { echo "demo: DSMIPv6 registration failed" >&2; exit 1; }
printf '%s' "$EVENT" | /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin); print("registered:", ", ".join(e["mn_addrs"]), "- NAT" if e["nat"] else "", "- tunnel", e["encap"])'
step ip netns exec anc-mn6 ping -6 -c 3 -i 0.2 -W 2 2001:db8:2::2
step ip netns exec anc-mn6 ping -c 3 -i 0.2 -W 2 198.51.100.2
step ctl show binding ds6@anchor.test
step ctl show stats
# The same figures through DPDK's telemetry socket, with DPDK's own beside
# them (README "Looking inside a running anchord").
telemetry() { printf '%s\n' "$@" | dpdk-telemetry.py -f anchor-demo; }
step telemetry /anchor/sessions /anchor/pools /ethdev/stats,0

if [ -z "${DEMO_ONESHOT:-}" ]; then
  printf '\nAnchor is running in namespace anc-lma. Try: %s/anchorctl show stats\n' "$bin"
  printf 'or dpdk-telemetry.py -f anchor-demo (then /anchor/stats, /ethdev/stats,0, ...)\nPress Ctrl-C to stop.\n'

  wait "$pid"
fi
