# libFuzzer harnesses (fuzz/): every parser of untrusted text runs for FUZZ_SECONDS each from
# the seed corpora in fuzz/corpus/, as part of `make test`. Built by clang-19 with libFuzzer
# (libclang-rt-19-dev); without it the target skips, except with CI=true, where it fails.
# A finding fails the target and leaves its input in $(BUILD_DIR)/fuzz/findings/.
.PHONY: fuzz

TEST_EXTRA += fuzz
FUZZ_SECONDS ?= 20

fuzz:
	@$(call require_or_skip,fuzz,the libFuzzer harnesses,BUILD_DIR=$(BUILD_DIR) bash scripts/fuzz.sh --check); \
	BUILD_DIR=$(BUILD_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh
