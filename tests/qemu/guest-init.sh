#!/bin/busybox sh
# /init of the `make qemu-test` guest. Kernel parameters: vstq.flows=N vstq.k1=KEY vstq.k2=KEY.
# Three rounds, each: program RSS with ethtool, print `ethtool -x eth0` between
# VSTQ-X-BEGIN/END N, then run vsteer-rx (VSTQ-READY N ... VSTQ-DONE N) while the host sends.
#   round 1: ethtool -L eth0 combined 4; ethtool -X eth0 hkey K1 equal 4
#   round 2: ethtool -X eth0 hkey K2 weight 1 2 3 2
#   round 3: ethtool -N eth0 rx-flow-hash tcp4 sd   (TCPv4 flows hash on addresses only)
# Ends with VSTQ-EXIT rc=N and powers off.
# vstq.cycle=1 (make libvirt-test): rounds 1, 2, 3, ... forever instead, odd ones hkey K1 equal 4,
# even ones hkey K2 weight 1 2 3 2, so the host can serve one round before and one after each
# event (daemon restart, reset, destroy + start); a round nobody serves times out after 120 s.
# shellcheck source=tests/vm/init-lib.sh
. /init-lib.sh
guest_mounts

flows=256 k1='' k2='' cycle=0
kernel_params vstq flows k1 k2 cycle
E=/usr/sbin/ethtool
rc=0

fail() {
	echo "VSTQ-FAIL $*"
	dmesg | tail -n 20
	rc=1
	guest_exit VSTQ
}

echo "VSTQ-BOOT $(uname -r) $(nproc) cpus"
ip link set lo up
ip link set eth0 up || fail "no eth0"
echo "VSTQ-CHANNELS-BEFORE $($E -l eth0 | grep -A4 'Current' | grep Combined | tr -s ' \t' ' ')"
$E -L eth0 combined 4 || fail "ethtool -L eth0 combined 4"
$E -K eth0 rxhash on 2>/dev/null

round() {
	n=$1
	shift
	"$@" || fail "round $n: $*"
	echo "VSTQ-X-BEGIN $n"
	$E -x eth0
	echo "VSTQ-X-END $n"
	/vsteer/vsteer-rx eth0 "$n" "$flows" 120000 || rc=1
}
if [ "$cycle" = 1 ]; then
	n=1
	while :; do
		if [ $((n % 2)) = 1 ]; then
			round $n $E -X eth0 hkey "$k1" equal 4
		else
			round $n $E -X eth0 hkey "$k2" weight 1 2 3 2
		fi
		n=$((n + 1))
	done
fi
round 1 $E -X eth0 hkey "$k1" equal 4
round 2 $E -X eth0 hkey "$k2" weight 1 2 3 2
round 3 $E -N eth0 rx-flow-hash tcp4 sd
guest_exit VSTQ
