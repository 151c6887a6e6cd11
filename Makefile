# The two commands: `make run` (set up + full default pipeline) and `make test`.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
REPORT := results/report/index.html
export PATH := $(BIN):$(PATH)

.PHONY: setup browser run test test-cluster bench share pull status report-check lock clean-venv

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $@

setup: $(STAMP)

# `make run` = validate params.yaml, then `dvc repro` (which runs Snakemake and records dvc.lock).
# `make run CORES=8` runs up to 8 jobs at once (the profile's default: 2).
# `make run PROFILE=slurm` submits every job to SLURM (profiles/slurm; `pip install -e '.[slurm]'`),
# `make run PROFILE=gpu` runs on a GPU workstation (profiles/gpu); DVC records either run alike.
# `make run STUDY=parity` runs one study's Snakemake target only (not recorded in dvc.lock),
# through learnscope.pipeline like dvc repro does (run lock, stale locks cleared, outputs checked).
run: setup
	$(BIN)/python -m learnscope check params.yaml
ifdef STUDY
	LEARNSCOPE_CORES=$(CORES) LEARNSCOPE_PROFILE=$(PROFILE) $(BIN)/python -m learnscope.pipeline $(STUDY)
else
	LEARNSCOPE_CORES=$(CORES) LEARNSCOPE_PROFILE=$(PROFILE) $(BIN)/dvc repro
endif

test: setup browser
	$(BIN)/python -m pytest -q

# The SLURM profile on a real single-node SLURM started here from Debian's packages (root):
# the tiny pipeline through snakemake-executor-plugin-slurm, byte-identical to a local run,
# every job in sacct; SLURM is stopped after. About 10 minutes; not part of `make test`.
test-cluster: setup
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[test,slurm]'
	$(BIN)/python -m pytest -q -s -m cluster tests/cluster

# Headless Chromium and chromedriver from Debian's packages, for the report's browser test
# (installed when missing and we may; otherwise that test says why it is skipped).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null \
	    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; }; \
	  else echo "make browser: chromium and chromedriver missing; install them (Debian: chromium chromium-driver)"; fi; \
	fi

bench: setup
	$(BIN)/python -m learnscope.bench

# Push results to the DVC remote (default: ~/.cache/learnscope/dvc-remote).
share: setup
	$(BIN)/dvc push

# dvc pull, naming any file the remote lacks (DVC names only its md5).
pull: setup
	$(BIN)/python -m learnscope.share pull

# What would rerun, and why, in plain words (learnscope status).
status: setup
	$(BIN)/learnscope status

# Load the report in headless Chromium (images render, no console error, no request off the
# machine) and save the screenshot the README shows.
report-check: setup browser
	$(BIN)/python -m learnscope.browser $(REPORT) --screenshot docs/report.png

# Regenerate the pinned versions (after changing dependencies in pyproject.toml).
lock: setup
	$(BIN)/pip freeze --exclude-editable | grep -v -E '^(torch|learnscope)==' > requirements.lock

clean-venv:
	rm -rf $(VENV)
