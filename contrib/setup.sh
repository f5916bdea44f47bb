#!/bin/sh
# The one command: installs what cloudfs needs on Debian 12, builds it, and
# (unless --build-only) starts the fake cloud and mounts it, then prints the
# first things to try. Run as root from the repository.
#   ./contrib/setup.sh [MOUNTPOINT]    build, fake cloud, mount (default /mnt/cloud)
#   ./contrib/setup.sh --devcloud [MOUNTPOINT]   the same against contrib/devcloud
#   ./contrib/setup.sh --build-only    packages and build only
#   ./contrib/setup.sh --stop          unmount the demo, stop its fake cloud
# The demo's state (fake cloud, its clouds.yaml, logs) is in /var/tmp/cloudfs-demo.
# It uses nothing tests/run.sh uses: its own port, mount point and state.
set -eu
cd "$(dirname "$0")/.."
STATE=${CLOUDFS_DEMO_STATE:-/var/tmp/cloudfs-demo}
MODE=fake
MNT=/mnt/cloud
while [ $# -gt 0 ]; do
	case $1 in
	--build-only) MODE=build ;;
	--devcloud) MODE=devcloud ;;
	--stop) MODE=stop ;;
	-h | --help) sed -n '2,10p' "$0"; exit 0 ;;
	-*) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
	*) MNT=$1 ;;
	esac
	shift
done

stop_demo() {
	for m in $(cat "$STATE/mountpoint" 2>/dev/null); do
		mountpoint -q "$m" && { fusermount3 -u "$m" || umount -l "$m"; } && echo "unmounted $m"
	done
	if [ -f "$STATE/fake.pid" ] && kill "$(cat "$STATE/fake.pid")" 2>/dev/null; then
		echo "stopped the fake cloud"
	fi
	rm -f "$STATE/fake.pid" "$STATE/mountpoint"
}
if [ "$MODE" = stop ]; then
	stop_demo
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential pkg-config meson ninja-build clang libclang-rt-14-dev \
	libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev libcmocka-dev \
	python3 python3-pytest python3-pytest-timeout python3-yaml \
	git debhelper devscripts lintian fakeroot util-linux \
	curl jq ca-certificates openssh-client attr rsync clang-format media-types strace >/dev/null
if [ -d build ]; then
	meson setup --reconfigure build -Dwerror=true >/dev/null
else
	meson setup build -Dwerror=true >/dev/null
fi
ninja -C build
echo "built: $(./build/cloudfs --version)"
[ "$MODE" = build ] && exit 0

# --- the demo: a mount left running until ./contrib/setup.sh --stop.
stop_demo >/dev/null
mkdir -p "$STATE" "$MNT"
chmod 700 "$STATE"
if [ "$MODE" = devcloud ]; then
	bash contrib/devcloud/up.sh >"$STATE/devcloud-up.log" 2>&1 ||
		{ echo "devcloud did not come up: $STATE/devcloud-up.log" >&2; exit 1; }
	CLOUDS=/var/tmp/cloudfs-devcloud/clouds.yaml
	CLOUD=devcloud
else
	rm -f "$STATE/fake.port"
	/usr/bin/python3 tests/fake/fake_openstack.py --port 0 --port-file "$STATE/fake.port" \
		--quiet >"$STATE/fake.log" 2>&1 </dev/null &
	echo $! >"$STATE/fake.pid"
	i=0
	until [ -s "$STATE/fake.port" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "the fake cloud did not start: $STATE/fake.log" >&2; exit 1; }
		sleep 0.1
	done
	CLOUDS=$STATE/clouds.yaml
	CLOUD=fake
	cat >"$CLOUDS" <<YAML
clouds:
  fake:
    auth:
      auth_url: http://127.0.0.1:$(cat "$STATE/fake.port")/identity/v3
      username: demo
      password: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
YAML
fi
echo "$MNT" >"$STATE/mountpoint"
OS_CLIENT_CONFIG_FILE=$CLOUDS ./build/cloudfs --check --os-cloud "$CLOUD"
OS_CLIENT_CONFIG_FILE=$CLOUDS ./build/cloudfs "$CLOUD" "$MNT" -o log="$STATE/cloudfs.log"
cat <<TRY

cloud '$CLOUD' is mounted on $MNT (log: $STATE/cloudfs.log). Try:
  ls $MNT                               # the collections
  ls -l $MNT/servers/                   # one directory per server; names are symlinks
  cat $MNT/servers/*/status
  jq .flavor $MNT/servers/web1/json
  mkdir $MNT/networks/net1              # creates a network
  cat $MNT/.cloudfs/status $MNT/.cloudfs/errors
  OS_CLIENT_CONFIG_FILE=$CLOUDS ./build/cloudfs --check --os-cloud $CLOUD
Stop it: ./contrib/setup.sh --stop
TRY
