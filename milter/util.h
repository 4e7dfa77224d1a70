/*
 * util.h - small string helpers shared by every module.
 *
 * strbuf is a growable NUL-terminated byte buffer; strlist an ordered list of
 * owned strings.  Every function that allocates returns -1 (and leaves the
 * object valid) when memory runs out, so callers can turn that into a 4xx.
 */
#ifndef CM_UTIL_H
#define CM_UTIL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
	char *s;	/* always NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
} strbuf;

void sb_init(strbuf *sb);
void sb_free(strbuf *sb);
void sb_reset(strbuf *sb);
int sb_append(strbuf *sb, const char *p, size_t n);
int sb_puts(strbuf *sb, const char *s);
int sb_putc(strbuf *sb, char c);
int sb_printf(strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the buffer to the caller (never NULL: "" when empty); sb is reset. */
char *sb_steal(strbuf *sb);

typedef struct strlist {
	char **v;
	size_t n;
	size_t cap;
} strlist;

void sl_init(strlist *sl);
void sl_free(strlist *sl);
int sl_add(strlist *sl, const char *s);
int sl_addn(strlist *sl, const char *s, size_t n);
/* Index of the entry whose normalised form (see norm_key) equals s's, or -1. */
long sl_find_norm(const strlist *sl, const char *s);
/* Add unless an entry with the same normalised form is there; 1 added, 0 dup. */
int sl_add_unique(strlist *sl, const char *s);
/* Join with sep into a new string (NULL on ENOMEM). */
char *sl_join(const strlist *sl, const char *sep);

/*
 * norm_key - comparison key of an extracted value: ASCII letters upper-cased,
 * spaces, '-', '_', '.', '/', '#' removed.  Writes at most outsz-1 bytes.
 */
void norm_key(const char *s, char *out, size_t outsz);

char *xstrndup(const char *s, size_t n);
bool str_ieq(const char *a, const char *b);
bool str_iprefix(const char *s, const char *prefix);
/* Trim ASCII white space at both ends in place; returns s. */
char *str_trim(char *s);
/*
 * Is s[0..n) valid UTF-8 as pcre2 (PCRE2_UTF) understands it: shortest
 * forms only, no surrogates, nothing above U+10FFFF?  NUL bytes are valid.
 */
bool utf8_valid(const char *s, size_t n);
/* Read a whole file (or stdin for "-") into a NUL-terminated buffer. */
int file_read(const char *path, char **buf, size_t *len);

#endif
