# bench/peers.mk: the side-by-side benchmark against nginx and haproxy. The
# script bench/peers runs the throughput and stream workloads against
# bench/backend directly, through nginx, haproxy and mesos-leaderd, and the
# leader-change workload through mesos-leaderd with bench/peers-failover
# (bench/peers-failover.c), then writes the "peers" section of
# docs/benchmarks.md. The script bench/percall (nothing to build beyond
# bench/backend) breaks the cost of one small call down for the same targets
# (CPU, system calls, perf profile) and writes the "percall" section. Both,
# and bench/storm, start nginx and haproxy with bench/peers-lib.sh.
#
# Include it from Makefile.am AFTER bench/local.mk (which sets EXTRA_PROGRAMS
# and defines the "bench" target):
#   include $(srcdir)/bench/peers.mk
# Never installed: "make bench" or "make bench/peers-failover" builds it.

PEERS_TOOLS = bench/peers-failover
EXTRA_PROGRAMS += $(PEERS_TOOLS)
CLEANFILES += $(PEERS_TOOLS)

bench_peers_failover_SOURCES = bench/peers-failover.c bench/benchutil.c bench/benchutil.h \
	bench/masterpair.c bench/masterpair.h bench/zkreg.c bench/zkreg.h
bench_peers_failover_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bench $(ZK_CFLAGS)
bench_peers_failover_LDADD = $(LEADERD_LIBS)

EXTRA_DIST += bench/peers bench/peers-lib.sh bench/percall

bench: $(PEERS_TOOLS)
