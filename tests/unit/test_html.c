/*
 * test_html.c - unit tests of html_to_text().
 */
#include "unit.h"
#include "html.h"

/* Convert a NUL-terminated literal and compare with the expected text. */
static void
check(const char *html, const char *want)
{
	char *got = html_to_text(html, strlen(html));

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* Same, for input with embedded NUL bytes. */
static void
check_n(const char *html, size_t len, const char *want)
{
	char *got = html_to_text(html, len);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* Every line of s is free of trailing blanks; no blank line doubles. */
static void
assert_tidy(const char *s)
{
	size_t n = strlen(s);

	assert_null(strstr(s, " \n"));
	assert_null(strstr(s, "\t\n"));
	assert_null(strstr(s, "\n\n\n"));
	if (n > 0) {
		assert_true(s[0] != '\n');
		assert_true(s[n - 1] != '\n' && s[n - 1] != ' ');
	}
}

static void
test_fragment(void **state)
{
	(void)state;
	check("<div>Hi,<br><br>The inverter display...<br>"
	    "Model: MOD 10KTL3-X</div>",
	    "Hi,\n\nThe inverter display...\nModel: MOD 10KTL3-X");
	check("plain text, no tags", "plain text, no tags");
}

static void
test_paragraphs_and_br(void **state)
{
	(void)state;
	check("<p>First</p><p>Second</p>", "First\n\nSecond");
	check("<div>one</div><div>two</div>", "one\ntwo");
	check("a<br>b<br/>c", "a\nb\nc");
	/* Gmail's empty line and trailing <br> in a div. */
	check("<div>a<br></div><div><br></div><div>b</div>", "a\n\nb");
	/* Never more than one blank line, none at the ends. */
	check("<br><br><p>x</p><br><br><br><br><p>y</p><br><br>", "x\n\ny");
	check("a<br><br><br><br><br>b", "a\n\nb");
	check("<h1>Title</h1>text<hr>more", "Title\n\ntext\nmore");
}

static void
test_whitespace(void **state)
{
	(void)state;
	check("<p>  a \n\t  b\r\n  c  </p>", "a b c");
	check("<b>bold</b> <i>italic</i>", "bold italic");
	check("<p>x</p>\n\n   \n<p>y</p>", "x\n\ny");
	check("   \n\t ", "");
}

static void
test_table(void **state)
{
	(void)state;
	check("<table><tr><td>Model</td><td>GW10K-ET</td></tr>"
	    "<tr><th> Serial </th><td>\n5010KETU229W0123\n</td></tr></table>",
	    "Model\tGW10K-ET\nSerial\t5010KETU229W0123");
	/* An empty cell keeps its column; trailing empty cells vanish. */
	check("<table><tr><td>a</td><td></td><td>c</td><td></td></tr></table>",
	    "a\t\tc");
	/* Rows without </tr> and </td>, as the parser repairs them. */
	check("<table><tr><td>k1<td>v1<tr><td>k2<td>v2</table>after",
	    "k1\tv1\nk2\tv2\nafter");
}

static void
test_entities(void **state)
{
	(void)state;
	check("<p>a&nbsp;b&nbsp;&nbsp;c</p>", "a b c");
	check("<p>&amp; &lt;tag&gt; &quot;q&quot;</p>", "& <tag> \"q\"");
	check("<p>caf&eacute; &#8217;x&#x2019; &#65;</p>",
	    "caf\xc3\xa9 \xe2\x80\x99x\xe2\x80\x99 A");
	/* Raw UTF-8 passes through. */
	check("<p>\xc3\xbc\xc3\x9f \xe2\x82\xac</p>", "\xc3\xbc\xc3\x9f \xe2\x82\xac");
}

static void
test_dropped(void **state)
{
	(void)state;
	check("<html><head><title>Subject here</title>"
	    "<style>p { color: red; }</style>"
	    "<script>var x = '<p>no</p>';</script></head>"
	    "<body><p>keep</p><!-- comment --><?php echo 1; ?>"
	    "<noscript>ns</noscript><template><p>tpl</p></template>"
	    "<script type=\"text/javascript\">alert(1)</script>"
	    "<style>.a{}</style>also</body></html>",
	    "keep\n\nalso");
	check("a<img src=\"x.png\" alt=\"picture\">b", "ab");
}

static void
test_blockquote(void **state)
{
	(void)state;
	check("<div>On Monday Bob wrote:</div>"
	    "<blockquote><p>The inverter</p><p>is broken<br>again</p>"
	    "</blockquote><div>Thanks</div>",
	    "On Monday Bob wrote:\n\n> The inverter\n>\n> is broken\n> again"
	    "\n\nThanks");
	check("<blockquote>outer<blockquote>inner<br>two</blockquote>"
	    "back</blockquote>",
	    "> outer\n>\n> > inner\n> > two\n>\n> back");
	check("<blockquote><pre>l1\nl2</pre></blockquote>", "> l1\n> l2");
}

static void
test_list(void **state)
{
	(void)state;
	check("<p>Steps:</p><ul><li>one</li><li> two </li><li></li></ul>"
	    "<ol><li>three<li>four</ol>",
	    "Steps:\n\n- one\n- two\n- three\n- four");
	check("<ul><li>a<ul><li>b</li></ul></li><li><p>c</p></li></ul>",
	    "- a\n- b\n\n- c");
}

static void
test_pre(void **state)
{
	(void)state;
	check("<pre>  col1   col2\n\tx  y</pre>", "  col1   col2\n\tx  y");
	check("<p>before</p><pre>a\r\nb&nbsp;&nbsp;c   \n</pre>after",
	    "before\n\na\nb  c\n\nafter");
}

static void
test_malformed(void **state)
{
	char *s;

	(void)state;
	check("<p>unclosed <b>bold <i>italic<div>block", "unclosed bold italic\nblock");
	check("</div></p></td>stray end tags", "stray end tags");
	check("<p>a <unknown-tag foo=bar>b</unknown-tag> c", "a b c");
	s = html_to_text("<div <p>>x", 10);
	assert_non_null(s);
	assert_non_null(strstr(s, "x"));
	free(s);
	s = html_to_text("<<<>>>&&&</x></y><z a='", 23);
	assert_non_null(s);
	assert_non_null(strstr(s, "&&&"));	/* text, not markup */
	assert_tidy(s);
	free(s);
	/* Invalid UTF-8 must neither crash nor leave the text empty. */
	s = html_to_text("<p>\xff\xfe\xc3 bad</p>", 14);
	assert_non_null(s);
	assert_non_null(strstr(s, "bad"));
	free(s);
}

static void
test_empty(void **state)
{
	(void)state;
	check_n("", 0, "");
	check_n(NULL, 0, "");
	check_n("<p>ignored beyond len</p>", 0, "");
	check("<html><body></body></html>", "");
	check("<!-- only a comment -->", "");
	check("<script>only()</script>", "");
}

static void
test_nul_bytes(void **state)
{
	static const char in[] = "ab\0cd<p>ef\0gh</p>\0";
	char *s;

	(void)state;
	s = html_to_text(in, sizeof(in) - 1);
	assert_non_null(s);
	assert_non_null(strstr(s, "ab"));
	assert_non_null(strstr(s, "gh"));
	assert_tidy(s);
	free(s);
	check_n("x\0\0\0", 4, "x");
}

/* depth times open, then text, then depth times close. */
static char *
nest(int depth, const char *open, const char *text, const char *close,
    size_t *len)
{
	size_t ol = strlen(open), cl = strlen(close), tl = strlen(text);
	char *buf = malloc((size_t)depth * (ol + cl) + tl + 1), *p;

	assert_non_null(buf);
	p = buf;
	for (int i = 0; i < depth; i++, p += ol)
		memcpy(p, open, ol);
	memcpy(p, text, tl);
	p += tl;
	for (int i = 0; i < depth; i++, p += cl)
		memcpy(p, close, cl);
	*p = '\0';
	*len = (size_t)(p - buf);
	return buf;
}

static void
test_deep_nesting(void **state)
{
	size_t len, n;
	char *in, *s, *p;

	(void)state;
	/* Within libxml2's depth limit (256) everything is kept. */
	in = nest(200, "<div>", "deep text", "</div>", &len);
	check_n(in, len, "deep text");
	free(in);
	in = nest(100, "<blockquote>", "q", "</blockquote>", &len);
	s = html_to_text(in, len);
	assert_non_null(s);
	assert_int_equal(strlen(s), 201);
	assert_int_equal(strncmp(s, "> > > ", 6), 0);
	assert_string_equal(s + 198, "> q");
	free(s);
	free(in);
	/* 2000 deep: libxml2 stops at its limit; what came first survives. */
	in = nest(2000, "text<div>", "deep text", "</div>", &len);
	s = html_to_text(in, len);
	assert_non_null(s);
	assert_tidy(s);
	n = 0;
	for (p = s; (p = strstr(p, "text")) != NULL; p += 4)
		n++;
	assert_in_range(n, 200, 2001);
	assert_int_equal(strncmp(s, "text\n\ntext\ntext\n", 16), 0);
	free(s);
	free(in);
	in = nest(2000, "<div><span><b>", "x", "</b></span></div>", &len);
	s = html_to_text(in, len);
	assert_non_null(s);
	assert_tidy(s);
	free(s);
	free(in);
}

/* html_to_text_max(): what was left out is said (a partial scan, never a reject). */
static void
test_partial(void **state)
{
	size_t len;
	bool partial = true;
	char *in, *s;

	(void)state;
	s = html_to_text_max("<p>all of it</p>", 16, 0, &partial);
	assert_string_equal(s, "all of it");
	assert_false(partial);
	free(s);
	/* deeper than libxml2's limit: the parser gives up, the rest is lost */
	in = nest(300, "<div>", "deep text", "</div>", &len);
	s = html_to_text_max(in, len, 0, &partial);
	assert_non_null(s);
	assert_true(partial);
	free(s);
	free(in);
	in = nest(200, "<div>", "deep text", "</div>", &len);
	s = html_to_text_max(in, len, 0, &partial);
	assert_string_equal(s, "deep text");
	assert_false(partial);
	free(s);
	free(in);
	/* 250 quote levels before each of 20,000 paragraphs: cut at the limit */
	in = nest(250, "<blockquote>", "", "", &len);
	{
		size_t n = 20000, pl = strlen("<p>x</p>");
		char *big = malloc(len + n * pl + 1);

		assert_non_null(big);
		memcpy(big, in, len);
		for (size_t i = 0; i < n; i++)
			memcpy(big + len + i * pl, "<p>x</p>", pl);
		big[len + n * pl] = '\0';
		s = html_to_text_max(big, len + n * pl, 65536, &partial);
		assert_non_null(s);
		assert_true(partial);
		assert_in_range(strlen(s), 60000, 65536 + 1024);
		free(s);
		free(big);
	}
	free(in);
	/* NULL partial is allowed */
	s = html_to_text_max("<p>x</p>", 8, 0, NULL);
	assert_string_equal(s, "x");
	free(s);
}

static void
test_big_input(void **state)
{
	static const char para[] = "<p>Model: GW10K-ET &amp; more</p>\n";
	const size_t n = 100000;	/* 3.5 MB */
	size_t pl = sizeof(para) - 1, len = n * pl;
	char *in = malloc(len + 1), *s, *p;
	size_t lines = 0;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		memcpy(in + i * pl, para, pl);
	in[len] = '\0';
	s = html_to_text(in, len);
	assert_non_null(s);
	for (p = s; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	/* n paragraphs separated by a blank line each. */
	assert_int_equal(lines, 2 * (n - 1));
	assert_int_equal(strlen(s), n * strlen("Model: GW10K-ET & more") +
	    2 * (n - 1));
	free(s);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fragment),
		cmocka_unit_test(test_paragraphs_and_br),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_blockquote),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_pre),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_big_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
