#!/bin/bash
# 503-arkorfs-xattr-lock.sh - arkorfs extended attributes and advisory
# locks on the real kernel FUSE against a local cluster.
#
# xattrs (--xattr): "user." attributes round-trip byte for byte (binary values,
# odd names) through setfattr/getfattr and Python, survive a remount,
# show as S3 user metadata (and S3 metadata shows as xattrs), are kept
# with a file written before its first close, live on directories
# (markers, implied ones too), change no data (the data servers' disks do
# not grow), and fail with the xattr(7) codes: EEXIST/ENODATA for
# XATTR_CREATE/XATTR_REPLACE, ENODATA, ERANGE, E2BIG, ENOSPC, ENOTSUP;
# a mount without --xattr answers ENOTSUP.
# Locks: flock(1) and fcntl (POSIX) locks from two processes on one
# mount: the second non-blocking lock fails while the first is held.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/cluster-lib.sh"
. "$top_srcdir/tests/integration/fs-lib.sh"
fs_skip_unless_fuse
command -v setfattr >/dev/null && command -v getfattr >/dev/null ||
	{ echo "SKIP: no setfattr/getfattr (Debian package attr)"; exit 77; }
ark_timeout 240
cluster_start
fs_bucket xattrs
M=$T/mnt
fs_mount fs1 "$M" --bucket xattrs --fragment-size 64KiB --xattr

# ---- xattrs -----------------------------------------------------------------

echo hello >"$M/f"
setfattr -n user.color -v red "$M/f" || fail "setfattr"
[ "$(getfattr --absolute-names --only-values -n user.color "$M/f")" = red ] ||
	fail "getfattr: $(getfattr -d "$M/f" 2>&1)"
setfattr -n user.color -v blue "$M/f" || fail "setfattr replace"
[ "$(getfattr --absolute-names --only-values -n user.color "$M/f")" = blue ] ||
	fail "replaced value"
[ "$(cat "$M/f")" = hello ] || fail "content changed by xattrs"
ok "setfattr/getfattr"

# S3 view: natural names are S3 user metadata, both ways.
awss3 s3api head-object --bucket xattrs --key f >"$T/head.json"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["Metadata"]
assert m == {"color": "blue"}, m' "$T/head.json" || fail "S3 metadata"
echo s3 >"$T/s3obj"
awss3 s3api put-object --bucket xattrs --key s3obj --body "$T/s3obj" \
	--metadata author=alice,note=x >/dev/null || fail "put-object"
[ "$(getfattr --absolute-names --only-values -n user.author "$M/s3obj")" = alice ] ||
	fail "S3 metadata as xattr: $(getfattr -d "$M/s3obj" 2>&1)"
ok "xattrs are S3 user metadata"

# Without --xattr (the default) the kernel answers ENOTSUP by itself.
fs_mount fs0 "$T/plain" --bucket xattrs
python3 - "$T/plain/f" <<'PY' || fail "mount without --xattr"
import errno, os, sys
for fn, a in ((os.getxattr, ("user.color",)), (os.listxattr, ()),
              (os.setxattr, ("user.x", b"1"))):
    try:
        fn(sys.argv[1], *a)
    except OSError as e:
        assert e.errno == errno.ENOTSUP, (fn, e)
    else:
        raise AssertionError("%s worked without --xattr" % fn.__name__)
PY
fs_umount fs0 "$T/plain"
ok "no xattrs without --xattr"

# Byte-exact values and names S3 cannot hold as they are, with the
# xattr(7) error codes; every value is kept in $T/expect.json.
python3 - "$M" "$T/expect.json" <<'PY' || fail "xattr semantics"
import ctypes, errno, json, os, sys
m, out = sys.argv[1], sys.argv[2]
f = m + "/f"
vals = {
    "user.bin": bytes(range(256)),
    "user.My Name/ü": b"  leading and trailing  ",
    "user.eq": b"=?UTF-8?B?aGk=?=",
    "user.empty": b"",
    "user.utf8": "grüße".encode(),
    "user.%25": b"percent",
}
for k, v in vals.items():
    os.setxattr(f, k, v)
for k, v in vals.items():
    got = os.getxattr(f, k)
    assert got == v, (k, got, v)
names = set(os.listxattr(f))
assert names == set(vals) | {"user.color"}, names

def err(fn, *a):
    try:
        fn(*a)
    except OSError as e:
        return e.errno
    return 0

assert err(os.setxattr, f, "user.color", b"x", os.XATTR_CREATE) == errno.EEXIST
assert err(os.setxattr, f, "user.nope", b"x", os.XATTR_REPLACE) == errno.ENODATA
assert err(os.getxattr, f, "user.nope") == errno.ENODATA
assert err(os.removexattr, f, "user.nope") == errno.ENODATA
for ns in ("security.arkor", "trusted.arkor"):
    assert err(os.setxattr, f, ns, b"x") == errno.ENOTSUP, ns
    assert err(os.getxattr, f, ns) in (errno.ENOTSUP, errno.ENODATA), ns
# A value that can never fit the 8 KiB of user metadata, one beyond the
# kernel's 64 KiB, and one that fits alone but not with the others.
assert err(os.setxattr, f, "user.big", b"v" * 9000) == errno.E2BIG
assert err(os.setxattr, f, "user.huge", b"v" * 70000) == errno.E2BIG
os.setxattr(f, "user.fill1", b"a" * 3000)
os.setxattr(f, "user.fill2", b"b" * 3000)
assert err(os.setxattr, f, "user.fill3", b"c" * 3000) == errno.ENOSPC
os.removexattr(f, "user.fill2")
assert err(os.getxattr, f, "user.fill2") == errno.ENODATA
vals["user.fill1"] = b"a" * 3000
# A buffer too small: ERANGE (getxattr and listxattr).
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(2)
assert libc.getxattr(f.encode(), b"user.bin", buf, 2) == -1
assert ctypes.get_errno() == errno.ERANGE
assert libc.listxattr(f.encode(), buf, 2) == -1
assert ctypes.get_errno() == errno.ERANGE
assert libc.getxattr(f.encode(), b"user.bin", None, 0) == 256

# Set on a new file before its first close: kept with the commit.
g = m + "/new"
with open(g, "wb") as h:
    h.write(b"data")
    h.flush()
    os.setxattr(g, "user.early", b"before close")
    os.setxattr(g, "user.gone", b"x")
    os.removexattr(g, "user.gone")
    assert os.getxattr(g, "user.early") == b"before close"
    h.write(b" more")
assert open(g, "rb").read() == b"data more"
assert os.listxattr(g) == ["user.early"], os.listxattr(g)

vals["user.color"] = b"blue"
exp = {"f": {k: v.hex() for k, v in vals.items()},
       "new": {"user.early": b"before close".hex()}}
json.dump(exp, open(out, "w"))
PY
ok "binary values, odd names, error codes, set before close"

# Directories: a mkdir marker and an implied directory (keys only).
mkdir "$M/d"
setfattr -n user.dir -v yes "$M/d" || fail "setfattr on a dir"
echo x >"$T/x"
awss3 s3 cp "$T/x" s3://xattrs/impl/x >/dev/null
setfattr -n user.dir -v implied "$M/impl" || fail "setfattr on an implied dir"
[ "$(getfattr --absolute-names --only-values -n user.dir "$M/impl")" = implied ] ||
	fail "implied dir xattr"
[ "$(cat "$M/impl/x")" = x ] || fail "implied dir content"
ok "directory xattrs"

# No data rewrite: xattrs on a 1 MiB file leave the data servers' disks.
head -c 1048576 /dev/urandom >"$M/big"
sync
before=$(du -sb "$T/data1" | cut -f1)
for i in $(seq 1 10); do setfattr -n user.n$i -v $i "$M/big"; done
setfattr -x user.n1 "$M/big"
after=$(du -sb "$T/data1" | cut -f1)
[ $((after - before)) -lt 262144 ] ||
	fail "xattrs rewrote data: data1 grew $before -> $after"
[ "$(getfattr --absolute-names --only-values -n user.n10 "$M/big")" = 10 ] || fail "n10"
ok "xattr changes write no data ($before -> $after bytes)"

# ---- advisory locks ---------------------------------------------------------

echo lock >"$M/lockf"
flock "$M/lockf" sleep 3 &
holder=$!
sleep 0.5
flock -n "$M/lockf" true && fail "flock -n succeeded while held"
flock -n -s "$M/lockf" true && fail "shared flock -n while held exclusively"
wait $holder || fail "flock holder"
flock -n "$M/lockf" true || fail "flock -n after release"
ok "flock"

python3 - "$M/lockf" <<'PY' || fail "fcntl locks"
import errno, fcntl, os, subprocess, sys, time
p = sys.argv[1]
child = """
import errno, fcntl, sys
f = open(sys.argv[1], "r+")
try:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError as e:
    sys.exit(3 if e.errno in (errno.EAGAIN, errno.EACCES) else 4)
sys.exit(0)
"""
f = open(p, "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
r = subprocess.run([sys.executable, "-c", child, p], timeout=20)
assert r.returncode == 3, "second lock while held: %d" % r.returncode
# A byte range: another range is free, the held one is not.
fcntl.lockf(f, fcntl.LOCK_UN)
fcntl.lockf(f, fcntl.LOCK_EX, 1, 0)
rng = child.replace("fcntl.LOCK_EX | fcntl.LOCK_NB)",
                    "fcntl.LOCK_EX | fcntl.LOCK_NB, 1, int(sys.argv[2]))")
assert subprocess.run([sys.executable, "-c", rng, p, "2"],
                      timeout=20).returncode == 0, "free range refused"
assert subprocess.run([sys.executable, "-c", rng, p, "0"],
                      timeout=20).returncode == 3, "held range granted"
f.close()
r = subprocess.run([sys.executable, "-c", child, p], timeout=20)
assert r.returncode == 0, "lock after release: %d" % r.returncode
PY
ok "fcntl (POSIX) locks"

# ---- remount: every value byte for byte ---------------------------------------

fs_umount fs1 "$M"
fs_mount fs2 "$M" --bucket xattrs --xattr
python3 - "$M" "$T/expect.json" <<'PY' || fail "xattrs after remount"
import json, os, sys
m = sys.argv[1]
for name, attrs in json.load(open(sys.argv[2])).items():
    p = m + "/" + name
    assert set(os.listxattr(p)) == set(attrs), (name, os.listxattr(p))
    for k, v in attrs.items():
        assert os.getxattr(p, k) == bytes.fromhex(v), (name, k)
assert os.getxattr(m + "/d", "user.dir") == b"yes"
assert os.getxattr(m + "/impl", "user.dir") == b"implied"
PY
# getfattr's dump of the binary value, byte for byte as Python wrote it.
getfattr --absolute-names -e hex --only-values -n user.bin "$M/f" >/dev/null ||
	fail "getfattr -e hex"
[ "$(getfattr --absolute-names -e hex -n user.bin "$M/f" |
    sed -n 's/^user.bin=0x//p')" = "$(python3 -c 'print(bytes(range(256)).hex())')" ] ||
	fail "getfattr hex dump of user.bin"
fs_umount fs2 "$M"
ok "remount: xattrs byte-exact"
