# shellcheck shell=bash
# Shared by the host sides of the guest tests (sourced, not executed): tests/qemu/run-qemu-test.sh,
# tests/qemu/run-hash-e2e.sh and tests/libvirt/run-libvirt-test.sh. The sourcing script sets
# TEST_NAME first (the prefix of its log lines and verdicts) and, before calling them, the
# work directory $work, the namespace $ns and the tap $tap the functions below name.
# shellcheck disable=SC2034,SC2154 # (set and used by the sourcing script)

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO_ROOT/$BUILD_DIR ;; esac
FLOWS_TOOL=$BUILD_DIR/vsteer-qemu-flows
T0=$(date +%s)

log() { printf '[%s %3ds] %s\n' "$TEST_NAME" "$(($(date +%s) - T0))" "$*"; }

# prerequisites ARGS...: the script's own why_not prints what keeps the test from running
# here. With --check as the first ARG: prints that and exits 1, or exits 0 when nothing does;
# otherwise a reason fails the test.
prerequisites() {
	local reason
	reason=$(why_not)
	if [ "${1:-}" = --check ]; then
		[ -z "$reason" ] && exit 0
		echo "$reason"
		exit 1
	fi
	[ -z "$reason" ] || { echo "$TEST_NAME: FAIL: $reason"; exit 1; }
}

# static_busybox: true when busybox is on PATH and statically linked (the guests' /bin/sh)
static_busybox() {
	command -v busybox >/dev/null && grep -q 'statically linked' <<<"$(file -L "$(command -v busybox)")"
}

# rand_key: a random 40-byte RSS key, as ethtool -X hkey takes it (aa:bb:...)
rand_key() { od -An -N40 -tx1 /dev/urandom | tr -s ' \n' ':' | sed 's/^://; s/:$//'; }

# Checks: ok and bad log each one; bad counts it, names it again at the end (exit_if_failed)
# and keeps the work directory $work (remove_work).
failures=0
failed_checks=()
keep_work=0
ok() { log "PASS $*"; }
bad() {
	log "FAIL $*"
	failures=$((failures + 1))
	failed_checks+=("$*")
	keep_work=1
}
remove_work() {
	if [ "$keep_work" = 1 ]; then
		echo "$TEST_NAME: logs kept in $work"
	else
		rm -rf "$work"
	fi
}
# exit_if_failed [WHAT]: after failed checks, names them again (last, so that a log's tail
# says what failed) and exits 1
exit_if_failed() {
	[ "$failures" -ne 0 ] || return 0
	printf '%s: failed: %s\n' "$TEST_NAME" "${failed_checks[@]}"
	echo "$TEST_NAME: FAIL ($failures failures${1:+, $1})"
	exit 1
}

# program_ran WHAT BEFORE AFTER: between the two `vsteer show --json` outputs BEFORE and AFTER
# vsteer's program counted at least the 2 * NFLOWS frames sent: the placement was its doing,
# not QEMU's software RSS fallback
program_ran() {
	local ran
	ran=$(($("$FLOWS_TOOL" packets "$3") - $("$FLOWS_TOOL" packets "$2")))
	if [ "$ran" -ge $((2 * NFLOWS)) ]; then
		ok "$1: the steering program ran for the $ran frames sent into the tap"
	else
		bad "$1: the steering program counted $ran packets, $((2 * NFLOWS)) were sent"
	fi
}

# tap_namespace: the network namespace $ns (lo up) with the multiqueue tap $tap, up, without
# IPv6 (no router solicitations among the test's frames); in_ns runs a command in it
in_ns() { nsenter --net=/run/netns/"$ns" "$@"; }
tap_namespace() {
	ip netns add "$ns"
	in_ns ip link set lo up
	in_ns ip tuntap add dev "$tap" mode tap multi_queue
	in_ns sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" || true
	in_ns ip link set "$tap" up
	log "namespace $ns with multiqueue tap $tap"
}

# guest_image: image_dir = the guest kernel's image directory: QEMU_TEST_IMAGE_DIR (bzImage,
# config, gen_init_cpio), or the cached plain 6.12 of the VM harness, built on first use
guest_image() {
	if [ -n "${QEMU_TEST_IMAGE_DIR:-}" ]; then
		image_dir=$QEMU_TEST_IMAGE_DIR
	else
		log "guest kernel: scripts/vm/build-kernel.sh baseline (cached)"
		image_dir=$(bash "$REPO_ROOT/scripts/vm/build-kernel.sh" baseline | tail -n 1)
	fi
}
