// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The RSS configuration model: what a guest (or `vsteer set`) programs, its validation,
// its text forms for the CLI, and its conversion to and from the QEMU map layout.
#pragma once

#include "error.hpp" // ConfigError
#include "toeplitz.hpp"
#include "vsteer_abi.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vsteer
{

struct RssConfig {
	RssKey key{};
	uint32_t hash_types = VSTEER_HASH_DEFAULT;
	std::vector<uint16_t> table{0}; // indirection table, power-of-two length 1..128
	uint16_t unclassified_queue = 0;
	bool redirect = true; // false: hash-report-only, every packet to the unclassified queue

	// Throws ConfigError naming the first problem. num_queues == 0 skips queue range checks.
	void validate(unsigned num_queues) const;

	bool operator==(const RssConfig &) const = default;
};

// Random key, the six non-_EX types, table spread evenly over num_queues, queue 0.
RssConfig default_config(unsigned num_queues);
RssKey random_key();

// Table of VSTEER_MAX_TABLE_LEN entries, entry i = i % num_queues (like `ethtool -X equal N`).
std::vector<uint16_t> equal_table(unsigned num_queues);

// Text forms. Parsers throw ConfigError with a message naming the bad token.
RssKey parse_key(std::string_view hex); // 40 bytes, "6d5a..." or "6d:5a:..."
std::string format_key(const RssKey &key);
uint32_t parse_hash_types(std::string_view list); // "ipv4,tcpv4,...", also "all", "default"
std::string format_hash_types(uint32_t types);
std::vector<uint16_t> parse_table(std::string_view list); // "0,1,2,3"
const char *report_name(uint8_t report);

// QEMU map layout (vsteer_abi.h).
vsteer_rss_config to_map_config(const RssConfig &c);
vsteer_toeplitz_key to_map_key(const RssKey &key);
RssKey from_map_key(const vsteer_toeplitz_key &k);

} // namespace vsteer
