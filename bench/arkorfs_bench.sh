#!/bin/bash
# arkorfs_bench.sh BUILDDIR - arkorfs against the local disk and against
# s3fs-fuse mounted through Arkor's own S3 endpoint (arkor-objectd), in the
# same run, on a local cluster of one registry and three data servers
# (3 replicas on this one disk, --sync none):
#   fio sequential write and read of BENCH_SIZE (default 1 GiB) in 1 MiB
#     blocks (write includes the final fsync, i.e. the upload; reads start
#     after a remount and a page-cache drop when allowed);
#   create + stat + unlink of BENCH_FILES (default 10,000) small files,
#     after a sync (the earlier parts' writeback stalls ext4 otherwise);
#   rename of a directory of BENCH_FILES files;
#   fio 4 KiB random read and random write (psync, one job, buffered,
#     time based: BENCH_RAND_TIME seconds, default 15) in a file of
#     BENCH_SIZE (BENCH_RAND_S3FS_SIZE, default 256M, for s3fs, said in the
#     output); the file is laid out and the mount refreshed (cold cache)
#     before the reads; the writes end with an fsync (arkorfs commits on
#     fsync/close) and their IOPS count it (I/Os over the wall time);
#   `tar x` of a tarball of /usr/include (BENCH_TAR_SRC) then sync, and
#     for the FUSE targets the unmount; s3fs is cut at BENCH_TAR_S3FS_TIME
#     (default 240) seconds and, if cut, extrapolated from the files it
#     extracted (said in the output).
# The s3fs side of the metadata loads runs BENCH_S3FS_FILES (default 1,000)
# files and is extrapolated linearly to BENCH_FILES (said in the output).
# s3fs uses arkor-objectd's CopyObject (a metadata operation) for renames
# and attribute changes: one server-side copy and one delete per object.
# Every fio run is bounded by BENCH_FIO_TIMEOUT (default 900) seconds and
# the whole run by BENCH_TIMEOUT (default 3600) seconds.
# Rounds alternate between the targets (BENCH_ROUNDS, default 2); the
# figures are medians. Nothing is asserted.
# BENCH_ONLY=randwrite runs only arkorfs random writes: a file of
# BENCH_RW_SIZE (default 256M) written and closed, then BENCH_RW_COUNT
# (default 100) pwrite(2)s of 4 KiB at random aligned offsets on one
# descriptor, each followed by fsync(2) (which commits, as close does);
# it prints the latency per write+fsync and the bytes the data servers
# stored per write (their data directories' growth, all 3 replicas).
# BENCH_ONLY=randread runs only arkorfs 4 KiB random reads of a SIZE
# file on fresh mounts, with the fragment cache and without.
# BENCH_ONLY=ls runs only `ls -l` of a directory of BENCH_LS_FILES
# (default 2,000) empty files on a fresh mount (BENCH_ROUNDS times).
# BENCH_PARTS picks the parts of the main run (default "seq meta rand tar":
# sequential I/O, metadata loads, random I/O, tar x); the others print 0.
set -euo pipefail
B=$(cd "${1:-.}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
SIZE=${BENCH_SIZE:-1G}
FILES=${BENCH_FILES:-10000}
S3FS_FILES=${BENCH_S3FS_FILES:-1000}
ROUNDS=${BENCH_ROUNDS:-2}
RAND_TIME=${BENCH_RAND_TIME:-15}
RAND_S3FS_SIZE=${BENCH_RAND_S3FS_SIZE:-256M}
FIO_TIMEOUT=${BENCH_FIO_TIMEOUT:-900}
TAR_SRC=${BENCH_TAR_SRC:-/usr/include}
PARTS=" ${BENCH_PARTS:-seq meta rand tar} "
part() { [[ $PARTS == *" $1 "* ]]; }
TAR_S3FS_TIME=${BENCH_TAR_S3FS_TIME:-240}
export TMPDIR=${BENCH_DIR:-$B/bench-tmp}
mkdir -p "$TMPDIR"
top_builddir=$B top_srcdir=$SRC
. "$SRC/tests/integration/lib.sh"
. "$SRC/tests/integration/cluster-lib.sh"
. "$SRC/tests/integration/fs-lib.sh"
for t in fio jq s3fs; do
	command -v $t >/dev/null || { echo "$t missing (apt-get install $t)"; exit 1; }
done

ark_timeout "${BENCH_TIMEOUT:-3600}"
cluster_start
fs_bucket bench
fs_bucket s3fsb
echo "disk: $(df -h "$T" | awk 'NR==2 {print $1, $6}'); cpus: $(nproc); size $SIZE"

L=$T/local A=$T/arkorfs S=$T/s3fs
mkdir -p "$L" "$S"
echo "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" >"$T/s3fs.passwd"
chmod 600 "$T/s3fs.passwd"
NMOUNT=0

arkorfs_up() {
	NMOUNT=$((NMOUNT + 1))
	fs_mount "afs$NMOUNT" "$A" --bucket bench
}
arkorfs_down() { fs_umount "afs$NMOUNT" "$A"; }
s3fs_up() {
	local n=0
	s3fs s3fsb "$S" -o passwd_file="$T/s3fs.passwd" -o url="$S3" \
		-o use_path_request_style -o endpoint=us-east-1 \
		-o use_cache="" -o dbglevel=warn -o logfile="$T/s3fs.log"
	FS_MOUNTS+=("$S")
	until mountpoint -q "$S"; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "s3fs mount"; sleep 0.1
	done
}
s3fs_down() {
	local n=0
	fusermount3 -u "$S"
	while pgrep -f "s3fs s3fsb $S" >/dev/null && [ $n -lt 100 ]; do
		n=$((n + 1)); sleep 0.1
	done
}
dropcache() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
up() { case $1 in local) ;; arkorfs) arkorfs_up ;; s3fs) s3fs_up ;; esac; }
down() { case $1 in local) ;; arkorfs) arkorfs_down ;; s3fs) s3fs_down ;; esac; }
dir() { case $1 in local) echo "$L" ;; arkorfs) echo "$A" ;; s3fs) echo "$S" ;; esac; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else if (a / b < 0.1) printf "%.4f", a / b; else printf "%.2f", a / b }'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
fio_mbs() {	# fio_mbs DIR rw: MB/s (0 if fio failed or timed out)
	local o
	o=$(timeout "$FIO_TIMEOUT" fio --output-format=json --directory="$1" \
	    --name=seq --rw="$2" --bs=1M --size="$SIZE" --ioengine=psync \
	    --end_fsync=1 --fallocate=none 2>"$T/fio.err" |
	    jq '[.jobs[0].read.bw_bytes, .jobs[0].write.bw_bytes] | add / 1048576' 2>/dev/null) || true
	[ -n "$o" ] || { echo "WARN: fio $2 in $1 failed or timed out: $(head -c 300 "$T/fio.err")" >&2; o=0; }
	echo "$o"
}
# fio_rand DIR rw SIZE: IOPS of 4 KiB random rw in DIR/rand.dat for
# RAND_TIME seconds; I/Os over the wall time of fio (which, for writes,
# includes the final fsync). 0 if fio failed or timed out.
fio_rand() {
	local t0 t1 o n
	t0=$(now)
	o=$(timeout "$FIO_TIMEOUT" fio --output-format=json --filename="$1/rand.dat" \
	    --name=rand --rw="$2" --bs=4k --size="$3" --direct=0 \
	    --ioengine=psync --numjobs=1 --time_based --runtime="$RAND_TIME" \
	    --fallocate=none $([ "$2" = randwrite ] && echo --end_fsync=1) \
	    2>"$T/fio.err") || true
	t1=$(now)
	n=$(echo "$o" | jq '.jobs[0].read.total_ios + .jobs[0].write.total_ios' 2>/dev/null) || true
	if [ -z "$n" ] || [ "$n" = 0 ]; then
		echo "WARN: fio $2 in $1 failed or timed out: $(head -c 300 "$T/fio.err")" >&2
		echo 0; return
	fi
	awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}
# fio_layout DIR SIZE: writes DIR/rand.dat sequentially (1 MiB blocks).
fio_layout() {
	timeout "$FIO_TIMEOUT" fio --output-format=terse --filename="$1/rand.dat" \
	    --name=layout --rw=write --bs=1M --size="$2" --ioengine=psync \
	    --end_fsync=1 --fallocate=none >/dev/null 2>"$T/fio.err" ||
	    echo "WARN: layout of $2 in $1 failed: $(head -c 300 "$T/fio.err")" >&2
}
if [ "${BENCH_ONLY:-}" = randwrite ]; then
	RW_SIZE=${BENCH_RW_SIZE:-256M} RW_COUNT=${BENCH_RW_COUNT:-100}
	stored() { du -sb "$T"/data[123] | awk '{s += $1} END {printf "%.0f\n", s}'; }
	arkorfs_up
	head -c "$RW_SIZE" /dev/urandom >"$A/rw"
	s0=$(stored)
	lat=$(python3 - "$A/rw" "$RW_COUNT" <<'PY'
import os, random, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
blocks, n = os.fstat(fd).st_size // 4096, int(sys.argv[2])
buf, rnd, lat = os.urandom(4096), random.Random(1), []
for _ in range(n):
    t = time.monotonic()
    os.pwrite(fd, buf, rnd.randrange(blocks) * 4096)
    os.fsync(fd)
    lat.append((time.monotonic() - t) * 1000)
os.close(fd)
lat.sort()
print("mean %.1f ms, median %.1f ms, max %.1f ms" % (sum(lat) / n,
      lat[n // 2], lat[-1]))
PY
)
	s1=$(stored)
	arkorfs_down
	echo "arkorfs random 4 KiB write+fsync into $RW_SIZE, $RW_COUNT writes: $lat"
	echo "stored by the data servers per write (3 replicas): $(( (s1 - s0) / RW_COUNT )) bytes"
	exit 0
fi
if [ "${BENCH_ONLY:-}" = randread ]; then
	# 4 KiB random reads of a SIZE file on a fresh mount, with the local
	# fragment cache (default --cache-size) and without (--cache-size 0).
	arkorfs_up
	fio_layout "$A" "$SIZE"
	arkorfs_down
	for c in 1GiB 0; do
		NMOUNT=$((NMOUNT + 1))
		fs_mount "afs$NMOUNT" "$A" --bucket bench --cache-size "$c"
		echo "arkorfs 4 KiB random read of $SIZE, --cache-size $c: $(fio_rand "$A" randread "$SIZE") IOPS over ${RAND_TIME}s"
		arkorfs_down
	done
	exit 0
fi
if [ "${BENCH_ONLY:-}" = ls ]; then
	LS_FILES=${BENCH_LS_FILES:-2000}
	arkorfs_up
	mkdir "$A/ls"
	( cd "$A/ls" && seq 1 "$LS_FILES" | xargs touch )
	arkorfs_down
	for r in $(seq 1 "$ROUNDS"); do
		arkorfs_up
		t0=$(now); n=$(ls -l "$A/ls" | grep -c '^-'); t1=$(now)
		arkorfs_down
		echo "round $r: ls -l of $n files on a fresh mount: $(secs "$t0" "$t1") s"
	done
	exit 0
fi
TARGETS="local arkorfs s3fs"
declare -A W R C N
part seq && for r in $(seq 1 "$ROUNDS"); do
	for t in $TARGETS; do
		up $t; d=$(dir $t)
		w=$(fio_mbs "$d" write)
		down $t; dropcache; up $t
		rd=$(fio_mbs "$d" read)
		rm -f "$d"/seq.*
		down $t
		W[$t]="${W[$t]:-} $w" R[$t]="${R[$t]:-} $rd"
		printf 'round %d %-8s seq write %8.1f MB/s  seq read %8.1f MB/s\n' \
		    "$r" "$t" "$w" "$rd"
	done
done
part meta && for r in $(seq 1 "$ROUNDS"); do
	for t in $TARGETS; do
		up $t; d=$(dir $t)/meta$r
		n=$FILES; [ $t = s3fs ] && n=$S3FS_FILES
		mkdir "$d"
		sync	# no writeback of the part or round before in the timing
		t0=$(now)
		( cd "$d" && seq 1 "$n" | xargs touch && seq 1 "$n" |
		    xargs stat -c %s >/dev/null && seq 1 "$n" | xargs rm -f )
		t1=$(now)
		mkdir "$d/src"
		( cd "$d/src" && seq 1 "$n" | xargs touch )
		sync
		t2=$(now)
		mv -T "$d/src" "$d/dst"
		t3=$(now)
		[ "$(ls "$d/dst" | wc -l)" = "$n" ] || echo "WARN: $t rename lost files"
		c=$(secs "$t0" "$t1") m=$(secs "$t2" "$t3")
		if [ "$n" != "$FILES" ]; then
			c=$(awk -v c="$c" -v n="$n" -v f="$FILES" 'BEGIN {printf "%.3f", c * f / n}')
			m=$(awk -v c="$m" -v n="$n" -v f="$FILES" 'BEGIN {printf "%.3f", c * f / n}')
		fi
		rm -rf "$d" 2>/dev/null || true
		down $t
		C[$t]="${C[$t]:-} $c" N[$t]="${N[$t]:-} $m"
		printf 'round %d %-8s create+stat+unlink %d files %8.2f s  rename dir %8.3f s%s\n' \
		    "$r" "$t" "$FILES" "$c" "$m" \
		    "$([ "$n" != "$FILES" ] && echo " (extrapolated from $n files)")"
	done
done
declare -A RR RW
part rand && for r in $(seq 1 "$ROUNDS"); do
	for t in $TARGETS; do
		sz=$SIZE; [ $t = s3fs ] && sz=$RAND_S3FS_SIZE
		up $t; d=$(dir $t)
		fio_layout "$d" "$sz"
		down $t; dropcache; up $t
		rr=$(fio_rand "$d" randread "$sz")
		rw=$(fio_rand "$d" randwrite "$sz")
		rm -f "$d/rand.dat"
		down $t
		RR[$t]="${RR[$t]:-} $rr" RW[$t]="${RW[$t]:-} $rw"
		printf 'round %d %-8s 4 KiB rand read %8d IOPS  rand write+fsync %8d IOPS  (file %s, %ss each)\n' \
		    "$r" "$t" "$rr" "$rw" "$sz" "$RAND_TIME"
	done
done
declare -A X
TAR_FILES=0 TAR_DIRS=0 TAR_MB=0
part tar && {
tar cf "$T/src.tar" -C "$(dirname "$TAR_SRC")" "$(basename "$TAR_SRC")"
TAR_FILES=$(tar tf "$T/src.tar" | grep -vc '/$')
TAR_DIRS=$(tar tf "$T/src.tar" | grep -c '/$')
TAR_MB=$(du -m "$T/src.tar" | cut -f1)
echo "tarball: $TAR_SRC, $TAR_FILES files and links, $TAR_DIRS directories, $TAR_MB MB"
}
part tar && for r in $(seq 1 "$ROUNDS"); do
	for t in $TARGETS; do
		up $t; d=$(dir $t)/tar$r
		mkdir "$d"
		lim=$FIO_TIMEOUT; [ $t = s3fs ] && lim=$TAR_S3FS_TIME
		dropcache
		t0=$(now); rc=0
		timeout "$lim" tar xf "$T/src.tar" -C "$d" || rc=$?
		sync
		t1=$(now)
		down $t
		t2=$(now)
		x=$(secs "$t0" "$t2") note=" (tar $(secs "$t0" "$t1") s + unmount $(secs "$t1" "$t2") s)"
		if [ $rc != 0 ]; then
			up $t
			n=$(timeout 120 find "$d" ! -type d | wc -l) || true
			down $t
			x=$(awk -v x="$x" -v n="$n" -v f="$TAR_FILES" 'BEGIN { if (n > 0) printf "%.1f", x * f / n; else print 0 }')
			note=" (tar exit $rc: cut at ${lim} s after $n of $TAR_FILES files; extrapolated, a lower bound)"
		fi
		if [ $t = local ]; then rm -rf "$d"; fi
		X[$t]="${X[$t]:-} $x"
		printf 'round %d %-8s tar x %8.2f s%s\n' "$r" "$t" "$x" "$note"
	done
done
med() { echo "$1" | tr ' ' '\n' | { grep . || true; } | median; }
for t in $TARGETS; do
	W[$t]=$(med "${W[$t]:-}") R[$t]=$(med "${R[$t]:-}")
	C[$t]=$(med "${C[$t]:-}") N[$t]=$(med "${N[$t]:-}")
	RR[$t]=$(med "${RR[$t]:-}") RW[$t]=$(med "${RW[$t]:-}") X[$t]=$(med "${X[$t]:-}")
done
echo
echo "medians of $ROUNDS rounds ($SIZE, $FILES files):"
printf '%-8s %12s %12s %14s %12s\n' target "write MB/s" "read MB/s" "create+st+rm s" "rename s"
for t in $TARGETS; do
	printf '%-8s %12.1f %12.1f %14.2f %12.3f\n' $t "${W[$t]}" "${R[$t]}" "${C[$t]}" "${N[$t]}"
done
echo
echo "arkorfs seq write / local:        $(ratio "${W[arkorfs]}" "${W[local]}") (target >= 0.8/3 = 0.27: 3 replicas on one disk)"
echo "arkorfs seq read  / local:        $(ratio "${R[arkorfs]}" "${R[local]}") (target >= 0.5)"
echo "arkorfs seq write / s3fs:         $(ratio "${W[arkorfs]}" "${W[s3fs]}") (target >= 2)"
echo "arkorfs seq read  / s3fs:         $(ratio "${R[arkorfs]}" "${R[s3fs]}") (target >= 2)"
echo "create+stat+unlink s3fs/arkorfs:  $(ratio "${C[s3fs]}" "${C[arkorfs]}") x faster (target >= 10)"
echo "rename dir s3fs/arkorfs:          $(ratio "${N[s3fs]}" "${N[arkorfs]}") x faster (target >= 100)"
echo
echo "4 KiB random, IOPS ($SIZE file, s3fs $RAND_S3FS_SIZE; ${RAND_TIME} s each; writes include the final fsync):"
printf '%-8s %12s %12s\n' target "read IOPS" "write IOPS"
for t in $TARGETS; do
	printf '%-8s %12.0f %12.0f\n' $t "${RR[$t]}" "${RW[$t]}"
done
echo "arkorfs rand read  / local:       $(ratio "${RR[arkorfs]}" "${RR[local]}")"
echo "arkorfs rand write / local:       $(ratio "${RW[arkorfs]}" "${RW[local]}")"
echo "arkorfs rand read  / s3fs:        $(ratio "${RR[arkorfs]}" "${RR[s3fs]}")"
echo "arkorfs rand write / s3fs:        $(ratio "${RW[arkorfs]}" "${RW[s3fs]}")"
echo
echo "tar x of $TAR_SRC ($TAR_FILES files, $TAR_MB MB), seconds:"
for t in $TARGETS; do printf '%-8s %10.2f\n' $t "${X[$t]}"; done
echo "tar x arkorfs/local:              $(ratio "${X[arkorfs]}" "${X[local]}") x slower"
echo "tar x s3fs/arkorfs:               $(ratio "${X[s3fs]}" "${X[arkorfs]}") x faster"
