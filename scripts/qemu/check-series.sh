#!/bin/bash
# `make qemu-check-series`: every patch of qemu-patches/ applies in turn to QEMU 10.0.2,
# passes QEMU's own scripts/checkpatch.pl and builds qemu-system-x86_64 without compiler
# warnings (one tree under $VSTEER_CACHE/qemu/check, incremental builds with ccache).
set -euo pipefail
# shellcheck source=scripts/qemu/common.sh
. "$(dirname "$0")/common.sh"

qemu_inputs
tree=$QEMU_CACHE/check
export CCACHE_BASEDIR=$tree
unpack_tree "$tarball" "$tree"
configure_tree "$tree"
failed=0
for p in "${patches[@]}"; do
	name=$(basename "$p")
	start=$(date +%s)
	apply_patch "$tree" "$p"
	if ! (cd "$tree" && perl scripts/checkpatch.pl -q "$p" >"$tree/checkpatch.log" 2>&1); then
		cat "$tree/checkpatch.log" >&2
		log "FAIL $name: checkpatch"
		failed=1
	fi
	warnings=$(grep -cE '^(WARNING|ERROR)' "$tree/checkpatch.log" || true)
	if build_tree "$tree"; then
		log "ok   $name: checkpatch clean (${warnings} notes), builds ($(($(date +%s) - start)) s)"
	else
		log "FAIL $name: build warnings"
		failed=1
	fi
done
rm -rf "$tree"
[ "$failed" = 0 ] || die "the series has failing steps (above)"
log "all ${#patches[@]} patches: checkpatch and build clean"
