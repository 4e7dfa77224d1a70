/*
 * benchlib.h - what the benchmark load generators share: message templates
 * with a fresh Message-ID per message, monotonic time, percentiles, and
 * socket I/O in which every wait has a deadline.
 *
 * A template (struct bmsg) is a message file loaded once: its header fields
 * unfolded for the milter protocol, its body in SMTP's CRLF form, and the
 * whole text dot-stuffed for SMTP DATA, split around the Message-ID field so
 * that each sent copy gets its own Message-ID without copying the message.
 * A file without a Message-ID gets one in front of its first header field.
 *
 * The I/O helpers never block without a deadline: each read or write waits
 * with poll() for at most the caller's timeout and fails with ETIMEDOUT.
 * Sockets are written with MSG_NOSIGNAL (a closed peer is an error, not a
 * signal).
 */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct bhdr {
	char *name;		/* "Subject" */
	char *value;		/* unfolded lines joined by "\n", leading blanks removed */
	char *lead;		/* the blanks after the colon (for SMFIP_HDR_LEADSPC) */
};

struct bmsg {
	char *path;
	size_t size;		/* bytes of the file */
	/* milter protocol view */
	struct bhdr *hdr;
	size_t nhdr;
	size_t msgid_idx;	/* index of the Message-ID field in hdr[] */
	char *body;		/* body with CRLF line ends */
	size_t body_len;
	/* SMTP DATA view: pre + "Message-ID: <...>\r\n" + post + ".\r\n" */
	char *smtp_pre;
	size_t smtp_pre_len;
	char *smtp_post;
	size_t smtp_post_len;
};

/* Load FILE; 0, or -1 with a message in err. */
int bmsg_load(const char *path, struct bmsg *m, char *err, size_t errlen);
void bmsg_free(struct bmsg *m);
/* Load the n files, or die() naming the one that failed. */
struct bmsg *bmsg_load_all(char *const *paths, size_t n);

/* The program's name for die() (set it first thing in main). */
extern const char *bench_prog;
/* "PROG: message" on stderr, exit status 2. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Monotonic nanoseconds. */
uint64_t now_ns(void);

/* Sort v[0..n) and return the q-quantile (0 < q <= 1), 0 when n == 0. */
uint64_t quantile(uint64_t *v, size_t n, double q);
/* The quantile of an already sorted array. */
uint64_t quantile_sorted(const uint64_t *v, size_t n, double q);

/*
 * Deadline I/O.  timeout_ms applies to each wait for readiness.  All return
 * 0 on success, -1 with errno set (ETIMEDOUT on a timeout, EPIPE/ECONNRESET
 * when the peer went away, EPROTO on an early EOF).
 */
int io_read_full(int fd, void *buf, size_t n, int timeout_ms);
int io_write_full(int fd, const void *buf, size_t n, int timeout_ms);
int io_writev_full(int fd, struct iovec *iov, int iovcnt, int timeout_ms);

/* Connect to a unix socket path or "inet:PORT@127.0.0.1" / "127.0.0.1:PORT"
 * (loopback addresses only); -1 with errno on failure. */
int io_connect(const char *spec, int timeout_ms);

/* VmRSS and VmHWM of a process in kB (from /proc/PID/status); -1 if unknown. */
long proc_status_kb(long pid, const char *field);

#endif
