# Quick start: `make run` (set up and run the bot on its embedded default) and `make test`.
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

demo: $(STAMP)
	$(PY) main.py db upgrade
	$(PY) main.py demo load

# Both processes in one process group: Ctrl-C (or either one dying) stops both.
run: demo
	@set -m; trap 'kill 0 2>/dev/null' INT TERM EXIT; \
	$(PY) main.py sandbox & \
	$(PY) main.py serve & \
	sleep 2; \
	echo ""; \
	echo "  bot webhook:        http://127.0.0.1:8080/wechat"; \
	echo "  local WeChat:       http://127.0.0.1:8081/"; \
	echo "  follower simulator: http://127.0.0.1:8081/simulator"; \
	echo "  (Ctrl-C stops both)"; \
	wait -n; exit 0

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .
