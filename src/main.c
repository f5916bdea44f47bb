/* SPDX-License-Identifier: MIT */
/*
 * cloudfs: mount an OpenStack project as files.
 * Order matters: parse options, read credentials, authenticate on the
 * terminal (bad credentials fail here, with Keystone's message), then mount,
 * daemonize, and only then start threads (fuse_session_loop_mt).
 * Also the command line's other jobs: --check, --version, and the
 * "SOURCE MOUNTPOINT" form mount(8) uses through mount.fuse3.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "cloudfs/daemon.h"
#include "cloudfs/fs.h"
#include "cloudfs/fs_poll.h"
#include "cloudfs/http.h"
#include "cloudfs/log.h"
#include "version.h" /* generated: the git description */

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
	double wait_timeout_s;
	int retries;
	long max_entries;
	long long part_size;
	int expose_token;
	int projects_kept;
	double projects_idle_s;
	unsigned max_threads;
	int spin_us;
	char *log; /* -o log=FILE */
	char *nova_microversion; /* -o nova_microversion=X.Y */
	int check; /* --check */
	/* Words that are not options: MOUNTPOINT, or SOURCE MOUNTPOINT as
	 * mount.fuse3 passes them (SOURCE: the clouds.yaml cloud name). */
	char *words[2];
	int nwords;
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
					       OPT("wait_timeout=%lf", wait_timeout_s),
					       OPT("retries=%d", retries),
					       OPT("max_entries=%ld", max_entries),
					       OPT("part_size=%lld", part_size),
					       OPT("expose_token", expose_token),
					       OPT("projects_kept=%d", projects_kept),
					       OPT("projects_idle=%lf", projects_idle_s),
					       OPT("max_threads=%u", max_threads),
					       OPT("spin_us=%d", spin_us),
					       OPT("log=%s", log),
					       OPT("nova_microversion=%s", nova_microversion),
					       OPT("--check", check),
					       FUSE_OPT_END };

/* Keeps every unknown option for libfuse; takes the words apart. */
static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (o->nwords == 2) {
		fprintf(stderr, "cloudfs: unexpected argument '%s' (see --help)\n", arg);
		return -1;
	}
	o->words[o->nwords] = strdup(arg);
	if (!o->words[o->nwords])
		return -1;
	o->nwords++;
	return 0;
}

static void usage(const char *prog)
{
	printf("usage: %s [options] [CLOUD] MOUNTPOINT\n"
	       "       %s --check [--os-cloud NAME]\n\n"
	       "Mounts the OpenStack project your credentials scope to. Credentials are read\n"
	       "like the openstack CLI reads them: OS_* variables (source an openrc file), or\n"
	       "clouds.yaml/secure.yaml with OS_CLOUD or --os-cloud. CLOUD, as mount(8) and\n"
	       "fstab give it, names a cloud in clouds.yaml (\"-\": none).\n\n"
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
	       "    -o wait_timeout=SECS   how long a read of a \"wait\" file waits for a busy\n"
	       "                           resource to settle (default 3600; 0: no limit)\n"
	       "    -o retries=N           retries of idempotent calls on 5xx/429/network errors (default 3)\n"
	       "    -o max_entries=N       most members one listing may have (default 100000)\n"
	       "    -o part_size=BYTES     segment size of large Swift uploads (default: Swift's\n"
	       "                           max_file_size, at most 1 GiB)\n"
	       "    -o expose_token        add .cloudfs/token (0400): the mount's token, for curl\n"
	       "    -o projects_kept=N     other projects' sessions kept under projects/ (default 8)\n"
	       "    -o projects_idle=SECS  drop an unused project's session after SECS (default 300)\n"
	       "    -o max_threads=N       FUSE worker threads (default 16)\n"
	       "    -o spin_us=US          how long a worker polls for the next request before it\n"
	       "                           sleeps (default 200; 0: never, at a cost per request)\n"
	       "    -o log=FILE            append the log to FILE instead of stderr/syslog\n"
	       "    -o nova_microversion=X.Y  the compute microversion to ask for (default: the\n"
	       "                           highest both Nova and cloudfs know, at most 2.70)\n"
	       "    --check                authenticate, reach every service, print a table, exit\n"
	       "                           (0: all reachable; see EXIT STATUS in cloudfs(1))\n"
	       "    -v, --verbose          log informational messages (renewals, retries)\n"
	       "    -d                     foreground, and log every request and FUSE operation\n"
	       "    -f                     stay in the foreground\n"
	       "    -s                     single-threaded\n"
	       "    -h, --help             this help, then FUSE's own options\n"
	       "    -V, --version          print the version\n\n",
	       prog, prog);
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
	if (o->wait_timeout_s >= 0)
		cfg->wait_timeout_s = o->wait_timeout_s;
	if (o->retries >= 0)
		cfg->retries = o->retries;
	if (o->max_entries > 0)
		cfg->max_entries = o->max_entries;
	if (o->part_size > 0)
		cfg->part_size = o->part_size;
	if (o->expose_token)
		cfg->expose_token = true;
	if (o->projects_kept >= 0)
		cfg->projects_kept = o->projects_kept;
	if (o->projects_idle_s >= 0)
		cfg->projects_idle_s = o->projects_idle_s;
	if (!rc && o->nova_microversion) {
		unsigned maj, min;
		char end;

		if (strlen(o->nova_microversion) >= sizeof(cfg->nova_microversion) ||
		    sscanf(o->nova_microversion, "%u.%u%c", &maj, &min, &end) != 2 ||
		    !strchr("0123456789", o->nova_microversion[0])) {
			fprintf(stderr,
				"cloudfs: -o nova_microversion=%s: not a microversion (X.Y)\n",
				o->nova_microversion);
			rc = -EINVAL;
		} else {
			snprintf(cfg->nova_microversion, sizeof(cfg->nova_microversion), "%u.%u",
				 maj, min);
		}
	}
	return rc;
}

/*
 * Loads and checks the credentials (prompting for a missing password on a
 * terminal). Returns 0, or an exit code after printing why.
 */
static int load_config(struct config *cfg, const struct options *o)
{
	char err[1024] = "";
	int rc;

	config_init(cfg);
	rc = apply_cli(cfg, o);
	if (!rc)
		rc = config_load(cfg, o->cloud, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cloudfs: %s\n", err[0] ? err : strerror(-rc));
		return rc == -ENOMEM ? CFS_EXIT_FAIL : CFS_EXIT_CONFIG;
	}
	if (config_auth_method(cfg) == AUTH_PASSWORD && !cfg->password && isatty(STDIN_FILENO))
		cfg->password = prompt_secret("Password");
	rc = config_validate(cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cloudfs: %s\n", err);
		return CFS_EXIT_CONFIG;
	}
	return 0;
}

/* The mount answers once the FUSE loop runs; this thread finds out by
 * asking it (a stat of the root goes through the loop), then tells systemd.
 * Started only when $NOTIFY_SOCKET is set. */
struct ready_watch {
	pthread_t thread;
	const char *mountpoint; /* borrowed from main()'s options */
	bool started;
};

static void *ready_main(void *arg)
{
	struct ready_watch *w = arg;
	char msg[64];
	struct stat st;

	if (stat(w->mountpoint, &st) == 0) {
		snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld", (long)getpid());
		if (notify_send(msg) < 0)
			log_warn("could not tell systemd the mount is ready ($NOTIFY_SOCKET)");
	}
	return NULL;
}

static void ready_start(struct ready_watch *w, const char *mountpoint)
{
	sigset_t all, old;

	w->mountpoint = mountpoint;
	if (!getenv("NOTIFY_SOCKET"))
		return;
	/* Signals belong to the loop's thread (fuse_set_signal_handlers). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	w->started = pthread_create(&w->thread, NULL, ready_main, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!w->started)
		log_warn("no readiness thread: systemd will not see the mount ready");
}

/* After the session is gone: a stat still waiting was answered ENOTCONN. */
static void ready_join(struct ready_watch *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
}

static int run(struct fuse_args *args, struct fuse_cmdline_opts *fopts, struct options *o)
{
	struct cloudfs fs;
	struct fuse_session *se = NULL;
	struct fuse_loop_config *loop = NULL;
	struct fs_poller *poller = NULL;
	struct ready_watch ready = { 0 };
	char err[1024] = "";
	int rc, ret = CFS_EXIT_FAIL;
	bool http_ready = false;

	memset(&fs, 0, sizeof(fs));
	fs_notifier_init(&fs.notifier);
	fs_open_init(&fs.open);
	rc = load_config(&fs.cfg, o);
	if (rc) {
		ret = rc;
		goto out;
	}
	rc = http_global_init();
	if (rc) {
		fprintf(stderr, "cloudfs: cannot initialise libcurl\n");
		goto out;
	}
	http_ready = true;
	if (o->check) {
		ret = check_run(&fs.cfg, stdout);
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
		ret = cfs_exit_for_login(rc);
		goto out;
	}
	rc = session_init(&fs.sess, &fs.cfg, fs.auth, err, sizeof(err));
	if (!rc)
		rc = session_negotiate(&fs.sess, err, sizeof(err));
	if (!rc)
		rc = model_project_init(&fs.project, &fs.sess, (int64_t)(fs.cfg.cache_ttl_s * 1000),
					(int64_t)(fs.cfg.negative_ttl_s * 1000));
	if (!rc)
		rc = model_project_add_projects(&fs.project);
	if (rc) {
		fprintf(stderr, "cloudfs: %s\n", err[0] ? err : strerror(-rc));
		goto out;
	}
	fs.project.wait_timeout_ms = (int64_t)(fs.cfg.wait_timeout_s * 1000);

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
	ready_start(&ready, fopts->mountpoint);
	if (fopts->singlethread) {
		rc = fuse_session_loop(se);
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
		rc = fuse_session_loop_mt(se, loop);
		fs_poller_stop(poller);
		fuse_loop_cfg_destroy(loop);
	}
	/* The loop returns the number of the signal that ended it (SIGTERM from
	 * systemctl stop or kill, SIGINT, SIGHUP): asked to stop, cloudfs
	 * unmounts and that is a success. A negative value is an error. */
	ret = rc < 0 ? CFS_EXIT_FAIL : CFS_EXIT_OK;
	if (rc > 0)
		log_info("signal %d: unmounting %s", rc, fopts->mountpoint);
	notify_send("STOPPING=1");
out_unmount:
	fs_notifier_stop(&fs.notifier);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fs.se = NULL;
	fuse_session_destroy(se);
	ready_join(&ready);
	fs_open_free_all(&fs.open);
out:
	inodes_free(fs.inodes);
	model_project_cleanup(&fs.project);
	session_cleanup(&fs.sess);
	auth_free(fs.auth);
	config_free(&fs.cfg);
	/* Cleaning up what was never initialised frees a wild pointer in
	 * libcurl (ASan: bad-free when credentials were incomplete). */
	if (http_ready)
		http_global_cleanup();
	return ret;
}

static int add_fsname(struct fuse_args *args, const char *cloud)
{
	char *opt = NULL;
	int rc;

	/* A fsname stops libfuse naming the type after the program: say it,
	 * so the type stays fuse.cloudfs (umount, findmnt -t, fstab). */
	if (asprintf(&opt, "-osubtype=cloudfs,fsname=%s", cloud) < 0)
		return -1;
	rc = fuse_opt_insert_arg(args, 1, opt);
	free(opt);
	return rc;
}

/*
 * glibc's defaults made a mount with 50,000 servers cached grow by a
 * quarter over repeated warm listings that fetched nothing: each worker
 * thread got an arena of its own, and freeing a directory snapshot
 * (megabytes, mmap'd) raised the mmap threshold, so the next snapshots came
 * from those arenas and left them fragmented and kept. Two arenas (the
 * machine's cores serve the requests anyway) and a fixed threshold keep
 * large, short-lived blocks in mmap, returned whole when freed.
 */
static void malloc_settings(void)
{
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
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
		.wait_timeout_s = -1,
		.retries = -1,
		.max_entries = -1,
		.part_size = -1,
		.projects_kept = -1,
		.projects_idle_s = -1,
		.spin_us = 200,
	};
	int ret = CFS_EXIT_USAGE;

	malloc_settings(); /* before any thread */

	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) == -1)
		goto out;
	/* mount.fuse3 runs "cloudfs SOURCE MOUNTPOINT -o ...": the source names
	 * the cloud, unless --os-cloud / -o cloud= did, or it is "-". */
	if (o.nwords == 2 && !o.cloud && strcmp(o.words[0], "-")) {
		o.cloud = o.words[0];
		o.words[0] = NULL;
	}
	if (o.nwords > 0 && fuse_opt_add_arg(&args, o.words[o.nwords - 1]))
		goto out;
	/* df and findmnt show the cloud's name as the mount's source. Inserted
	 * first, so a -o fsname= of the user's comes later and wins; a name
	 * that would need escaping in an option keeps libfuse's default. */
	if (o.cloud && !strpbrk(o.cloud, ",\\") && add_fsname(&args, o.cloud))
		goto out;
	if (fuse_parse_cmdline(&args, &fopts) != 0)
		goto out;
	if (fopts.show_version) {
		printf("cloudfs %s (%s; libfuse %s)\n", CLOUDFS_VERSION, CLOUDFS_GIT_DESCRIBE,
		       fuse_pkgversion());
		ret = CFS_EXIT_OK;
		goto out;
	}
	if (fopts.show_help) {
		usage(argv[0]);
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = CFS_EXIT_OK;
		goto out;
	}
	if (o.check && (fopts.mountpoint || o.nwords)) {
		fprintf(stderr, "usage: %s --check [--os-cloud NAME] (no mountpoint)\n", argv[0]);
		goto out;
	}
	if (!o.check && !fopts.mountpoint) {
		fprintf(stderr, "usage: %s [options] [CLOUD] MOUNTPOINT (see --help)\n", argv[0]);
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
	if (fuse_opt_add_arg(&args, "-odefault_permissions")) {
		ret = CFS_EXIT_FAIL;
		goto out;
	}
	log_init(fopts.debug ? LOG_LVL_DEBUG : o.verbose ? LOG_LVL_INFO : LOG_LVL_WARN, false);
	/* Opened before daemonizing, which changes to /: a relative FILE is
	 * relative to where cloudfs was started. */
	if (o.log) {
		int rc = log_open_file(o.log);

		if (rc) {
			fprintf(stderr, "cloudfs: -o log=%s: %s\n", o.log, strerror(-rc));
			ret = CFS_EXIT_USAGE;
			goto out;
		}
	}
	/* --check prints its own table; the api layer's warnings would say
	 * the same twice. */
	if (o.check && !fopts.debug && !o.verbose)
		log_init(LOG_LVL_ERROR, false);
	ret = run(&args, &fopts, &o);
	log_close();
out:
	free(fopts.mountpoint);
	free(o.cloud);
	free(o.region);
	free(o.interface);
	free(o.cacert);
	free(o.log);
	free(o.nova_microversion);
	free(o.words[0]);
	free(o.words[1]);
	fuse_opt_free_args(&args);
	return ret;
}
