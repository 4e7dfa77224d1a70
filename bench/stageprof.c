/*
 * stageprof - where the offline pipeline spends its time on one message:
 * each stage of pipeline_run(), and each rule class scanned over the text
 * the way extract.c and doc.c scan it.  A profiling aid for the benchmark
 * (bench/run.sh prints its table for the 8 KB complaint); it links the
 * pipeline's own library (build/libcore.a) and changes nothing in it.
 *
 * Usage: stageprof [-r RULESDIR] [-n ITERATIONS] FILE.eml
 *
 * Stages (microseconds per message, the mean of ITERATIONS runs, default
 * 200): mime_parse, doc_build, extract_fields, describe_words,
 * verdict_is_automatic and the rest (a fresh struct rscan per message,
 * rscan_set_valid(), freeing), with their share of the stages' sum;
 * "pipeline_run" is the whole, as complaint-check calls it, timed in the
 * same loop (on a busy machine the two can differ by the noise).  Rule
 * classes: first the cost of finding the word starts of the Subject and the
 * document text and the candidates of every prefiltered class (done once
 * per text, by its first search); then, for every class that is searched
 * through the text (not anchored), the cost of finding all its matches in
 * the Subject and the document text with rules_find() from offset 0 on, as
 * extract.c's loops do, once the candidates are there, and how many matches
 * that gives; for the anchored classes that
 * doc.c tries at the start of every line, the cost of one try per line.
 * The class costs overlap the stages (they are what extract_fields and
 * doc_build spend their time on) and do not add up to them exactly.
 * CM_RULES_NO_JIT=1 in the environment switches the pcre2 JIT off, as for
 * rules_load() everywhere.
 */
#include "caseid.h"
#include "complaint.h"
#include "describe.h"
#include "doc.h"
#include "extract.h"
#include "mime.h"
#include "pipeline.h"
#include "rules.h"
#include "verdict.h"

#include "benchlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (fp == NULL)
		return NULL;
	do {
		if (n + 65536 > cap) {
			cap = (n + 65536) * 2;
			if ((buf = realloc(buf, cap)) == NULL)
				exit(2);
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
	} while (r > 0);
	fclose(fp);
	*len = n;
	return buf;
}

/* Scan class rc through s like extract.c: every match from offset 0 on. */
static size_t
scan_all(const struct rules *rs, enum rule_class rc, struct rscan *sc, const char *s, size_t len)
{
	size_t off = 0, n = 0;
	struct rmatch m;

	while (off < len && rules_find(rs, rc, sc, s, len, off, &m) == 1) {
		off = m.end > m.start ? m.end : m.start + 1;
		n++;
	}
	return n;
}

/* Try anchored class rc at the start of every line of s. */
static size_t
try_lines(const struct rules *rs, enum rule_class rc, struct rscan *sc, const char *s, size_t len)
{
	size_t n = 0;
	struct rmatch m;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(s + i, '\n', len - i);

		n += rules_find(rs, rc, sc, s, len, i, &m) == 1;
		i = nl ? (size_t)(nl - s) + 1 : len;
	}
	return n;
}

/*
 * Find the word starts of the Subject and the text and every prefiltered
 * class's candidates in them: the first search of a text does that (one
 * from the end of the text finds nothing else).
 */
static void
word_starts(const struct rules *rs, struct rscan *sc, const char *subject, const struct doc *d)
{
	struct rmatch m;

	(void)rules_find(rs, RC_TICKET_LABEL, sc, subject, strlen(subject), strlen(subject), &m);
	(void)rules_find(rs, RC_TICKET_LABEL, sc, d->text.s, d->text.len, d->text.len, &m);
}

int
main(int argc, char **argv)
{
	const char *dir = "rules";
	int iters = 200, opt;
	char err[1024];
	struct rules *rs;
	struct rscan sc;
	struct caseid_fmt idf;
	char *buf;
	size_t len;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		switch (opt) {
		case 'r': dir = optarg; break;
		case 'n': iters = atoi(optarg); break;
		default:
			fputs("usage: stageprof [-r RULESDIR] [-n ITERATIONS] FILE.eml\n", stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || iters < 1 || iters > 100000) {
		fputs("usage: stageprof [-r RULESDIR] [-n ITERATIONS] FILE.eml\n", stderr);
		return 2;
	}
	mime_init();
	if ((rs = rules_load(dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stageprof: %s\n", err);
		return 1;
	}
	if ((buf = slurp(argv[optind], &len)) == NULL) {
		fprintf(stderr, "stageprof: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	caseid_fmt_init(&idf, "CASE", "", false);
	if (rscan_init(&sc) < 0)
		return 1;

	/* stages, each message with a fresh rscan as pipeline_run() has */
	uint64_t t[7] = { 0 };
	struct msgtext mt;
	struct doc d;
	struct complaint c;
	struct rscan ms;
	struct pipeline_opts po = { .rules = rs, .idf = idf, .max_scan = 256 * 1024,
		.action = INCOMPLETE_REJECT };

	for (int i = 0; i < iters; i++) {
		uint64_t a = now_ns(), b, e;

		if (mime_parse(buf, len, po.max_scan, &mt) < 0)
			return 1;
		b = now_ns();
		t[0] += b - a;
		if (rscan_init(&ms) < 0)
			return 1;
		(void)rscan_set_valid(&ms, mt.subject, strlen(mt.subject));
		e = now_ns();
		t[5] += e - b;
		if (doc_build(&d, &mt, rs, &ms) < 0)
			return 1;
		b = now_ns();
		t[1] += b - e;
		(void)rscan_set_valid(&ms, d.text.s, d.text.len);
		complaint_init(&c);
		e = now_ns();
		t[5] += e - b;
		if (extract_fields(&c, mt.subject, &d, rs, &ms, &idf) < 0)
			return 1;
		b = now_ns();
		t[2] += b - e;
		(void)describe_words(&d, rs, &ms, DESCRIBE_MIN_WORDS);
		e = now_ns();
		t[3] += e - b;
		(void)verdict_is_automatic(&mt, NULL, rs, &ms);
		b = now_ns();
		t[4] += b - e;
		complaint_free(&c);
		rscan_free(&ms);
		if (i + 1 < iters) {
			doc_free(&d);
			msgtext_free(&mt);
		}
		e = now_ns();
		t[5] += e - b;
		if (pipeline_run(&po, buf, len, NULL, &c) < 0)
			return 1;
		t[6] += now_ns() - e;
		complaint_free(&c);
	}

	/* percentages are of the stages' sum, measured in the same loop */
	double whole = (double)t[6] / iters / 1000.0;
	double sum = 0;
	static const char *const sname[] = { "mime_parse", "doc_build", "extract_fields",
		"describe_words", "verdict_is_automatic", "rscan, validity, frees" };

	for (int i = 0; i < 6; i++)
		sum += (double)t[i] / iters / 1000.0;
	printf("stageprof: %s, %zu bytes, %zu bytes of document text, %d iterations%s\n",
	    argv[optind], len, d.text.len, iters, getenv("CM_RULES_NO_JIT") ? " (no JIT)" : "");
	printf("  %-34s %10s %7s\n", "stage", "us/msg", "%");
	printf("  %-34s %10.1f\n", "pipeline_run (whole, timed apart)", whole);
	for (int i = 0; i < 6; i++)
		printf("  %-34s %10.1f %7.1f\n", sname[i], (double)t[i] / iters / 1000.0,
		    100.0 * (double)t[i] / iters / 1000.0 / sum);

	/* rule classes, over the Subject and the document text */
	static const enum rule_class scanned[] = { RC_TICKET_LABEL, RC_TICKET_BARE,
		RC_SERIAL_LABEL, RC_MODEL, RC_KIND_SERVICE, RC_KIND_PRODUCT,
		RC_SOLUTION_LABEL, RC_LANG, RC_ESCALATE };
	static const enum rule_class lined[] = { RC_GREETING, RC_CLOSING,
		RC_REPLY_HEADER, RC_FORWARD_HEADER, RC_FORWARD_FIELD };

	printf("  %-34s %10s %7s %8s\n", "rule class (scan as extract does)", "us/msg", "%",
	    "matches");
	/*
	 * Each message's rscan starts empty: the word starts of a text and the
	 * candidates of every prefiltered class are found by the first search
	 * of it (a search from the end: nothing else) and shared by the rest.
	 */
	{
		uint64_t tw = 0;

		for (int i = 0; i < iters; i++) {
			if (rscan_init(&ms) < 0)
				return 1;
			uint64_t a = now_ns();

			word_starts(rs, &ms, mt.subject, &d);
			tw += now_ns() - a;
			rscan_free(&ms);
		}
		double us = (double)tw / iters / 1000.0;

		printf("  %-34s %10.1f %7.1f\n", "(word starts, candidates)", us, 100.0 * us / sum);
	}
	for (size_t k = 0; k < sizeof(scanned) / sizeof(scanned[0]); k++) {
		size_t n = 0;
		uint64_t t = 0;

		for (int i = 0; i < iters; i++) {
			if (rscan_init(&ms) < 0)
				return 1;
			word_starts(rs, &ms, mt.subject, &d);
			uint64_t a = now_ns();

			n = scan_all(rs, scanned[k], &ms, mt.subject, strlen(mt.subject));
			n += scan_all(rs, scanned[k], &ms, d.text.s, d.text.len);
			t += now_ns() - a;
			rscan_free(&ms);
		}
		double us = (double)t / iters / 1000.0;

		printf("  %-34s %10.1f %7.1f %8zu\n", rules_class_name(scanned[k]), us,
		    100.0 * us / sum, n);
	}
	printf("  %-34s %10s %7s %8s\n", "rule class (tried at each line)", "us/msg", "%",
	    "matches");
	for (size_t k = 0; k < sizeof(lined) / sizeof(lined[0]); k++) {
		size_t n = 0;
		uint64_t a = now_ns();

		for (int i = 0; i < iters; i++)
			n = try_lines(rs, lined[k], &sc, d.text.s, d.text.len);
		double us = (double)(now_ns() - a) / iters / 1000.0;

		printf("  %-34s %10.1f %7.1f %8zu\n", rules_class_name(lined[k]), us,
		    100.0 * us / sum, n);
	}
	printf("  (every class scanned to the end of the text; extract.c may stop a class\n"
	    "   earlier, e.g. language after a sample of words)\n");
	if (sc.limit_hit)
		printf("  (a match hit the pcre2 match/depth limit)\n");
	doc_free(&d);
	msgtext_free(&mt);
	rscan_free(&sc);
	rules_unref(rs);
	free(buf);
	return 0;
}
