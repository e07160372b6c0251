// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "xdp_objects.hpp"

#include "xdp_filter.hpp"

#include "libbpf_log.hpp"

#include "rss_config.hpp"
#include "steering_objects.hpp"
#include "tc_eastwest.skel.h"
#include "xdp_classify.skel.h"

#include <linux/if_link.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <xdp/libxdp.h>

namespace vsteer
{
namespace fs = std::filesystem;

namespace
{

constexpr const char *kClassifyName = "vsteer_classify";
// The same classifier without XDP metadata (bpf/xdp_classify.bpf.c), for dispatchers that
// cannot hold a program that changes packet data.
constexpr const char *kClassifyNoMetaName = "vsteer_nometa";
constexpr uint32_t kCpumapQsize = 2048;
constexpr uint32_t kTcHandle = 0x5654; // "VT"
constexpr uint32_t kTcPriority = 1;

const char *const kMapNames[] = {
    "xdp_vms",    "xdp_macs",     "xdp_prefix4",        "xdp_prefix6",  "xdp_rules",
    "xdp_filter", "xdp_rate",     "xdp_tap_devmap",     "xdp_cpumap",   "xdp_vm_config",
    "xdp_vm_key", "xdp_vm_table", "xdp_toeplitz_cache", "xdp_vm_stats", "xdp_rule_stats",
    "xdp_stats"};

// libxdp's messages follow `vsteer -v` as libbpf's do (libbpf_log.hpp).
int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list args)
{
	const int v = libbpf_log::verbosity();
	if ((level == LIBXDP_INFO && v < 1) || (level == LIBXDP_DEBUG && v < 2))
		return 0;
	std::fputs("libxdp: ", stderr);
	return std::vfprintf(stderr, fmt, args);
}

void quiet_libxdp()
{
	static bool done = false;
	if (!done) {
		libxdp_set_print(libxdp_print);
		done = true;
	}
}

template <typename M> M pinned(const PinDir &dir, const char *name)
{
	return M(dir.get(name, "create the classifier's maps first (`vsteer xdp attach` or `vsteer vm add`)"),
	         dir.path_of(name));
}

template <typename M> M dup_map(const bpf_map *m, const char *name)
{
	return M(UniqueFd(dup_fd(bpf_map__fd(m), "map " + std::string(name))), name);
}

unsigned ifindex_of(const std::string &dev)
{
	unsigned idx = if_nametoindex(dev.c_str());
	if (!idx)
		throw Error(ENODEV, "device " + dev, "look up",
		            "no such interface in this network namespace (see `ip link`)");
	return idx;
}

void mkdir_p(const std::string &dir)
{
	ensure_bpffs();
	PinDir::create(dir);
}

void configure_skeleton(::xdp_classify *skel)
{
	int err = bpf_map__set_max_entries(skel->maps.xdp_cpumap, possible_cpus());
	if (err)
		throw Error(-err, "map xdp_cpumap", "size the cpumap");
	// One variant is loaded: the one without metadata where the kernel refuses
	// bpf_xdp_adjust_meta to XDP programs (xdp_attach also falls back to it).
	const bool meta = xdp_metadata_supported();
	bpf_program__set_autoload(skel->progs.vsteer_classify, meta);
	bpf_program__set_autoload(skel->progs.vsteer_nometa, !meta);
}

// The loaded classifier variant of a configured skeleton.
bpf_program *classify_program(::xdp_classify *skel)
{
	return bpf_program__autoload(skel->progs.vsteer_classify) ? skel->progs.vsteer_classify
	                                                          : skel->progs.vsteer_nometa;
}

// Adopts the maps already pinned in `dir` (bpf_map__reuse_fd, without libbpf's
// compatibility check, which trips over the flag the kernel adds to devmaps); the
// others keep their pin path and are created and pinned by libbpf at load.
void reuse_pins(bpf_object *obj, const std::string &dir)
{
	const PinDir pins = PinDir::open(dir);
	bpf_map *map;
	bpf_object__for_each_map(map, obj)
	{
		const char *name = bpf_map__name(map);
		if (!pins.has(name))
			continue;
		const std::string path = pins.path_of(name);
		int err = bpf_map__reuse_fd(map, pins.get(name).get());
		if (err)
			throw Error(-err, path, "reuse the pinned map",
			            "remove it with `vsteer xdp detach --unpin`");
		bpf_map__set_pin_path(map, nullptr);
	}
}

::xdp_classify *open_skeleton(const std::string &pin_dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir.c_str());
	::xdp_classify *skel = ::xdp_classify::open(&opts);
	if (!skel)
		throw_errno("BPF object xdp_classify", "open");
	try {
		configure_skeleton(skel);
		reuse_pins(skel->obj, pin_dir);
	} catch (...) {
		::xdp_classify::destroy(skel);
		throw;
	}
	return skel;
}

struct SkelGuard {
	::xdp_classify *skel;
	~SkelGuard() { ::xdp_classify::destroy(skel); }
};

struct MultiprogGuard {
	xdp_multiprog *mp = nullptr;
	~MultiprogGuard()
	{
		if (mp)
			xdp_multiprog__close(mp);
	}
};

// The device's XDP state through libxdp; nullptr if nothing is attached.
xdp_multiprog *get_multiprog(unsigned ifindex, const std::string &dev)
{
	xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(static_cast<int>(ifindex));
	long err = libxdp_get_error(mp);
	if (err == -ENOENT || (!err && !mp))
		return nullptr;
	if (err)
		throw Error(static_cast<int>(-err), "device " + dev, "query attached XDP programs");
	if (!xdp_multiprog__main_prog(mp) && !xdp_multiprog__hw_prog(mp)) {
		xdp_multiprog__close(mp);
		return nullptr;
	}
	return mp;
}

bool is_ours(const xdp_program *p)
{
	if (!p)
		return false;
	std::string name = xdp_program__name(p);
	return name == kClassifyName || name == kClassifyNoMetaName;
}

xdp_program *find_ours(xdp_multiprog *mp)
{
	if (xdp_multiprog__is_legacy(mp))
		return is_ours(xdp_multiprog__main_prog(mp)) ? xdp_multiprog__main_prog(mp) : nullptr;
	for (xdp_program *p = xdp_multiprog__next_prog(nullptr, mp); p; p = xdp_multiprog__next_prog(p, mp))
		if (is_ours(p))
			return p;
	return nullptr;
}

enum xdp_attach_mode to_libxdp(XdpMode m)
{
	return m == XdpMode::Native ? XDP_MODE_NATIVE : XDP_MODE_SKB;
}

std::optional<XdpMode> from_libxdp(enum xdp_attach_mode m)
{
	if (m == XDP_MODE_NATIVE)
		return XdpMode::Native;
	if (m == XDP_MODE_SKB)
		return XdpMode::Generic;
	return std::nullopt;
}

uint32_t prog_id_of(int fd)
{
	bpf_prog_info info{};
	__u32 len = sizeof(info);
	if (bpf_prog_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

void fill_cpumap(::xdp_classify *skel)
{
	int prog_fd = bpf_program__fd(skel->progs.vsteer_cpumap);
	for (unsigned cpu : online_cpus()) {
		bpf_cpumap_val val{};
		val.qsize = kCpumapQsize;
		val.bpf_prog.fd = prog_fd;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.xdp_cpumap), &cpu, &val, BPF_ANY))
			throw_errno("map xdp_cpumap",
			            "set CPU " + std::to_string(cpu) + " with the cpumap program");
	}
}

} // namespace

std::string default_xdp_pin_dir()
{
	const char *env = std::getenv("VSTEER_XDP_PIN_DIR");
	return env && *env ? env : VSTEER_XDP_PIN_ROOT;
}

bool map_erase(int fd, const void *key)
{
	if (bpf_map_delete_elem(fd, key) == 0)
		return true;
	if (errno == ENOENT)
		return false;
	throw_errno("map fd " + std::to_string(fd), "delete entry");
}

std::vector<unsigned> online_cpus()
{
	std::ifstream in("/sys/devices/system/cpu/online");
	std::string text;
	std::getline(in, text);
	std::vector<unsigned> cpus;
	size_t pos = 0;
	while (pos < text.size()) {
		size_t end = text.find(',', pos);
		std::string part = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
		size_t dash = part.find('-');
		unsigned lo = std::stoul(part.substr(0, dash));
		unsigned hi = dash == std::string::npos ? lo : std::stoul(part.substr(dash + 1));
		for (unsigned c = lo; c <= hi; c++)
			cpus.push_back(c);
		if (end == std::string::npos)
			break;
		pos = end + 1;
	}
	if (cpus.empty())
		throw Error(EINVAL, "/sys/devices/system/cpu/online", "parse the online CPUs");
	return cpus;
}

bool XdpMaps::is_pinned(const std::string &path)
{
	auto dir = PinDir::open_if_exists(path);
	for (const char *name : kMapNames)
		if (!dir || !dir->has(name))
			return false;
	return true;
}

XdpMaps XdpMaps::open_pinned(const std::string &path)
{
	const PinDir dir = PinDir::open(path);
	XdpMaps m;
	m.dir = dir.path();
	m.vms = pinned<decltype(m.vms)>(dir, "xdp_vms");
	m.macs = pinned<decltype(m.macs)>(dir, "xdp_macs");
	m.prefix4 = pinned<decltype(m.prefix4)>(dir, "xdp_prefix4");
	m.prefix6 = pinned<decltype(m.prefix6)>(dir, "xdp_prefix6");
	m.rules = pinned<decltype(m.rules)>(dir, "xdp_rules");
	m.filter = pinned<decltype(m.filter)>(dir, "xdp_filter");
	m.rate = pinned<decltype(m.rate)>(dir, "xdp_rate");
	m.devmap = pinned<decltype(m.devmap)>(dir, "xdp_tap_devmap");
	m.cpumap = pinned<decltype(m.cpumap)>(dir, "xdp_cpumap");
	m.vm_config = pinned<decltype(m.vm_config)>(dir, "xdp_vm_config");
	m.vm_key = pinned<decltype(m.vm_key)>(dir, "xdp_vm_key");
	m.vm_table = pinned<decltype(m.vm_table)>(dir, "xdp_vm_table");
	m.vm_stats = pinned<decltype(m.vm_stats)>(dir, "xdp_vm_stats");
	m.rule_stats = pinned<decltype(m.rule_stats)>(dir, "xdp_rule_stats");
	m.stats = pinned<decltype(m.stats)>(dir, "xdp_stats");
	return m;
}

XdpMaps XdpMaps::create_or_open(const std::string &dir)
{
	if (!is_pinned(dir)) {
		mkdir_p(dir);
		SkelGuard g{open_skeleton(dir)};
		int err = ::xdp_classify::load(g.skel);
		if (err)
			throw Error(
			    -err, "BPF object xdp_classify", "load to create the maps in " + dir,
			    "needs root (CAP_BPF, CAP_NET_ADMIN); a map pinned there by another version "
			    "must be removed (`vsteer xdp detach --unpin`)");
	}
	XdpMaps m = open_pinned(dir);
	if (!m.filter.get(0).valid)
		xdp_filter_rebuild(m);
	return m;
}

XdpMaps XdpMaps::from_skeleton(const ::xdp_classify *skel)
{
	XdpMaps m;
	m.vms = dup_map<decltype(m.vms)>(skel->maps.xdp_vms, "xdp_vms");
	m.macs = dup_map<decltype(m.macs)>(skel->maps.xdp_macs, "xdp_macs");
	m.prefix4 = dup_map<decltype(m.prefix4)>(skel->maps.xdp_prefix4, "xdp_prefix4");
	m.prefix6 = dup_map<decltype(m.prefix6)>(skel->maps.xdp_prefix6, "xdp_prefix6");
	m.rules = dup_map<decltype(m.rules)>(skel->maps.xdp_rules, "xdp_rules");
	m.filter = dup_map<decltype(m.filter)>(skel->maps.xdp_filter, "xdp_filter");
	m.rate = dup_map<decltype(m.rate)>(skel->maps.xdp_rate, "xdp_rate");
	m.devmap = dup_map<decltype(m.devmap)>(skel->maps.xdp_tap_devmap, "xdp_tap_devmap");
	m.cpumap = dup_map<decltype(m.cpumap)>(skel->maps.xdp_cpumap, "xdp_cpumap");
	m.vm_config = dup_map<decltype(m.vm_config)>(skel->maps.xdp_vm_config, "xdp_vm_config");
	m.vm_key = dup_map<decltype(m.vm_key)>(skel->maps.xdp_vm_key, "xdp_vm_key");
	m.vm_table = dup_map<decltype(m.vm_table)>(skel->maps.xdp_vm_table, "xdp_vm_table");
	m.vm_stats = dup_map<decltype(m.vm_stats)>(skel->maps.xdp_vm_stats, "xdp_vm_stats");
	m.rule_stats = dup_map<decltype(m.rule_stats)>(skel->maps.xdp_rule_stats, "xdp_rule_stats");
	m.stats = dup_map<decltype(m.stats)>(skel->maps.xdp_stats, "xdp_stats");
	return m;
}

// Loads `bpf_xdp_adjust_meta(ctx, 0); return XDP_PASS;`. Not libbpf_probe_bpf_helper: it
// counts any refusal but "unknown func" as support, and some kernels refuse this helper to
// XDP programs with "program of this type cannot use helper".
bool xdp_metadata_supported()
{
	static const bool supported = [] {
		const bpf_insn prog[] = {
		    {.code = BPF_ALU64 | BPF_MOV | BPF_K,
		     .dst_reg = BPF_REG_2,
		     .src_reg = 0,
		     .off = 0,
		     .imm = 0},
		    {.code = BPF_JMP | BPF_CALL,
		     .dst_reg = 0,
		     .src_reg = 0,
		     .off = 0,
		     .imm = BPF_FUNC_xdp_adjust_meta},
		    {.code = BPF_ALU64 | BPF_MOV | BPF_K,
		     .dst_reg = BPF_REG_0,
		     .src_reg = 0,
		     .off = 0,
		     .imm = XDP_PASS},
		    {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
		};
		int fd =
		    bpf_prog_load(BPF_PROG_TYPE_XDP, "vsteer_probe", "GPL", prog, std::size(prog), nullptr);
		if (fd < 0)
			return false;
		close(fd);
		return true;
	}();
	return supported;
}

XdpTestObjects::XdpTestObjects(Verdicts verdicts)
{
	skel_ = ::xdp_classify::open();
	if (!skel_)
		throw_errno("BPF object xdp_classify", "open");
	try {
		bpf_map *map;
		bpf_object__for_each_map(map, skel_->obj) bpf_map__set_pin_path(map, nullptr);
		configure_skeleton(skel_);
		// Without metadata a test still sees each verdict, through last_verdict.
		skel_->rodata->record_verdict = verdicts == Verdicts::Recorded && !xdp_metadata_supported();
		int err = ::xdp_classify::load(skel_);
		if (err)
			throw Error(-err, "BPF object xdp_classify", "load",
			            "needs root (CAP_BPF, CAP_NET_ADMIN)");
		maps_ = XdpMaps::from_skeleton(skel_);
	} catch (...) {
		::xdp_classify::destroy(skel_);
		throw;
	}
}

XdpTestObjects::~XdpTestObjects()
{
	::xdp_classify::destroy(skel_);
}
int XdpTestObjects::classify_fd() const
{
	return bpf_program__fd(classify_program(skel_));
}

bool XdpTestObjects::records_verdict() const
{
	return skel_->rodata->record_verdict != 0;
}

std::optional<vsteer_xdp_meta> XdpTestObjects::take_last_verdict()
{
	vsteer_xdp_meta m = skel_->bss->last_verdict;
	skel_->bss->last_verdict = {};
	if (m.magic != VSTEER_XDP_META_MAGIC)
		return std::nullopt;
	return m;
}
int XdpTestObjects::cpumap_prog_fd() const
{
	return bpf_program__fd(skel_->progs.vsteer_cpumap);
}

RssPolicyMaps::RssPolicyMaps()
{
	auto create = [](const char *name, uint32_t value_size, uint32_t entries) {
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
		int fd =
		    bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), value_size, entries, &opts);
		if (fd < 0)
			throw_errno(std::string("map ") + name, "create", "needs root (CAP_BPF)");
		return UniqueFd(fd);
	};
	config_ = create("config", sizeof(vsteer_rss_config), 1);
	key_ = create("toeplitz_key", sizeof(vsteer_toeplitz_key), 1);
	table_ = create("indirection_table", sizeof(uint16_t), VSTEER_MAX_TABLE_LEN);
}

void RssPolicyMaps::write(const RssConfig &c)
{
	uint32_t zero = 0;
	for (uint32_t i = 0; i < c.table.size(); i++)
		if (bpf_map_update_elem(table_.get(), &i, &c.table[i], BPF_ANY))
			throw_errno("map indirection_table", "update");
	vsteer_toeplitz_key k = to_map_key(c.key);
	if (bpf_map_update_elem(key_.get(), &zero, &k, BPF_ANY))
		throw_errno("map toeplitz_key", "update");
	vsteer_rss_config cfg = to_map_config(c);
	if (bpf_map_update_elem(config_.get(), &zero, &cfg, BPF_ANY))
		throw_errno("map config", "update");
}

const char *xdp_mode_name(XdpMode m)
{
	return m == XdpMode::Native ? "native" : "generic";
}

static XdpAttachReport xdp_attach_impl(const std::string &dev, std::optional<XdpMode> mode,
                                       const std::string &pin_dir);

XdpAttachReport xdp_attach(const std::string &dev, std::optional<XdpMode> mode, const std::string &pin_dir)
{
	// libxdp tries a dispatcher first; on kernels that refuse it, libbpf's complaints are
	// expected and shown only if the attach fails.
	libbpf_log::HeldBack held;
	try {
		return xdp_attach_impl(dev, mode, pin_dir);
	} catch (...) {
		held.show();
		throw;
	}
}

static XdpAttachReport xdp_attach_impl(const std::string &dev, std::optional<XdpMode> mode,
                                       const std::string &pin_dir)
{
	quiet_libxdp();
	unsigned ifindex = ifindex_of(dev);
	XdpMaps::create_or_open(pin_dir); // make sure every map exists before a program uses them
	SkelGuard g{open_skeleton(pin_dir)};
	MultiprogGuard cur{get_multiprog(ifindex, dev)};
	XdpAttachReport rep;
	const std::string obj = "device " + dev;

	xdp_program *old = cur.mp ? find_ours(cur.mp) : nullptr;
	if (cur.mp && xdp_multiprog__is_legacy(cur.mp)) {
		if (!old)
			throw Error(EEXIST, obj,
			            std::string("attach: another XDP program (") +
			                xdp_program__name(xdp_multiprog__main_prog(cur.mp)) +
			                ") is attached without libxdp's dispatcher",
			            "detach it first (`ip link set dev " + dev + " xdp off`)");
		// Single program (no dispatcher, e.g. the kernel refuses freplace): swap it
		// atomically with XDP_FLAGS_REPLACE, the device is never without a program.
		auto cur_mode = from_libxdp(xdp_multiprog__attach_mode(cur.mp));
		if (!cur_mode)
			throw Error(EOPNOTSUPP, obj,
			            "replace: the classifier is attached in an unsupported mode");
		if (mode && *mode != *cur_mode)
			throw Error(EBUSY, obj,
			            std::string("replace: the classifier is attached in ") +
			                xdp_mode_name(*cur_mode) + " mode, not " + xdp_mode_name(*mode),
			            "run `vsteer xdp detach --dev " + dev + "` first to change the mode");
		int err = ::xdp_classify::load(g.skel);
		if (err)
			throw Error(-err, "BPF object xdp_classify", "load");
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = xdp_program__fd(old));
		__u32 flags = XDP_FLAGS_REPLACE |
		              (*cur_mode == XdpMode::Native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
		int fd = bpf_program__fd(classify_program(g.skel));
		rep.metadata = xdp_metadata_supported();
		if (bpf_xdp_attach(static_cast<int>(ifindex), fd, flags, &opts))
			throw_errno(obj, "replace the classifier (XDP_FLAGS_REPLACE)",
			            "the attached program changed meanwhile; retry");
		rep.how = "replaced in place";
		rep.mode = *cur_mode;
		rep.prog_id = prog_id_of(fd);
	} else {
		XdpMode m = mode.value_or(XdpMode::Native);
		if (old) {
			auto cur_mode = from_libxdp(xdp_multiprog__attach_mode(cur.mp));
			if (mode && cur_mode && *mode != *cur_mode)
				throw Error(EBUSY, obj, "replace: the dispatcher runs in another mode",
				            "run `vsteer xdp detach --dev " + dev +
				                "` first to change the mode");
			if (cur_mode)
				m = *cur_mode;
		}
		auto attach = [&](const char *name, xdp_program **out) {
			DECLARE_LIBXDP_OPTS(xdp_program_opts, popts, .obj = g.skel->obj, .prog_name = name);
			xdp_program *p = xdp_program__create(&popts);
			long perr = libxdp_get_error(p);
			if (perr)
				throw Error(static_cast<int>(-perr), "BPF object xdp_classify",
				            std::string("create the libxdp program ") + name);
			int e = xdp_program__attach(p, static_cast<int>(ifindex), to_libxdp(m), 0);
			if (e)
				xdp_program__close(p);
			else
				*out = p;
			return e;
		};
		xdp_program *prog = nullptr;
		const bool meta = xdp_metadata_supported();
		int err = attach(meta ? kClassifyName : kClassifyNoMetaName, &prog);
		if (!meta) {
			rep.metadata = false;
		} else if (err == -EINVAL) {
			// The kernel (6.13, 6.12.y) lets an freplace program that changes packet data
			// (bpf_xdp_adjust_meta) replace only a function that does too, and the slots of
			// older libxdp dispatchers (before xdp-tools' fix, e.g. Debian 12's 1.3.1) do not:
			// then the variant without metadata goes behind the dispatcher instead.
			::xdp_classify::destroy(g.skel);
			g.skel = nullptr;
			g.skel = open_skeleton(pin_dir);
			bpf_program__set_autoload(g.skel->progs.vsteer_classify, false);
			bpf_program__set_autoload(g.skel->progs.vsteer_nometa, true);
			if (attach(kClassifyNoMetaName, &prog) == 0)
				rep.metadata = false;
		}
		if (!prog)
			throw Error(
			    -err, obj, std::string("attach the classifier in ") + xdp_mode_name(m) + " mode",
			    m == XdpMode::Native ? "the driver may lack native XDP; try --mode generic" : "");
		rep.prog_id = xdp_program__id(prog);
		// A dispatcher now holds both the old and the new classifier; the old one goes.
		if (old) {
			err = xdp_program__detach(old, static_cast<int>(ifindex),
			                          xdp_multiprog__attach_mode(cur.mp), 0);
			if (err) {
				xdp_program__close(prog);
				throw Error(-err, obj, "remove the previous classifier from the dispatcher");
			}
			rep.how = "replaced in dispatcher";
		} else {
			rep.how = "attached";
		}
		MultiprogGuard now{get_multiprog(ifindex, dev)};
		rep.dispatcher = now.mp && !xdp_multiprog__is_legacy(now.mp);
		rep.mode = m;
		xdp_program__close(prog);
	}
	fill_cpumap(g.skel);
	return rep;
}

void xdp_detach(const std::string &dev)
{
	quiet_libxdp();
	unsigned ifindex = ifindex_of(dev);
	MultiprogGuard cur{get_multiprog(ifindex, dev)};
	xdp_program *ours = cur.mp ? find_ours(cur.mp) : nullptr;
	if (!ours)
		throw Error(ENOENT, "device " + dev, "detach: the classifier is not attached here",
		            "`vsteer xdp show` lists where it is");
	int err = xdp_program__detach(ours, static_cast<int>(ifindex), xdp_multiprog__attach_mode(cur.mp), 0);
	if (err)
		throw Error(-err, "device " + dev, "detach the classifier");
}

XdpDeviceState xdp_device_state(const std::string &dev)
{
	quiet_libxdp();
	XdpDeviceState st;
	unsigned ifindex = ifindex_of(dev);
	MultiprogGuard cur{get_multiprog(ifindex, dev)};
	if (!cur.mp)
		return st;
	st.dispatcher = !xdp_multiprog__is_legacy(cur.mp);
	switch (xdp_multiprog__attach_mode(cur.mp)) {
	case XDP_MODE_NATIVE:
		st.mode = "native";
		break;
	case XDP_MODE_SKB:
		st.mode = "generic";
		break;
	case XDP_MODE_HW:
		st.mode = "hw";
		break;
	default:
		st.mode = "unspecified";
		break;
	}
	auto note = [&](xdp_program *p) {
		if (is_ours(p)) {
			st.attached = true;
			st.prog_id = xdp_program__id(p);
			st.metadata = xdp_program__name(p) != std::string(kClassifyNoMetaName);
		} else if (p) {
			st.other_programs.push_back(xdp_program__name(p));
		}
	};
	if (xdp_multiprog__is_legacy(cur.mp))
		note(xdp_multiprog__main_prog(cur.mp));
	else
		for (xdp_program *p = xdp_multiprog__next_prog(nullptr, cur.mp); p;
		     p = xdp_multiprog__next_prog(p, cur.mp))
			note(p);
	return st;
}

void xdp_unpin(const std::string &dir)
{
	std::error_code ec;
	for (const char *name : kMapNames)
		fs::remove(dir + "/" + name, ec);
	fs::remove(dir, ec);
	if (ec && fs::exists(dir))
		throw Error(ec.value(), dir, "remove the XDP pin directory", "remove leftover pins by hand");
}

void eastwest_attach(const std::string &tap, const std::string &pin_dir)
{
	unsigned ifindex = ifindex_of(tap);
	XdpMaps::create_or_open(pin_dir);
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_dir.c_str());
	::tc_eastwest *skel = ::tc_eastwest::open(&oopts);
	if (!skel)
		throw_errno("BPF object tc_eastwest", "open");
	struct G {
		::tc_eastwest *s;
		~G() { ::tc_eastwest::destroy(s); }
	} g{skel};
	reuse_pins(skel->obj, pin_dir);
	int lerr = ::tc_eastwest::load(skel);
	if (lerr)
		throw Error(-lerr, "BPF object tc_eastwest", "load", "needs root (CAP_BPF, CAP_NET_ADMIN)");
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex), .attach_point = BPF_TC_INGRESS);
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		throw Error(-err, "tap " + tap, "create the clsact qdisc");
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(skel->progs.vsteer_eastwest),
	            .flags = BPF_TC_F_REPLACE, .handle = kTcHandle, .priority = kTcPriority);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		throw Error(-err, "tap " + tap, "attach the east-west program on tc ingress");
}

void eastwest_detach(const std::string &tap)
{
	unsigned idx = if_nametoindex(tap.c_str());
	if (!idx)
		return; // the tap is gone, and its filters with it
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(idx), .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
	libbpf_log::HeldBack quiet;
	int err = bpf_tc_detach(&hook, &opts);
	if (err && err != -ENOENT && err != -EINVAL)
		throw Error(-err, "tap " + tap, "detach the east-west program");
}

bool eastwest_attached(const std::string &tap)
{
	unsigned idx = if_nametoindex(tap.c_str());
	if (!idx)
		return false;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(idx), .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
	libbpf_log::HeldBack quiet; // "Parent Qdisc doesn't exist" when there is no clsact: just "no"
	return bpf_tc_query(&hook, &opts) == 0;
}

} // namespace vsteer
