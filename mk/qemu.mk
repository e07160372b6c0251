# QEMU integration test with a real guest: `make qemu-test`, also run by `make test`.
# Boots a Linux 6.12 guest (scripts/vm/build-kernel.sh baseline, cached) under QEMU/TCG with
# `vsteer run-qemu`, lets the guest program RSS with ethtool and checks, flow by flow, that
# packets land on the rx queue the C++ reference predicts (tests/qemu/run-qemu-test.sh); then
# once more with QEMU unprivileged (setpriv, no capabilities) and every fd passed to it.
# Without the prerequisites it skips, except with CI=true, where it fails.
.PHONY: qemu-test

TEST_EXTRA += qemu-test

qemu-test:
	@$(MAKE) --no-print-directory build
	@$(call require_or_skip,qemu-test,the QEMU guest test,BUILD_DIR=$(BUILD_DIR) bash tests/qemu/run-qemu-test.sh --check); \
	BUILD_DIR=$(BUILD_DIR) bash tests/qemu/run-qemu-test.sh
	@echo "qemu-test: again as the libvirt-style flow (tap and BPF fds passed, QEMU as nobody)"
	@QEMU_TEST_UNPRIVILEGED=1 BUILD_DIR=$(BUILD_DIR) bash tests/qemu/run-qemu-test.sh
