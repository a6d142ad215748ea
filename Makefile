# Two commands for a new user: `make run` (API + embedded database) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint db install clean package deploy os-packages bench bench-original client client-check

# One check of the operating-system packages (local/os-packages.sh), per command: it installs
# what is missing under CI=true, otherwise asks (on a terminal) or prints the command to run.
OS_PROFILE ?= run
run: OS_PROFILE := run
test: OS_PROFILE := test
package: OS_PROFILE := package
os-packages:
	@bash local/os-packages.sh $(OS_PROFILE)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# Builds FerretDB into .bin/ unless MONGODB_URI points at a server already.
db: os-packages $(STAMP)
	@$(PY) -m local.embedded_db build

run: db
	$(PY) -m local.run

test: db
	$(PY) -m pytest
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory client-check

# The API's TypeScript types (clients/api.d.ts) and the document they come from (clients/openapi.json),
# generated with openapi-typescript from clients/package-lock.json (`npm ci`). See README "The contract".
client: $(STAMP)
	$(PY) -m local.client_types

# Fails when the committed clients/ differ from what the current document generates (run by `make test`).
client-check: $(STAMP)
	$(PY) -m local.client_types --check

# Issue 20's table, route by route: round trips, median/p95, growth, beside budgets and the
# original's figures (bench/routes_bench.py; ARGS=--quick for a smoke run). Figures, never a verdict.
bench: db
	$(PY) bench/routes_bench.py $(ARGS)

# Issue 20's table re-measured side by side with the original Node backend (its Backend/ checkout,
# `npm install` done there; not in this repository, never run by CI): bench/original_side_by_side.py.
bench-original: db
	@test -n "$(ORIGINAL)" || { echo "set ORIGINAL=/path/to/CureConnect/Backend (see README, Benchmarks)" >&2; exit 2; }
	$(PY) bench/original_side_by_side.py $(ORIGINAL) $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Per-route CloudFormation stack in $(BUILD)/$(STAGE)/cfn: sam.json, deployment.zip (our code), layer.zip
# (dependencies, manylinux wheels from PyPI). Needs a region, no credentials. See README "Deploy".
STAGE ?= dev
STACK ?= cureconnect-$(STAGE)
BUILD ?= build
package: os-packages $(STAMP)
	$(PY) -m infra.package --stage $(STAGE) --out $(BUILD)/$(STAGE)

# Uploads the zips to S3 (DEPLOY_BUCKET) and creates/updates the stack; needs AWS credentials.
deploy: package
	@test -n "$(DEPLOY_BUCKET)" || { echo "set DEPLOY_BUCKET=<an S3 bucket for the code zips>" >&2; exit 2; }
	aws cloudformation package --template-file $(BUILD)/$(STAGE)/cfn/sam.json \
	  --s3-bucket $(DEPLOY_BUCKET) --s3-prefix $(STACK) --output-template-file $(BUILD)/$(STAGE)/packaged.yaml
	aws cloudformation deploy --template-file $(BUILD)/$(STAGE)/packaged.yaml --stack-name $(STACK) \
	  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
	  $(if $(PARAMETERS),--parameter-overrides $(PARAMETERS))

clean:
	rm -rf $(VENV) .bin .data .chalice/deployments build clients/node_modules
