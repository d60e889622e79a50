#!/usr/bin/env bash
# 104-arkorctl: the admin CLI against a real registry: init (secret and
# first admin user with a key), status, server/group list, user and key
# management, bucket list, gc run, --json, user mode with an access key,
# and errors.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/registry-lib.sh"
ark_timeout 60
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
ctl() { "$top_builddir/arkorctl" -r "$REG" -k "$T/reg/cluster.key" "$@"; }

mkdir -p "$T/reg"
REG=http://127.0.0.1:1
out=$(ctl init 2>&1) && fail "init without a registry succeeded"
grep -q "created cluster secret" <<<"$out" || fail "init: $out"
[ "$(stat -c %a "$T/reg/cluster.key")" = 600 ] || fail "secret mode"
cp "$T/reg/cluster.key" "$T/key.before"
reg_start
cmp -s "$T/reg/cluster.key" "$T/key.before" || fail "registry replaced the secret"
out=$(ctl init)
AK=$(echo "$out" | awk '/access key id/ {print $4}')
AS=$(echo "$out" | awk '/secret access key/ {print $4}')
[ -n "$AK" ] && [ -n "$AS" ] || fail "init output: $out"
ok "init: secret, admin user and key"

api_ok /v1/server/heartbeat '{"id":"ds1","url":"http://127.0.0.1:9","free":1073741824,"capacity":2147483648}' >/dev/null
ctl status | grep -q "1/1 servers up, 1/1 groups writable" || fail "status: $(ctl status)"
ctl server list | grep -q "^ds1 .*up" || fail "server list"
ctl group list | grep -q "^1 .*yes" || fail "group list"
ctl --json status | jget 'd["stat"]["servers"]' | grep -qx 1 || fail "status --json"
ok "status, server list, group list"

ctl user create bob >/dev/null
ctl user list | grep -q "^bob .*no" || fail "user list"
bk=$(ctl --json --readonly key create bob)
BK=$(echo "$bk" | jget 'd["key_id"]')
echo "$bk" | jget 'd["readonly"]' | grep -qx True || fail "readonly key"
ctl key list bob | grep -q "^$BK .*yes" || fail "key list"
ctl --access-key "$AK" --secret-key "$AS" user list | grep -q "^admin .*yes" || fail "admin user via access key"
api_ok /v1/bucket/create '{"bucket":"bobs-bucket","owner":"bob"}' >/dev/null
ctl bucket list | grep -q "^bobs-bucket .*bob" || fail "bucket list"
ctl key revoke "$BK" >/dev/null
ctl key list bob | grep -q "$BK" && fail "revoked key still listed"
ctl gc run | grep -qx ok || fail "gc run"
ok "users, keys, buckets, gc"

ctl user create bob 2>"$T/err" && fail "duplicate user accepted"
grep -q "HTTP 409" "$T/err" || fail "duplicate user error: $(cat "$T/err")"
ctl --access-key "$AK" --secret-key wrong status 2>"$T/err" && fail "wrong secret accepted"
grep -q "HTTP 401" "$T/err" || fail "wrong secret error"
rc=0; ctl frobnicate 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "unknown command exit $rc"
ctl server remove ds1 | grep -qx ok || fail "server remove"
ok "errors and exit statuses"

reg_stop
ok "clean stop"
