# shellcheck shell=bash
# Shared helpers for up.sh and down.sh (sourced, not executed).
#
# Process bookkeeping: every daemon is started with setsid, so its PID is also
# its process-group and session id.  $S/run/pids/NAME.pid holds
# "PID STARTTIME" (STARTTIME = field 22 of /proc/PID/stat, clock ticks since
# boot), written by the process itself just before it execs the daemon.
# Nothing is ever looked up by name.

# Re-exec the calling script with a clean environment: fixed PATH, no OS_*,
# no PYTHONPATH, no pyenv; only DEVCLOUD_* variables are kept.
devcloud_clean_env() {
    if [ "${_DEVCLOUD_CLEAN:-}" = 1 ]; then
        unset _DEVCLOUD_CLEAN
        return 0
    fi
    local v keep=()
    for v in $(compgen -e); do
        case $v in DEVCLOUD_*) keep+=("$v=${!v}") ;; esac
    done
    exec /usr/bin/env -i _DEVCLOUD_CLEAN=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM="${TERM:-dumb}" ${keep[@]+"${keep[@]}"} \
        /bin/bash "$DEVCLOUD_SELF" "$@"
}

T0=${EPOCHREALTIME/./}
# seconds since the script started, one decimal
elapsed() {
    local d=$((${EPOCHREALTIME/./} - T0))
    printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000))
}
log() {
    printf '[devcloud %5ss] %s\n' "$(elapsed)" "$*" >&2
}
die() {
    printf '[devcloud] ERROR: %s\n' "$*" >&2
    exit 1
}

# starttime of a live PID, or nothing (and status 1)
proc_starttime() {
    local st
    read -r st 2>/dev/null </proc/"$1"/stat || return 1
    st=${st##*) }
    # shellcheck disable=SC2086
    set -- $st
    printf '%s\n' "${20}"
}

pidfile() { printf '%s/run/pids/%s.pid\n' "$S" "$1"; }

# prints "PID STARTTIME" from the pidfile of NAME
read_pidfile() {
    local f pid start
    f=$(pidfile "$1")
    [ -r "$f" ] || return 1
    read -r pid start <"$f" || return 1
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    printf '%s %s\n' "$pid" "$start"
}

# true if NAME's recorded process is alive with the recorded start time
is_running() {
    local rec pid start now
    rec=$(read_pidfile "$1") || return 1
    read -r pid start <<<"$rec"
    now=$(proc_starttime "$pid") || return 1
    [ "$now" = "$start" ]
}

# PIDs of the live processes in session SID (setsid => sid == leader pid),
# plus their descendants (e.g. the port programs that Erlang starts in
# sessions of their own).  The kernel does not reuse a PID while it is still
# some process's session id, so these are all processes our leader started.
session_members() {
    local sid=$1 d st p changed
    local -A par=() in=()
    for d in /proc/[0-9]*; do
        read -r st 2>/dev/null <"$d/stat" || continue
        st=${st##*) }
        # fields after comm: state ppid pgrp session ...
        # shellcheck disable=SC2086
        set -- $st
        p=${d#/proc/}
        par[$p]=$2
        [ "$4" = "$sid" ] && in[$p]=1
    done
    [ ${#in[@]} = 0 ] && return 0
    changed=1
    while [ $changed = 1 ]; do
        changed=0
        for p in "${!par[@]}"; do
            if [ -z "${in[$p]:-}" ] && [ -n "${in[${par[$p]}]:-}" ]; then
                in[$p]=1
                changed=1
            fi
        done
    done
    printf '%s\n' "${!in[@]}"
}
