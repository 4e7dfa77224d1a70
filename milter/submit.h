/*
 * submit.h - hand one message to the mail system: a sendmail-compatible
 * program (argument vector, no shell, explicit recipient, never -t) or SMTP
 * to a relay (libcurl).  The envelope sender is always the null sender <>.
 */
#ifndef CM_SUBMIT_H
#define CM_SUBMIT_H

#include <stddef.h>

enum submit_kind {
	SUBMIT_SENDMAIL = 1,
	SUBMIT_SMTP,
};

struct transport {
	enum submit_kind kind;
	char path[1024];	/* sendmail: the program */
	char host[256];		/* smtp: host name or address (IPv6 in [..]) */
	unsigned port;
	char helo[256];		/* smtp: the EHLO name ("" : libcurl's default) */
	unsigned timeout;	/* seconds for one submission */
};

enum submit_result {
	SUBMIT_OK = 0,
	SUBMIT_TEMPFAIL,	/* try again later */
	SUBMIT_PERMFAIL,	/* the relay refused for good (5xx), or sendmail EX_DATAERR/NOUSER/NOHOST */
};

/* "sendmail:/usr/sbin/sendmail" or "smtp:HOST:PORT" ("smtp:[::1]:25").  0 or -1 (err). */
int submit_parse_transport(const char *spec, struct transport *t, char *err, size_t errlen);
/* Process-wide setup (libcurl); call once before any thread starts.  0 or -1. */
int submit_init(void);
void submit_cleanup(void);
/*
 * Submit msg (LF line ends; converted to CRLF for SMTP) to recipient with
 * the null envelope sender.  err says why when not SUBMIT_OK.
 */
enum submit_result submit_message(const struct transport *t, const char *recipient,
    const char *msg, size_t len, char *err, size_t errlen);

#endif
