#!/usr/bin/env bash
# `make qemu-test`: vsteer hands QEMU its ebpf-rss-fds and follows the guest's RSS policy,
# proven with a real Linux 6.12 guest (QEMU/TCG, virtio-net mq=on,rss=on, 4 queues, vhost=off).
#
#   tests/qemu/run-qemu-test.sh [--check]
#
# --check only tells whether the test can run here (prints the reason and exits 1 if not).
# Steps:
#  1. negative cases, against a stand-in QEMU that records whether it was started: missing
#     tap, QEMU older than 9.0, netdev without device, two devices, pins of the wrong kind;
#     and one positive run that checks the four fds arrive open, as BPF objects, in QEMU;
#  2. `vsteer run-qemu` starts the real guest on a 4-queue tap in a private network
#     namespace; in three rounds the guest programs RSS with ethtool (key K1 + equal 4;
#     key K2 + weighted table; tcp4 hashed on addresses only) and, for each round:
#     `vsteer show --json` must hold exactly the guest's key, table and hash types,
#     `vsteer check` must pass, the host sends distinct flows into the tap and every flow
#     must arrive on the guest rx queue the C++ reference predicts;
#  3. qmp-attach (getfd) and qemu-object (request-ebpf) against the running QEMU, and a
#     deliberate inconsistency that `vsteer check` must name.
# With QEMU_TEST_UNPRIVILEGED=1, step 2 runs as libvirt would: the tap's queues and the BPF
# objects are passed as fds and QEMU runs as nobody without capabilities (see below).
# Everything it creates (namespace, tap, pins, processes) is removed by PID/name at exit.
set -euo pipefail

TEST_NAME=qemu-test
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/lib.sh"
VSTEER=$BUILD_DIR/vsteer
QEMU=${QEMU:-qemu-system-x86_64}
NFLOWS=${QEMU_TEST_FLOWS:-256}
SEED=${QEMU_TEST_SEED:-$(date +%s)}
# QEMU_TEST_UNPRIVILEGED=1: the libvirt-style flow of docs/qemu.md. The test, as the
# management process, opens the tap's queues itself (`-netdev tap,fds=...`); vsteer run-qemu
# adds its four fds and execs QEMU through setpriv as nobody, without any capability. The
# cases on the fake QEMU and the hot-plug (which needs QEMU to open /dev/net/tun) are left
# to the default run.
UNPRIV=${QEMU_TEST_UNPRIVILEGED:-0}
UNPRIV_UID=65534
TAP_FD0=20

# ------------------------------------------------------------------ prerequisites
why_not() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespace, tap, bpffs)"; return; }
	command -v "$QEMU" >/dev/null || { echo "$QEMU missing (make deps)"; return; }
	static_busybox || { echo "busybox-static missing (make deps)"; return; }
	[ -x /usr/sbin/ethtool ] || { echo "ethtool missing (make deps)"; return; }
	command -v nsenter >/dev/null || { echo "nsenter missing (util-linux)"; return; }
	[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || { echo "static libc missing (libc6-dev)"; return; }
	[ -x "$REPO_ROOT/scripts/vm/build-kernel.sh" ] || [ -f "$REPO_ROOT/scripts/vm/build-kernel.sh" ] ||
		{ echo "scripts/vm/build-kernel.sh missing"; return; }
	[ -x "$VSTEER" ] && [ -x "$FLOWS_TOOL" ] || { echo "$VSTEER or $FLOWS_TOOL not built (make build)"; return; }
	echo ""
}
prerequisites "$@"

# ------------------------------------------------------------------ state and cleanup
work=$(mktemp -d /tmp/vsteer-qemu-test.XXXXXX)
ns=vsqt$$
tap=vsq$$
pin_root=/sys/fs/bpf/vsteer
xdp_pins=/sys/fs/bpf/vsteer-xdp-qemu-test-$$
qemu_pid=

stop_qemu() {
	[ -n "$qemu_pid" ] || return 0
	if kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		for _ in $(seq 20); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$qemu_pid" 2>/dev/null || true
	fi
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
}
cleanup() {
	stop_qemu
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$pin_root/$tap" "$pin_root/${tap}h" "$pin_root/${tap}bad" "$pin_root/${tap}obj" "$pin_root/${tap}obj_qemu_object" "$xdp_pins" 2>/dev/null || true
	remove_work
}
trap cleanup EXIT


# ------------------------------------------------------------------ namespace and tap
tap_namespace

netdev_args=(-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,queues=4,vhost=off")
device_args=(-device "virtio-net-pci,netdev=n0,mq=on,rss=on,vectors=10,mac=52:54:00:12:34:56")

# ------------------------------------------------------------------ 1. negative cases
if [ "$UNPRIV" = 0 ]; then
fake=$work/fake-qemu
cat >"$fake" <<FAKE
#!/bin/bash
# Stand-in for QEMU: answers -version and -device X,help like the real one, and otherwise
# records that it was started and what the ebpf-rss-fds it was given are.
case "\${1:-}" in -version) echo "QEMU emulator version \${FAKE_QEMU_VERSION:-10.0.2}"; exit 0 ;; esac
case "\${2:-}" in *,help) exec $QEMU "\$@" ;; esac
: >"$work/fake-started"
for a in "\$@"; do
	case \$a in *ebpf-rss-fds*)
		for fd in \$(echo "\$a" | sed -E 's/.*"ebpf-rss-fds":\[([^]]*)\].*/\1/; s/[",]/ /g'); do
			echo "\$fd \$(readlink /proc/\$\$/fd/\$fd)" >>"$work/fake-started"
		done ;;
	esac
done
exit 0
FAKE
chmod +x "$fake"

# expect_refused NAME EXPECTED_TEXT ENV... -- vsteer ARGS...
expect_refused() {
	local name=$1 want=$2
	shift 2
	rm -f "$work/fake-started"
	local out rc=0
	out=$(in_ns env "$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -qF -- "$want" <<<"$out" && [ ! -e "$work/fake-started" ]; then
		ok "$name: refused, QEMU not started: $(grep -m1 'error' <<<"$out")"
	else
		bad "$name: rc=$rc, QEMU started: $([ -e "$work/fake-started" ] && echo yes || echo no), output: $out"
	fi
}

expect_refused "missing tap" "no such device" \
	"$VSTEER" run-qemu --tap vsqnone -- "$fake" -netdev tap,id=n0,ifname=vsqnone "${device_args[@]}"
expect_refused "QEMU 8.2" "older than 9.0" FAKE_QEMU_VERSION=8.2.2 \
	"$VSTEER" run-qemu --tap "$tap" -- "$fake" "${netdev_args[@]}" "${device_args[@]}"
expect_refused "netdev without device" "no -device uses netdev 'n0'" \
	"$VSTEER" run-qemu --tap "$tap" -- "$fake" "${netdev_args[@]}"
expect_refused "two devices on the netdev" "used by 2 devices" \
	"$VSTEER" run-qemu --tap "$tap" -- "$fake" "${netdev_args[@]}" "${device_args[@]}" -device virtio-net-pci,netdev=n0
expect_refused "tap given with -nic" "-nic cannot carry ebpf-rss-fds" \
	"$VSTEER" run-qemu --tap "$tap" -- "$fake" -nic "tap,ifname=$tap,model=virtio-net-pci"
[ ! -e "$pin_root/$tap" ] && ok "refused runs left no pins" || bad "refused runs left pins in $pin_root/$tap"

# positive run against the stand-in: loads and pins, the fds arrive open in "QEMU"
rm -f "$work/fake-started"
if in_ns "$VSTEER" run-qemu --tap "$tap" -- "$fake" "${netdev_args[@]}" "${device_args[@]}" 2>"$work/fake.err" &&
	[ "$(grep -c 'anon_inode:bpf-prog' "$work/fake-started")" = 1 ] &&
	[ "$(grep -c 'anon_inode:bpf-map' "$work/fake-started")" = 3 ]; then
	ok "run-qemu execs QEMU with 4 open fds (1 program, 3 maps): $(tr '\n' ' ' <"$work/fake-started")"
else
	bad "run-qemu with the stand-in: $(cat "$work/fake.err" "$work/fake-started" 2>/dev/null)"
fi

# pins of the wrong kind: (a) config and toeplitz_key swapped, (b) a map where the program belongs
make_bad_pins() { # A B [swap]: copy the pin set with A taken from B (and B from A with swap)
	rm -rf "$pin_root/${tap}bad"
	mkdir -p "$pin_root/${tap}bad"
	local p name src
	for p in "$pin_root/$tap"/*; do
		name=$(basename "$p")
		src=$p
		[ "$name" = "$1" ] && src=$pin_root/$tap/$2
		[ "$name" = "$2" ] && [ "${3:-}" = swap ] && src=$pin_root/$tap/$1
		if bpftool prog show pinned "$src" >/dev/null 2>&1; then
			bpftool prog pin pinned "$src" "$pin_root/${tap}bad/$name"
		else
			bpftool map pin pinned "$src" "$pin_root/${tap}bad/$name"
		fi
	done
}
make_bad_pins config toeplitz_key swap
expect_refused "pins of the wrong kind (config <-> key)" "config" \
	"$VSTEER" run-qemu --tap "$tap" --pin-dir "$pin_root/${tap}bad" -- "$fake" "${netdev_args[@]}" "${device_args[@]}"
make_bad_pins prog config
expect_refused "pins of the wrong kind (a map as the program)" "ebpf-rss-fds[0] (program" \
	"$VSTEER" run-qemu --tap "$tap" --pin-dir "$pin_root/${tap}bad" -- "$fake" "${netdev_args[@]}" "${device_args[@]}"
rm -rf "$pin_root/${tap}bad"
fi # negative cases

if [ "${QEMU_TEST_NEGATIVE_ONLY:-0}" = 1 ]; then
	exit_if_failed
	echo "qemu-test: negative cases PASS"
	exit 0
fi

# ------------------------------------------------------------------ guest kernel and initramfs
guest_image
[ -f "$image_dir/bzImage" ] || { echo "qemu-test: FAIL: no bzImage in '$image_dir'"; exit 1; }
for opt in CONFIG_VIRTIO_NET CONFIG_VIRTIO_PCI CONFIG_PACKET CONFIG_PCI_MSI CONFIG_SERIAL_8250_CONSOLE; do
	grep -qx "$opt=y" "$image_dir/config" || { echo "qemu-test: FAIL: guest kernel lacks $opt"; exit 1; }
done

bash "$REPO_ROOT/tests/qemu/build-initramfs.sh" "$image_dir" "$work"
log "initramfs: busybox, ethtool (+$(ldd /usr/sbin/ethtool | grep -c '/') libs), vsteer-rx; kernel $image_dir"

# ------------------------------------------------------------------ 2. the real guest
k1=$(rand_key)
k2=$(rand_key)
console=$work/console.log
: >"$console"
launch=("$VSTEER" run-qemu --tap "$tap" --)
if [ "$UNPRIV" = 1 ]; then
	# QEMU (nobody) creates its QMP socket and writes the console here; root still can too
	chown "$UNPRIV_UID:$UNPRIV_UID" "$work" "$console"
	netdev_args=(-netdev "tap,id=n0,fds=$TAP_FD0:$((TAP_FD0 + 1)):$((TAP_FD0 + 2)):$((TAP_FD0 + 3)),vhost=off")
	launch=("$FLOWS_TOOL" open-tap "$tap" 4 "$TAP_FD0" -- "$VSTEER" run-qemu --tap "$tap" --netdev n0 --
		setpriv "--reuid=$UNPRIV_UID" "--regid=$UNPRIV_UID" --clear-groups --inh-caps=-all --bounding-set=-all)
fi
log "starting the guest: ${launch[*]##*/} $QEMU ... (flows $NFLOWS, seed $SEED)"
# nsenter execs, and so do the tools after it: $! is QEMU itself
nsenter --net=/run/netns/"$ns" "${launch[@]}" "$QEMU" -accel tcg -m 512 -smp 2 -nodefaults -no-user-config \
	-display none -no-reboot -kernel "$image_dir/bzImage" -initrd "$work/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 oops=panic quiet vstq.flows=$NFLOWS vstq.k1=$k1 vstq.k2=$k2" \
	-serial "file:$console" -qmp "unix:$work/qmp.sock,server=on,wait=off" \
	"${netdev_args[@]}" "${device_args[@]}" >"$work/qemu.out" 2>&1 &
qemu_pid=$!

# wait_for PATTERN SECONDS: the guest console shows PATTERN (fails early if QEMU or the guest gives up)
wait_for() {
	local pat=$1 limit=$2 start
	start=$(date +%s)
	while ! grep -qE -- "$pat" "$console"; do
		if grep -q 'VSTQ-FAIL' "$console"; then
			bad "guest: $(grep -m1 'VSTQ-FAIL' "$console")"
			return 1
		fi
		if ! kill -0 "$qemu_pid" 2>/dev/null; then
			bad "QEMU exited before '$pat': $(cat "$work/qemu.out")"
			return 1
		fi
		if [ $(($(date +%s) - start)) -ge "$limit" ]; then
			bad "no '$pat' on the guest console within ${limit}s"
			return 1
		fi
		sleep 0.2
	done
}

declare -A want_types=([1]=0x3f [2]=0x3f [3]=0x3d)
declare -A want_key=([1]=$k1 [2]=$k2 [3]=$k2)
guest_ok=1
for round in 1 2 3; do
	wait_for "VSTQ-READY $round[[:space:]]*$" 180 || { guest_ok=0; break; }
	[ "$round" = 1 ] && log "guest up: $(grep -m1 VSTQ-BOOT "$console"), $(grep -m1 VSTQ-CHANNELS-BEFORE "$console" | cut -d' ' -f2-) before ethtool -L"
	if [ "$round" = 1 ] && [ "$UNPRIV" = 1 ]; then
		uid=$(awk '/^Uid:/ {print $2}' "/proc/$qemu_pid/status")
		capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$qemu_pid/status")
		comm=$(cat "/proc/$qemu_pid/comm")
		if [ "$uid" = "$UNPRIV_UID" ] && [ "$((16#$capeff))" = 0 ] && [[ $comm == qemu* ]]; then
			ok "QEMU ($comm, pid $qemu_pid) runs as uid $uid without capabilities, tap queues and BPF objects passed as fds"
		else
			bad "QEMU is not the unprivileged process expected: comm=$comm uid=$uid CapEff=$capeff"
		fi
	fi
	if ! cfg=$("$FLOWS_TOOL" guest-config "$console" "$round" 2>&1); then
		bad "round $round: $cfg"
		guest_ok=0
		break
	fi
	read -r gkey gtable <<<"$cfg"
	types=${want_types[$round]}
	# the guest driver holds the key the init script gave it
	if [ "$gkey" = "$(echo "${want_key[$round]}" | tr -d ':')" ]; then
		ok "round $round: guest's ethtool -x shows the key it set"
	else
		bad "round $round: guest's ethtool -x key $gkey, set ${want_key[$round]}"
	fi
	# the host sees exactly the guest's policy
	in_ns "$VSTEER" show --tap "$tap" --json >"$work/show$round.json"
	if out=$("$FLOWS_TOOL" compare-show "$work/show$round.json" "$gkey" "$gtable" "$types"); then
		ok "round $round: $out"
	else
		bad "round $round: vsteer show differs from the guest: $out"
	fi
	if out=$(in_ns "$VSTEER" check --tap "$tap" 2>&1); then
		ok "round $round: vsteer check consistent ($(grep -c '^  ok' <<<"$out") ok, $(grep -c '^  warn' <<<"$out") warn)"
	else
		bad "round $round: vsteer check: $out"
	fi
	if [ "$round" = 1 ]; then
		# QMP: the same fds passed with getfd (SCM_RIGHTS), and QEMU's own program loaded and pinned
		if out=$("$VSTEER" qmp-attach --qmp "$work/qmp.sock" --tap "$tap" 2>&1); then
			ok "qmp-attach: $(head -n 1 <<<"$out")"
		else
			bad "qmp-attach: $out"
		fi
		if ! out=$(in_ns "$VSTEER" qemu-object --qmp "$work/qmp.sock" --tap "${tap}obj" --queues 4 2>&1); then
			bad "qemu-object: $out"
		elif ! prog=$(bpftool prog show pinned "$pin_root/${tap}obj/prog" 2>&1) ||
			! grep -q tun_rss_steering <<<"$prog"; then
			bad "qemu-object: the pinned prog is not QEMU's: $prog"
		elif ! shown=$(in_ns "$VSTEER" show --tap "${tap}obj" --json 2>&1); then
			bad "qemu-object: vsteer show on its pins: $shown"
		else
			ok "qemu-object: $(head -n 1 <<<"$out")"
		fi
		rm -rf "$pin_root/${tap}obj"
	fi
	if [ "$round" = 3 ]; then
		# a deliberate inconsistency: the unclassified queue beyond the active queues. set
		# refuses queues the tap does not have unless --force states the intent.
		rc=0
		out=$(in_ns "$VSTEER" set --tap "$tap" --queues 8 --unclassified 7 2>&1) || rc=$?
		if [ "$rc" -ne 0 ] && grep -qF -- "tap $tap: --queues 8 but only 4 queues are attached" <<<"$out" &&
			grep -qF -- "--force" <<<"$out"; then
			ok "vsteer set --queues 8 refused on a 4-queue tap without --force"
		else
			bad "vsteer set --queues 8 without --force: rc=$rc $out"
		fi
		in_ns "$VSTEER" set --tap "$tap" --queues 8 --force --unclassified 7 >/dev/null
		rc=0
		out=$(in_ns "$VSTEER" check --tap "$tap" --json 2>&1) || rc=$?
		if [ "$rc" -ne 0 ] && grep -q '"name":"unclassified-queue","status":"fail"' <<<"$out"; then
			ok "vsteer check exits $rc and names unclassified-queue when it is 7 of 4 queues"
		else
			bad "vsteer check did not name the bad unclassified queue: rc=$rc $out"
		fi
		in_ns "$VSTEER" set --tap "$tap" --unclassified 0 >/dev/null
		# the host's XDP classifier with a VM on this tap: its queue CPUs must cover the 4 queues
		# the guest spreads over, and it must hash with the maps QEMU writes
		in_ns ip link add vsqx0 type veth peer name vsqx1
		in_ns ip link set vsqx0 up
		in_ns ip link set vsqx1 up
		c1=$(($(nproc) > 1 ? 1 : 0))
		rc=0
		if ! out=$(in_ns "$VSTEER" xdp attach --dev vsqx0 --pin-dir "$xdp_pins" 2>&1) ||
			! out=$(in_ns "$VSTEER" vm add g1 --tap "$tap" --queue-cpus "0,$c1,0" --pin-dir "$xdp_pins" 2>&1); then
			bad "xdp attach / vm add for the guest's tap: $out"
		else
			out=$(in_ns "$VSTEER" check --tap "$tap" --xdp-pin-dir "$xdp_pins" --json 2>&1) || rc=$?
			if [ "$rc" -ne 0 ] && grep -q '"name":"xdp-queue-cpus","status":"fail","detail":"vm g1: guest queue 3 has no CPU' <<<"$out" &&
				grep -q '"name":"xdp-policy-maps","status":"ok"' <<<"$out"; then
				ok "vsteer check exits $rc and names xdp-queue-cpus for a VM whose --queue-cpus miss the guest's queue 3"
			else
				bad "vsteer check with XDP VM g1 (--queue-cpus 0,$c1,0): rc=$rc $out"
			fi
			in_ns "$VSTEER" vm del g1 --pin-dir "$xdp_pins" >/dev/null
			in_ns "$VSTEER" vm add g1 --tap "$tap" --queue-cpus "0,$c1,0,$c1" --pin-dir "$xdp_pins" >/dev/null
			if out=$(in_ns "$VSTEER" check --tap "$tap" --xdp-pin-dir "$xdp_pins" 2>&1) &&
				grep -q '^  ok   xdp-policy-maps    vm g1: hashes with the tap' <<<"$out"; then
				ok "vsteer check consistent with XDP VM g1 on the guest's maps ($(grep -c '^  ok   xdp' <<<"$out") xdp ok, $(grep -c '^  warn' <<<"$out") warn)"
			else
				bad "vsteer check with XDP VM g1 (--queue-cpus 0,$c1,0,$c1): $out"
			fi
		fi
		in_ns "$VSTEER" xdp detach --dev vsqx0 --pin-dir "$xdp_pins" --unpin >/dev/null 2>&1 || true
		in_ns ip link del vsqx0
	fi
	if [ "$round" = 3 ] && [ "$UNPRIV" = 0 ]; then
		# hot-plug: a second tap as netdev n1, its fds passed with getfd, device_add with their
		# names (QEMU opens that tap itself, so not in the unprivileged run)
		tap2=${tap}h
		in_ns ip tuntap add dev "$tap2" mode tap multi_queue
		in_ns "$VSTEER" attach --tap "$tap2" --queues 4 >/dev/null
		"$FLOWS_TOOL" qmp "$work/qmp.sock" netdev_add \
			"{\"type\":\"tap\",\"id\":\"n1\",\"ifname\":\"$tap2\",\"queues\":4,\"vhost\":false,\"script\":\"no\",\"downscript\":\"no\"}" >/dev/null
		if out=$(in_ns "$VSTEER" qmp-attach --qmp "$work/qmp.sock" --tap "$tap2" --netdev n1 --id nic1 --set mq=on,vectors=10 2>&1) &&
			fds=$("$FLOWS_TOOL" qmp "$work/qmp.sock" qom-get '{"path":"/machine/peripheral/nic1","property":"ebpf-rss-fds"}') &&
			grep -q '"steering-program","status":"ok"' <<<"$(in_ns "$VSTEER" check --tap "$tap2" --json 2>&1)"; then
			ok "qmp-attach hot-plug: nic1 has ebpf-rss-fds $fds; vsteer check: QEMU holds $tap2's program and maps"
		else
			bad "qmp-attach hot-plug: $out $(in_ns "$VSTEER" check --tap "$tap2" 2>&1)"
		fi
		rm -rf "$pin_root/$tap2"
	fi
	in_ns "$FLOWS_TOOL" send "$tap" "$round" "$NFLOWS" "$SEED" >/dev/null
	wait_for "VSTQ-DONE $round " 120 || { guest_ok=0; break; }
	if out=$("$FLOWS_TOOL" verify "$console" "$round" "$NFLOWS" "$SEED" "$gkey" "$gtable" "$types"); then
		ok "$out"
	else
		bad "placement differs from the reference: $out"
	fi
	in_ns "$VSTEER" show --tap "$tap" --json >"$work/after$round.json"
	program_ran "round $round" "$work/show$round.json" "$work/after$round.json"
done
if [ "$guest_ok" = 1 ] && wait_for "VSTQ-EXIT rc=" 60; then
	grep -q 'VSTQ-EXIT rc=0' "$console" && ok "guest: clean exit, kernel log without BUG/WARNING" ||
		bad "guest: $(grep 'VSTQ-EXIT' "$console")"
fi
for _ in $(seq 50); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.2; done
stop_qemu
if grep -q "Can't use eBPF RSS" "$work/qemu.out"; then
	bad "QEMU fell back from eBPF RSS: $(grep -m1 "eBPF RSS" "$work/qemu.out")"
fi

if [ "$failures" -ne 0 ]; then
	echo "---- guest console (tail) ----"
	tail -n 40 "$console" || true
fi
exit_if_failed "$(($(date +%s) - T0)) s"
echo "qemu-test: PASS ($(($(date +%s) - T0)) s)"
