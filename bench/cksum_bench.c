/*
 * cksum_bench.c - throughput of CRC32C (hardware and software), CRC32 and
 * SHA-256 / MD5 over a 16 MiB buffer, printed in GB/s. Not run by
 * `make check`; run ./bench/cksum_bench [MiB] [rounds] by hand.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/cksum.h"
#include "common/util.h"

static volatile uint32_t sink;

static void
report(const char *name, size_t bytes, uint64_t ns)
{
	printf("%-14s %8.2f GB/s\n", name,
	    ns ? (double)bytes / (double)ns : 0.0);
}

static void
bench_crc(const char *name, uint32_t (*fn)(uint32_t, const void *, size_t),
    const unsigned char *buf, size_t len, int rounds)
{
	uint64_t t0 = ark_mono_ns();
	uint32_t c = 0;

	for (int r = 0; r < rounds; r++)
		c = fn(c, buf, len);
	sink = c;
	report(name, len * (size_t)rounds, ark_mono_ns() - t0);
}

static void
bench_hash(const char *name, enum ark_hash_alg alg, const unsigned char *buf,
    size_t len, int rounds)
{
	struct ark_hash	*h;
	unsigned char	 d[ARK_HASH_MAXLEN];
	uint64_t	 t0 = ark_mono_ns();

	if (ark_hash_new(alg, &h) != ARK_OK)
		ark_fatalx("ark_hash_new");
	for (int r = 0; r < rounds; r++)
		ark_hash_update(h, buf, len);
	ark_hash_final(h, d);
	ark_hash_free(h);
	report(name, len * (size_t)rounds, ark_mono_ns() - t0);
}

int
main(int argc, char **argv)
{
	size_t		 mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 16;
	int		 rounds = argc > 2 ? atoi(argv[2]) : 8;
	size_t		 len = (mib ? mib : 16) << 20;
	unsigned char	*buf = ark_xmalloc(len);

	if (rounds <= 0)
		rounds = 8;
	ark_random_bytes(buf, len);
	printf("buffer %zu MiB x %d rounds\n", len >> 20, rounds);
	if (ark_crc32c_hw_available())
		bench_crc("crc32c-hw", ark_crc32c_hw, buf, len, rounds);
	else
		printf("%-14s unavailable (no SSE4.2)\n", "crc32c-hw");
	bench_crc("crc32c-sw", ark_crc32c_sw, buf, len, rounds);
	bench_crc("crc32-sw", ark_crc32, buf, len, rounds);
	bench_hash("sha256", ARK_HASH_SHA256, buf, len, rounds);
	bench_hash("md5", ARK_HASH_MD5, buf, len, rounds);
	free(buf);
	return 0;
}
