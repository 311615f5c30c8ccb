# The one interface for humans and CI. `make test` sets everything up from nothing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV ?= $(shell command -v uv 2>/dev/null || echo $(VENV)/bin/uv)
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)


.PHONY: lock dev test lint typecheck unit integration infra e2e emulator-tests synth nag deploy diff bench local clean

dev: $(VENV)/.synced node_modules/.installed

# The committed lock files are hash-pinned requirement lists exported from uv's resolver
# (`make lock`); uv.lock itself stays out of git because it records download addresses.
$(VENV)/.synced: requirements/dev.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@test -x $(PY) || uv venv --quiet --python 3.11 $(VENV)
	uv pip sync --quiet --python $(PY) --require-hashes requirements/dev.lock
	@touch $@

lock:
	uv lock
	uv export --frozen --no-emit-project --format requirements-txt --no-header -o requirements/dev.lock
	uv export --frozen --no-emit-project --no-dev --format requirements-txt --no-header -o requirements/runtime.lock

node_modules/.installed: package.json package-lock.json $(VENV)/.synced
	$(VENV)/bin/npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: dev
	$(VENV)/bin/mypy

unit: dev
	$(PY) -m pytest tests/unit tests/emulator -q

integration: dev
	$(PY) -m pytest tests/integration -q

infra: dev
	$(PY) -m pytest tests/infrastructure -q

e2e: dev
	$(PY) -m pytest tests/e2e -q

test: lint typecheck unit integration infra synth e2e

# `cdk synth` through the pinned CLI exactly as a deploy runs it, with every AWS credential
# source switched off: synthesis must never need an account. cdk-nag AwsSolutions runs inside
# (an unacknowledged finding fails synth). The dependency layer is built once per lock file
# under build/ (stacks/packaging.py).
NO_AWS := env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
synth: dev
	$(NO_AWS) cdk synth --quiet --output cdk.out

# cdk-nag AwsSolutions alone (it also runs inside every synth): prints the findings report.
nag: dev
	$(NO_AWS) cdk synth --quiet --output cdk.out && echo "cdk-nag AwsSolutions: no unacknowledged findings"

# Deploy to the account of your current AWS credentials (docs/deploy.md: bootstrap first).
# Settings live in cdk.json (context "ads-connect"). Extra CLI flags: make deploy ARGS="--profile prod"
deploy: dev
	cdk deploy --require-approval broadening $(ARGS)

diff: dev
	cdk diff $(ARGS)

# The whole product on this machine: moto server + Amazon emulator + the real handlers behind a
# local gateway (docs/local-mode.md). Extra flags: make local ARGS="--port 9000 --state-dir .local-state"
local: dev
	$(PY) -m local $(ARGS)

bench: dev
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules cdk.out .mypy_cache .ruff_cache .pytest_cache
