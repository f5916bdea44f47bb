#!/bin/bash
# Runs the libFuzzer harnesses of tests/fuzz/meson.build, one at a time.
#   tests/fuzz/run.sh                          each harness for FUZZ_SECONDS (default 3)
#   tests/fuzz/run.sh --long SECONDS [NAME...] each (or the named ones) for SECONDS
# Builds build-fuzz (clang, -Dfuzz=true, ASan + UBSan) when it is missing.
# Seeds: tests/fuzz/corpus/<name>/ (read only); what a run learns goes to
# build-fuzz/corpus/<name>/, a crashing input to build-fuzz/crashes/<name>/.
# Writes one JUnit test case per harness to $RESULTS/fuzz.xml when RESULTS is
# set (tests/run.sh), with the executions it did; exit status 1 on a crash.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_EACH=${FUZZ_SECONDS:-3}
if [ "${1:-}" = "--long" ]; then
	SECONDS_EACH=${2:?usage: tests/fuzz/run.sh --long SECONDS [NAME...]}
	shift 2
fi
BUILD=$ROOT/build-fuzz
if [ ! -d "$BUILD" ]; then
	CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dwerror=true >/dev/null || exit 1
fi
ninja -C "$BUILD" >/dev/null || { ninja -C "$BUILD"; exit 1; }
# The harness list is meson.build's: one place to add one.
mapfile -t ALL < <(sed -n "s/^  '\([a-z0-9_]*\)',.*/\1/p" "$ROOT/tests/fuzz/meson.build")
[ $# -gt 0 ] && ALL=("$@")
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
cases=""
for h in "${ALL[@]}"; do
	bin=$BUILD/tests/fuzz/fuzz_$h
	work=$BUILD/corpus/$h
	crashes=$BUILD/crashes/$h
	log=$BUILD/fuzz-$h.log
	mkdir -p "$work" "$crashes"
	start=$EPOCHREALTIME
	"$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix="$crashes/" "$work" "$ROOT/tests/fuzz/corpus/$h" \
		>"$log" 2>&1
	rc=$?
	secs=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	execs=${execs:-0}
	if [ $rc -eq 0 ]; then
		printf '%-10s %10s executions in %5.1f s, no crash\n' "$h" "$execs" "$secs"
		cases+="<testcase classname=\"fuzz\" name=\"$h\" time=\"$secs\"><system-out>$execs executions</system-out></testcase>"
	else
		status=1
		printf '%-10s CRASH (exit %d) after %s executions; log %s, input in %s\n' "$h" "$rc" \
			"$execs" "$log" "$crashes"
		grep -E 'ERROR|property failed|SUMMARY' "$log" | head -5
		msg=$(grep -m1 -E 'ERROR|property failed' "$log" | sed 's/[<>&"]/_/g')
		cases+="<testcase classname=\"fuzz\" name=\"$h\" time=\"$secs\"><failure message=\"${msg:-exit $rc}\"/></testcase>"
	fi
done
if [ -n "${RESULTS:-}" ]; then
	echo "<testsuite name=\"fuzz\">$cases</testsuite>" >"$RESULTS/fuzz.xml"
fi
exit $status
