// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer check` against the host's XDP classifier, on real objects in a namespace of its
// own: a 4-queue tap whose queues, program and policy maps this process holds (as QEMU
// would), the classifier attached to a veth, and a VM registered for the tap. check passes;
// then the guest's policy selects a queue the VM has no CPU for, and the VM hashes with
// another tap's maps: each time check exits non-zero naming the check, and the repair it
// names makes it pass again. Everything (namespace, devices, pins) is removed afterwards.
#include "json.hpp"
#include "privileges.hpp"
#include "tun_path_util.hpp"
#include "xdp_objects.hpp"

#include <doctest/doctest.h>

#include <regex>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

bool contains(const std::string &s, const std::string &what)
{
	return s.find(what) != std::string::npos;
}

struct CheckResult {
	std::string status, detail; // empty status: no such finding
};

// The (first) finding `name` in `vsteer check --json` output.
CheckResult finding(const std::string &json, const std::string &name)
{
	Json out;
	try {
		out = parse_json(json);
	} catch (const JsonError &e) {
		FAIL_CHECK("check --json printed no JSON (" << e.what() << "): " << json);
		return {};
	}
	if (const Json *checks = json_member(out, "checks"); checks && checks->is_array())
		for (const Json &c : *checks)
			if (json_string(c, "name") == name)
				return {json_string(c, "status"), json_string(c, "detail")};
	return {};
}

// The commands a detail names for the repair, `between backticks`, without "vsteer ".
std::vector<std::string> repair_commands(const std::string &detail)
{
	std::vector<std::string> out;
	std::regex re("`vsteer ([^`]*)`");
	for (auto it = std::sregex_iterator(detail.begin(), detail.end(), re); it != std::sregex_iterator();
	     ++it)
		out.push_back((*it)[1]);
	return out;
}

// Runs the two commands (`vm del`, `vm add`) that the failed finding's detail names as the
// repair, then expects `check` to pass with finding `name` ok.
void run_repair(const NetnsGuard &ns, const std::string &check, const CheckResult &failed,
                const std::string &name)
{
	auto fix = repair_commands(failed.detail);
	REQUIRE_MESSAGE(fix.size() == 2, failed.detail);
	for (const auto &cmd : fix) {
		auto r = vsteer_cli(ns, cmd);
		REQUIRE_MESSAGE(r.rc == 0, cmd << ": " << r.all());
	}
	auto r = vsteer_cli(ns, check);
	CHECK_MESSAGE(r.rc == 0, r.all());
	CHECK(finding(r.out, name).status == "ok");
}

struct XdpPinCleanup {
	std::string dir;
	~XdpPinCleanup()
	{
		try {
			xdp_unpin(dir);
		} catch (...) {
		}
	}
};

} // namespace

TEST_CASE("netns: vsteer check compares the guest's policy with the XDP classifier's VM on the tap")
{
	if (!require_privileges("vsteer check with XDP"))
		return;
	NetnsGuard ns(unique_name("vsteer-ck-", "-xdp"));
	const std::string tap = unique_name("vt", "k"), other = unique_name("vt", "o");
	const std::string xdp_dir = "/sys/fs/bpf/vsteer-xdp-test-check-" + std::to_string(getpid());
	TapQueues q(tap, 4), q_other(other, 4);
	PinCleanup pins{tap}, pins_other{other};
	XdpPinCleanup xdp_pins{xdp_dir};
	const std::string check = "check --tap " + tap + " --json --xdp-pin-dir " + xdp_dir;
	const std::string xdp_opt = " --pin-dir " + xdp_dir;

	auto r = vsteer_ok(ns, "attach --tap " + tap);
	r = vsteer_ok(ns, "attach --tap " + other);
	// This process serves the tap like QEMU: its queues, the program and the policy maps.
	SteeringObjects held = SteeringObjects::open_pinned(default_pin_dir(tap));
	r = vsteer_ok(ns, "set --tap " + tap + " --equal 3");

	// No classifier state: nothing to compare, and not a failure.
	r = vsteer_cli(ns, check);
	CHECK_MESSAGE(r.rc == 0, r.all());
	CHECK(finding(r.out, "steering-program").status == "ok");
	CHECK(finding(r.out, "xdp").status == "skip");
	CHECK_MESSAGE(contains(finding(r.out, "xdp").detail, "no XDP classifier maps in " + xdp_dir), r.out);

	// The classifier on a veth, but no VM on this tap yet.
	REQUIRE(NetnsGuard::run(ns.nsenter() + "ip link add vck0 type veth peer name vck1") == 0);
	REQUIRE(NetnsGuard::run(ns.nsenter() + "ip link set vck0 up") == 0);
	REQUIRE(NetnsGuard::run(ns.nsenter() + "ip link set vck1 up") == 0);
	r = vsteer_ok(ns, "xdp attach --dev vck0 --mode native" + xdp_opt);
	r = vsteer_cli(ns, check);
	CHECK_MESSAGE(r.rc == 0, r.all());
	CHECK(finding(r.out, "xdp").status == "skip");
	CHECK_MESSAGE(contains(finding(r.out, "xdp").detail, "has tap " + tap), r.out);

	// A VM for the tap, a CPU for each of the 3 queues the guest uses: consistent.
	auto cpus = online_cpus();
	const std::string c0 = std::to_string(cpus[0]), c1 = std::to_string(cpus[1 % cpus.size()]);
	r = vsteer_ok(ns, "vm add web1 --tap " + tap + " --mac 52:54:00:0c:0c:01 --queue-cpus " + c0 + "," +
	                      c1 + "," + c0 + " --action cpu" + xdp_opt);
	r = vsteer_cli(ns, check);
	CHECK_MESSAGE(r.rc == 0, r.all());
	for (const char *n : {"xdp", "xdp-tap", "xdp-policy-maps", "xdp-queue-cpus", "xdp-cpus"})
		CHECK_MESSAGE(finding(r.out, n).status == "ok", n << ": " << r.out);
	CHECK(finding(r.out, "xdp-placement").status != "fail");
	// $VSTEER_XDP_PIN_DIR is the default, as for the xdp commands.
	CliResult env = vsteer_cli(ns, "check --tap " + tap + " --json", "env VSTEER_XDP_PIN_DIR=" + xdp_dir);
	CHECK_MESSAGE(env.rc == 0, env.all());
	CHECK(contains(env.out, "\"xdp_pin_dir\":\"" + xdp_dir + "\""));
	CHECK(finding(env.out, "xdp-queue-cpus").status == "ok");

	// The guest now spreads over 4 queues: queue 3 has no CPU in the VM's table.
	r = vsteer_ok(ns, "set --tap " + tap + " --equal 4");
	r = vsteer_cli(ns, check);
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "tap " + tap + ": inconsistent: xdp-queue-cpus"), r.err);
	CheckResult qc = finding(r.out, "xdp-queue-cpus");
	CHECK(qc.status == "fail");
	CHECK_MESSAGE(contains(qc.detail, "vm web1: guest queue 3 has no CPU in --queue-cpus " + c0 + "," +
	                                      c1 + "," + c0),
	              qc.detail);
	CHECK(finding(r.out, "xdp-policy-maps").status == "ok");
	// The repair check names works.
	run_repair(ns, check, qc, "xdp-queue-cpus");

	// The VM registered with another tap's policy maps: host and guest hash differently.
	r = vsteer_ok(ns, "vm del web1" + xdp_opt);
	r = vsteer_ok(ns, "vm add web1 --tap " + tap + " --mac 52:54:00:0c:0c:01 --queue-cpus " + c0 + "," +
	                      c1 + "," + c0 + "," + c1 + " --rss-pins " + default_pin_dir(other) +
	                      " --action cpu" + xdp_opt);
	r = vsteer_cli(ns, check);
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "inconsistent: xdp-policy-maps"), r.err);
	CheckResult pm = finding(r.out, "xdp-policy-maps");
	CHECK(pm.status == "fail");
	CHECK_MESSAGE(contains(pm.detail, "vm web1: hashes with other maps than tap " + tap + "'s pins"),
	              pm.detail);
	CHECK_MESSAGE(contains(pm.detail, "config map id"), pm.detail);
	CHECK(finding(r.out, "xdp-queue-cpus").status == "ok");
	run_repair(ns, check, pm, "xdp-policy-maps");

	// Without the VM there is nothing to compare again.
	r = vsteer_ok(ns, "vm del web1" + xdp_opt);
	r = vsteer_cli(ns, check);
	CHECK_MESSAGE(r.rc == 0, r.all());
	CHECK(finding(r.out, "xdp").status == "skip");
	CHECK(finding(r.out, "xdp-policy-maps").status.empty());
}
