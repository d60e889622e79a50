#!/usr/bin/env bash
# 351-objectd-s3cmd: s3cmd against a local cluster, once with signature
# V4 and once with signature V2 (each with its own config file, path-style
# addressing): mb, put, get, ls, la, info, sync of a tree up and down
# (sha256 of every file), a multipart put in 5 MiB parts, del, rb.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/s3c-lib.sh"
command -v s3cmd >/dev/null || { echo "SKIP: no s3cmd"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4
echo "client: $(s3cmd --version)"
s3c_tree "$T/tree"
mp=$(s3c_big $((12 << 20)) $((11 << 20)))
head -c "$mp" /dev/urandom >"$T/mp"

# suite SIG BUCKET: the whole scenario with signature SIG (v4 or v2).
suite() {
	local sig=$1 b=$2 cfg="$T/s3cfg.$1" v2=False n
	[ "$sig" = v2 ] && v2=True
	cat >"$cfg" <<CFG
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = 127.0.0.1:$S3_PORT
host_bucket = 127.0.0.1:$S3_PORT
use_https = False
signature_v2 = $v2
bucket_location = us-east-1
check_ssl_certificate = False
progress_meter = False
CFG
	C() { s3cmd -c "$cfg" "$@"; }
	# The scheme really used, from the client's own debug output.
	if [ "$sig" = v2 ]; then
		C --debug ls >"$T/debug" 2>&1 || fail "$sig: ls --debug"
		grep -q "Authorization': 'AWS $AWS_ACCESS_KEY_ID:" "$T/debug" ||
			fail "$sig: s3cmd does not sign with V2"
	else
		C --debug ls >"$T/debug" 2>&1 || fail "$sig: ls --debug"
		grep -q "Authorization': 'AWS4-HMAC-SHA256 " "$T/debug" ||
			fail "$sig: s3cmd does not sign with V4"
	fi
	C mb "s3://$b" >/dev/null || fail "$sig: mb"
	s3c_has " s3://$b\$" C ls || fail "$sig: ls does not list $b"
	C put "$T/tree/a/b/seventyk" "s3://$b/one/seventyk" >/dev/null || fail "$sig: put"
	C put "$T/tree/ünï cödé/fïlé ñ 日本.txt" "s3://$b/ünï/fïlé ñ 日本.txt" >/dev/null ||
		fail "$sig: put unicode"
	C get --force "s3://$b/one/seventyk" "$T/back" >/dev/null || fail "$sig: get"
	cmp -s "$T/back" "$T/tree/a/b/seventyk" || fail "$sig: get bytes differ"
	C get --force "s3://$b/ünï/fïlé ñ 日本.txt" "$T/back" >/dev/null || fail "$sig: get unicode"
	[ "$(cat "$T/back")" = café ] || fail "$sig: unicode object"
	s3c_has " 70000 *s3://$b/one/seventyk\$" C ls "s3://$b/one/" ||
		fail "$sig: ls of a prefix: $(C ls "s3://$b/one/")"
	s3c_has "DIR *s3://$b/one/\$" C ls "s3://$b" || fail "$sig: ls with delimiter"
	s3c_has "s3://$b/one/seventyk\$" C la -r || fail "$sig: la"
	C info "s3://$b/one/seventyk" >"$T/info" || fail "$sig: info object"
	grep -q "File size: *70000" "$T/info" && grep -q "MD5 sum: *$(md5sum <"$T/tree/a/b/seventyk" | cut -d' ' -f1)" "$T/info" ||
		fail "$sig: info: $(cat "$T/info")"
	C info "s3://$b" >"$T/binfo" 2>&1 || fail "$sig: info bucket"
	# s3cmd reads the bucket's policy, CORS and lifecycle: each "none"
	grep -q "Policy: *none" "$T/binfo" && grep -q "CORS: *none" "$T/binfo" &&
	    ! grep -qi "error\|NotImplemented" "$T/binfo" ||
		fail "$sig: info bucket: $(cat "$T/binfo")"
	ok "$sig: mb, put, get (unicode key), ls, la, info"

	C sync "$T/tree/" "s3://$b/tree/" >/dev/null || fail "$sig: sync up"
	n=$(C ls -r "s3://$b/tree/" | wc -l)
	[ "$n" = $S3C_TREE_FILES ] || fail "$sig: sync up stored $n objects: $(C ls -r "s3://$b/tree/")"
	rm -rf "$T/down"
	C sync "s3://$b/tree/" "$T/down/" >/dev/null || fail "$sig: sync down"
	s3c_same_tree "$T/tree" "$T/down"
	out=$(C sync "$T/tree/" "s3://$b/tree/" 2>&1) || fail "$sig: second sync"
	grep -q "^upload:" <<<"$out" && fail "$sig: second sync uploaded again: $out"
	ok "$sig: sync of a tree up and down (sha256 equal), second sync a no-op"

	C put --multipart-chunk-size-mb=5 "$T/mp" "s3://$b/mp" >/dev/null ||
		fail "$sig: multipart put"
	n=$(grep -c "PUT /$b/mp 200" "$T/objectd.log") || true
	[ "$n" = 3 ] || fail "$sig: $n part uploads for $mp bytes in 5 MiB parts, not 3"
	C get --force "s3://$b/mp" "$T/back" >/dev/null || fail "$sig: get multipart"
	[ "$(sha "$T/back")" = "$(sha "$T/mp")" ] || fail "$sig: multipart object differs"
	ok "$sig: multipart put of $mp bytes in 5 MiB parts (3 parts), get (sha256 equal)"

	C del "s3://$b/one/seventyk" >/dev/null || fail "$sig: del"
	s3c_has "one/seventyk" C ls -r "s3://$b" && fail "$sig: deleted object still listed"
	C del --recursive --force "s3://$b" >/dev/null || fail "$sig: del --recursive"
	[ -z "$(C ls -r "s3://$b")" ] || fail "$sig: objects left: $(C ls -r "s3://$b")"
	C rb "s3://$b" >/dev/null || fail "$sig: rb"
	s3c_has " s3://$b\$" C ls && fail "$sig: $b still listed after rb"
	ok "$sig: del, del --recursive, rb"
}

suite v4 s3cmd-v4
suite v2 s3cmd-v2

objectd_stop
s3c_no_sanitizer_report
ok "clean stop"
