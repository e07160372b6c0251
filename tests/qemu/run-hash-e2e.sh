#!/bin/bash
# `make hash-e2e`: a Linux guest's own virtio_net driver receives, for every packet, the
# hash value vsteer's steering program computed, with vhost=on and vhost=off.
#
# Nested, all under TCG: the host boots L1 = the 6.12 test kernel (scripts/vm/build-kernel.sh,
# patched with kernel-patches/ or baseline, vhost-net built in) with an initramfs that holds
# the patched QEMU (scripts/qemu/build-qemu.sh) with its libraries and firmware, vsteer,
# vsteer-qemu-flows and the L2 guest (the baseline 6.12 image with busybox, ethtool and
# vsteer-hash-rx). tests/qemu/hash-l1-init.sh starts QEMU with `vsteer run-qemu` on a
# 4-queue tap (virtio-net mq=on,rss=on,hash=on) once per vhost mode; L2
# (tests/qemu/hash-l2-init.sh) programs RSS with ethtool, turns rx hashing on and reports
# per flow its rx queue and skb hash; L1 sends the flows into the tap. The host then checks
# every flow against the C++ reference (vsteer-qemu-flows verify-hash) for the key and
# table L2 reports:
#   patched kernel:  queue and hash of every flow = reference (report NONE: 0), and the
#                    steering program counted every frame (it stayed attached);
#   baseline kernel: QEMU's fallback, shown and checked: vhost=on negotiates no hash
#                    report (every skb hash 0, queue = reference); vhost=off computes the
#                    hash in QEMU's software RSS with the program detached (counter 0).
#
#   run-hash-e2e.sh           run (HASH_E2E_VARIANTS="patched baseline" by default)
#   run-hash-e2e.sh --check   prints why it cannot run here and exits 1, or exits 0
#   run-hash-e2e.sh --bench   `make bench-hash`: packets/s that reach the L2 guest through
#                             tap -> vhost-net with the guest's hash reports on (hash=on,
#                             the kernel fills the hash) and off (hash=off), flows sent
#                             without pacing for HASH_BENCH_SECONDS (10) each; prints the ratio
# Environment: HASH_E2E_FLOWS (default 210), HASH_E2E_SEED, HASH_E2E_VARIANTS,
# HASH_E2E_PATCHED_MODES (off,on), HASH_E2E_BASELINE_MODES (on,off), BUILD_DIR,
# HASH_E2E_PATCHED_IMAGE / HASH_E2E_BASELINE_IMAGE (an image directory of build-kernel.sh's
# layout instead of building one, e.g. another series' image from the cache),
# HASH_E2E_QEMU (the qemu-system-x86_64 L1 runs instead of the patched one: with Debian's
# stock QEMU the patched kernel shows what an unpatched QEMU does there).
set -euo pipefail
TEST_NAME=hash-e2e
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
FLOWS=${HASH_E2E_FLOWS:-210}
SEED=${HASH_E2E_SEED:-$RANDOM}
VARIANTS=${HASH_E2E_VARIANTS:-patched baseline}
HOST_QEMU=${HOST_QEMU:-qemu-system-x86_64}
VSTEER=$BUILD_DIR/vsteer
TYPES=0x3f # what the guest enables by default: the device's types minus the _EX ones

# (its own log, ok and bad: time of day on stderr, every check listed again at the end)
log() { printf '[hash-e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

why_not() {
	[ "$(id -u)" = 0 ] || { echo "needs root (kernel and QEMU builds under /var/cache/vsteer)"; return; }
	command -v "$HOST_QEMU" >/dev/null || { echo "$HOST_QEMU missing (make deps)"; return; }
	command -v clang-19 >/dev/null || { echo "clang-19 missing (make deps)"; return; }
	static_busybox || { echo "busybox-static missing (make deps)"; return; }
	[ -f /usr/lib/x86_64-linux-gnu/libbpf.a ] || { echo "libbpf.a missing (make deps)"; return; }
	if [ ! -x "$FLOWS_TOOL" ] || [ ! -x "$VSTEER" ]; then
		echo "$BUILD_DIR has no vsteer build (make build)"
		return
	fi
	[ -f /usr/src/linux-source-6.12.tar.xz ] || { echo "linux-source-6.12 missing (make deps)"; return; }
}
BENCH=0
if [ "${1:-}" = --bench ]; then
	BENCH=1
	VARIANTS=patched
fi
prerequisites "$@"

work=$(mktemp -d /tmp/vsteer-hash-e2e.XXXXXX)
trap 'if [ "${KEEP_HASH_E2E_LOGS:-0}" = 1 ]; then cp "$work"/*.log /tmp/ 2>/dev/null || true; fi; rm -rf "$work"' EXIT
t0=$(date +%s)

# ------------------------------------------------------------------ the pieces (cached)
if [ -n "${HASH_E2E_QEMU:-}" ]; then
	l1_qemu=$HASH_E2E_QEMU
else
	l1_qemu=$(bash "$REPO_ROOT/scripts/qemu/build-qemu.sh" | tail -n 1)/qemu-system-x86_64
fi
[ -x "$l1_qemu" ] || { echo "hash-e2e: FAIL: no QEMU '$l1_qemu'"; exit 1; }
declare -A image
for v in $VARIANTS baseline; do
	[ -n "${image[$v]:-}" ] && continue
	override=HASH_E2E_${v^^}_IMAGE
	if [ -n "${!override:-}" ]; then
		image[$v]=${!override}
	else
		image[$v]=$(bash "$REPO_ROOT/scripts/vm/build-kernel.sh" "$v" | tail -n 1)
	fi
	[ -f "${image[$v]}/bzImage" ] || { echo "hash-e2e: FAIL: no $v kernel in '${image[$v]}'"; exit 1; }
done
for opt in CONFIG_VHOST_NET CONFIG_TUN CONFIG_VIRTIO_NET CONFIG_PACKET CONFIG_BPF_SYSCALL; do
	grep -qx "$opt=y" "${image[baseline]}/config" || { echo "hash-e2e: FAIL: test kernel lacks $opt"; exit 1; }
done
log "pieces ready after $(($(date +%s) - t0)) s: QEMU $l1_qemu, kernels ${image[*]}"

# ------------------------------------------------------------------ L2 initramfs
clang-19 -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu \
	-c "$REPO_ROOT/tests/qemu/hash_rx.bpf.c" -o "$work/hash_rx.bpf.o"
gcc -static -O2 -Wall -Wextra -o "$work/vsteer-hash-rx" "$REPO_ROOT/tests/qemu/hash_rx.c" \
	-lbpf -lelf -lz 2> >(grep -v 'statically linked applications' >&2)

# cpio list lines for FILE (at its own path) and the shared libraries ldd names for it
with_libs() {
	local f=$1 lib
	echo "file $f $(readlink -f "$f") 755 0 0"
	ldd "$f" | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
		echo "file $lib $(readlink -f "$lib") 755 0 0"
	done
}
dirs() {
	echo "dir /dev 755 0 0"
	echo "nod /dev/console 600 0 0 c 5 1"
	echo "nod /dev/null 666 0 0 c 1 3"
	local d
	for d in /proc /sys /tmp /bin /sbin /usr /usr/bin /usr/sbin /usr/lib /vsteer /lib /lib64 \
		/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu "$@"; do
		echo "dir $d 755 0 0"
	done
	echo "file /bin/busybox $(command -v busybox) 755 0 0"
	echo "slink /bin/sh busybox 777 0 0"
}
{
	dirs
	echo "file /init $REPO_ROOT/tests/qemu/hash-l2-init.sh 755 0 0"
	echo "file /init-lib.sh $REPO_ROOT/tests/vm/init-lib.sh 644 0 0"
	echo "file /vsteer/vsteer-hash-rx $work/vsteer-hash-rx 755 0 0"
	echo "file /vsteer/hash_rx.bpf.o $work/hash_rx.bpf.o 644 0 0"
	with_libs /usr/sbin/ethtool
} >"$work/l2.list"
"${image[baseline]}/gen_init_cpio" "$work/l2.list" >"$work/l2.cpio"

# ------------------------------------------------------------------ L1 initramfs
strip -o "$work/qemu-system-x86_64" "$l1_qemu"
firmware() { # the few files this QEMU loads for a pc machine without VGA and option ROMs
	local f
	for f in bios-256k.bin linuxboot_dma.bin kvmvapic.bin; do
		for d in /usr/share/qemu /usr/share/seabios; do
			[ -f "$d/$f" ] && { echo "file /qemu/$f $(readlink -f "$d/$f") 644 0 0"; break; }
		done
	done
}
{
	dirs /qemu /l2 /run /sys/fs /sys/fs/bpf
	echo "file /init $REPO_ROOT/tests/qemu/hash-l1-init.sh 755 0 0"
	echo "file /init-lib.sh $REPO_ROOT/tests/vm/init-lib.sh 644 0 0"
	echo "file /qemu/qemu-system-x86_64 $work/qemu-system-x86_64 755 0 0"
	firmware
	echo "file /l2/bzImage ${image[baseline]}/bzImage 644 0 0"
	echo "file /l2/initramfs.cpio $work/l2.cpio 644 0 0"
	echo "file /vsteer/vsteer $VSTEER 755 0 0"
	echo "file /vsteer/vsteer-qemu-flows $FLOWS_TOOL 755 0 0"
	{
		ldd "$l1_qemu"
		ldd "$VSTEER"
		ldd "$FLOWS_TOOL"
	} | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
		echo "file $lib $(readlink -f "$lib") 755 0 0"
	done
} | sort -u -k2,2 >"$work/l1.list"
# directories first (gen_init_cpio needs them before their files)
{ grep '^dir ' "$work/l1.list"; grep -v '^dir ' "$work/l1.list"; } >"$work/l1.sorted"
"${image[baseline]}/gen_init_cpio" "$work/l1.sorted" >"$work/l1.cpio"
log "initramfs: L1 $(du -h "$work/l1.cpio" | cut -f1) (QEMU, vsteer, L2 $(du -h "$work/l2.cpio" | cut -f1)), $FLOWS flows, seed $SEED"

failures=0
results=()
ok() { log "ok: $*"; results+=("ok   $*"); }
bad() { log "FAIL: $*"; results+=("FAIL $*"); failures=$((failures + 1)); }

# section CONSOLE MODE OUT: L2's console of one run, as L1 printed it
section() { awk -v m="$2" '$0 ~ "VSTH-L2-BEGIN " m {on = 1; next} $0 ~ "VSTH-L2-END " m {on = 0} on' "$1" | tr -d '\r' >"$3"; }

run_variant() {
	local variant=$1 modes=$2 key console start round mode l2 cfg packets rxhash
	key=$(rand_key)
	console=$work/l1-$variant.log
	start=$(date +%s)
	# no_timer_check: under a loaded TCG host the kernel's IO-APIC timer check can fail
	# ("IO-APIC + timer doesn't work!" panic); L1 passes it on to L2 as well
	log "$variant kernel: booting L1 (vhost modes $modes)"
	timeout 1800 "$HOST_QEMU" -accel tcg -m 2048 -smp 1 -nodefaults -no-user-config -display none \
		-no-reboot -kernel "${image[$variant]}/bzImage" -initrd "$work/l1.cpio" \
		-append "console=ttyS0 panic=-1 oops=panic quiet no_timer_check vhost_net.hash_report=1 vsth.modes=$modes vsth.flows=$FLOWS vsth.seed=$SEED vsth.key=$key vsth.seconds=${HASH_BENCH_SECONDS:-10}" \
		-serial "file:$console" >"$work/l1-$variant.out" 2>&1 || true
	log "$variant: L1 ran $(($(date +%s) - start)) s; $(grep -m1 'VSTH-L1 vhost_net' "$console" | tr -d '\r' || echo 'no vhost_net line')"
	grep -q VSTH-L1-EXIT "$console" || bad "$variant: L1 did not finish: $(tail -n 5 "$console" | tr -d '\r' | tr '\n' ' ')"
	{ grep 'VSTH-FAIL' "$console" || true; } | tr -d '\r' | while read -r l; do log "$variant: $l"; done
	if grep -q 'VSTH-FAIL L1 kernel log' "$console"; then bad "$variant: L1 kernel log: $(grep -m1 'VSTH-FAIL L1' "$console")"; fi
	round=0
	for mode in ${modes//,/ }; do
		round=$((round + 1))
		l2=$work/l2-$variant-$mode.log
		section "$console" "$mode" "$l2"
		case $mode in bench-*)
			bench_result "$console" "$mode" "$l2" "$round"
			continue ;;
		esac
		{ grep 'VSTH-L1 vhost='"$mode" "$console" || true; } | tr -d '\r' | while read -r l; do log "$variant: $l"; done
		if ! cfg=$("$FLOWS_TOOL" guest-config "$l2" "$round"); then
			bad "$variant vhost=$mode: no RSS configuration from L2 ($(grep -m1 VSTH-FAIL "$l2" || tail -n 3 "$l2" | tr '\n' ' '))"
			continue
		fi
		rxhash=$(grep -m1 VSTH-RXHASH "$l2" | cut -d' ' -f2-)
		# frames the steering program counted while the flows were sent (and answered)
		packets=$(tr -d '\r' <"$console" | awk -v m="$mode" '$1 == "VSTH-PACKETS-BEFORE" && $2 == m {b = $3} $1 == "VSTH-PACKETS" && $2 == m {a = $3} END {if (a != "" && b != "") print a - b}')
		local expect=hash what
		if [ "$variant" = baseline ] && [ "$mode" = on ]; then
			expect=none
			what="fallback: vhost-net offers no hash report, the guest's rx hashing is '$rxhash', every skb hash must be 0"
		elif [ "$variant" = baseline ]; then
			what="fallback: QEMU's software RSS computes the hash, eBPF detached (program counted ${packets:-?} frames of the flows)"
		else
			what="the steering program's hash via the kernel (program counted ${packets:-?} frames of the flows, rx hashing '$rxhash')"
		fi
		# shellcheck disable=SC2086 # cfg is "KEY TABLE"
		if out=$("$FLOWS_TOOL" verify-hash "$l2" "$round" "$FLOWS" "$SEED" $cfg "$TYPES" "$expect"); then
			ok "$variant vhost=$mode: $(tail -n 1 <<<"$out"); $what"
		else
			bad "$variant vhost=$mode: $out; $what"
		fi
		if [ "$variant" = patched ] && [ "${packets:-0}" -lt $((2 * FLOWS)) ]; then
			bad "$variant vhost=$mode: the steering program counted ${packets:-no} frames, expected >= $((2 * FLOWS)): eBPF was not attached"
		fi
		if [ "$variant" = baseline ] && [ "$mode" = off ] && [ "${packets:-1}" != 0 ]; then
			bad "$variant vhost=$mode: the steering program counted ${packets:-no} frames; stock QEMU detaches it when the guest asks for hash reports"
		fi
	done
	log "$variant: done in $(($(date +%s) - start)) s"
}

# bench_result CONSOLE MODE L2LOG ROUND: frames L2 received (the VSTH-R frame counts) per second
declare -A pps
bench_result() {
	local console=$1 mode=$2 l2=$3 round=$4 line sent seconds got
	line=$(grep -m1 "VSTH-BENCH $mode " "$console" | tr -d '\r' || true)
	[ -n "$line" ] || { bad "$mode: L1 sent nothing ($(grep -m1 VSTH-FAIL "$console" | tr -d '\r'))"; return; }
	sent=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$line")
	seconds=$(sed -n 's/.* seconds=\([0-9]*\).*/\1/p' <<<"$line")
	got=$(grep "^VSTH-R $round " "$l2" | tr ' ' '\n' | awk -F: 'NF == 4 {s += $4} END {print s + 0}')
	pps[$mode]=$((got / seconds))
	ok "$mode: L2 received $got of $sent frames in $seconds s: ${pps[$mode]} packets/s ($(grep -m1 VSTH-RXHASH "$l2" | cut -d' ' -f2-))"
}

if [ "$BENCH" = 1 ]; then
	run_variant patched "${HASH_BENCH_MODES:-bench-nohash,bench-hash}"
	printf '%s\n' "${results[@]}"
	if [ -n "${pps[bench-hash]:-}" ] && [ "${pps[bench-nohash]:-0}" -gt 0 ]; then
		echo "bench-hash: hash reports on ${pps[bench-hash]} packets/s, off ${pps[bench-nohash]} packets/s, ratio $(awk -v a="${pps[bench-hash]}" -v b="${pps[bench-nohash]}" 'BEGIN {printf "%.3f", a / b}') (target >= 0.97; nested TCG, L1 and L2 emulated)"
	fi
	[ "$failures" -eq 0 ] || exit 1
	exit 0
fi

for v in $VARIANTS; do
	case $v in
	patched) run_variant patched "${HASH_E2E_PATCHED_MODES:-off,on}" ;;
	baseline) run_variant baseline "${HASH_E2E_BASELINE_MODES:-on,off}" ;;
	*) echo "hash-e2e: FAIL: unknown variant $v"; exit 1 ;;
	esac
done
printf '%s\n' "${results[@]}"
log "total $(($(date +%s) - t0)) s"
if [ "$failures" -eq 0 ]; then
	echo "hash-e2e: PASS (${#results[@]} checks)"
	exit 0
fi
echo "hash-e2e: FAIL ($failures failed checks)"
exit 1
