# Zhanye: `make run` starts everything; `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run run-cluster test install services pwa migrate demo test-sqlite test-postgres test-pwa lint typecheck bench clean \
	api-types check-api-types lint-strict test-pwa-steps test-browser-pass test-units-pass test-live services-for-test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

services:
	@bash .ci/ensure-services.sh

pwa:
	@if [ -f pwa/package.json ]; then $(MAKE) -s pwa-build; else echo "pwa: not present yet; serving the placeholder page"; fi

migrate: install
	$(BIN)/alembic upgrade head

demo: migrate
	$(BIN)/flask --app server demo load --if-empty
	$(BIN)/python -m tasks.schedule

run: install services pwa demo
	@echo ""
	@echo "  展业 Zhanye is starting on $${PUBLIC_URL:-http://127.0.0.1:$${PORT:-5000}}"
	@echo "  Demo logins (password demo1234): rm_newcomer rm_general rm_excellent rm_super rm_veteran lead risk admin"
	@echo ""
	DEMO_MODE=true $(BIN)/honcho start -f Procfile web worker

# The deployment's shape on this machine: nginx on CLUSTER_PORT (8080) in front of 3 web processes and
# 2 workers, on PostgreSQL (database zhanye_cluster, made and loaded with the demo bank on first use)
# and Redis db 2. Configuration is rendered into a run directory; see docs/deployment.md.
run-cluster: install pwa
	@bash .ci/ensure-services.sh --postgres --nginx
	$(BIN)/python -m deploy.cluster run --web 3 --workers 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@echo "type: ignore comments in server/ realtime/ tasks/: $$(grep -rn --include='*.py' 'type: ignore' server realtime tasks | wc -l)"
	$(MAKE) -s typecheck

# mypy over server/, realtime/ and tasks/ with check_untyped_defs (settings in pyproject.toml); any
# error fails the build.
typecheck: install
	$(BIN)/mypy

# The whole suite: the PWA's install, build and checks (in order: the API-type check runs a tool npm
# installs) beside the Python linters; then two streams side by side (below): the browser tests
# with part of the PostgreSQL pass, and every other test; then the fault drills of tests/live once,
# on PostgreSQL, alone (they restart servers and time recoveries, so they get the machine to
# themselves). One after the other, everything took about 35 minutes on 2 cores.
test: install services-for-test
	$(MAKE) -j2 --no-print-directory --output-sync=recurse test-pwa-steps lint-strict
	$(MAKE) -j2 --no-print-directory --output-sync=recurse test-browser-pass test-units-pass
	$(MAKE) --no-print-directory test-live

test-pwa-steps: install
	$(MAKE) --no-print-directory pwa
	$(MAKE) --no-print-directory check-api-types
	$(MAKE) --no-print-directory test-pwa

services-for-test:
	@bash .ci/ensure-services.sh --postgres --browser --nginx

lint-strict: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) -s typecheck

# The two streams: the browser tests and then the PostgreSQL pass of the socket and push tests (about
# two fifths of that pass), beside every other test on SQLite and then the rest of the PostgreSQL
# pass, so both streams take about as long. Each stream has its own Redis database.
# pytest exit code 5 (no tests collected) is a failure here, never a pass.
PG_BESIDE_BROWSER := tests/realtime tests/server/push

test-browser-pass: install
	DATABASE_URL= TEST_REDIS_DB=15 $(BIN)/pytest -q tests/e2e
	DATABASE_URL=$(PG_TEST_URL) TEST_REDIS_DB=15 $(BIN)/pytest -q $(PG_BESIDE_BROWSER)

test-units-pass: install
	DATABASE_URL= TEST_REDIS_DB=13 $(BIN)/pytest -q --ignore=tests/e2e --ignore=tests/live
	DATABASE_URL=$(PG_TEST_URL) TEST_REDIS_DB=13 $(BIN)/pytest -q --ignore=tests/e2e --ignore=tests/live \
		$(addprefix --ignore=,$(PG_BESIDE_BROWSER))

test-live: install
	DATABASE_URL=$(PG_TEST_URL) TEST_REDIS_DB=15 $(BIN)/pytest -q tests/live

# One database, everything (the live drills included), one after the other: for a developer who
# wants one pass.
test-sqlite: lint-strict
	DATABASE_URL= $(BIN)/pytest -q

test-postgres: install
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -m "not e2e"

test-pwa:
	@if [ -f pwa/package.json ]; then $(MAKE) -s pwa-test; fi

# The PWA's API types (pwa/src/api/schema.d.ts) are generated from the OpenAPI document: run
# `make api-types` after changing a route's request or response model; `make check-api-types` (part
# of `make test`) fails while they are stale.
OPENAPI_TS := npx openapi-typescript --default-non-nullable false

api-types: install
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	DATABASE_URL= $(BIN)/flask --app server openapi --output $$tmp/openapi.json && \
	cd pwa && $(OPENAPI_TS) $$tmp/openapi.json --output src/api/schema.d.ts

check-api-types: install
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	DATABASE_URL= $(BIN)/flask --app server openapi --output $$tmp/openapi.json && \
	cd pwa && $(OPENAPI_TS) $$tmp/openapi.json --output src/api/schema.d.ts --check || \
	{ echo "pwa/src/api/schema.d.ts is stale: run make api-types"; exit 1; }

bench: install
	@for b in bench/[a-z]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist

pwa-build:
	cd pwa && npm ci --no-audit --no-fund
	cd pwa && npm run build   # eslint + vue-tsc + vite build

test-e2e: install services-for-test pwa
	$(BIN)/pytest -q -m e2e tests/e2e

bench-pwa: install services
	$(BIN)/python bench/pwa_budget.py

pwa-test:
	cd pwa && npx vitest run
