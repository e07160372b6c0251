# QEMU 10.0.2 with qemu-patches/ (hash reports of the tun steering program for the guest).
#
# `make qemu-build` builds qemu-system-x86_64 only (x86_64-softmmu, the few features the
# tests use) from Debian's bookworm-backports source, with ccache, cached outside the
# checkout under $VSTEER_CACHE/qemu/KEY (scripts/qemu/build-qemu.sh); prints the directory.
# `make qemu-check-series` applies the patches one by one: QEMU's scripts/checkpatch.pl and
# an incremental build without compiler warnings after each (scripts/qemu/check-series.sh).
#
# `make hash-e2e` (also run by `make test`): nested TCG, the patched 6.12 kernel runs the
# patched QEMU (started by `vsteer run-qemu`, vhost=on and vhost=off) with a Linux guest
# whose own virtio_net driver must receive, for every flow, the rx queue and the hash the
# C++ reference predicts; the unpatched kernel shows QEMU's fallback
# (tests/qemu/run-hash-e2e.sh). Without the prerequisites it skips, except with CI=true,
# where it fails.
TEST_EXTRA += hash-e2e
.PHONY: qemu-build qemu-check-series hash-e2e

qemu-build: deps
	@bash scripts/qemu/build-qemu.sh

qemu-check-series: deps
	@bash scripts/qemu/check-series.sh

hash-e2e:
	@$(MAKE) --no-print-directory build
	@$(call require_or_skip,hash-e2e,the nested hash-report test,BUILD_DIR=$(BUILD_DIR) bash tests/qemu/run-hash-e2e.sh --check); \
	BUILD_DIR=$(BUILD_DIR) bash tests/qemu/run-hash-e2e.sh

# bench-hash: packets/s through tap -> vhost-net into the L2 guest of hash-e2e with the
# guest's hash reports on vs off (tests/qemu/run-hash-e2e.sh --bench), part of `make bench`.
BENCH_EXTRA += bench-hash
.PHONY: bench-hash

bench-hash: build
	@$(call require_or_skip,bench-hash,the nested hash-report benchmark,BUILD_DIR=$(BUILD_DIR) bash tests/qemu/run-hash-e2e.sh --check); \
	BUILD_DIR=$(BUILD_DIR) bash tests/qemu/run-hash-e2e.sh --bench
