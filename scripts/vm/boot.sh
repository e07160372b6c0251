#!/bin/bash
# Boots one test kernel with the test initramfs under QEMU/TCG and writes the serial
# console to LOG. Returns QEMU's exit status (124 on timeout).
#   boot.sh BZIMAGE INITRAMFS VARIANT LOG [extra kernel args...]
set -euo pipefail
. "$(dirname "$0")/common.sh"
kernel=$1 initrd=$2 variant=$3 logfile=$4
shift 4
timeout_s=${VM_TIMEOUT:-600}
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
set +e
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 \
	-nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=5 vsteer.variant=$variant $*" \
	</dev/null >"$logfile" 2>&1
rc=$?
set -e
exit $rc
