#!/usr/bin/env bash
# 352-objectd-rclone: rclone against a local cluster through a remote
# defined by environment variables (provider Other, path style): mkdir,
# copy of a tree (names with spaces, '+', '&', unicode), lsf with
# ListObjects v1 and v2 and with URL-encoded listings, check (sizes and
# MD5 ETags, then --download), cat, a multipart copy in 5 MiB chunks,
# sync up (with deletions) and down (sha256 of every file), delete, rmdir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/s3c-lib.sh"
command -v rclone >/dev/null || { echo "SKIP: no rclone"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4
export RCLONE_CONFIG=/dev/null \
	RCLONE_CONFIG_ARK_TYPE=s3 RCLONE_CONFIG_ARK_PROVIDER=Other \
	RCLONE_CONFIG_ARK_ENDPOINT="$S3" RCLONE_CONFIG_ARK_REGION=us-east-1 \
	RCLONE_CONFIG_ARK_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
	RCLONE_CONFIG_ARK_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
	RCLONE_CONFIG_ARK_FORCE_PATH_STYLE=true
# No retries: a failing request must fail the test, not be papered over.
R() { rclone --retries 1 --low-level-retries 1 --cache-dir "$T/rclone-cache" "$@"; }
echo "client: $(rclone version | head -1)"

s3c_tree "$T/tree"
R mkdir ark:rcl || fail "mkdir"
R copy "$T/tree" ark:rcl/t || fail "copy"
(cd "$T/tree" && find . -type f | sed 's|^\./||' | sort) >"$T/want"
for v in 1 2; do
	for enc in true false; do
		R lsf -R --files-only --s3-list-version $v --s3-list-url-encode $enc \
			ark:rcl/t | sort >"$T/got" || fail "lsf v$v url-encode $enc"
		diff "$T/want" "$T/got" >&2 || fail "lsf v$v url-encode $enc lists other names"
	done
done
R lsf ark:rcl/t >"$T/got" || fail "lsf"
[ "$(sort "$T/got" | tr '\n' ' ')" = "a/ empty sp ace/ x+y&z/ ünï cödé/ " ] ||
	fail "lsf top level: $(cat "$T/got")"
ok "copy of a tree; lsf (v1 and v2 listings, url-encoded or not, with delimiter)"

R check "$T/tree" ark:rcl/t 2>"$T/check.log" || fail "check: $(cat "$T/check.log")"
grep -q "0 differences found" "$T/check.log" || fail "check: $(cat "$T/check.log")"
R check --download "$T/tree" ark:rcl/t 2>"$T/check.log" || fail "check --download: $(cat "$T/check.log")"
R md5sum ark:rcl/t | sort -k2 >"$T/md5.remote" || fail "md5sum"
(cd "$T/tree" && find . -type f | sed 's|^\./||' | while IFS= read -r f; do
	echo "$(md5sum <"$f" | cut -d' ' -f1)  $f"; done | sort -k2) >"$T/md5.local"
diff "$T/md5.local" "$T/md5.remote" >&2 || fail "md5sum (ETags) differ"
[ "$(R cat "ark:rcl/t/ünï cödé/fïlé ñ 日本.txt")" = café ] || fail "cat unicode"
[ "$(R cat "ark:rcl/t/x+y&z/a+b=c.txt")" = plus ] || fail "cat +&="
[ -z "$(R cat ark:rcl/t/empty)" ] || fail "cat empty"
[ "$(R cat --offset 2 --count 3 ark:rcl/t/a/b/c/deep.txt)" = llo ] || fail "cat range"
ok "check (size+MD5 and --download), md5sum = ETags, cat (unicode, +&=, empty, range)"

mp=$(s3c_big $((23 << 20)) $((11 << 20)))
head -c "$mp" /dev/urandom >"$T/mp.bin"
R copy --s3-upload-cutoff 5M --s3-chunk-size 5M --s3-upload-concurrency 2 \
	"$T/mp.bin" ark:rcl/mp || fail "multipart copy"
n=$(grep -c "PUT /rcl/mp/mp.bin 200" "$T/objectd.log") || true
[ "$n" = $(( (mp + (5 << 20) - 1) / (5 << 20) )) ] || fail "$n parts for $mp bytes"
R check --download "$T/mp.bin" ark:rcl/mp 2>"$T/check.log" || fail "check multipart: $(cat "$T/check.log")"
R cat ark:rcl/mp/mp.bin >"$T/mp.back" || fail "cat multipart"
[ "$(sha "$T/mp.back")" = "$(sha "$T/mp.bin")" ] || fail "multipart object differs"
rm -f "$T/mp.back"
ok "multipart copy of $mp bytes in 5 MiB chunks ($n parts), check, sha256 equal"

rm "$T/tree/a/one" "$T/tree/sp ace/f g h.txt"
echo "new" >"$T/tree/a/new file"
head -c 5000 /dev/urandom >"$T/tree/a/b/seventyk"
R sync "$T/tree" ark:rcl/t || fail "sync up"
R check "$T/tree" ark:rcl/t 2>"$T/check.log" || fail "check after sync: $(cat "$T/check.log")"
s3c_has "^a/one$" R lsf -R --files-only ark:rcl/t && fail "sync left a/one"
R sync ark:rcl/t "$T/down" || fail "sync down"
s3c_same_tree "$T/tree" "$T/down"
ok "sync up (added, changed, removed files), sync down (sha256 equal)"

R delete ark:rcl/t || fail "delete"
[ -z "$(R lsf -R --files-only ark:rcl/t)" ] || fail "files left after delete"
R purge ark:rcl || fail "purge"
s3c_has "^rcl/$" R lsf ark: && fail "bucket rcl left after purge"
ok "delete, purge"

objectd_stop
s3c_no_sanitizer_report
ok "clean stop"
