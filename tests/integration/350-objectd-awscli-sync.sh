#!/usr/bin/env bash
# 350-objectd-awscli-sync: the aws CLI (Debian's /usr/bin/aws when
# present) against a local cluster: `aws s3 sync` of a tree with nested
# directories, an empty file and names with spaces, '+', '&' and unicode,
# up and back down (sha256 of every file), a second sync that finds
# nothing to do, sync --delete; a 200 MiB multipart upload (40 MiB under
# ARKOR_SANITIZED=1) and its download; ls --recursive; rm --recursive;
# presigned URLs fetched with curl (and an expired one refused); curl's
# own --aws-sigv4.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/s3c-lib.sh"
AWS=aws
[ -x /usr/bin/aws ] && AWS=/usr/bin/aws
command -v "$AWS" >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4
A() { "$AWS" --endpoint-url "$S3" "$@"; }
echo "client: $("$AWS" --version 2>&1)"

A s3 mb s3://sync >/dev/null || fail "mb"
s3c_tree "$T/tree"
A s3 sync "$T/tree" s3://sync/up --only-show-errors || fail "sync up"
n=$(A s3 ls s3://sync/up/ --recursive | wc -l)
[ "$n" = $S3C_TREE_FILES ] || fail "ls --recursive lists $n objects, not $S3C_TREE_FILES: $(A s3 ls s3://sync --recursive)"
s3c_has ' 0 up/empty$' A s3 ls s3://sync/up/ --recursive || fail "empty file not listed with size 0"
s3c_has 'fïlé ñ 日本.txt$' A s3 ls "s3://sync/up/ünï cödé/" || fail "unicode key not listed"
A s3 sync s3://sync/up "$T/down" --only-show-errors || fail "sync down"
s3c_same_tree "$T/tree" "$T/down"
ok "sync up and down: $S3C_TREE_FILES files, nested, empty, odd and unicode names (sha256 equal)"

out=$(A s3 sync "$T/tree" s3://sync/up) || fail "second sync"
[ -z "$out" ] || fail "second sync transferred again: $out"
rm "$T/tree/a/one"
echo "changed" >"$T/tree/a/b/c/deep.txt"
touch -d '+1 hour' "$T/tree/a/b/c/deep.txt"
A s3 sync "$T/tree" s3://sync/up --delete --only-show-errors || fail "sync --delete"
rm -rf "$T/down"
A s3 sync s3://sync/up "$T/down" --only-show-errors || fail "sync down again"
s3c_same_tree "$T/tree" "$T/down"
ok "second sync is a no-op; sync --delete removes and updates"

big=$(s3c_big $((200 << 20)) $((40 << 20)))
head -c "$big" /dev/urandom >"$T/big"
A s3 cp "$T/big" s3://sync/big --only-show-errors || fail "multipart upload of $big bytes"
A s3api head-object --bucket sync --key big >"$T/head.json" || fail "head big"
python3 - "$T/head.json" "$big" <<'PY' || fail "head big: $(cat "$T/head.json")"
import json, re, sys
h = json.load(open(sys.argv[1]))
assert h["ContentLength"] == int(sys.argv[2]), h
n = int(re.fullmatch(r'"[0-9a-f]{32}-(\d+)"', h["ETag"]).group(1))
assert n == (int(sys.argv[2]) + (8 << 20) - 1) // (8 << 20), h
PY
A s3 cp s3://sync/big "$T/big.back" --only-show-errors || fail "download big"
[ "$(sha "$T/big.back")" = "$(sha "$T/big")" ] || fail "big object differs"
rm -f "$T/big.back"
ok "multipart upload of $big bytes in 8 MiB parts, downloaded (sha256 equal)"

url=$(A s3 presign s3://sync/big --expires-in 300) || fail "presign"
curl -sf -o "$T/big.back" "$url" || fail "curl of a presigned URL"
[ "$(sha "$T/big.back")" = "$(sha "$T/big")" ] || fail "presigned download differs"
rm -f "$T/big.back" "$T/big"
url=$(A s3 presign "s3://sync/up/ünï cödé/fïlé ñ 日本.txt") || fail "presign unicode"
[ "$(curl -sf "$url")" = "café" ] || fail "presigned unicode key"
case ${url: -1} in 0) bad=${url%?}1 ;; *) bad=${url%?}0 ;; esac
out=$(curl -s -w ' %{http_code}' "$bad") || true
case $out in *SignatureDoesNotMatch*403) ;; *) fail "tampered presigned URL: $out" ;; esac
url=$(A s3 presign s3://sync/up/empty --expires-in 1) || fail "presign 1 s"
sleep 2.2
out=$(curl -s -w ' %{http_code}' "$url") || true
case $out in *AccessDenied*403) ;; *) fail "expired presigned URL: $out" ;; esac
ok "presigned URLs with curl: 200 MiB object, unicode key; tampered and expired 403"

# curl's own SigV4 (7.x sends no x-amz-content-sha256): GET, HEAD and
# DELETE sign an empty payload; a PUT must declare UNSIGNED-PAYLOAD, else
# its body does not match the empty hash it signed and nothing is stored.
C() { curl -s --aws-sigv4 aws:amz:us-east-1:s3 \
	--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@"; }
# (curl 7.88 signs the path as typed, not URI-encoded the way AWS does:
# keys with + ; ( ) and the like fail against AWS too.)
[ "$(C "$S3/sync/up/sp%20ace/f%20g%20h.txt")" = spaces ] || fail "curl --aws-sigv4 GET"
out=$(C -I -o /dev/null -w '%{http_code}' "$S3/sync/up/empty") || true
[ "$out" = 200 ] || fail "curl --aws-sigv4 HEAD: $out"
out=$(C -w ' %{http_code}' -T "$T/tree/a/b/c/deep.txt" "$S3/sync/curl") || true
case $out in *XAmzContentSHA256Mismatch*400) ;; *) fail "curl PUT, no payload hash: $out" ;; esac
out=$(C -o /dev/null -w '%{http_code}' "$S3/sync/curl") || true
[ "$out" = 404 ] || fail "curl PUT with a mismatching payload committed: $out"
C -f -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$T/tree/a/b/c/deep.txt" \
	"$S3/sync/curl" || fail "curl --aws-sigv4 PUT UNSIGNED-PAYLOAD"
cmp -s <(C "$S3/sync/curl") "$T/tree/a/b/c/deep.txt" || fail "curl PUT bytes"
out=$(C -X DELETE -o /dev/null -w '%{http_code}' "$S3/sync/curl") || true
[ "$out" = 204 ] || fail "curl --aws-sigv4 DELETE: $out"
ok "curl --aws-sigv4: GET, HEAD, PUT (UNSIGNED-PAYLOAD; undeclared body refused), DELETE"

A s3 rm s3://sync --recursive --only-show-errors || fail "rm --recursive"
[ -z "$(A s3 ls s3://sync --recursive)" ] || fail "objects left after rm --recursive"
A s3 rb s3://sync >/dev/null || fail "rb"
ok "rm --recursive, rb"

objectd_stop
s3c_no_sanitizer_report
ok "clean stop"
