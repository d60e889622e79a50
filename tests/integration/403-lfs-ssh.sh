#!/usr/bin/env bash
# 403-lfs-ssh: the Git LFS pure-SSH protocol (git-lfs-transfer) with the
# real `git lfs` client and a real sshd. The test starts its own sshd on
# 127.0.0.1 (its own config, host key and authorized_keys; root, so
# StrictModes no and UsePAM no) whose key line forces a dispatch script:
# "git-lfs-transfer ..." runs arkor-lfs-transfer (configured with alice's
# access key and the object server), "git-upload-pack/receive-pack
# '<path>'" runs git on a bare repository under $T/srv, anything else is
# refused. The repository has an ssh remote and no lfs.url, so git-lfs
# 3.x must use git-lfs-transfer (the script logs every command; the test
# checks it). Files of 4 B to 24 MiB (two identical) are pushed, cloned
# elsewhere and compared (sha256) with arkor-lfs-transfer's peak RSS
# bounded (bodies streamed), a second push uploads nothing, a lock round
# trip goes over ssh (and is seen through the HTTP locks API), raw
# sessions check that bytes not matching their oid or size are refused,
# as are unknown commands and a malformed pkt-line, and a read-only key
# downloads but cannot push (403).
# Skipped (77) when not root or without sshd/ssh-keygen.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: sshd needs root here"; exit 77; }
[ -x /usr/sbin/sshd ] || { echo "SKIP: no sshd (apt-get install openssh-server)"; exit 77; }
command -v ssh-keygen >/dev/null && command -v ssh >/dev/null ||
	{ echo "SKIP: no ssh client"; exit 77; }
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/lfs-lib.sh"
command -v aws >/dev/null || { echo "SKIP: no aws CLI"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
ark_timeout 240	# 30-40 s alone; a loaded machine took over 90

cluster_start --fragment-size 1MiB --window 4
lfs_git_setup
git config --global lfs.ssh.automultiplex false
ctl user create alice >/dev/null || fail "user create alice"
lfs_key alice alice
lfs_key ro alice --readonly
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3 mb s3://games >/dev/null || fail "mb games as alice"

# ---- sshd with a forced command ----
S=$T/ssh
SRV=$T/srv
mkdir -p "$S" "$SRV/games/team"
git init -q --bare "$SRV/games/team/game.git"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" || fail "host key"
ssh-keygen -q -t ed25519 -N '' -f "$S/id_alice" || fail "user key"
ssh-keygen -q -t ed25519 -N '' -f "$S/id_ro" || fail "user key"
for k in alice ro; do
	cat >"$S/lfs-$k.conf" <<EOF
endpoint = $S3
credentials = $T/key.$k
log-file = $S/lfs-transfer.log
log-level = info
EOF
done
cat >"$S/dispatch.sh" <<EOF
#!/bin/sh
# authorized_keys command="dispatch.sh CONF": LFS to arkor-lfs-transfer
# --config CONF, git to \$SRV.
printf '%s\n' "\$SSH_ORIGINAL_COMMAND" >>"$S/commands.log"
case "\$SSH_ORIGINAL_COMMAND" in
git-lfs-transfer\ *)
	# (git-lfs discards the ssh command's standard error: keep it)
	exec "$top_builddir/arkor-lfs-transfer" --config "\$1" 2>>"$S/stderr.log" ;;
git-upload-pack\ *|git-receive-pack\ *)
	cmd=\${SSH_ORIGINAL_COMMAND%% *}
	path=\${SSH_ORIGINAL_COMMAND#* }
	path=\${path#\\'}; path=\${path%\\'}
	case "\$path" in *..*|*\\'*) echo "bad path" >&2; exit 1 ;; esac
	exec "\$cmd" "$SRV/\$path" ;;
*)	echo "refused: \$SSH_ORIGINAL_COMMAND" >&2; exit 1 ;;
esac
EOF
chmod 755 "$S/dispatch.sh"
printf 'command="%s %s",no-port-forwarding,no-pty,no-agent-forwarding %s\n' \
	"$S/dispatch.sh" "$S/lfs-alice.conf" "$(cat "$S/id_alice.pub")" \
	"$S/dispatch.sh" "$S/lfs-ro.conf" "$(cat "$S/id_ro.pub")" >"$S/authorized_keys"
mkdir -p /run/sshd
PORT=
for try in 1 2 3 4 5 6; do
	p=$((20000 + RANDOM % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
	cat >"$S/sshd_config" <<EOF
Port $p
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers root
PermitUserEnvironment no
LogLevel VERBOSE
EOF
	/usr/sbin/sshd -t -f "$S/sshd_config" 2>"$S/sshd-t.err" ||
		{ echo "SKIP: sshd -t: $(cat "$S/sshd-t.err")"; exit 77; }
	ark_start sshd /usr/sbin/sshd -D -e -f "$S/sshd_config"
	for _ in $(seq 50); do
		grep -q "Server listening" "$T/sshd.log" 2>/dev/null && break
		kill -0 "$PID_sshd" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q "Server listening" "$T/sshd.log"; then PORT=$p; break; fi
done
[ -n "$PORT" ] || { echo "SKIP: sshd did not start: $(cat "$T/sshd.log")"; exit 77; }
export GIT_SSH_COMMAND="ssh -i $S/id_alice -o IdentitiesOnly=yes -o BatchMode=yes \
-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
REMOTE="ssh://root@127.0.0.1:$PORT/games/team/game.git"
ok "sshd on 127.0.0.1:$PORT forcing $S/dispatch.sh"

# ---- push over ssh, no lfs.url ----
git init -q "$T/a"
cd "$T/a"
git remote add origin "$REMOTE"
git lfs track '*.bin' >/dev/null
printf 'tiny' >tiny.bin
head -c 1024 /dev/urandom >k1.bin
head -c $((1 << 20 | 1)) /dev/urandom >m1.bin
cp m1.bin m1-copy.bin
head -c $((3 << 20)) /dev/urandom >m3.bin
BIG=$((24 << 20))
[ "${ARKOR_SANITIZED:-0}" = 1 ] && BIG=$((8 << 20))
head -c "$BIG" /dev/urandom >big.bin
git add -A && git commit -qm "assets" || fail "commit"
[ -z "$(git config --get lfs.url || true)" ] || fail "lfs.url is set"
GIT_TRACE=1 git push -q origin main >"$T/push1.out" 2>&1 ||
	fail "push: $(cat "$T/push1.out")"
grep -q "git-lfs-transfer /games/team/game.git upload" "$S/commands.log" ||
	fail "git-lfs-transfer not used: $(cat "$S/commands.log")"
! grep -q "git-lfs-authenticate" "$S/commands.log" ||
	fail "git-lfs fell back to git-lfs-authenticate: $(cat "$S/commands.log")"
[ "$(lfs_stored)" = 5 ] || fail "5 distinct objects stored, log says $(lfs_stored)"
[ "$(grep -c ': stored ' "$S/lfs-transfer.log")" = 5 ] ||
	fail "arkor-lfs-transfer log: $(cat "$S/lfs-transfer.log")"
AWS_ACCESS_KEY_ID=$KEYID_alice AWS_SECRET_ACCESS_KEY=$SECRET_alice \
	awss3 s3 ls --recursive s3://games/team/game/lfs/objects/ >"$T/ls.out" ||
	fail "s3 ls"
[ "$(wc -l <"$T/ls.out")" = 5 ] || fail "S3 lists $(cat "$T/ls.out")"
ok "git push over ssh (git-lfs-transfer upload): 6 LFS files (4 B .. $((BIG >> 20)) MiB), 5 objects in s3://games/team/game/lfs/objects/"

# ---- fresh clone over ssh ----
cd "$T"
git clone -q "$REMOTE" b >"$T/clone.out" 2>&1 || fail "clone: $(cat "$T/clone.out")"
for f in tiny k1 m1 m1-copy m3 big; do
	[ "$(sha256sum <"a/$f.bin")" = "$(sha256sum <"b/$f.bin")" ] ||
		fail "clone: $f.bin differs"
done
grep -q "git-lfs-transfer /games/team/game.git download" "$S/commands.log" ||
	fail "clone did not use git-lfs-transfer download: $(cat "$S/commands.log")"
# the program logs its peak RSS at the end of each session
rss=$(sed -n 's/.*session end: .*peak RSS \([0-9]*\) KiB.*/\1/p' "$S/lfs-transfer.log" |
	sort -n | tail -1)
[ -n "$rss" ] || fail "no peak RSS in $(cat "$S/lfs-transfer.log")"
if [ "${ARKOR_SANITIZED:-0}" != 1 ]; then
	# streamed: a pkt-line buffer and the HTTP client's window, not the
	# $((BIG >> 20)) MiB object
	[ "$rss" -lt $((12 * 1024)) ] || fail "arkor-lfs-transfer peak RSS ${rss} KiB"
fi
ok "fresh clone over ssh (git-lfs-transfer download): 6 files byte-identical (sha256); arkor-lfs-transfer peak RSS ${rss} KiB"

# ---- a second push sends nothing ----
cd "$T/a"
git lfs push --all origin main >"$T/push2.out" 2>&1 || fail "push 2: $(cat "$T/push2.out")"
[ "$(lfs_stored)" = 5 ] || fail "second push stored again: $(lfs_stored)"
ok "second push (git lfs push --all): nothing uploaded"

# ---- locks over ssh ----
n0=$(grep -c '^git-lfs-transfer' "$S/commands.log")
git lfs lock k1.bin >"$T/lock.out" 2>&1 || fail "lock: $(cat "$T/lock.out")"
git lfs locks >"$T/locks.out" 2>&1 || fail "locks: $(cat "$T/locks.out")"
grep -q "^k1.bin.*alice" "$T/locks.out" || fail "locks: $(cat "$T/locks.out")"
curl -sf -u "$KEYID_alice:$SECRET_alice" -H 'Accept: application/vnd.git-lfs+json' \
	"$S3/lfs/games/team/game.git/info/lfs/locks" >"$T/locks.json" || fail "GET locks"
[ "$(jq -r '.locks[0].path' "$T/locks.json")" = k1.bin ] ||
	fail "HTTP locks API: $(cat "$T/locks.json")"
git lfs unlock k1.bin >"$T/unlock.out" 2>&1 || fail "unlock: $(cat "$T/unlock.out")"
curl -sf -u "$KEYID_alice:$SECRET_alice" -H 'Accept: application/vnd.git-lfs+json' \
	"$S3/lfs/games/team/game.git/info/lfs/locks" >"$T/locks.json" || fail "GET locks"
[ "$(jq '.locks | length' "$T/locks.json")" = 0 ] || fail "still locked: $(cat "$T/locks.json")"
n1=$(grep -c '^git-lfs-transfer' "$S/commands.log")
[ "$n1" -ge $((n0 + 3)) ] || fail "locks did not go over ssh: $(cat "$S/commands.log")"
ok "git lfs lock / locks / unlock over ssh, seen through the HTTP locks API"

# ---- raw sessions: wrong bytes, unknown command, bad pkt-line ----
# pkt.py in: pkt-lines from "text", "=DELIM", "=FLUSH", "@bytes" lines;
# pkt.py out: the server's packets as lines.
cat >"$T/pkt.py" <<'EOF'
import sys
if sys.argv[1] == "in":
    out = sys.stdout.buffer
    for line in sys.stdin.read().splitlines():
        if line == "=FLUSH": out.write(b"0000")
        elif line == "=DELIM": out.write(b"0001")
        elif line.startswith("@"):
            d = line[1:].encode(); out.write(b"%04x" % (len(d) + 4) + d)
        elif line.startswith("!"): out.write(line[1:].encode())
        else:
            d = (line + "\n").encode(); out.write(b"%04x" % (len(d) + 4) + d)
else:
    b = sys.stdin.buffer.read(); i = 0
    while i + 4 <= len(b):
        n = int(b[i:i+4], 16)
        if n < 4: print("=FLUSH" if n == 0 else "=DELIM"); i += 4; continue
        print(b[i+4:i+n].decode(errors="replace").rstrip("\n")); i += n
EOF
good=$(printf 'hello' | sha256sum | cut -d' ' -f1)
printf '%s\n' "version 1" "=FLUSH" \
	"put-object $good" "size=5" "=DELIM" "@HELLO" "=FLUSH" \
	"put-object $good" "size=5" "=DELIM" "@hello!" "=FLUSH" \
	"frobnicate" "=FLUSH" \
	"verify-object $good" "size=5" "=FLUSH" \
	"quit" "=FLUSH" | python3 "$T/pkt.py" in >"$T/raw.in"
$GIT_SSH_COMMAND -p "$PORT" root@127.0.0.1 git-lfs-transfer /games/team/game.git upload \
	<"$T/raw.in" >"$T/raw.bin" 2>"$T/raw.err" || fail "raw session: $(cat "$T/raw.err")"
python3 "$T/pkt.py" out <"$T/raw.bin" >"$T/raw.out"
# capabilities, version, 4 answers, quit
statuses=$(grep '^status ' "$T/raw.out" | tr '\n' ' ')
[ "$statuses" = "status 200 status 422 status 400 status 400 status 404 status 200 " ] ||
	fail "raw session statuses: $statuses: $(cat "$T/raw.out")"
grep -q "does not match the oid" "$T/raw.out" || fail "no oid mismatch message: $(cat "$T/raw.out")"
grep -q "more bytes than the size" "$T/raw.out" || fail "no size message: $(cat "$T/raw.out")"
[ "$(lfs_stored)" = 5 ] || fail "wrong bytes stored: $(lfs_stored)"
printf '%s\n' "version 1" "=FLUSH" "!zz?garbage" |
	python3 "$T/pkt.py" in >"$T/bad.in"
$GIT_SSH_COMMAND -p "$PORT" root@127.0.0.1 git-lfs-transfer /games/team/game.git upload \
	<"$T/bad.in" >"$T/bad.bin" 2>/dev/null && fail "bad pkt-line: exit status 0"
python3 "$T/pkt.py" out <"$T/bad.bin" >"$T/bad.out" || true
grep -q "protocol error: bad pkt-line" "$T/bad.out" || fail "bad pkt-line: $(cat "$T/bad.out")"
$GIT_SSH_COMMAND -p "$PORT" root@127.0.0.1 git-lfs-authenticate /games/team/game.git upload \
	</dev/null >/dev/null 2>&1 && fail "git-lfs-authenticate was not refused"
ok "raw ssh sessions: wrong bytes 422 (nothing stored), extra bytes, unknown command and a missing object answered, a bad pkt-line ends the session"

# ---- a read-only key clones but cannot push ----
RO_SSH="${GIT_SSH_COMMAND/id_alice/id_ro}"
cd "$T"
GIT_LFS_SKIP_SMUDGE=1 GIT_SSH_COMMAND=$RO_SSH git clone -q "$REMOTE" c \
	>"$T/clone-ro.out" 2>&1 || fail "clone with the read-only key: $(cat "$T/clone-ro.out")"
cd "$T/c"
GIT_SSH_COMMAND=$RO_SSH git lfs pull --include=k1.bin >"$T/pull-ro.out" 2>&1 ||
	fail "lfs pull with the read-only key: $(cat "$T/pull-ro.out")"
cmp -s ../a/k1.bin k1.bin || fail "read-only pull: k1.bin differs"
head -c 2048 /dev/urandom >ro.bin
git add ro.bin && git commit -qm "ro" || fail "commit ro"
GIT_SSH_COMMAND=$RO_SSH git push -q origin main >"$T/push-ro.out" 2>&1 &&
	fail "push with a read-only key succeeded"
grep -q "403" "$T/push-ro.out" || fail "read-only push: $(cat "$T/push-ro.out")"
[ "$(lfs_stored)" = 5 ] || fail "read-only push stored: $(lfs_stored)"
ok "read-only key over ssh: clone works, push refused (403 from the object server)"

# no sanitizer report (ASAN build) on arkor-lfs-transfer's standard error
if grep -q "Sanitizer\|runtime error" "$S/stderr.log" 2>/dev/null; then
	cat "$S/stderr.log" >&2
	fail "sanitizer report from arkor-lfs-transfer"
fi
