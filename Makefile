# Spymaster: every entry point. Needs only Python 3.11 and pip; uv is installed if missing.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(CURDIR)/.tools/bin/uv
endif

# uv verifies TLS with the system certificate store, as pip does on these machines.
export UV_SYSTEM_CERTS ?= 1
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export SPYMASTER_DATA_DIR ?= $(CURDIR)/data

# The built-in sample: five weeks, Monday 2025-10-27 to Friday 2025-11-28 (24 trading days:
# enough for the research step's walk-forward folds; the last week has the Thanksgiving holiday
# and the 13:00 early close after it).
SAMPLE_START ?= 2025-10-27
SAMPLE_END ?= 2025-11-28
SAMPLE_PROFILE ?= demo

# The browser test drives Debian's Chromium (headless); `make test` installs it when missing.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup demo test bench bench-backfill bench-cluster browser postgres redis worker lint format ui clean-lake

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

# Bytecode for every library (uv sync --compile-bytecode) and for the package itself: Dagster
# starts a fresh Python process for every run, and compiling sources again in each one costs
# more than loading the code location (PYTHONDONTWRITEBYTECODE may be set on these machines).
setup: .venv/.synced $(DAGSTER_HOME)/dagster.yaml
	@.venv/bin/python -m compileall -q spymaster_assets

demo: setup
	$(UV) run spymaster sample-data --start $(SAMPLE_START) --end $(SAMPLE_END) --profile $(SAMPLE_PROFILE)
	$(UV) run spymaster materialize --start $(SAMPLE_START) --end $(SAMPLE_END)
	$(UV) run spymaster summary
	$(UV) run spymaster validate --verbose
	$(UV) run spymaster research

test: setup browser postgres redis
	SPYMASTER_CHROMIUM=$(CHROMIUM) SPYMASTER_PG_BIN=$(PG_BIN) $(UV) run pytest

# The per-day chain against the decompression floor, and a backfill of BACKFILL_DAYS full-size
# days through a real daemon (docs/performance.md). The full-profile sample days are generated
# once under $(SPYMASTER_DATA_DIR)/bench/ (a few minutes) and reused.
BACKFILL_DAYS ?= 12
bench: setup
	$(UV) run spymaster bench --write-docs --backfill-days $(BACKFILL_DAYS) $(BENCH_ARGS)

# Only the backfill part (and the 1x chain it is compared with); prints, writes bench/results/.
bench-backfill: setup
	$(UV) run spymaster bench --scales 1 --no-baseline --no-dagster-path --no-research --backfill-days $(BACKFILL_DAYS) $(BENCH_ARGS)

# The backfill on 1 and 2 Celery workers (docs/performance.md, its own section); needs the
# services of `make test` (PostgreSQL, redis-server) and moto's S3 server (a dev dependency).
CLUSTER_DAYS ?= 6
bench-cluster: setup postgres redis
	SPYMASTER_PG_BIN=$(PG_BIN) $(UV) run spymaster bench-cluster --days $(CLUSTER_DAYS) --write-docs

browser: $(CHROMIUM)

# The instance tests run a real PostgreSQL 15 (Debian's) on loopback; `make test` installs it.
PG_BIN ?= /usr/lib/postgresql/15/bin
postgres: $(PG_BIN)/initdb

$(PG_BIN)/initdb:
	@echo "Installing Debian's postgresql-15 for the instance tests (apt-get)"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
	@test -x $@ || { echo "postgresql-15 did not install at $(PG_BIN)"; exit 1; }

# The Celery tests run a real Redis (Debian's redis-server) on loopback; `make test` installs it.
REDIS_SERVER ?= /usr/bin/redis-server
redis: $(REDIS_SERVER)

$(REDIS_SERVER):
	@echo "Installing Debian's redis-server for the Celery tests (apt-get)"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
	@test -x $@ || { echo "redis-server did not install at $(REDIS_SERVER)"; exit 1; }

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser test (apt-get)"
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	@test -x $(CHROMIUM) || { echo "chromium did not install at $(CHROMIUM)"; exit 1; }

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .

format: setup
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

# The instance settings in $(DAGSTER_HOME): PostgreSQL when SPYMASTER_PG_URL is set
# (deploy/dagster-postgres.yaml, docs/deploy.md), else the repo's sqlite dagster.yaml.
ui: setup
	$(UV) run python -c "from spymaster_assets.cli import dagster_home; dagster_home()"
	$(UV) run dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

# A Celery worker of the cluster (docs/deploy.md): SPYMASTER_CELERY_BROKER, SPYMASTER_PG_URL and
# an s3:// SPYMASTER_DATA_DIR in the environment, as for the daemon.
WORKER_CONCURRENCY ?= 1
worker: setup
	$(UV) run spymaster worker --concurrency $(WORKER_CONCURRENCY)

clean-lake:
	rm -rf $(SPYMASTER_DATA_DIR)/lake
