/* SPDX-License-Identifier: MIT */
/*
 * Open files, without FUSE: what an open file descriptor of the mount means
 * from open(2) to the last close(2). A reader's snapshot (or an unchanged
 * version's cached text, rendered only if a READ comes), ESTALE when the
 * file changed since its name was looked up, a writer's buffer committed at
 * flush (so close(2) reports the cloud's verdict), at the write that
 * completes a JSON spec or per complete line for commands (so write(2)
 * does: a shell ignores close(2) of echo), the failure that ends a file's
 * use, one resource per created spec however many descriptors close it,
 * image data and a member tree's files streamed both ways (stream.h), and
 * the parked read of a "wait" file.
 * Layer: core, called by src/fuse/fs.c; calls the model, inodes and stream.
 *
 * Locking: each handle has a lock held across each call below (and across
 * its HTTP), so a commit, a stream step or a read is one at a time per open
 * file (docs/ARCHITECTURE.md, the lock order). Calls on different handles
 * run in parallel.
 */
#ifndef CLOUDFS_HANDLE_H
#define CLOUDFS_HANDLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloudfs/inodes.h"
#include "cloudfs/loan.h"
#include "cloudfs/model.h"

/* Specs, attribute values and commands are small. */
#define HANDLE_WRITE_MAX (1u << 20)

struct handle;

/*
 * handle_open() - open @path (inode @ino of @t, content version @version, 0
 * when not versioned) with open(2) @flags.
 * Read-only: a snapshot of the file's bytes, or its data stream. A versioned
 * file whose cached text is the one its version was rendered from is not
 * rendered again (model_source()); one whose bytes are no longer @version
 * is -ESTALE: the caller's kernel looks the name up again.
 * A "wait" file opens at once; its first read waits (handle_read()).
 * Otherwise: a writer of an existing file (model_open_write()); a tree's
 * file without O_TRUNC opens, but its writes and truncates fail with
 * -EOPNOTSUPP and its close changes nothing (it is replaced whole).
 * Returns 0 and *@out (free with handle_close()), or -errno.
 */
int handle_open(struct project *p, struct inodes *t, uint64_t ino, const char *path,
		uint64_t version, int flags, struct handle **out) CFS_WARN_UNUSED;
/* create(2): a new file at @path (model_create()), pending until
 * handle_close(); a second create of a pending name is -EEXIST. */
int handle_create(struct project *p, const char *path, struct handle **out) CFS_WARN_UNUSED;

/* A version's bytes never change: the kernel may keep them in its page
 * cache. Every other file is read with direct I/O. */
bool handle_versioned(const struct handle *h);
/* Opened for writing: a flush may commit. A reader needs no flush. */
bool handle_writing(const struct handle *h);
/* The open learned the file's size (a 0-byte file of a listing that holds
 * more): the kernel's attributes of it are being invalidated. */
bool handle_resized(const struct handle *h);

/* Called with a version's bytes to put them in the kernel's page cache. */
typedef void (*handle_store_fn)(void *ctx, uint64_t ino, const void *data, size_t len);
/* At a version's first open, before it is answered: hands its bytes to
 * @store (other opens of @ino wait meanwhile, inodes_fill_begin()). A
 * no-op for the later opens and for handles not versioned. */
void handle_fill(struct handle *h, struct inodes *t, uint64_t ino, handle_store_fn store,
		 void *ctx);

/* Up to @size bytes at @off in *@data (to free()); returns their count, 0
 * at the end, or -errno. -EINPROGRESS: a "wait" file whose wait has not
 * ended; the caller parks the read (handle_wait_start()) and answers it
 * with handle_waited(). */
int handle_read(struct handle *h, size_t size, off_t off, char **data) CFS_WARN_UNUSED;
/* The same, but a download's bytes are lent into @l (empty on entry;
 * loan.h) where they were received, with *@data NULL: the caller replies
 * from @l and then loan_release()s it, from any thread, even after the
 * handle is freed. Other files' bytes come in *@data as above. */
int handle_read_loan(struct handle *h, size_t size, off_t off, char **data,
		     struct loan *l) CFS_WARN_UNUSED;
/* A parked read's wait (model_wait_start() of the handle's path): @done is
 * called once, from the waits thread, with no lock held. No thread is held
 * meanwhile, so a hundred waiting scripts hold none of the caller's. */
int handle_wait_start(struct handle *h, model_wait_fn done, void *ctx,
		      struct model_wait **w) CFS_WARN_UNUSED;
/* Ctrl-C: ends the wait @w with -EINTR (its @done still runs, once). */
void handle_wait_cancel(struct handle *h, struct model_wait *w);
/* From @done: the wait's result @rc and status @text (@len bytes) become
 * the file's bytes (the first status kept, should two reads be parked);
 * then as handle_read() for @size bytes at @off. */
int handle_waited(struct handle *h, int rc, const char *text, size_t len, size_t size, off_t off,
		  char **data) CFS_WARN_UNUSED;
/* Buffers @size bytes at @off (@pid: the writer, for an upload's total);
 * a command runs once its line is complete. A JSON spec (model_write_form())
 * is committed by the write that completes its object, which returns the
 * cloud's verdict (*@made as for handle_flush()); a write that makes the
 * bytes impossible JSON is -EINVAL at once, nothing sent; after the object
 * only whitespace is accepted (else -EINVAL). Returns @size or -errno:
 * -EBADF on a reader, -EFBIG past HANDLE_WRITE_MAX, -EEXIST after a spec
 * was committed, the failure that ended the file's use. */
int handle_write(struct handle *h, const char *buf, size_t size, off_t off, pid_t pid,
		 bool *made) CFS_WARN_UNUSED;
/* close(2) of one descriptor: commits what was written since the last
 * commit (one request), and returns the cloud's verdict. A flush with
 * nothing new is 0, and a refused value is not sent again: a later flush
 * returns the same error. @pid: the closing process (an upload is
 * abandoned if it is dying of a signal). *@made: this flush made the
 * resource a created name stood for (the name is no longer pending: the
 * caller lets the kernel forget the file before answering, so the next
 * command finds the directory). */
int handle_flush(struct handle *h, pid_t pid, bool *made) CFS_WARN_UNUSED;
/* truncate(2) to @size of @path, through open handle @h or none (NULL). */
int handle_truncate(struct project *p, const char *path, struct handle *h,
		    off_t size) CFS_WARN_UNUSED;
/* The size of what an open file holds (a writer's bytes so far); false for
 * a data stream, whose size is the model's. */
bool handle_size(struct handle *h, off_t *size);

/* The last close (release): an upload not finished leaves nothing; a new
 * spec closed without a byte creates with an empty spec; a created name
 * stops being pending. Frees @h. */
void handle_close(struct handle *h);
/* The session has ended with @h still open: nothing is committed, an
 * upload is abandoned. Frees @h. */
void handle_discard(struct handle *h);

#endif
