#!/bin/bash
# 200-datad-basic.sh - arkor-datad HTTP API with curl: round trips (0 B,
# small, 20 MiB) by SHA-256, ranges, tokens, cookies, conflicts, 411,
# DELETE, /status, /metrics, resync to a second server, SIGTERM exit 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/datad-lib.sh"
ark_timeout 120
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }

datad_start d1 "$T/d1" --group 3
A=3,abc12345678			# key abc, cookie 12345678
B=3,abd00000000
C=3,abe0badf00d
Z=3,abf00000001

: >"$T/empty"
printf 'hello, arkor\n' >"$T/small"
head -c $((20 << 20)) /dev/urandom >"$T/big"
head -c 1000 /dev/urandom >"$T/other"

# --- round trips ---
[ "$(put_file $A "$T/small")" = 201 ] || fail "PUT small"
[ "$(put_file $Z "$T/empty")" = 201 ] || fail "PUT empty"
[ "$(put_file $B "$T/big")" = 201 ] || fail "PUT 20 MiB"
for f in "$A small" "$Z empty" "$B big"; do
	set -- $f
	[ "$(get_file $1 "$T/out")" = 200 ] || fail "GET $1"
	[ "$(sha "$T/out")" = "$(sha "$T/$2")" ] || fail "GET $1: content"
done
ok "round trips 0 B, 13 B, 20 MiB"

h=$(curl -s -D - -o /dev/null -H "X-Arkor-Token: $(tok read $A)" "$URL/$A")
grep -qi '^X-Arkor-Crc32c: [0-9a-f]\{8\}' <<<"$h" || fail "no CRC header"
grep -qi '^X-Arkor-Size: 13' <<<"$h" || fail "no size header"
h=$(curl -s -I -H "X-Arkor-Token: $(tok read $B)" "$URL/$B")
grep -qi '^Content-Length: 20971520' <<<"$h" || fail "HEAD length"
ok "headers, HEAD"

# --- ranges ---
r() { curl -s -o "$T/r" -w '%{http_code}' -H "Range: $2" \
    -H "X-Arkor-Token: $(tok read $1)" "$URL/$1"; }
[ "$(r $A bytes=0-4)" = 206 ] && [ "$(cat "$T/r")" = hello ] || fail "range a-b"
[ "$(r $A bytes=7-)" = 206 ] && [ "$(cat "$T/r")" = arkor ] || fail "range a-"
[ "$(r $A bytes=-6)" = 206 ] && [ "$(cat "$T/r")" = arkor ] || fail "range -n"
[ "$(r $A bytes=5-1000)" = 206 ] || fail "range past end"
[ "$(r $A bytes=13-)" = 416 ] || fail "range unsatisfiable"
[ "$(r $Z bytes=0-)" = 416 ] || fail "range on empty needle"
[ "$(r $B bytes=10485760-10485769)" = 206 ] || fail "range in big"
cmp -s "$T/r" <(tail -c +10485761 "$T/big" | head -c 10) || fail "big range bytes"
h=$(curl -s -D - -o /dev/null -H 'Range: bytes=-5' \
    -H "X-Arkor-Token: $(tok read $B)" "$URL/$B")
grep -qi '^Content-Range: bytes 20971515-20971519/20971520' <<<"$h" ||
    fail "Content-Range"
ok "ranges"

# --- tokens ---
s=$(curl -s -o "$T/e" -w '%{http_code}' "$URL/$A")
[ "$s" = 403 ] && grep -q 'missing token' "$T/e" || fail "no token: $s"
s=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Arkor-Token: $(tok read $B)" "$URL/$A")
[ "$s" = 403 ] || fail "token of another fid: $s"
s=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Arkor-Token: $(tok write $A)" "$URL/$A")
[ "$s" = 403 ] || fail "write token used to read: $s"
s=$(curl -s -o "$T/e" -w '%{http_code}' -H "X-Arkor-Token: $(tok read $A -10)" "$URL/$A")
[ "$s" = 403 ] && grep -q 'expired' "$T/e" || fail "expired token: $s"
s=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Arkor-Token: 123.abc" "$URL/$A")
[ "$s" = 403 ] || fail "garbage token: $s"
s=$(curl -s -o /dev/null -w '%{http_code}' "$URL/$A?token=$(tok read $A)")
[ "$s" = 200 ] || fail "token in query: $s"
ok "tokens"

# --- cookies, groups, FileIDs ---
[ "$(code GET 3,abc87654321)" = 404 ] || fail "wrong cookie"
[ "$(code GET 4,abc12345678)" = 404 ] || fail "other group"
[ "$(code GET 3,ABC12345678)" = 400 ] || fail "uppercase fid"
[ "$(code GET 3,0abc12345678)" = 400 ] || fail "leading zero key"
[ "$(code GET 3,12345678)" = 400 ] || fail "fid without key"
ok "cookies, groups, FileID syntax"

# --- rewrites, conflicts, lengths ---
[ "$(put_file $A "$T/small")" = 200 ] || fail "idempotent rewrite"
[ "$(put_file $A "$T/other")" = 409 ] || fail "conflicting rewrite"
printf 'hello, arkoR\n' >"$T/small2"
[ "$(put_file $A "$T/small2")" = 409 ] || fail "same size, other bytes"
[ "$(put_file 3,abc0000abcd "$T/small")" = 409 ] || fail "same key, other cookie"
s=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Transfer-Encoding: chunked' \
    -H "X-Arkor-Token: $(tok write $C)" --data-binary @"$T/small" "$URL/$C")
[ "$s" = 411 ] || fail "chunked PUT: $s"
s=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Arkor-Token: $(tok write $C)" "$URL/$C")
[ "$s" = 411 ] || fail "PUT without length: $s"
[ "$(code PUT $C --data-binary @"$T/small" -H 'X-Arkor-Crc32c: 00000000')" = 400 ] ||
    fail "CRC mismatch"
[ "$(code GET $C)" = 404 ] || fail "needle after CRC mismatch"
crc=$(curl -s -D - -o /dev/null -H "X-Arkor-Token: $(tok read $A)" "$URL/$A" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="x-arkor-crc32c" {print $2}')
[ "$(code PUT $C --data-binary @"$T/small" -H "X-Arkor-Crc32c: $crc")" = 201 ] ||
    fail "PUT with right CRC"
[ "$(code PUT $C --data-binary @"$T/small" -H "X-Arkor-Crc32c: zz")" = 400 ] ||
    fail "bad CRC header"
ok "rewrites 200/409, 411, CRC"

# --- DELETE ---
[ "$(code DELETE $C)" = 204 ] || fail "DELETE"
[ "$(code GET $C)" = 404 ] || fail "GET after DELETE"
[ "$(code DELETE $C)" = 404 ] || fail "DELETE missing"
ok "delete"

# --- status, metrics, health ---
st=$(curl -s "$URL/status")
[ "$(echo "$st" | jq .needles)" = 3 ] || fail "status needles: $st"
[ "$(echo "$st" | jq .group)" = 3 ] || fail "status group"
[ "$(echo "$st" | jq .readonly)" = false ] || fail "status readonly"
curl -s "$URL/metrics" | grep -q '^arkor_datad_requests_total{op="put"}' || fail metrics
curl -s "$URL/health" | jq -e '.status == "ok"' >/dev/null || fail health
ok "status, metrics, health"

# --- admin and resync: copy chunk 0 to a second server ---
s=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/admin/scrub")
[ "$s" = 403 ] || fail "admin without token: $s"
admin POST /admin/scrub | jq -e '.bad == 0 and .checked >= 3' >/dev/null ||
    fail "scrub"
admin GET /resync/chunks | jq -e '.chunks == [0]' >/dev/null || fail "chunks"
admin GET '/resync/list?chunk=0&max=2' >"$T/l1"
[ "$(jq '.records | length' "$T/l1")" = 2 ] || fail "list max"
next=$(jq .next "$T/l1")
admin GET "/resync/list?chunk=0&from=$next" >"$T/l2"
[ "$(jq '[.records[] | select(.tombstone)] | length' "$T/l2")" = 1 ] ||
    fail "tombstone listed"
: >"$T/raw"; from=0
for i in $(seq 1 20); do
	curl -s -D "$T/rh" -o "$T/piece" -H "X-Arkor-Token: $(tok admin '*')" \
	    "$URL/resync/raw?chunk=0&from=$from&max_bytes=65536"
	grep -q '^HTTP/1.1 204' "$T/rh" && break
	cat "$T/piece" >>"$T/raw"
	from=$(tr -d '\r' <"$T/rh" | awk -F': ' 'tolower($1)=="x-arkor-next" {print $2}')
done
[ -s "$T/raw" ] || fail "raw ranges"
U1=$URL; P1=$DPID
datad_start d2 "$T/d2" --group 3
admin POST /resync/import --data-binary @"$T/raw" -H 'Content-Type:' >"$T/imp"
jq -e '.applied >= 4' "$T/imp" >/dev/null || fail "import: $(cat "$T/imp")"
for f in "$A small" "$Z empty" "$B big"; do
	set -- $f
	[ "$(get_file $1 "$T/out")" = 200 ] || fail "resynced GET $1"
	[ "$(sha "$T/out")" = "$(sha "$T/$2")" ] || fail "resynced $1 content"
done
[ "$(code GET $C)" = 404 ] || fail "resynced deleted needle"
ok "admin scrub, resync chunks/list/raw/import"
datad_stop

# --- restart keeps everything; SIGTERM exits 0 ---
URL=$U1; DPID=$P1
datad_stop
datad_start d1b "$T/d1" --group 3
[ "$(get_file $B "$T/out")" = 200 ] && [ "$(sha "$T/out")" = "$(sha "$T/big")" ] ||
    fail "after restart"
[ "$(curl -s "$URL/status" | jq .needles)" = 3 ] || fail "needles after restart"
datad_stop
ok "restart, SIGTERM exit 0"
