#!/bin/sh
# 005-man-lint.sh - every manual page in man/ passes `mandoc -Tlint
# -Wwarning` (warnings and errors fail; style notes do not).
# Skipped (exit 77) when mandoc is not installed.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
MANDOC=${MANDOC:-mandoc}

if ! command -v "$MANDOC" >/dev/null 2>&1; then
	echo "SKIP: mandoc not installed (apt-get install mandoc)"
	exit 77
fi

status=0
n=0
for page in "$top_srcdir"/man/*.[1-9]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	out=$("$MANDOC" -Tlint -Wwarning "$page" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		echo "FAIL: $page"
		printf '%s\n' "$out"
		status=1
	else
		echo "ok: $(basename "$page")"
	fi
done
echo "linted $n page(s)"
[ "$n" -gt 0 ] || { echo "FAIL: no pages found in $top_srcdir/man"; exit 1; }
exit $status
