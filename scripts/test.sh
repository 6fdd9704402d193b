#!/usr/bin/env bash
# README command 2: sets up and runs every test, unit and end to end, then a
# short fuzzing run.
# End-to-end tests need root (network namespaces, DPDK); they create and
# delete their own namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

if ip netns list 2>/dev/null | grep -qE '^anc-'; then
  echo "test: the demo network is up (a demo running?); stop it or run scripts/netns.sh down" >&2
  exit 1
fi
cargo fmt --all -- --check
# fuzz/ is its own workspace, outside `--all`.
rustfmt --check --edition 2021 fuzz/src/lib.rs fuzz/fuzz_targets/*.rs
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The end-to-end tests share the demo namespaces: one test thread.
cargo test --workspace -- --test-threads=1
# Short soak (README "Reliability"): 60 s of PMIPv6 session churn (attach,
# refresh, handoff between the MAGs, detach) with pings through a tunnel;
# fails on a lost registration, memory or fd growth, or pings lost outside
# handoffs. About 65 s on 2 cores.
bash scripts/soak.sh 60 20
# Fuzzing smoke run (README "Fuzzing"): each cargo-fuzz target in fuzz/
# (eight) for 20 s; fails on a crash and names the saved input. About 6
# minutes with a cold fuzz build on 2 cores.
bash scripts/fuzz.sh 20
# Debian package (README "Installing as a service"): builds the .deb with
# cargo-deb (installed on first use) and checks its contents, dependencies,
# maintainer scripts and systemd unit. Seconds with a warm release build,
# about 2.5 minutes from a fresh clone without cargo-deb, on 2 cores.
bash scripts/test-package.sh
