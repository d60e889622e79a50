#!/bin/bash
# 506-arkorfs-registry-restart.sh - arkorfs's registry calls:
#   - small files written one after another take spare FileIDs: far
#     fewer registry commits than two per file (assign + object/put);
# and while the registry goes away and comes back (issue 7, "Errors"):
#   - the registry killed (-9): a lookup fails at once with EIO, and the
#     mount logs one line for the outage, not one per request;
#   - the registry restarted on its port: every FUSE thread's first call
#     goes through (each had a keep-alive connection the dead registry
#     closed: it must be noticed and replaced, not used for a POST that
#     then fails), the mount logs that the registry is back, and every
#     file written before and after is intact through the mount and S3;
#   - the only group fails a write and comes back: small files again take
#     about one commit each (the failed group is not avoided for long).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/cluster-lib.sh"
. "$top_srcdir/tests/integration/fs-lib.sh"
fs_skip_unless_fuse
ark_timeout 240
cluster_start
fs_bucket rrr
M=$T/mnt
fs_mount fs1 "$M" --bucket rrr

commits() {
	curl -s "http://$REG/metrics" | awk '/^arkor_registry_commits_total/ {print $2}'
}
mkdir "$M/small" || fail "mkdir small"
c0=$(commits)
# (cp: one open and one close each; a shell's `>` closes the new file
# once more after its dup2, committing it empty first.)
for i in $(seq 1 60); do
	echo "small $i" >"$T/small"
	cp "$T/small" "$M/small/s$i" || fail "write s$i"
done
c1=$(commits)
[ $((c1 - c0)) -le 75 ] ||
	fail "60 small files took $((c1 - c0)) registry commits, want <= 75"
[ "$(cat "$M/small/s60")" = "small 60" ] || fail "small/s60"
ok "60 small files: $((c1 - c0)) registry commits (spare FileIDs)"

# Many FUSE threads, each with its pooled registry connection.
mkdir "$M/before" || fail "mkdir before"
seq 1 64 | xargs -P 8 -I{} sh -c 'echo "before {}" >"$1/before/f{}"' _ "$M" ||
	fail "writes before the outage"

PORT=${REG##*:}
kill -KILL "$PID_registryd"
wait "$PID_registryd" 2>/dev/null || true
t0=$(date +%s%N)
err=$(stat "$M/before/nothere" 2>&1) && fail "stat with the registry down"
t1=$(date +%s%N)
case $err in
*"Input/output error"*) ;;
*) fail "stat with the registry down: $err, want EIO" ;;
esac
[ $(( (t1 - t0) / 1000000 )) -lt 5000 ] ||
	fail "EIO took $(( (t1 - t0) / 1000000 )) ms"
for i in 1 2 3 4 5 6; do ls "$M/before/f$i.no" >/dev/null 2>&1 || true; done
n=$(grep -c "registry .* unreachable" "$T/fs1.log")
[ "$n" = 1 ] || fail "$n unreachable lines for one outage, want 1: $(cat "$T/fs1.log")"
ok "registry down: EIO at once, one log line"

ark_start registryd "$top_builddir/arkor-registryd" \
	--listen "127.0.0.1:$PORT" --data-dir "$T/reg" --threads 2 \
	--heartbeat-timeout 5s
# Wait for the data servers' next heartbeats (the group is writable).
n=0
until "$top_builddir/arkorctl" -k "$T/reg/cluster.key" -r "http://$REG" \
    --json group list 2>/dev/null | python3 -c '
import json, sys
g = json.load(sys.stdin)["groups"]
sys.exit(0 if g and g[0]["writable"] else 1)' 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "no writable group after restart"
	sleep 0.1
done
mkdir "$M/after" || fail "mkdir after the restart"
seq 1 64 | xargs -P 8 -I{} sh -c 'echo "after {}" >"$1/after/f{}"' _ "$M" ||
	fail "writes after the restart: $(grep -v INFO "$T/fs1.log" | tail -5)"
grep -q "registry .* reachable again" "$T/fs1.log" ||
	fail "no 'reachable again' line: $(cat "$T/fs1.log")"
for d in before after; do
	for i in 1 17 64; do
		[ "$(cat "$M/$d/f$i")" = "$d $i" ] || fail "$d/f$i through the mount"
	done
	[ "$(ls "$M/$d" | wc -l)" = 64 ] || fail "$d: $(ls "$M/$d" | wc -l) files"
done
[ "$(awss3 s3 cp s3://rrr/before/f17 -)" = "before 17" ] || fail "S3 read of before/f17"
[ "$(awss3 s3 cp s3://rrr/after/f64 -)" = "after 64" ] || fail "S3 read of after/f64"
ok "registry back: every thread's first call works, every file intact"

# The only group fails a write (a data server killed), then is whole
# again (restarted on its port): arkorfs stops avoiding it at once,
# without passing over FileIDs commit after commit.
DPORT=$(cat "$T/data1.port")
kill -KILL "$PID_datad1"
wait "$PID_datad1" 2>/dev/null || true
echo lost >"$T/small"
cp "$T/small" "$M/lost" 2>/dev/null &&
	fail "a write with a replica of the only group dead"
ark_start datad1 "$top_builddir/arkor-datad" \
	--listen "127.0.0.1:$DPORT" --data-dir "$T/data1" \
	--cluster-key "$T/reg/cluster.key" --registry "$REG" \
	--heartbeat-interval 200ms --threads 2 --sync none --scrub-rate 0 \
	--min-free 0
n=0
until cp "$T/small" "$M/back" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "no write after the data server came back"
	sleep 0.2
done
c0=$(commits)
for i in $(seq 1 30); do
	echo "again $i" >"$T/small"
	cp "$T/small" "$M/small/a$i" || fail "write a$i"
done
c1=$(commits)
[ $((c1 - c0)) -le 45 ] ||
	fail "30 small files after the group came back: $((c1 - c0)) commits, want <= 45"
[ "$(cat "$M/small/a30")" = "again 30" ] || fail "small/a30"
ok "the only group back: $((c1 - c0)) commits for 30 files"
fs_umount fs1 "$M"
