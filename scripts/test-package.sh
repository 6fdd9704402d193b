#!/usr/bin/env bash
# Builds the Debian package with scripts/package.sh and checks what it holds:
# the binaries (that they run from the package: --help, --version, --check
# of both packaged example configs), the systemd unit and its maintainer
# scripts, the examples and README, and that Depends names the package of
# every shared library anchord links. Then `systemd-analyze verify` on the
# unit, when systemd-analyze exists. Needs no root and starts no daemon.
# About 1 minute after a release build, several from cold (README
# "Installing as a service").
set -euo pipefail
cd "$(dirname "$0")/.."

deb=$(bash scripts/package.sh | tail -n 1)
echo "test-package: $deb"

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...: one named check, counted
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "test-package: FAILED: $what" >&2
  fi
}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$root/DEBIAN"
contents=$(dpkg-deb -c "$deb")
field() { dpkg-deb -f "$deb" "$1"; }

# Contents: path and mode as dpkg will install them.
has() { # has MODE PATH
  grep -qE "^$1 (root/root|0/0) +[0-9]+ [0-9-]+ [0-9:]+ \./$2\$" <<<"$contents"
}
check "anchord in /usr/bin, executable" has -rwxr-xr-x usr/bin/anchord
check "anchorctl in /usr/bin, executable" has -rwxr-xr-x usr/bin/anchorctl
check "the unit in the systemd system directory" has -rw-r--r-- 'usr/lib/systemd/system/anchord.service'
check "the production example" has -rw-r--r-- usr/share/doc/anchor/examples/production.example.toml
check "the demo example" has -rw-r--r-- usr/share/doc/anchor/examples/demo.toml
check "the README" has -rw-r--r-- usr/share/doc/anchor/README.md
check "nothing under /etc (no config until the operator writes one)" \
  bash -c '! grep -q " \./etc/" <<<"$1"' _ "$contents"
check "the packaged unit is packaging/anchord.service" \
  cmp -s packaging/anchord.service "$root/usr/lib/systemd/system/anchord.service"
check "the packaged examples are config/'s" \
  bash -c 'cmp -s config/demo.toml "$1/demo.toml" && cmp -s config/production.example.toml "$1/production.example.toml"' \
  _ "$root/usr/share/doc/anchor/examples"

# Control fields.
check "package name anchor" test "$(field Package)" = anchor
check "version from Cargo.toml" test "$(field Version)" = "$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)-1"
depends=$(field Depends)
echo "test-package: Depends: $depends"
for pkg in librte-eal23 librte-ethdev23 librte-mbuf23 librte-mempool23 librte-ring23 \
  librte-mempool-ring23 librte-bus-pci23 librte-bus-vdev23 libc6; do
  check "Depends names $pkg" grep -qE "(^|, )$pkg( |,|\$)" <<<"$depends"
done
# Every library anchord and anchorctl link directly comes from a package in
# Depends; but libgcc-s1, which cargo-deb leaves out on purpose (every
# system has it: libc6 depends on it).
for bin in anchord anchorctl; do
  for lib in $(objdump -p "$root/usr/bin/$bin" | awk '$1 == "NEEDED" {print $2}'); do
    owners=$(dpkg -S "*/$lib" 2>/dev/null | cut -d: -f1 | tr ',' '\n' | tr -d ' ' | sort -u)
    found=no
    [ "$owners" = libgcc-s1 ] && found=yes
    for o in $owners; do
      grep -qE "(^|, )$o( |,|\$)" <<<"$depends" && found=yes
    done
    check "$bin's $lib (from ${owners//$'\n'/ }) is in Depends" test "$found" = yes
  done
done

# Maintainer scripts: the unit is registered and reloaded, never started or
# enabled by the install itself.
check "postinst reloads systemd" grep -q 'daemon-reload' "$root/DEBIAN/postinst"
check "postinst does not start anchord" bash -c '! grep -q "deb-systemd-invoke start" "$1"' _ "$root/DEBIAN/postinst"
check "postinst enables only what was enabled before" grep -q 'was-enabled anchord.service' "$root/DEBIAN/postinst"
check "prerm stops anchord on removal" grep -q 'stop anchord.service' "$root/DEBIAN/prerm"
check "postrm purges the unit's state" grep -q 'purge anchord.service' "$root/DEBIAN/postrm"

# The packaged binaries run.
anchord="$root/usr/bin/anchord"
anchorctl="$root/usr/bin/anchorctl"
check "anchord --help is a manual page" bash -c '"$1" --help | grep -qx "SYNOPSIS"' _ "$anchord"
check "anchord --help names the unit's config" bash -c '"$1" --help | grep -q "/etc/anchor/anchor.toml"' _ "$anchord"
check "anchorctl --help is a manual page" bash -c '"$1" --help | grep -qx "COMMANDS"' _ "$anchorctl"
check "anchord --version" bash -c '"$1" --version | grep -qx "anchord $2"' _ "$anchord" "$(field Version | sed 's/-[^-]*$//')"
for example in production.example.toml demo.toml; do
  check "anchord --check accepts the packaged $example" \
    "$anchord" --check --config "$root/usr/share/doc/anchor/examples/$example"
done

# The unit's syntax, keys and commands. verify checks that ExecStart's
# binary exists, so point it at the extracted one; it reports unknown keys
# on stderr but still exits 0, so any output fails.
if command -v systemd-analyze >/dev/null 2>&1; then
  unit_dir=$(mktemp -d)
  trap 'rm -rf "$root" "$unit_dir"' EXIT
  sed "s|/usr/bin/|$root/usr/bin/|g" packaging/anchord.service >"$unit_dir/anchord.service"
  verify_ok() {
    local out
    out=$(systemd-analyze verify --man=no "$unit_dir/anchord.service" 2>&1) || {
      echo "$out" >&2
      return 1
    }
    [ -z "$out" ] || {
      echo "$out" >&2
      return 1
    }
  }
  check "systemd-analyze verify packaging/anchord.service" verify_ok
else
  echo "test-package: systemd-analyze not found: unit not verified (apt-get install systemd)"
fi

echo "test-package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
