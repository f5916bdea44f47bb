/*
 * floorfs -- the benchmark's floor: the least a FUSE filesystem can do.
 *
 * It serves the tree cloudfs's listing scenario reads, servers/<name>/status,
 * from memory: no network, no cache, no rendering.  Whatever `ls -l servers/;
 * cat servers/x/status` costs on it is what the kernel, libfuse and the VM
 * charge any FUSE filesystem for those files, so bench/run.sh sets cloudfs's
 * times next to it.  Same kernel settings as cloudfs's read-only files:
 * readdirplus, 60 s entry and attribute timeouts, keep_cache, and the same
 * workers: libfuse's 16 plus cloudfs's polling one (src/fuse/fs_poll.c).
 *
 *   floorfs [-o names=FILE] [-o no_open] [-o spin_us=US] [libfuse options]
 *           MOUNTPOINT
 *
 * names=FILE: one directory name per line (the listing's ids); default 1000
 * numbered ones.  no_open: answer OPEN with ENOSYS, which makes the kernel
 * stop sending OPEN and RELEASE for the whole connection -- the one way FUSE
 * has to skip a round trip per open, measured here to show what it is worth.
 */
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudfs/fs_poll.h"

#define TIMEOUT 60.0
static const char STATUS[] = "ACTIVE\n";

/* Node ids: 1 the root, 2 servers/, then 3 + 2i for name i and 4 + 2i for
 * its status. */
enum {
	ROOT = 1,
	SERVERS = 2,
	FIRST = 3
};

static struct {
	char **names; /* sorted, for bsearch */
	size_t n;
	int no_open;
} fl;

static int is_server(fuse_ino_t ino)
{
	return ino >= FIRST && (ino - FIRST) % 2 == 0 && (ino - FIRST) / 2 < fl.n;
}

static int is_status(fuse_ino_t ino)
{
	return ino > FIRST && (ino - FIRST) % 2 == 1 && (ino - FIRST) / 2 < fl.n;
}

static int stat_of(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == ROOT || ino == SERVERS || is_server(ino)) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else if (is_status(ino)) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = sizeof(STATUS) - 1;
	} else {
		return -ENOENT;
	}
	return 0;
}

static void entry_of(fuse_ino_t ino, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->attr_timeout = TIMEOUT;
	e->entry_timeout = TIMEOUT;
	stat_of(ino, &e->attr);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The child of `parent` called `name`, or 0. */
static fuse_ino_t child(fuse_ino_t parent, const char *name)
{
	char **hit;

	if (parent == ROOT)
		return strcmp(name, "servers") == 0 ? SERVERS : 0;
	if (parent == SERVERS) {
		hit = bsearch(&name, fl.names, fl.n, sizeof(*fl.names), cmp_name);
		return hit ? FIRST + 2 * (fuse_ino_t)(hit - fl.names) : 0;
	}
	if (is_server(parent) && strcmp(name, "status") == 0)
		return parent + 1;
	return 0;
}

static void fl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	fuse_ino_t ino = child(parent, name);

	if (!ino) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	entry_of(ino, &e);
	fuse_reply_entry(req, &e);
}

static void fl_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (stat_of(ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

/* Entry `i` of directory `dir`: its name and node id; 0 past the end. */
static fuse_ino_t dirent_at(fuse_ino_t dir, size_t i, const char **name)
{
	if (dir == ROOT && i == 0) {
		*name = "servers";
		return SERVERS;
	}
	if (dir == SERVERS && i < fl.n) {
		*name = fl.names[i];
		return FIRST + 2 * (fuse_ino_t)i;
	}
	if (is_server(dir) && i == 0) {
		*name = "status";
		return dir + 1;
	}
	return 0;
}

/* readdir and readdirplus, as cloudfs has both: the kernel picks per call. */
static void fill_dir(fuse_req_t req, fuse_ino_t dir, size_t size, off_t off, int plus)
{
	char *buf = malloc(size);
	size_t used = 0, len;
	const char *name;
	fuse_ino_t ino;
	struct fuse_entry_param e;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; (ino = dirent_at(dir, i, &name)); i++) {
		entry_of(ino, &e);
		if (plus)
			len = fuse_add_direntry_plus(req, buf + used, size - used, name, &e,
						     (off_t)i + 1);
		else
			len = fuse_add_direntry(req, buf + used, size - used, name, &e.attr,
						(off_t)i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void fl_readdir(fuse_req_t req, fuse_ino_t dir, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	fill_dir(req, dir, size, off, 0);
}

static void fl_readdirplus(fuse_req_t req, fuse_ino_t dir, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	fill_dir(req, dir, size, off, 1);
}

static void fl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!is_status(ino)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (fl.no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void fl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	size_t len = sizeof(STATUS) - 1;

	(void)ino;
	(void)fi;
	if ((size_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	len -= (size_t)off;
	fuse_reply_buf(req, STATUS + off, len < size ? len : size);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = fl_lookup,
	.getattr = fl_getattr,
	.readdir = fl_readdir,
	.readdirplus = fl_readdirplus,
	.open = fl_open,
	.read = fl_read,
};

/* Reads one name per line; 1000 numbered names without a file. */
static int load_names(const char *path)
{
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	int ret = -1;

	if (!path) {
		fl.names = calloc(1000, sizeof(*fl.names));
		for (fl.n = 0; fl.names && fl.n < 1000; fl.n++)
			if (asprintf(&fl.names[fl.n], "%04zu", fl.n) < 0)
				return -1;
		return fl.names ? 0 : -1;
	}
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		goto out;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (fl.n == alloc) {
			alloc = alloc ? 2 * alloc : 1024;
			char **grown = realloc(fl.names, alloc * sizeof(*grown));
			if (!grown)
				goto out;
			fl.names = grown;
		}
		if (!(fl.names[fl.n] = strdup(line)))
			goto out;
		fl.n++;
	}
	qsort(fl.names, fl.n, sizeof(*fl.names), cmp_name);
	ret = 0;
out:
	free(line);
	if (f)
		fclose(f);
	return ret;
}

struct opts {
	char *names;
	int no_open;
	int spin_us;
};

static const struct fuse_opt opt_spec[] = { { "names=%s", offsetof(struct opts, names), 0 },
					    { "no_open", offsetof(struct opts, no_open), 1 },
					    { "spin_us=%d", offsetof(struct opts, spin_us), 0 },
					    FUSE_OPT_END };

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = { 0 };
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	struct fs_poller *poller = NULL;
	struct opts o = { .spin_us = 200 }; /* cloudfs's default */
	int ret = 1;

	if (fuse_parse_cmdline(&args, &cmd) != 0 || fuse_opt_parse(&args, &o, opt_spec, NULL) != 0)
		goto out;
	if (!cmd.mountpoint) {
		fprintf(stderr,
			"usage: %s [-o names=FILE] [-o no_open] "
			"MOUNTPOINT\n",
			argv[0]);
		goto out;
	}
	fl.no_open = o.no_open;
	if (load_names(o.names) < 0)
		goto out;
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se || fuse_session_mount(se, cmd.mountpoint) != 0)
		goto out;
	if (cmd.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		/* cloudfs's threads: 4 idle, at most 16, and the poller */
		loop = fuse_loop_cfg_create();
		if (!loop || fs_poller_start(se, (unsigned)o.spin_us, &poller))
			goto out;
		fuse_loop_cfg_set_idle_threads(loop, 4);
		fuse_loop_cfg_set_max_threads(loop, 16);
		ret = fuse_session_loop_mt(se, loop);
		fs_poller_stop(poller);
	}
	fuse_session_unmount(se);
	ret = ret != 0;
out:
	if (loop)
		fuse_loop_cfg_destroy(loop);
	if (se)
		fuse_session_destroy(se);
	free(cmd.mountpoint);
	free(o.names);
	fuse_opt_free_args(&args);
	return ret;
}
