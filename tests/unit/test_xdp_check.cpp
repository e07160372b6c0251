// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer check`, host side: the XDP classifier's VM on the checked tap against the guest's
// policy on that tap. A consistent setup passes; each inconsistency is found, named, and its
// detail names the VM and the command that repairs it.
#include "check_fixture.hpp"
#include "xdp_check.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <functional>

using namespace vsteer;
using namespace vsteer::check;

namespace
{

constexpr int kTapIfindex = vsteer::test::kCheckTapIfindex;

// A 4-queue tap whose guest spreads its table over the 4 queues.
CheckInput guest()
{
	return vsteer::test::consistent_check_input();
}

// VM web1 on that tap: action cpu, queue q on CPU q, hashing with the tap's maps, on a host
// with CPUs 0-3 online and in the cpumap with its program.
XdpCheckInput host()
{
	XdpCheckInput x;
	x.pin_dir = VSTEER_XDP_PIN_ROOT;
	x.present = true;
	x.online_cpus = {0, 1, 2, 3};
	for (unsigned c = 0; c < 4; c++)
		x.cpumap[c] = {2048, 50};
	XdpVmState s;
	s.vm.id = 3;
	s.vm.slot.in_use = 1;
	s.vm.slot.tap_ifindex = kTapIfindex;
	s.vm.slot.action = VSTEER_XDP_CPU;
	s.vm.slot.num_queue_cpus = 4;
	for (uint16_t q = 0; q < 4; q++)
		s.vm.slot.queue_cpu[q] = q;
	std::strcpy(s.vm.slot.name, "web1");
	std::strcpy(s.vm.slot.tap, "vst0");
	s.vm.macs.push_back(parse_mac("52:54:00:12:34:56"));
	s.vm.prefixes.push_back(parse_prefix("10.1.0.0/24"));
	s.config_map_id = 11;
	s.key_map_id = 12;
	s.table_map_id = 13;
	s.devmap_ifindex = kTapIfindex;
	x.vms.push_back(s);
	return x;
}

void set_cpus(XdpCheckInput &x, std::vector<uint16_t> cpus)
{
	auto &slot = x.vms[0].vm.slot;
	slot.num_queue_cpus = static_cast<uint32_t>(cpus.size());
	std::fill(std::begin(slot.queue_cpu), std::end(slot.queue_cpu), 0);
	std::copy(cpus.begin(), cpus.end(), slot.queue_cpu);
}

std::vector<const Finding *> named(const std::vector<Finding> &f, const std::string &name)
{
	std::vector<const Finding *> out;
	for (const auto &x : f)
		if (x.name == name)
			out.push_back(&x);
	return out;
}

bool has(const std::string &s, const std::string &what)
{
	return s.find(what) != std::string::npos;
}

} // namespace

TEST_CASE("check xdp: the queues a guest policy can select")
{
	RssConfig c;
	c.table = {0, 2, 2, 5};
	c.unclassified_queue = 1;
	CHECK(selectable_queues(c, 4) == std::vector<unsigned>{0, 1, 2, 5});
	CHECK(selectable_queues(c, 2) == std::vector<unsigned>{0, 1, 2}); // entries past the length
	CHECK(selectable_queues(c, 0) == std::vector<unsigned>{1});       // RSS not programmed
	c.redirect = false;
	CHECK(selectable_queues(c, 4) == std::vector<unsigned>{1});
	c.redirect = true;
	c.hash_types = 0;
	CHECK(selectable_queues(c, 4) == std::vector<unsigned>{1});
}

TEST_CASE("check xdp: a VM consistent with the guest's policy passes every check")
{
	auto f = check_xdp(guest(), host());
	CHECK(consistent(f));
	for (const char *n :
	     {"xdp", "xdp-tap", "xdp-policy-maps", "xdp-queue-cpus", "xdp-cpus", "xdp-placement"}) {
		auto x = named(f, n);
		REQUIRE_MESSAGE(x.size() == 1, n);
		CHECK_MESSAGE(x[0]->status == Status::ok, n << ": " << x[0]->detail);
		CHECK_MESSAGE(x[0]->detail.rfind("vm web1", 0) == 0, n << ": " << x[0]->detail);
	}
	CHECK(has(named(f, "xdp")[0]->detail, "(id 3): action cpu, queue cpus 0,1,2,3"));
}

TEST_CASE("check xdp: nothing to compare is a skip, unreadable state a failure")
{
	XdpCheckInput x;
	x.pin_dir = "/sys/fs/bpf/elsewhere";
	auto f = check_xdp(guest(), x);
	REQUIRE(f.size() == 1);
	CHECK(f[0].name == "xdp");
	CHECK(f[0].status == Status::skip);
	CHECK(has(f[0].detail, "no XDP classifier maps in /sys/fs/bpf/elsewhere"));
	CHECK(consistent(f));

	x = host();
	x.vms.clear();
	f = check_xdp(guest(), x);
	REQUIRE(f.size() == 1);
	CHECK(f[0].status == Status::skip);
	CHECK(has(f[0].detail, "no VM of the XDP classifier"));
	CHECK(has(f[0].detail, "has tap vst0"));
	CHECK(consistent(f));

	x = host();
	x.vms.clear();
	x.problem = "map xdp_vms: lookup: Operation not permitted (errno 1)";
	f = check_xdp(guest(), x);
	REQUIRE(f.size() == 1);
	CHECK(f[0].status == Status::fail);
	CHECK(has(f[0].detail, x.problem));
	CHECK_FALSE(consistent(f));
}

TEST_CASE("check xdp: each inconsistency is named, with the VM and the repair")
{
	struct Case {
		std::string what;
		std::function<void(CheckInput &, XdpCheckInput &)> change;
		const char *name; // the finding
		Status status;
		std::vector<std::string> detail; // all of these in its detail
	};
	const std::string readd = "`vsteer vm del web1`, then `vsteer vm add web1 --tap vst0 --mac "
				  "52:54:00:12:34:56 --prefix 10.1.0.0/24 --queue-cpus ";
	const std::vector<Case> cases = {
	    {"the table selects a queue without a CPU",
	     [](CheckInput &, XdpCheckInput &x) {
		     set_cpus(x, {0, 1, 2});
	     },
	     "xdp-queue-cpus",
	     Status::fail,
	     {"vm web1: guest queue 3 has no CPU in --queue-cpus 0,1,2",
	      "wraps queue q to the CPU of queue q % 3", readd + "0,1,2,3 --action cpu`"}},
	    {"the unclassified queue has no CPU",
	     [](CheckInput &g, XdpCheckInput &) { g.config->unclassified_queue = 5; },
	     "xdp-queue-cpus",
	     Status::fail,
	     {"guest queue 5 has no CPU in --queue-cpus 0,1,2,3", "--queue-cpus 0,1,2,3,0,1 --action cpu"}},
	    {"several queues without a CPU",
	     [](CheckInput &, XdpCheckInput &x) {
		     set_cpus(x, {0, 1});
	     },
	     "xdp-queue-cpus",
	     Status::fail,
	     {"guest queues 2,3 have no CPU in --queue-cpus 0,1"}},
	    {"redirect off: only the unclassified queue needs a CPU",
	     [](CheckInput &g, XdpCheckInput &x) {
		     g.config->redirect = false;
		     set_cpus(x, {0});
	     },
	     "xdp-queue-cpus",
	     Status::ok,
	     {"selects (0) has a CPU"}},
	    {"another tap's policy maps",
	     [](CheckInput &, XdpCheckInput &x) {
		     x.vms[0].config_map_id = 21;
		     x.vms[0].key_map_id = 22;
		     x.vms[0].table_map_id = 23;
	     },
	     "xdp-policy-maps",
	     Status::fail,
	     {"vm web1: hashes with other maps than tap vst0's pins in /sys/fs/bpf/vsteer/vst0",
	      "config map id 21 (the tap's: 11)", "indirection_table map id 23 (the tap's: 13)",
	      "; re-add it: `vsteer vm del web1`"}},
	    {"one map differs",
	     [](CheckInput &, XdpCheckInput &x) { x.vms[0].key_map_id = 99; },
	     "xdp-policy-maps",
	     Status::fail,
	     {"toeplitz_key map id 99 (the tap's: 12)"}},
	    {"no policy maps",
	     [](CheckInput &, XdpCheckInput &x) {
		     x.vms[0].config_map_id = x.vms[0].key_map_id = x.vms[0].table_map_id = 0;
	     },
	     "xdp-policy-maps",
	     Status::fail,
	     {"has no RSS policy maps", "guest queue 0 (no_policy)"}},
	    {"the tap's pins elsewhere",
	     [](CheckInput &g, XdpCheckInput &x) {
		     g.pin_dir = "/sys/fs/bpf/mine/vst0";
		     x.vms[0].key_map_id = 99;
	     },
	     "xdp-policy-maps",
	     Status::fail,
	     {"--rss-pins /sys/fs/bpf/mine/vst0"}},
	    {"the classifier's pins elsewhere",
	     [](CheckInput &, XdpCheckInput &x) {
		     x.pin_dir = "/sys/fs/bpf/x";
		     set_cpus(x, {0, 1, 2});
	     },
	     "xdp-queue-cpus",
	     Status::fail,
	     {"`vsteer vm del web1 --pin-dir /sys/fs/bpf/x`", "--action cpu --pin-dir /sys/fs/bpf/x`"}},
	    {"rate and east-west are kept in the repair",
	     [](CheckInput &, XdpCheckInput &x) {
		     set_cpus(x, {0, 1, 2});
		     x.vms[0].vm.slot.rate_pps = 1000;
		     x.vms[0].vm.slot.rate_burst = 10;
		     x.vms[0].vm.eastwest = true;
	     },
	     "xdp-queue-cpus",
	     Status::fail,
	     {"--queue-cpus 0,1,2,3 --rate 1000 --burst 10 --action cpu --eastwest`"}},
	    {"an offline CPU",
	     [](CheckInput &, XdpCheckInput &x) {
		     set_cpus(x, {0, 1, 2, 7});
	     },
	     "xdp-cpus",
	     Status::fail,
	     {"vm web1: CPU 7 (queue 3) not online (online: 0,1,2,3)", "--queue-cpus 0,1,2,3 --action cpu"}},
	    {"a CPU missing from the cpumap",
	     [](CheckInput &, XdpCheckInput &x) { x.cpumap.erase(2); },
	     "xdp-cpus",
	     Status::fail,
	     {"no xdp_cpumap entry for CPU 2", "vsteer xdp attach --dev IF"}},
	    {"a cpumap entry without the cpumap program (cpu)",
	     [](CheckInput &, XdpCheckInput &x) { x.cpumap[1].prog_id = 0; },
	     "xdp-cpus",
	     Status::fail,
	     {"the xdp_cpumap entry of CPU 1 runs no program"}},
	    {"a cpumap entry without program is what cpu-pass needs",
	     [](CheckInput &, XdpCheckInput &x) {
		     x.cpumap[1].prog_id = 0;
		     x.vms[0].vm.slot.action = VSTEER_XDP_CPU_PASS;
	     },
	     "xdp-cpus",
	     Status::ok,
	     {"CPUs 0,1,2,3 online and in xdp_cpumap"}},
	    {"no devmap entry",
	     [](CheckInput &, XdpCheckInput &x) { x.vms[0].devmap_ifindex.reset(); },
	     "xdp-tap",
	     Status::fail,
	     {"xdp_tap_devmap has no entry for VM id 3", "re-add it"}},
	    {"the devmap redirects elsewhere",
	     [](CheckInput &, XdpCheckInput &x) { x.vms[0].devmap_ifindex = 9; },
	     "xdp-tap",
	     Status::fail,
	     {"xdp_tap_devmap[3] redirects into ifindex 9, not into tap vst0 (ifindex 7)"}},
	    {"the tap was recreated",
	     [](CheckInput &g, XdpCheckInput &) { g.info->ifindex = 12; },
	     "xdp-tap",
	     Status::fail,
	     {"was added for tap vst0 as ifindex 7, but vst0 is ifindex 12 now"}},
	    {"the tap is gone",
	     [](CheckInput &g, XdpCheckInput &) { g.info.reset(); },
	     "xdp-tap",
	     Status::fail,
	     {"tap vst0 is not in this network namespace"}},
	    {"pass does not deliver into the tap",
	     [](CheckInput &, XdpCheckInput &x) {
		     x.vms[0].vm.slot.action = VSTEER_XDP_PASS;
		     x.vms[0].devmap_ifindex.reset();
	     },
	     "xdp-tap",
	     Status::skip,
	     {"action pass does not redirect into the tap"}},
	    {"tap does not hash",
	     [](CheckInput &, XdpCheckInput &x) {
		     x.vms[0].vm.slot.action = VSTEER_XDP_TAP;
		     x.vms[0].key_map_id = 99;
	     },
	     "xdp-policy-maps",
	     Status::skip,
	     {"action tap does not hash"}},
	    {"tap ignores the guest's queue in native mode",
	     [](CheckInput &, XdpCheckInput &x) { x.vms[0].vm.slot.action = VSTEER_XDP_TAP; },
	     "xdp-placement",
	     Status::warn,
	     {"whatever the guest's policy says"}},
	    {"CPUs that native XDP maps to other tap queues",
	     [](CheckInput &, XdpCheckInput &x) {
		     set_cpus(x, {0, 1, 0, 1});
	     },
	     "xdp-placement",
	     Status::warn,
	     {"guest queue 2 -> CPU 0 -> tap queue 0, 3 -> CPU 1 -> tap queue 1"}},
	    {"without pins there is no guest policy to compare",
	     [](CheckInput &g, XdpCheckInput &x) {
		     g.config.reset();
		     x.vms[0].key_map_id = 99;
	     },
	     "xdp-policy-maps",
	     Status::skip,
	     {"no complete pin set"}},
	};
	for (const auto &c : cases) {
		CAPTURE(c.what);
		CheckInput g = guest();
		XdpCheckInput x = host();
		c.change(g, x);
		auto f = check_xdp(g, x);
		auto found = named(f, c.name);
		REQUIRE(found.size() == 1);
		CHECK(found[0]->status == c.status);
		for (const auto &d : c.detail)
			CHECK_MESSAGE(has(found[0]->detail, d),
			              "wanted '" << d << "' in: " << found[0]->detail);
		// A failure fails the whole check, anything else does not; the other findings are
		// unaffected by a change aimed at one.
		CHECK(consistent(f) == (c.status != Status::fail));
		for (const auto &other : f)
			if (other.name != c.name && other.status == Status::fail)
				FAIL_CHECK(c.what << " also failed " << other.name << ": " << other.detail);
	}
}

TEST_CASE("check xdp: every VM registered for the tap is checked")
{
	XdpCheckInput x = host();
	XdpVmState second = x.vms[0];
	std::strcpy(second.vm.slot.name, "web2");
	second.vm.id = 4;
	second.key_map_id = 99;
	x.vms.push_back(second);
	auto f = check_xdp(guest(), x);
	CHECK_FALSE(consistent(f));
	auto maps = named(f, "xdp-policy-maps");
	REQUIRE(maps.size() == 2);
	CHECK(maps[0]->status == Status::ok);
	CHECK(maps[1]->status == Status::fail);
	CHECK(has(maps[1]->detail, "vm web2:"));
}
