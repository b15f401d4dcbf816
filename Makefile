# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help setup demo serve test lint typecheck test-sqlite test-postgres test-windows \
	windows-zip bench

help:
	@echo "make demo   run Ledgerdrop with demo data and a local downloader (http://127.0.0.1:8000;"
	@echo "            another port: make demo PORT=8001)"
	@echo "make test   lint, type checks, and the test suite on SQLite then PostgreSQL"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

setup: $(UV)
	$(UV) sync --locked --quiet

# Ctrl-C is for the demo alone: it stops its server and downloader and ends quietly, so make
# itself ignores the interrupt instead of reporting an error.
PORT ?= 8000
demo: setup
	@trap '' INT; $(UV) run ledgerdrop demo --port $(PORT)

serve: setup
	$(UV) run ledgerdrop serve

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck: setup
	$(UV) run mypy protocol/src agent/src service/src

# The suite spreads over one worker per CPU (pytest-xdist); each worker has its own test
# database. Work-stealing keeps every worker busy to the end: a few system tests take a minute each.
# The flags stay here, not in pyproject's addopts: the Windows leg's Python has no xdist.
PYTEST_PARALLEL := -n auto --dist worksteal

test-sqlite: setup
	scripts/ensure-chromium.sh
	env -u DATABASE_URL $(UV) run pytest $(PYTEST_PARALLEL)

test-postgres: setup
	scripts/ensure-nginx.sh
	scripts/with-postgres.sh $(UV) run pytest $(PYTEST_PARALLEL)

# The downloader as Windows runs it: the official embeddable CPython under Wine (see
# scripts/windows/README.md): its own suite, then the system tests against the real service.
test-windows: setup
	scripts/windows/prepare.sh
	scripts/windows/python.sh -m pytest agent/tests
	env -u DATABASE_URL $(UV) run pytest -m windows tests/windows

# The one download for Windows: $$LEDGERDROP_DOWNLOADS_DIR/ledgerdrop-agent-windows.zip.
windows-zip: setup
	$(UV) run python scripts/windows/build.py zip

test: lint typecheck test-sqlite test-postgres test-windows

bench: setup
	scripts/ensure-bench-peers.sh
	scripts/with-postgres.sh $(UV) run python bench/delivery.py
	$(UV) run python bench/documents.py
	scripts/with-postgres.sh $(UV) run python bench/load.py
	scripts/with-postgres.sh $(UV) run python bench/tasks.py
	scripts/with-postgres.sh $(UV) run python bench/million.py
