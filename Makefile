# Two commands for a fresh clone:
#   make run    set everything up and run the main job on the emulated OpenMV H7
#   make test   set everything up and run every test (C++ native, ASan/UBSan, ARMv7 under qemu; pytest)
# Both install what they need (apt packages when run as root, a Python venv in .venv), at the versions
# pinned in constraints.txt (`make lock` refreshes it from pyproject.toml).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
JOBS   ?= $(shell nproc)
APT_PACKAGES := cmake ninja-build g++ g++-arm-linux-gnueabihf qemu-user-static chromium chromium-driver clang-format \
	nlohmann-json3-dev doctest-dev libstb-dev adb busybox-static openssh-client
LOCK   := constraints.txt
# `make run` settings: the live page's address and port, and the emulated board.
HTTP_PORT ?= 8765
BIND      ?= 127.0.0.1
BOARD     ?= h7

.PHONY: run test setup apt venv lint format stubs cpp-test py-test clean omv-client lock stubs-venv

# The emulated H7 on a pty, flashed over the serial protocol, then watched (live page + terminal lines).
run: setup
	$(BIN)/python -m host_tools.demo --http-port $(HTTP_PORT) --bind $(BIND) --board $(BOARD)

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
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v clang-format >/dev/null || missing="$$missing clang-format"; \
	test -f /usr/include/nlohmann/json.hpp || missing="$$missing nlohmann-json3-dev"; \
	test -f /usr/include/doctest/doctest.h || missing="$$missing doctest-dev"; \
	test -f /usr/include/stb/stb_image.h || missing="$$missing libstb-dev"; \
	command -v adb >/dev/null || missing="$$missing adb"; \
	busybox 2>/dev/null | grep -q "multi-call" && ! ldd "$$(command -v busybox)" >/dev/null 2>&1 \
	  || missing="$$missing busybox-static"; \
	command -v ssh >/dev/null || missing="$$missing openssh-client"; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The venv is rebuilt when pyproject.toml, the lock or any C++ source changes (pip compiles the bindings).
# Every install is constrained by the lock, build requirements included, so a fresh machine gets the versions
# CI tested.
venv: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml $(LOCK) CMakeLists.txt $(shell find cpp_runtime -type f 2>/dev/null)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c $(LOCK) --upgrade pip
	$(BIN)/pip install -q -c $(LOCK) scikit-build-core nanobind
	$(BIN)/pip install -q -c $(LOCK) --no-build-isolation -e '.[dev]'
	touch $@

# Refresh the lock: every dependency of pyproject.toml (runtime, the rv1103 and dev extras, the build
# requirements and pip), resolved by uv against PyPI only (no local index or pip configuration of this
# machine), for every Python the package supports. A model recipe that keeps a requirements.in beside it
# (models/<name>/requirements*.in) gets its own lock, models/<name>/constraints*.txt, the same way.
UV_COMPILE = $(BIN)/uv pip compile --universal --python-version 3.10 --no-config --quiet \
	--index-url https://pypi.org/simple --annotation-style line
# uv ignores upper bounds of Requires-Python: backports-strenum 1.3.1 (Python < 3.11 only) would be pinned for
# every Python although ai-edge-litert needs backports-strenum on all of them; 1.2.8 installs everywhere.
LOCK_FIXES := 'backports-strenum<1.3'
# Only uv is needed (not the whole venv, whose install may be what a new lock fixes).
$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c $(LOCK) uv
lock: $(BIN)/uv
	mkdir -p build
	printf '%s\n' $(LOCK_FIXES) > build/lock-fixes.txt
	$(BIN)/python -c 'import sys; tl = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli"); \
	  t = tl.load(open("pyproject.toml", "rb")); \
	  print("\n".join(t["build-system"]["requires"] + ["pip"]))' > build/lock-build.in
	$(UV_COMPILE) pyproject.toml build/lock-build.in tests/openmv/stubs/requirements.in --extra dev --extra rv1103 -c build/lock-fixes.txt \
	  -o build/lock.txt
	{ echo "# Pinned versions for make run / make test (pip install -c $(LOCK) ...). Made by make lock"; \
	  echo "# from pyproject.toml (runtime, extras dev and rv1103, build requirements, pip) and the type-check venv's"; \
	  echo "# tests/openmv/stubs/requirements.in: do not edit."; \
	  cat build/lock.txt; } > $(LOCK)
	for req in $(wildcard models/*/requirements*.in); do \
	  lock=$$(dirname $$req)/$$(basename $$req .in | sed 's/^requirements/constraints/').txt; \
	  $(UV_COMPILE) $$req -o $$lock || exit 1; done

# C++ style: .clang-format (clang-format 14 from Debian); `make format` rewrites the files in place.
CPP_SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null || find cpp_runtime rv1103_app tests/cpp -name '*.[ch]pp')
lint: venv apt
	$(BIN)/ruff check .
	@clang-format --dry-run --Werror $(CPP_SOURCES) && echo "clang-format: $(words $(CPP_SOURCES)) C++ files follow .clang-format"

# The typed stub of the camrt extension, regenerated by nanobind's stubgen from the built module (checked in;
# tests/rv1103/test_camrt_package.py fails when it no longer matches the bindings).
stubs: venv
	$(BIN)/python -m nanobind.stubgen -q -m camrt._camrt -o cpp_runtime/python/camrt/_camrt.pyi

format: apt
	@clang-format -i $(CPP_SOURCES) && echo "clang-format: $(words $(CPP_SOURCES)) C++ files formatted"

# C++ unit tests (tests/cpp) three ways: native with -Werror, under ASan+UBSan, and cross-built for
# ARMv7 (Cortex-A7, as the RV1103) run under qemu-arm-static. Build folders under build/.
CPP_CMAKE := cmake -S . -G Ninja -DBUILD_TESTING=ON -DCAMRT_WERROR=ON -DBUILD_PYTHON_BINDINGS=OFF
cpp-test: apt
	$(CPP_CMAKE) -B build/cpp-native -DCMAKE_BUILD_TYPE=Release >/dev/null
	nice ninja -C build/cpp-native -j $(JOBS)
	ctest --test-dir build/cpp-native --output-on-failure
	$(CPP_CMAKE) -B build/cpp-asan -DCMAKE_BUILD_TYPE=Debug -DCAMRT_SANITIZE=ON >/dev/null
	nice ninja -C build/cpp-asan -j $(JOBS)
	ctest --test-dir build/cpp-asan --output-on-failure
	$(CPP_CMAKE) -B build/cpp-armv7 -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cpp_runtime/cmake/armv7-debian.cmake >/dev/null
	nice ninja -C build/cpp-armv7 -j $(JOBS)
	ctest --test-dir build/cpp-armv7 --output-on-failure

py-test: venv omv-client stubs-venv
	$(BIN)/pytest -q

# mypy + MicroPython's stubs for the H7's port, in their own venv (the stubs drop .pyi files for time, os,
# machine... that must not shadow the main venv's standard library); their module stubs are copied to
# mpy-stubs for MYPYPATH, their stdlib serves as mypy's typeshed (tests/openmv/test_typecheck.py).
STUBS_VENV := .venv-stubs
stubs-venv: $(STUBS_VENV)/.stamp
$(STUBS_VENV)/.stamp: $(LOCK) tests/openmv/stubs/requirements.in
	test -x $(STUBS_VENV)/bin/python || $(PYTHON) -m venv $(STUBS_VENV)
	$(STUBS_VENV)/bin/pip install -q -c $(LOCK) -r tests/openmv/stubs/requirements.in
	rm -rf $(STUBS_VENV)/mpy-stubs && mkdir -p $(STUBS_VENV)/mpy-stubs
	cp $(STUBS_VENV)/lib/python3*/site-packages/*.pyi $(STUBS_VENV)/mpy-stubs/
	cp -r $(STUBS_VENV)/lib/python3*/site-packages/_mpy_shed $(STUBS_VENV)/mpy-stubs/
	touch $@

# The official OpenMV client (PyPI `openmv`, Python >= 3.12) in its own venv, for the test that connects it
# to the emulated camera. Made only where a python3.12+ exists; otherwise that test skips and says why.
OMV_CLIENT_VENV := .venv-omvclient
PY312 := $(shell for p in python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3); do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
omv-client: $(if $(PY312),$(OMV_CLIENT_VENV)/.stamp)
	@$(if $(PY312),:,echo "omv-client: no Python >= 3.12 found; the official-client test will be skipped")
$(OMV_CLIENT_VENV)/.stamp:
	test -x $(OMV_CLIENT_VENV)/bin/python || $(PY312) -m venv $(OMV_CLIENT_VENV)
	$(OMV_CLIENT_VENV)/bin/pip install -q openmv==1.0.7 pillow numpy \
	  && touch $@ || echo "omv-client: could not install openmv from PyPI; the official-client test will skip"

clean:
	rm -rf build $(VENV) .pytest_cache .ruff_cache
