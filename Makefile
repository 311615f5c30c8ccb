# The one interface for humans and CI. `make test` sets everything up from nothing: a bare
# Debian needs only the apt packages make, python3-venv and git (.ci/run installs them).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The Python that creates .venv: the python3 on PATH (3.11 or newer), or `make PYTHON=python3.12`.
PYTHON ?= python3
# uv installs the hash-pinned lock files. It is bootstrapped into .venv with the venv's own pip, so
# nothing is installed outside the checkout (Debian's system pip refuses installs: PEP 668).
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)


.PHONY: dist openapi lock dev test lint typecheck unit integration security infra e2e synth nag bootstrap preflight deploy diff destroy cli bench local clean

# The deployment stage (docs/deploy.md): stack AmazonAdsConnect-<stage>, secrets under
# ads-connect/<stage>. make deploy STAGE=dev (or ADS_CONNECT_STAGE=dev); default prod.
STAGE ?= $(or $(ADS_CONNECT_STAGE),prod)

dev: $(VENV)/.synced node_modules/.installed

# .venv comes from `python3 -m venv` (pip included, so uv can be bootstrapped with it). The stamp
# also marks a .venv made another way (an older Makefile used `uv venv`, which has no pip and
# whose seed packages `uv pip sync` removes): such a .venv is made again.
VENV_STAMP := $(VENV)/.made-by-venv
$(VENV_STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  echo "error: Python 3.11 or newer is needed to create $(VENV); '$(PYTHON)' is" \
	    "$$($(PYTHON) --version 2>&1 || echo missing) (choose another with: make PYTHON=python3.12 ...)" >&2; \
	  exit 1; }
	@echo "setting up the toolchain (first run, a few minutes)"
	@rm -rf $(VENV)
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }
	@touch $@

# A stamp per uv version, so changing UV_VERSION installs that one.
$(VENV)/.uv-$(UV_VERSION): $(VENV_STAMP)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@touch $@

# The committed lock files are hash-pinned requirement lists exported from uv's resolver
# (`make lock`); uv.lock itself stays out of git because it records download addresses.
# In a .venv made by `python3 -m venv`, `uv pip sync` keeps pip and uv itself; checked anyway.
$(VENV)/.synced: requirements/dev.lock $(VENV)/.uv-$(UV_VERSION)
	$(UV) pip sync --quiet --python $(PY) --require-hashes requirements/dev.lock
	@test -x $(UV) || { rm -f $(VENV)/.uv-$(UV_VERSION); \
	  echo "error: uv pip sync removed $(UV) from $(VENV) (its seed-package rules changed?)" >&2; exit 1; }
	@touch $@

lock: $(VENV)/.uv-$(UV_VERSION)
	$(UV) lock
	$(UV) export --frozen --no-emit-project --format requirements-txt --no-header -o requirements/dev.lock
	$(UV) export --frozen --no-emit-project --no-dev --format requirements-txt --no-header -o requirements/runtime.lock

node_modules/.installed: package.json package-lock.json $(VENV)/.synced
	$(VENV)/bin/npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# lint-imports checks the layering contracts in pyproject.toml ([tool.importlinter]); a broken
# one fails naming the importing module, the imported one and the line.
lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=lambdas:. $(VENV)/bin/lint-imports --no-cache

typecheck: dev
	$(VENV)/bin/mypy

unit: dev
	$(PY) -m pytest tests/unit tests/emulator -q

integration: dev
	$(PY) -m pytest tests/integration -q

# One attack test per threat of docs/security.md, through the real handlers and the stack's policies.
security: dev
	$(PY) -m pytest tests/security -q

infra: dev
	$(PY) -m pytest tests/infrastructure -q

e2e: dev
	$(PY) -m pytest tests/e2e -q

# synth before infra: the packaging tests then check the layer the synth really built.
test: lint typecheck unit integration security synth infra e2e

# `cdk synth` through the pinned CLI exactly as a deploy runs it, with every AWS credential
# source switched off: synthesis must never need an account. cdk-nag AwsSolutions runs inside
# (an unacknowledged finding fails synth). The dependency layer is built once per lock file
# and the code asset once per source state under build/, both with CPython 3.12 bytecode
# compiled by pyodide from node_modules (stacks/packaging.py).
NO_AWS := env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
# cdk.json leaves support_contact null so that a real deploy stops until the operator sets it;
# these check-only synths pass a demo contact in the reserved .invalid domain instead
# (stacks/config.py DEMO_SUPPORT_CONTACT_KEY; deploy and diff never do).
DEMO_CONTACT := -c ads-connect:demo-support-contact=https://support.demo.invalid/check-only-synth
synth: dev
	$(NO_AWS) cdk synth --quiet --output cdk.out $(DEMO_CONTACT)

# cdk-nag AwsSolutions alone (it also runs inside every synth): prints the findings report.
nag: dev
	$(NO_AWS) cdk synth --quiet --output cdk.out $(DEMO_CONTACT) && echo "cdk-nag AwsSolutions: no unacknowledged findings"

# Once per account and region, with the pinned CDK CLI: the CDK's staging bucket and roles.
# Extra CLI flags: make bootstrap ARGS="--profile prod aws://123456789012/us-east-1"
bootstrap: dev
	cdk bootstrap $(ARGS)

# Read-only checks that a deploy of STAGE can succeed (account, bootstrap, Lambda concurrency,
# leftovers of an earlier deployment, services in the region), each with its fix. What the
# configured stack needs comes from cdk.json through stacks/needs.py. Credentials: AWS_PROFILE.
preflight: dev
	@mkdir -p build
	@$(PY) -m stacks.needs --stage $(STAGE) > build/needs-$(STAGE).json
	@$(PY) -m cli --stage $(STAGE) preflight --needs build/needs-$(STAGE).json

# Deploy STAGE to the account of your current AWS credentials (docs/deploy.md: bootstrap first);
# preflight runs first and stops the deploy on a blocking finding. Settings live in cdk.json
# (context "ads-connect"). Extra CDK CLI flags: make deploy ARGS="--profile prod"
deploy: preflight
	cdk deploy -c stage=$(STAGE) --require-approval broadening $(ARGS)

diff: dev
	cdk diff -c stage=$(STAGE) $(ARGS)

# Keeps the table, the private-token key and the LWA secret (docs/deploy.md, step 6: adoption).
destroy: dev
	cdk destroy -c stage=$(STAGE) $(ARGS)

# The whole product on this machine: moto server + Amazon emulator + the real handlers behind a
# local gateway (docs/local-mode.md). Extra flags: make local ARGS="--port 9000 --state-dir .local-state"
local: dev
	$(PY) -m local $(ARGS)

# The operator CLI (docs/operator-cli.md) with the venv's Python: make cli ARGS="sessions create acme".
# Standard input passes through (credentials set reads the secret from it). make turns every
# non-zero exit into its own 2: scripts that read the CLI's exit codes run `.venv/bin/python -m cli`.
cli: dev
	@$(PY) -m cli $(ARGS)

# The two wheels (docs/decisions.md, "What consumers and operators install"): amazon-ads-connect-client (the consumer helper, built
# from lambdas/ads_connect/consumer) and amazon-ads-connect (the cli/ package, console script
# ads-connect). hatchling comes from the hash-pinned dev lock, so the build needs no network.
DIST ?= dist
dist: dev
	@rm -rf $(DIST)
	@for w in client operator; do \
	  $(UV) build --quiet --wheel --no-build-isolation --python $(PY) --out-dir $(DIST) wheels/$$w || exit 1; \
	done
	@ls $(DIST)/*.whl

# The admin API's OpenAPI document, generated from the admin resolver (a unit test fails when
# the committed file and the code differ: run this after changing an admin route or model).
openapi: dev
	cd lambdas && ../$(PY) -m ads_connect.handlers.admin_openapi > ../docs/admin-api.openapi.json

bench: dev
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules cdk.out build dist test-artifacts .mypy_cache .ruff_cache .pytest_cache
