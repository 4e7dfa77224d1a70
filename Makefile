# complaint-milter — GNU make build.
#
# make            build every program into build/
# make check      build and run every test (unit, corpus, MTA integration)
# make check-unit unit tests only
# make check-cases complaint-cases end to end (tests/cases-cli.sh)
# make sanitize   build with AddressSanitizer/UBSan into build/asan/ and run the
#                 corpus and robustness tests under it
# make valgrind   run the robustness corpus under valgrind (memcheck)
# make bench      benchmarks: Postfix, protocol level, offline, memory (root)
# make bench-smoke the benchmark harness with a few hundred messages
# make clean

CC      ?= cc
PKGS    := gmime-3.0 libpcre2-8 sqlite3 libxml-2.0 libcurl
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread
CFLAGS  += $(shell pkg-config --cflags $(PKGS))
LDLIBS  := $(shell pkg-config --libs $(PKGS)) -pthread
MILTER_LIBS := -lmilter -pthread
TEST_LIBS   := $(shell pkg-config --libs cmocka)

B       ?= build
MAINS   := milter/check_main.c milter/cases_main.c milter/reply_main.c
CORE_SRC := $(filter-out $(MAINS) milter/milter_main.c milter/filter.c milter/mfio.c, $(wildcard milter/*.c))
CORE_OBJ := $(CORE_SRC:milter/%.c=$(B)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

PROGS   := $(B)/complaint-check $(B)/complaint-milter $(B)/complaint-cases $(B)/complaint-reply
MILTER_OBJ := $(B)/obj/milter_main.o $(B)/obj/filter.o $(B)/obj/mfio.o

.PHONY: all check check-unit check-cases check-corpus check-robust check-milter-t check-mta sanitize valgrind clean bench bench-smoke
all: $(PROGS)

$(B)/obj/%.o: milter/%.c $(wildcard milter/*.h) | $(B)/obj
	$(CC) $(CFLAGS) -Imilter -c -o $@ $<

$(B)/libcore.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/complaint-check: $(B)/obj/check_main.o $(B)/libcore.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/complaint-cases: $(B)/obj/cases_main.o $(B)/libcore.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/complaint-milter: $(MILTER_OBJ) $(B)/libcore.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(MILTER_LIBS)

$(B)/complaint-reply: $(B)/obj/reply_main.o $(B)/libcore.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(B)/libcore.a | $(B)/tests
	$(CC) $(CFLAGS) -Imilter -Itests/unit -o $@ $< $(B)/libcore.a $(LDLIBS) $(TEST_LIBS)

$(B)/null-milter: bench/null-milter.c | $(B)/obj
	$(CC) $(CFLAGS) -o $@ $< $(MILTER_LIBS)

# Benchmark load generators (bench/): milter protocol driver, SMTP sender.
BENCH_BIN := $(B)/milterload $(B)/smtpload
$(BENCH_BIN): $(B)/%: bench/%.c bench/benchlib.c bench/benchlib.h | $(B)/obj
	$(CC) $(CFLAGS) -Ibench -o $@ bench/$*.c bench/benchlib.c -pthread

# Per-stage and per-rule-class profile of the pipeline on one message.
$(B)/stageprof: bench/stageprof.c bench/benchlib.c bench/benchlib.h $(B)/libcore.a
	$(CC) $(CFLAGS) -Imilter -Ibench -o $@ bench/stageprof.c bench/benchlib.c $(B)/libcore.a $(LDLIBS)

$(B)/obj $(B)/tests:
	mkdir -p $@

check-unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

check-corpus: $(PROGS)
	@sh tests/corpus.sh $(B)/complaint-check

check-robust: $(PROGS)
	@sh tests/robust.sh $(B)/complaint-check
	@if command -v valgrind >/dev/null; then VALGRIND=1 sh tests/robust.sh $(B)/complaint-check; \
	else echo "robust: valgrind not installed, memcheck run skipped"; fi

# Integration tests through a real Postfix and Sendmail (root, loopback only).
check-mta: all $(B)/null-milter
	@if [ "$$(id -u)" -ne 0 ]; then echo "mta: not root, integration tests skipped"; \
	else bash tests/mta/milter-it.sh all && bash tests/mta/reply-it.sh; fi

# Benchmarks (root, loopback only): bench/run.sh; see the README's Performance.
# bench-smoke runs the same harness with a few hundred messages.
bench: all $(B)/null-milter $(BENCH_BIN) $(B)/stageprof
	@B=$(B) bash bench/run.sh

bench-smoke: all $(B)/null-milter $(BENCH_BIN) $(B)/stageprof
	@B=$(B) BENCH_SCALE=smoke bash bench/run.sh

check-milter-t: all
	@sh tests/milter-t.sh $(B)/complaint-milter

# complaint-cases end to end: fixture database through the real pipeline,
# every command, exit codes, JSON/CSV, read-only access, the Sieve example.
check-cases: all
	@sh tests/cases-cli.sh $(B)

check: all check-unit check-corpus check-robust check-milter-t check-cases check-mta
	@echo "make check: all test groups passed"

sanitize:
	$(MAKE) B=build/asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN))
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 sh tests/run-unit.sh $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN))
	ASAN_OPTIONS=detect_leaks=1 sh tests/robust.sh build/asan/complaint-check

valgrind: $(PROGS) $(UNIT_BIN)
	VALGRIND=1 sh tests/robust.sh $(B)/complaint-check
	for t in $(UNIT_BIN); do CM_RULES_NO_JIT=1 valgrind -q --suppressions=tests/valgrind.supp \
	    --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 $$t || exit 1; done

clean:
	rm -rf build
