# bench/storm.mk: the re-subscribe storm benchmark. The script bench/storm
# starts ZooKeeper, two bench/backend masters and, in turn, no proxy, nginx
# and mesos-leaderd, and runs bench/storm-load (built from
# bench/storm-load.c; the script's own name is taken) against each, then
# writes the "Re-subscribe storm" section of docs/benchmarks.md.
#
# Include it from Makefile.am AFTER bench/local.mk (which sets EXTRA_PROGRAMS
# and defines the "bench" target):
#   include $(srcdir)/bench/storm.mk
# Never installed: "make bench" or "make bench/storm-load" builds it.

STORM_TOOLS = bench/storm-load
EXTRA_PROGRAMS += $(STORM_TOOLS)
CLEANFILES += $(STORM_TOOLS)

bench_storm_load_SOURCES = bench/storm-load.c bench/benchutil.c bench/benchutil.h \
	bench/procstat.c bench/procstat.h bench/zkreg.c bench/zkreg.h
bench_storm_load_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bench $(ZK_CFLAGS)
bench_storm_load_LDADD = $(LEADERD_LIBS)

EXTRA_DIST += bench/storm bench/storm-costs.awk bench/storm-timeline.awk

bench: $(STORM_TOOLS)
