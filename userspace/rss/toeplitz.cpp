// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "toeplitz.hpp"

#include <stdexcept>

namespace vsteer
{

uint32_t toeplitz_hash(const RssKey &key, std::span<const uint8_t> input)
{
	// 40 key bytes cover 32 + 8 * 36 bits: inputs up to 36 bytes.
	if (input.size() + 4 > key.size())
		throw std::invalid_argument("toeplitz_hash: input longer than 36 bytes");
	uint32_t window = uint32_t(key[0]) << 24 | uint32_t(key[1]) << 16 | uint32_t(key[2]) << 8 | key[3];
	uint32_t hash = 0;
	for (size_t byte = 0; byte < input.size(); byte++) {
		uint8_t next = key[byte + 4];
		for (int bit = 7; bit >= 0; bit--) {
			if (input[byte] & (1u << bit))
				hash ^= window;
			window = window << 1 | ((next >> bit) & 1u);
		}
	}
	return hash;
}

} // namespace vsteer
