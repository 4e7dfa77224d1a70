/*
 * reply.c - the content of complaint-reply's mail: the RFC 3834 checks,
 * the reply language, dates in words, the template renderer and the
 * message, built with GMime so that every header is encoded by the library
 * and no customer text can start a header of its own.
 *
 * Month and day names are written out here (the machine's locales are not
 * needed).  Template syntax and placeholders: conf/templates/README.md.
 */
#include "reply.h"

#include <ctype.h>
#include <errno.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mime.h"

const char *
reply_kind_name(enum reply_kind k)
{
	return k == REPLY_COMPLETE ? "complete" : "ack";
}

/* ---- RFC 3834 ---- */

void
reply_addr_key(const char *addr, char *out, size_t outsz)
{
	size_t n, i, o = 0;
	const char *at, *plus;

	out[0] = '\0';
	if (addr == NULL || outsz == 0)
		return;
	if (*addr == '<')
		addr++;
	n = strlen(addr);
	if (n && addr[n - 1] == '>')
		n--;
	at = memrchr(addr, '@', n);
	plus = at ? memchr(addr, '+', (size_t)(at - addr)) : NULL;
	for (i = 0; i < n; i++) {
		if (plus && addr + i >= plus && addr + i < at)
			continue;	/* local+detail is local */
		if (o + 1 >= outsz) {
			out[0] = '\0';
			return;
		}
		out[o++] = (char)tolower((unsigned char)addr[i]);
	}
	out[o] = '\0';
}

/* The first word of a header value, lower case ("No; x" -> "no"). */
static void
first_word(const char *v, char *out, size_t n)
{
	size_t o = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	while (*v && *v != ';' && *v != ' ' && *v != '\t' && *v != '\r' && *v != '\n' &&
	    o + 1 < n)
		out[o++] = (char)tolower((unsigned char)*v++);
	out[o] = '\0';
}

/* An address we would put in a header and on a command line. */
static bool
addr_plain(const char *key)
{
	const char *at = strrchr(key, '@');

	if (at == NULL || at == key || at[1] == '\0')
		return false;
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>,;:()\\\"[]", *p))
			return false;
	return *key != '-';
}

static const char *
local_part_reason(const char *key)
{
	static const char *const noreply[] = {
		"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
	};
	size_t n = (size_t)(strrchr(key, '@') - key);
	char local[256];

	if (n >= sizeof(local))
		return "bad-address";
	memcpy(local, key, n);
	local[n] = '\0';
	if (strcmp(local, "mailer-daemon") == 0)
		return "mailer-daemon";
	if (strcmp(local, "postmaster") == 0)
		return "postmaster";
	if (strncmp(local, "owner-", 6) == 0)
		return "owner";
	if (n >= 8 && strcmp(local + n - 8, "-request") == 0)
		return "request";
	for (size_t i = 0; i < sizeof(noreply) / sizeof(noreply[0]); i++)
		if (strcmp(local, noreply[i]) == 0)
			return "no-reply-address";
	return NULL;
}

const char *
reply_suppress_reason(const struct reply_origin *o, const strlist *own)
{
	const char *ef = o->envelope_from ? o->envelope_from : "", *why;
	char key[512], w[32], ok[512];

	if (*ef == '\0' || strcmp(ef, "<>") == 0)
		return "null-sender";
	if (o->auto_submitted) {
		first_word(o->auto_submitted, w, sizeof(w));
		if (strcmp(w, "no") != 0)
			return "auto-submitted";
	}
	if (o->precedence) {
		first_word(o->precedence, w, sizeof(w));
		if (strcmp(w, "bulk") == 0 || strcmp(w, "junk") == 0 || strcmp(w, "list") == 0)
			return "precedence";
	}
	if (o->list_headers)
		return "list";
	reply_addr_key(ef, key, sizeof(key));
	if (!addr_plain(key))
		return "bad-address";
	if ((why = local_part_reason(key)) != NULL)
		return why;
	for (size_t i = 0; own && i < own->n; i++) {
		reply_addr_key(own->v[i], ok, sizeof(ok));
		if (strcmp(ok, key) == 0)
			return "own-address";
	}
	return NULL;
}

/* ---- languages and dates ---- */

enum { L_NL, L_EN, L_DE, L_FR, NLANG };
static const char *const LANGS[NLANG] = { "nl", "en", "de", "fr" };

static int
lang_index(const char *lang)
{
	for (int i = 0; i < NLANG; i++)
		if (lang && strcmp(lang, LANGS[i]) == 0)
			return i;
	return -1;
}

const char *
reply_language(const char *lang, const char *fallback)
{
	int i = lang_index(lang);

	if (i < 0)
		i = lang_index(fallback);
	return LANGS[i < 0 ? L_EN : i];
}

static const char *const DAYS[NLANG][7] = {	/* Monday first */
	{ "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag" },
	{ "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" },
	{ "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag" },
	{ "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche" },
};

static const char *const MONTHS[NLANG][12] = {
	{ "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
	  "september", "oktober", "november", "december" },
	{ "January", "February", "March", "April", "May", "June", "July", "August",
	  "September", "October", "November", "December" },
	{ "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
	  "September", "Oktober", "November", "Dezember" },
	{ "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	  "septembre", "octobre", "novembre", "décembre" },
};

/* 0 = Monday (Sakamoto's method, which counts from Sunday). */
static int
weekday(struct ymd d)
{
	static const int t[12] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
	int y = d.y - (d.m < 3);

	return ((y + y / 4 - y / 100 + y / 400 + t[d.m - 1] + d.d) % 7 + 6) % 7;
}

void
reply_format_date(const char *lang, struct ymd d, char *buf, size_t n)
{
	int l = lang_index(reply_language(lang, "en"));
	const char *wd, *mo;

	if (d.m < 1 || d.m > 12 || d.d < 1 || d.d > 31 || d.y < 1) {
		snprintf(buf, n, "?");
		return;
	}
	wd = DAYS[l][weekday(d)];
	mo = MONTHS[l][d.m - 1];
	if (l == L_DE)
		snprintf(buf, n, "%s, %d. %s %d", wd, d.d, mo, d.y);
	else if (l == L_FR)
		snprintf(buf, n, "%s %d%s %s %d", wd, d.d, d.d == 1 ? "er" : "", mo, d.y);
	else
		snprintf(buf, n, "%s %d %s %d", wd, d.d, mo, d.y);
}

/* ---- the renderer ---- */

const char *const reply_placeholders[] = {
	"case_id", "case_tag", "kind", "tickets", "models", "serials", "missing",
	"customer_name", "subject", "received", "update_by", "resolve_by",
	"complaints_address", "company_name", NULL,
};

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Length of "{name}" at p (0 when p is not a placeholder); name in *name, *nlen. */
static size_t
placeholder_at(const char *p, const char **name, size_t *nlen)
{
	size_t i = 1;

	if (p[0] != '{')
		return 0;
	while (name_char(p[i]))
		i++;
	if (i == 1 || p[i] != '}')
		return 0;
	*name = p + 1;
	*nlen = i - 1;
	return i + 1;
}

static const char *
var_value(const struct reply_var *vars, size_t nvars, const char *name, size_t n)
{
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0)
			return vars[i].value ? vars[i].value : "";
	return NULL;
}

static int
put_escaped(strbuf *out, const char *v, bool html)
{
	int r = 0;

	if (!html)
		return sb_puts(out, v);
	for (; *v && r == 0; v++) {
		switch (*v) {
		case '<': r = sb_puts(out, "&lt;"); break;
		case '>': r = sb_puts(out, "&gt;"); break;
		case '&': r = sb_puts(out, "&amp;"); break;
		case '"': r = sb_puts(out, "&quot;"); break;
		case '\'': r = sb_puts(out, "&#39;"); break;
		default: r = sb_putc(out, *v);
		}
	}
	return r;
}

/* Substitute the placeholders of one line (without its newline). */
static int
render_line(const char *p, size_t len, const struct reply_var *vars, size_t nvars,
    bool html, strbuf *out)
{
	const char *end = p + len;
	int r = 0;

	while (p < end && r == 0) {
		const char *name, *v;
		size_t nlen, k;

		if (p[0] == '{' && p + 1 < end && p[1] == '{') {
			r = sb_putc(out, '{');
			p += 2;
		} else if ((k = placeholder_at(p, &name, &nlen)) != 0 && p + k <= end &&
		    (v = var_value(vars, nvars, name, nlen)) != NULL) {
			r = put_escaped(out, v, html);
			p += k;
		} else
			r = sb_putc(out, *p++);
	}
	return r;
}

/* Is the line "{#name}", "{^name}" or "{/name}" (white space around allowed)? */
static char
block_marker(const char *p, size_t len, const char **name, size_t *nlen)
{
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	if (len < 4 || p[0] != '{' || p[len - 1] != '}' || !strchr("#^/", p[1]))
		return 0;
	for (size_t i = 2; i < len - 1; i++)
		if (!name_char(p[i]))
			return 0;
	*name = p + 2;
	*nlen = len - 3;
	return p[1];
}

#define MAX_DEPTH 8

struct block {
	const char *name;
	size_t nlen;
	bool on;
};

/* A block marker line: open or close a block.  0 or -1 (err). */
static int
block_line(char m, const char *name, size_t nlen, const struct reply_var *vars, size_t nvars,
    struct block *st, int *depth, int line, char *err, size_t errlen)
{
	const char *v;

	if (m == '/') {
		if (*depth == 0 || st[*depth - 1].nlen != nlen ||
		    memcmp(st[*depth - 1].name, name, nlen) != 0) {
			snprintf(err, errlen, "line %d: {/%.*s} closes no open block", line,
			    (int)nlen, name);
			return -1;
		}
		(*depth)--;
		return 0;
	}
	if (*depth == MAX_DEPTH) {
		snprintf(err, errlen, "line %d: blocks nested too deep", line);
		return -1;
	}
	v = var_value(vars, nvars, name, nlen);
	st[*depth].name = name;
	st[*depth].nlen = nlen;
	st[*depth].on = (*depth == 0 || st[*depth - 1].on) &&
	    ((v != NULL && *v != '\0') == (m == '#'));
	(*depth)++;
	return 0;
}

int
reply_render(const char *tmpl, const struct reply_var *vars, size_t nvars, bool html,
    strbuf *out, char *err, size_t errlen)
{
	struct block st[MAX_DEPTH];
	int depth = 0, line = 0;
	const char *p = tmpl;

	sb_reset(out);
	if (sb_puts(out, "") < 0)
		goto oom;
	while (*p) {
		const char *nl = strchr(p, '\n'), *name;
		size_t len = nl ? (size_t)(nl - p) : strlen(p), nlen;
		char m = block_marker(p, len, &name, &nlen);

		line++;
		if (m) {
			if (block_line(m, name, nlen, vars, nvars, st, &depth, line, err, errlen) < 0)
				return -1;
		} else if (depth == 0 || st[depth - 1].on) {
			if (render_line(p, len, vars, nvars, html, out) < 0 ||
			    (nl && sb_putc(out, '\n') < 0))
				goto oom;
		}
		p += len + (nl != NULL);
	}
	if (depth) {
		snprintf(err, errlen, "{#%.*s} is never closed", (int)st[depth - 1].nlen,
		    st[depth - 1].name);
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
reply_unknown_placeholder(const char *tmpl, const char *const *names, char *out, size_t n)
{
	int line = 1;

	for (const char *p = tmpl; *p; p++) {
		const char *name;
		size_t nlen;
		bool known = false;

		if (*p == '\n')
			line++;
		if (p[0] == '{' && p[1] == '{') {
			p++;
			continue;
		}
		if (p[0] == '{' && p[1] && strchr("#^/", p[1])) {
			/* a block marker: check its name */
			for (nlen = 0; name_char(p[2 + nlen]); nlen++)
				;
			if (nlen == 0 || p[2 + nlen] != '}')
				continue;
			name = p + 2;
		} else if (placeholder_at(p, &name, &nlen) == 0)
			continue;
		for (size_t i = 0; names[i]; i++)
			if (strlen(names[i]) == nlen && memcmp(names[i], name, nlen) == 0)
				known = true;
		if (!known) {
			snprintf(out, n, "%.*s", (int)nlen, name);
			return line;
		}
	}
	return 0;
}

/* ---- templates ---- */

struct tmpl {
	char *subject;
	char *body;
	char *html;		/* NULL: made from the text */
};

struct reply_templates {
	bool have[NLANG];
	struct tmpl t[NLANG][2];
	int fallback;
};

static void
tmpl_free(struct tmpl *t)
{
	free(t->subject);
	free(t->body);
	free(t->html);
	memset(t, 0, sizeof(*t));
}

void
reply_templates_free(struct reply_templates *t)
{
	if (t == NULL)
		return;
	for (int l = 0; l < NLANG; l++)
		for (int k = 0; k < 2; k++)
			tmpl_free(&t->t[l][k]);
	free(t);
}

/* Unknown placeholders and unbalanced blocks are errors at load time. */
static int
check_placeholders(const char *path, const char *text, int first_line, char *err, size_t errlen)
{
	char name[64], why[256];
	int line = reply_unknown_placeholder(text, reply_placeholders, name, sizeof(name));
	strbuf sb;

	if (line != 0) {
		snprintf(err, errlen, "%s:%d: unknown placeholder {%s} (see conf/templates/README.md)",
		    path, line + first_line - 1, name);
		return -1;
	}
	sb_init(&sb);
	line = reply_render(text, NULL, 0, false, &sb, why, sizeof(why));
	sb_free(&sb);
	if (line < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return line;
}

/* Split "Subject: ...\n\nbody" into t. */
static int
parse_txt(const char *path, char *buf, struct tmpl *t, char *err, size_t errlen)
{
	char *nl = strchr(buf, '\n'), *subj, *body;

	if (strncasecmp(buf, "Subject:", 8) != 0 || nl == NULL) {
		snprintf(err, errlen, "%s:1: the first line must be \"Subject: ...\"", path);
		return -1;
	}
	*nl = '\0';
	body = nl + 1;
	if (*body == '\r')
		body++;
	if (*body != '\n') {
		snprintf(err, errlen, "%s:2: expected an empty line after the Subject", path);
		return -1;
	}
	body++;
	subj = str_trim(buf + 8);
	if (check_placeholders(path, subj, 1, err, errlen) < 0 ||
	    check_placeholders(path, body, 3, err, errlen) < 0)
		return -1;
	if ((t->subject = strdup(subj)) == NULL || (t->body = strdup(body)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return 0;
}

/* Read path; 1 read, 0 not there, -1 error. */
static int
read_opt(const char *path, char **buf, char *err, size_t errlen)
{
	size_t len;

	if (file_read(path, buf, &len) == 0) {
		if (strlen(*buf) != len) {
			snprintf(err, errlen, "%s: contains a NUL byte", path);
			free(*buf);
			return -1;
		}
		if (!g_utf8_validate(*buf, (gssize)len, NULL)) {
			snprintf(err, errlen, "%s: not valid UTF-8", path);
			free(*buf);
			return -1;
		}
		return 1;
	}
	if (errno == ENOENT)
		return 0;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

static int
load_one(const char *dir, int l, int k, struct tmpl *t, char *err, size_t errlen)
{
	char path[4096];
	char *buf = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/%s/%s.txt", dir, LANGS[l], reply_kind_name(k));
	if ((r = read_opt(path, &buf, err, errlen)) <= 0) {
		if (r == 0)
			snprintf(err, errlen, "%s: %s", path, strerror(ENOENT));
		return -1;
	}
	r = parse_txt(path, buf, t, err, errlen);
	free(buf);
	if (r < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s.html", dir, LANGS[l], reply_kind_name(k));
	if ((r = read_opt(path, &t->html, err, errlen)) < 0)
		return -1;
	if (r == 1 && check_placeholders(path, t->html, 1, err, errlen) < 0)
		return -1;
	return 0;
}

struct reply_templates *
reply_templates_load(const char *dir, const char *fallback, char *err, size_t errlen)
{
	struct reply_templates *t = calloc(1, sizeof(*t));
	char path[4096];

	if (t == NULL) {
		snprintf(err, errlen, "templates: out of memory");
		return NULL;
	}
	t->fallback = lang_index(reply_language(fallback, "en"));
	for (int l = 0; l < NLANG; l++) {
		snprintf(path, sizeof(path), "%s/%s", dir, LANGS[l]);
		if (access(path, F_OK) != 0 && l != t->fallback)
			continue;	/* this language falls back */
		for (int k = 0; k < 2; k++)
			if (load_one(dir, l, k, &t->t[l][k], err, errlen) < 0) {
				reply_templates_free(t);
				return NULL;
			}
		t->have[l] = true;
	}
	return t;
}

/* ---- one case's text ---- */

static const char *const KIND_WORDS[NLANG][3] = {	/* service, product, unknown */
	{ "serviceklacht", "productklacht", "klacht" },
	{ "service complaint", "product complaint", "complaint" },
	{ "Servicebeschwerde", "Produktbeschwerde", "Beschwerde" },
	{ "réclamation de service", "réclamation sur un produit", "réclamation" },
};

/* ticket, model, ticket_or_model, description */
static const char *const MISSING_WORDS[NLANG][4] = {
	{ "het ticketnummer van uw eerdere servicemelding",
	  "het type (model) van uw omvormer; het staat op het typeplaatje",
	  "het ticketnummer van uw servicemelding of het type (model) van uw omvormer",
	  "een beschrijving van het probleem: wat gaat er mis, sinds wanneer en welke"
	  " foutmelding ziet u" },
	{ "the ticket number of your earlier service request",
	  "the model of your inverter; it is on the rating plate",
	  "the ticket number of your service request or the model of your inverter",
	  "a description of the problem: what goes wrong, since when and which error"
	  " message you see" },
	{ "die Ticketnummer Ihrer früheren Serviceanfrage",
	  "das Modell Ihres Wechselrichters; es steht auf dem Typenschild",
	  "die Ticketnummer Ihrer Serviceanfrage oder das Modell Ihres Wechselrichters",
	  "eine Beschreibung des Problems: was funktioniert nicht, seit wann und welche"
	  " Fehlermeldung sehen Sie" },
	{ "le numéro de ticket de votre demande de service",
	  "le modèle de votre onduleur ; il figure sur sa plaque signalétique",
	  "le numéro de ticket de votre demande de service ou le modèle de votre onduleur",
	  "une description du problème : ce qui ne va pas, depuis quand et quel message"
	  " d'erreur s'affiche" },
};

static const char *const MISSING_NAMES[4] = { "ticket", "model", "ticket_or_model", "description" };

static int
kind_index(const char *k)
{
	if (k && strcmp(k, "service") == 0)
		return 0;
	if (k && strcmp(k, "product") == 0)
		return 1;
	return 2;
}

/* "  - item" lines for the comma list csv, in language l. */
static int
missing_lines(int l, const char *csv, strbuf *sb)
{
	int r = 0, n = 0;

	for (int i = 0; i < 4; i++) {
		size_t len = strlen(MISSING_NAMES[i]);
		bool on = false;

		for (const char *p = csv; p && (p = strstr(p, MISSING_NAMES[i])) != NULL; p += len)
			if ((p == csv || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
				on = true;
		if (on)
			r |= sb_printf(sb, "%s  - %s", n++ ? "\n" : "", MISSING_WORDS[l][i]);
	}
	return r;
}

/* Control characters (CR, LF, TAB, ...) of customer text become spaces. */
static char *
one_line(const char *s)
{
	char *c = strdup(s ? s : "");

	for (char *p = c; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

struct case_vars {
	char case_tag[64], received[64], update_by[64], resolve_by[64];
	char *tickets, *models, *serials, *name, *subject;
	strbuf missing;
	struct reply_var v[14];
};

static void
case_vars_free(struct case_vars *cv)
{
	free(cv->tickets);
	free(cv->models);
	free(cv->serials);
	free(cv->name);
	free(cv->subject);
	sb_free(&cv->missing);
}

static int
case_vars(const struct reply_case *rc, int l, struct case_vars *cv)
{
	size_t i = 0;

	memset(cv, 0, sizeof(*cv));
	sb_init(&cv->missing);
	snprintf(cv->case_tag, sizeof(cv->case_tag), "[%s]", rc->case_id);
	reply_format_date(LANGS[l], rc->received, cv->received, sizeof(cv->received));
	reply_format_date(LANGS[l], rc->update_by, cv->update_by, sizeof(cv->update_by));
	reply_format_date(LANGS[l], rc->resolve_by, cv->resolve_by, sizeof(cv->resolve_by));
	cv->tickets = sl_join(rc->tickets, ", ");
	cv->models = sl_join(rc->models, ", ");
	cv->serials = sl_join(rc->serials, ", ");
	cv->name = one_line(rc->customer_name);
	cv->subject = one_line(rc->subject);
	if (!cv->tickets || !cv->models || !cv->serials || !cv->name || !cv->subject ||
	    sb_puts(&cv->missing, "") < 0 || missing_lines(l, rc->missing, &cv->missing) < 0)
		return -1;
#define V(n, val) cv->v[i++] = (struct reply_var){ n, val }
	V("case_id", rc->case_id);
	V("case_tag", cv->case_tag);
	V("kind", KIND_WORDS[l][kind_index(rc->case_kind)]);
	V("tickets", cv->tickets);
	V("models", cv->models);
	V("serials", cv->serials);
	V("missing", cv->missing.s);
	V("customer_name", cv->name);
	V("subject", cv->subject);
	V("received", cv->received);
	V("update_by", cv->update_by);
	V("resolve_by", cv->resolve_by);
	V("complaints_address", rc->complaints_address);
	V("company_name", rc->company_name);
#undef V
	return 0;
}

/* The rendered text as a small HTML page (escaped, line breaks kept). */
static char *
html_from_text(const char *text)
{
	strbuf sb;

	sb_init(&sb);
	if (sb_puts(&sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n"
	    "<body><div style=\"font-family: sans-serif; white-space: pre-wrap\">") < 0 ||
	    put_escaped(&sb, text, true) < 0 || sb_puts(&sb, "</div></body></html>\n") < 0) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

static int
render_parts(const struct tmpl *t, const struct case_vars *cv, struct reply_text *out,
    char *err, size_t errlen)
{
	strbuf sb;
	size_t nv = sizeof(cv->v) / sizeof(cv->v[0]);

	sb_init(&sb);
	if (reply_render(t->subject, cv->v, nv, false, &sb, err, errlen) < 0)
		goto fail;
	out->subject = one_line(sb.s);
	if (reply_render(t->body, cv->v, nv, false, &sb, err, errlen) < 0)
		goto fail;
	out->text = sb_steal(&sb);
	if (t->html) {
		if (reply_render(t->html, cv->v, nv, true, &sb, err, errlen) < 0)
			goto fail;
		out->html = sb_steal(&sb);
	} else
		out->html = html_from_text(out->text);
	sb_free(&sb);
	if (out->subject && out->text && out->html)
		return 0;
	snprintf(err, errlen, "out of memory");
	return -1;
fail:
	sb_free(&sb);
	return -1;
}

int
reply_render_case(const struct reply_templates *t, const struct reply_case *rc,
    struct reply_text *out, char *err, size_t errlen)
{
	struct case_vars cv;
	int l = lang_index(rc->lang), rcode;

	memset(out, 0, sizeof(*out));
	if (l < 0 || !t->have[l])
		l = t->fallback;
	if (case_vars(rc, l, &cv) < 0) {
		case_vars_free(&cv);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rcode = render_parts(&t->t[l][rc->kind == REPLY_COMPLETE], &cv, out, err, errlen);
	case_vars_free(&cv);
	if (rcode < 0)
		reply_text_free(out);
	return rcode;
}

void
reply_text_free(struct reply_text *rt)
{
	free(rt->subject);
	free(rt->text);
	free(rt->html);
	memset(rt, 0, sizeof(*rt));
}

/* ---- the message ---- */

int
reply_split_from(const char *from, char *addr, size_t an, char *name, size_t nn)
{
	const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char tmp[512];

	if (lt && gt) {
		snprintf(addr, an, "%.*s", (int)(gt - lt - 1), lt + 1);
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(lt - from), from);
	} else {
		snprintf(addr, an, "%s", from);
		tmp[0] = '\0';
	}
	str_trim(addr);
	str_trim(tmp);
	if (tmp[0] == '"' && strlen(tmp) >= 2 && tmp[strlen(tmp) - 1] == '"') {
		tmp[strlen(tmp) - 1] = '\0';
		memmove(tmp, tmp + 1, strlen(tmp));
	}
	snprintf(name, nn, "%s", tmp);
	return strchr(addr, '@') ? 0 : -1;
}

int
reply_message_id(const char *case_id, enum reply_kind k, const char *domain, char *out, size_t n)
{
	unsigned char rnd[8];
	char hex[17];
	FILE *fp = fopen("/dev/urandom", "r");
	size_t got = fp ? fread(rnd, 1, sizeof(rnd), fp) : 0;
	int w;

	if (fp)
		fclose(fp);
	if (got != sizeof(rnd)) {
		unsigned long long x = (unsigned long long)time(NULL) ^
		    ((unsigned long long)getpid() << 32) ^ (unsigned long long)(size_t)&got;

		memcpy(rnd, &x, sizeof(rnd));
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	w = snprintf(out, n, "reply.%s.%s.%s@%s", case_id, reply_kind_name(k), hex, domain);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* A Message-ID we can write between <>: printable ASCII, no space, no <>. */
static bool
msgid_ok(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 900)
		return false;
	for (const char *p = id; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

/* "<a> <b>" for the valid ids of a space-separated list; NULL when none. */
static char *
msgid_list(const char *ids)
{
	strbuf sb;
	char *copy, *save = NULL;

	if (ids == NULL || (copy = strdup(ids)) == NULL)
		return NULL;
	sb_init(&sb);
	for (char *t = strtok_r(copy, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save))
		if (msgid_ok(t) && sb_printf(&sb, "%s<%s>", sb.len ? " " : "", t) < 0)
			break;
	free(copy);
	if (sb.len == 0) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

/*
 * text/SUBTYPE; charset=utf-8, quoted-printable.  (g_mime_text_part_set_text
 * would pick the "best" charset, ISO-8859-1 for French; we promise UTF-8.)
 */
static GMimeObject *
text_part(const char *subtype, const char *text)
{
	GMimePart *part = g_mime_part_new_with_type("text", subtype);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	g_mime_part_set_content(part, dw);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_object_unref(dw);
	g_object_unref(s);
	return GMIME_OBJECT(part);
}

static GMimeObject *
body_part(const struct reply_text *rt)
{
	GMimeMultipart *mp;
	GMimeObject *p;

	if (rt->html == NULL)
		return text_part("plain", rt->text);
	mp = g_mime_multipart_new_with_subtype("alternative");
	p = text_part("plain", rt->text);
	g_mime_multipart_add(mp, p);
	g_object_unref(p);
	p = text_part("html", rt->html);
	g_mime_multipart_add(mp, p);
	g_object_unref(p);
	return GMIME_OBJECT(mp);
}

static int
set_headers(GMimeMessage *msg, const struct reply_msg *m, char *err, size_t errlen)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	InternetAddressList *from = internet_address_list_parse(NULL, m->from);
	char *to_name = one_line(m->to_name), *subject = one_line(m->body->subject);
	char *irt = msgid_ok(m->in_reply_to) ? msgid_list(m->in_reply_to) : NULL;
	char *refs = msgid_list(m->references);
	GDateTime *date = g_date_time_new_from_unix_local((gint64)m->date);
	int rc = -1;

	if (from == NULL || internet_address_list_length(from) == 0 || !msgid_ok(m->message_id) ||
	    !msgid_ok(m->case_id) || to_name == NULL || subject == NULL || date == NULL) {
		snprintf(err, errlen, "bad From, Message-ID or case ID (or out of memory)");
		goto out;
	}
	internet_address_list_append(g_mime_message_get_from(msg), from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, to_name, m->to_addr);
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_mime_message_set_date(msg, date);
	g_mime_message_set_message_id(msg, m->message_id);
	if (irt)
		g_mime_object_set_header(o, "In-Reply-To", irt, NULL);
	if (refs)
		g_mime_object_set_header(o, "References", refs, NULL);
	g_mime_object_set_header(o, "Auto-Submitted", "auto-replied", NULL);
	g_mime_object_set_header(o, "X-Auto-Response-Suppress", "All", NULL);
	g_mime_object_set_header(o, "X-Case-ID", m->case_id, NULL);
	rc = 0;
out:
	if (from)
		g_object_unref(from);
	if (date)
		g_date_time_unref(date);
	free(to_name);
	free(subject);
	free(irt);
	free(refs);
	return rc;
}

int
reply_build(const struct reply_msg *m, strbuf *out, char *err, size_t errlen)
{
	GMimeMessage *msg;
	GMimeObject *body;
	GMimeStream *mem;
	GByteArray *ba;
	int rc;

	mime_init();
	sb_reset(out);
	if (m->to_addr == NULL || !addr_plain(m->to_addr)) {
		snprintf(err, errlen, "bad recipient address");
		return -1;
	}
	msg = g_mime_message_new(TRUE);
	if (set_headers(msg, m, err, errlen) < 0) {
		g_object_unref(msg);
		return -1;
	}
	body = body_part(m->body);
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);
	mem = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	rc = sb_append(out, (const char *)ba->data, ba->len);
	g_object_unref(mem);
	g_object_unref(msg);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	return rc;
}
