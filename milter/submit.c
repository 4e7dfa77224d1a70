/*
 * submit.c - hand a reply to the mail system.
 *
 * sendmail:PATH runs PATH with the vector
 *	sendmail -i -f <> -- RECIPIENT
 * (fork and execv, no shell; the recipient comes after "--", so it is never
 * read as an option, and never -t, so no header of the message chooses a
 * recipient) and writes the message to its standard input.  Exit status 0
 * is success; EX_DATAERR, EX_NOUSER and EX_NOHOST are permanent; anything
 * else is tried again later.
 *
 * smtp:HOST:PORT speaks SMTP with libcurl: MAIL FROM:<>, one RCPT TO, DATA
 * (libcurl does the dot-stuffing).  A 5xx answer is permanent; a connection
 * that fails, a 4xx or a timeout is tried again later.
 */
#include "submit.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int
submit_parse_transport(const char *spec, struct transport *t, char *err, size_t errlen)
{
	const char *hp, *colon;
	char *end;
	unsigned long port;

	memset(t, 0, sizeof(*t));
	t->timeout = 60;
	if (strncmp(spec, "sendmail:", 9) == 0) {
		t->kind = SUBMIT_SENDMAIL;
		if (spec[9] != '/' || strlen(spec + 9) >= sizeof(t->path)) {
			snprintf(err, errlen, "ReplyTransport: sendmail needs an absolute path");
			return -1;
		}
		snprintf(t->path, sizeof(t->path), "%s", spec + 9);
		return 0;
	}
	if (strncmp(spec, "smtp:", 5) != 0) {
		snprintf(err, errlen, "ReplyTransport: expected smtp:HOST:PORT or sendmail:/PATH");
		return -1;
	}
	t->kind = SUBMIT_SMTP;
	hp = spec + 5;
	colon = strrchr(hp, ':');
	if (colon == NULL || colon == hp || (size_t)(colon - hp) >= sizeof(t->host)) {
		snprintf(err, errlen, "ReplyTransport: expected smtp:HOST:PORT");
		return -1;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || port == 0 || port > 65535) {
		snprintf(err, errlen, "ReplyTransport: bad port \"%s\"", colon + 1);
		return -1;
	}
	snprintf(t->host, sizeof(t->host), "%.*s", (int)(colon - hp), hp);
	for (const char *p = t->host; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("/?#@", *p)) {
			snprintf(err, errlen, "ReplyTransport: bad host \"%s\"", t->host);
			return -1;
		}
	t->port = (unsigned)port;
	return 0;
}

int
submit_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
submit_cleanup(void)
{
	curl_global_cleanup();
}

/* ---- sendmail ---- */

static void
child_exec(const struct transport *t, int in, const char *recipient)
{
	char *const argv[] = {
		"sendmail", "-i", "-f", "<>", "--", (char *)recipient, NULL,
	};

	if (dup2(in, STDIN_FILENO) < 0)
		_exit(EX_OSERR);
	if (in != STDIN_FILENO)
		close(in);
	signal(SIGPIPE, SIG_DFL);
	execv(t->path, argv);
	_exit(EX_UNAVAILABLE);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static enum submit_result
exit_result(int status, const char *path, char *err, size_t errlen)
{
	int code;

	if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "%s killed by signal %d", path, WTERMSIG(status));
		return SUBMIT_TEMPFAIL;
	}
	code = WEXITSTATUS(status);
	if (code == 0)
		return SUBMIT_OK;
	snprintf(err, errlen, "%s exited with status %d", path, code);
	return code == EX_DATAERR || code == EX_NOUSER || code == EX_NOHOST ?
	    SUBMIT_PERMFAIL : SUBMIT_TEMPFAIL;
}

/*
 * Wait for the submission program at most timeout seconds; a program that
 * hangs (postdrop unable to write its queue, say) is killed and the reply
 * tried again later.  0, or -1 when it had to be killed or waitpid failed.
 */
static int
wait_child(pid_t pid, int timeout, int *status)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	long waited_ms = 0;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited_ms >= (long)timeout * 1000) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		nanosleep(&tick, NULL);
		waited_ms += 20;
	}
}

static enum submit_result
via_sendmail(const struct transport *t, const char *recipient, const char *msg, size_t len,
    char *err, size_t errlen)
{
	int fds[2], status, wr;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return SUBMIT_TEMPFAIL;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return SUBMIT_TEMPFAIL;
	}
	if (pid == 0) {
		close(fds[1]);
		child_exec(t, fds[0], recipient);
	}
	close(fds[0]);
	wr = write_all(fds[1], msg, len);
	close(fds[1]);
	if (wait_child(pid, t->timeout, &status) < 0) {
		snprintf(err, errlen, "%s did not finish within %d s: killed, tried again later",
		    t->path, t->timeout);
		return SUBMIT_TEMPFAIL;
	}
	if (wr < 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(err, errlen, "%s did not read the whole message", t->path);
		return SUBMIT_TEMPFAIL;
	}
	return exit_result(status, t->path, err, errlen);
}

/* ---- SMTP ---- */

struct upload {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* msg with every LF that has no CR before it as CRLF. */
static int
to_crlf(const char *msg, size_t len, strbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r') && sb_putc(out, '\r') < 0)
			return -1;
		if (sb_putc(out, msg[i]) < 0)
			return -1;
	}
	return sb_puts(out, "");
}

static enum submit_result
curl_result(CURL *c, CURLcode rc, char *err, size_t errlen, const char *detail)
{
	long code = 0;

	if (rc == CURLE_OK)
		return SUBMIT_OK;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	snprintf(err, errlen, "smtp: %s%s%s (last reply %ld)", curl_easy_strerror(rc),
	    *detail ? ": " : "", detail, code);
	return code >= 500 && code < 600 ? SUBMIT_PERMFAIL : SUBMIT_TEMPFAIL;
}

static enum submit_result
via_smtp(const struct transport *t, const char *recipient, const char *msg, size_t len,
    char *err, size_t errlen)
{
	char url[600], rcpt[600], ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpts = NULL;
	struct upload u;
	enum submit_result r = SUBMIT_TEMPFAIL;
	strbuf data;
	CURL *c;

	sb_init(&data);
	snprintf(url, sizeof(url), "smtp://%s:%u/%s", t->host, t->port, t->helo);
	snprintf(rcpt, sizeof(rcpt), "<%s>", recipient);
	if (to_crlf(msg, len, &data) < 0 || (c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "smtp: out of memory");
		sb_free(&data);
		return SUBMIT_TEMPFAIL;
	}
	if ((rcpts = curl_slist_append(NULL, rcpt)) == NULL) {
		snprintf(err, errlen, "smtp: out of memory");
		goto out;
	}
	u.p = data.s;
	u.left = data.len;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<>");
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)t->timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp");
	r = curl_result(c, curl_easy_perform(c), err, errlen, ebuf);
out:
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(c);
	sb_free(&data);
	return r;
}

enum submit_result
submit_message(const struct transport *t, const char *recipient, const char *msg, size_t len,
    char *err, size_t errlen)
{
	err[0] = '\0';
	if (recipient == NULL || *recipient == '\0' || *recipient == '-' ||
	    strpbrk(recipient, "<>\r\n \t") != NULL) {
		snprintf(err, errlen, "bad recipient");
		return SUBMIT_PERMFAIL;
	}
	if (t->kind == SUBMIT_SENDMAIL)
		return via_sendmail(t, recipient, msg, len, err, errlen);
	return via_smtp(t, recipient, msg, len, err, errlen);
}
