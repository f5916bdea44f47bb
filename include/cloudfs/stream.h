/* SPDX-License-Identifier: MIT */
/*
 * Member data, streamed both ways. An upload creates the member (an image)
 * when its first bytes arrive (their signature decides its format), streams
 * the rest as the kernel delivers it, checks the digests the cloud states
 * against what was sent, and deletes the member on any failure; what is the
 * service's is its data_stream_def (service.h). A download streams
 * images/<id>/data, restarting with a Range request when a reader seeks.
 * Layer: model (beside model_write.c); uses api streams.
 */
#ifndef CLOUDFS_STREAM_H
#define CLOUDFS_STREAM_H

#include <sys/types.h>

#include "cloudfs/http.h"
#include "cloudfs/loan.h"
#include "cloudfs/model.h"

struct stream;

/* images/<name> being created. */
int stream_upload_new(struct project *p, const char *path, struct stream **out) CFS_WARN_UNUSED;
/* A file of a member's tree (objects/...) being written: replaces the
 * file whole (a small one at close, a large one in parts as it comes). */
int stream_tree_upload_new(struct project *p, const char *path,
			   struct stream **out) CFS_WARN_UNUSED;
/* images/<id>/data or a member tree's file; -ENOTSUP for any other path
 * (not a stream). */
int stream_download_new(struct project *p, const char *path, struct stream **out) CFS_WARN_UNUSED;

/* The process writing (its first), whose source file gives the total that
 * .cloudfs/transfers shows. Cheap: looked at once, at the first byte. */
void stream_note_writer(struct stream *s, pid_t pid);
/* Writes in order; a forward gap (a sparse copy's hole) is sent as zeros,
 * a backward write fails with -EINVAL (and the upload is abandoned).
 * Returns @size or -errno. */
int stream_write(struct stream *s, const char *buf, size_t size, off_t off);
/* ftruncate(2) while uploading: growing sends zeros; shrinking fails. */
int stream_truncate(struct stream *s, off_t size);
/* Completes an upload: 0 only when Glance holds exactly the bytes sent.
 * @pid is the closing process: if it is dying of a signal, the upload was
 * cut off and is abandoned instead. Later calls return the same result.
 * Before the first byte it does nothing (a dup'ed descriptor closing). */
int stream_finish(struct stream *s, pid_t pid);
/* True once an upload has completed successfully. */
bool stream_completed(const struct stream *s);
/* Reads at any offset; returns bytes, 0 at the end, or -errno. The bytes
 * (all @size asked for, up to STREAM_READ_MAX and the end) are lent into
 * @l where the download received them: never copied here, and the caller
 * hands them on (fuse_reply_iov) and then loan_release()s @l, from any
 * thread, with or without the stream. On an error @l is left empty. */
int stream_read(struct stream *s, struct loan *l, size_t size, off_t off);
/* A read asks for at most this much: a loan of it never runs out of parts. */
#define STREAM_READ_MAX ((size_t)(LOAN_MAX - 1) * HTTP_STREAM_PIECE)
/* At release: an upload that did not finish successfully leaves no image
 * behind; one that never received a byte makes an empty image. */
void stream_abort(struct stream *s);
void stream_free(struct stream *s);

/* The disk_format a file starting with @head (@len bytes) has. Pure. */
const char *stream_detect_format(const unsigned char *head, size_t len);
/* Bytes of head stream_detect_format() wants to see (ISO's mark is at
 * 32769). */
#define STREAM_HEAD_BYTES (32769 + 5)

#endif
