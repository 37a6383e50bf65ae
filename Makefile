# The Price of a Token: build, test and run the book.
#   make book   create .venv if missing, install, execute every notebook, build _build/html
#   make test   install if needed, lint, strict forced build, then every test (one pytest run)
# Other targets: lab, serve, fmt, clean, bench, student, grade, pdf, help.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The install stamps: re-install only when the pins or the package metadata change.
# INSTALLED: everything (requirements.txt); LAB_INSTALLED: the notebooks' runtime and
# JupyterLab only (requirements-lab.txt, a pinned subset). A full install satisfies both.
INSTALLED := $(VENV)/.installed
LAB_INSTALLED := $(VENV)/.installed-lab
PIP_INSTALL = $(BIN)/python -m pip install --quiet --disable-pip-version-check
SITE := _build/html
# Notebook folders that nbmake executes (tests/test_toc.py checks they match _toc.yml).
NOTEBOOK_DIRS := chapters exercises
JB_STRICT := -W -n --keep-going
PORT ?= 8000
# make grade: the folder of submissions, seconds per notebook, notebooks run at once, and
# whether to refuse grading without the sandbox (auto: warn and go on; require: refuse).
SUBMISSIONS ?=
GRADE_TIMEOUT ?= 120
GRADE_JOBS ?= 2
GRADE_SANDBOX ?= auto
KIT := _build/student
# pytest-xdist workers for `make test` (notebooks run in parallel; 0 = no xdist).
PYTEST_WORKERS ?= 2
# Hash of the library's source and data: Sphinx re-reads (and, in inline execution mode,
# re-executes) only the pages whose own source changed, so a change here must throw the
# doctrees away (and the old execution cache, if one is left from the cache mode).
LIB_HASH_FILE := _build/.lib-hash
LIB_HASH = $$(find lib -type f \( -name '*.py' -o -name '*.toml' -o -name '*.json' \
  -o -name '*.csv' -o -name '*.yaml' \) -not -path '*/__pycache__/*' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)

.PHONY: help install book test lint lab serve fmt clean bench student grade pdf mutate

help:
	@echo "make book     build the site into $(SITE) (creates .venv and installs on first run)"
	@echo "make test     lint + strict forced build + every test (unit, doctest, nbmake, browser, links)"
	@echo "make lab      JupyterLab on the notebooks (widgets work there)"
	@echo "make serve    serve $(SITE) on http://127.0.0.1:$(PORT)/"
	@echo "make fmt      ruff: fix what it can and format (notebooks included)"
	@echo "make student  class kit into $(KIT)/: notebooks without solutions, a wheel without answers"
	@echo "make grade    SUBMISSIONS=dir: run submitted notebooks sandboxed, write dir/grades.csv"
	@echo "make pdf      the whole book with solutions as one PDF in _build/pdf/"
	@echo "make bench    timing benchmarks of the library and the explorer"
	@echo "make mutate   mutation testing of the physics with mutmut (about 20 minutes)"
	@echo "make clean    remove build outputs and caches (keeps .venv)"

install: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-lab.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt -e .
	@touch $@ $(LAB_INSTALLED)

$(LAB_INSTALLED): requirements-lab.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements-lab.txt -e .
	@touch $@

# Drop the doctrees (and any execution cache) when lib/ changed since the last build.
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

# Forced execution: the doctrees (and any execution cache) are deleted, so every notebook
# runs against the current lib/ (and the fresh doctrees then serve the next `make book`).
test: $(INSTALLED) lint
	rm -rf $(SITE) _build/.jupyter_cache _build/.doctrees
	@mkdir -p _build; echo "$(LIB_HASH)" > $(LIB_HASH_FILE)
	$(BIN)/jupyter-book build . $(JB_STRICT)
	$(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile \
	  --doctest-modules lib/tokenmath --nbmake --nbmake-timeout=300 $(NOTEBOOK_DIRS) tests

# lab-settings/overrides.json changes JupyterLab's defaults (a reader's own settings still
# win): every cell rendered, not only those on screen, so Run All evaluates the {eval} roles
# of every markdown cell (jupyterlab-myst skips cells not yet drawn); no news or update
# checks (they would go to the internet).
LAB_SETTINGS := $(CURDIR)/lab-settings

lab: $(LAB_INSTALLED)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) \
	  --LabApp.app_settings_dir=$(LAB_SETTINGS)

serve:
	@test -f $(SITE)/index.html || $(MAKE) book
	@echo "Serving $(SITE) on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(SITE) $(PORT)

fmt: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

student: $(LAB_INSTALLED)
	$(BIN)/python tools/student_edition.py --out $(KIT)
	@echo "Class kit (no solutions, no answer key): $(CURDIR)/$(KIT); see teaching/teachers.md"

# Grades with the kit the students have (built first if there is none).
ifneq ($(filter grade,$(MAKECMDGOALS)),)
ifeq ($(strip $(SUBMISSIONS)),)
$(error usage: make grade SUBMISSIONS=folder (one folder per student, holding their notebooks))
endif
endif
grade: $(LAB_INSTALLED)
	@ls $(KIT)/wheels/tokenmath-*.whl >/dev/null 2>&1 || $(MAKE) student
	$(BIN)/python tools/grade.py "$(SUBMISSIONS)" --kit $(KIT) \
	  --timeout $(GRADE_TIMEOUT) --jobs $(GRADE_JOBS) --sandbox $(GRADE_SANDBOX)

pdf: $(INSTALLED)
	@$(forget_stale_outputs)
	$(BIN)/python tools/pdf_edition.py

bench: $(INSTALLED)
	@ran=0; \
	for script in tools/bench.py tools/bench_explorer.py tools/bench_prefill_explorer.py; do \
	  if [ -f $$script ]; then echo "== $$script"; $(BIN)/python $$script; ran=1; fi; \
	done; \
	test $$ran = 1 || { echo "no benchmark scripts under tools/"; exit 1; }

# Mutation testing of roofline, specs, serving and _validate (tools/mutate.py explains the
# scratch layout mutmut needs). MUTATE_WORKERS parallel runs.
MUTATE_WORKERS ?= 1
mutate: $(INSTALLED)
	$(BIN)/python tools/mutate.py --workers $(MUTATE_WORKERS)

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
