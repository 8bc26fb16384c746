# tests/harness/local.mk: the integration-test library and its own test.
#
# Integration tests compile with $(HARNESS_CPPFLAGS), include
# "harness/harness.h" and link $(HARNESS_LIBS) (the harness, libleaderd.a,
# libzookeeper_mt, libcurl, check).

noinst_LIBRARIES += tests/harness/libharness.a
tests_harness_libharness_a_CPPFLAGS = $(AM_CPPFLAGS) $(ZK_CFLAGS) $(CURL_CFLAGS) \
	-I$(top_srcdir)/tests
tests_harness_libharness_a_SOURCES = \
	tests/harness/harness.h tests/harness/internal.h \
	tests/harness/util.c \
	tests/harness/digest.c \
	tests/harness/wait.c \
	tests/harness/spawn.c \
	tests/harness/proc.c \
	tests/harness/zkserver.c \
	tests/harness/zkclient.c \
	tests/harness/http.c

HARNESS_CPPFLAGS = $(TEST_CPPFLAGS) $(CURL_CFLAGS)
HARNESS_LIBS = tests/harness/libharness.a $(TEST_LIBS) $(CURL_LIBS)

check_PROGRAMS += tests/harness/check_harness
TESTS += tests/harness/check_harness
tests_harness_check_harness_SOURCES = tests/harness/check_harness.c
tests_harness_check_harness_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_harness_check_harness_LDADD = $(HARNESS_LIBS)

# Where tests find programs built in the tree (harness_builddir_path) and
# files of the source tree (harness_srcdir_path). Declared here, the first
# fragment to need it; later fragments append with +=, as "export X=...;".
AM_TESTS_ENVIRONMENT = \
	export HARNESS_BUILDDIR='$(abs_top_builddir)' HARNESS_SRCDIR='$(abs_top_srcdir)';

# A shell helper for scripts (sandbox, benchmarks): zk.sh start|stop|status.
EXTRA_DIST += tests/harness/zk.sh
