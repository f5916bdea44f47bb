#!/bin/sh
# Installs everything cloudfs needs to build and test on Debian 12, then builds it.
# Run as root from the repository: ./contrib/setup.sh
# (contrib/devcloud/up.sh installs the OpenStack packages for end-to-end tests itself.)
set -eu
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential pkg-config meson ninja-build clang libclang-rt-14-dev \
	libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev libcmocka-dev \
	python3 python3-pytest python3-pytest-timeout python3-yaml \
	curl jq ca-certificates openssh-client >/dev/null
if [ -d build ]; then
	meson setup --reconfigure build -Dwerror=true >/dev/null
else
	meson setup build -Dwerror=true >/dev/null
fi
ninja -C build
echo "built: $(./build/cloudfs --version)"
