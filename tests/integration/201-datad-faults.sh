#!/bin/bash
# 201-datad-faults.sh - arkor-datad under faults: a client that drops
# mid-body leaves no needle (also after a restart); kill -9 during 8
# concurrent writers with --sync always loses no acknowledged needle and
# shows unacknowledged ones complete or not at all; a flipped byte in a
# chunk file is never served silently (small needles: 500; large ones
# sent by sendfile carry the stored CRC, which the body then fails) and
# /admin/scrub lists it in /status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/datad-lib.sh"
ark_timeout 150
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }

datad_start d1 "$T/d1" --scrub-rate 0

# --- client disconnects mid-body ---
F=5,dead00000001
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'PUT /%s HTTP/1.1\r\nHost: x\r\nX-Arkor-Token: %s\r\nContent-Length: 1000000\r\n\r\n' \
    "$F" "$(tok write $F)" >&3
head -c 300000 /dev/zero >&3
sleep 0.3
exec 3>&- 3<&-
sleep 0.3
[ "$(code GET $F)" = 404 ] || fail "truncated upload visible"
[ "$(code PUT $F --data-binary @<(head -c 5000 /dev/zero) -H 'Content-Type:')" = 201 ] ||
    fail "PUT after truncated upload of the same key"
G=5,dead00000002
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'PUT /%s HTTP/1.1\r\nHost: x\r\nX-Arkor-Token: %s\r\nContent-Length: 1000000\r\n\r\n' \
    "$G" "$(tok write $G)" >&3
head -c 400000 /dev/urandom >&3
exec 3>&- 3<&-
sleep 0.3
datad_stop
datad_start d1b "$T/d1" --scrub-rate 0
[ "$(code GET $G)" = 404 ] || fail "truncated upload visible after restart"
[ "$(code GET $F)" = 200 ] || fail "good needle lost after restart"
ok "disconnect mid-body leaves nothing (also after restart)"

# --- kill -9 during 8 concurrent writers (sync always) ---
for i in $(seq 0 15); do
	head -c $(( (i + 1) * 3000 + i )) /dev/urandom >"$T/p$i"
done
writer() {	# writer N: up to 150 PUTs; logs "fid file" on 2xx
	local w=$1 i fid f s
	for i in $(seq 1 150); do
		fid=6,$(printf '%x' $((w * 4096 + i + 1)))$(printf '%08x' $((w * 7 + i)))
		f=$T/p$(( (w + i) % 16 ))
		echo "$fid $f" >>"$T/tried.$w"
		s=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X PUT \
		    -H "X-Arkor-Token: $(tok write $fid)" -H 'Content-Type:' \
		    --data-binary @"$f" "$URL/$fid") || s=000
		case $s in
		2??) echo "$fid $f" >>"$T/acked.$w" ;;
		000) return 0 ;;
		esac
	done
}
pids=()
for w in $(seq 1 8); do writer $w & pids+=($!); done
# Kill once writes are being acknowledged (a loaded machine may take a
# while for the first), a little later so that some are in flight.
for _ in $(seq 300); do
	cat "$T"/acked.* 2>/dev/null | grep -q . && break
	sleep 0.1
done
sleep 1
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
for p in "${pids[@]}"; do wait "$p" || true; done
cat "$T"/acked.* >"$T/acked" 2>/dev/null || true
n=$(wc -l <"$T/acked")
[ "$n" -gt 0 ] || fail "no write acknowledged before the kill"
datad_start d1c "$T/d1" --scrub-rate 0
while read -r fid f; do
	[ "$(get_file $fid "$T/out")" = 200 ] || fail "acked $fid lost"
	cmp -s "$T/out" "$f" || fail "acked $fid differs"
done <"$T/acked"
cat "$T"/tried.* | sort >"$T/tried"
sort "$T/acked" | comm -23 "$T/tried" - >"$T/unacked"
u=0
while read -r fid f; do
	s=$(get_file $fid "$T/out")
	case $s in
	404) ;;
	200) cmp -s "$T/out" "$f" || fail "unacked $fid served but wrong" ;;
	*) fail "unacked $fid: $s" ;;
	esac
	u=$((u + 1))
done <"$T/unacked"
ok "kill -9 with 8 writers: $n acked all intact, $u unacked complete or absent"

# --- a flipped byte ---
head -c 3000 /dev/urandom >"$T/s"
head -c $((3 << 20)) /dev/urandom >"$T/l"
S=7,5100000001; L=7,1a00000002
[ "$(put_file $S "$T/s")" = 201 ] || fail "PUT small"
[ "$(put_file $L "$T/l")" = 201 ] || fail "PUT large"
flip() {	# flip KEYHEX: corrupts a data byte of that needle
	local c off
	for c in $(admin GET /resync/chunks | jq '.chunks[]'); do
		off=$(admin GET "/resync/list?chunk=$c&max=10000" |
		    jq -r ".records[] | select(.key == \"$1\") | .offset")
		if [ -n "$off" ]; then
			off=$((off + 32 + 100))
			b=$(dd if="$T/d1/chunks/chunk_$c.dat" bs=1 skip=$off count=1 2>/dev/null | xxd -p)
			printf "\\x$(printf '%02x' $(( 0x$b ^ 0xff )))" |
			    dd of="$T/d1/chunks/chunk_$c.dat" bs=1 seek=$off conv=notrunc 2>/dev/null
			return 0
		fi
	done
	fail "needle $1 not listed"
}
flip 51; flip 1a
[ "$(get_file $S "$T/out")" = 500 ] || fail "corrupt small needle served"
h=$(curl -s -D - -o "$T/out" -H "X-Arkor-Token: $(tok read $L)" "$URL/$L" | tr -d '\r')
want=$(curl -s -D - -o /dev/null -H "X-Arkor-Token: $(tok read $L)" "$URL/$L" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="x-arkor-crc32c" {print $2}')
! cmp -s "$T/out" "$T/l" || fail "flip not visible?"
grep -qi "^x-arkor-crc32c: $want" <<<"$h" || fail "large needle lacks its CRC"
admin POST /admin/scrub | jq -e '.bad >= 2' >/dev/null || fail "scrub missed it"
st=$(curl -s "$URL/status")
echo "$st" | jq -e '.corrupt >= 2' >/dev/null || fail "status corrupt: $st"
echo "$st" | jq -e '[.corrupt_list[].key] | index("51") != null and index("1a") != null' \
    >/dev/null || fail "corrupt list: $st"
ok "flipped bytes: small 500, large sent with its CRC, scrub lists both"
datad_stop
