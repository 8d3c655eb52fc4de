# The course's few commands. Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP_QUIET ?= -q
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip.conf on some machines lists index folders that may be absent: hide those warnings only
QUIET_PIP := { grep -v '^WARNING: Location' || true; }

.PHONY: lab test grade merge release nbgrader solutions fixtures bench lint clean

# (Re)install when the pins change; the CPU build of torch comes from the pinned version.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install $(PIP_QUIET) --no-deps -e . 2>&1 | $(QUIET_PIP)
	$(PY) -c "import numpy, scipy, matplotlib, ipywidgets, nbgrader, torch, sklearn, playwright, xdist, helpers, autograde, solutions"
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

# Two workers by default, one test file each at a time (TEST_JOBS=1: one process)
TEST_JOBS ?= 2
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadfile

# make grade SUBMISSIONS=path/to/submissions [STRICT=1]  ->  gradebook.csv, skipped.csv and feedback/
# (STRICT=1: exit 1 when the class folder looks wrong)
SUBMISSIONS ?= submissions
grade: $(STAMP)
	$(PY) -m autograde grade $(SUBMISSIONS) --out gradebook.csv $(if $(STRICT),--strict)

# make merge SHARDS="grades/shard-*.csv" [PARTIAL=1]  ->  gradebook.csv from the shards' gradebooks
# (it fails when a shard or a shard's student is missing; PARTIAL=1 merges what there is)
SHARDS ?= grades/shard-*.csv
merge: $(STAMP)
	$(PY) -m autograde merge gradebook.csv $(SHARDS) $(if $(PARTIAL),--partial)

# make release OUT=build/release  ->  the student bundle (no solutions, no hidden tests)
OUT ?= build/release
release: $(STAMP)
	$(PY) -m autograde release $(OUT)

# make nbgrader COURSE=build/nbgrader  ->  an nbgrader course folder (config and source notebooks)
COURSE ?= build/nbgrader
nbgrader: $(STAMP)
	$(PY) -m autograde nbgrader $(COURSE)

# Solved notebooks (stubs replaced by the reference source) in build/solved/
solutions: $(STAMP)
	$(PY) -m autograde solve build/solved

# Regenerate the visible-check fixtures from solutions/ (a test fails when they are stale)
fixtures: $(STAMP)
	$(PY) -m autograde fixtures

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf build .pytest_cache
