# The two commands of README.md. A virtual environment in .venv keeps the machine clean.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint

# `make run` installs only what the app needs; `make test` adds the test tools. uv installs the same
# pinned wheels several times faster than pip (measured from a cold cache: bench/clone_to_dashboard.sh):
# the uv on the machine if there is one, else uv bootstrapped from PyPI into .venv (pinned here); if
# uv cannot be had or fails, plain pip installs everything, as before.
UV_VERSION := 0.13.9
INSTALL = sh -c 'uv=$$(command -v uv || echo $(BIN)/uv); \
	if [ ! -x "$$uv" ]; then $(BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION) >/dev/null 2>&1 || true; fi; \
	if [ -x "$$uv" ] && "$$uv" pip install -q --python $(BIN)/python "$$@"; then exit 0; fi; \
	[ -x "$$uv" ] && echo "uv could not install; installing with pip instead" >&2; \
	$(BIN)/pip install -q --disable-pip-version-check "$$@"' install

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(BIN)/.app: requirements.txt | $(BIN)/python
	$(INSTALL) -r requirements.txt
	touch $@

$(BIN)/.installed: $(BIN)/.app requirements-dev.txt
	$(INSTALL) -r requirements-dev.txt
	touch $@

run: $(BIN)/.app
	$(BIN)/streamlit run app.py

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
