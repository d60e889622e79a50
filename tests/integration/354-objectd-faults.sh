#!/usr/bin/env bash
# 354-objectd-faults: a data server killed (SIGKILL) during large uploads,
# with two groups of three. The cluster of cluster-lib.sh gets a second
# group; objects written before the failure span both groups. While a
# multipart `aws s3 cp` and a single streamed PutObject are in flight,
# one server of group 1 dies. Each upload must succeed (its fragments
# retried in group 2) or fail with a clean S3 error; afterwards every
# listed object reads back byte-identical, GETs (whole and ranged) keep
# working with one replica down, and new uploads go to group 2. Then a
# server of group 2 dies too: with no whole group left an upload fails
# quickly with 503 SlowDown and commits nothing, and reads still work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/s3c-lib.sh"
AWS=aws
[ -x /usr/bin/aws ] && AWS=/usr/bin/aws
command -v "$AWS" >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB --window 4
A() { "$AWS" --endpoint-url "$S3" "$@"; }
CTL() { "$top_builddir/arkorctl" -k "$T/reg/cluster.key" -r "http://$REG" "$@"; }

for i in 4 5 6; do
	cluster_datad "$i"
done
# groups: "<id>:<writable>:<servers, comma separated>" per line.
groups() {
	CTL --json group list | python3 -c '
import json, sys
for g in json.load(sys.stdin)["groups"]:
    print("%s:%s:%s" % (g["id"], int(g["writable"]), ",".join(g["servers"])))'
}
n=0
until [ "$(groups | grep -c ':1:')" = 2 ]; do
	n=$((n + 1)); [ $n -lt 150 ] || fail "no second writable group: $(groups)"
	sleep 0.2
done
echo "groups: $(groups | tr '\n' ' ')"
# The victim: a server of the group that holds datad1's port.
victim_port=$(cat "$T/data1.port")
CTL --json server list | python3 -c '
import json, sys
port = sys.argv[1]
for s in json.load(sys.stdin)["servers"]:
    if s["url"].rstrip("/").endswith(":" + port):
        print(s["group"], s["id"])' "$victim_port" >"$T/victim"
read -r victim_group victim_id <"$T/victim" || fail "datad1 not registered"
ok "two writable groups of three; victim datad1 ($victim_id) in group $victim_group"

# Objects written before the failure: their fragments are spread over
# both groups (1 MiB fragments, groups picked at random per fragment).
A s3 mb s3://faults >/dev/null || fail "mb"
mkdir -p "$T/src/pre"
for i in 1 2 3 4 5 6; do
	head -c $((i * 700000)) /dev/urandom >"$T/src/pre/$i"
done
A s3 cp "$T/src/pre" s3://faults/pre --recursive --only-show-errors || fail "upload pre/"
ok "six objects of 0.7-4.2 MiB written before the failure"

big=$(s3c_big $((96 << 20)) $((40 << 20)))
head -c "$big" /dev/urandom >"$T/src/big-mp"
head -c "$big" /dev/urandom >"$T/src/big-put"
# The CLI retries a 503 SlowDown by itself (up to 3 more attempts); an
# upload that still fails must fail with an S3 error, not hang or die.
A s3 cp "$T/src/big-mp" s3://faults/big-mp --only-show-errors >"$T/up-mp.log" 2>&1 &
up_mp=$!
A s3api put-object --bucket faults --key big-put --body "$T/src/big-put" \
	>"$T/up-put.log" 2>&1 &
up_put=$!
ARK_PIDS+=("$up_mp" "$up_put")
# Kill once the uploads have stored some 16 MiB more on the victim
# (bounded wait), in the middle of both.
base=$(du -sk "$T/data1" | cut -f1)
n=0
while [ $(( $(du -sk "$T/data1" | cut -f1) - base )) -lt 16384 ]; do
	n=$((n + 1)); [ $n -lt 600 ] || fail "uploads stored nothing on datad1 in 30 s"
	sleep 0.05
done
kill -KILL "$PID_datad1"
wait "$PID_datad1" 2>/dev/null || true
echo "killed datad1 (pid $PID_datad1) with $(du -sh "$T/data1" | cut -f1) stored"
rc_mp=0; rc_put=0
wait "$up_mp" || rc_mp=$?
wait "$up_put" || rc_put=$?
for u in mp put; do
	eval "rc=\$rc_$u"
	if [ "$rc" = 0 ]; then
		ok "upload big-$u succeeded despite the failure"
	else
		cat "$T/up-$u.log"
		grep -Eq '\((SlowDown|ServiceUnavailable|InternalError|IncompleteBody|RequestTimeout)\)' \
			"$T/up-$u.log" || fail "upload big-$u failed without a clean S3 error"
		ok "upload big-$u failed cleanly: $(grep -Eo '\([A-Za-z]+\)' "$T/up-$u.log" | head -1)"
	fi
done
nfail=$(grep -c "fragment .*: replica write failed" "$T/objectd.log") || true
[ "$nfail" -gt 0 ] || fail "no replica write failed: the kill came too late to test anything"
echo "replica writes failed: $nfail; 503 answers: $(grep -c ' 503 in=' "$T/objectd.log")"
kill -0 "$PID_objectd" || fail "arkor-objectd died"

# Every listed object reads back byte-identical (twice: a dead replica
# is tried first about a third of the time).
A s3api list-objects-v2 --bucket faults --query 'Contents[].Key' \
	--output text | tr '\t' '\n' >"$T/keys" || fail "list"
echo "listed: $(tr '\n' ' ' <"$T/keys")"
for round in 1 2; do
	rm -rf "$T/down"
	A s3 cp s3://faults "$T/down" --recursive --only-show-errors ||
		fail "round $round: GETs with one replica down"
	while read -r k; do
		[ -f "$T/src/$k" ] || fail "unexpected key $k"
		cmp -s "$T/down/$k" "$T/src/$k" || fail "round $round: $k differs"
	done <"$T/keys"
done
[ "$(grep -c '^pre/' "$T/keys")" = 6 ] || fail "not all six pre/ objects listed"
for k in big-mp big-put; do
	eval "rc=\$rc_${k#big-}"
	if [ "$rc" = 0 ] && ! grep -qx "$k" "$T/keys"; then
		fail "$k succeeded but is not listed"
	fi
done
A s3api get-object --bucket faults --key pre/6 --range bytes=1000000-3999999 \
	"$T/range" >/dev/null || fail "ranged GET with one replica down"
cmp -s "$T/range" <(tail -c +1000001 "$T/src/pre/6" | head -c 3000000) || fail "range bytes"
ok "every listed object reads back byte-identical (twice), ranged GET too"

# Once the registry noticed (heartbeat timeout), the group is not
# writable and new uploads all go to the other group.
n=0
until s3c_has "^$victim_group:0:" groups; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "group $victim_group still writable: $(groups)"
	sleep 0.2
done
A s3 cp "$T/src/pre" s3://faults/post --recursive --only-show-errors ||
	fail "uploads after the failure"
rm -rf "$T/down"
A s3 cp s3://faults/post "$T/down" --recursive --only-show-errors || fail "GET post/"
s3c_same_tree "$T/src/pre" "$T/down"
ok "group $victim_group read-only; new uploads and reads work"

# No whole group left: a server of the other group dies as well.
other=$(groups | grep -v "^$victim_group:" | cut -d: -f1)
for i in 4 5 6; do
	p=$(cat "$T/data$i.port")
	s3c_has "127.0.0.1:$p" CTL --json server list || fail "datad$i not registered"
done
kill -KILL "$PID_datad4"
wait "$PID_datad4" 2>/dev/null || true
head -c $((3 << 20)) /dev/urandom >"$T/late"
for when in before after; do
	if [ $when = after ]; then
		n=0
		until s3c_has "^$other:0:" groups; do
			n=$((n + 1)); [ $n -lt 100 ] || fail "group $other still writable"
			sleep 0.2
		done
	fi
	start=$(date +%s)
	out=$(AWS_MAX_ATTEMPTS=1 A s3api put-object --bucket faults --key late \
		--body "$T/late" 2>&1) && fail "upload with no whole group worked ($when timeout)"
	grep -q "(SlowDown)" <<<"$out" || fail "no whole group ($when timeout): $out"
	[ $(( $(date +%s) - start )) -lt 60 ] || fail "SlowDown took over 60 s"
	A s3api head-object --bucket faults --key late >/dev/null 2>&1 &&
		fail "object committed despite SlowDown"
done
rm -rf "$T/down"
A s3 cp s3://faults/pre "$T/down" --recursive --only-show-errors ||
	fail "GETs with one replica down in each group"
s3c_same_tree "$T/src/pre" "$T/down"
ok "both groups degraded: uploads answer 503 SlowDown (before and after the heartbeat timeout), reads work"

objectd_stop
s3c_no_sanitizer_report
ok "clean stop"
