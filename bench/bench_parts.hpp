// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The parts of vsteer-bench that live in their own files, and its options.
#pragma once

#include "bench_support.hpp"

#include <cstdint>
#include <string>

namespace vsteer::bench
{

struct Options {
	std::string qemu_object;
	std::string vsteer_object; // empty: the skeleton
	bool check = true;
	std::string parts = "verifier,steering,toeplitz,xdp,live"; // --parts: what to run
	bool wants(const std::string &part) const
	{
		return ("," + parts + ",").find("," + part + ",") != std::string::npos;
	}
	uint32_t repeat = 200000;
	int rounds = 11;
};

// XDP classifier paths vs the XDP_PASS floor, and the rate limiter (bench_xdp.cpp).
void bench_xdp(const Options &opt, int floor_xdp_pass_fd, int cpu, Targets &targets);

// Live packets/s: veth -> bridge / classifier -> tap, and a tap with the steering
// program on vs off, in a private network namespace (bench_live.cpp).
void bench_live(const Options &opt, int gen_tx_fd, Targets &targets);

} // namespace vsteer::bench
