#!/usr/bin/env bash
# 020-local-cluster: README's local cluster (tools/arkor-cluster) starts
# every daemon built so far, they answer and store data, and one SIGINT
# (Ctrl-C) stops them all with exit status 0, leaving no process behind.
. "$top_srcdir/tests/integration/lib.sh"
ark_timeout 90
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

[ -x "$top_builddir/arkor-datad" ] || { echo "SKIP: arkor-datad not built"; exit 77; }
# A port base nobody else uses: random below the ephemeral range (where
# port-0 listeners of parallel tests land), then checked free.
for _ in $(seq 20); do
	base=$(( (RANDOM % 220) * 100 + 10000 ))
	busy=0
	for p in $base $((base + 80)) $((base + 101)) $((base + 102)) $((base + 103)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && busy=1
	done
	[ $busy = 0 ] && break
done
# As from a terminal: its own process group, SIGINT not ignored (a
# script's background jobs start with SIGINT ignored).
ARKOR_PORT_BASE=$base python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp(sys.argv[1], sys.argv[1:])' "$top_srcdir/tools/arkor-cluster" \
	"$top_builddir" "$T/run" >"$T/cluster.out" 2>&1 &
cpid=$!
ARK_PIDS+=($cpid)
for _ in $(seq 200); do
	grep -q 'running; press Ctrl-C' "$T/cluster.out" && break
	kill -0 $cpid 2>/dev/null || break
	sleep 0.1
done
grep -q 'running; press Ctrl-C' "$T/cluster.out" || { cat "$T/cluster.out"; fail "cluster did not start"; }
cat "$T/cluster.out"

daemons=$(cat "$T"/run/*.port | wc -l)
[ "$daemons" -ge 3 ] || fail "expected at least 3 daemons, found $daemons port files"
for i in 1 2 3; do
	u="http://127.0.0.1:$((base + 100 + i))"
	curl -sf "$u/health" | grep -q '"status":"ok"' || fail "data$i /health"
	fid="1,1f$i""0000abc"
	tok=$("$top_builddir/tests/integration/ark-token" "$T/run/cluster.key" write "$fid")
	printf 'replica %s\n' "$i" >"$T/in$i"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Arkor-Token: $tok" \
		--data-binary @"$T/in$i" "$u/$fid")
	[ "$code" = 201 ] || fail "data$i PUT: $code"
	tok=$("$top_builddir/tests/integration/ark-token" "$T/run/cluster.key" read "$fid")
	curl -sf -H "X-Arkor-Token: $tok" "$u/$fid" | cmp -s - "$T/in$i" || fail "data$i GET"
done
ok "three data servers store and serve"

if [ -x "$top_builddir/arkor-registryd" ]; then
	# The data servers registered and were placed in one writable group
	# of three; the first start created the admin's access key.
	ctl() { "$top_builddir/arkorctl" -k "$T/run/cluster.key" \
		-r "http://127.0.0.1:$base" --json "$@"; }
	for _ in $(seq 100); do
		ctl group list >"$T/groups.json" 2>/dev/null &&
		    jq -e '.groups | length == 1 and .[0].writable and
			(.[0].servers | length == 3)' "$T/groups.json" >/dev/null && break
		sleep 0.2
	done
	jq -e '.groups | length == 1 and .[0].writable and (.[0].servers | length == 3)' \
		"$T/groups.json" >/dev/null || fail "no writable group of 3: $(cat "$T/groups.json")"
	grep -q '^access key id: *AK' "$T/run/admin.credentials" || fail "no admin credentials"
	grep -q 'arkor-cluster: admin  secret access key' "$T/cluster.out" || fail "credentials not printed"
	ok "registry: one writable group of three, admin key created"
fi

if [ -x "$top_builddir/arkor-objectd" ] && [ -x "$top_builddir/arkor-registryd" ] &&
    command -v aws >/dev/null; then
	# The printed `aws configure` lines and endpoint work as printed.
	export AWS_CONFIG_FILE="$T/aws.config" AWS_SHARED_CREDENTIALS_FILE="$T/aws.creds"
	unset AWS_CA_BUNDLE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE \
		AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
		AWS_DEFAULT_REGION 2>/dev/null || true
	grep -q "^arkor-cluster: S3 endpoint  http://127.0.0.1:$((base + 80))" \
		"$T/cluster.out" || fail "S3 endpoint not printed"
	sed -n 's/^arkor-cluster: \(aws configure set .*\)$/\1/p' "$T/cluster.out" >"$T/awsconf"
	[ "$(wc -l <"$T/awsconf")" = 3 ] || fail "aws configure lines not printed"
	while read -r line; do $line || fail "$line"; done <"$T/awsconf"
	aws --endpoint-url "http://127.0.0.1:$((base + 80))" s3 mb s3://clustertest >/dev/null ||
		fail "aws s3 mb against the printed endpoint"
	aws --endpoint-url "http://127.0.0.1:$((base + 80))" s3 ls | grep -q clustertest ||
		fail "aws s3 ls against the printed endpoint"
	ok "S3 endpoint: aws s3 ls works with the printed configuration"
fi

kill -INT -- -$cpid		# Ctrl-C: the whole process group
rc=0; wait $cpid || rc=$?
[ $rc -eq 0 ] || fail "arkor-cluster exit status $rc after SIGINT"
for p in $(pgrep -f "$T/run" || true); do
	fail "process $p still running after stop: $(tr '\0' ' ' </proc/$p/cmdline)"
done
grep -c '^arkor-cluster: stopped' "$T/cluster.out" | grep -q "^$daemons$" ||
	fail "not every daemon reported stopped"
ok "Ctrl-C stops everything cleanly"
