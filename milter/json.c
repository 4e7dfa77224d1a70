/*
 * json.c - JSON output of complaint-check.
 */
#include "json.h"

#include <stdio.h>
#include <string.h>

int
json_string(strbuf *sb, const char *s)
{
	if (sb_putc(sb, '"') < 0)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int r;

		if (c == '"' || c == '\\')
			r = sb_putc(sb, '\\') < 0 ? -1 : sb_putc(sb, (char)c);
		else if (c == '\n')
			r = sb_puts(sb, "\\n");
		else if (c == '\r')
			r = sb_puts(sb, "\\r");
		else if (c == '\t')
			r = sb_puts(sb, "\\t");
		else if (c < 0x20 || c == 0x7f)
			r = sb_printf(sb, "\\u%04x", c);
		else
			r = sb_putc(sb, (char)c);
		if (r < 0)
			return -1;
	}
	return sb_putc(sb, '"');
}

static int
json_list(strbuf *sb, const strlist *sl)
{
	if (sb_putc(sb, '[') < 0)
		return -1;
	for (size_t i = 0; i < sl->n; i++)
		if ((i && sb_puts(sb, ", ") < 0) || json_string(sb, sl->v[i]) < 0)
			return -1;
	return sb_putc(sb, ']');
}

static int
json_missing(strbuf *sb, unsigned missing)
{
	char buf[128];
	char *p, *save = NULL;
	int first = 1;

	complaint_missing_str(missing, buf, sizeof(buf));
	if (sb_putc(sb, '[') < 0)
		return -1;
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if ((!first && sb_puts(sb, ", ") < 0) || json_string(sb, p) < 0)
			return -1;
		first = 0;
	}
	return sb_putc(sb, ']');
}

int
json_complaint(strbuf *sb, const char *file, const struct complaint *c, const char *error)
{
	int r = 0;

	r |= sb_puts(sb, "{\"file\": ");
	r |= json_string(sb, file);
	if (error) {
		r |= sb_puts(sb, ", \"error\": ");
		r |= json_string(sb, error);
		r |= sb_puts(sb, ", \"verdict\": \"tempfail\"}");
		return r ? -1 : 0;
	}
	r |= sb_printf(sb, ", \"kind\": \"%s\", \"tickets\": ", complaint_kind_name(c->kind));
	r |= json_list(sb, &c->tickets);
	r |= sb_puts(sb, ", \"models\": ");
	r |= json_list(sb, &c->models);
	r |= sb_puts(sb, ", \"serials\": ");
	r |= json_list(sb, &c->serials);
	r |= sb_printf(sb, ", \"description\": %s, \"solution_idea\": %s, \"missing\": ",
	    c->description ? "true" : "false", c->solution_idea ? "true" : "false");
	r |= json_missing(sb, c->missing);
	r |= sb_puts(sb, ", \"language\": ");
	if (c->language[0])
		r |= json_string(sb, c->language);
	else
		r |= sb_puts(sb, "null");
	r |= sb_puts(sb, ", \"case_ref\": ");
	if (c->case_ref)
		r |= json_string(sb, c->case_ref);
	else
		r |= sb_puts(sb, "null");
	r |= sb_printf(sb, ", \"auto_submitted\": %s, \"escalation\": %s, \"review\": %s",
	    c->auto_submitted ? "true" : "false", c->escalation ? "true" : "false",
	    c->review ? "true" : "false");
	r |= sb_puts(sb, ", \"subject\": ");
	r |= json_string(sb, c->subject);
	r |= sb_puts(sb, ", \"from\": ");
	r |= json_string(sb, c->from_addr);
	r |= sb_printf(sb, ", \"verdict\": \"%s\"}", verdict_name(c->verdict));
	return r ? -1 : 0;
}
