#!/bin/sh
# Install the Debian packages complaint-milter needs to build, run and test.
# Idempotent; uses sudo only when not already root.
set -eu
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

BUILD_PKGS="build-essential pkg-config libgmime-3.0-dev libpcre2-dev libsqlite3-dev
	libmilter-dev libxml2-dev"
TEST_PKGS="libcmocka-dev python3 sqlite3 valgrind postfix swaks m4 libwrap0
	liblockfile1 iproute2 util-linux procps"

want="$BUILD_PKGS"
[ "${1:-}" = "--test" ] && want="$BUILD_PKGS $TEST_PKGS"

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
