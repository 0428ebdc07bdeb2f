# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
RAG    := $(VENV)/bin/rag
STAMP  := $(VENV)/.installed
INDEX  ?= index
HOST   ?= 127.0.0.1
PORT   ?= 7860
PYTEST_ARGS ?=

.PHONY: install run test test-unit lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# Pinned CPU wheel first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Build the environment, ingest the bundled corpus (incremental), start the app.
run: install
	$(RAG) ingest corpus/ --index $(INDEX) || echo "some files could not be ingested (listed above); continuing"
	$(RAG) serve --index $(INDEX) --host $(HOST) --port $(PORT)

## Build the environment and run the whole test suite (unit + integration).
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

## Only the fast unit tests (fake models).
test-unit: install
	$(PY) -m pytest tests/unit -q

lint: install
	$(VENV)/bin/ruff check rag ui tests

clean:
	rm -rf $(VENV) .pytest_cache
