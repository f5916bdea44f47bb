#!/bin/bash
# Stop exactly the processes that up.sh started (their recorded PIDs, after
# checking /proc start times), never by name.
#
#   sudo bash contrib/devcloud/down.sh           # stop, keep state
#   sudo bash contrib/devcloud/down.sh --wipe    # stop and delete $DEVCLOUD_STATE
set -Eeuo pipefail

DEVCLOUD_SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$DEVCLOUD_SELF")
# shellcheck source=lib.sh
. "$HERE/lib.sh"
devcloud_clean_env "$@"

S=${DEVCLOUD_STATE:-/var/tmp/cloudfs-devcloud}
WIPE=0
for a in "$@"; do
    case $a in
    --wipe) WIPE=1 ;;
    -h | --help)
        sed -n '2,7p' "$DEVCLOUD_SELF"
        exit 0
        ;;
    *) die "unknown argument: $a" ;;
    esac
done
[ "$(id -u)" = 0 ] || die "must run as root"
trap 'die "down.sh failed at line $LINENO: $BASH_COMMAND"' ERR

GRACE=20

# stop_phase NAME...: TERM each recorded session, wait up to $GRACE s, KILL the rest
stop_phase() {
    local name rec pid start now sids=() names=() m left i
    for name in "$@"; do
        rec=$(read_pidfile "$name") || { rm -f "$(pidfile "$name")"; continue; }
        read -r pid start <<<"$rec"
        now=$(proc_starttime "$pid" || true)
        if [ "$now" != "$start" ]; then
            # the leader is gone (or its PID was reused by someone else);
            # processes still carrying our session id can only be ours
            [ -n "$(session_members "$pid")" ] || {
                rm -f "$(pidfile "$name")"
                continue
            }
        else
            kill -TERM -- "-$pid" 2>/dev/null || true
        fi
        for m in $(session_members "$pid"); do kill -TERM "$m" 2>/dev/null || true; done
        sids+=("$pid")
        names+=("$name")
    done
    [ ${#sids[@]} = 0 ] && return 0
    log "stopping ${names[*]}"
    for ((i = 0; i < GRACE * 5; i++)); do
        left=0
        for pid in "${sids[@]}"; do
            [ -n "$(session_members "$pid")" ] && left=1 && break
        done
        [ $left = 0 ] && break
        sleep 0.2
    done
    for i in "${!sids[@]}"; do
        pid=${sids[$i]}
        m=$(session_members "$pid")
        if [ -n "$m" ]; then
            log "${names[$i]} still running after ${GRACE}s: KILL $(echo $m)"
            kill -KILL -- "-$pid" 2>/dev/null || true
            # shellcheck disable=SC2086
            kill -KILL $m 2>/dev/null || true
        fi
        rm -f "$(pidfile "${names[$i]}")"
    done
}

if [ -d "$S/run/pids" ]; then
    infra=" rabbitmq memcached mysql epmd "
    openstack=()
    for f in "$S"/run/pids/*.pid; do
        [ -e "$f" ] || continue
        n=$(basename "$f" .pid)
        case $infra in *" $n "*) ;; *) openstack+=("$n") ;; esac
    done
    # OpenStack services first, then the message bus, cache and database
    stop_phase ${openstack[@]+"${openstack[@]}"}
    stop_phase rabbitmq memcached mysql
    stop_phase epmd
    sleep 0.3
    for f in "$S"/run/pids/*.pid; do
        [ -e "$f" ] || continue
        read -r sid _ <"$f" || continue
        [ -n "$(session_members "$sid")" ] && die "processes of session $sid ($f) are still running"
    done
    log "all devcloud processes stopped"
else
    log "nothing recorded under $S/run/pids"
fi

if [ $WIPE = 1 ] && [ -e "$S" ]; then
    # refuse to delete anything that does not look like a devcloud state dir
    case $S in / | /bin* | /boot* | /dev* | /etc* | /lib* | /proc* | /root | /sbin* | /sys* | /usr* | /var | /var/tmp | /tmp | /home)
        die "refusing to wipe $S" ;;
    esac
    [ -d "$S/markers" ] || [ -d "$S/run" ] || die "$S does not look like a devcloud state dir; not wiping"
    rm -rf -- "$S"
    log "wiped $S"
fi
