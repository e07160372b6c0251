# vsteer: the two commands a newcomer needs are `make demo` and `make test`.
# Both install missing dependencies first (scripts/install-deps.sh, idempotent).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local

.PHONY: all deps build demo test unit-test bpf-test netns-test bench install clean format

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

demo: deps
	@$(MAKE) --no-print-directory build
	@bash scripts/demo.sh $(BUILD_DIR)/vsteer

# Unit, BPF_PROG_TEST_RUN and real-kernel (netns) suites, then the VM suites
# contributed by mk/*.mk (TEST_EXTRA).
test: deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD_DIR) && ctest --output-on-failure
	@for t in $(TEST_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done

unit-test bpf-test netns-test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L $(subst -test,,$@)

bench: deps
	@$(MAKE) --no-print-directory build
	@bash scripts/bench.sh $(BUILD_DIR)
	@for t in $(BENCH_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done

install: build
	cmake --install $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | grep -v '^kernel-patches/')

clean:
	rm -rf $(BUILD_DIR)

# Optional fragments (VM tests, QEMU integration, XDP, ...) add targets and TEST_EXTRA.
-include mk/*.mk
