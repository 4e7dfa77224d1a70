/*
 * milter_main.c - complaint-milter: the daemon's start, signals and test mode.
 *
 * complaint-milter [-c CONF] [-f] [-n] [-K] [-t FILE.eml [-F SENDER] [-R RCPT]...]
 *
 *   -c CONF  configuration (default /etc/complaint-milter/complaint-milter.conf)
 *   -f       stay in the foreground
 *   -n       check configuration and rules, print a summary, exit (0 = good)
 *   -K       print the table of configuration keys and exit
 *   -t FILE  run the callbacks on a saved message without an MTA and print the
 *            edits and replies; -F and -R give the envelope (default: the
 *            From address and the first Recipient)
 *
 * Startup errors exit with a sysexits code and one clear line on stderr.
 * SIGUSR1 reloads configuration and rules; a broken reload keeps the old
 * ones.  SIGTERM/SIGINT/SIGHUP stop the daemon (libmilter handles them).
 */
#include "calendar.h"
#include "config.h"
#include "filter.h"
#include "mfio.h"
#include "mime.h"
#include "rules.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <libxml/parser.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#define DEFAULT_CONF "/etc/complaint-milter/complaint-milter.conf"

static const char *conf_path = DEFAULT_CONF;
static struct config *cur_cf;	/* the main thread's current snapshot */

static void
die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("complaint-milter: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void
usage(void)
{
	fprintf(stderr, "usage: complaint-milter [-c CONF] [-f] [-n] [-K] "
	    "[-t FILE.eml [-F SENDER] [-R RCPT]...]\n");
	exit(EX_USAGE);
}

/* Path of a unix socket spec, or NULL for inet. */
static const char *
unix_path(const char *spec)
{
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/*
 * A socket file left by a crash is removed; one that a running milter still
 * answers on is not (two daemons on one socket is an admin's mistake).
 */
static void
socket_clear_stale(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode))
		die(EX_CONFIG, "%s exists and is not a socket", path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		die(EX_CONFIG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			die(EX_UNAVAILABLE, "another milter is listening on %s", path);
		close(fd);
	}
	if (unlink(path) < 0 && errno != ENOENT)
		die(EX_CANTCREAT, "cannot remove stale socket %s: %s", path, strerror(errno));
}

static void
lookup_user(const char *spec, uid_t *uid, gid_t *gid, char *name, size_t namesz)
{
	char user[256];
	char *colon;
	struct passwd *pw;

	snprintf(user, sizeof(user), "%s", spec);
	if ((colon = strchr(user, ':')) != NULL)
		*colon++ = '\0';
	if ((pw = getpwnam(user)) == NULL)
		die(EX_NOUSER, "UserID: no such user \"%s\"", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	snprintf(name, namesz, "%s", pw->pw_name);
	if (colon && *colon) {
		struct group *gr = getgrnam(colon);

		if (gr == NULL)
			die(EX_NOUSER, "UserID: no such group \"%s\"", colon);
		*gid = gr->gr_gid;
	}
}

static void
open_socket(const struct config *cf, uid_t uid, bool drop)
{
	const char *path = unix_path(cf->socket);
	mode_t old;
	char spec[4200];

	if (path != NULL) {
		socket_clear_stale(path);
		snprintf(spec, sizeof(spec), "unix:%s", path);
	} else {
		snprintf(spec, sizeof(spec), "%s", cf->socket);
	}
	if (smfi_setconn(spec) != MI_SUCCESS)
		die(EX_CONFIG, "Socket: libmilter refuses \"%s\"", cf->socket);
	/* created owner-only; opened up to SocketMode once owner and group are right */
	old = umask(0177);
	if (smfi_opensocket(false) != MI_SUCCESS) {
		umask(old);
		die(EX_CANTCREAT, "cannot open socket %s", cf->socket);
	}
	umask(old);
	if (path == NULL)
		return;
	if (*cf->socket_group) {
		struct group *gr = getgrnam(cf->socket_group);

		if (gr == NULL)
			die(EX_NOUSER, "SocketGroup: no such group \"%s\"", cf->socket_group);
		if (chown(path, drop ? uid : (uid_t)-1, gr->gr_gid) < 0)
			die(EX_NOPERM, "chown %s: %s", path, strerror(errno));
	} else if (drop && chown(path, uid, (gid_t)-1) < 0) {
		die(EX_NOPERM, "chown %s: %s", path, strerror(errno));
	}
	if (chmod(path, cf->socket_mode) < 0)
		die(EX_NOPERM, "chmod %s: %s", path, strerror(errno));
}

static void
drop_privileges(uid_t uid, gid_t gid, const char *name)
{
	if (initgroups(name, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		die(EX_NOPERM, "cannot become user %s: %s", name, strerror(errno));
	if (setuid(0) == 0)
		die(EX_NOPERM, "still able to regain root after dropping to %s", name);
}

static void
daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		die(EX_OSERR, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		die(EX_OSERR, "chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static void
write_pidfile(const char *path)
{
	FILE *fp;

	if (*path == '\0')
		return;
	if ((fp = fopen(path, "w")) == NULL) {
		syslog(LOG_WARNING, "cannot write pid file %s: %s", path, strerror(errno));
		return;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
}

/*
 * Load config, rules and (when Staff is set: staff replies move deadlines)
 * the working-day calendar; NULL (and a message in err) when any of them is
 * broken.
 */
static struct config *
load_all(struct rules **rs, struct calendar **cal, char *err, size_t errlen)
{
	struct config *cf = config_load(conf_path, err, errlen);

	if (cf == NULL)
		return NULL;
	if ((*rs = rules_load(cf->rules_dir, err, errlen)) == NULL) {
		config_unref(cf);
		return NULL;
	}
	*cal = NULL;
	if (cf->staff.n > 0 &&
	    (*cal = calendar_load(cf->holidays_dir, cf->holiday_country, err, errlen)) == NULL) {
		rules_unref(*rs);
		config_unref(cf);
		return NULL;
	}
	return cf;
}

/* SIGUSR1 arrives here only: every other thread blocks it. */
static void *
reload_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		struct config *cf;
		struct rules *rs;
		struct calendar *cal;
		char err[1024];

		if (sigwait(set, &sig) != 0 || sig != SIGUSR1)
			continue;
		if ((cf = load_all(&rs, &cal, err, sizeof(err))) == NULL) {
			syslog(LOG_ERR, "reload failed, keeping the running configuration: %s", err);
			continue;
		}
		if (strcmp(cf->socket, cur_cf->socket) || strcmp(cf->database, cur_cf->database) ||
		    strcmp(cf->user_id, cur_cf->user_id))
			syslog(LOG_WARNING, "reload: Socket, Database and UserID take effect "
			    "only at restart");
		filter_swap(cf, rs, cal);
		config_unref(cur_cf);
		cur_cf = cf;
		syslog(LOG_INFO, "reloaded %s: %zu rules", conf_path, rules_count(rs));
		rules_unref(rs);
	}
	return NULL;
}

/* Is fd 2 the stream systemd connected to its journal ($JOURNAL_STREAM = "dev:ino")? */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &sb) == 0 &&
	    (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

/*
 * Freed memory stays with the process: glibc would otherwise hand the top
 * of a thread's heap back (madvise, then page faults and TLB shootdowns
 * across the cores) after nearly every message and map each large message
 * buffer afresh.  The milter's memory is bounded by its concurrency and
 * MaxScanSize, not by how many messages it has seen.
 */
static void
malloc_keep(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
}

static int
run_test(struct config *cf, struct rules *rs, struct calendar *cal, const char *file,
    const char *from, strlist *rcpts)
{
	char err[1024];
	struct store_writer *w = store_writer_start(cf->database, cf->busy_timeout_ms,
	    err, sizeof(err));
	int st;

	if (w == NULL)
		die(EX_CANTCREAT, "%s", err);
	if (rcpts->n == 0 && cf->recipients.n > 0)
		sl_add(rcpts, cf->recipients.v[0]);
	mf_set_test_mode(stdout);
	filter_init(cf, rs, cal, w);
	st = filter_test_file(file, from, rcpts);
	filter_shutdown();
	store_writer_stop(w);
	printf("result: %s\n", st == SMFIS_ACCEPT ? "accept" : st == SMFIS_REJECT ? "reject" :
	    st == SMFIS_TEMPFAIL ? "tempfail" : st == SMFIS_CONTINUE ? "continue" : "other");
	return st == SMFIS_TEMPFAIL ? EX_TEMPFAIL : 0;
}

int
main(int argc, char **argv)
{
	bool foreground = false, check = false;
	const char *test_file = NULL, *test_from = NULL;
	strlist test_rcpts;
	struct config *cf;
	struct rules *rs;
	struct calendar *cal;
	struct store_writer *w;
	char err[1024], uname[256] = "";
	uid_t uid = 0;
	gid_t gid = 0;
	bool drop;
	int opt, fac, rc;
	sigset_t set, stopset;
	pthread_t tid;

	malloc_keep();
	sl_init(&test_rcpts);
	while ((opt = getopt(argc, argv, "c:fnKt:F:R:h")) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = true; break;
		case 'n': check = true; break;
		case 'K': config_describe(stdout); return 0;
		case 't': test_file = optarg; break;
		case 'F': test_from = optarg; break;
		case 'R': sl_add(&test_rcpts, optarg); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	mime_init();
	xmlInitParser();
	if ((cf = load_all(&rs, &cal, err, sizeof(err))) == NULL)
		die(EX_CONFIG, "%s", err);
	fac = config_syslog_facility(cf);
	if (cf->recipients.n == 0 && !test_file)
		die(EX_CONFIG, "%s: no Recipient configured", conf_path);
	if (check) {
		printf("%s: OK: %zu recipient(s), %zu rules from %s, IncompleteAction %s\n",
		    conf_path, cf->recipients.n, rules_count(rs), cf->rules_dir,
		    cf->incomplete_action == INCOMPLETE_REJECT ? "reject" :
		    cf->incomplete_action == INCOMPLETE_FLAG ? "flag" : "quarantine");
		return 0;
	}
	if (test_file) {
		/* what main holds is released, so a sanitizer run reports no leak */
		rc = run_test(cf, rs, cal, test_file, test_from, &test_rcpts);
		sl_free(&test_rcpts);
		config_unref(cf);
		rules_unref(rs);
		return rc;
	}

	drop = geteuid() == 0;
	if (drop) {
		if (*cf->user_id == '\0')
			die(EX_CONFIG, "%s: started as root but no UserID to run as", conf_path);
		lookup_user(cf->user_id, &uid, &gid, uname, sizeof(uname));
		if (uid == 0)
			die(EX_CONFIG, "%s: UserID must not be root", conf_path);
	}
	/*
	 * -f: the log also goes to stderr (as complaint-reply -f does), but not
	 * when stderr is systemd's journal, which has every line from syslog
	 * already (it would have each one twice).
	 */
	openlog("complaint-milter", LOG_PID | LOG_NDELAY |
	    (foreground && !stderr_is_journal() ? LOG_PERROR : 0), fac);
	/* libmilter wants the filter registered before the socket is opened */
	if (smfi_register(*filter_desc()) != MI_SUCCESS)
		die(EX_SOFTWARE, "smfi_register failed");
	open_socket(cf, uid, drop);
	if (drop)
		drop_privileges(uid, gid, uname);
	if (!foreground)
		daemonize();
	write_pidfile(cf->pid_file);

	/*
	 * Every thread started from here on blocks the signals: SIGUSR1 goes to
	 * the reload thread (sigwait), SIGTERM/SIGINT/SIGHUP to libmilter's own
	 * signal thread, never to the store writer with its default action.
	 */
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stopset, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((w = store_writer_start(cf->database, cf->busy_timeout_ms, err, sizeof(err))) == NULL) {
		syslog(LOG_ERR, "%s", err);
		die(EX_CANTCREAT, "%s", err);
	}
	filter_init(cf, rs, cal, w);
	cur_cf = cf;
	config_ref(cur_cf);
	if (pthread_create(&tid, NULL, reload_thread, &set) != 0)
		die(EX_OSERR, "cannot start the reload thread");
	syslog(LOG_INFO, "started: socket %s, %zu recipient(s), %zu rules, database %s",
	    cf->socket, cf->recipients.n, rules_count(rs), cf->database);
	rc = smfi_main();
	{
		struct store_writer_stats ws;

		store_writer_stats(w, &ws);
		syslog(LOG_INFO, "stopping: store wrote %llu op(s) in %llu batch(es) "
		    "(largest %zu), %llu retried op by op, %llu failed", ws.ops, ws.batches,
		    ws.max_batch, ws.fallbacks, ws.failed);
	}
	store_writer_stop(w);
	filter_shutdown();
	config_unref(cf);
	rules_unref(rs);
	return rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
