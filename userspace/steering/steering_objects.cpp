// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "steering_objects.hpp"

#include "tun_steering.skel.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <linux/magic.h>

namespace vsteer
{
namespace fs = std::filesystem;

namespace
{

const char *const kPins[] = {VSTEER_PIN_PROG,  VSTEER_PIN_CONFIG, VSTEER_PIN_KEY, VSTEER_PIN_TABLE,
                             VSTEER_PIN_CACHE, VSTEER_PIN_STATS,  VSTEER_PIN_META};

UniqueFd open_pin(const std::string &dir, const char *name)
{
	std::string path = dir + "/" + name;
	int fd = bpf_obj_get(path.c_str());
	if (fd < 0)
		throw_errno(path, "open pinned object", "run `vsteer attach` for this tap first");
	return UniqueFd(fd);
}

} // namespace

std::string default_pin_dir(const std::string &tap)
{
	return std::string(kPinRoot) + "/" + tap;
}

void ensure_bpffs()
{
	struct statfs st {
	};
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return;
	::mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		throw_errno("/sys/fs/bpf", "mount bpffs",
		            "mount it with `mount -t bpf bpf /sys/fs/bpf` (needs root)");
}

SteeringObjects SteeringObjects::load()
{
	tun_steering *skel = tun_steering::open_and_load();
	if (!skel)
		throw_errno("BPF object tun_steering", "load the steering program",
		            "needs root (CAP_BPF, CAP_NET_ADMIN) and a kernel with bpf_loop (5.17+)");
	SteeringObjects o;
	try {
		o.prog_ = UniqueFd(dup_fd(bpf_program__fd(skel->progs.vsteer_tun_steering), "prog"));
		o.config_ = decltype(o.config_)::from_libbpf(skel->maps.config, "config");
		o.key_ = decltype(o.key_)::from_libbpf(skel->maps.toeplitz_key, "toeplitz_key");
		o.table_ = decltype(o.table_)::from_libbpf(skel->maps.indirection_table, "indirection_table");
		o.cache_ = PerCpuArray<vsteer_toeplitz_cache>(
		    UniqueFd(dup_fd(bpf_map__fd(skel->maps.toeplitz_cache), "toeplitz_cache")),
		    "toeplitz_cache");
		o.stats_ = PerCpuArray<vsteer_stats>(UniqueFd(dup_fd(bpf_map__fd(skel->maps.stats), "stats")),
		                                     "stats");
		o.meta_ = decltype(o.meta_)::from_libbpf(skel->maps.meta, "meta");
	} catch (...) {
		tun_steering::destroy(skel);
		throw;
	}
	tun_steering::destroy(skel); // the dup'ed fds keep everything alive
	return o;
}

SteeringObjects SteeringObjects::open_pinned(const std::string &dir)
{
	SteeringObjects o;
	o.prog_ = open_pin(dir, VSTEER_PIN_PROG);
	o.config_ = decltype(o.config_)(open_pin(dir, VSTEER_PIN_CONFIG), dir + "/" + VSTEER_PIN_CONFIG);
	o.key_ = decltype(o.key_)(open_pin(dir, VSTEER_PIN_KEY), dir + "/" + VSTEER_PIN_KEY);
	o.table_ = decltype(o.table_)(open_pin(dir, VSTEER_PIN_TABLE), dir + "/" + VSTEER_PIN_TABLE);
	o.cache_ =
	    PerCpuArray<vsteer_toeplitz_cache>(open_pin(dir, VSTEER_PIN_CACHE), dir + "/" + VSTEER_PIN_CACHE);
	o.stats_ = PerCpuArray<vsteer_stats>(open_pin(dir, VSTEER_PIN_STATS), dir + "/" + VSTEER_PIN_STATS);
	o.meta_ = decltype(o.meta_)(open_pin(dir, VSTEER_PIN_META), dir + "/" + VSTEER_PIN_META);
	return o;
}

bool SteeringObjects::is_pinned(const std::string &dir)
{
	for (const char *name : kPins)
		if (access((dir + "/" + name).c_str(), F_OK))
			return false;
	return true;
}

void SteeringObjects::unpin(const std::string &dir)
{
	std::error_code ec;
	for (const char *name : kPins)
		fs::remove(dir + "/" + name, ec);
	if (fs::exists(dir) && !fs::remove(dir, ec) && ec)
		throw Error(ec.value(), dir, "remove pin directory", "remove leftover pins by hand");
}

void SteeringObjects::pin(const std::string &dir) const
{
	fs::path final_dir(dir);
	// A sibling staging directory (bpffs refuses names with a '.'), renamed into place.
	fs::path tmp = final_dir.parent_path() /
	               ("_staging_" + std::to_string(getpid()) + "_" + final_dir.filename().string());
	std::error_code ec;
	fs::create_directories(final_dir.parent_path(), ec);
	if (ec)
		throw Error(ec.value(), final_dir.parent_path().string(), "create pin root",
		            "is /sys/fs/bpf a bpf filesystem?");
	if (final_dir.filename().string().find('.') != std::string::npos)
		throw Error(EINVAL, dir, "bpffs does not allow '.' in names", "pass --pin-dir without dots");
	unpin(tmp.string());
	if (::mkdir(tmp.c_str(), 0700))
		throw_errno(tmp.string(), "create temporary pin directory");
	try {
		auto pin_fd = [&](int fd, const char *name) {
			std::string path = tmp.string() + "/" + name;
			if (bpf_obj_pin(fd, path.c_str()))
				throw_errno(path, "pin");
		};
		pin_fd(prog_.get(), VSTEER_PIN_PROG);
		pin_fd(config_.fd(), VSTEER_PIN_CONFIG);
		pin_fd(key_.fd(), VSTEER_PIN_KEY);
		pin_fd(table_.fd(), VSTEER_PIN_TABLE);
		pin_fd(cache_.fd(), VSTEER_PIN_CACHE);
		pin_fd(stats_.fd(), VSTEER_PIN_STATS);
		pin_fd(meta_.fd(), VSTEER_PIN_META);
		if (::rename(tmp.c_str(), final_dir.c_str()))
			throw_errno(dir, "move pins into place",
			            "the directory exists; `vsteer detach --tap NAME` removes stale pins");
	} catch (...) {
		rethrow_after_undo("pins in " + tmp.string(), [&] { unpin(tmp.string()); });
	}
}

RssConfig SteeringObjects::read_config() const
{
	vsteer_rss_config m = config_.get(0);
	RssConfig c;
	c.key = from_map_key(key_.get(0));
	c.hash_types = m.hash_types;
	c.redirect = m.redirect != 0;
	c.unclassified_queue = m.default_queue;
	unsigned len = m.indirections_len;
	if (len > VSTEER_MAX_TABLE_LEN)
		len = VSTEER_MAX_TABLE_LEN;
	c.table.resize(len);
	for (uint32_t i = 0; i < len; i++)
		c.table[i] = table_.get(i);
	return c;
}

void SteeringObjects::write_config(const RssConfig &c)
{
	for (uint32_t i = 0; i < c.table.size(); i++)
		table_.set(i, c.table[i]);
	key_.set(0, to_map_key(c.key));
	config_.set(0, to_map_config(c));
}

StatsTotals SteeringObjects::read_stats() const
{
	StatsTotals t;
	for (const vsteer_stats &s : stats_.get(0)) {
		t.packets += s.packets;
		t.bytes += s.bytes;
		t.table_rebuilds += s.table_rebuilds;
		t.not_redirected += s.not_redirected;
		const __u64 *r = &s.by_report.none;
		for (size_t i = 0; i < VSTEER_REPORT_COUNT; i++)
			t.by_report[i] += r[i];
		for (size_t q = 0; q < VSTEER_MAX_QUEUES; q++)
			t.by_queue[q] += s.by_queue[q];
	}
	return t;
}

uint32_t SteeringObjects::prog_id() const
{
	bpf_prog_info info{};
	__u32 len = sizeof(info);
	if (bpf_prog_get_info_by_fd(prog_.get(), &info, &len))
		throw_errno("steering program", "query program info");
	return info.id;
}

} // namespace vsteer
