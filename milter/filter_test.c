/*
 * filter_test.c - complaint-milter -t: the milter's callbacks run on a saved
 * message without an MTA.
 *
 * The message is split as an MTA hands it to a milter: envelope sender and
 * recipients, one header at a time (a folded header as one value whose
 * lines are joined by "\n", as libmilter passes it), the body in SMTP's CRLF
 * form in chunks of 64 KB, then end of message.  The callbacks are called
 * through the same struct smfiDesc that libmilter gets (filter_desc()), and
 * mfio.c's test mode prints every edit and reply instead of sending it.
 */
#include "filter.h"
#include "mfio.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A header of the message: name and value point into its logical line. */
struct thdr {
	char *name, *value;
};

/* Split "Name: value" (value may hold folded lines); 0 when not a header. */
static int
split_header(char *line, char **name, char **value)
{
	char *colon = strchr(line, ':');

	if (colon == NULL || colon == line)
		return 0;
	for (char *p = line; p < colon; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	*colon = '\0';
	*name = line;
	*value = colon + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
	return 1;
}

/*
 * The logical header lines of buf[0..len) into lines (a folded line joined
 * to the one before with "\n", in time linear in the header's size); returns
 * where the body starts.
 */
static const char *
header_lines(const char *p, const char *end, strlist *lines)
{
	strbuf cur;
	bool have = false;

	sb_init(&cur);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0) {
			p = nl ? nl + 1 : end;
			break;
		}
		if ((*p == ' ' || *p == '\t') && have) {
			sb_putc(&cur, '\n');
			sb_append(&cur, p, n);
		} else {
			if (have)
				sl_addn(lines, cur.s, cur.len);
			sb_reset(&cur);
			sb_append(&cur, p, n);
			have = true;
		}
		p = nl ? nl + 1 : end;
	}
	if (have)
		sl_addn(lines, cur.s, cur.len);
	sb_free(&cur);
	return p;
}

/* The MTA goes on to the next step after these answers. */
#define GOING(st) ((st) == SMFIS_CONTINUE || (st) == SMFIS_NOREPLY)

int
filter_test_file(const char *path, const char *envfrom, const strlist *rcpts)
{
	const struct smfiDesc *d = filter_desc();
	SMFICTX *ctx = NULL;
	char *buf, *from_arg[2], *rcpt_arg[2];
	const char *p, *end;
	size_t len, nh = 0;
	sfsistat st;
	strbuf body;
	strlist lines;
	struct thdr *hv;
	char fromaddr[512] = "";

	if (file_read(path, &buf, &len) < 0) {
		fprintf(stderr, "complaint-milter: %s: %s\n", path, strerror(errno));
		return SMFIS_TEMPFAIL;
	}
	mf_test_macro("i", "TESTQUEUEID");
	sb_init(&body);
	sl_init(&lines);
	end = buf + len;
	p = buf;
	/* an mbox "From " line is not part of the message */
	if (len > 5 && memcmp(p, "From ", 5) == 0 && (p = memchr(p, '\n', len)) != NULL)
		p++;
	else
		p = buf;
	p = header_lines(p, end, &lines);
	if ((hv = calloc(lines.n + 1, sizeof(*hv))) == NULL) {
		sl_free(&lines);
		free(buf);
		return SMFIS_TEMPFAIL;
	}
	for (size_t i = 0; i < lines.n; i++)
		if (split_header(lines.v[i], &hv[nh].name, &hv[nh].value))
			nh++;
	/* the body in SMTP's CRLF form */
	for (const char *q = p; q < end; q++) {
		if (*q == '\n' && (q == p || q[-1] != '\r'))
			sb_putc(&body, '\r');
		sb_putc(&body, *q);
	}
	/* no -F: the address in From: stands in for the envelope sender */
	for (size_t i = 0; i < nh && !envfrom; i++) {
		if (strcasecmp(hv[i].name, "From") == 0) {
			const char *lt = strchr(hv[i].value, '<'), *gt;

			if (lt && (gt = strchr(lt, '>')) != NULL)
				snprintf(fromaddr, sizeof(fromaddr), "<%.*s>", (int)(gt - lt - 1), lt + 1);
			else
				snprintf(fromaddr, sizeof(fromaddr), "<%s>", hv[i].value);
			envfrom = fromaddr;
		}
	}
	from_arg[0] = (char *)(envfrom ? envfrom : "<test@example.org>");
	from_arg[1] = NULL;
	st = d->xxfi_envfrom(ctx, from_arg);
	for (size_t i = 0; GOING(st) && i < rcpts->n; i++) {
		rcpt_arg[0] = rcpts->v[i];
		rcpt_arg[1] = NULL;
		st = d->xxfi_envrcpt(ctx, rcpt_arg);
	}
	if (GOING(st))
		st = d->xxfi_data(ctx);
	for (size_t i = 0; GOING(st) && i < nh; i++)
		st = d->xxfi_header(ctx, hv[i].name, hv[i].value);
	for (size_t off = 0; GOING(st) && off < body.len; off += 65536) {
		size_t n = body.len - off < 65536 ? body.len - off : 65536;

		st = d->xxfi_body(ctx, (unsigned char *)body.s + off, n);
	}
	if (GOING(st))
		st = d->xxfi_eom(ctx);
	d->xxfi_close(ctx);
	free(hv);
	sl_free(&lines);
	sb_free(&body);
	free(buf);
	return st;
}
