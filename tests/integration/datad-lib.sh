# datad-lib.sh - helpers for the arkor-datad scenarios (sourced after
# lib.sh): a cluster key, a data server on port 0, tokens, curl wrappers.

DATAD=$top_builddir/arkor-datad
ARKTOKEN=$top_builddir/tests/integration/ark-token
[ -x "$DATAD" ] || fail "arkor-datad not built"
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }

KEY=$T/cluster.key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEY"
echo >>"$KEY"
chmod 600 "$KEY"

# datad_start NAME DIR [ARGS...]: starts a data server, sets $PORT/$URL.
datad_start() {
	local name=$1 dir=$2; shift 2
	rm -f "$T/$name.port"
	ark_start "$name" "$DATAD" --listen 127.0.0.1:0 --data-dir "$dir" \
	    --cluster-key "$KEY" --port-file "$T/$name.port" --threads 2 \
	    --min-free 0 --log-level info "$@"
	ark_wait_file "$T/$name.port" 30
	PORT=$(cat "$T/$name.port")
	URL=http://127.0.0.1:$PORT
	eval "DPID=\$PID_$name"
}

# datad_stop: SIGTERM the last started server and check it exits 0.
datad_stop() {
	kill -TERM "$DPID"
	local rc=0
	wait "$DPID" || rc=$?
	[ $rc -eq 0 ] || fail "arkor-datad exited $rc after SIGTERM"
}

tok() { "$ARKTOKEN" "$KEY" "$@"; }

# code METHOD FID [curl args]: HTTP status of a tokened request.
code() {
	local m=$1 fid=$2 op; shift 2
	case $m in PUT) op=write ;; DELETE) op=delete ;; *) op=read ;; esac
	curl -s -o /dev/null -w '%{http_code}' -X "$m" \
	    -H "X-Arkor-Token: $(tok $op "$fid")" "$@" "$URL/$fid"
}

put_file() {	# put_file FID FILE -> status
	code PUT "$1" --data-binary "@$2" -H 'Content-Type:'
}

get_file() {	# get_file FID OUT -> status
	curl -s -o "$2" -w '%{http_code}' \
	    -H "X-Arkor-Token: $(tok read "$1")" "$URL/$1"
}

admin() {	# admin METHOD PATH [curl args]
	local m=$1 p=$2; shift 2
	curl -s -X "$m" -H "X-Arkor-Token: $(tok admin '*')" "$@" "$URL$p"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
