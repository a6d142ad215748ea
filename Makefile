# Two commands for a new user: `make run` (API + embedded database) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint db install clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# Builds FerretDB into .bin/ unless MONGODB_URI points at a server already.
db: $(STAMP)
	@$(PY) -m local.embedded_db build

run: db
	$(PY) -m local.run

test: db
	$(PY) -m pytest
	$(MAKE) --no-print-directory lint

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .bin .data .chalice/deployments
