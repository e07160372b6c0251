// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// One BPF_PROG_TEST_RUN of a frame, the way the BPF suites run a program once.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace vsteer::test
{

struct TestRunResult {
	uint32_t retval = 0;        // the program's return value
	uint32_t data_size_out = 0; // bytes written to `out`
};

// Runs `prog_fd` once on `frame` with the context `ctx_in`; the context comes back in
// `ctx_out`, the frame as the program left it in `out` (when given). Throws when the kernel
// refuses the run.
template <class Ctx>
TestRunResult prog_test_run(int prog_fd, std::span<const uint8_t> frame, const Ctx &ctx_in, Ctx &ctx_out,
                            std::span<uint8_t> out = {})
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
	            .data_size_in = static_cast<__u32>(frame.size()),
	            .data_size_out = static_cast<__u32>(out.size()), .ctx_in = &ctx_in, .ctx_out = &ctx_out,
	            .ctx_size_in = sizeof(Ctx), .ctx_size_out = sizeof(Ctx), .repeat = 1);
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		throw std::system_error(errno, std::generic_category(),
		                        "BPF_PROG_TEST_RUN of a " + std::to_string(frame.size()) +
		                            "-byte frame");
	return {opts.retval, opts.data_size_out};
}

} // namespace vsteer::test
