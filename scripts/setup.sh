#!/usr/bin/env bash
# Installs everything Anchor needs on Debian 12, idempotently.
# Fast when already done: it only calls apt-get when a package is missing.
set -euo pipefail

packages=(
  libdpdk-dev dpdk-dev        # DPDK 22.11 headers/libs; testpmd, dumpcap, telemetry client
  clang libclang-dev          # bindgen
  pkg-config build-essential
  iproute2 iputils-ping ethtool procps
  tshark                      # golden-packet oracle
  python3 python3-scapy       # simulators
  valgrind                    # instruction counts in bench/
)

missing=()
for p in "${packages[@]}"; do
  [[ $p == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust stable (rustup) first" >&2
  exit 1
fi
pkg-config --exists libdpdk || { echo "setup: libdpdk still not found by pkg-config" >&2; exit 1; }
echo "setup: ok (DPDK $(pkg-config --modversion libdpdk), $(cargo --version))"
