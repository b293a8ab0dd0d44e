# Qonto Connector — the two commands a newcomer types are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CARD_DIR := hubspot_app/card/src/app/cards
CHROMIUM ?= /usr/bin/chromium

# Tests use PostgreSQL and Redis for real (override on the command line or in the environment).
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/qonto_connector
export REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test test-python test-js lint typecheck check-migrations check-hubspot-project browser-deps bench soak clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## make run: install, migrate, start the sandbox + web + worker + beat with the demo. Ctrl-C stops all.
run: install
	@env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m sandbox.run_all

## make test: install, then every check and every test (Python, card, browser). Ends with pytest's summary.
test: install browser-deps
	$(MAKE) lint typecheck check-migrations check-hubspot-project test-js
	$(BIN)/pytest

test-python: install
	$(BIN)/pytest

test-js:
	@if [ -f $(CARD_DIR)/package.json ]; then \
	  cd $(CARD_DIR) && npm ci --no-audit --no-fund --loglevel=error && npm run typecheck && npm test; \
	else echo "no card project yet"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

check-migrations: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# Fails when a -hsmeta.json that `hs project upload` would send carries a placeholder/example/
# localhost host, plain http or an unresolved ${…} (hubspot_app/card/README.md, "Upload").
check-hubspot-project:
	node hubspot_app/card/scripts/configure.mjs --check

# Debian's Chromium for the Playwright browser tests (Playwright never downloads a browser here).
browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium missing: run 'sudo apt-get install chromium' (browser tests will be skipped)"; fi; \
	fi

## make bench: benchmarks against the sandbox; prints a table and JSON.
bench: install
	$(BIN)/python -m bench

## make soak: the long reliability suite (the short version runs in make test).
soak: install
	SOAK=1 $(BIN)/pytest -m "soak or slow" tests

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache
