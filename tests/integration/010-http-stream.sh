#!/usr/bin/env bash
# 010-http-stream.sh - streaming bodies through the HTTP server (http-echod):
# a 2 GiB upload with bounded server memory, an echo both ways, Expect:
# 100-continue, sendfile, generated downloads, and the same over TLS.
# Under ARKOR_SANITIZED=1 the upload is 512 MiB and the RSS bound is skipped.
. "$top_srcdir/tests/integration/lib.sh"

ark_timeout 600

ECHOD="$top_builddir/tests/integration/http-echod"
[ -x "$ECHOD" ] || fail "missing $ECHOD"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }

# A sanitizer build is also recognised by its runtime library.
if [ -z "${ARKOR_SANITIZED:-}" ] && ldd "$ECHOD" 2>/dev/null | grep -q libasan
then
	ARKOR_SANITIZED=1
fi
if [ "${ARKOR_SANITIZED:-0}" = 1 ]; then
	BIG=$((512 * 1024 * 1024))
else
	BIG=$((2 * 1024 * 1024 * 1024))
fi
ECHO_SIZE=$((256 * 1024 * 1024))
RSS_LIMIT_KB=$((64 * 1024))

# Deterministic fast byte stream: AES-128-CTR over zeros.
# openssl dies of SIGPIPE when head is done: not an error (pipefail).
gen() {
	{ openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f \
	    -iv 00000000000000000000000000000000 </dev/zero 2>/dev/null ||
	    true; } | head -c "$1"
}

json_field() {	# json_field FILE KEY
	sed -n "s/.*\"$2\":\"\{0,1\}\([0-9a-f]*\)\"\{0,1\}[,}].*/\1/p" "$1"
}

ark_start echod "$ECHOD" --listen 127.0.0.1:0 --port-file "$T/port" \
    --threads 2
ark_wait_file "$T/port"
PORT=$(cat "$T/port")
URL="http://127.0.0.1:$PORT"
curl -sS --max-time 10 -o /dev/null "$URL/small" || fail "server not answering"
ok "http-echod on port $PORT"

# 1. Big streamed upload (chunked, from a pipe).
gen "$BIG" | tee >(sha256sum | cut -d' ' -f1 >"$T/sent.sha") |
    curl -sS --fail --max-time 500 -T - "$URL/sink" -o "$T/sink.json" ||
    fail "upload failed"
ark_wait_file "$T/sent.sha" 30
got_bytes=$(json_field "$T/sink.json" bytes)
got_sha=$(json_field "$T/sink.json" sha256)
[ "$got_bytes" = "$BIG" ] || fail "sink counted $got_bytes bytes, sent $BIG"
[ "$got_sha" = "$(cat "$T/sent.sha")" ] || fail "sink sha256 mismatch"
ok "upload of $BIG bytes: count and sha256 match"

hwm=$(ark_hwm_kb "$PID_echod")
if [ "${ARKOR_SANITIZED:-0}" = 1 ]; then
	echo "skipped: RSS bound under sanitizers (peak ${hwm} KiB)"
else
	[ "$hwm" -lt "$RSS_LIMIT_KB" ] ||
	    fail "server peak RSS ${hwm} KiB >= ${RSS_LIMIT_KB} KiB"
	ok "server peak RSS ${hwm} KiB < ${RSS_LIMIT_KB} KiB"
fi

# 2. Echo: the body comes back streamed (chunked) with back-pressure.
gen "$ECHO_SIZE" | sha256sum | cut -d' ' -f1 >"$T/echo.sent"
gen "$ECHO_SIZE" | curl -sS --fail --max-time 300 -T - "$URL/echo" |
    sha256sum | cut -d' ' -f1 >"$T/echo.got"
cmp -s "$T/echo.sent" "$T/echo.got" || fail "echo sha256 mismatch"
ok "echo of $ECHO_SIZE bytes matches"

# 3. Expect: 100-continue with a known length.
gen $((8 * 1024 * 1024)) >"$T/file8m"
curl -sS --fail -v --http1.1 -H 'Expect: 100-continue' -T "$T/file8m" \
    "$URL/sink" -o "$T/expect.json" 2>"$T/expect.trace" ||
    fail "expect upload failed"
grep -q '100 Continue' "$T/expect.trace" || fail "no 100 Continue seen"
[ "$(json_field "$T/expect.json" sha256)" = \
    "$(sha256sum <"$T/file8m" | cut -d' ' -f1)" ] || fail "expect sha256"
ok "Expect: 100-continue"

# 4. sendfile and a generated download.
[ "$(curl -sS --fail "$URL/file?path=$T/file8m" | sha256sum)" = \
    "$(sha256sum <"$T/file8m")" ] || fail "file download differs"
n=$(curl -sS --fail "$URL/bytes?n=100000000" | wc -c)
[ "$n" -eq 100000000 ] || fail "/bytes gave $n bytes"
ok "sendfile and /bytes downloads"

# 5. TLS: same server code over OpenSSL bufferevents.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
    fail "cannot make a test certificate"
ark_start echods "$ECHOD" --listen 127.0.0.1:0 --port-file "$T/tport" \
    --threads 1 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
ark_wait_file "$T/tport"
TURL="https://127.0.0.1:$(cat "$T/tport")"
curl -sS --fail -k -T "$T/file8m" "$TURL/sink" -o "$T/tls.json" ||
    fail "TLS upload failed"
[ "$(json_field "$T/tls.json" sha256)" = \
    "$(sha256sum <"$T/file8m" | cut -d' ' -f1)" ] || fail "TLS sha256"
[ "$(curl -sS --fail -k "$TURL/file?path=$T/file8m" | sha256sum)" = \
    "$(sha256sum <"$T/file8m")" ] || fail "TLS file download differs"
[ "$(gen $((32 * 1024 * 1024)) | curl -sS --fail -k -T - "$TURL/echo" |
    sha256sum)" = "$(gen $((32 * 1024 * 1024)) | sha256sum)" ] ||
    fail "TLS echo differs"
ok "TLS upload, sendfile fallback and echo"

# 6. Clean shutdown on SIGTERM.
kill -TERM "$PID_echod"
wait "$PID_echod" || fail "http-echod exited with $?"
grep -q 'stopped' "$T/echod.log" || fail "no clean stop in the log"
ok "clean shutdown"
