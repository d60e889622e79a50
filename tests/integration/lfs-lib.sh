# lfs-lib.sh - helpers for the Git LFS scenarios (sourced after lib.sh and
# cluster-lib.sh): a private HOME for git and git-lfs (their global config
# never leaves $T), users and access keys through arkorctl, and stored
# credentials for one access key per working copy.

command -v git >/dev/null || { echo "SKIP: no git"; exit 77; }
git lfs version >/dev/null 2>&1 || { echo "SKIP: no git-lfs"; exit 77; }

lfs_git_setup() {
	mkdir -p "$T/home"
	export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config"
	export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
	unset GIT_DIR GIT_WORK_TREE GIT_ASKPASS SSH_ASKPASS 2>/dev/null || true
	git config --global user.email "lfs-test@example.com"
	git config --global user.name "LFS test"
	git config --global init.defaultBranch main
	git config --global lfs.concurrenttransfers 4
	git lfs install >/dev/null || fail "git lfs install"
}

ctl() { "$top_builddir/arkorctl" -k "$T/reg/cluster.key" -r "http://$REG" "$@"; }

# lfs_key NAME USER [--readonly]: a new access key of USER in
# KEYID_<NAME> and SECRET_<NAME>.
lfs_key() {
	local name=$1 user=$2; shift 2
	ctl key create "$user" "$@" >"$T/key.$name" || fail "key create $user"
	eval "KEYID_$name=\$(awk -F': *' '/^access key id/ {print \$2}' \"\$T/key.$name\")"
	eval "SECRET_$name=\$(awk -F': *' '/^secret access key/ {print \$2}' \"\$T/key.$name\")"
	eval "[ -n \"\$KEYID_$name\" ] && [ -n \"\$SECRET_$name\" ]" ||
		fail "no key in $(cat "$T/key.$name")"
}

# lfs_creds NAME: stores key NAME's pair for the object server in
# $T/creds.NAME (git-credential-store); use with
# git -c credential.helper="store --file=$T/creds.NAME".
lfs_creds() {
	local name=$1 id secret
	eval "id=\$KEYID_$name secret=\$SECRET_$name"
	printf 'protocol=http\nhost=%s\nusername=%s\npassword=%s\n\n' \
		"${S3#http://}" "$id" "$secret" |
		git -c credential.helper="store --file=$T/creds.$name" \
		credential approve || fail "credential approve"
}

# lfs_stored: how many objects the object server committed over LFS.
lfs_stored() { grep -c 'LFS stored' "$T/objectd.log" || true; }
