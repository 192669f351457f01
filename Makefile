# Two commands for a fresh clone:
#   make run    set everything up and run the main job on the emulated OpenMV H7
#   make test   set everything up and run every test (C++ native, ASan/UBSan, ARMv7 under qemu; pytest)
# Both install what they need (apt packages when run as root, a Python venv in .venv).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
JOBS   ?= $(shell nproc)
APT_PACKAGES := cmake ninja-build g++ g++-arm-linux-gnueabihf qemu-user-static chromium

.PHONY: run test setup apt venv lint cpp-test py-test clean

run: setup
	$(BIN)/host_tools sim openmv --frames models/masks/sample_frames --fps 5

test: setup lint cpp-test py-test

setup: apt venv

# System packages: installed only where a tool is missing (needs root, as on CI).
apt:
	@missing=""; \
	command -v cmake >/dev/null || missing="$$missing cmake"; \
	command -v ninja >/dev/null || missing="$$missing ninja-build"; \
	command -v g++ >/dev/null || missing="$$missing g++"; \
	command -v arm-linux-gnueabihf-g++ >/dev/null || missing="$$missing g++-arm-linux-gnueabihf"; \
	command -v qemu-arm-static >/dev/null || missing="$$missing qemu-user-static"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The venv is rebuilt when pyproject.toml or any C++ source changes (the bindings are compiled by pip).
venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml CMakeLists.txt $(shell find cpp_runtime -type f 2>/dev/null)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q scikit-build-core nanobind
	$(BIN)/pip install -q --no-build-isolation -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check .

cpp-test: apt
	@echo "(C++ tests: see cpp_runtime/)"

py-test: venv
	$(BIN)/pytest -q

clean:
	rm -rf build $(VENV) .pytest_cache .ruff_cache
