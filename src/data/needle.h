/*
 * needle.h - the on-disk needle record: a 32-byte header (magic, size, key,
 * cookie, flags, data CRC32C, header CRC32C), the data, and zero padding to
 * 8 bytes. Byte-by-byte layout: docs/specs/ChunkFormat.md. Pure functions on
 * caller buffers: any thread may call them.
 */
#ifndef ARKOR_DATA_NEEDLE_H
#define ARKOR_DATA_NEEDLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define NEEDLE_MAGIC		0x4e4b5241u	/* "ARKN" little-endian */
#define NEEDLE_HDR_SIZE		32
#define NEEDLE_ALIGN		8
#define NEEDLE_MAX_SIZE		UINT32_MAX

#define NEEDLE_F_TOMBSTONE	0x0001	/* delete marker; size is 0 */
#define NEEDLE_F_PAD		0x0002	/* reserved, aborted or torn space */
#define NEEDLE_F_KNOWN		(NEEDLE_F_TOMBSTONE | NEEDLE_F_PAD)

struct needle_hdr {			/* decoded header, plain value */
	uint64_t	 key;
	uint32_t	 cookie;
	uint32_t	 size;		/* data bytes, padding excluded */
	uint16_t	 flags;
	uint32_t	 crc;		/* CRC32C of the data */
};

/* Bytes the record occupies in the chunk: header + data + padding. */
static inline uint64_t
needle_reclen(uint32_t size)
{
	return NEEDLE_HDR_SIZE + (((uint64_t)size + NEEDLE_ALIGN - 1) &
	    ~(uint64_t)(NEEDLE_ALIGN - 1));
}

/* Little-endian helpers shared by the chunk, journal and superblock code. */
static inline void
needle_le16enc(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void
needle_le32enc(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void
needle_le64enc(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t
needle_le16dec(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
needle_le32dec(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
needle_le64dec(const unsigned char *p)
{
	return (uint64_t)needle_le32dec(p) |
	    (uint64_t)needle_le32dec(p + 4) << 32;
}

/* Writes the 32-byte header for `h` (with its header CRC) into out. */
void		 needle_encode(const struct needle_hdr *h,
		    unsigned char out[NEEDLE_HDR_SIZE]);
/*
 * Decodes a header. ARK_OK: *h is valid. ARK_EPROTO: no magic (not a record
 * boundary, or never written); *h untouched. ARK_ECORRUPT: magic present
 * but the header CRC or the flags are wrong (a torn or damaged header);
 * only h->size is set, because magic and size share one aligned 8-byte
 * word that a reserve and a commit write identically.
 */
enum ark_err	 needle_decode(const unsigned char in[NEEDLE_HDR_SIZE],
		    struct needle_hdr *h);

#endif /* ARKOR_DATA_NEEDLE_H */
