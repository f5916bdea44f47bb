#!/bin/bash
# The data path against curl on devcloud, in interleaved rounds (issues 15 and 18): image and
# Swift object download and upload, and `ls -l` of a 10,000-object directory. Each round runs
# every contender once, one after the other (curl, then each cloudfs binary, each on a fresh
# mount), so a busy neighbour on this shared 2-vCPU machine slows them alike; the report gives
# medians over the rounds, the load average of each round, and cloudfs's peak RSS. Measures and
# reports; never asserts. Needs devcloud up (contrib/devcloud/up.sh).
#
#   bench/transfer.sh [--mib M] [--rounds R] [--only LIST] [--bin LABEL=PATH]...
#     --mib M       transfer size (default 1024)
#     --rounds R    interleaved rounds (default 3); medians are reported
#     --only LIST   any of get,put,ls (default all three)
#     --ls-container NAME  list this container's d/ (10,000 objects already there) instead of making one
#     --bin L=P     a cloudfs binary to measure, labelled L (repeatable; default cloudfs=build/cloudfs),
#                   e.g. --bin main=/tmp/main/build/cloudfs --bin new=build/cloudfs
#   Output: bench/results/transfer-<UTC time>.md (and .tsv with every sample).
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=1024 ROUNDS=3 ONLY=get,put,ls LSC=
BINS=()
while [ $# -gt 0 ]; do
	case $1 in
	--mib) MIB=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--bin) BINS+=("$2"); shift 2 ;;
	--ls-container) LSC=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ ${#BINS[@]} -gt 0 ] || BINS=("cloudfs=$PWD/build/cloudfs")
has() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

STATE=${DEVCLOUD_STATE:-/var/tmp/cloudfs-devcloud}
# shellcheck disable=SC1091
set -a; . "$STATE/openrc.demo"; set +a
STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
OUT=bench/results/transfer-$STAMP
W=$(mktemp -d /var/tmp/cloudfs-xferbench.XXXXXX)
SHM=$W
[ "$(df --output=avail -k /dev/shm | tail -1)" -gt $((MIB * 1024 * 3)) ] && SHM=$(mktemp -d /dev/shm/cloudfs-xferbench.XXXXXX)
C=xferbench-$$
LSC=${LSC:-$C-ls}
TSV=$OUT.tsv
MNT=$W/mnt
mkdir -p "$MNT" bench/results
: >"$TSV"

tok() { TOKEN=$(openstack token issue -f value -c id); }
endpoint() {
	openstack catalog show "$1" -f json |
		python3 -c 'import json,sys; print([e["url"] for e in json.load(sys.stdin)["endpoints"] if e["interface"]=="public"][0])'
}
tok
GLANCE=$(endpoint image)
SWIFT=$(endpoint object-store)
MAXFILE=$(curl -s "${SWIFT%%/v1/*}/info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["swift"]["max_file_size"])')
SEG=$((MAXFILE < (1 << 30) ? MAXFILE : 1 << 30))
PID=

cleanup() {
	[ -n "$PID" ] && { fusermount3 -u "$MNT" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
	for c in "$C" "$C-ls" "${C}_segments" "$C-curlseg"; do swift delete "$c" >/dev/null 2>&1 || true; done
	for id in $(curl -s -H "X-Auth-Token: $TOKEN" "$GLANCE/v2/images?limit=1000" |
		jq -r ".images[] | select(.name | startswith(\"$C-\")) | .id"); do
		curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$GLANCE/v2/images/$id"
	done
	rm -rf "$W" "$SHM"
}
trap 'tok; cleanup' EXIT

now() { date +%s.%N; }
# sample SCENARIO CONTENDER SECONDS [RSS_MIB] [REQUESTS] [CPU_S]
sample() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" "${4:-}" "${5:-}" "${6:-}" >>"$TSV"; }
mount_fs() {
	"$1" -f -o cache_ttl=60 "$MNT" 2>>"$W/cloudfs.log" &
	PID=$!
	for _ in $(seq 200); do mountpoint -q "$MNT" && return 0; sleep 0.05; done
	echo "cloudfs did not mount" >&2
	exit 1
}
umount_fs() { fusermount3 -u "$MNT"; wait "$PID" || true; PID=; }
hwm() { awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$PID/status"; }
# cloudfs's CPU seconds so far (user + system, all threads): on this shared machine a steadier
# measure of what cloudfs adds than the wall time, which neighbours' load moves.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$PID/stat"; }
requests() { awk '/^requests/{print $2}' "$MNT/.cloudfs/status"; }

echo "building a $MIB MiB file in $SHM..." >&2
head -c $((MIB << 20)) /dev/urandom >"$SHM/big"
swift post "$C" >/dev/null
# The objects every download reads: one image (curl POST + PUT) and one Swift object (a Static
# Large Object when bigger than max_file_size, as cloudfs and `swift upload --use-slo` make it).
curl_image_put() { # NAME -> prints the id
	local id
	id=$(curl -s -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
		-d "{\"name\":\"$1\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" "$GLANCE/v2/images" | jq -r .id)
	curl -s -o /dev/null -X PUT -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/octet-stream' \
		-T "$SHM/big" "$GLANCE/v2/images/$id/file"
	echo "$id"
}
# Swift's own way past max_file_size: the segments PUT by one curl (one connection), then the
# manifest. The segments are cut beforehand (untimed) so curl reads each from a file.
if [ "$MIB" -gt $((SEG >> 20)) ]; then
	mkdir -p "$SHM/seg"
	split -a 4 -d -b "$SEG" "$SHM/big" "$SHM/seg/s"
fi
curl_swift_put() { # OBJECT
	if [ ! -d "$SHM/seg" ]; then
		curl -s -o /dev/null -X PUT -H "X-Auth-Token: $TOKEN" -T "$SHM/big" "$SWIFT/$C/$1"
		return
	fi
	local files
	files=$(cd "$SHM/seg" && ls | paste -sd,)
	curl -s -o /dev/null -H "X-Auth-Token: $TOKEN" -T "$SHM/seg/{$files}" "$SWIFT/$C-curlseg/$1/"
	(cd "$SHM/seg" && for f in *; do
		printf '{"path":"%s/%s/%s","size_bytes":%d}\n' "$C-curlseg" "$1" "$f" "$(stat -c %s "$f")"
	done) | jq -s . >"$W/manifest.json"
	curl -s -o /dev/null -X PUT -H "X-Auth-Token: $TOKEN" -T "$W/manifest.json" \
		"$SWIFT/$C/$1?multipart-manifest=put"
}
swift post "$C-curlseg" >/dev/null
if has get; then
	echo "uploading the objects the downloads read..." >&2
	IID=$(curl_image_put "$C-get")
	curl_swift_put get
	# Swift's container listing may lag its objects on a busy machine: cloudfs finds the
	# object through the listing, so wait until it shows.
	for _ in $(seq 120); do swift list "$C" | grep -qx get && break; sleep 1; done
fi

# ls -l: 10,000 objects under d/ (swift upload, 16 threads), listed until Swift shows them all.
if has ls && [ "$LSC" = "$C-ls" ]; then
	echo "making 10,000 objects..." >&2
	mkdir -p "$W/ten/d"
	(cd "$W/ten/d" && for i in $(seq -w 1 10000); do printf '%s' "$i" >"o$i"; done)
	swift post "$LSC" >/dev/null
	(cd "$W/ten" && swift upload --object-threads 16 "$LSC" d >/dev/null)
	rm -rf "$W/ten"
fi
curl_ls() { # prints the page count
	local pages=0 marker="" body last
	while :; do
		# --retry: a busy Swift answers 503 now and then; cloudfs retries those too.
		body=$(curl -sf --retry 3 -H "X-Auth-Token: $TOKEN" "$SWIFT/$LSC?format=json&delimiter=/&prefix=d/&limit=10000$marker")
		pages=$((pages + 1))
		last=$(printf '%s' "$body" | jq -r '.[-1].name // empty')
		[ -z "$last" ] && break
		marker="&marker=$(printf '%s' "$last" | jq -sRr @uri)"
	done
	echo "$pages"
}

for ROUND in $(seq "$ROUNDS"); do
	# Each round starts with another binary: an upload right after another is slowed by the
	# cloud's write-back of the last one, which a fixed order would charge to the same binary.
	ORDER=()
	for i in "${!BINS[@]}"; do ORDER+=("${BINS[$(((i + ROUND - 1) % ${#BINS[@]}))]}"); done
	tok
	echo "round $ROUND/$ROUNDS, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	sample load "-" "$(cut -d' ' -f1 /proc/loadavg)"
	if has get; then
		tok # devcloud's tokens are short: a fresh one before each timed curl
		t0=$(now); curl -s -o /dev/null -H "X-Auth-Token: $TOKEN" "$GLANCE/v2/images/$IID/file"; t1=$(now)
		sample image-get curl "$(echo "$t1 - $t0" | bc)"
		tok
		t0=$(now); curl -s -o /dev/null -H "X-Auth-Token: $TOKEN" "$SWIFT/$C/get"; t1=$(now)
		sample swift-get curl "$(echo "$t1 - $t0" | bc)"
		for b in "${ORDER[@]}"; do
			mount_fs "${b#*=}"
			t0=$(now); cat "$MNT/images/$IID/data" >/dev/null; t1=$(now)
			sample image-get "${b%%=*}" "$(echo "$t1 - $t0" | bc)" "$(hwm)" "" "$(cpu)"
			umount_fs
			mount_fs "${b#*=}"
			t0=$(now); cat "$MNT/containers/$C/objects/get" >/dev/null; t1=$(now)
			sample swift-get "${b%%=*}" "$(echo "$t1 - $t0" | bc)" "$(hwm)" "" "$(cpu)"
			umount_fs
		done
	fi
	if has put; then
		sync
		tok
		t0=$(now); id=$(curl_image_put "$C-put-curl-$ROUND"); t1=$(now)
		sample image-put curl "$(echo "$t1 - $t0" | bc)"
		curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$GLANCE/v2/images/$id"
		sync
		tok
		t0=$(now); curl_swift_put "put-curl-$ROUND"; t1=$(now)
		sample swift-put curl "$(echo "$t1 - $t0" | bc)"
		for b in "${ORDER[@]}"; do
			l=${b%%=*}
			mount_fs "${b#*=}"
			sync
			t0=$(now); cp "$SHM/big" "$MNT/images/$C-put-$l-$ROUND"; t1=$(now)
			sample image-put "$l" "$(echo "$t1 - $t0" | bc)" "$(hwm)" "" "$(cpu)"
			umount_fs
			mount_fs "${b#*=}"
			sync
			t0=$(now); cp "$SHM/big" "$MNT/containers/$C/objects/put-$l-$ROUND"; t1=$(now)
			sample swift-put "$l" "$(echo "$t1 - $t0" | bc)" "$(hwm)" "" "$(cpu)"
			umount_fs
		done
		# The images and objects of this round go (untimed), so Glance's disk does not fill.
		tok
		for id in $(curl -s -H "X-Auth-Token: $TOKEN" "$GLANCE/v2/images?limit=1000" |
			jq -r ".images[] | select(.name | startswith(\"$C-put\")) | .id"); do
			curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$GLANCE/v2/images/$id"
		done
		for o in $(swift list "$C" | grep '^put-'); do swift delete "$C" "$o" >/dev/null; done
	fi
	if has ls; then
		tok
		t0=$(now); pages=$(curl_ls); t1=$(now)
		sample ls curl "$(echo "$t1 - $t0" | bc)" "" "$pages"
		for b in "${ORDER[@]}"; do
			mount_fs "${b#*=}"
			ls "$MNT/containers/$LSC/objects" >/dev/null
			r0=$(requests)
			t0=$(now); n=$(ls -l "$MNT/containers/$LSC/objects/d" | wc -l); t1=$(now)
			sample ls "${b%%=*}" "$(echo "$t1 - $t0" | bc)" "$(hwm)" "$(($(requests) - r0))"
			t0=$(now); ls -l "$MNT/containers/$LSC/objects/d" >/dev/null; t1=$(now)
			sample ls-warm "${b%%=*}" "$(echo "$t1 - $t0" | bc)" "$(hwm)" "$(($(requests) - r0))"
			[ "$n" = 10001 ] || echo "ls -l listed $((n - 1)) objects" >&2
			umount_fs
		done
	fi
done

# The report: medians per scenario and contender, ratios against curl.
python3 - "$TSV" "$MIB" "$ROUNDS" "$SEG" "${BINS[@]}" >"$OUT.md" <<'EOF'
import statistics, sys, subprocess, os
tsv, mib, rounds, seg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
labels = [b.split("=", 1)[0] for b in sys.argv[5:]]
rows = [l.rstrip("\n").split("\t") for l in open(tsv) if l.strip()]
def col(scn, who, i):
    return [float(r[i]) for r in rows if r[1] == scn and r[2] == who and len(r) > i and r[i] != ""]
def med(scn, who, i=3):
    v = col(scn, who, i)
    return statistics.median(v) if v else None
loads = col("load", "-", 3)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print(f"# Data path against curl ({os.path.basename(tsv)[:-4]}, {commit})\n")
print(f"devcloud on this machine; {mib} MiB random file on tmpfs; {rounds} interleaved rounds, medians; "
      f"load average (1 min) at each round: {', '.join(f'{l:.2f}' for l in loads)}; "
      f"Swift max_file_size {seg} bytes (segments of that size, for cloudfs and curl alike).\n")
print("| transfer | curl s | " + " | ".join(f"{l} s | {l} / curl | {l} RSS MiB | {l} CPU s" for l in labels) + " |")
print("|---|---|" + "---|---|---|---|" * len(labels))
names = {"image-get": "image download: cat images/ID/data >/dev/null vs curl -o /dev/null (≥ 0.95×)",
         "swift-get": "Swift download: cat objects/get >/dev/null vs curl -o /dev/null of the same object (≥ 0.9×)",
         "image-put": "image upload: cp FILE images/ vs curl POST + PUT -T (≥ 0.95×)",
         "swift-put": "Swift upload: cp FILE objects/ vs curl -T of the segments + manifest (≥ 0.9×)"}
for scn, name in names.items():
    c = med(scn, "curl")
    if c is None:
        continue
    cells = []
    for l in labels:
        m = med(scn, l)
        cpu = med(scn, l, 6)
        cells += [f"{m:.2f}" if m else "", f"{c / m:.2f}×" if m else "", f"{med(scn, l, 4) or 0:.1f}",
                  f"{cpu:.2f}" if cpu is not None else ""]
    print(f"| {name} | {c:.2f} | " + " | ".join(cells) + " |")
c = med("ls", "curl")
if c is not None:
    print("\n| ls -l of 10,000 objects | curl + jq of the pages | " +
          " | ".join(f"{l} cold | {l} / curl (≤ 1.25×) | {l} requests | {l} warm" for l in labels) + " |")
    print("|---|---|" + "---|---|---|---|" * len(labels))
    cells = []
    for l in labels:
        m, w = med("ls", l), med("ls-warm", l)
        cells += [f"{m:.2f} s", f"{m / c:.2f}×", f"{med('ls', l, 5):.0f}", f"{w:.2f} s"]
    print(f"| s (requests = pages: {med('ls', 'curl', 5):.0f}) | {c:.2f} s | " + " | ".join(cells) + " |")
print("\nCPU s: cloudfs's user + system seconds over the transfer (all its threads, from its mount).")
print("\nEvery sample (round, scenario, contender, seconds, RSS MiB, requests, CPU s) is in the .tsv beside this file.")
EOF
cat "$OUT.md"
