/*
 * html.h - turn an HTML mail body into plain text for the extractors.
 *
 * The text keeps the line structure a reader sees: <br> and block elements
 * (p, div, li, tr, h1-h6, ...) end lines, a paragraph (p, h1-h6, pre,
 * blockquote) is set off by one blank line, the cells of a table row are
 * joined by a TAB, list items start with "- ", and every line inside a
 * <blockquote> starts with "> " (one per level) so that later stages see it
 * as quoted reply text.  Text outside <pre> has its white space collapsed;
 * script, style, head, title, noscript, template and comments are dropped.
 *
 * The result has no trailing white space on any line, never two blank lines
 * in a row, no leading or trailing blank lines, and does NOT end in a
 * newline ("" for a document without text).
 *
 * html_to_text() keeps no state of its own and is safe to call from several
 * threads.  It calls xmlInitParser(), which is idempotent; a threaded
 * program should still call xmlInitParser() once at start-up, before it
 * creates threads, as libxml2 asks.
 */
#ifndef CM_HTML_H
#define CM_HTML_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Convert an HTML document or fragment, already in UTF-8, to plain UTF-8
 * text.  Returns a malloc'd NUL-terminated string (caller frees with free()),
 * or NULL only when memory runs out.  Never crashes on malformed input.
 * Input beyond INT_MAX bytes (libxml2's limit) is ignored.
 */
char *html_to_text(const char *html, size_t len);
/*
 * The same, writing at most about max_out bytes of text (0: no limit).
 * *partial (when not NULL) tells whether text was left out: the limit was
 * reached, or the parser gave up (nesting deeper than libxml2 allows, 256).
 * The limit matters: "> " per quote level on every line lets 1 MB of
 * deeply quoted HTML become 100 MB of text.
 */
char *html_to_text_max(const char *html, size_t len, size_t max_out, bool *partial);

#endif
