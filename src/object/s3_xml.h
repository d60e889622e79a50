/*
 * s3_xml.h - parsing of S3 request bodies with expat: CompleteMultipartUpload,
 * Delete (DeleteObjects), CreateBucketConfiguration, Tagging and a minimal
 * AccessControlPolicy (mapped to the canned ACLs Arkor supports).
 *
 * The caller reads the body with a cap (S3_XML_MAX_* below; a longer body
 * is answered by the caller, or here as MalformedXML) and passes it
 * whole. Element names are matched by local name, with or without the
 * S3 namespace; unknown elements are ignored; a DOCTYPE (and so any
 * entity declaration) is refused, nesting is limited to 16 levels and
 * element text to S3_XML_TEXT_MAX bytes. Every failure is one S3 code:
 * MalformedXML unless said otherwise. Outputs are owned by the caller and
 * released with the matching _free() (safe on a zeroed or failed
 * struct). Thread-safe: no shared state.
 */
#ifndef ARKOR_OBJECT_S3_XML_H
#define ARKOR_OBJECT_S3_XML_H

#include <stddef.h>

#include "object/s3_checksum.h"
#include "object/s3_cors.h"
#include "object/s3_error.h"

#define S3_XML_TEXT_MAX		4096
#define S3_XML_MAX_COMPLETE	(4u << 20)	/* 10,000 parts */
#define S3_XML_MAX_DELETE	(4u << 20)	/* 1,000 keys of 1 KiB */
#define S3_XML_MAX_SMALL	(64u << 10)	/* the others */
#define S3_XML_MAX_PARTS	10000
#define S3_XML_MAX_DELETE_KEYS	1000
#define S3_XML_MAX_TAGS		10	/* an object's */
#define S3_XML_MAX_BUCKET_TAGS	50
#define S3_XML_TAG_KEY_CHARS	128
#define S3_XML_TAG_VALUE_CHARS	256

/* ---- CompleteMultipartUpload ---- */
struct s3_xml_part {
	unsigned		 part_number;	/* 1..10000 */
	char			 etag[128];	/* surrounding quotes removed */
	enum s3_cksum_alg	 cksum_alg;	/* NONE or the one given */
	char			 cksum[S3_CKSUM_B64_MAX];
};

struct s3_xml_complete {
	struct s3_xml_part	*parts;
	size_t			 nparts;
};

/* Parts must be strictly ascending by PartNumber (else
 * S3_ERR_INVALID_PART_ORDER), each with PartNumber and ETag; 1 to
 * S3_XML_MAX_PARTS of them. S3_ERR_INTERNAL on ENOMEM. */
enum s3_code	 s3_xml_parse_complete(const char *body, size_t len,
		    struct s3_xml_complete *out);
void		 s3_xml_complete_free(struct s3_xml_complete *c);

/* ---- Delete (DeleteObjects) ---- */
struct s3_xml_delete_obj {
	char	*key;		/* never NULL, may be "" */
	char	*version_id;	/* NULL when absent */
	char	*etag;		/* NULL when absent; as sent (quoted) */
};

struct s3_xml_delete {
	struct s3_xml_delete_obj *objs;
	size_t			  nobjs;
	int			  quiet;
};

/* 1 to S3_XML_MAX_DELETE_KEYS <Object>s, each with a <Key> and maybe a
 * <VersionId> and an <ETag> (a conditional delete); Quiet is "true" or
 * "false". */
enum s3_code	 s3_xml_parse_delete(const char *body, size_t len,
		    struct s3_xml_delete *out);
void		 s3_xml_delete_free(struct s3_xml_delete *d);

/* ---- CreateBucketConfiguration ---- */
/* Fills loc (cap bytes) with LocationConstraint, "" when absent. An empty
 * body is valid and means "" (callers may skip the call). A constraint
 * longer than cap: S3_ERR_INVALID_LOCATION. */
enum s3_code	 s3_xml_parse_create_bucket(const char *body, size_t len,
		    char *loc, size_t cap);

/* ---- Tagging ---- */
struct s3_xml_tag {
	char	key[S3_XML_TAG_KEY_CHARS * 4 + 1];	/* UTF-8 */
	char	value[S3_XML_TAG_VALUE_CHARS * 4 + 1];
};

struct s3_xml_tagging {
	struct s3_xml_tag	*tags;
	size_t			 ntags;
};

/* Tagging/TagSet/Tag{Key,Value}. S3_ERR_INVALID_TAG: more than max tags
 * (S3_XML_MAX_TAGS for an object, S3_XML_MAX_BUCKET_TAGS for a bucket),
 * an empty or too long key (128 characters), a too long value (256
 * characters), a duplicate key, a key starting with "aws:", text that is
 * not UTF-8. S3_ERR_INTERNAL on ENOMEM. */
enum s3_code	 s3_xml_parse_tagging(const char *body, size_t len,
		    size_t max, struct s3_xml_tagging *out);
void		 s3_xml_tagging_free(struct s3_xml_tagging *t);

/* ---- CORSConfiguration ---- */
/* CORSConfiguration/CORSRule{ID, AllowedOrigin, AllowedMethod,
 * AllowedHeader, ExposeHeader, MaxAgeSeconds} into *out (free with
 * s3_cors_free), each rule checked by s3_cors_add_rule (its errors).
 * No rule, or a MaxAgeSeconds that is not a decimal number:
 * S3_ERR_MALFORMED_XML. */
enum s3_code	 s3_xml_parse_cors(const char *body, size_t len,
		    struct s3_cors *out);

/* ---- AccessControlPolicy (canned ACLs only) ---- */
enum s3_acl {
	S3_ACL_PRIVATE = 0,
	S3_ACL_PUBLIC_READ,
};

/* Accepts the two grant sets the canned ACLs produce: FULL_CONTROL to a
 * CanonicalUser (the owner), plus READ to the AllUsers group for
 * public-read. Other grants: S3_ERR_NOT_IMPLEMENTED; malformed:
 * S3_ERR_MALFORMED_ACL. owner_id (cap bytes, may be NULL) gets
 * Owner/ID. */
enum s3_code	 s3_xml_parse_acl(const char *body, size_t len,
		    enum s3_acl *out, char *owner_id, size_t cap);

/* 1 when s[0..n) is valid UTF-8 (no overlongs, surrogates or code points
 * above U+10FFFF); *chars (may be NULL) gets the code point count. */
int		 s3_xml_utf8_valid(const char *s, size_t n, size_t *chars);

#endif /* ARKOR_OBJECT_S3_XML_H */
