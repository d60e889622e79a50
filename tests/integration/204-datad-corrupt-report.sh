#!/bin/bash
# 204-datad-corrupt-report.sh - a corrupt needle found by the scrub reaches
# the registry with the next heartbeat: server/list shows it (key, chunk,
# offset) and arkorctl server list counts it; the registry refuses a
# malformed corrupt list with a 400 naming the field.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/datad-lib.sh"
. "$(dirname "$0")/registry-lib.sh"
ark_timeout 120
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }

mkdir -p "$T/reg"
cp "$KEY" "$T/reg/cluster.key"		# one secret for both daemons
reg_start
datad_start d1 "$T/d1" --group 1 --registry "127.0.0.1:${REG##*:}" \
    --heartbeat-interval 200ms --scrub-rate 0
servers() { curl -sS -H "Authorization: Arkor-Service $SVC_TOKEN" \
    "$REG/v1/server/list"; }
for _ in $(seq 100); do
	servers | jq -e '.servers | length == 1' >/dev/null && break
	sleep 0.1
done
servers | jq -e '.servers[0].state == "up" and (.servers[0] | has("corrupt") | not)' \
    >/dev/null || fail "server not registered clean: $(servers)"
G=$(servers | jq '.servers[0].group')

head -c 5000 /dev/urandom >"$T/s"
F=$G,5a00c0ffee
[ "$(put_file $F "$T/s")" = 201 ] || fail "PUT"
off=$(admin GET "/resync/list?chunk=0" |
    jq -r '.records[] | select(.key == "5a") | .offset')
[ -n "$off" ] || fail "needle not listed"
off=$((off + 32 + 100))			# a data byte
b=$(od -An -tu1 -j $off -N1 "$T/d1/chunks/chunk_0.dat" | tr -d ' ')
printf "\\$(printf '%03o' $(( b ^ 0xff )))" |
    dd of="$T/d1/chunks/chunk_0.dat" bs=1 seek=$off conv=notrunc 2>/dev/null
admin POST /admin/scrub | jq -e '.bad == 1' >/dev/null || fail "scrub missed it"

for _ in $(seq 100); do
	servers | jq -e '.servers[0].corrupt | length == 1' >/dev/null 2>&1 && break
	sleep 0.1
done
servers | jq -e --argjson o $((off - 32 - 100)) \
    '.servers[0].corrupt == [{"key": "5a", "chunk": 0, "offset": $o}]' \
    >/dev/null || fail "corrupt list at the registry: $(servers)"
grep -q 'reports 1 corrupt needle' "$T/registryd.log" || fail "registry did not log it"
"$top_builddir/arkorctl" -r "$REG" -k "$T/reg/cluster.key" server list \
    >"$T/ctl" || fail "arkorctl server list"
awk 'NR == 2 { exit !($(NF - 1) == 1) }' "$T/ctl" || fail "arkorctl: $(cat "$T/ctl")"
ok "scrub finding -> heartbeat -> registry server/list and arkorctl"

# The registry validates the list like every other field.
hb() { api /v1/server/heartbeat "{\"id\":\"x1\",\"url\":\"http://127.0.0.1:1\",\"free\":1,\"corrupt\":$1}" >/dev/null; cat "$T/code"; }
[ "$(hb '[{"key":"5a","chunk":0,"offset":8}]')" = 200 ] || fail "valid list refused"
[ "$(hb '[{"key":"5A","chunk":0,"offset":8}]')" = 400 ] || fail "uppercase key"
grep -q '"field":"corrupt.key"' "$T/out" || fail "field not named: $(cat "$T/out")"
[ "$(hb '[{"key":"5a","chunk":-1,"offset":8}]')" = 400 ] || fail "negative chunk"
[ "$(hb '[{"key":"5a","chunk":0,"offset":8,"x":1}]')" = 400 ] || fail "unknown member"
[ "$(hb '"5a"')" = 400 ] || fail "not an array"
big=$(python3 -c 'import json; print(json.dumps([{"key":"1","chunk":0,"offset":8}] * 65))')
[ "$(hb "$big")" = 400 ] || fail "65 entries"
ok "malformed corrupt lists: 400 naming the field"
datad_stop
reg_stop
