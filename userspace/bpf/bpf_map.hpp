// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Typed BPF map access in the style of AOSP's BpfMap<K,V>: the map owns its fd, checks
// key/value sizes against the kernel's view when opened, and every error names the map.
#pragma once

#include "error.hpp"
#include "unique_fd.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace vsteer
{

// Kernel-side description of a map fd.
bpf_map_info map_info(int fd, const std::string &name);
// Number of possible CPUs (per-CPU map values are this many slots).
unsigned possible_cpus();
// F_DUPFD_CLOEXEC copy of fd; errors name the map.
int dup_fd(int fd, const std::string &name);

template <typename K, typename V> class BpfMap
{
	static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>);

public:
	BpfMap() = default;
	// Takes ownership of `fd`; `name` is used in every error message.
	BpfMap(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) { check_sizes(); }
	// Opens a pinned map.
	static BpfMap from_pin(const std::string &path)
	{
		int fd = bpf_obj_get(path.c_str());
		if (fd < 0)
			throw_errno("map " + path, "open pinned map",
			            "is the tap attached? (vsteer attach --tap NAME) and is bpffs mounted?");
		return BpfMap(UniqueFd(fd), path);
	}
	// Borrows a skeleton's map (dup'ed so the wrapper owns its copy).
	static BpfMap from_libbpf(const bpf_map *m, const std::string &name)
	{
		int fd = dup_fd(bpf_map__fd(m), name);
		return BpfMap(UniqueFd(fd), name);
	}

	V get(const K &key) const
	{
		V value{};
		if (bpf_map_lookup_elem(fd_.get(), &key, &value))
			throw_errno("map " + name_, "lookup");
		return value;
	}
	void set(const K &key, const V &value, uint64_t flags = BPF_ANY)
	{
		if (bpf_map_update_elem(fd_.get(), &key, &value, flags))
			throw_errno("map " + name_, "update");
	}
	void pin(const std::string &path) const
	{
		if (bpf_obj_pin(fd_.get(), path.c_str()))
			throw_errno("map " + name_, "pin at " + path);
	}
	int fd() const { return fd_.get(); }
	const std::string &name() const { return name_; }

private:
	void check_sizes() const
	{
		bpf_map_info info = map_info(fd_.get(), name_);
		if (info.key_size != sizeof(K) || info.value_size != sizeof(V))
			throw Error(EINVAL, "map " + name_,
			            "unexpected layout: key " + std::to_string(info.key_size) +
			                " bytes, value " + std::to_string(info.value_size) +
			                " bytes (expected " + std::to_string(sizeof(K)) + "/" +
			                std::to_string(sizeof(V)) + ")",
			            "this is not a vsteer/QEMU RSS map");
	}

	UniqueFd fd_;
	std::string name_;
};

// Per-CPU array map: get() returns one value per possible CPU.
template <typename V> class PerCpuArray
{
	static_assert(std::is_trivially_copyable_v<V>);

public:
	PerCpuArray() = default;
	PerCpuArray(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name))
	{
		bpf_map_info info = map_info(fd_.get(), name_);
		if (info.value_size != sizeof(V) || info.type != BPF_MAP_TYPE_PERCPU_ARRAY)
			throw Error(EINVAL, "map " + name_, "not a per-CPU array of the expected value size");
	}
	static PerCpuArray from_pin(const std::string &path)
	{
		int fd = bpf_obj_get(path.c_str());
		if (fd < 0)
			throw_errno("map " + path, "open pinned map");
		return PerCpuArray(UniqueFd(fd), path);
	}
	std::vector<V> get(uint32_t key) const
	{
		// The kernel copies round_up(value_size, 8) bytes per CPU.
		constexpr size_t stride = (sizeof(V) + 7) / 8 * 8;
		std::vector<unsigned char> raw(stride * possible_cpus());
		if (bpf_map_lookup_elem(fd_.get(), &key, raw.data()))
			throw_errno("map " + name_, "lookup");
		std::vector<V> out(possible_cpus());
		for (size_t i = 0; i < out.size(); i++)
			std::memcpy(&out[i], raw.data() + i * stride, sizeof(V));
		return out;
	}
	int fd() const { return fd_.get(); }

private:
	UniqueFd fd_;
	std::string name_;
};

} // namespace vsteer
