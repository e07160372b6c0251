#!/bin/bash
# Builds the guest side of the VM tests into OUT (default build/vm):
#   OUT/guest_tests        static C++ test binary (tests/vm/), compiled against the
#                          PATCHED kernel's `make headers_install` output
#   OUT/kselftest-tun|tap the kernel's tun and tap selftests (tools/testing/selftests/net/)
#                          of the patched tree, static
#   OUT/initramfs.cpio     busybox-static + tests/vm/init.sh (/init) and init-lib.sh +
#                          guest_tests + kselftests + BPF objects + vectors, made
#                          with the kernel's usr/gen_init_cpio (no root needed)
# guest_tests is the CMake target vsteer-guest-tests, built in a static build directory of
# its own (OUT/cmake, -DVSTEER_STATIC=ON) against the patched kernel image directory's
# headers (scripts/vm/build-kernel.sh patched), passed as $1; the BPF objects of the
# initramfs come from that build too.
set -euo pipefail
. "$(dirname "$0")/common.sh"

image_dir=${1:?usage: build-guest.sh PATCHED_IMAGE_DIR [OUT]}
out=${2:-$REPO_ROOT/build/vm}
cmake_dir=$out/cmake
bpf_out=$cmake_dir/bpf

mkdir -p "$out"

[ -d "$image_dir/headers/include" ] || die "$image_dir/headers/include missing (scripts/vm/build-kernel.sh patched)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox missing (apt-get install busybox-static)"
grep -q 'statically linked' <<<"$(file -L "$busybox")" || die "$busybox is not static (apt-get install busybox-static)"
vectors=$REPO_ROOT/tests/data/ms-rss-vectors.tsv
[ -f "$vectors" ] || die "$vectors missing"

log "building guest_tests (static, headers of $(basename "$image_dir"))"
if ! { cmake -S "$REPO_ROOT" -B "$cmake_dir" -DVSTEER_STATIC=ON \
	-DVSTEER_KERNEL_HEADERS="$image_dir/headers/include" -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DCMAKE_C_FLAGS_RELEASE=-O2 &&
	cmake --build "$cmake_dir" --target vsteer-guest-tests -j"${JOBS:-$(nproc)}"; } >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	die "building the guest's test binary failed (log: $out/build.log)"
fi
cp "$cmake_dir/tests/vsteer-guest-tests" "$out/guest_tests.tmp"
mv "$out/guest_tests.tmp" "$out/guest_tests"

# The kernel's own tun and tap selftests, from the patched tree (the series extends them):
# the same binaries run on both kernels, where the hash reporting tests skip on the baseline.
for t in tun tap; do
	bin=$out/kselftest-$t
	if [ ! -e "$bin" ] || [ "$image_dir/selftests/net/$t.c" -nt "$bin" ] || [ "$image_dir/done" -nt "$bin" ]; then
		log "compiling the kernel's $t selftest"
		gcc -O2 -Wall -static -isystem "$image_dir/headers/include" -I"$image_dir/selftests" \
			"$image_dir/selftests/net/$t.c" -o "$bin.tmp"
		mv "$bin.tmp" "$bin"
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
file /init-lib.sh $REPO_ROOT/tests/vm/init-lib.sh 644 0 0
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
