# The two set-up commands of the README: `make run` (default scenario) and `make test`.
# Each creates .venv on first use and installs what it needs; later calls reuse it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.py constraints/cpu.txt | cksum | cut -d' ' -f1)
SCENARIO ?= scenarios/default.toml
ARGS ?=
JOBS ?= 2

.PHONY: run test lint bench bench-learned clean

$(STAMP):
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints/cpu.txt -e ".[dev,ml]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/basketgym run $(SCENARIO) --jobs $(JOBS) $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sessions.py --cases default,1M-shoppers
	$(BIN)/python benchmarks/bench_rankers.py

bench-learned: $(STAMP)
	$(BIN)/python benchmarks/bench_learned.py

clean:
	rm -rf $(VENV) runs .pytest_cache
