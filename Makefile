# The Price of a Token: build, test and run the book.
#   make book   create .venv if missing, install, execute every notebook, build _build/html
#   make test   install if needed, lint, strict forced build, then every test (one pytest run)
# Other targets: lab, serve, fmt, clean, bench, student, help.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The install stamp: re-install only when the pins or the package metadata change.
INSTALLED := $(VENV)/.installed
SITE := _build/html
# Notebook folders that nbmake executes (tests/test_toc.py checks they match _toc.yml).
NOTEBOOK_DIRS := chapters exercises
JB_STRICT := -W -n --keep-going
PORT ?= 8000
# pytest-xdist workers for `make test` (notebooks run in parallel; 0 = no xdist).
PYTEST_WORKERS ?= 2
# Hash of the library's source and data: the execution cache only sees notebook code, so a
# change here must throw the cache (and Sphinx's doctrees) away.
LIB_HASH_FILE := _build/.lib-hash
LIB_HASH = $$(find lib -type f \( -name '*.py' -o -name '*.toml' -o -name '*.json' \
  -o -name '*.csv' -o -name '*.yaml' \) -not -path '*/__pycache__/*' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)

.PHONY: help install book test lint lab serve fmt clean bench student

help:
	@echo "make book     build the site into $(SITE) (creates .venv and installs on first run)"
	@echo "make test     lint + strict forced build + every test (unit, doctest, nbmake, browser, links)"
	@echo "make lab      JupyterLab on the notebooks (widgets work there)"
	@echo "make serve    serve $(SITE) on http://127.0.0.1:$(PORT)/"
	@echo "make fmt      ruff: fix what it can and format (notebooks included)"
	@echo "make student  student edition (solutions removed) into _build/student/"
	@echo "make bench    timing benchmarks of the library and the explorer"
	@echo "make clean    remove build outputs and caches (keeps .venv)"

install: $(INSTALLED)

$(INSTALLED): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	@touch $@

# Drop the execution cache and doctrees when lib/ changed since the last build.
define forget_stale_outputs
	h=$(LIB_HASH); \
	if [ "$$(cat $(LIB_HASH_FILE) 2>/dev/null)" != "$$h" ]; then \
	  rm -rf _build/.jupyter_cache _build/.doctrees; \
	  echo "lib/ changed since the last build: every notebook will be re-executed"; \
	fi; \
	mkdir -p _build; echo "$$h" > $(LIB_HASH_FILE)
endef

book: $(INSTALLED)
	@$(forget_stale_outputs)
	$(BIN)/jupyter-book build . $(JB_STRICT)
	@echo
	@echo "The book is built. Open $(CURDIR)/$(SITE)/index.html"
	@echo "or run 'make serve' and visit http://127.0.0.1:$(PORT)/"

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Forced execution: the cache and doctrees are deleted, so every notebook runs against the
# current lib/ (and the fresh cache then serves the next `make book`).
test: $(INSTALLED) lint
	rm -rf $(SITE) _build/.jupyter_cache _build/.doctrees
	@mkdir -p _build; echo "$(LIB_HASH)" > $(LIB_HASH_FILE)
	$(BIN)/jupyter-book build . $(JB_STRICT)
	$(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile \
	  --doctest-modules lib/tokenmath --nbmake --nbmake-timeout=300 $(NOTEBOOK_DIRS) tests

lab: $(INSTALLED)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR)

serve:
	@test -f $(SITE)/index.html || $(MAKE) book
	@echo "Serving $(SITE) on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(SITE) $(PORT)

fmt: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

student: $(INSTALLED)
	@test -f tools/student_edition.py || { echo "tools/student_edition.py is missing"; exit 1; }
	$(BIN)/python tools/student_edition.py --out _build/student
	@echo "Student edition (solutions removed): $(CURDIR)/_build/student"

bench: $(INSTALLED)
	@ran=0; \
	for script in tools/bench.py tools/bench_explorer.py tools/bench_prefill_explorer.py; do \
	  if [ -f $$script ]; then echo "== $$script"; $(BIN)/python $$script; ran=1; fi; \
	done; \
	test $$ran = 1 || { echo "no benchmark scripts under tools/"; exit 1; }

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
