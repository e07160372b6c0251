#!/usr/bin/env bash
# Obtain QEMU's own RSS eBPF object from the installed QEMU, at run time.
#
#   scripts/qemu-rss-object.sh OUTPUT.o [BUILD_DIR]
#
# Starts `qemu-system-x86_64 -S -machine none` (no guest, no devices) inside a
# private network namespace created for the purpose, asks it over QMP for the
# object (`request-ebpf` id "rss", done by BUILD_DIR/bench/qemu-rss-object), then
# stops that QEMU by its PID and deletes the namespace. The object is never
# stored in the repository.
set -euo pipefail

out=${1:?usage: $0 OUTPUT.o [BUILD_DIR]}
build=${2:-build}
tool=$build/bench/qemu-rss-object
qemu=${QEMU:-qemu-system-x86_64}

if [ "$(id -u)" -ne 0 ]; then
	echo "qemu-rss-object: must run as root (network namespace); try: sudo $0 $*" >&2
	exit 1
fi
if [ ! -x "$tool" ]; then
	echo "qemu-rss-object: $tool not built; run 'make build' first" >&2
	exit 1
fi
if ! command -v "$qemu" >/dev/null; then
	echo "qemu-rss-object: $qemu not found; run 'make deps' (qemu-system-x86 from bookworm-backports)" >&2
	exit 1
fi

ns=vsteer-bench-$$
work=$(mktemp -d /tmp/vsteer-qemu-rss.XXXXXX)
qemu_pid=

cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$qemu_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$qemu_pid" 2>/dev/null || true
	fi
	[ -n "$qemu_pid" ] && wait "$qemu_pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
# nsenter execs QEMU (no fork without --pid), so $! is QEMU's own PID.
nsenter --net=/run/netns/"$ns" "$qemu" -S -display none -nodefaults -no-user-config \
	-machine none -qmp unix:"$work"/qmp.sock,server=on,wait=off \
	>"$work"/qemu.log 2>&1 &
qemu_pid=$!

for _ in $(seq 100); do
	[ -S "$work"/qmp.sock ] && break
	if ! kill -0 "$qemu_pid" 2>/dev/null; then
		echo "qemu-rss-object: $qemu exited before opening its QMP socket:" >&2
		cat "$work"/qemu.log >&2 || true
		exit 1
	fi
	sleep 0.1
done
if ! "$tool" "$work"/qmp.sock "$out"; then
	echo "qemu-rss-object: QEMU output:" >&2
	cat "$work"/qemu.log >&2 || true
	exit 1
fi
# The tool sent `quit`; give QEMU a moment to exit on its own before cleanup() kills it.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	kill -0 "$qemu_pid" 2>/dev/null || break
	sleep 0.1
done
