#!/bin/busybox sh
# /init of the L2 guest of `make hash-e2e`: a Linux 6.12 guest with its own virtio_net
# driver behind the patched QEMU that runs in the L1 guest. Kernel parameters:
# vsth.flows=N vsth.key=KEY vsth.round=R. Programs RSS with ethtool (4 queues, KEY, equal
# table, rx hashing on), prints `ethtool -x eth0` between VSTQ-X-BEGIN/END R, then runs
# vsteer-hash-rx (VSTH-READY R ... VSTH-DONE R) while L1 sends. Ends with VSTH-EXIT rc=N.
# shellcheck source=tests/vm/init-lib.sh
. /init-lib.sh
guest_mounts

flows=210 key='' round=1
kernel_params vsth flows key round
E=/usr/sbin/ethtool
rc=0
fail() {
	echo "VSTH-FAIL $*"
	rc=1
	guest_exit VSTH L2
}

echo "VSTH-L2-BOOT $(uname -r)"
# a distribution kernel (Debian's cloud kernel) has virtio_net as a module: /modules holds
# it and what it needs, in load order, uncompressed
for m in /modules/*.ko; do
	[ -e "$m" ] && { insmod "$m" || fail "insmod $m"; }
done
ip link set lo up
ip link set eth0 up || fail "no eth0"
$E -L eth0 combined 4 || fail "ethtool -L eth0 combined 4"
# virtio_net leaves rx hashing off; it can be turned on only when the device reports hashes
if $E -K eth0 rxhash on 2>/tmp/rxhash; then
	echo "VSTH-RXHASH on"
else
	echo "VSTH-RXHASH unavailable: $(head -n 1 /tmp/rxhash)"
fi
echo "VSTH-FEATURES $($E -k eth0 | grep receive-hashing)"
$E -X eth0 hkey "$key" equal 4 || fail "ethtool -X eth0 hkey ... equal 4"
echo "VSTQ-X-BEGIN $round"
$E -x eth0
echo "VSTQ-X-END $round"
/vsteer/vsteer-hash-rx /vsteer/hash_rx.bpf.o eth0 "$round" "$flows" 240000 || rc=1
guest_exit VSTH L2
