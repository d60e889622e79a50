#!/usr/bin/env bash
# 011-svc-endpoints: every daemon's standard endpoints (common/svc), seen
# through http-echod: /health answers JSON, /metrics is Prometheus text whose
# counters move with traffic, other methods get 405, SIGTERM removes the
# port file and exits 0.
. "$top_srcdir/tests/integration/lib.sh"
ark_timeout 60
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

ark_start echod "$top_builddir/tests/integration/http-echod" \
	--listen 127.0.0.1:0 --port-file "$T/port" --threads 2
ark_wait_file "$T/port"
u="http://127.0.0.1:$(cat "$T/port")"

h=$(curl -sS -w '\n%{http_code} %{content_type}' "$u/health")
echo "$h" | tail -1 | grep -q '^200 application/json' || fail "/health: $h"
head -1 <<<"$h" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "ok" and d["program"] == "http-echod", d
assert isinstance(d["uptime_s"], int) and d["uptime_s"] >= 0, d
' || fail "/health body: $h"
ok "/health"

count2xx() {
	curl -sS "$u/metrics" | awk '/^arkor_http_requests_total\{class="2xx"\}/ {print $2}'
}
m=$(curl -sS -D "$T/mh" "$u/metrics")
grep -qi '^content-type: text/plain; version=0.0.4' "$T/mh" || fail "metrics content type"
grep -q '^# TYPE arkor_http_requests_total counter$' <<<"$m" || fail "no TYPE line"
grep -Eq '^process_resident_memory_bytes [0-9]+' <<<"$m" || fail "no process metrics"
before=$(count2xx)
for _ in 1 2 3 4 5; do curl -sS -o /dev/null "$u/small"; done
after=$(count2xx)
# five /small plus the /metrics request that read "before"
[ $((after - before)) -eq 6 ] || fail "2xx counter moved by $((after - before)), want 6"
ok "/metrics counts requests ($before -> $after)"

code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$u/metrics")
[ "$code" = 405 ] || fail "POST /metrics: $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$u/nope")
[ "$code" = 404 ] || fail "GET /nope: $code"
ok "405 and 404"

kill -TERM "$PID_echod"
wait "$PID_echod" || fail "exit status $? after SIGTERM"
[ ! -e "$T/port" ] || fail "port file left behind"
ok "clean stop"
