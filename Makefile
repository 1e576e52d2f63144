# `make run` serves the whole service; `make test` runs the whole test suite.
# Both create .venv with a Python >= 3.12 and install what is missing first.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

PYTHON_FOR_VENV := $(shell \
	for c in python3.13 python3.12; do \
	  p=$$(command -v $$c 2>/dev/null) && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; exit 0; }; \
	done; \
	root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
	for p in $$(ls -d $$root/versions/3.1[3-9]*/bin/python3 $$root/versions/3.12*/bin/python3 2>/dev/null | sort -rV); do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; exit 0; }; \
	done)

.PHONY: run test bench venv clean chromium

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@if [ ! -x $(PY) ]; then \
	  if [ -z "$(PYTHON_FOR_VENV)" ]; then \
	    echo "No Python 3.12 or newer found (tried python3.13, python3.12 and pyenv's versions)." >&2; \
	    echo "Install one, e.g. 'pyenv install 3.13', then run make again." >&2; exit 1; \
	  fi; \
	  $(PYTHON_FOR_VENV) -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) manage.py migrate --noinput
	exec $(PY) manage.py serve --port $(PORT)

# The browser tests drive Debian's chromium package (Playwright never downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium package: sudo apt-get install chromium" >&2; exit 1; \
	  fi; }

# Tests run against PostgreSQL and Redis: DATABASE_URL and REDIS_URL default to the local ones.
test: venv chromium
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/contacts} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) bench/bulk.py

clean:
	rm -rf $(VENV) .pytest_cache
