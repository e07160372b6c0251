#!/bin/bash
# Builds the guest side of the VM tests into OUT (default build/vm):
#   OUT/guest_tests        static C++ test binary (tests/vm/), compiled against the
#                          PATCHED kernel's `make headers_install` output
#   OUT/kselftest-tun|tap the kernel's tun and tap selftests (tools/testing/selftests/net/)
#                          of the patched tree, static
#   OUT/initramfs.cpio     busybox-static + guest_tests + kselftests + BPF objects + vectors, made
#                          with the kernel's usr/gen_init_cpio (no root needed)
# Needs the project build (build/bpf/tun_steering.skel.h) and the patched kernel image
# directory (scripts/vm/build-kernel.sh patched), passed as $1.
set -euo pipefail
. "$(dirname "$0")/common.sh"

image_dir=${1:?usage: build-guest.sh PATCHED_IMAGE_DIR [OUT]}
out=${2:-$REPO_ROOT/build/vm}
bpf_out=${BPF_OUT:-$REPO_ROOT/build/bpf}

mkdir -p "$out"

[ -f "$bpf_out/tun_steering.skel.h" ] || die "$bpf_out/tun_steering.skel.h missing: run 'make build' first"
[ -f "$bpf_out/tun_steering.bpf.o" ] || die "$bpf_out/tun_steering.bpf.o missing: run 'make build' first"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox missing (apt-get install busybox-static)"
grep -q 'statically linked' <<<"$(file -L "$busybox")" || die "$busybox is not static (apt-get install busybox-static)"
vectors=$REPO_ROOT/tests/data/ms-rss-vectors.tsv
[ -f "$vectors" ] || die "$vectors missing"

src=(tests/vm/guest_tests.cpp userspace/lib/steering_objects.cpp userspace/lib/bpf_map.cpp
	userspace/lib/rss_config.cpp userspace/lib/rss_reference.cpp userspace/lib/toeplitz.cpp
	userspace/lib/tun_hash_report.cpp)
deps=("${src[@]/#/$REPO_ROOT/}" "$REPO_ROOT"/tests/vm/*.hpp "$REPO_ROOT"/tests/common/*.hpp
	"$REPO_ROOT"/userspace/lib/*.hpp "$REPO_ROOT"/userspace/lib/*.h "$bpf_out/tun_steering.skel.h"
	"$image_dir/done")
if is_stale "$out/guest_tests" "${deps[@]}"; then
	log "compiling guest_tests (static, headers of $(basename "$image_dir"))"
	(cd "$REPO_ROOT" && g++ -std=c++20 -O2 -Wall -Wextra -static \
		-isystem "$image_dir/headers/include" \
		-Iuserspace/lib -Ibpf/include -I"$bpf_out" -Itests/common -Itests/vm \
		"${src[@]}" -lbpf -lelf -lz -o "$out/guest_tests.tmp")
	mv "$out/guest_tests.tmp" "$out/guest_tests"
fi

# The kernel's own tun and tap selftests, from the patched tree (the series extends them):
# the same binaries run on both kernels, where the hash reporting tests skip on the baseline.
for t in tun tap; do
	if is_stale "$out/kselftest-$t" "$image_dir/selftests/net/$t.c" "$image_dir/done"; then
		log "compiling the kernel's $t selftest"
		gcc -O2 -Wall -static -isystem "$image_dir/headers/include" -I"$image_dir/selftests" \
			"$image_dir/selftests/net/$t.c" -o "$out/kselftest-$t.tmp"
		mv "$out/kselftest-$t.tmp" "$out/kselftest-$t"
	fi
done

cat >"$out/initramfs.list" <<LIST
dir /dev 755 0 0
nod /dev/console 600 0 0 c 5 1
nod /dev/null 666 0 0 c 1 3
dir /proc 755 0 0
dir /sys 755 0 0
dir /tmp 1777 0 0
dir /bin 755 0 0
dir /sbin 755 0 0
dir /vsteer 755 0 0
file /bin/busybox $busybox 755 0 0
slink /bin/sh busybox 777 0 0
file /init $REPO_ROOT/tests/vm/init.sh 755 0 0
file /vsteer/guest_tests $out/guest_tests 755 0 0
file /vsteer/kselftest-tun $out/kselftest-tun 755 0 0
file /vsteer/kselftest-tap $out/kselftest-tap 755 0 0
file /vsteer/ms-rss-vectors.tsv $vectors 644 0 0
LIST
for o in "$bpf_out"/*.bpf.o; do
	echo "file /vsteer/$(basename "$o") $o 644 0 0" >>"$out/initramfs.list"
done
"$image_dir/gen_init_cpio" "$out/initramfs.list" >"$out/initramfs.cpio.tmp"
mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
log "initramfs: $out/initramfs.cpio ($(du -h "$out/initramfs.cpio" | cut -f1))"
echo "$out"
