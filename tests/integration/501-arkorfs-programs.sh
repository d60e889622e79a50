#!/bin/bash
# 501-arkorfs-programs.sh - real programs on an arkorfs mount: cp -a and
# diff -r of a source tree, tar x then tar c with the same checksum,
# rsync -a (a second run transfers nothing), git init/add/commit/clone,
# and a SQLite database with inserts (fsync'd journal).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/cluster-lib.sh"
. "$top_srcdir/tests/integration/fs-lib.sh"
fs_skip_unless_fuse
ark_timeout 600
cluster_start
fs_bucket progs
M=$T/mnt
fs_mount fs1 "$M" --bucket progs --fragment-size 64KiB
SRC=$top_srcdir/src
[ "${ARKOR_SANITIZED:-0}" = 1 ] && SRC=$top_srcdir/src/common

# cp -a keeps content, modes and times; diff -r finds nothing.
cp -a "$SRC" "$M/src" || fail "cp -a"
diff -r "$SRC" "$M/src" || fail "diff -r after cp -a"
f=$(find "$SRC" -type f -name '*.c' | head -1)
rel=${f#"$SRC"/}
[ "$(stat -c %Y "$f")" = "$(stat -c %Y "$M/src/$rel")" ] ||
	fail "cp -a lost the mtime of $rel"
ok "cp -a + diff -r ($(find "$SRC" -type f | wc -l) files)"

# tar x, then tar c of the extracted tree: same bytes as tar c of the
# original (names, modes, times, content).
tar -C "$(dirname "$SRC")" --sort=name --owner=0 --group=0 --numeric-owner \
	-cf "$T/orig.tar" "$(basename "$SRC")"
mkdir "$M/untar"
tar -C "$M/untar" -xf "$T/orig.tar" || fail "tar x"
tar -C "$M/untar" --sort=name --owner=0 --group=0 --numeric-owner \
	-cf "$T/again.tar" "$(basename "$SRC")" || fail "tar c"
[ "$(sha256sum <"$T/orig.tar")" = "$(sha256sum <"$T/again.tar")" ] ||
	fail "tar checksum differs"
ok "tar x / tar c checksum"

# rsync -a, then a second run has nothing to transfer.
rsync -a "$SRC/" "$M/rs/" || fail "rsync -a"
diff -r "$SRC" "$M/rs" || fail "diff after rsync"
n=$(rsync -a --itemize-changes "$SRC/" "$M/rs/" | wc -l)
[ "$n" = 0 ] || fail "second rsync transferred $n items"
ok "rsync -a"

# git: init, add, commit on the mount; clone from it.
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
export HOME=$T
git config --global init.defaultBranch main
git config --global --add safe.directory '*'
mkdir "$M/repo"
cp -a "$SRC/." "$M/repo/"
( cd "$M/repo" && git init -q && git add -A && git commit -qm first ) ||
	fail "git commit on the mount"
echo change >>"$M/repo/$rel"
( cd "$M/repo" && git commit -qam second && git fsck --no-progress 2>&1 | (! grep -q .) ) ||
	fail "git second commit / fsck"
git clone -q "$M/repo" "$T/clone" || fail "git clone from the mount"
[ "$(git -C "$T/clone" log --format=%s | tr '\n' ' ')" = "second first " ] ||
	fail "clone history"
diff -r --exclude=.git "$M/repo" "$T/clone" || fail "clone content"
git clone -q "$T/clone" "$M/clone2" || fail "git clone onto the mount"
( cd "$M/clone2" && git status --porcelain | wc -l | grep -qx 0 ) ||
	fail "clone on the mount is dirty"
ok "git"

# SQLite with a rollback journal: inserts in transactions, integrity.
N=2000; [ "${ARKOR_SANITIZED:-0}" = 1 ] && N=300
sqlite3 "$M/db.sqlite" "create table t(id integer primary key, v text);" ||
	fail "sqlite create"
for i in 1 2 3 4; do
	seq 1 $((N / 4)) | awk -v i=$i '{printf "insert into t(v) values(\"%d-%d-%s\");\n", i, $1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' |
		(echo "begin;"; cat; echo "commit;") | sqlite3 "$M/db.sqlite" ||
		fail "sqlite inserts $i"
done
[ "$(sqlite3 "$M/db.sqlite" 'select count(*) from t;')" = $N ] ||
	fail "sqlite count"
[ "$(sqlite3 "$M/db.sqlite" 'pragma integrity_check;')" = ok ] ||
	fail "sqlite integrity"
ok "sqlite3 ($N rows)"

fs_umount fs1 "$M"
fs_mount fs2 "$M" --bucket progs
diff -r "$SRC" "$M/src" || fail "diff -r after remount"
[ "$(sqlite3 "$M/db.sqlite" 'select count(*) from t;')" = $N ] ||
	fail "sqlite count after remount"
fs_umount fs2 "$M"
ok "remount"
