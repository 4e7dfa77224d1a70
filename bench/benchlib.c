/*
 * benchlib.c - message templates, time, percentiles and deadline I/O for
 * the benchmark load generators (see benchlib.h).
 */
#include "benchlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- a growing byte buffer (abort on out of memory: a benchmark tool) ---- */

struct buf {
	char *s;
	size_t len, cap;
};

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL) {
		fputs("bench: out of memory\n", stderr);
		abort();
	}
	return p;
}

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static char *
buf_take(struct buf *b)
{
	char *s = b->s ? b->s : strdup("");

	if (s == NULL)
		abort();
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

/* ---- templates ---- */

struct line {
	const char *p;
	size_t n;		/* without the line end */
};

static bool
is_msgid(const struct line *l)
{
	return l->n >= 11 && strncasecmp(l->p, "Message-ID:", 11) == 0;
}

/* One line of DATA: dot-stuffed, CRLF. */
static void
smtp_line(struct buf *b, const struct line *l)
{
	if (l->n > 0 && l->p[0] == '.')
		buf_add(b, ".", 1);
	buf_add(b, l->p, l->n);
	buf_add(b, "\r\n", 2);
}

static void
add_hdr(struct bmsg *m, const struct line *ls, size_t first, size_t last)
{
	const struct line *l = &ls[first];
	const char *colon = memchr(l->p, ':', l->n);
	struct buf v = { 0 };
	struct bhdr *h;
	size_t i, k;

	if (colon == NULL || colon == l->p)
		return;		/* not a header field: the milter never sees it */
	m->hdr = xrealloc(m->hdr, (m->nhdr + 1) * sizeof(*m->hdr));
	h = &m->hdr[m->nhdr++];
	h->name = strndup(l->p, (size_t)(colon - l->p));
	k = (size_t)(colon + 1 - l->p);
	i = k;
	while (i < l->n && (l->p[i] == ' ' || l->p[i] == '\t'))
		i++;
	h->lead = strndup(l->p + k, i - k);
	buf_add(&v, l->p + i, l->n - i);
	for (size_t j = first + 1; j <= last; j++) {
		buf_add(&v, "\n", 1);
		buf_add(&v, ls[j].p, ls[j].n);
	}
	h->value = buf_take(&v);
	if (h->name == NULL || h->lead == NULL)
		abort();
}

int
bmsg_load(const char *path, struct bmsg *m, char *err, size_t errlen)
{
	struct line *ls = NULL;
	size_t nl = 0, hend, i;
	struct buf pre = { 0 }, post = { 0 }, body = { 0 };
	char *text = NULL;
	struct stat st;
	ssize_t got;
	size_t off = 0;
	int fd;
	bool have_id = false;

	memset(m, 0, sizeof(*m));
	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	text = xrealloc(NULL, (size_t)st.st_size + 1);
	while (off < (size_t)st.st_size &&
	    (got = read(fd, text + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)got;
	close(fd);
	text[off] = '\0';
	m->size = off;

	/* lines, without "\n" or "\r\n"; an mbox "From " line is dropped */
	for (const char *p = text, *end = text + off; p < end;) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(end - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (!(nl == 0 && p == text && n >= 5 && memcmp(p, "From ", 5) == 0)) {
			ls = xrealloc(ls, (nl + 1) * sizeof(*ls));
			ls[nl].p = p;
			ls[nl].n = n;
			nl++;
		}
		p = e ? e + 1 : end;
	}
	for (hend = 0; hend < nl && ls[hend].n > 0; hend++)
		;

	/* header fields: a field and its continuation lines */
	for (i = 0; i < hend;) {
		size_t last = i;

		while (last + 1 < hend && (ls[last + 1].p[0] == ' ' || ls[last + 1].p[0] == '\t'))
			last++;
		if (is_msgid(&ls[i]) && !have_id) {
			have_id = true;
			m->msgid_idx = m->nhdr;
			add_hdr(m, ls, i, last);
		} else {
			add_hdr(m, ls, i, last);
			for (size_t j = i; j <= last; j++)
				smtp_line(have_id ? &post : &pre, &ls[j]);
		}
		i = last + 1;
	}
	if (!have_id) {
		/* a Message-ID first: every copy must have its own */
		struct bhdr h = { strdup("Message-ID"), strdup("<x@x>"), strdup(" ") };

		m->hdr = xrealloc(m->hdr, (m->nhdr + 1) * sizeof(*m->hdr));
		memmove(m->hdr + 1, m->hdr, m->nhdr * sizeof(*m->hdr));
		m->hdr[0] = h;
		m->nhdr++;
		m->msgid_idx = 0;
		/* everything goes after it */
		buf_add(&post, pre.s ? pre.s : "", pre.len);
		free(pre.s);
		memset(&pre, 0, sizeof(pre));
	}
	/* the empty line and the body */
	buf_add(&post, "\r\n", 2);
	for (i = hend + 1; i < nl; i++) {
		smtp_line(&post, &ls[i]);
		buf_add(&body, ls[i].p, ls[i].n);
		buf_add(&body, "\r\n", 2);
	}
	m->smtp_pre_len = pre.len;
	m->smtp_pre = buf_take(&pre);
	m->smtp_post_len = post.len;
	m->smtp_post = buf_take(&post);
	m->body_len = body.len;
	m->body = buf_take(&body);
	m->path = strdup(path);
	free(ls);
	free(text);
	if (m->path == NULL)
		abort();
	return 0;
}

void
bmsg_free(struct bmsg *m)
{
	for (size_t i = 0; i < m->nhdr; i++) {
		free(m->hdr[i].name);
		free(m->hdr[i].value);
		free(m->hdr[i].lead);
	}
	free(m->hdr);
	free(m->body);
	free(m->smtp_pre);
	free(m->smtp_post);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* ---- time and statistics ---- */

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
quantile_sorted(const uint64_t *v, size_t n, double q)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(q * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

uint64_t
quantile(uint64_t *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return quantile_sorted(v, n, q);
}

/* ---- deadline I/O ---- */

static int
wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return r < 0 ? -1 : 0;
}

int
io_read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = recv(fd, p, n, MSG_DONTWAIT);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0) {
			errno = EPROTO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (wait_fd(fd, POLLIN, timeout_ms) < 0)
			return -1;
	}
	return 0;
}

int
io_writev_full(int fd, struct iovec *iov, int iovcnt, int timeout_ms)
{
	while (iovcnt > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
		ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_fd(fd, POLLOUT, timeout_ms) < 0)
				return -1;
			continue;
		}
		while (iovcnt > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

int
io_write_full(int fd, const void *buf, size_t n, int timeout_ms)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };

	return io_writev_full(fd, &iov, 1, timeout_ms);
}

int
io_connect(const char *spec, int timeout_ms)
{
	int fd, r, e;
	socklen_t el = sizeof(e);

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0 || spec[0] == '/') {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		const char *path = spec[0] == '/' ? spec : strchr(spec, ':') + 1;

		if (strlen(path) >= sizeof(sa.sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(sa.sun_path, path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}

	/* inet:PORT@127.0.0.1 (libmilter style) or 127.0.0.1:PORT */
	char host[64];
	unsigned port;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (sscanf(spec, "inet:%u@%63s", &port, host) != 2 &&
	    sscanf(spec, "%63[0-9.]:%u", host, &port) != 2) {
		errno = EINVAL;
		return -1;
	}
	if (port == 0 || port > 65535 || inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    (ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
		errno = EINVAL;	/* loopback only */
		return -1;
	}
	sin.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (r < 0 && errno == EINPROGRESS) {
		if (wait_fd(fd, POLLOUT, timeout_ms) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (e != 0) {
			close(fd);
			errno = e;
			return -1;
		}
		r = 0;
	}
	if (r < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	r = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &r, sizeof(r));
	return fd;
}

long
proc_status_kb(long pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return v;
}

const char *bench_prog = "bench";

void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bench_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

struct bmsg *
bmsg_load_all(char *const *paths, size_t n)
{
	struct bmsg *v = calloc(n, sizeof(*v));
	char err[512];

	if (v == NULL)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		if (bmsg_load(paths[i], &v[i], err, sizeof(err)) < 0)
			die("%s", err);
	return v;
}
