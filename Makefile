# The two commands a newcomer needs: `make run` and `make test`. Everything they need is
# installed by the targets themselves (a virtualenv in .venv, npm packages in node_modules).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed

STAGE ?= dev
OSLS := npx --no-install osls
ROLE ?= member
CUSTOMER ?=

.DEFAULT_GOAL := help
.PHONY: help run token test lint bench schema package deploy remove clean

## List the targets (this text).
help:
	@echo "make <target>, where <target> is one of:"
	@awk '/^## /{doc = substr($$0, 4); next} \
		/^[a-z][a-z-]*:/{if (doc != "") printf "  %-8s %s\n", substr($$1, 1, length($$1) - 1), doc} \
		{doc = ""}' $(firstword $(MAKEFILE_LIST))

# The runtime closure installs at the versions the Lambda layer pins, so the tests run what
# deploys (a new release of a transitive dependency changes neither until the pins move).
$(INSTALLED): pyproject.toml infra/requirements.lambda.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check \
		-c infra/requirements.lambda.txt -e '.[dev]'
	touch $@

# GraphiQL and React (served by make run, offline), DynamoDB Local (for the concurrency tests)
# and osls (packaging). Without npm, make run serves the API without GraphiQL and the tests
# that need them skip and say why.
$(NODE_INSTALLED): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: GraphiQL is unavailable (the API runs without it), and the"; \
		echo "DynamoDB Local and packaging tests will be skipped"; \
	fi

## Start the API on http://127.0.0.1:8000/graphql with demo data, GraphiQL and tokens.
run: $(INSTALLED) $(NODE_INSTALLED)
	$(PY) -m local

## Print a token for make run: make -s token CUSTOMER=demo-bob ROLE=member|admin|service
token: $(INSTALLED)
	@$(PY) -m local token --role '$(ROLE)' $(if $(CUSTOMER),--customer '$(CUSTOMER)')

## Lint, type-check and run every test (moto, GraphQL API, DynamoDB Local, infra, browser).
test: $(INSTALLED) $(NODE_INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

## Fix what ruff can fix and format the code.
lint: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Per-request overhead, DynamoDB requests and import time, as medians of one run; then a
## nudge scheduler run over 10 000 members (DynamoDB Local) and a sender batch of 10.
bench: $(INSTALLED)
	$(PY) -m bench
	$(PY) -m bench.nudges

## Rewrite schema/schema.graphql from the code.
schema: $(INSTALLED)
	$(PY) -m schema.export

## Build .build/function.zip and the stack's CloudFormation template for STAGE, offline.
package: $(INSTALLED) $(NODE_INSTALLED)
	$(PY) -m infra.build
	$(OSLS) package --stage $(STAGE) $(ARGS)

## Deploy to the AWS account of your credentials: make deploy STAGE=prod
deploy: $(INSTALLED) $(NODE_INSTALLED)
	$(PY) -m infra.build
	$(OSLS) deploy --stage $(STAGE) $(ARGS)

## Remove a stage's stack (prod keeps its table and user pool).
remove: $(NODE_INSTALLED)
	$(OSLS) remove --stage $(STAGE) $(ARGS)

## Delete everything the targets installed or built.
clean:
	rm -rf $(VENV) node_modules .build .serverless .mypy_cache .ruff_cache .pytest_cache .hypothesis
