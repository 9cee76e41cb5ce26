# The two commands of the README: `make demo` and `make test`.
# Each creates .venv with python3 and installs what it needs, by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench clean

# Installs are quiet: their output goes to $(VENV)/install.log, shown only
# when the install fails.
QUIETLY = > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --upgrade pip $(QUIETLY)

# Stamps re-run the install whenever pyproject.toml changes.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	@echo "installing texture into $(VENV) (log: $(VENV)/install.log) ..."
	@$(BIN)/python -m pip install -e '.[plot]' $(QUIETLY)
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	@echo "installing texture and the test tools into $(VENV) (log: $(VENV)/install.log) ..."
	@$(BIN)/python -m pip install -e '.[dev,plot]' $(QUIETLY)
	@touch $(VENV)/.core $@

demo: $(VENV)/.core
	$(BIN)/texture demo

test: $(VENV)/.dev
	$(BIN)/python -m pytest

bench: $(VENV)/.dev
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
