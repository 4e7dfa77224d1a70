/*
 * null-milter — the "protocol floor" for benchmarks and MTA harness tests.
 *
 * The cheapest libmilter milter that still takes part in every message: it
 * accepts everything and does no work.  It is the baseline that
 * complaint-milter is measured against (what the milter protocol itself
 * costs an MTA), and the known-good milter tests/mta/selftest.sh uses to
 * prove the Postfix/Sendmail harness.
 *
 * Negotiation (xxfi_negotiate): it asks the MTA for no actions and switches
 * off every protocol step except MAIL FROM — no connect, HELO, RCPT, DATA,
 * unknown command, headers, end-of-headers or body events — and asks for
 * "no reply" on every step it does not see, where the MTA offers that.  The
 * one remaining event, MAIL FROM, is answered with SMFIS_ACCEPT, so each
 * message costs one request/reply round trip (plus the connection's
 * negotiate/quit), and the MTA skips the milter for the rest of the message.
 *
 * With -E it is the floor for a milter that must see the whole message
 * (as complaint-milter does for mail to a complaints address): it asks for
 * MAIL, RCPT, header, body and end-of-message events, with "no reply" on
 * every one but end of message, keeps nothing, and answers SMFIS_ACCEPT at
 * end of message.  That is the least a content milter can cost: the
 * message's bytes cross the socket and one round trip waits at the end.
 * The protocol benchmark (bench/run.sh) measures complaint-milter's
 * end-of-message latency against this mode.
 *
 * Usage: null-milter -p unix:/path/to/sock [-E] [-f] [-T timeout_s]
 *   -p  the milter socket (unix:PATH or inet:PORT@127.0.0.1); a stale
 *       unix socket is removed at start.  The socket is created mode 0666 so
 *       the MTA's own user (postfix) can connect; protect it with the mode of
 *       its directory (Sendmail insists that no component of that directory
 *       path is world-writable: use e.g. a root-owned 0755 /run/NAME/).
 *   -E  see the whole message, accept at end of message (see above).
 *   -f  stay in the foreground (the only mode: accepted for compatibility).
 *   -T  libmilter I/O timeout in seconds (default 7210, libmilter's own).
 * SIGTERM, SIGINT or SIGHUP stop it cleanly: smfi_stop(), plus connections
 * to its own socket that wake libmilter's listener at once (it otherwise
 * looks at the stop flag only every 5 s, and smfi_stop() itself blocks
 * until then), and the unix socket is removed (libmilter leaves it behind
 * when running as root).  Exit status 0 then, in a few milliseconds (with
 * an inet: socket there is no wake-up: up to 5 s).
 *
 * Signals: smfi_main() runs in a second thread with those signals blocked;
 * the main thread keeps them unblocked with a handler that writes to a
 * self-pipe, so Linux delivers kill(pid) to it rather than to libmilter's
 * own sigwait() thread.  Should libmilter's thread get the signal instead,
 * it stops the listener itself (within 5 s) and the result is the same.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_ACCEPT;
}

/*
 * -E: every step but end of message was negotiated "no reply" (the MTA
 * offers that), so the callbacks say SMFIS_NOREPLY.  Returning
 * SMFIS_CONTINUE there works too, but libmilter then logs "milter claimed
 * not to reply in state N but did anyway" at LOG_ERR for every header.
 * Each callback exists, so that no step falls back to libmilter's default.
 */
static sfsistat nm_noreply_addr(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_NOREPLY;
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return SMFIS_NOREPLY;
}

static sfsistat nm_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

/* -E: the whole message, replies only at end of message. */
static sfsistat nm_negotiate_eom(SMFICTX *ctx, unsigned long f0,
				 unsigned long f1, unsigned long f2,
				 unsigned long f3, unsigned long *pf0,
				 unsigned long *pf1, unsigned long *pf2,
				 unsigned long *pf3)
{
	const unsigned long off = SMFIP_NOCONNECT | SMFIP_NOHELO |
				  SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO |
				      SMFIP_NR_MAIL | SMFIP_NR_RCPT |
				      SMFIP_NR_DATA | SMFIP_NR_UNKN |
				      SMFIP_NR_EOH | SMFIP_NR_BODY |
				      SMFIP_NR_HDR;

	(void)ctx;
	(void)f0;
	(void)f2;
	(void)f3;
	*pf0 = 0;
	*pf1 = (off | noreply) & f1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3,
			     unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	/* Steps we never want to see. */
	const unsigned long off = SMFIP_NOCONNECT | SMFIP_NOHELO |
				  SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS |
				  SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	/* Replies we never send (all but MAIL's, which carries the ACCEPT). */
	const unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_HELO |
				      SMFIP_NR_RCPT | SMFIP_NR_DATA |
				      SMFIP_NR_UNKN | SMFIP_NR_EOH |
				      SMFIP_NR_BODY | SMFIP_NR_HDR;

	(void)ctx;
	(void)f0;
	(void)f2;
	(void)f3;
	*pf0 = 0;		/* no actions (no header/body changes etc.) */
	*pf1 = (off | noreply) & f1;	/* only what the MTA offers */
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static struct smfiDesc nm_desc = {
	.xxfi_name = "null-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_envfrom = nm_envfrom,
	.xxfi_negotiate = nm_negotiate,
};

static int nm_pipe[2] = { -1, -1 };
static int nm_main_rc = 1;

static void nm_on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (write(nm_pipe[1], &c, 1) < 0) {
		/* nothing to do: a byte is already pending */
	}
	errno = saved;
}

static void *nm_run(void *arg)
{
	char c = 0;

	(void)arg;
	nm_main_rc = smfi_main() == MI_SUCCESS ? 0 : 1;
	if (write(nm_pipe[1], &c, 1) < 0) {
		/* the main thread joins us anyway */
	}
	return NULL;
}

static void *nm_stop(void *arg)
{
	(void)arg;
	smfi_stop();
	return NULL;
}

/* The path of a unix:/local: socket spec, or NULL. */
static const char *nm_unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* Wake libmilter's listener out of its poll() by connecting once. */
static void nm_wake(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (path == NULL || strlen(path) >= sizeof addr.sun_path)
		return;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return;
	(void)connect(fd, (struct sockaddr *)&addr, sizeof addr);
	close(fd);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: null-milter -p unix:/path/to/sock [-E] [-f] [-T timeout_s]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	int timeout = -1;
	int c;

	while ((c = getopt(argc, argv, "p:EfT:h")) != -1) {
		switch (c) {
		case 'p':
			sock = optarg;
			break;
		case 'E':
			nm_desc.xxfi_envfrom = nm_noreply_addr;
			nm_desc.xxfi_envrcpt = nm_noreply_addr;
			nm_desc.xxfi_header = nm_header;
			nm_desc.xxfi_body = nm_body;
			nm_desc.xxfi_eom = nm_eom;
			nm_desc.xxfi_negotiate = nm_negotiate_eom;
			break;
		case 'f':
			break;
		case 'T':
			timeout = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (sock == NULL || optind != argc)
		usage();

	if (smfi_setconn((char *)sock) == MI_FAILURE) {
		fprintf(stderr, "null-milter: bad socket spec %s\n", sock);
		return 1;
	}
	if (timeout > 0 && smfi_settimeout(timeout) == MI_FAILURE)
		return 1;
	if (smfi_register(nm_desc) == MI_FAILURE) {
		fprintf(stderr, "null-milter: smfi_register failed\n");
		return 1;
	}
	/* Socket 0666: the MTA runs as another user (postfix). */
	umask(0111);
	/* true: remove a stale unix socket first. */
	if (smfi_opensocket(true) == MI_FAILURE) {
		fprintf(stderr, "null-milter: cannot open socket %s: %s\n",
			sock, strerror(errno));
		return 1;
	}
	umask(022);

	const char *path = nm_unix_path(sock);
	struct sigaction sa = { .sa_handler = nm_on_signal };
	sigset_t stopsigs, old;
	pthread_t tid;
	char ch = 0;

	if (pipe(nm_pipe) != 0)
		return 1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* libmilter's threads are created with the stop signals blocked. */
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigaddset(&stopsigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stopsigs, &old);
	if (pthread_create(&tid, NULL, nm_run, NULL) != 0)
		return 1;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	while (read(nm_pipe[0], &ch, 1) < 0 && errno == EINTR)
		;
	if (ch != 0) {		/* a signal, not smfi_main() returning */
		/*
		 * smfi_stop() waits for a mutex the listener holds while it
		 * polls, so call it from its own thread and wake the listener
		 * with connections until smfi_main() has returned.
		 */
		pthread_t stopper;
		struct pollfd pfd = { .fd = nm_pipe[0], .events = POLLIN };
		int i;

		if (pthread_create(&stopper, NULL, nm_stop, NULL) == 0)
			pthread_detach(stopper);
		for (i = 0; i < 500 && poll(&pfd, 1, 0) == 0; i++) {
			nm_wake(path);
			(void)poll(&pfd, 1, 20);
		}
	}
	pthread_join(tid, NULL);

	struct stat st;
	if (path != NULL && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	return nm_main_rc;
}
