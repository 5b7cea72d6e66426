# Two commands: `make run` opens the app on the demo pair; `make test` runs the tests.
# Both create .venv and install the project on first use (llama-cpp-python compiles: ~9 minutes once).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint install demo-run clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/inspector

demo-run: $(STAMP)
	$(BIN)/inspector run --session demo --pair demo --limit 20 --max-tokens 64

lint: $(STAMP)
	$(BIN)/ruff check inspector tests benchmarks
	$(BIN)/mypy

test: $(STAMP)
	$(BIN)/ruff check inspector tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

clean-venv:
	rm -rf $(VENV)
