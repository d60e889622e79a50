# registry-lib.sh - helpers for the registry scenarios (sourced after
# lib.sh): start arkor-registryd on port 0, mint a service token from the
# cluster key with python3 (same HMAC as common/token.c), call the API.

# reg_start [ARGS...]: starts the registry with its data dir in $T/reg.
reg_start() {
	rm -f "$T/reg.port"
	ark_start registryd "$top_builddir/arkor-registryd" \
		--listen 127.0.0.1:0 --port-file "$T/reg.port" \
		--data-dir "$T/reg" --threads 2 --write-threads 16 --replicas 1 \
		--heartbeat-timeout 10m --gc-interval 200ms "$@"
	ark_wait_file "$T/reg.port"
	REG="http://127.0.0.1:$(cat "$T/reg.port")"
	SVC_TOKEN=$(svc_token "$T/reg/cluster.key")
}

# svc_token KEYFILE [OP] [SUBJECT] [TTL]: prints a token.
svc_token() {
	python3 - "$1" "${2:-admin}" "${3:-arkor-service}" "${4:-3600}" <<'PY'
import base64, hashlib, hmac, sys, time
key = bytes.fromhex(open(sys.argv[1]).read().strip())
exp = str(int(time.time()) + int(sys.argv[4]))
msg = b"arkor-token-v1\0" + sys.argv[2].encode() + b"\0" + exp.encode() + \
    b"\0" + sys.argv[3].encode()
mac = hmac.new(key, msg, hashlib.sha256).digest()
print(exp + "." + base64.urlsafe_b64encode(mac).decode().rstrip("="))
PY
}

# api PATH JSON: POST as the service; body to stdout, status in $T/code.
api() {
	curl -sS -o "$T/out" -w '%{http_code}' -X POST \
		-H "Authorization: Arkor-Service $SVC_TOKEN" \
		-H 'Content-Type: application/json' --data-binary "$2" \
		"$REG$1" >"$T/code"
	cat "$T/out"
}

# api_ok PATH JSON: like api, failing the test unless the status is 200.
api_ok() {
	local out
	out=$(api "$1" "$2")
	[ "$(cat "$T/code")" = 200 ] || { echo "FAIL: $1 $2 -> $(cat "$T/code") $out" >&2; exit 1; }
	printf '%s' "$out"
}

# jq-like field extraction with python3: jget 'expr on d' < json
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# reg_stop: SIGTERM, then the registry must exit 0 with no sanitizer
# report in its log.
reg_stop() {
	local rc=0
	kill -TERM "$PID_registryd"
	wait "$PID_registryd" || rc=$?
	if grep -q "Sanitizer\|runtime error" "$T/registryd.log"; then
		cat "$T/registryd.log" >&2
		fail "sanitizer report from arkor-registryd"
	fi
	[ $rc = 0 ] || fail "arkor-registryd exit status $rc after SIGTERM"
}

# signed_call KEYID SECRET PATH JSON [TS_OFFSET]: POST with Arkor-HMAC
# request signing; body to $T/out, prints the status.
signed_call() {
	local auth
	auth=$(python3 - "$1" "$2" "$3" "$4" "${5:-0}" <<'PY'
import base64, hashlib, hmac, sys, time
kid, sec, path, body, off = sys.argv[1:6]
ts = str(int(time.time()) + int(off))
msg = "arkor-req-v1\nPOST\n%s\n%s\n%s" % (path, ts, hashlib.sha256(body.encode()).hexdigest())
sig = base64.urlsafe_b64encode(hmac.new(sec.encode(), msg.encode(), hashlib.sha256).digest()).decode().rstrip("=")
print("%s:%s:%s" % (kid, ts, sig))
PY
)
	curl -sS -o "$T/out" -w '%{http_code}' -X POST -H "Authorization: Arkor-HMAC $auth" \
		--data-binary "$4" "$REG$3"
}
