// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The steering program and its maps for one tap, loaded from the skeleton or opened from
// their pins. The pin directory holds prog, config, toeplitz_key, indirection_table,
// toeplitz_cache, stats and meta (names in rss_abi.h); it appears whole or not at all.
// meta carries the stamp of the pin set (layout ABI, which program, which version of it):
// docs/pins.md.
#pragma once

#include "bpf_map.hpp"
#include "pin_dir.hpp"
#include "rss_config.hpp"
#include "unique_fd.hpp"
#include "rss_abi.h"

#include <array>
#include <cstdint>
#include <string>

namespace vsteer
{

inline constexpr const char *kPinRoot = "/sys/fs/bpf/vsteer";
std::string default_pin_dir(const std::string &tap);
// Mounts bpffs on /sys/fs/bpf if it is not a bpf mount yet.
void ensure_bpffs();

// Where a tap's pins live: `root`/`name`, by default /sys/fs/bpf/vsteer/TAP; `custom` when
// --pin-dir chose the place.
struct TapPins {
	std::string tap, root, name, path;
	bool custom = false;
	// Checks the tap name and the --pin-dir option (empty: the default) and splits the path.
	static TapPins of(const std::string &tap, const std::string &pin_dir_option);
	// "vsteer VERB --tap T" with the --pin-dir in use, for hints.
	std::string command(const std::string &verb) const;
};

// The root of a tap's pins, opened (created with `create`) and locked: every command that
// changes a pin set holds the lock exclusively from its first look at the pins to its last
// change, readers that must see a whole policy hold it shared.
struct LockedPinRoot {
	PinDir root;
	PinLock lock;
	// The tap's pin directory, if it exists.
	std::optional<PinDir> dir(const TapPins &p) const { return root.child(p.name); }
	// The tap's pin directory, or an Error that says how to create it.
	PinDir require_dir(const TapPins &p) const;
};
LockedPinRoot lock_pin_root(const TapPins &p, PinLock::Mode mode, bool create);

// The version stamp of a BPF object (a hash of its ELF bytes).
uint32_t bpf_object_version(const void *elf, size_t size);
// The version of the steering program this vsteer carries.
uint32_t steering_program_version();

// Counters summed over CPUs.
struct StatsTotals {
	uint64_t packets = 0, bytes = 0, table_rebuilds = 0, not_redirected = 0;
	std::array<uint64_t, VSTEER_REPORT_COUNT> by_report{};
	std::array<uint64_t, VSTEER_MAX_QUEUES> by_queue{};
};

class SteeringObjects
{
public:
	// Loads a fresh program and maps (not pinned), stamped with this vsteer's version.
	static SteeringObjects load();
	// Opens the objects pinned in `dir`. Throws an Error naming the missing pin or, for pins
	// of another layout, the difference; hints name `who`'s commands (with its --pin-dir).
	static SteeringObjects open_pinned(const PinDir &dir, const TapPins *who = nullptr);
	static SteeringObjects open_pinned(const std::string &dir);

	// How much of a pin set a directory holds.
	enum class PinSet { none, partial, complete };
	static PinSet inspect(const PinDir &dir);
	static bool is_pinned(const std::string &dir);
	// Removes vsteer's pins from `root`/`name`, then the directory if that left it empty.
	// A directory without any of vsteer's pins is left alone. False if nothing was removed.
	static bool unpin(const PinDir &root, const std::string &name);
	static void unpin(const std::string &dir);
	// Removes the staging directories (see pin) of processes that no longer exist; call with
	// the root's PinLock held. Returns how many it removed.
	static unsigned remove_stale_staging(const PinDir &root);

	// Pins every object as `root`/`name` atomically: into a staging sibling
	// _staging_<pid>_<name>, then rename(2). Call with the root's PinLock held.
	void pin(const PinDir &root, const std::string &name) const;

	// The pinned program is this vsteer's own program of an older or newer build (the
	// stamp differs). QEMU's program (qemu-object) is never stale.
	bool program_stale() const;
	// Loads this vsteer's program on the same maps (they keep the policy and counters).
	// The tap keeps the old program until the new one is attached; replace_pinned_program
	// then puts it into the pins.
	void load_current_program();
	// Atomically replaces the pinned program (and the stamp) in `dir` with this object's.
	void replace_pinned_program(const PinDir &dir);
	// Takes another program (QEMU's, qemu-object) in place of vsteer's before pin().
	void use_program(UniqueFd prog, uint32_t kind, uint32_t version);

	RssConfig read_config() const;
	// Live update of the whole policy through the mmapped maps (no syscall between the first
	// and the last store): table entries first, then the key, then the config word that
	// makes the new length visible, so a packet never indexes entries that are not written.
	void write_config(const RssConfig &c);
	// Counters summed over CPUs. by_queue counts the queue each packet was delivered
	// to: tun puts it on (returned queue) % (attached queues), so with `attached`
	// queues (the tap's, 0: unknown) a returned queue q counts for q % attached.
	StatsTotals read_stats(unsigned attached = 0) const;

	int prog_fd() const { return prog_.get(); }
	int config_fd() const { return config_.fd(); }
	int key_fd() const { return key_.fd(); }
	int table_fd() const { return table_.fd(); }
	uint32_t prog_id() const;
	// Queues the configuration was last validated against (0: unknown).
	unsigned queues() const;
	void set_queues(unsigned n);
	const vsteer_meta &stamp() const { return stamp_; }

private:
	UniqueFd prog_;
	BpfMap<uint32_t, vsteer_rss_config> config_;
	BpfMap<uint32_t, vsteer_toeplitz_key> key_;
	BpfMap<uint32_t, uint16_t> table_;
	PerCpuArray<vsteer_toeplitz_cache> cache_;
	PerCpuArray<vsteer_stats> stats_;
	UniqueFd meta_;
	vsteer_meta stamp_{};
	bool meta_replaced_ = false; // load_current_program made a meta map of the current layout
};

} // namespace vsteer
