# XDP classifier (docs/xdp.md). Standalone: `make bench-xdp`; scripts/bench.sh may call it.
.PHONY: bench-xdp xdp-test

# ns/packet of classify + hash + redirect (BPF_PROG_TEST_RUN) and packets/s through the
# veth path with and without the classifier, in one run. Needs root.
bench-xdp: build
	@$(BUILD_DIR)/tests/vsteer_test_netns -tc='xdp bench*' --no-skip

# Only the XDP suites (BPF_PROG_TEST_RUN, CLI refusals, netns traffic). Needs root.
xdp-test: build
	@$(BUILD_DIR)/tests/vsteer_test_bpf -tc='xdp*'
	@$(BUILD_DIR)/tests/vsteer_test_netns -tc='xdp netns*'
