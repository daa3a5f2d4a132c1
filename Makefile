# The two commands of README.md. A virtual environment in .venv keeps the machine clean.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint

# `make run` installs only what the app needs; `make test` adds the test tools. uv installs the same
# pinned wheels several times faster than pip when it is on the machine (pip otherwise).
INSTALL = sh -c 'if command -v uv >/dev/null 2>&1; then uv pip install -q --python $(BIN)/python "$$@"; \
	else $(BIN)/pip install -q --disable-pip-version-check "$$@"; fi' install

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
