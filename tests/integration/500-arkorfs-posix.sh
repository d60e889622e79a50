#!/bin/bash
# 500-arkorfs-posix.sh - arkorfs on the real kernel FUSE against a local
# cluster: create, write at offsets, truncate (grow/shrink), rename of
# files and directories (over existing ones, into other dirs), mkdir and
# rmdir (empty check), unlink, permissions, timestamps, symlinks, FIFOs
# and sockets (devices refused), ENAMETOOLONG past the key limit, statfs,
# listing a directory longer than one registry page, concurrent writers
# on different files.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/cluster-lib.sh"
. "$top_srcdir/tests/integration/fs-lib.sh"
fs_skip_unless_fuse
ark_timeout 300
cluster_start
fs_bucket posix
M=$T/mnt
fs_mount fs1 "$M" --bucket posix --fragment-size 64KiB

# Create, read back, write at offsets (sparse and overlapping).
echo hello >"$M/a" || fail "create"
[ "$(cat "$M/a")" = hello ] || fail "read back"
printf 'XY' | dd of="$M/a" bs=1 seek=1 conv=notrunc status=none
[ "$(cat "$M/a")" = hXYlo ] || fail "overwrite in the middle: $(cat "$M/a")"
printf 'end' | dd of="$M/sparse" bs=1 seek=100000 status=none
[ "$(stat -c %s "$M/sparse")" = 100003 ] || fail "sparse size"
[ "$(head -c 100000 "$M/sparse" | tr -d '\0' | wc -c)" = 0 ] ||
	fail "hole not zeros"
[ "$(tail -c 3 "$M/sparse")" = end ] || fail "sparse tail"
# Changes of a small file are staged in memory, moved to disk once the
# file passes 1 MiB: pieces and holes on both sides of the move, through
# one descriptor, then read back before and after the close.
python3 - "$M/grow" "$T/grow" <<'PY' || fail "staged writes"
import os, sys
fds = [os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644) for p in sys.argv[1:]]
for off, n in ((0, 4096), (600000, 5000), (3 << 20, 4096), (700000, 10),
               (1 << 20, 70000), (5, 3)):
    b = os.urandom(n)
    for fd in fds:
        os.pwrite(fd, b, off)
a, b = (os.pread(fd, 4 << 20, 0) for fd in fds)
sys.exit(0 if a == b else 1)
PY
cmp "$M/grow" "$T/grow" || fail "staged writes after close"
ok "create, offsets, sparse"

# A file of several fragments (64 KiB on this mount).
head -c 300000 /dev/urandom >"$T/rand"
cp "$T/rand" "$M/rand"
cmp "$T/rand" "$M/rand" || fail "copy of a random file"

# Truncate: shrink, grow (zeros), to zero.
truncate -s 1000 "$M/rand"
[ "$(stat -c %s "$M/rand")" = 1000 ] || fail "shrink size"
cmp <(head -c 1000 "$T/rand") "$M/rand" || fail "shrink content"
truncate -s 5000 "$M/rand"
cmp <(head -c 1000 "$T/rand"; head -c 4000 /dev/zero) "$M/rand" ||
	fail "grow content"
: >"$M/rand"
[ "$(stat -c %s "$M/rand")" = 0 ] || fail "truncate to 0"
ok "truncate"

# fallocate: mode 0 grows the file with a hole (kept after close), keep
# size changes nothing, punching a hole is refused (EOPNOTSUPP).
echo head >"$M/fa"
fallocate -l 3MiB "$M/fa" || fail "fallocate"
[ "$(stat -c %s "$M/fa")" = 3145728 ] || fail "fallocate size: $(stat -c %s "$M/fa")"
fallocate -n -o 0 -l 8MiB "$M/fa" || fail "fallocate --keep-size"
[ "$(stat -c %s "$M/fa")" = 3145728 ] || fail "fallocate -n changed the size"
fallocate -p -o 0 -l 4096 "$M/fa" 2>/dev/null && fail "punch hole succeeded"
[ "$(head -c 4 "$M/fa")" = head ] || fail "fallocate lost the content"
[ "$(tail -c +6 "$M/fa" | tr -d '\0' | wc -c)" = 0 ] || fail "fallocate: not zeros"
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644); os.posix_fallocate(fd, 0, 1 << 20); os.close(fd)' "$M/pfa" ||
	fail "posix_fallocate"
[ "$(stat -c %s "$M/pfa")" = 1048576 ] || fail "posix_fallocate size"
ok "fallocate"

# Directories.
mkdir "$M/d1" || fail "mkdir"
mkdir "$M/d1" 2>/dev/null && fail "mkdir of an existing dir succeeded"
mkdir -p "$M/d1/sub/deeper"
echo one >"$M/d1/sub/deeper/f1"
echo two >"$M/d1/f2"
rmdir "$M/d1" 2>/dev/null && fail "rmdir of a non-empty dir succeeded"
[ -d "$M/d1/sub" ] || fail "subdir missing"
[ "$(ls "$M/d1" | tr '\n' ' ')" = "f2 sub " ] || fail "ls d1: $(ls "$M/d1")"
mkdir "$M/empty"; rmdir "$M/empty" || fail "rmdir of an empty dir"
[ -e "$M/empty" ] && fail "rmdir left the dir"
ok "mkdir, rmdir"

# Names the registry refuses: a key past 1,024 bytes is ENAMETOOLONG.
long=$M
for i in 1 2 3 4; do long=$long/$(printf 'n%.0s' $(seq 1 250)); done
mkdir -p "$long" || fail "mkdir of a 1,004-byte key"
err=$(touch "$long/$(printf 'n%.0s' $(seq 1 30))" 2>&1) &&
	fail "a 1,035-byte key was created"
case $err in
*"File name too long"*) ;;
*) fail "a 1,035-byte key: $err, want ENAMETOOLONG" ;;
esac
rm -r "$M/$(printf 'n%.0s' $(seq 1 250))" || fail "rm of the long path"
# One name of 1,024 bytes at the top: its lookup also asks for a
# directory "name/" (1,025 bytes), which cannot exist.
err=$(touch "$M/$(printf 'n%.0s' $(seq 1 1024))" 2>&1) ||
	fail "a 1,024-byte name at the top was refused: $err"
err=$(touch "$M/$(printf 'n%.0s' $(seq 1 1025))" 2>&1) &&
	fail "a 1,025-byte name was created"
case $err in
*"File name too long"*) ;;
*) fail "a 1,025-byte name: $err, want ENAMETOOLONG" ;;
esac
rm "$M/$(printf 'n%.0s' $(seq 1 1024))" || fail "rm of the 1,024-byte name"
# statvfs promises the usual 255 bytes a name (as s3fs), which fit in
# any directory up to 768 bytes deep.
[ "$(stat -f -c %l "$M")" = 255 ] || fail "f_namemax $(stat -f -c %l "$M")"
ok "a name past the key limit: ENAMETOOLONG"

# Rename files: plain, over an existing file, into another directory.
echo A >"$M/ra"; echo B >"$M/rb"
mv "$M/ra" "$M/rc" && [ ! -e "$M/ra" ] && [ "$(cat "$M/rc")" = A ] ||
	fail "rename file"
mv "$M/rc" "$M/rb" && [ "$(cat "$M/rb")" = A ] || fail "rename over file"
mv "$M/rb" "$M/d1/sub/" && [ "$(cat "$M/d1/sub/rb")" = A ] ||
	fail "rename into dir"
echo C >"$M/rn"; echo D >"$M/rm"
mv -n "$M/rn" "$M/rm"
[ "$(cat "$M/rm")" = D ] && [ "$(cat "$M/rn")" = C ] || fail "mv -n replaced"
ok "rename files"

# Rename directories: whole tree, over an empty dir, not over a full one.
mv "$M/d1" "$M/d2" || fail "rename dir"
[ ! -e "$M/d1" ] && [ "$(cat "$M/d2/sub/deeper/f1")" = one ] ||
	fail "renamed tree content"
mkdir "$M/e1"
mv "$M/d2" "$M/e1" 2>/dev/null; [ -d "$M/e1/d2" ] || fail "mv dir into dir"
mkdir "$M/target"
python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' \
	"$M/e1/d2" "$M/target" || fail "rename dir over empty dir"
[ "$(cat "$M/target/f2")" = two ] || fail "dir over empty dir content"
mkdir "$M/full"; echo x >"$M/full/x"
python3 -c 'import os,sys; os.rename(sys.argv[1], sys.argv[2])' \
	"$M/target" "$M/full" 2>/dev/null && fail "rename over non-empty dir"
[ "$(cat "$M/full/x")" = x ] || fail "non-empty target changed"
awss3 s3 ls --recursive s3://posix/ >"$T/s3ls"
grep -q " target/sub/deeper/f1$" "$T/s3ls" || fail "S3 view: $(cat "$T/s3ls")"
grep -q "e1/d2" "$T/s3ls" && fail "S3 still has the old keys"
ok "rename directories"

# Rename of an open file: the handle keeps working, data lands at the new name.
python3 - "$M" <<'PY' || fail "rename while open"
import os, sys
m = sys.argv[1]
f = open(m + "/open1", "w")
f.write("part1 ")
f.flush()
os.rename(m + "/open1", m + "/open2")
f.write("part2")
f.close()
assert open(m + "/open2").read() == "part1 part2", open(m + "/open2").read()
assert not os.path.exists(m + "/open1")
PY
ok "rename of an open file"

# Unlink.
rm "$M/a" && [ ! -e "$M/a" ] || fail "unlink"
rm "$M/a" 2>/dev/null && fail "unlink of a missing file succeeded"
ok "unlink"

# fsync and fsyncdir: closes, unlinks and mkdirs are committed lazily
# (visible at once, on the registry's disk one fsync later); fsync of a
# file or a directory waits for that, and fails if it cannot.
python3 - "$M" <<'PY' || fail "fsync, fsyncdir"
import os, sys
m = sys.argv[1]
os.mkdir(m + "/sync")
with open(m + "/sync/f", "wb") as f:
    f.write(b"durable")
fd = os.open(m + "/sync/f", os.O_RDONLY)
os.fsync(fd)			# nothing dirty: waits for the lazy close
os.close(fd)
os.unlink(m + "/sync/f")
fd = os.open(m + "/sync", os.O_RDONLY | os.O_DIRECTORY)
os.fsync(fd)
os.close(fd)
fd = os.open(m + "/sync/g", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"x")
os.fsync(fd)			# a durable commit
os.close(fd)
PY
awss3 s3 ls --recursive s3://posix/sync/ >"$T/s3sync"
grep -q ' sync/g$' "$T/s3sync" && ! grep -q ' sync/f$' "$T/s3sync" ||
	fail "fsync'd changes through S3: $(cat "$T/s3sync")"
rm -r "$M/sync"
ok "fsync, fsyncdir"

# Open files outlive their name: after an unlink, or a rename over
# them, every handle keeps working (read, write, fstat, ftruncate,
# fchmod) on the old content; the name is free at once and nothing of
# the file is left soon after the last handle closes. (libfuse hides such a
# file under .fuse_hidden* until then, as for sshfs and s3fs.)
python3 - "$M" <<'PY' || fail "open files after unlink / rename over"
import os, sys
m = sys.argv[1]
open(m + "/ul", "w").write("hello")
fd = os.open(m + "/ul", os.O_RDWR)
os.unlink(m + "/ul")
assert not os.path.exists(m + "/ul")
open(m + "/ul", "w").write("a new file")
assert os.fstat(fd).st_size == 5, os.fstat(fd)
assert os.pread(fd, 10, 0) == b"hello"
os.pwrite(fd, b" world", 5)
assert os.fstat(fd).st_size == 11
assert os.pread(fd, 20, 0) == b"hello world"
os.ftruncate(fd, 4)
os.fchmod(fd, 0o600)
assert os.pread(fd, 20, 0) == b"hell"
os.close(fd)
assert open(m + "/ul").read() == "a new file"
open(m + "/ro", "w").write("old")
r = open(m + "/ro")
open(m + "/ro.tmp", "w").write("new")
os.rename(m + "/ro.tmp", m + "/ro")
assert r.read() == "old"
assert os.fstat(r.fileno()).st_size == 3
assert open(m + "/ro").read() == "new"
r.close()
# The kernel sends the release after close() returns: give it a moment.
import time
for i in range(50):
    left = [n for n in os.listdir(m) if n.startswith(".fuse_hidden")]
    if not left:
        break
    time.sleep(0.1)
assert not left, left
PY
keys=$(awss3 s3api list-objects-v2 --bucket posix --query 'Contents[].Key' \
    --output text) || fail "S3 list after unlink while open"
[[ $keys != *fuse_hidden* ]] || fail "hidden files left in S3: $keys"
[ "$(awss3 s3 cp s3://posix/ul -)" = "a new file" ] ||
	fail "S3 sees the new ul"
ok "open files after unlink and rename over them"

# Permissions, owners and timestamps are stored.
echo secret >"$M/p"
chmod 640 "$M/p"
[ "$(stat -c %a "$M/p")" = 640 ] || fail "chmod: $(stat -c %a "$M/p")"
chown 1234:2345 "$M/p"
[ "$(stat -c %u:%g "$M/p")" = 1234:2345 ] || fail "chown"
chmod 600 "$M/p"; chown 0:0 "$M/p"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups cat "$M/p" \
		>/dev/null 2>&1 && fail "mode 600 readable by another user"
fi
touch -d '2001-02-03 04:05:06 UTC' "$M/p"
[ "$(stat -c %Y "$M/p")" = 981173106 ] || fail "utimens: $(stat -c %Y "$M/p")"
mkdir "$M/pd"; chmod 700 "$M/pd"
[ "$(stat -c %a "$M/pd")" = 700 ] || fail "chmod dir"
# A directory that only exists as a prefix (written through S3) gets a
# marker holding its mode.
echo imp | awss3 s3 cp - s3://posix/imp/x || fail "S3 put of imp/x"
chmod 711 "$M/imp" || fail "chmod of an implied directory"
[ "$(stat -c %F:%a "$M/imp")" = "directory:711" ] ||
	fail "implied dir: $(stat -c %F:%a "$M/imp")"
awss3 s3api head-object --bucket posix --key imp/ >/dev/null ||
	fail "no marker imp/ after chmod"
# Directory attributes are cached (a create or unlink in a directory
# would otherwise cost a registry call for the directory itself): a
# chmod between creates is seen at once, and an implied directory still
# vanishes with its last key.
mkdir "$M/pd2"; touch "$M/pd2/a"; stat "$M/pd2" >/dev/null
chmod 700 "$M/pd2"; touch "$M/pd2/b"
[ "$(stat -c %a "$M/pd2")" = 700 ] ||
	fail "chmod of a dir between creates: $(stat -c %a "$M/pd2")"
echo imp | awss3 s3 cp - s3://posix/imp2/x || fail "S3 put of imp2/x"
[ -d "$M/imp2" ] || fail "implied dir imp2 not seen"
rm "$M/imp2/x"
[ ! -e "$M/imp2" ] || fail "implied dir imp2 outlived its last key"
ok "permissions, owners, timestamps"

# This mount is root's alone (no allow_other), so the kernel leaves out
# default_permissions and arkorfs answers access(2) as for root: all but
# executing a file without any execute bit.
grep -q "default_permissions" <(findmnt -n -o OPTIONS "$M") &&
	fail "root-only mount with default_permissions"
printf '#!/bin/sh\necho ran\n' >"$M/x.sh"; chmod 644 "$M/x.sh"
[ -x "$M/x.sh" ] && fail "access(X_OK) of a 644 file"
"$M/x.sh" 2>/dev/null && fail "a 644 file executed"
chmod 701 "$M/x.sh"
[ -x "$M/x.sh" ] || fail "access(X_OK) of a 701 file"
[ "$("$M/x.sh")" = ran ] || fail "a 701 file did not run"
chmod 444 "$M/x.sh"
[ -w "$M/x.sh" ] || fail "access(W_OK) of a 444 file, as root"
mkdir "$M/closed"; chmod 000 "$M/closed"
touch "$M/closed/f" || fail "root creates in a 000 directory"
[ -x "$M/closed" ] || fail "access(X_OK) of a 000 directory, as root"
[ -e "$M/closed/nothing" ] && fail "access(F_OK) of a missing name"
rm -r "$M/closed" "$M/x.sh"
ok "root-only mount: access(2) as root"

# Symlinks.
ln -s target/f2 "$M/link"
[ "$(readlink "$M/link")" = target/f2 ] || fail "readlink"
[ "$(cat "$M/link")" = two ] || fail "read through symlink"
[ -L "$M/link" ] || fail "not a symlink"
ok "symlinks"

# Special files: a FIFO and a socket are kept (type and mode), a device
# is refused with EPERM.
mkfifo -m 600 "$M/fifo" || fail "mkfifo"
[ "$(stat -c %F:%a "$M/fifo")" = "fifo:600" ] ||
	fail "fifo: $(stat -c %F:%a "$M/fifo")"
( echo through >"$M/fifo" ) &
w=$!
[ "$(timeout 10 cat "$M/fifo")" = through ] || fail "data through the fifo"
wait "$w"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$M/sock" || fail "bind a unix socket"
[ "$(stat -c %F "$M/sock")" = socket ] || fail "socket: $(stat -c %F "$M/sock")"
chmod 640 "$M/fifo"
[ "$(stat -c %F:%a "$M/fifo")" = "fifo:640" ] ||
	fail "chmod of a fifo: $(stat -c %F:%a "$M/fifo")"
err=$(mknod "$M/dev" c 1 3 2>&1) && fail "mknod of a device"
case $err in *"not permitted"*) ;; *) fail "mknod of a device: $err" ;; esac
ok "special files"

# statfs from the registry's capacity.
[ "$(stat -f -c %b "$M")" -gt 0 ] || fail "statfs blocks"

# A directory longer than one list page (1000 entries).
N=1100; [ "${ARKOR_SANITIZED:-0}" = 1 ] && N=1010
mkdir "$M/many"
( cd "$M/many" && seq 1 $N | xargs touch ) || fail "touch many"
[ "$(ls "$M/many" | wc -l)" = $N ] || fail "ls many: $(ls "$M/many" | wc -l)"
ok "listing of $N entries"

# Concurrent writers on different files: each ends with its own bytes.
mkdir "$M/conc"
pids=()
for i in 1 2 3 4; do
	head -c $((200000 + i * 12345)) /dev/urandom >"$T/conc$i"
	dd if="$T/conc$i" of="$M/conc/f$i" bs=4096 status=none &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "concurrent writer $p"; done
for i in 1 2 3 4; do
	cmp "$T/conc$i" "$M/conc/f$i" || fail "concurrent file f$i"
done
ok "concurrent writers on different files"

# Concurrent namespace changes: each process makes names in a directory
# of its own, and renames files right after closing them, while the
# others' registry answers arrive in between (the name cache holds an
# answer back until the earlier ones are in; meanwhile it must not
# answer those names from before the change).
python3 - "$M/cns" <<'PY' || fail "concurrent mkdir, symlink, mkfifo, rename"
import multiprocessing as mp, os, sys
top = sys.argv[1]
os.mkdir(top)
def work(k, q):
    d = os.path.join(top, "p%d" % k)
    os.mkdir(d)
    bad = []
    for i in range(60):
        for make, n in ((os.mkdir, "d%d" % i),
                        (lambda p: os.symlink("t", p), "l%d" % i),
                        (os.mkfifo, "q%d" % i)):
            try:
                make(os.path.join(d, n))
            except OSError as e:
                bad.append("%s: %s" % (n, e.strerror))
        f = os.path.join(d, "f%d" % i)
        with open(f, "wb") as fh:
            fh.write(b"x")
        try:
            os.rename(f, f + ".r")
        except OSError as e:
            bad.append("rename f%d: %s" % (i, e.strerror))
    q.put(bad)
q = mp.Queue()
ps = [mp.Process(target=work, args=(k, q)) for k in range(4)]
[p.start() for p in ps]
bad = sum((q.get() for _ in ps), [])
[p.join() for p in ps]
if bad:
    sys.exit("%d failed, first: %s" % (len(bad), bad[:3]))
for k in range(4):
    n = len(os.listdir(os.path.join(top, "p%d" % k)))
    if n != 240:
        sys.exit("p%d holds %d names, not 240" % (k, n))
PY
ok "concurrent mkdir, symlink, mkfifo and rename after close"

# close() then unlink() from several processes: the kernel's release
# comes after close returns, so libfuse still sees some files open and
# hides them (.fuse_hidden*); none may stay once released.
mkdir "$M/hid"
python3 - "$M/hid" <<'PY' || fail "create, close, unlink from 5 processes"
import multiprocessing as mp, os, sys
def work(k):
    for i in range(100):
        f = os.path.join(sys.argv[1], "f%d_%d" % (k, i))
        os.close(os.open(f, os.O_CREAT | os.O_WRONLY, 0o600))
        os.unlink(f)
ps = [mp.Process(target=work, args=(k,)) for k in range(5)]
[p.start() for p in ps]
[p.join() for p in ps]
sys.exit(max(p.exitcode for p in ps))
PY
n=0
while [ -n "$(ls -A "$M/hid")" ] && [ $n -lt 30 ]; do sleep 0.1; n=$((n + 1)); done
[ -z "$(ls -A "$M/hid")" ] || fail "left in hid/: $(ls -A "$M/hid" | head -3)"
keys=$(awss3 s3api list-objects-v2 --bucket posix --prefix hid/ \
	--query 'Contents[].Key' --output text)
[ "$keys" = hid/ ] || fail "S3 lists under hid/: $(echo "$keys" | head -c 300)"
rmdir "$M/hid" || fail "rmdir hid"
ok "no hidden files left by close and unlink from several processes"

# A directory holding a file created and not yet closed (not in the
# registry yet) lists it and is not empty; a name that is not UTF-8 is refused at
# create, not lost at close; rewinddir lists what is there now; . and ..
# are directories.
python3 - "$M/edge" <<'PY' || fail "open new file in rmdir, UTF-8, rewinddir"
import ctypes, ctypes.util, errno, os, sys
d = sys.argv[1]
os.makedirs(d + "/sub")
fd = os.open(d + "/sub/new", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"data")
assert os.listdir(d + "/sub") == ["new"], os.listdir(d + "/sub")
assert [(e.name, e.stat().st_size) for e in os.scandir(d + "/sub")] == \
    [("new", 4)]
try:
    os.rmdir(d + "/sub")
    sys.exit("rmdir of a directory with an open new file worked")
except OSError as e:
    assert e.errno == errno.ENOTEMPTY, e
os.mkdir(d + "/other")
try:
    os.rename(d + "/other", d + "/sub")
    sys.exit("rename over a directory with an open new file worked")
except OSError as e:
    assert e.errno in (errno.ENOTEMPTY, errno.EEXIST), e
os.close(fd)
assert open(d + "/sub/new", "rb").read() == b"data"
try:
    os.close(os.open(os.fsencode(d) + b"/bad\xffname", os.O_CREAT | os.O_WRONLY))
    sys.exit("a name that is not UTF-8 was created")
except OSError as e:
    assert e.errno == errno.EINVAL, e
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.opendir.restype = ctypes.c_void_p
libc.readdir.restype = ctypes.c_void_p
libc.readdir.argtypes = [ctypes.c_void_p]
libc.rewinddir.argtypes = [ctypes.c_void_p]
libc.closedir.argtypes = [ctypes.c_void_p]
class Dirent(ctypes.Structure):
    _fields_ = [("ino", ctypes.c_ulong), ("off", ctypes.c_long),
                ("reclen", ctypes.c_ushort), ("type", ctypes.c_ubyte),
                ("name", ctypes.c_char * 256)]
h = libc.opendir(os.fsencode(d))
def entries():
    out = {}
    while True:
        p = libc.readdir(h)
        if not p:
            return out
        e = Dirent.from_address(p)
        out[e.name.decode()] = e.type
first = entries()
assert first == {".": 4, "..": 4, "sub": 4, "other": 4}, first
open(d + "/late", "w").close()
libc.rewinddir(h)
assert "late" in entries()
libc.closedir(h)
PY
ok "an open new file in listings and rmdir, names not UTF-8, rewinddir, d_type of . and .."

# Remount: everything is still there.
fs_umount fs1 "$M"
fs_mount fs2 "$M" --bucket posix
[ "$(cat "$M/open2")" = "part1 part2" ] || fail "after remount"
[ "$(stat -c %a "$M/p")" = 600 ] || fail "mode after remount"
[ "$(readlink "$M/link")" = target/f2 ] || fail "symlink after remount"
cmp "$M/grow" "$T/grow" || fail "staged writes after remount"
[ "$(stat -c %F:%a "$M/fifo")" = "fifo:640" ] || fail "fifo after remount"
[ "$(stat -c %F "$M/sock")" = socket ] || fail "socket after remount"
rm "$M/fifo" "$M/sock" || fail "rm special files"
fs_umount fs2 "$M"
ok "remount"
