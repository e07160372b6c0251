# QEMU 10.0.2 with qemu-patches/ (hash reports of the tun steering program for the guest):
# `make qemu-build` builds qemu-system-x86_64 only (x86_64-softmmu, the few features the
# tests use) from Debian's bookworm-backports source, with ccache, cached outside the
# checkout under $VSTEER_CACHE/qemu/KEY (scripts/qemu/build-qemu.sh); prints the directory.
# `make qemu-check-series` applies the patches one by one, builds after each and runs
# QEMU's scripts/checkpatch.pl on each.
.PHONY: qemu-build qemu-check-series

qemu-build: deps
	@bash scripts/qemu/build-qemu.sh
