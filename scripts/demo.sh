#!/usr/bin/env bash
# make demo: a 4-queue tap in a private network namespace, the steering program
# attached with vsteer, a mix of IPv4/IPv6 TCP/UDP flows sent through the tap, and
# what the program's counters say about how they spread. Cleans up after itself.
set -euo pipefail
VSTEER=${1:-build/vsteer}
BIN_DIR=$(dirname "$VSTEER")
NS=vsteer-demo-$$
TAP=vsdemo0
N="nsenter --net=/run/netns/$NS"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, tun, BPF)" >&2
	exit 1
fi
cleanup() {
	$N "$VSTEER" detach --tap "$TAP" >/dev/null 2>&1 || true
	ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

ip netns add "$NS"
step "vsteer attach --tap $TAP --create --queues 4      # in netns $NS"
$N "$VSTEER" attach --tap "$TAP" --create --queues 4
step "vsteer set --tap $TAP --hash-types ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6 --equal 4"
$N "$VSTEER" set --tap "$TAP" --hash-types ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6 --equal 4
step "vsteer-demo-traffic --tap $TAP --queues 4 --flows 4000   # holds the 4 queues like QEMU"
$N "$BIN_DIR/vsteer-demo-traffic" --tap "$TAP" --queues 4 --flows 4000
step "vsteer show --tap $TAP      # the program's own per-CPU counters, summed"
$N "$VSTEER" show --tap "$TAP"
step "bpftool map dump pinned /sys/fs/bpf/vsteer/$TAP/config   # BTF-typed, QEMU layout"
bpftool map dump pinned "/sys/fs/bpf/vsteer/$TAP/config"
step "vsteer detach --tap $TAP"
$N "$VSTEER" detach --tap "$TAP"
echo
echo "demo: done (namespace $NS removed)"
