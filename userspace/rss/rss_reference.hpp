// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The C++ reference of virtio-net RSS (shared rss-semantics.md): an implementation
// written independently of the BPF program, used by the tests, `vsteer hash` and the
// guest tests to predict hash value, report type and queue for a frame.
#pragma once

#include "rss_config.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace vsteer
{

// What parsing found in a frame (addresses and ports as they appear on the wire).
struct ParsedFlow {
	int l3 = 0;                                       // 0: not IP, 4 or 6
	int l4 = 0;                                       // 0: none, 6 (TCP) or 17 (UDP)
	std::array<uint8_t, 16> src{}, dst{};             // IPv4 uses the first 4 bytes
	std::optional<std::array<uint8_t, 16>> home_addr; // IPv6 Home Address option
	std::optional<std::array<uint8_t, 16>> final_dst; // IPv6 type-2 routing header
	uint16_t sport = 0, dport = 0;                    // host order
};

struct HashChoice {
	uint8_t report = 0;         // enum vsteer_report
	std::vector<uint8_t> input; // empty when report is NONE
};

struct RssResult {
	uint16_t queue = 0;
	uint32_t hash = 0;
	uint8_t report = 0;
	bool operator==(const RssResult &) const = default;
};

inline constexpr int kMaxExtensionHeaders = 8; // walk limit, same as the BPF program
inline constexpr int kMaxDestOptions = 16;     // TLV options looked at per Destination Options header

ParsedFlow parse_frame(std::span<const uint8_t> frame);
HashChoice choose_hash(const ParsedFlow &flow, uint32_t hash_types);
// Full pipeline: parse, choose, hash, pick the queue.
RssResult compute_rss(const RssConfig &config, std::span<const uint8_t> frame);
// Queue for an already computed hash/report (the indirection step alone).
uint16_t select_queue(const RssConfig &config, uint32_t hash, uint8_t report);

} // namespace vsteer
