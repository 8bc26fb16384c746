# tests/local.mk: unit tests (check), the stand-in master, integration tests.

TEST_CPPFLAGS = $(AM_CPPFLAGS) $(ZK_CFLAGS) $(JSONC_CFLAGS) $(CHECK_CFLAGS) $(MHD_CFLAGS) \
	$(CURL_CFLAGS) -I$(top_srcdir)/tests
TEST_LIBS = $(LEADERD_LIBS) $(CHECK_LIBS)

# Unit tests: pure functions, no network.
UNIT_TESTS = \
	tests/unit/check_answer \
	tests/unit/check_bufq \
	tests/unit/check_cfg \
	tests/unit/check_election \
	tests/unit/check_headers \
	tests/unit/check_http1 \
	tests/unit/check_loop \
	tests/unit/check_masterinfo \
	tests/unit/check_leader \
	tests/unit/check_policy \
	tests/unit/check_route \
	tests/unit/check_stream \
	tests/unit/check_tracker \
	tests/unit/check_upstream \
	tests/unit/check_clients \
	tests/unit/check_zklog \
	tests/unit/check_zkurl
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
EXTRA_DIST += tests/unit/unit.h

tests_unit_check_answer_SOURCES = tests/unit/check_answer.c
tests_unit_check_answer_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_answer_LDADD = $(TEST_LIBS)
tests_unit_check_bufq_SOURCES = tests/unit/check_bufq.c
tests_unit_check_bufq_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_bufq_LDADD = $(TEST_LIBS)
tests_unit_check_cfg_SOURCES = tests/unit/check_cfg.c
tests_unit_check_cfg_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_cfg_LDADD = $(TEST_LIBS)
tests_unit_check_election_SOURCES = tests/unit/check_election.c
tests_unit_check_election_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_election_LDADD = $(TEST_LIBS)
tests_unit_check_headers_SOURCES = tests/unit/check_headers.c
tests_unit_check_headers_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_headers_LDADD = $(TEST_LIBS)
tests_unit_check_http1_SOURCES = tests/unit/check_http1.c
tests_unit_check_http1_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_http1_LDADD = $(TEST_LIBS)
tests_unit_check_loop_SOURCES = tests/unit/check_loop.c
tests_unit_check_loop_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_loop_LDADD = $(TEST_LIBS)
tests_unit_check_masterinfo_SOURCES = tests/unit/check_masterinfo.c
tests_unit_check_masterinfo_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_masterinfo_LDADD = $(TEST_LIBS)
tests_unit_check_policy_SOURCES = tests/unit/check_policy.c
tests_unit_check_policy_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_policy_LDADD = $(TEST_LIBS)
tests_unit_check_route_SOURCES = tests/unit/check_route.c
tests_unit_check_route_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_route_LDADD = $(TEST_LIBS)
tests_unit_check_stream_SOURCES = tests/unit/check_stream.c
tests_unit_check_stream_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_stream_LDADD = $(TEST_LIBS)
tests_unit_check_clients_SOURCES = tests/unit/check_clients.c
tests_unit_check_clients_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_clients_LDADD = $(TEST_LIBS)
tests_unit_check_upstream_SOURCES = tests/unit/check_upstream.c
tests_unit_check_upstream_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_upstream_LDADD = $(TEST_LIBS)
tests_unit_check_leader_SOURCES = tests/unit/check_leader.c
tests_unit_check_leader_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_leader_LDADD = $(TEST_LIBS)
tests_unit_check_tracker_SOURCES = tests/unit/check_tracker.c
tests_unit_check_tracker_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_tracker_LDADD = $(TEST_LIBS)
tests_unit_check_zklog_SOURCES = tests/unit/check_zklog.c
tests_unit_check_zklog_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_zklog_LDADD = $(TEST_LIBS)
tests_unit_check_zkurl_SOURCES = tests/unit/check_zkurl.c
tests_unit_check_zkurl_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_zkurl_LDADD = $(TEST_LIBS)

include $(srcdir)/tests/harness/local.mk
include $(srcdir)/tests/standin/local.mk
include $(srcdir)/tests/fuzz/local.mk
include $(srcdir)/tests/integration/local.mk
include $(srcdir)/tests/integration/daemon.mk
