# Two commands on a fresh machine with only Python and make:
#   make demo   creates .venv, installs modelreg, runs it on registry_example/
#   make test   installs the dev tools, runs the tests, ruff and mypy
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The demo works on a copy so the committed example is never modified.
DEMO_DIR := $(VENV)/demo-registry

.PHONY: demo test test-fast lint typecheck bench clean

$(BIN)/modelreg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: $(BIN)/modelreg
	$(BIN)/python -m pip install --quiet -e '.[dev,mlflow]'
	@touch $@

demo: $(BIN)/modelreg
	@PATH="$(CURDIR)/$(BIN):$$PATH" sh scripts/demo.sh "$(CURDIR)/$(DEMO_DIR)"

# The tests start thousands of modelreg processes: compile the sources once, or (with
# PYTHONDONTWRITEBYTECODE set, as in CI shells) every process compiles every module again.
# pytest-xdist runs them in TEST_WORKERS processes (one per core of CI's 2): most tests wait
# on one modelreg or git process at a time. --dist loadgroup keeps the groups that
# tests/conftest.py marks (the slow stress tests; each module's tests sharing a
# module-scoped fixture) in one worker each; --no-loadscope-reorder starts the slow group
# (collected first) before the others. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

test: $(VENV)/.dev-installed
	$(BIN)/python -m compileall -q src
	$(PYTEST) --durations=25
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test-fast: $(VENV)/.dev-installed
	$(BIN)/python -m compileall -q src
	$(PYTEST) -m "not slow"

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# make bench [COMPARE_MLFLOW=1] [LARGE=1] [ARGS="--quick ..."] [QUICK=1]: see bench/README.md
bench: $(BIN)/modelreg
	$(BIN)/python bench/run.py $(if $(COMPARE_MLFLOW),--compare-mlflow) $(if $(LARGE),--large) $(BENCH_ARGS) $(ARGS)
	$(BIN)/python bench/push.py $(if $(QUICK),--quick)
	$(BIN)/python bench/completion.py $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
