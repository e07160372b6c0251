# VM tests of the kernel series (kernel-patches/): `make vm-test`, also run by `make test`.
# Builds the patched and the unpatched Linux 6.12 (cached outside the checkout, see
# scripts/vm/common.sh), boots both under QEMU/TCG and prints their results side by side.
# Without the prerequisites it skips, except with CI=true, where it fails.
.PHONY: vm-test vm-kernels vm-check-series

TEST_EXTRA += vm-test

vm-test:
	@$(MAKE) --no-print-directory build
	@if ! why=$$(bash scripts/vm/run-vm-tests.sh --check); then \
		if [ "$${CI:-}" = true ]; then \
			echo "vm-test: FAIL: cannot run the VM tests ($$why)"; exit 1; \
		fi; \
		echo "vm-test: SKIPPED: cannot run the VM tests ($$why); CI=true makes this a failure"; \
	else \
		BUILD_DIR=$(BUILD_DIR) bash scripts/vm/run-vm-tests.sh; \
	fi

# Only the two kernel images (cached).
vm-kernels:
	@bash scripts/vm/build-kernel.sh patched
	@bash scripts/vm/build-kernel.sh baseline

# Checks that every patch of the series applies and builds on its own and passes
# checkpatch --strict (slow: one kernel build per patch, with ccache).
vm-check-series:
	@bash scripts/vm/check-series.sh
