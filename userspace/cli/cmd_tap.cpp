// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// attach, set, show, list, detach: the life cycle of a tap's steering program.
#include "commands.hpp"
#include "error.hpp"
#include "json.hpp"
#include "steering_objects.hpp"
#include "tap_control.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <utility>

namespace vsteer::cli
{
namespace
{

struct TapOptions {
	std::string tap;
	std::string pin_dir;
	TapPins pins() const { return TapPins::of(tap, pin_dir); }
};

void add_tap_options(CLI::App *cmd, TapOptions &o)
{
	cmd->add_option("--tap", o.tap, "tap device name (in the current network namespace)")->required();
	cmd->add_option("--pin-dir", o.pin_dir,
	                "bpffs directory of the pins (default /sys/fs/bpf/vsteer/TAP)");
}

// --queues N above the queues a process (QEMU) really has attached to the tap would let
// the table name queues nobody serves. Refused by attach, and by set unless --force
// (`force_hint` says how to insist).
void refuse_unattached_queues(const TapInfo &info, unsigned requested, const std::string &force_hint = {})
{
	if (info.queues > 0 && requested > info.queues)
		throw Error(EINVAL, "tap " + info.name,
		            "--queues " + std::to_string(requested) + " but only " +
		                std::to_string(info.queues) + " queues are attached",
		            "the table may only name attached queues (pass --queues " +
		                std::to_string(info.queues) + " or less" +
		                (force_hint.empty() ? "" : ", or " + force_hint) + ")");
}

// The number of queues the configuration must fit: the tap's attached queues, or
// --queues where no process holds them.
unsigned effective_queues(const TapInfo &info, unsigned requested, unsigned remembered = 0)
{
	if (!requested && !info.queues)
		requested = remembered;
	if (info.queues > 0) {
		refuse_unattached_queues(info, requested);
		return requested ? requested : info.queues;
	}
	if (!requested)
		throw Error(EINVAL, "tap " + info.name, "no queues are attached, so their number is unknown",
		            "pass --queues N (the queues QEMU will open)");
	return requested;
}

// ---------------------------------------------------------------- attach
struct AttachOptions : TapOptions {
	bool create = false;
	bool hash_report = false;
	unsigned queues = 0;
};

void run_attach(const AttachOptions &o)
{
	ensure_bpffs();
	const TapPins p = o.pins();
	// Everything below, from the first look at the tap and the pins to the last change, under
	// the lock: a concurrent attach of the same tap waits and then finds it attached.
	LockedPinRoot locked = lock_pin_root(p, PinLock::Mode::exclusive, true);
	SteeringObjects::remove_stale_staging(locked.root);
	bool created_tap = false;
	auto info = query_tap(o.tap);
	if (!info) {
		if (!o.create)
			throw Error(ENODEV, "tap " + o.tap, "no such device in this network namespace",
			            "add --create --queues N to create a persistent multiqueue tap");
		if (!o.queues)
			throw Error(EINVAL, "tap " + o.tap, "--create needs --queues N");
		create_tap(o.tap, o.queues);
		created_tap = true;
		info = query_tap(o.tap);
	}
	try {
		if (!info->is_tap)
			throw Error(EINVAL, "device " + o.tap, "is a tun (layer 3) device",
			            "steering needs a tap");
		auto dir = locked.dir(p);
		const auto set = dir ? SteeringObjects::inspect(*dir) : SteeringObjects::PinSet::none;
		if (set == SteeringObjects::PinSet::partial)
			throw Error(EEXIST, p.path, "holds an incomplete set of vsteer pins",
			            "left by an interrupted command or made by hand: `" +
			                p.command("detach") + "` removes them, then attach again");
		if (dir && set == SteeringObjects::PinSet::none && !dir->entries().empty())
			throw Error(EEXIST, p.path, "holds other entries and no vsteer pins",
			            "choose an empty or new --pin-dir");
		const bool reused = set == SteeringObjects::PinSet::complete;
		SteeringObjects objs =
		    reused ? SteeringObjects::open_pinned(*dir, &p) : SteeringObjects::load();
		unsigned queues = effective_queues(*info, o.queues, reused ? objs.queues() : 0);
		bool upgraded = false;
		if (reused) {
			try {
				objs.read_config().validate(queues);
			} catch (const ConfigError &e) {
				throw Error(EINVAL, "pinned configuration in " + p.path, e.what(),
				            "fix it with `" + p.command("set") + "` first");
			}
			// Pins of another vsteer build: its program is replaced, the maps (the policy)
			// stay; the tap switches programs atomically below.
			if (objs.program_stale()) {
				objs.load_current_program();
				upgraded = true;
			}
		} else {
			objs.write_config(default_config(queues));
			objs.set_queues(queues);
			objs.pin(locked.root, p.name);
		}
		try {
			attach_steering(o.tap, objs.prog_fd(), o.hash_report);
		} catch (...) {
			rethrow_after_undo("pins in " + p.path, [&] {
				if (!reused)
					SteeringObjects::unpin(locked.root, p.name);
			});
		}
		if (upgraded)
			objs.replace_pinned_program(*dir);
		std::printf("attached steering program (id %u) to %s: %u queues, pins in %s%s%s\n",
		            objs.prog_id(), o.tap.c_str(), queues, p.path.c_str(),
		            upgraded ? " (reused, program replaced by this vsteer's, configuration kept)"
		            : reused ? " (reused, configuration kept)"
		                     : "",
		            o.hash_report ? ", hash reporting on" : "");
	} catch (...) {
		rethrow_after_undo("tap " + o.tap, [&] {
			if (created_tap)
				delete_tap(o.tap);
		});
	}
}

// ---------------------------------------------------------------- set
struct SetOptions : TapOptions {
	std::string key, types, indirection;
	std::optional<unsigned> equal, unclassified, queues;
	bool force = false;
};

void run_set(const SetOptions &o)
{
	const TapPins p = o.pins();
	// Read, check and write under the lock: two concurrent sets apply one after the other.
	LockedPinRoot locked = lock_pin_root(p, PinLock::Mode::exclusive, false);
	SteeringObjects objs = SteeringObjects::open_pinned(locked.require_dir(p), &p);
	RssConfig c = objs.read_config();
	auto info = query_tap(o.tap);
	unsigned queues = o.queues.value_or(0);
	const std::string force_hint = "--force to write it for queues not attached yet (then `" +
	                               p.command("check") + "` names every entry beyond the attached ones)";
	if (info && !o.force)
		refuse_unattached_queues(*info, queues, force_hint);
	// With no queue attached, the count attach recorded in the pins is the limit, as the
	// attached queues are otherwise: attach validates the pins against it.
	if ((!info || !info->queues) && objs.queues() && queues > objs.queues() && !o.force)
		throw Error(
		    EINVAL, "tap " + o.tap,
		    "--queues " + std::to_string(queues) + " but no queues are attached and the pins in " +
			p.path + " were set up for " + std::to_string(objs.queues()),
		    "pass --queues " + std::to_string(objs.queues()) + " or less, or --force to record " +
			std::to_string(queues) + " queues in the pins");
	if (!queues)
		queues = info && info->queues ? info->queues : objs.queues();
	// Parse errors name the tap too, like the validation below.
	try {
		if (!o.key.empty())
			c.key = o.key == "random" ? random_key() : parse_key(o.key);
		if (!o.types.empty())
			c.hash_types = parse_hash_types(o.types);
		if (o.equal)
			c.table = equal_table(*o.equal);
		if (!o.indirection.empty())
			c.table = parse_table(o.indirection);
		if (o.unclassified) // within 16 bits (the option's check)
			c.unclassified_queue = static_cast<uint16_t>(*o.unclassified);
		c.validate(queues); // nothing is written unless the whole configuration is valid
	} catch (const ConfigError &e) {
		throw Error(EINVAL, "tap " + o.tap, e.what(), "nothing was changed");
	}
	objs.write_config(c);
	if (o.force) // the count the configuration was validated against, for the next attach
		objs.set_queues(queues);
	std::printf("%s: key %s, types %s, table %zu entries, unclassified queue %u\n", o.tap.c_str(),
	            format_key(c.key).c_str(), format_hash_types(c.hash_types).c_str(), c.table.size(),
	            c.unclassified_queue);
}

// ---------------------------------------------------------------- show
struct ShowOptions : TapOptions {
	bool json = false;
};

void show_json(const ShowOptions &o, const TapPins &p, const std::optional<TapInfo> &info,
               const SteeringObjects &objs)
{
	RssConfig c = objs.read_config();
	StatsTotals s = objs.read_stats(info ? info->queues : 0);
	Json j = {{"tap", o.tap}, {"pin_dir", p.path}, {"prog_id", objs.prog_id()}};
	j["tap_present"] = info.has_value();
	if (info) {
		j["queues"] = info->queues;
		j["multi_queue"] = info->multi_queue;
		j["vnet_hdr"] = info->vnet_hdr;
		auto report = query_hash_report(o.tap);
		j["hash_report_supported"] = report.has_value();
		j["hash_report"] = report.value_or(false);
	}
	j["config"] = {{"key", format_key(c.key)},
	               {"hash_types", format_hash_types(c.hash_types)},
	               {"hash_types_mask", c.hash_types},
	               {"redirect", c.redirect},
	               {"unclassified_queue", c.unclassified_queue},
	               {"indirection_table", c.table}};
	Json by_report = Json::object(), by_queue = Json::object();
	for (uint8_t r = 0; r < VSTEER_REPORT_COUNT; r++)
		by_report[report_name(r)] = s.by_report[r];
	for (unsigned q = 0; q < VSTEER_MAX_QUEUES; q++)
		if (s.by_queue[q])
			by_queue[std::to_string(q)] = s.by_queue[q];
	j["stats"] = {{"packets", s.packets},
	              {"bytes", s.bytes},
	              {"table_rebuilds", s.table_rebuilds},
	              {"not_redirected", s.not_redirected},
	              {"by_report", by_report},
	              {"by_queue", by_queue}};
	std::cout << to_json_text(j) << "\n";
}

void show_text(const ShowOptions &o, const TapPins &p, const std::optional<TapInfo> &info,
               const SteeringObjects &objs)
{
	RssConfig c = objs.read_config();
	StatsTotals s = objs.read_stats(info ? info->queues : 0);
	std::printf("tap %s", o.tap.c_str());
	if (info)
		std::printf(": %u queues attached%s%s\n", info->queues,
		            info->multi_queue ? ", multiqueue" : "", info->vnet_hdr ? ", vnet_hdr" : "");
	else
		std::printf(": (not present in this network namespace)\n");
	std::printf("  program id %u, pins in %s%s\n", objs.prog_id(), p.path.c_str(),
	            objs.program_stale() ? " (made by another vsteer build: attach replaces the program)"
	                                 : "");
	if (info) {
		auto report = query_hash_report(o.tap);
		std::printf("  hash report  %s\n", !report   ? "not supported by this kernel"
		                                   : *report ? "on"
		                                             : "off");
	}
	std::printf("  key          %s\n", format_key(c.key).c_str());
	std::printf("  hash types   %s\n", format_hash_types(c.hash_types).c_str());
	std::printf("  redirect     %s, unclassified queue %u\n", c.redirect ? "on" : "off (report only)",
	            c.unclassified_queue);
	std::printf("  table (%zu)  ", c.table.size());
	for (size_t i = 0; i < c.table.size(); i++)
		std::printf("%u%s", c.table[i], i + 1 < c.table.size() ? "," : "\n");
	std::printf("  packets %llu, bytes %llu, key changes seen %llu\n", (unsigned long long)s.packets,
	            (unsigned long long)s.bytes, (unsigned long long)s.table_rebuilds);
	std::printf("  by report   ");
	for (uint8_t r = 0; r < VSTEER_REPORT_COUNT; r++)
		if (s.by_report[r])
			std::printf(" %s=%llu", report_name(r), (unsigned long long)s.by_report[r]);
	std::printf("\n  by queue    ");
	for (unsigned q = 0; q < VSTEER_MAX_QUEUES; q++)
		if (s.by_queue[q])
			std::printf(" %u=%llu", q, (unsigned long long)s.by_queue[q]);
	std::printf("\n");
}

void run_show(const ShowOptions &o)
{
	const TapPins p = o.pins();
	LockedPinRoot locked = lock_pin_root(p, PinLock::Mode::shared, false); // one whole policy
	SteeringObjects objs = SteeringObjects::open_pinned(locked.require_dir(p), &p);
	auto info = query_tap(o.tap);
	if (o.json)
		show_json(o, p, info, objs);
	else
		show_text(o, p, info, objs);
}

// ---------------------------------------------------------------- list
void run_list(bool json)
{
	std::vector<std::pair<std::string, RssConfig>> taps;
	std::optional<PinDir> root = PinDir::open_if_exists(kPinRoot);
	std::optional<PinLock> lock;
	if (root)
		lock.emplace(*root, PinLock::Mode::shared);
	for (const auto &name : root ? root->entries() : std::vector<std::string>{}) {
		if (name.rfind("_staging_", 0) == 0)
			continue;
		try {
			auto dir = root->child(name);
			if (dir && SteeringObjects::inspect(*dir) == SteeringObjects::PinSet::complete)
				taps.emplace_back(name, SteeringObjects::open_pinned(*dir).read_config());
		} catch (const Error &e) { // a directory PinDir refuses, pins of another layout
			std::fprintf(stderr, "vsteer list: skipping %s\n", e.what());
		}
	}
	std::sort(taps.begin(), taps.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
	Json list = Json::array();
	for (const auto &[tap, c] : taps) {
		std::optional<TapInfo> info;
		try {
			info = query_tap(tap);
		} catch (const std::exception &) {
		}
		if (json) {
			list.push_back({{"tap", tap},
			                {"tap_present", info.has_value()},
			                {"queues", info ? info->queues : 0u},
			                {"table_len", c.table.size()},
			                {"hash_types", format_hash_types(c.hash_types)}});
		} else {
			std::printf("%-16s %-8s queues %-3u table %-3zu types %s\n", tap.c_str(),
			            info ? "present" : "absent", info ? info->queues : 0u, c.table.size(),
			            format_hash_types(c.hash_types).c_str());
		}
	}
	if (json)
		std::cout << to_json_text(list) << "\n";
	else if (taps.empty())
		std::printf("no taps attached (pins under %s)\n", kPinRoot);
}

// ---------------------------------------------------------------- detach
struct DetachOptions : TapOptions {
	bool keep_pins = false;
};

void run_detach(const DetachOptions &o)
{
	const TapPins p = o.pins();
	// The pin directory is checked before anything is detached: a --pin-dir that holds no
	// vsteer pins (a typo, an unrelated directory) changes nothing.
	auto root = PinDir::open_if_exists(p.root);
	std::optional<PinLock> lock;
	if (root)
		lock.emplace(*root, PinLock::Mode::exclusive);
	auto dir = root ? root->child(p.name) : std::nullopt;
	const auto set = dir ? SteeringObjects::inspect(*dir) : SteeringObjects::PinSet::none;
	if (set == SteeringObjects::PinSet::none && (p.custom || dir))
		throw Error(ENOENT, p.path, dir ? "holds no vsteer pins" : "no such pin directory",
		            "nothing was detached; check --pin-dir (`vsteer show --tap " + o.tap +
		                " --pin-dir DIR` names a tap's pins)");
	auto info = query_tap(o.tap);
	if (!info && set == SteeringObjects::PinSet::none)
		throw Error(ENOENT, "tap " + o.tap, "neither the device nor pins in " + p.path + " exist",
		            "nothing to detach");
	if (info)
		detach_steering(o.tap);
	if (!o.keep_pins && set != SteeringObjects::PinSet::none)
		SteeringObjects::unpin(*root, p.name);
	std::printf("detached %s%s\n", o.tap.c_str(), o.keep_pins ? " (pins kept)" : "");
}

} // namespace

void register_tap_commands(CLI::App &app)
{
	auto a = std::make_shared<AttachOptions>();
	auto *attach = app.add_subcommand("attach", "Load, pin and attach the steering program to a tap");
	add_tap_options(attach, *a);
	attach->add_flag("--create", a->create, "create a persistent multiqueue tap first");
	attach->add_flag(
	    "--hash-report", a->hash_report,
	    "also deliver the hash to the guest (virtio_net_hdr_v1_hash; needs kernel-patches/)");
	attach->add_option("--queues", a->queues, "number of queues (read from the kernel when attached)")
	    ->check(CLI::Range(1, VSTEER_MAX_QUEUES));
	attach->callback([a] { run_attach(*a); });

	auto s = std::make_shared<SetOptions>();
	auto *set = app.add_subcommand("set", "Change the live RSS configuration of an attached tap");
	add_tap_options(set, *s);
	set->add_option("--key", s->key, "40-byte Toeplitz key in hex, or 'random'");
	set->add_option("--hash-types", s->types,
	                "comma list: ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6,ip_ex,tcp_ex,udp_ex");
	auto *eq = set->add_option("--equal", s->equal, "spread a 128-entry table evenly over N queues");
	auto *ind =
	    set->add_option("--indirection", s->indirection, "explicit table Q,Q,... (power-of-two length)");
	eq->excludes(ind);
	set->add_option("--unclassified", s->unclassified, "queue for packets without a hash")
	    ->check(CLI::Range(0, VSTEER_MAX_QUEUES - 1));
	auto *sq = set->add_option("--queues", s->queues,
	                           "validate against N queues (default: the attached queues; at most "
	                           "those unless --force)")
	               ->check(CLI::Range(1, VSTEER_MAX_QUEUES));
	set->add_flag("--force", s->force,
	              "accept --queues above the queues attached to the tap (a holder that will attach "
	              "more; `vsteer check` reports the difference meanwhile)")
	    ->needs(sq);
	set->callback([s] { run_set(*s); });

	auto sh = std::make_shared<ShowOptions>();
	auto *show = app.add_subcommand("show", "Show a tap's configuration and counters");
	add_tap_options(show, *sh);
	show->add_flag("--json", sh->json, "machine-readable output");
	show->callback([sh] { run_show(*sh); });

	auto json = std::make_shared<bool>(false);
	auto *list = app.add_subcommand("list", "List taps with pinned steering objects");
	list->add_flag("--json", *json, "machine-readable output");
	list->callback([json] { run_list(*json); });

	auto d = std::make_shared<DetachOptions>();
	auto *detach = app.add_subcommand("detach", "Detach the steering program and remove the pins");
	add_tap_options(detach, *d);
	detach->add_flag("--keep-pins", d->keep_pins, "keep the pinned program and maps (configuration)");
	detach->callback([d] { run_detach(*d); });
}

} // namespace vsteer::cli
