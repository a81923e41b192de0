# ShopStream on one machine: no Docker, no cloud account.
#   make run    install, start the embedded stack and Airflow's scheduler, generate the source,
#               trigger one DAG run through the REST API and follow it, show the rows
#   make test   every test (unit, DAG integrity, dbt, end to end through the scheduler)
#   make ui     the Airflow UI on the embedded stack (started if needed): prints its address
#   make bench  DAG parse time; one day through the scheduler against a plain dbt build
#   make bench-scale  the full load and one day at 10k, 100k and 1M orders (long)
#   make report rapport.pdf (French) from the figures of make run and make bench
#   make down   stop everything the project started
# Everything installed or produced lives in .local/ (git-ignored).

SHELL := /bin/bash
# The Python of the Astro image (the Dockerfile's -python-X.Y), for the local venvs too: one lock per venv
# serves both. PYTHON is the first interpreter of that version that runs: python3.12 on PATH, then
# pyenv's (whose shim on PATH may not be enabled). `make PYTHON=/path/to/python3.12` overrides it.
PYTHON_VERSION := 3.12
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in $$(command -v python$(PYTHON_VERSION)) \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION) 2>/dev/null | sort -rV); \
	do "$$p" -c 'import sys' 2>/dev/null && { echo "$$p"; break; }; done)
endif
VENVS := .local/venvs
UV := $(VENVS)/uv/bin/uv
AIRFLOW_PY := $(VENVS)/airflow/bin/python
DBT := $(CURDIR)/$(VENVS)/dbt/bin/dbt
DBT_DIR := include/dbt/shopstream
MANIFEST := $(DBT_DIR)/target/manifest.json
STACK := PYTHONPATH=$(CURDIR) $(AIRFLOW_PY) -m embedded
IN_STACK := $(STACK) exec --
# `make run DS=2026-11-20 DAYS=3 ORDERS=20000`: each is passed on only when set; the run driver
# (embedded/run_pipeline.py) and include/shopstream/config.py hold the defaults.
DS ?=
DAYS ?=
ORDERS ?=

export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False

.PHONY: install lock manifest browser up run test ui down status lint bench bench-scale report clean

# A venv's stamp names its Python: a venv an older checkout made with another Python is made anew.
INSTALLED := .installed-py$(PYTHON_VERSION)
same_python = [ "$$($(VENVS)/$(1)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = $(PYTHON_VERSION) ]

install: $(VENVS)/airflow/$(INSTALLED) $(VENVS)/dbt/$(INSTALLED) $(VENVS)/emulators/$(INSTALLED)

# uv resolves and installs the three venvs in seconds where pip takes minutes. Bytecode is compiled
# at install: with PYTHONDONTWRITEBYTECODE set (as on CI) every dbt task would otherwise pay ~3 s
# of compiling dbt's imports again.
$(UV):
	@[ -n "$(PYTHON)" ] || { echo "Python $(PYTHON_VERSION) not found (the Astro image's, which the locks are compiled for):" \
		"install it (pyenv install $(PYTHON_VERSION), or your system's python$(PYTHON_VERSION) package)," \
		"or name one: make PYTHON=/path/to/python$(PYTHON_VERSION)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENVS)/uv
	$(VENVS)/uv/bin/pip install --quiet uv==0.13.9

# Each venv is synced to its lock (requirements/<venv>.lock.txt, every transitive version pinned):
# two installs from the same commit get the same packages. `uv pip sync` also removes what the lock
# no longer lists.
$(VENVS)/%/$(INSTALLED): requirements/%.lock.txt | $(UV)
	@$(call same_python,$*) || rm -rf $(VENVS)/$*
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENVS)/$*
	$(UV) pip sync --quiet --compile-bytecode --python $(VENVS)/$*/bin/python $<
	touch $@

# The embedded stack's Airflow: the image's lock less what only the cloud uses (requirements/cloud-only.txt).
$(VENVS)/airflow/$(INSTALLED): requirements/airflow-embedded.lock.txt | $(UV)
	@$(call same_python,airflow) || rm -rf $(VENVS)/airflow
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENVS)/airflow
	$(UV) pip sync --quiet --compile-bytecode --python $(AIRFLOW_PY) requirements/airflow-embedded.lock.txt
	@# No PostgreSQL server on the machine: the pgserver wheel ships one (its dependencies held to the lock).
	@$(STACK) status >/dev/null 2>&1 || $(UV) pip install --quiet --python $(AIRFLOW_PY) \
		-c requirements/airflow-embedded.lock.txt pgserver==0.1.4
	touch $@

# Refresh the locks from requirements/*.txt (docs/dependencies.md). Versions already in a lock are
# kept unless a pin moves them; LOCK_ARGS="--upgrade-package X" (or --upgrade) moves the others.
# One lock per venv, compiled for PYTHON_VERSION: the local venvs and the Astro image (Dockerfile) use
# the same ones.
LOCK_ARGS ?=
COMPILE = $(UV) pip compile --quiet --custom-compile-command 'make lock' --python-version $(PYTHON_VERSION) $(LOCK_ARGS)
lock: | $(UV)
	$(COMPILE) requirements/airflow-local.txt -o requirements/airflow.lock.txt
	$(COMPILE) requirements/airflow-local.txt --excludes requirements/cloud-only.txt \
		-c requirements/airflow.lock.txt -o requirements/airflow-embedded.lock.txt
	$(COMPILE) requirements/dbt.txt -o requirements/dbt.lock.txt
	$(COMPILE) requirements/emulators.txt -o requirements/emulators.lock.txt

# The manifest Cosmos renders the DAG from: built from the project, never committed.
manifest: $(MANIFEST)
$(MANIFEST): $(VENVS)/dbt/$(INSTALLED) $(shell find $(DBT_DIR) -path $(DBT_DIR)/target -prune -o -path $(DBT_DIR)/target-build -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.md' \) -print)
	@# Built aside, then moved in: a running DAG processor never reads a half-written manifest.
	@# No --target: the profile's default target (profiles.yml), the embedded stack's.
	cd $(DBT_DIR) && $(DBT) parse --quiet --profiles-dir . --target-path target-build
	@# The docs site Cosmos serves in the Airflow UI; the catalog needs a warehouse, so it starts empty.
	cd $(DBT_DIR) && $(DBT) docs generate --quiet --no-compile --empty-catalog --profiles-dir . --target-path target-build
	mkdir -p $(DBT_DIR)/target
	cd $(DBT_DIR)/target-build && for f in index.html catalog.json manifest.json; do cp $$f ../target/.$$f.tmp && mv ../target/.$$f.tmp ../target/$$f; done
	touch $@

# Debian's Chromium, for the test that opens the report previews as a browser would.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "Chromium is missing (apt-get install chromium): the browser test will be skipped."

up: install
	$(STACK) start

run: up manifest
	$(IN_STACK) $(AIRFLOW_PY) -m embedded.run_pipeline \
		$(if $(DS),--ds $(DS)) $(if $(DAYS),--days $(DAYS)) $(if $(ORDERS),--orders $(ORDERS))

# Two pytest processes side by side, each on a test stack of its own (tests/conftest.py): the DAG runs
# on the main one's Airflow (tests marked `airflow`: one sequence of runs, in order; tests/stack.py
# starts that stack first and stops it after) and every other test (unit, DAG integrity, the image
# rehearsal, the dbt build and the generator) on the `beside` stack, which its session starts and
# stops; their report follows. (pytest-xdist's loadgroup would keep the Airflow tests on one
# worker, but it does not group on pytest 9.2: pytest-dev/pytest-xdist#1386.) `pytest` alone runs
# everything in one process. The DAG runs are the longer sequence: the others run at a lower CPU
# priority (nice), in the cores the DAG runs leave idle, rather than slowing every run down.
test: install manifest browser
	@mkdir -p .local; \
	$(AIRFLOW_PY) -m tests.stack start || exit 1; \
	SHOPSTREAM_TEST_STACK=beside nice -n 10 $(AIRFLOW_PY) -m pytest -p no:cacheprovider -m "not airflow" tests \
		> .local/test-beside.log 2>&1 & beside=$$!; \
	$(AIRFLOW_PY) -m pytest -m airflow tests/integration; airflow=$$?; \
	wait $$beside; beside_rc=$$?; \
	echo; echo "=== every test not marked airflow, run beside them (.local/test-beside.log) ==="; \
	cat .local/test-beside.log; \
	$(AIRFLOW_PY) -m tests.stack stop; \
	SHOPSTREAM_TEST_STACK=beside $(AIRFLOW_PY) -m tests.stack stop >/dev/null; \
	[ $$airflow -eq 0 ] && [ $$beside_rc -eq 0 ]

ui: up manifest
	$(IN_STACK) $(AIRFLOW_PY) -m embedded.airflow_server

down:
	@if [ -x $(AIRFLOW_PY) ]; then \
		$(IN_STACK) $(AIRFLOW_PY) -m embedded.airflow_server --stop; \
		$(STACK) stop; \
	fi

status:
	$(STACK) status

lint: install
	$(VENVS)/airflow/bin/ruff check .

bench: up manifest
	$(IN_STACK) $(AIRFLOW_PY) bench/bench_dag_parse.py
	$(IN_STACK) $(AIRFLOW_PY) -m bench.bench_pipeline

# The full load and one incremental day at 10,000, 100,000 and 1,000,000 orders (SIZES=10000,100000 to
# choose), each on a new stack of its own (.local/scale-stack, other ports): long, and not in make test.
bench-scale: install manifest
	PYTHONPATH=$(CURDIR) $(AIRFLOW_PY) -m bench.bench_scale $(if $(SIZES),--sizes $(SIZES))

# rapport.pdf, the project report in French (docs/rapport/rapport.html.j2, tools/rapport.py), built from
# the figures of `make run` and `make bench` (output/run_summary.json, output/bench.json), the report
# previews of that run and a screenshot of its graph in Airflow (headless Chromium; Airflow started if needed).
report: install manifest browser
	@$(AIRFLOW_PY) -m tools.rapport --check
	$(STACK) start
	$(IN_STACK) $(AIRFLOW_PY) -m tools.rapport

clean: down
	rm -rf .local $(DBT_DIR)/target $(DBT_DIR)/target-build $(DBT_DIR)/logs
