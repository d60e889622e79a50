# fs-lib.sh - arkorfs scenarios (sourced after lib.sh and cluster-lib.sh):
# mount and unmount arkorfs on the local cluster, unmounting everything on
# exit before the daemons are stopped.

FS_MOUNTS=()

fs_cleanup() {
	local rc=$? m
	for m in "${FS_MOUNTS[@]:-}"; do
		[ -n "$m" ] && fusermount3 -u -z "$m" 2>/dev/null || true
	done
	set +e
	(exit $rc)
	ark_cleanup
}
trap fs_cleanup EXIT

# fs_skip_unless_fuse: exit 77 (skip) without a usable /dev/fuse.
fs_skip_unless_fuse() {
	if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
		echo "SKIP: no /dev/fuse or fusermount3"; exit 77
	fi
	if [ "$(id -u)" != 0 ] && ! [ -r /dev/fuse -a -w /dev/fuse ]; then
		echo "SKIP: /dev/fuse not accessible"; exit 77
	fi
}

# fs_bucket NAME: creates a bucket through S3.
fs_bucket() {
	awss3 s3 mb "s3://$1" >/dev/null || fail "create bucket $1"
}

# fs_mount NAME MOUNTPOINT [ARKORFS ARGS...]: mounts in the foreground
# (log in $T/NAME.log, pid in PID_NAME) and waits until it is mounted.
fs_mount() {
	local name=$1 mnt=$2 n=0; shift 2
	mkdir -p "$mnt"
	ark_start "$name" "$top_builddir/arkorfs" -f \
		--credentials "$T/admin.credentials" --cache-dir "$T" \
		--log-level info "$@" "$REG" "$mnt"
	FS_MOUNTS+=("$mnt")
	until mountpoint -q "$mnt"; do
		n=$((n + 1))
		[ $n -lt 100 ] || { cat "$T/$name.log"; fail "mount $mnt"; }
		if ! kill -0 "$(eval echo \$PID_$name)" 2>/dev/null; then
			cat "$T/$name.log"
			# No FUSE mounts allowed here (container without
			# CAP_SYS_ADMIN): skip rather than fail.
			if [ -z "${FS_MOUNTED_ONCE:-}" ] &&
			    grep -q "cannot mount\|fuse: " "$T/$name.log"; then
				echo "SKIP: FUSE mounts not permitted"; exit 77
			fi
			fail "arkorfs $name exited"
		fi
		sleep 0.1
	done
	FS_MOUNTED_ONCE=1
}

# fs_umount NAME MOUNTPOINT: unmounts; arkorfs must exit 0 with no
# sanitizer report.
fs_umount() {
	local name=$1 mnt=$2 pid rc=0
	pid=$(eval echo \$PID_$name)
	fusermount3 -u "$mnt" || fail "fusermount3 -u $mnt"
	wait "$pid" || rc=$?
	if grep -q "Sanitizer\|runtime error" "$T/$name.log"; then
		cat "$T/$name.log" >&2
		fail "sanitizer report from arkorfs $name"
	fi
	[ $rc = 0 ] || { cat "$T/$name.log"; fail "arkorfs $name exit $rc"; }
}
