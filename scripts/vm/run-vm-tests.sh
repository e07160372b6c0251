#!/bin/bash
# `make vm-test`: builds (or takes from the cache) the patched and the unpatched 6.12
# kernels, builds the guest tests and initramfs, boots both kernels under QEMU/TCG, and
# prints the guest results side by side. Exit 0 only if every case passed on both
# kernels (each against what that kernel must show) and neither console shows
# BUG:/WARNING:/Oops/KASAN/panic.
#
# Environment: VSTEER_CACHE (default /var/cache/vsteer), BUILD_DIR (build),
#   VM_VARIANTS ("patched baseline"), VM_SUITE (all|tun|vhost|kselftest), VM_FRAMES (200),
#   VM_TIMEOUT (600 s per boot), JOBS.
set -euo pipefail
. "$(dirname "$0")/common.sh"

build_dir=${BUILD_DIR:-$REPO_ROOT/build}
case $build_dir in /*) ;; *) build_dir=$REPO_ROOT/$build_dir ;; esac
out=$build_dir/vm
variants=${VM_VARIANTS:-patched baseline}
mkdir -p "$out"
if [ "${1:-}" != --check ]; then
	# one run at a time per build directory (initramfs and console logs live there)
	exec 8>"$out/.lock"
	flock 8
fi
t0=$(date +%s)

# Prerequisites: report every missing one at once.
missing=()
for c in qemu-system-x86_64 ccache gcc g++ make flock patch xz bc flex bison file; do
	command -v "$c" >/dev/null || missing+=("$c")
done
[ -f "$KERNEL_TARBALL" ] || missing+=("$KERNEL_TARBALL ($KERNEL_PKG)")
[ -f /usr/lib/x86_64-linux-gnu/libbpf.a ] || missing+=("libbpf.a (libbpf-dev)")
[ -f /usr/lib/x86_64-linux-gnu/libelf.a ] || missing+=("libelf.a (libelf-dev)")
[ -f /usr/lib/x86_64-linux-gnu/libz.a ] || missing+=("libz.a (zlib1g-dev)")
command -v busybox >/dev/null && grep -q 'statically linked' <<<"$(file -L "$(command -v busybox)")" ||
	missing+=("static busybox (busybox-static)")
if [ "${1:-}" = --check ]; then
	[ "${#missing[@]}" = 0 ] && exit 0
	echo "missing: ${missing[*]}"
	exit 3
fi
[ "${#missing[@]}" = 0 ] || die "vm-test cannot run, missing: ${missing[*]} (scripts/install-deps.sh)"

declare -A image
for v in patched baseline; do
	case " $variants " in *" $v "*) ;; *) continue ;; esac
	s=$(date +%s)
	# (olddefconfig's "override: reassigning" notes are expected: the fragment overrides)
	image[$v]=$("$VM_SCRIPTS_DIR/build-kernel.sh" "$v" 2> >(grep --line-buffered -v 'override: reassigning' >&2))
	log "$v kernel ready in $(($(date +%s) - s)) s: ${image[$v]}"
done
headers_from=${image[patched]:-}
[ -n "$headers_from" ] || headers_from=$("$VM_SCRIPTS_DIR/build-kernel.sh" patched)
"$VM_SCRIPTS_DIR/build-guest.sh" "$headers_from" "$out" >/dev/null
t_build=$(($(date +%s) - t0))

fail=0
declare -A res obs
cases=()
for v in $variants; do
	logf=$out/console-$v.log
	log "booting $v kernel (log: $logf)"
	s=$(date +%s)
	rc=0
	"$VM_SCRIPTS_DIR/boot.sh" "${image[$v]}/bzImage" "$out/initramfs.cpio" "$v" "$logf" \
		"vsteer.suite=${VM_SUITE:-all} vsteer.frames=${VM_FRAMES:-200}" || rc=$?
	log "$v: QEMU exited $rc after $(($(date +%s) - s)) s"
	tr -d '\r' <"$logf" >"$logf.txt"
	if [ "$rc" = 124 ]; then
		log "$v: timed out"; fail=1
	fi
	if ! grep -q '^VSTEER-END ' "$logf.txt"; then
		log "$v: the guest tests did not finish; console tail:"
		tail -n 40 "$logf.txt" >&2
		fail=1
	fi
	if grep -avE '^VSTEER-' "$logf.txt" |
		grep -anE 'BUG:|WARNING:|Oops|KASAN|general protection|Kernel panic|refcount_t' >&2; then
		log "$v: kernel problems in the console (above)"
		fail=1
	fi
	while read -r _ name verdict rest; do
		[ -n "${res[$name]+x}" ] || [ -n "${res[$name@patched]+x}" ] || [ -n "${res[$name@baseline]+x}" ] ||
			cases+=("$name")
		res[$name@$v]=$verdict
		obs[$name@$v]=$rest
	done < <(grep -a '^VSTEER-RESULT ' "$logf.txt")
done

# Side by side.
passed=0 failed=0
printf '\n%-44s %-6s %-6s  %s\n' "case" "patched" "baseline" "observed (patched | baseline)"
for c in "${cases[@]}"; do
	p=${res[$c@patched]:--} b=${res[$c@baseline]:--}
	for x in "$p" "$b"; do
		case $x in PASS) passed=$((passed + 1)) ;; FAIL) failed=$((failed + 1)) ;; esac
	done
	po=${obs[$c@patched]:-} bo=${obs[$c@baseline]:-}
	printf '%-44s %-7s %-7s  %s | %s\n' "$c" "$p" "$b" "${po:0:90}" "${bo:0:90}"
done
{
	echo
	for v in $variants; do
		grep -a '^VSTEER-END\|^VSTEER-TIME\|^VSTEER-KERNEL' "$out/console-$v.log.txt" | sed "s/^/$v: /"
	done
} || true
total=$(($(date +%s) - t0))
echo
echo "vm-test: $passed passed, $failed failed (kernels+guest build ${t_build} s, total ${total} s)"
[ "$failed" = 0 ] && [ "$fail" = 0 ] && [ "$passed" -gt 0 ]
