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

.PHONY: all setup build native web run test test-unit test-integration test-web test-e2e bench clean

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
	@$(MAKE) --no-print-directory test-unit test-web test-integration test-e2e
	@echo "make test: all suites passed"

test-unit:
	./$(BUILD_DIR)/unit_tests --gtest_brief=1

test-web:
	@if [ -f web/package.json ]; then cd web && npm test; fi

test-integration:
	HUB_BUILD_DIR=$(abspath $(BUILD_DIR)) bash tests/run-node-suite.sh integration security

test-e2e:
	@if ls tests/e2e/*.test.mjs >/dev/null 2>&1; then \
	  HUB_BUILD_DIR=$(abspath $(BUILD_DIR)) bash tests/run-node-suite.sh e2e; fi

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD_DIR)
