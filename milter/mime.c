/*
 * mime.c - decode a message with GMime 3 into UTF-8 text parts.
 *
 * GMime does the hard parts (MIME structure, RFC 2047 and RFC 2231, raw 8-bit
 * headers through fallback charsets, base64 and quoted-printable); this file
 * chooses which parts are the customer's text, converts charsets with a
 * fallback chain that never fails, and caps depth, part count and size.
 */
#include "mime.h"
#include "html.h"
#include "util.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MIME_MAX_DEPTH	16	/* nesting of multiparts and forwards */
#define MIME_MAX_LEAVES	500	/* leaf parts looked at */

struct walk {
	struct msgtext *mt;
	size_t max_scan;
	unsigned leaves;
	int oom;
};

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static const char *const pinned[] = { "WINDOWS-1252", "ISO-8859-1", "ISO-8859-15",
	"ISO-8859-2", "WINDOWS-1250" };
/* volatile: written, never read, and the stores must stay (a pointer is kept) */
static GIConv volatile pinned_cd[sizeof(pinned) / sizeof(pinned[0])];

static void
mime_init_once(void)
{
	/*
	 * glibc loads a charset converter (CP1252.so, ...) at iconv_open and
	 * unloads it again soon after its last user closes it, so that one
	 * legacy-charset message in a few would pay for dlopen each time:
	 * one descriptor per charset common in European mail, opened here and
	 * never closed, keeps those converters loaded (and loads them before
	 * the milter gives up its privileges).
	 */
	g_mime_init();
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
		pinned_cd[i] = g_iconv_open("UTF-8", pinned[i]);
}

void
mime_init(void)
{
	pthread_once(&mime_once, mime_init_once);
}

static char *
dup_or_empty(const char *s)
{
	char *p = strdup(s ? s : "");

	return p;
}

/*
 * Valid UTF-8 copy of bytes that claim to be UTF-8; NUL bytes become spaces.
 * known_valid: the caller validated them already (or iconv wrote them).
 */
static char *
utf8_sanitize(const char *p, size_t n, bool known_valid)
{
	char *copy = xstrndup(p, n), *out;
	gchar *v;

	if (copy == NULL)
		return NULL;
	for (char *z = memchr(copy, '\0', n); z != NULL; z = memchr(z, '\0', n - (size_t)(z - copy)))
		*z = ' ';
	if (known_valid || utf8_valid(copy, n))
		return copy;
	/* g_utf8_make_valid replaces each bad sequence with U+FFFD */
	v = g_utf8_make_valid(copy, (gssize)n);
	free(copy);
	out = strdup(v);
	g_free(v);
	return out;
}

/*
 * Convert from charset to UTF-8.  Chain: the declared charset (as GMime
 * canonicalises it), UTF-8 when it validates, windows-1252, ISO-8859-1
 * (which maps every byte).
 */
static char *
to_utf8(const char *p, size_t n, const char *charset)
{
	const char *chain[] = { charset, "UTF-8", "windows-1252", "ISO-8859-1" };
	gsize written;
	gchar *r;

	if (p == NULL || n == 0)
		return strdup("");
	for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
		const char *cs = chain[i];

		if (cs == NULL || *cs == '\0')
			continue;
		if (i == 0)
			cs = g_mime_charset_iconv_name(cs);
		if (g_ascii_strcasecmp(cs, "UTF-8") == 0 || g_ascii_strcasecmp(cs, "us-ascii") == 0 ||
		    g_ascii_strcasecmp(cs, "ascii") == 0) {
			/* NUL bytes are fine here: utf8_sanitize() makes them spaces */
			if (utf8_valid(p, n))
				return utf8_sanitize(p, n, true);
			continue;
		}
		r = g_convert(p, (gssize)n, "UTF-8", cs, NULL, &written, NULL);
		if (r != NULL) {
			char *out = utf8_sanitize(r, written, true);

			g_free(r);
			return out;
		}
	}
	return utf8_sanitize(p, n, false);
}

/* CRLF and lone CR to LF, in place. */
static size_t
normalize_eol(char *s, size_t n)
{
	const char *cr = memchr(s, '\r', n);
	size_t o;

	if (cr == NULL) {
		s[n] = '\0';
		return n;
	}
	o = (size_t)(cr - s);
	for (size_t i = o; i < n; i++) {
		if (s[i] == '\r') {
			s[o++] = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

static int
add_part(struct walk *w, char *text, bool forwarded, bool from_html)
{
	struct msgtext *mt = w->mt;
	size_t len = normalize_eol(text, strlen(text));
	struct textpart *np;

	if (mt->text_bytes >= w->max_scan) {
		mt->truncated = true;
		free(text);
		return 0;
	}
	if (len > w->max_scan - mt->text_bytes) {
		len = w->max_scan - mt->text_bytes;
		/* cut at a character boundary */
		while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
			len--;
		text[len] = '\0';
		mt->truncated = true;
	}
	np = realloc(mt->parts, (mt->nparts + 1) * sizeof(*np));
	if (np == NULL) {
		free(text);
		return -1;
	}
	mt->parts = np;
	np[mt->nparts].text = text;
	np[mt->nparts].len = len;
	np[mt->nparts].forwarded = forwarded;
	np[mt->nparts].from_html = from_html;
	mt->nparts++;
	mt->text_bytes += len;
	return 0;
}

/* Decoded, UTF-8 content of a leaf part; NULL on ENOMEM. */
static char *
part_text(GMimePart *part)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *out;
	GByteArray *ba;
	char *text;

	if (dw == NULL)
		return strdup("");
	out = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, out);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	text = to_utf8((const char *)ba->data, ba->len,
	    g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset"));
	g_object_unref(out);
	return text;
}

static bool
is_blank(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isspace(*s))
			return false;
	return true;
}

/*
 * Text collected for one message level (the outer one or a forward), in
 * order of appearance: plain and HTML leaves of this level, and the finished
 * text of forwards attached inside it, which keep their place.
 */
enum item_type { IT_PLAIN, IT_HTML, IT_DONE };

struct item {
	enum item_type type;
	char *text;
	bool forwarded;		/* IT_DONE: flags of the finished part */
	bool from_html;
};

struct level {
	struct item *v;
	size_t n, cap;
};

static int
level_push(struct level *lv, enum item_type type, char *text, bool forwarded, bool from_html)
{
	if (lv->n == lv->cap) {
		size_t cap = lv->cap ? lv->cap * 2 : 8;
		struct item *nv = realloc(lv->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		lv->v = nv;
		lv->cap = cap;
	}
	lv->v[lv->n++] = (struct item){ type, text, forwarded, from_html };
	return 0;
}

static void
level_free(struct level *lv)
{
	for (size_t i = 0; i < lv->n; i++)
		free(lv->v[i].text);
	free(lv->v);
	lv->v = NULL;
	lv->n = lv->cap = 0;
}

static void walk_message(struct walk *w, GMimeMessage *msg, bool forwarded, int depth,
    struct level *parent);

static void
walk_object(struct walk *w, struct level *lv, GMimeObject *obj, bool forwarded, int depth)
{
	if (obj == NULL || w->oom)
		return;
	if (depth > MIME_MAX_DEPTH) {
		w->mt->truncated = true;	/* not read: a partial scan */
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n && !w->oom; i++)
			walk_object(w, lv, g_mime_multipart_get_part(mp, i), forwarded, depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		if (inner != NULL)
			walk_message(w, inner, true, depth + 1, lv);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	if (++w->leaves > MIME_MAX_LEAVES) {
		w->mt->truncated = true;	/* parts past the cap: a partial scan */
		return;
	}

	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	bool plain = ct == NULL || g_mime_content_type_is_type(ct, "text", "plain");
	bool html = ct != NULL && g_mime_content_type_is_type(ct, "text", "html");
	const char *disp = g_mime_object_get_disposition(obj);

	if (!plain && !html)
		return;
	/* a named attachment is a file the customer sent, not their text */
	if (disp != NULL && g_ascii_strcasecmp(disp, "attachment") == 0)
		return;

	char *text = part_text(GMIME_PART(obj));

	if (text == NULL || level_push(lv, plain ? IT_PLAIN : IT_HTML, text, forwarded, !plain) < 0) {
		free(text);
		w->oom = 1;
	}
}

/*
 * Finish a level: its plain text when it has any that is not blank, else its
 * HTML as text; forwards inside it stay where they were.  The result goes to
 * the parent level, or (outermost) to the message's parts.
 */
static void
flush_level(struct walk *w, struct level *lv, struct level *parent)
{
	bool have_plain = false;

	for (size_t i = 0; i < lv->n; i++)
		if (lv->v[i].type == IT_PLAIN && !is_blank(lv->v[i].text))
			have_plain = true;
	for (size_t i = 0; i < lv->n && !w->oom; i++) {
		struct item *it = &lv->v[i];
		char *t = it->text;
		bool from_html = it->from_html;

		if (it->type == IT_DONE || (it->type == IT_PLAIN && have_plain)) {
			/* as it is */
		} else if (it->type == IT_HTML && !have_plain) {
			bool partial = false;

			t = html_to_text_max(it->text, strlen(it->text), w->max_scan + 1, &partial);
			if (t == NULL) {
				w->oom = 1;
				break;
			}
			if (partial)
				w->mt->truncated = true;
			free(it->text);
			from_html = true;
		} else {
			continue;	/* stays in it->text, freed below */
		}
		it->text = NULL;
		if (parent != NULL ? level_push(parent, IT_DONE, t, it->forwarded, from_html) < 0 :
		    add_part(w, t, it->forwarded, from_html) < 0) {
			if (parent != NULL)
				free(t);
			w->oom = 1;
		}
	}
	level_free(lv);
}

static void
walk_message(struct walk *w, GMimeMessage *msg, bool forwarded, int depth, struct level *parent)
{
	struct level lv = { NULL, 0, 0 };

	if (depth > MIME_MAX_DEPTH) {
		w->mt->truncated = true;
		return;
	}
	walk_object(w, &lv, g_mime_message_get_mime_part(msg), forwarded, depth);
	flush_level(w, &lv, parent);
}

static const char *
header(GMimeObject *obj, const char *name)
{
	return g_mime_object_get_header(obj, name);
}

static int
read_headers(struct msgtext *mt, GMimeMessage *msg)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	InternetAddressList *from = g_mime_message_get_from(msg);
	const char *addr = NULL, *name = NULL;
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeContentType *ct;

	if (from != NULL && internet_address_list_length(from) > 0) {
		InternetAddress *ia = internet_address_list_get_address(from, 0);

		name = internet_address_get_name(ia);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	}
	mt->subject = dup_or_empty(g_mime_message_get_subject(msg));
	mt->from_addr = dup_or_empty(addr);
	mt->from_name = dup_or_empty(name);
	mt->message_id = dup_or_empty(g_mime_message_get_message_id(msg));
	mt->in_reply_to = dup_or_empty(header(obj, "In-Reply-To"));
	mt->return_path = dup_or_empty(header(obj, "Return-Path"));
	mt->auto_submitted = dup_or_empty(header(obj, "Auto-Submitted"));
	mt->precedence = dup_or_empty(header(obj, "Precedence"));
	mt->has_list_headers = header(obj, "List-Id") || header(obj, "List-Unsubscribe") ||
	    header(obj, "List-Post");
	mt->has_autoreply_header = header(obj, "X-Autoreply") || header(obj, "X-Autorespond") ||
	    header(obj, "X-Auto-Reply") || header(obj, "X-Autogenerated") ||
	    header(obj, "X-AutoReply-From") || header(obj, "X-Mail-Autoreply") ||
	    header(obj, "X-FC-MachineGenerated");
	ct = top ? g_mime_object_get_content_type(top) : NULL;
	mt->is_report = ct && g_mime_content_type_is_type(ct, "multipart", "report");
	if (!mt->subject || !mt->from_addr || !mt->from_name || !mt->message_id ||
	    !mt->in_reply_to || !mt->return_path || !mt->auto_submitted || !mt->precedence)
		return -1;
	/* header values are single lines from here on */
	for (char *p = mt->subject; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	return 0;
}

static int
empty_headers(struct msgtext *mt)
{
	char **f[] = { &mt->subject, &mt->from_addr, &mt->from_name, &mt->message_id,
		&mt->in_reply_to, &mt->return_path, &mt->auto_submitted, &mt->precedence };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (*f[i] == NULL && (*f[i] = strdup("")) == NULL)
			return -1;
	return 0;
}

int
mime_parse(const char *buf, size_t len, size_t max_scan, struct msgtext *mt)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeParserOptions *opts;
	GMimeMessage *msg;
	struct walk w = { .mt = mt, .max_scan = max_scan };
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };

	memset(mt, 0, sizeof(*mt));
	mime_init();
	/* an mbox "From " envelope line is not a header */
	if (len > 5 && memcmp(buf, "From ", 5) == 0) {
		const char *nl = memchr(buf, '\n', len);

		if (nl != NULL) {
			len -= (size_t)(nl + 1 - buf);
			buf = nl + 1;
		}
	}
	stream = g_mime_stream_mem_new_with_buffer(buf, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(opts, TRUE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	msg = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);

	if (msg == NULL) {
		/* not a message at all: treat the bytes as one plain text */
		mt->no_headers = true;
		if (empty_headers(mt) < 0)
			goto oom;
		char *t = to_utf8(buf, len, NULL);

		if (t == NULL || add_part(&w, t, false, false) < 0)
			goto oom;
	} else {
		if (read_headers(mt, msg) < 0 || empty_headers(mt) < 0)
			goto oom;
		walk_message(&w, msg, false, 0, NULL);
		g_object_unref(msg);
		msg = NULL;
		if (w.oom)
			goto oom;
	}
	g_mime_parser_options_free(opts);
	return 0;
oom:
	if (msg)
		g_object_unref(msg);
	g_mime_parser_options_free(opts);
	msgtext_free(mt);
	return -1;
}

void
msgtext_free(struct msgtext *mt)
{
	free(mt->subject);
	free(mt->from_addr);
	free(mt->from_name);
	free(mt->message_id);
	free(mt->in_reply_to);
	free(mt->return_path);
	free(mt->auto_submitted);
	free(mt->precedence);
	for (size_t i = 0; i < mt->nparts; i++)
		free(mt->parts[i].text);
	free(mt->parts);
	memset(mt, 0, sizeof(*mt));
}
