# Two commands do all the set-up on a fresh Debian 12 / Ubuntu machine with Python 3.11:
#   make run    set up and start the demo (web SMS simulator) on http://127.0.0.1:8000/simulator
#   make test   set up and run the whole test suite (SQLite; set RELAIS_TEST_DATABASE_URL for PostgreSQL)

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PEERS = tests/peers

.PHONY: run test check system-deps peers bench clean

run: $(VENV)/.installed
	$(BIN)/relais demo

test: $(VENV)/.installed peers
	$(BIN)/relais flows check
	$(BIN)/pytest $(PYTEST_ARGS)

check: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/relais flows check

# Debian packages the tests drive: Chromium (console end-to-end), Node.js and npm (Twilio mock, Telegram stand-in).
system-deps:
	@missing=""; \
	$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	command -v chromium >/dev/null || missing="$$missing chromium fonts-dejavu-core"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || $(MAKE) system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

peers: system-deps $(PEERS)/node_modules/.installed

$(PEERS)/node_modules/.installed: $(PEERS)/package.json $(PEERS)/package-lock.json
	SCARF_ANALYTICS=false npm ci --prefix $(PEERS) --no-audit --no-fund --loglevel=error
	touch $@

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(PEERS)/node_modules .pytest_cache relais-demo.sqlite3*
