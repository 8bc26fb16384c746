#!/bin/sh
# scripts/test.sh: from a fresh clone, install what is missing, build, and
# run every test (make check): unit tests, and integration tests against real
# ZooKeeper servers, stand-in masters and the daemon. Run as root the first
# time (it installs Debian packages). Build directory: ./build (or $BUILDDIR).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh test
builddir="${BUILDDIR:-build}"
[ -x configure ] || autoreconf -fi
mkdir -p "$builddir"
cd "$builddir"
# Configure unless an earlier run did, with --enable-werror (an existing
# build without it, e.g. configured by hand, is configured again).
if [ ! -f Makefile ] || ! ./config.status --config | grep -q -e "--enable-werror"; then
    ../configure --enable-werror ${CONFIGURE_FLAGS:-}
fi
make -j"$(nproc)"
make -j"$(nproc)" check
