#!/bin/sh
# Builds cloudfs_*.deb from this checkout's files (committed or not, build
# directories left out) in a copy under OUT, so dpkg-buildpackage's outputs
# (written to the source's parent directory) land in OUT, not beside the
# checkout. Unit tests are skipped (DEB_BUILD_OPTIONS=nocheck) unless
# CHECK=1: tests/run.sh has already run them.
#   tests/package/build-deb.sh OUT
set -eu
OUT=$1
cd "$(dirname "$0")/../.."
SRC=$OUT/cloudfs
rm -rf "$SRC"
mkdir -p "$SRC"
git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$SRC"
# The copy has no .git: pass the checkout's description on to --version.
git describe --always --dirty --tags --match 'v*' >"$SRC/.git-describe" 2>/dev/null || true
cd "$SRC"
[ "${CHECK:-0}" = 1 ] || export DEB_BUILD_OPTIONS="nocheck${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}"
dpkg-buildpackage -us -uc -b
