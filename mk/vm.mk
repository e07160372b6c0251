# VM tests of the kernel series (kernel-patches/): `make vm-test`, also run by `make test`.
# Builds the patched and the unpatched Linux 6.12 (cached outside the checkout, see
# scripts/vm/common.sh), boots both under QEMU/TCG and prints their results side by side.
# Without the prerequisites it skips, except with CI=true, where it fails.
.PHONY: vm-test vm-kernels vm-check-series

TEST_EXTRA += vm-test

vm-test:
	@$(MAKE) --no-print-directory build
	@$(call require_or_skip,vm-test,the VM tests,bash scripts/vm/run-vm-tests.sh --check); \
	BUILD_DIR=$(BUILD_DIR) bash scripts/vm/run-vm-tests.sh

# Only the two kernel images (cached).
vm-kernels:
	@bash scripts/vm/build-kernel.sh patched
	@bash scripts/vm/build-kernel.sh baseline

# Checks that every patch of the series applies and builds on its own and passes
# checkpatch --strict (slow: one kernel build per patch, with ccache).
vm-check-series:
	@bash scripts/vm/check-series.sh
