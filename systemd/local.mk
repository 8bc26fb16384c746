# systemd/local.mk: the systemd units. The service is generated from its
# template by $(subst_edit) (docs/local.mk) so that it names the configured
# paths; the socket unit needs no substitution. Both are installed to
# $(systemdsystemunitdir), which configure takes from pkg-config systemd
# (or --with-systemdsystemunitdir=DIR). systemd/check-units checks them.

nodist_systemdsystemunit_DATA = systemd/mesos-leaderd.service
dist_systemdsystemunit_DATA = systemd/mesos-leaderd.socket
EXTRA_DIST += systemd/mesos-leaderd.service.in systemd/check-units
CLEANFILES += systemd/mesos-leaderd.service

systemd/mesos-leaderd.service: $(srcdir)/systemd/mesos-leaderd.service.in Makefile
	$(AM_V_GEN)$(subst_edit) $(srcdir)/systemd/mesos-leaderd.service.in $@

# distcheck installs as an unprivileged user would: the units go under the
# temporary prefix, not to the system's unit directory.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-systemdsystemunitdir=$$dc_install_base/lib/systemd/system
