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
# A fresh token before each raw-curl phase: devcloud's may expire during a long run.
tok() { TOKEN=$(openstack token issue -f value -c id); }
tok
URL=$(openstack catalog show object-store -f json |
	python3 -c 'import json,sys; print([e["url"] for e in json.load(sys.stdin)["endpoints"] if e["interface"]=="public"][0])')
# The part size: 256 MiB, or Swift's max_file_size when smaller (devcloud's is 10 MiB): a part
# size past it is refused by cloudfs (EINVAL) and by Swift (413 at the first segment).
MAXF=$(curl -s "${URL%%/v1/*}/info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["swift"]["max_file_size"])')
SEG=$((256 << 20))
[ "$MAXF" -lt "$SEG" ] && SEG=$MAXF

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
	# The mount's start-up look (leftovers, upload marks, /info) makes requests of its own:
	# counting starts once it is done.
	for _ in $(seq 300); do grep -q '^startup_scan done' "$MNT/.cloudfs/status" && break; sleep 0.1; done
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
umount_fs
mount_fs
t0=$(now); cat "$MNT/containers/$C/objects/big" >/dev/null; t1=$(now)
fs_out=$(secs "$t0" "$t1"); fs_out_r=$(rate "$t0" "$t1"); fs_out_rss=$(hwm "$PID")
cmp "$W/big" "$MNT/containers/$C/objects/big"
umount_fs
t0=$(now); swift upload --use-slo -S $SEG --object-name big2 $C "$W/big" >/dev/null; t1=$(now)
sw_in=$(secs "$t0" "$t1"); sw_in_r=$(rate "$t0" "$t1")
t0=$(now); swift download -o /dev/null $C big2 >/dev/null; t1=$(now)
sw_out=$(secs "$t0" "$t1"); sw_out_r=$(rate "$t0" "$t1")
# curl: one PUT when the file fits in max_file_size (else Swift answers 413: bench/transfer.sh
# times curl's segments and manifest), and the GET of the swift client's large object.
tok
if [ $((SIZE_MIB << 20)) -le "$MAXF" ]; then
	t0=$(now); cu_in_code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" -T "$W/big" "$URL/$C/big3"); t1=$(now)
	cu_in=$(secs "$t0" "$t1"); cu_in_r=$(rate "$t0" "$t1")
fi
t0=$(now); cu_out_code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$URL/$C/big2"); t1=$(now)
cu_out=$(secs "$t0" "$t1"); cu_out_r=$(rate "$t0" "$t1")
echo "curl: PUT ${cu_in_code:-(past max_file_size, not run)}, GET $cu_out_code" >&2
rm -f "$W/back"

# ---- ls -l of 10,000 objects -------------------------------------------------------------
echo "making 10,000 objects (swift upload, 32 threads)..." >&2
mkdir -p "$W/ten/d"
(cd "$W/ten/d" && for i in $(seq -w 1 10000); do printf '%s' "$i" >"o$i"; done)
swift post $C-ls >/dev/null
(cd "$W/ten" && swift upload --object-threads 32 $C-ls d >/dev/null)
tok
for _ in $(seq 60); do
	n=$(curl -s -H "X-Auth-Token: $TOKEN" "$URL/$C-ls?format=json&prefix=d/&delimiter=/&limit=10000" |
		python3 -c 'import json,sys
try: print(len(json.load(sys.stdin)))
except ValueError: print(0)')
	[ "$n" = 10000 ] && break
	sleep 2
done
tok
t0=$(now)
pages=0 marker=""
while :; do
	body=$(curl -s -H "X-Auth-Token: $TOKEN" "$URL/$C-ls?format=json&delimiter=/&prefix=d/&limit=10000$marker")
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
	echo "devcloud Swift 2.30 on this machine; ${SIZE_MIB} MiB file; part size $SEG bytes (cloudfs and swift; max_file_size $MAXF)."

	echo
	echo "| transfer | cloudfs | swift client | curl | cloudfs / curl | cloudfs peak RSS (fresh mount each way) |"
	echo "|---|---|---|---|---|---|"
	if [ -n "${cu_in_code:-}" ]; then
		echo "| in (cp / swift upload --use-slo / curl -T, HTTP ${cu_in_code}) | ${fs_in} s, ${fs_in_r} MiB/s | ${sw_in} s, ${sw_in_r} MiB/s | ${cu_in} s, ${cu_in_r} MiB/s | $(python3 -c "print(f'{${fs_in_r}/${cu_in_r}:.2f}')")× | ${fs_in_rss} MiB |"
	else
		echo "| in (cp / swift upload --use-slo; one curl PUT is past max_file_size: see bench/transfer.sh) | ${fs_in} s, ${fs_in_r} MiB/s | ${sw_in} s, ${sw_in_r} MiB/s | | | ${fs_in_rss} MiB |"
	fi
	echo "| out (cat > /dev/null / swift download -o /dev/null / curl -o /dev/null of the swift client's object, HTTP ${cu_out_code}) | ${fs_out} s, ${fs_out_r} MiB/s | ${sw_out} s, ${sw_out_r} MiB/s | ${cu_out} s, ${cu_out_r} MiB/s | $(python3 -c "print(f'{${fs_out_r}/${cu_out_r}:.2f}')")× | ${fs_out_rss} MiB |"
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
