#!/usr/bin/env bash
# README "Installing as a service": builds the Debian package `anchor`
# (anchord, anchorctl, the systemd unit, example configs, README) into
# target/debian/ and prints its path on the last line.
# Installs cargo-deb first if it is missing. The release binaries are built
# here, then packaged as they are (stripped of debug information).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_DEB_VERSION=3.8.0
if ! cargo deb --version >/dev/null 2>&1; then
  echo "package: installing cargo-deb $CARGO_DEB_VERSION" >&2
  cargo install --locked --quiet cargo-deb --version "$CARGO_DEB_VERSION"
fi

cargo build --release --locked --quiet -p control --bins
# cargo-deb prints the path of the .deb it wrote.
deb=$(cargo deb -p control --no-build --strip --quiet)
echo "$deb"
