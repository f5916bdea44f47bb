/* SPDX-License-Identifier: MIT */
/*
 * cloudfs: mount an OpenStack project as files.
 * Order matters: parse options, read credentials, authenticate on the
 * terminal (bad credentials fail here, with Keystone's message), then mount,
 * daemonize, and only then start threads (fuse_session_loop_mt).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "cloudfs/fs.h"
#include "cloudfs/fs_poll.h"
#include "cloudfs/http.h"
#include "cloudfs/log.h"

struct options {
	char *cloud;
	char *region;
	char *interface;
	char *cacert;
	int insecure;
	int verbose;
	double cache_ttl_s;
	double negative_ttl_s;
	double timeout_s;
	double connect_timeout_s;
	int retries;
	long max_entries;
	unsigned max_threads;
	int spin_us;
};

#define OPT(t, p)                                 \
	{                                         \
		t, offsetof(struct options, p), 1 \
	}
static const struct fuse_opt option_spec[] = { OPT("--os-cloud %s", cloud),
					       OPT("--os-cloud=%s", cloud),
					       OPT("cloud=%s", cloud),
					       OPT("--os-region-name %s", region),
					       OPT("--os-region-name=%s", region),
					       OPT("region=%s", region),
					       OPT("--os-interface %s", interface),
					       OPT("--os-interface=%s", interface),
					       OPT("interface=%s", interface),
					       OPT("--os-cacert %s", cacert),
					       OPT("--os-cacert=%s", cacert),
					       OPT("cacert=%s", cacert),
					       OPT("--insecure", insecure),
					       OPT("insecure", insecure),
					       OPT("-v", verbose),
					       OPT("--verbose", verbose),
					       OPT("cache_ttl=%lf", cache_ttl_s),
					       OPT("negative_ttl=%lf", negative_ttl_s),
					       OPT("timeout=%lf", timeout_s),
					       OPT("connect_timeout=%lf", connect_timeout_s),
					       OPT("retries=%d", retries),
					       OPT("max_entries=%ld", max_entries),
					       OPT("max_threads=%u", max_threads),
					       OPT("spin_us=%d", spin_us),
					       FUSE_OPT_END };

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n\n"
	       "Mounts the OpenStack project your credentials scope to. Credentials are read\n"
	       "like the openstack CLI reads them: OS_* variables (source an openrc file), or\n"
	       "clouds.yaml/secure.yaml with OS_CLOUD or --os-cloud.\n\n"
	       "cloudfs options:\n"
	       "    --os-cloud NAME        use cloud NAME from clouds.yaml (also -o cloud=NAME)\n"
	       "    --os-region-name R     region to pick endpoints from (-o region=R)\n"
	       "    --os-interface I       public (default), internal or admin (-o interface=I)\n"
	       "    --os-cacert FILE       CA bundle for TLS (-o cacert=FILE)\n"
	       "    --insecure             do not verify TLS certificates (-o insecure)\n"
	       "    -o cache_ttl=SECS      how long listings and documents are reused (default 5)\n"
	       "    -o negative_ttl=SECS   how long \"not found\" is remembered (default 2)\n"
	       "    -o timeout=SECS        deadline for one API call, retries included (default 30)\n"
	       "    -o connect_timeout=SECS  TCP/TLS connect deadline (default 5)\n"
	       "    -o retries=N           retries of idempotent calls on 5xx/429/network errors (default 3)\n"
	       "    -o max_entries=N       most members one listing may have (default 100000)\n"
	       "    -o max_threads=N       FUSE worker threads (default 16)\n"
	       "    -o spin_us=US          how long a worker polls for the next request before it\n"
	       "                           sleeps (default 200; 0: never, at a cost per request)\n"
	       "    -v, --verbose          log informational messages (renewals, retries)\n"
	       "    -d                     foreground, and log every request and FUSE operation\n"
	       "    -f                     stay in the foreground\n"
	       "    -s                     single-threaded\n"
	       "    -h, --help             this help, then FUSE's own options\n"
	       "    -V, --version          print the version\n\n",
	       prog);
}

/* Reads a line from the terminal without echo. Returns malloc'd or NULL. */
static char *prompt_secret(const char *what)
{
	struct termios old, quiet;
	char line[1024];
	char *nl, *out = NULL;
	bool restored;

	/* Echo goes off before the prompt appears, so nothing typed after
	 * the prompt is shown or thrown away. */
	restored = tcgetattr(STDIN_FILENO, &old) != 0;
	if (!restored) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		out = strdup(line);
	}
	explicit_bzero(line, sizeof(line));
	if (!restored)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return out;
}

static int apply_cli(struct config *cfg, const struct options *o)
{
	int rc = 0;

	if (o->region)
		rc = config_set(cfg, "region_name", o->region);
	if (!rc && o->interface)
		rc = config_set(cfg, "interface", o->interface);
	if (!rc && o->cacert)
		rc = config_set(cfg, "cacert", o->cacert);
	if (!rc && o->insecure)
		rc = config_set(cfg, "insecure", "true");
	if (o->cache_ttl_s >= 0)
		cfg->cache_ttl_s = o->cache_ttl_s;
	if (o->negative_ttl_s >= 0)
		cfg->negative_ttl_s = o->negative_ttl_s;
	if (o->timeout_s > 0)
		cfg->timeout_s = o->timeout_s;
	if (o->connect_timeout_s > 0)
		cfg->connect_timeout_s = o->connect_timeout_s;
	if (o->retries >= 0)
		cfg->retries = o->retries;
	if (o->max_entries > 0)
		cfg->max_entries = o->max_entries;
	return rc;
}

static int run(struct fuse_args *args, struct fuse_cmdline_opts *fopts, struct options *o)
{
	struct cloudfs fs;
	struct fuse_session *se = NULL;
	struct fuse_loop_config *loop = NULL;
	struct fs_poller *poller = NULL;
	char err[1024] = "";
	int rc, ret = 1;

	memset(&fs, 0, sizeof(fs));
	fs_notifier_init(&fs.notifier);
	config_init(&fs.cfg);
	rc = apply_cli(&fs.cfg, o);
	if (!rc)
		rc = config_load(&fs.cfg, o->cloud, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cloudfs: %s\n", err[0] ? err : strerror(-rc));
		goto out;
	}
	if (config_auth_method(&fs.cfg) == AUTH_PASSWORD && !fs.cfg.password &&
	    isatty(STDIN_FILENO))
		fs.cfg.password = prompt_secret("Password");
	rc = config_validate(&fs.cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cloudfs: %s\n", err);
		goto out;
	}
	rc = http_global_init();
	if (rc) {
		fprintf(stderr, "cloudfs: cannot initialise libcurl\n");
		goto out;
	}
	fs.auth = auth_new(&fs.cfg);
	if (!fs.auth) {
		fprintf(stderr, "cloudfs: out of memory\n");
		goto out;
	}
	rc = auth_login(fs.auth, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cloudfs: %s\n", err);
		goto out;
	}
	rc = session_init(&fs.sess, &fs.cfg, fs.auth, err, sizeof(err));
	if (!rc)
		rc = model_project_init(&fs.project, &fs.sess, (int64_t)(fs.cfg.cache_ttl_s * 1000),
					(int64_t)(fs.cfg.negative_ttl_s * 1000));
	if (rc) {
		fprintf(stderr, "cloudfs: %s\n", err[0] ? err : strerror(-rc));
		goto out;
	}

	fs.inodes = inodes_new();
	if (!fs.inodes) {
		fprintf(stderr, "cloudfs: out of memory\n");
		goto out;
	}
	se = fuse_session_new(args, fs_operations(), sizeof(struct fuse_lowlevel_ops), &fs);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se))
		goto out_destroy;
	if (fuse_session_mount(se, fopts->mountpoint))
		goto out_signals;
	fs.se = se;
	if (fuse_daemonize(fopts->foreground))
		goto out_unmount;
	if (!fopts->foreground)
		log_set_syslog(true);
	/* Only FUSE worker threads have a request to be interrupted. */
	http_set_cancel_hook(fs_interrupted);
	log_info("mounted %s on %s", fs.cfg.source ? fs.cfg.source : "?", fopts->mountpoint);
	if (fopts->singlethread) {
		ret = fuse_session_loop(se) ? 1 : 0;
	} else {
		loop = fuse_loop_cfg_create();
		if (!loop)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(loop, fopts->clone_fd);
		fuse_loop_cfg_set_idle_threads(loop, 4);
		fuse_loop_cfg_set_max_threads(loop, o->max_threads ? o->max_threads : 16);
		rc = fs_poller_start(se, (unsigned)o->spin_us, &poller);
		if (rc)
			log_warn("no polling worker: %s", strerror(-rc));
		ret = fuse_session_loop_mt(se, loop) ? 1 : 0;
		fs_poller_stop(poller);
		fuse_loop_cfg_destroy(loop);
	}
out_unmount:
	fs_notifier_stop(&fs.notifier);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fs.se = NULL;
	fuse_session_destroy(se);
out:
	inodes_free(fs.inodes);
	model_project_cleanup(&fs.project);
	session_cleanup(&fs.sess);
	auth_free(fs.auth);
	config_free(&fs.cfg);
	http_global_cleanup();
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts fopts = { 0 };
	struct options o = {
		.cache_ttl_s = -1,
		.negative_ttl_s = -1,
		.timeout_s = -1,
		.connect_timeout_s = -1,
		.retries = -1,
		.max_entries = -1,
		.spin_us = 200,
	};
	int ret = 1;

	if (fuse_opt_parse(&args, &o, option_spec, NULL) == -1)
		return 1;
	if (fuse_parse_cmdline(&args, &fopts) != 0)
		goto out;
	if (fopts.show_version) {
		printf("cloudfs %s (libfuse %s)\n", CLOUDFS_VERSION, fuse_pkgversion());
		ret = 0;
		goto out;
	}
	if (fopts.show_help) {
		usage(argv[0]);
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out;
	}
	if (!fopts.mountpoint) {
		fprintf(stderr, "usage: %s [options] MOUNTPOINT (see --help)\n", argv[0]);
		goto out;
	}
	/* Beyond a few milliseconds a poll only burns a CPU. */
	if (o.spin_us < 0 || o.spin_us > 10000) {
		fprintf(stderr, "cloudfs: spin_us must be 0 to 10000 (microseconds)\n");
		goto out;
	}
	/* The kernel enforces the modes cloudfs shows: with -o allow_other,
	 * other users act with the mounting user's credentials, and may do
	 * only what the modes let them (read, not change). */
	if (fuse_opt_add_arg(&args, "-odefault_permissions"))
		goto out;
	log_init(fopts.debug ? LOG_LVL_DEBUG : o.verbose ? LOG_LVL_INFO : LOG_LVL_WARN, false);
	ret = run(&args, &fopts, &o);
out:
	free(fopts.mountpoint);
	free(o.cloud);
	free(o.region);
	free(o.interface);
	free(o.cacert);
	fuse_opt_free_args(&args);
	return ret;
}
