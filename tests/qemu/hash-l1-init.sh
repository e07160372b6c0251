#!/bin/busybox sh
# /init of the L1 guest of `make hash-e2e` (tests/qemu/run-hash-e2e.sh): the 6.12 kernel
# (with or without kernel-patches/) runs the patched QEMU under TCG with vhost-net, started
# by `vsteer run-qemu`, and an L2 Linux guest behind it. Kernel parameters: vsth.modes=
# off,on (one run each, in order: off/on = vhost= with hash=on; bench-hash / bench-nohash =
# vhost=on with hash=on / hash=off and the flows sent without pacing for vsth.seconds),
# vsth.flows=N, vsth.seed=S, vsth.key=KEY.
# Per run: a 4-queue tap with vsteer's program (vsteer attach --create), QEMU with
# virtio-net rss=on,hash=on; once L2 is ready, sends the flows (vsteer-qemu-flows
# send-hash); after L2 is done prints its console between VSTH-L2-BEGIN/END MODE and
# the steering program's packet counter before the flows and at the end
# (VSTH-PACKETS-BEFORE MODE N, VSTH-PACKETS MODE N). Ends with VSTH-L1-EXIT.
# shellcheck source=tests/vm/init-lib.sh
. /init-lib.sh
guest_mounts /run
mount -t bpf bpf /sys/fs/bpf
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm

modes=off,on flows=210 seed=1 key='' seconds=10
kernel_params vsth modes flows seed key seconds
echo "VSTH-L1-BOOT $(uname -r)"
param=/sys/module/vhost_net/parameters/hash_report
if [ -e "$param" ]; then
	echo "VSTH-L1 vhost_net.hash_report=$(cat $param)"
else
	echo "VSTH-L1 vhost_net has no hash_report parameter"
fi
ip link set lo up
tap=vsth0
round=0
for mode in $(echo "$modes" | tr ',' ' '); do
	round=$((round + 1))
	case $mode in
	bench-hash) vhost=on hash=on send="blast-hash" ;;
	bench-nohash) vhost=on hash=off send="blast-hash" ;;
	*) vhost=$mode hash=on send="send-hash" ;;
	esac
	log=/tmp/l2-$mode.log
	: >"$log"
	start=$(date +%s)
	/vsteer/vsteer attach --tap $tap --create --queues 4 >/tmp/attach 2>&1 ||
		echo "VSTH-FAIL vsteer attach: $(cat /tmp/attach)"
	ip link set $tap up
	/vsteer/vsteer run-qemu --tap $tap -- /qemu/qemu-system-x86_64 -L /qemu \
		-accel tcg -m 384 -smp 1 -nodefaults -no-user-config -display none -no-reboot \
		-kernel /l2/bzImage -initrd /l2/initramfs.cpio \
		-append "console=ttyS0 panic=-1 quiet no_timer_check vsth.flows=$flows vsth.key=$key vsth.round=$round" \
		-serial "file:$log" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,queues=4,vhost=$vhost" \
		-device "virtio-net-pci,netdev=n0,mq=on,rss=on,hash=$hash,vectors=10,romfile=" \
		>/tmp/qemu.out 2>&1 &
	qemu=$!
	t=0
	while ! grep -q "VSTH-READY $round" "$log"; do
		if ! kill -0 $qemu 2>/dev/null || grep -q VSTH-FAIL "$log" || [ $t -ge 900 ]; then
			echo "VSTH-FAIL vhost=$mode: L2 not ready after ${t}s; QEMU: $(cat /tmp/qemu.out)"
			break
		fi
		sleep 1
		t=$((t + 1))
	done
	echo "VSTH-L1 vhost=$mode: L2 ready after $(($(date +%s) - start)) s"
	if grep -q "VSTH-READY $round" "$log"; then
		# the counter before the flows: the L1 stack's own frames into the tap while QEMU and
		# L2 start (IPv6 router solicitations) are not the flows'
		/vsteer/vsteer show --tap $tap --json >/tmp/show0.json 2>&1
		echo "VSTH-PACKETS-BEFORE $mode $(/vsteer/vsteer-qemu-flows packets /tmp/show0.json)"
		if [ "$send" = blast-hash ]; then
			/vsteer/vsteer-qemu-flows blast-hash $tap "$round" "$flows" "$seed" "$seconds" | sed "s/^VSTH-BENCH/VSTH-BENCH $mode/"
		else
			/vsteer/vsteer-qemu-flows send-hash $tap "$round" "$flows" "$seed"
		fi
	fi
	t=0
	while kill -0 $qemu 2>/dev/null && [ $t -lt 400 ]; do
		sleep 1
		t=$((t + 1))
	done
	kill $qemu 2>/dev/null
	echo "VSTH-L1 vhost=$mode: run took $(($(date +%s) - start)) s; QEMU said: $(tr '\n' ' ' </tmp/qemu.out)"
	echo "VSTH-L2-BEGIN $mode"
	cat "$log"
	echo "VSTH-L2-END $mode"
	/vsteer/vsteer show --tap $tap --json >/tmp/show.json 2>&1
	echo "VSTH-PACKETS $mode $(/vsteer/vsteer-qemu-flows packets /tmp/show.json)"
	/vsteer/vsteer detach --tap $tap >/dev/null 2>&1
	ip link del $tap 2>/dev/null
done
if kernel_log_bad; then
	echo "VSTH-FAIL L1 kernel log: $(head -n 1 /tmp/bad)"
fi
echo "VSTH-L1-EXIT"
sync
reboot -f
