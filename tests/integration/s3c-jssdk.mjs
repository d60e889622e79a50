// s3c-jssdk.mjs - drives arkor-objectd with the AWS SDK for JavaScript v3
// as installed by 353-objectd-jssdk.sh (NODE_PATH points at its cache).
// Usage: node s3c-jssdk.mjs ENDPOINT BUCKET WORKDIR MULTIPART_BYTES
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Each
// step prints "ok: ..." or throws (exit status 1 with the S3 error).
import { createRequire } from "node:module";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Readable } from "node:stream";

const require = createRequire(process.env.NODE_PATH + "/");
const s3 = require("@aws-sdk/client-s3");
const { Upload } = require("@aws-sdk/lib-storage");

const [endpoint, bucket, workdir, mpArg] = process.argv.slice(2);
const mpBytes = Number(mpArg);
const client = new s3.S3Client({
	endpoint, region: "us-east-1", forcePathStyle: true,
	credentials: {
		accessKeyId: process.env.AWS_ACCESS_KEY_ID,
		secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
	},
	maxAttempts: 1,
});
const sha = (b) => createHash("sha256").update(b).digest("hex");
const CRC32_T = Array.from({ length: 256 }, (_, n) => {
	for (let k = 0; k < 8; k++)
		n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
	return n >>> 0;
});
const ok = (m) => console.log("ok: " + m);
function assert(c, m) { if (!c) throw new Error("assertion failed: " + m); }
async function bytes(body) {
	return Buffer.from(await body.transformToByteArray());
}

await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
ok("CreateBucket");

// PutObject with the SDK's defaults (CRC32 checksum; aws-chunked with a
// trailer when the body is a stream of unknown length).
const small = randomBytes(100 * 1024);
let r = await client.send(new s3.PutObjectCommand({
	Bucket: bucket, Key: "small.bin", Body: small,
	ContentType: "application/x-test", Metadata: { color: "blue" },
}));
assert(r.ETag === '"' + createHash("md5").update(small).digest("hex") + '"', "ETag " + r.ETag);
ok("PutObject (buffer, default checksum " + (r.ChecksumCRC32 ? "CRC32" : "none") + ")");

const streamed = randomBytes(300 * 1024 + 17);
r = await client.send(new s3.PutObjectCommand({
	Bucket: bucket, Key: "dir/streamed.bin",
	Body: Readable.from([streamed.subarray(0, 70000), streamed.subarray(70000)]),
	ContentLength: streamed.length,
}));
ok("PutObject (stream: aws-chunked + trailing checksum)");

r = await client.send(new s3.PutObjectCommand({
	Bucket: bucket, Key: "sha256.bin", Body: small, ChecksumAlgorithm: "SHA256",
}));
assert(r.ChecksumSHA256 === createHash("sha256").update(small).digest("base64"),
    "ChecksumSHA256 " + r.ChecksumSHA256);
ok("PutObject with ChecksumAlgorithm SHA256");

// Every algorithm the SDK offers without native add-ons, as a trailer of
// an aws-chunked stream; the answer carries the server's value.
const algs = { CRC32: null, CRC32C: null, SHA1: "sha1", SHA256: "sha256" };
for (const alg of Object.keys(algs)) {
	r = await client.send(new s3.PutObjectCommand({
		Bucket: bucket, Key: "alg/" + alg, ChecksumAlgorithm: alg,
		Body: Readable.from([streamed.subarray(0, 9000), streamed.subarray(9000)]),
		ContentLength: streamed.length,
	}));
	const got = r["Checksum" + alg];
	assert(got, "no Checksum" + alg + " in the PutObject answer");
	if (algs[alg])
		assert(got === createHash(algs[alg]).update(streamed).digest("base64"),
		    alg + " " + got);
}
ok("PutObject streamed with trailing CRC32, CRC32C, SHA1, SHA256 (values returned)");

try {
	await client.send(new s3.PutObjectCommand({
		Bucket: bucket, Key: "bad", Body: small, ChecksumCRC32: "AAAAAA==",
	}));
	throw new Error("PutObject with a wrong CRC32 worked");
} catch (e) {
	assert(e.name === "BadDigest", "wrong CRC32: " + e.name + " " + e);
}
try {
	await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: "bad" }));
	throw new Error("object committed despite a wrong CRC32");
} catch (e) {
	assert(e.$metadata?.httpStatusCode === 404, "HeadObject after BadDigest: " + e);
}
ok("PutObject with a wrong CRC32 refused (nothing committed)");

r = await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: "empty", Body: "" }));
ok("PutObject (empty)");

r = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: "small.bin" }));
assert(sha(await bytes(r.Body)) === sha(small), "small.bin bytes");
assert(r.ContentType === "application/x-test", "ContentType " + r.ContentType);
assert(r.Metadata.color === "blue", "metadata");
r = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: "dir/streamed.bin" }));
assert(sha(await bytes(r.Body)) === sha(streamed), "streamed bytes");
r = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: "empty" }));
assert((await bytes(r.Body)).length === 0, "empty object");
r = await client.send(new s3.GetObjectCommand({
	Bucket: bucket, Key: "dir/streamed.bin", Range: "bytes=1000-1999",
}));
assert(sha(await bytes(r.Body)) === sha(streamed.subarray(1000, 2000)), "range");
r = await client.send(new s3.GetObjectCommand({
	Bucket: bucket, Key: "small.bin", ChecksumMode: "ENABLED",
}));
assert(sha(await bytes(r.Body)) === sha(small), "small.bin with ChecksumMode");
ok("GetObject (sha256 equal, range, ChecksumMode ENABLED)");

r = await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: "small.bin" }));
assert(r.ContentLength === small.length, "HeadObject length " + r.ContentLength);
try {
	await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: "nope" }));
	throw new Error("HeadObject of a missing key worked");
} catch (e) {
	assert(e.name === "NotFound" || e.$metadata?.httpStatusCode === 404, "HeadObject missing: " + e);
}
try {
	await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: "nope" }));
	throw new Error("GetObject of a missing key worked");
} catch (e) {
	assert(e.name === "NoSuchKey", "GetObject missing: " + e.name);
}
ok("HeadObject, NotFound / NoSuchKey");

// Multipart through lib-storage: parts of 5 MiB, 4 in parallel.
const big = mpBytes > 0 ? randomBytes(mpBytes) : null;
if (big) {
	writeFileSync(workdir + "/mp.src", big);
	const up = new Upload({
		client, partSize: 5 * 1024 * 1024, queueSize: 4,
		params: { Bucket: bucket, Key: "dir/mp.bin", Body: Readable.from(chunks(big)) },
	});
	r = await up.done();
	r = await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: "dir/mp.bin" }));
	assert(r.ContentLength === big.length, "multipart length " + r.ContentLength);
	assert(/-\d+"$/.test(r.ETag), "multipart ETag " + r.ETag);
	r = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: "dir/mp.bin" }));
	const back = await bytes(r.Body);
	writeFileSync(workdir + "/mp.back", back);
	assert(sha(back) === sha(big), "multipart bytes");
	ok("lib-storage Upload of " + big.length + " bytes (ETag " + r.ETag + ", sha256 equal)");

	// lib-storage declares CRC32 (COMPOSITE) by default and lists the
	// parts' checksums on Complete: the object's is the CRC32 of the
	// parts' CRC32s, "-<n>".
	const PART = 5 * 1024 * 1024;
	const pv = [];
	for (let o = 0; o < big.length; o += PART)
		pv.push(crc32be(big.subarray(o, o + PART)));
	const composite = crc32be(Buffer.concat(pv)).toString("base64") + "-" + pv.length;
	r = await client.send(new s3.HeadObjectCommand({
		Bucket: bucket, Key: "dir/mp.bin", ChecksumMode: "ENABLED",
	}));
	assert(r.ChecksumCRC32 === composite, "multipart ChecksumCRC32 " + r.ChecksumCRC32 +
	    ", want " + composite);
	assert(r.ChecksumType === "COMPOSITE", "multipart ChecksumType " + r.ChecksumType);
	ok("lib-storage Upload: default CRC32 COMPOSITE checksum " + composite);

	const full = new Upload({
		client, partSize: PART, queueSize: 4,
		params: {
			Bucket: bucket, Key: "dir/full.bin", ChecksumType: "FULL_OBJECT",
			Body: Readable.from(chunks(big)),
		},
	});
	r = await full.done();
	r = await client.send(new s3.HeadObjectCommand({
		Bucket: bucket, Key: "dir/full.bin", ChecksumMode: "ENABLED",
	}));
	const whole = crc32be(big).toString("base64");
	assert(r.ChecksumCRC32 === whole && r.ChecksumType === "FULL_OBJECT",
	    "FULL_OBJECT " + r.ChecksumCRC32 + " " + r.ChecksumType + ", want " + whole);
	ok("lib-storage Upload with ChecksumType FULL_OBJECT: CRC32 of the whole object " + whole);
}
function crc32be(b) {
	let c = 0xffffffff;
	for (let i = 0; i < b.length; i++)
		c = CRC32_T[(c ^ b[i]) & 0xff] ^ (c >>> 8);
	const out = Buffer.alloc(4);
	out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
	return out;
}
function* chunks(b) {
	for (let o = 0; o < b.length; o += 1 << 20)
		yield b.subarray(o, o + (1 << 20));
}

r = await client.send(new s3.ListObjectsV2Command({ Bucket: bucket }));
let keys = (r.Contents || []).map((c) => c.Key);
let want = ["alg/CRC32", "alg/CRC32C", "alg/SHA1", "alg/SHA256",
    "dir/streamed.bin", "empty", "sha256.bin", "small.bin"];
if (big) want.splice(4, 0, "dir/full.bin", "dir/mp.bin");
assert(JSON.stringify(keys) === JSON.stringify(want), "ListObjectsV2 " + keys);
let all = [], token, pages = 0;
do {
	r = await client.send(new s3.ListObjectsV2Command({
		Bucket: bucket, Delimiter: "/", MaxKeys: 2, ContinuationToken: token,
	}));
	all.push(...(r.CommonPrefixes || []).map((p) => p.Prefix), ...(r.Contents || []).map((c) => c.Key));
	token = r.NextContinuationToken;
	assert(r.IsTruncated === !!token, "IsTruncated without a token");
} while (token && ++pages < 10);
assert(pages === 2, "ListObjectsV2 pages: " + (pages + 1));
assert(JSON.stringify(all.sort()) === JSON.stringify(["alg/", "dir/", "empty", "sha256.bin", "small.bin"]),
    "ListObjectsV2 pages " + all);
ok("ListObjectsV2 (all keys; delimiter, 3 pages of 2)");

r = await client.send(new s3.DeleteObjectsCommand({
	Bucket: bucket, Delete: { Objects: want.map((k) => ({ Key: k })) },
}));
assert((r.Deleted || []).length === want.length && !(r.Errors || []).length,
    "DeleteObjects " + JSON.stringify(r));
r = await client.send(new s3.ListObjectsV2Command({ Bucket: bucket }));
assert(!(r.Contents || []).length, "objects left after DeleteObjects");
await client.send(new s3.DeleteBucketCommand({ Bucket: bucket }));
ok("DeleteObjects, DeleteBucket");
