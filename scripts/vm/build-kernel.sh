#!/bin/bash
# Build (or fetch from the cache) one test kernel.
#   build-kernel.sh baseline   Debian's linux-source-6.12 as shipped
#   build-kernel.sh patched    the same plus kernel-patches/series
# Prints the directory holding bzImage, headers/ (make headers_install),
# gen_init_cpio and config. The directory name carries a hash of the
# sources, the series, the config fragment and the compiler, so a cache hit
# is always the right image. The 2.7 GB work tree is not kept unless
# VSTEER_KEEP_TREE=1.
set -euo pipefail
. "$(dirname "$0")/common.sh"

variant=${1:?usage: build-kernel.sh baseline|patched}
case $variant in baseline|patched) ;; *) die "unknown variant $variant" ;; esac

out=$(kernel_image_dir "$variant")
if [ -f "$out/bzImage" ] && [ -f "$out/done" ]; then
	log "$variant kernel: cached $out"
	echo "$out"
	exit 0
fi

command -v ccache >/dev/null || die "ccache missing (apt-get install ccache)"
[ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL missing (apt-get install $KERNEL_PKG)"
mkdir -p "$VSTEER_CACHE/images" "$VSTEER_CACHE/tree" "$CCACHE_DIR"

exec 9>"$VSTEER_CACHE/tree/$variant.lock"
flock 9
# Another run may have built it while we waited for the lock.
if [ -f "$out/done" ]; then echo "$out"; exit 0; fi

start=$(date +%s)
tree=$VSTEER_CACHE/tree/$variant
if [ -e "$tree" ]; then
	trash=$VSTEER_CACHE/tree/.trash.$$
	mv "$tree" "$trash"
	# in the background (it takes ~40 s), detached from our stdout so that
	# $(build-kernel.sh) does not wait for it
	(rm -rf "$trash" </dev/null >/dev/null 2>&1 &)
fi
mkdir -p "$tree"
log "$variant: extracting $KERNEL_TARBALL"
tar -xf "$KERNEL_TARBALL" --strip-components=1 -C "$tree"

if [ "$variant" = patched ]; then
	n=0
	for p in $(series_patches); do
		log "applying $(basename "$p")"
		patch -d "$tree" -p1 -F0 -s --no-backup-if-mismatch <"$p" ||
			die "$(basename "$p") does not apply"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || die "kernel-patches/series lists no patch"
fi

# A fixed path is used for every build of a variant; ccache ignores it anyway.
export CCACHE_BASEDIR=$tree
mk() { make -C "$tree" -s ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" "$@"; }

mapfile -t fragments < <(config_fragments "$variant")
for f in "${fragments[@]}"; do
	# Kconfig would silently drop BTF without pahole; say what is missing instead
	if grep -qx 'CONFIG_DEBUG_INFO_BTF=y' "$f" && ! command -v pahole >/dev/null; then
		die "pahole missing: $(basename "$f") sets CONFIG_DEBUG_INFO_BTF=y (apt-get install dwarves)"
	fi
done
log "$variant: configuring (tinyconfig + ${fragments[*]##*/})"
mk tinyconfig >/dev/null
for f in "${fragments[@]}"; do
	grep -v '^[[:space:]]*$' "$f" | grep -v '^# [^C]' >>"$tree/.config"
done
mk olddefconfig >/dev/null 2>&1
missing=0
for f in "${fragments[@]}"; do
	while read -r line; do
		case $line in
		'# CONFIG_'*' is not set')
			opt=${line#\# }; opt=${opt%% *}
			if grep -q "^$opt=" "$tree/.config"; then
				log "config: $opt should be off but is $(grep "^$opt=" "$tree/.config") ($(basename "$f"))"
				missing=1
			fi ;;
		CONFIG_*)
			if ! grep -qx "$line" "$tree/.config"; then
				log "config: $line ($(basename "$f")) did not survive olddefconfig"
				missing=1
			fi ;;
		esac
	done <"$f"
done
[ "$missing" = 0 ] || die "config fragment not honoured (missing dependencies?)"

log "$variant: building bzImage with -j$JOBS (ccache $CCACHE_DIR)"
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

if [ "${VSTEER_KEEP_TREE:-0}" != 1 ]; then
	mv "$tree" "$VSTEER_CACHE/tree/.trash.$$.done"
	(rm -rf "$VSTEER_CACHE/tree/.trash.$$.done" </dev/null >/dev/null 2>&1 &)
fi
echo "$out"
