#!/usr/bin/env bash
# 401-lfs-locks: the Git LFS locking API with the real `git lfs` client
# and two users: alice (owns the bucket) and the cluster admin. Locks are
# created, refused when held (409), listed (path, id, limit/cursor
# filters through curl), verified (ours/theirs), and a push touching a
# file locked by the other user is refused with locksverify on. Unlocking
# another's lock needs --force (403), a read-only key may not lock, the
# locks survive a registry restart, and once released the push goes
# through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/lfs-lib.sh"
command -v aws >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
ark_timeout 600

cluster_start --fragment-size 1MiB
lfs_git_setup
ctl user create alice >/dev/null || fail "user create alice"
lfs_key alice alice
lfs_key ro alice --readonly
KEYID_admin=$AWS_ACCESS_KEY_ID SECRET_admin=$AWS_SECRET_ACCESS_KEY
for k in alice ro admin; do lfs_creds $k; done
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3 mb s3://art >/dev/null || fail "mb art as alice"
LFSURL="$S3/lfs/art/studio/film/info/lfs"

git init -q --bare "$T/origin.git"
git init -q "$T/alice"
cd "$T/alice"
git config credential.helper "store --file=$T/creds.alice"
git config "lfs.$LFSURL.locksverify" true
git remote add origin "$T/origin.git"
git config -f .lfsconfig lfs.url "$LFSURL"
git lfs track '*.psd' >/dev/null
for f in a b c; do head -c 4096 /dev/urandom >"$f.psd"; done
git add -A && git commit -qm "assets" && git push -q origin main 2>"$T/push.err" ||
	fail "push: $(cat "$T/push.err")"
cd "$T"
git -c credential.helper="store --file=$T/creds.admin" clone -q origin.git admin \
	2>"$T/clone.err" || fail "clone: $(cat "$T/clone.err")"
cd "$T/admin"
git config credential.helper "store --file=$T/creds.admin"
git config "lfs.$LFSURL.locksverify" true

# ---- create, conflict, list ----
cd "$T/alice"
git lfs lock a.psd >"$T/lock.out" 2>&1 || fail "alice lock a.psd: $(cat "$T/lock.out")"
grep -q "Locked a.psd" "$T/lock.out" || fail "lock: $(cat "$T/lock.out")"
cd "$T/admin"
git lfs lock a.psd >"$T/lock2.out" 2>&1 && fail "admin locked alice's a.psd"
grep -q "already locked by alice" "$T/lock2.out" || fail "conflict: $(cat "$T/lock2.out")"
git lfs lock b.psd >/dev/null 2>&1 || fail "admin lock b.psd"
git lfs locks --json >"$T/locks.json" || fail "locks"
jq -e 'length == 2 and (map(select(.path == "a.psd"))[0].owner.name == "alice")
	and (map(select(.path == "b.psd"))[0].owner.name == "admin")
	and (.[0].locked_at | test("^[0-9-]+T[0-9:]+Z$"))' "$T/locks.json" >/dev/null ||
	fail "locks: $(cat "$T/locks.json")"
ok "locks created by two users, a held lock is refused (already locked by alice), both listed"

cd "$T/alice"
git lfs locks --verify --json >"$T/verify.json" 2>&1 || fail "verify: $(cat "$T/verify.json")"
jq -e '(.ours | length == 1 and .[0].path == "a.psd") and
	(.theirs | length == 1 and .[0].path == "b.psd")' "$T/verify.json" >/dev/null ||
	fail "verify: $(cat "$T/verify.json")"
ok "locks verify: ours a.psd, theirs b.psd"

# ---- filters and pages through the API ----
cu() { curl -s -u "$KEYID_alice:$SECRET_alice" -H 'Accept: application/vnd.git-lfs+json' "$@"; }
cu "$LFSURL/locks?path=a.psd&refspec=refs%2Fheads%2Fmain" >"$T/l.json"
jq -e '.locks | length == 1 and .[0].path == "a.psd"' "$T/l.json" >/dev/null ||
	fail "path filter: $(cat "$T/l.json")"
bid=$(jq -r '.[] | select(.path == "b.psd") | .id' "$T/locks.json")
cu "$LFSURL/locks?id=$bid" | jq -e ".locks | length == 1 and .[0].id == \"$bid\"" >/dev/null ||
	fail "id filter"
cu "$LFSURL/locks?limit=1" >"$T/p1.json"
cur=$(jq -r '.next_cursor' "$T/p1.json")
[ "$(jq '.locks | length' "$T/p1.json")" = 1 ] && [ "$cur" != null ] ||
	fail "page 1: $(cat "$T/p1.json")"
cu "$LFSURL/locks?limit=1&cursor=$cur" >"$T/p2.json"
jq -e ".locks | length == 1 and .[0].id != \"$(jq -r '.locks[0].id' "$T/p1.json")\"" \
	"$T/p2.json" >/dev/null || fail "page 2: $(cat "$T/p2.json")"
st=$(cu -o /dev/null -w '%{http_code}' "$LFSURL/locks?limit=0")
[ "$st" = 422 ] || fail "limit=0: HTTP $st"
st=$(cu -o /dev/null -w '%{http_code}' -X POST -d '{}' "$LFSURL/locks/0123456789abcdef01234567/unlock")
[ "$st" = 404 ] || fail "unlock of no lock: HTTP $st"
st=$(curl -s -o "$T/ro.json" -w '%{http_code}' -u "$KEYID_ro:$SECRET_ro" \
	-X POST -d '{"path":"c.psd"}' "$LFSURL/locks")
[ "$st" = 403 ] && grep -q "read-only" "$T/ro.json" || fail "read-only lock: HTTP $st $(cat "$T/ro.json")"
ok "list by path, id, limit + cursor; 422 bad limit; 404 unknown lock; read-only key may not lock"

# ---- a push touching another's locked file is refused ----
cd "$T/admin"
head -c 100 /dev/urandom >>a.psd
git commit -qam "admin edits a.psd"
git push origin main >"$T/push-locked.out" 2>&1 && fail "push of alice's locked a.psd went through"
grep -q "Unable to push locked files" "$T/push-locked.out" &&
	grep -q "a.psd - alice" "$T/push-locked.out" || fail "locked push: $(cat "$T/push-locked.out")"
git lfs unlock a.psd >"$T/unlock.out" 2>&1 && fail "admin unlocked alice's lock without --force"
grep -q -- "--force" "$T/unlock.out" || fail "unlock: $(cat "$T/unlock.out")"
ok "push touching a file locked by the other user refused; unlock without --force refused"

# ---- locks survive a registry restart ----
port=${REG##*:}
kill -TERM "$PID_registryd"
wait "$PID_registryd" 2>/dev/null || true
rm -f "$T/reg.port"
ark_start registryd2 "$top_builddir/arkor-registryd" \
	--listen "127.0.0.1:$port" --port-file "$T/reg.port" \
	--data-dir "$T/reg" --threads 2 --heartbeat-timeout 5s
ark_wait_file "$T/reg.port"
cd "$T/alice"
n=0
until git lfs locks --json >"$T/locks2.json" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 50 ] || fail "locks after restart"
	sleep 0.2
done
jq -e 'length == 2' "$T/locks2.json" >/dev/null || fail "after restart: $(cat "$T/locks2.json")"
ok "locks survive a registry restart"

# ---- release; the push goes through; force by the bucket owner ----
git lfs unlock a.psd >/dev/null 2>&1 || fail "alice unlock a.psd"
cd "$T/admin"
n=0
until git push -q origin main >"$T/push-ok.out" 2>&1; do
	n=$((n + 1)); [ $n -lt 25 ] || fail "push after unlock: $(cat "$T/push-ok.out")"
	sleep 0.4		# the data servers re-register after the restart
done
cd "$T/alice"
git lfs unlock b.psd >/dev/null 2>&1 && fail "alice unlocked admin's lock without --force"
git lfs unlock --force b.psd >"$T/force.out" 2>&1 || fail "force: $(cat "$T/force.out")"
[ "$(git lfs locks --json)" = "[]" ] || fail "locks left: $(git lfs locks --json)"
ok "after unlock the push goes through; the bucket owner force-unlocks"

objectd_stop
