# LSAvto Node — the two commands of the README's quick start, and their parts.
#   make demo   set up .venv and run the product on a demo data dir (.demo-data)
#   make test   set up .venv with the test tools and run ruff, mypy and pytest
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DATA ?= .demo-data

.PHONY: demo test lint typecheck pytest system clean

$(BIN)/python:
	bash scripts/system-packages.sh base
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/lsavto demo --data $(DEMO_DATA)

system:
	bash scripts/system-packages.sh test

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test system
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) $(DEMO_DATA) .pytest_cache .mypy_cache .ruff_cache .hypothesis
