#!/bin/bash
# Runs the whole test suite: unit (cmocka), the layering rules (tests/layers),
# the fake cloud's own checks, the
# mounted tests against the fake cloud, the hostile tests (tests/hostile: a
# lying cloud and a fault proxy), and the end-to-end tests against a
# real OpenStack (contrib/devcloud, brought up if it is not running).
# Ends with one line "N passed, N failed". Exit status 0 only if all passed.
#   tests/run.sh            everything
#   tests/run.sh --no-e2e   skip the real cloud (for quick local runs; CI never does this)
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
RESULTS=$ROOT/build/test-results
PYTEST="/usr/bin/python3 -m pytest"
E2E=1
[ "${1:-}" = "--no-e2e" ] && E2E=0
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
status=0

stage() { echo; echo "=== $*"; }
# A stage that exits non-zero without a failing test case in its results
# (a crash, a collection error) is recorded so the summary counts it.
failed_stage() { echo "$1" >>"$RESULTS/failed-stages"; status=1; }

stage "build (release, and with AddressSanitizer + UBSan)"
ninja -C build || { echo "0 passed, 1 failed"; exit 1; }
[ -d build-san ] || meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false \
	-Dwerror=true >/dev/null
ninja -C build-san || { echo "0 passed, 1 failed"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

stage "unit tests (cmocka, sanitized)"
CMOCKA_MESSAGE_OUTPUT=xml CMOCKA_XML_FILE="$RESULTS/cmocka-%g.xml" \
	meson test -C build-san --suite unit --print-errorlogs || failed_stage cmocka

stage "format (clang-format --dry-run against .clang-format: C sources, headers, unit tests, fuzzers, bench)"
# The C the project owns is formatted by its .clang-format; a file that is not
# fails the stage with clang-format's own diff lines (fix: clang-format -i FILE).
if unformatted=$(clang-format --dry-run --Werror $(git ls-files 'src/*.[ch]' 'include/*.h' \
	'tests/unit/*.[ch]' 'tests/fuzz/*.[ch]' 'bench/*.[ch]') 2>&1); then
	echo '<testsuite><testcase classname="format" name="clang-format"/></testsuite>' >"$RESULTS/format.xml"
else
	echo "$unformatted" | grep -E '^[^ ].*: (error|warning):' | cut -d: -f1 | sort -u
	echo '<testsuite><testcase classname="format" name="clang-format"><failure message="files not formatted by .clang-format"/></testcase></testsuite>' >"$RESULTS/format.xml"
	status=1
fi

stage "layers (docs/ARCHITECTURE.md: who may include libfuse, curl, a service)"
$PYTEST -q -p no:cacheprovider tests/layers --junitxml="$RESULTS/layers.xml" || failed_stage layers

stage "fuzz harnesses (libFuzzer, a few seconds each; tests/fuzz/run.sh --long SECONDS for more)"
RESULTS=$RESULTS tests/fuzz/run.sh || failed_stage fuzz

stage "fake cloud self-checks"
$PYTEST -q -p no:cacheprovider tests/fake --junitxml="$RESULTS/fake.xml" || failed_stage fake

stage "mounted tests (sanitized binary on FUSE, fake cloud)"
CLOUDFS_BIN=$ROOT/build-san/cloudfs \
	$PYTEST -q -p no:cacheprovider tests/mounted --junitxml="$RESULTS/mounted.xml" || failed_stage mounted

stage "hostile tests (sanitized binary on FUSE, hostile cloud and fault proxy)"
CLOUDFS_BIN=$ROOT/build-san/cloudfs \
	$PYTEST -q -p no:cacheprovider tests/hostile --junitxml="$RESULTS/hostile.xml" || failed_stage hostile

# --- package stage (tests/package): the .deb builds, lintian finds no error,
# the packaged binary mounts the fake cloud from an fstab line. Self-contained.
stage "Debian package (dpkg-buildpackage, lintian, fstab mount of the packaged binary)"
$PYTEST -q -p no:cacheprovider tests/package --junitxml="$RESULTS/package.xml" || failed_stage package
# --- end of package stage

stage "mounted concurrency tests under ThreadSanitizer (clang -Werror build-tsan)"
# test_trust.py (racing writers, concurrent closes, lookups during changes),
# test_cache.py (concurrent readers, notifier) and test_projects.py (sessions made,
# shared and dropped under concurrent readers) run clean and fast under TSan;
# the whole mounted suite does too (about 70 s), so these two are the stage.
[ -d build-tsan ] || CC=clang meson setup build-tsan -Db_sanitize=thread -Db_lundef=false \
	-Dwerror=true >/dev/null
if ninja -C build-tsan >/dev/null; then
	rm -rf "$RESULTS/tsan-reports"
	mkdir -p "$RESULTS/tsan-reports"
	TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$RESULTS/tsan-reports/report" \
		CLOUDFS_BIN=$ROOT/build-tsan/cloudfs $PYTEST -q -p no:cacheprovider \
		tests/mounted/test_trust.py tests/mounted/test_cache.py tests/mounted/test_projects.py \
		--junitxml="$RESULTS/tsan.xml" || failed_stage tsan
	# A report is a failure even when every test passed.
	if ls "$RESULTS"/tsan-reports/report* >/dev/null 2>&1; then
		grep -h 'SUMMARY: ThreadSanitizer' "$RESULTS"/tsan-reports/report* | sort | uniq -c
		echo '<testsuite><testcase classname="tsan" name="no-reports"><failure message="ThreadSanitizer reports in build/test-results/tsan-reports"/></testcase></testsuite>' \
			>"$RESULTS/tsan-reports.xml"
		status=1
	else
		echo '<testsuite><testcase classname="tsan" name="no-reports"/></testsuite>' \
			>"$RESULTS/tsan-reports.xml"
	fi
else
	failed_stage tsan-build
fi

if [ "$E2E" = 1 ]; then
	stage "end-to-end tests (real OpenStack: contrib/devcloud)"
	if bash contrib/devcloud/up.sh >"$RESULTS/devcloud-up.log" 2>&1; then
		CLOUDFS_BIN=$ROOT/build/cloudfs \
			$PYTEST -q -p no:cacheprovider tests/e2e --junitxml="$RESULTS/e2e.xml" || failed_stage e2e
	else
		echo "devcloud failed to come up; last lines of its log:"
		tail -30 "$RESULTS/devcloud-up.log"
		echo '<testsuite><testcase classname="devcloud" name="up"><failure message="devcloud up.sh failed"/></testcase></testsuite>' \
			>"$RESULTS/devcloud.xml"
		status=1
	fi
fi

stage "summary"
/usr/bin/python3 tests/summary.py "$RESULTS" || status=1
exit $status
