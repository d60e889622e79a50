/*
 * needle.c - encode and decode needle headers. The header CRC covers bytes
 * 0..27 so a scanner can trust the size field before reading the data.
 */
#include "config.h"

#include <string.h>

#include "common/cksum.h"
#include "data/needle.h"

void
needle_encode(const struct needle_hdr *h, unsigned char out[NEEDLE_HDR_SIZE])
{
	needle_le32enc(out + 0, NEEDLE_MAGIC);
	needle_le32enc(out + 4, h->size);
	needle_le64enc(out + 8, h->key);
	needle_le32enc(out + 16, h->cookie);
	needle_le16enc(out + 20, h->flags);
	needle_le16enc(out + 22, 0);
	needle_le32enc(out + 24, h->crc);
	needle_le32enc(out + 28, ark_crc32c(0, out, 28));
}

enum ark_err
needle_decode(const unsigned char in[NEEDLE_HDR_SIZE], struct needle_hdr *h)
{
	uint16_t flags;

	if (needle_le32dec(in) != NEEDLE_MAGIC)
		return ARK_EPROTO;
	h->size = needle_le32dec(in + 4);
	flags = needle_le16dec(in + 20);
	if (needle_le32dec(in + 28) != ark_crc32c(0, in, 28) ||
	    (flags & ~NEEDLE_F_KNOWN) != 0 || needle_le16dec(in + 22) != 0)
		return ARK_ECORRUPT;
	h->key = needle_le64dec(in + 8);
	h->cookie = needle_le32dec(in + 16);
	h->flags = flags;
	h->crc = needle_le32dec(in + 24);
	if ((flags & NEEDLE_F_TOMBSTONE) && h->size != 0)
		return ARK_ECORRUPT;
	return ARK_OK;
}
