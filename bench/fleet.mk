# bench/fleet.mk: a fleet of trackers on one ZooKeeper ensemble. The script
# bench/fleet runs bench/fleet-run (bench/fleet.c and its parts), which
# starts a three-node ensemble per size and N trackers in worker processes,
# then writes the "Fleet" section of docs/benchmarks.md.
#
# Include it from Makefile.am AFTER bench/local.mk (which sets EXTRA_PROGRAMS
# and defines the "bench" target):
#   include $(srcdir)/bench/fleet.mk
# Never installed: "make bench" or "make bench/fleet-run" builds it.

FLEET_TOOLS = bench/fleet-run
EXTRA_PROGRAMS += $(FLEET_TOOLS)
CLEANFILES += $(FLEET_TOOLS)

bench_fleet_run_SOURCES = bench/fleet.c bench/fleet.h bench/fleet_ens.c bench/fleet_worker.c \
	bench/benchutil.c bench/benchutil.h bench/masterpair.c bench/masterpair.h \
	bench/procstat.c bench/procstat.h bench/zkreg.c bench/zkreg.h
bench_fleet_run_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bench $(ZK_CFLAGS)
bench_fleet_run_LDADD = $(LEADERD_LIBS)

EXTRA_DIST += bench/fleet bench/fleet-tables.awk

bench: $(FLEET_TOOLS)
