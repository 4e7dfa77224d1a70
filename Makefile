# complaint-milter — GNU make build.
#
# make            build every program into build/
# make check      build and run every test (unit, corpus, MTA integration,
#                 and a smoke run of the benchmark harness)
# make check-unit unit tests only
# make check-cases complaint-cases end to end (tests/cases-cli.sh)
# make sanitize   build with AddressSanitizer/UBSan into build/asan/ and run the
#                 corpus and robustness tests under it
# make valgrind   run the robustness corpus under valgrind (memcheck)
# make bench      benchmarks: Postfix, protocol level, offline, memory (root)
# make bench-smoke the benchmark harness with a few hundred messages
# make install / uninstall / deb, check-man, check-install: see the end
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
CORE_SRC := $(filter-out $(MAINS) milter/milter_main.c milter/filter.c milter/filter_test.c \
	milter/mfio.c, $(wildcard milter/*.c))
CORE_OBJ := $(CORE_SRC:milter/%.c=$(B)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

PROGS   := $(B)/complaint-check $(B)/complaint-milter $(B)/complaint-cases $(B)/complaint-reply
MILTER_OBJ := $(B)/obj/milter_main.o $(B)/obj/filter.o $(B)/obj/filter_test.o $(B)/obj/mfio.o

.PHONY: all check check-unit check-cases check-corpus check-robust check-milter-t check-mta sanitize valgrind clean bench bench-smoke
.PHONY: check-hostile fuzz fuzz-build check-fuzz check-privilege stress check-asan check-abuse
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

# A syslog receiver for machines without one (bench/run.sh, see logsink.c).
$(B)/logsink: bench/logsink.c | $(B)/obj
	$(CC) $(CFLAGS) -o $@ $<

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

# Hostile input (tests/hostile.sh): generated worst cases and tests/regress/
# through complaint-check and complaint-milter -t, bounded in time and memory;
# then the cases of at most 1 MB once more under valgrind's memcheck.
check-hostile: $(PROGS)
	@if command -v valgrind >/dev/null; then VALGRIND=1 sh tests/hostile.sh $(B); \
	else sh tests/hostile.sh $(B); echo "hostile: valgrind not installed, memcheck run skipped"; fi

# libFuzzer harnesses (fuzz/): message bytes -> verdict, the rules loader, the
# configuration parser; built with clang, ASan and UBSan into build/fuzz/.
# make fuzz [FUZZ_SECONDS=60] runs each for FUZZ_SECONDS; check-fuzz runs
# each for CHECK_FUZZ_SECONDS (20), skipped with a message without clang's
# fuzzer runtime (scripts/install-deps.sh --fuzz).
FUZZ_B        := build/fuzz
FUZZ_SECONDS  ?= 60
CHECK_FUZZ_SECONDS ?= 20
FUZZ_HARNESSES := pipeline rules config
FUZZ_OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

$(B)/fuzz_%: fuzz/fuzz_%.c $(B)/libcore.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Imilter -o $@ $< $(B)/libcore.a $(LDLIBS)

fuzz-build:
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' | \
	    clang -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null || \
	    { echo "fuzz: clang with its fuzzer runtime not found (scripts/install-deps.sh --fuzz)"; exit 2; }
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang OPT="$(FUZZ_OPT) -fsanitize=fuzzer-no-link" \
	    $(FUZZ_HARNESSES:%=$(FUZZ_B)/fuzz_%)

fuzz: fuzz-build
	@sh fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS)

check-fuzz:
	@mkdir -p $(B); $(MAKE) --no-print-directory fuzz-build >$(B)/fuzz-build.err 2>&1; rc=$$?; \
	if grep -q 'fuzzer runtime not found' $(B)/fuzz-build.err; then \
	    echo "fuzz: clang's fuzzer runtime missing, fuzzing skipped (scripts/install-deps.sh --fuzz)"; \
	elif [ $$rc -ne 0 ]; then cat $(B)/fuzz-build.err; echo "fuzz: 0 passed, 1 failed (build)"; exit 1; \
	else sh fuzz/run.sh $(FUZZ_B) $(CHECK_FUZZ_SECONDS); fi

# The reply worker under abuse (tests/mta/reply-abuse.sh, no MTA needed): a
# flood from one forged sender, two instances pointed at each other, a naive
# auto-responder, a rejected complaint, the worker SIGKILLed mid-send.
check-abuse: all
	@bash tests/mta/reply-abuse.sh

# Least privilege (tests/privilege.sh): no shell and only prepared SQL in
# milter/; as root, the daemon's user, groups, socket, and that it cannot
# write its configuration or rules.
check-privilege: all
	@bash tests/privilege.sh

# make stress: tests/stress.sh (root; not part of make check): 20,000
# messages over 32 SMTP sessions through the private Postfix, then the same
# with the milter SIGKILLed every 2 s.  STRESS_SCALE=small for a quick run.
stress: all
	@if [ "$$(id -u)" -ne 0 ]; then echo "stress: needs root (a private Postfix)"; exit 1; fi
	@bash tests/stress.sh

# Integration tests through a real Postfix and Sendmail (root, loopback only).
check-mta: all $(B)/null-milter
	@if [ "$$(id -u)" -ne 0 ]; then echo "mta: not root, integration tests skipped"; \
	else bash tests/mta/milter-it.sh all && bash tests/mta/reply-it.sh && \
	    bash tests/mta/faults.sh; fi

# Benchmarks (root, loopback only): bench/run.sh; see the README's Performance.
# bench-smoke runs the same harness with a few hundred messages.
bench: all $(B)/null-milter $(B)/logsink $(BENCH_BIN) $(B)/stageprof
	@B=$(B) bash bench/run.sh

bench-smoke: all $(B)/null-milter $(B)/logsink $(BENCH_BIN) $(B)/stageprof
	@B=$(B) BENCH_SCALE=smoke bash bench/run.sh

check-milter-t: all
	@sh tests/milter-t.sh $(B)/complaint-milter
	@sh tests/reply-reload.sh $(B)

# complaint-cases end to end: fixture database through the real pipeline,
# every command, exit codes, JSON/CSV, read-only access, the Sieve example.
check-cases: all
	@sh tests/cases-cli.sh $(B)

check: all check-unit check-corpus check-robust check-hostile check-milter-t check-cases check-abuse check-fuzz check-privilege check-mta check-asan bench-smoke
	@$(MAKE) --no-print-directory check-man check-install
	@echo "make check: all test groups passed"

sanitize:
	$(MAKE) B=build/asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN))
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 sh tests/run-unit.sh $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN))
	ASAN_OPTIONS=detect_leaks=1 sh tests/robust.sh build/asan/complaint-check
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 sh tests/hostile.sh build/asan

# make sanitize, then one integration pass (tests/mta/milter-it.sh postfix)
# with the ASan+UBSan milter as the daemon (root).  Any sanitizer report of
# the daemon (written to build/asan/logs/) fails it; leak checking is left to
# the unit tests and the -t runs (libmilter keeps per-thread state to the end).
check-asan: sanitize
	@if [ "$$(id -u)" -ne 0 ]; then echo "asan: not root, integration pass skipped"; else \
	    rm -rf build/asan/logs && mkdir -p build/asan/logs && chmod 1777 build/asan/logs && \
	    ASAN_OPTIONS=detect_leaks=0:log_path=$(CURDIR)/build/asan/logs/asan \
	    UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/build/asan/logs/ubsan \
	    MILTER_BIN=$(CURDIR)/build/asan/complaint-milter bash tests/mta/milter-it.sh postfix && \
	    if ls build/asan/logs/* >/dev/null 2>&1; then cat build/asan/logs/*; \
	        echo "asan: 0 passed, 1 failed (sanitizer reports above)"; exit 1; fi; fi

valgrind: $(PROGS) $(UNIT_BIN)
	VALGRIND=1 sh tests/robust.sh $(B)/complaint-check
	VALGRIND=1 sh tests/hostile.sh $(B)
	for t in $(UNIT_BIN); do CM_RULES_NO_JIT=1 valgrind -q --suppressions=tests/valgrind.supp \
	    --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 $$t || exit 1; done

clean:
	rm -rf build

# ---- Install, uninstall, Debian package (issue 8; README "Install on a mail server") ----
#
# make install [PREFIX=/usr/local] [DESTDIR=]   programs, configuration, rules,
#                 templates, holidays, man pages, systemd units, docs
# make uninstall  removes what install put there; keeps /var/lib/complaint-milter
#                 (the database), the user, and configuration files you edited
# make deb        builds the Debian package from a copy of this tree into $(B)/deb/
# make check-man  man pages: no warnings from man, every configuration key documented
# make check-install  tests/install.sh: make install file list, the package
#                 built, installed, run as its units run it, end to end, purged
#
# Daemons go to $(PREFIX)/sbin, the staff and check tools to $(PREFIX)/bin,
# the configuration and the rules to /etc/complaint-milter (never over a file
# you changed: the new version is put beside it as FILE.dist), templates and
# holidays to $(PREFIX)/share/complaint-milter (the installed configuration
# points TemplatesDir and HolidaysDir there; to change them, copy them to
# /etc/complaint-milter and point the keys there).  As root without DESTDIR,
# install also creates the system user complaint-milter (in groups postfix
# and postdrop when they exist) and /var/lib/complaint-milter.
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/complaint-milter
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/complaint-milter
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CONFDIR    ?= /etc/complaint-milter
STATEDIR   ?= /var/lib/complaint-milter
CM_USER    ?= complaint-milter
INSTALL    ?= install
VERSION    := $(shell sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog 2>/dev/null)

MAN_PAGES  := man/complaint-milter.8 man/complaint-reply.8 man/complaint-milter.conf.5 \
              man/complaint-cases.1 man/complaint-check.1
UNITS      := complaint-milter.service complaint-reply.service
RULE_FILES := $(wildcard rules/*.rules)
TEMPLATE_FILES := $(wildcard conf/templates/*/*.txt conf/templates/*/*.html)
HOLIDAY_FILES  := $(wildcard conf/holidays/*.holidays) conf/holidays/closing.days
INST       := $(B)/install

.PHONY: install uninstall deb check-man check-install install-user
# made again at every install: they depend on PREFIX, CONFDIR, ...
.PHONY: $(INST)/complaint-milter.conf $(UNITS:%=$(INST)/%)

# The installed configuration: the sample with the installed paths.
$(INST)/complaint-milter.conf: conf/complaint-milter.conf Makefile
	@mkdir -p $(INST)
	sed -e 's|^\(Database[[:space:]]\+\).*|\1$(STATEDIR)/cases.sqlite|' \
	    -e 's|^\(RulesDir[[:space:]]\+\).*|\1$(CONFDIR)/rules|' \
	    -e 's|^\(TemplatesDir[[:space:]]\+\).*|\1$(DATADIR)/templates|' \
	    -e 's|^\(HolidaysDir[[:space:]]\+\).*|\1$(DATADIR)/holidays|' $< >$@.tmp && mv $@.tmp $@

$(UNITS:%=$(INST)/%): $(INST)/%.service: systemd/%.service.in Makefile
	@mkdir -p $(INST)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@CONFFILE@|$(CONFDIR)/complaint-milter.conf|g' \
	    $< >$@.tmp && mv $@.tmp $@

# install a configuration file unless the admin has one that differs
inst_conf = if [ ! -e "$(2)" ] || cmp -s "$(1)" "$(2)"; then $(INSTALL) -m 644 "$(1)" "$(2)"; \
	else $(INSTALL) -m 644 "$(1)" "$(2).dist"; \
	echo "install: kept your $(2); the new version is $(2).dist"; fi

install: $(PROGS) $(INST)/complaint-milter.conf $(UNITS:%=$(INST)/%)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(CONFDIR)/rules \
	    $(DESTDIR)$(DATADIR)/holidays $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples/systemd \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 755 $(B)/complaint-milter $(B)/complaint-reply $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 755 $(B)/complaint-cases $(B)/complaint-check $(DESTDIR)$(BINDIR)/
	@$(call inst_conf,$(INST)/complaint-milter.conf,$(DESTDIR)$(CONFDIR)/complaint-milter.conf)
	@for f in $(RULE_FILES); do \
	    $(call inst_conf,$$f,$(DESTDIR)$(CONFDIR)/$$f); done
	@for f in $(TEMPLATE_FILES); do l=$${f#conf/templates/}; \
	    $(INSTALL) -d $(DESTDIR)$(DATADIR)/templates/$${l%/*} && \
	    $(INSTALL) -m 644 $$f $(DESTDIR)$(DATADIR)/templates/$$l || exit 1; done
	$(INSTALL) -m 644 $(HOLIDAY_FILES) $(DESTDIR)$(DATADIR)/holidays/
	$(INSTALL) -m 644 $(UNITS:%=$(INST)/%) $(DESTDIR)$(UNITDIR)/
	$(INSTALL) -m 644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 README.md doc/staff.md doc/schema.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 rules/README.md $(DESTDIR)$(DOCDIR)/rules.md
	$(INSTALL) -m 644 conf/templates/README.md $(DESTDIR)$(DOCDIR)/templates.md
	$(INSTALL) -m 644 conf/holidays/README.md $(DESTDIR)$(DOCDIR)/holidays.md
	$(INSTALL) -m 644 doc/examples/complaints.sieve $(DESTDIR)$(DOCDIR)/examples/
	sed '/^Message-ID:/d' tests/corpus/dev/001-nl-product-labeled.eml >$(DESTDIR)$(DOCDIR)/examples/test-complaint.eml
	chmod 644 $(DESTDIR)$(DOCDIR)/examples/test-complaint.eml
	$(INSTALL) -m 644 systemd/examples/*.conf $(DESTDIR)$(DOCDIR)/examples/systemd/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(MAKE) -s install-user; \
	else echo "install: DESTDIR set or not root: create user $(CM_USER) and $(STATEDIR) yourself (README)"; fi

# The system user and the state directory (what the package's postinst does).
install-user:
	@getent passwd $(CM_USER) >/dev/null || useradd --system --user-group \
	    --home-dir $(STATEDIR) --no-create-home --shell /usr/sbin/nologin \
	    --comment "complaint-milter" $(CM_USER)
	@for g in postfix postdrop; do getent group $$g >/dev/null && \
	    usermod -a -G $$g $(CM_USER) || true; done
	@$(INSTALL) -d -m 750 -o $(CM_USER) -g $$(id -gn $(CM_USER)) $(STATEDIR)
	@echo "install: user $(CM_USER) ($$(id -Gn $(CM_USER))), $(STATEDIR)"

# Configuration files are removed only when they are still as installed.
uninstall: $(INST)/complaint-milter.conf
	rm -f $(DESTDIR)$(SBINDIR)/complaint-milter $(DESTDIR)$(SBINDIR)/complaint-reply \
	    $(DESTDIR)$(BINDIR)/complaint-cases $(DESTDIR)$(BINDIR)/complaint-check \
	    $(UNITS:%=$(DESTDIR)$(UNITDIR)/%) \
	    $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(filter %.1,$(MAN_PAGES))) \
	    $(patsubst man/%,$(DESTDIR)$(MANDIR)/man5/%,$(filter %.5,$(MAN_PAGES))) \
	    $(patsubst man/%,$(DESTDIR)$(MANDIR)/man8/%,$(filter %.8,$(MAN_PAGES)))
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	@c=$(DESTDIR)$(CONFDIR); for f in $(INST)/complaint-milter.conf $(RULE_FILES); do \
	    t=$$c/$${f##*/}; case $$f in rules/*) t=$$c/$$f;; esac; \
	    rm -f "$$t.dist"; if [ ! -e "$$t" ]; then :; elif cmp -s "$$f" "$$t"; then rm -f "$$t"; \
	    else echo "uninstall: kept $$t (changed)"; fi; done; \
	    rmdir $$c/rules $$c 2>/dev/null || true
	@echo "uninstall: kept $(STATEDIR) (the database) and the user $(CM_USER)"

# The Debian package, built from a copy of the tree (dpkg-buildpackage cleans
# and writes into the parent directory: neither may touch this tree or build/).
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
	    { echo "deb: run scripts/install-deps.sh --deb first"; exit 1; }
	rm -rf $(B)/deb && mkdir -p $(B)/deb/complaint-milter-$(VERSION)
	tar -cf - --exclude=./build --exclude=./local --exclude=./.git --exclude='*.o' . | \
	    tar -xf - -C $(B)/deb/complaint-milter-$(VERSION)
	cd $(B)/deb/complaint-milter-$(VERSION) && dpkg-buildpackage -us -uc -b $(DEB_FLAGS)
	@ls -l $(B)/deb/*.deb

check-man: $(B)/complaint-milter
	@sh tests/man.sh $(B)/complaint-milter $(MAN_PAGES)

check-install: all
	@if [ "$$(id -u)" -ne 0 ]; then echo "install: not root, install tests skipped"; \
	else B=$(B) bash tests/install.sh; fi
