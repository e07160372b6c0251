# shellcheck shell=bash
# Shared settings of the vsteer VM scripts (sourced, not executed).

VM_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$VM_SCRIPTS_DIR/../.." && pwd)
# Everything big lives outside the checkout.
# (not writable there, e.g. without root: the user's cache directory)
if [ -z "${VSTEER_CACHE:-}" ]; then
	if mkdir -p /var/cache/vsteer 2>/dev/null && [ -w /var/cache/vsteer ]; then
		VSTEER_CACHE=/var/cache/vsteer
	else
		VSTEER_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vsteer
	fi
fi
KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KERNEL_PKG=${KERNEL_PKG:-linux-source-6.12}
PATCH_DIR=$REPO_ROOT/kernel-patches
CONFIG_FRAGMENT=$VM_SCRIPTS_DIR/kernel.config
JOBS=${JOBS:-$(nproc)}
# Extra compiler flags of the kernel build. BTF needs DWARF types, not variable locations:
# without var-tracking gcc compiles the -g kernel markedly faster.
KERNEL_KCFLAGS="-fno-var-tracking -fno-var-tracking-assignments"
# Version of the image recipe in build-kernel.sh (part of the cache key).
KERNEL_RECIPE=5

export CCACHE_DIR=${CCACHE_DIR:-$VSTEER_CACHE/ccache}
export CCACHE_NOHASHDIR=true
export CCACHE_COMPILERCHECK=content
# Depend mode: a miss compiles once, without the extra preprocessor pass (about a tenth of a
# cold kernel build); hits still come from kbuild's -MMD dependency lists.
export CCACHE_DEPEND=true

log() { printf '[vm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[vm] ERROR: %s\n' "$*" >&2; exit 1; }

# The patches of the series, in order, as absolute paths.
series_patches() {
	local p
	[ -f "$PATCH_DIR/series" ] || return 0
	while read -r p; do
		case $p in ''|'#'*) continue ;; esac
		printf '%s\n' "$PATCH_DIR/$p"
	done <"$PATCH_DIR/series"
}

# What a work tree depends on (the source package, the compiler, the config and how
# build-kernel.sh builds): one line each, for the cache keys below.
kernel_inputs() {
	dpkg-query -W -f '${Version}\n' "$KERNEL_PKG" 2>/dev/null ||
		stat -c '%s %Y' "$KERNEL_TARBALL"
	gcc --version | head -n1
	ccache --version | head -n1
	pahole --version 2>/dev/null || echo "no pahole"
	cat "$CONFIG_FRAGMENT"
	echo "KCFLAGS $KERNEL_KCFLAGS"
	# how build-kernel.sh turns these into an image: bump on any change to it
	echo "recipe $KERNEL_RECIPE"
}

# Key of the shared work tree of both variants (build-kernel.sh).
tree_key() { kernel_inputs | sha256sum | cut -c1-16; }

# Cache key of one kernel variant: sha256 of everything that goes into it.
kernel_key() {
	local variant=$1
	{
		echo "vsteer-kernel-v1 $variant"
		kernel_inputs
		if [ "$variant" = patched ]; then
			local p
			for p in $(series_patches); do
				basename "$p"
				cat "$p"
			done
		fi
	} | sha256sum | cut -c1-16
}

kernel_image_dir() { echo "$VSTEER_CACHE/images/$1-$(kernel_key "$1")"; }
