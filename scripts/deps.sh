#!/bin/sh
# scripts/deps.sh: installs what building and testing mesos-leaderd needs on
# Debian 12, with apt-get. Usage: scripts/deps.sh [build|test|ci]  (as root)
#   build  compilers, autotools and the libraries (the -dev packages)
#   test   build + a real ZooKeeper (Java), curl and openssl for the tests
#   ci     test + clang (fuzzers), valgrind, systemd tools, Debian packaging
set -eu

BUILD="build-essential autoconf automake pkg-config libmicrohttpd-dev libcurl4-openssl-dev
libjson-c-dev libsystemd-dev libzookeeper-mt-dev check"
TEST="zookeeper libslf4j-java curl openssl procps"
CI="clang libclang-rt-14-dev valgrind systemd debhelper dpkg-dev devscripts fakeroot lintian
man-db groff-base clang-format clang-tidy cppcheck wrk"

case "${1:-test}" in
build) pkgs="$BUILD" ;;
test) pkgs="$BUILD $TEST" ;;
ci) pkgs="$BUILD $TEST $CI" ;;
*) echo "usage: $0 [build|test|ci]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: everything needed is installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing:$missing; run as root (or: sudo $0 ${1:-test})" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
