# bench/soak.mk: the soak test's stream keeper. The script bench/soak runs
# mesos-leaderd under mixed load and random faults for a bounded time; its
# SUBSCRIBE streams come from bench/soak-streams (bench/soak-streams.c),
# which keeps N streams open and opens each again when it ends.
#
# Include it from Makefile.am AFTER bench/local.mk (which sets EXTRA_PROGRAMS
# and defines the "bench" target):
#   include $(srcdir)/bench/soak.mk
# Never installed: "make bench" or "make bench/soak-streams" builds it.

SOAK_TOOLS = bench/soak-streams
EXTRA_PROGRAMS += $(SOAK_TOOLS)
CLEANFILES += $(SOAK_TOOLS)

bench_soak_streams_SOURCES = bench/soak-streams.c bench/benchutil.c bench/benchutil.h
bench_soak_streams_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bench
bench_soak_streams_LDADD = $(LEADERD_LIBS)

EXTRA_DIST += bench/soak

bench: $(SOAK_TOOLS)
