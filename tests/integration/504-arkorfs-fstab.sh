#!/bin/bash
# 504-arkorfs-fstab.sh - mount.arkorfs, the mount(8) helper: run directly
# with fstab-style -o options, then through mount(8) itself, from an fstab
# line (`mount -T FSTAB DIR`) and from `mount -t fuse.arkorfs`, and
# unmounted with umount(8). mount(8) only runs helpers from /sbin, so that
# part runs in a private mount namespace (unshare -m) where a directory
# holding the link mount.fuse.arkorfs -> the built helper is bound over
# /usr/sbin: nothing outside this test sees it.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/cluster-lib.sh"
. "$top_srcdir/tests/integration/fs-lib.sh"
fs_skip_unless_fuse
[ "$(id -u)" = 0 ] || { echo "SKIP: mount(8) helpers need root"; exit 77; }
ark_timeout 180
HELPER=$top_builddir/mount.arkorfs
[ -x "$HELPER" ] || fail "no $HELPER (make)"
cluster_start
fs_bucket fstab
echo through-s3 >"$T/obj"
awss3 s3 cp "$T/obj" s3://fstab/dir/obj >/dev/null || fail "S3 put"
M=$T/mnt
mkdir -p "$M"

# arkorfs detaches: the pids of the daemons serving mount point $1 (its
# path is unique to this test), to wait for them after umount.
mount_pids() {
	grep -lsF -- "$1" /proc/[0-9]*/cmdline 2>/dev/null |
	    sed 's#/proc/\([0-9]*\)/cmdline#\1#' | grep -vx "$$" || true
}
# umount_wait MNT: umount(8), then the daemon must exit within 10 s.
umount_wait() {
	local pids n=0
	pids=$(mount_pids "$1")
	umount "$1" || fail "umount $1"
	mountpoint -q "$1" && fail "still mounted after umount: $1"
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null; do
			n=$((n + 1))
			[ $n -lt 100 ] || { kill "$p"; fail "arkorfs $p did not exit"; }
			sleep 0.1
		done
	done
}

# The options arkorfs gets, without running it (-f).
"$HELPER" -f "$REG" "$M" -o "credentials=$T/admin.credentials,bucket=fstab" \
	-o ro,allow_other,_netdev,noauto,nofail,x-systemd.automount,file_mode=0600,nosuid,attr-timeout=2s,fid_pool=8,xattr \
	>"$T/cmd" || fail "mount.arkorfs -f"
expect="$top_builddir/arkorfs --credentials $T/admin.credentials --bucket fstab --read-only --allow-other --file-mode 0600 --attr-timeout 2s --fid-pool 8 --xattr -o nosuid $REG $M"
[ "$(cat "$T/cmd")" = "$expect" ] || fail "translation: $(cat "$T/cmd")"
"$HELPER" "$REG" "$M" -o bucket 2>/dev/null && fail "bucket without a value"
"$HELPER" "$REG" 2>/dev/null && fail "no mount point accepted"
ok "option translation"

# The helper itself: it returns once mounted.
FS_MOUNTS+=("$M")
"$HELPER" "$REG" "$M" -o "credentials=$T/admin.credentials,bucket=fstab,cache_dir=$T,_netdev,nosuid,log_level=info" ||
	fail "mount.arkorfs"
mountpoint -q "$M" || fail "not mounted when mount.arkorfs returned"
findmnt -n -o FSTYPE,OPTIONS "$M" >"$T/findmnt"
grep -q "^fuse.arkorfs .*nosuid" "$T/findmnt" || fail "findmnt: $(cat "$T/findmnt")"
# Mounted by root for root alone: no default_permissions (arkorfs checks).
grep -q "default_permissions" "$T/findmnt" && fail "root-only mount: $(cat "$T/findmnt")"
[ "$(cat "$M/dir/obj")" = through-s3 ] || fail "read through the helper's mount"
echo helper >"$M/by-helper" || fail "write"
umount_wait "$M"
[ "$(awss3 s3 cp s3://fstab/by-helper -)" = helper ] || fail "S3 view"
ok "mount.arkorfs REGISTRY DIR -o ..., umount"

# mount(8) itself, in a private mount namespace.
if ! unshare -m --propagation private true 2>/dev/null; then
	echo "SKIP (rest): no mount namespaces (unshare -m)"
	exit 0
fi
mkdir -p "$T/sbin"
ln -s "$HELPER" "$T/sbin/mount.fuse.arkorfs"
printf '%s %s fuse.arkorfs credentials=%s,bucket=fstab,ro,allow_other,cache_dir=%s,_netdev,noauto 0 0\n' \
	"$REG" "$M" "$T/admin.credentials" "$T" >"$T/fstab"
export M T REG
unshare -m --propagation private bash -euc '
	fail() { echo "FAIL: $*"; exit 1; }
	trap "umount -l \"\$M\" 2>/dev/null || true" EXIT
	mount --bind "$T/sbin" /usr/sbin
	[ -L /sbin/mount.fuse.arkorfs ] || fail "no helper in /sbin"
	mount -T "$T/fstab" "$M" || fail "mount -T fstab"
	mountpoint -q "$M" || fail "fstab line: not mounted"
	findmnt -n -o FSTYPE,OPTIONS "$M" >"$T/findmnt2"
	grep -q "^fuse.arkorfs ro," "$T/findmnt2" ||
		fail "fstab mount: $(cat "$T/findmnt2")"
	# Other users: the kernel checks permissions from the modes.
	grep -q "default_permissions" "$T/findmnt2" ||
		fail "allow_other mount without default_permissions: $(cat "$T/findmnt2")"
	[ "$(cat "$M/dir/obj")" = through-s3 ] || fail "fstab mount: read"
	echo no 2>/dev/null >"$M/ro" && fail "read-only fstab mount took a write"
	umount "$M" || fail "umount (fstab)"
	mount -t fuse.arkorfs -o "credentials=$T/admin.credentials,bucket=fstab,cache_dir=$T" \
		"$REG" "$M" || fail "mount -t fuse.arkorfs"
	grep -q "^fuse.arkorfs rw," <(findmnt -n -o FSTYPE,OPTIONS "$M") ||
		fail "mount -t: $(findmnt -n -o FSTYPE,OPTIONS "$M")"
	echo via-mount >"$M/by-mount" || fail "write via mount -t"
	umount "$M" || fail "umount (mount -t)"
	trap - EXIT
' || fail "mount(8) with the helper"
mountpoint -q "$M" && fail "still mounted"
for p in $(mount_pids "$M"); do
	n=0
	while kill -0 "$p" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 100 ] || { kill "$p"; fail "arkorfs $p lingers"; }
		sleep 0.1
	done
done
[ "$(awss3 s3 cp s3://fstab/by-mount -)" = via-mount ] || fail "S3 view of by-mount"
ok "mount -T fstab (ro) and mount -t fuse.arkorfs, umount"
