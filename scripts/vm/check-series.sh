#!/bin/bash
# Checks the series one patch at a time: each applies to the previous state, passes
# scripts/checkpatch.pl --strict, and the kernel (test config) builds after it without
# warnings. Runs in the work tree build-kernel.sh keeps (scripts/vm/kernel-tree.sh), so each
# step recompiles only what its patch affects; it leaves the tree with the whole series.
#   --quick   after each patch, compile only the .c files the series touches (with
#             the full test config) instead of the whole bzImage
set -euo pipefail
# shellcheck source=scripts/vm/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/vm/kernel-tree.sh
. "$VM_SCRIPTS_DIR/kernel-tree.sh"

quick=0
[ "${1:-}" = --quick ] && quick=1
mapfile -t patches < <(series_patches)
[ "${#patches[@]}" -gt 0 ] || die "kernel-patches/series lists no patch"
take_tree_lock
ensure_tree
revert_to_baseline
reconfigure

if [ "$quick" = 1 ]; then
	# every .c file any patch of the series touches
	targets=$(for q in "${patches[@]}"; do grep -oE '^\+\+\+ b/[^ ]+\.c' "$q"; done |
		sed 's|^+++ b/||; s|\.c$|.o|' | sort -u)
else
	targets=bzImage
fi
status=0
n=0
for p in "${patches[@]}"; do
	n=$((n + 1))
	name=$(basename "$p")
	if ! (cd "$tree" && perl scripts/checkpatch.pl --strict -q "$p"); then
		log "FAIL checkpatch: $name"
		status=1
	fi
	apply_patch "$p"
	reconfigure
	s=$(date +%s)
	# shellcheck disable=SC2086
	if mk -j"$JOBS" $targets >"$tree/build-$n.log" 2>&1 && ! grep -q 'warning:' "$tree/build-$n.log"; then
		log "ok   $name: checkpatch clean, $(echo $targets) build without warnings ($(($(date +%s) - s)) s)"
	else
		grep -B2 -A6 -E 'warning:|error:' "$tree/build-$n.log" | head -n 40 >&2 || true
		log "FAIL build after $name"
		status=1
	fi
done
exit $status
