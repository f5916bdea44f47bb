#!/bin/bash
# Show the devcloud's recorded services: running or not, processes, memory
# (RSS and PSS from /proc/PID/smaps_rollup, summed over each session).
#
#   sudo bash contrib/devcloud/status.sh
set -euo pipefail

DEVCLOUD_SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$DEVCLOUD_SELF")
# shellcheck source=lib.sh
. "$HERE/lib.sh"
devcloud_clean_env "$@"

S=${DEVCLOUD_STATE:-/var/tmp/cloudfs-devcloud}
[ -d "$S/run/pids" ] || { echo "no devcloud state under $S"; exit 1; }

tr=0 tp=0 tn=0 down=0
printf '%-23s %-8s %7s %5s %9s %9s\n' SERVICE STATE PID PROCS RSS_MiB PSS_MiB
for f in "$S"/run/pids/*.pid; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .pid)
    read -r pid _ <"$f"
    r=0 p=0 c=0 state=running
    if ! is_running "$n"; then
        state=STOPPED
        down=$((down + 1))
    fi
    for m in $(session_members "$pid"); do
        read -r a b < <(awk '/^Rss:/{r=$2} /^Pss:/{p=$2} END{print r+0, p+0}' \
            "/proc/$m/smaps_rollup" 2>/dev/null || echo 0 0)
        r=$((r + a)) p=$((p + b)) c=$((c + 1))
    done
    printf '%-23s %-8s %7s %5d %9d %9d\n' "$n" "$state" "$pid" $c $((r / 1024)) $((p / 1024))
    tr=$((tr + r)) tp=$((tp + p)) tn=$((tn + c))
done
printf '%-23s %-8s %7s %5d %9d %9d\n' TOTAL "" "" $tn $((tr / 1024)) $((tp / 1024))
[ $down = 0 ]
