# bench/local.mk: the benchmark tools. They are never installed: `make bench`
# (or `make bench/backend`, `make bench/streamload`) builds them, and the
# scripts bench/streams, bench/throughput and bench/shared run them.

BENCH_TOOLS = bench/backend bench/streamload
EXTRA_PROGRAMS = $(BENCH_TOOLS)
CLEANFILES += $(BENCH_TOOLS)

BENCH_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/bench

bench_backend_SOURCES = bench/backend.c bench/benchutil.c bench/benchutil.h \
	bench/zkreg.c bench/zkreg.h
bench_backend_CPPFLAGS = $(BENCH_CPPFLAGS) $(ZK_CFLAGS)
bench_backend_LDADD = $(LEADERD_LIBS)

bench_streamload_SOURCES = bench/streamload.c bench/benchutil.c bench/benchutil.h \
	bench/procstat.c bench/procstat.h
bench_streamload_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_streamload_LDADD = $(LEADERD_LIBS)

EXTRA_DIST += $(bench_backend_SOURCES) $(bench_streamload_SOURCES) \
	bench/streams bench/throughput bench/lib.sh bench/scheduler-call.lua
# bench/shared: shared state reads (bench/backend and wrk; nothing to build).
EXTRA_DIST += bench/shared

.PHONY: bench
bench: $(BENCH_TOOLS)
