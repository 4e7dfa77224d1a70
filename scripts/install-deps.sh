#!/bin/sh
# Install the Debian packages complaint-milter needs to build, run and test.
# Usage: scripts/install-deps.sh [--test | --bench | --deb | --fuzz]
#   (nothing) build; --test also what `make check` needs; --bench also what
#   `make bench` needs (MIMEDefang, profilers); --deb what `make deb` needs
#   (also part of --test: make check builds and installs the package);
#   --fuzz clang and its libFuzzer runtime for make fuzz (also part of --test:
#   make check-fuzz runs the harnesses briefly).
# Idempotent; uses sudo only when not already root.
set -eu
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

BUILD_PKGS="build-essential pkg-config libgmime-3.0-dev libpcre2-dev libsqlite3-dev
	libmilter-dev libxml2-dev libcurl4-openssl-dev"
TEST_PKGS="libcmocka-dev python3 sqlite3 valgrind postfix swaks m4 libwrap0
	liblockfile1 iproute2 util-linux procps e2fsprogs
	dovecot-core dovecot-sieve"
# make fuzz / check-fuzz: clang with -fsanitize=fuzzer (libFuzzer's runtime is
# in libclang-rt-14-dev).  tests/mta/faults.sh needs e2fsprogs (above):
# mkfs.ext4 for its small database file system, chattr for read-only.
FUZZ_PKGS="clang libclang-rt-14-dev"
# make bench (bench/run.sh) beyond the test packages: the MIMEDefang peer
# (its Mail::MIMEDefang::Net needs Net::DNS, which the package does not
# depend on), and strace/perf for bench/profile.sh.  make bench-smoke needs
# only TEST_PKGS: without MIMEDefang it leaves the peer out, with a note.
BENCH_PKGS="mimedefang libdbd-sqlite3-perl libnet-dns-perl strace linux-perf"

# make deb / make check-install: the package build, lintian, man page checks,
# systemd-analyze (the systemd package; it need not be running).
DEB_PKGS="dpkg-dev debhelper lintian man-db systemd adduser"

want="$BUILD_PKGS"
case "${1:-}" in
--test) want="$BUILD_PKGS $TEST_PKGS $DEB_PKGS $FUZZ_PKGS" ;;
--bench) want="$BUILD_PKGS $TEST_PKGS $DEB_PKGS $BENCH_PKGS" ;;
--deb) want="$BUILD_PKGS $DEB_PKGS" ;;
--fuzz) want="$BUILD_PKGS $FUZZ_PKGS" ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself: a private instance is all we use.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
