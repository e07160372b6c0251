// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// What `vsteer check` reports and what it looks at: the findings (each with a stable name
// that scripts and tests match) and the tap's steering state as found (tap, pinned policy,
// the processes serving the tap). The guest-policy check (qemu_check.hpp) and the XDP
// classifier's check (xdp_check.hpp) both read this state and add findings.
#pragma once

#include "rss_config.hpp"
#include "tap_control.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vsteer::check
{

enum class Status { ok, warn, fail, skip }; // skip: nothing to compare (not a failure)
const char *status_name(Status s);

struct Finding {
	std::string name; // "table-size", "table-queues", "unclassified-queue", "key", ...
	Status status = Status::ok;
	std::string detail;
};

// A process that holds queues of the tap, and which BPF objects it holds.
struct TapHolder {
	int pid = 0;
	std::string comm;
	unsigned tap_queues = 0;        // tun fds attached to the tap
	std::vector<uint32_t> prog_ids; // BPF programs it holds fds of
	std::vector<uint32_t> map_ids;  // BPF maps it holds fds of
};

struct CheckInput {
	std::string tap;
	std::string pin_dir;             // of the tap's steering objects
	std::optional<TapInfo> info;     // nullopt: no such tap in this namespace
	std::optional<RssConfig> config; // nullopt: no (complete) pins
	std::string pin_problem;         // why config is missing
	uint32_t prog_id = 0, config_map_id = 0, key_map_id = 0, table_map_id = 0;
	uint16_t raw_table_len = 0; // indirections_len as stored (read_config clamps)
	bool holders_known = false; // /proc was scanned
	std::vector<TapHolder> holders;
};

bool consistent(const std::vector<Finding> &f); // no fail

} // namespace vsteer::check
