# The two commands in README: `make demo` and `make test`. Both create .venv: `demo` installs only what
# running needs (requirements.txt and the package); `test` adds the test toolchain (requirements-dev.txt).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
DEMO_ARGS ?=

.PHONY: demo test venv clean

venv: $(DEV)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Order-only on the interpreter: a venv made earlier does not make the stamps stale.
$(RUNTIME): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(DEV): $(RUNTIME) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(RUNTIME)
	$(BIN)/modq demo $(DEMO_ARGS)

test: $(DEV)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/python -m tests.run_groups

clean:
	rm -rf $(VENV) var
