#!/usr/bin/env bash
# 400-lfs-git: the real `git lfs` client against the Git LFS API of a
# local cluster. A repository whose only LFS setting is lfs.url (in
# .lfsconfig) pushes files of a few bytes up to 100 MiB, two of them
# identical; a fresh clone elsewhere checks out byte-identical files with
# the object server's peak RSS bounded; a second push uploads nothing;
# the objects are listed and readable through S3 in the mapped bucket.
# A read-only key clones but cannot push, another user's key cannot read,
# a wrong secret fails with the server's message, a request without
# credentials gets 401 with LFS-Authenticate, and bytes that do not match
# their oid (curl on a batch href) are refused with nothing stored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/lfs-lib.sh"
command -v aws >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
ark_timeout 900

cluster_start --fragment-size 1MiB --window 4
lfs_git_setup
BIG=$((100 << 20))
[ "${ARKOR_SANITIZED:-0}" = 1 ] && BIG=$((20 << 20))

ctl user create alice >/dev/null || fail "user create alice"
ctl user create mallory >/dev/null || fail "user create mallory"
lfs_key alice alice
lfs_key ro alice --readonly
lfs_key mallory mallory
lfs_key bad alice
SECRET_bad="${SECRET_bad}x"
for k in alice ro mallory bad; do lfs_creds $k; done
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3 mb s3://games >/dev/null || fail "mb games as alice"
LFSURL="$S3/lfs/games/team/game.git/info/lfs"
BATCH="$LFSURL/objects/batch"

# ---- push ----
git init -q --bare "$T/origin.git"
git init -q "$T/a"
cd "$T/a"
git config credential.helper "store --file=$T/creds.alice"
git remote add origin "$T/origin.git"
git config -f .lfsconfig lfs.url "$LFSURL"
git lfs track '*.bin' >/dev/null
printf 'tiny' >tiny.bin
head -c 1024 /dev/urandom >k1.bin
head -c $((1 << 20 | 1)) /dev/urandom >m1.bin
cp m1.bin m1-copy.bin
head -c $((10 << 20)) /dev/urandom >m10.bin
head -c "$BIG" /dev/urandom >big.bin
git add -A && git commit -qm "assets" || fail "commit"
git push -q origin main >"$T/push1.out" 2>&1 || fail "push: $(cat "$T/push1.out")"
[ "$(lfs_stored)" = 5 ] || fail "5 distinct objects stored, log says $(lfs_stored)"
ok "git push of 6 LFS files (4 B .. $((BIG >> 20)) MiB, two identical): 5 objects stored"

# ---- the objects through S3, in the mapped bucket ----
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3 ls --recursive s3://games/team/game/lfs/objects/ >"$T/ls.out" ||
	fail "s3 ls"
[ "$(wc -l <"$T/ls.out")" = 5 ] || fail "S3 lists $(cat "$T/ls.out")"
oid=$(sha256sum big.bin | cut -d' ' -f1)
key="team/game/lfs/objects/${oid:0:2}/${oid:2:2}/$oid"
grep -q " $BIG $key\$" "$T/ls.out" || fail "no $key of $BIG bytes in: $(cat "$T/ls.out")"
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3 cp "s3://games/$key" "$T/big.s3" --only-show-errors || fail "s3 cp"
cmp -s big.bin "$T/big.s3" || fail "S3 copy of big.bin differs"
ok "objects listed and readable through S3 at <repo>/lfs/objects/xx/yy/<oid>"

# ---- fresh clone elsewhere ----
cd "$T"
git -c credential.helper="store --file=$T/creds.alice" clone -q origin.git b \
	>"$T/clone.out" 2>&1 || fail "clone: $(cat "$T/clone.out")"
for f in tiny k1 m1 m1-copy m10 big; do
	cmp -s "a/$f.bin" "b/$f.bin" || fail "clone: $f.bin differs"
done
hwm=$(ark_hwm_kb "$PID_objectd")
if [ "${ARKOR_SANITIZED:-0}" != 1 ]; then
	# 4 transfers x window 4 x 1 MiB fragments, whatever the file sizes
	[ "$hwm" -lt $((96 * 1024)) ] || fail "objectd peak RSS ${hwm} KiB over 96 MiB"
fi
ok "fresh clone checks out 6 byte-identical files (objectd peak RSS ${hwm} KiB)"

# ---- a second push uploads nothing ----
cd "$T/a"
echo "readme" >README && git add README && git commit -qm "readme"
git push -q origin main >"$T/push2.out" 2>&1 || fail "push 2: $(cat "$T/push2.out")"
git lfs push --all origin main >"$T/push3.out" 2>&1 || fail "lfs push --all: $(cat "$T/push3.out")"
[ "$(lfs_stored)" = 5 ] || fail "second push stored again: $(lfs_stored)"
ok "second push and git lfs push --all upload nothing"

# ---- read-only key: clone yes, push no ----
cd "$T"
git -c credential.helper="store --file=$T/creds.ro" clone -q origin.git ro \
	>"$T/clone-ro.out" 2>&1 || fail "read-only clone: $(cat "$T/clone-ro.out")"
cmp -s a/big.bin ro/big.bin || fail "read-only clone: big.bin differs"
cd "$T/ro"
git config credential.helper "store --file=$T/creds.ro"
printf 'new' >new.bin && git add new.bin && git commit -qm new
git push origin main >"$T/push-ro.out" 2>&1 && fail "read-only key pushed"
grep -q "read-only" "$T/push-ro.out" || fail "read-only push: $(cat "$T/push-ro.out")"
ok "read-only key clones, its push is refused (read-only)"

# ---- another user's key, a wrong secret, no credentials ----
cd "$T"
git -c credential.helper="store --file=$T/creds.mallory" clone -q origin.git m \
	>"$T/clone-m.out" 2>&1 && fail "mallory checked out alice's files"
grep -q "Authorization error\|may not read" "$T/clone-m.out" ||
	fail "mallory clone: $(cat "$T/clone-m.out")"
git -c credential.helper="store --file=$T/creds.bad" clone -q origin.git w \
	>"$T/clone-bad.out" 2>&1 && fail "clone with a wrong secret worked"
cd "$T/w"
enc=$(jq -rn --arg s "$SECRET_bad" '$s|@uri')
git -c credential.helper= -c lfs.url="http://$KEYID_bad:$enc@${LFSURL#http://}" \
	lfs pull >"$T/pull-bad.out" 2>&1 && fail "lfs pull with a wrong secret worked"
grep -q "bad credentials" "$T/pull-bad.out" || fail "wrong secret: $(cat "$T/pull-bad.out")"
curl -s -D "$T/h401" -o "$T/b401" -X POST -H 'Content-Type: application/vnd.git-lfs+json' \
	-d '{"operation":"download","objects":[]}' "$BATCH"
grep -q '^HTTP/1.1 401' "$T/h401" || fail "no 401: $(cat "$T/h401")"
grep -qi '^LFS-Authenticate: Basic' "$T/h401" || fail "no LFS-Authenticate: $(cat "$T/h401")"
grep -qi '^WWW-Authenticate: Basic' "$T/h401" || fail "no WWW-Authenticate"
grep -qi '^Content-Type: application/vnd.git-lfs+json' "$T/h401" || fail "401 media type"
jq -e '.message | test("credentials")' "$T/b401" >/dev/null || fail "401 body: $(cat "$T/b401")"
ok "other user's key 403, wrong secret fails with 'bad credentials', none gets 401 + LFS-Authenticate"

# ---- bytes that do not match the oid ----
printf 'evil' >"$T/evil"
good=$(printf 'good' | sha256sum | cut -d' ' -f1)
cu() { curl -s -u "$KEYID_alice:$SECRET_alice" -H 'Accept: application/vnd.git-lfs+json' \
	-H 'Content-Type: application/vnd.git-lfs+json' "$@"; }
cu -X POST "$BATCH" -d "{\"operation\":\"upload\",\"transfers\":[\"basic\"],\
\"objects\":[{\"oid\":\"$good\",\"size\":4},{\"oid\":\"NOT-AN-OID\",\"size\":1},\
{\"oid\":\"$oid\",\"size\":$BIG}],\"hash_algo\":\"sha256\"}" >"$T/up.json"
jq -e '.transfer == "basic" and .hash_algo == "sha256"' "$T/up.json" >/dev/null ||
	fail "batch: $(cat "$T/up.json")"
jq -e '.objects[1].error.code == 422' "$T/up.json" >/dev/null || fail "invalid oid not 422"
jq -e '.objects[2] | has("actions") | not' "$T/up.json" >/dev/null ||
	fail "stored object offered for upload again"
jq -e '.objects[0].actions.upload.expires_in > 0 and .objects[0].actions.verify.href != null' \
	"$T/up.json" >/dev/null || fail "no upload/verify actions: $(cat "$T/up.json")"
href=$(jq -r '.objects[0].actions.upload.href' "$T/up.json")
auth=$(jq -r '.objects[0].actions.upload.header.Authorization' "$T/up.json")
st=$(curl -s -o "$T/put.out" -w '%{http_code}' -X PUT -H "Authorization: $auth" \
	--data-binary @"$T/evil" "$href")
[ "$st" = 422 ] || fail "mismatching bytes: HTTP $st $(cat "$T/put.out")"
jq -e '.message | test("does not match")' "$T/put.out" >/dev/null || fail "422 body: $(cat "$T/put.out")"
st=$(curl -s -o "$T/put.out" -w '%{http_code}' -X PUT -H "Authorization: $auth" \
	--data-binary 'good!' "$href")
[ "$st" = 422 ] || fail "wrong size: HTTP $st $(cat "$T/put.out")"
st=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: ${auth%?}x" \
	--data-binary 'good' "$href")
[ "$st" = 401 ] || fail "tampered token: HTTP $st"
cu -X POST "$BATCH" -d "{\"operation\":\"download\",\"objects\":[{\"oid\":\"$good\",\"size\":4}]}" \
	>"$T/down.json"
jq -e '.objects[0].error.code == 404' "$T/down.json" >/dev/null ||
	fail "refused upload is downloadable: $(cat "$T/down.json")"
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3api head-object --bucket games \
	--key "team/game/lfs/objects/${good:0:2}/${good:2:2}/$good" >/dev/null 2>&1 &&
	fail "refused upload visible through S3"
st=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: $auth" \
	--data-binary 'good' "$href")
[ "$st" = 200 ] || fail "matching bytes: HTTP $st"
vhref=$(jq -r '.objects[0].actions.verify.href' "$T/up.json")
vauth=$(jq -r '.objects[0].actions.verify.header.Authorization' "$T/up.json")
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: $vauth" \
	-d "{\"oid\":\"$good\",\"size\":4}" "$vhref")
[ "$st" = 200 ] || fail "verify: HTTP $st"
ok "upload not matching its oid or size refused (422), nothing stored; matching one verified"

objectd_stop
