#!/usr/bin/env bash
# `make libvirt-test`: a libvirt-managed domain gets vsteer's eBPF RSS with QEMU unprivileged,
# through libvirt's own extension points only (docs/libvirt.md).
#
#   tests/libvirt/run-libvirt-test.sh [--check]
#
# --check only tells whether the test can run here (prints the reason and exits 1 if not).
# It starts its own libvirtd and virtlogd (no systemd) inside a network namespace it creates,
# next to vsteer-libvirtd, with vsteer's QEMU hook in /etc/libvirt/hooks/qemu.d; defines a TCG
# domain that boots the qemu-test guest (tests/qemu/guest-init.sh with vstq.cycle=1) with a
# 4-queue virtio-net rss='on' on a pre-created multiqueue tap (type='ethernet', managed='no')
# and the <emulator> wrapper; then checks:
#  - the domain's QEMU has neither CAP_BPF nor CAP_NET_ADMIN (nor CAP_SYS_ADMIN) in any set;
#  - vsteer list / show / check see the tap with the guest's key and table, and the flows the
#    host sends land on the queues the C++ reference predicts for the guest's policy;
#  - the same after a libvirtd restart, a guest reset, and virsh destroy + start;
#  - vsteer-libvirtd refuses a client that is not the QEMU user, a "tap" fd that is not one,
#    and a tap of the same name in another network namespace;
#  - after virsh undefine: no pins, no steering program left on the tap, no domain state.
# LIBVIRT_TEST_INSTALLED=1 runs the installed package (make install or the .deb) instead of
# the build tree: vsteer, vsteer-libvirtd, the wrapper and the hook from LIBVIRT_TEST_PREFIX
# (default /usr); its hook must then be in place.
# LIBVIRT_TEST_GUEST=0: host side only, for a machine without the guest kernel (never in
# make test): the domain sits in its firmware, no flows are sent, and per phase only the
# pins, vsteer list/show and check's steering-program finding (QEMU holds the program and
# maps) are checked; the PASS line says so.
# Everything it starts or creates is stopped or removed by PID/name at exit.
set -euo pipefail

TEST_NAME=libvirt-test
# shellcheck source=tests/qemu/lib.sh
. "$(dirname "$0")/../qemu/lib.sh"
NFLOWS=${LIBVIRT_TEST_FLOWS:-256}
GUEST=${LIBVIRT_TEST_GUEST:-1}
SEED=${LIBVIRT_TEST_SEED:-$(date +%s)}
HOOK_LINK=/etc/libvirt/hooks/qemu.d/vsteer
VIRSH=(virsh -q -c qemu:///system)
if [ "${LIBVIRT_TEST_INSTALLED:-0}" = 1 ]; then
	prefix=${LIBVIRT_TEST_PREFIX:-/usr}
	VSTEER=$prefix/sbin/vsteer
	LIBVIRTD_VSTEER=$prefix/sbin/vsteer-libvirtd
	WRAPPER_SRC=$prefix/libexec/vsteer/vsteer-qemu-wrapper
	HOOK=$prefix/libexec/vsteer/vsteer-libvirt-hook
else
	VSTEER=$BUILD_DIR/vsteer
	LIBVIRTD_VSTEER=$BUILD_DIR/vsteer-libvirtd
	WRAPPER_SRC=$BUILD_DIR/vsteer-qemu-wrapper
	HOOK=$BUILD_DIR/vsteer-libvirt-hook
fi

# ------------------------------------------------------------------ prerequisites
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
why_not() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root (libvirtd, network namespace, tap, bpffs)"; return; }
	local t
	for t in virsh libvirtd virtlogd qemu-system-x86_64 nsenter setpriv bpftool; do
		command -v "$t" >/dev/null || { echo "$t missing (make deps installs libvirt from bookworm-backports)"; return; }
	done
	if ! ls /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/*qemu* >/dev/null 2>&1; then
		echo "libvirt's QEMU driver missing (libvirt-daemon-driver-qemu; make deps)"
		return
	fi
	id libvirt-qemu >/dev/null 2>&1 || { echo "no user libvirt-qemu (libvirt-daemon-driver-qemu creates it)"; return; }
	static_busybox || { echo "busybox-static missing (make deps)"; return; }
	pid_alive /run/libvirtd.pid && { echo "a libvirtd runs already (pid $(cat /run/libvirtd.pid)); this test starts its own in a network namespace: stop it first"; return; }
	pid_alive /run/virtqemud.pid && { echo "virtqemud runs already (pid $(cat /run/virtqemud.pid)); stop it first"; return; }
	for t in "$VSTEER" "$LIBVIRTD_VSTEER" "$WRAPPER_SRC" "$HOOK" "$FLOWS_TOOL"; do
		[ -x "$t" ] || { echo "$t missing (make build, or install the package for LIBVIRT_TEST_INSTALLED=1)"; return; }
	done
	if [ "${LIBVIRT_TEST_INSTALLED:-0}" = 1 ]; then
		[ "$(readlink -f "$HOOK_LINK")" = "$(readlink -f "$HOOK")" ] ||
			{ echo "$HOOK_LINK is not the installed hook $HOOK (make install / dpkg -i the package)"; return; }
	elif [ -e "$HOOK_LINK" ] || [ -L "$HOOK_LINK" ]; then
		echo "$HOOK_LINK exists (vsteer installed?): run with LIBVIRT_TEST_INSTALLED=1 to test the installed package, or remove it"
		return
	fi
	echo ""
}
prerequisites "$@"

# ------------------------------------------------------------------ state and cleanup
work=$(mktemp -d /tmp/vsteer-libvirt-test.XXXXXX)
chmod 755 "$work" # QEMU (libvirt-qemu) reads the kernel, the initramfs and the wrapper here
ns=vslv$$
ns2=vslvx$$
tap=vslv$$
dom=vsteer-libvirt-test-$$
console=$work/console.log
pin_dir=/sys/fs/bpf/vsteer/$tap
hook_linked=0
vlv_pid=
started_libvirtd=
started_virtlogd=

stop_pid() { # PID: TERM, wait up to 10 s, then KILL
	local p=$1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
	kill "$p" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
}
cleanup() {
	set +e
	if [ -n "$started_libvirtd" ] && kill -0 "$started_libvirtd" 2>/dev/null; then
		"${VIRSH[@]}" destroy "$dom" >/dev/null 2>&1
		"${VIRSH[@]}" undefine "$dom" >/dev/null 2>&1
	fi
	stop_pid "$started_libvirtd"
	stop_pid "$started_virtlogd"
	stop_pid "$vlv_pid"
	[ "$hook_linked" = 1 ] && rm -f "$HOOK_LINK"
	ip netns del "$ns" 2>/dev/null
	ip netns del "$ns2" 2>/dev/null
	rm -rf "$pin_dir" /var/log/libvirt/qemu/"$dom".log* 2>/dev/null
	remove_work
}
trap cleanup EXIT

# ------------------------------------------------------------------ guest kernel and initramfs
if [ "$GUEST" = 0 ]; then
	log "LIBVIRT_TEST_GUEST=0: no guest kernel, the domain stays in its firmware; host-side checks only"
else
	guest_image
	[ -f "$image_dir/bzImage" ] || { echo "libvirt-test: FAIL: no bzImage in '$image_dir'"; exit 1; }
	bash "$REPO_ROOT/tests/qemu/build-initramfs.sh" "$image_dir" "$work"
	# libvirt gives the domain's files to the QEMU user while it runs: copies, never the cache
	cp "$image_dir/bzImage" "$work/bzImage"
fi
mkdir -m 755 "$work/bin"
cp "$WRAPPER_SRC" "$work/bin/vsteer-qemu-wrapper"
ln -s vsteer-qemu-wrapper "$work/bin/qemu-system-x86_64"
if [ "${LIBVIRT_TEST_INSTALLED:-0}" = 1 ]; then
	emulator=$(dirname "$WRAPPER_SRC")/qemu-system-x86_64
else
	emulator=$work/bin/qemu-system-x86_64
fi

# ------------------------------------------------------------------ namespace, tap, daemons
tap_namespace

if [ "${LIBVIRT_TEST_INSTALLED:-0}" != 1 ]; then
	mkdir -p "$(dirname "$HOOK_LINK")"
	ln -s "$HOOK" "$HOOK_LINK"
	hook_linked=1
fi
# not through in_ns: a backgrounded function would be a subshell, and $! not the daemon
nsenter --net=/run/netns/"$ns" "$LIBVIRTD_VSTEER" >"$work/vsteer-libvirtd.log" 2>&1 &
vlv_pid=$!
for _ in $(seq 50); do [ -S /run/vsteer/libvirt.sock ] && break; sleep 0.1; done
[ -S /run/vsteer/libvirt.sock ] || { echo "libvirt-test: FAIL: vsteer-libvirtd did not start: $(cat "$work/vsteer-libvirtd.log")"; exit 1; }

# start_libvirtd: libvirtd -d in the namespace (the hook and QEMU run as its children there)
start_libvirtd() {
	rm -f /run/libvirtd.pid
	in_ns libvirtd -d
	for _ in $(seq 100); do pid_alive /run/libvirtd.pid && "${VIRSH[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
	pid_alive /run/libvirtd.pid || { echo "libvirt-test: FAIL: libvirtd did not start"; exit 1; }
	started_libvirtd=$(cat /run/libvirtd.pid)
}
rm -f /run/virtlogd.pid
in_ns virtlogd -d
for _ in $(seq 50); do pid_alive /run/virtlogd.pid && break; sleep 0.1; done
pid_alive /run/virtlogd.pid || { echo "libvirt-test: FAIL: virtlogd did not start"; exit 1; }
started_virtlogd=$(cat /run/virtlogd.pid)
start_libvirtd
log "vsteer-libvirtd (pid $vlv_pid), virtlogd (pid $started_virtlogd), libvirtd (pid $started_libvirtd) in $ns; $("${VIRSH[@]}" version | grep -E 'library|hypervisor' | tr -s ' \n' ' ')"

# ------------------------------------------------------------------ the domain
k1=$(rand_key)
k2=$(rand_key)
: >"$console"
chmod 644 "$console"
boot="<kernel>$work/bzImage</kernel>
    <initrd>$work/initramfs.cpio</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet vstq.cycle=1 vstq.flows=$NFLOWS vstq.k1=$k1 vstq.k2=$k2</cmdline>"
[ "$GUEST" = 0 ] && boot="<boot dev='hd'/>"
cat >"$work/domain.xml" <<XML
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    $boot
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$emulator</emulator>
    <interface type='ethernet'>
      <mac address='52:54:00:12:34:56'/>
      <target dev='$tap' managed='no'/>
      <model type='virtio'/>
      <driver name='qemu' queues='4' rss='on'/>
    </interface>
    <serial type='file'>
      <source path='$console' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
XML
"${VIRSH[@]}" define "$work/domain.xml" >/dev/null
"${VIRSH[@]}" start "$dom" >/dev/null
log "domain $dom defined and started (emulator $emulator)"

qemu_pid() { cat /run/libvirt/qemu/"$dom".pid 2>/dev/null; }

# check_qemu_caps: the domain's QEMU runs without CAP_BPF (39), CAP_NET_ADMIN (12) and
# CAP_SYS_ADMIN (21) in its effective, permitted, inheritable and ambient sets
check_qemu_caps() {
	local pid status set val bits=$(((1 << 39) | (1 << 12) | (1 << 21))) held=
	pid=$(qemu_pid)
	status=$(cat "/proc/$pid/status" 2>/dev/null) || { bad "no QEMU process for $dom (pid '$pid')"; return; }
	for set in CapEff CapPrm CapInh CapAmb; do
		val=$(awk -v s="$set:" '$1 == s {print $2}' <<<"$status")
		[ $((16#$val & bits)) = 0 ] || held="$held $set=$val"
	done
	local uid comm
	uid=$(awk '/^Uid:/ {print $3}' <<<"$status")
	comm=$(cat "/proc/$pid/comm")
	if [ -z "$held" ] && [ "$uid" != 0 ] && [[ $comm == qemu* ]]; then
		ok "$1: QEMU ($comm, pid $pid) runs as uid $uid ($(id -nu "$uid")), CapEff=$(awk '/^CapEff:/ {print $2}' <<<"$status"): no CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN"
	else
		bad "$1: QEMU pid $pid ($comm, uid $uid) holds capabilities:$held"
	fi
}

# The console is appended to across resets and restarts; each phase reads only what came
# after its mark.
mark=0
excerpt() { tail -n +$((mark + 1)) "$console" | tr -d '\r' >"$work/excerpt.log"; }
set_mark() { mark=$(wc -l <"$console"); }
# pending_round: the number of the round the guest waits in (READY without DONE), or nothing
pending_round() {
	excerpt
	awk '$1 == "VSTQ-READY" {r = $2} $1 == "VSTQ-DONE" {d = $2} END {if (r != "" && r != d) print r}' "$work/excerpt.log"
}
wait_guest() { # PATTERN SECONDS
	local start
	start=$(date +%s)
	while :; do
		excerpt
		grep -qE -- "$1" "$work/excerpt.log" && return 0
		if [ -z "$(qemu_pid)" ] || ! kill -0 "$(qemu_pid)" 2>/dev/null; then
			bad "QEMU of $dom is gone while waiting for '$1': $(tail -n 5 /var/log/libvirt/qemu/"$dom".log 2>/dev/null)"
			return 1
		fi
		if [ $(($(date +%s) - start)) -ge "$2" ]; then
			bad "no '$1' on the guest console within ${2}s"
			return 1
		fi
		sleep 0.3
	done
}

# serve_round PHASE: the guest's next round: its policy seen by vsteer show/check, then
# NFLOWS flows that must land on the queues the reference predicts, by vsteer's program
serve_round() {
	[ "$GUEST" = 0 ] && { host_checks "$1"; return; }
	local phase=$1 n="" start key out
	start=$(date +%s)
	while [ -z "$n" ]; do
		n=$(pending_round)
		[ -n "$n" ] && break
		wait_guest 'VSTQ-READY' 240 || return 1
		[ $(($(date +%s) - start)) -lt 240 ] || { bad "$phase: the guest never waited in a round"; return 1; }
		sleep 0.3
	done
	if [ $((n % 2)) = 1 ]; then key=$k1; else key=$k2; fi
	if ! cfg=$("$FLOWS_TOOL" guest-config "$work/excerpt.log" "$n" 2>&1); then
		bad "$phase round $n: $cfg"
		return 1
	fi
	read -r gkey gtable <<<"$cfg"
	[ "$gkey" = "$(tr -d ':' <<<"$key")" ] || bad "$phase round $n: guest's key $gkey, set $key"
	if out=$(in_ns "$VSTEER" list 2>&1) && grep -q "$tap" <<<"$out"; then
		ok "$phase round $n: vsteer list shows $tap"
	else
		bad "$phase round $n: vsteer list does not show $tap: $out"
	fi
	in_ns "$VSTEER" show --tap "$tap" --json >"$work/show.json"
	if out=$("$FLOWS_TOOL" compare-show "$work/show.json" "$gkey" "$gtable" 0x3f); then
		ok "$phase round $n: $out"
	else
		bad "$phase round $n: vsteer show differs from the guest: $out"
	fi
	if out=$(in_ns "$VSTEER" check --tap "$tap" 2>&1) && grep -q '^  ok   steering-program' <<<"$out"; then
		ok "$phase round $n: vsteer check consistent: $(grep 'steering-program' <<<"$out" | sed 's/^ *ok *steering-program *//')"
	else
		bad "$phase round $n: vsteer check: $out"
	fi
	in_ns "$FLOWS_TOOL" send "$tap" "$n" "$NFLOWS" "$SEED" >/dev/null
	wait_guest "VSTQ-DONE $n " 120 || return 1
	if out=$("$FLOWS_TOOL" verify "$work/excerpt.log" "$n" "$NFLOWS" "$SEED" "$gkey" "$gtable" 0x3f); then
		ok "$phase: $out"
	else
		bad "$phase: placement differs from the reference: $out"
	fi
	in_ns "$VSTEER" show --tap "$tap" --json >"$work/after.json"
	program_ran "$phase round $n" "$work/show.json" "$work/after.json"
	set_mark
}

# host_checks PHASE (LIBVIRT_TEST_GUEST=0): the tap's pins and QEMU holding them
host_checks() {
	local out
	if out=$(in_ns "$VSTEER" list 2>&1) && grep -q "$tap" <<<"$out" &&
		in_ns "$VSTEER" show --tap "$tap" --json >"$work/show.json"; then
		ok "$1: vsteer list and show see $tap (program id $(prog_id))"
	else
		bad "$1: vsteer list/show do not see $tap: $out"
	fi
	out=$(in_ns "$VSTEER" check --tap "$tap" --json 2>&1) || true
	if grep -q '"name":"steering-program","status":"ok"' <<<"$out"; then
		ok "$1: vsteer check: $(grep -o '"name":"steering-program","status":"ok","detail":"[^"]*' <<<"$out" | sed 's/.*detail":"//')"
	else
		bad "$1: vsteer check does not find QEMU holding the tap's program and maps: $out"
	fi
}

prog_id() { bpftool prog show pinned "$pin_dir/prog" 2>/dev/null | awk -F: 'NR == 1 {print $1}'; }
# no_steering_left WHAT OLD_PROG_ID: the hook removed the pins and took the program off the tap
no_steering_left() {
	if [ -e "$pin_dir" ]; then
		bad "$1: pins left in $pin_dir"
	elif [ -n "$2" ] && bpftool prog show id "$2" >/dev/null 2>&1; then
		bad "$1: steering program id $2 still exists (still set on tap $tap?)"
	else
		ok "$1: no pins in $pin_dir, program id $2 is gone"
	fi
}

# ------------------------------------------------------------------ 1. boot
check_qemu_caps "boot"
if grep -q "vsteer-qemu-wrapper: netdev hostnet0 (tap $tap, 4 queues): ebpf-rss-fds" /var/log/libvirt/qemu/"$dom".log; then
	ok "boot: the wrapper gave QEMU the steering fds: $(grep -m1 'vsteer-qemu-wrapper' /var/log/libvirt/qemu/"$dom".log)"
else
	bad "boot: no ebpf-rss-fds from the wrapper in the domain log: $(tail -n 5 /var/log/libvirt/qemu/"$dom".log)"
fi
if grep -q "eBPF RSS" /var/log/libvirt/qemu/"$dom".log; then
	bad "boot: QEMU fell back from eBPF RSS: $(grep -m1 'eBPF RSS' /var/log/libvirt/qemu/"$dom".log)"
fi
serve_round "boot"
serve_round "boot"
qpid=$(qemu_pid)

# ------------------------------------------------------------------ 2. the daemon refuses
# (the real QEMU is never started: the wrapper stops when vsteer-libvirtd refuses)
qemu_user=$(id -u libvirt-qemu)
qemu_group=$(getent group libvirt-qemu | cut -d: -f3) # qemu.conf's group (the user's primary group is kvm)
# shellcheck disable=SC2054 # commas inside QEMU option values
nic=(-netdev tap,id=n0,fds=3 -device '{"driver":"virtio-net-pci","netdev":"n0","rss":true}')
expect_refused() { # NAME TEXT COMMAND...
	local name=$1 want=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -qF -- "$want" <<<"$out"; then
		ok "refused $name: $(grep -m1 'error' <<<"$out" | cut -c1-200)"
	else
		bad "$name: rc=$rc, expected a refusal naming '$want': $out"
	fi
}
# nobody with the QEMU group as a supplementary group passes the socket's mode, not SO_PEERCRED
expect_refused "a client that is neither root nor the QEMU user/group" "not allowed" \
	setpriv --reuid=65534 --regid=65534 "--groups=$qemu_group" "$work/bin/qemu-system-x86_64" "${nic[@]}" 3</dev/net/tun
expect_refused "a 'tap' fd that is no tap" "is not a /dev/net/tun file" \
	setpriv "--reuid=$qemu_user" "--regid=$qemu_group" --clear-groups "$work/bin/qemu-system-x86_64" "${nic[@]}" 3</dev/null
ip netns add "$ns2"
nsenter --net=/run/netns/"$ns2" ip tuntap add dev "$tap" mode tap multi_queue
expect_refused "a tap named $tap in another network namespace" "lives in another network namespace" \
	nsenter --net=/run/netns/"$ns2" "$FLOWS_TOOL" open-tap "$tap" 1 3 -- "$work/bin/qemu-system-x86_64" "${nic[@]}"
ip netns del "$ns2"

# ------------------------------------------------------------------ 3. libvirtd restart
stop_pid "$started_libvirtd"
started_libvirtd=
start_libvirtd
if [ "$("${VIRSH[@]}" domstate "$dom" 2>&1)" = running ] && [ "$(qemu_pid)" = "$qpid" ]; then
	ok "libvirtd restarted (pid $started_libvirtd): $dom still running in QEMU pid $qpid"
else
	bad "after the libvirtd restart: state '$("${VIRSH[@]}" domstate "$dom" 2>&1)', QEMU pid $(qemu_pid) (was $qpid)"
fi
serve_round "after libvirtd restart"

# ------------------------------------------------------------------ 4. reboot
# The test kernel has no ACPI (scripts/vm/kernel.config), so nothing in the guest answers
# `virsh reboot`'s power button; `virsh reset` reboots it in the same QEMU process, which is
# what a reboot means for the steering: the guest resets virtio-net and programs RSS anew.
set_mark
"${VIRSH[@]}" reset "$dom" >/dev/null
serve_round "after virsh reset"
if [ "$(qemu_pid)" = "$qpid" ]; then ok "reset: same QEMU pid $qpid"; else bad "reset: QEMU pid $(qemu_pid), was $qpid"; fi

# ------------------------------------------------------------------ 5. destroy + start
old_prog=$(prog_id)
"${VIRSH[@]}" destroy "$dom" >/dev/null
no_steering_left "virsh destroy" "$old_prog"
set_mark
"${VIRSH[@]}" start "$dom" >/dev/null
check_qemu_caps "destroy + start"
serve_round "after destroy + start"

# ------------------------------------------------------------------ 6. undefine
old_prog=$(prog_id)
"${VIRSH[@]}" destroy "$dom" >/dev/null
"${VIRSH[@]}" undefine "$dom" >/dev/null
no_steering_left "virsh undefine" "$old_prog"
left=$(ls /run/libvirt/qemu/"$dom".* /etc/libvirt/qemu/"$dom".xml 2>/dev/null || true)
stale=$(find /run/vsteer -mindepth 1 ! -name libvirt.sock ! -name libvirt.lock 2>/dev/null || true)
if "${VIRSH[@]}" dominfo "$dom" >/dev/null 2>&1 || [ -n "$left" ] || [ -n "$stale" ]; then
	bad "after undefine: domain or state left: $left $stale"
else
	ok "after undefine: libvirt knows no $dom, no files of it, nothing in /run/vsteer but the socket and lock"
fi

if [ "$failures" -ne 0 ]; then
	echo "---- guest console (tail) ----"
	tail -n 30 "$console" || true
	echo "---- vsteer-libvirtd ----"
	cat "$work/vsteer-libvirtd.log"
fi
exit_if_failed "$(($(date +%s) - T0)) s"
if [ "$GUEST" = 0 ]; then
	echo "libvirt-test: PASS, host side only: no guest, no flows (LIBVIRT_TEST_GUEST=0) ($(($(date +%s) - T0)) s)"
else
	echo "libvirt-test: PASS ($(($(date +%s) - T0)) s)"
fi
