/* SPDX-License-Identifier: MIT */
/*
 * Member data uploads and downloads (images), and a member tree's files.
 * Layer: model. What is the service's (where the bytes are, how a member
 * is made for them, which digests its document states) comes from the
 * collection's data_stream_def (service.h). Memory per upload is the head
 * (32 KiB, kept until the format is known) plus curl's buffers; per
 * download HTTP_STREAM_BUF at most.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "cloudfs/clock.h"
#include "cloudfs/hasher.h"
#include "cloudfs/leftovers.h"
#include "cloudfs/loan.h"
#include "cloudfs/log.h"
#include "cloudfs/names.h"
#include "cloudfs/stream.h"
#include "cloudfs/transfers.h"
#include "model_int.h"

/* PF_EXITING in /proc/<pid>/stat's flags: the process is in exit(). */
#define STREAM_PF_EXITING 0x4

struct stream {
	struct project *p;
	bool held; /* p is a member of projects/, held until the stream is freed */
	const struct collection_def *c;
	char *name; /* upload: the image name */
	char id[MODEL_ID_MAX];
	char *file_path; /* the member's data path (data_stream_def), once it exists */
	bool upload;
	bool created; /* the member exists in the cloud */
	bool finished; /* stream_finish() ran; result holds its answer */
	int result;
	int failed; /* an earlier write failed: every later call does */
	off_t offset; /* upload: bytes received; download: next byte the stream gives */
	off_t size; /* download: the image's size */
	/* Download: a read that failed for good (a stall, bytes that are not
	 * the image's) fails every later read of this open file the same way,
	 * so a reader is not made to wait again at each read. */
	int broken;
	/* Download: the digest the cloud states for the data, and the one of the
	 * bytes received, while the current answer's body started at byte 0
	 * (hashed beside the reads by a thread of its own, hasher.h; checked
	 * at the end). */
	const EVP_MD *want_md;
	char want_hex[2 * EVP_MAX_MD_SIZE + 1];
	struct hasher *got_md; /* NULL: not hashing this answer */
	struct buf head;
	EVP_MD_CTX *md5;
	EVP_MD_CTX *sha512;
	struct http_stream *http;
	/* Progress in .cloudfs/transfers: registered at the first byte,
	 * ended with the result (borrowed from p->transfers). */
	char *path;
	struct transfer *xfer;
	pid_t writer; /* upload: the process that wrote first */
	/* A member tree's file (model_tree.c): its member, its cloud path,
	 * and for an upload the parts of a large one (service.h). */
	bool tree;
	char *tpath;
	bool existed; /* upload: replaces a file (what it replaces is asked) */
	int64_t part_size; /* -1: not asked yet; 0: never in parts */
	int64_t size_limit; /* the largest file the cloud takes; 0: no limit */
	char *mark_path; /* the parts' mark (tree_def.mark_parts), until removed */
	size_t threshold; /* bytes kept before the file is streamed */
	bool streaming; /* past the threshold: s->http carries the bytes */
	bool direct; /* ... to the file itself (no parts: one streamed PUT) */
	struct tree_part *parts; /* finished and checked */
	size_t nparts, cap_parts;
	bool part_open; /* parts[nparts] is being sent (its path is set) */
	int64_t part_bytes; /* in the part being sent */
	EVP_MD_CTX *part_md5;
	char stamp[64];
	char etag[80]; /* the last part's (or direct PUT's) answered ETag */
	char direct_md5[2 * EVP_MAX_MD_SIZE + 1]; /* the direct PUT's bytes' MD5 */
};

/* What messages call an upload: <collection>/<name>, or a tree file's path. */
#define SPFX(s) ((s)->tree ? "" : (s)->c->name)
#define SSEP(s) ((s)->tree ? "" : "/")
#define SNAME(s) ((s)->tree ? (s)->path : (s)->name)

/* Small files are one PUT of at most this many bytes, with their MD5: the
 * memory an upload holds. */
#define STREAM_TREE_BUFFER (8u << 20)

static long timeout_ms(const struct stream *s)
{
	return (long)(s->p->sess->cfg->timeout_s * 1000);
}

const char *stream_detect_format(const unsigned char *h, size_t len)
{
	if (len >= 4 && !memcmp(h, "QFI\xfb", 4))
		return "qcow2";
	if (len >= 4 && !memcmp(h, "KDMV", 4))
		return "vmdk";
	if (len >= 21 && !memcmp(h, "# Disk DescriptorFile", 21))
		return "vmdk";
	if (len >= 8 && !memcmp(h, "conectix", 8))
		return "vhd";
	if (len >= 68 && !memcmp(h + 64, "\x7f\x10\xda\xbe", 4))
		return "vdi";
	if (len >= 32769 + 5 && !memcmp(h + 32769, "CD001", 5))
		return "iso";
	return "raw";
}

static int stream_new(struct project *p, bool upload, struct stream **out)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->p = p;
	s->upload = upload;
	buf_init(&s->head, STREAM_HEAD_BYTES + (1u << 20));
	*out = s;
	return 0;
}

static int stream_upload_new_in(struct project *p, const char *path, struct stream **out)
{
	struct tree_path tp;
	struct stream *s;
	int rc;

	rc = tree_parse(path, &tp);
	if (rc)
		return rc;
	if (tp.kind != TREE_ENTRY || !tp.coll->upload || !tp.coll->stream) {
		tree_path_free(&tp);
		return -EACCES;
	}
	rc = stream_new(p, true, &s);
	if (!rc) {
		s->c = tp.coll;
		s->name = strdup(tp.entry);
		s->path = strdup(path);
		s->md5 = EVP_MD_CTX_new();
		s->sha512 = EVP_MD_CTX_new();
		if (!s->name || !s->path || !s->md5 || !s->sha512 ||
		    !EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) ||
		    !EVP_DigestInit_ex(s->sha512, EVP_sha512(), NULL)) {
			stream_free(s);
			rc = -ENOMEM;
		}
	}
	tree_path_free(&tp);
	if (!rc)
		*out = s;
	return rc;
}

/* The digest a whole download is checked against: the first the service
 * says @doc states (data_stream_def.digests) of an algorithm OpenSSL
 * knows, else none. */
static void want_digest(struct stream *s, const json_t *doc)
{
	struct data_digest d[DATA_DIGESTS_MAX];
	size_t n = s->c->stream->digests(doc, d);
	const EVP_MD *md = NULL;
	const char *value = NULL;

	for (size_t i = 0; i < n && !md; i++)
		if (d[i].hex && (md = EVP_get_digestbyname(d[i].algo)))
			value = d[i].hex;
	if (!md || strlen(value) != 2 * (size_t)EVP_MD_get_size(md))
		return;
	s->want_md = md;
	for (size_t i = 0; value[i]; i++)
		s->want_hex[i] = (char)tolower((unsigned char)value[i]);
}

static int stream_download_new_in(struct project *p, const char *path, struct stream **out)
{
	struct node n;
	struct stream *s;
	struct extra_ctx x;
	int64_t size = 0;
	int rc = model_resolve(p, path, &n);

	if (rc)
		return rc == -ENOENT ? -ENOTSUP : rc;
	if (n.tree && n.type == NODE_FILE) {
		rc = stream_new(p, false, &s);
		if (!rc) {
			s->tree = true;
			s->c = n.tp.coll;
			snprintf(s->id, sizeof(s->id), "%s", n.id);
			s->file_path = model_tree_def(s->c, NULL)->data_path(n.id, n.tpath);
			s->path = strdup(path);
			s->size = (off_t)n.size;
			/* The listing's MD5 checks a whole download. */
			if (strlen(n.md5) == 32) {
				s->want_md = EVP_md5();
				snprintf(s->want_hex, sizeof(s->want_hex), "%s", n.md5);
			}
			if (!s->file_path || !s->path) {
				stream_free(s);
				rc = -ENOMEM;
			} else {
				*out = s;
			}
		}
		model_node_release(&n);
		return rc;
	}
	/* A member extra selects the streaming engine (EXTRA_STREAM). */
	if (!n.extra || !(n.extra->flags & EXTRA_STREAM) || !n.tp.coll->stream) {
		model_node_release(&n);
		return -ENOTSUP;
	}
	rc = stream_new(p, false, &s);
	if (!rc) {
		s->c = n.tp.coll;
		snprintf(s->id, sizeof(s->id), "%s", n.id);
		model_extra_ctx(p, &n, &x);
		if (n.extra->size && n.extra->size(&x, &size))
			size = 0;
		s->file_path = api_item_path(s->c, s->id, s->c->stream->data_below, NULL);
		s->path = strdup(path);
		if (!s->file_path || !s->path) {
			stream_free(s);
			model_node_release(&n);
			return -ENOMEM;
		}
		s->size = (off_t)size;
		want_digest(s, n.res->data);
		*out = s;
	}
	model_node_release(&n);
	return rc;
}

/* ---- upload ----------------------------------------------------------- */

/* Retried until `timeout` from now, then owed (src/leftovers.c). */
static void delete_image(struct stream *s)
{
	if (!s->created)
		return;
	(void)leftovers_delete(s->p->leftovers, s->id, s->name, clock_now_ms() + timeout_ms(s));
	s->created = false;
	model_forget(s->p, s->c, s->id);
}

static void tree_clean(struct stream *s);

static int fail(struct stream *s, int rc)
{
	http_stream_free(s->http);
	s->http = NULL;
	transfer_set_phase(s->xfer, TRANSFER_CLEANING);
	if (s->tree)
		tree_clean(s);
	else
		delete_image(s);
	transfer_end(s->xfer, rc, clock_now_ms());
	s->xfer = NULL;
	s->failed = rc;
	return rc;
}

/* Makes the member (the service's create hook), opens the data request
 * and sends the head, which is not kept after this. */
static int start_upload(struct stream *s)
{
	static const char *const hdrs[] = { "Content-Type: application/octet-stream", NULL };
	const struct data_stream_def *d = s->c->stream;
	const char *format = stream_detect_format((const unsigned char *)s->head.data, s->head.len);
	struct svc_call x = { s->p, s->c };
	int rc;

	/* The marker lets a later mount find the member if this process is
	 * killed before it can delete a failed upload. */
	rc = d->create(&x, s->name, format, LEFTOVERS_PROPERTY, leftovers_marker(s->p->leftovers),
		       s->id, sizeof(s->id));
	if (rc)
		goto out;
	s->created = true;
	model_forget(s->p, s->c, NULL);
	log_info("uploading %s/%s (%s, %s)", s->c->name, s->name, s->id, format);
	s->file_path = api_item_path(s->c, s->id, d->data_below, NULL);
	rc = s->file_path ? api_stream_open(s->p->sess, s->c->service, d->upload_method,
					    s->file_path, hdrs, true, &s->http)
			  : -ENOMEM;
	if (!rc)
		rc = http_stream_write(s->http, s->head.data, s->head.len, timeout_ms(s));
out:
	buf_free(&s->head);
	return rc;
}

static int append(struct stream *s, const char *buf, size_t size);

/* An image upload's digests of the bytes sent (checked by verify()). */
static void digest_image(void *ctx, const char *buf, size_t len)
{
	struct stream *s = ctx;

	EVP_DigestUpdate(s->md5, buf, len);
	EVP_DigestUpdate(s->sha512, buf, len);
}

/* A tree upload's part MD5 (checked against the part's ETag). */
static void digest_part(void *ctx, const char *buf, size_t len)
{
	struct stream *s = ctx;

	EVP_DigestUpdate(s->part_md5, buf, len);
}

/* A forward gap is a hole: cp copies sparse files by seeking past runs of
 * zeros, and ends them with ftruncate. The hole is sent as zeros. */
static int fill_to(struct stream *s, off_t off)
{
	static const char zeros[64 * 1024];
	int rc = 0;

	while (!rc && s->offset < off) {
		size_t n = off - s->offset < (off_t)sizeof(zeros) ? (size_t)(off - s->offset)
								  : sizeof(zeros);

		rc = append(s, zeros, n);
	}
	return rc;
}

int stream_truncate(struct stream *s, off_t size)
{
	if (!s->upload)
		return -EBADF;
	if (s->failed)
		return s->failed;
	if (size < s->offset) {
		log_cloud_error(
			"%s%s%s: truncate to %lld after %lld bytes were sent: uploads only grow",
			SPFX(s), SSEP(s), SNAME(s), (long long)size, (long long)s->offset);
		return fail(s, -EINVAL);
	}
	return fill_to(s, size);
}

int stream_write(struct stream *s, const char *buf, size_t size, off_t off)
{
	int rc;

	if (!s->upload)
		return -EBADF;
	if (s->failed)
		return s->failed;
	if (s->finished) {
		log_cloud_error(
			"%s%s%s: written to after the upload was completed by an earlier close",
			SPFX(s), SSEP(s), SNAME(s));
		return -EBADF;
	}
	if (off < s->offset) {
		log_cloud_error(
			"%s%s%s: write at offset %lld after %lld bytes: uploads must be written in order",
			SPFX(s), SSEP(s), SNAME(s), (long long)off, (long long)s->offset);
		return fail(s, -EINVAL);
	}
	rc = fill_to(s, off);
	if (!rc)
		rc = append(s, buf, size);
	return rc ? rc : (int)size;
}

/*
 * The size of what @pid copies to us, or -1: a writer reads its source as
 * it writes, so the one regular file it has open read-only, at least
 * @min_pos bytes in, is it (cp, dd, cat, pv, rsync). None (a pipe) or
 * several (which?): unknown. Only for .cloudfs/transfers: nothing is
 * decided on it, and a file of another user's process is not readable.
 */
static int64_t source_size(pid_t pid, off_t min_pos)
{
	char path[64], line[128];
	int64_t size = -1;
	int found = 0;
	struct dirent *e;
	DIR *d;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (found < 2 && (e = readdir(d))) {
		long long pos = -1;
		unsigned long flags = O_WRONLY;
		struct stat st;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%.16s", (int)pid, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "pos:", 4))
				pos = strtoll(line + 4, NULL, 10);
			else if (!strncmp(line, "flags:", 6))
				flags = strtoul(line + 6, NULL, 8);
		}
		fclose(f);
		if ((flags & O_ACCMODE) != O_RDONLY || pos < (long long)min_pos)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%.16s", (int)pid, e->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) || st.st_size < pos || st.st_size <= 0)
			continue;
		size = (int64_t)st.st_size;
		found++;
	}
	closedir(d);
	return found == 1 ? size : -1;
}

void stream_note_writer(struct stream *s, pid_t pid)
{
	if (s->upload && !s->writer)
		s->writer = pid;
}

static int tree_append(struct stream *s, const char *buf, size_t size);

/* Hashes @buf and sends it (or keeps it as the head until the format is
 * known). */
static int append(struct stream *s, const char *buf, size_t size)
{
	int rc;

	/* A registry that cannot take it only loses the progress line. */
	if (!s->xfer && !s->offset)
		(void)transfers_add(s->p->transfers, TRANSFER_UP, s->path,
				    source_size(s->writer, (off_t)size), clock_now_ms(), &s->xfer);
	if (s->tree)
		return tree_append(s, buf, size);
	s->offset += (off_t)size;
	if (!s->created) {
		digest_image(s, buf, size);
		if (buf_add(&s->head, buf, size))
			return fail(s, -ENOMEM);
		if (s->head.len < STREAM_HEAD_BYTES)
			return 0;
		rc = start_upload(s);
	} else {
		/* Hashed while the socket drains, not before it is fed. */
		rc = http_stream_write_with(s->http, buf, size, timeout_ms(s), digest_image, s);
	}
	/* Sent (or taken as the head, which goes at the next step). */
	transfer_progress(s->xfer, s->offset, clock_now_ms());
	if (rc) {
		log_cloud_error("%s/%s: upload failed after %lld bytes: %s; the image is deleted",
				s->c->name, s->name, (long long)s->offset, strerror(-rc));
		return fail(s, rc);
	}
	return 0;
}

/* True when @pid is closing its files because a signal is killing it. */
static bool writer_was_killed(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long flags = 0;
	long exit_code = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	p = p ? strrchr(line, ')') : NULL;
	if (!p)
		return false;
	/* Fields after ") ": state(3) ... flags(9) ... exit_code(52). */
	for (int field = 3; p && field <= 52; field++) {
		p = strchr(p + 1, ' ');
		if (p && field == 9)
			flags = strtoul(p + 1, NULL, 10);
		if (p && field == 52)
			exit_code = strtol(p + 1, NULL, 10);
	}
	return (flags & STREAM_PF_EXITING) && (exit_code & 0x7f);
}

static void hex(EVP_MD_CTX *ctx, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_DigestFinal_ex(ctx, md, &n);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[2 * n] = '\0';
}

/* A complete member loses its upload marker; if the cloud refuses, it
 * keeps it (harmless: only members still without data are ever cleaned by
 * it). *doc may become the cloud's newer answer. */
static void unmark(struct stream *s, json_t **doc)
{
	struct svc_call x = { s->p, s->c };
	int rc =
		s->c->stream->unmark ? s->c->stream->unmark(&x, s->id, LEFTOVERS_PROPERTY, doc) : 0;

	if (rc)
		log_warn("%s/%s: could not remove the %s property: %s", s->c->name, s->name,
			 LEFTOVERS_PROPERTY, strerror(-rc));
}

/* The first digest @doc states that the bytes sent do not have (or that
 * it must state and does not), or NULL: the cloud must report exactly the
 * bytes we sent. @md5 and @sha are theirs. */
static const struct data_digest *wrong_digest(const struct stream *s, const json_t *doc,
					      const char *md5, const char *sha,
					      struct data_digest *d)
{
	size_t n = doc ? s->c->stream->digests(doc, d) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *ours = !strcmp(d[i].algo, "md5")	  ? md5
				   : !strcmp(d[i].algo, "sha512") ? sha
								  : NULL;

		if (d[i].hex ? ours && strcmp(d[i].hex, ours) : d[i].required)
			return &d[i];
	}
	return NULL;
}

static int verify(struct stream *s)
{
	char md5[2 * EVP_MAX_MD_SIZE + 1], sha[2 * EVP_MAX_MD_SIZE + 1];
	struct data_digest d[DATA_DIGESTS_MAX];
	const struct data_digest *bad;
	json_t *doc = NULL;
	int rc;

	hex(s->md5, md5);
	hex(s->sha512, sha);
	rc = api_get_item(s->p->sess, s->c, s->id, &doc);
	if (rc)
		return rc;
	bad = wrong_digest(s, doc, md5, sha, d);
	if (!doc || bad) {
		log_cloud_error("%s/%s: the cloud's %s checksum %s differs from the %lld bytes "
				"sent (md5 %s)",
				s->c->name, s->name, bad ? bad->algo : "md5",
				bad && bad->hex ? bad->hex : "(none)", (long long)s->offset, md5);
		rc = -EIO;
	} else {
		unmark(s, &doc);
		model_learn(s->p, s->c, doc);
	}
	json_decref(doc);
	return rc;
}

static int tree_finish(struct stream *s);

int stream_finish(struct stream *s, pid_t pid)
{
	int rc;

	if (!s->upload)
		return 0;
	if (s->finished)
		return s->result;
	/* A flush before the first byte (a dup'ed descriptor closing) ends
	 * nothing; an empty image is made when the file is released. */
	if (!s->created && !s->streaming && s->offset == 0 && pid)
		return 0;
	s->finished = true;
	if (s->failed)
		return s->result = s->failed;
	if (writer_was_killed(pid)) {
		if (s->tree)
			log_cloud_error("%s: the writer was killed after %lld bytes; nothing of it "
					"is kept",
					s->path, (long long)s->offset);
		else
			log_cloud_error(
				"%s/%s: the writer was killed after %lld bytes; the image is deleted",
				s->c->name, s->name, (long long)s->offset);
		return s->result = fail(s, -EINTR);
	}
	transfer_set_phase(s->xfer, TRANSFER_FINISHING);
	if (s->tree) {
		rc = tree_finish(s);
		if (rc)
			return s->result = fail(s, rc);
		transfer_end(s->xfer, 0, clock_now_ms());
		s->xfer = NULL;
		return s->result = 0;
	}
	if (!s->created) {
		rc = start_upload(s);
		if (rc)
			return s->result = fail(s, rc);
	}
	rc = api_stream_finish(s->p->sess, s->http, s->c->stream->upload_method, timeout_ms(s));
	http_stream_free(s->http);
	s->http = NULL;
	if (!rc)
		rc = verify(s);
	if (rc)
		return s->result = fail(s, rc);
	model_forget(s->p, s->c, NULL);
	log_info("uploaded %s/%s (%s): %lld bytes", s->c->name, s->name, s->id,
		 (long long)s->offset);
	transfer_end(s->xfer, 0, clock_now_ms());
	s->xfer = NULL;
	return s->result = 0;
}

bool stream_completed(const struct stream *s)
{
	return s->upload && s->finished && s->result == 0;
}

void stream_abort(struct stream *s)
{
	if (!s || !s->upload)
		return;
	/* Never flushed with data: an empty file makes an empty image. */
	if (!s->finished && !s->created && !s->streaming && s->offset == 0 && !s->failed &&
	    !stream_finish(s, 0))
		return;
	if (!(s->finished && s->result == 0))
		fail(s, -EINTR);
}

/* ---- member tree files ------------------------------------------------ */
/*
 * A file of a member's tree (objects/): kept in memory up to a threshold
 * (at most STREAM_TREE_BUFFER), then one PUT with its MD5 in an ETag
 * header, which the cloud checks. Past it, streamed in parts of the
 * service's part size, each a PUT whose answer's ETag must be the MD5 of
 * what was sent, then committed as one file (a Swift SLO manifest) whose
 * ETag must be the MD5 of the parts' MD5s. A failure deletes the parts
 * sent; nothing is committed, so the name keeps what it had.
 */

int stream_tree_upload_new(struct project *p, const char *path, struct stream **out)
{
	struct node parent, n;
	struct tree_path tp;
	struct stream *s = NULL;
	char *slash;
	int rc = tree_parse(path, &tp);

	if (rc)
		return rc;
	if (tp.kind != TREE_ATTR || tp.nattrs < 2) {
		tree_path_free(&tp);
		return -EACCES;
	}
	{
		char *dir = strdup(path);

		slash = dir ? strrchr(dir, '/') : NULL;
		if (!slash) {
			free(dir);
			tree_path_free(&tp);
			return -ENOMEM;
		}
		*slash = '\0';
		rc = model_resolve(p, dir, &parent);
		free(dir);
	}
	if (rc) {
		tree_path_free(&tp);
		return rc;
	}
	if (!parent.tree || parent.type != NODE_DIR) {
		rc = -EACCES;
		goto out;
	}
	rc = stream_new(p, true, &s);
	if (rc)
		goto out;
	s->tree = true;
	s->c = parent.tp.coll;
	s->part_size = -1;
	snprintf(s->id, sizeof(s->id), "%s", parent.id);
	s->path = strdup(path);
	if (asprintf(&s->tpath, "%s%s", parent.tpath, tp.attrs[tp.nattrs - 1]) < 0)
		s->tpath = NULL;
	s->md5 = EVP_MD_CTX_new();
	if (!s->path || !s->tpath || !s->md5 || !EVP_DigestInit_ex(s->md5, EVP_md5(), NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	/* A name the cloud cannot hold fails the open, not the close. */
	if (model_tree_def(s->c, NULL)->check_name) {
		struct svc_call x = { p, s->c };

		rc = model_tree_def(s->c, NULL)->check_name(&x, s->id, s->tpath);
		if (rc)
			goto out;
	}
	/* An existing file is replaced: what it leaves (a large file's old
	 * parts) is asked of the service before the new one lands. */
	if (!model_resolve(p, path, &n)) {
		s->existed = n.tree && n.type == NODE_FILE;
		model_node_release(&n);
	}
	/* Unique per upload: parts of two uploads of one name never mix. */
	{
		static atomic_uint seq;

		unsigned salt = 0;

		/* The salt: two hosts' uploads (marks included) never share one. */
		if (getrandom(&salt, sizeof(salt), GRND_NONBLOCK) != sizeof(salt))
			salt = (unsigned)clock_now_ms();
		snprintf(s->stamp, sizeof(s->stamp), "%lld-%d-%u-%08x", (long long)clock_wall_s(),
			 (int)getpid(), atomic_fetch_add(&seq, 1), salt);
	}
	buf_free(&s->head);
	buf_init(&s->head, STREAM_TREE_BUFFER);
out:
	if (rc) {
		stream_free(s);
		s = NULL;
	}
	*out = s;
	model_node_release(&parent);
	tree_path_free(&tp);
	return rc;
}

static void hex(EVP_MD_CTX *ctx, char *out);

/* Sent parts are deleted; those the cloud will not delete are reported
 * (.cloudfs/errors) with their paths. */
static void tree_clean(struct stream *s)
{
	struct svc_call x = { s->p, s->c };
	const int64_t deadline = clock_now_ms() + timeout_ms(s);
	bool owed = false;

	/* The part being sent when it failed may have landed whole. */
	if (s->part_open) {
		s->nparts++;
		s->part_open = false;
	}
	for (size_t i = 0; i < s->nparts; i++) {
		int rc = svc_cleanup_delete(&x, s->parts[i].path);

		/* Retried every 200 ms within `timeout`, as an image's DELETE;
		 * gone already (404) is done. */
		while (rc && rc != -ENOENT && clock_now_ms() + 200 < deadline) {
			clock_sleep_ms(200);
			rc = svc_cleanup_delete(&x, s->parts[i].path);
		}

		/* Then owed: retried in the background (.cloudfs/status). */
		if (rc && rc != -ENOENT) {
			log_cloud_error("%s: part %s of a failed upload could not be deleted (%s); "
					"retrying in the background (see .cloudfs/status)",
					s->path, s->parts[i].path, strerror(-rc));
			leftovers_owe_path(s->p->leftovers, s->c, s->parts[i].path, s->stamp,
					   s->path, false);
			owed = true;
		}
		free(s->parts[i].path);
	}
	s->nparts = 0;
	s->streaming = false;
	/* The mark goes last: while a part is owed, it lets a later mount
	 * finish the cleanup should this process die first. */
	if (s->mark_path && (owed || svc_cleanup_delete(&x, s->mark_path)))
		leftovers_owe_path(s->p->leftovers, s->c, s->mark_path, s->stamp, s->path, true);
	free(s->mark_path);
	s->mark_path = NULL;
}

/* Opens the stream the bytes past the threshold go to: the next part, or
 * (no parts) the file itself. */
static int tree_open(struct stream *s)
{
	static const char *const hdrs[] = { "Content-Type: application/octet-stream", NULL };
	struct svc_call x = { s->p, s->c };
	const char *h[API_MAX_HEADERS + 1] = { NULL };
	size_t nh = 0;
	char *path;
	int rc;

	if (s->direct) {
		path = model_tree_def(s->c, NULL)->data_path(s->id, s->tpath);
		for (const char *const *e = model_tree_def(s->c, NULL)->put_headers;
		     e && *e && nh < API_MAX_HEADERS; e++)
			h[nh++] = *e;
	} else {
		if (s->nparts == s->cap_parts) {
			size_t cap = s->cap_parts ? 2 * s->cap_parts : 16;
			struct tree_part *np = realloc(s->parts, cap * sizeof(*np));

			if (!np)
				return -ENOMEM;
			s->parts = np;
			s->cap_parts = cap;
		}
		errno = 0;
		path = model_tree_def(s->c, NULL)
			       ->part_path(&x, s->id, s->tpath, s->stamp, (unsigned)s->nparts);
		if (!path)
			return errno ? -errno : -ENOMEM;
		/* Marked before the first part: a killed daemon's parts are
		 * found and deleted by a later mount (leftovers.c). */
		if (!s->nparts && !s->mark_path && model_tree_def(s->c, NULL)->mark_parts) {
			rc = model_tree_def(s->c, NULL)
				     ->mark_parts(&x, s->id, s->tpath, s->stamp,
						  leftovers_marker(s->p->leftovers), NULL,
						  &s->mark_path);
			if (rc) {
				free(path);
				return rc;
			}
		}
	}
	if (!path)
		return -ENOMEM;
	if (nh < API_MAX_HEADERS)
		h[nh++] = hdrs[0];
	if (!s->part_md5)
		s->part_md5 = EVP_MD_CTX_new();
	if (!s->part_md5 || !EVP_DigestInit_ex(s->part_md5, EVP_md5(), NULL)) {
		free(path);
		return -ENOMEM;
	}
	rc = api_stream_open(s->p->sess, s->c->service, "PUT", path, h, true, &s->http);
	if (!rc && !s->direct) {
		s->parts[s->nparts].path = path;
		s->parts[s->nparts].size = 0;
		s->parts[s->nparts].md5[0] = '\0';
		s->part_open = true;
		path = NULL;
	}
	free(path);
	s->part_bytes = 0;
	return rc;
}

/* Ends the part (or direct PUT) being sent: its answer's ETag must be the
 * MD5 of what was sent. */
static int tree_close_part(struct stream *s)
{
	char want[2 * EVP_MAX_MD_SIZE + 1], got[80];
	int rc;

	rc = api_stream_finish_etag(s->p->sess, s->http, "PUT", timeout_ms(s), got, sizeof(got));
	http_stream_free(s->http);
	s->http = NULL;
	snprintf(s->etag, sizeof(s->etag), "%s", got);
	if (rc)
		return rc;
	hex(s->part_md5, want);
	if (s->direct) {
		/* The one PUT's MD5 is the whole file's: tree_finish() checks it. */
		snprintf(s->direct_md5, sizeof(s->direct_md5), "%s", want);
		return 0;
	}
	/* Kept (to delete it on failure) before it is checked. */
	snprintf(s->parts[s->nparts].md5, sizeof(s->parts[s->nparts].md5), "%.32s", want);
	s->parts[s->nparts].size = s->part_bytes;
	s->nparts++;
	s->part_open = false;
	if (strcasecmp(got, want)) {
		log_cloud_error("%s: part %zu: the cloud's ETag %s is not the MD5 %s of the %lld "
				"bytes sent",
				s->path, s->nparts - 1, got[0] ? got : "(none)", want,
				(long long)s->part_bytes);
		return -EIO;
	}
	return 0;
}

static int tree_send(struct stream *s, const char *buf, size_t size)
{
	int rc = 0;

	while (!rc && size) {
		size_t n = size;

		if (!s->http)
			rc = tree_open(s);
		if (rc)
			break;
		if (!s->direct && (int64_t)n > s->part_size - s->part_bytes)
			n = (size_t)(s->part_size - s->part_bytes);
		/* Hashed while the socket drains, not before it is fed. */
		rc = http_stream_write_with(s->http, buf, n, timeout_ms(s), digest_part, s);
		if (rc)
			break;
		s->part_bytes += (int64_t)n;
		buf += n;
		size -= n;
		if (!s->direct && s->part_bytes == s->part_size)
			rc = tree_close_part(s);
	}
	return rc;
}

static int tree_append(struct stream *s, const char *buf, size_t size)
{
	struct svc_call x = { s->p, s->c };
	int rc = 0;

	if (s->part_size < 0) {
		int64_t ps = model_tree_def(s->c, NULL)->part_size
				     ? model_tree_def(s->c, NULL)->part_size(&x)
				     : 0;

		if (ps < 0)
			return fail(s, (int)ps);
		s->part_size = ps;
		ps = model_tree_def(s->c, NULL)->size_limit
			     ? model_tree_def(s->c, NULL)->size_limit(&x)
			     : 0;
		if (ps < 0)
			return fail(s, (int)ps);
		s->size_limit = ps;
		s->threshold = s->part_size > 0 && s->part_size < STREAM_TREE_BUFFER
				       ? (size_t)s->part_size
				       : STREAM_TREE_BUFFER;
	}
	/* Past what the cloud can hold: refused at this write, not after
	 * the bytes before it were sent for nothing. */
	if (s->size_limit && s->offset + (off_t)size > s->size_limit) {
		log_cloud_error("%s: %lld bytes is more than the cloud takes in one file (%lld)",
				s->path, (long long)(s->offset + (off_t)size),
				(long long)s->size_limit);
		return fail(s, -EFBIG);
	}
	s->offset += (off_t)size;
	if (!s->streaming && s->head.len + size <= s->threshold) {
		if (buf_add(&s->head, buf, size))
			return fail(s, -ENOMEM);
		transfer_progress(s->xfer, s->offset, clock_now_ms());
		return 0;
	}
	if (!s->streaming) {
		/* Past the threshold: streamed from now on, the kept bytes
		 * first. */
		s->streaming = true;
		s->direct = s->part_size == 0;
		rc = tree_send(s, s->head.data, s->head.len);
		buf_free(&s->head);
		buf_init(&s->head, 0);
	}
	if (!rc)
		rc = tree_send(s, buf, size);
	transfer_progress(s->xfer, s->offset, clock_now_ms());
	if (rc) {
		log_cloud_error("%s: upload failed after %lld bytes: %s; nothing of it is kept",
				s->path, (long long)s->offset, strerror(-rc));
		return fail(s, rc);
	}
	return 0;
}

static int tree_finish(struct stream *s)
{
	struct svc_call x = { s->p, s->c };
	const struct tree_def *t = model_tree_def(s->c, NULL);
	char md5[2 * EVP_MAX_MD_SIZE + 1] = "", etag[80] = "", *path = NULL;
	struct json_t *old = NULL;
	int rc = 0;

	/* The whole file's MD5 is hashed once: a small file's here, a
	 * streamed one's as its part (the one PUT, or each segment). */
	if (!s->streaming) {
		EVP_DigestUpdate(s->md5, s->head.data ? s->head.data : "", s->head.len);
		hex(s->md5, md5);
	}
	/* What an existing file leaves (its old parts) is asked before it is
	 * replaced, and cleaned only once the new one has landed. */
	if (s->existed && t->replacing)
		old = t->replacing(&x, s->id, s->tpath);
	/* ...and noted in the upload's mark before the new one lands: a
	 * process killed after the landing, before the cleaning, leaves the
	 * mark, and a later mount cleans what it names (at_start). */
	if (old && t->mark_parts) {
		rc = t->mark_parts(&x, s->id, s->tpath, s->stamp, leftovers_marker(s->p->leftovers),
				   old, &s->mark_path);
		if (rc) {
			json_decref(old);
			return rc;
		}
	}
	if (!s->streaming) {
		/* One PUT with the MD5: the cloud refuses other bytes (422). */
		struct svc_answer a;
		const char *h[API_MAX_HEADERS + 1] = { NULL };
		char tag[64];
		size_t nh = 0;

		snprintf(tag, sizeof(tag), "ETag: %.32s", md5);
		for (const char *const *e = t->put_headers; e && *e && nh < API_MAX_HEADERS - 1;
		     e++)
			h[nh++] = *e;
		h[nh++] = tag;
		path = t->data_path(s->id, s->tpath);
		rc = path ? svc_request(&x, "PUT", path, h, s->head.data ? s->head.data : "",
					s->head.len, "application/octet-stream", &a)
			  : -ENOMEM;
		if (!rc)
			snprintf(etag, sizeof(etag), "%s", a.etag);
		svc_answer_free(&a);
		if (!rc && etag[0] && strcasecmp(etag, md5)) {
			log_cloud_error(
				"%s: the cloud's ETag %s is not the MD5 %s of the bytes sent",
				s->path, etag, md5);
			rc = -EIO;
		}
	} else {
		if (s->http)
			rc = tree_close_part(s);
		if (s->direct)
			snprintf(md5, sizeof(md5), "%s", s->direct_md5);
		/* One streamed PUT: Swift's ETag is the MD5 of what it got.
		 * Other bytes are in the cloud under the name: removed. */
		if (!rc && s->direct && strcasecmp(s->etag, md5)) {
			log_cloud_error(
				"%s: the cloud's ETag %s is not the MD5 %s of the %lld bytes "
				"sent; the file is deleted",
				s->path, s->etag[0] ? s->etag : "(none)", md5,
				(long long)s->offset);
			path = t->data_path(s->id, s->tpath);
			if (path && svc_cleanup_delete(&x, path))
				log_cloud_error("%s: the wrong bytes could not be deleted",
						s->path);
			free(path);
			path = NULL;
			rc = -EIO;
		}
		if (!rc && !s->direct) {
			/* The large file's ETag: the MD5 of its parts' MD5s. */
			EVP_MD_CTX *all = EVP_MD_CTX_new();
			char want[2 * EVP_MAX_MD_SIZE + 1];

			if (!all || !EVP_DigestInit_ex(all, EVP_md5(), NULL)) {
				EVP_MD_CTX_free(all);
				rc = -ENOMEM;
			} else {
				for (size_t i = 0; i < s->nparts; i++)
					EVP_DigestUpdate(all, s->parts[i].md5, 32);
				hex(all, want);
				EVP_MD_CTX_free(all);
				rc = t->parts_commit(&x, s->id, s->tpath, s->parts, s->nparts, etag,
						     sizeof(etag));
				if (!rc && strcasecmp(etag, want)) {
					log_cloud_error(
						"%s: the cloud's ETag %s for the %zu parts is not %s",
						s->path, etag, s->nparts, want);
					rc = -EIO;
				}
			}
		}
	}
	free(path);
	if (rc) {
		json_decref(old);
		return rc;
	}
	/* What the old file left that the cloud would not delete stays
	 * named by the mark: a later mount deletes it. */
	if (old && t->replaced && t->replaced(&x, s->id, s->tpath, old)) {
		log_info("%s: its upload mark %s stays, for a later mount to delete what the "
			 "replaced file left",
			 s->path, s->mark_path ? s->mark_path : "-");
	} else {
		if (old && !t->replaced)
			json_decref(old);
		/* The parts belong to the file now: unmarked (a mark left is
		 * harmless: a later mount finds its file landed and removes
		 * it). */
		if (s->mark_path && svc_cleanup_delete(&x, s->mark_path))
			log_info("%s: its upload mark %s stays until a later mount", s->path,
				 s->mark_path);
	}
	for (size_t i = 0; i < s->nparts; i++)
		free(s->parts[i].path);
	s->nparts = 0;
	free(s->mark_path);
	s->mark_path = NULL;
	buf_free(&s->head);
	model_tree_note(s->p, s->c, s->id, s->tpath, false, (int64_t)s->offset,
			s->streaming && !s->direct ? NULL : md5);
	/* Attributes set while it was written, now that it exists: a failure
	 * fails close(2) (the bytes are in; the metadata asked for is not). */
	{
		json_t *xa = model_pending_take_xattrs(s->p, s->path);
		const char *name;
		json_t *v;

		json_object_foreach(xa, name, v)
		{
			if (!rc && t->set_xattr)
				rc = t->set_xattr(&x, s->id, s->tpath, name, json_string_value(v),
						  json_string_length(v));
		}
		json_decref(xa);
		if (rc) {
			log_cloud_error(
				"%s: written, but its extended attributes could not be set: "
				"%s",
				s->path, strerror(-rc));
			return rc;
		}
	}
	log_info("uploaded %s: %lld bytes%s", s->path, (long long)s->offset,
		 s->streaming && !s->direct ? " (in parts)" : "");
	return 0;
}

/* ---- download --------------------------------------------------------- */

/* A download whose bytes are not the image's fails the read with EIO: the
 * reader must never be given wrong bytes, nor a short or long file. */
static int untrusted(struct stream *s, const char *what)
{
	log_cloud_error("%s: %s; the read fails (EIO)", s->path, what);
	s->broken = -EIO;
	return -EIO;
}

/* Reads and drops @len bytes of the answer (hashing them). */
static int skip_bytes(struct stream *s, off_t len)
{
	char *tmp = malloc(64 * 1024);
	int rc = 0;

	if (!tmp)
		return -ENOMEM;
	while (!rc && len > 0) {
		size_t want = len < 64 * 1024 ? (size_t)len : 64 * 1024;
		ssize_t n = api_stream_read(s->p->sess, s->http, tmp, want, timeout_ms(s));

		if (n < 0)
			rc = (int)n;
		else if (n == 0)
			rc = untrusted(s, "the answer ended before the requested offset");
		else {
			if (s->got_md)
				rc = hasher_add(s->got_md, tmp, (size_t)n);
			len -= n;
		}
	}
	free(tmp);
	return rc;
}

/* Opens the data at @off and checks the answer's head says it holds the
 * image's bytes from @off to its end: a 206 whose Content-Range is exactly
 * that, or a 200 with the whole image (a server that ignores Range: the
 * bytes before @off are read and dropped). Error answers are left to the
 * first read, which reports them with the cloud's message. */
static int open_download(struct stream *s, off_t off)
{
	struct http_stream_head h;
	char range[64], what[192];
	const char *hdrs[2] = { range, NULL };
	int rc;

	http_stream_free(s->http);
	s->http = NULL;
	hasher_free(s->got_md);
	s->got_md = NULL;
	snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)off);
	s->offset = off;
	rc = api_stream_open(s->p->sess, s->c->service, "GET", s->file_path, off ? hdrs : NULL,
			     false, &s->http);
	if (!rc)
		rc = http_stream_head(s->http, timeout_ms(s), &h);
	if (rc || h.status < 200 || h.status >= 300)
		return rc;
	if (h.status == 206) {
		if (!h.range_ok || h.range_first != off || h.range_last != s->size - 1 ||
		    (h.range_total >= 0 && h.range_total != s->size) ||
		    (h.content_length >= 0 && h.content_length != s->size - off)) {
			snprintf(what, sizeof(what),
				 "asked for bytes %lld- of %lld, the cloud answered 206 with %s",
				 (long long)off, (long long)s->size,
				 h.has_range ? "another Content-Range" : "no Content-Range");
			return untrusted(s, what);
		}
		return 0;
	}
	if (h.status != 200 || (h.content_length >= 0 && h.content_length != s->size)) {
		snprintf(what, sizeof(what),
			 "the cloud answered %ld with %lld bytes for a file of %lld", h.status,
			 h.content_length, (long long)s->size);
		return untrusted(s, what);
	}
	/* The whole image: its digest can be checked at the end. */
	if (s->want_md) {
		rc = hasher_new(&s->want_md, 1, &s->got_md);
		if (rc)
			return rc;
	}
	if (off) {
		log_info(
			"%s: the cloud ignored a Range request; dropping %lld bytes to reach the offset",
			s->path, (long long)off);
		rc = skip_bytes(s, off);
	}
	return rc;
}

/* The answer has given all the image's bytes: it must end there, and match
 * the cloud's digest when it held the whole image. */
static int check_end(struct stream *s)
{
	char extra, got[2 * EVP_MAX_MD_SIZE + 1];
	ssize_t n = api_stream_read(s->p->sess, s->http, &extra, 1, timeout_ms(s));

	if (n < 0)
		return (int)n;
	if (n > 0)
		return untrusted(s, "the cloud sent more bytes than the file's size");
	if (s->got_md) {
		/* The one wait for the digest: its thread has the bytes
		 * the reads handed on, HASHER_BACKLOG at most. */
		int rc = hasher_finish(s->got_md);

		snprintf(got, sizeof(got), "%s", hasher_hex(s->got_md, 0));
		hasher_free(s->got_md);
		s->got_md = NULL;
		if (rc)
			return rc;
		if (strcmp(got, s->want_hex))
			return untrusted(
				s, "the bytes received do not match the checksum the cloud states");
	}
	return 0;
}

/* Gives the digest's thread the last @n bytes of @l where they lie (it
 * holds their blocks until hashed). A download has a thread for it, an
 * upload none: Glance serves faster (~1.2 GB/s) than SHA-512 runs here
 * (~860 MB/s), so hashed in the reader's thread the digest and the reply
 * took turns; an upload's cloud takes bytes slower than its digests run,
 * and http_stream_write_with() hashes them while the socket drains, which
 * costs no wall time and (on a machine the cloud shares) no CPU the cloud
 * needs: digest threads made image and Swift uploads 10-50% slower. */
static int hash_last(struct hasher *md, const struct loan *l, size_t n)
{
	size_t at = 0, from = l->len - n;
	int rc = 0;

	for (int i = 0; !rc && i < l->n; i++) {
		size_t len = l->iov[i].iov_len;

		if (at + len > from) {
			size_t skip = from > at ? from - at : 0;
			size_t off = (size_t)((char *)l->iov[i].iov_base - l->b[i]->mem) + skip;

			rc = hasher_add_block(md, l->b[i], off, len - skip);
		}
		at += len;
	}
	return rc;
}

int stream_read(struct stream *s, struct loan *l, size_t size, off_t off)
{
	size_t got = 0;
	int rc = 0;

	if (s->upload)
		return -EBADF;
	if (s->broken)
		return s->broken;
	if (off >= s->size || !size)
		return 0;
	/* A loan of this many bytes never runs out of parts (FUSE asks for
	 * 1 MiB at most). */
	if (size > STREAM_READ_MAX)
		size = STREAM_READ_MAX;
	if ((off_t)size > s->size - off)
		size = (size_t)(s->size - off);
	if (!s->xfer)
		(void)transfers_add(s->p->transfers, TRANSFER_DOWN, s->path, (int64_t)s->size,
				    clock_now_ms(), &s->xfer);
	if (!s->http || off != s->offset) {
		rc = open_download(s, off);
		if (rc)
			goto fail;
	}
	while (got < size) {
		ssize_t n = api_stream_read_loan(s->p->sess, s->http, size - got, l, timeout_ms(s));

		if (n < 0)
			rc = (int)n;
		if (n == 0)
			rc = untrusted(s, "the answer ended before the file's size");
		if (n <= 0)
			break;
		got += (size_t)n;
		if (s->got_md) {
			rc = hash_last(s->got_md, l, (size_t)n);
			if (rc)
				break;
		}
	}
	s->offset += (off_t)got;
	transfer_progress(s->xfer, (int64_t)s->offset, clock_now_ms());
	if (!rc && s->offset == s->size) {
		rc = check_end(s);
		/* Every byte given and checked: done, though the reader has not
		 * closed yet (a read elsewhere after this is a new transfer). */
		if (!rc) {
			transfer_end(s->xfer, 0, clock_now_ms());
			s->xfer = NULL;
		}
	}
	/* Bytes that may not be the image's are never handed on; good ones
	 * before a stall or a cut are, and the error comes at the next read. */
	if (rc && got && s->broken != -EIO) {
		if (rc != -EINTR)
			s->broken = rc;
		http_stream_free(s->http);
		s->http = NULL;
		rc = 0;
	}
	if (rc) {
		loan_release(l);
		goto fail;
	}
	return (int)got;
fail:
	http_stream_free(s->http);
	s->http = NULL;
	if (rc != -EINTR && !s->broken)
		s->broken = rc;
	return rc;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	/* A download ends with its file; an upload has ended in finish or
	 * fail already (one that has not is not done). */
	if (s->upload)
		transfer_end(s->xfer,
			     stream_completed(s) ? 0
			     : s->failed	 ? s->failed
						 : -EINTR,
			     clock_now_ms());
	else
		transfer_end(s->xfer,
			     s->broken		    ? s->broken
			     : s->offset == s->size ? 0
						    : TRANSFER_STOPPED,
			     clock_now_ms());
	free(s->path);
	http_stream_free(s->http);
	if (s->held)
		projects_leave(s->p);
	hasher_free(s->got_md);
	EVP_MD_CTX_free(s->md5);
	EVP_MD_CTX_free(s->sha512);
	EVP_MD_CTX_free(s->part_md5);
	for (size_t i = 0; i < s->nparts + (s->part_open ? 1 : 0); i++)
		free(s->parts[i].path);
	free(s->parts);
	free(s->mark_path);
	free(s->tpath);
	buf_free(&s->head);
	free(s->file_path);
	free(s->name);
	free(s);
}

/* A stream keeps its project (a member of projects/) until it is freed. */
int stream_upload_new(struct project *root, const char *path, struct stream **out)
{
	struct project *p;
	const char *sub;
	int rc = projects_enter(root, path, false, false, &p, &sub);

	if (rc)
		return rc;
	rc = stream_upload_new_in(p, sub, out);
	if (rc)
		projects_leave(p);
	else
		(*out)->held = true;
	return rc;
}

int stream_download_new(struct project *root, const char *path, struct stream **out)
{
	struct project *p;
	const char *sub;
	int rc = projects_enter(root, path, false, false, &p, &sub);

	if (rc)
		return rc;
	rc = stream_download_new_in(p, sub, out);
	if (rc)
		projects_leave(p);
	else
		(*out)->held = true;
	return rc;
}
