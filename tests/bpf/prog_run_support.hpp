// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// What the BPF_PROG_TEST_RUN suites share: the seed, one loaded program, random
// configurations, the reference's prediction in the program's output form, probe frames.
#pragma once

#include "frame_generator.hpp"
#include "random_config.hpp"
#include "rss_reference.hpp"
#include "steering_harness.hpp"

#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace vsteer::test
{

inline constexpr uint64_t kDefaultSeed = 0x5eed0f7a6b1e;

inline uint64_t test_seed()
{
	const char *env = std::getenv("VSTEER_TEST_SEED");
	return env ? std::strtoull(env, nullptr, 0) : kDefaultSeed;
}

// One loaded program for the whole suite (loading and verifying takes ~0.4 s); every test
// writes a complete configuration before its first packet.
inline SteeringHarness &harness()
{
	static SteeringHarness h;
	return h;
}

inline std::string hex(std::span<const uint8_t> b)
{
	static const char digits[] = "0123456789abcdef";
	std::string s;
	for (uint8_t x : b) {
		s += digits[x >> 4];
		s += digits[x & 15];
	}
	return s;
}

inline std::string show(const ProgOutput &o)
{
	return "queue " + std::to_string(o.queue) + " hash 0x" +
	       [&] {
		       char buf[16];
		       std::snprintf(buf, sizeof(buf), "%08x", o.hash);
		       return std::string(buf);
	       }() +
	       " report " + std::to_string(o.report);
}

inline ProgOutput expected_output(const RssConfig &c, std::span<const uint8_t> frame)
{
	RssResult r = compute_rss(c, frame);
	return {r.queue, r.hash, r.report};
}

// Frames whose hash depends on every key byte (IPv6 TCP: 36 input bytes use key bits
// 0..319) and on few of them (IPv4: 8 or 12 bytes).
inline std::vector<Bytes> probe_frames()
{
	return {
	    FrameBuilder().ipv6("2001:db8::1", "2001:db8::2").tcp(49152, 443).build(),
	    FrameBuilder()
		.ipv6("fd00::17", "fd00::42")
		.ext(dest_home_address(ipv6_addr("2001:db8:ffff::9")))
		.udp(5000, 53)
		.build(),
	    FrameBuilder().ipv4("192.0.2.1", "198.51.100.7").tcp(1234, 80).build(),
	    FrameBuilder().qinq(10, 20).ipv4("10.0.0.1", "10.0.0.2").udp(4789, 4789).build(),
	};
}

} // namespace vsteer::test
