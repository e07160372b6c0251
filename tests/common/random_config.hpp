// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Random RSS configurations for the suites that check the program (BPF_PROG_TEST_RUN, XDP,
// the real tun path) against the C++ reference: random key, table entries and unclassified
// queue below `queues`, the given hash types and table length.
#pragma once

#include "frame_generator.hpp"
#include "rss_config.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vsteer::test
{

inline std::vector<uint16_t> random_table(Rng &rng, size_t len, uint32_t queues)
{
	std::vector<uint16_t> t(len);
	for (auto &q : t)
		q = static_cast<uint16_t>(rng.below(queues));
	return t;
}

inline RssConfig random_config(Rng &rng, uint32_t types, size_t table_len, uint32_t queues = 256)
{
	RssConfig c;
	c.key = rng.array<VSTEER_KEY_SIZE>();
	c.hash_types = types;
	c.table = random_table(rng, table_len, queues);
	c.unclassified_queue = static_cast<uint16_t>(rng.below(queues));
	return c;
}

} // namespace vsteer::test
