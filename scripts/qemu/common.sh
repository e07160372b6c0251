# shellcheck shell=bash
# Shared by scripts/qemu/build-qemu.sh and check-series.sh (sourced, not executed): where the
# QEMU source comes from, how it is configured, the series.
# shellcheck source=scripts/vm/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/common.sh"
log() { printf '[qemu %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[qemu] ERROR: %s\n' "$*" >&2; exit 1; }

QEMU_SRC_PKG=qemu/bookworm-backports
QEMU_TARBALL=qemu_10.0.2+ds.orig.tar.xz
QEMU_PATCH_DIR=$REPO_ROOT/qemu-patches
QEMU_CACHE=$VSTEER_CACHE/qemu
# Version of the recipe in build-qemu.sh (part of the key): bump on any change of how it builds.
# shellcheck disable=SC2034 # (used by build-qemu.sh)
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
# shellcheck disable=SC2034 # (used by build-qemu.sh)
QEMU_BUILD_PKGS=(libglib2.0-dev libslirp-dev libbpf-dev libfdt-dev meson ninja-build)

export CCACHE_DIR=$QEMU_CACHE/ccache
export CCACHE_MAXSIZE=2G

# The orig tarball, fetched once into $QEMU_CACHE/dl with apt-get source; prints its path.
qemu_tarball() {
	local tarball=$QEMU_CACHE/dl/$QEMU_TARBALL dl found
	if [ ! -f "$tarball" ]; then
		mkdir -p "$QEMU_CACHE/dl"
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
	echo "$tarball"
}

# qemu_inputs: takes the cache's lock (held until the script exits) and sets tarball (the
# orig tarball, fetched once) and patches (qemu-patches/series, in order).
# shellcheck disable=SC2034 # (set for build-qemu.sh and check-series.sh)
qemu_inputs() {
	mkdir -p "$QEMU_CACHE"
	exec 9>"$QEMU_CACHE/lock"
	flock 9
	tarball=$(qemu_tarball)
	mapfile -t patches < <(series_patches)
}

# The patches of qemu-patches/series, in order, as absolute paths.
series_patches() {
	local p
	while read -r p; do
		case $p in '' | '#'*) continue ;; esac
		[ -f "$QEMU_PATCH_DIR/$p" ] || die "qemu-patches/series names $p, which does not exist"
		printf '%s\n' "$QEMU_PATCH_DIR/$p"
	done <"$QEMU_PATCH_DIR/series"
}

# unpack_tree TARBALL DIR: a fresh source tree in DIR, ready for configure.
unpack_tree() {
	local tarball=$1 dir=$2 f
	rm -rf "$dir"
	mkdir -p "$dir"
	log "unpacking $(basename "$tarball")"
	tar --no-same-owner -xJf "$tarball" -C "$dir" --strip-components=1
	# The +ds tarball has no firmware. meson wants every EDK2 image pc-bios/meson.build lists
	# (all architectures) as soon as an x86 target is built, even though nothing is
	# installed; empty stand-ins pass. At run time QEMU takes its firmware from Debian's
	# qemu-system-data and seabios (-L /usr/share/qemu -L /usr/share/seabios).
	for f in $(grep -oE "'edk2-[a-z0-9_-]+\.fd'" "$dir/pc-bios/meson.build" | tr -d "'"); do
		[ -e "$dir/pc-bios/$f.bz2" ] || bzip2 -c </dev/null >"$dir/pc-bios/$f.bz2"
	done
}

# apply_patch DIR PATCH: applies exactly (no fuzz), or fails without changing DIR.
apply_patch() {
	local dir=$1 p=$2
	patch -d "$dir" -p1 -F0 -s --dry-run <"$p" >&2 || die "$(basename "$p") does not apply to QEMU 10.0.2"
	patch -d "$dir" -p1 -F0 -s <"$p"
}

# configure_tree DIR: configures DIR/build for qemu-system-x86_64 with ccache.
configure_tree() {
	local dir=$1
	mkdir -p "$dir/build" "$CCACHE_DIR"
	log "configure: ${QEMU_CONFIGURE[*]}"
	if ! (cd "$dir/build" && ../configure --python="$QEMU_PYTHON" --cc="ccache gcc" \
		"${QEMU_CONFIGURE[@]}" >"$dir/configure.log" 2>&1); then
		tail -n 30 "$dir/configure.log" >&2
		die "QEMU configure failed (log: $dir/configure.log)"
	fi
}

# build_tree DIR: ninja qemu-system-x86_64; fails on errors, shows warnings.
build_tree() {
	local dir=$1
	log "ninja qemu-system-x86_64 -j$JOBS (ccache $CCACHE_DIR)"
	if ! ninja -C "$dir/build" -j"$JOBS" qemu-system-x86_64 >"$dir/build.log" 2>&1; then
		grep -E -B2 -A6 'error|FAILED' "$dir/build.log" | head -n 60 >&2
		die "QEMU build failed (log: $dir/build.log)"
	fi
	if grep -q 'warning:' "$dir/build.log"; then
		log "compiler warnings:"
		grep -A3 'warning:' "$dir/build.log" | head -n 40 >&2 || true
		return 1
	fi
}
