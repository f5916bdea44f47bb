#!/bin/bash
# bench/run.sh -- the cloudfs benchmark (issue 5).  It measures and reports; it never asserts.
# Every timing is set against baselines (raw curl, the openstack CLI) measured in the same run.
# See bench/README.md.  Usage: bench/run.sh [--quick] [--fake-only] [--sizes 100,1000,10000]
#   [--latency 0,50,200] [--skip N:L,...] [--repeat R] [--transfer-mib M] [--loop-samples K]
#   [--devcloud-servers N] [--out DIR]
set -u -o pipefail
shopt -s nullglob

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CLOUDFS=$ROOT/build/cloudfs
FAKE=$ROOT/tests/fake/fake_openstack.py
PY=/usr/bin/python3
DEVSTATE=${DEVCLOUD_STATE:-/var/tmp/cloudfs-devcloud}

SIZES=100,1000,10000
LATS=0,50,200
SKIP=""
REPEAT=3
XFER_MIB=1024
LOOP_N=20
DEV_SERVERS=0
FAKE_ONLY=0
QUICK=0
OUT=""
ARGS=("$@")
XDIR=""                       # scenario 3's files in tmpfs, removed at exit

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1; SIZES=100,1000; LATS=0; REPEAT=1; XFER_MIB=100; LOOP_N=5 ;;
        --fake-only) FAKE_ONLY=1 ;;
        --sizes) SIZES=$2; shift ;;
        --latency) LATS=$2; shift ;;
        --skip) SKIP=$2; shift ;;
        --repeat) REPEAT=$2; shift ;;
        --transfer-mib) XFER_MIB=$2; shift ;;
        --loop-samples) LOOP_N=$2; shift ;;
        --devcloud-servers) DEV_SERVERS=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h|--help) usage 0 ;;
        *) echo "run.sh: unknown option $1" >&2; usage 2 ;;
    esac
    shift
done
IFS=, read -r -a SIZE_LIST <<<"$SIZES"
IFS=, read -r -a LAT_LIST <<<"$LATS"
FIRST_LAT=${LAT_LIST[0]}
# the size the per-cloud scenarios 2, 4, 5 use on the fake: 1000 if asked for, else the first
MID=${SIZE_LIST[0]}; for n in "${SIZE_LIST[@]}"; do [ "$n" = 1000 ] && MID=1000; done

STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
OUT=${OUT:-$HERE/results/$STAMP}
mkdir -p "$OUT/logs"
TMP=$(mktemp -d /tmp/cloudfs-bench.XXXXXX)
T_START=${EPOCHREALTIME/./}

# ------------------------------------------------------------------------------------ helpers
say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; echo "$(date -u +%H:%M:%S) $*" >>"$OUT/logs/progress.log"; }
cmdlog() { echo "$*" >>"$OUT/commands.log"; }
now() { echo "${EPOCHREALTIME/./}"; }                     # microseconds
el() { local d=$(( ${EPOCHREALTIME/./} - $1 )); printf -v ELAPSED '%d.%d' $((d / 1000)) $((d % 1000 / 100)); }   # ms since $1, no fork
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }   # µs stamps -> ms
calc() { awk "BEGIN { printf \"$1\", $2 }"; }              # calc FORMAT EXPR
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mark() { if [ "$(awk "BEGIN { print ($1) ? 1 : 0 }")" = 1 ]; then echo "✓"; else echo "✗"; fi; }
target() { printf '%s\t| %s | %s | %s | %s |\n' "${TKEY:-9}" "$1" "$2" "$3" "$4" >>"$TMP/targets.md"; }

CFS_PID=""
MNT=$TMP/mnt
FAKE_PID=""
CTX=""                  # fake | devcloud
CREATED_IMAGES=()
CREATED_SERVERS=0

cleanup() {
    set +e
    [ -n "$XDIR" ] && rm -rf "$XDIR"
    mountpoint -q "$MNT" 2>/dev/null && { fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"; }
    mountpoint -q "$TMP/floor" 2>/dev/null && fusermount3 -uz "$TMP/floor"
    [ -n "$CFS_PID" ] && kill "$CFS_PID" 2>/dev/null
    stop_fake
    if [ ${#CREATED_IMAGES[@]} -gt 0 ] && [ "$CTX" = devcloud ]; then
        get_token >/dev/null 2>&1
        for id in "${CREATED_IMAGES[@]}"; do curl -s -o /dev/null -X DELETE -H @"$TMP/hdr" "$IMAGE_URL/v2/images/$id"; done
    fi
    if [ "$CREATED_SERVERS" -gt 0 ]; then delete_devcloud_servers; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

mount_cfs() {                 # mount_cfs [cloudfs options]: fresh mount at $MNT, pid in CFS_PID
    mkdir -p "$MNT"
    "$CLOUDFS" -f "$@" "$MNT" 2>>"$OUT/logs/cloudfs-$CTX.log" &
    CFS_PID=$!
    local i
    for i in $(seq 400); do
        mountpoint -q "$MNT" && return 0
        kill -0 "$CFS_PID" 2>/dev/null || { CFS_PID=""; say "cloudfs did not mount (see logs/cloudfs-$CTX.log)"; return 1; }
        sleep 0.05
    done
    say "cloudfs mount timed out"; return 1
}
umount_cfs() {
    fusermount3 -u "$MNT" 2>/dev/null || { sleep 0.5; fusermount3 -u "$MNT" 2>/dev/null; } || fusermount3 -uz "$MNT"
    wait "$CFS_PID" 2>/dev/null
    CFS_PID=""
}
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$CFS_PID/status"; }
cfs_requests() { awk '$1 == "requests" { print $2 }' "$MNT/.cloudfs/status"; }
# The mount's startup scan (earlier leftovers, Swift's /info) makes requests of its own: counting
# starts once .cloudfs/status says it is done (at most 10 s).
scan_done() { local i; for i in $(seq 200); do grep -q '^startup_scan done' "$MNT/.cloudfs/status" && return 0; sleep 0.05; done; }

# ------------------------------------------------------------------------------------ clouds
stop_fake() {
    if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=""; fi
}
start_fake() {                # start_fake N LATENCY_MS
    stop_fake
    rm -f "$TMP/fake.port"
    cmdlog "$PY $FAKE --port 0 --port-file PORTFILE --servers $1 --latency-ms $2 --quiet"
    local t0; t0=${EPOCHREALTIME/./}
    "$PY" "$FAKE" --port 0 --port-file "$TMP/fake.port" --servers "$1" --latency-ms "$2" --quiet \
        >"$OUT/logs/fake-$1-$2.log" 2>&1 &
    FAKE_PID=$!
    local i
    for i in $(seq 1200); do
        if [ -s "$TMP/fake.port" ]; then
            FAKE_URL=http://127.0.0.1:$(cat "$TMP/fake.port")
            curl -sf "$FAKE_URL/_fake/ping" >/dev/null 2>&1 && break
        fi
        kill -0 "$FAKE_PID" 2>/dev/null || { say "fake did not start"; return 1; }
        sleep 0.05
    done
    say "fake cloud: $1 servers, ${2} ms latency, up in $(ms "$t0" "${EPOCHREALTIME/./}") ms at $FAKE_URL"
    CTX=fake
    unset OS_CLOUD OS_TOKEN OS_AUTH_TYPE OS_CLIENT_CONFIG_FILE
    export OS_AUTH_URL=$FAKE_URL/identity/v3 OS_USERNAME=demo OS_PASSWORD=demo OS_PROJECT_NAME=demo \
        OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=RegionOne \
        OS_INTERFACE=public OS_IDENTITY_API_VERSION=3
    # The CLI probes Glance's version document at /image, which the fake does not serve; a
    # clouds.yaml with an image endpoint override + API version skips that discovery.
    cat >"$TMP/clouds.yaml" <<EOF
clouds:
  fake:
    auth: {auth_url: "$FAKE_URL/identity/v3", username: demo, password: demo, project_name: demo,
           user_domain_name: Default, project_domain_name: Default}
    region_name: RegionOne
    interface: public
    identity_api_version: 3
    image_api_version: '2'
    image_endpoint_override: "$FAKE_URL/image"
EOF
}
use_devcloud() {
    stop_fake
    CTX=devcloud
    unset OS_CLOUD OS_TOKEN OS_AUTH_TYPE OS_CLIENT_CONFIG_FILE
    # shellcheck disable=SC1091
    . "$DEVSTATE/openrc.demo"
}
devcloud_up() { [ -f "$DEVSTATE/openrc.demo" ] && curl -sf -m 5 -o /dev/null http://127.0.0.1:5000/v3; }
fake_clear() { curl -sf -X DELETE "$FAKE_URL/_fake/requests" >/dev/null; }
fake_log() { curl -sf "$FAKE_URL/_fake/requests"; }

cli() {                       # the openstack CLI against the current cloud
    if [ "$CTX" = fake ]; then
        env -u OS_AUTH_URL -u OS_USERNAME -u OS_PASSWORD -u OS_PROJECT_NAME -u OS_USER_DOMAIN_NAME \
            -u OS_PROJECT_DOMAIN_NAME -u OS_REGION_NAME -u OS_INTERFACE -u OS_IDENTITY_API_VERSION \
            OS_CLIENT_CONFIG_FILE="$TMP/clouds.yaml" OS_CLOUD=fake openstack "$@"
    else
        openstack "$@"
    fi
}

pyos() {                      # bench/sdk_list.py [--reuse-token] sdk|cli ARGS against the current cloud
    if [ "$CTX" = fake ]; then
        env -u OS_AUTH_URL -u OS_USERNAME -u OS_PASSWORD -u OS_PROJECT_NAME -u OS_USER_DOMAIN_NAME \
            -u OS_PROJECT_DOMAIN_NAME -u OS_REGION_NAME -u OS_INTERFACE -u OS_IDENTITY_API_VERSION \
            OS_CLIENT_CONFIG_FILE="$TMP/clouds.yaml" OS_CLOUD=fake "$PY" "$HERE/sdk_list.py" "$@"
    else
        "$PY" "$HERE/sdk_list.py" "$@"
    fi
}

get_token() {                 # token (once) + endpoints from the catalog; header file $TMP/hdr
    ( umask 077
      jq -n --arg u "$OS_USERNAME" --arg p "$OS_PASSWORD" --arg pr "$OS_PROJECT_NAME" \
          --arg ud "$OS_USER_DOMAIN_NAME" --arg pd "$OS_PROJECT_DOMAIN_NAME" \
          '{auth: {identity: {methods: ["password"], password: {user: {name: $u, password: $p, domain: {name: $ud}}}},
                   scope: {project: {name: $pr, domain: {name: $pd}}}}}' >"$TMP/auth.json"
      curl -sf -D "$TMP/auth.hdr" -o "$TMP/auth.out" -H 'Content-Type: application/json' \
          -d @"$TMP/auth.json" "$OS_AUTH_URL/auth/tokens" || exit 1
      tr -d '\r' <"$TMP/auth.hdr" | awk -F': ' 'tolower($1) == "x-subject-token" { print "X-Auth-Token: " $2 }' >"$TMP/hdr" )
    ep() { jq -r --arg t "$1" --arg r "${OS_REGION_NAME:-RegionOne}" \
        'first(.token.catalog[] | select(.type == $t) | .endpoints[] | select(.interface == "public" and .region_id == $r) | .url)' "$TMP/auth.out"; }
    COMPUTE_URL=$(ep compute); IMAGE_URL=$(ep image)
    [ -s "$TMP/hdr" ]
}

curl_listing() {              # the baseline: paginated /servers/detail?limit=1000, token reused
    local url="$COMPUTE_URL/servers/detail?limit=1000" pages=0 count=0 n next
    : >"$TMP/ids"
    while [ -n "$url" ]; do
        curl -sf -H @"$TMP/hdr" -o "$TMP/page.json" "$url" || { echo "0 0"; return 1; }
        pages=$((pages + 1))
        IFS=$'\t' read -r n next < <(jq -r '[(.servers | length), (first((.servers_links // [])[] | select(.rel == "next") | .href) // "")] | @tsv' "$TMP/page.json")
        jq -r '.servers[].id' "$TMP/page.json" >>"$TMP/ids"
        count=$((count + n))
        url=$next
    done
    echo "$pages $count"
}

# ------------------------------------------------------------------------------------ scenario 1
S1_TSV=$OUT/listing.tsv
echo -e "cloud\tN\tservers\tlatency_ms\tpages\tcurl_ms\tcold_ms\tcold_requests\twarm_ms\twarm_requests\tcli_ms\tcli_lines\thwm_kib\tcold_requests_fake_log\tcli_reuse_ms\tsdk_ms\tsdk_reuse_ms\tsdk_lines\tloadavg\trss_warm_kib\ttmpfs_ms\tstatuses_read" >"$S1_TSV"

# printf is a shell builtin and xargs splits: \`cat servers/*/status\` itself fails with E2BIG
# from ~35,000 servers (the kernel's limit on exec's arguments), this works at any N.
# xargs gives cat /dev/null as its stdin itself: a `</dev/null` here would be xargs's own input,
# and it would run one `cat` of nothing (runs before 2026-12-07 timed exactly that: no status read).
listing_cmd() { ( cd "$1" && ls -l servers/ >/dev/null && printf '%s\0' servers/*/status | xargs -0 cat >/dev/null ); }
# untimed: how many status files the same command reads (one line each), to check the timed one
listing_reads() { ( cd "$1" && printf '%s\0' servers/*/status | xargs -0 cat | wc -l ); }
cold_warm_cmd() { listing_cmd "$MNT"; }

scenario1() {                 # scenario1 N LAT (current cloud)
    local N=$1 L=$2 reps=$REPEAT r t0 out pages=0 count=0
    [ "$N" -ge 10000 ] && reps=1
    local fake_q="-" curl_t=() cold_t=() warm_t=() cli_t=() cold_q=() warm_q=() hwm=() cli_lines=0
    local clir_t=() sdk_t=() sdkr_t=() sdk_lines=0 rssw=() load0 tm_t=() shm="" reads="-"
    get_token || { say "no token"; return 1; }
    cmdlog "curl -H 'X-Auth-Token: \$TOKEN' '$COMPUTE_URL/servers/detail?limit=1000'  # then each servers_links next, jq for the link"
    cmdlog "cloudfs -f -o cache_ttl=600 MNT; cd MNT; ls -l servers/ >/dev/null; printf '%s\\0' servers/*/status | xargs -0 cat >/dev/null  # cold, then again warm, then 3 more warm (RSS)"
    cmdlog "openstack server list --limit -1 -f value -c ID -c Status"
    cmdlog "bench/sdk_list.py --reuse-token cli server list --limit -1 -f value -c ID -c Status  # the CLI, its token reused as with normal-lifetime tokens"
    cmdlog "bench/sdk_list.py sdk  # openstack.connect().compute.servers(): id and status; again with --reuse-token"
    load0=$(cut -d' ' -f1 /proc/loadavg)
    for r in $(seq "$reps"); do
        t0=${EPOCHREALTIME/./}; out=$(curl_listing); el "$t0"; curl_t+=("$ELAPSED")
        read -r pages count <<<"$out"
        # tmpfs over the same names, timed right after cloudfs's warm run of each repetition: the
        # machine's load moves both alike (the floor rows below measure it once, apart)
        if [ -z "$shm" ] && [ "$count" -gt 0 ]; then
            shm=$(mktemp -d /dev/shm/cloudfs-s1.XXXXXX)
            ( cd "$shm" && mkdir servers && cd servers && xargs mkdir <"$TMP/ids" && for d in *; do echo ACTIVE >"$d/status"; done )
            listing_cmd "$shm"
        fi
        mount_cfs -o cache_ttl=600 || return 1
        scan_done
        local q0; q0=$(cfs_requests)
        [ "$CTX" = fake ] && fake_clear
        t0=${EPOCHREALTIME/./}; cold_warm_cmd; el "$t0"; cold_t+=("$ELAPSED")
        local q1; q1=$(cfs_requests); cold_q+=($((q1 - q0)))
        fake_q="-"; [ "$CTX" = fake ] && fake_q=$(fake_log | jq '[.[] | select(.service != "identity")] | length')
        t0=${EPOCHREALTIME/./}; cold_warm_cmd; el "$t0"; warm_t+=("$ELAPSED")
        local q2; q2=$(cfs_requests); warm_q+=($((q2 - q1)))
        hwm+=("$(hwm_kib)")
        if [ -n "$shm" ]; then t0=${EPOCHREALTIME/./}; listing_cmd "$shm"; el "$t0"; tm_t+=("$ELAPSED"); fi
        # RSS must stay flat over warm runs that fetch nothing
        local k; for k in 1 2 3; do cold_warm_cmd; done
        rssw+=("$(awk '/^VmRSS/ { print $2 }' "/proc/$CFS_PID/status")")
        reads=$(listing_reads "$MNT")
        umount_cfs
        t0=${EPOCHREALTIME/./}; cli_lines=$(cli server list --limit -1 -f value -c ID -c Status 2>>"$OUT/logs/cli.log" | wc -l)
        el "$t0"; cli_t+=("$ELAPSED")
        t0=${EPOCHREALTIME/./}; pyos --reuse-token cli server list --limit -1 -f value -c ID -c Status 2>>"$OUT/logs/cli.log" >/dev/null
        el "$t0"; clir_t+=("$ELAPSED")
        t0=${EPOCHREALTIME/./}; sdk_lines=$(pyos sdk 2>>"$OUT/logs/cli.log" | wc -l)
        el "$t0"; sdk_t+=("$ELAPSED")
        t0=${EPOCHREALTIME/./}; pyos --reuse-token sdk 2>>"$OUT/logs/cli.log" >/dev/null
        el "$t0"; sdkr_t+=("$ELAPSED")
    done
    [ -n "$shm" ] && rm -rf "$shm"
    [ "$reads" != "-" ] && [ "$reads" != "$count" ] && say "listing $CTX N=$N: the timed command read $reads statuses of $count"
    # the fake's own log cross-checks cloudfs's counter on the last repetition (GETs after mount)
    local row
    row=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$CTX" "$N" "$count" "$L" "$pages" \
        "$(median "${curl_t[@]}")" "$(median "${cold_t[@]}")" "$(median "${cold_q[@]}")" \
        "$(median "${warm_t[@]}")" "$(median "${warm_q[@]}")" "$(median "${cli_t[@]}")" "$cli_lines" \
        "$(median "${hwm[@]}")" "$fake_q")
    row+=$(printf '\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$(median "${clir_t[@]}")" "$(median "${sdk_t[@]}")" \
        "$(median "${sdkr_t[@]}")" "$sdk_lines" "$load0-$(cut -d' ' -f1 /proc/loadavg)" "$(median "${rssw[@]}")" \
        "$( [ ${#tm_t[@]} -gt 0 ] && median "${tm_t[@]}" || echo -)" "$reads")
    echo "$row" >>"$S1_TSV"
    say "listing $CTX N=$N L=$L: $row"
}

# ------------------------------------------------------------------------------------ scenario 1's floor
# The same commands over the same names ($TMP/ids of the last listing) where no cloud is involved:
# tmpfs (a kernel filesystem in RAM), and floorfs (bench/floorfs.c), a FUSE filesystem answering
# from memory with cloudfs's kernel settings and workers -- what FUSE itself costs.  Then
# floorfs with no_open: the kernel stops sending OPEN for the whole connection, the one round trip
# per open FUSE lets a filesystem skip (cloudfs needs OPEN: see bench/README.md).
FLOOR_TSV=$OUT/floor.tsv
echo -e "N\ttmpfs_ms\tfloorfs_cold_ms\tfloorfs_warm_ms\tno_open_cold_ms\tno_open_warm_ms" >"$FLOOR_TSV"
FLOORFS=$ROOT/build/bench/floorfs
FLOOR_PID=""
floor_mount() {               # floor_mount [-o no_open]: floorfs at $TMP/floor over $TMP/ids
    mkdir -p "$TMP/floor"
    "$FLOORFS" -f -o names="$TMP/ids" "$@" "$TMP/floor" 2>>"$OUT/logs/floorfs.log" &
    FLOOR_PID=$!
    local i; for i in $(seq 200); do mountpoint -q "$TMP/floor" && return 0; sleep 0.05; done
    say "floorfs did not mount"; return 1
}
floor_umount() { fusermount3 -u "$TMP/floor" 2>/dev/null || fusermount3 -uz "$TMP/floor"; wait "$FLOOR_PID" 2>/dev/null; FLOOR_PID=""; }
floor_run() {                 # floor_run [floorfs options]: "cold warm" ms medians over a fresh mount each
    local r t0 c=() w=()
    for r in $(seq "$1"); do
        floor_mount "${@:2}" || return 1
        t0=${EPOCHREALTIME/./}; listing_cmd "$TMP/floor"; el "$t0"; c+=("$ELAPSED")
        t0=${EPOCHREALTIME/./}; listing_cmd "$TMP/floor"; el "$t0"; w+=("$ELAPSED")
        floor_umount
    done
    echo "$(median "${c[@]}") $(median "${w[@]}")"
}
scenario1_floor() {           # scenario1_floor N
    local N=$1 reps=$REPEAT t0 r tm=() fc fw nc nw shm
    [ "$N" -ge 10000 ] && reps=1
    [ -x "$FLOORFS" ] || { say "no $FLOORFS: no floor rows"; return; }
    [ -s "$TMP/ids" ] || return
    cmdlog "mkdir -p SHM/servers/\$ID; echo ACTIVE > SHM/servers/\$ID/status  # the listing's ids, on tmpfs; then ls -l + cat as above"
    cmdlog "build/bench/floorfs -f -o names=IDS FLOOR; the same ls -l + cat, cold then warm  # fresh mount each; again with -o names=IDS,no_open"
    shm=$(mktemp -d /dev/shm/cloudfs-floor.XXXXXX)
    ( cd "$shm" && mkdir servers && cd servers && xargs mkdir <"$TMP/ids" && for d in *; do echo ACTIVE >"$d/status"; done )
    listing_cmd "$shm"
    for r in $(seq "$reps"); do t0=${EPOCHREALTIME/./}; listing_cmd "$shm"; el "$t0"; tm+=("$ELAPSED"); done
    rm -rf "$shm"
    read -r fc fw < <(floor_run "$reps")
    read -r nc nw < <(floor_run "$reps" -o no_open)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$N" "$(median "${tm[@]}")" "$fc" "$fw" "$nc" "$nw" >>"$FLOOR_TSV"
    say "floor N=$N: tmpfs $(median "${tm[@]}") ms; floorfs cold $fc warm $fw; no_open cold $nc warm $nw"
}

# ------------------------------------------------------------------------------------ scenario 2
S2_ROWS=$TMP/s2.rows
scenario2() {                 # shell loop over LOOP_N sampled ids (from $TMP/ids of the last listing)
    local total; total=$(wc -l <"$TMP/ids")
    [ "$total" -gt 0 ] || { echo "| $CTX $1 | 0 servers: skipped | | | | | | |" >>"$S2_ROWS"; return; }
    local k=$LOOP_N; [ "$total" -lt "$k" ] && k=$total
    awk -v s=$((total / k)) -v k="$k" 'NR % s == 1 % s && c < k { print; c++ }' "$TMP/ids" >"$TMP/sample"
    k=$(wc -l <"$TMP/sample")
    local t0 cold warm clit id
    cmdlog "for id in \$SAMPLE($k); do cat MNT/servers/\$id/status; done  # fresh mount (cold), then again (warm)"
    cmdlog "for id in \$SAMPLE($k); do openstack server show \$id -f value -c status; done"
    mount_cfs -o cache_ttl=60 || return 1
    t0=${EPOCHREALTIME/./}; for id in $(cat "$TMP/sample"); do cat "$MNT/servers/$id/status" >/dev/null; done; el "$t0"; cold=$ELAPSED
    t0=${EPOCHREALTIME/./}; for id in $(cat "$TMP/sample"); do cat "$MNT/servers/$id/status" >/dev/null; done; el "$t0"; warm=$ELAPSED
    umount_cfs
    t0=${EPOCHREALTIME/./}; for id in $(cat "$TMP/sample"); do cli server show "$id" -f value -c status >/dev/null 2>>"$OUT/logs/cli.log"; done
    el "$t0"; clit=$ELAPSED
    local pc pw pl rc rw
    pc=$(calc %.2f "$cold / $k"); pw=$(calc %.3f "$warm / $k"); pl=$(calc %.0f "$clit / $k")
    rc=$(calc %.0f "$clit / $cold"); rw=$(calc %.0f "$clit / $warm")
    echo "| $CTX $1 | $k | $pl | $pc | $rc× | $pw | $rw× | $(mark "$rw >= 500") |" >>"$S2_ROWS"
    echo "$CTX $1	$rw" >>"$TMP/s2.ratios"
    say "loop $CTX $1: cli ${pl} ms/server, cloudfs cold ${pc}, warm ${pw} ms/server"
}

# ------------------------------------------------------------------------------------ scenario 3
S3_ROWS=$TMP/s3.rows
peak_during() {               # peak_during CMD...: run CMD on a fresh mount, print "ms hwm_kib"
    local t0 t1
    t0=${EPOCHREALTIME/./}; "$@"; local rc=$?; el "$t0"
    echo "$ELAPSED $(hwm_kib) $rc"
}
scenario3() {
    local size=$XFER_MIB X=$TMP src name id cid avail
    # Files live in RAM (tmpfs) when there is room, so neither side is timed by the disk's
    # write-back (it made single runs swing by 2x on this VM).
    avail=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
    if [ "${avail:-0}" -gt $(( size * 1024 * 4 + 262144 )) ]; then X=$(mktemp -d /dev/shm/cloudfs-bench.XXXXXX); XDIR=$X; fi
    src=$X/xfer.bin
    say "images: writing $size MiB of /dev/urandom"
    head -c "${size}M" /dev/urandom >"$src"
    get_token || return 1
    name=bench-cfs-$STAMP.bin
    cp "$src" "$X/$name"
    cmdlog "head -c ${size}M /dev/urandom > FILE"
    cmdlog "cloudfs -f MNT; cp FILE MNT/images/  # fresh mount; VmHWM of cloudfs read after"
    cmdlog "curl -X POST $IMAGE_URL/v2/images -d '{\"name\":..., \"disk_format\":\"raw\",\"container_format\":\"bare\"}'; curl -T FILE -H 'Content-Type: application/octet-stream' $IMAGE_URL/v2/images/ID/file"
    cmdlog "cloudfs -f MNT; cp MNT/images/ID/data OUT  # fresh mount"
    cmdlog "curl -o OUT $IMAGE_URL/v2/images/ID/file"
    # cloudfs upload
    mount_cfs || return 1
    read -r up_ms up_hwm up_rc < <(peak_during cp "$X/$name" "$MNT/images/")
    id=$(readlink "$MNT/images/$name")
    umount_cfs
    [ -n "$id" ] && CREATED_IMAGES+=("$id")
    # curl upload
    local body
    body=$(jq -n --arg n "bench-curl-$STAMP.bin" '{name: $n, disk_format: "raw", container_format: "bare"}')
    cid=$(curl -sf -H @"$TMP/hdr" -H 'Content-Type: application/json' -d "$body" "$IMAGE_URL/v2/images" | jq -r .id)
    [ -n "$cid" ] && CREATED_IMAGES+=("$cid")
    local t0; t0=${EPOCHREALTIME/./}
    curl -sf -T "$src" -H @"$TMP/hdr" -H 'Content-Type: application/octet-stream' "$IMAGE_URL/v2/images/$cid/file"
    local cup_ms; el "$t0"; cup_ms=$ELAPSED
    # downloads (of the image cloudfs uploaded)
    mount_cfs || return 1
    read -r down_ms down_hwm down_rc < <(peak_during cp "$MNT/images/$id/data" "$X/dl-cfs.bin")
    umount_cfs
    t0=${EPOCHREALTIME/./}
    curl -sf -H @"$TMP/hdr" -o "$X/dl-curl.bin" "$IMAGE_URL/v2/images/$id/file"
    local cdown_ms; el "$t0"; cdown_ms=$ELAPSED
    local same_c same_u
    cmp -s "$src" "$X/dl-cfs.bin" && same_c=yes || same_c=NO
    cmp -s "$src" "$X/dl-curl.bin" && same_u=yes || same_u=NO
    rm -f "$src" "$X/$name" "$X/dl-cfs.bin" "$X/dl-curl.bin"
    [ "$X" != "$TMP" ] && rmdir "$X" && XDIR=""
    for i in "${CREATED_IMAGES[@]}"; do curl -s -o /dev/null -X DELETE -H @"$TMP/hdr" "$IMAGE_URL/v2/images/$i"; done
    CREATED_IMAGES=()
    local tu tc td tcd ru rd
    tu=$(calc %.1f "$size / ($up_ms / 1000)"); tc=$(calc %.1f "$size / ($cup_ms / 1000)")
    td=$(calc %.1f "$size / ($down_ms / 1000)"); tcd=$(calc %.1f "$size / ($cdown_ms / 1000)")
    ru=$(calc %.2f "$tu / $tc"); rd=$(calc %.2f "$td / $tcd")
    local mu md; mu=$(calc %.1f "$up_hwm / 1024"); md=$(calc %.1f "$down_hwm / 1024")
    {
        echo "| upload ($CTX) | $size | $up_ms | $tu | $cup_ms | $tc | ${ru}× $(mark "$ru >= 0.9") | $mu $(mark "$mu <= 32") | cp rc=$up_rc |"
        echo "| download ($CTX) | $size | $down_ms | $td | $cdown_ms | $tcd | ${rd}× $(mark "$rd >= 0.9") | $md $(mark "$md <= 32") | cp rc=$down_rc; bytes identical: cloudfs $same_c, curl $same_u |"
    } >>"$S3_ROWS"
    local TKEY=3
    target "upload ≥ 0.9× curl throughput ($CTX, $size MiB)" "${ru}× ($tu vs $tc MiB/s)" "$(mark "$ru >= 0.9")" "scenario 3: cp FILE MNT/images/ vs curl -T"
    target "download ≥ 0.9× curl throughput ($CTX, $size MiB)" "${rd}× ($td vs $tcd MiB/s)" "$(mark "$rd >= 0.9")" "scenario 3: cp MNT/images/ID/data vs curl -o"
    target "RSS ≤ 32 MiB during a $size MiB transfer ($CTX)" "upload $mu MiB, download $md MiB" "$(mark "$mu <= 32 && $md <= 32")" "scenario 3: VmHWM of a fresh cloudfs"
    say "images $CTX: up ${tu} MiB/s (curl ${tc}), down ${td} (curl ${tcd}), hwm ${mu}/${md} MiB"
}

# ------------------------------------------------------------------------------------ scenario 4
S4_ROWS=$TMP/s4.rows
COLLS=(servers images volumes snapshots networks subnets ports routers security_groups floating_ips flavors keypairs)
reader_job() {                # one of the 16 readers: a collection (ls -l) or a json file (cat)
    case $1 in */json) cat "$MNT/$1" >/dev/null ;; *) ls -l "$MNT/$1/" >/dev/null ;; esac
}
scenario4() {                 # scenario4 LABEL
    local jobs=() c id j t0 seq_ms par_ms par_q seq_q
    # pick json files: one member of the first collections that have one (ids via a throwaway mount)
    mount_cfs || return 1
    for c in servers images networks flavors subnets security_groups volumes ports; do
        [ ${#jobs[@]} -ge 4 ] && break
        id=$(ls "$MNT/$c/" 2>/dev/null | head -1)
        [ -n "$id" ] && jobs+=("$c/$id/json")
    done
    SERVER_ID=$(ls "$MNT/servers/" | head -1)
    umount_cfs
    jobs=("${COLLS[@]}" "${jobs[@]}")
    local njobs=${#jobs[@]}
    cmdlog "cloudfs -f MNT; { ls -l MNT/\$COLL/ & (x${#COLLS[@]}: ${COLLS[*]}); cat MNT/\$COLL/\$ID/json & (x$((njobs - ${#COLLS[@]}))); wait; }  # fresh mount; then the same one after another on a fresh mount"
    # sequential, fresh mount
    mount_cfs || return 1
    local q0; q0=$(cfs_requests)
    t0=${EPOCHREALTIME/./}; for j in "${jobs[@]}"; do reader_job "$j"; done; el "$t0"; seq_ms=$ELAPSED
    seq_q=$(( $(cfs_requests) - q0 ))
    umount_cfs
    # concurrent, fresh mount
    mount_cfs || return 1
    q0=$(cfs_requests)
    [ "$CTX" = fake ] && fake_clear
    t0=${EPOCHREALTIME/./}
    local pids=()
    for j in "${jobs[@]}"; do reader_job "$j" & pids+=($!); done
    wait "${pids[@]}"
    el "$t0"; par_ms=$ELAPSED
    par_q=$(( $(cfs_requests) - q0 ))
    local dup="n/a"
    [ "$CTX" = fake ] && dup=$(fake_log | jq '[.[] | select(.method == "GET") | .path + "?" + .query] | group_by(.) | map(length) | max // 0')
    umount_cfs
    # 50 readers of one cold file
    local f="servers/$SERVER_ID/json" q50 p50 n50="n/a"
    if [ -z "$SERVER_ID" ]; then
        echo "| $CTX $1 | $njobs | $seq_ms | $seq_q | $par_ms | $par_q | $dup | no server: skipped | | | |" >>"$S4_ROWS"
        say "concurrency $CTX $1: 16 seq ${seq_ms} ms, par ${par_ms} ms ($par_q req); no server for the 50 readers"
        return
    fi
    cmdlog "cloudfs -f MNT; for i in 1..50; do cat MNT/$f & done; wait  # fresh mount"
    mount_cfs || return 1
    q0=$(cfs_requests)
    [ "$CTX" = fake ] && fake_clear
    t0=${EPOCHREALTIME/./}
    pids=()
    local i; for i in $(seq 50); do cat "$MNT/$f" >/dev/null & pids+=($!); done
    wait "${pids[@]}"
    el "$t0"; p50=$ELAPSED
    q50=$(( $(cfs_requests) - q0 ))
    [ "$CTX" = fake ] && n50=$(fake_log | jq --arg p "/compute/v2.1/servers/$SERVER_ID" '[.[] | select(.path == $p)] | length')
    umount_cfs
    local ok50=$q50; [ "$n50" != "n/a" ] && ok50=$n50
    echo "| $CTX $1 | $njobs | $seq_ms | $seq_q | $par_ms | $par_q | $dup | $p50 | $q50 | $n50 | $(mark "$ok50 == 1") |" >>"$S4_ROWS"
    echo "$CTX $1	$ok50" >>"$TMP/s4.ones"
    say "concurrency $CTX $1: 16 seq ${seq_ms} ms, par ${par_ms} ms ($par_q req, max dup $dup); 50 readers ${p50} ms, $q50 req (fake log: $n50)"
}

# ------------------------------------------------------------------------------------ scenario 5
S5_ROWS=$TMP/s5.rows
ttfb() { local t0; t0=${EPOCHREALTIME/./}; head -c 1 "$1" >/dev/null; el "$t0"; echo "$ELAPSED"; }
scenario5() {                 # scenario5 LABEL (needs SERVER_ID)
    local k=5 w=20 cold=() warm=() floor=() i f="servers/$SERVER_ID/status"
    [ "$QUICK" = 1 ] && k=3
    cmdlog "cloudfs -f MNT; head -c 1 MNT/$f  # timed with \$EPOCHREALTIME, fresh mount each (cold, x$k); then x$w on one mount (warm)"
    for i in $(seq "$k"); do
        mount_cfs || return 1
        cold+=("$(ttfb "$MNT/$f")")
        umount_cfs
    done
    mount_cfs || return 1
    head -c 1 "$MNT/$f" >/dev/null
    for i in $(seq "$w"); do warm+=("$(ttfb "$MNT/$f")"); floor+=("$(ttfb /etc/hostname)"); done
    umount_cfs
    local mc mw mf
    mc=$(median "${cold[@]}"); mw=$(median "${warm[@]}"); mf=$(median "${floor[@]}")
    echo "| $CTX $1 | $mc | $(printf '%s\n' "${cold[@]}" | sort -g | head -1) | $mw | $(printf '%s\n' "${warm[@]}" | sort -g | head -1) | $mf |" >>"$S5_ROWS"
    say "ttfb $CTX $1: cold $mc ms, warm $mw ms (floor $mf)"
}

# ------------------------------------------------------------------------------------ devcloud servers
create_devcloud_servers() {
    say "devcloud: creating $DEV_SERVERS servers (one request; ~5 min for 200)"
    cmdlog "openstack server create --image devcloud-tiny --flavor m1.nano --network private --min $DEV_SERVERS --max $DEV_SERVERS bench-$STAMP"
    CREATED_SERVERS=$DEV_SERVERS
    openstack server create --image devcloud-tiny --flavor m1.nano --network private \
        --min "$DEV_SERVERS" --max "$DEV_SERVERS" "bench-$STAMP" -f value -c id >>"$OUT/logs/devcloud-servers.log" 2>&1 \
        || say "server create failed (see logs/devcloud-servers.log)"
    local i n
    for i in $(seq 180); do
        n=$(openstack server list --limit -1 --name "^bench-$STAMP" --status ACTIVE -f value -c ID 2>/dev/null | wc -l)
        [ "$n" -ge "$DEV_SERVERS" ] && break
        sleep 5
    done
    say "devcloud: $n of $DEV_SERVERS ACTIVE"
}
delete_devcloud_servers() {
    local ids
    ids=$(openstack server list --limit -1 --name "^bench-$STAMP" -f value -c ID 2>/dev/null)
    [ -n "$ids" ] && { say "devcloud: deleting $(echo "$ids" | wc -l) bench servers"; echo "$ids" | xargs -r -n 50 openstack server delete >>"$OUT/logs/devcloud-servers.log" 2>&1; }
    CREATED_SERVERS=0
}

# ------------------------------------------------------------------------------------ the run
say "results in $OUT"
command -v gnuplot >/dev/null || { say "installing gnuplot-nox"; apt-get install -y gnuplot-nox >"$OUT/logs/apt.log" 2>&1 || say "gnuplot-nox install failed: no plot"; }
[ -x "$CLOUDFS" ] || { say "no $CLOUDFS: build it first (contrib/setup.sh)"; exit 1; }
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

for L in "${LAT_LIST[@]}"; do
    for N in "${SIZE_LIST[@]}"; do
        if [[ ",$SKIP," == *",$N:$L,"* ]]; then say "skipping N=$N L=$L (--skip)"; echo "$N:$L" >>"$TMP/skipped"; continue; fi
        start_fake "$N" "$L" || continue
        scenario1 "$N" "$L"
        [ "$L" = "${LAT_LIST[0]}" ] && scenario1_floor "$N"
        if [ "$N" = "$MID" ]; then
            [ "$L" = "${LAT_LIST[0]}" ] && scenario2 "N=$N L=$L"
            scenario4 "N=$N L=$L"
            scenario5 "N=$N L=$L"
            [ "$FAKE_ONLY" = 1 ] && [ "$L" = "${LAT_LIST[0]}" ] && scenario3
        fi
        stop_fake
    done
done

DEVCLOUD_NOTE=""
if [ "$FAKE_ONLY" = 1 ]; then
    DEVCLOUD_NOTE="devcloud: not used (--fake-only); scenario 3 ran against the fake's Glance."
elif ! devcloud_up; then
    DEVCLOUD_NOTE="devcloud: not reachable (contrib/devcloud/up.sh starts it); scenario 3 and the devcloud rows were skipped."
    say "$DEVCLOUD_NOTE"
else
    use_devcloud
    [ "$DEV_SERVERS" -gt 0 ] && create_devcloud_servers
    get_token && read -r _ DEV_N < <(curl_listing)
    DEVCLOUD_NOTE="devcloud: project demo had $DEV_N servers at the time of the run"
    [ "$DEV_SERVERS" -gt 0 ] && DEVCLOUD_NOTE+=" ($DEV_SERVERS created for the run with one \`openstack server create --min $DEV_SERVERS --max $DEV_SERVERS\`, deleted at the end)"
    [ "$DEV_SERVERS" -eq 0 ] && DEVCLOUD_NOTE+=" (what was there; \`--devcloud-servers N\` creates N for the run; other test suites may create and delete servers meanwhile)"
    DEVCLOUD_NOTE+="."
    say "$DEVCLOUD_NOTE"
    scenario1 "$DEV_N" "-"
    scenario2 "N=$DEV_N"
    scenario4 "N=$DEV_N"
    if [ -n "${SERVER_ID:-}" ]; then scenario5 "N=$DEV_N"; else echo "| devcloud | no server: skipped | | | | |" >>"$S5_ROWS"; fi
    scenario3
    [ "$CREATED_SERVERS" -gt 0 ] && delete_devcloud_servers
fi

# ------------------------------------------------------------------------------------ report
T_END=${EPOCHREALTIME/./}
DURATION=$(calc %.0f "($T_END - $T_START) / 1000000")

# scenario 1 table + targets
{
    echo "## 1. Listing at scale: \`ls -l servers/\` + \`cat servers/*/status\`"
    echo
    echo "Cold = a fresh mount (\`-o cache_ttl=600\`: at 50,000 servers a cold run with every status read takes 40–60 s here, and a TTL expiring during it turns each later open into a GET of its server); warm = the same commands again right after, within the TTL."
    echo "curl = the same paginated \`/servers/detail?limit=1000\` listing, following \`servers_links\` next (token obtained once, not timed)."
    echo "CLI = \`openstack server list --limit -1 -f value -c ID -c Status\` (\`--limit -1\`: without it the CLI stops at Nova's first 1000)."
    echo "CLI reuse, SDK reuse = the same with keystoneauth's token margin at 10 s instead of 120 s (\`bench/sdk_list.py --reuse-token\`): devcloud's tokens live 120 s, so as shipped keystoneauth re-authenticates before almost every call; with reuse the token is kept as with normal (1 h) tokens. SDK = \`openstack.connect().compute.servers()\`, printing id and status (\`bench/sdk_list.py sdk\`)."
    echo "load = the 1-minute load average before and after the row (2 CPUs, shared with other jobs). RSS warm×3 = VmRSS after three more warm runs (it must stay flat)."
    echo "Times in ms (median of $REPEAT runs; 1 run for N ≥ 10000). Cold requests: cloudfs's own \`.cloudfs/status\` counter, and the fake's request log (last run, every non-Keystone request)."
    echo "RSS = cloudfs VmHWM after cold + warm. tmpfs = the same commands over the same names in \`/dev/shm\`, timed right after cloudfs's warm run in each repetition (median). statuses read = lines the same command printed, untimed, after the warm runs (must be the server count)."
    echo
    echo "| cloud | N (servers) | latency ms | pages | curl ms | cloudfs cold ms | cold / curl (≤ 1.25× fake, ≤ 1.0× devcloud) | cold requests (= pages) / fake log | warm ms | warm requests | warm ≤ 20 ms (N=1000) | CLI ms | CLI / warm (≥ 100×) | CLI lines | cloudfs RSS MiB | µs per server cold / warm | CLI reuse ms | SDK ms | SDK reuse ms | SDK lines | load | RSS warm×3 MiB | tmpfs ms | warm / tmpfs (≤ 1.5×) | statuses read |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    tail -n +2 "$S1_TSV" | while IFS=$'\t' read -r c n cnt l pages curl cold cq warm wq cli lines hwm fq clir sdk sdkr sdkl load rssw tm reads; do
        r=$(calc %.2f "$cold / $curl"); rw=$(calc %.0f "$cli / $warm")
        lim=1.25; [ "$c" = devcloud ] && lim=1.0
        w20="—"; [ "$n" = 1000 ] && w20=$(mark "$warm <= 20")
        rss=$(calc %.1f "$hwm / 1024")
        [ "$n" -ge 10000 ] && [ "$n" -lt 50000 ] && rss="$rss $(mark "$hwm / 1024 <= 100")"
        [ "$n" -ge 50000 ] && rss="$(calc %.1f "$hwm / 1024") $(mark "$hwm / 1024 <= 120")"
        per="—"; [ "$cnt" -gt 0 ] && per="$(calc %.0f "$cold * 1000 / $cnt") / $(calc %.0f "$warm * 1000 / $cnt")"
        echo "| $c | $n ($cnt) | $l | $pages | $curl | $cold | ${r}× $(mark "$r <= $lim") | $cq $(mark "$cq == $pages") / $fq | $warm | $wq | $w20 | $cli | ${rw}× $(mark "$rw >= 100") | $lines | $rss | $per | $clir | $sdk | $sdkr | $sdkl | $load | $(calc %.1f "${rssw:-0} / 1024") | ${tm:--} | $( [ "${tm:--}" != - ] && echo "$(calc %.2f "$warm / $tm")× $(mark "$warm / $tm <= 1.5")" || echo —) | ${reads:--} $( [ "${reads:--}" != - ] && mark "$reads == $cnt") |"
    done
    if [ -s "$TMP/skipped" ]; then echo; echo "Skipped (\`--skip\`): $(tr '\n' ' ' <"$TMP/skipped")"; fi
    echo
    echo "![time vs N](plot.png)"
    if [ "$(wc -l <"$FLOOR_TSV")" -gt 1 ]; then
        echo
        echo "### The floor: the same commands with no cloud behind them"
        echo
        echo "Same \`ls -l servers/\` + \`cat servers/*/status\`, same names (the listing's ids), ${FIRST_LAT:-0} ms fake latency row for cloudfs."
        echo "tmpfs = the tree in \`/dev/shm\` (a kernel filesystem in RAM). floorfs = \`build/bench/floorfs\`, a FUSE filesystem that answers every request from memory with cloudfs's kernel settings (readdirplus, 60 s timeouts, \`keep_cache\`) and workers (libfuse's, and the polling one of \`src/fuse/fs_poll.c\`): what FUSE itself costs for these files on this machine."
        echo "floorfs no_open = the same, answering OPEN with ENOSYS, so the kernel stops sending OPEN and RELEASE for the whole mount (cloudfs cannot: uploads, spec files and streams need a file handle per open)."
        echo "cloudfs's FUSE share of a cold run = its cold time minus curl's listing time."
        echo
        echo "| N | tmpfs ms | floorfs cold ms | floorfs warm ms | cloudfs cold − curl ms | cloudfs warm ms | cloudfs warm / floorfs warm | floorfs no_open cold ms | floorfs no_open warm ms |"
        echo "|---|---|---|---|---|---|---|---|---|"
        tail -n +2 "$FLOOR_TSV" | while IFS=$'\t' read -r n tm fc fw nc nw; do
            read -r curl cold warm < <(awk -F'\t' -v n="$n" -v l="${FIRST_LAT:-0}" '$1 == "fake" && $2 == n && $4 == l { print $6, $7, $9 }' "$S1_TSV")
            echo "| $n | $tm | $fc | $fw | $(calc %.1f "${cold:-0} - ${curl:-0}") | ${warm:--} | $(calc %.2f "${warm:-0} / $fw")× | $nc | $nw |"
        done
    fi
} >"$OUT/s1-listing.md"

rows=$(tail -n +2 "$S1_TSV")
TKEY=1
if [ -n "$rows" ]; then
    target "cold listing + statuses ≤ 1.25× curl+jq (fake), ≤ 1.0× (devcloud)" "$(echo "$rows" | awk -F'\t' '{ lim = $1 == "devcloud" ? 1.0 : 1.25; r = $7 / $6; printf "%s%s N=%s L=%s %.2f×", sep, $1, $2, $4, r; sep = ", "; if (r <= lim) ok++ } END { printf "; %d of %d rows within", ok, NR }')" \
        "$(mark "$(echo "$rows" | awk -F'\t' '{ lim = $1 == "devcloud" ? 1.0 : 1.25; if ($7 / $6 > lim) bad++ } END { print bad + 0 }') == 0")" "scenario 1"
    # tmpfs of the same repetitions (column 21) when measured, else the floor rows' tmpfs
    tmpfs_of='FNR == NR { if (FNR > 1) tm[$1] = $2; next } $1 == "fake" && $4 == l && $21 != "" && $21 != "-" { tm[$2] = $21 }'
    wt=$(awk -F'\t' "$tmpfs_of"' $1 == "fake" && ($2 == 1000 || $2 == 10000) && ($2 in tm) && $4 == l { printf "%sN=%s %.2f× (%s vs tmpfs %s ms)", sep, $2, $9 / tm[$2], $9, tm[$2]; sep = ", " }' l="${FIRST_LAT:-0}" "$FLOOR_TSV" "$S1_TSV")
    [ -n "$wt" ] && target "warm ≤ 1.5× tmpfs at N=1000 and 10000" "$wt" \
        "$(mark "$(awk -F'\t' "$tmpfs_of"' $1 == "fake" && ($2 == 1000 || $2 == 10000) && ($2 in tm) && $4 == l && $9 / tm[$2] > 1.5 { bad++ } END { print bad + 0 }' l="${FIRST_LAT:-0}" "$FLOOR_TSV" "$S1_TSV") == 0")" "scenario 1 (tmpfs timed in the same repetitions)"
    big5=$(echo "$rows" | awk -F'\t' '$2 >= 50000 { printf "%s%.1f MiB peak, %.1f MiB after 3 more warm runs (L=%s)", sep, $13 / 1024, $20 / 1024, $4; sep = ", " }')
    [ -n "$big5" ] && target "50,000 cached servers ≤ 120 MiB RSS, flat over warm runs" "$big5" "$(mark "$(echo "$rows" | awk -F'\t' '$2 >= 50000 && ($13 / 1024 > 120 || $20 / 1024 > 120) { bad++ } END { print bad + 0 }') == 0")" "scenario 1, VmHWM and VmRSS"
    target "cold requests = the listing's page count" "$(echo "$rows" | awk -F'\t' '{ if ($8 == $5) ok++ } END { printf "%d of %d rows", ok, NR }')" \
        "$(mark "$(echo "$rows" | awk -F'\t' '$8 != $5 { bad++ } END { print bad + 0 }') == 0")" "scenario 1 (.cloudfs/status requests)"
    w1000=$(echo "$rows" | awk -F'\t' '$1 == "fake" && $2 == 1000 { printf "%s%s ms (L=%s)", sep, $9, $4; sep = ", " }')
    f1000=$(awk -F'\t' '$1 == 1000 { printf "; tmpfs %s ms, floorfs %s ms", $2, $4 }' "$FLOOR_TSV")
    [ -n "$w1000" ] && target "warm ≤ 20 ms for N=1000" "$w1000$f1000" "$(mark "$(echo "$rows" | awk -F'\t' '$1 == "fake" && $2 == 1000 && $9 > 20 { bad++ } END { print bad + 0 }') == 0")" "scenario 1, warm"
    target "warm ≥ 100× faster than \`openstack server list\`" "$(echo "$rows" | awk -F'\t' '{ r = $11 / $9; if (!NR_ || r < m) { m = r; at = $1 " N=" $2 " L=" $4 }; NR_ = 1 } END { printf "lowest %.0f× (%s)", m, at }')" \
        "$(mark "$(echo "$rows" | awk -F'\t' '$11 / $9 < 100 { bad++ } END { print bad + 0 }') == 0")" "scenario 1, warm vs CLI"
    big=$(echo "$rows" | awk -F'\t' '$2 >= 10000 && $2 < 50000 { printf "%s%.1f MiB (L=%s)", sep, $13 / 1024, $4; sep = ", " }')
    [ -n "$big" ] && target "10,000 cached servers in ≤ 100 MiB RSS" "$big" "$(mark "$(echo "$rows" | awk -F'\t' '$2 >= 10000 && $2 < 50000 && $13 / 1024 > 100 { bad++ } END { print bad + 0 }') == 0")" "scenario 1, VmHWM"
fi
TKEY=2
if [ -s "$TMP/s2.ratios" ]; then
    target "per-server loop ≥ 500× faster than the CLI loop (cache warm)" "$(awk -F'\t' '{ printf "%s%s: %s×", sep, $1, $2; sep = ", " }' "$TMP/s2.ratios")" \
        "$(mark "$(awk -F'\t' '$2 < 500 { bad++ } END { print bad + 0 }' "$TMP/s2.ratios") == 0")" "scenario 2"
fi
TKEY=4
if [ -s "$TMP/s4.ones" ]; then
    target "50 concurrent cold readers of one file → 1 request" "$(awk -F'\t' '{ printf "%s%s: %s", sep, $1, $2; sep = ", " }' "$TMP/s4.ones")" \
        "$(mark "$(awk -F'\t' '$2 != 1 { bad++ } END { print bad + 0 }' "$TMP/s4.ones") == 0")" "scenario 4"
fi

{
    echo "## 2. The shell loop: status of $LOOP_N sampled servers"
    echo
    echo "\`for id in ...; do cat servers/\$id/status; done\` on a fresh mount (cold: one GET per server) and again right after (warm),"
    echo "vs \`for id in ...; do openstack server show \$id -f value -c status; done\`. ms per server."
    echo
    echo "| cloud | servers | CLI ms/server | cloudfs cold ms/server | CLI / cold | cloudfs warm ms/server | CLI / warm | ≥ 500× |"
    echo "|---|---|---|---|---|---|---|---|"
    cat "$S2_ROWS" 2>/dev/null
} >"$OUT/s2-shell-loop.md"
{
    echo "## 3. Image upload and download"
    echo
    echo "\`cp FILE <mnt>/images/\` vs \`curl -T\` (after a POST creating the image record); \`cp <mnt>/images/<id>/data\` vs \`curl -o\`, same Glance, same file (\`head -c ${XFER_MIB}M /dev/urandom\`). Each cloudfs transfer on a fresh mount; RSS = its VmHWM after the transfer. Images deleted afterwards."
    echo
    echo "| transfer | MiB | cloudfs ms | cloudfs MiB/s | curl ms | curl MiB/s | cloudfs / curl (≥ 0.9×) | cloudfs RSS MiB (≤ 32) | notes |"
    echo "|---|---|---|---|---|---|---|---|---|"
    if [ -s "$S3_ROWS" ]; then cat "$S3_ROWS"; else echo "| not run (no devcloud; \`--fake-only\` runs it against the fake) | | | | | | | | |"; fi
} >"$OUT/s3-images.md"
{
    echo "## 4. Concurrency"
    echo
    echo "16 readers of different cold things at once on a fresh mount: \`ls -l\` of ${#COLLS[@]} collections (${COLLS[*]}) and \`cat\` of 4 \`json\` files; the same 16 one after another (another fresh mount) for comparison."
    echo "Then 50 \`cat servers/<id>/json\` at once right after a fresh mount: requests for that server (the fake's log filtered by its path; cloudfs's counter for all requests)."
    echo
    echo "| cloud | readers | sequential ms | sequential requests | concurrent ms | concurrent requests | most requests for one URL | 50 readers ms | 50 readers: all requests | requests for the file's path | → 1 request |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    cat "$S4_ROWS" 2>/dev/null
} >"$OUT/s4-concurrency.md"
{
    echo "## 5. Time to first byte of \`cat servers/<id>/status\`"
    echo
    echo "\`head -c 1\` timed with bash's \`\$EPOCHREALTIME\` (includes fork+exec); cold = fresh mount each time (median of 5, 3 with --quick), warm = 20 reads on one mount. Floor = the same timer around \`head -c 1 /etc/hostname\`."
    echo
    echo "| cloud | cold median ms | cold min ms | warm median ms | warm min ms | timer floor ms |"
    echo "|---|---|---|---|---|---|"
    cat "$S5_ROWS" 2>/dev/null
} >"$OUT/s5-ttfb.md"

# plot: one panel per fake latency, time vs N, log-log
if command -v gnuplot >/dev/null && [ "$(awk -F'\t' '$1 == "fake"' "$S1_TSV" | wc -l)" -gt 0 ]; then
    lats=$(awk -F'\t' '$1 == "fake" { print $4 }' "$S1_TSV" | sort -un | tr '\n' ' ')
    # columns: servers, cloudfs cold, warm, curl, CLI, floorfs warm (no cloud; NaN if not measured)
    for l in $lats; do awk -F'\t' -v l="$l" 'FNR == NR { if (FNR > 1) fl[$1] = $4 / 1000; next }
        $1 == "fake" && $4 == l { print $3, $7 / 1000, $9 / 1000, $6 / 1000, $11 / 1000, ($2 in fl) ? fl[$2] : "NaN" }' "$FLOOR_TSV" "$S1_TSV" | sort -n >"$OUT/plot-L$l.dat"; done
    np=$(echo "$lats" | wc -w)
    {
        echo "set terminal pngcairo size $((520 * np)),480 font ',10'"
        echo "set output '$OUT/plot.png'"
        echo "set multiplot layout 1,$np title 'cloudfs vs raw curl vs openstack CLI: list N servers + every status (fake cloud)'"
        echo "set logscale xy; set autoscale xfix; set offsets graph 0.05, graph 0.05, 0, 0; set grid; set key top left; set xlabel 'servers'; set ylabel 'seconds'"
        for l in $lats; do
            echo "set title '$l ms per request'"
            echo "plot '$OUT/plot-L$l.dat' u 1:2 w lp pt 7 t 'cloudfs cold', '' u 1:3 w lp pt 5 t 'cloudfs warm', '' u 1:4 w lp pt 9 t 'raw curl', '' u 1:5 w lp pt 11 t 'openstack CLI', '' u 1:6 w lp pt 13 dt 2 t 'floorfs warm (FUSE, no cloud)'"
        done
        echo "unset multiplot"
    } >"$OUT/plot.gp"
    gnuplot "$OUT/plot.gp" 2>>"$OUT/logs/gnuplot.log" || say "gnuplot failed"
fi

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)
DIRTY=$(git -C "$ROOT" status --porcelain -- src include meson.build 2>/dev/null | wc -l)
{
    echo "# cloudfs benchmark, $STAMP"
    echo
    echo "- command: \`bench/run.sh${ARGS[*]:+ ${ARGS[*]}}\` ($DURATION s)"
    echo "- commit: $COMMIT$([ "$DIRTY" -gt 0 ] && echo " (+ $DIRTY uncommitted changes in src/include)"); $("$CLOUDFS" -V 2>&1 | head -1)"
    echo "- machine: $(uname -srm); $(nproc) × $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (other jobs share the machine)"
    echo "- tools: $(curl --version | head -1 | cut -d' ' -f1-2), openstack $(openstack --version 2>&1 | awk '{ print $2 }'), $(gnuplot --version 2>/dev/null)"
    echo "- fake cloud: \`tests/fake/fake_openstack.py --servers N --latency-ms L\` (its default seed adds 6 servers: N (servers) shows the real count); sizes $SIZES, latencies $LATS ms; scenarios 2, 4, 5 at N=$MID"
    echo "- $DEVCLOUD_NOTE"
    echo
    echo "## Targets"
    echo
    echo "| target | measured | | where |"
    echo "|---|---|---|---|"
    sort -s -t$'\t' -k1,1n "$TMP/targets.md" 2>/dev/null | cut -f2-
    echo
    for f in s1-listing s2-shell-loop s3-images s4-concurrency s5-ttfb; do cat "$OUT/$f.md"; echo; done
    echo "## Exact commands"
    echo
    echo "Every timed command, in order (MNT = the mount point, FILE = the transfer file; \`logs/\` has cloudfs's, the fake's and the CLI's stderr, raw numbers are in \`listing.tsv\`)."
    echo
    echo '```'
    awk '!seen[$0]++' "$OUT/commands.log"
    echo '```'
} >"$OUT/README.md"
[ "$(dirname "$OUT")" = "$HERE/results" ] && ln -sfn "$(basename "$OUT")" "$HERE/results/latest"
say "done in $DURATION s: $OUT/README.md"
