// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The steering program and its maps for one tap, loaded from the skeleton or opened from
// their pins. The pin directory holds prog, config, toeplitz_key, indirection_table,
// toeplitz_cache and stats (names in vsteer_abi.h); it appears whole or not at all.
#pragma once

#include "bpf_map.hpp"
#include "rss_config.hpp"
#include "unique_fd.hpp"
#include "vsteer_abi.h"

#include <array>
#include <cstdint>
#include <string>

namespace vsteer
{

inline constexpr const char *kPinRoot = "/sys/fs/bpf/vsteer";
std::string default_pin_dir(const std::string &tap);
// Mounts bpffs on /sys/fs/bpf if it is not a bpf mount yet.
void ensure_bpffs();

// Counters summed over CPUs.
struct StatsTotals {
	uint64_t packets = 0, bytes = 0, table_rebuilds = 0, not_redirected = 0;
	std::array<uint64_t, VSTEER_REPORT_COUNT> by_report{};
	std::array<uint64_t, VSTEER_MAX_QUEUES> by_queue{};
};

class SteeringObjects
{
public:
	// Loads a fresh program and maps (not pinned).
	static SteeringObjects load();
	// Opens the objects pinned in `dir`; throws an Error naming the missing pin.
	static SteeringObjects open_pinned(const std::string &dir);
	// True if `dir` holds a complete set of pins.
	static bool is_pinned(const std::string &dir);
	// Removes the pins and the directory (missing pins are not an error).
	static void unpin(const std::string &dir);

	// Pins every object under `dir` atomically: into a temporary sibling, then rename(2).
	void pin(const std::string &dir) const;

	RssConfig read_config() const;
	// Live update: table entries first, then the key, then the config word that makes the
	// new length visible, so a packet never indexes entries that are not written yet.
	void write_config(const RssConfig &c);
	StatsTotals read_stats() const;

	int prog_fd() const { return prog_.get(); }
	int config_fd() const { return config_.fd(); }
	int key_fd() const { return key_.fd(); }
	int table_fd() const { return table_.fd(); }
	uint32_t prog_id() const;
	// Queues the configuration was last validated against (0: unknown).
	unsigned queues() const { return meta_.get(0).queues; }
	void set_queues(unsigned n) { meta_.set(0, vsteer_meta{n, 0}); }

private:
	UniqueFd prog_;
	BpfMap<uint32_t, vsteer_rss_config> config_;
	BpfMap<uint32_t, vsteer_toeplitz_key> key_;
	BpfMap<uint32_t, uint16_t> table_;
	PerCpuArray<vsteer_toeplitz_cache> cache_;
	PerCpuArray<vsteer_stats> stats_;
	BpfMap<uint32_t, vsteer_meta> meta_;
};

} // namespace vsteer
