#!/bin/bash
# 203-datad-compact-batch.sh - compaction over HTTP and --sync batch.
#  - 1 MiB chunks: fill chunk 0, delete most of it, POST
#    /admin/compact?chunk=0 while a reader loops over a survivor: every
#    read is 200 and byte-identical, the chunk file shrinks, dead bytes
#    go, deleted needles stay 404 across a restart; 404 for an unknown
#    chunk, 403 without the admin token; POST /admin/compact (by ratio).
#  - --sync batch: an ack waits for the batched fdatasync (latency close
#    to --sync-batch-delay), concurrent writers share syncs, and after
#    kill -9 every acknowledged needle reads back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/datad-lib.sh"
ark_timeout 240
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }

fid() { printf '5,%x%08x' "$1" 3735928559; }	# key, cookie deadbeef
st() { curl -s "$URL/status" | jq -r "$1"; }

# ---------------------------------------------------------------- compaction
datad_start c1 "$T/c" --group 5 --chunk-size 1MiB --sync none \
    --compact-ratio 0 --scrub-rate 0
N=24					# 24 x 64 KiB > 1 MiB: chunk 1 starts
for i in $(seq 1 $N); do
	head -c 65536 /dev/urandom >"$T/n$i"
	[ "$(put_file "$(fid $i)" "$T/n$i")" = 201 ] || fail "PUT $i"
done
[ "$(st .chunks)" -ge 2 ] || fail "no second chunk: $(curl -s "$URL/status")"
# Needles 1..4 live in chunk 0 (its first 256 KiB); delete the rest of
# chunk 0's needles (5..12) and one in chunk 1 (20).
for i in 5 6 7 8 9 10 11 12 20; do
	[ "$(code DELETE "$(fid $i)")" = 204 ] || fail "DELETE $i"
done
size0=$(stat -c %s "$T/c/chunk_0.dat" 2>/dev/null || find "$T/c" -name '*0.dat' -printf '%s\n' | head -1)
dead0=$(st .dead_bytes)
[ "$dead0" -gt $((8 * 65536)) ] || fail "dead bytes before: $dead0"

s=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/admin/compact?chunk=0")
[ "$s" = 403 ] || fail "compact without token: $s"
s=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H "X-Arkor-Token: $(tok admin '*')" "$URL/admin/compact?chunk=77")
[ "$s" = 404 ] || fail "compact unknown chunk: $s"

# A reader loops over survivor 2 (bounded) while chunk 0 is compacted.
( for j in $(seq 1 400); do
	[ -e "$T/stop-reader" ] && break
	s=$(get_file "$(fid 2)" "$T/rd")
	if [ "$s" != 200 ] || ! cmp -s "$T/rd" "$T/n2"; then
		echo "bad read $j: $s" >>"$T/reader.err"
	fi
	echo "$j" >"$T/reader.count"
done ) &
RPID=$!
ARK_PIDS+=($RPID)
for _ in $(seq 100); do [ -s "$T/reader.count" ] && break; sleep 0.05; done
admin POST '/admin/compact?chunk=0' >"$T/compact.json"
jq -e '.compacted == 1' "$T/compact.json" >/dev/null ||
    fail "compact chunk 0: $(cat "$T/compact.json")"
sleep 0.3
: >"$T/stop-reader"
wait $RPID || true
[ ! -s "$T/reader.err" ] || fail "reads during compaction: $(head -3 "$T/reader.err")"
[ "$(cat "$T/reader.count")" -ge 1 ] || fail "reader never ran"

size1=$(stat -c %s "$T/c/chunk_0.dat" 2>/dev/null || find "$T/c" -name '*0.dat' -printf '%s\n' | head -1)
[ "$size1" -lt $((size0 - 8 * 65536)) ] || fail "chunk 0 not smaller: $size0 -> $size1"
dead1=$(st .dead_bytes)
[ "$dead1" -lt $((dead0 - 8 * 65536)) ] || fail "dead bytes after: $dead0 -> $dead1"
[ "$(st .compactions)" -ge 1 ] || fail "compactions not counted"
check_all() {	# check_all WHAT: survivors byte-identical, deleted 404
	for i in $(seq 1 $N); do
		case " 5 6 7 8 9 10 11 12 20 " in
		*" $i "*) [ "$(code GET "$(fid $i)")" = 404 ] ||
		    fail "$1: deleted $i is back" ;;
		*) [ "$(get_file "$(fid $i)" "$T/out")" = 200 ] &&
		    cmp -s "$T/out" "$T/n$i" || fail "$1: needle $i" ;;
		esac
	done
}
check_all "after compaction"
ok "compaction of chunk 0 over HTTP: reads go on, space returns ($size0 -> $size1 bytes)"

datad_stop
datad_start c2 "$T/c" --group 5 --chunk-size 1MiB --sync none \
    --compact-ratio 0.5 --scrub-rate 0
check_all "after restart"
# By ratio: chunk 0 is all live now, so nothing passes a 0.5 share.
admin POST /admin/compact | jq -e '.compacted == 0' >/dev/null ||
    fail "compact by ratio"
[ "$(st .needles)" = $((N - 9)) ] || fail "needles after restart: $(st .needles)"
datad_stop
ok "compacted store after restart: survivors intact, deletes stay deleted"

# ---------------------------------------------------------------- sync batch
DELAY_MS=300
datad_start b1 "$T/b" --group 5 --sync batch \
    --sync-batch-delay ${DELAY_MS}ms --scrub-rate 0
[ "$(st .sync)" = batch ] || fail "status sync: $(st .sync)"
head -c 4096 /dev/urandom >"$T/b0"
t0=$(date +%s%N)
[ "$(put_file "$(fid 1000)" "$T/b0")" = 201 ] || fail "batch PUT"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -ge $((DELAY_MS / 2)) ] || fail "ack after ${ms} ms: did not wait for the batched sync"
[ "$ms" -lt 10000 ] || fail "ack after ${ms} ms"
s0=$(st .syncs)
W=16
args=()
for i in $(seq 1 $W); do
	head -c 4096 /dev/urandom >"$T/b$i"
	f=$(fid $((1000 + i)))
	args+=(-o /dev/null -T "$T/b$i" "$URL/$f?token=$(tok write "$f")")
done
# One curl, W transfers in parallel: all land within one batch window.
curl -s --no-progress-meter -Z --parallel-max $W -w '%{http_code}\n' "${args[@]}" \
    >"$T/batch.codes"
[ "$(grep -c '^201$' "$T/batch.codes")" = $W ] ||
    fail "concurrent batch PUTs: $(sort "$T/batch.codes" | uniq -c | tr '\n' ' ')"
s1=$(st .syncs)
[ $((s1 - s0)) -le $((W / 2)) ] ||
    fail "$W concurrent writers took $((s1 - s0)) syncs"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null || true
datad_start b2 "$T/b" --group 5 --sync batch --scrub-rate 0
for i in $(seq 0 $W); do
	[ "$(get_file "$(fid $((1000 + i)))" "$T/out")" = 200 ] &&
	    cmp -s "$T/out" "$T/b$i" || fail "acked batch needle $i after kill -9"
done
datad_stop
ok "--sync batch: ack after ${ms} ms (delay ${DELAY_MS} ms), $W writers in $((s1 - s0)) syncs, all acked needles survive kill -9"
