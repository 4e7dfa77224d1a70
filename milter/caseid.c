/*
 * caseid.c - format, parse and find case IDs.
 */
#include "caseid.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char ALPHABET[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

void
caseid_fmt_init(struct caseid_fmt *f, const char *prefix, const char *node, bool check)
{
	snprintf(f->prefix, sizeof(f->prefix), "%s", prefix ? prefix : "CASE");
	snprintf(f->node, sizeof(f->node), "%s", node ? node : "");
	f->check = check;
}

static int
code_of(char c)
{
	c = (char)toupper((unsigned char)c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

/* Luhn mod 36 over the characters of body (digits and letters only). */
static char
check_char(const char *body)
{
	int sum = 0, factor = 2, n = 36;

	for (int i = (int)strlen(body) - 1; i >= 0; i--) {
		int cp = code_of(body[i]);

		if (cp < 0)
			continue;
		int add = factor * cp;

		factor = factor == 2 ? 1 : 2;
		add = add / n + add % n;
		sum += add;
	}
	return ALPHABET[(n - sum % n) % n];
}

int
caseid_format(const struct caseid_fmt *f, int year, unsigned long long seq,
    char *out, size_t outsz)
{
	char body[64];
	int n;

	snprintf(body, sizeof(body), "%04d%s%06llu", year, f->node, seq);
	if (*f->node)
		n = snprintf(out, outsz, "%s-%04d-%s-%06llu", f->prefix, year, f->node, seq);
	else
		n = snprintf(out, outsz, "%s-%04d-%06llu", f->prefix, year, seq);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	if (f->check) {
		if ((size_t)n + 2 >= outsz)
			return -1;
		out[n] = '-';
		out[n + 1] = check_char(body);
		out[n + 2] = '\0';
	}
	return 0;
}

/*
 * Match an ID at s (length len); returns its length, 0 when none.  *year,
 * *seq filled; *check_ok says whether a check character verified.
 */
static size_t
match_at(const struct caseid_fmt *f, const char *s, size_t len, int *year,
    unsigned long long *seq, bool *check_ok)
{
	size_t i = 0, pl = strlen(f->prefix), nl = strlen(f->node);
	char body[64];
	size_t b = 0, digits = 0;
	unsigned long long q = 0;
	int y = 0;

	*check_ok = true;
	if (len < pl + 1 || strncasecmp(s, f->prefix, pl) != 0 || s[pl] != '-')
		return 0;
	i = pl + 1;
	for (int k = 0; k < 4; k++, i++) {
		if (i >= len || !isdigit((unsigned char)s[i]))
			return 0;
		y = y * 10 + (s[i] - '0');
		body[b++] = s[i];
	}
	if (i >= len || s[i] != '-')
		return 0;
	i++;
	if (nl) {
		if (len - i < nl + 1 || strncasecmp(s + i, f->node, nl) != 0 || s[i + nl] != '-')
			return 0;
		for (size_t k = 0; k < nl; k++)
			body[b++] = (char)toupper((unsigned char)s[i + k]);
		i += nl + 1;
	}
	while (i < len && isdigit((unsigned char)s[i]) && digits < 18) {
		q = q * 10 + (unsigned long long)(s[i] - '0');
		body[b++] = s[i];
		i++;
		digits++;
	}
	if (digits < 6 || (i < len && isdigit((unsigned char)s[i])))
		return 0;
	body[b] = '\0';
	if (f->check) {
		if (i + 1 < len && s[i] == '-' && code_of(s[i + 1]) >= 0 &&
		    (i + 2 >= len || !isalnum((unsigned char)s[i + 2]))) {
			*check_ok = toupper((unsigned char)s[i + 1]) == check_char(body);
			i += 2;
		} else {
			*check_ok = false;
		}
	}
	if (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
		return 0;
	*year = y;
	*seq = q;
	return i;
}

int
caseid_parse(const struct caseid_fmt *f, const char *id, int *year, unsigned long long *seq)
{
	size_t len = strlen(id);
	bool ok;
	size_t n = match_at(f, id, len, year, seq, &ok);

	if (n == 0 || n != len)
		return -1;
	return ok ? 0 : -2;
}

int
caseid_find(const struct caseid_fmt *f, const char *s, size_t len,
    char *out, size_t outsz, bool *bad_check)
{
	size_t pl = strlen(f->prefix);
	/* the next upper- and lower-case first letter at or after i (memchr) */
	char up = f->prefix[0], lo = (char)tolower((unsigned char)up);
	const char *nu = s, *nl = s;

	if (bad_check)
		*bad_check = false;
	for (size_t i = 0; i + pl < len; i++) {
		int year;
		unsigned long long seq;
		bool ok;
		size_t n;

		if (nu != NULL && nu < s + i)
			nu = memchr(s + i, up, len - i);
		if (nl != NULL && nl < s + i)
			nl = lo == up ? NULL : memchr(s + i, lo, len - i);
		if (nu == NULL && nl == NULL)
			break;
		i = (size_t)((nu != NULL && (nl == NULL || nu < nl) ? nu : nl) - s);
		if (i + pl >= len)
			break;
		if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '-'))
			continue;
		if ((n = match_at(f, s + i, len - i, &year, &seq, &ok)) == 0)
			continue;
		if (!ok) {
			if (bad_check)
				*bad_check = true;
			i += n - 1;
			continue;
		}
		if (caseid_format(f, year, seq, out, outsz) < 0)
			return 0;
		return 1;
	}
	return 0;
}
