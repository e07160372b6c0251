# XDP classifier (docs/xdp.md). Its benchmark is part of `make bench` (bench/bench_xdp.cpp).
.PHONY: xdp-test

# Only the XDP suites (BPF_PROG_TEST_RUN, CLI refusals, netns traffic). Needs root.
xdp-test: build
	@$(BUILD_DIR)/tests/vsteer_test_bpf -tc='xdp*'
	@$(BUILD_DIR)/tests/vsteer_test_netns -tc='xdp netns*'

# Coexistence through libxdp's dispatcher, in the 6.12 guest (the host kernel refuses
# freplace, so libxdp attaches single programs here): `make xdp-vm-coexist`, also run by
# `make test`. scripts/vm/run-xdp-coexist.sh boots the baseline kernel (it has BTF, which the
# dispatcher needs; scripts/vm/build-kernel.sh builds or takes it from the cache) under
# QEMU/TCG with tests/bpf/test_xdp_coexist.cpp, linked statically, next to xdp-tools'
# xdp-filter; the test fails if libxdp does not use its dispatcher. XDP_VM_IMAGE_DIR= takes
# another image directory of build-kernel.sh's layout. Without the prerequisites it skips,
# except with CI=true, where it fails.
.PHONY: xdp-vm-coexist

TEST_EXTRA += xdp-vm-coexist

xdp-vm-coexist:
	@$(MAKE) --no-print-directory build
	@$(call require_or_skip,xdp-vm-coexist,the guest coexistence test,BUILD_DIR=$(BUILD_DIR) bash scripts/vm/run-xdp-coexist.sh --check); \
	image=$${XDP_VM_IMAGE_DIR:-$$(bash scripts/vm/build-kernel.sh baseline)} || { \
		echo "xdp-vm-coexist: FAIL: the baseline guest kernel did not build (see above)"; exit 1; }; \
	BUILD_DIR=$(BUILD_DIR) bash scripts/vm/run-xdp-coexist.sh "$$image"
