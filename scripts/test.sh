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
[ -f Makefile ] || ../configure --enable-werror ${CONFIGURE_FLAGS:-}
make -j"$(nproc)"
make -j"$(nproc)" check
