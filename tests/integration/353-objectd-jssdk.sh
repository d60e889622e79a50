#!/usr/bin/env bash
# 353-objectd-jssdk: the AWS SDK for JavaScript v3 (@aws-sdk/client-s3 and
# @aws-sdk/lib-storage, the newest from npm, cached under the build tree)
# against a local cluster, driven by s3c-jssdk.mjs: PutObject with the
# SDK's default CRC32 checksum, streamed aws-chunked bodies with trailing
# CRC32 / CRC32C / SHA1 / SHA256, a wrong checksum refused, GetObject
# (sha256 equal, ranges, ChecksumMode), HeadObject, ListObjectsV2 pages,
# ~20 MiB lib-storage multipart Uploads (the default CRC32 COMPOSITE
# checksum and a FULL_OBJECT one, checked against values computed in the
# script), DeleteObjects.
#
# It skips (77) only when npm cannot reach its registry and the cache is
# empty; a failing install with a reachable registry fails the test.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster-lib.sh"
. "$(dirname "$0")/s3c-lib.sh"
command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "SKIP: no node/npm"; exit 77; }
ark_timeout 600

# The SDK lives in $top_builddir/s3c-node (kept between runs; delete it
# to pick up a newer SDK).
NODE_DIR="$top_builddir/s3c-node"
if [ ! -f "$NODE_DIR/node_modules/@aws-sdk/lib-storage/package.json" ]; then
	if ! timeout 60 npm ping >"$T/npm-ping.log" 2>&1; then
		cat "$T/npm-ping.log"
		echo "************************************************************"
		echo "SKIP: npm cannot reach its registry; the AWS SDK for"
		echo "SKIP: JavaScript v3 is not installed, nothing was tested."
		echo "************************************************************"
		exit 77
	fi
	mkdir -p "$NODE_DIR"
	[ -f "$NODE_DIR/package.json" ] || echo '{"private": true}' >"$NODE_DIR/package.json"
	timeout 300 npm install --prefix "$NODE_DIR" --no-audit --no-fund \
		--cache "$NODE_DIR/.npm" @aws-sdk/client-s3 @aws-sdk/lib-storage \
		>"$T/npm.log" 2>&1 || { cat "$T/npm.log"; fail "npm install of the AWS SDK"; }
fi
echo "client: node $(node --version), @aws-sdk/client-s3 $(node -p \
	"require('$NODE_DIR/node_modules/@aws-sdk/client-s3/package.json').version")"

cluster_start --fragment-size 1MiB --window 4
mp=$(s3c_big $((20 << 20)) $((11 << 20)))
NODE_PATH="$NODE_DIR/node_modules" node --no-warnings \
	"$top_srcdir/tests/integration/s3c-jssdk.mjs" "$S3" jssdk "$T" "$mp" ||
	fail "AWS SDK for JavaScript v3 scenario"

objectd_stop
s3c_no_sanitizer_report
ok "clean stop"
