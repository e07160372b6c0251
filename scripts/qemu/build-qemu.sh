#!/bin/bash
# Build (or take from the cache) qemu-system-x86_64 of Debian's QEMU 10.0.2 with
# qemu-patches/series applied. Prints the directory that holds the binary.
#
#   build-qemu.sh            build or reuse, print the directory
#   build-qemu.sh --key      print only the cache key (no build; needs the tarball)
#
# The source is the orig tarball of the bookworm-backports source package, fetched with
# `apt-get source` (needs the deb-src entry that scripts/install-deps.sh adds) and kept in
# $VSTEER_CACHE/qemu/dl; it never enters the checkout. The directory
# $VSTEER_CACHE/qemu/KEY is named by a hash of everything that goes into the binary:
# tarball, patches, configure options, compiler and library versions, and this recipe.
# Only x86_64-softmmu with the few features the tests use is built, with ccache.
set -euo pipefail
# shellcheck source=scripts/vm/common.sh
. "$(dirname "$0")/../vm/common.sh"
log() { printf '[qemu %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[qemu] ERROR: %s\n' "$*" >&2; exit 1; }

QEMU_SRC_PKG=qemu/bookworm-backports
QEMU_TARBALL=qemu_10.0.2+ds.orig.tar.xz
QEMU_PATCH_DIR=$REPO_ROOT/qemu-patches
QEMU_CACHE=$VSTEER_CACHE/qemu
# Version of the recipe below (part of the key): bump on any change of how it builds.
QEMU_RECIPE=1
# Debian's python3 (meson 1.7 and pycotap from bookworm-backports live there), never a
# python3 that happens to come first in PATH.
QEMU_PYTHON=/usr/bin/python3
QEMU_CONFIGURE=(
	--target-list=x86_64-softmmu --without-default-features
	--enable-tcg --enable-bpf --enable-vhost-net --enable-vhost-kernel --enable-slirp
	--enable-fdt=system --disable-download
	--disable-docs --disable-debug-info --disable-install-blobs
)
# Libraries and tools whose version changes the binary.
QEMU_BUILD_PKGS=(libglib2.0-dev libslirp-dev libbpf-dev libfdt-dev meson ninja-build)

export CCACHE_DIR=$QEMU_CACHE/ccache
export CCACHE_BASEDIR=$QEMU_CACHE/work
export CCACHE_MAXSIZE=2G

key_only=0
[ "${1:-}" = --key ] && key_only=1

mkdir -p "$QEMU_CACHE/dl"
exec 9>"$QEMU_CACHE/lock"
flock 9

tarball=$QEMU_CACHE/dl/$QEMU_TARBALL
if [ ! -f "$tarball" ]; then
	[ "$key_only" = 0 ] || die "no $tarball yet (build-qemu.sh fetches it)"
	dl=$(mktemp -d "$QEMU_CACHE/dl/.fetch.XXXXXX")
	chmod 755 "$dl" # apt's _apt user downloads into it
	log "fetching the QEMU source ($QEMU_SRC_PKG)"
	if ! (cd "$dl" && apt-get source --download-only --tar-only "$QEMU_SRC_PKG" >&2); then
		rm -rf "$dl"
		die "apt-get source $QEMU_SRC_PKG failed: is there a deb-src entry for bookworm-backports? (run scripts/install-deps.sh; then apt-get update)"
	fi
	if [ ! -f "$dl/$QEMU_TARBALL" ]; then
		found=$(cd "$dl" && ls)
		rm -rf "$dl"
		die "$QEMU_SRC_PKG is no longer QEMU 10.0.2 (got: $found); qemu-patches/ is a series against $QEMU_TARBALL"
	fi
	mv "$dl/$QEMU_TARBALL" "$tarball"
	rm -rf "$dl"
fi

series_patches() {
	local p
	while read -r p; do
		case $p in '' | '#'*) continue ;; esac
		[ -f "$QEMU_PATCH_DIR/$p" ] || die "qemu-patches/series names $p, which does not exist"
		printf '%s\n' "$QEMU_PATCH_DIR/$p"
	done <"$QEMU_PATCH_DIR/series"
}
mapfile -t patches < <(series_patches)

key=$(
	{
		echo "vsteer-qemu-v$QEMU_RECIPE"
		echo "$QEMU_TARBALL $(sha256sum <"$tarball" | cut -c1-64)"
		for p in "${patches[@]}"; do
			basename "$p"
			cat "$p"
		done
		echo "${QEMU_CONFIGURE[*]}"
		gcc --version | head -n1
		dpkg-query -W -f '${Package} ${Version}\n' "${QEMU_BUILD_PKGS[@]}"
	} | sha256sum | cut -c1-16
)
if [ "$key_only" = 1 ]; then
	echo "$key"
	exit 0
fi
out=$QEMU_CACHE/$key
if [ -x "$out/qemu-system-x86_64" ] && [ -f "$out/done" ]; then
	log "qemu-system-x86_64: cached $out"
	echo "$out"
	exit 0
fi

start=$(date +%s)
work=$QEMU_CACHE/work
rm -rf "$work"
mkdir -p "$work"
log "unpacking $QEMU_TARBALL"
tar --no-same-owner -xJf "$tarball" -C "$work" --strip-components=1
for p in "${patches[@]}"; do
	log "applying $(basename "$p")"
	if ! patch -d "$work" -p1 -F0 -s --dry-run <"$p" >&2; then
		die "$(basename "$p") does not apply to QEMU 10.0.2"
	fi
	patch -d "$work" -p1 -F0 -s <"$p"
done
# The +ds tarball has no firmware. meson wants the x86 EDK2 images it would unpack even
# though nothing is installed; empty stand-ins pass. At run time QEMU takes its firmware
# from Debian's qemu-system-data (-L /usr/share/qemu).
for f in edk2-i386-code edk2-i386-secure-code edk2-i386-vars edk2-x86_64-code edk2-x86_64-secure-code; do
	[ -e "$work/pc-bios/$f.fd.bz2" ] || bzip2 -c </dev/null >"$work/pc-bios/$f.fd.bz2"
done

mkdir -p "$work/build" "$CCACHE_DIR"
log "configure: ${QEMU_CONFIGURE[*]}"
if ! (cd "$work/build" && ../configure --python="$QEMU_PYTHON" --cc="ccache gcc" \
	"${QEMU_CONFIGURE[@]}" >"$work/configure.log" 2>&1); then
	tail -n 30 "$work/configure.log" >&2
	die "QEMU configure failed (log: $work/configure.log)"
fi
log "ninja qemu-system-x86_64 -j$JOBS (ccache $CCACHE_DIR)"
if ! ninja -C "$work/build" -j"$JOBS" qemu-system-x86_64 >"$work/build.log" 2>&1; then
	grep -E -B2 -A6 'error|FAILED' "$work/build.log" | head -n 60 >&2
	die "QEMU build failed (log: $work/build.log)"
fi
if grep -q 'warning:' "$work/build.log"; then
	log "compiler warnings:"
	grep -A3 'warning:' "$work/build.log" | head -n 40 >&2 || true
fi

tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$work/build/qemu-system-x86_64" "$tmp/"
printf '%s\n' "${QEMU_CONFIGURE[@]}" >"$tmp/configure-options"
for p in "${patches[@]}"; do basename "$p"; done >"$tmp/series"
echo "$(($(date +%s) - start)) s" >"$tmp/build-time"
touch "$tmp/done"
rm -rf "$out"
mv "$tmp" "$out"
rm -rf "$work"
log "built in $(cat "$out/build-time") -> $out"
echo "$out"
