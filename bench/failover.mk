# bench/failover.mk: the leader-failover benchmark. The script bench/failover
# starts ZooKeeper and runs bench/failover-probe (built from bench/failover.c;
# the script's own name is taken) and mesos-leaderd, then writes the
# "Leader failover" section of docs/benchmarks.md.
#
# Include it from Makefile.am AFTER bench/local.mk (which sets EXTRA_PROGRAMS
# and defines the "bench" target):
#   include $(srcdir)/bench/failover.mk
# Never installed: "make bench" or "make bench/failover-probe" builds it.

FAILOVER_TOOLS = bench/failover-probe
EXTRA_PROGRAMS += $(FAILOVER_TOOLS)
CLEANFILES += $(FAILOVER_TOOLS)

bench_failover_probe_SOURCES = bench/failover.c bench/benchutil.c bench/benchutil.h \
	bench/procstat.c bench/procstat.h bench/zkreg.c bench/zkreg.h
bench_failover_probe_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bench $(ZK_CFLAGS)
bench_failover_probe_LDADD = $(LEADERD_LIBS)

EXTRA_DIST += bench/failover

bench: $(FAILOVER_TOOLS)
