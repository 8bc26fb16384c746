# etc/local.mk: the sample configuration file, generated from its template by
# $(subst_edit) (docs/local.mk). `make install` puts it in $(sysconfdir)
# unless a file of that name exists there already (it never overwrites a
# configuration); `make uninstall` removes it only if nobody changed it.
# etc/check-sample checks it with the built daemon.

sample_conf = etc/mesos-leaderd.conf
noinst_DATA = $(sample_conf)
EXTRA_DIST += etc/mesos-leaderd.conf.in etc/check-sample
CLEANFILES += $(sample_conf)

etc/mesos-leaderd.conf: $(srcdir)/etc/mesos-leaderd.conf.in Makefile
	$(AM_V_GEN)$(subst_edit) $(srcdir)/etc/mesos-leaderd.conf.in $@

install-data-local: install-sample-conf
uninstall-local: uninstall-sample-conf

.PHONY: install-sample-conf uninstall-sample-conf
install-sample-conf: $(sample_conf)
	@$(MKDIR_P) '$(DESTDIR)$(sysconfdir)'
	@if test -e '$(DESTDIR)$(sysconfdir)/mesos-leaderd.conf'; then \
	  echo " keeping the existing $(DESTDIR)$(sysconfdir)/mesos-leaderd.conf"; \
	else \
	  echo " $(INSTALL_DATA) $(sample_conf) '$(DESTDIR)$(sysconfdir)/mesos-leaderd.conf'"; \
	  $(INSTALL_DATA) $(sample_conf) '$(DESTDIR)$(sysconfdir)/mesos-leaderd.conf'; \
	fi

uninstall-sample-conf:
	@if cmp -s $(sample_conf) '$(DESTDIR)$(sysconfdir)/mesos-leaderd.conf'; then \
	  echo " rm -f '$(DESTDIR)$(sysconfdir)/mesos-leaderd.conf'"; \
	  rm -f '$(DESTDIR)$(sysconfdir)/mesos-leaderd.conf'; \
	fi
