# The two commands of README.md. A virtual environment in .venv keeps the machine clean.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint

# `make run` installs only what the app needs; `make test` adds the test tools. uv installs the same
# pinned wheels several times faster than pip (bench/clone_to_dashboard.sh measures it from a cold
# cache): the uv on the machine if there is one, else uv bootstrapped from PyPI into .venv/uv (pinned
# here) by the pip of $(PY). Without uv, or if uv fails, pip installs everything as before (the
# venv's own pip, set up by ensurepip only then: creating the venv without it saves seconds).
UV_VERSION := 0.13.9
QUIET := -q --disable-pip-version-check
INSTALL = sh -c 'uv=$$(command -v uv || echo $(VENV)/uv/bin/uv); \
	[ -x "$$uv" ] || $(PY) -m pip install $(QUIET) --target $(VENV)/uv uv==$(UV_VERSION) >/dev/null 2>&1 || true; \
	if [ -x "$$uv" ] && "$$uv" pip install -q --python $(BIN)/python "$$@"; then exit 0; fi; \
	echo "installing with pip (uv $$([ -x "$$uv" ] && echo failed || echo "not available"))" >&2; \
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null || exit 1; \
	$(BIN)/python -m pip install $(QUIET) "$$@"' install

$(BIN)/python:
	$(PY) -m venv --without-pip $(VENV)

$(BIN)/.app: requirements.txt | $(BIN)/python
	$(INSTALL) -r requirements.txt
	touch $@

$(BIN)/.installed: $(BIN)/.app requirements-dev.txt
	$(INSTALL) -r requirements-dev.txt
	touch $@

# serve.py: app.py with the route that sets the sign-in cookie HttpOnly, as in production.
run: $(BIN)/.app
	$(BIN)/streamlit run serve.py

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
