#!/bin/bash
# 507-arkorfs-datad-fault.sh - arkorfs while a data server dies (SIGKILL)
# during writes, with two groups of three (issue 7: "a data server killed
# during reads and writes (the mount keeps working)"):
#   - a 40 MiB file being written (1 MiB fragments) and small files being
#     created when one server of group 1 dies: every close succeeds, the
#     fragments that failed are written again in group 2 (the registry
#     still hands out group 1 until the heartbeat timeout: arkorfs avoids
#     a group that failed it), and the mount logs the failed replica;
#   - every byte reads back through the mount, a fresh mount and S3, with
#     the dead server's group one replica short;
#   - new files keep being written while the server stays down.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/cluster-lib.sh"
. "$top_srcdir/tests/integration/fs-lib.sh"
fs_skip_unless_fuse
ark_timeout 300
cluster_start
for i in 4 5 6; do
	cluster_datad "$i"
done
cluster_wait_writable 2
ok "two writable groups of three"

fs_bucket flt
M=$T/mnt
fs_mount fs1 "$M" --bucket flt --fragment-size 1MiB
head -c $((40 << 20)) /dev/urandom >"$T/big"
for i in $(seq 1 20); do head -c $((i * 1000)) /dev/urandom >"$T/s$i"; done

# The writer: 1 MiB at a time with pauses, so that the kill lands in the
# middle; small files are created meanwhile.
python3 - "$T/big" "$M/big" "$T/started" <<'PY' &
import os, sys, time
src = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(0, len(src), 1 << 20):
    os.write(fd, src[i:i + (1 << 20)])
    if i == 4 << 20:
        open(sys.argv[3], "w").write("1")
    time.sleep(0.02)
os.fsync(fd)        # commits (uploads) while the server is dead
os.close(fd)
PY
W=$!
ark_wait_file "$T/started"
kill -KILL "$PID_datad1"
for i in $(seq 1 20); do
	cp "$T/s$i" "$M/s$i" || fail "small file s$i with a data server down"
done
wait "$W" || fail "the big write failed with a data server down: $(tail -5 "$T/fs1.log")"
grep -q "fragment .* to http" "$T/fs1.log" ||
	fail "no failed replica logged: $(tail -5 "$T/fs1.log")"
ok "writes with a data server killed: every close succeeded"

check_all() {
	cmp "$T/big" "$1/big" || fail "big differs ($2)"
	for i in $(seq 1 20); do
		cmp "$T/s$i" "$1/s$i" || fail "s$i differs ($2)"
	done
}
check_all "$M" "same mount"
fs_umount fs1 "$M"
fs_mount fs2 "$M" --bucket flt
check_all "$M" "fresh mount"
awss3 s3 cp --only-show-errors s3://flt/big "$T/big.s3" || fail "S3 GET of big"
cmp "$T/big" "$T/big.s3" || fail "big differs through S3"
ok "every byte back through the mount, a fresh mount and S3"

for i in $(seq 21 30); do
	echo "after $i" >"$M/s$i" || fail "write s$i after the failure"
done
[ "$(cat "$M/s30")" = "after 30" ] || fail "s30"
ok "new files while the server stays down"
fs_umount fs2 "$M"
