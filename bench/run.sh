#!/usr/bin/env bash
# Runs every Anchor benchmark in sequence, prints the results table (value,
# target, pass/fail: informational, never the exit status) and rewrites
# bench/RESULTS.md with the figures, this command, the date and the machine.
#
#   bench/run.sh            all benchmarks, a few minutes
#   bench/run.sh --quick    fewer rounds (smoke test; figures are noisier)
#   bench/run.sh --extra    also the uplink instruction count, the path
#                           instruction count at 1k bindings and the classify and
#                           forwarding-table micro-benchmarks
#
# Needs scripts/setup.sh (DPDK, dpdk-testpmd, valgrind) and 2 CPUs: the worker
# (or testpmd's forwarding lcore) runs alone on CPU 1, everything else on CPU 0.
# Generated pcap files, callgrind outputs and logs go to bench/out/ (git-ignored).
set -uo pipefail
cd "$(dirname "$0")/.."

quick=0
extra=0
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --extra) extra=1 ;;
    *) echo "usage: bench/run.sh [--quick] [--extra]" >&2; exit 2 ;;
  esac
done

out=bench/out
mkdir -p "$out"
log="$out/run.log"
results="$out/results.txt"
: >"$log"

command -v dpdk-testpmd >/dev/null || { echo "run.sh: dpdk-testpmd missing (scripts/setup.sh)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "run.sh: valgrind missing (apt-get install -y valgrind)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || echo "run.sh: warning: fewer than 2 CPUs, the worker cannot have its own" >&2

echo "== building (release)"
cargo build --release -p bench 2>&1 | tail -1
bin=target/release

# CPU time other processes use, in % of the machine, over 3 seconds.
cpu_busy() {
  local a b
  read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ </proc/stat
  sleep 3
  read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ </proc/stat
  a=$((a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8)); b=$((b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8))
  echo $(((100 * ((b - a) - (b4 - a4) - (b5 - a5))) / (b - a + 1)))
}
sleep 5 # let the build's load pass
busy=$(cpu_busy)
load_before="$(cut -d' ' -f1-3 /proc/loadavg), CPU busy ${busy} %"
echo "== load average before: $load_before"
if [ "$busy" -gt 5 ]; then
  echo "run.sh: warning: the machine is not quiet (${busy} % of the CPUs busy); figures will be noisy" >&2
  top -bn1 | sed -n '7,12p' >&2
fi

if [ "$quick" = 1 ]; then
  rounds=1; periods=3; path_args=(--frames 256k --packets 1M --rounds 3); churn_args=(--phase-ms 1500 --cycles 1)
else
  rounds=3; periods=2; path_args=(--frames 1M --packets 3M --rounds 3); churn_args=(--phase-ms 3000 --cycles 3)
fi

started=$SECONDS
step() {
  local t=$SECONDS
  echo "== $*"
  # RESULT lines go to the log only; everything else is shown as well.
  "$@" 2>&1 | tee -a "$log" | grep -v '^RESULT'
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || echo "run.sh: step failed (exit $rc): $*" | tee -a "$log" >&2
  echo "   ($((SECONDS - t)) s)"
}

# (a) packet-path cost without DPDK: ns and instructions per packet
step taskset -c 1 "$bin/path" "${path_args[@]}"
if [ "$extra" = 1 ]; then step "$bin/path" insn --all; else step "$bin/path" insn; fi
# (b) through DPDK, against testpmd io forwarding in the same run
step "$bin/dp" null --periods "$periods"
for dir in down up; do
  for keys in hot random; do
    step "$bin/dp" tput --dir "$dir" --keys "$keys" --rounds "$rounds" --periods "$periods"
  done
done
step "$bin/dp" insn --dir down --keys hot --bindings 1k --null
if [ "$extra" = 1 ]; then step "$bin/dp" insn --dir up --keys hot --bindings 1k; fi
# (c) table churn while forwarding
step "$bin/dp" churn "${churn_args[@]}"
# PMIPv6 LMA signalling rate and memory per session (1M sessions resident)
# and the publication rate below (section "Control thread" of the report).
step taskset -c 1 "$bin/lma" 1000000
# Mobile IPv4 home agent signalling rate and memory per binding (1M bindings
# resident, each mobile node with its own MN-HA association).
step taskset -c 1 "$bin/mip4" 1000000
# Forwarding-state publication (install/remove per second, 1M sessions).
step taskset -c 1 "$bin/publish" 1000000
if [ "$extra" = 1 ]; then
  step taskset -c 1 "$bin/bench"
  step taskset -c 1 "$bin/fib"
fi

echo "== benchmarks took $((SECONDS - started)) s"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
grep '^RESULT' "$log" >"$results"
cmd="bench/run.sh${*:+ $*}"
"$bin/report" --results "$results" --command "$cmd" --load-before "$load_before" --load-after "$load_after"
exit 0
