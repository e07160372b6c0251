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
# Version of the image recipe in build-kernel.sh (part of the cache key).
KERNEL_RECIPE=3

export CCACHE_DIR=${CCACHE_DIR:-$VSTEER_CACHE/ccache}
export CCACHE_NOHASHDIR=true
export CCACHE_COMPILERCHECK=content

log() { printf '[vm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[vm] ERROR: %s\n' "$*" >&2; exit 1; }

# is_stale TARGET DEP...: TARGET is missing or older than one of the DEPs.
is_stale() {
	local target=$1 d
	shift
	[ -e "$target" ] || return 0
	for d in "$@"; do
		[ "$d" -nt "$target" ] && return 0
	done
	return 1
}

# The patches of the series, in order, as absolute paths.
series_patches() {
	local p
	[ -f "$PATCH_DIR/series" ] || return 0
	while read -r p; do
		case $p in ''|'#'*) continue ;; esac
		printf '%s\n' "$PATCH_DIR/$p"
	done <"$PATCH_DIR/series"
}

# The config fragments of one variant, in the order they are applied: kernel.config, then
# kernel-VARIANT.config if there is one (the baseline's adds BTF; the patched kernel has none).
config_fragments() {
	echo "$CONFIG_FRAGMENT"
	if [ -f "$VM_SCRIPTS_DIR/kernel-$1.config" ]; then
		echo "$VM_SCRIPTS_DIR/kernel-$1.config"
	fi
}

# Cache key of one kernel variant: sha256 of everything that goes into it.
kernel_key() {
	local variant=$1
	{
		echo "vsteer-kernel-v1 $variant"
		dpkg-query -W -f '${Version}\n' "$KERNEL_PKG" 2>/dev/null ||
			stat -c '%s %Y' "$KERNEL_TARBALL"
		gcc --version | head -n1
		ccache --version | head -n1
		local f
		for f in $(config_fragments "$variant"); do
			cat "$f"
		done
		# how build-kernel.sh turns these into an image: bump on any change to it
		echo "recipe $KERNEL_RECIPE"
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
