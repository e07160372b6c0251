#!/usr/bin/env bash
# The initramfs of the qemu-test guest (also booted by make libvirt-test):
#   tests/qemu/build-initramfs.sh IMAGE_DIR OUT_DIR
# IMAGE_DIR holds the guest kernel's gen_init_cpio (scripts/vm/build-kernel.sh); writes
# OUT_DIR/vsteer-rx (static) and OUT_DIR/initramfs.cpio: busybox-static, ethtool with the
# libraries ldd names, vsteer-rx, tests/qemu/guest-init.sh as /init and tests/vm/init-lib.sh
# (what every guest /init sources) as /init-lib.sh.
set -euo pipefail
image_dir=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
gcc -static -O2 -Wall -Wextra -o "$out/vsteer-rx" "$here/vsteer_rx.c"
{
	echo "dir /dev 755 0 0"
	echo "nod /dev/console 600 0 0 c 5 1"
	echo "nod /dev/null 666 0 0 c 1 3"
	for d in /proc /sys /tmp /bin /sbin /usr /usr/bin /usr/sbin /vsteer /lib /lib64 /lib/x86_64-linux-gnu; do
		echo "dir $d 755 0 0"
	done
	echo "file /bin/busybox $(command -v busybox) 755 0 0"
	echo "slink /bin/sh busybox 777 0 0"
	echo "file /init $here/guest-init.sh 755 0 0"
	echo "file /init-lib.sh $here/../vm/init-lib.sh 644 0 0"
	echo "file /vsteer/vsteer-rx $out/vsteer-rx 755 0 0"
	echo "file /usr/sbin/ethtool /usr/sbin/ethtool 755 0 0"
	# ethtool's shared libraries and loader, at the paths ldd names
	ldd /usr/sbin/ethtool | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
		echo "file $lib $(readlink -f "$lib") 755 0 0"
	done
} >"$out/initramfs.list"
"$image_dir/gen_init_cpio" "$out/initramfs.list" >"$out/initramfs.cpio"
