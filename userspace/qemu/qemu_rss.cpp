// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "qemu_rss.hpp"

#include "error.hpp"
#include "vsteer_abi.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace vsteer::qemu
{

namespace
{

const char *const kFdNames[4] = {"program", "config map", "toeplitz key map", "indirection table map"};

std::string fd_label(size_t i, int fd)
{
	return std::string("ebpf-rss-fds[") + std::to_string(i) + "] (" + kFdNames[i] + ", fd " +
	       std::to_string(fd) + ")";
}

// "bpf-prog", "bpf-map", ... from the fd's anon inode name (bpf_obj_get_info_by_fd fills
// any struct for any BPF fd, so it cannot tell a map from a program).
std::string fd_kind(int fd)
{
	char buf[128];
	std::string path = "/proc/self/fd/" + std::to_string(fd);
	ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
	if (n < 0)
		return errno == ENOENT ? "closed" : "unknown";
	std::string s(buf, static_cast<size_t>(n));
	if (s.rfind("anon_inode:", 0) == 0)
		return s.substr(11);
	return s;
}

void check_map(size_t i, int fd, uint32_t value_size, uint32_t max_entries)
{
	std::string kind = fd_kind(fd);
	if (kind != "bpf-map")
		throw Error(
		    EINVAL, fd_label(i, fd), "is not a BPF map (" + kind + ")",
		    "the four fds must be program, config, toeplitz_key, indirection_table in this order");
	bpf_map_info info{};
	__u32 len = sizeof(info);
	if (bpf_map_get_info_by_fd(fd, &info, &len))
		throw Error(errno == EBADF ? EBADF : EINVAL, fd_label(i, fd), "is not a BPF map",
		            "pass the pins of one vsteer pin directory");
	std::string have = "a " + std::to_string(info.max_entries) + " x " + std::to_string(info.value_size) +
	                   "-byte map of type " + std::to_string(info.type);
	std::string want =
	    std::to_string(max_entries) + " x " + std::to_string(value_size) + "-byte BPF_MAP_TYPE_ARRAY";
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 || info.value_size != value_size ||
	    info.max_entries != max_entries)
		throw Error(
		    EINVAL, fd_label(i, fd), "is " + have + ", QEMU needs a " + want,
		    "the four fds must be program, config, toeplitz_key, indirection_table in this order");
	if (!(info.map_flags & BPF_F_MMAPABLE))
		throw Error(EINVAL, fd_label(i, fd),
		            "lacks BPF_F_MMAPABLE; QEMU writes the map through mmap");
}

int dup_cloexec(int fd, const char *what)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d < 0)
		throw_errno(std::string("QEMU RSS object ") + what, "dup");
	return d;
}

} // namespace

void validate_ebpf_rss_fds(const EbpfRssFds &fds)
{
	std::string kind = fd_kind(fds[0]);
	if (kind != "bpf-prog")
		throw Error(
		    EINVAL, fd_label(0, fds[0]), "is not a BPF program (" + kind + ")",
		    "the four fds must be program, config, toeplitz_key, indirection_table in this order");
	bpf_prog_info info{};
	__u32 len = sizeof(info);
	if (bpf_prog_get_info_by_fd(fds[0], &info, &len))
		throw Error(errno == EBADF ? EBADF : EINVAL, fd_label(0, fds[0]), "is not a BPF program",
		            "pass the pins of one vsteer pin directory");
	if (info.type != BPF_PROG_TYPE_SOCKET_FILTER)
		throw Error(EINVAL, fd_label(0, fds[0]),
		            "is a BPF program of type " + std::to_string(info.type) +
		                ", TUNSETSTEERINGEBPF needs a socket filter (type 1)");
	check_map(1, fds[1], sizeof(vsteer_rss_config), 1);
	check_map(2, fds[2], sizeof(vsteer_toeplitz_key), 1);
	check_map(3, fds[3], sizeof(uint16_t), VSTEER_MAX_TABLE_LEN);
}

std::vector<uint8_t> base64_decode(std::string_view text)
{
	auto val = [](char c) -> int {
		if (c >= 'A' && c <= 'Z')
			return c - 'A';
		if (c >= 'a' && c <= 'z')
			return c - 'a' + 26;
		if (c >= '0' && c <= '9')
			return c - '0' + 52;
		if (c == '+')
			return 62;
		if (c == '/')
			return 63;
		return -1;
	};
	std::vector<uint8_t> out;
	uint32_t acc = 0;
	int bits = 0;
	for (char c : text) {
		if (c == '=' || c == '\n' || c == '\r' || c == ' ')
			continue;
		int v = val(c);
		if (v < 0)
			throw Error(EINVAL, "base64 object", std::string("invalid character '") + c + "'");
		acc = (acc << 6) | static_cast<uint32_t>(v);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out.push_back(static_cast<uint8_t>(acc >> bits));
		}
	}
	return out;
}

QemuProgram load_qemu_rss_program(const std::vector<uint8_t> &elf, int config_fd, int key_fd, int table_fd)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "qemu_rss");
	bpf_object *obj = bpf_object__open_mem(elf.data(), elf.size(), &opts);
	if (!obj)
		throw_errno("QEMU RSS object", "open the ELF object from request-ebpf");
	QemuProgram p;
	try {
		bpf_program *prog = bpf_object__next_program(obj, nullptr);
		if (!prog)
			throw Error(ENOENT, "QEMU RSS object", "has no program");
		int reused = 0;
		bpf_map *m = nullptr;
		bpf_object__for_each_map(m, obj)
		{
			// QEMU's maps: configurations (10-byte value), toeplitz key (40), indirection table
			// (2).
			uint32_t vs = bpf_map__value_size(m);
			int fd = vs == sizeof(vsteer_rss_config)     ? config_fd
			         : vs == sizeof(vsteer_toeplitz_key) ? key_fd
			         : vs == sizeof(uint16_t)            ? table_fd
			                                             : -1;
			if (fd < 0)
				continue;
			if (int err = bpf_map__reuse_fd(m, fd))
				throw Error(-err, std::string("QEMU RSS object map ") + bpf_map__name(m),
				            "share vsteer's map (layouts differ?)");
			reused++;
		}
		if (reused != 3)
			throw Error(ENOENT, "QEMU RSS object",
			            "does not have QEMU's three RSS maps (config, key, table)");
		if (bpf_object__load(obj))
			throw_errno("QEMU RSS object", "load into the kernel");
		p.name = bpf_program__name(prog);
		p.prog = UniqueFd(dup_cloexec(bpf_program__fd(prog), "program"));
	} catch (...) {
		bpf_object__close(obj);
		throw;
	}
	bpf_object__close(obj);
	bpf_prog_info info{};
	__u32 len = sizeof(info);
	if (bpf_prog_get_info_by_fd(p.prog.get(), &info, &len))
		throw_errno("QEMU RSS program", "query program info");
	p.id = info.id;
	validate_ebpf_rss_fds({p.prog.get(), config_fd, key_fd, table_fd});
	return p;
}

} // namespace vsteer::qemu
