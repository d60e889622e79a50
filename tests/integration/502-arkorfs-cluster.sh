#!/bin/bash
# 502-arkorfs-cluster.sh - arkorfs with the rest of the cluster: two
# mounts of one bucket see each other's files after close; a file written
# through arkorfs reads back through S3 (awscli) with the ETag of its
# size (MD5, or multipart-shaped past one fragment), and an
# S3 upload shows in the mount; all buckets as top-level directories;
# unmount and remount keep every byte; a data server killed during reads
# (the mount fails over to the other replicas and keeps working);
# read-only mounts refuse writes; unlinks answered early reach the
# registry in order and in batches, and only where deletes succeed.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/cluster-lib.sh"
. "$top_srcdir/tests/integration/fs-lib.sh"
fs_skip_unless_fuse
ark_timeout 400
cluster_start
fs_bucket shared
fs_bucket other
A=$T/ma B=$T/mb
fs_mount fsa "$A" --bucket shared --fragment-size 256KiB
fs_mount fsb "$B" --bucket shared --attr-timeout 0
MB=24; [ "${ARKOR_SANITIZED:-0}" = 1 ] && MB=6

# Two mounts: close on one, open on the other.
echo "from a" >"$A/x"
[ "$(cat "$B/x")" = "from a" ] || fail "mount b does not see x"
echo "from b, longer" >"$B/x"
[ "$(cat "$A/x")" = "from b, longer" ] || fail "mount a sees old x"
mkdir "$B/dir"; echo y >"$B/dir/y"
sleep 1.2	# mount a's attribute timeout
[ "$(cat "$A/dir/y")" = y ] || fail "mount a does not see dir/y"
# The reader's kernel holds the old, shorter size (a stat within its
# attribute timeout): the open after the other mount's close still reads
# every byte of the new version.
for i in 1 2 3; do
	echo "small $i" >"$A/grow"; sleep 1.1
	stat -c %s "$B/grow" >/dev/null
	head -c 5000 /dev/zero | tr '\0' y >"$A/grow"
	n=$(wc -c <"$B/grow")
	[ "$n" = 5000 ] || fail "round $i: b read $n bytes of a 5000-byte version"
done
ok "two mounts, close-to-open"

# arkorfs -> S3 and S3 -> arkorfs.
head -c $((MB << 20)) /dev/urandom >"$T/big"
cp "$T/big" "$A/big" || fail "write big"
awss3 s3 cp --only-show-errors s3://shared/big "$T/big.s3" ||
	fail "S3 get of big"
cmp "$T/big" "$T/big.s3" || fail "S3 bytes differ"
# ETags: a file of several fragments has the multipart shape (one "-N"
# per 256 KiB fragment), one that fits a fragment its content's MD5.
etag() {
	awss3 s3api head-object --bucket shared --key "$1" --query ETag \
		--output text | tr -d '"'
}
etag=$(etag big)
[[ $etag =~ ^[0-9a-f]{32}-$((MB * 4))$ ]] ||
	fail "ETag $etag of a $MB MiB file is not <hex>-$((MB * 4))"
head -c 200000 /dev/urandom >"$T/small"
cp "$T/small" "$A/small" || fail "write small"
etag=$(etag small)
[ "$etag" = "$(md5sum <"$T/small" | cut -d' ' -f1)" ] ||
	fail "ETag $etag of a one-fragment file is not its MD5"
echo "via s3" >"$T/s3file"
awss3 s3 cp --only-show-errors "$T/s3file" s3://shared/sub/s3file
[ "$(cat "$B/sub/s3file")" = "via s3" ] || fail "S3 upload not in the mount"
[ "$(stat -c %a "$B/sub/s3file")" = 644 ] || fail "S3 object mode"
ok "arkorfs <-> S3"

# The name cache (fs_ncache: answers kept while the bucket's change count
# says nothing changed): mount a's own changes show at once; changes made
# elsewhere (S3, mount b) within its attribute timeout (1 s), also in a
# directory it made itself, where it answers unknown names as absent
# without asking, and for names it looked up before.
mkdir "$A/nc"; echo one >"$A/nc/f1"; echo two >"$A/nc/f2"
[ -e "$A/nc/f0" ] && fail "nc/f0 exists"
[ "$(stat -c %s "$A/nc/f1")" = 4 ] || fail "nc/f1 size"
echo gone >"$A/nc/f3"; rm "$A/nc/f3"
[ -e "$A/nc/f3" ] && fail "nc/f3 still there after rm in the same mount"
echo "from s3" | awss3 s3 cp - s3://shared/nc/f0 || fail "S3 put nc/f0"
awss3 s3 rm --only-show-errors s3://shared/nc/f1 || fail "S3 rm nc/f1"
echo "longer, from b" >"$B/nc/f2"
mkdir "$B/nc/sub"
sleep 1.2	# mount a's attribute timeout
[ "$(cat "$A/nc/f0" 2>&1)" = "from s3" ] || fail "a does not see nc/f0"
[ ! -e "$A/nc/f1" ] || fail "a still sees nc/f1, removed through S3"
[ "$(stat -c %s "$A/nc/f2")" = 15 ] ||
	fail "a sees the old size of nc/f2: $(stat -c %s "$A/nc/f2")"
[ -d "$A/nc/sub" ] || fail "a does not see nc/sub"
ok "name cache: own changes at once, others' within the attribute timeout"
# A name the cache holds absent in a directory this mount made, created
# meanwhile elsewhere: a create of it that must not clobber (O_EXCL, or
# no O_TRUNC: appends) still asks the registry. (A mount with a long
# attribute timeout, so that the cache's answer is still in use.)
N=$T/mn
fs_mount fsn "$N" --bucket shared --attr-timeout 30s
mkdir "$N/nc2"; sleep 0.3
[ -e "$N/nc2/lock" ] && fail "nc2/lock exists"
echo theirs | awss3 s3 cp - s3://shared/nc2/lock || fail "S3 put nc2/lock"
echo theirs | awss3 s3 cp - s3://shared/nc2/log || fail "S3 put nc2/log"
python3 - "$N/nc2" <<'PY' || fail "O_EXCL over a name made elsewhere"
import errno, os, sys
try:
    os.open(sys.argv[1] + "/lock", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    sys.exit("O_EXCL create succeeded")
except OSError as e:
    assert e.errno == errno.EEXIST, e
PY
echo mine >>"$N/nc2/log"
[ "$(awss3 s3 cp s3://shared/nc2/log -)" = "theirs
mine" ] || fail "append clobbered nc2/log: $(awss3 s3 cp s3://shared/nc2/log -)"
fs_umount fsn "$N"
ok "name cache: creates over names made elsewhere do not clobber"

# Early unlinks (fs_unlink): an unlink of a file the name cache holds is
# answered at once and sent with others as one registry call; every
# later change of the mount waits for it. A listing right after rm shows
# none of the files, neither does S3; a name removed and made again
# keeps the new file; unmount sends what is queued.
U=$T/mu
fs_mount fsu "$U" --bucket shared
mkdir "$U/ul"
( cd "$U/ul" && seq 1 400 | xargs touch && seq 1 400 | xargs rm -f ) ||
	fail "touch and rm of ul/*"
[ -z "$(ls "$U/ul")" ] || fail "ls after rm: $(ls "$U/ul" | wc -l) files"
for i in $(seq 1 30); do echo "v$i" >"$U/ul/f"; rm "$U/ul/f"; done
echo final >"$U/ul/f"
[ "$(cat "$B/ul/f")" = final ] || fail "ul/f after unlinks and creates"
( cd "$U/ul" && seq 1 200 | xargs touch && seq 1 200 | xargs rm -f ) ||
	fail "second touch and rm of ul/*"
fs_umount fsu "$U"
n=$(awss3 s3api list-objects-v2 --bucket shared --prefix ul/ \
	--query 'Contents[].Key' --output text)
[ "$n" = $'ul/\tul/f' ] || fail "S3 lists under ul/ after rm and unmount: $n"
line=$(grep "unlinks answered early" "$T/fsu.log")
read -r early calls <<<"$(echo "$line" |
	sed -E 's/.* ([0-9]+) unlinks answered early, sent in ([0-9]+) calls.*/\1 \2/')"
[ "${early:-0}" -ge 500 ] && [ "${calls:-0}" -ge 1 ] &&
	[ "$calls" -lt "$early" ] || fail "early unlinks: $line"
ok "early unlinks: $early unlinks in $calls registry calls, in order"
# Only where a synchronous delete has succeeded: a key that may read a
# bucket but not change it (another user's public-read bucket) sees
# every rm refused with EACCES, none answered early, nothing removed.
fs_bucket pub
awss3 s3api put-bucket-acl --bucket pub --acl public-read ||
	fail "public-read pub"
for i in 1 2 3; do
	echo "p$i" | awss3 s3 cp - "s3://pub/p$i" || fail "S3 put pub/p$i"
done
cluster_user eve
printf 'access key id: %s\nsecret access key: %s\n' "$USER_KEY_ID" \
	"$USER_SECRET" >"$T/eve.credentials"
E=$T/me
fs_mount fse "$E" --bucket pub --credentials "$T/eve.credentials"
[ "$(ls "$E" | wc -l)" = 3 ] || fail "eve lists pub: $(ls "$E")"
for i in 1 2 3; do
	rm "$E/p$i" 2>"$T/rm.err" && fail "eve removed pub/p$i"
	grep -q "Permission denied" "$T/rm.err" ||
		fail "rm of pub/p$i: $(cat "$T/rm.err")"
	[ -e "$E/p$i" ] || fail "pub/p$i gone from eve's mount after a refused rm"
done
fs_umount fse "$E"
grep -q " 0 unlinks answered early" "$T/fse.log" ||
	fail "eve's unlinks answered early: $(grep "answered early" "$T/fse.log")"
[ "$(awss3 s3 ls s3://pub/ | wc -l)" = 3 ] || fail "pub lost files"
ok "early unlinks: none where deletes are refused"

# All buckets as top-level directories.
C=$T/mc
fs_mount fsc "$C"
ls "$C" | grep -qx shared && ls "$C" | grep -qx other ||
	fail "buckets: $(ls "$C")"
echo z >"$C/other/z"
[ "$(awss3 s3 cp s3://other/z -)" = z ] || fail "write in bucket dir"
cmp "$T/big" "$C/shared/big" || fail "read through all-buckets mount"
fs_umount fsc "$C"
ok "all buckets"

# Unmount and remount: every byte is intact.
fs_umount fsa "$A"
fs_mount fsa2 "$A" --bucket shared
cmp "$T/big" "$A/big" || fail "big after remount"
ok "remount"

# Kill one data server while a reader is going; then reads go on.
( cmp "$T/big" "$A/big" && echo same >"$T/during" ) &
rd=$!
sleep 0.3
kill -KILL "$PID_datad1"
wait "$rd" || true
[ "$(cat "$T/during" 2>/dev/null)" = same ] || fail "read during the kill"
cmp "$T/big" "$B/big" || fail "read after the kill (mount b)"
[ "$(cat "$A/x")" = "from b, longer" ] || fail "small file after the kill"
ls "$A/dir" >/dev/null || fail "listing after the kill"
# Reads start at a random replica: of the >= 24 fragments, some were
# asked of the dead server first.
grep -q "trying the next replica" "$T/fsa2.log" "$T/fsb.log" ||
	fail "no failover logged"
ok "data server killed during reads"

# Read-only mount.
R=$T/mr
fs_mount fsr "$R" --bucket shared --read-only
[ "$(cat "$R/x")" = "from b, longer" ] || fail "read-only read"
echo no >"$R/new" 2>/dev/null && fail "write on a read-only mount"
fs_umount fsr "$R"
ok "read-only"

fs_umount fsa2 "$A"
fs_umount fsb "$B"
