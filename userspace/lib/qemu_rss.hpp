// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The four objects QEMU takes as `ebpf-rss-fds` (program, config, Toeplitz key, indirection
// table): checking that fds are of the kind QEMU will mmap, and loading QEMU's own RSS
// program (from QMP `request-ebpf`) so that it can be pinned in vsteer's layout.
#pragma once

#include "qemu_cmdline.hpp"
#include "unique_fd.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vsteer::qemu {

// Throws vsteer::Error naming the first fd that is not what QEMU expects: a socket filter
// program, then three BPF_F_MMAPABLE arrays with a u32 key: config (1 x 10 bytes), key
// (1 x 40 bytes), indirection table (128 x 2 bytes). QEMU itself only says "Unable to map
// eBPF configuration array" and exits; this check runs before QEMU is started.
void validate_ebpf_rss_fds(const EbpfRssFds &fds);

// QEMU's own RSS program, loaded by vsteer. Placeholder `toeplitz_cache` and `stats` maps
// of vsteer's layout complete the pin set (QEMU's program keeps no counters: they stay 0).
struct QemuRssObjects {
	UniqueFd prog, config, key, table, cache, stats;
	std::string prog_name;
	EbpfRssFds fds() const { return {prog.get(), config.get(), key.get(), table.get()}; }
	// Pins like SteeringObjects::pin (prog, config, toeplitz_key, indirection_table,
	// toeplitz_cache, stats), into a staging directory first, then rename(2).
	void pin(const std::string &dir) const;
};

// Loads an ELF object as returned by `request-ebpf` (already base64-decoded).
QemuRssObjects load_qemu_rss_object(const std::vector<uint8_t> &elf);

std::vector<uint8_t> base64_decode(std::string_view text);

} // namespace vsteer::qemu
