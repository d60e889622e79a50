/*
 * fuzz_s3_xml.c - libFuzzer target: arbitrary XML to each request body
 * parser (byte 0 picks CompleteMultipartUpload, Delete,
 * CreateBucketConfiguration, Tagging, AccessControlPolicy,
 * CORSConfiguration) and the escaped output of the XML writer. Invariants: no crash, leak or UB;
 * results are known S3 codes; successful outputs respect the documented
 * limits (ascending part numbers 1..10000, 1..1000 keys, <= 50 tags of
 * valid UTF-8, 1..100 CORS rules each with an origin and a method); written XML never contains a raw '<', '&' or control
 * byte from the text.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "object/s3_xml.h"
#include "object/s3_xmlw.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	size_t len;
	enum s3_code sc = S3_OK;

	if (size < 1)
		return 0;
	len = size - 1;
	switch (data[0] % 7) {
	case 0: {
		struct s3_xml_complete c;

		sc = s3_xml_parse_complete(body, len, &c);
		if (sc == S3_OK) {
			if (c.nparts == 0 || c.nparts > S3_XML_MAX_PARTS)
				abort();
			for (size_t i = 0; i < c.nparts; i++)
				if (c.parts[i].part_number < 1 ||
				    c.parts[i].part_number > S3_XML_MAX_PARTS ||
				    (i > 0 && c.parts[i].part_number <=
				    c.parts[i - 1].part_number))
					abort();
		} else if (c.parts != NULL)
			abort();
		s3_xml_complete_free(&c);
		break;
	}
	case 1: {
		struct s3_xml_delete d;

		sc = s3_xml_parse_delete(body, len, &d);
		if (sc == S3_OK && (d.nobjs == 0 ||
		    d.nobjs > S3_XML_MAX_DELETE_KEYS))
			abort();
		for (size_t i = 0; i < d.nobjs; i++)
			if (d.objs[i].key == NULL)
				abort();
		s3_xml_delete_free(&d);
		break;
	}
	case 2: {
		char loc[64];

		sc = s3_xml_parse_create_bucket(body, len, loc, sizeof(loc));
		if (strlen(loc) >= sizeof(loc))
			abort();
		break;
	}
	case 3: {
		struct s3_xml_tagging t;

		sc = s3_xml_parse_tagging(body, len, S3_XML_MAX_BUCKET_TAGS,
		    &t);
		if (sc == S3_OK) {
			if (t.ntags > S3_XML_MAX_BUCKET_TAGS)
				abort();
			for (size_t i = 0; i < t.ntags; i++)
				if (!s3_xml_utf8_valid(t.tags[i].key,
				    strlen(t.tags[i].key), NULL) ||
				    t.tags[i].key[0] == '\0')
					abort();
		}
		s3_xml_tagging_free(&t);
		break;
	}
	case 4: {
		enum s3_acl acl;
		char owner[64];

		sc = s3_xml_parse_acl(body, len, &acl, owner, sizeof(owner));
		break;
	}
	case 5: {
		struct s3_cors c;

		sc = s3_xml_parse_cors(body, len, &c);
		if (sc == S3_OK && (c.nrules == 0 ||
		    c.nrules > S3_CORS_MAX_RULES))
			abort();
		for (size_t i = 0; i < c.nrules; i++)
			if (c.rules[i].origins.n == 0 ||
			    c.rules[i].methods.n == 0)
				abort();
		s3_cors_free(&c);
		break;
	}
	default: {
		struct ark_buf b;
		struct s3_xmlw w;
		const char *out;

		ark_buf_init(&b, 8 * len + 256);
		s3_xmlw_init_fragment(&w, &b);
		s3_xmlw_start(&w, "K");
		s3_xmlw_text(&w, body, len);
		s3_xmlw_end(&w);
		if (s3_xmlw_finish(&w) != ARK_OK)
			abort();
		out = ark_buf_str(&b);
		for (size_t i = 3; i + 4 < ark_buf_len(&b); i++) {
			unsigned char ch = (unsigned char)out[i];

			if (ch == '<' || (ch < 0x20 && ch != 0) || ch == 0x7f)
				abort();
			if (ch == '&' && strchr("alqg#", out[i + 1]) == NULL)
				abort();
		}
		ark_buf_free(&b);
		break;
	}
	}
	if ((unsigned)sc >= S3_ERR_CODE_MAX)
		abort();
	return 0;
}
