# Two entry points from a fresh clone, on a CPU-only machine:
#   make run    set up .venv and run a full teacher -> student distillation (embedded CSBM data)
#   make test   set up .venv (+ torch-scatter from source, the design's scatter kernels, so both
#               scatter backends are tested) and run the linters, the tests and the docs build
#   make test-ext   build PyG's other extensions, torch-sparse (PyG's NeighborLoader) and
#               torch-cluster (its random walks), and run the fast tier again on their paths
#   make test-fast  the edit-test loop: the suite without its slow tier (see below)
# All are idempotent: each step leaves a stamp in .venv and is skipped once done.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
PIP    := $(BIN)/python -m pip --disable-pip-version-check
SHARED ?= ../shared/datasets

.PHONY: run test test-fast test-ext setup setup-scatter setup-ext docs-cli bench-node bench-link bench-speed clean-venv

run: setup
	@echo ">> g2m run: GCN teacher -> MLP students on the embedded CSBM graph (a miniature of Cora), 3 seeds"
	$(BIN)/g2m run --dataset csbm --teacher gcn --methods mlp,glnn,ffg2m --seeds 3 --out results/quickstart
	@echo "What you see: test accuracy of a GCN teacher (it reads the graph), a plain MLP (node features only)"
	@echo "and two MLPs distilled from the teacher (glnn: its soft labels; ffg2m: also its low- and high-frequency"
	@echo "knowledge along edges). The distilled MLPs recover the graph's accuracy with no neighbour fetched at"
	@echo "inference; the README has the same table on real Cora, CiteSeer and more."

test: setup setup-scatter
	@echo ">> ruff (lint and format) and mypy"
	$(BIN)/ruff check g2m cli tests lab conftest.py
	$(BIN)/ruff format --check g2m cli tests lab conftest.py
	$(BIN)/mypy
	@echo ">> import-linter: imports flow one way, from the data up to the command line"
	PYTHONPATH=. $(BIN)/lint-imports
	@echo ">> running the test suite (G2M_SHARED_DATASETS=$(SHARED))"
	G2M_SHARED_DATASETS=$(SHARED) G2M_REQUIRE_TORCH_SCATTER=1 $(BIN)/python -m pytest
	@echo ">> building the docs site (mkdocs build --strict: a broken link or docstring fails)"
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $$(mktemp -d)

# The edit-test loop: every unit test, none of the tests marked slow (end-to-end CLI runs,
# several processes, real datasets). `make test` runs both tiers; CI runs `make test`.
test-fast: setup
	G2M_SHARED_DATASETS=$(SHARED) $(BIN)/python -m pytest -m "not slow"

setup: $(VENV)/.g2m-installed

# The extension paths: with torch-sparse and torch-cluster installed, `auto` picks PyG's sampler
# and torch-cluster's walks, and the tests that compare the engines require both (CI runs this too).
test-ext: setup setup-scatter setup-ext
	G2M_SHARED_DATASETS=$(SHARED) G2M_REQUIRE_TORCH_SCATTER=1 G2M_REQUIRE_PYG_EXTENSIONS=1 $(BIN)/python -m pytest -m "not slow"

setup-scatter: $(VENV)/.scatter-installed

setup-ext: $(VENV)/.ext-installed

$(BIN)/python:
	@echo ">> creating virtualenv $(VENV)"
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch-installed: | $(BIN)/python
	@echo ">> installing CPU $(TORCH) (local wheel; pinned so no CUDA build is ever pulled)"
	$(PIP) install -qq $(TORCH)
	@echo "$(TORCH)" > $(VENV)/constraints.txt
	@touch $@

$(VENV)/.g2m-installed: pyproject.toml $(VENV)/.torch-installed
	@echo ">> installing g2m (editable) with its dependencies, pytest, the docs tools and ruff"
	$(PIP) install -qq -c $(VENV)/constraints.txt -e '.[test,docs,lint]'
	@touch $@

# PyG's compiled extensions, built from source against the installed torch (no wheels for
# torch 2.13 on the index). Cold pip cache, 2 cores: see the README for the build times.
# pip caches the wheels, so later set-ups take seconds.
$(VENV)/.scatter-installed: $(VENV)/.torch-installed
	@echo ">> building torch-scatter against the installed torch (first time: see docs/development.md)"
	$(PIP) install -qq -c $(VENV)/constraints.txt --no-build-isolation 'torch-scatter>=2.1'
	@touch $@

$(VENV)/.ext-installed: $(VENV)/.scatter-installed
	@echo ">> building torch-sparse and torch-cluster against the installed torch (first time: see docs/development.md)"
	$(PIP) install -qq -c $(VENV)/constraints.txt --no-build-isolation 'torch-sparse>=0.6.18' 'torch-cluster>=1.6.3'
	@touch $@

# Benchmarks read ../shared/datasets through a writable temporary copy (PyG writes processed/ there).
COPY_DATA = tmp=$$(mktemp -d) && cp -r $(SHARED)/. $$tmp && chmod -R u+w $$tmp && \
	echo ">> copied $(SHARED) to $$tmp"

bench-node: setup
	@echo ">> node-distillation tables, GLNN protocol, Cora and CiteSeer, 10 seeds (long: a benchmark, not a test)"
	@$(COPY_DATA) && $(BIN)/python -m lab node-table --protocol glnn --seeds 10 \
		--cells cora/sage/transductive,citeseer/sage/transductive,cora/sage/inductive,citeseer/sage/inductive \
		--data-root $$tmp --cache-dir results/teacher-cache --out results/node-table

bench-link: setup
	@echo ">> link-distillation table on real Cora and CiteSeer (long: a benchmark, not a test)"
	@$(COPY_DATA) && $(BIN)/python -m lab link-table --data-root $$tmp --cache-dir results/teacher-cache --out results/link-table
	$(BIN)/python -m lab rank-loss | tee results/link-table/rank_loss.json

bench-speed: setup
	@echo ">> latency (1e6-node products-like graph) and scale (1e4..2.5e6 nodes) benchmarks, 1 thread"
	$(BIN)/g2m bench latency --threads 1 --out results/latency
	$(BIN)/python -m lab scale --threads 1 --out results/scale

clean-venv:
	rm -rf $(VENV)

# docs/cli-reference.md is generated from the Typer app (a test checks that it is current)
docs-cli: setup
	$(BIN)/typer g2m.cli.main utils docs --name g2m --output docs/cli-reference.md
