# PolicyGap: the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export PATH := $(HOME)/.local/bin:$(PATH)
# uv from PATH, else ~/.local/bin, else as a module (pip may have put it where no shim finds it).
UV ?= $(shell command -v uv 2>/dev/null || { test -x $(HOME)/.local/bin/uv && echo $(HOME)/.local/bin/uv; } || echo python3 -m uv)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint fmt typecheck test-pg e2e migrate bench uv sync messages

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --user --quiet uv || python3 -m pip install --user --quiet --break-system-packages uv

sync: uv
	$(UV) sync --locked

run: sync
	$(UV) run policygap demo
	$(UV) run policygap serve --host $(HOST) --port $(PORT)

test: sync
	$(UV) run pytest

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

fmt: sync
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

test-pg: sync
	POLICYGAP_REQUIRE_POSTGRES=1 $(UV) run pytest -m postgres

e2e: sync
	POLICYGAP_REQUIRE_E2E=1 $(UV) run pytest -m e2e

# Extract the messages (babel.cfg) into service/i18n/messages.pot and add new ones to the French
# catalogue; tests/unit/test_vocabulary_catalogue.py fails in CI until this has been run.
messages: sync
	$(UV) run python -m service.i18n.extract

migrate: sync
	$(UV) run policygap migrate

bench: sync
	$(UV) run python bench/engine.py
