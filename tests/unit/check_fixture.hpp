// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The consistent starting point of the `vsteer check` unit tests (test_qemu_check.cpp,
// test_xdp_check.cpp): a 4-queue tap whose guest spreads a 128-entry table over the 4
// queues, served by a QEMU that holds the program and its three maps. Each case breaks one
// thing in a copy of it.
#pragma once

#include "check_model.hpp"

namespace vsteer::test
{

inline constexpr int kCheckTapIfindex = 7;

inline check::CheckInput consistent_check_input()
{
	check::CheckInput in;
	in.tap = "vst0";
	TapInfo t;
	t.name = "vst0";
	t.ifindex = kCheckTapIfindex;
	t.is_tap = true;
	t.multi_queue = true;
	t.queues = 4;
	in.info = t;
	RssConfig c;
	c.key = parse_key("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa");
	c.table = equal_table(4);
	in.config = c;
	in.raw_table_len = 128;
	in.prog_id = 10;
	in.config_map_id = 11;
	in.key_map_id = 12;
	in.table_map_id = 13;
	in.holders_known = true;
	in.holders.push_back(check::TapHolder{.pid = 42,
	                                      .comm = "qemu-system-x86",
	                                      .tap_queues = 4,
	                                      .prog_ids = {10},
	                                      .map_ids = {11, 12, 13, 99}});
	return in;
}

} // namespace vsteer::test
