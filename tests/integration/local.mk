# tests/integration/local.mk: integration tests (real ZooKeeper servers,
# stand-in masters, mesos-leader and mesos-leaderd), included from
# tests/local.mk. Each suite keeps its own block below: add yours as a new
# block, leave the others alone. Tests compile with $(HARNESS_CPPFLAGS) and
# link $(HARNESS_LIBS) (tests/harness/local.mk); they exit 77 (skip) when Java
# or ZooKeeper is missing.

# --- leader tracking: it_tracking ------------------------------------------
# ZooKeeper standalone and ensemble, failover, session expiry, the Mesos
# leader rule, mesos-leader's output and exit codes, ACLs, restarts, reloads
# and regressions of the bugs it found. It runs src/cmd/mesos-leader,
# src/cmd/mesos-leaderd and tests/standin/mesos-standin, which "make check"
# builds first.
# Run alone: make check TESTS=tests/integration/it_tracking
check_PROGRAMS += tests/integration/it_tracking
TESTS += tests/integration/it_tracking
tests_integration_it_tracking_SOURCES = tests/integration/it_tracking.c
tests_integration_it_tracking_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_tracking_LDADD = $(HARNESS_LIBS)
# --- end of it_tracking -----------------------------------------------------

# --- ZooKeeper sessions: it_sessions ---------------------------------------
# What the session state says when no session was ever established (and
# why), a server that is no ZooKeeper, and a daemon that knows only a
# ZooKeeper observer. Its ZooKeeper is one voting member and one observer.
# It runs src/cmd/mesos-leader, src/cmd/mesos-leaderd and
# tests/standin/mesos-standin.
# Run alone: make check TESTS=tests/integration/it_sessions
check_PROGRAMS += tests/integration/it_sessions
TESTS += tests/integration/it_sessions
tests_integration_it_sessions_SOURCES = tests/integration/it_sessions.c
tests_integration_it_sessions_CPPFLAGS = $(HARNESS_CPPFLAGS)
tests_integration_it_sessions_LDADD = tests/integration/libit.a $(HARNESS_LIBS)
# --- end of it_sessions -----------------------------------------------------
