/*
 * util.c - growable buffers, string lists and tiny string helpers.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
sb_init(strbuf *sb)
{
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

void
sb_free(strbuf *sb)
{
	free(sb->s);
	sb_init(sb);
}

void
sb_reset(strbuf *sb)
{
	sb->len = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

static int
sb_grow(strbuf *sb, size_t need)
{
	size_t cap;
	char *p;

	if (need < sb->len)	/* overflow */
		return -1;
	if (need + 1 <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need + 1) {
		if (cap > ((size_t)-1) / 2)
			return -1;
		cap *= 2;
	}
	p = realloc(sb->s, cap);
	if (p == NULL)
		return -1;
	sb->s = p;
	sb->cap = cap;
	return 0;
}

int
sb_append(strbuf *sb, const char *p, size_t n)
{
	if (sb_grow(sb, sb->len + n) < 0)
		return -1;
	if (n)
		memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

int
sb_puts(strbuf *sb, const char *s)
{
	return sb_append(sb, s, strlen(s));
}

int
sb_putc(strbuf *sb, char c)
{
	return sb_append(sb, &c, 1);
}

int
sb_printf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_grow(sb, sb->len + (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

char *
sb_steal(strbuf *sb)
{
	char *s = sb->s;

	if (s == NULL)
		s = calloc(1, 1);
	sb_init(sb);
	return s;
}

void
sl_init(strlist *sl)
{
	sl->v = NULL;
	sl->n = sl->cap = 0;
}

void
sl_free(strlist *sl)
{
	for (size_t i = 0; i < sl->n; i++)
		free(sl->v[i]);
	free(sl->v);
	sl_init(sl);
}

int
sl_addn(strlist *sl, const char *s, size_t n)
{
	char *copy;

	if (sl->n == sl->cap) {
		size_t cap = sl->cap ? sl->cap * 2 : 4;
		char **v = realloc(sl->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		sl->v = v;
		sl->cap = cap;
	}
	if ((copy = xstrndup(s, n)) == NULL)
		return -1;
	sl->v[sl->n++] = copy;
	return 0;
}

int
sl_add(strlist *sl, const char *s)
{
	return sl_addn(sl, s, strlen(s));
}

void
norm_key(const char *s, char *out, size_t outsz)
{
	size_t o = 0;

	if (outsz == 0)
		return;
	for (; *s && o + 1 < outsz; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ' ' || c == '\t' || c == '-' || c == '_' || c == '.' ||
		    c == '/' || c == '#' || c == '\n' || c == '\r')
			continue;
		out[o++] = (char)(c < 0x80 ? toupper(c) : c);
	}
	out[o] = '\0';
}

long
sl_find_norm(const strlist *sl, const char *s)
{
	char a[256], b[256];

	norm_key(s, a, sizeof(a));
	for (size_t i = 0; i < sl->n; i++) {
		norm_key(sl->v[i], b, sizeof(b));
		if (strcmp(a, b) == 0)
			return (long)i;
	}
	return -1;
}

int
sl_add_unique(strlist *sl, const char *s)
{
	if (sl_find_norm(sl, s) >= 0)
		return 0;
	return sl_add(sl, s) < 0 ? -1 : 1;
}

char *
sl_join(const strlist *sl, const char *sep)
{
	strbuf sb;

	sb_init(&sb);
	for (size_t i = 0; i < sl->n; i++) {
		if ((i && sb_puts(&sb, sep) < 0) || sb_puts(&sb, sl->v[i]) < 0) {
			sb_free(&sb);
			return NULL;
		}
	}
	return sb_steal(&sb);
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

bool
str_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool
str_iprefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

char *
str_trim(char *s)
{
	size_t n = strlen(s);
	char *p = s;

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (*p && isspace((unsigned char)*p))
		p++;
	if (p != s)
		memmove(s, p, strlen(p) + 1);
	return s;
}

int
file_read(const char *path, char **buf, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	strbuf sb;
	char tmp[65536];
	size_t n;
	int err = 0;

	if (fp == NULL)
		return -1;
	sb_init(&sb);
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0) {
		if (sb_append(&sb, tmp, n) < 0) {
			err = ENOMEM;
			break;
		}
	}
	if (ferror(fp))
		err = EIO;
	if (fp != stdin)
		fclose(fp);
	if (err) {
		sb_free(&sb);
		errno = err;
		return -1;
	}
	*len = sb.len;
	*buf = sb_steal(&sb);
	return 0;
}

bool
utf8_valid(const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], k;
		uint32_t cp;
		uint64_t w8;

		/* ASCII eight bytes at a time */
		if (i + 8 <= n && (memcpy(&w8, s + i, 8), (w8 & 0x8080808080808080ull) == 0)) {
			i += 8;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3, cp = c & 0x07;
		else
			return false;
		if (n - i <= k)
			return false;
		for (unsigned j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}
