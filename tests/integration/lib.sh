# lib.sh - shared helpers for integration scenarios (sourced, bash).
# Each scenario gets a private temp dir ($T), a cleanup trap that kills
# only the processes it started, a global timeout, and a repro line.
set -euo pipefail

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
T=$(mktemp -d "${TMPDIR:-/tmp}/arkor-it.XXXXXX")
ARK_PIDS=()
ARK_TEST_NAME=$(basename "$0" .sh)

ark_cleanup() {
	local rc=$?
	local p
	for p in "${ARK_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${ARK_PIDS[@]:-}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null || true
	done
	if [ $rc -ne 0 ]; then
		echo "FAILED: $ARK_TEST_NAME (logs kept in $T)"
		echo "repro: top_builddir=$top_builddir top_srcdir=$top_srcdir bash $0"
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap ark_cleanup EXIT

# Bounded run time for the whole scenario (seconds).
ark_timeout() {
	local secs=$1 me=$$
	# One-second naps: when ark_cleanup stops the watchdog, the sleep it
	# leaves behind holds the scenario's output open for a second at
	# most, not for the whole bound.
	(
		n=$secs
		while [ "$n" -gt 0 ]; do sleep 1; n=$((n - 1)); done
		echo "TIMEOUT after ${secs}s: $ARK_TEST_NAME"; kill -TERM $me
	) &
	ARK_PIDS+=($!)
}

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# ark_start NAME CMD... : starts CMD in the background, log in $T/NAME.log.
ark_start() {
	local name=$1; shift
	"$@" >"$T/$name.log" 2>&1 &
	ARK_PIDS+=($!)
	eval "PID_$name=$!"
}

# ark_wait_file FILE [SECS]: waits until FILE exists and is non-empty.
ark_wait_file() {
	local f=$1 n=$(( ${2:-10} * 10 ))
	while [ ! -s "$f" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	[ -s "$f" ] || fail "timed out waiting for $f"
}

# ark_rss_kb PID: resident set size in KiB.
ark_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
ark_hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
