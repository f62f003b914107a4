# Two-command setup: `make run` and `make test`. Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT ?= ghostmech-out

.PHONY: run test lint docs venv install install-test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The main job: the quick reproduction of everything implemented so far.
run: install
	$(BIN)/ghostmech reproduce all --quick --out $(OUT)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check --quiet src tests bench
	$(BIN)/lint-imports

# One test process per core (pytest-xdist); each runs XLA on one thread (import ghostmech).
test: install-test lint
	$(BIN)/python -m pytest -q -n auto --dist worksteal

# User guide + API reference (mkdocs); --strict turns every warning into an error.
$(VENV)/.installed-docs: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[docs]'
	touch $@

docs: $(VENV)/.installed-docs
	$(BIN)/mkdocs build --strict --quiet

bench: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(OUT)
