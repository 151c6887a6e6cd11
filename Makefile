# The two commands: `make run` (set up + full default pipeline) and `make test`.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: setup run test bench share pull status lock clean-venv

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $@

setup: $(STAMP)

# `make run` = validate params.yaml, then `dvc repro` (which runs Snakemake and records dvc.lock).
# `make run STUDY=parity` runs one study's Snakemake target only (not recorded in dvc.lock),
# through learnscope.pipeline like dvc repro does (run lock, stale locks cleared, outputs checked).
run: setup
	$(BIN)/python -m learnscope check params.yaml
ifdef STUDY
	$(BIN)/python -m learnscope.pipeline $(STUDY)
else
	$(BIN)/dvc repro
endif

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m learnscope.bench

# Push results to the DVC remote (default: ~/.cache/learnscope/dvc-remote).
share: setup
	$(BIN)/dvc push

# dvc pull, naming any file the remote lacks (DVC names only its md5).
pull: setup
	$(BIN)/python -m learnscope.share pull

# What would rerun, and why.
status: setup
	$(BIN)/dvc status
	$(BIN)/snakemake --profile profiles/default -n

# Regenerate the pinned versions (after changing dependencies in pyproject.toml).
lock: setup
	$(BIN)/pip freeze --exclude-editable | grep -v -E '^(torch|learnscope)==' > requirements.lock

clean-venv:
	rm -rf $(VENV)
