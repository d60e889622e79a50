#!/bin/bash
# lfs_bench.sh BUILDDIR - Git LFS on arkor-objectd against S3 on the same
# cluster in the same run (issue 6): BENCH_FILES files (default 100)
# totalling BENCH_MB MiB (default 1024) of random bytes,
#   upload:   `git push` of a commit tracking them with git lfs (the
#             pre-push hook uploads them through the batch API)
#             vs `aws s3 cp --recursive` of the same directory;
#   download: `git lfs pull` in a fresh clone (GIT_LFS_SKIP_SMUDGE=1),
#             timed as fetch + checkout, the fetch (transfer) also
#             alone, vs `aws s3 cp --recursive` back to an empty
#             directory.
# Both clients keep their default concurrency (git lfs: 8 transfers; aws:
# 10 requests, multipart above 8 MiB). The cluster is the test one: a
# registry and three data servers (one group of three replicas, so every
# byte is written three times on this machine) and one object server
# with default fragment size and window. BENCH_ROUNDS rounds (default 1)
# alternate which client goes first; medians are printed. Nothing is
# asserted. Needs about 12 x BENCH_MB of disk in BENCH_DIR (default
# BUILDDIR/bench-tmp).
set -euo pipefail
B=$(cd "${1:-.}" && pwd)
S=$(cd "$(dirname "$0")/.." && pwd)
FILES=${BENCH_FILES:-100}
MB=${BENCH_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-1}
mkdir -p "${BENCH_DIR:-$B/bench-tmp}"
export TMPDIR=${BENCH_DIR:-$B/bench-tmp}
for t in git git-lfs aws jq; do
	command -v $t >/dev/null || { echo "lfs_bench: $t missing, no figures"; exit 0; }
done

top_builddir=$B top_srcdir=$S
# shellcheck source=/dev/null
. "$S/tests/integration/lib.sh"
# shellcheck source=/dev/null
. "$S/tests/integration/cluster-lib.sh"
# shellcheck source=/dev/null
. "$S/tests/integration/lfs-lib.sh"
ARK_TEST_NAME=lfs_bench

cluster_start
lfs_git_setup
git config --global --unset lfs.concurrenttransfers
KEYID_admin=$AWS_ACCESS_KEY_ID SECRET_admin=$AWS_SECRET_ACCESS_KEY
lfs_creds admin
awss3 s3 mb s3://bench >/dev/null

now() { date +%s.%N; }
mbs() { awk -v m="$MB" -v s="$1" 'BEGIN { printf "%.1f", m * 1.048576 / s }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "lfs_bench: $FILES files, $MB MiB in all, $ROUNDS round(s); $(nproc) CPUs; disk $(df -h "$T" | awk 'NR==2 {print $1}')"
mkdir -p "$T/src"
each=$((MB * 1048576 / FILES))
for i in $(seq -w 1 "$FILES"); do
	head -c "$each" /dev/urandom >"$T/src/asset-$i.bin"
done

lfs_up() {	# lfs_up ROUND: seconds for git push
	local r=$1 t0 t1
	rm -rf "$T/repo$r" "$T/origin$r.git"
	git init -q --bare "$T/origin$r.git"
	git init -q "$T/repo$r"
	(
		cd "$T/repo$r"
		git config credential.helper "store --file=$T/creds.admin"
		git remote add origin "$T/origin$r.git"
		git config -f .lfsconfig lfs.url "$S3/lfs/bench/round$r/info/lfs"
		git lfs track '*.bin' >/dev/null
		cp "$T"/src/*.bin .
		git add -A >/dev/null
		git commit -qm assets
		t0=$(now)
		git push -q origin main >/dev/null 2>&1
		t1=$(now)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
	)
	rm -rf "$T/repo$r"
}
lfs_down() {	# lfs_down ROUND: seconds for git lfs pull in a fresh clone
	# (= git lfs fetch, whose time goes to $T/lf, + git lfs checkout)
	local r=$1 t0 tf t1
	rm -rf "$T/clone$r"
	GIT_LFS_SKIP_SMUDGE=1 git -c credential.helper="store --file=$T/creds.admin" \
		clone -q "$T/origin$r.git" "$T/clone$r"
	(
		cd "$T/clone$r"
		git config credential.helper "store --file=$T/creds.admin"
		t0=$(now)
		git lfs fetch >/dev/null 2>&1
		tf=$(now)
		git lfs checkout >/dev/null 2>&1
		t1=$(now)
		awk -v a="$t0" -v b="$tf" 'BEGIN { printf "%.3f\n", b - a }' >>"$T/lf"
		for f in "$T"/src/*.bin; do
			cmp -s "$f" "${f##*/}" || echo "lfs_bench: ${f##*/} differs" >&2
		done
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
	)
	rm -rf "$T/clone$r"
}
s3_up() {
	local r=$1 t0 t1
	t0=$(now)
	awss3 s3 cp --recursive --only-show-errors "$T/src" "s3://bench/aws$r/"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}
s3_down() {
	local r=$1 t0 t1
	rm -rf "$T/down$r"
	t0=$(now)
	awss3 s3 cp --recursive --only-show-errors "s3://bench/aws$r/" "$T/down$r"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
	rm -rf "$T/down$r"
}

: >"$T/lu"; : >"$T/ld"; : >"$T/lf"; : >"$T/su"; : >"$T/sd"
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		lfs_up "$r" >>"$T/lu"; s3_up "$r" >>"$T/su"
		lfs_down "$r" >>"$T/ld"; s3_down "$r" >>"$T/sd"
	else
		s3_up "$r" >>"$T/su"; lfs_up "$r" >>"$T/lu"
		s3_down "$r" >>"$T/sd"; lfs_down "$r" >>"$T/ld"
	fi
	echo "round $r: git push $(tail -1 "$T/lu") s, aws up $(tail -1 "$T/su") s," \
		"git lfs pull $(tail -1 "$T/ld") s (fetch $(tail -1 "$T/lf") s)," \
		"aws down $(tail -1 "$T/sd") s"
done
LU=$(median <"$T/lu"); SU=$(median <"$T/su"); LD=$(median <"$T/ld"); SD=$(median <"$T/sd")
LF=$(median <"$T/lf")
printf 'upload   git push (lfs)  %7.2f s %7s MB/s | aws s3 cp --recursive %7.2f s %7s MB/s | lfs/s3 speed %s\n' \
	"$LU" "$(mbs "$LU")" "$SU" "$(mbs "$SU")" "$(ratio "$SU" "$LU")"
printf 'download git lfs pull    %7.2f s %7s MB/s | aws s3 cp --recursive %7.2f s %7s MB/s | lfs/s3 speed %s\n' \
	"$LD" "$(mbs "$LD")" "$SD" "$(mbs "$SD")" "$(ratio "$SD" "$LD")"
printf '  of which git lfs fetch %7.2f s %7s MB/s (transfer into .git/lfs; checkout copies it to the work tree)\n' \
	"$LF" "$(mbs "$LF")"
echo "objectd peak RSS: $(ark_hwm_kb "$PID_objectd") KiB"
