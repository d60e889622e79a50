#!/bin/bash
# 202-datad-full.sh - space limits: --max-disk-use turns the server
# read-only (507, "readonly" in /status); a 64 MiB tmpfs filled to the
# last byte does too, and every stored needle reads back intact, also
# after a restart. The tmpfs part needs root (else skipped inside).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/datad-lib.sh"
ark_timeout 120
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }

head -c $((1 << 20)) /dev/urandom >"$T/m"

# fill PREFIX: PUTs 1 MiB needles until 507 (at most 100); logs stored ones
fill() {
	local i s fid
	: >"$T/stored"
	for i in $(seq 1 100); do
		fid=9,$(printf '%x' $((0x$1 + i)))0000abcd
		s=$(put_file $fid "$T/m")
		case $s in
		201) echo $fid >>"$T/stored" ;;
		507) return 0 ;;
		*) fail "PUT $fid: $s" ;;
		esac
	done
	fail "never turned read-only"
}
check_all() {
	local fid
	while read -r fid; do
		[ "$(get_file $fid "$T/out")" = 200 ] || fail "$1: $fid lost"
		cmp -s "$T/out" "$T/m" || fail "$1: $fid differs"
	done <"$T/stored"
}

datad_start q "$T/q" --max-disk-use 8MiB --chunk-size 4MiB --scrub-rate 0
fill 100
n=$(wc -l <"$T/stored")
[ "$n" -ge 4 ] && [ "$n" -le 8 ] || fail "max-disk-use 8MiB stored $n MiB"
sleep 2	# the space check runs every second: it must not flip back to writable
curl -s "$URL/status" | jq -e '.readonly == true' >/dev/null || fail "not read-only"
[ "$(put_file 9,fe0000abcd "$T/m")" = 507 ] || fail "writable again without space"
check_all "max-disk-use"
[ "$(code DELETE $(head -n 1 "$T/stored"))" = 204 ] || fail "DELETE while read-only"
sed -i 1d "$T/stored"
datad_stop
ok "--max-disk-use: read-only after $n MiB, deletes still work"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: tmpfs part needs root"
	exit 0
fi
mkdir -p "$T/mnt"
mount -t tmpfs -o size=64m tmpfs "$T/mnt" || { echo "SKIP: cannot mount tmpfs"; exit 0; }
trap 'umount "$T/mnt" 2>/dev/null || umount -l "$T/mnt" 2>/dev/null; ark_cleanup' EXIT
datad_start f "$T/mnt/d" --chunk-size 16MiB --scrub-rate 0 --min-free 0
fill 200
n=$(wc -l <"$T/stored")
[ "$n" -ge 40 ] || fail "only $n MiB fit in 64 MiB"
curl -s "$URL/status" | jq -e '.readonly == true' >/dev/null || fail "full, not read-only"
check_all "full tmpfs"
# small needles are refused too, nothing half written appears
[ "$(code PUT 9,ff00000001 --data-binary @"$T/m" -H 'Content-Type:')" = 507 ] ||
    fail "PUT accepted on a full disk"
[ "$(code GET 9,ff00000001)" = 404 ] || fail "refused PUT visible"
datad_stop
datad_start f2 "$T/mnt/d" --chunk-size 16MiB --scrub-rate 0 --min-free 0
check_all "full tmpfs after restart"
admin POST /admin/scrub | jq -e '.bad == 0' >/dev/null || fail "scrub after full disk"
datad_stop
ok "full tmpfs: read-only after $n MiB, all intact, also after restart"
