# s3c-lib.sh - helpers for the real-client scenarios 350-369 (sourced
# after lib.sh and cluster-lib.sh).

# Client output must not depend on the caller's locale: names in the
# trees are UTF-8.
# (cluster_start unsets the CA-bundle variables that break clients
# talking plain HTTP; npm still needs them, so install before it.)
export LC_ALL=C.UTF-8 LANG=C.UTF-8

# s3c_big BYTES SANITIZED_BYTES: the size to use for a large object.
s3c_big() {
	if [ "${ARKOR_SANITIZED:-0}" = 1 ]; then echo "$2"; else echo "$1"; fi
}

# s3c_tree DIR: a small tree (S3C_TREE_FILES files) with nested
# directories, an empty file, names with spaces, unicode and characters
# that URI encoding, signing and XML must get right, files of a few sizes.
S3C_TREE_FILES=18
s3c_tree() {
	local d=$1 n
	mkdir -p "$d/a/b/c" "$d/sp ace" "$d/ünï cödé" "$d/x+y&z/d!r(1)"
	: >"$d/empty"
	for n in 'a<b>c' 'q"uo'"'"'te' 'hash#?x' 'pct%20%' 'semi;eq=at@' \
	    'star*til~' 'par(x)br[y]' 'dol$ex!,c:' 'd!r(1)/uni€😀' 'd!r(1)/  two'; do
		echo "$n" >"$d/x+y&z/$n"
	done
	echo "hello" >"$d/a/b/c/deep.txt"
	echo "plus" >"$d/x+y&z/a+b=c.txt"
	printf 'caf\xc3\xa9\n' >"$d/ünï cödé/fïlé ñ 日本.txt"
	echo "spaces" >"$d/sp ace/f g h.txt"
	head -c 1 /dev/urandom >"$d/a/one"
	head -c 70000 /dev/urandom >"$d/a/b/seventyk"
	head -c $((3 << 20)) /dev/urandom >"$d/a/three-mib"
	# Older than any upload: sync tools compare the file's mtime (with
	# sub-second digits) with LastModified (whole seconds, as in AWS), so
	# a file written in the second of its upload would look newer.
	find "$d" -exec touch -d '2 hours ago' {} +
}

# s3c_sums DIR: "sha256  relative/path" of every file, sorted.
s3c_sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# s3c_same_tree A B: fails unless both trees hold the same files and bytes.
s3c_same_tree() {
	s3c_sums "$1" >"$T/sums.a"
	s3c_sums "$2" >"$T/sums.b"
	diff "$T/sums.a" "$T/sums.b" >&2 || fail "trees $1 and $2 differ"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# s3c_no_sanitizer_report: the daemons' logs carry no sanitizer report.
s3c_no_sanitizer_report() {
	local f
	for f in "$T"/*.log; do
		if grep -q "Sanitizer\|runtime error" "$f"; then
			cat "$f" >&2
			fail "sanitizer report in $f"
		fi
	done
}

# s3c_has REGEX CMD...: CMD's whole output matches REGEX (grep -q on a
# pipe would end CMD early with SIGPIPE, which pipefail reports).
s3c_has() {
	local re=$1 out
	shift
	out=$("$@") || return 1
	grep -q -- "$re" <<<"$out"
}
