# salesbook: `make report` sets up and runs every workbook on the sample; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

# Python keeps each module it compiles (__pycache__, ignored by git): every test worker, kernel and run after the
# first reads salesbook and the tests compiled instead of compiling them again (about 2 s per test worker). Some
# machines turn that off for every program; not for ours.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help install report test test-fast browser postgres sample bench lab notebooks present lock clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install the pinned, verified versions

report: install ## run every workbook on data/sample; reports land in reports/<run>/index.html
	$(BIN)/salesbook run

# the tests run on every core (pytest-xdist); a module's shared run, a notebook's cells (one kernel, in order), a
# shape of the matrix stay on one worker, and the longest groups start first (tests/conftest.py: xdist keeps the
# collection's order with --no-loadscope-reorder); --durations prints the slowest, so growth shows in CI's output
XDIST := --dist loadgroup --no-loadscope-reorder
# make test's workers: one more than the cores, since its tests wait on Chromium, Spark's JVM, PostgreSQL and their
# own runs' kernels (two workers on 2 cores kept 1.3 of them busy: 13 min 10 s; three, 12 min 8 s)
TEST_WORKERS = $(shell $(BIN)/python -c "import os; print((os.cpu_count() or 1) + 1)")
test: install browser postgres ## the whole test suite: unit tests, end-to-end runs, every notebook under nbval
	SALESBOOK_BROWSER=required $(BIN)/python -m pytest -n $(TEST_WORKERS) $(XDIST) --durations=15 --nbval-lax \
	  tests notebooks \
	  --ignore=tests/notebooks  # the failing notebooks there are the runner tests' data, not tests

browser: ## headless Chromium for the report and workshop browser tests (Debian package; installs when root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: install Debian's chromium package for the browser tests"; fi; }

postgres: ## PostgreSQL's server for the database-source test, a throwaway cluster (Debian package; installs when root)
	@{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "postgresql not found: install Debian's postgresql package for the database-source test"; fi; }

test-fast: install ## hand-computed and unit tests only: no notebook, papermill run, server or browser
	SALESBOOK_TESTS=fast $(BIN)/python -m pytest -n auto $(XDIST) -m "not slow" tests

sample: install ## regenerate data/sample with the deterministic generator
	$(BIN)/salesbook sample

LINES ?= 1000000 10000000 50000000
bench: install ## the whole suite at 1M, 10M, 50M lines: time and memory per stage, SQL floor (writes benchmarks/data/)
	$(BIN)/python benchmarks/suite_benchmark.py --lines $(LINES)

lab: install ## open the workbooks in JupyterLab (jupytext saves each .ipynb and its .py together)
	$(BIN)/jupyter lab notebooks

notebooks: install ## after editing a workbook's .py (or .ipynb) outside JupyterLab: bring the other file in step
	$(BIN)/jupytext --sync notebooks/[0-9][0-9]_*.py

PORT ?= 8866
present: install ## workshop: overview and what-if as Voilà dashboards at http://127.0.0.1:$(PORT)/ (offline)
	$(BIN)/salesbook present --port $(PORT) $(ARGS)

lock: ## re-resolve the newest versions the ranges allow and write constraints.txt (then make test)
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -e ".[dev]" "sqlglot<30.18"
	{ grep "^#" constraints.txt; .venv-lock/bin/pip freeze --exclude-editable | grep -v salesbook; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .venv-lock

clean: ## remove caches and rendered reports (keeps .venv)
	rm -rf .cache reports/* .pytest_cache
