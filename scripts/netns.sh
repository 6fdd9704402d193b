#!/usr/bin/env bash
# Builds or removes the demo network of DESIGN.md:
#
#  ns anc-mag                      ns anc-lma (anchord)                 ns anc-cn
#  mag-core ---------veth--------- lma-core | DPDK | lma-home ---veth--- cn-home
#  2001:db8:1::2/64, ::3/64        net_af_packet ports                 198.51.100.2/24
#  192.0.2.2/24, 192.0.2.3/24      core: 2001:db8:1::1, 192.0.2.1      2001:db8:2::2/64
#                                  home: 198.51.100.1, 2001:db8:2::1
#
# Usage: scripts/netns.sh up|down|status
# No namespace has a route out of the machine; all addresses are from the
# documentation ranges.
set -euo pipefail

NS=(anc-mag anc-lma anc-cn)
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

up() {
  for ns in "${NS[@]}"; do
    if ip netns list | grep -qw "^$ns"; then
      echo "netns: $ns already exists (another demo or test running?); run '$0 down' first" >&2
      exit 1
    fi
  done
  for ns in "${NS[@]}"; do
    ip netns add "$ns"
    nsx "$ns" ip link set lo up
  done
  ip link add mag-core netns anc-mag type veth peer name lma-core netns anc-lma
  ip link add lma-home netns anc-lma type veth peer name cn-home netns anc-cn

  # anc-lma: DPDK owns both ends; the kernel there stays silent.
  for ifc in lma-core lma-home; do
    nsx anc-lma sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1"
    nsx anc-lma ip link set "$ifc" up
  done

  # anc-mag: the MAGs / FAs / PMAs / mobile nodes side.
  nsx anc-mag ip addr add 192.0.2.2/24 dev mag-core
  nsx anc-mag ip addr add 192.0.2.3/24 dev mag-core
  nsx anc-mag ip -6 addr add 2001:db8:1::2/64 dev mag-core nodad
  nsx anc-mag ip -6 addr add 2001:db8:1::3/64 dev mag-core nodad
  nsx anc-mag ethtool -K mag-core tx off >/dev/null
  nsx anc-mag ip link set mag-core up

  # anc-cn: the correspondent node, routing the home pools via the anchor.
  nsx anc-cn ip addr add 198.51.100.2/24 dev cn-home
  nsx anc-cn ip -6 addr add 2001:db8:2::2/64 dev cn-home nodad
  nsx anc-cn ethtool -K cn-home tx off >/dev/null
  nsx anc-cn ip link set cn-home up
  nsx anc-cn ip route add 203.0.113.0/24 via 198.51.100.1
  nsx anc-cn ip -6 route add 2001:db8:100::/48 via 2001:db8:2::1
  nsx anc-cn ip -6 route add 2001:db8:200::/64 via 2001:db8:2::1
  # The DSMIPv6 home addresses of config/demo.toml ([[dsmip6.mn]]).
  nsx anc-cn ip -6 route add 2001:db8:300::/64 via 2001:db8:2::1
  echo "netns: demo network up (anc-mag, anc-lma, anc-cn)"
}

down() {
  # anc-mn (a mobile node made by the demo or a test) goes too if present.
  for ns in anc-mn anc-mn4 anc-mn6 "${NS[@]}"; do
    if ip netns list | grep -qw "^$ns"; then
      # Whatever still runs in the namespace was started by us: end it.
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      [ -n "$pids" ] && kill $pids 2>/dev/null || true
      ip netns del "$ns"
    fi
  done
  echo "netns: demo network down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) ip netns list | grep -E '^anc-' || echo "netns: demo network is down" ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
