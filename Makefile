# Pantau: one Makefile. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NAME   ?=

.DEFAULT_GOAL := help
.PHONY: help run install test lint bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps make a second `make run` skip pip when pyproject.toml has not changed.
$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-run
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.stamp-run ## create .venv and install Pantau

run: install ## install, migrate, load forms/, make the first admin, serve on :8000
	$(BIN)/pantau db migrate
	$(BIN)/pantau forms load forms/*.yaml
	$(BIN)/pantau users ensure-admin
	$(BIN)/pantau serve

lint: $(VENV)/.stamp-test ## ruff on everything, mypy --strict on server/
	$(BIN)/ruff check server tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# node_modules (package.json devDependencies, versions pinned by package-lock.json): axe-core for the
# browser tests' accessibility check; @getodk/xforms-engine and jsdom for tests/odk (ODK's own form
# engine as the OpenRosa client).
node_modules/.package-lock.json: package.json package-lock.json
	npm install --no-audit --no-fund --prefer-offline

test: $(VENV)/.stamp-test lint node_modules/.package-lock.json ## the whole suite (SQLite; PostgreSQL when PANTAU_TEST_DATABASE_URL is set)
	$(BIN)/pytest
	node --test tests/js/

bench: $(VENV)/.stamp-test ## benchmarks: `make bench` runs all, `make bench NAME=compile` one
	@set -e; if [ -n "$(NAME)" ]; then $(BIN)/python bench/$(NAME).py; \
	else for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done; fi

clean: ## remove the virtualenv and caches (keeps var/, your data)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
