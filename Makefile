# One place for the commands the README and CI use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv demo test lint bench

$(BIN)/cru: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/cru

venv: $(BIN)/cru

# The main job on the embedded default: the fixture mailbox into var/cru.db, then a search.
demo: venv
	$(BIN)/cru ingest
	$(BIN)/cru search palantir
	$(BIN)/cru thread 995/24

lint: venv
	$(BIN)/ruff check .

test: venv lint
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python bench/ingest.py
