# tests/standin/local.mk: mesos-standin, the stand-in Mesos master that the
# integration tests and the README sandbox run. Built by `make check` (or by
# `make tests/standin/mesos-standin`), never installed.

check_PROGRAMS += tests/standin/mesos-standin
tests_standin_mesos_standin_SOURCES = \
	tests/standin/standin.h \
	tests/standin/standin.c \
	tests/standin/standin_codec.c \
	tests/standin/standin_control.c \
	tests/standin/standin_faults.c \
	tests/standin/standin_http.c \
	tests/standin/standin_operator.c \
	tests/standin/standin_raw.c \
	tests/standin/standin_sched.c \
	tests/standin/standin_stream.c \
	tests/standin/standin_zk.c
tests_standin_mesos_standin_CPPFLAGS = $(AM_CPPFLAGS) $(ZK_CFLAGS) $(JSONC_CFLAGS) $(MHD_CFLAGS)
tests_standin_mesos_standin_LDADD = $(LEADERD_LIBS) $(MHD_LIBS) $(JSONC_LIBS) $(ZK_LIBS) -lpthread -lm
EXTRA_DIST += tests/standin/README.md

# Unit tests of the stand-in's pure codecs (base64, CRC-32, gzip, Accept).
check_PROGRAMS += tests/standin/check_standin_codec
TESTS += tests/standin/check_standin_codec
tests_standin_check_standin_codec_SOURCES = \
	tests/standin/check_standin_codec.c \
	tests/standin/standin_codec.c
tests_standin_check_standin_codec_CPPFLAGS = $(TEST_CPPFLAGS) $(MHD_CFLAGS)
tests_standin_check_standin_codec_LDADD = $(TEST_LIBS) -lm

# Unit tests of the raw answers: parsing their settings, the table, and
# playing one on a socket pair.
check_PROGRAMS += tests/standin/check_standin_raw
TESTS += tests/standin/check_standin_raw
tests_standin_check_standin_raw_SOURCES = \
	tests/standin/check_standin_raw.c \
	tests/standin/standin_raw.c \
	tests/standin/standin_codec.c
tests_standin_check_standin_raw_CPPFLAGS = $(TEST_CPPFLAGS) $(MHD_CFLAGS)
tests_standin_check_standin_raw_LDADD = $(TEST_LIBS) -lpthread -lm
