/*
 * html.c - HTML to plain text with libxml2's forgiving HTML parser.
 *
 * The parser builds a tree (recovering from any garbage); one iterative
 * walk over it writes the text, so deep nesting cannot exhaust the stack.
 * Line breaks and separators are not written when an element asks for them
 * but kept pending and written just before the next piece of text: that is
 * what keeps blank lines single and lines free of trailing separators.  A
 * final pass trims what <pre> text and empty quoted lines can still leave.
 */
#include "html.h"
#include "util.h"

#include <limits.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* What an element does to the text. */
enum kind {
	K_INLINE = 0,	/* nothing: its text flows on */
	K_SKIP,		/* dropped with everything inside */
	K_BR,		/* one line break */
	K_LINE,		/* block: starts and ends a line */
	K_PARA,		/* paragraph: set off by a blank line */
	K_LI,		/* list item: line starting with "- " */
	K_QUOTE,	/* blockquote: paragraph, lines prefixed "> " */
	K_PRE,		/* preformatted: paragraph, white space kept */
	K_TR,		/* table row: one line */
	K_CELL,		/* td, th: TAB before all but the first of a row */
};

static const struct tag {
	const char *name;
	enum kind kind;
} tags[] = {
	{"address", K_LINE}, {"article", K_LINE}, {"aside", K_LINE},
	{"blockquote", K_QUOTE}, {"br", K_BR}, {"caption", K_LINE},
	{"center", K_LINE}, {"dd", K_LINE}, {"details", K_LINE},
	{"dir", K_LINE}, {"div", K_LINE}, {"dl", K_LINE}, {"dt", K_LINE},
	{"fieldset", K_LINE}, {"figcaption", K_LINE}, {"figure", K_LINE},
	{"footer", K_LINE}, {"form", K_LINE}, {"h1", K_PARA}, {"h2", K_PARA},
	{"h3", K_PARA}, {"h4", K_PARA}, {"h5", K_PARA}, {"h6", K_PARA},
	{"head", K_SKIP}, {"header", K_LINE}, {"hr", K_LINE},
	{"legend", K_LINE}, {"li", K_LI}, {"main", K_LINE}, {"menu", K_LINE},
	{"nav", K_LINE}, {"noscript", K_SKIP}, {"ol", K_LINE}, {"p", K_PARA},
	{"pre", K_PRE}, {"script", K_SKIP}, {"section", K_LINE},
	{"style", K_SKIP}, {"summary", K_LINE}, {"table", K_LINE},
	{"td", K_CELL}, {"template", K_SKIP}, {"th", K_CELL},
	{"title", K_SKIP}, {"tr", K_TR}, {"ul", K_LINE},
};

/* The text being written and what is pending before its next character. */
struct out {
	strbuf sb;
	size_t max;		/* stop once the text is this long (0: no limit):
				   256 nested quotes before each of 100,000 short
				   paragraphs make 1 MB of HTML 100 MB of text */
	int full;		/* ... and it is */
	int oom;		/* an append failed */
	int started;		/* some text was written */
	int bol;		/* at the start of a line, prefix not written */
	int nl;			/* pending line breaks: 0, 1 or 2 (blank line) */
	int space;		/* pending collapsed white space */
	int tabs;		/* pending cell separators */
	int bullet;		/* pending "- " of a list item */
	int quote;		/* blockquote depth */
	int line_quote;		/* blockquote depth of the last line written */
	int pre;		/* <pre> depth */
	int cells;		/* cells so far in the current table row */
};

static enum kind
tag_kind(const char *name)
{
	size_t lo = 0, hi = sizeof(tags) / sizeof(tags[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = strcmp(name, tags[mid].name);

		if (cmp == 0)
			return tags[mid].kind;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return K_INLINE;
}

static void
put(struct out *o, const char *p, size_t n)
{
	if (o->oom || o->full)
		return;
	if (sb_append(&o->sb, p, n) < 0)
		o->oom = 1;
	else if (o->max && o->sb.len >= o->max)
		o->full = 1;
}

static void
put_prefix(struct out *o, int depth)
{
	while (depth-- > 0)
		put(o, "> ", 2);
}

/* Ask for n line breaks (1 = new line, 2 = blank line) before more text. */
static void
want_break(struct out *o, int n)
{
	if (o->nl < n)
		o->nl = n;
}

/* One more line break (<br>, newline in <pre>), at most a blank line. */
static void
add_break(struct out *o)
{
	if (o->nl < 2)
		o->nl++;
}

/* Write whatever is pending; called right before text is written. */
static void
flush(struct out *o)
{
	if (o->nl > 0 && o->started) {
		put(o, "\n", 1);
		if (o->nl > 1) {
			put_prefix(o, o->line_quote < o->quote ?
			    o->line_quote : o->quote);
			put(o, "\n", 1);
		}
		o->bol = 1;
	}
	o->nl = 0;
	if (o->bol) {
		put_prefix(o, o->quote);
		o->line_quote = o->quote;
		if (o->bullet)
			put(o, "- ", 2);
		o->bol = 0;
	} else if (o->tabs > 0) {
		while (o->tabs-- > 0)
			put(o, "\t", 1);
	} else if (o->space) {
		put(o, " ", 1);
	}
	o->bullet = o->space = o->tabs = 0;
	o->started = 1;
}

/* Text outside <pre>: runs of white space (and U+00A0) become one space. */
static void
text_flow(struct out *o, const char *s)
{
	static const char ws[] = " \t\r\n\f\xc2";

	while (*s) {
		size_t n;

		if (strchr(" \t\r\n\f", *s)) {
			o->space = 1;
			s++;
			continue;
		}
		if (s[0] == '\xc2' && s[1] == '\xa0') {
			o->space = 1;
			s += 2;
			continue;
		}
		n = strcspn(s, ws);
		if (n == 0)	/* '\xc2' leading another character */
			n = 1;
		flush(o);
		put(o, s, n);
		s += n;
	}
}

/* Text inside <pre>: kept as is but for CR LF / CR -> LF, U+00A0 -> ' '. */
static void
text_pre(struct out *o, const char *s)
{
	while (*s) {
		size_t n;

		if (*s == '\r' || *s == '\n') {
			if (s[0] == '\r' && s[1] == '\n')
				s++;
			s++;
			add_break(o);
			continue;
		}
		flush(o);
		if (s[0] == '\xc2' && s[1] == '\xa0') {
			put(o, " ", 1);
			s += 2;
			continue;
		}
		n = strcspn(s, "\r\n\xc2");
		if (n == 0)
			n = 1;
		put(o, s, n);
		s += n;
	}
}

/* Start of a node; returns 1 when it is an element to descend into. */
static int
enter(struct out *o, const xmlNode *node)
{
	if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
		if (node->content == NULL)
			return 0;
		if (o->pre)
			text_pre(o, (const char *)node->content);
		else
			text_flow(o, (const char *)node->content);
		return 0;
	}
	if (node->type != XML_ELEMENT_NODE || node->name == NULL)
		return 0;	/* comment, PI, DTD, ... */

	switch (tag_kind((const char *)node->name)) {
	case K_SKIP:
		return 0;
	case K_BR:
		add_break(o);
		break;
	case K_LINE:
		want_break(o, 1);
		break;
	case K_PARA:
		want_break(o, 2);
		break;
	case K_LI:
		want_break(o, 1);
		o->bullet = 1;
		break;
	case K_QUOTE:
		want_break(o, 2);
		o->quote++;
		break;
	case K_PRE:
		want_break(o, 2);
		o->pre++;
		break;
	case K_TR:
		want_break(o, 1);
		o->cells = 0;
		break;
	case K_CELL:
		if (o->cells++ > 0)
			o->tabs++;
		break;
	case K_INLINE:
		break;
	}
	return 1;
}

/* End of an element enter() returned 1 for. */
static void
leave(struct out *o, const xmlNode *node)
{
	switch (tag_kind((const char *)node->name)) {
	case K_LINE:
	case K_TR:
		want_break(o, 1);
		break;
	case K_LI:
		want_break(o, 1);
		o->bullet = 0;
		break;
	case K_PARA:
		want_break(o, 2);
		break;
	case K_QUOTE:
		o->quote--;
		want_break(o, 2);
		break;
	case K_PRE:
		o->pre--;
		want_break(o, 2);
		break;
	default:
		break;
	}
}

/* Depth-first walk by the tree's own links: no recursion, no stack. */
static void
walk(struct out *o, const xmlDoc *doc)
{
	const xmlNode *cur = doc->children;

	while (cur != NULL && !o->oom && !o->full) {
		if (enter(o, cur)) {
			if (cur->children != NULL) {
				cur = cur->children;
				continue;
			}
			leave(o, cur);
		}
		while (cur->next == NULL) {
			cur = cur->parent;
			if (cur == NULL || cur->type != XML_ELEMENT_NODE)
				return;
			leave(o, cur);
		}
		cur = cur->next;
	}
}

/*
 * In place: trim trailing blanks of every line, drop leading and trailing
 * empty lines, squeeze runs of empty lines to one.
 */
static void
tidy(strbuf *sb)
{
	char *r, *w, *end;
	int any = 0, blank = 0;

	if (sb->s == NULL)
		return;		/* no text: NULL + 0 would be undefined */
	r = w = sb->s;
	end = sb->s + sb->len;
	while (r < end) {
		char *eol = memchr(r, '\n', (size_t)(end - r));
		char *e;

		if (eol == NULL)
			eol = end;
		for (e = eol; e > r && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e == r) {
			blank = any;
		} else {
			if (any)
				*w++ = '\n';
			if (blank)
				*w++ = '\n';
			memmove(w, r, (size_t)(e - r));
			w += e - r;
			any = 1;
			blank = 0;
		}
		if (eol == end)
			break;
		r = eol + 1;
	}
	*w = '\0';
	sb->len = (size_t)(w - sb->s);
}

char *
html_to_text_max(const char *html, size_t len, size_t max_out, bool *partial)
{
	const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
	    HTML_PARSE_NOWARNING | HTML_PARSE_NONET;
	struct out o;
	htmlDocPtr doc = NULL;
	htmlParserCtxtPtr ctxt;
	bool halted = false;

	memset(&o, 0, sizeof(o));
	sb_init(&o.sb);
	o.bol = 1;
	o.max = max_out;
	if (html == NULL)
		len = 0;
	if (len > INT_MAX) {
		len = INT_MAX;
		halted = true;
	}
	xmlInitParser();
	if (len > 0) {
		if ((ctxt = htmlNewParserCtxt()) == NULL)
			return NULL;
		doc = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8", opts);
		/*
		 * A fatal error stops the parser (in recovery mode only such
		 * errors do): nesting deeper than libxml2's limit (256), say.
		 * What came after it is not in the tree.
		 */
		if (ctxt->disableSAX)
			halted = true;
		htmlFreeParserCtxt(ctxt);
	}
	if (doc != NULL) {
		walk(&o, doc);
		xmlFreeDoc(doc);
	}
	if (o.oom) {
		sb_free(&o.sb);
		return NULL;
	}
	if (partial)
		*partial = halted || o.full;
	tidy(&o.sb);
	return sb_steal(&o.sb);
}

char *
html_to_text(const char *html, size_t len)
{
	return html_to_text_max(html, len, 0, NULL);
}
