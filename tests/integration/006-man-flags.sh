#!/bin/sh
# 006-man-flags.sh - every flag a program prints in `--help` is documented
# in its manual page.
#
# For each page man/<prog>.[158] whose program is built somewhere under
# $top_builddir, runs `<prog> --help`, extracts every --flag token
# ("--[no-]name" counts as "--name") and looks for it in the page, written
# as `Fl -flag` (mdoc), `\-\-flag` (man) or literally. Fails naming the
# missing flags. First it proves the checker works on a fixture program
# whose page lacks one flag.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
LC_ALL=C		# sort and comm must agree on the order
export LC_ALL
FIX="$top_srcdir/tests/integration/fixtures"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/arkor-manflags.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

# Prints the --flags found in standard input, one per line, sorted.
help_flags() {
	sed 's/--\[no-\]/--/g' |
	    grep -o -- '--[[:alnum:]][[:alnum:]_-]*' | sort -u
}

# Prints every --flag a manual page documents, one per line.
page_flags() {
	# mdoc: each dash-word argument of an Fl macro gains a dash.
	awk '{
		infl = 0
		for (i = 1; i <= NF; i++) {
			w = $i
			sub(/^\./, "", w)
			if (w == "Fl") { infl = 1; continue }
			if (w ~ /^[A-Z][a-z][a-z]?$/) { infl = 0; continue }
			if (infl && w ~ /^(\\)?-/) {
				sub(/^\\/, "", w)
				print "-" w
			}
		}
	}' "$1" | sed 's/\\-/-/g; s/\\&//g'
	# man(7) and literal text.
	sed 's/\\-/-/g; s/\\&//g' "$1"
}

# check_page PAGE CMD...: exit 0 if `CMD --help` flags are all in PAGE;
# otherwise prints the missing ones.
check_page() {
	page=$1
	shift
	if ! "$@" --help >"$TMP/help" 2>"$TMP/help.err"; then
		echo "FAIL: '$* --help' failed:"
		cat "$TMP/help.err"
		return 1
	fi
	help_flags <"$TMP/help" >"$TMP/want"
	if [ ! -s "$TMP/want" ]; then
		echo "FAIL: '$* --help' prints no --flags"
		return 1
	fi
	page_flags "$page" | grep -o -- '--[[:alnum:]][[:alnum:]_-]*' |
	    sort -u >"$TMP/have"
	missing=$(comm -23 "$TMP/want" "$TMP/have" | tr '\n' ' ')
	if [ -n "$missing" ]; then
		echo "FAIL: $(basename "$page") does not document: $missing"
		return 1
	fi
	return 0
}

# --- self-test: the checker must catch a missing flag ---------------------
out=$(check_page "$FIX/fake-prog.8" sh "$FIX/fake-prog")
if [ $? -eq 0 ]; then
	echo "FAIL: self-test: missing flag not detected"
	exit 1
fi
case $out in
*"does not document: --missing-flag "*) ;;
*)	echo "FAIL: self-test: wrong report: $out"; exit 1 ;;
esac
case $out in
*--alpha*|*--beta-gamma*|*--delta*|*--help*|*--version*|*--config*)
	echo "FAIL: self-test: documented flags reported missing: $out"
	exit 1 ;;
esac
# ...and accept the page once the flag is documented.
cp "$FIX/fake-prog.8" "$TMP/fake-prog.8"
printf '.It Fl -missing-flag\nNow documented.\n' >>"$TMP/fake-prog.8"
if ! check_page "$TMP/fake-prog.8" sh "$FIX/fake-prog"; then
	echo "FAIL: self-test: complete page rejected"
	exit 1
fi
echo "ok: self-test (fixture fake-prog: missing --missing-flag detected)"

# --- the real programs ------------------------------------------------------
status=0
checked=""
skipped=""
for page in "$top_srcdir"/man/*.[158]; do
	[ -f "$page" ] || continue
	base=$(basename "$page")
	prog=${base%.*}
	bin=$(find "$top_builddir" -name "$prog" -type f -perm -u+x \
	    -not -path '*/.libs/*' 2>/dev/null | head -n 1)
	if [ -z "$bin" ]; then
		case $base in *.5) ;; *) skipped="$skipped $prog" ;; esac
		continue
	fi
	if check_page "$page" "$bin"; then
		echo "ok: $prog (flags of --help all in $base)"
	else
		status=1
	fi
	checked="$checked $prog"
done
echo "checked:${checked:- none (no program with a man page is built yet)}"
[ -z "$skipped" ] || echo "pages without a built program:$skipped"
exit $status
