# zego-media-tasks: the two set-up commands are `make run` and `make test`.
# Everything is installed from pinned requirements into ./.venv (project) and ./.tools/sam (SAM CLI).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
ARGS ?=

export PYTHONPATH := $(CURDIR)/layers/shared:$(CURDIR)
# SAM CLI: no telemetry, no update checks (CI and air-gapped laptops).
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_DISABLE_UPDATE_CHECK := 1

.PHONY: help venv tools lint typecheck template build pytest test-future unit integration e2e test run bench soak smoke deploy security audit clean

help:
	@echo "make run    - the whole pipeline on this machine (AWS emulator + ZEGO simulator)"
	@echo "make test   - ruff, mypy, template lint, sam build, pytest"
	@echo "make bench  - benchmarks, numbers to bench/results.json"
	@echo "make soak   - chaos soak of the local pipeline"
	@echo "make deploy - sam build + sam deploy (samconfig.toml), asking only for the ZEGO AppId and secret ARN"
	@echo "make smoke  - acceptance checks of a deployed stack (STACK=<name>) or, without STACK, of the local one"

$(VENV)/.stamp: requirements/dev.txt layers/shared/requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	@touch $@

$(SAM_VENV)/.stamp: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements/sam.txt
	@touch $@

# checkov, like SAM, in its own venv: its pins conflict with ours.
$(CHECKOV_VENV)/.stamp: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements/checkov.txt
	@touch $@

venv: $(VENV)/.stamp
tools: $(SAM_VENV)/.stamp

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy layers/shared/zego_media_tasks functions devstack tests soak bench smoke deploy

# cfn-lint, then SAM's own translation (catches unknown SAM properties that the linters accept; the region
# only fills pseudo parameters, no AWS call is made).
template: venv tools
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --template-file template.yaml
	$(SAM) validate --region us-east-1 --template-file template.yaml

# The layer is built for the Lambda platform (python3.13, arm64) by layers/shared/Makefile, with the SAM
# venv's pip; --cached skips code directories that did not change since the last build.
build: tools
	LAYER_BUILD_PYTHON=$(CURDIR)/$(SAM_VENV)/bin/python $(SAM) build --cached --template-file template.yaml

pytest: venv
	$(BIN)/pytest

# The whole suite with the wall clock 400 days ahead (tests/conftest.py --clock-offset-days): a test that
# passes today and fails then depends on today's date. Monotonic time and sleeps stay real.
test-future: venv
	$(BIN)/pytest --clock-offset-days=400

test: lint typecheck template build security pytest

# Static security scans, all offline (cfn-lint runs in `template`; the secret-in-logs and template tests run
# in `pytest`). bandit: any finding fails (skips and their reasons: [tool.bandit] in pyproject.toml).
# checkov: any failed check fails; suppressions live in template.yaml with a written reason; --skip-download
# keeps it offline. The dependency audit needs a network service, so it is its own command: `make audit`.
security: venv $(CHECKOV_VENV)/.stamp
	$(BIN)/bandit -c pyproject.toml -q -r layers functions devstack soak smoke deploy $(wildcard bench)
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --compact --quiet
	@echo "security: bandit and checkov passed; the dependency audit is the separate command 'make audit' (not run here)."

# pip-audit with its default vulnerability service, over each fully pinned requirement file (--no-deps: no
# resolver). --strict: a package that cannot be audited fails the run as a vulnerability does, so an
# unreachable service fails loudly and can never pass for "no known vulnerabilities".
AUDITED_REQUIREMENTS := layers/shared/requirements.txt requirements/dev.txt requirements/sam.txt requirements/checkov.txt
audit: venv
	@for file in $(AUDITED_REQUIREMENTS); do \
		echo "pip-audit --strict $$file"; \
		$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r $$file || { \
			echo "make audit FAILED on $$file: a known vulnerability, or the audit service could not be reached (see above)." >&2; \
			exit 1; \
		}; \
	done

run: venv
	$(BIN)/python -m devstack $(ARGS)

# 1,000 tasks through the local pipeline under injected faults, duplicates and crashes (about 5 minutes);
# writes soak/report.json and docs/soak.md, exits 1 if a criterion fails. ARGS=--quick: 60 tasks.
soak: venv
	$(BIN)/python -m soak $(ARGS)

# The four benchmarks of docs/benchmarks.md (about 11 minutes on 2 cores, loopback only): writes
# bench/results.json and bench/*.png and refreshes the figures block of docs/benchmarks.md.
bench: venv
	$(BIN)/python -m bench

# Deploy (README, "Deploy to AWS"): sam build, then sam deploy with the samconfig.toml profile CONFIG_ENV. It
# asks only for the parameters without a default the profile does not set (the ZEGO AppId and the
# ServerSecret's ARN; ZEGO_APP_ID / ZEGO_SERVER_SECRET_ARN answer them), see deploy/. ARGS go to sam deploy.
# botocore reads the region from AWS_DEFAULT_REGION (or the profile), not AWS_REGION: an AWS_REGION alone is
# passed on as AWS_DEFAULT_REGION.
CONFIG_ENV ?= default
DEPLOY_REGION := $(if $(AWS_DEFAULT_REGION),,$(if $(AWS_REGION),AWS_DEFAULT_REGION=$(AWS_REGION)))
deploy: venv build
	@overrides="$$($(DEPLOY_REGION) $(BIN)/python -m deploy --config-env $(CONFIG_ENV))" || exit 1; \
	echo "$(SAM) deploy --config-env $(CONFIG_ENV) --parameter-overrides $$overrides $(ARGS)"; \
	$(DEPLOY_REGION) $(SAM) deploy --config-env $(CONFIG_ENV) --parameter-overrides $$overrides $(ARGS)

# The acceptance suite (smoke/): with STACK=<name> it checks that deployed stack, found by its CloudFormation
# Outputs, with the usual AWS credentials and region (REGION=... overrides the region); without STACK it
# starts the local stack and checks that (tests/e2e/test_smoke.py runs the same inside `make test`).
# One clear line and exit 1 when it cannot check anything or a check fails.
STACK ?=
REGION ?=
smoke: venv
	$(DEPLOY_REGION) $(BIN)/python -m smoke $(if $(STACK),--stack $(STACK)) $(if $(REGION),--region $(REGION))

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
