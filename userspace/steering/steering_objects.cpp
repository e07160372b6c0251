// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "steering_objects.hpp"

#include "interface_name.hpp"
#include "tap_control.hpp"
#include "tun_steering.skel.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <linux/magic.h>
#include <memory>

namespace vsteer
{

namespace
{

const char *const kPins[] = {VSTEER_PIN_PROG,  VSTEER_PIN_CONFIG, VSTEER_PIN_KEY, VSTEER_PIN_TABLE,
                             VSTEER_PIN_CACHE, VSTEER_PIN_STATS,  VSTEER_PIN_META};
// Where a replacement is pinned before rename(2) puts it in place (bpffs allows no dots).
constexpr const char *kNextProg = "_next_prog";
constexpr const char *kNextMeta = "_next_meta";
constexpr const char *kStagingPrefix = "_staging_";

struct SkelDeleter {
	void operator()(tun_steering *s) const { tun_steering::destroy(s); }
};
using Skel = std::unique_ptr<tun_steering, SkelDeleter>;

UniqueFd dup_of(int fd, const char *name)
{
	return UniqueFd(dup_fd(fd, name));
}

// The layout this vsteer gives a pinned map, read from its own BPF object.
struct MapLayout {
	uint32_t type, key_size, value_size, max_entries, flags;
};

MapLayout layout_of(const bpf_map *m)
{
	return {static_cast<uint32_t>(bpf_map__type(m)), bpf_map__key_size(m), bpf_map__value_size(m),
	        bpf_map__max_entries(m), bpf_map__map_flags(m)};
}

std::string describe(const MapLayout &l)
{
	return "type " + std::to_string(l.type) + ", key " + std::to_string(l.key_size) + " B, value " +
	       std::to_string(l.value_size) + " B, " + std::to_string(l.max_entries) + " entries, flags 0x" +
	       [&] {
		       char b[16];
		       std::snprintf(b, sizeof(b), "%x", l.flags);
		       return std::string(b);
	       }();
}

bool operator==(const MapLayout &a, const MapLayout &b)
{
	return a.type == b.type && a.key_size == b.key_size && a.value_size == b.value_size &&
	       a.max_entries == b.max_entries && a.flags == b.flags;
}

// Refuses pins made by a vsteer whose maps differ from this one's: the policy in them
// cannot be read or kept safely.
[[noreturn]] void refuse_layout(const PinDir &dir, const TapPins *who, const std::string &what)
{
	throw Error(EPROTO, "pins in " + dir.path(), what,
	            "they were made by another vsteer version: use that version, or remove them (`" +
	                (who ? who->command("detach")
	                     : std::string("vsteer detach --tap TAP --pin-dir ") + dir.path()) +
	                "`; the policy in them is lost) and attach again");
}

void check_layout(const PinDir &dir, const TapPins *who, const char *name, int fd, const bpf_map *want)
{
	bpf_map_info info = map_info(fd, dir.path_of(name));
	MapLayout have{info.type, info.key_size, info.value_size, info.max_entries, info.map_flags};
	if (!(have == layout_of(want)))
		refuse_layout(dir, who,
		              std::string("map ") + name + " has another layout (" + describe(have) +
		                  ") than this vsteer's (" + describe(layout_of(want)) + ")");
}

// The maps' memory (BPF_F_MMAPABLE, as QEMU writes them): array elements are rounded up
// to 8 bytes, the mapping to whole pages.
class Mapping
{
public:
	Mapping(int fd, size_t value_size, size_t entries, bool write, const std::string &name)
	    : len_(round_page((value_size + 7) / 8 * 8 * entries))
	{
		p_ = mmap(nullptr, len_, PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
		if (p_ == MAP_FAILED)
			throw_errno("map " + name, "mmap");
	}
	~Mapping() { munmap(p_, len_); }
	Mapping(const Mapping &) = delete;
	Mapping &operator=(const Mapping &) = delete;
	unsigned char *at(size_t offset) const { return static_cast<unsigned char *>(p_) + offset; }

private:
	static size_t round_page(size_t n)
	{
		size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
		return (n + page - 1) / page * page;
	}
	void *p_;
	size_t len_;
};

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

TapPins TapPins::of(const std::string &tap, const std::string &pin_dir_option)
{
	check_interface_name(tap);
	TapPins p;
	p.tap = tap;
	p.path = pin_dir_option.empty() ? default_pin_dir(tap) : normalize_pin_path(pin_dir_option);
	p.custom = p.path != default_pin_dir(tap);
	const size_t slash = p.path.rfind('/');
	p.root = slash == 0 ? "/" : p.path.substr(0, slash);
	p.name = p.path.substr(slash + 1);
	if (p.name.find('.') != std::string::npos)
		throw Error(EINVAL, "--pin-dir " + p.path, "bpffs does not allow '.' in names",
		            "pass --pin-dir without dots");
	return p;
}

std::string TapPins::command(const std::string &verb) const
{
	return "vsteer " + verb + " --tap " + tap + (custom ? " --pin-dir " + path : "");
}

LockedPinRoot lock_pin_root(const TapPins &p, PinLock::Mode mode, bool create)
{
	std::optional<PinDir> root = create ? PinDir::create(p.root) : PinDir::open_if_exists(p.root);
	if (!root)
		throw Error(ENOENT, p.path, "no such pin directory",
		            "run `" + p.command("attach") + "` first" +
		                (p.custom ? " (or check --pin-dir)" : ""));
	PinLock lock(*root, mode);
	return {std::move(*root), std::move(lock)};
}

PinDir LockedPinRoot::require_dir(const TapPins &p) const
{
	auto d = dir(p);
	if (!d)
		throw Error(ENOENT, p.path, "no such pin directory",
		            "run `" + p.command("attach") + "` first" +
		                (p.custom ? " (or check --pin-dir)" : ""));
	return std::move(*d);
}

uint32_t bpf_object_version(const void *elf, size_t size)
{
	uint32_t h = 2166136261u; // FNV-1a
	for (size_t i = 0; i < size; i++)
		h = (h ^ static_cast<const unsigned char *>(elf)[i]) * 16777619u;
	return h;
}

uint32_t steering_program_version()
{
	size_t size = 0;
	const void *elf = tun_steering::elf_bytes(&size);
	return bpf_object_version(elf, size);
}

SteeringObjects SteeringObjects::load()
{
	Skel skel(tun_steering::open_and_load());
	if (!skel)
		throw_errno("BPF object tun_steering", "load the steering program",
		            "needs root (CAP_BPF, CAP_NET_ADMIN) and a kernel with bpf_loop (5.17+)");
	SteeringObjects o;
	o.prog_ = dup_of(bpf_program__fd(skel->progs.vsteer_tun_steering), "prog");
	o.config_ = decltype(o.config_)::from_libbpf(skel->maps.config, "config");
	o.key_ = decltype(o.key_)::from_libbpf(skel->maps.toeplitz_key, "toeplitz_key");
	o.table_ = decltype(o.table_)::from_libbpf(skel->maps.indirection_table, "indirection_table");
	o.cache_ = PerCpuArray<vsteer_toeplitz_cache>(
	    dup_of(bpf_map__fd(skel->maps.toeplitz_cache), "toeplitz_cache"), "toeplitz_cache");
	o.stats_ = PerCpuArray<vsteer_stats>(dup_of(bpf_map__fd(skel->maps.stats), "stats"), "stats");
	o.meta_ = dup_of(bpf_map__fd(skel->maps.meta), "meta");
	o.stamp_ = {0, VSTEER_PIN_ABI, VSTEER_PROG_VSTEER, steering_program_version()};
	o.set_queues(0); // writes the stamp
	return o;        // the dup'ed fds keep everything alive
}

SteeringObjects SteeringObjects::open_pinned(const PinDir &dir, const TapPins *who)
{
	const std::string hint =
	    "run `" + (who ? who->command("attach") : std::string("vsteer attach")) + "` for this tap first";
	auto get = [&](const char *name) { return dir.get(name, hint); };
	SteeringObjects o;
	o.prog_ = get(VSTEER_PIN_PROG);
	UniqueFd config = get(VSTEER_PIN_CONFIG), key = get(VSTEER_PIN_KEY), table = get(VSTEER_PIN_TABLE),
		 cache = get(VSTEER_PIN_CACHE), stats = get(VSTEER_PIN_STATS);
	o.meta_ = get(VSTEER_PIN_META);

	// The stamp first: pins of a newer ABI may have changed any map's meaning.
	bpf_map_info meta_info = map_info(o.meta_.get(), dir.path_of(VSTEER_PIN_META));
	uint32_t zero = 0;
	if (meta_info.value_size == VSTEER_META_V0_SIZE) {
		uint32_t v0[2] = {};
		if (bpf_map_lookup_elem(o.meta_.get(), &zero, v0))
			throw_errno(dir.path_of(VSTEER_PIN_META), "lookup");
		o.stamp_ = {v0[0], 0, VSTEER_PROG_VSTEER, 0}; // before the stamp: ABI 0
	} else if (meta_info.value_size == sizeof(vsteer_meta)) {
		if (bpf_map_lookup_elem(o.meta_.get(), &zero, &o.stamp_))
			throw_errno(dir.path_of(VSTEER_PIN_META), "lookup");
	} else {
		refuse_layout(dir, who,
		              "map meta has a " + std::to_string(meta_info.value_size) +
		                  "-byte value this vsteer does not know");
	}
	if (o.stamp_.abi > VSTEER_PIN_ABI)
		refuse_layout(dir, who,
		              "were made by a newer vsteer (pin ABI " + std::to_string(o.stamp_.abi) +
		                  ", this vsteer " + std::to_string(VSTEER_PIN_ABI) + ")");

	// Every map as this vsteer defines it.
	Skel skel(tun_steering::open());
	if (!skel)
		throw_errno("BPF object tun_steering", "open");
	check_layout(dir, who, VSTEER_PIN_CONFIG, config.get(), skel->maps.config);
	check_layout(dir, who, VSTEER_PIN_KEY, key.get(), skel->maps.toeplitz_key);
	check_layout(dir, who, VSTEER_PIN_TABLE, table.get(), skel->maps.indirection_table);
	check_layout(dir, who, VSTEER_PIN_CACHE, cache.get(), skel->maps.toeplitz_cache);
	check_layout(dir, who, VSTEER_PIN_STATS, stats.get(), skel->maps.stats);
	if (meta_info.value_size != VSTEER_META_V0_SIZE)
		check_layout(dir, who, VSTEER_PIN_META, o.meta_.get(), skel->maps.meta);

	o.config_ = decltype(o.config_)(std::move(config), dir.path_of(VSTEER_PIN_CONFIG));
	o.key_ = decltype(o.key_)(std::move(key), dir.path_of(VSTEER_PIN_KEY));
	o.table_ = decltype(o.table_)(std::move(table), dir.path_of(VSTEER_PIN_TABLE));
	o.cache_ = PerCpuArray<vsteer_toeplitz_cache>(std::move(cache), dir.path_of(VSTEER_PIN_CACHE));
	o.stats_ = PerCpuArray<vsteer_stats>(std::move(stats), dir.path_of(VSTEER_PIN_STATS));
	return o;
}

SteeringObjects SteeringObjects::open_pinned(const std::string &dir)
{
	return open_pinned(PinDir::open(dir));
}

SteeringObjects::PinSet SteeringObjects::inspect(const PinDir &dir)
{
	size_t have = 0;
	for (const char *name : kPins)
		have += dir.has(name);
	return have == 0 ? PinSet::none : have == std::size(kPins) ? PinSet::complete : PinSet::partial;
}

bool SteeringObjects::is_pinned(const std::string &dir)
{
	try {
		auto d = PinDir::open_if_exists(dir);
		return d && inspect(*d) == PinSet::complete;
	} catch (const Error &) {
		return false;
	}
}

bool SteeringObjects::unpin(const PinDir &root, const std::string &name)
{
	auto dir = root.child(name);
	if (!dir)
		return false;
	bool removed = false;
	for (const char *pin : kPins)
		removed |= dir->remove(pin);
	removed |= dir->remove(kNextProg);
	removed |= dir->remove(kNextMeta);
	if (removed && dir->entries().empty())
		root.remove(name);
	return removed;
}

void SteeringObjects::unpin(const std::string &dir)
{
	const std::string p = normalize_pin_path(dir, "pin directory");
	const size_t slash = p.rfind('/');
	if (auto root = PinDir::open_if_exists(slash == 0 ? "/" : p.substr(0, slash)))
		unpin(*root, p.substr(slash + 1));
}

unsigned SteeringObjects::remove_stale_staging(const PinDir &root)
{
	unsigned removed = 0;
	for (const std::string &n : root.entries()) {
		if (n.rfind(kStagingPrefix, 0) != 0)
			continue;
		// _staging_<pid>_<name>: pinning happens under the root's lock, which the caller
		// holds, so only a process that died while pinning leaves one.
		char *end = nullptr;
		long pid = std::strtol(n.c_str() + std::strlen(kStagingPrefix), &end, 10);
		if (pid <= 0 || *end != '_' || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
			continue;
		try {
			auto d = root.child(n);
			if (!d)
				continue;
			for (const std::string &e : d->entries())
				d->remove(e);
			removed += root.remove(n);
		} catch (const Error &) {
			// not ours to remove (another owner): PinDir refused it
		}
	}
	return removed;
}

void SteeringObjects::pin(const PinDir &root, const std::string &name) const
{
	if (name.find('.') != std::string::npos)
		throw Error(EINVAL, root.path_of(name), "bpffs does not allow '.' in names",
		            "pass --pin-dir without dots");
	const std::string staging = kStagingPrefix + std::to_string(getpid()) + "_" + name;
	if (auto old = root.child(staging)) { // our own pid's leftover: a previous life of this pid
		for (const std::string &e : old->entries())
			old->remove(e);
		root.remove(staging);
	}
	PinDir tmp = root.make_child(staging);
	try {
		tmp.pin(prog_.get(), VSTEER_PIN_PROG);
		tmp.pin(config_.fd(), VSTEER_PIN_CONFIG);
		tmp.pin(key_.fd(), VSTEER_PIN_KEY);
		tmp.pin(table_.fd(), VSTEER_PIN_TABLE);
		tmp.pin(cache_.fd(), VSTEER_PIN_CACHE);
		tmp.pin(stats_.fd(), VSTEER_PIN_STATS);
		tmp.pin(meta_.get(), VSTEER_PIN_META);
		// Replaces nothing but an empty directory: the caller found no pins there.
		root.rename(staging, name);
	} catch (...) {
		rethrow_after_undo("pins in " + tmp.path(), [&] {
			for (const std::string &e : tmp.entries())
				tmp.remove(e);
			root.remove(staging);
		});
	}
}

bool SteeringObjects::program_stale() const
{
	if (stamp_.prog_kind == VSTEER_PROG_QEMU)
		return false;
	return stamp_.prog_kind != VSTEER_PROG_VSTEER || stamp_.abi != VSTEER_PIN_ABI ||
	       stamp_.prog_version != steering_program_version();
}

void SteeringObjects::load_current_program()
{
	Skel skel(tun_steering::open());
	if (!skel)
		throw_errno("BPF object tun_steering", "open");
	auto reuse = [](bpf_map *m, int fd) {
		if (int err = bpf_map__reuse_fd(m, fd))
			throw Error(-err, std::string("map ") + bpf_map__name(m), "reuse the pinned map");
	};
	reuse(skel->maps.config, config_.fd());
	reuse(skel->maps.toeplitz_key, key_.fd());
	reuse(skel->maps.indirection_table, table_.fd());
	reuse(skel->maps.toeplitz_cache, cache_.fd());
	reuse(skel->maps.stats, stats_.fd());
	const bool old_meta = map_info(meta_.get(), "meta").value_size != sizeof(vsteer_meta);
	if (!old_meta)
		reuse(skel->maps.meta, meta_.get());
	if (int err = tun_steering::load(skel.get()))
		throw Error(-err, "BPF object tun_steering", "load the steering program on the pinned maps",
		            "needs root (CAP_BPF, CAP_NET_ADMIN)");
	prog_ = dup_of(bpf_program__fd(skel->progs.vsteer_tun_steering), "prog");
	if (old_meta) {
		meta_ = dup_of(bpf_map__fd(skel->maps.meta), "meta");
		meta_replaced_ = true;
	}
	stamp_.abi = VSTEER_PIN_ABI;
	stamp_.prog_kind = VSTEER_PROG_VSTEER;
	stamp_.prog_version = steering_program_version();
	// The stamp is written by replace_pinned_program, once the pin holds the program.
}

void SteeringObjects::replace_pinned_program(const PinDir &dir)
{
	dir.remove(kNextProg);
	dir.pin(prog_.get(), kNextProg);
	dir.rename(kNextProg, VSTEER_PIN_PROG);
	if (meta_replaced_) {
		set_queues(stamp_.queues);
		dir.remove(kNextMeta);
		dir.pin(meta_.get(), kNextMeta);
		dir.rename(kNextMeta, VSTEER_PIN_META);
		meta_replaced_ = false;
	} else {
		set_queues(stamp_.queues);
	}
}

void SteeringObjects::use_program(UniqueFd prog, uint32_t kind, uint32_t version)
{
	prog_ = std::move(prog);
	stamp_.prog_kind = kind;
	stamp_.prog_version = version;
	set_queues(stamp_.queues);
}

unsigned SteeringObjects::queues() const
{
	uint32_t zero = 0, value[sizeof(vsteer_meta) / 4] = {}; // either layout: queues first
	if (bpf_map_lookup_elem(meta_.get(), &zero, value))
		throw_errno("map meta", "lookup");
	return value[0];
}

void SteeringObjects::set_queues(unsigned n)
{
	stamp_.queues = n;
	uint32_t zero = 0;
	const bool old_meta = map_info(meta_.get(), "meta").value_size != sizeof(vsteer_meta);
	uint32_t v0[2] = {n, 0}; // pins from before the stamp keep their 8-byte meta until attach
	if (bpf_map_update_elem(meta_.get(), &zero, old_meta ? static_cast<const void *>(v0) : &stamp_,
	                        BPF_ANY))
		throw_errno("map meta", "update");
}

RssConfig SteeringObjects::read_config() const
{
	Mapping cfg(config_.fd(), sizeof(vsteer_rss_config), 1, false, config_.name());
	Mapping key(key_.fd(), sizeof(vsteer_toeplitz_key), 1, false, key_.name());
	Mapping table(table_.fd(), sizeof(uint16_t), VSTEER_MAX_TABLE_LEN, false, table_.name());
	vsteer_rss_config m;
	vsteer_toeplitz_key k;
	std::memcpy(&m, cfg.at(0), sizeof(m));
	std::memcpy(&k, key.at(0), sizeof(k));
	RssConfig c;
	c.key = from_map_key(k);
	c.hash_types = m.hash_types;
	c.redirect = m.redirect != 0;
	c.unclassified_queue = m.default_queue;
	unsigned len = m.indirections_len;
	if (len > VSTEER_MAX_TABLE_LEN)
		len = VSTEER_MAX_TABLE_LEN;
	c.table.resize(len);
	for (uint32_t i = 0; i < len; i++)
		std::memcpy(&c.table[i], table.at(i * VSTEER_TABLE_STRIDE), sizeof(uint16_t));
	return c;
}

void SteeringObjects::write_config(const RssConfig &c)
{
	// Everything prepared and mapped first: between the first store and the last there is
	// no syscall, only these few hundred bytes of stores.
	const vsteer_rss_config m = to_map_config(c);
	const vsteer_toeplitz_key k = to_map_key(c.key);
	Mapping cfg(config_.fd(), sizeof(vsteer_rss_config), 1, true, config_.name());
	Mapping key(key_.fd(), sizeof(vsteer_toeplitz_key), 1, true, key_.name());
	Mapping table(table_.fd(), sizeof(uint16_t), VSTEER_MAX_TABLE_LEN, true, table_.name());
	for (uint32_t i = 0; i < c.table.size(); i++)
		std::memcpy(table.at(i * VSTEER_TABLE_STRIDE), &c.table[i], sizeof(uint16_t));
	std::atomic_thread_fence(std::memory_order_release);
	std::memcpy(key.at(0), &k, sizeof(k));
	std::atomic_thread_fence(std::memory_order_release);
	std::memcpy(cfg.at(0), &m, sizeof(m));
}

StatsTotals SteeringObjects::read_stats(unsigned attached) const
{
	const unsigned fold = attached > 0 && attached < VSTEER_MAX_QUEUES ? attached : VSTEER_MAX_QUEUES;
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
			t.by_queue[q % fold] += s.by_queue[q];
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
