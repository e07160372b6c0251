#!/bin/bash
# Build (or take from the cache) qemu-system-x86_64 of Debian's QEMU 10.0.2 with
# qemu-patches/series applied. Prints the directory that holds the binary.
#
#   build-qemu.sh            build or reuse, print the directory
#   build-qemu.sh --key      print only the cache key (no build)
#
# The source is the orig tarball of the bookworm-backports source package, fetched with
# `apt-get source` (needs the deb-src entry that scripts/install-deps.sh adds) and kept in
# $VSTEER_CACHE/qemu/dl; it never enters the checkout. The directory
# $VSTEER_CACHE/qemu/KEY is named by a hash of everything that goes into the binary:
# tarball, patches, configure options, compiler and library versions, and this recipe.
# Only x86_64-softmmu with the few features the tests use is built, with ccache.
set -euo pipefail
# shellcheck source=scripts/qemu/common.sh
. "$(dirname "$0")/common.sh"

qemu_inputs
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
if [ "${1:-}" = --key ]; then
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
# one path for every build: ccache hits across fresh trees
export CCACHE_BASEDIR=$work
unpack_tree "$tarball" "$work"
for p in "${patches[@]}"; do
	log "applying $(basename "$p")"
	apply_patch "$work" "$p"
done
configure_tree "$work"
build_tree "$work" || true

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
