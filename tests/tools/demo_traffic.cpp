// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-demo-traffic: holds a tap's queues like QEMU would, sends a mix of IPv4/IPv6
// TCP/UDP flows (and some frames without a hash) through the tap, reads every queue and
// compares where each frame landed with the C++ reference for the tap's pinned config.
#include "frame_generator.hpp"
#include "rss_reference.hpp"
#include "steering_objects.hpp"
#include "tap_harness.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <thread>

using namespace vsteer;
using namespace vsteer::test;

int main(int argc, char **argv)
{
	std::string tap;
	unsigned queues = 4, flows = 2000;
	uint64_t seed = 1;
	CLI::App app{"Send a mix of flows through a steered tap and report where they landed"};
	app.add_option("--tap", tap, "tap with vsteer attached")->required();
	app.add_option("--queues", queues, "queues to hold");
	app.add_option("--flows", flows, "number of flows (one frame each)");
	app.add_option("--seed", seed, "flow generator seed");
	CLI11_PARSE(app, argc, argv);

	try {
		RssConfig config = SteeringObjects::open_pinned(default_pin_dir(tap)).read_config();
		TapQueues q(tap, queues);
		PacketSender sender(tap);
		Rng rng(seed);

		// Flow i carries its index in the payload so the receiver can look it up.
		std::vector<RssResult> expected;
		std::map<std::string, unsigned> sent_by_kind;
		std::vector<std::vector<uint8_t>> frames;
		for (unsigned i = 0; i < flows; i++) {
			uint32_t k = rng.below(100);
			FrameSpec s;
			std::string kind;
			if (k < 30) {
				s = random_flow(rng, IpFamily::v4, ipproto::kTcp), kind = "ipv4/tcp";
			} else if (k < 55) {
				s = random_flow(rng, IpFamily::v4, ipproto::kUdp), kind = "ipv4/udp";
			} else if (k < 75) {
				s = random_flow(rng, IpFamily::v6, ipproto::kTcp), kind = "ipv6/tcp";
			} else if (k < 95) {
				s = random_flow(rng, IpFamily::v6, ipproto::kUdp), kind = "ipv6/udp";
			} else {
				s = FrameBuilder().arp(rng.array<4>(), rng.array<4>()).spec(), kind = "arp";
			}
			Bytes payload(4);
			std::memcpy(payload.data(), &i, 4);
			if (s.l4)
				s.l4->payload = payload;
			else
				s.raw_l3.insert(s.raw_l3.end(), payload.begin(), payload.end());
			frames.push_back(build_frame(s));
			expected.push_back(compute_rss(config, frames.back()));
			sent_by_kind[kind]++;
		}

		std::vector<unsigned> got(queues), right(queues);
		unsigned received = 0, matched = 0, other = 0;
		auto collect = [&] {
			for (unsigned qi = 0; qi < queues; qi++)
				for (const auto &f : q.drain(qi)) {
					if (f.size() < 4)
						continue;
					uint32_t idx;
					std::memcpy(&idx, f.data() + f.size() - 4, 4);
					if (idx >= flows || frames[idx] != f) {
						other++; // the kernel's own frames (e.g. IPv6 ND)
						continue;
					}
					received++;
					got[qi]++;
					if (expected[idx].queue == qi)
						matched++, right[qi]++;
				}
		};
		for (unsigned i = 0; i < flows; i++) {
			sender.send(frames[i]);
			if (i % 256 == 255)
				collect();
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
		collect();

		std::printf("sent %u frames:", flows);
		for (const auto &[kind, n] : sent_by_kind)
			std::printf(" %s=%u", kind.c_str(), n);
		std::printf("\n\n  queue  frames  on the queue the reference predicts\n");
		for (unsigned qi = 0; qi < queues; qi++)
			std::printf("  %5u  %6u  %6u\n", qi, got[qi], right[qi]);
		std::printf("\nreceived %u of %u, %u on the predicted queue", received, flows, matched);
		std::printf(other ? " (%u other frames from the host ignored)\n" : "\n", other);
		return received == flows && matched == flows ? 0 : 1;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "vsteer-demo-traffic: error: %s\n", e.what());
		return 1;
	}
}
