# simreel — every target installs what it needs first (`setup`), so any of them
# works as the first command on a fresh machine. `make test` is exactly what CI runs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TORCH_PIN := torch==2.13.0

export SDL_VIDEODRIVER ?= dummy
export PYGAME_HIDE_SUPPORT_PROMPT ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK ?= 1

# Arguments for the stage targets, e.g. `make train ARGS="--seed 2"`.
ARGS ?=
TABLE ?= data/events/factory.parquet

.DEFAULT_GOAL := help
.PHONY: help setup lint format type contract pytest test train record render demo bench bench-tables bench-seeds clean

help: ## List every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z_-]*:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(STAMP) ## Create .venv and install simreel with its dev tools (fast when done)

# torch first, pinned: it installs the local CPU build. Installed later as a plain
# dependency, pip could choose a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "simreel needs Python >= 3.11; found " + sys.version.split()[0] + "; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH_PIN)
	$(BIN)/pip install --quiet -e '.[dev,pettingzoo]'
	@touch $(STAMP)

lint: setup ## ruff: style and common bugs
	$(BIN)/ruff check stages schemas domains tests examples
	$(BIN)/ruff format --check stages schemas domains tests examples

format: setup ## Reformat the code with ruff
	$(BIN)/ruff format stages schemas domains tests examples
	$(BIN)/ruff check --fix stages schemas domains tests examples

type: setup ## mypy on the packages
	$(BIN)/mypy

contract: setup ## import contract: the renderer never imports simulation code
	$(BIN)/lint-imports

pytest: setup ## The test suite
	$(BIN)/pytest -q

test: lint type contract pytest ## Everything CI checks

train: setup ## Train a policy with its domain's defaults (ARGS="--seed 1", ARGS="--domain cashier")
	$(BIN)/simreel train $(ARGS)

record: setup ## Record the committed model's episode to a new table under data/events/ (ARGS="--policy rules")
	$(BIN)/simreel record $(ARGS)

render: setup ## Render $(TABLE) (default: the demo's table, else the golden fixture) to data/movies/
	$(BIN)/simreel render $(if $(wildcard $(TABLE)),$(TABLE),data/fixtures/factory-v2.parquet) $(ARGS)

# The demo names its two files, so running it again replaces them (and nothing else).
demo: setup ## Record the committed model and render data/movies/factory.mp4
	$(BIN)/simreel record --out $(TABLE)
	$(BIN)/simreel render $(TABLE) --out data/movies/factory.mp4

bench: setup ## Print throughput figures (simulation, training, Ray, evaluation, rendering, big tables)
	$(BIN)/python -m stages.bench

bench-tables: setup ## Big-table figures up to 10^7 rows, and read whole up to 10^6 (temporary folder; minutes)
	$(BIN)/python -m stages.bench_tables --sizes 1e5,1e6,1e6x1000,1e6:1,1e7 --legacy

SEEDS ?= 0-9
bench-seeds: setup ## A sweep: the defaults until 28 items on each of SEEDS (minutes per seed)
	$(BIN)/simreel sweep --seeds "$(SEEDS)" --set stop_at=28

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
