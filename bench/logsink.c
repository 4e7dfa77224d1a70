/*
 * logsink - a minimal syslog receiver for benchmark machines that have none.
 *
 * A mail server always has a syslog daemon (journald, rsyslog) behind
 * /dev/log; a container or a fresh test machine often has not, and then
 * glibc's syslog() tries to connect anew at every call (socket, connect,
 * close) before it gives up: a cost no production milter pays.  bench/run.sh
 * starts this sink on /dev/log when nothing listens there, so that
 * complaint-milter logs as it would on an MX, and removes it afterwards.
 *
 * Usage: logsink SOCKET OUTFILE
 *   Binds a datagram socket at SOCKET (which must not exist), writes every
 *   message received, one per line, to OUTFILE (buffered), until SIGTERM or
 *   SIGINT; then flushes, removes SOCKET and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	struct sigaction act;
	char buf[8192];
	FILE *out;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: logsink SOCKET OUTFILE\n");
		return 2;
	}
	if ((out = fopen(argv[2], "a")) == NULL) {
		fprintf(stderr, "logsink: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "logsink: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	(void)chmod(argv[1], 0666);
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;	/* no SA_RESTART: recv returns EINTR */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "logsink: recv: %s\n", strerror(errno));
			break;
		}
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
			n--;
		fwrite(buf, 1, (size_t)n, out);
		fputc('\n', out);
	}
	fclose(out);
	close(fd);
	unlink(argv[1]);
	return 0;
}
