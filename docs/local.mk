# docs/local.mk: the man pages and installed documentation, and the one
# substitution rule every template (docs/*.in, etc/*.in, systemd/*.in) uses.

# $(subst_edit) IN OUT: replaces @sbindir@, @sysconfdir@... in IN with the
# configured directories, fully expanded, and writes OUT atomically.
subst_edit = subst_edit() { \
	$(MKDIR_P) "$$(dirname "$$2")" && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@bindir[@]|$(bindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    -e 's|@runstatedir[@]|$(runstatedir)|g' \
	    -e 's|@docdir[@]|$(docdir)|g' \
	    -e 's|@systemdsystemunitdir[@]|$(systemdsystemunitdir)|g' \
	    -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    "$$1" >"$$2.tmp" && mv "$$2.tmp" "$$2"; \
	}; subst_edit

man_templates = docs/mesos-leaderd.8.in docs/mesos-leader.1.in docs/mesos-leaderd.conf.5.in
nodist_man_MANS = docs/mesos-leaderd.8 docs/mesos-leader.1 docs/mesos-leaderd.conf.5
EXTRA_DIST += $(man_templates)
CLEANFILES += $(nodist_man_MANS)
dist_doc_DATA += docs/containers.md

docs/mesos-leaderd.8: $(srcdir)/docs/mesos-leaderd.8.in Makefile
	$(AM_V_GEN)$(subst_edit) $(srcdir)/docs/mesos-leaderd.8.in $@
docs/mesos-leader.1: $(srcdir)/docs/mesos-leader.1.in Makefile
	$(AM_V_GEN)$(subst_edit) $(srcdir)/docs/mesos-leader.1.in $@
docs/mesos-leaderd.conf.5: $(srcdir)/docs/mesos-leaderd.conf.5.in Makefile
	$(AM_V_GEN)$(subst_edit) $(srcdir)/docs/mesos-leaderd.conf.5.in $@

# `make check-man`: every page formats without a single warning.
.PHONY: check-man
check-man: $(nodist_man_MANS)
	@rc=0; for page in $(nodist_man_MANS); do \
	  out=$$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
	         man --warnings -E UTF-8 -l -Tutf8 -Z "$$page" 2>&1 >/dev/null); \
	  if test -n "$$out"; then echo "$$page:"; echo "$$out"; rc=1; \
	  else echo "check-man: $$page OK"; fi; \
	done; exit $$rc
