// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The pinned state under concurrency and hostile paths (issue 13, items 1-7 and 11): the
// pin root's lock (concurrent attach and set), the pin directory's trust rules (symbolic
// links, foreign owners), detach that checks before it acts, the queue count of `set`,
// stale staging directories, the version stamp and its upgrade, and the messages.
// Each case runs in its own network namespace; custom pin roots are unique per process.
#include "privileges.hpp"
#include "tap_control.hpp"
#include "tun_path_util.hpp"

#include <bpf/bpf.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <future>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

bool contains(const std::string &s, const std::string &what)
{
	return s.find(what) != std::string::npos;
}

// A pin root of its own under /sys/fs/bpf (root-owned, 0700), removed with everything in it.
struct PinRoot {
	std::string path;
	explicit PinRoot(const std::string &tag)
	    : path("/sys/fs/bpf/vsteer-hs-" + std::to_string(getpid()) + tag)
	{
		ensure_bpffs();
		remove();
		REQUIRE(::mkdir(path.c_str(), 0700) == 0);
	}
	~PinRoot() { remove(); }
	std::string operator/(const std::string &name) const { return path + "/" + name; }
	void remove() const
	{
		std::error_code ec;
		std::filesystem::remove_all(path, ec);
	}
};

// Runs `n` copies of `args` at once; their results in order.
std::vector<CliResult> concurrently(const NetnsGuard &ns, const std::vector<std::string> &args)
{
	std::vector<std::future<CliResult>> runs;
	for (const auto &a : args)
		runs.push_back(std::async(std::launch::async, [&ns, a] { return vsteer_cli(ns, a); }));
	std::vector<CliResult> out;
	for (auto &r : runs)
		out.push_back(r.get());
	return out;
}

// Every frame on queue `q` of `held`: the program the tap runs uses the pinned maps (the
// caller set a table that names only q).
void check_all_on_queue(const TapQueues &held, const std::string &tap, unsigned q, uint64_t seed)
{
	PacketSender sender(tap);
	auto frames = make_flows(seed, 64);
	auto where = send_and_collect(held, sender, frames);
	CHECK_MESSAGE(std::count(where.begin(), where.end(), static_cast<int>(q)) ==
	                  static_cast<long>(frames.size()),
	              "frames not all on queue " << q);
}

bool prog_freed(uint32_t id)
{
	for (int i = 0; i < 300; i++) {
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0 && errno == ENOENT)
			return true;
		if (fd >= 0)
			close(fd);
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	return false;
}

uint32_t map_id(int fd)
{
	bpf_map_info info{};
	__u32 len = sizeof(info);
	return bpf_map_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

vsteer_meta read_meta(const std::string &dir)
{
	UniqueFd fd = open_pin(dir + "/" VSTEER_PIN_META);
	vsteer_meta m{};
	uint32_t zero = 0;
	REQUIRE(bpf_map_lookup_elem(fd.get(), &zero, &m) == 0);
	return m;
}

void write_meta(const std::string &dir, const vsteer_meta &m)
{
	UniqueFd fd = open_pin(dir + "/" VSTEER_PIN_META);
	uint32_t zero = 0;
	REQUIRE(bpf_map_update_elem(fd.get(), &zero, &m, BPF_ANY) == 0);
}

// Replaces the pin `name` in `dir` with a fresh array map of the given value size.
void replace_with_array(const std::string &dir, const char *name, uint32_t value_size, uint32_t entries,
                        uint32_t flags = 0)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	UniqueFd fd(bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, value_size, entries, &opts));
	REQUIRE(fd);
	const std::string path = dir + "/" + name;
	REQUIRE(unlink(path.c_str()) == 0);
	REQUIRE(bpf_obj_pin(fd.get(), path.c_str()) == 0);
}

} // namespace

// ---------------------------------------------------------------- item 1
TEST_CASE("netns: 20 concurrent attach --create pairs each leave one working tap with matching pins")
{
	if (!require_privileges("concurrent attach"))
		return;
	NetnsGuard ns(unique_name("vsteer-hs-", "-ca"));
	for (int i = 0; i < 20; i++) {
		CAPTURE(i);
		const std::string tap = unique_name("vt", "c" + std::to_string(i));
		PinCleanup pins{tap};
		const std::string attach = "attach --tap " + tap + " --create --queues 4";
		auto r = concurrently(ns, {attach, attach});
		// Both succeed: one creates and attaches, the other waits for the lock and finds the
		// tap attached. No "only N queues" from a tap half-created by the other.
		for (const auto &x : r) {
			CHECK_MESSAGE(x.rc == 0, x.all());
			CHECK_MESSAGE(!contains(x.err, "queues are attached"), x.err);
		}
		CHECK(std::count_if(r.begin(), r.end(),
		                    [](const CliResult &x) { return contains(x.out, "reused"); }) == 1);
		auto info = query_tap(tap);
		REQUIRE_MESSAGE(info, "the tap is gone");
		REQUIRE(SteeringObjects::is_pinned(default_pin_dir(tap)));
		// The pins are those of the program the tap runs: a table that names only queue 3 in
		// them puts every frame on queue 3.
		auto s = vsteer_ok(ns, "set --tap " + tap + " --queues 4 --indirection 3 --unclassified 3");
		check_all_on_queue(TapQueues(tap, 4), tap, 3, 100 + static_cast<uint64_t>(i));
		auto d = vsteer_cli(ns, "detach --tap " + tap);
		CHECK_MESSAGE(d.rc == 0, d.all());
		delete_tap(tap);
	}
}

// ---------------------------------------------------------------- item 2
TEST_CASE("netns: 100 concurrent set pairs always end in one whole policy")
{
	if (!require_privileges("concurrent set"))
		return;
	HeldTap h(unique_name("vsteer-hs-", "-cs"), unique_name("vt", "s"));
	h.vsteer_ok("attach --tap " + h.tap);

	// Two policies that differ in every field and every table entry.
	auto table = [](unsigned first, unsigned second) {
		std::string s;
		for (unsigned i = 0; i < 128; i++)
			s += (i ? "," : "") + std::to_string(i % 2 ? second : first);
		return s;
	};
	const std::string a = "set --tap " + h.tap + " --key " + std::string(80, 'a') +
	                      " --hash-types ipv4,tcpv4 --indirection " + table(0, 1) + " --unclassified 2";
	const std::string b = "set --tap " + h.tap + " --key " + std::string(80, 'b') +
	                      " --hash-types udpv6,ipv6 --indirection " + table(2, 3) + " --unclassified 1";
	REQUIRE(h.vsteer(a).rc == 0);
	SteeringObjects objs = h.objects();
	const RssConfig pa = objs.read_config();
	REQUIRE(h.vsteer(b).rc == 0);
	const RssConfig pb = objs.read_config();
	REQUIRE(!(pa == pb));

	unsigned mixed = 0, ended_a = 0;
	for (int i = 0; i < 100; i++) {
		auto res = concurrently(h.ns, {a, b});
		for (const auto &x : res)
			CHECK_MESSAGE(x.rc == 0, x.all());
		const RssConfig c = objs.read_config();
		mixed += !(c == pa) && !(c == pb);
		ended_a += c == pa;
	}
	CHECK_MESSAGE(mixed == 0, mixed << " of 100 concurrent set pairs ended in a mix of the two policies");
	MESSAGE("100 pairs: " << ended_a << " ended in policy A, " << 100 - ended_a - mixed << " in B");
}

// ---------------------------------------------------------------- item 3
TEST_CASE("netns: pin paths through symbolic links or directories others control are refused")
{
	if (!require_privileges("pin directory trust"))
		return;
	NetnsGuard ns(unique_name("vsteer-hs-", "-tr"));
	PinRoot root("-tr");
	const std::string ta = unique_name("vt", "ta"), tb = unique_name("vt", "tb");
	TapQueues qa(ta, 4), qb(tb, 4);
	auto r = vsteer_ok(ns, "attach --tap " + ta + " --pin-dir " + (root / "a"));
	r = vsteer_ok(ns,
	              "set --tap " + ta + " --pin-dir " + (root / "a") + " --indirection 1 --unclassified 1");
	SteeringObjects a = SteeringObjects::open_pinned(root / "a");
	const RssConfig before = a.read_config();

	// The swap: tap B's pin directory replaced by a symbolic link to tap A's.
	REQUIRE(symlink((root / "a").c_str(), (root / "b").c_str()) == 0);
	for (const std::string &cmd : {"set --tap " + tb + " --pin-dir " + (root / "b") + " --equal 4",
	                               "detach --tap " + tb + " --pin-dir " + (root / "b"),
	                               "show --tap " + tb + " --pin-dir " + (root / "b"),
	                               "attach --tap " + tb + " --pin-dir " + (root / "b")}) {
		CAPTURE(cmd);
		r = vsteer_cli(ns, cmd);
		CHECK(r.rc != 0);
		CHECK_MESSAGE(contains(r.err, root / "b"), r.err);
		CHECK_MESSAGE(contains(r.err, "symbolic link"), r.err);
	}
	// A symbolic link above the pin directory too.
	REQUIRE(symlink(root.path.c_str(), (root / "up").c_str()) == 0);
	r = vsteer_cli(ns, "set --tap " + ta + " --pin-dir " + (root / "up/a") + " --equal 4");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "symbolic link"), r.err);
	CHECK(a.read_config() == before);
	CHECK(SteeringObjects::is_pinned(root / "a"));
	check_all_on_queue(qa, ta, 1, 31);

	// A directory on the path owned by another user, and one writable by others without
	// the sticky bit: refused before anything is created or read.
	REQUIRE(::mkdir((root / "user").c_str(), 0755) == 0);
	REQUIRE(chown((root / "user").c_str(), 65534, 65534) == 0);
	r = vsteer_cli(ns, "attach --tap " + tb + " --pin-dir " + (root / "user/b"));
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "owned by uid 65534"), r.err);
	CHECK(access((root / "user/b").c_str(), F_OK) != 0);
	REQUIRE(::mkdir((root / "open").c_str(), 0777) == 0);
	REQUIRE(chmod((root / "open").c_str(), 0777) == 0);
	r = vsteer_cli(ns, "attach --tap " + tb + " --pin-dir " + (root / "open/b"));
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "writable by group or others without the sticky bit"), r.err);
	CHECK(access((root / "open/b").c_str(), F_OK) != 0);
	// With the sticky bit (as /tmp, or a world-writable /sys/fs/bpf) others cannot rename
	// our entries: accepted.
	REQUIRE(chmod((root / "open").c_str(), 01777) == 0);
	r = vsteer_cli(ns, "attach --tap " + tb + " --pin-dir " + (root / "open/b"));
	CHECK_MESSAGE(r.rc == 0, r.all());
	r = vsteer_cli(ns, "detach --tap " + tb + " --pin-dir " + (root / "open/b"));
	CHECK_MESSAGE(r.rc == 0, r.all());
	r = vsteer_cli(ns, "detach --tap " + ta + " --pin-dir " + (root / "a"));
	CHECK_MESSAGE(r.rc == 0, r.all());
}

// ---------------------------------------------------------------- item 4
TEST_CASE("netns: detach with a wrong --pin-dir changes nothing and deletes no unrelated directory")
{
	if (!require_privileges("detach --pin-dir"))
		return;
	NetnsGuard ns(unique_name("vsteer-hs-", "-dt"));
	PinRoot root("-dt");
	const std::string tap = unique_name("vt", "dt");
	TapQueues q(tap, 4);
	PinCleanup pins{tap};
	auto r = vsteer_ok(ns, "attach --tap " + tap);
	r = vsteer_ok(ns, "set --tap " + tap + " --indirection 2 --unclassified 2");

	REQUIRE(::mkdir((root / "empty").c_str(), 0700) == 0);
	for (const std::string &dir : {root / "typo", root / "empty"}) {
		CAPTURE(dir);
		r = vsteer_cli(ns, "detach --tap " + tap + " --pin-dir " + dir);
		CHECK(r.rc != 0);
		CHECK_MESSAGE(contains(r.err, dir), r.err);
		CHECK_MESSAGE(contains(r.err, "nothing was detached"), r.err);
	}
	CHECK(access((root / "empty").c_str(), F_OK) == 0);
	CHECK(SteeringObjects::is_pinned(default_pin_dir(tap)));
	check_all_on_queue(q, tap, 2, 41); // the program is still attached
}

// ---------------------------------------------------------------- item 5
TEST_CASE("netns: set --queues above the queues attach recorded is refused while no queue is attached")
{
	if (!require_privileges("set --queues without queues"))
		return;
	NetnsGuard ns(unique_name("vsteer-hs-", "-sq"));
	const std::string tap = unique_name("vt", "sq");
	PinCleanup pins{tap};
	auto r = vsteer_ok(ns, "attach --tap " + tap + " --create --queues 4");
	REQUIRE(query_tap(tap)->queues == 0);
	SteeringObjects objs = SteeringObjects::open_pinned(default_pin_dir(tap));
	const RssConfig before = objs.read_config();

	r = vsteer_cli(ns, "set --tap " + tap + " --queues 8 --equal 8");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "tap " + tap + ": --queues 8 but no queues are attached"), r.err);
	CHECK_MESSAGE(contains(r.err, "--force"), r.err);
	CHECK(objs.read_config() == before);
	// attach accepts what is stored.
	r = vsteer_cli(ns, "attach --tap " + tap);
	CHECK_MESSAGE(r.rc == 0, r.all());

	// --force records the count, so the next attach validates against it.
	r = vsteer_cli(ns, "set --tap " + tap + " --queues 8 --force --equal 8");
	CHECK_MESSAGE(r.rc == 0, r.all());
	CHECK(objs.queues() == 8);
	r = vsteer_cli(ns, "attach --tap " + tap);
	CHECK_MESSAGE(r.rc == 0, r.all());
	r = vsteer_cli(ns, "detach --tap " + tap);
	CHECK_MESSAGE(r.rc == 0, r.all());
	delete_tap(tap);
}

// ---------------------------------------------------------------- item 6
TEST_CASE("netns: staging directories of dead processes are removed under the lock")
{
	if (!require_privileges("stale staging"))
		return;
	NetnsGuard ns(unique_name("vsteer-hs-", "-st"));
	PinRoot root("-st");
	const std::string tap = unique_name("vt", "st");
	TapQueues q(tap, 4);

	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	REQUIRE(dead > 0);
	REQUIRE(waitpid(dead, nullptr, 0) == dead);
	const std::string stale = root / ("_staging_" + std::to_string(dead) + "_" + tap);
	const std::string live = root / ("_staging_" + std::to_string(getpid()) + "_x");
	for (const auto &dir : {stale, live}) {
		REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
		UniqueFd m(bpf_map_create(BPF_MAP_TYPE_ARRAY, "x", 4, 4, 1, nullptr));
		REQUIRE(bpf_obj_pin(m.get(), (dir + "/config").c_str()) == 0);
	}
	auto r = vsteer_ok(ns, "attach --tap " + tap + " --pin-dir " + (root / "t"));
	CHECK_MESSAGE(access(stale.c_str(), F_OK) != 0, stale << " is still there");
	CHECK(access(live.c_str(), F_OK) == 0); // a live process's staging is its own
	r = vsteer_cli(ns, "detach --tap " + tap + " --pin-dir " + (root / "t"));
	CHECK_MESSAGE(r.rc == 0, r.all());
}

// ---------------------------------------------------------------- item 7
TEST_CASE("netns: pins of another vsteer build get this build's program and keep the policy")
{
	if (!require_privileges("pin version stamp"))
		return;
	HeldTap h(unique_name("vsteer-hs-", "-up"), unique_name("vt", "up"));
	const std::string dir = default_pin_dir(h.tap);
	auto r = h.vsteer_ok("attach --tap " + h.tap);
	vsteer_meta m = read_meta(dir);
	CHECK(m.abi == VSTEER_PIN_ABI);
	CHECK(m.prog_kind == VSTEER_PROG_VSTEER);
	CHECK(m.prog_version == steering_program_version());
	CHECK(m.queues == 4);
	r = h.vsteer_ok("set --tap " + h.tap + " --key random --indirection 3 --unclassified 3");

	struct Ids {
		uint32_t prog, config, key, table;
	};
	auto ids = [&] {
		SteeringObjects o = SteeringObjects::open_pinned(dir);
		return Ids{o.prog_id(), map_id(o.config_fd()), map_id(o.key_fd()), map_id(o.table_fd())};
	};
	const RssConfig policy = SteeringObjects::open_pinned(dir).read_config();

	SUBCASE("an older build's stamp")
	{
		m.prog_version ^= 1;
		write_meta(dir, m);
	}
	SUBCASE("pins from before the stamp (8-byte meta)")
	{
		replace_with_array(dir, VSTEER_PIN_META, VSTEER_META_V0_SIZE, 1);
		UniqueFd fd = open_pin(dir + "/" VSTEER_PIN_META);
		uint32_t zero = 0, v0[2] = {4, 0};
		REQUIRE(bpf_map_update_elem(fd.get(), &zero, v0, BPF_ANY) == 0);
	}
	const Ids old = ids();
	r = h.vsteer("show --tap " + h.tap);
	CHECK_MESSAGE(contains(r.out, "another vsteer build"), r.out);
	r = h.vsteer_ok("attach --tap " + h.tap);
	CHECK_MESSAGE(contains(r.out, "program replaced"), r.out);
	const Ids now = ids();
	CHECK(now.prog != old.prog);
	CHECK(now.config == old.config); // the guest's policy maps are the same maps
	CHECK(now.key == old.key);
	CHECK(now.table == old.table);
	CHECK(SteeringObjects::open_pinned(dir).read_config() == policy);
	m = read_meta(dir);
	CHECK(m.abi == VSTEER_PIN_ABI);
	CHECK(m.prog_version == steering_program_version());
	CHECK(m.queues == 4);
	// The tap runs the new program (the old one is freed: neither tap nor pins hold it) with
	// the kept policy.
	CHECK_MESSAGE(prog_freed(old.prog), "program " << old.prog << " is still referenced");
	check_all_on_queue(h.q, h.tap, 3, 71);
	// A second attach finds the stamp current.
	r = h.vsteer("attach --tap " + h.tap);
	CHECK_MESSAGE(r.rc == 0, r.all());
	CHECK_MESSAGE(!contains(r.out, "program replaced"), r.out);
}

TEST_CASE("netns: pins of an incompatible layout or a newer ABI are refused with what to do")
{
	if (!require_privileges("pin layout"))
		return;
	HeldTap h(unique_name("vsteer-hs-", "-ly"), unique_name("vt", "ly"));
	const std::string dir = default_pin_dir(h.tap);
	auto r = h.vsteer_ok("attach --tap " + h.tap);
	std::string expect;
	SUBCASE("a config map of another value size")
	{
		replace_with_array(dir, VSTEER_PIN_CONFIG, 12, 1, BPF_F_MMAPABLE);
		expect = "map config has another layout";
	}
	SUBCASE("stats of another size")
	{
		replace_with_array(dir, VSTEER_PIN_STATS, 8, 1);
		expect = "map stats has another layout";
	}
	SUBCASE("a newer ABI")
	{
		vsteer_meta m = read_meta(dir);
		m.abi = VSTEER_PIN_ABI + 1;
		write_meta(dir, m);
		expect = "newer vsteer";
	}
	UniqueFd prog = open_pin(dir + "/" VSTEER_PIN_PROG);
	for (const std::string &cmd :
	     {"attach --tap " + h.tap, "set --tap " + h.tap + " --equal 2", "show --tap " + h.tap}) {
		CAPTURE(cmd);
		r = h.vsteer(cmd);
		CHECK(r.rc != 0);
		CHECK_MESSAGE(contains(r.err, "pins in " + dir), r.err);
		CHECK_MESSAGE(contains(r.err, expect), r.err);
		CHECK_MESSAGE(contains(r.err, "vsteer detach --tap " + h.tap), r.err);
	}
	UniqueFd still = open_pin(dir + "/" VSTEER_PIN_PROG);
	bpf_prog_info a{}, b{};
	__u32 la = sizeof(a), lb = sizeof(b);
	REQUIRE(bpf_prog_get_info_by_fd(prog.get(), &a, &la) == 0);
	REQUIRE(bpf_prog_get_info_by_fd(still.get(), &b, &lb) == 0);
	CHECK(a.id == b.id); // nothing replaced
}

// ---------------------------------------------------------------- item 11
TEST_CASE("netns: pin directory and tap name messages")
{
	if (!require_privileges("pin messages"))
		return;
	NetnsGuard ns(unique_name("vsteer-hs-", "-ms"));
	PinRoot root("-ms");
	const std::string tap = unique_name("vt", "ms");
	TapQueues q(tap, 4);

	// A trailing slash is the same directory.
	auto r = vsteer_ok(ns, "attach --tap " + tap + " --pin-dir " + (root / "t/"));
	CHECK_MESSAGE(contains(r.out, "pins in " + (root / "t") + "\n"), r.out);
	CHECK(SteeringObjects::is_pinned(root / "t"));
	r = vsteer_cli(ns, "show --tap " + tap + " --pin-dir " + (root / "t//"));
	CHECK_MESSAGE(r.rc == 0, r.all());
	std::vector<std::string> left = PinDir::open(root.path).entries();
	CHECK_MESSAGE(left == std::vector<std::string>{"t"}, left.size());

	// Hints name the --pin-dir in use.
	r = vsteer_cli(ns, "set --tap " + tap + " --pin-dir " + (root / "none") + " --equal 2");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "vsteer attach --tap " + tap + " --pin-dir " + (root / "none")), r.err);

	struct Case {
		std::string args, message;
	};
	const std::vector<Case> cases = {
	    {"attach --tap a/b --create --queues 2", "tap 'a/b': invalid interface name"},
	    {"show --tap 'a b'", "invalid interface name"},
	    {"attach --tap " + tap + " --pin-dir relative/dir", "is a relative path"},
	    {"attach --tap " + tap + " --pin-dir /tmp/vsteer-hs-" + std::to_string(getpid()),
	     "is not on a bpf filesystem"},
	    {"attach --tap " + tap + " --pin-dir " + (root / "x/../t"), "has a '..' component"},
	};
	for (const auto &c : cases) {
		CAPTURE(c.args);
		r = vsteer_cli(ns, c.args);
		CHECK(r.rc != 0);
		CHECK_MESSAGE(contains(r.err, c.message), r.err);
	}
	CHECK(access(("/tmp/vsteer-hs-" + std::to_string(getpid())).c_str(), F_OK) != 0);
	CHECK(access((std::string(kPinRoot) + "/a").c_str(), F_OK) != 0);

	// A user without the privilege is told so, not to attach first.
	r = vsteer_cli(ns, "show --tap " + tap + " --pin-dir " + (root / "t"),
	               "setpriv --reuid=65534 --regid=65534 --clear-groups");
	CHECK(r.rc != 0);
	CHECK_MESSAGE(contains(r.err, "Permission denied"), r.err);
	CHECK_MESSAGE(contains(r.err, "needs root"), r.err);
	CHECK_MESSAGE(!contains(r.err, "attach"), r.err);

	r = vsteer_cli(ns, "detach --tap " + tap + " --pin-dir " + (root / "t"));
	CHECK_MESSAGE(r.rc == 0, r.all());
}

TEST_CASE("netns: --json output stays valid JSON for tap names that are not UTF-8")
{
	if (!require_privileges("non-UTF-8 tap names"))
		return;
	NetnsGuard ns(unique_name("vsteer-hs-", "-u8"));
	const std::string tap =
	    "vt\xff" + std::to_string(getpid()); // the kernel takes any byte but / : space
	PinCleanup pins{tap};
	auto r = vsteer_ok(ns, "attach --tap '" + tap + "' --create --queues 2");
	for (const std::string &cmd : {"show --json --tap '" + tap + "'", std::string("list --json")}) {
		CAPTURE(cmd);
		r = vsteer_ok(ns, cmd);
		nlohmann::json j;
		CHECK_NOTHROW(j = nlohmann::json::parse(r.out));
		// the bad byte comes out as U+FFFD (written as UTF-8, which JSON allows)
		CHECK_MESSAGE(contains(r.out, "vt\xef\xbf\xbd" + std::to_string(getpid())), r.out);
	}
	r = vsteer_cli(ns, "detach --tap '" + tap + "'");
	CHECK_MESSAGE(r.rc == 0, r.all());
	delete_tap(tap);
}
