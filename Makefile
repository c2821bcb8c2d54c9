# One place for the commands the README and CI use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv demo digest-demo web-demo test lint bench

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

# The weekly digest of the fixture weeks, previewed (not sent) as the full police.uk copy and as the
# withheld copy a recipient outside caveat_domains would get.
digest-demo: venv
	$(BIN)/cru ingest --quiet
	$(BIN)/cru digest --week 2024-W50 --preview --as foi-team@force.police.uk
	$(BIN)/cru digest --week 2025-W13 --preview --as foi-team@force.police.uk
	$(BIN)/cru digest --week 2025-W13 --preview --as analyst@partner.example.org

# The officers' web app on the embedded default store: asks for a password for the account
# "officer" (12+ characters), then serves http://127.0.0.1:8080/ until Ctrl-C.
web-demo: venv
	$(BIN)/cru ingest --quiet
	$(BIN)/cru user list | grep -qx officer || $(BIN)/cru user add officer
	$(BIN)/cru serve

lint: venv
	$(BIN)/ruff check .

test: venv lint
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python bench/ingest.py
