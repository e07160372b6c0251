// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "qemu_rss.hpp"

#include "error.hpp"
#include "steering_objects.hpp"
#include "vsteer_abi.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace vsteer::qemu {

namespace fs = std::filesystem;

namespace {

const char *const kFdNames[4] = {"program", "config map", "toeplitz key map", "indirection table map"};

std::string fd_label(size_t i, int fd)
{
	return std::string("ebpf-rss-fds[") + std::to_string(i) + "] (" + kFdNames[i] + ", fd " + std::to_string(fd) + ")";
}

void check_map(size_t i, int fd, uint32_t value_size, uint32_t max_entries)
{
	bpf_map_info info{};
	__u32 len = sizeof(info);
	if (bpf_map_get_info_by_fd(fd, &info, &len))
		throw Error(errno == EBADF ? EBADF : EINVAL, fd_label(i, fd), "is not a BPF map",
			    "pass the pins of one vsteer pin directory");
	std::string have = "a " + std::to_string(info.max_entries) + " x " + std::to_string(info.value_size) +
			   "-byte map of type " + std::to_string(info.type);
	std::string want = std::to_string(max_entries) + " x " + std::to_string(value_size) + "-byte BPF_MAP_TYPE_ARRAY";
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 || info.value_size != value_size ||
	    info.max_entries != max_entries)
		throw Error(EINVAL, fd_label(i, fd), "is " + have + ", QEMU needs a " + want,
			    "the four fds must be program, config, toeplitz_key, indirection_table in this order");
	if (!(info.map_flags & BPF_F_MMAPABLE))
		throw Error(EINVAL, fd_label(i, fd), "lacks BPF_F_MMAPABLE; QEMU writes the map through mmap");
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

QemuRssObjects load_qemu_rss_object(const std::vector<uint8_t> &elf)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "qemu_rss");
	bpf_object *obj = bpf_object__open_mem(elf.data(), elf.size(), &opts);
	if (!obj)
		throw_errno("QEMU RSS object", "open the ELF object from request-ebpf");
	QemuRssObjects o;
	try {
		if (bpf_object__load(obj))
			throw_errno("QEMU RSS object", "load into the kernel");
		bpf_program *prog = bpf_object__next_program(obj, nullptr);
		if (!prog)
			throw Error(ENOENT, "QEMU RSS object", "has no program");
		o.prog_name = bpf_program__name(prog);
		o.prog = UniqueFd(dup_cloexec(bpf_program__fd(prog), "program"));
		bpf_map *m = nullptr;
		bpf_object__for_each_map(m, obj)
		{
			// QEMU's maps: configurations (10 bytes), toeplitz key (40), indirection table (2).
			uint32_t vs = bpf_map__value_size(m);
			if (bpf_map__type(m) != BPF_MAP_TYPE_ARRAY)
				continue;
			if (vs == sizeof(vsteer_rss_config) && !o.config)
				o.config = UniqueFd(dup_cloexec(bpf_map__fd(m), "config"));
			else if (vs == sizeof(vsteer_toeplitz_key) && !o.key)
				o.key = UniqueFd(dup_cloexec(bpf_map__fd(m), "key"));
			else if (vs == sizeof(uint16_t) && bpf_map__max_entries(m) == VSTEER_MAX_TABLE_LEN && !o.table)
				o.table = UniqueFd(dup_cloexec(bpf_map__fd(m), "table"));
		}
		if (!o.config || !o.key || !o.table)
			throw Error(ENOENT, "QEMU RSS object", "does not have QEMU's three RSS maps (config, key, table)");
	} catch (...) {
		bpf_object__close(obj);
		throw;
	}
	bpf_object__close(obj);
	validate_ebpf_rss_fds(o.fds());
	LIBBPF_OPTS(bpf_map_create_opts, mopts);
	int c = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "toeplitz_cache", 4, sizeof(vsteer_toeplitz_cache), 2, &mopts);
	if (c < 0)
		throw_errno("placeholder map toeplitz_cache", "create");
	o.cache = UniqueFd(c);
	int s = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "stats", 4, sizeof(vsteer_stats), 1, &mopts);
	if (s < 0)
		throw_errno("placeholder map stats", "create");
	o.stats = UniqueFd(s);
	return o;
}

void QemuRssObjects::pin(const std::string &dir) const
{
	fs::path final_dir(dir);
	fs::path staging = final_dir.parent_path().parent_path() / "vsteer_staging";
	fs::path tmp = staging / ("qemu_" + std::to_string(getpid()) + "_" + final_dir.filename().string());
	std::error_code ec;
	fs::create_directories(final_dir.parent_path(), ec);
	if (!ec)
		fs::create_directories(staging, ec);
	if (ec)
		throw Error(ec.value(), final_dir.parent_path().string(), "create pin root", "is /sys/fs/bpf a bpf filesystem?");
	SteeringObjects::unpin(tmp.string());
	if (::mkdir(tmp.c_str(), 0700))
		throw_errno(tmp.string(), "create temporary pin directory");
	try {
		auto pin_fd = [&](int fd, const char *name) {
			std::string path = tmp.string() + "/" + name;
			if (bpf_obj_pin(fd, path.c_str()))
				throw_errno(path, "pin");
		};
		pin_fd(prog.get(), VSTEER_PIN_PROG);
		pin_fd(config.get(), VSTEER_PIN_CONFIG);
		pin_fd(key.get(), VSTEER_PIN_KEY);
		pin_fd(table.get(), VSTEER_PIN_TABLE);
		pin_fd(cache.get(), VSTEER_PIN_CACHE);
		pin_fd(stats.get(), VSTEER_PIN_STATS);
		if (::rename(tmp.c_str(), final_dir.c_str()))
			throw_errno(dir, "move pins into place", "the directory exists; `vsteer detach --tap NAME` removes it");
	} catch (...) {
		SteeringObjects::unpin(tmp.string());
		throw;
	}
}

} // namespace vsteer::qemu
