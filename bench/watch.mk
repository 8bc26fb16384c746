# bench/watch.mk: the benchmark of leader changes pushed to clients. The
# script bench/watch starts ZooKeeper, two bench/backend masters and
# mesos-leaderd, and runs bench/watch-probe (bench/watch-probe.c), which
# deletes the leader's znode again and again and times when long polls,
# server-sent event streams and `mesos-leader --watch` hear of it; it writes
# the section "watch" of docs/benchmarks.md.
#
# Include it from Makefile.am AFTER bench/local.mk (which sets EXTRA_PROGRAMS
# and defines the "bench" target):
#   include $(srcdir)/bench/watch.mk
# Never installed: "make bench" or "make bench/watch-probe" builds it.

WATCH_TOOLS = bench/watch-probe
EXTRA_PROGRAMS += $(WATCH_TOOLS)
CLEANFILES += $(WATCH_TOOLS)

bench_watch_probe_SOURCES = bench/watch-probe.c bench/benchutil.c bench/benchutil.h \
	bench/masterpair.c bench/masterpair.h bench/zkreg.c bench/zkreg.h
bench_watch_probe_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bench $(ZK_CFLAGS)
bench_watch_probe_LDADD = $(LEADERD_LIBS)

EXTRA_DIST += bench/watch

bench: $(WATCH_TOOLS)
