// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The frame and flow a user types for `vsteer hash`: a whole Ethernet frame in hex, or a
// tuple "SRC,DST[,SPORT,DPORT]". Parsers throw ConfigError naming the option and the value.
#pragma once

#include "rss_reference.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace vsteer
{

// "0011aabb...", also with ':', '-' or ' ' between the bytes (--packet).
std::vector<uint8_t> parse_packet_hex(std::string_view hex);

// "SRC,DST" (an L3-only flow) or "SRC,DST,SPORT,DPORT" (a TCP flow), IPv4 or IPv6 (--tuple).
ParsedFlow parse_tuple(std::string_view tuple);

} // namespace vsteer
