#!/usr/bin/env bash
# `make bench`: every speed target next to its floor in one run (docs/bench.md): the
# steering program vs QEMU's own RSS program and a parse-only floor, the Toeplitz rebuild,
# the XDP classifier vs XDP_PASS, the rate limiter, live packet rates, verifier counts.
#
#   scripts/bench.sh [BUILD_DIR] [-- vsteer-bench options, e.g. --repeat 200000 --rounds 3]
#
# 1. scripts/qemu-rss-object.sh fetches QEMU's RSS eBPF object from the installed
#    qemu-system-x86_64 (QMP request-ebpf, QEMU started in a private network
#    namespace and stopped again) into a temporary file;
# 2. BUILD_DIR/bench/vsteer-bench loads it, vsteer's programs and the floors
#    (bench/bpf/bench_floors.bpf.c), and times them with BPF_PROG_TEST_RUN.
# The temporary object is deleted afterwards; nothing of QEMU is kept.
set -euo pipefail

build=build
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	build=$1
	shift
fi
[ "${1:-}" = -- ] && shift

here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: must run as root (BPF_PROG_TEST_RUN, network namespace); try: sudo make bench" >&2
	exit 1
fi
# `make bench` has built everything already; this keeps a direct call working too.
if ! cmake --build "$build" --target vsteer_bench qemu_rss_object >"$build"/bench-build.log 2>&1; then
	cat "$build"/bench-build.log >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/vsteer-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

bash "$here"/qemu-rss-object.sh "$tmp"/qemu-rss.bpf.o "$build"
"$build"/bench/vsteer-bench --qemu-object "$tmp"/qemu-rss.bpf.o "$@"
