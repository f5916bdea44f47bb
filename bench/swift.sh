#!/bin/bash
# Swift through cloudfs against the swift client and raw curl on the same devcloud Swift, in one
# run (issue 15's benchmark): cp of a big file in and out (time, throughput, cloudfs's peak RSS),
# ls -l of a 10,000-object directory (requests and time against curl of the same pages), rsync of
# 1,000 small files against `swift upload` of the same directory. Measures and reports; never
# asserts. Needs devcloud up (contrib/devcloud/up.sh) and build/cloudfs.
#
#   bench/swift.sh [SIZE_MIB]        default 1024; the table goes to bench/results/swift-<time>.md
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-1024}
STATE=${DEVCLOUD_STATE:-/var/tmp/cloudfs-devcloud}
# shellcheck disable=SC1091
set -a; . "$STATE/openrc.demo"; set +a
BIN=${CLOUDFS_BIN:-build/cloudfs}
W=$(mktemp -d /var/tmp/cloudfs-swiftbench.XXXXXX)
C=bench-$$
MNT=$W/mnt
OUT=bench/results/swift-$(date -u +%Y-%m-%dT%H-%M-%SZ).md
TOKEN=$(openstack token issue -f value -c id)
URL=$(openstack catalog show object-store -f json |
	python3 -c 'import json,sys; print([e["url"] for e in json.load(sys.stdin)["endpoints"] if e["interface"]=="public"][0])')
SEG=$((256 << 20))

cleanup() {
	fusermount3 -u "$MNT" 2>/dev/null || true
	for c in $C $C-ls $C-rs $C-rs2 "${C}_segments"; do swift delete "$c" >/dev/null 2>&1 || true; done
	rm -rf "$W"
}
trap cleanup EXIT

mount_fs() {
	mkdir -p "$MNT"
	"$BIN" -o "cache_ttl=30,part_size=$SEG" "$MNT"
	PID=$(pgrep -n -f "$BIN -o cache_ttl=30,part_size=$SEG $MNT")
}
umount_fs() { fusermount3 -u "$MNT"; sleep 0.5; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
rate() { python3 -c "print(f'{$SIZE_MIB / ($2 - $1):.0f}')"; }
hwm() { awk '/VmHWM/{print int($2/1024)}' "/proc/$1/status"; }
requests() { awk '/^requests/{print $2}' "$MNT/.cloudfs/status"; }

echo "building a ${SIZE_MIB} MiB file..." >&2
head -c $((SIZE_MIB << 20)) /dev/urandom >"$W/big"
swift post $C >/dev/null

# ---- cp in -------------------------------------------------------------------------------
mount_fs
t0=$(now); cp "$W/big" "$MNT/containers/$C/objects/big"; t1=$(now)
fs_in=$(secs "$t0" "$t1"); fs_in_r=$(rate "$t0" "$t1"); fs_in_rss=$(hwm "$PID")
t0=$(now); cmp "$W/big" "$MNT/containers/$C/objects/big"; t1=$(now)
fs_out=$(secs "$t0" "$t1"); fs_out_r=$(rate "$t0" "$t1"); fs_out_rss=$(hwm "$PID")
umount_fs
t0=$(now); swift upload --use-slo -S $SEG --object-name big2 $C "$W/big" >/dev/null; t1=$(now)
sw_in=$(secs "$t0" "$t1"); sw_in_r=$(rate "$t0" "$t1")
t0=$(now); swift download -o "$W/back" $C big2 >/dev/null; t1=$(now)
sw_out=$(secs "$t0" "$t1"); sw_out_r=$(rate "$t0" "$t1")
if [ "$SIZE_MIB" -lt 5000 ]; then
	t0=$(now); curl -sf -X PUT -H "X-Auth-Token: $TOKEN" -T "$W/big" "$URL/$C/big3" >/dev/null; t1=$(now)
	cu_in=$(secs "$t0" "$t1"); cu_in_r=$(rate "$t0" "$t1")
	t0=$(now); curl -sf -H "X-Auth-Token: $TOKEN" "$URL/$C/big3" -o /dev/null; t1=$(now)
	cu_out=$(secs "$t0" "$t1"); cu_out_r=$(rate "$t0" "$t1")
fi
rm -f "$W/back"

# ---- ls -l of 10,000 objects -------------------------------------------------------------
echo "making 10,000 objects (one extract-archive PUT)..." >&2
mkdir -p "$W/ten/d"
(cd "$W/ten/d" && for i in $(seq -w 1 10000); do printf '%s' "$i" >"o$i"; done)
tar -C "$W/ten" -cf "$W/ten.tar" d
swift post $C-ls >/dev/null
curl -sf -X PUT -H "X-Auth-Token: $TOKEN" -H "Accept: application/json" -T "$W/ten.tar" \
	"$URL/$C-ls?extract-archive=tar" >/dev/null
for _ in $(seq 60); do
	n=$(curl -sf -H "X-Auth-Token: $TOKEN" "$URL/$C-ls?format=json&prefix=d/&delimiter=/&limit=10000" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	[ "$n" = 10000 ] && break
	sleep 2
done
t0=$(now)
pages=0 marker=""
while :; do
	body=$(curl -sf -H "X-Auth-Token: $TOKEN" "$URL/$C-ls?format=json&delimiter=/&prefix=d/&limit=10000$marker")
	pages=$((pages + 1))
	[ "$body" = "[]" ] && break
	marker="&marker=$(printf '%s' "$body" | python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(sys.stdin)[-1]["name"]))')"
done
t1=$(now); cu_ls=$(secs "$t0" "$t1")
mount_fs
ls "$MNT/containers/$C-ls/objects" >/dev/null
r0=$(requests)
t0=$(now); n=$(ls -l "$MNT/containers/$C-ls/objects/d" | wc -l); t1=$(now)
fs_ls=$(secs "$t0" "$t1"); fs_ls_req=$(($(requests) - r0))
umount_fs

# ---- rsync of 1,000 small files ----------------------------------------------------------
mkdir -p "$W/small"
for i in $(seq -w 1 1000); do mkdir -p "$W/small/d${i:0:1}"; printf 'file %s\n' "$i" >"$W/small/d${i:0:1}/f$i"; done
swift post $C-rs >/dev/null
mount_fs
t0=$(now); rsync -r --size-only --delete "$W/small/" "$MNT/containers/$C-rs/objects/"; t1=$(now)
fs_rs=$(secs "$t0" "$t1")
r0=$(requests)
t0=$(now); again=$(rsync -r --size-only --delete --stats "$W/small/" "$MNT/containers/$C-rs/objects/" |
	awk -F: '/Number of regular files transferred/{print $2+0}'); t1=$(now)
fs_rs2=$(secs "$t0" "$t1"); fs_rs2_req=$(($(requests) - r0))
umount_fs
t0=$(now); (cd "$W/small" && swift upload $C-rs2 . >/dev/null); t1=$(now)
sw_rs=$(secs "$t0" "$t1")

{
	echo "# Swift through cloudfs, $(date -u +%FT%TZ), $(git rev-parse --short HEAD)"
	echo
	echo "devcloud Swift 2.30 on this machine; ${SIZE_MIB} MiB file; part size $((SEG >> 20)) MiB (cloudfs and swift)."
	echo
	echo "| transfer | cloudfs | swift client | curl | cloudfs / curl | cloudfs peak RSS |"
	echo "|---|---|---|---|---|---|"
	echo "| in (cp / swift upload --use-slo / curl -T) | ${fs_in} s, ${fs_in_r} MiB/s | ${sw_in} s, ${sw_in_r} MiB/s | ${cu_in:-} s, ${cu_in_r:-} MiB/s | $(python3 -c "print(f'{${fs_in_r}/${cu_in_r:-1}:.2f}')")× | ${fs_in_rss} MiB |"
	echo "| out (cmp / swift download / curl) | ${fs_out} s, ${fs_out_r} MiB/s | ${sw_out} s, ${sw_out_r} MiB/s | ${cu_out:-} s, ${cu_out_r:-} MiB/s | $(python3 -c "print(f'{${fs_out_r}/${cu_out_r:-1}:.2f}')")× | ${fs_out_rss} MiB |"
	echo
	echo "| listing | cloudfs | curl of the pages |"
	echo "|---|---|---|"
	echo "| ls -l of 10,000 objects ($((n - 1)) listed) | ${fs_ls} s, ${fs_ls_req} requests | ${cu_ls} s, ${pages} requests |"
	echo
	echo "| 1,000 small files | cloudfs | swift upload |"
	echo "|---|---|---|"
	echo "| first copy | rsync -r --size-only --delete: ${fs_rs} s | ${sw_rs} s |"
	echo "| again | ${fs_rs2} s, ${again} files transferred, ${fs_rs2_req} requests | |"
} | tee "$OUT"
