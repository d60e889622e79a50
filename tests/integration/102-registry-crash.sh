#!/usr/bin/env bash
# 102-registry-crash: kill -9 arkor-registryd during a stream of commits
# from concurrent writers, restart it: every acknowledged commit is there,
# and the FileID counter never hands out a key again.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/registry-lib.sh"
ark_timeout 120
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

reg_start --key-batch 7
api_ok /v1/server/heartbeat '{"id":"ds1","url":"http://127.0.0.1:9","free":1000000000}' >/dev/null
api_ok /v1/user/create '{"name":"u"}' >/dev/null
api_ok /v1/bucket/create '{"bucket":"crash","owner":"u"}' >/dev/null
api_ok /v1/assign '{"count":20}' | jget '"\n".join(a["fid"] for a in d["assignments"])' >"$T/fids.before"

# writer N: commits crash/wN/<i> until the registry dies; logs each
# acknowledged key. Bounded: at most 3000 commits. Odd writers are lazy
# (answered before the fsync, as arkorfs's closes): a killed process
# loses none of them either.
writer() {
	local n=$1 i=0 code lazy=
	[ $((n % 2)) = 1 ] && lazy=',"durable":false'
	while [ $i -lt 3000 ]; do
		code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST \
			-H "Authorization: Arkor-Service $SVC_TOKEN" \
			--data-binary "{\"bucket\":\"crash\",\"key\":\"w$n/$i\",\"size\":1,\"fragments\":[{\"fid\":\"1,$(printf %x $((n * 100000 + i + 1)))00000001\",\"offset\":0,\"length\":1,\"crc32c\":0}]$lazy}" \
			"$REG/v1/object/put" 2>/dev/null) || break
		[ "$code" = 200 ] || break
		echo "w$n/$i" >>"$T/acked.$n"
		i=$((i + 1))
	done
}
wpids=()
for n in 1 2 3 4; do writer $n & wpids+=($!); done
# Kill once enough commits were acknowledged (a loaded machine is slow to
# start them; bounded), then a little later so that some are in flight.
for _ in $(seq 600); do
	[ "$(cat "$T"/acked.* 2>/dev/null | wc -l)" -gt 20 ] && break
	sleep 0.1
done
sleep 1
kill -KILL "$PID_registryd"
for p in "${wpids[@]}"; do wait "$p" || true; done
cat "$T"/acked.* | sort >"$T/acked"
acked=$(wc -l <"$T/acked")
[ "$acked" -gt 20 ] || fail "only $acked commits before the kill"
ok "$acked commits acknowledged before kill -9"

reg_start --key-batch 7
: >"$T/listed"; tok=""
for _ in $(seq 1 20); do
	body="{\"bucket\":\"crash\",\"max_keys\":10000${tok:+,\"token\":\"$tok\"}}"
	api_ok /v1/list "$body" >"$T/page"
	jget '"\n".join(k["key"] for k in d["keys"])' <"$T/page" >>"$T/listed"
	tok=$(jget 'd.get("next_token", "")' <"$T/page")
	[ -n "$tok" ] || break
done
sort -o "$T/listed" "$T/listed"
missing=$(comm -23 "$T/acked" "$T/listed" | wc -l)
[ "$missing" = 0 ] || fail "$missing acknowledged commits lost: $(comm -23 "$T/acked" "$T/listed" | head -5)"
api_ok /v1/stat '{}' | jget 'd["objects"]' >"$T/nobj"
[ "$(cat "$T/nobj")" = "$(sed '/^$/d' "$T/listed" | wc -l)" ] || fail "bucket counters disagree with the listing"
ok "all $acked acknowledged commits present after restart ($(cat "$T/nobj") objects)"

api_ok /v1/server/heartbeat '{"id":"ds1","url":"http://127.0.0.1:9","free":1000000000}' >/dev/null
api_ok /v1/assign '{"count":20}' | jget '"\n".join(a["fid"] for a in d["assignments"])' >"$T/fids.after"
python3 - "$T/fids.before" "$T/fids.after" <<'PY' || fail "FileID key reused after restart"
import sys
key = lambda f: int(f.split(",")[1][:-8], 16)
before = {key(l) for l in open(sys.argv[1]) if l.strip()}
after = {key(l) for l in open(sys.argv[2]) if l.strip()}
assert len(before) == 20 and len(after) == 20
assert min(after) > max(before), (sorted(before), sorted(after))
PY
ok "FileID keys after restart are all new"

reg_stop
ok "clean stop"
