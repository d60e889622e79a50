# cluster-lib.sh - a whole local cluster for the object server scenarios
# (sourced after lib.sh): one registry, three data servers forming one
# group of three replicas, the admin's access key (arkorctl init), and
# arkor-objectd. Every daemon listens on port 0 and writes a port file; the
# data servers derive their public URL from the bound port.

# cluster_datad I [PORT]: starts data server I ($T/dataI, port file
# $T/dataI.port, log datadI.log, PID_datadI) against $REG on PORT (default:
# any), with the scenarios' settings (fast heartbeats, no fsync, no
# scrub).
cluster_datad() {
	mkdir -p "$T/data$1"
	ark_start "datad$1" "$top_builddir/arkor-datad" \
		--listen "127.0.0.1:${2:-0}" --port-file "$T/data$1.port" \
		--data-dir "$T/data$1" --cluster-key "$T/reg/cluster.key" \
		--registry "$REG" --heartbeat-interval 200ms --threads 2 \
		--sync none --scrub-rate 0 --min-free 0
}

# cluster_wait_writable N: waits (15 s at most) until exactly N groups
# take writes.
cluster_wait_writable() {
	local n=0
	until [ "$("$top_builddir/arkorctl" -k "$T/reg/cluster.key" \
	    -r "http://$REG" --json group list 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for g in json.load(sys.stdin)["groups"] if g["writable"]))' \
	    2>/dev/null)" = "$1" ]; do
		n=$((n + 1)); [ $n -lt 150 ] || fail "not $1 writable groups"
		sleep 0.1
	done
}

# cluster_start [OBJECTD ARGS...]: sets REG, S3 (endpoint URL), S3_PORT,
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
cluster_start() {
	local i n
	mkdir -p "$T/reg"
	ark_start registryd "$top_builddir/arkor-registryd" \
		--listen 127.0.0.1:0 --port-file "$T/reg.port" \
		--data-dir "$T/reg" --threads 2 --heartbeat-timeout 5s
	ark_wait_file "$T/reg.port"
	REG="127.0.0.1:$(cat "$T/reg.port")"
	for i in 1 2 3; do
		cluster_datad "$i"
	done
	for i in 1 2 3; do ark_wait_file "$T/data$i.port"; done
	"$top_builddir/arkorctl" -k "$T/reg/cluster.key" -r "http://$REG" \
		init >"$T/admin.credentials" || fail "arkorctl init"
	AWS_ACCESS_KEY_ID=$(awk -F': *' '/^access key id/ {print $2}' "$T/admin.credentials")
	AWS_SECRET_ACCESS_KEY=$(awk -F': *' '/^secret access key/ {print $2}' "$T/admin.credentials")
	[ -n "$AWS_ACCESS_KEY_ID" ] && [ -n "$AWS_SECRET_ACCESS_KEY" ] ||
		fail "no credentials from arkorctl init: $(cat "$T/admin.credentials")"
	n=0
	until "$top_builddir/arkorctl" -k "$T/reg/cluster.key" -r "http://$REG" \
	    --json group list 2>/dev/null | python3 -c '
import json, sys
g = json.load(sys.stdin)["groups"]
sys.exit(0 if g and g[0]["writable"] and len(g[0]["servers"]) == 3 else 1)'; do
		n=$((n + 1)); [ $n -lt 150 ] || fail "no writable group of three"
		sleep 0.2
	done
	ark_start objectd "$top_builddir/arkor-objectd" \
		--listen 127.0.0.1:0 --port-file "$T/objectd.port" \
		--registry "$REG" --cluster-key "$T/reg/cluster.key" --threads 2 "$@"
	ark_wait_file "$T/objectd.port"
	S3_PORT=$(cat "$T/objectd.port")
	S3="http://127.0.0.1:$S3_PORT"
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
	export AWS_CONFIG_FILE="$T/aws.config" AWS_SHARED_CREDENTIALS_FILE="$T/aws.creds"
	unset AWS_CA_BUNDLE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE \
		AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true
}

# cluster_user NAME: a user NAME with an access key of its own; sets
# USER_KEY_ID and USER_SECRET.
cluster_user() {
	local k
	"$top_builddir/arkorctl" -k "$T/reg/cluster.key" -r "http://$REG" \
		user create "$1" >/dev/null || fail "user create $1"
	k=$("$top_builddir/arkorctl" -k "$T/reg/cluster.key" -r "http://$REG" \
		--json key create "$1") || fail "key create $1"
	USER_KEY_ID=$(echo "$k" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_id"])')
	USER_SECRET=$(echo "$k" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
}

# s3 ARGS...: the aws CLI against the object server.
awss3() { aws --endpoint-url "$S3" "$@"; }

# objectd_stop: SIGTERM; exit 0 and no sanitizer report.
objectd_stop() {
	local rc=0
	kill -TERM "$PID_objectd"
	wait "$PID_objectd" || rc=$?
	if grep -q "Sanitizer\|runtime error" "$T/objectd.log"; then
		cat "$T/objectd.log" >&2
		fail "sanitizer report from arkor-objectd"
	fi
	[ $rc = 0 ] || fail "arkor-objectd exit status $rc after SIGTERM"
}
