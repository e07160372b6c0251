// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer attach / set / detach failure behaviour on a real tap, each case in its own
// network namespace: non-zero exit, a message that names the tap (or path) and the
// problem, and nothing changed or left behind; detach removes the pins and the program.
#include "privileges.hpp"
#include "tap_control.hpp"
#include "tun_path_util.hpp"

#include <bpf/bpf.h>

#include <algorithm>
#include <filesystem>
#include <set>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

bool contains(const std::string &s, const std::string &what)
{
	return s.find(what) != std::string::npos;
}

// Leftovers of a failed attach in the staging area (pin() stages in <pin root>/_staging_PID_TAP).
bool staging_leftover(const std::string &tap)
{
	std::error_code ec;
	for (const auto &e : std::filesystem::directory_iterator(kPinRoot, ec)) {
		std::string n = e.path().filename().string();
		if (n.rfind("_staging_", 0) == 0 && n.size() > tap.size() &&
		    n.compare(n.size() - tap.size() - 1, std::string::npos, "_" + tap) == 0)
			return true;
	}
	return false;
}

} // namespace

TEST_CASE("netns: vsteer attach failures leave no pins (missing tap, not a tap, too many queues)")
{
	if (!require_privileges("vsteer attach errors"))
		return;
	NetnsGuard ns(unique_name("vsteer-te-", "-attach"));
	const std::string missing = unique_name("vt", "m");
	PinCleanup pins{missing};

	REQUIRE(!pin_dir_exists(missing));
	auto r = vsteer_cli(ns, "attach --tap " + missing);
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "tap " + missing), r.err);
	CHECK_MESSAGE(contains(r.err, "no such device"), r.err);
	CHECK_MESSAGE(contains(r.err, "--create"), r.err); // what to do
	CHECK(!pin_dir_exists(missing));
	CHECK(!staging_leftover(missing));
	CHECK(!query_tap(missing)); // and no tap was created behind our back

	// --queues alone does not create anything either.
	r = vsteer_cli(ns, "attach --tap " + missing + " --queues 4");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, missing), r.err);
	CHECK(!pin_dir_exists(missing));
	CHECK(!query_tap(missing));

	// A device that is not a tap: loopback.
	const bool lo_pinned_before = pin_dir_exists("lo");
	r = vsteer_cli(ns, "attach --tap lo");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "lo"), r.err);
	CHECK_MESSAGE(contains(r.err, "not a tun/tap"), r.err);
	CHECK(pin_dir_exists("lo") == lo_pinned_before);

	// More queues than the holder attached: refused before anything is pinned or attached.
	const std::string tap = unique_name("vt", "q");
	TapQueues q(tap, 4);
	PinCleanup tap_pins{tap};
	r = vsteer_cli(ns, "attach --tap " + tap + " --queues 8");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "tap " + tap), r.err);
	CHECK_MESSAGE(contains(r.err, "--queues 8"), r.err);
	CHECK(!pin_dir_exists(tap));
	CHECK(!staging_leftover(tap));
	CHECK(query_tap(tap)->queues == 4);

	// set / show / detach without an attach name the missing pin or the tap.
	r = vsteer_cli(ns, "set --tap " + tap + " --equal 4");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, default_pin_dir(tap)), r.err);
	CHECK_MESSAGE(contains(r.err, "vsteer attach"), r.err);
	r = vsteer_cli(ns, "detach --tap " + missing);
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "tap " + missing), r.err);
}

TEST_CASE("netns: vsteer set refuses invalid values, names the problem and changes nothing")
{
	if (!require_privileges("vsteer set errors"))
		return;
	HeldTap h(unique_name("vsteer-te-", "-set"), unique_name("vt", "e"));

	auto r = h.vsteer_ok("attach --tap " + h.tap);
	r = h.vsteer_ok("set --tap " + h.tap +
	                " --hash-types ipv4,tcpv4,udpv6 --indirection 1,3,0,2 --unclassified 3");
	SteeringObjects objs = h.objects();
	const RssConfig before = objs.read_config();
	REQUIRE(before.table == std::vector<uint16_t>{1, 3, 0, 2});
	const std::string good_key(80, 'a');

	struct Case {
		std::string what;
		std::string args;
		std::vector<std::string> message; // all of these in the error
	};
	const std::vector<Case> cases = {
	    {"short key", "--key 0123abcd", {"key has 4 bytes", "40 bytes"}},
	    {"long key", "--key " + good_key + "00", {"key has 41 bytes"}},
	    {"non-hex key", "--key " + good_key.substr(2) + "zz", {"'z' is not a hex digit"}},
	    {"odd key", "--key " + good_key.substr(1), {"odd number of hex digits"}},
	    {"table of 3", "--indirection 0,1,2", {"3 entries", "power of two"}},
	    {"table of 6", "--indirection 0,1,2,3,0,1", {"6 entries", "power of two"}},
	    {"table of 256",
	     "--indirection " +
	         [] {
			 std::string s = "0";
			 for (int i = 1; i < 256; i++)
				 s += ",0";
			 return s;
		 }(),
	     {"256 entries", "1 to 128"}},
	    {"queue beyond the tap", "--indirection 0,1,2,4", {"entry 3 is queue 4", "only 4 queues"}},
	    {"equal over too many queues", "--equal 8", {"is queue 4", "only 4 queues"}},
	    {"unclassified beyond the tap", "--unclassified 4", {"unclassified queue 4", "4 queues"}},
	    {"equal over no queue", "--equal 0", {"--equal needs 1..256"}},
	    {"not a queue number", "--indirection 0,x", {"'x' is not a queue number"}},
	    {"unknown hash type", "--hash-types ipv4,tcpv5", {"unknown hash type 'tcpv5'"}},
	    // A valid change next to an invalid one: neither is applied.
	    {"valid key, bad table", "--key random --indirection 0,1,2", {"3 entries"}},
	    {"valid types, bad queue", "--hash-types all --unclassified 9", {"unclassified queue 9"}},
	};
	for (const auto &c : cases) {
		CAPTURE(c.what);
		r = h.vsteer("set --tap " + h.tap + " " + c.args);
		CHECK(r.rc != 0);
		for (const auto &m : c.message)
			CHECK_MESSAGE(contains(r.err, m), "wanted '" << m << "' in: " << r.err);
		// Every failure names the tap (or the pin path) it is about.
		CHECK_MESSAGE(contains(r.err, h.tap), "the message does not name the tap: " << r.err);
		CHECK_MESSAGE(r.out.empty(), r.out);
		CHECK(objs.read_config() == before);
	}
	CHECK(objs.queues() == 4);

	// Beyond any queue a tap can have: the parser refuses it (naming the option and the
	// range) before the tap is even looked at, a usage error.
	for (const char *q : {"256", "65536", "-1"}) {
		CAPTURE(q);
		r = h.vsteer("set --tap " + h.tap + " --unclassified " + q);
		CHECK(r.rc == EINVAL);
		CHECK_MESSAGE(contains(r.err, "--unclassified"), r.err);
		CHECK(objs.read_config() == before);
	}
	r = h.vsteer("set --tap " + h.tap + " --unclassified 65536");
	CHECK_MESSAGE(contains(r.err, "Value 65536 not in range 0 to 255"), r.err);

	// --queues narrows the check (a holder about to drop queues).
	r = h.vsteer("set --tap " + h.tap + " --queues 2 --equal 4");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "tap " + h.tap), r.err);
	CHECK_MESSAGE(contains(r.err, "only 2 queues"), r.err);
	CHECK(objs.read_config() == before);

	// --queues above the attached queues is refused like attach refuses it (naming the tap,
	// its queue count and --force), even when the rest would fit the larger count ...
	r = h.vsteer("set --tap " + h.tap + " --queues 8 --unclassified 7");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "tap " + h.tap + ": --queues 8 but only 4 queues are attached"), r.err);
	CHECK_MESSAGE(contains(r.err, "--force"), r.err);
	CHECK(objs.read_config() == before);
	r = h.vsteer("set --tap " + h.tap + " --force --unclassified 3");
	CHECK(r.rc != 0); // --force needs --queues
	CHECK(objs.read_config() == before);
	// ... and written with --force: the operator's stated intent, which check then names.
	r = h.vsteer("set --tap " + h.tap + " --queues 8 --force --unclassified 7");
	CHECK_MESSAGE(r.rc == 0, r.all());
	CHECK(objs.read_config().unclassified_queue == 7);
	r = h.vsteer("check --tap " + h.tap + " --json");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.out, "\"name\":\"unclassified-queue\",\"status\":\"fail\""), r.out);
	h.vsteer_ok("set --tap " + h.tap + " --unclassified " + std::to_string(before.unclassified_queue));
	CHECK(objs.read_config() == before);

	// And the tap still steers with the kept configuration.
	PacketSender sender(h.tap);
	auto frames = make_flows(505, 400);
	auto where = send_and_collect(h.q, sender, frames);
	unsigned ok = 0;
	for (size_t i = 0; i < frames.size(); i++)
		ok += where[i] == compute_rss(before, frames[i]).queue;
	CHECK(ok == frames.size());
}

TEST_CASE("netns: vsteer detach removes the pins and the steering program")
{
	if (!require_privileges("vsteer detach"))
		return;
	HeldTap h(unique_name("vsteer-te-", "-detach"), unique_name("vt", "d"));
	PacketSender sender(h.tap);

	auto r = h.vsteer_ok("attach --tap " + h.tap);
	// Everything to queue 2, so the program's presence is visible in where frames go.
	r = h.vsteer_ok("set --tap " + h.tap + " --indirection 2 --unclassified 2");

	uint32_t prog_id = 0;
	{
		SteeringObjects objs = h.objects();
		prog_id = objs.prog_id();
		auto frames = make_flows(606, 600);
		auto where = send_and_collect(h.q, sender, frames);
		CHECK(std::count(where.begin(), where.end(), 2) == static_cast<long>(frames.size()));
		CHECK(objs.read_stats().packets >= frames.size());

		r = h.vsteer_ok("detach --tap " + h.tap);
		CHECK(!pin_dir_exists(h.tap));
		CHECK(query_tap(h.tap)->queues == 4);
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		const StatsTotals before = objs.read_stats();

		// The kernel's own flow hash spreads the flows again; the old program (kept alive
		// by our fds only) counts nothing.
		frames = make_flows(607, 600);
		where = send_and_collect(h.q, sender, frames);
		std::set<int> used;
		unsigned received = 0;
		for (int w : where) {
			used.insert(w);
			received += w >= 0;
		}
		CHECK(received == frames.size());
		CHECK_MESSAGE(used.size() >= 3,
		              "after detach the flows used only " << used.size() << " queue(s)");
		const StatsTotals after = objs.read_stats();
		CHECK(after.packets == before.packets);
		CHECK(after.by_queue == before.by_queue);
	}

	// With our references gone the program is freed: the tap no longer holds it.
	bool gone = false;
	for (int i = 0; i < 200 && !gone; i++) {
		int fd = bpf_prog_get_fd_by_id(prog_id);
		if (fd < 0 && errno == ENOENT)
			gone = true;
		else {
			if (fd >= 0)
				close(fd);
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		}
	}
	CHECK_MESSAGE(gone, "steering program " << prog_id << " still exists after detach");

	// Detach of a tap that has neither pins nor device.
	r = h.vsteer("detach --tap " + h.tap + "x");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, h.tap + "x"), r.err);
	CHECK_MESSAGE(contains(r.err, "nothing to detach"), r.err);
}
