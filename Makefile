# zego-media-tasks: the two set-up commands are `make run` and `make test`.
# Everything is installed from pinned requirements into ./.venv (project) and ./.tools/sam (SAM CLI).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
ARGS ?=

export PYTHONPATH := $(CURDIR)/layers/shared:$(CURDIR)
# SAM CLI: no telemetry, no update checks (CI and air-gapped laptops).
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_DISABLE_UPDATE_CHECK := 1

.PHONY: help venv tools lint typecheck template build pytest unit integration e2e test run bench soak clean

help:
	@echo "make run    - the whole pipeline on this machine (AWS emulator + ZEGO simulator)"
	@echo "make test   - ruff, mypy, template lint, sam build, pytest"
	@echo "make bench  - benchmarks, numbers to bench/results.json"
	@echo "make soak   - chaos soak of the local pipeline"

$(VENV)/.stamp: requirements/dev.txt layers/shared/requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	@touch $@

$(SAM_VENV)/.stamp: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements/sam.txt
	@touch $@

venv: $(VENV)/.stamp
tools: $(SAM_VENV)/.stamp

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy layers/shared/zego_media_tasks functions devstack tests

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

test: lint typecheck template build pytest

run: venv
	$(BIN)/python -m devstack $(ARGS)

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
