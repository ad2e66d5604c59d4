# Every target sets up .venv itself, so a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.run-installed
BENCH_STAMP := $(VENV)/.bench-installed
DATA_DIR ?= data
# make bench BENCH_SIZES=10000,50000 for the big mirror; BENCH_PROFILE=0 skips the profile.
BENCH_SIZES ?= 1000,10000
BENCH_REPEATS ?= 3
BENCH_PROFILE ?= 10000

.DEFAULT_GOAL := help
.PHONY: help install demo test test-fast lint format refresh docs bench bench-retention bench-aged bench-archive clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The demo and a refresh need modelcat alone (and openpyxl, for the README's xlsx export):
# a fresh clone's `make demo` installs 0.57 GB, not the 0.93 GB of the dev tools.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[xlsx]'
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv with modelcat and the dev tools installed

demo: $(RUN_STAMP) ## Serve the bundled mirror on 127.0.0.1, refresh twice (the second over edits), show history
	$(BIN)/python -m modelcat.demo --data-dir $(DATA_DIR)/demo

test: lint test-fast ## What CI runs: lint, types, layers, the unit tests, then the rest
	$(BIN)/pytest -m "e2e or slow"

test-fast: $(STAMP) ## The unit tests only (not e2e, not slow): about a minute
	$(BIN)/pytest -m "not e2e and not slow"

lint: $(STAMP) ## ruff (lint and format), mypy, and the layers' import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

refresh: $(RUN_STAMP) ## Refresh the catalog from the live site (polite defaults)
	$(BIN)/modelcat refresh --data-dir $(DATA_DIR)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## Benchmark crawl, refresh and queries on synthetic mirrors (docs/benchmarks.md)
	$(BIN)/python -m bench.run --sizes $(BENCH_SIZES) --repeats $(BENCH_REPEATS) --profile $(BENCH_PROFILE)

bench-retention: $(BENCH_STAMP) ## Disk and time over 45 scheduled refreshes of 2,000 pages with --keep 30
	$(BIN)/python -m bench.retention --pages 2000 --runs 45 --keep 30

bench-archive: $(BENCH_STAMP) ## Archive put, intact check and --keep prune at 10,000 pages
	$(BIN)/python -m bench.archive --pages 10000 --repeats 3

bench-aged: $(BENCH_STAMP) ## The next run after 40 runs and after two years (4,380), 2,000 pages
	$(BIN)/python -m bench.aged --pages 2000 --base 40 --runs 4380

docs: $(STAMP) ## Rewrite the README's data contract from transforms/contract/
	$(BIN)/python -m transforms.contract README.md

clean: ## Remove .venv, caches and generated data (keeps data/README.md)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find $(DATA_DIR) -mindepth 1 ! -name README.md -exec rm -rf {} +
