# src/local.mk: the internal library and the programs.

# Every module lives in libleaderd.a; programs and tests link it.
noinst_LIBRARIES += src/libleaderd.a
src_libleaderd_a_CPPFLAGS = $(AM_CPPFLAGS) $(ZK_CFLAGS) $(JSONC_CFLAGS) $(MHD_CFLAGS) \
	$(CURL_CFLAGS) $(SYSTEMD_CFLAGS)
src_libleaderd_a_SOURCES = \
	src/base/bufq.c src/base/bufq.h \
	src/base/errbuf.c src/base/errbuf.h \
	src/base/fdlimit.c src/base/fdlimit.h \
	src/base/list.h \
	src/base/log.c src/base/log.h \
	src/base/loop.c src/base/loop.h \
	src/base/mem.c src/base/mem.h \
	src/base/strbuf.c src/base/strbuf.h \
	src/base/timeutil.c src/base/timeutil.h \
	src/base/varint.c src/base/varint.h \
	src/zk/election.c src/zk/election.h \
	src/zk/leader.c src/zk/leader.h \
	src/zk/masterinfo.c src/zk/masterinfo.h \
	src/zk/report.c src/zk/report.h \
	src/zk/tracker.c src/zk/tracker.h \
	src/zk/zkevents.c src/zk/zkevents.h \
	src/zk/zklog.c src/zk/zklog.h \
	src/zk/zkurl.c src/zk/zkurl.h \
	src/proxy/answer.c src/proxy/answer.h \
	src/proxy/clients.c src/proxy/clients.h \
	src/proxy/exchange.c src/proxy/exchange.h \
	src/proxy/front.c src/proxy/front.h \
	src/proxy/headers.c src/proxy/headers.h \
	src/proxy/http1.c src/proxy/http1.h \
	src/proxy/internal.h \
	src/proxy/local.c src/proxy/local.h \
	src/proxy/metrics.c src/proxy/metrics.h \
	src/proxy/policy.c src/proxy/policy.h \
	src/proxy/proxy.c src/proxy/proxy.h \
	src/proxy/registry.c \
	src/proxy/relay.c \
	src/proxy/request.c src/proxy/request.h \
	src/proxy/route.c src/proxy/route.h \
	src/proxy/share.c src/proxy/share.h \
	src/proxy/stream.c src/proxy/stream.h \
	src/proxy/upstream.c src/proxy/upstream.h src/proxy/upstream_engine.h \
	src/proxy/upstream_core.c src/proxy/upstream_curl.c src/proxy/upstream_native.c \
	src/proxy/watch.c src/proxy/watch.h \
	src/service/cfg.c src/service/cfg.h \
	src/service/cfg_args.c src/service/cfg_args.h \
	src/service/cfg_check.c src/service/cfg_check.h \
	src/service/cfg_cluster.c src/service/cfg_cluster.h \
	src/service/cfg_env.c src/service/cfg_env.h \
	src/service/cfg_file.c src/service/cfg_file.h \
	src/service/cfg_help.c \
	src/service/cfg_table.c src/service/cfg_table.h \
	src/service/cluster.c src/service/cluster.h \
	src/service/cfgvalue.c src/service/cfgvalue.h \
	src/service/leaderwatch.c src/service/leaderwatch.h \
	src/service/listenaddr.c src/service/listenaddr.h \
	src/service/daemon.c src/service/daemon.h \
	src/service/listener.c src/service/listener.h \
	src/service/notify.c src/service/notify.h

# Libraries every program linking libleaderd.a needs.
LEADERD_LIBS = src/libleaderd.a $(ZK_LIBS) $(JSONC_LIBS) $(MHD_LIBS) $(CURL_LIBS) \
	$(SYSTEMD_LIBS) $(PTHREAD_LIBS)

bin_PROGRAMS += src/cmd/mesos-leader
src_cmd_mesos_leader_SOURCES = src/cmd/mesos-leader.c
src_cmd_mesos_leader_CPPFLAGS = $(AM_CPPFLAGS) $(ZK_CFLAGS)
src_cmd_mesos_leader_LDADD = $(LEADERD_LIBS)

sbin_PROGRAMS += src/cmd/mesos-leaderd
src_cmd_mesos_leaderd_SOURCES = src/cmd/mesos-leaderd.c
src_cmd_mesos_leaderd_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS)
src_cmd_mesos_leaderd_LDADD = $(LEADERD_LIBS)
