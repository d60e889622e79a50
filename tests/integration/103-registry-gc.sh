#!/usr/bin/env bash
# 103-registry-gc: the GC deletes unreferenced fragments from every
# replica (two fake data servers in one group) with a delete token bound
# to the FileID, retries a replica that failed, and never deletes a
# fragment still referenced (a copy keeps it alive), including under
# concurrent overwrites.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/registry-lib.sh"
ark_timeout 120
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

ark_start ds1 python3 "$top_srcdir/tests/integration/fake-datad.py" "$T/ds1.port" "$T/ds1.log"
ark_start ds2 python3 "$top_srcdir/tests/integration/fake-datad.py" "$T/ds2.port" "$T/ds2.log" failfirst
ark_wait_file "$T/ds1.port"; ark_wait_file "$T/ds2.port"
touch "$T/ds1.log" "$T/ds2.log"
reg_start --replicas 2 --heartbeat-timeout 10m	# one beat per fake server, even on slow (ASan) runs
for n in 1 2; do
	api_ok /v1/server/heartbeat "{\"id\":\"ds$n\",\"url\":\"http://127.0.0.1:$(cat "$T/ds$n.port")\",\"free\":1000000000}" >/dev/null
done
api_ok /v1/user/create '{"name":"u"}' >/dev/null
api_ok /v1/bucket/create '{"bucket":"gcb","owner":"u"}' >/dev/null
api_ok /v1/assign '{"count":3}' | jget '"\n".join(a["fid"] for a in d["assignments"])' >"$T/fids"
A=$(sed -n 1p "$T/fids"); B=$(sed -n 2p "$T/fids"); C=$(sed -n 3p "$T/fids")
frag() { echo "{\"fid\":\"$1\",\"offset\":$2,\"length\":10,\"crc32c\":1}"; }
api_ok /v1/object/put "{\"bucket\":\"gcb\",\"key\":\"k1\",\"size\":20,\"fragments\":[$(frag "$A" 0),$(frag "$B" 10)]}" >/dev/null
api_ok /v1/object/copy '{"src_bucket":"gcb","src_key":"k1","bucket":"gcb","key":"k2"}' >/dev/null
api_ok /v1/object/put "{\"bucket\":\"gcb\",\"key\":\"k1\",\"size\":10,\"fragments\":[$(frag "$C" 0)]}" >/dev/null
api_ok /v1/gc/run '{}' >/dev/null
sleep 1
[ ! -s "$T/ds1.log" ] || fail "deleted a fragment still referenced by k2: $(cat "$T/ds1.log")"
api_ok /v1/fid/status "{\"fids\":[\"$A\",\"$C\",\"9,100000001\"]}" |
	jget '[(f["referenced"], f["gc"]) for f in d["fids"]]' |
	grep -qx "\[(True, 'none'), (True, 'none'), (False, 'none')\]" || fail "fid status: $(cat "$T/out")"
api_ok /v1/object/delete '{"bucket":"gcb","key":"k2"}' >/dev/null
api_ok /v1/gc/run '{}' >/dev/null
# ds2 fails the first DELETE of each fid: retried after the 1 s backoff
for _ in $(seq 1 100); do
	[ "$(wc -l <"$T/ds1.log")" -ge 2 ] && [ "$(wc -l <"$T/ds2.log")" -ge 2 ] && break
	sleep 0.1
done
for n in 1 2; do
	[ "$(cut -d' ' -f1 "$T/ds$n.log" | sort -u | tr '\n' ' ')" = "$(printf '%s\n' "$A" "$B" | sort | tr '\n' ' ')" ] ||
		fail "ds$n deleted: $(cat "$T/ds$n.log")"
done
python3 - "$T/reg/cluster.key" "$T/ds1.log" <<'PY' || fail "delete tokens do not verify"
import base64, hashlib, hmac, sys
key = bytes.fromhex(open(sys.argv[1]).read().strip())
for line in open(sys.argv[2]):
    fid, tok = line.split()
    exp, mac = tok.split(".")
    msg = b"arkor-token-v1\0delete\0" + exp.encode() + b"\0" + fid.encode()
    want = base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode().rstrip("=")
    assert hmac.compare_digest(want, mac), line
PY
api_ok /v1/stat '{}' | jget 'd["gc_queued"]' | grep -qx 0 || fail "queue not drained: $(cat "$T/out")"
m=$(curl -sS "$REG/metrics")
grep -Eq '^arkor_registry_gc_deleted_total [1-9]' <<<"$m" || fail "gc metric"
grep -Eq '^arkor_registry_gc_retries_total [1-9]' <<<"$m" || fail "gc retry metric"
grep -Eq '^arkor_registry_commits_total [1-9]' <<<"$m" || fail "commit metric"
ok "GC: referenced fragments kept, unreferenced deleted on both replicas with delete tokens, failed replica retried"

# Concurrent overwrites of 4 keys while copies pin some versions: at the
# end, no fragment referenced by any object was deleted.
api_ok /v1/assign '{"count":400}' | jget '"\n".join(a["fid"] for a in d["assignments"])' >"$T/pool"
POOL=$T/pool
overwriter() {
	local n=$1 i=0 f
	while [ $i -lt 50 ]; do
		f=$(sed -n "$((n * 100 + i * 2 + 1))p" "$POOL")
		api /v1/object/put "{\"bucket\":\"gcb\",\"key\":\"hot$n\",\"size\":10,\"fragments\":[$(frag "$f" 0)]}" >/dev/null
		if [ $((i % 7)) = 0 ]; then
			api /v1/object/copy "{\"src_bucket\":\"gcb\",\"src_key\":\"hot$n\",\"bucket\":\"gcb\",\"key\":\"pin$n-$i\"}" >/dev/null
		fi
		i=$((i + 1))
	done
}
# each writer needs its own $T/out and $T/code
opids=()
for n in 0 1 2 3; do (T="$T/w$n"; mkdir -p "$T"; overwriter $n) & opids+=($!); done
for p in "${opids[@]}"; do wait "$p"; done
api_ok /v1/gc/run '{}' >/dev/null
for _ in $(seq 1 100); do
	q=$(api_ok /v1/stat '{}' | jget 'd["gc_queued"]')
	[ "$q" = 0 ] && break
	sleep 0.2
done
[ "$q" = 0 ] || fail "GC queue not drained: $q"
: >"$T/live"
tok=""
for _ in $(seq 1 10); do
	api_ok /v1/list "{\"bucket\":\"gcb\",\"max_keys\":1000${tok:+,\"token\":\"$tok\"}}" >"$T/page"
	for k in $(jget '" ".join(k["key"] for k in d["keys"])' <"$T/page"); do
		api_ok /v1/object/get "{\"bucket\":\"gcb\",\"key\":\"$k\"}" | jget '"\n".join(f["fid"] for f in d["fragments"])' >>"$T/live"
	done
	tok=$(jget 'd.get("next_token", "")' <"$T/page")
	[ -n "$tok" ] || break
done
sort -u -o "$T/live" "$T/live"
cut -d' ' -f1 "$T/ds1.log" | sort -u >"$T/deleted"
both=$(comm -12 "$T/live" "$T/deleted" | wc -l)
[ "$both" = 0 ] || fail "$both live fragments were deleted: $(comm -12 "$T/live" "$T/deleted" | head -3)"
[ "$(wc -l <"$T/deleted")" -gt 100 ] || fail "too few deletions: $(wc -l <"$T/deleted")"
ok "concurrent overwrites: $(wc -l <"$T/deleted") fragments deleted, none of the $(wc -l <"$T/live") live ones"

reg_stop
ok "clean stop"
