# Quick start: `make run` (set up and run the bot on its embedded default) and `make test`.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint setup demo

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

# The demo goes only into an empty database: a database with real data is left as it is.
demo: $(STAMP)
	$(PY) main.py db upgrade
	$(PY) main.py demo load

# Two processes: the local WeChat platform and the bot (with the editors' console); the addresses
# printed come from config.toml (`main.py urls`), once both answer (at most 60 s; either exiting stops the
# wait with a message). Ctrl-C stops both; so does either one exiting.
run: demo
	@trap 'kill $$sandbox $$bot 2>/dev/null; wait' EXIT; \
	$(PY) main.py sandbox & sandbox=$$!; \
	$(PY) main.py serve & bot=$$!; \
	echo ""; \
	$(PY) main.py urls --wait 60 --pid $$sandbox --pid $$bot || exit 1; \
	echo "  （按 Ctrl-C 同时停止两者）"; \
	echo ""; \
	wait -n $$sandbox $$bot

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .
