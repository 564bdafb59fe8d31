# The README's two commands: `make run` (ingest corpus/ and open the chat UI) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run ingest test test-fast eval bench browser-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# the CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(BIN)/rag ingest corpus/

run: ingest
	$(BIN)/python ui.py

browser-deps:
	bash scripts/ensure-chromium.sh

test: install browser-deps
	$(BIN)/python -m pytest -q -rs

test-fast: install
	$(BIN)/python -m pytest -q -m "not browser and not slow"

eval: ingest
	$(BIN)/rag eval ../shared/eval/dev.jsonl --out docs/eval-dev.json

bench: install  # the quick part of docs/benchmarks.md (the 10k/100k scale runs take much longer)
	$(BIN)/python -m bench.compare
	$(BIN)/python -m bench.compare --distractor-chunks 1000
	$(BIN)/python -m bench.profile --ingest-chunks 300

clean:
	rm -rf $(VENV) .rag .pytest_cache
