#!/bin/bash
# 505-arkorfs-partial.sh - arkorfs rewrites only the fragments a change
# touches, on the real kernel FUSE against a local cluster (1 MiB
# fragments). After each close the fragment list is read from the
# registry (object/get) and compared with the previous one:
#   - 4 KiB overwritten in the middle of an 8 MiB file: exactly one
#     fragment changes, the seven others keep FileID, offset, length and
#     CRC32C;
#   - a write across a fragment boundary: those two change;
#   - appends: the old fragments stay, new ones follow; a second append
#     rewrites only the short last fragment;
#   - a shrinking truncate in the middle of a fragment: the ones before
#     stay, the cut one is rewritten to its new length;
#   - a growing truncate: a hole, no new fragment, read as zeros;
#   - arkorfs killed (-9) after a partial write, before close: after a
#     remount the file is wholly the old version;
#   - a file replaced through S3 while open with a change, its old
#     fragments taken by the GC: close reports EIO (with a log line), the
#     commit never references a deleted fragment; changed elsewhere with
#     its fragments still there, the whole file is written;
#   - write-behind: whole fragments of a sequential write are put before
#     close; a write into one of them or a truncate before close has it
#     written again, the rest is taken as it is;
#   - readdirplus: `ls -l` of a directory on a fresh mount shows sizes and
#     modes without a lookup per file (libfuse's --debug request log), and
#     an open file's unsaved size on the writer's mount.
# Content is checked by SHA-256 against a local reference file through
# the mount, after a remount, and through S3 (holes read as zeros).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/cluster-lib.sh"
. "$top_srcdir/tests/integration/fs-lib.sh"
. "$top_srcdir/tests/integration/registry-lib.sh"
fs_skip_unless_fuse
ark_timeout 300
cluster_start
fs_bucket part
M=$T/mnt
MiB=1048576
REF=$T/ref
SVC_TOKEN=$(svc_token "$T/reg/cluster.key")
NM=1
fs_mount fs1 "$M" --bucket part --fragment-size 1MiB

# frags KEY OUT: the object's fragments, "fid offset length crc32c" lines.
frags() {
	curl -sS -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" \
		--data-binary "{\"bucket\":\"part\",\"key\":\"$1\"}" \
		"http://$REG/v1/object/get" | python3 -c '
import json, sys
for f in json.load(sys.stdin)["fragments"]:
    print(f["fid"], f["offset"], f["length"], f["crc32c"])' >"$2" ||
		fail "object/get $1"
}

# changed A B: the indexes (0-based, space separated) of the entries of
# B that are not in A, then "/" and how many entries B has.
changed() {
	python3 - "$1" "$2" <<'PY'
import sys
a = set(open(sys.argv[1]).read().splitlines())
b = open(sys.argv[2]).read().splitlines()
print(" ".join(str(i) for i, l in enumerate(b) if l not in a) + "/%d" % len(b))
PY
}

# same_as_ref FILE WHAT: FILE's SHA-256 is the reference's.
same_as_ref() {
	[ "$(sha256sum <"$1")" = "$(sha256sum <"$REF")" ] ||
		fail "$2: content differs from the reference"
}

# patch OFF LEN: the same LEN random bytes at OFF into the file and the
# reference (dd conv=notrunc: one open, one close).
patch() {
	head -c "$2" /dev/urandom >"$T/patch"
	dd if="$T/patch" of="$M/big" bs="$2" seek="$1" oflag=seek_bytes \
		conv=notrunc status=none || fail "dd into the mount"
	dd if="$T/patch" of="$REF" bs="$2" seek="$1" oflag=seek_bytes \
		conv=notrunc status=none
}

# ---- an 8 MiB file, then 4 KiB in its middle -----------------------------

head -c $((8 * MiB)) /dev/urandom >"$REF"
cp "$REF" "$M/big" || fail "cp"
frags big "$T/f0"
[ "$(wc -l <"$T/f0")" = 8 ] || fail "8 fragments expected: $(cat "$T/f0")"
awss3 s3api head-object --bucket part --key big >"$T/head.json"
grep -Eq '"ETag": "\\"[0-9a-f]{32}-8\\""' "$T/head.json" ||
	fail "a file of 8 fragments has a multipart ETag: $(cat "$T/head.json")"

patch $((3 * MiB + 8192)) 4096
frags big "$T/f1"
[ "$(changed "$T/f0" "$T/f1")" = "3/8" ] ||
	fail "4 KiB overwrite: changed $(changed "$T/f0" "$T/f1"), want 3/8"
same_as_ref "$M/big" "after a 4 KiB overwrite"
ok "4 KiB into an 8 MiB file rewrites one fragment of 8"

# ---- across a fragment boundary ------------------------------------------

patch $((5 * MiB - 4096)) 8192
frags big "$T/f2"
[ "$(changed "$T/f1" "$T/f2")" = "4 5/8" ] ||
	fail "write across a boundary: changed $(changed "$T/f1" "$T/f2")"
same_as_ref "$M/big" "after a write across a boundary"
ok "a write across a boundary rewrites those two"

# Another mount and S3 see the new version (close-to-open).
fs_mount fs2 "$T/mnt2" --bucket part --fragment-size 1MiB
same_as_ref "$T/mnt2/big" "through a second mount"
fs_umount fs2 "$T/mnt2"
awss3 s3 cp s3://part/big "$T/s3big" --quiet || fail "S3 GET"
same_as_ref "$T/s3big" "through S3"
ok "other mounts and S3 read the patched file"

# ---- appends ---------------------------------------------------------------

head -c $((MiB + MiB / 2)) /dev/urandom >"$T/tail"
cat "$T/tail" >>"$M/big" || fail "append"
cat "$T/tail" >>"$REF"
frags big "$T/f3"
[ "$(changed "$T/f2" "$T/f3")" = "8 9/10" ] ||
	fail "append: changed $(changed "$T/f2" "$T/f3")"
head -c 100000 /dev/urandom >"$T/tail"
cat "$T/tail" >>"$M/big" || fail "second append"
cat "$T/tail" >>"$REF"
frags big "$T/f4"
[ "$(changed "$T/f3" "$T/f4")" = "9/10" ] ||
	fail "append to a short last fragment: changed $(changed "$T/f3" "$T/f4")"
[ "$(awk 'END {print $3}' "$T/f4")" = $((MiB / 2 + 100000)) ] ||
	fail "the last fragment holds both appends: $(tail -1 "$T/f4")"
same_as_ref "$M/big" "after appends"
ok "appends keep the old fragments and refill a short last one"

# ---- truncates -------------------------------------------------------------

truncate -s $((6 * MiB + 12345)) "$M/big" || fail "truncate shrink"
truncate -s $((6 * MiB + 12345)) "$REF"
frags big "$T/f5"
[ "$(changed "$T/f4" "$T/f5")" = "6/7" ] ||
	fail "shrink: changed $(changed "$T/f4" "$T/f5")"
[ "$(awk 'END {print $2, $3}' "$T/f5")" = "$((6 * MiB)) 12345" ] ||
	fail "the cut fragment: $(tail -1 "$T/f5")"
same_as_ref "$M/big" "after a shrinking truncate"
ok "a truncate in a fragment rewrites only that one"

truncate -s $((10 * MiB)) "$M/big" || fail "truncate grow"
truncate -s $((10 * MiB)) "$REF"
frags big "$T/f6"
cmp -s "$T/f5" "$T/f6" || fail "growing wrote fragments: $(cat "$T/f6")"
[ "$(stat -c %s "$M/big")" = $((10 * MiB)) ] || fail "size after growing"
same_as_ref "$M/big" "after a growing truncate"
cmp -s <(tail -c $((4 * MiB - 12345)) "$M/big") \
	<(head -c $((4 * MiB - 12345)) /dev/zero) || fail "the hole reads as zeros"
ok "a growing truncate leaves a hole that reads as zeros"

# S3 reads holes as zeros too: the trailing one above, and a file whose
# only data sits between two holes (no fragment before or after it).
awss3 s3 cp s3://part/big "$T/s3hole" --quiet || fail "S3 GET with a hole"
same_as_ref "$T/s3hole" "through S3 with a trailing hole"
head -c 3000 /dev/urandom >"$T/mid"
dd if="$T/mid" of="$M/sparse" bs=1 seek=$((5 * MiB + 7)) conv=notrunc \
	status=none || fail "sparse write"
truncate -s $((9 * MiB)) "$M/sparse" || fail "sparse grow"
{ head -c $((5 * MiB + 7)) /dev/zero; cat "$T/mid";
  head -c $((4 * MiB - 3007)) /dev/zero; } >"$T/sparse.ref"
cmp -s "$M/sparse" "$T/sparse.ref" || fail "sparse file through the mount"
frags sparse "$T/fsp"
[ "$(wc -l <"$T/fsp")" -le 2 ] || fail "sparse file fragments: $(cat "$T/fsp")"
awss3 s3 cp s3://part/sparse "$T/s3sparse" --quiet || fail "S3 GET sparse"
cmp -s "$T/s3sparse" "$T/sparse.ref" || fail "S3 read of holes"
for r in 0-99 $((5 * MiB))-$((5 * MiB + 5000)) $((5 * MiB + 2000))-$((7 * MiB)) \
    $((9 * MiB - 10))-$((9 * MiB - 1)); do
	awss3 s3api get-object --bucket part --key sparse --range "bytes=$r" \
		"$T/rng" >/dev/null || fail "S3 range $r"
	cmp -s "$T/rng" <(tail -c +$(( ${r%-*} + 1 )) "$T/sparse.ref" |
		head -c $(( ${r#*-} - ${r%-*} + 1 ))) || fail "S3 range $r of holes"
done
ok "S3 GET and ranges read holes (leading, between, trailing) as zeros"

# ---- crash before close -----------------------------------------------------

cp "$REF" "$T/old"
python3 - "$M/big" "$T/wrote" <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"x" * 300000, 2 * 1048576 - 1000)
os.pwrite(fd, b"y" * 5000, 9 * 1048576)
open(sys.argv[2], "w").write("1")
time.sleep(60)
PY
WRITER=$!
ark_wait_file "$T/wrote"
kill -9 "$PID_fs1"
wait "$PID_fs1" 2>/dev/null || true
kill "$WRITER" 2>/dev/null || true
wait "$WRITER" 2>/dev/null || true
fusermount3 -u -z "$M" || fail "lazy unmount after kill -9"
frags big "$T/f7"
cmp -s "$T/f6" "$T/f7" || fail "the registry changed without a close"
fs_mount fs3 "$M" --bucket part --fragment-size 1MiB
same_as_ref "$M/big" "after kill -9 and a remount"
ok "kill -9 before close leaves the old version whole"

# ---- remount ---------------------------------------------------------------

patch $((7 * MiB + 1)) 3
fs_umount fs3 "$M"
fs_mount fs4 "$M" --bucket part --fragment-size 1MiB
same_as_ref "$M/big" "after a remount"
ok "content survives a remount"

# ---- a reused fragment deleted by the GC -------------------------------------

# g is open with a change in its second fragment when S3 replaces it and
# the GC deletes its old fragments: the commit (under if_version) must
# not reference them. It fetches them to write everything again, which
# fails (they are gone): close reports EIO and the registry keeps the S3
# version.
head -c $((3 * MiB)) /dev/urandom >"$M/g" || fail "write g"
frags g "$T/g0"
python3 - "$M/g" "$T/gopen" "$T/gclose" "$T/gerr" <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"w" * 100, 1048576 + 5000)
open(sys.argv[2], "w").write("1")
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
try:
    os.close(fd)
    open(sys.argv[4], "w").write("0")
except OSError as e:
    open(sys.argv[4], "w").write(str(e.errno))
PY
GW=$!
ark_wait_file "$T/gopen"
head -c 1000 /dev/urandom >"$T/gs3"
awss3 s3 cp "$T/gs3" s3://part/g --quiet || fail "S3 overwrite of g"
svc() {
	curl -sS -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" \
		--data-binary "$2" "http://$REG/v1/$1"
}
svc gc/run '{}' >/dev/null
n=0
until svc fid/status "{\"fids\":[\"$(awk 'NR==1 {print $1}' "$T/g0")\"]}" |
    python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["fids"][0]["gc"] != "deleted")'; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "the GC did not delete g's old fragments"
	sleep 0.1
done
touch "$T/gclose"
ark_wait_file "$T/gerr" 30
wait "$GW" || true
[ "$(cat "$T/gerr")" = 5 ] || fail "close after the GC took reused fragments: errno $(cat "$T/gerr"), want EIO"
grep -q "commit part/g: changed elsewhere since version" "$T/fs4.log" ||
	fail "no log line for the deleted fragment: $(tail -5 "$T/fs4.log")"
awss3 s3 cp s3://part/g "$T/gback" --quiet || fail "S3 GET of g"
cmp -s "$T/gs3" "$T/gback" || fail "g is not the S3 version"
ok "a commit never references a fragment the GC took (EIO, S3 version kept)"

# Changed elsewhere but its fragments still there (a setattr bumped the
# version): the commit writes the whole file, the last writer wins.
head -c $((3 * MiB)) /dev/urandom >"$T/h"
cp "$T/h" "$M/h" || fail "write h"
python3 - "$M/h" "$T/hopen" "$T/hclose" "$T/h" <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"v" * 100, 2 * 1048576 + 7)
with open(sys.argv[4], "r+b") as f:
    f.seek(2 * 1048576 + 7)
    f.write(b"v" * 100)
open(sys.argv[2], "w").write("1")
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
os.close(fd)
PY
HW=$!
ark_wait_file "$T/hopen"
svc object/setattr '{"bucket":"part","key":"h","mtime_ms":1000}' >/dev/null
touch "$T/hclose"
wait "$HW" || fail "close after a setattr elsewhere"
frags h "$T/h1"
[ "$(changed /dev/null "$T/h1")" = "0 1 2/3" ] || fail "h not written whole: $(cat "$T/h1")"
cmp -s "$T/h" "$M/h" || fail "h is not the last writer's"
ok "changed elsewhere: the whole file is written, the last writer wins"

# ---- write-behind ----------------------------------------------------------
# A sequential writer's whole fragments are put while it writes. Before
# close, 100 bytes land in fragment 1 (already put: it must be written
# again) and a truncate cuts fragment 5; the writer then goes on from
# the cut. The commit takes the four early fragments that are still
# right (0, 2, 3, 4) and the content is the reference's everywhere.
fs_mount fs7 "$T/mnt7" --bucket part --fragment-size 1MiB --log-level debug
python3 - "$T/mnt7/wb" "$T/wb.ref" <<'PY' || fail "write-behind writer"
import os, sys
fds = [os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
       for p in sys.argv[1:3]]
def both(f):
    for fd in fds:
        f(fd)
block = os.urandom(256 << 10)
for i in range(24):					# 6 MiB, 256 KiB writes
    both(lambda fd: os.write(fd, bytes([i]) + block[1:]))
both(lambda fd: os.pwrite(fd, b"x" * 100, (1 << 20) + 10))
both(lambda fd: os.ftruncate(fd, (11 << 20) // 2))	# 5.5 MiB
both(lambda fd: os.lseek(fd, 0, os.SEEK_END))
tail = os.urandom(1 << 20)
both(lambda fd: os.write(fd, tail))
for fd in fds:
    os.lseek(fd, 0, os.SEEK_SET)
m, r = [os.read(fd, 8 << 20) for fd in fds]
if m != r:
    sys.exit("read before close differs from the reference")
for fd in fds:
    os.close(fd)
PY
grep -q 'fsn_commit: part/wb: 6815744 bytes, 6815744 uploaded (4 fragments before the commit)' \
	"$T/fs7.log" || fail "early fragments: $(grep 'fsn_commit: part/wb' "$T/fs7.log")"
cmp -s "$T/wb.ref" "$T/mnt7/wb" || fail "wb through the mount"
fs_umount fs7 "$T/mnt7"
fs_mount fs8 "$T/mnt7" --bucket part
cmp -s "$T/wb.ref" "$T/mnt7/wb" || fail "wb after a remount"
fs_umount fs8 "$T/mnt7"
awss3 s3 cp s3://part/wb "$T/wb.s3" --quiet || fail "S3 GET of wb"
cmp -s "$T/wb.ref" "$T/wb.s3" || fail "wb through S3"
ok "write-behind: early fragments reused only where still right"

# ---- readdirplus -----------------------------------------------------------

mkdir "$M/dir"
for i in $(seq 1 40); do head -c "$i" /dev/zero >"$M/dir/f$i"; done
chmod 600 "$M/dir/f7"
# f40 open with 5000 unsaved bytes appended.
python3 - "$M/dir/f40" "$T/held" <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, b"z" * 5000)
open(sys.argv[2], "w").write("1")
time.sleep(60)
PY
HOLDER=$!
ark_wait_file "$T/held"
# A fresh mount (empty kernel caches) with libfuse's request log.
fs_mount fs5 "$T/mnt5" --bucket part --debug
ls -l "$T/mnt5/dir" >"$T/ls5" || fail "ls -l"
[ "$(grep -c ' f[0-9]*$' "$T/ls5")" = 40 ] || fail "ls -l: $(cat "$T/ls5")"
grep -q '^-rw------- .* 7 .* f7$' "$T/ls5" || fail "mode and size of f7: $(cat "$T/ls5")"
grep -q '^-rw-r--r-- .* 12 .* f12$' "$T/ls5" || fail "size of f12: $(cat "$T/ls5")"
grep -q ' 40 .* f40$' "$T/ls5" || fail "f40 is 40 bytes elsewhere until close: $(cat "$T/ls5")"
grep -q 'opcode: READDIRPLUS' "$T/fs5.log" || fail "no READDIRPLUS request"
! grep -q 'getattr\[NULL\] /dir/f' "$T/fs5.log" ||
	fail "ls -l looked files up one by one: $(grep -c 'getattr\[NULL\] /dir/f' "$T/fs5.log")"
fs_umount fs5 "$T/mnt5"
sleep 1.2	# the kernel's attributes of the first mount expire
ls -l "$M/dir" >"$T/ls4" || fail "ls -l on the writer's mount"
grep -q ' 5040 .* f40$' "$T/ls4" || fail "unsaved size of the open f40: $(cat "$T/ls4")"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
[ "$(stat -c %s "$M/dir/f40")" = 5040 ] || fail "f40 after close"
fs_umount fs4 "$M"
ok "ls -l takes sizes, modes and unsaved sizes from readdirplus"

# ---- the local fragment cache ---------------------------------------------
# Fragments a random read fetched stay on local disk (under --cache-dir, at
# most --cache-size); a sequential read streams without caching; a FileID
# never changes, so an object replaced through S3 reads as its new
# version, and nothing outlives the unmount. c and its replacement are
# multipart uploads (aws s3 cp: 8 MiB parts), so fragments of 8 and 2 MiB.
head -c $((10 * MiB)) /dev/urandom >"$T/c1"
head -c $((10 * MiB)) /dev/urandom >"$T/c2"
head -c $((6 * MiB)) /dev/urandom >"$T/c3"
awss3 s3 cp "$T/c1" s3://part/c --quiet || fail "S3 PUT c"
awss3 s3 cp "$T/c3" s3://part/c3 --quiet || fail "S3 PUT c3"
mkdir -p "$T/c6"
fs_mount fs6 "$T/mnt6" --bucket part --cache-size 4MiB --cache-dir "$T/c6"
CD=$(echo "$T"/c6/arkorfs-cache.*)
cmp -s "$T/mnt6/c3" "$T/c3" || fail "c3 through the mount"
[ -d "$CD" ] && [ "$(ls "$CD" | wc -l)" = 0 ] ||
	fail "a sequential read was cached: $(ls -l "$CD")"
dd if="$T/mnt6/c" of="$T/c.part" bs=64k skip=144 count=2 status=none ||
	fail "random read of c"
cmp -s "$T/c.part" <(tail -c +$((9 * MiB + 1)) "$T/c1" | head -c $((128 * 1024))) ||
	fail "random read of c: wrong bytes"
[ "$(ls "$CD" | wc -l)" -ge 1 ] || fail "no cached fragment in $CD"
cmp -s "$T/mnt6/c" "$T/c1" || fail "c again (in part from the cache)"
awss3 s3 cp "$T/c2" s3://part/c --quiet || fail "S3 overwrite of c"
sleep 1.2	# the kernel's attributes expire
cmp -s "$T/mnt6/c" "$T/c2" || fail "c after an S3 overwrite is not the new version"
[ "$(du -sb "$CD" | cut -f1)" -le $((4 * MiB + 65536)) ] ||
	fail "cache over --cache-size: $(du -sb "$CD")"
fs_umount fs6 "$T/mnt6"
[ ! -e "$CD" ] || fail "cache directory left after unmount: $CD"
ok "fragment cache: random reads kept within --cache-size, sequential ones streamed, new versions seen, removed at unmount"
