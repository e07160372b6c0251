# XDP classifier (docs/xdp.md). `make bench` runs bench-xdp after the steering benchmark.
.PHONY: bench-xdp xdp-test

BENCH_EXTRA += bench-xdp

# ns/packet of classify + hash + redirect (BPF_PROG_TEST_RUN) and packets/s through the
# veth path with and without the classifier, in one run. Needs root.
bench-xdp: build
	@$(BUILD_DIR)/tests/vsteer_test_netns -tc='xdp bench*' --no-skip

# Only the XDP suites (BPF_PROG_TEST_RUN, CLI refusals, netns traffic). Needs root.
xdp-test: build
	@$(BUILD_DIR)/tests/vsteer_test_bpf -tc='xdp*'
	@$(BUILD_DIR)/tests/vsteer_test_netns -tc='xdp netns*'

# Coexistence through the libxdp dispatcher in the 6.12 guest (the host refuses freplace):
# a static build of tests/bpf/test_xdp_coexist.cpp, booted with busybox, libxdp's dispatcher
# object and xdp-filter in an initramfs of its own, under scripts/vm/boot.sh. The dispatcher
# needs the guest kernel's BTF (CONFIG_DEBUG_INFO_BTF=y); without it the test FAILs and says so.
XDP_VM_DIR ?= $(BUILD_DIR)/vm-xdp
XDP_VM_KERNEL ?= $(firstword $(wildcard /var/cache/vsteer/images/patched-*/bzImage) \
	$(wildcard /var/cache/vsteer/dev/linux/arch/x86/boot/bzImage))
XDP_BPF_OBJS ?= /usr/lib/x86_64-linux-gnu/bpf
XDP_VM_SRC = tests/common/doctest_main.cpp tests/bpf/test_xdp_coexist.cpp \
	userspace/lib/xdp_objects.cpp userspace/lib/xdp_control.cpp userspace/lib/steering_objects.cpp \
	userspace/lib/bpf_map.cpp userspace/lib/rss_config.cpp userspace/lib/toeplitz.cpp
.PHONY: xdp-vm-coexist
xdp-vm-coexist: build
	@test -n "$(XDP_VM_KERNEL)" || { echo "xdp-vm-coexist: no guest kernel (make vm-kernels, or XDP_VM_KERNEL=bzImage)"; exit 1; }
	@mkdir -p $(XDP_VM_DIR)
	g++ -std=c++20 -O2 -static -Iuserspace/lib -Ibpf/include -I$(BUILD_DIR)/bpf -Itests/common \
		$(XDP_VM_SRC) -lxdp -lbpf -lelf -lz -o $(XDP_VM_DIR)/xdp_coexist 2>$(XDP_VM_DIR)/link.log \
		|| { cat $(XDP_VM_DIR)/link.log; exit 1; }
	@rm -rf $(XDP_VM_DIR)/root && mkdir -p $(XDP_VM_DIR)/root/bin $(XDP_VM_DIR)/root/dev \
		$(XDP_VM_DIR)/root/proc $(XDP_VM_DIR)/root/sys $(XDP_VM_DIR)/root/tmp $(XDP_VM_DIR)/root/vsteer
	@cp "$$(command -v busybox)" $(XDP_VM_DIR)/root/bin/busybox && ln -s busybox $(XDP_VM_DIR)/root/bin/sh
	@mknod $(XDP_VM_DIR)/root/dev/console c 5 1 && mknod $(XDP_VM_DIR)/root/dev/null c 1 3
	@cp $(XDP_VM_DIR)/xdp_coexist $(XDP_BPF_OBJS)/xdp-dispatcher.o $(XDP_BPF_OBJS)/xdpfilt_dny_all.o \
		$(XDP_VM_DIR)/root/vsteer/
	@printf '%s\n' '#!/bin/busybox sh' '/bin/busybox --install -s' 'mount -t proc proc /proc' \
		'mount -t sysfs sysfs /sys' 'mount -t tmpfs tmpfs /tmp' \
		'mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf' 'echo "VSTEER-XDP-KERNEL $$(uname -r)"' \
		'LIBXDP_OBJECT_PATH=/vsteer VSTEER_XDPFILT_OBJ=/vsteer/xdpfilt_dny_all.o VSTEER_XDP_REQUIRE_DISPATCHER=1 /vsteer/xdp_coexist' \
		'echo "VSTEER-XDP-EXIT rc=$$?"' 'poweroff -f' >$(XDP_VM_DIR)/root/init
	@chmod +x $(XDP_VM_DIR)/root/init
	@cd $(XDP_VM_DIR)/root && find . | cpio -o -H newc --quiet >../initramfs.cpio
	@VM_TIMEOUT=$${VM_TIMEOUT:-300} bash scripts/vm/boot.sh $(XDP_VM_KERNEL) $(XDP_VM_DIR)/initramfs.cpio xdp \
		$(XDP_VM_DIR)/console.log || true
	@grep -a 'VSTEER-XDP' $(XDP_VM_DIR)/console.log || tail -20 $(XDP_VM_DIR)/console.log
	@grep -aq 'VSTEER-XDP-COEXIST PASS' $(XDP_VM_DIR)/console.log
