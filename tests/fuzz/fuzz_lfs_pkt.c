/*
 * fuzz_lfs_pkt.c - libFuzzer target: an arbitrary byte stream from an ssh
 * client, cut into pkt-lines as arkor-lfs-transfer reads them, every data
 * packet also fed to the text, command-line, path, size and oid parsers.
 * Invariants: no crash, leak or UB; a parsed packet never claims more
 * bytes than the input holds nor more than LFS_PKT_MAX; a text result is
 * NUL-terminated within its buffer; a mapped repository path is non-empty
 * and has no "..", "//" or leading '/'.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lfs/lfs_pkt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[8192], words[256], repo[1100], *w[4];
	struct lfs_pkt p;
	size_t off = 0, used, nw;
	int64_t v;

	while (off < size) {
		if (lfs_pkt_parse(data + off, size - off, &p, &used) != ARK_OK)
			break;
		if (used == 0 || used > size - off || used > LFS_PKT_MAX)
			abort();
		off += used;
		if (p.type != LFS_PKT_DATA)
			continue;
		if (p.len + 4 != used)
			abort();
		if (lfs_pkt_text(&p, text, sizeof(text)) != ARK_OK)
			continue;
		if (strlen(text) >= sizeof(text))
			abort();
		(void)lfs_oid_valid(text);
		(void)lfs_parse_size(text, &v);
		if (lfs_cmdline_split(text, words, sizeof(words), w, 4, &nw) ==
		    ARK_OK && nw > 4)
			abort();
		if (lfs_repo_path(text, repo, sizeof(repo)) == ARK_OK &&
		    (repo[0] == '\0' || repo[0] == '/' ||
		    strstr(repo, "//") != NULL || strcmp(repo, "..") == 0 ||
		    strncmp(repo, "../", 3) == 0 ||
		    strstr(repo, "/../") != NULL))
			abort();
	}
	return 0;
}
