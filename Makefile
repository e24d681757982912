# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run   - install, migrate the embedded SQLite database, load the 六安 demo data (into an empty catalogue
#                only: edits survive a restart), serve on :8000
#   make test  - install, lint (ruff, mypy) and run the whole test suite (again on PostgreSQL when TEST_DATABASE_URL is set)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint test-sqlite test-postgres bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/jiedui db upgrade
	$(BIN)/jiedui demo load
	$(BIN)/jiedui serve --host $(HOST) --port $(PORT)

test: install lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test-sqlite: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-postgres: install
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		JIEDUI_TEST_DB=postgres $(BIN)/python -m pytest -q -p no:cacheprovider --ignore=tests/solver; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL pass skipped"; fi

bench: install
	$(BIN)/python benchmarks/bench_solver.py
	$(BIN)/python benchmarks/bench_import.py

clean:
	rm -rf $(VENV) var build *.egg-info
