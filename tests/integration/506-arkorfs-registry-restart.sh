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
#   - the only group fails a write (ENOSPC once the registry marks it
#     down) and comes back: small files again take
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
# copy_small PREFIX N: N small files small/PREFIX1.. by cp (one open and
# one close each; a shell's `>` closes the new file once more after its
# dup2, committing it empty first); COMMITS = the registry commits taken.
copy_small() {
	local c0 i
	c0=$(commits)
	for i in $(seq 1 "$2"); do
		echo "$1 $i" >"$T/small"
		cp "$T/small" "$M/small/$1$i" || fail "write small/$1$i"
	done
	COMMITS=$(( $(commits) - c0 ))
	[ "$(cat "$M/small/$1$2")" = "$1 $2" ] || fail "small/$1$2"
}
mkdir "$M/small" || fail "mkdir small"
copy_small s 60
[ "$COMMITS" -le 75 ] ||
	fail "60 small files took $COMMITS registry commits, want <= 75"
ok "60 small files: $COMMITS registry commits (spare FileIDs)"

# Many FUSE threads, each with its pooled registry connection.
mkdir "$M/before" || fail "mkdir before"
seq 1 64 | xargs -P 8 -I{} sh -c 'echo "before {}" >"$1/before/f{}"' _ "$M" ||
	fail "writes before the outage"

PORT=${REG##*:}
kill -KILL "$PID_registryd"
wait "$PID_registryd" 2>/dev/null || true
t0=$(date +%s%N)
# A name the mount cannot know absent without the registry: "before/" is
# complete (this mount made it), so its unknown names are absent from the
# name cache for the attribute timeout, as with the registry up; the
# mount's root is not.
err=$(stat "$M/nothere" 2>&1) && fail "stat with the registry down"
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
cluster_wait_writable 1	# the data servers' next heartbeats
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

# The only group fails a write (a data server killed): EIO while the
# registry still counts it writable, ENOSPC once it does not. Then it is
# whole again (restarted on its port): arkorfs stops avoiding it at once,
# without passing over FileIDs commit after commit.
DPORT=$(cat "$T/data1.port")
kill -KILL "$PID_datad1"
wait "$PID_datad1" 2>/dev/null || true
echo lost >"$T/small"
cp "$T/small" "$M/lost" 2>/dev/null &&
	fail "a write with a replica of the only group dead"
cluster_wait_writable 0
err=$(cp "$T/small" "$M/lost" 2>&1) && fail "a write with no writable group"
case $err in
*"No space left on device"*) ;;
*) fail "a write with no writable group: $err, want ENOSPC" ;;
esac
ok "the only group down: the write fails, ENOSPC once the registry knows"
cluster_datad 1 "$DPORT"
n=0
until cp "$T/small" "$M/back" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "no write after the data server came back"
	sleep 0.2
done
copy_small a 30
[ "$COMMITS" -le 45 ] ||
	fail "30 small files after the group came back: $COMMITS commits, want <= 45"
ok "the only group back: $COMMITS commits for 30 files"
fs_umount fs1 "$M"
