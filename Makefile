# Habeas — every target creates .venv and installs what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo demo-full test test-postgres test-e2e lint bench serve install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The comparison libraries (pymerkle, Splink, recordlinkage) are heavy: only `make bench` needs them.
BENCH_STAMP := $(VENV)/.bench-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.bench-*
	touch $(BENCH_STAMP)

install: $(STAMP)

## make demo [PORT=8000] [HOST=127.0.0.1]: install, migrate the embedded SQLite database,
## load the demo, serve on http://HOST:PORT/
demo: $(STAMP)
	$(BIN)/habeas demo --scale small --host $(HOST) --port $(PORT)

demo-full: $(STAMP)
	$(BIN)/habeas demo --scale full --host $(HOST) --port $(PORT)

serve: $(STAMP)
	$(BIN)/habeas serve --host $(HOST) --port $(PORT)

## make test: the whole suite on SQLite (PostgreSQL too when HABEAS_TEST_DATABASE_URL is set)
test: $(STAMP)
	scripts/pytest.sh $(PYTEST_ARGS)

test-postgres: $(STAMP)
	HABEAS_TEST_DATABASE_URL=$(PG_URL) scripts/pytest.sh $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(BENCH_STAMP)
	HABEAS_HOME=$$(mktemp -d) $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
