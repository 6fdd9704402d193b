#!/usr/bin/env bash
# Fuzzes the parsers that read network bytes, the LMA and the config loader
# with cargo-fuzz (fuzz/):
#
#   scripts/fuzz.sh [seconds] [target...]
#
# runs each target (default: all of fuzz/fuzz_targets) for `seconds`
# (default 60) and exits non-zero if any crashed, saying where libFuzzer
# saved the input. Targets: mh_parse (control::proto::parse and re-emit),
# mh_frame (control::mh_io::receive, IPv6 and IPv4-UDP), pmip6_lma (event
# sequences into control::pmip6::Lma), classify (the worker's classifier and
# tunnel nodes on whole frames, express against general), mip4_parse
# (control::mip4::wire), config_load (anchor_config::parse).
#
# cargo-fuzz needs nightly features (sanitizer and coverage flags); the
# stable compiler allows them with RUSTC_BOOTSTRAP=1, which this script sets
# for its own cargo calls only. AddressSanitizer works that way (stable ships
# its runtime); FUZZ_SANITIZER=none turns it off.
#
# Corpora grow in fuzz/corpus/<target> (seeded from the golden vectors by
# fuzz/seeds.py), crashes land in fuzz/artifacts/<target>; both git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

seconds=${1:-60}
shift || true
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "usage: scripts/fuzz.sh [seconds] [target...]" >&2
  exit 2
fi
if (($#)); then
  targets=("$@")
else
  targets=()
  for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
sanitizer=${FUZZ_SANITIZER:-address}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

# The fuzz workspace builds against the root lock's versions; cargo adds
# libfuzzer-sys to the copy.
cp Cargo.lock fuzz/Cargo.lock
python3 fuzz/seeds.py

export RUSTC_BOOTSTRAP=1
start=$SECONDS
for t in "${targets[@]}"; do
  cargo fuzz build --sanitizer "$sanitizer" "$t"
done
echo "fuzz: built ${targets[*]} in $((SECONDS - start)) s (sanitizer: $sanitizer)"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t/last-run.log"
  marker=$(mktemp)
  echo "fuzz: $t for ${seconds} s"
  if cargo fuzz run --sanitizer "$sanitizer" "$t" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^Done [0-9]+ runs' "$log" | sed "s/^/fuzz: $t: /" || true
  else
    failed+=("$t")
    tail -n 60 "$log"
    echo "fuzz: $t FAILED (full log: $log)" >&2
    find "fuzz/artifacts/$t" -type f -newer "$marker" ! -name last-run.log -print | while read -r input; do
      echo "fuzz: crashing input saved to $input; reproduce with:" >&2
      echo "  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer $sanitizer $t $input" >&2
    done
  fi
  rm -f "$marker"
done

if ((${#failed[@]})); then
  echo "fuzz: crashes in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ok (${targets[*]}, ${seconds} s each, $((SECONDS - start)) s in all)"
