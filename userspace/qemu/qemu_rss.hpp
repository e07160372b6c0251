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

namespace vsteer::qemu
{

// Throws vsteer::Error naming the first fd that is not what QEMU expects: a socket filter
// program, then three BPF_F_MMAPABLE arrays with a u32 key: config (1 x 10 bytes), key
// (1 x 40 bytes), indirection table (128 x 2 bytes). QEMU itself only says "Unable to map
// eBPF configuration array" and exits; this check runs before QEMU is started.
void validate_ebpf_rss_fds(const EbpfRssFds &fds);

// QEMU's own RSS program (an ELF object as returned by `request-ebpf`, base64-decoded),
// loaded so that its three maps ARE the given config / key / table maps (bpf_map__reuse_fd):
// the pin set stays vsteer's, only the program differs. Returns the program fd.
struct QemuProgram {
	UniqueFd prog;
	std::string name;
	uint32_t id = 0;
};
QemuProgram load_qemu_rss_program(const std::vector<uint8_t> &elf, int config_fd, int key_fd, int table_fd);

std::vector<uint8_t> base64_decode(std::string_view text);

} // namespace vsteer::qemu
