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

# kernel_params PREFIX NAME...: sets each shell variable NAME to VALUE where the kernel
# command line holds PREFIX.NAME=VALUE (the last one given); the others keep their value
kernel_params() {
	kp_prefix=$1
	shift
	# shellcheck disable=SC2013 # the command line is words
	for kp_arg in $(cat /proc/cmdline); do
		case $kp_arg in
		"$kp_prefix".*=*) kp_name=${kp_arg#"$kp_prefix".} ;;
		*) continue ;;
		esac
		kp_name=${kp_name%%=*}
		for kp_want in "$@"; do
			[ "$kp_name" = "$kp_want" ] && eval "$kp_want=\${kp_arg#*=}"
		done
	done
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
