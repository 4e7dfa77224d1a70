/*
 * subject.c - tag Subjects with the case ID; make header values safe.
 */
#include "subject.h"
#include "mime.h"
#include "util.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

/* Where the text after the reply/forward prefixes starts in raw. */
static size_t
prefix_end(const char *raw, const struct rules *rs)
{
	size_t len = strlen(raw), off = 0;
	struct rscan sc;
	struct rmatch m;

	while (off < len && (raw[off] == ' ' || raw[off] == '\t'))
		off++;
	if (rs == NULL || rscan_init(&sc) < 0)
		return off;
	for (int i = 0; i < 10; i++) {
		if (rules_find(rs, RC_REPLY_PREFIX, &sc, raw, len, off, &m) != 1 || m.end == m.start)
			break;
		off = m.end;
	}
	rscan_free(&sc);
	return off;
}

char *
subject_tag(const char *raw, const char *decoded, const char *case_id,
    const struct rules *rs, bool *unchanged)
{
	strbuf sb;
	size_t cut, first_line;

	*unchanged = false;
	if (decoded && strcasestr(decoded, case_id) != NULL) {
		*unchanged = true;
		return NULL;
	}
	sb_init(&sb);
	if (raw == NULL || *raw == '\0') {
		if (sb_printf(&sb, "[%s]", case_id) < 0)
			return NULL;
		return sb_steal(&sb);
	}
	cut = prefix_end(raw, rs);
	/* a line of the header must stay under 998 bytes: fold after the tag */
	first_line = strcspn(raw, "\r\n");
	if (sb_append(&sb, raw, cut) < 0 || sb_printf(&sb, "[%s]", case_id) < 0 ||
	    sb_puts(&sb, first_line + strlen(case_id) + 12 > 900 ? "\n\t" : " ") < 0 ||
	    sb_puts(&sb, raw + cut) < 0) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

char *
header_value_safe(const char *value)
{
	strbuf sb;
	bool ascii = true, space = false;
	size_t n;
	char *out;

	sb_init(&sb);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		unsigned char c = *p;

		if (c < 0x20 || c == 0x7f) {
			space = sb.len > 0;
			continue;
		}
		if (c == ' ') {
			space = sb.len > 0;
			continue;
		}
		if (space && sb_putc(&sb, ' ') < 0)
			goto oom;
		space = false;
		if (c >= 0x80)
			ascii = false;
		if (sb_putc(&sb, (char)c) < 0)
			goto oom;
		if (sb.len >= HEADER_VALUE_MAX)
			break;
	}
	n = sb.len;
	/* never end inside a UTF-8 sequence cut by the length limit */
	if (n >= HEADER_VALUE_MAX) {
		size_t k = n;

		while (k > 0 && ((unsigned char)sb.s[k - 1] & 0xC0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)sb.s[k - 1] & 0xC0) == 0xC0) {
			unsigned char lead = (unsigned char)sb.s[k - 1];
			size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;

			if (n - (k - 1) < need)
				n = k - 1;
		}
		while (n > 0 && sb.s[n - 1] == ' ')
			n--;
	}
	if (sb.s)
		sb.s[n] = '\0';
	sb.len = n;
	if (ascii)
		return sb_steal(&sb);
	if (!g_utf8_validate(sb.s, (gssize)sb.len, NULL)) {
		gchar *v = g_utf8_make_valid(sb.s, (gssize)sb.len);

		sb_reset(&sb);
		if (sb_puts(&sb, v) < 0) {
			g_free(v);
			goto oom;
		}
		g_free(v);
	}
	mime_init();
	out = g_mime_utils_header_encode_text(NULL, sb.s, "utf-8");
	sb_free(&sb);
	if (out == NULL)
		return NULL;
	/* GMime may fold long encodings; a value we add stays one line */
	for (char *p = out; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	{
		char *copy = strdup(out);

		g_free(out);
		return copy;
	}
oom:
	sb_free(&sb);
	return NULL;
}
