# Two commands for a new user: `make run` (API + embedded database) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint db install clean package deploy

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

# Per-route CloudFormation stack in build/$(STAGE)/cfn: sam.json, deployment.zip (our code), layer.zip
# (dependencies, manylinux wheels from PyPI). Needs a region, no credentials. See README "Deploying".
STAGE ?= dev
STACK ?= cureconnect-$(STAGE)
package: $(STAMP)
	$(PY) -m infra.package --stage $(STAGE) --out build/$(STAGE)

# Uploads the zips to S3 (DEPLOY_BUCKET) and creates/updates the stack; needs AWS credentials.
deploy: package
	@test -n "$(DEPLOY_BUCKET)" || { echo "set DEPLOY_BUCKET=<an S3 bucket for the code zips>" >&2; exit 2; }
	aws cloudformation package --template-file build/$(STAGE)/cfn/sam.json \
	  --s3-bucket $(DEPLOY_BUCKET) --s3-prefix $(STACK) --output-template-file build/$(STAGE)/packaged.yaml
	aws cloudformation deploy --template-file build/$(STAGE)/packaged.yaml --stack-name $(STACK) \
	  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset

clean:
	rm -rf $(VENV) .bin .data .chalice/deployments build
