// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// xdp attach/detach/show, vm add/del, rule add/del: the XDP classifier on host NICs
// (docs/xdp.md). Every command validates its input completely before changing anything.
#include "commands.hpp"
#include "error.hpp"
#include "pin_dir.hpp"
#include "steering_objects.hpp"
#include "xdp_control.hpp"
#include "xdp_objects.hpp"
#include "xdp_show.hpp"

#include <cstdio>
#include <iostream>
#include <optional>

namespace vsteer::cli
{
namespace
{

struct Common {
	std::string pin_dir;
	std::string dir() const
	{
		return normalize_pin_path(pin_dir.empty() ? default_xdp_pin_dir() : pin_dir);
	}
	// Commands that change the classifier's pins hold the lock of their pin root, as the tap
	// commands do (docs/pins.md): two `vm add` never take the same slot.
	PinLock lock() const
	{
		ensure_bpffs();
		const std::string d = dir();
		const size_t slash = d.rfind('/');
		return PinLock(PinDir::create(slash == 0 ? "/" : d.substr(0, slash)),
		               PinLock::Mode::exclusive);
	}
};

void add_pin_dir(CLI::App *cmd, Common &c)
{
	cmd->add_option(
	    "--pin-dir", c.pin_dir,
	    "bpffs directory of the classifier's maps (default $VSTEER_XDP_PIN_DIR or " VSTEER_XDP_PIN_ROOT
	    ")");
}

// drv and skb: the names ip-link(8) uses for the same modes.
void add_mode(CLI::App *cmd, std::string &mode)
{
	cmd->add_option("--mode", mode, "native (default) or generic")
	    ->check(CLI::IsMember({"native", "generic", "drv", "skb"}));
}

std::optional<XdpMode> chosen_mode(const std::string &m)
{
	if (m.empty())
		return std::nullopt;
	return m == "generic" || m == "skb" ? XdpMode::Generic : XdpMode::Native;
}

// --------------------------------------------------------------------- xdp
struct XdpAttachOpts : Common {
	std::string dev, mode;
};
struct XdpDetachOpts : Common {
	std::string dev;
	bool unpin = false;
};
struct XdpShowOpts : Common {
	std::vector<std::string> devs;
	bool json = false;
};

void run_xdp_attach(const XdpAttachOpts &o)
{
	const PinLock lock = o.lock();
	XdpAttachReport r = xdp_attach(o.dev, chosen_mode(o.mode), o.dir());
	std::printf("%s: classifier %s (prog %u, %s mode, %s%s), maps in %s\n", o.dev.c_str(), r.how.c_str(),
	            r.prog_id, xdp_mode_name(r.mode),
	            r.dispatcher ? "libxdp dispatcher" : "single program, no dispatcher",
	            r.metadata ? ""
	                       : ", without XDP metadata: this dispatcher cannot hold a program that changes "
	                         "packet data, the cpumap program classifies again",
	            o.dir().c_str());
}

void run_xdp_detach(const XdpDetachOpts &o)
{
	const PinLock lock = o.lock();
	xdp_detach(o.dev);
	std::printf("%s: classifier detached\n", o.dev.c_str());
	if (o.unpin) {
		xdp_unpin(o.dir());
		std::printf("removed the pins in %s\n", o.dir().c_str());
	}
}

void run_xdp_show(const XdpShowOpts &o)
{
	XdpMaps maps = XdpMaps::open_pinned(o.dir());
	XdpControl ctl(maps);
	std::vector<std::pair<std::string, XdpDeviceState>> devs;
	for (const std::string &d : o.devs)
		devs.emplace_back(d, xdp_device_state(d));
	std::fputs((o.json ? format_show_json(ctl, devs) : format_show_text(ctl, devs)).c_str(), stdout);
}

// ---------------------------------------------------------------------- vm
struct VmAddOpts : Common {
	std::string name, tap, cpus, action = "cpu", rss_pins;
	std::vector<std::string> macs, prefixes;
	uint32_t rate = 0, burst = 0;
	bool eastwest = false;
};
struct VmDelOpts : Common {
	std::string name;
};

void run_vm_add(const VmAddOpts &o)
{
	// Parse everything before touching a map.
	VmSpec spec;
	spec.name = o.name;
	spec.tap = o.tap;
	for (const auto &m : o.macs)
		spec.macs.push_back(parse_mac(m));
	for (const auto &p : o.prefixes)
		spec.prefixes.push_back(parse_prefix(p));
	if (!o.cpus.empty())
		spec.queue_cpus = parse_cpu_list(o.cpus);
	spec.rate_pps = o.rate;
	spec.burst = o.burst;
	spec.action = parse_vm_action(o.action);
	spec.rss_pin_dir = o.rss_pins;
	spec.eastwest = o.eastwest;
	const PinLock lock = o.lock();
	XdpMaps maps = XdpMaps::create_or_open(o.dir());
	XdpControl ctl(maps);
	uint32_t id = ctl.add_vm(spec);
	std::printf("vm %s: id %u, tap %s, action %s\n", o.name.c_str(), id, o.tap.c_str(), o.action.c_str());
}

void run_vm_del(const VmDelOpts &o)
{
	const PinLock lock = o.lock();
	XdpMaps maps = XdpMaps::open_pinned(o.dir());
	XdpControl ctl(maps);
	ctl.del_vm(o.name);
	std::printf("vm %s: deleted\n", o.name.c_str());
}

// -------------------------------------------------------------------- rule
struct RuleAddOpts : Common {
	std::string match, action;
};
struct RuleDelOpts : Common {
	std::string match;
	std::optional<uint32_t> id;
};

void run_rule_add(const RuleAddOpts &o)
{
	RuleMatch m = parse_match(o.match);
	RuleTarget t = parse_rule_action(o.action);
	const PinLock lock = o.lock();
	XdpMaps maps = XdpMaps::open_pinned(o.dir());
	XdpControl ctl(maps);
	uint32_t id = ctl.add_rule(m, t);
	std::printf("rule %u: %s -> %s\n", id, format_match(m).c_str(), o.action.c_str());
}

void run_rule_del(const RuleDelOpts &o)
{
	std::optional<RuleMatch> m;
	if (!o.match.empty())
		m = parse_match(o.match);
	const PinLock lock = o.lock();
	XdpMaps maps = XdpMaps::open_pinned(o.dir());
	XdpControl ctl(maps);
	if (m)
		ctl.del_rule(*m);
	else
		ctl.del_rule(*o.id);
	std::printf("rule deleted\n");
}

} // namespace

void register_xdp_commands(CLI::App &app)
{
	// xdp
	auto *xdp = app.add_subcommand("xdp", "XDP classifier on host NICs (attach, detach, show)");
	xdp->require_subcommand(1);
	{
		auto o = std::make_shared<XdpAttachOpts>();
		auto *c = xdp->add_subcommand(
		    "attach", "attach the classifier to a NIC, or replace it in place (maps kept)");
		c->add_option("--dev", o->dev, "network device (current network namespace)")->required();
		add_mode(c, o->mode);
		add_pin_dir(c, *o);
		c->callback([o] { run_xdp_attach(*o); });
	}
	{
		auto o = std::make_shared<XdpDetachOpts>();
		auto *c = xdp->add_subcommand("detach", "detach the classifier from a NIC");
		c->add_option("--dev", o->dev, "network device")->required();
		c->add_flag("--unpin", o->unpin, "also remove the pinned maps (all VMs and rules)");
		add_pin_dir(c, *o);
		c->callback([o] { run_xdp_detach(*o); });
	}
	{
		auto o = std::make_shared<XdpShowOpts>();
		auto *c =
		    xdp->add_subcommand("show", "VMs, rules and counters (and the state of --dev devices)");
		c->add_option("--dev", o->devs, "also show the XDP state of this device (repeatable)");
		c->add_flag("--json", o->json, "JSON output");
		add_pin_dir(c, *o);
		c->callback([o] { run_xdp_show(*o); });
	}

	// vm
	auto *vm = app.add_subcommand("vm", "VMs the classifier sends traffic to");
	vm->require_subcommand(1);
	{
		auto o = std::make_shared<VmAddOpts>();
		auto *c = vm->add_subcommand(
		    "add", "add a VM: its tap, what is addressed to it, how it is delivered");
		c->add_option("name", o->name, "VM name")->required();
		c->add_option("--tap", o->tap, "the VM's tap device")->required();
		c->add_option("--mac", o->macs, "destination MAC of the VM (repeatable)");
		c->add_option("--prefix", o->prefixes, "destination IPv4/IPv6 prefix of the VM (repeatable)");
		c->add_option("--queue-cpus", o->cpus,
		              "CPU of each guest queue, e.g. 0,1,2,3 (default: the online CPUs)");
		c->add_option("--rate", o->rate, "packet rate limit in packets/s (0: none)");
		c->add_option("--burst", o->burst, "token bucket depth in packets (default rate/100)");
		c->add_option("--action", o->action, "cpu (default), tap, cpu-pass, pass or drop");
		c->add_option("--rss-pins", o->rss_pins,
		              "pin directory of the tap's RSS maps (default /sys/fs/bpf/vsteer/TAP)");
		c->add_flag("--eastwest", o->eastwest, "attach the tc east-west program to the tap");
		add_pin_dir(c, *o);
		c->callback([o] { run_vm_add(*o); });
	}
	{
		auto o = std::make_shared<VmDelOpts>();
		auto *c = vm->add_subcommand("del", "delete a VM");
		c->add_option("name", o->name, "VM name")->required();
		add_pin_dir(c, *o);
		c->callback([o] { run_vm_del(*o); });
	}

	// rule
	auto *rule = app.add_subcommand("rule", "exact 5-tuple rules (checked before MAC and prefix)");
	rule->require_subcommand(1);
	{
		auto o = std::make_shared<RuleAddOpts>();
		auto *c = rule->add_subcommand("add", "add a rule");
		c->add_option("--match", o->match, "'proto=udp src=A dst=B sport=N dport=N' (icmp: no ports)")
		    ->required();
		c->add_option("--action", o->action, "pass, drop or vm:NAME")->required();
		add_pin_dir(c, *o);
		c->callback([o] { run_rule_add(*o); });
	}
	{
		auto o = std::make_shared<RuleDelOpts>();
		auto *c = rule->add_subcommand("del", "delete a rule by id or by match");
		auto *which = c->add_option_group("rule", "which rule: one of");
		which->add_option("--id", o->id, "rule id (see `vsteer xdp show`)");
		which->add_option("--match", o->match, "the rule's match");
		which->require_option(1);
		add_pin_dir(c, *o);
		c->callback([o] { run_rule_del(*o); });
	}
}

} // namespace vsteer::cli
