#!/bin/bash
# Checks the series one patch at a time: each applies to the previous state, passes
# scripts/checkpatch.pl --strict, and the kernel (test config) builds after it.
# With ccache warm from `make vm-kernels` the rebuilds are mostly cache hits.
#   --quick   after each patch, compile only the .c files the series touches (with
#             the full test config) instead of the whole bzImage
set -euo pipefail
. "$(dirname "$0")/common.sh"

quick=0
[ "${1:-}" = --quick ] && quick=1
tree=$VSTEER_CACHE/tree/series
mkdir -p "$VSTEER_CACHE/tree"
exec 9>"$VSTEER_CACHE/tree/series.lock"
flock 9
rm -rf "$tree"
mkdir -p "$tree"
log "extracting $KERNEL_TARBALL"
tar -xf "$KERNEL_TARBALL" --strip-components=1 -C "$tree"
export CCACHE_BASEDIR=$tree
mk() { make -C "$tree" -s ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" "$@"; }

status=0
n=0
for p in $(series_patches); do
	n=$((n + 1))
	name=$(basename "$p")
	if ! (cd "$tree" && perl scripts/checkpatch.pl --strict -q "$p"); then
		log "FAIL checkpatch: $name"
		status=1
	fi
	patch -d "$tree" -p1 -F0 -s --no-backup-if-mismatch <"$p" || die "$name does not apply"
	mk tinyconfig >/dev/null
	grep -v '^[[:space:]]*$' "$CONFIG_FRAGMENT" | grep -v '^# [^C]' >>"$tree/.config"
	mk olddefconfig >/dev/null 2>&1
	s=$(date +%s)
	if [ "$quick" = 1 ]; then
		# every .c file any patch of the series touches
		targets=$(for q in $(series_patches); do grep -oE '^\+\+\+ b/[^ ]+\.c' "$q"; done |
			sed 's|^+++ b/||; s|\.c$|.o|' | sort -u)
	else
		targets=bzImage
	fi
	# shellcheck disable=SC2086
	if mk -j"$JOBS" $targets >"$tree/build-$n.log" 2>&1 && ! grep -q 'warning:' "$tree/build-$n.log"; then
		log "ok   $name: checkpatch clean, $(echo $targets) build without warnings ($(($(date +%s) - s)) s)"
	else
		grep -B2 -A6 -E 'warning:|error:' "$tree/build-$n.log" | head -n 40 >&2 || true
		log "FAIL build after $name"
		status=1
	fi
done
[ "${VSTEER_KEEP_TREE:-0}" = 1 ] || rm -rf "$tree"
exit $status
