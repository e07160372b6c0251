# shellcheck shell=sh
# Shared by every test guest's /init (sourced, not executed: busybox sh): tests/vm/init.sh,
# tests/qemu/guest-init.sh, hash-l1-init.sh and hash-l2-init.sh. The scripts that pack those
# into an initramfs (scripts/vm/build-guest.sh, tests/qemu/build-initramfs.sh,
# tests/qemu/run-hash-e2e.sh) put this file beside them as /init-lib.sh.

# guest_mounts DIR...: busybox's applets, /proc, /sys and /dev (devtmpfs), after creating
# /proc /sys /dev /tmp and the DIRs given
# shellcheck disable=SC2120 # the DIRs are optional
guest_mounts() {
	/bin/busybox mkdir -p /proc /sys /dev /tmp "$@"
	/bin/busybox --install -s
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
}

# kernel_param NAME DEFAULT: the value of NAME=VALUE on the kernel command line (the last
# one given), or DEFAULT
kernel_param() {
	kp_value=$2
	# shellcheck disable=SC2013 # the command line is words
	for kp_arg in $(cat /proc/cmdline); do
		case $kp_arg in
		"$1"=*) kp_value=${kp_arg#"$1"=} ;;
		esac
	done
	echo "$kp_value"
}

# kernel_log_bad: true when the kernel logged a bug or warning; the lines are in /tmp/bad
kernel_log_bad() {
	dmesg | grep -E 'BUG:|WARNING:|Oops|KASAN|general protection|refcount_t|Call Trace' >/tmp/bad
}

# guest_exit TAG [WHERE]: a kernel log with bugs or warnings fails the run (TAG-FAIL WHERE
# kernel log: ..., rc=1); prints TAG-EXIT rc=$rc and powers off
guest_exit() {
	if kernel_log_bad; then
		echo "$1-FAIL ${2:+$2 }kernel log: $(head -n 1 /tmp/bad)"
		rc=1
	fi
	echo "$1-EXIT rc=$rc"
	sync
	reboot -f
}
