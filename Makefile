# claudable: PostgreSQL extension (PGXS) plus the thin client (CMake, under client/).
#
#   make && make install   build and install the extension for PG_CONFIG's server (PGXS only)
#   make client-install    build and install the C++ client library and the `claudable` CLI
#   make test              install what is missing, then run every test suite on a throwaway cluster
#   make demo              the main job: provision a demo project on a throwaway cluster
#   make fleet-demo        a directory, two servers and PgBouncer: 20 projects spread and pooled
#
# `test` and `demo` work on a fresh machine: the scripts they call install PGXS and the
# other build dependencies before they run `make` again, so this file must still parse
# when PGXS is absent.

PG_CONFIG ?= pg_config
# make test / make deb: the PostgreSQL majors to run (default: every supported one, from
# test/lib/majors.sh); make demo: the one major to run it on (default: this machine's).
PG_MAJORS ?=
PG_MAJOR ?=

MODULE_big = claudable
# One folder per concern (README, "How it works"): pg/ api/ worker/ store/ crypto/ rules/ testing/.
# The source tree: this directory, or VPATH in an out-of-tree build (pg_buildext builds one
# directory per major that way, for Debian's packages). Paths below are relative to it.
source_root := $(if $(VPATH),$(VPATH),.)
EXTENSION_SOURCES = $(patsubst $(source_root)/%,%,$(wildcard $(source_root)/extension/*/*.cpp))
OBJS = $(EXTENSION_SOURCES:.cpp=.o)

# The control file and the versioned scripts live in extension/, so they are installed
# as DATA into share/extension (MODULEDIR) rather than through PGXS's EXTENSION rule,
# which expects the control file at the top level. The current version's full install
# script is built from one source, extension/claudable.sql (as pgvector does), and so is
# the upgrade script to it (from its .sql.in, with claudable.sql's sections); the 0.1.0
# script and the older upgrade scripts are kept as they shipped (0.5.0--0.6.0 and 0.6.0--0.6.1
# and 0.6.1--0.7.0 were built this way and are now frozen as they shipped).
MODULEDIR = extension
# The second extension, claudable_fleet (README, "Fleet"): SQL only, over PL/Proxy.
# Built like claudable's: claudable_fleet.sql is the one source of the current version's
# script and, through its sections, of the upgrade script to it; 0.1.0 and the older upgrade
# scripts are kept as they shipped (0.1.0--0.2.0 and 0.2.0--0.3.0 were built this way and are
# now frozen as they shipped).
FLEET_DATA = fleet/claudable_fleet.control fleet/claudable_fleet--0.1.0.sql fleet/claudable_fleet--0.1.0--0.2.0.sql \
             fleet/claudable_fleet--0.2.0--0.3.0.sql
FLEET_VERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(source_root)/fleet/claudable_fleet.control)
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(source_root)/extension/claudable.control)
DATA = extension/claudable.control extension/claudable--0.1.0.sql extension/claudable--0.1.0--0.2.0.sql \
       extension/claudable--0.2.0--0.3.0.sql extension/claudable--0.3.0--0.4.0.sql \
       extension/claudable--0.4.0--0.5.0.sql extension/claudable--0.5.0--0.6.0.sql \
       extension/claudable--0.6.0--0.6.1.sql extension/claudable--0.6.1--0.7.0.sql $(FLEET_DATA)
DATA_built = extension/claudable--$(EXTVERSION).sql extension/claudable--0.7.0--0.8.0.sql \
             fleet/claudable_fleet--$(FLEET_VERSION).sql fleet/claudable_fleet--0.3.0--0.4.0.sql

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=pgtap

ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation

PG_CPPFLAGS = -I$(srcdir)/extension
# -MMD -MP: each object also records the headers it read (extension/*/*.d, included
# below), so changing a header rebuilds what uses it; PGXS does not track them.
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register -MMD -MP
SHLIB_LINK = -lcrypto -lstdc++

# Test builds only (`make test` passes it): compiles the fault points the crash tests
# use. A production build has neither the code nor the claudable.fault_point setting.
ifdef FAULT_INJECTION
PG_CXXFLAGS += -DCLAUDABLE_FAULT_INJECTION
endif

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
# Debian's server is built with LLVM JIT; PGXS would then also emit bitcode with
# clang, which the extension gains nothing from. `override` must precede the include.
override with_llvm = no

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck:
	@echo "PGXS not found (PG_CONFIG=$(PG_CONFIG)). Install postgresql-server-dev-15, or run 'make test' / 'make demo', which install it." >&2
	@exit 1
endif

# Objects of one flavour must never be linked into the other. extension/.flavour names
# the flavour of the last build and is rewritten only when it changes, which makes it
# newer than every object, so all are compiled again.
BUILD_FLAVOUR := $(if $(FAULT_INJECTION),fault-injection,production)
# An out-of-tree build starts without the folders its objects and built scripts go into.
$(shell mkdir -p $(sort $(dir $(OBJS) $(DATA_built))))
$(shell [ "$$(cat extension/.flavour 2>/dev/null)" = "$(BUILD_FLAVOUR)" ] || echo "$(BUILD_FLAVOUR)" > extension/.flavour)
$(OBJS): extension/.flavour
EXTRA_CLEAN = extension/.flavour $(OBJS:.o=.d)
-include $(wildcard extension/*/*.d)

# The client library and the `claudable` CLI (CMake, under client/) build on their own:
# `make` and `make install` are PGXS alone and need none of the client's dependencies.
# CLIENT_PREFIX defaults to /usr/local, so the CLI lands on PATH.
CLIENT_PREFIX ?= /usr/local
CLIENT_BUILD = client/build
# For example -DCLAUDABLE_TESTS=OFF: the library and CLI without their GoogleTest suites.
CLIENT_CMAKE_OPTIONS ?=
.PHONY: client client-install
client:
	cmake -S client -B $(CLIENT_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(CLIENT_PREFIX) $(CLIENT_CMAKE_OPTIONS) >/dev/null
	cmake --build $(CLIENT_BUILD) -j2
client-install: client
	cmake --install $(CLIENT_BUILD) >/dev/null

extension/claudable--$(EXTVERSION).sql: extension/claudable.sql
	cp $< $@

extension/claudable--0.7.0--0.8.0.sql: extension/claudable--0.7.0--0.8.0.sql.in extension/claudable.sql extension/include_sections.awk
	awk -f $(word 3,$^) $(word 2,$^) $< > $@

fleet/claudable_fleet--$(FLEET_VERSION).sql: fleet/claudable_fleet.sql
	cp $< $@

fleet/claudable_fleet--0.3.0--0.4.0.sql: fleet/claudable_fleet--0.3.0--0.4.0.sql.in fleet/claudable_fleet.sql extension/include_sections.awk
	awk -f $(word 3,$^) $(word 2,$^) $< > $@

# claudable_fleet alone (a directory's host needs nothing else): its scripts, built and kept,
# into share/extension, without building or installing claudable.
.PHONY: fleet-install
fleet-install: $(FLEET_DATA) fleet/claudable_fleet--$(FLEET_VERSION).sql fleet/claudable_fleet--0.3.0--0.4.0.sql
	$(INSTALL_DATA) $^ '$(DESTDIR)$(datadir)/extension/'

# Release artifacts (README, "Packages"): Debian packages for every major (PG_MAJORS) into
# dist/debian/<suite>/, and the PGXN zip from git archive into dist/.
.PHONY: deb dist
deb:
	PG_MAJORS="$(PG_MAJORS)" bash release/deb.sh
dist:
	bash release/dist.sh

.PHONY: test demo fleet-demo bench bench-scale
bench:
	bash test/bench/bench.sh
# Thousands of projects on one server (BENCHMARKS.md); not part of `make test` or `make bench`.
bench-scale:
	bash test/bench/scale_bench.sh

test:
	PG_MAJORS="$(PG_MAJORS)" bash test/run-all.sh

demo:
	PG_MAJOR="$(PG_MAJOR)" bash test/demo.sh

fleet-demo:
	bash test/fleet_demo.sh
