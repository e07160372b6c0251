// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The real tun path, each case in its own network namespace: a 4-queue tap whose queue
// files the test holds (as QEMU does), `vsteer attach` without --create, frames sent into
// the tap with AF_PACKET checked against the C++ reference on the queue they arrive on,
// and continuous numbered traffic while attach / detach / set run, which must lose nothing.
#include "privileges.hpp"
#include "random_config.hpp"
#include "tap_control.hpp"
#include "tun_path_util.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include <linux/if_tun.h>
#include <sys/ioctl.h>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

std::string join_table(const std::vector<uint16_t> &t)
{
	std::string s;
	for (size_t i = 0; i < t.size(); i++)
		s += (i ? "," : "") + std::to_string(t[i]);
	return s;
}

// `vsteer set` arguments that state every field of `c`.
std::string set_args(const std::string &tap, const RssConfig &c)
{
	return "set --tap " + tap + " --key " + format_key(c.key) + " --hash-types " +
	       format_hash_types(c.hash_types) + " --indirection " + join_table(c.table) +
	       " --unclassified " + std::to_string(c.unclassified_queue);
}

// Every frame arrived exactly once, on the queue compute_rss(config) names.
void check_placement(const std::vector<Bytes> &frames, const std::vector<int> &where, const RssConfig &config,
                     const std::vector<std::string> &kinds, unsigned queues)
{
	unsigned lost = 0, dup = 0, wrong = 0;
	std::vector<unsigned> per_queue(queues);
	std::map<std::string, unsigned> wrong_by_kind;
	std::string examples;
	for (size_t i = 0; i < frames.size(); i++) {
		if (where[i] == -1) {
			lost++;
			continue;
		}
		if (where[i] == -2) {
			dup++;
			continue;
		}
		per_queue[where[i]]++;
		RssResult want = compute_rss(config, frames[i]);
		if (want.queue != static_cast<unsigned>(where[i])) {
			wrong++;
			wrong_by_kind[kinds[i]]++;
			if (wrong <= 5)
				examples += "\n  frame " + std::to_string(i) + " (" + kinds[i] + "): queue " +
				            std::to_string(where[i]) + ", reference " +
				            std::to_string(want.queue) + " (hash " +
				            std::to_string(want.hash) + ", report " +
				            report_name(want.report) + ")";
		}
	}
	std::string by_kind;
	for (const auto &[k, n] : wrong_by_kind)
		by_kind += " " + k + "=" + std::to_string(n);
	CHECK_MESSAGE(lost == 0, lost << " of " << frames.size() << " frames never arrived");
	CHECK_MESSAGE(dup == 0, dup << " frames arrived more than once");
	CHECK_MESSAGE(wrong == 0, wrong << " frames on another queue than the reference predicts:" << by_kind
	                                << examples);
	std::string spread;
	for (unsigned q = 0; q < queues; q++)
		spread += " q" + std::to_string(q) + "=" + std::to_string(per_queue[q]);
	MESSAGE(frames.size() << " frames, types " << format_hash_types(config.hash_types) << ", table "
	                      << config.table.size() << ":" << spread);
}

// Frames of `t` with sequence numbers in [from, to) were sent while `config` was live:
// each must be on the queue the reference names for its flow.
struct Window {
	uint32_t from, to;
	RssConfig config;
	std::string label;
};

void check_windows(const Traffic &t, const std::vector<Bytes> &flows, const std::vector<Window> &windows)
{
	for (const auto &w : windows) {
		std::vector<int> expected(flows.size());
		for (size_t f = 0; f < flows.size(); f++)
			expected[f] = compute_rss(w.config, flows[f]).queue;
		unsigned wrong = 0, checked = 0;
		std::string examples;
		for (uint32_t s = w.from; s < w.to; s++) {
			if (t.count(s) != 1)
				continue; // reported by the accounting
			checked++;
			if (static_cast<int>(t.queue_of(s)) != expected[t.flow_index(s)] && ++wrong <= 3)
				examples += " seq " + std::to_string(s) + " on q" +
				            std::to_string(t.queue_of(s)) + " (reference q" +
				            std::to_string(expected[t.flow_index(s)]) + ")";
		}
		CHECK_MESSAGE(checked > 0, w.label << ": no frames were sent under this configuration");
		CHECK_MESSAGE(wrong == 0,
		              w.label
		                  << ": " << wrong << " of " << checked
		                  << " frames sent after the change are not where the reference puts them:"
		                  << examples);
	}
}

// tx_packets_before: the tap's tx_packets before the traffic; frames the tap delivered
// beyond what the test read were read by vsteer's control queue (and re-sent).
void check_accounting(const Traffic &t, const std::string &tap, uint64_t drops_before,
                      uint64_t tx_packets_before)
{
	auto a = t.account();
	uint64_t drops = tx_dropped(tap) - drops_before;
	CHECK_MESSAGE(t.send_error().empty(), t.send_error());
	CHECK_MESSAGE(a.lost == 0, a.lost << " of " << a.sent << " frames lost (tap tx_dropped +" << drops
	                                  << "):" << a.examples);
	CHECK_MESSAGE(a.duplicated == 0, a.duplicated << " frames delivered twice:" << a.examples);
	CHECK_MESSAGE(t.corrupt() == 0, t.corrupt() << " frames arrived altered");
	CHECK_MESSAGE(drops == 0, "the tap dropped " << drops << " frames (queue overrun?)");
	const uint64_t delivered = tx_packets(tap) - tx_packets_before;
	const uint64_t ours = t.read_total();
	MESSAGE(a.sent << " numbered frames sent, " << t.received() << " received (" << t.foreign()
	               << " other frames from the host ignored); "
	               << (delivered > ours ? delivered - ours : 0)
	               << " caught on vsteer's control queue and re-sent");
}

} // namespace

TEST_CASE(
    "netns: vsteer attach (no --create) on a held 4-queue tap; frames land where the reference predicts")
{
	if (!require_privileges("real tun path"))
		return;
	HeldTap h(unique_name("vsteer-tt-", "-place"), unique_name("vt", "p"));
	PacketSender sender(h.tap);

	// setns() moved this thread, and children of system() inherit it: the tap is visible
	// without nsenter too (vsteer_cli uses nsenter all the same).
	CHECK(NetnsGuard::run("ip link show dev " + h.tap + " >/dev/null 2>&1") == 0);
	auto info = query_tap(h.tap);
	REQUIRE(info);
	CHECK(info->queues == 4);
	CHECK(info->multi_queue);
	CHECK(!info->persist);

	auto r = h.vsteer_ok("attach --tap " + h.tap);
	CHECK_MESSAGE(r.out.find("4 queues") != std::string::npos, r.out);
	REQUIRE(pin_dir_exists(h.tap));
	CHECK(query_tap(h.tap)->queues == 4); // vsteer's control queue is gone again
	CHECK(query_tap(h.tap)->disabled_queues == 0);

	SteeringObjects objs = h.objects();
	RssConfig c = objs.read_config();
	CHECK(objs.queues() == 4);
	CHECK(c.hash_types == VSTEER_HASH_DEFAULT);
	CHECK(c.table == equal_table(4));
	CHECK(c.unclassified_queue == 0);
	CHECK(c.redirect);

	std::vector<std::string> kinds;
	auto frames = make_flows(101, 3000, &kinds);
	check_placement(frames, send_and_collect(h.q, sender, frames), c, kinds, 4);

	// All nine types (the _EX ones see the Home Address / type-2 routing frames), an
	// uneven table and another unclassified queue.
	Rng rng(7);
	RssConfig c2 = random_config(rng, VSTEER_HASH_ALL, 16, 4);
	h.vsteer_ok(set_args(h.tap, c2));
	RssConfig got = objs.read_config();
	CHECK(got == c2);
	check_placement(frames, send_and_collect(h.q, sender, frames), got, kinds, 4);

	// A subset without TCP/UDP types: flows fall back to the address hashes.
	RssConfig c3 = random_config(rng, VSTEER_HASH_IPV4 | VSTEER_HASH_IPV6 | VSTEER_HASH_UDPV4, 128, 4);
	h.vsteer_ok(set_args(h.tap, c3));
	got = objs.read_config();
	CHECK(got == c3);
	check_placement(frames, send_and_collect(h.q, sender, frames), got, kinds, 4);

	StatsTotals s = objs.read_stats();
	CHECK(s.packets >= 3 * frames.size());
	uint64_t queued = 0;
	for (unsigned qi = 0; qi < 4; qi++)
		queued += s.by_queue[qi];
	CHECK(queued == s.packets);
}

TEST_CASE("netns: continuous traffic while vsteer attach and detach run loses no frame")
{
	if (!require_privileges("real tun path"))
		return;
	HeldTap h(unique_name("vsteer-tt-", "-attach"), unique_name("vt", "a"));
	PacketSender sender(h.tap);
	auto flows = make_flows(202, 512);
	const uint64_t drops_before = tx_dropped(h.tap), tx_before = tx_packets(h.tap);

	// The control queue vsteer adds is live for only microseconds before the program is
	// set, so frames rarely land on it. One attach runs under strace with every ioctl's
	// return delayed by 50 ms (a loader preempted between TUNSETIFF and TUNSETSTEERINGEBPF):
	// then the kernel's flow hash puts frames on it (up to the sender's in-flight window),
	// and vsteer must drain and re-send every one of them.
	const bool have_strace = NetnsGuard::run("strace -qq -o /dev/null true >/dev/null 2>&1") == 0;
	if (!have_strace)
		MESSAGE("strace not installed: the slow-loader attach is not run");
	const std::string slow = "strace -qq -o /dev/null -e trace=ioctl -e inject=ioctl:delay_exit=50000";

	Traffic t(h.q, sender, flows);
	std::vector<Window> windows;
	t.start();
	t.wait_sent(5000); // the kernel's own flow hash, no program yet
	for (int cycle = 0; cycle < 4; cycle++) {
		const bool slowed = cycle == 1 && have_strace;
		uint64_t tx0 = 0, read0 = 0;
		if (slowed) {
			t.pause(); // a quiet point: every frame the tap delivered so far was read by us
			tx0 = tx_packets(h.tap), read0 = t.read_total();
			t.resume();
		}
		const uint32_t sent0 = t.sent();
		auto r = h.vsteer("attach --tap " + h.tap, slowed ? slow : "");
		uint32_t from = t.sent() + 1; // frame sent() may be in sendto() since before the change
		REQUIRE_MESSAGE(r.rc == 0, r.all());
		RssConfig c = h.objects().read_config();
		t.wait_sent(5000);
		windows.push_back({from, t.sent(), c, "after attach #" + std::to_string(cycle + 1)});
		if (slowed) {
			// Frames the tap delivered that our reader did not get went to vsteer.
			t.pause();
			uint64_t delivered = tx_packets(h.tap) - tx0, ours = t.read_total() - read0;
			t.resume();
			MESSAGE("slow attach: " << from - 1 - sent0 << " frames sent during it, "
			                        << (delivered > ours ? delivered - ours : 0)
			                        << " caught on the control queue and re-sent");
			CHECK_MESSAGE(
			    delivered > ours,
			    "no frame reached the control queue: the re-send path was not exercised");
		}
		if (cycle < 3) {
			r = h.vsteer_ok("detach --tap " + h.tap, cycle == 1 && have_strace ? slow : "");
			t.wait_sent(3000);
		}
	}
	// Attach again on the attached tap, still under traffic: the pins are reused.
	auto r = h.vsteer("attach --tap " + h.tap);
	uint32_t from = t.sent() + 1;
	REQUIRE_MESSAGE(r.rc == 0, r.all());
	CHECK_MESSAGE(r.out.find("reused") != std::string::npos, r.out);
	RssConfig c = h.objects().read_config();
	CHECK(c == windows.back().config);
	t.wait_sent(3000);
	windows.push_back({from, t.sent(), c, "after the re-attach"});
	t.stop();
	check_accounting(t, h.tap, drops_before, tx_before);
	check_windows(t, flows, windows);
	CHECK(query_tap(h.tap)->queues == 4);
}

TEST_CASE(
    "netns: continuous traffic while vsteer set reconfigures loses no frame; placement follows each config")
{
	if (!require_privileges("real tun path"))
		return;
	HeldTap h(unique_name("vsteer-tt-", "-set"), unique_name("vt", "s"));
	PacketSender sender(h.tap);
	auto flows = make_flows(303, 512);

	h.vsteer_ok("attach --tap " + h.tap);
	SteeringObjects objs = h.objects();
	const uint64_t drops_before = tx_dropped(h.tap), tx_before = tx_packets(h.tap);

	Rng rng(33);
	// Each step: set arguments, and the configuration expected afterwards (from the one before).
	struct Step {
		std::string args;
		std::function<RssConfig(const RssConfig &)> expect;
		bool key_changes_randomly = false;
	};
	const RssConfig a = random_config(rng, VSTEER_HASH_ALL, 128, 4);
	const RssConfig b =
	    random_config(rng, VSTEER_HASH_TCPV4 | VSTEER_HASH_UDPV6 | VSTEER_HASH_TCP_EX, 4, 4);
	const RssConfig c = random_config(rng, VSTEER_HASH_DEFAULT, 1, 4);
	const RssConfig d = random_config(rng, VSTEER_HASH_ALL & ~VSTEER_HASH_TCPV6, 64, 4);
	std::vector<Step> steps = {
	    {set_args(h.tap, a), [&](const RssConfig &) { return a; }},
	    {"set --tap " + h.tap + " --hash-types ipv4,ipv6",
	     [](RssConfig p) {
		     p.hash_types = VSTEER_HASH_IPV4 | VSTEER_HASH_IPV6;
		     return p;
	     }},
	    {"set --tap " + h.tap + " --key random --equal 2",
	     [](RssConfig p) {
		     p.table = equal_table(2);
		     return p;
	     },
	     true},
	    {set_args(h.tap, b), [&](const RssConfig &) { return b; }},
	    {"set --tap " + h.tap + " --hash-types none --unclassified 2",
	     [](RssConfig p) {
		     p.hash_types = 0;
		     p.unclassified_queue = 2;
		     return p;
	     }},
	    {set_args(h.tap, c), [&](const RssConfig &) { return c; }},
	    {set_args(h.tap, d), [&](const RssConfig &) { return d; }},
	};

	Traffic t(h.q, sender, flows);
	std::vector<Window> windows;
	t.start();
	t.wait_sent(3000);
	RssConfig live = objs.read_config();
	for (size_t i = 0; i < steps.size(); i++) {
		auto res = h.vsteer(steps[i].args);
		uint32_t from = t.sent() + 1; // frame sent() may be in sendto() since before the change
		REQUIRE_MESSAGE(res.rc == 0, res.all());
		RssConfig got = objs.read_config();
		RssConfig want = steps[i].expect(live);
		if (steps[i].key_changes_randomly) {
			CHECK(got.key != live.key);
			want.key = got.key;
		}
		CHECK_MESSAGE(got == want, "step " << i + 1 << ": " << steps[i].args);
		live = got;
		t.wait_sent(4000);
		windows.push_back({from, t.sent(), got, "after set #" + std::to_string(i + 1)});
	}
	// Back-to-back changes with little traffic in between.
	for (int i = 0; i < 8; i++) {
		h.vsteer_ok("set --tap " + h.tap + " --key random --equal " + std::to_string(i % 2 ? 4 : 3));
		t.wait_sent(200);
	}
	uint32_t from = t.sent() + 1;
	RssConfig last = objs.read_config();
	t.wait_sent(3000);
	windows.push_back({from, t.sent(), last, "after the rapid sets"});
	t.stop();
	check_accounting(t, h.tap, drops_before, tx_before);
	check_windows(t, flows, windows);
}

TEST_CASE("netns: attach on an attached tap reuses the pins and keeps the configuration")
{
	if (!require_privileges("real tun path"))
		return;
	HeldTap h(unique_name("vsteer-tt-", "-again"), unique_name("vt", "r"));
	PacketSender sender(h.tap);

	h.vsteer_ok("attach --tap " + h.tap);
	Rng rng(44);
	RssConfig c = random_config(rng, VSTEER_HASH_ALL, 32, 4);
	h.vsteer_ok(set_args(h.tap, c));

	uint32_t id;
	{
		SteeringObjects objs = h.objects();
		REQUIRE(objs.read_config() == c);
		id = objs.prog_id();
	}

	auto r = h.vsteer_ok("attach --tap " + h.tap);
	CHECK_MESSAGE(r.out.find("reused") != std::string::npos, r.out);
	SteeringObjects objs = h.objects();
	CHECK(objs.read_config() == c);
	CHECK(objs.prog_id() == id);
	CHECK(objs.queues() == 4);
	CHECK(query_tap(h.tap)->queues == 4);

	std::vector<std::string> kinds;
	auto frames = make_flows(404, 1500, &kinds);
	check_placement(frames, send_and_collect(h.q, sender, frames), c, kinds, 4);

	// A re-attach that cannot validate the kept configuration (--queues 2, but the table
	// names queues 2 and 3) is refused and leaves everything as it was.
	REQUIRE(std::any_of(c.table.begin(), c.table.end(), [](uint16_t e) { return e >= 2; }));
	r = h.vsteer("attach --tap " + h.tap + " --queues 2");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(r.err.find("vsteer set --tap " + h.tap) != std::string::npos, r.err);
	CHECK(pin_dir_exists(h.tap));
	CHECK(objs.read_config() == c);
	CHECK(objs.queues() == 4);
	check_placement(frames, send_and_collect(h.q, sender, frames), c, kinds, 4);
}

// issue 13 item 13: tun delivers a packet to (returned queue) % (attached queues); the
// per-queue counts must say where packets went, not which queue the table named.
TEST_CASE("netns: per-queue counts are the queues the kernel delivered to")
{
	if (!require_privileges("real tun path"))
		return;
	HeldTap h(unique_name("vsteer-tt-", "-byq"), unique_name("vt", "q"), 3);
	PacketSender sender(h.tap);
	h.vsteer_ok("attach --tap " + h.tap);
	SteeringObjects objs = h.objects();
	// A table for 8 queues on a tap with 3 (QEMU's view of the queues may be larger
	// than what is attached): queues 3..7 land on 0..2.
	RssConfig c = objs.read_config();
	c.table = equal_table(8);
	objs.write_config(c);

	// The kernel sends a few frames of its own (IPv6 neighbour discovery): every frame
	// counts, so the queues are drained before the first and around the last reading.
	auto frames = make_flows(303, 2000);
	std::array<uint64_t, 3> delivered{};
	auto drain = [&] {
		for (unsigned qi = 0; qi < h.q.size(); qi++)
			delivered[qi] += h.q.drain(qi).size();
	};
	std::this_thread::sleep_for(std::chrono::milliseconds(30));
	drain();
	delivered = {};
	const StatsTotals before = objs.read_stats(3);
	send_paced(sender, frames, drain);
	const std::array<uint64_t, 3> delivered_before_reading = delivered;
	const StatsTotals after = objs.read_stats(query_tap(h.tap)->queues);
	std::this_thread::sleep_for(std::chrono::milliseconds(30));
	drain();
	CHECK(after.packets - before.packets >= frames.size());
	for (unsigned qi = 0; qi < VSTEER_MAX_QUEUES; qi++) {
		INFO("queue " << qi);
		const uint64_t counted = after.by_queue[qi] - before.by_queue[qi];
		if (qi >= 3) {
			CHECK(counted == 0);
			continue;
		}
		CHECK(counted >= delivered_before_reading[qi]);
		CHECK(counted <= delivered[qi]);
	}
}

// Reading state must not take packets: `vsteer show`, `list` and `qemu-check` read the hash
// report state from RTM_GETLINK. Attaching a queue to ask TUNGETHASHREPORT (what they did
// before) adds a queue that the kernel's automatic queue selection uses at once on a tap
// without a steering program, and the frames it got are lost when the file closes.
TEST_CASE("netns: vsteer show and list on a tap without a steering program attach no queue and lose no frame")
{
	if (!require_privileges("real tun path"))
		return;
	HeldTap h(unique_name("vsteer-tt-", "-show"), unique_name("vt", "s"));
	PacketSender sender(h.tap);
	auto r = h.vsteer_ok("attach --tap " + h.tap);
	// The pins stay, the program goes (as after a VMM re-created the tap): frames are placed
	// by the kernel's flow hash over every attached queue.
	int none = -1;
	REQUIRE(ioctl(h.q.fd(0), TUNSETSTEERINGEBPF, &none) == 0);

	auto flows = make_flows(303, 512);
	const uint64_t drops_before = tx_dropped(h.tap), tx_before = tx_packets(h.tap);
	Traffic t(h.q, sender, flows);
	t.start();
	t.wait_sent(2000);
	std::string failed;
	for (int i = 0; i < 100; i++) {
		r = h.vsteer(i % 2 ? "show --tap " + h.tap + " --json" : "show --tap " + h.tap);
		if (r.rc != 0 && failed.empty())
			failed = r.all();
		if (i % 10 == 0) {
			r = h.vsteer("list");
			if (r.rc != 0 && failed.empty())
				failed = r.all();
		}
	}
	t.wait_sent(2000);
	t.stop();
	CHECK_MESSAGE(failed.empty(), failed);
	CHECK(r.all().find(h.tap) != std::string::npos);
	check_accounting(t, h.tap, drops_before, tx_before);
	// every frame the tap delivered went to the test's four queues
	CHECK(tx_packets(h.tap) - tx_before == t.read_total());
	CHECK(query_tap(h.tap)->queues == 4);
}
