#!/usr/bin/env bash
# 101-registry-api: arkor-registryd with curl: data servers (plain curl
# heartbeats) placed into groups, writable groups and FileID assignment,
# users/keys/buckets, object commit/get/list/copy/rename/prefix rename,
# multipart, LFS objects and locks, user auth with access keys, and bad
# input -> 400 naming the field, 401/403/404/405/409/413.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/registry-lib.sh"
ark_timeout 180	# 18 s alone under ASan; much more on a shared, loaded machine
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

reg_start --replicas 3 --heartbeat-timeout 10m
[ "$(stat -c %a "$T/reg/cluster.key")" = 600 ] || fail "cluster key mode"
ok "started, cluster key created 0600"

hb() {	# hb ID FREE [GROUP] [READONLY]
	local g=${3:+,\"group\":$3} ro=${4:+,\"readonly\":$4}
	api_ok /v1/server/heartbeat "{\"id\":\"$1\",\"url\":\"http://127.0.0.1:9/$1\",\"free\":$2$g$ro}"
}
for i in 1 2; do hb ds$i 1000000000 >/dev/null; done
api /v1/assign '{}' >/dev/null
[ "$(cat "$T/code")" = 503 ] || fail "assign with 2 of 3 replicas: $(cat "$T/code")"
hb ds3 2000000000 | jget 'd["group"]' | grep -qx 1 || fail "ds3 not in group 1"
hb ds4 500 | jget 'd["group"]' | grep -qx 2 || fail "ds4 not placed in group 2"
api_ok /v1/group/list '{}' | jget '[(g["id"], g["writable"], len(g["servers"])) for g in d["groups"]]' |
	grep -qx "\[(1, True, 3), (2, False, 1)\]" || fail "groups: $(cat "$T/out")"
out=$(api_ok /v1/assign '{"count":3,"size":4096}')
echo "$out" | jget 'len(d["assignments"]) == 3 and all(a["group"] == 1 and len(a["urls"]) == 3 and a["token"] for a in d["assignments"])' |
	grep -qx True || fail "assign: $out"
fids=$(echo "$out" | jget '" ".join(a["fid"] for a in d["assignments"])')
[ "$(echo "$fids" | tr ' ' '\n' | sort -u | wc -l)" = 3 ] || fail "duplicate fids: $fids"
hb ds2 1000000000 "" true >/dev/null
api /v1/assign '{}' >/dev/null
[ "$(cat "$T/code")" = 503 ] || fail "assign with a read-only replica"
hb ds2 1000000000 "" false >/dev/null
api /v1/server/heartbeat '{"id":"ds2","url":"http://127.0.0.1:9/ds2","free":1,"group":2}' >/dev/null
[ "$(cat "$T/code")" = 409 ] || fail "group change: $(cat "$T/code")"
curl -sS -H "Authorization: Arkor-Service $SVC_TOKEN" "$REG/v1/server/list" |
	jget 'sorted(s["id"] for s in d["servers"] if s["state"] == "up")' |
	grep -qx "\['ds1', 'ds2', 'ds3', 'ds4'\]" || fail "server list"
api_ok /v1/server/heartbeat '{"id":"ds1","url":"http://127.0.0.1:9/ds1","free":1000000000,"stats":{"chunks":3}}' >/dev/null
curl -sS -H "Authorization: Arkor-Service $SVC_TOKEN" "$REG/v1/server/list" |
	jget '[s.get("stats") for s in d["servers"] if s["id"] == "ds1"]' | grep -qx "\[{'chunks': 3}\]" ||
	fail "heartbeat stats"
ok "placement, writable groups, assign, heartbeat stats"

api_ok /v1/user/create '{"name":"alice"}' >/dev/null
api_ok /v1/user/create '{"name":"bob"}' >/dev/null
akey=$(api_ok /v1/key/create '{"user":"alice"}')
AK=$(echo "$akey" | jget 'd["key_id"]'); AS=$(echo "$akey" | jget 'd["secret"]')
api_ok /v1/key/create '{"user":"bob","key_id":"BOBKEY","secret":"bobsecret"}' >/dev/null
api_ok /v1/key/create '{"user":"bob","key_id":"BOBRO","secret":"bobsecret","readonly":true}' >/dev/null
api_ok /v1/key/get "{\"key_id\":\"$AK\"}" | jget 'd["secret"]' | grep -qx -- "$AS" || fail "key get"
api_ok /v1/bucket/create '{"bucket":"photos","owner":"alice"}' >/dev/null
api /v1/bucket/create '{"bucket":"photos","owner":"bob"}' >/dev/null
[ "$(cat "$T/code")" = 409 ] || fail "duplicate bucket"
api /v1/bucket/create '{"bucket":"Bad_Name","owner":"bob"}' | jget 'd["field"]' | grep -qx bucket ||
	fail "bucket name rules"
ok "users, keys, buckets"

F1=$(echo "$fids" | cut -d' ' -f1); F2=$(echo "$fids" | cut -d' ' -f2); F3=$(echo "$fids" | cut -d' ' -f3)
put() {	# put KEY FID SIZE
	api_ok /v1/object/put "{\"bucket\":\"photos\",\"key\":\"$1\",\"size\":$3,\"etag\":\"e\",\"content_type\":\"image/jpeg\",\"user_meta\":{\"k\":\"v\"},\"mode\":33188,\"fragments\":[{\"fid\":\"$2\",\"offset\":0,\"length\":$3,\"crc32c\":1}]}"
}
v1=$(put 2024/a.jpg "$F1" 10 | jget 'd["version"]')
put 2024/b.jpg "$F2" 20 >/dev/null
put 2025/c.jpg "$F3" 30 >/dev/null
# The bucket's change count (nseq): a write answers the counts around
# it, a read (a 404 too) and bucket/get the count they saw.
n=$(put top.txt "$F3" 5 | jget 'd["nseq"][1] if d["nseq"][1] == d["nseq"][0] + 1 else "bad"')
[ "$n" != bad ] || fail "object/put nseq: $(cat "$T/out")"
api_ok /v1/object/get '{"bucket":"photos","key":"top.txt"}' | jget 'd["nseq"]' |
	grep -qx "$n" || fail "object/get nseq: $(cat "$T/out")"
api /v1/object/get '{"bucket":"photos","key":"nope"}' | jget 'd["nseq"]' |
	grep -qx "$n" || fail "404 nseq: $(cat "$T/out")"
api_ok /v1/bucket/get '{"bucket":"photos"}' | jget 'd["nseq"]' |
	grep -qx "$n" || fail "bucket/get nseq: $(cat "$T/out")"
api_ok /v1/object/get '{"bucket":"photos","key":"2024/a.jpg","tokens":true}' |
	jget 'd["version"] == '"$v1"' and d["user_meta"] == {"k":"v"} and d["fragments"][0]["fid"] == "'"$F1"'" and len(d["fragments"][0]["urls"]) == 3 and "token" in d["fragments"][0]' |
	grep -qx True || fail "object get: $(cat "$T/out")"
# object/gets: several lookups in one call, each answered in order as
# object/get would answer it alone.
api_ok /v1/object/gets '{"gets":[{"bucket":"photos","key":"2024/a.jpg","tokens":true},{"bucket":"photos","key":"nope"},{"bucket":"photos","key":"2024","dir":true},{"bucket":"photos","key":"x","bad":1},{"bucket":"nobucket","key":"k"},7]}' |
	jget '[r["status"] for r in d["results"]] == [200, 404, 200, 400, 404, 400] and d["results"][0]["answer"]["fragments"][0]["fid"] == "'"$F1"'" and "token" in d["results"][0]["answer"]["fragments"][0] and d["results"][2]["answer"]["dir"] == True and d["results"][3]["answer"]["field"] == "bad"' |
	grep -qx True || fail "object/gets: $(cat "$T/out")"
for b in '{"gets":[]}' '{"gets":{}}' '{"gets":[{}],"x":1}'; do
	api /v1/object/gets "$b" >/dev/null
	[ "$(cat "$T/code")" = 400 ] || fail "object/gets $b: $(cat "$T/code")"
done
# object/deletes: several deletes in one call, committed in order, each
# answered as object/delete would answer it alone.
api_ok /v1/object/put '{"bucket":"photos","key":"del/a","size":0,"fragments":[]}' >/dev/null
dv=$(api_ok /v1/object/put '{"bucket":"photos","key":"del/b","size":0,"fragments":[]}' | jget 'd["version"]')
api_ok /v1/object/deletes '{"durable":false,"deletes":[{"bucket":"photos","key":"del/a"},{"bucket":"photos","key":"del/a"},{"bucket":"photos","key":"del/b","if_version":'"$((dv + 1))"'},{"bucket":"photos","key":"x","durable":true},{"bucket":"nobucket","key":"k"},7]}' |
	jget '[r["status"] for r in d["results"]] == [200, 404, 412, 400, 404, 400] and d["results"][0]["answer"]["nseq"][1] == d["results"][0]["answer"]["nseq"][0] + 1 and d["results"][3]["answer"]["field"] == "durable"' |
	grep -qx True || fail "object/deletes: $(cat "$T/out")"
api /v1/object/get '{"bucket":"photos","key":"del/a"}' >/dev/null
[ "$(cat "$T/code")" = 404 ] || fail "object/deletes left del/a"
api_ok /v1/object/deletes '{"deletes":[{"bucket":"photos","key":"del/b","if_version":'"$dv"'}]}' |
	jget '[r["status"] for r in d["results"]]' | grep -qx '\[200\]' || fail "object/deletes if_version: $(cat "$T/out")"
for b in '{"deletes":[]}' '{"deletes":{}}' '{"deletes":[{}],"x":1}' '{"deletes":[{}],"durable":1}'; do
	api /v1/object/deletes "$b" >/dev/null
	[ "$(cat "$T/code")" = 400 ] || fail "object/deletes $b: $(cat "$T/code")"
done
api_ok /v1/list '{"bucket":"photos","delimiter":"/"}' |
	jget 'd["prefixes"] == ["2024/","2025/"] and [k["key"] for k in d["keys"]] == ["top.txt"]' |
	grep -qx True || fail "list: $(cat "$T/out")"
# "rows": keys as [key, size, etag, mtime_ms] (what S3 listings need)
api_ok /v1/list '{"bucket":"photos","prefix":"2024/","rows":true}' |
	jget '"keys" not in d and [r[:3] for r in d["rows"]] == [["2024/a.jpg", 10, "e"], ["2024/b.jpg", 20, "e"]] and all(r[3] > 1700000000000 for r in d["rows"])' |
	grep -qx True || fail "list rows: $(cat "$T/out")"
api /v1/list '{"bucket":"photos","rows":1}' >/dev/null
[ "$(cat "$T/code")" = 400 ] || fail "rows not a boolean: $(cat "$T/code")"
# "dir": a missing key that is a prefix answers a directory, with the
# marker "key/" when there is one; neither is 404.
api_ok /v1/object/get '{"bucket":"photos","key":"2024","dir":true}' |
	jget 'set(d) == {"dir", "nseq"} and d["dir"] == True' | grep -qx True ||
	fail "dir probe: $(cat "$T/out")"
api_ok /v1/object/put '{"bucket":"photos","key":"2025/","size":0,"mode":16877,"uid":7,"fragments":[]}' >/dev/null
api_ok /v1/object/get '{"bucket":"photos","key":"2025","dir":true}' |
	jget '(d["dir"], d["marker"]["key"], d["marker"]["mode"], d["marker"]["uid"])' |
	grep -qx "(True, '2025/', 16877, 7)" || fail "dir probe with marker: $(cat "$T/out")"
api_ok /v1/object/get '{"bucket":"photos","key":"top.txt","dir":true}' |
	jget '"dir" not in d and d["size"] == 5' | grep -qx True || fail "dir probe of a file"
api /v1/object/get '{"bucket":"photos","key":"2026","dir":true}' >/dev/null
[ "$(cat "$T/code")" = 404 ] || fail "dir probe of nothing: $(cat "$T/code")"
api /v1/object/get '{"bucket":"photos","key":"2024","dir":1}' >/dev/null
[ "$(cat "$T/code")" = 400 ] || fail "dir not a boolean: $(cat "$T/code")"
api_ok /v1/object/delete '{"bucket":"photos","key":"2025/"}' >/dev/null
# Lazy writes (arkorfs's closes and unlinks): answered once visible; sync
# answers once they are durable too.
api_ok /v1/object/put '{"bucket":"photos","key":"lazy","size":0,"fragments":[],"durable":false}' >/dev/null
api_ok /v1/object/get '{"bucket":"photos","key":"lazy"}' | jget 'd["size"]' |
	grep -qx 0 || fail "a lazy put is not visible: $(cat "$T/out")"
api_ok /v1/object/setattr '{"bucket":"photos","key":"lazy","mode":384,"durable":false}' |
	jget 'd["mode"]' | grep -qx 33152 || fail "lazy setattr: $(cat "$T/out")"
api_ok /v1/object/get '{"bucket":"photos","key":"lazy"}' | jget 'd["mode"]' |
	grep -qx 33152 || fail "a lazy setattr is not visible: $(cat "$T/out")"
api_ok /v1/object/delete '{"bucket":"photos","key":"lazy","durable":false}' >/dev/null
api /v1/object/get '{"bucket":"photos","key":"lazy"}' >/dev/null
[ "$(cat "$T/code")" = 404 ] || fail "a lazy delete is not visible: $(cat "$T/code")"
[ "$(api_ok /v1/sync '{}')" = '{}' ] || fail "sync: $(cat "$T/out")"
api /v1/object/delete '{"bucket":"photos","key":"lazy","durable":"no"}' >/dev/null
[ "$(cat "$T/code")" = 400 ] || fail "durable not a boolean: $(cat "$T/code")"
api /v1/sync '{"x":1}' >/dev/null
[ "$(cat "$T/code")" = 400 ] || fail "sync with a field: $(cat "$T/code")"
p1=$(api_ok /v1/list '{"bucket":"photos","max_keys":2}')
echo "$p1" | jget 'd["truncated"]' | grep -qx True || fail "truncated"
tok=$(echo "$p1" | jget 'd["next_token"]')
api_ok /v1/list "{\"bucket\":\"photos\",\"max_keys\":2,\"token\":\"$tok\"}" |
	jget '[k["key"] for k in d["keys"]] == ["2025/c.jpg","top.txt"] and not d["truncated"]' |
	grep -qx True || fail "page 2: $(cat "$T/out")"
api /v1/object/put "{\"bucket\":\"photos\",\"key\":\"2024/a.jpg\",\"size\":1,\"if_version\":$((v1 + 100)),\"fragments\":[]}" >/dev/null
[ "$(cat "$T/code")" = 412 ] || fail "if_version: $(cat "$T/code")"
api_ok /v1/object/copy '{"src_bucket":"photos","src_key":"2024/a.jpg","bucket":"photos","key":"copy.jpg"}' >/dev/null
api /v1/object/copy '{"src_bucket":"photos","src_key":"2024/a.jpg","bucket":"photos","key":"copy.jpg","noreplace":true}' >/dev/null
[ "$(cat "$T/code")" = 409 ] || fail "copy noreplace"
api_ok /v1/object/rename '{"src_bucket":"photos","src_key":"copy.jpg","bucket":"photos","key":"moved.jpg"}' >/dev/null
api /v1/object/get '{"bucket":"photos","key":"copy.jpg"}' >/dev/null
[ "$(cat "$T/code")" = 404 ] || fail "renamed source still there"
api_ok /v1/object/copy '{"src_bucket":"photos","src_key":"moved.jpg","bucket":"photos","key":"c2.jpg"}' >/dev/null
api /v1/object/rename '{"src_bucket":"photos","src_key":"c2.jpg","bucket":"photos","key":"moved.jpg","noreplace":true,"durable":false}' >/dev/null
[ "$(cat "$T/code")" = 409 ] || fail "lazy rename noreplace: $(cat "$T/code")"
api /v1/object/rename '{"src_bucket":"photos","src_key":"c2.jpg","bucket":"photos","key":"moved.jpg","noreplace":true,"exchange":true}' >/dev/null
[ "$(cat "$T/code")" = 400 ] || fail "rename exchange with noreplace: $(cat "$T/code")"
api_ok /v1/object/rename '{"src_bucket":"photos","src_key":"c2.jpg","bucket":"photos","key":"c3.jpg","durable":false}' |
	jget 'd["nseq"][1] > d["nseq"][0] > 0' | grep -qx True || fail "rename nseq: $(cat "$T/out")"
api_ok /v1/object/get '{"bucket":"photos","key":"c3.jpg"}' >/dev/null
api_ok /v1/object/delete '{"bucket":"photos","key":"c3.jpg"}' >/dev/null
api_ok /v1/prefix/rename '{"src_bucket":"photos","src_prefix":"2024/","bucket":"photos","prefix":"old/2024/"}' |
	jget 'd["count"]' | grep -qx 2 || fail "prefix rename"
api_ok /v1/list '{"bucket":"photos","prefix":"old/","delimiter":"/"}' | jget 'd["prefixes"]' |
	grep -qx "\['old/2024/'\]" || fail "after prefix rename"
api_ok /v1/object/setattr '{"bucket":"photos","key":"top.txt","mode":33261,"uid":1000,"tags":{"team":"a"}}' |
	jget 'd["nseq"][1] == d["nseq"][0] + 1' | grep -qx True || fail "setattr nseq: $(cat "$T/out")"
api_ok /v1/object/get '{"bucket":"photos","key":"top.txt"}' | jget '(d["mode"], d["uid"], d["tags"])' |
	grep -qx "(33261, 1000, {'team': 'a'})" || fail "setattr"
api_ok /v1/object/copy '{"src_bucket":"photos","src_key":"top.txt","bucket":"photos","key":"top.txt","content_type":"text/x-new","user_meta":{}}' >/dev/null
api_ok /v1/object/get '{"bucket":"photos","key":"top.txt"}' | jget '(d["content_type"], d["user_meta"], d["mode"], len(d["fragments"]))' |
	grep -qx "('text/x-new', {}, 33261, 1)" || fail "copy onto itself with replaced metadata: $(cat "$T/out")"
api /v1/object/rename '{"src_bucket":"photos","src_key":"top.txt","bucket":"photos","key":"t2","content_type":"x"}' | jget 'd["field"]' |
	grep -qx content_type || fail "rename with attributes"
api_ok /v1/object/put '{"bucket":"photos","key":"h.txt","size":0,"headers":{"Cache-Control":"no-cache"},"fragments":[]}' >/dev/null
api_ok /v1/object/get '{"bucket":"photos","key":"h.txt"}' | jget 'd["headers"]["Cache-Control"]' |
	grep -qx no-cache || fail "stored headers"
api_ok /v1/object/delete '{"bucket":"photos","key":"moved.jpg"}' |
	jget 'd["nseq"][1] == d["nseq"][0] + 1' | grep -qx True || fail "delete nseq: $(cat "$T/out")"
ok "objects: commit, get, list pages, if_version, copy, rename, prefix rename, setattr, delete"

api /v1/multipart/create '{"bucket":"photos","key":"big.bin","checksum_algorithm":"MD5"}' | jget 'd["field"]' |
	grep -qx checksum_algorithm || fail "unknown checksum algorithm accepted"
api /v1/multipart/create '{"bucket":"photos","key":"big.bin","checksum_type":"COMPOSITE"}' | jget 'd["field"]' |
	grep -qx checksum_type || fail "checksum type without algorithm accepted"
up=$(api_ok /v1/multipart/create '{"bucket":"photos","key":"big.bin","content_type":"application/x-big","checksum_algorithm":"CRC32","checksum_type":"COMPOSITE"}' | jget 'd["upload_id"]')
api_ok /v1/multipart/get "{\"upload_id\":\"$up\"}" | jget '(d["key"], d["checksum_algorithm"], d["checksum_type"])' |
	grep -qx "('big.bin', 'CRC32', 'COMPOSITE')" || fail "multipart/get: $(cat "$T/out")"
for n in 1 2; do
	f=$(api_ok /v1/assign '{}' | jget 'd["assignments"][0]["fid"]')
	api_ok /v1/multipart/part "{\"upload_id\":\"$up\",\"number\":$n,\"size\":100,\"etag\":\"p$n\",\"checksums\":{\"crc32\":\"AAAAA$n==\"},\"fragments\":[{\"fid\":\"$f\",\"offset\":0,\"length\":100,\"crc32c\":$n}]}" >/dev/null
done
api_ok /v1/multipart/parts "{\"upload_id\":\"$up\"}" | jget '([(p["number"], p["checksums"]["crc32"]) for p in d["parts"]], d["checksum_algorithm"])' |
	grep -qx "(\[(1, 'AAAAA1=='), (2, 'AAAAA2==')\], 'CRC32')" || fail "parts: $(cat "$T/out")"
api /v1/multipart/complete "{\"upload_id\":\"$up\",\"etag\":\"x-2\",\"parts\":[{\"number\":2},{\"number\":1}]}" >/dev/null
[ "$(cat "$T/code")" = 400 ] || fail "parts out of order accepted"
api_ok /v1/multipart/complete "{\"upload_id\":\"$up\",\"etag\":\"x-2\",\"checksums\":{\"crc32\":\"AAAAAw==-2\"},\"parts\":[{\"number\":1,\"etag\":\"p1\"},{\"number\":2}]}" >/dev/null
api_ok /v1/object/get '{"bucket":"photos","key":"big.bin"}' |
	jget '(d["size"], [f["offset"] for f in d["fragments"]], d["content_type"], [(p["number"], p["size"], p["etag"], p["checksums"]) for p in d["parts"]], d["checksums"])' |
	grep -qx "(200, \[0, 100\], 'application/x-big', \[(1, 100, 'p1', {'crc32': 'AAAAA1=='}), (2, 100, 'p2', {'crc32': 'AAAAA2=='})\], {'crc32': 'AAAAAw==-2'})" || fail "completed object: $(cat "$T/out")"
for k in m1 m2 m3; do api_ok /v1/multipart/create "{\"bucket\":\"photos\",\"key\":\"$k\"}" >/dev/null; done
api_ok /v1/multipart/list '{"bucket":"photos","max_uploads":2}' | jget '([u["key"] for u in d["uploads"]], d["truncated"])' |
	grep -qx "(\['m1', 'm2'\], True)" || fail "uploads page 1: $(cat "$T/out")"
api_ok /v1/multipart/list '{"bucket":"photos","key_marker":"m2"}' | jget '([u["key"] for u in d["uploads"]], d["truncated"])' |
	grep -qx "(\['m3'\], False)" || fail "uploads after marker: $(cat "$T/out")"
ok "multipart"

api_ok /v1/lfs/put "{\"namespace\":\"org/repo\",\"oid\":\"$(printf %064d 7)\",\"size\":10,\"fragments\":[{\"fid\":\"$F1\",\"offset\":0,\"length\":10,\"crc32c\":1}]}" >/dev/null
api_ok /v1/lfs/get "{\"namespace\":\"org/repo\",\"oid\":\"$(printf %064d 7)\"}" | jget 'd["size"]' | grep -qx 10 || fail "lfs get"
lk=$(api_ok /v1/lock/create '{"namespace":"org/repo","path":"a.psd","owner":"alice"}' | jget 'd["lock"]["id"]')
api /v1/lock/create '{"namespace":"org/repo","path":"a.psd","owner":"bob"}' | jget 'd["lock"]["owner"]' | grep -qx alice ||
	fail "lock conflict"
[ "$(cat "$T/code")" = 409 ] || fail "lock conflict status"
api /v1/lock/delete "{\"namespace\":\"org/repo\",\"id\":\"$lk\",\"owner\":\"bob\"}" >/dev/null
[ "$(cat "$T/code")" = 403 ] || fail "unlock by another"
api_ok /v1/lock/delete "{\"namespace\":\"org/repo\",\"id\":\"$lk\",\"owner\":\"bob\",\"force\":true}" >/dev/null
ok "LFS objects and locks"

# users with access keys (HTTP Basic): their own buckets only
ucall() {	# ucall ID:SECRET PATH JSON -> status
	curl -sS -o "$T/out" -w '%{http_code}' -u "$1" -X POST --data-binary "$3" "$REG$2"
}
[ "$(ucall "$AK:$AS" /v1/object/get '{"bucket":"photos","key":"top.txt"}')" = 200 ] || fail "owner read"
[ "$(ucall "BOBKEY:bobsecret" /v1/object/get '{"bucket":"photos","key":"top.txt"}')" = 403 ] || fail "other user read"
[ "$(signed_call BOBKEY bobsecret /v1/object/gets '{"gets":[{"bucket":"photos","key":"h.txt"}]}')" = 200 ] &&
	jget '[r["status"] for r in d["results"]]' <"$T/out" | grep -qx '\[403\]' ||
	fail "object/gets of another user's object: $(cat "$T/out")"
[ "$(signed_call BOBKEY bobsecret /v1/object/deletes '{"deletes":[{"bucket":"photos","key":"h.txt"}]}')" = 200 ] &&
	jget '[r["status"] for r in d["results"]]' <"$T/out" | grep -qx '\[403\]' ||
	fail "object/deletes of another user's object: $(cat "$T/out")"
[ "$(signed_call BOBKEY wrongsecret /v1/object/gets '{"gets":[{"bucket":"photos","key":"h.txt"}]}')" = 401 ] ||
	fail "object/gets signed with a wrong secret"
[ "$(ucall "BOBKEY:wrong" /v1/list '{"bucket":"photos"}')" = 401 ] || fail "wrong secret"
[ "$(ucall "BOBKEY:bobsecret" /v1/bucket/create '{"bucket":"bobs"}')" = 200 ] || fail "user bucket create"
[ "$(ucall "BOBKEY:bobsecret" /v1/bucket/list '{}')" = 200 ] || fail "user bucket list"
jget '[b["name"] for b in d["buckets"]]' <"$T/out" | grep -qx "\['bobs'\]" || fail "bucket list scoped"
[ "$(ucall "BOBKEY:bobsecret" /v1/assign '{}')" = 200 ] || fail "user assign"
[ "$(ucall "BOBRO:bobsecret" /v1/assign '{}')" = 403 ] || fail "read-only key assign"
[ "$(ucall "BOBKEY:bobsecret" /v1/server/list '{}')" = 403 ] || fail "user on a service route"
[ "$(ucall "BOBKEY:bobsecret" /v1/user/create '{"name":"eve"}')" = 403 ] || fail "non-admin user create"
api_ok /v1/bucket/acl '{"bucket":"photos","acl":"public-read"}' >/dev/null
[ "$(ucall "BOBKEY:bobsecret" /v1/object/get '{"bucket":"photos","key":"top.txt"}')" = 200 ] || fail "public-read"
[ "$(ucall "BOBKEY:bobsecret" /v1/object/delete '{"bucket":"photos","key":"top.txt"}')" = 403 ] || fail "public-read write"
# bucket configurations: the owner sets them, bucket/get returns them,
# another user (even of a public-read bucket) may not set them
[ "$(ucall "$AK:$AS" /v1/bucket/config '{"bucket":"photos","tags":{"env":"prod"},"cors":{"rules":[{"origins":["*"],"methods":["GET"]}]}}')" = 200 ] || fail "bucket/config: $(cat "$T/out")"
[ "$(ucall "$AK:$AS" /v1/bucket/get '{"bucket":"photos"}')" = 200 ] || fail "bucket/get"
jget 'd["tags"]["env"] + "/" + d["cors"]["rules"][0]["methods"][0]' <"$T/out" | grep -qx "prod/GET" || fail "bucket/get conf: $(cat "$T/out")"
[ "$(ucall "BOBKEY:bobsecret" /v1/bucket/config '{"bucket":"photos","tags":{}}')" = 403 ] || fail "other user bucket/config"
[ "$(ucall "$AK:$AS" /v1/bucket/config '{"bucket":"photos","tags":{"n":1}}')" = 400 ] || fail "non-string tag"
[ "$(ucall "$AK:$AS" /v1/bucket/config '{"bucket":"photos","cors":{"x":1}}')" = 400 ] || fail "cors without rules"
[ "$(ucall "$AK:$AS" /v1/bucket/config '{"bucket":"photos","tags":{},"cors":{}}')" = 200 ] || fail "bucket/config clear"
[ "$(ucall "$AK:$AS" /v1/bucket/get '{"bucket":"photos"}')" = 200 ] || fail "bucket/get"
jget '"tags" in d or "cors" in d' <"$T/out" | grep -qx False || fail "conf not cleared: $(cat "$T/out")"
[ "$(signed_call BOBKEY bobsecret /v1/bucket/list '{}')" = 200 ] || fail "signed request: $(cat "$T/out")"
[ "$(signed_call BOBKEY wrongsecret /v1/bucket/list '{}')" = 401 ] || fail "signed with a wrong secret"
[ "$(signed_call BOBKEY bobsecret /v1/bucket/list '{}' -1000)" = 401 ] || fail "stale signed request"
auth=$(python3 -c 'import time; print("BOBKEY:%d:AAAA" % time.time())')
c=$(curl -sS -o "$T/out" -w '%{http_code}' -X POST -H "Authorization: Arkor-HMAC $auth" --data-binary '{}' "$REG/v1/bucket/list")
[ "$c" = 401 ] || fail "forged signature: $c"
ok "user auth: 401 wrong secret, 403 other bucket / service route / read-only key / other's bucket/config; signed requests"

# bad input
code() { curl -sS -o "$T/out" -w '%{http_code}' "$@"; }
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary '{"bucket":"photos","key":"k","size":-1,"fragments":[]}' "$REG/v1/object/put")
[ "$c" = 400 ] && jget 'd["field"]' <"$T/out" | grep -qx size || fail "negative size: $c $(cat "$T/out")"
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary '{"bucket":"photos","key":"k","size":1,"fragments":[{"fid":"1,100000001","offset":0,"length":1,"crc32c":1,"x":2}]}' "$REG/v1/object/put")
[ "$c" = 400 ] && jget 'd["field"]' <"$T/out" | grep -qx 'fragments\[0\].x' || fail "unknown nested field: $c $(cat "$T/out")"
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary '{"bucket":"photos","key":"k","size":1,"fragments":[{"fid":"1,100000001","offset":0,"length":2,"crc32c":1}]}' "$REG/v1/object/put")
[ "$c" = 400 ] && jget 'd["field"]' <"$T/out" | grep -qx 'fragments\[0\].length' || fail "fragment past size: $c"
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary '{"bucket":"photos"}' "$REG/v1/object/get")
[ "$c" = 400 ] && jget 'd["error"], d["field"]' <"$T/out" | grep -qx 'missing_field key' || fail "missing key: $c $(cat "$T/out")"
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary '[1]' "$REG/v1/list")
[ "$c" = 400 ] || fail "array body: $c"
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary '{"bucket":"photos","bucket":"x"}' "$REG/v1/list")
[ "$c" = 400 ] || fail "duplicate key: $c"
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary "{\"bucket\":\"photos\",\"key\":\"$(head -c 1100 /dev/zero | tr '\0' a)\"}" "$REG/v1/object/get")
[ "$c" = 400 ] && jget 'd["field"]' <"$T/out" | grep -qx key || fail "oversize key: $c"
head -c 17000000 /dev/zero | tr '\0' ' ' >"$T/big"
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary @"$T/big" "$REG/v1/list")
[ "$c" = 413 ] || fail "oversize body: $c"
c=$(code -X POST -H "Authorization: Arkor-Service $SVC_TOKEN" --data-binary '{"bucket":"nope"}' "$REG/v1/list")
[ "$c" = 404 ] || fail "unknown bucket: $c"
c=$(code -X DELETE -H "Authorization: Arkor-Service $SVC_TOKEN" "$REG/v1/list")
[ "$c" = 405 ] || fail "DELETE: $c"
c=$(code -X POST --data-binary '{}' "$REG/v1/stat")
[ "$c" = 401 ] || fail "no auth: $c"
expired=$(svc_token "$T/reg/cluster.key" admin arkor-service -10)
c=$(code -H "Authorization: Arkor-Service $expired" "$REG/v1/stat")
[ "$c" = 401 ] && grep -q expired "$T/out" || fail "expired token: $c"
wrongop=$(svc_token "$T/reg/cluster.key" read)
c=$(code -H "Authorization: Arkor-Service $wrongop" "$REG/v1/stat")
[ "$c" = 401 ] || fail "read token as service token: $c"
ok "bad input: 400 naming the field, 404, 405, 413, 401"

reg_stop
ok "clean stop"
