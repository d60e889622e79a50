#!/usr/bin/env bash
# 402-lfs-tus: resumable uploads through the tus.io adapter of git lfs
# (lfs.tustransfers). A push of a large file is killed half way (the
# git-lfs process, SIGKILL); the object server keeps the fragments already
# on all replicas and the SHA-256 state; the next push sends only the
# rest (PATCH from a non-zero offset) and a fresh clone checks out the
# same bytes. Also through curl: HEAD answers Upload-Offset, a PATCH from
# the wrong offset is 409, and bytes not matching the oid are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/lfs-lib.sh"
command -v aws >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
ark_timeout 600

# One fragment in flight: slow enough to stop half way.
cluster_start --fragment-size 1MiB --window 1
lfs_git_setup
SIZE=$((160 << 20))
[ "${ARKOR_SANITIZED:-0}" = 1 ] && SIZE=$((48 << 20))
ctl user create alice >/dev/null || fail "user create alice"
lfs_key alice alice
lfs_creds alice
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3 mb s3://media >/dev/null || fail "mb media"
LFSURL="$S3/lfs/media/video/info/lfs"

git init -q --bare "$T/origin.git"
git init -q "$T/a"
cd "$T/a"
git config credential.helper "store --file=$T/creds.alice"
git config lfs.tustransfers true
git remote add origin "$T/origin.git"
git config -f .lfsconfig lfs.url "$LFSURL"
git lfs track '*.mov' >/dev/null

descendants() {
	local p
	for p in $(pgrep -P "$1" || true); do echo "$p"; descendants "$p"; done
}

# ---- interrupt a push half way (a few attempts: it must not finish) ----
kept=0
for attempt in 1 2 3; do
	head -c "$SIZE" /dev/urandom >"take$attempt.mov"
	oid=$(sha256sum "take$attempt.mov" | cut -d' ' -f1)
	git add -A && git commit -qm "take $attempt"
	git push origin main >"$T/push-killed.out" 2>&1 &
	pushpid=$!
	ARK_PIDS+=($pushpid)
	n=0 killed=0
	while kill -0 $pushpid 2>/dev/null && [ $n -lt 600 ]; do
		n=$((n + 1))
		if grep -q "tus upload of $oid .* from offset 0" "$T/objectd.log" &&
		    [ "$(du -sb "$T/data1" | cut -f1)" -gt $((SIZE / 3)) ]; then
			for p in $(descendants $pushpid); do
				[ "$(cat "/proc/$p/comm" 2>/dev/null)" = git-lfs ] &&
					kill -KILL "$p" 2>/dev/null && killed=1
			done
			[ $killed = 1 ] && break
		fi
		sleep 0.05
	done
	wait $pushpid 2>/dev/null && { echo "note: push $attempt finished first"; continue; }
	[ $killed = 1 ] || fail "push failed by itself: $(cat "$T/push-killed.out")"
	n=0
	until grep -q "tus upload of $oid interrupted" "$T/objectd.log"; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "no progress kept for $oid"
		sleep 0.1
	done
	kept=$(sed -n "s/.*tus upload of $oid interrupted: \([0-9]*\) of.*/\1/p" "$T/objectd.log" | tail -1)
	break
done
[ "$kept" -gt 0 ] && [ "$kept" -lt "$SIZE" ] || fail "kept $kept of $SIZE bytes"
ok "push killed half way: $kept of $SIZE bytes kept for resuming"

# ---- the state through the API ----
cu() { curl -s -u "$KEYID_alice:$SECRET_alice" -H 'Accept: application/vnd.git-lfs+json' "$@"; }
cu -X POST "$LFSURL/objects/batch" -d "{\"operation\":\"upload\",\
\"transfers\":[\"basic\",\"tus\"],\"objects\":[{\"oid\":\"$oid\",\"size\":$SIZE}]}" >"$T/b.json"
jq -e '.transfer == "tus"' "$T/b.json" >/dev/null || fail "tus not chosen: $(cat "$T/b.json")"
href=$(jq -r '.objects[0].actions.upload.href' "$T/b.json")
auth=$(jq -r '.objects[0].actions.upload.header.Authorization' "$T/b.json")
curl -s -I -H "Authorization: $auth" -H 'Tus-Resumable: 1.0.0' "$href" >"$T/head.out"
grep -qi "^Upload-Offset: $kept" "$T/head.out" || fail "HEAD: $(cat "$T/head.out")"
st=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: $auth" \
	-H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
	-H 'Content-Type: application/offset+octet-stream' --data-binary 'x' "$href")
[ "$st" = 409 ] || fail "PATCH from the wrong offset: HTTP $st"
ok "HEAD answers Upload-Offset $kept, PATCH from another offset is 409"

# ---- the next push sends the rest only ----
git push -q origin main >"$T/push2.out" 2>&1 || fail "push 2: $(cat "$T/push2.out")"
grep -q "tus upload of $oid ($SIZE bytes) from offset $kept" "$T/objectd.log" ||
	fail "second push did not resume from $kept: $(grep 'tus upload' "$T/objectd.log")"
grep -q "LFS stored .*/$oid ($SIZE bytes, tus from $kept)" "$T/objectd.log" ||
	fail "not committed: $(grep 'LFS stored' "$T/objectd.log")"
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3 ls --recursive s3://media/video/lfs/ >"$T/ls.out"
grep -q "partial" "$T/ls.out" && fail "partial object left: $(cat "$T/ls.out")"
cd "$T"
git -c credential.helper="store --file=$T/creds.alice" clone -q origin.git b \
	>"$T/clone.out" 2>&1 || fail "clone: $(cat "$T/clone.out")"
for f in a/*.mov; do cmp -s "$f" "b/${f#a/}" || fail "clone: $f differs"; done
ok "second push resumed at $kept (sent $((SIZE - kept)) of $SIZE bytes); clone byte-identical"

# ---- a tus upload whose bytes do not match ----
bad=$(printf 'expected' | sha256sum | cut -d' ' -f1)
cu -X POST "$LFSURL/objects/batch" -d "{\"operation\":\"upload\",\
\"transfers\":[\"tus\"],\"objects\":[{\"oid\":\"$bad\",\"size\":8}]}" >"$T/b2.json"
href=$(jq -r '.objects[0].actions.upload.href' "$T/b2.json")
auth=$(jq -r '.objects[0].actions.upload.header.Authorization' "$T/b2.json")
st=$(curl -s -o "$T/p.out" -w '%{http_code}' -X PATCH -H "Authorization: $auth" \
	-H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
	-H 'Content-Type: application/offset+octet-stream' --data-binary 'unexpect' "$href")
[ "$st" = 422 ] || fail "tus mismatch: HTTP $st $(cat "$T/p.out")"
cu -X POST "$LFSURL/objects/batch" -d "{\"operation\":\"download\",\
\"objects\":[{\"oid\":\"$bad\",\"size\":8}]}" | jq -e '.objects[0].error.code == 404' >/dev/null ||
	fail "mismatching tus upload stored"
st=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: $auth" \
	-H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
	-H 'Content-Type: application/offset+octet-stream' --data-binary 'expected' "$href")
[ "$st" = 204 ] || fail "tus upload: HTTP $st"
ok "tus bytes not matching the oid refused (422), matching ones stored (204)"

objectd_stop
