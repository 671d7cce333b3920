# Balai: `make run` (local platform with demo data) and `make test` set up everything they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench web lint typecheck package check-infra fuzz deploy-web clean

STACK ?= balai-prod-infra

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade 'pip<26.3'
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m localmode.run

test: $(STAMP)
	$(PY) -m pytest

# The front end (web/) is plain ES modules and CSS served as they are: there is no build step. This checks
# every page's files and prints the bytes shipped per page (gzipped) against the citizen portal's budget.
web: $(STAMP)
	$(PY) bench/web.py --sizes

bench: $(STAMP)
	$(PY) bench/cold_start.py
	$(PY) bench/api_latency.py

lint: $(STAMP)
	$(VENV)/bin/ruff check app.py chalicelib localmode

# mypy (configured in pyproject.toml) over the shipped code: app.py and chalicelib/.
typecheck: $(STAMP)
	$(VENV)/bin/mypy app.py chalicelib

# cfn-lint of infra/balai.yaml, `chalice package` of the prod stage (with the IAM policy and the API
# throttling merge), cfn-lint of the SAM output, package sizes. No AWS account or credentials needed.
package check-infra: $(STAMP)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH bash infra/check.sh

# schemathesis against local mode's /openapi.json (own ports and data folder), bounded; prints its figures.
fuzz: $(STAMP)
	bash tests/fuzz/run_local.sh
# Upload web/ to the infra stack's web bucket, write config.json (the API base URL), invalidate
# CloudFront. Needs AWS credentials; `make deploy-web ARGS=--dry-run` only prints the plan.
deploy-web: $(STAMP)
	$(PY) infra/deploy_web.py --stack-name $(STACK) $(ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache
