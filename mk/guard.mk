# $(call require_or_skip,TARGET,WHAT,CHECK): recipe shell lines that run CHECK (a command
# that prints why the test cannot run here and exits non-zero) and, when it fails, end the
# recipe: FAIL with CI=true, where a test that needs root, QEMU or a kernel build must not
# pass by skipping, and SKIPPED (exit 0) elsewhere. Continue the recipe with `; \`.
require_or_skip = if ! why=$$($(3)); then \
		if [ "$${CI:-}" = true ]; then echo "$(1): FAIL: cannot run $(2) ($$why)"; exit 1; fi; \
		echo "$(1): SKIPPED: cannot run $(2) ($$why); CI=true makes this a failure"; exit 0; \
	fi
