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
# (another series can be built in the same tree: PATCH_DIR=DIR, e.g. an earlier version)
PATCH_DIR=${PATCH_DIR:-$REPO_ROOT/kernel-patches}
CONFIG_FRAGMENT=$VM_SCRIPTS_DIR/kernel.config
JOBS=${JOBS:-$(nproc)}
# Extra compiler flags of the kernel build. BTF needs DWARF types, not variable locations:
# without var-tracking gcc compiles the -g kernel markedly faster.
KERNEL_KCFLAGS="-fno-var-tracking -fno-var-tracking-assignments"
# Version of the image recipe in build-kernel.sh (part of the cache key).
KERNEL_RECIPE=6

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

# What the sources of a work tree are and how they are compiled (the source package, the
# compiler, pahole, the flags, how build-kernel.sh builds): one line each.
source_inputs() {
	dpkg-query -W -f '${Version}\n' "$KERNEL_PKG" 2>/dev/null ||
		stat -c '%s %Y' "$KERNEL_TARBALL"
	gcc --version | head -n1
	ccache --version | head -n1
	pahole --version 2>/dev/null || echo "no pahole"
	echo "KCFLAGS $KERNEL_KCFLAGS"
	# how build-kernel.sh turns these into an image: bump on any change to it
	echo "recipe $KERNEL_RECIPE"
}

# Everything an image depends on besides the series: the sources and the config fragment.
kernel_inputs() {
	source_inputs
	cat "$CONFIG_FRAGMENT"
}

# What of a patch file goes into a kernel: its diff, not the mail headers and the commit
# message (rewording a patch, or the series' subject prefix, rebuilds nothing).
patch_code() { sed -n '/^diff --git /,$p' "$1"; }

# Key of the shared work tree of both variants (build-kernel.sh). The config fragment is
# not part of it: a tree configured with another fragment is reconfigured in place, and
# kbuild recompiles only what depends on the options that changed.
tree_key() { source_inputs | sha256sum | cut -c1-16; }

# Cache key of one kernel variant: sha256 of everything that goes into it.
kernel_key() {
	local variant=$1
	{
		echo "vsteer-kernel-v1 $variant"
		kernel_inputs
		if [ "$variant" = patched ]; then
			local p
			for p in $(series_patches); do
				patch_code "$p"
			done
		fi
	} | sha256sum | cut -c1-16
}

kernel_image_dir() { echo "$VSTEER_CACHE/images/$1-$(kernel_key "$1")"; }
