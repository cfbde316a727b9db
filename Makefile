# Bailian Hub. `make run` and `make test` are all a new machine needs (Debian 12, root).
SHELL := /bin/bash
BUILD_DIR ?= build
# Warnings are errors (the supported compiler is Debian 12's g++ 12). `make run` and
# `make test` share one build folder and the same flags, so neither rebuilds the other's work.
WERROR ?= ON
CMAKE_FLAGS ?=
# ccache: hash paths relative to the checkout, so a fresh clone reuses earlier objects.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

# Checking builds, each in its own folder (docs/testing.md, "Fuzzing and sanitizers"):
# FUZZ_DIR: clang, ASan + UBSan + libFuzzer coverage: the fuzz targets and a unit suite;
# ASAN_DIR: g++, ASan + UBSan: unit and integration suites; TSAN_DIR: g++, TSan: unit suite.
FUZZ_DIR ?= build-fuzz
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 4
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/*.cpp)))
# -O1 and line tables only: sanitizer reports keep file:line, and the builds stay affordable.
SAN_CMAKE := -G Ninja -DHUB_WERROR=OFF -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" $(CMAKE_FLAGS)
SAN_ENV := ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=0:suppressions=$(CURDIR)/tests/sanitizers/asan.supp \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(CURDIR)/tests/sanitizers/ubsan.supp \
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/sanitizers/tsan.supp

.PHONY: all setup build native web run test test-unit test-integration test-cluster test-web test-e2e bench clean \
  fuzz-build fuzz fuzz-smoke test-unit-sanitized asan-build test-asan tsan-build test-tsan \
  test-sanitize

all: build

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DHUB_WERROR=$(WERROR) $(CMAKE_FLAGS)

native: $(BUILD_DIR)/build.ninja
	cmake -S . -B $(BUILD_DIR) -DHUB_WERROR=$(WERROR) >/dev/null
	ninja -C $(BUILD_DIR) bailian-hub bailian-sim unit_tests

web:
	@if [ -f web/package.json ]; then cd web && npm run build; fi

build: setup
	@$(MAKE) --no-print-directory native web

run: build
	BAILIAN_HUB_BOOTSTRAP_ADMIN=1 ./$(BUILD_DIR)/bailian-hub serve

test: build
	@$(MAKE) --no-print-directory test-unit test-web test-integration test-cluster test-e2e \
	  fuzz-smoke test-unit-sanitized
	@echo "make test: all suites passed"

test-unit:
	./$(BUILD_DIR)/unit_tests --gtest_brief=1

test-web:
	@if [ -f web/package.json ]; then cd web && npm test; fi

# The database of the hubs the node suites start: sqlite (the default) or mysql (one throwaway
# MariaDB server per test process, a fresh database per hub; docs/testing.md). For example
# `HUB_TEST_DB=mysql make test-integration`.
HUB_TEST_DB ?= sqlite

test-integration:
	HUB_TEST_DB=$(HUB_TEST_DB) HUB_BUILD_DIR=$(abspath $(BUILD_DIR)) bash tests/run-node-suite.sh integration security

# Two hubs on one MariaDB and one Redis behind nginx, all on loopback (docs/testing.md).
test-cluster:
	HUB_BUILD_DIR=$(abspath $(BUILD_DIR)) bash tests/run-node-suite.sh cluster

test-e2e:
	@if ls tests/e2e/*.test.mjs >/dev/null 2>&1; then \
	  HUB_BUILD_DIR=$(abspath $(BUILD_DIR)) bash tests/run-node-suite.sh e2e; fi

# ---- fuzzing (clang + libFuzzer) ----
$(FUZZ_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(FUZZ_DIR) $(SAN_CMAKE) -DCMAKE_CXX_COMPILER=clang++ -DHUB_FUZZ=ON \
	  -DHUB_SANITIZE=address,undefined

fuzz-build: $(FUZZ_DIR)/build.ninja
	nice ninja -C $(FUZZ_DIR) fuzz_all

# Each target for FUZZ_SECONDS, starting from its committed seeds (fuzz/corpus/<target>) and
# what earlier runs found ($(FUZZ_DIR)/corpus/<target>, where new inputs go). A crash stops the
# run and leaves its input in $(FUZZ_DIR)/artifacts/.
fuzz: fuzz-build
	@bash fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The short form `make test` runs: every seed (and every crash input kept there) once, then a
# few seconds of fuzzing per target.
fuzz-smoke: fuzz-build
	@bash fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# The unit suite from the fuzz folder's ASan + UBSan (clang) libraries: only the test sources
# and app/ are compiled on top of what the fuzz targets needed.
test-unit-sanitized: fuzz-build
	nice ninja -C $(FUZZ_DIR) unit_tests
	$(SAN_ENV) ./$(FUZZ_DIR)/unit_tests --gtest_brief=1

# ---- sanitizers (g++) ----
$(ASAN_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(ASAN_DIR) $(SAN_CMAKE) -DHUB_SANITIZE=address,undefined

asan-build: $(ASAN_DIR)/build.ninja
	nice ninja -C $(ASAN_DIR) bailian-hub bailian-sim unit_tests

test-asan: asan-build
	$(SAN_ENV) ./$(ASAN_DIR)/unit_tests --gtest_brief=1
	$(SAN_ENV) HUB_BUILD_DIR=$(abspath $(ASAN_DIR)) bash tests/run-node-suite.sh integration security

$(TSAN_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(TSAN_DIR) $(SAN_CMAKE) -DHUB_SANITIZE=thread

tsan-build: $(TSAN_DIR)/build.ninja
	nice ninja -C $(TSAN_DIR) unit_tests

test-tsan: tsan-build
	$(SAN_ENV) ./$(TSAN_DIR)/unit_tests --gtest_brief=1

# Unit and integration suites under ASan + UBSan, the unit suite under TSan (not part of
# `make test`: three more builds do not fit its time budget on two cores).
test-sanitize: setup
	@$(MAKE) --no-print-directory test-asan test-tsan
	@echo "make test-sanitize: all suites passed"

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR) $(ASAN_DIR) $(TSAN_DIR)
