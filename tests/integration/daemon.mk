# tests/integration/daemon.mk: integration tests of the daemon (the proxy and
# its streams), included from tests/local.mk. A real ZooKeeper, stand-in
# masters and mesos-leaderd; the programs are built by "all" before "check".

# Shared by the daemon's integration tests.
noinst_LIBRARIES += tests/integration/libit.a
tests_integration_libit_a_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_libit_a_SOURCES = tests/integration/itlib.c tests/integration/itlib.h \
	tests/integration/itload.c tests/integration/itload.h
IT_LIBS = tests/integration/libit.a $(HARNESS_LIBS)

# The proxy: forwarding, retries, local endpoints, limits, TLS.
check_PROGRAMS += tests/integration/it_proxy
TESTS += tests/integration/it_proxy
tests_integration_it_proxy_SOURCES = tests/integration/it_proxy.c
tests_integration_it_proxy_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_proxy_LDADD = $(IT_LIBS)

# Event streams: unbuffered relay, leader changes, breaks, leaks.
check_PROGRAMS += tests/integration/it_streams
TESTS += tests/integration/it_streams
tests_integration_it_streams_SOURCES = tests/integration/it_streams.c
tests_integration_it_streams_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_streams_LDADD = $(IT_LIBS)

# The service: sd_notify, socket activation, reload, stop, configuration.
check_PROGRAMS += tests/integration/it_service
TESTS += tests/integration/it_service
tests_integration_it_service_SOURCES = tests/integration/it_service.c
tests_integration_it_service_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_service_LDADD = $(IT_LIBS)

# The daemon's integration tests with mesos-leaderd under valgrind memcheck:
# any error or leak makes the daemon exit 99, which the tests catch when
# they stop it (they expect exit status 0).
VALGRIND_DAEMON = valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --track-fds=no
.PHONY: check-valgrind
check-valgrind:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="tests/integration/it_proxy \
	tests/integration/it_streams tests/integration/it_service tests/integration/it_watch \
	tests/integration/it_share" \
	IT_DAEMON_WRAPPER="$(VALGRIND_DAEMON)"

# Faults under load on a 3-node ensemble; each test records its figures in
# reliability.jsonl (docs/reliability.md is written from it).
check_PROGRAMS += tests/integration/it_faults
TESTS += tests/integration/it_faults
tests_integration_it_faults_SOURCES = tests/integration/it_faults.c
tests_integration_it_faults_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_faults_LDADD = $(IT_LIBS)
CLEANFILES += tests/integration/reliability.jsonl

# Hostile and broken clients: smuggling, framing, pipelining, slowloris.
check_PROGRAMS += tests/integration/it_hostile
TESTS += tests/integration/it_hostile
tests_integration_it_hostile_SOURCES = tests/integration/it_hostile.c
tests_integration_it_hostile_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_hostile_LDADD = $(IT_LIBS)

# The differential test: every case of tests/diff/corpus/ played straight
# against a stand-in master and through the daemon, compared byte for byte
# (tests/diff/README.md); the pure parts (reading HTTP, cases, comparing)
# are a library with unit tests of their own.
noinst_LIBRARIES += tests/diff/libdiff.a
tests_diff_libdiff_a_CPPFLAGS = $(TEST_CPPFLAGS)
tests_diff_libdiff_a_SOURCES = \
	tests/diff/diffcase.c tests/diff/diffcase.h \
	tests/diff/diffcmp.c tests/diff/diffcmp.h \
	tests/diff/diffhttp.c tests/diff/diffhttp.h
check_PROGRAMS += tests/diff/check_diff
TESTS += tests/diff/check_diff
tests_diff_check_diff_SOURCES = tests/diff/check_diff.c
tests_diff_check_diff_CPPFLAGS = $(TEST_CPPFLAGS)
tests_diff_check_diff_LDADD = tests/diff/libdiff.a $(TEST_LIBS)
check_PROGRAMS += tests/integration/it_diff
TESTS += tests/integration/it_diff
tests_integration_it_diff_SOURCES = tests/integration/it_diff.c
tests_integration_it_diff_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_diff_LDADD = tests/diff/libdiff.a $(IT_LIBS)
EXTRA_DIST += tests/diff/README.md tests/diff/corpus

# Regressions of proxy defects found by reading the code: a POST sent twice,
# slow readers, descriptor exhaustion, unread bytes without a deadline,
# request framing, proxy loops, connections counted twice, streams at the
# descriptor limit. IT_EXACT_NOFILE=20000 runs the last at full size (by hand).
check_PROGRAMS += tests/integration/it_exact
TESTS += tests/integration/it_exact
tests_integration_it_exact_SOURCES = tests/integration/it_exact.c
tests_integration_it_exact_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_exact_LDADD = $(IT_LIBS)

# Clients waiting for the leader to change: the document's index, long polls,
# server-sent events.
check_PROGRAMS += tests/integration/it_watch
TESTS += tests/integration/it_watch
tests_integration_it_watch_SOURCES = tests/integration/it_watch.c
tests_integration_it_watch_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_watch_LDADD = $(IT_LIBS)

# Heavy state reads served once: concurrent identical reads share one call,
# read-your-writes, the state cache.
check_PROGRAMS += tests/integration/it_share
TESTS += tests/integration/it_share
tests_integration_it_share_SOURCES = tests/integration/it_share.c
tests_integration_it_share_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_share_LDADD = $(IT_LIBS)
