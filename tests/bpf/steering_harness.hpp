// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The tun steering program under BPF_PROG_TEST_RUN: loads the skeleton, writes the QEMU
// layout maps through mmap exactly as QEMU's ebpf-rss-fds user does (config, key, and the
// indirection table with its 8-byte stride), and runs single frames, returning the queue
// and the cb[0] / cb[1] words the program left in the __sk_buff.
#pragma once

#include "rss_config.hpp"
#include "test_run.hpp"
#include "tun_steering.skel.h"
#include "rss_abi.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>

namespace vsteer::test
{

struct ProgOutput {
	uint32_t queue = 0;  // return value
	uint32_t hash = 0;   // cb[0]
	uint32_t report = 0; // cb[1]
	bool operator==(const ProgOutput &) const = default;
};

// A shared, writable mapping of a BPF_F_MMAPABLE array map.
class MappedMap
{
public:
	MappedMap() = default;
	MappedMap(int fd, size_t bytes, const char *name)
	{
		long page = sysconf(_SC_PAGESIZE);
		len_ = (bytes + static_cast<size_t>(page) - 1) / static_cast<size_t>(page) *
		       static_cast<size_t>(page);
		addr_ = mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (addr_ == MAP_FAILED) {
			addr_ = nullptr;
			throw std::system_error(errno, std::generic_category(),
			                        std::string("mmap map ") + name);
		}
	}
	MappedMap(const MappedMap &) = delete;
	MappedMap &operator=(const MappedMap &) = delete;
	MappedMap(MappedMap &&o) noexcept { *this = std::move(o); }
	MappedMap &operator=(MappedMap &&o) noexcept
	{
		std::swap(addr_, o.addr_);
		std::swap(len_, o.len_);
		return *this;
	}
	~MappedMap()
	{
		if (addr_)
			munmap(addr_, len_);
	}
	uint8_t *bytes() const { return static_cast<uint8_t *>(addr_); }

private:
	void *addr_ = nullptr;
	size_t len_ = 0;
};

class SteeringHarness
{
public:
	SteeringHarness()
	{
		skel_ = tun_steering::open_and_load();
		if (!skel_)
			throw std::system_error(errno, std::generic_category(), "load tun_steering skeleton");
		config_ = MappedMap(bpf_map__fd(skel_->maps.config), sizeof(vsteer_rss_config), "config");
		key_ = MappedMap(bpf_map__fd(skel_->maps.toeplitz_key), sizeof(vsteer_toeplitz_key),
		                 "toeplitz_key");
		table_ = MappedMap(bpf_map__fd(skel_->maps.indirection_table),
		                   VSTEER_MAX_TABLE_LEN * VSTEER_TABLE_STRIDE, "indirection_table");
	}
	SteeringHarness(const SteeringHarness &) = delete;
	SteeringHarness &operator=(const SteeringHarness &) = delete;
	~SteeringHarness() { tun_steering::destroy(skel_); }

	tun_steering *skel() const { return skel_; }
	int prog_fd() const { return bpf_program__fd(skel_->progs.vsteer_tun_steering); }

	// The order of QEMU's ebpf_rss_set_all(): config, indirection table, key.
	void write(const RssConfig &c)
	{
		write_map_config(to_map_config(c));
		write_table(c.table);
		write_key(c.key);
	}
	void write_map_config(const vsteer_rss_config &m) { std::memcpy(config_.bytes(), &m, sizeof(m)); }
	void write_key(const RssKey &key)
	{
		vsteer_toeplitz_key k = to_map_key(key);
		std::memcpy(key_.bytes(), &k, sizeof(k));
	}
	void write_table(std::span<const uint16_t> table)
	{
		for (size_t i = 0; i < table.size(); i++)
			write_table_entry(i, table[i]);
	}
	void write_table_entry(size_t index, uint16_t queue)
	{
		std::memcpy(table_.bytes() + index * VSTEER_TABLE_STRIDE, &queue, sizeof(queue));
	}
	// The raw mappings, for writing bytes exactly as QEMU's ebpf_rss.c lays them out.
	uint8_t *config_bytes() const { return config_.bytes(); }
	uint8_t *key_bytes() const { return key_.bytes(); }
	uint8_t *table_bytes() const { return table_.bytes(); }

	// BPF_PROG_TEST_RUN refuses (EINVAL) frames shorter than 14 bytes, and frames whose
	// EtherType at byte 12 is IPv4 / IPv6 but that are too short for the fixed IP header
	// (the kernel pulls it to set up the test socket). The real tun path has no such limit;
	// the reference unit tests cover those frames.
	static bool test_run_accepts(std::span<const uint8_t> frame)
	{
		if (frame.size() < 14)
			return false;
		uint16_t type = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
		if (type == 0x0800)
			return frame.size() >= 14 + 20;
		if (type == 0x86DD)
			return frame.size() >= 14 + 40;
		return true;
	}

	// One BPF_PROG_TEST_RUN of `frame` (see test_run_accepts). cb[] goes in as garbage so that a
	// program that forgets to write it is caught. The hash and report are read where the ABI
	// documents them (docs/rss-semantics.md: the hash in cb[0], the report in cb[1]), written
	// here on their own rather than through VSTEER_CB_*: a header that swapped those would
	// move the program's writes and this harness would see it.
	ProgOutput run(std::span<const uint8_t> frame) const
	{
		__sk_buff ctx_in{}, ctx_out{};
		for (auto &word : ctx_in.cb)
			word = 0xdeadbeef;
		const uint32_t queue = prog_test_run(prog_fd(), frame, ctx_in, ctx_out).retval;
		return {queue, ctx_out.cb[0], ctx_out.cb[1]};
	}

private:
	tun_steering *skel_ = nullptr;
	MappedMap config_, key_, table_;
};

} // namespace vsteer::test
