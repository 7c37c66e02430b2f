# geodem-platform: `make demo` runs the geodemographic graph on a synthetic sample; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
PG_VERSION := $(shell ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)

.PHONY: install lock check-lock system-deps demo ui lint typecheck test test-distributed check-deploy image bench bench-clustering bench-silhouette bench-warehouse bench-region bench-region-detail bench-homeloc bench-borders bench-load bench-objectstore bench-distributed clean

# Installs exactly the versions in requirements.lock (hashes checked), then the project itself.
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/python -m geodem_assets.warmup
	touch $@

install: $(BIN)/.installed
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > $(DAGSTER_HOME)/dagster.yaml

# The PostgreSQL hll extension (and Chromium for the UI tests), from Debian's packages.
system-deps:
	@if [ -z "$(PG_VERSION)" ]; then echo "PostgreSQL server binaries not found (apt-get install postgresql)"; exit 1; fi
	@if [ ! -f /usr/share/postgresql/$(PG_VERSION)/extension/hll.control ] || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing postgresql-$(PG_VERSION)-hll chromium chromium-driver"; \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-$(PG_VERSION)-hll chromium chromium-driver >/dev/null; \
	fi

demo: install
	$(BIN)/geodem demo

# The webserver and the daemon (sensors, schedules, backfills, the run queue) on the local instance.
# They start inside DAGSTER_HOME so that the production dagster.yaml at the top level is not picked
# up (or warned about) by accident. Ctrl-C stops both.
UI_PORT ?= 3000
ui: install
	@echo "Dagster UI on http://127.0.0.1:$(UI_PORT) (instance $(DAGSTER_HOME)); Ctrl-C stops it"
	cd $(DAGSTER_HOME) && { $(CURDIR)/$(BIN)/dagster-daemon run -w $(CURDIR)/workspace.yaml & \
		trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
		$(CURDIR)/$(BIN)/dagster-webserver -h 127.0.0.1 -p $(UI_PORT) -w $(CURDIR)/workspace.yaml; }

# Refresh requirements.lock from the ranges in pyproject.toml (needs the registry).
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra test --extra lint --extra k8s --extra s3 --extra celery --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 -o requirements.lock -q
	rm -f $(BIN)/.installed

# Fails when the venv holds other versions than requirements.lock.
check-lock: install
	$(BIN)/python .ci/check_lock.py requirements.lock

# Lint and format checks, annotated public functions in the pure modules (the list pyright checks),
# import contracts (CI runs this before the tests).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ruff check --select ANN001,ANN201 $$($(BIN)/python .ci/pure_modules.py)
	$(BIN)/lint-imports

# Static types over the pure modules listed in pyproject.toml ([tool.pyright]).
typecheck: install
	$(BIN)/pyright

test: install system-deps
	GEODEM_FORBID_SKIPS=1 $(BIN)/python -m pytest -q tests

# The no-shared-disk proof alone (two Celery workers, RabbitMQ, moto S3, PostgreSQL); part of
# `make test` too.
test-distributed: install system-deps
	GEODEM_FORBID_SKIPS=1 $(BIN)/python -m pytest -q -m distributed tests

# The Kubernetes deployment without a cluster: Helm values against the chart's schema, the run
# pod's Job as dagster-k8s builds it, the Dockerfile (part of `make test` too).
check-deploy: install
	GEODEM_FORBID_SKIPS=1 $(BIN)/python -m pytest -q tests/deploy

# The code-location image (needs a Docker engine): `make image IMAGE=registry/…/geodem-platform:TAG`.
IMAGE ?= geodem-platform:dev
image:
	docker build -f deploy/Dockerfile -t $(IMAGE) .

# Side-by-side benchmarks (results in benchmarks/RESULTS.md). Needs a PostgreSQL server;
# BENCH_PG is an admin URL, the benchmark database is created and dropped here.
# About 2 hours on 2 cores: `make bench-clustering`, `bench-silhouette`, `bench-warehouse`, `bench-region`, `bench-homeloc` and `bench-load` run one part each.
BENCH_PG ?= postgresql://postgres@127.0.0.1:5432/postgres
bench: bench-clustering bench-silhouette bench-warehouse bench-region bench-homeloc bench-load

bench-clustering: install
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m benchmarks.bench_clustering --size both

bench-silhouette: install
	$(BIN)/python -m benchmarks.bench_silhouette --size both

bench-warehouse: install
	$(BIN)/python -m benchmarks.bench_warehouse

bench-region: install
	$(BIN)/python -m benchmarks.bench_region --size liverpool --reference
	$(BIN)/python -m benchmarks.bench_region --size uk --variant umap-500-epochs --variant parallel-umap

# The same on a census with realistic boundaries (`geodem sample census --detail`), its own sections.
bench-region-detail: install
	$(BIN)/python -m benchmarks.bench_region --size liverpool --detail
	$(BIN)/python -m benchmarks.bench_region --size uk --detail

# A backfill of 1,000,000 users through webserver + daemon, queue 2 and hll_db pool 2, reconciled.
bench-load: install system-deps
	$(BIN)/python -m benchmarks.load_backfill --users 1000000 --pg-url $(BENCH_PG)

bench-homeloc: install system-deps
	$(BIN)/python -c "import psycopg2; c=psycopg2.connect('$(BENCH_PG)'); c.autocommit=True; c.cursor().execute('DROP DATABASE IF EXISTS geodem_bench WITH (FORCE)'); c.cursor().execute('CREATE DATABASE geodem_bench')"
	$(BIN)/python -c "import psycopg2; c=psycopg2.connect('$(BENCH_PG)'.rsplit('/',1)[0]+'/geodem_bench'); c.autocommit=True; c.cursor().execute('CREATE EXTENSION hll')"
	$(BIN)/python -m benchmarks.bench_homeloc --database-url $(shell echo '$(BENCH_PG)' | sed 's|/[^/]*$$|/geodem_bench|') --jobs 2 --out benchmarks/out
	$(BIN)/python -c "import psycopg2; c=psycopg2.connect('$(BENCH_PG)'); c.autocommit=True; c.cursor().execute('DROP DATABASE IF EXISTS geodem_bench WITH (FORCE)')"

# The home-location backfill with its input and outputs on S3 (moto on loopback) against local disk.
bench-objectstore: install
	$(BIN)/python -m benchmarks.bench_objectstore --users 300000 --ranges 16

# No shared disk: two Celery workers (dagster-celery's run launcher over the local RabbitMQ), each with its
# own empty folders, sharing only the broker, the Dagster PostgreSQL storage and S3 (moto); every user range
# and two regions backfilled through the webserver and daemon. Needs RabbitMQ on 127.0.0.1:5672.
bench-distributed: install system-deps
	$(BIN)/python -m benchmarks.distributed --pg-url $(BENCH_PG) --users 100000

# The 1:10m and 1:110m country layers side by side (join cost, home accuracy near borders); no database.
# bench-homeloc runs it too.
bench-borders: install
	$(BIN)/python -m benchmarks.bench_borders --points 1000000 --users-per-place 400

clean:
	rm -rf $(DAGSTER_HOME) data/outputs data/warehouse.duckdb
