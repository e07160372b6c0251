// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer xdp|vm|rule` refuse bad input with a precise message, exit non-zero, and change
// nothing: the classifier's whole state (`vsteer xdp show --json`) is compared before and
// after every refused command. Runs the CLI in a private network namespace.
#include "privileges.hpp"
#include "run_command.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace
{

using vsteer::test::CommandResult;

// stdout and stderr together: the refusals are checked in what the user sees.
CommandResult capture(const std::string &cmd)
{
	return vsteer::test::run_command(cmd + " 2>&1");
}

class CliWorld
{
public:
	CliWorld()
	{
		id_ = std::to_string(getpid());
		ns_ = "vxc" + id_;
		pin_ = "/sys/fs/bpf/vsteer-xdp-cli-" + id_;
		REQUIRE(std::system(("ip netns add " + ns_).c_str()) == 0);
		for (const char *t : {"vxt1", "vxt2", "vxt3"})
			REQUIRE(std::system(("ip -n " + ns_ + " tuntap add mode tap multi_queue name " + t)
			                        .c_str()) == 0);
	}
	~CliWorld()
	{
		run("xdp detach --dev lo --unpin");
		std::system(("ip netns del " + ns_ + " 2>/dev/null").c_str());
		std::system(("rm -rf " + pin_).c_str());
	}
	CommandResult run(const std::string &args)
	{
		return capture("VSTEER_XDP_PIN_DIR=" + pin_ + " nsenter --net=/run/netns/" + ns_ +
		               " " VSTEER_BINARY " " + args);
	}
	std::string state() { return run("xdp show --json").text; }
	const std::string &pin_dir() const { return pin_; }

private:
	std::string id_, ns_, pin_;
};

struct Refusal {
	const char *args;
	const char *message;      // a part of the expected message
	bool usage_error = false; // refused by the parser (CLI11's checks): exit status EINVAL
};

} // namespace

TEST_CASE("xdp cli: bad input is refused precisely and changes nothing")
{
	if (!vsteer::test::require_privileges("vsteer xdp CLI"))
		return;
	CliWorld w;
	REQUIRE(w.run("vm add a --tap vxt1 --mac 52:54:00:00:00:0a --prefix 10.1.0.0/16 --prefix fd00:1::/48 "
	              "--action tap")
	            .rc == 0);
	REQUIRE(w.run("rule add --match 'proto=tcp src=192.0.2.1 dst=10.1.0.1 sport=1 dport=2' --action vm:a")
	            .rc == 0);
	const std::string before = w.state();
	REQUIRE(before.find("\"name\":\"a\"") != std::string::npos);

	const Refusal cases[] = {
	    {"vm add b --tap vxt2 --prefix 10.1.7.0/24 --action tap",
	     "prefix 10.1.7.0/24 overlaps 10.1.0.0/16 of VM 'a'"},
	    {"vm add b --tap vxt2 --prefix 10.0.0.0/8 --action tap",
	     "prefix 10.0.0.0/8 overlaps 10.1.0.0/16 of VM 'a'"},
	    {"vm add b --tap vxt2 --prefix fd00:1:0:5::/64 --action tap",
	     "prefix fd00:1:0:5::/64 overlaps fd00:1::/48 of VM 'a'"},
	    {"vm add b --tap vxt2 --prefix 10.2.0.1/16 --action tap",
	     "has host bits set (did you mean 10.2.0.0/16?)"},
	    {"vm add b --tap vxt2 --prefix 10.2.0.0/33 --action tap", "length '33' is out of range (0..32)"},
	    {"vm add b --tap vxt2 --prefix 10.2.0.300/24 --action tap", "is not an IPv4 or IPv6 address"},
	    {"vm add b --tap vxt2 --mac 52:54:00:00:00:0a --action tap",
	     "MAC 52:54:00:00:00:0a belongs to VM 'a' already"},
	    {"vm add b --tap vxt2 --mac 52:54:00:00:0a --action tap", "is malformed"},
	    {"vm add b --tap vxt2 --mac 01:00:5e:00:00:01 --action tap", "multicast"},
	    {"vm add b --tap vxt2 --queue-cpus 0,4096 --action tap",
	     "CPU 4096 does not exist (online CPUs: "},
	    {"vm add b --tap vxt2 --queue-cpus 0,x --action tap", "CPU 'x' is not a number"},
	    {"vm add b --tap vxt2 --action cpu", "has no RSS policy pinned at /sys/fs/bpf/vsteer/vxt2"},
	    {"vm add b --tap vxt2 --action teleport", "VM action 'teleport' is unknown"},
	    {"vm add b --tap nosuchtap --action tap", "tap 'nosuchtap' does not exist"},
	    {"vm add a --tap vxt2 --action tap", "VM 'a' exists already"},
	    {"vm add b --tap vxt1 --action tap", "tap 'vxt1' belongs to VM 'a' already"},
	    {"vm add 'b c' --tap vxt2 --action tap", "VM name 'b c' is not valid"},
	    {"vm add b --tap vxt2 --burst 5 --action tap", "--burst needs --rate"},
	    {"vm del zz", "unknown VM 'zz' (known VMs: a)"},
	    {"vm del a", "rule 0 (proto=tcp src=192.0.2.1 dst=10.1.0.1 sport=1 dport=2) sends to VM 'a'"},
	    {"rule add --match 'proto=udp src=1.2.3.4 dst=10.1.0.1 sport=1 dport=2' --action vm:zz",
	     "unknown VM 'zz'"},
	    {"rule add --match 'proto=udp src=1.2.3.4 dst=10.1.0.1 sport=1' --action drop", "lacks dport"},
	    {"rule add --match 'proto=udp src=1.2.3.4 sport=1 dport=2' --action drop", "lacks dst"},
	    {"rule add --match 'proto=udp src=1.2.3.4 dst=fd00::1 sport=1 dport=2' --action drop",
	     "mixes an IPv4 and an IPv6 address"},
	    {"rule add --match 'proto=icmp src=1.2.3.4 dst=10.1.0.1 sport=1' --action drop",
	     "icmp has no ports"},
	    {"rule add --match 'proto=gre src=1.2.3.4 dst=10.1.0.1' --action drop",
	     "protocol 'gre' is not a number"},
	    {"rule add --match 'proto=udp src=1.2.3.4/32 dst=10.1.0.1 sport=1 dport=2' --action drop",
	     "exact address, no prefix"},
	    {"rule add --match 'proto=udp src=1.2.3.4 dst=10.1.0.1 sport=1 dport=70000' --action drop",
	     "dport '70000' is out of range"},
	    {"rule add --match 'proto=udp src=1.2.3.4 dst=10.1.0.1 sport=1 dport=2 color=red' --action drop",
	     "match key 'color' is unknown"},
	    {"rule add --match 'proto=udp,src=1.2.3.4,dst=10.1.0.1,sport=1,sport=2,dport=3' --action drop",
	     "match key 'sport' is given twice"},
	    {"rule add --match 'proto=tcp src=192.0.2.1 dst=10.1.0.1 sport=1 dport=2' --action drop",
	     "a rule with the same match exists already (id 0)"},
	    {"rule add --match 'proto=udp src=1.2.3.4 dst=10.1.0.1 sport=1 dport=2' --action reject",
	     "rule action 'reject' is unknown"},
	    {"rule del --id 9", "no rule with id 9"},
	    // Usage errors: CLI11's own checks (option groups, validators) name the options.
	    {"rule del --id 0 --match 'proto=udp src=1.2.3.4 dst=10.1.0.1 sport=1 dport=2'",
	     "Exactly 1 option from [--id,--match] is required and 2 were given", true},
	    {"rule del", "Exactly 1 option from [--id,--match] is required", true},
	    {"rule del --id -1", "Could not convert: --id = -1", true},
	    {"xdp attach --dev nosuchdev", "device nosuchdev: look up"},
	    {"xdp attach --dev lo --mode turbo", "--mode: turbo not in {native,generic,drv,skb}", true},
	    {"xdp detach --dev lo", "the classifier is not attached here"},
	};
	for (const Refusal &c : cases) {
		CommandResult o = w.run(c.args);
		const std::string what = std::string("vsteer ") + c.args + "\n" + o.text;
		INFO(what);
		CHECK(o.rc != 0);
		CHECK(o.text.find(c.message) != std::string::npos);
		CHECK(w.state() == before);
		if (c.usage_error)
			CHECK(o.rc == EINVAL);
	}

	// The counters are BTF-typed: bpftool prints their field names.
	for (const char *map : {"xdp_vm_stats", "xdp_rule_stats", "xdp_stats"}) {
		CommandResult dump =
		    capture(std::string("/usr/sbin/bpftool map dump pinned ") + w.pin_dir() + "/" + map);
		INFO(dump.text);
		CHECK(dump.rc == 0);
		CHECK(dump.text.find("\"packets\": 0") != std::string::npos);
		if (std::string(map) != "xdp_rule_stats")
			CHECK(dump.text.find("\"redirect_tap\": 0") != std::string::npos);
		if (std::string(map) == "xdp_vm_stats")
			CHECK(dump.text.find("\"cpumap_delivered\": 0") != std::string::npos);
	}

	// And the same commands, corrected, are accepted.
	CHECK(
	    w.run("vm add b --tap vxt2 --prefix 10.2.0.0/16 --mac 52:54:00:00:00:0b --action tap --rate 1000")
		.rc == 0);
	CHECK(w.run("rule add --match 'proto=icmp src=1.2.3.4 dst=10.1.0.1' --action drop").rc == 0);
	CHECK(w.run("rule del --id 0").rc == 0);
	CHECK(w.run("vm del a").rc == 0);
	CommandResult shown = w.run("xdp show");
	CHECK(shown.text.find("vm b (id 1): tap vxt2") != std::string::npos);
	CHECK(shown.text.find("rate 1000 pps burst 10") != std::string::npos);
	CHECK(shown.text.find("proto=icmp src=1.2.3.4 dst=10.1.0.1 -> drop") != std::string::npos);
}
