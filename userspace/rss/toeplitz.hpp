// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Bit-serial Toeplitz hash: the reference the table-driven BPF version is checked against.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace vsteer
{

using RssKey = std::array<uint8_t, 40>;

// For each set input bit i (MSB of byte 0 first), XOR in the 32 key bits starting at bit i.
uint32_t toeplitz_hash(const RssKey &key, std::span<const uint8_t> input);

} // namespace vsteer
