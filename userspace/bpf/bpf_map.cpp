// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "bpf_map.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string_view>

#include <cstring>

namespace vsteer
{

bpf_map_info map_info(int fd, const std::string &name)
{
	// The info syscall answers for any BPF object: make sure this one is a map.
	char target[64] = {};
	std::string link = "/proc/self/fd/" + std::to_string(fd);
	if (readlink(link.c_str(), target, sizeof(target) - 1) < 0)
		throw_errno("map " + name, "inspect fd");
	if (std::string_view(target) != "anon_inode:bpf-map")
		throw Error(EINVAL, "map " + name, std::string("is not a BPF map (") + target + ")",
		            "a program or another object is pinned where a map belongs");
	bpf_map_info info{};
	__u32 len = sizeof(info);
	if (bpf_map_get_info_by_fd(fd, &info, &len))
		throw_errno("map " + name, "query map info");
	return info;
}

unsigned possible_cpus()
{
	static const int n = libbpf_num_possible_cpus();
	if (n <= 0)
		throw Error(-n, "/sys/devices/system/cpu/possible", "count possible CPUs");
	return static_cast<unsigned>(n);
}

int dup_fd(int fd, const std::string &name)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0)
		throw_errno("map " + name, "duplicate fd");
	return copy;
}

} // namespace vsteer
