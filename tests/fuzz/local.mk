# tests/fuzz/local.mk: libFuzzer targets for the parsers of untrusted input.
#
# Configure with: ../configure CC=clang --enable-fuzzers [--enable-sanitizers]
# then "make fuzz" (each target for FUZZ_SECONDS, default 60) or "make
# fuzz-smoke" (10 s each, for CI). Each target runs over a copy of its seed
# corpus in tests/fuzz/work/<target>/corpus (kept between runs, so coverage
# grows), writes crashing inputs to tests/fuzz/work/<target>/crashes/, and
# the target fails when any target finds one.

FUZZ_NAMES = zkurl masterinfo_json masterinfo_protobuf masterinfo_upid election cfg http http1
FUZZ_SECONDS = 60

EXTRA_DIST += \
	tests/fuzz/fuzz_zkurl.c \
	tests/fuzz/fuzz_masterinfo_json.c \
	tests/fuzz/fuzz_masterinfo_protobuf.c \
	tests/fuzz/fuzz_masterinfo_upid.c \
	tests/fuzz/fuzz_election.c \
	tests/fuzz/fuzz_cfg.c \
	tests/fuzz/fuzz_http.c \
	tests/fuzz/fuzz_http1.c \
	tests/fuzz/masterinfo_json.dict \
	tests/fuzz/corpus

if FUZZERS
# libFuzzer steers by coverage, which only code compiled with
# -fsanitize=fuzzer-no-link reports: the parsers are compiled once more, into
# a library of their own, with coverage, ASan and UBSan.
FUZZ_COMPILE_FLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -g
FUZZ_LINK_FLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_LINK_LIBS = tests/fuzz/libleaderd-fuzz.a $(JSONC_LIBS)

noinst_LIBRARIES += tests/fuzz/libleaderd-fuzz.a
tests_fuzz_libleaderd_fuzz_a_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS)
tests_fuzz_libleaderd_fuzz_a_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_libleaderd_fuzz_a_SOURCES = \
	src/base/errbuf.c src/base/log.c src/base/mem.c src/base/strbuf.c src/base/varint.c \
	src/zk/election.c src/zk/masterinfo.c src/zk/zkurl.c \
	src/service/cfg.c src/service/cfg_args.c src/service/cfg_check.c src/service/cfg_cluster.c \
	src/service/cfg_env.c src/service/cfg_file.c src/service/cfg_help.c src/service/cfg_table.c \
	src/service/cfgvalue.c src/service/listenaddr.c src/proxy/headers.c src/proxy/http1.c src/proxy/route.c

FUZZ_TARGETS = \
	tests/fuzz/fuzz_zkurl \
	tests/fuzz/fuzz_masterinfo_json \
	tests/fuzz/fuzz_masterinfo_protobuf \
	tests/fuzz/fuzz_masterinfo_upid \
	tests/fuzz/fuzz_election \
	tests/fuzz/fuzz_cfg \
	tests/fuzz/fuzz_http \
	tests/fuzz/fuzz_http1
noinst_PROGRAMS += $(FUZZ_TARGETS)

tests_fuzz_fuzz_zkurl_SOURCES = tests/fuzz/fuzz_zkurl.c
tests_fuzz_fuzz_zkurl_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_zkurl_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_zkurl_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_masterinfo_json_SOURCES = tests/fuzz/fuzz_masterinfo_json.c
tests_fuzz_fuzz_masterinfo_json_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_masterinfo_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_masterinfo_json_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_masterinfo_protobuf_SOURCES = tests/fuzz/fuzz_masterinfo_protobuf.c
tests_fuzz_fuzz_masterinfo_protobuf_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_masterinfo_protobuf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_masterinfo_protobuf_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_masterinfo_upid_SOURCES = tests/fuzz/fuzz_masterinfo_upid.c
tests_fuzz_fuzz_masterinfo_upid_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_masterinfo_upid_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_masterinfo_upid_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_election_SOURCES = tests/fuzz/fuzz_election.c
tests_fuzz_fuzz_election_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_election_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_election_LDADD = $(FUZZ_LINK_LIBS)

tests_fuzz_fuzz_cfg_SOURCES = tests/fuzz/fuzz_cfg.c
tests_fuzz_fuzz_cfg_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_cfg_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_cfg_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c
tests_fuzz_fuzz_http_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_http_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_http_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_http1_SOURCES = tests/fuzz/fuzz_http1.c
tests_fuzz_fuzz_http1_CFLAGS = $(AM_CFLAGS) $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_http1_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_http1_LDADD = $(FUZZ_LINK_LIBS)

# Runs every target for $(FUZZ_SECONDS); prints each one's figures; fails
# when any found a crash, a leak, a timeout or an out-of-memory input.
fuzz: $(FUZZ_TARGETS)
	@failed=""; \
	for t in $(FUZZ_NAMES); do \
	  work=tests/fuzz/work/$$t; \
	  mkdir -p $$work/corpus $$work/crashes || exit 1; \
	  cp $(srcdir)/tests/fuzz/corpus/$$t/* $$work/corpus/ || exit 1; \
	  dict=; \
	  if test -f $(srcdir)/tests/fuzz/$$t.dict; then dict=-dict=$(srcdir)/tests/fuzz/$$t.dict; fi; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s, log in $$work/log"; \
	  if ./tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$$work/crashes/ \
	      $$dict $$work/corpus >$$work/log 2>&1; then \
	    grep -E '^#[0-9]+[[:space:]]+DONE' $$work/log | sed 's/^/  /'; \
	    grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' $$work/log | sed 's/^/  /'; \
	  else \
	    failed="$$failed $$t"; \
	    tail -n 40 $$work/log; \
	    echo "fuzz_$$t FAILED; inputs in $$work/crashes:"; ls -l $$work/crashes; \
	  fi; \
	done; \
	if test -n "$$failed"; then echo "fuzzing found problems in:$$failed"; exit 1; fi

fuzz-smoke:
	$(MAKE) $(AM_MAKEFLAGS) fuzz FUZZ_SECONDS=10
else
fuzz fuzz-smoke:
	@echo "The fuzz targets are not built: configure with" >&2; \
	echo "  ../configure CC=clang --enable-fuzzers --enable-sanitizers" >&2; \
	exit 1
endif
.PHONY: fuzz fuzz-smoke

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/work
.PHONY: clean-fuzz
