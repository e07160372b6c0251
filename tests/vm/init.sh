#!/bin/busybox sh
# /init of the vsteer test VM: mounts what the tests need, runs the in-guest suites,
# checks the kernel log and reboots, which ends QEMU (-no-reboot). The host reads the serial console:
#   VSTEER-BEGIN / VSTEER-RESULT <case> PASS|FAIL <observed> / VSTEER-END / VSTEER-EXIT rc=N
# shellcheck source=tests/vm/init-lib.sh
. /init-lib.sh
guest_mounts /bin /sbin /usr/bin /usr/sbin
mount -t tmpfs tmpfs /tmp
mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf
ip link set lo up

variant=patched suite=all frames=200
kernel_params vsteer variant suite frames

echo "VSTEER-KERNEL $(uname -r) $(nproc) cpus"
start=$(date +%s)
/vsteer/guest_tests --variant "$variant" --suite "$suite" --frames "$frames" \
	--vectors /vsteer/ms-rss-vectors.tsv
rc=$?

# The kernel's own tun and tap selftests (kselftest_harness, TAP output), with the series'
# additions: on the patched kernel every test passes; on the baseline the hash reporting
# tests (tun_hash.*, tap_veth.*) skip and all the others pass.
run_kselftest() {
	log=/tmp/kselftest-$1.log
	/vsteer/kselftest-$1 >"$log" 2>&1
	echo "VSTEER-KSELFTEST $1 exit=$?"
	grep -E '^(not )?ok [0-9]+ ' "$log" | while read -r line; do
		case $line in
		"not ok "*) outcome=fail; t=${line#not ok } ;;
		*) outcome=pass; t=${line#ok } ;;
		esac
		t=${t#* }
		name=${t%% *}
		case $t in *"# SKIP"*) outcome="skip (${t#*# SKIP })" ;; esac
		case $variant:$name:$outcome in
		patched:*:pass | baseline:tun_hash.*:skip* | baseline:tap_veth.*:skip* | baseline:*:pass)
			verdict=PASS ;;
		*) verdict=FAIL; touch /tmp/kselftest-failed ;;
		esac
		echo "VSTEER-RESULT kselftest/$1/$name $verdict $outcome"
	done
	if ! grep -qE '^ok [0-9]+ ' "$log"; then
		echo "VSTEER-RESULT kselftest/$1/ran FAIL no test result"
		touch /tmp/kselftest-failed
	fi
	[ -e /tmp/kselftest-failed ] && grep -v '^ok ' "$log" | tail -n 40
}
case $suite in all|kselftest)
	run_kselftest tun
	run_kselftest tap
	[ -e /tmp/kselftest-failed ] && rc=1
	;;
esac
echo "VSTEER-TIME $(( $(date +%s) - start )) s"

# A test that passes while the kernel warned is not a pass.
if kernel_log_bad; then
	echo "VSTEER-RESULT guest/kernel-log-clean FAIL $(head -n 1 /tmp/bad)"
	dmesg | tail -n 60
	rc=1
else
	echo "VSTEER-RESULT guest/kernel-log-clean PASS dmesg has no kernel warnings"
fi
echo "VSTEER-EXIT rc=$rc"
sync
reboot -f
