#!/bin/bash
# Build (or fetch from the cache) one test kernel.
#   build-kernel.sh baseline   Debian's linux-source-6.12 as shipped
#   build-kernel.sh patched    the same plus kernel-patches/series
# Prints the directory holding bzImage, headers/ (make headers_install),
# gen_init_cpio, config and selftests/ (sources of the kernel's tun and tap
# selftests). The directory name carries a hash of the
# sources, the series, the config fragment and the compiler, so a cache hit
# is always the right image.
#
# Both variants are built in one work tree kept under the cache
# (scripts/vm/kernel-tree.sh): the second one only recompiles what depends on
# the files the series touches.
set -euo pipefail
# shellcheck source=scripts/vm/common.sh
. "$(dirname "$0")/common.sh"

variant=${1:?usage: build-kernel.sh baseline|patched}
case $variant in baseline|patched) ;; *) die "unknown variant $variant" ;; esac

out=$(kernel_image_dir "$variant")
if [ -f "$out/bzImage" ] && [ -f "$out/done" ]; then
	log "$variant kernel: cached $out"
	echo "$out"
	exit 0
fi

# shellcheck source=scripts/vm/kernel-tree.sh
. "$VM_SCRIPTS_DIR/kernel-tree.sh"
mkdir -p "$VSTEER_CACHE/images"
take_tree_lock
# Another run may have built it while we waited for the lock.
if [ -f "$out/done" ]; then echo "$out"; exit 0; fi

start=$(date +%s)
ensure_tree
if [ "$variant" = baseline ]; then
	want=baseline
else
	mapfile -t patches < <(series_patches)
	[ "${#patches[@]}" -gt 0 ] || die "kernel-patches/series lists no patch"
	want=$(patched_state "${patches[@]}")
fi
if [ "$(tree_state)" != "$want" ]; then
	log "work tree: $(tree_state) -> $want"
	revert_to_baseline
	if [ "$variant" = patched ]; then
		for p in "${patches[@]}"; do apply_patch "$p"; done
	fi
	reconfigure
fi

log "$variant: building bzImage with -j$JOBS in $tree (ccache $CCACHE_DIR)"
if ! mk -j"$JOBS" bzImage >"$tree/build.log" 2>&1; then
	grep -E 'error|Error' "$tree/build.log" | head -n 40 >&2
	die "$variant kernel build failed (log: $tree/build.log)"
fi
if grep -q 'warning:' "$tree/build.log"; then
	log "$variant: compiler warnings:"
	grep -A3 'warning:' "$tree/build.log" | head -n 40 >&2 || true
fi

tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp/headers/include"
cp "$tree/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$tree/.config" "$tmp/config"
# = make headers_install, without its rsync dependency: the sanitized uapi
# headers that `make headers` leaves in usr/include
mk headers >/dev/null
(cd "$tree/usr/include" && find . -name '*.h' -exec cp --parents {} "$tmp/headers/include/" \;)
# the kernel's own tun and tap selftests as this variant has them (build-guest.sh compiles them)
mkdir -p "$tmp/selftests/net"
cp "$tree"/tools/testing/selftests/kselftest{,_harness}.h "$tmp/selftests/"
cp "$tree"/tools/testing/selftests/net/{tun,tap}.c "$tmp/selftests/net/"
if [ -x "$tree/usr/gen_init_cpio" ]; then
	cp "$tree/usr/gen_init_cpio" "$tmp/gen_init_cpio"
else
	gcc -O2 -o "$tmp/gen_init_cpio" "$tree/usr/gen_init_cpio.c"
fi
echo "$(($(date +%s) - start)) s" >"$tmp/build-time"
touch "$tmp/done"
rm -rf "$out"
mv "$tmp" "$out"
log "$variant: built in $(cat "$out/build-time") -> $out"
echo "$out"
