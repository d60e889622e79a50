#!/bin/bash
# 105-registry-assign-gc.sh - FileIDs assigned but never committed are
# collected: with a real data server, needles written under assigned
# FileIDs whose object commit never came are deleted once the write token
# expired plus --assign-grace, also across a kill -9 of the registry;
# committed ones stay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/datad-lib.sh"
. "$(dirname "$0")/registry-lib.sh"
ark_timeout 150
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

REGARGS=(--token-ttl 10s --assign-grace 1s --gc-interval 200ms)
mkdir -p "$T/reg"
cp "$KEY" "$T/reg/cluster.key"
reg_start "${REGARGS[@]}"
datad_start d1 "$T/d1" --group 1 --registry "127.0.0.1:${REG##*:}" \
    --heartbeat-interval 200ms --scrub-rate 0
for _ in $(seq 100); do
	api /v1/assign '{}' >/dev/null; [ "$(cat "$T/code")" = 200 ] && break
	sleep 0.1
done
[ "$(cat "$T/code")" = 200 ] || fail "group never writable: $(cat "$T/out")"
api_ok /v1/user/create '{"name":"u"}' >/dev/null
api_ok /v1/bucket/create '{"bucket":"bkt","owner":"u"}' >/dev/null

head -c 3000 /dev/urandom >"$T/data"
# assign_put N: assigns N FileIDs and stores the data under each with the
# assignment's own URL and token; prints the fids.
assign_put() {
	api_ok /v1/assign "{\"count\":$1}" >"$T/as.json"
	jq -r '.assignments[] | "\(.fid) \(.urls[0]) \(.token)"' "$T/as.json" |
	while read -r f u t; do
		s=$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
		    -H "X-Arkor-Token: $t" --data-binary @"$T/data" "$u/$f")
		[ "$s" = 201 ] || { echo "PUT $f: $s" >&2; exit 1; }
		echo "$f"
	done
}
commit() {	# commit KEY FID
	api_ok /v1/object/put "{\"bucket\":\"bkt\",\"key\":\"$1\",\"size\":3000,\"fragments\":[{\"fid\":\"$2\",\"offset\":0,\"length\":3000,\"crc32c\":1}]}" >/dev/null
}
present() { [ "$(code GET "$1")" = 200 ]; }

assign_put 3 >"$T/f1" || fail "assign + PUT"
A=$(sed -n 1p "$T/f1"); B=$(sed -n 2p "$T/f1"); C=$(sed -n 3p "$T/f1")
api_ok /v1/assign '{"count":1}' | jq -r '.assignments[0].fid' >"$T/f2"
D=$(cat "$T/f2")			# assigned, nothing ever written
commit kA "$A"
for f in $A $B $C; do present "$f" || fail "$f not stored"; done

# Not before the write tokens expired: an uncommitted FileID may still be
# written and committed.
api_ok /v1/gc/run '{}' >/dev/null
sleep 1
present "$B" || fail "collected $B before its token expired"

# After expiry + grace (10 s + 1 s): B and C go, A stays; D's DELETE is a
# 404 on the data server, which counts as done.
for _ in $(seq 300); do
	! present "$B" && ! present "$C" && break
	sleep 0.1
done
! present "$B" && ! present "$C" || fail "uncommitted needles not collected"
present "$A" || fail "committed needle $A deleted"
api_ok /v1/object/get '{"bucket":"bkt","key":"kA"}' >/dev/null
for _ in $(seq 100); do
	api_ok /v1/stat '{}' | jq -e '.gc_queued == 0' >/dev/null && break
	sleep 0.1
done
api_ok /v1/stat '{}' | jq -e '.gc_queued == 0' >/dev/null ||
    fail "queue not drained: $(cat "$T/out")"
grep -q 'assigned FileIDs never committed' "$T/registryd.log" ||
    fail "not logged"
# D expires a moment after B and C: wait for its DELETE too.
want='[[true,"none"],[false,"deleted"],[false,"deleted"]]'
for _ in $(seq 100); do
	api_ok /v1/fid/status "{\"fids\":[\"$A\",\"$B\",\"$D\"]}" |
	    jq -c '[.fids[] | [.referenced, .gc]]' >"$T/st"
	[ "$(cat "$T/st")" = "$want" ] && break
	sleep 0.1
done
[ "$(cat "$T/st")" = "$want" ] || fail "fid status: $(cat "$T/out")"
ok "uncommitted needles collected after token expiry + grace; committed kept"

# A writer that stalled past the grace commits at last: its data is gone,
# so the commit must be refused (409), not point at a deleted needle.
api /v1/object/put "{\"bucket\":\"bkt\",\"key\":\"late\",\"size\":3000,\"fragments\":[{\"fid\":\"$B\",\"offset\":0,\"length\":3000,\"crc32c\":1}]}" >/dev/null
[ "$(cat "$T/code")" = 409 ] && jq -e '.error == "fragment_deleted"' "$T/out" >/dev/null ||
    fail "late commit of a collected FileID: $(cat "$T/code") $(cat "$T/out")"
api /v1/object/get '{"bucket":"bkt","key":"late"}' >/dev/null
[ "$(cat "$T/code")" = 404 ] || fail "refused commit left an object"
ok "a late commit of a collected FileID is refused with fragment_deleted"

# The record is durable: assign, store, kill -9 the registry at once;
# the restarted registry still collects it.
assign_put 1 >"$T/f3" || fail "assign + PUT before crash"
E=$(cat "$T/f3")
kill -9 "$PID_registryd"
wait "$PID_registryd" 2>/dev/null || true
reg_start "${REGARGS[@]}"
for _ in $(seq 300); do ! present "$E" && break; sleep 0.1; done
! present "$E" || fail "needle of a FileID assigned before kill -9 not collected"
present "$A" || fail "committed needle deleted after restart"
ok "assigned FileIDs survive kill -9 of the registry and are still collected"
datad_stop
reg_stop
