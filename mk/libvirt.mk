# libvirt integration test with a real libvirtd: `make libvirt-test`.
# Installs libvirt's QEMU driver and clients (bookworm-backports, scripts/install-deps.sh),
# starts libvirtd, virtlogd and vsteer-libvirtd in a private network namespace, boots the
# qemu-test guest as a TCG domain through vsteer's <emulator> wrapper and QEMU hook, and checks
# QEMU's capabilities, vsteer list/show/check and the placement of every flow across a libvirtd
# restart, a reset, destroy + start and undefine (tests/libvirt/run-libvirt-test.sh).
# LIBVIRT_TEST_INSTALLED=1 tests the installed package instead of the build tree.
# Without the prerequisites it skips, except with CI=true, where it fails naming why.
.PHONY: libvirt-test

TEST_EXTRA += libvirt-test

libvirt-test:
	@bash scripts/install-deps.sh
	@$(MAKE) --no-print-directory build
	@$(call require_or_skip,libvirt-test,the libvirt test,BUILD_DIR=$(BUILD_DIR) bash tests/libvirt/run-libvirt-test.sh --check); \
	BUILD_DIR=$(BUILD_DIR) bash tests/libvirt/run-libvirt-test.sh
