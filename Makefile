# `make run` serves the ledger on var/ledger.db (HOST= and PORT= to choose where); `make test` runs the whole suite.
# The first use of either creates .venv and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench clean browser compose

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: $(STAMP)
	$(BIN)/ledger serve --host $(HOST) --port $(PORT)

# The dashboard's browser test drives Debian's chromium (Playwright never downloads a browser):
# installed here when missing and run as root, as CI is. Elsewhere that test skips, unless CI is set.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) \
	      || echo "could not install chromium: the dashboard's browser test will not run"; \
	  else echo "chromium is not installed (apt-get install chromium, as root): the dashboard's browser test will skip"; fi; }

# tests/test_container.py checks docker-compose.yml with `docker compose config` (no engine needed):
# Debian's docker-compose is installed when no compose is there and run as root, as chromium is.
compose:
	@docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose) \
	      || echo "could not install docker-compose: the compose file's check will not run"; \
	  else echo "docker compose is not installed (apt-get install docker-compose, as root): the compose file's check will skip"; fi; }

test: $(STAMP) browser compose
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
