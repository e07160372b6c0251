// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// In-guest tests of the kernel series (kernel-patches/): tun hash reporting and vhost-net
// VIRTIO_NET_F_HASH_REPORT. The same static binary runs on the patched kernel and on the
// unpatched baseline; `--variant` says which one it is on, and every case checks what
// that kernel must show (the baseline: the ioctls do not exist, vnet header bytes 10..19
// are left as the reader's buffer held them, no hash ever).
//
// Hashes are checked against the project's C++ reference (userspace/rss/rss_reference),
// queues too; the steering program is the project's (bpf/tun_steering.bpf.c), loaded
// with the loader's own SteeringObjects.
//
//   guest_tests --variant patched|baseline [--vectors FILE] [--frames N] [--suite tun|vhost]
#include "guest_common.hpp"
#include "guest_vring.hpp"

#include "frame_builder.hpp"
#include "frame_generator.hpp"
#include "ms_rss_vectors.hpp"
#include "rss_config.hpp"
#include "rss_reference.hpp"
#include "steering_objects.hpp"
#include "tap_control.hpp"
#include "tun_hash_report.hpp"
#include "rss_abi.h"

#include <fstream>
#include <linux/bpf.h>
#include <map>
#include <optional>
#include <sstream>
#include <sys/syscall.h>

using namespace vsteer;
using namespace vsteer::vm;
using vsteer::test::Bytes;
using vsteer::test::FrameBuilder;

namespace
{

Results R;
std::string g_vectors = "/vsteer/ms-rss-vectors.tsv";
unsigned g_random_frames = 200;

constexpr size_t kHashHdr = VSTEER_VNET_HASH_HDR_SIZE; // 20

// ---------------------------------------------------------------------------------------
// Frames and expectations

struct TestFrame {
	Bytes bytes;
	std::string what;
};

RssKey parse_key_hex(const std::string &hex)
{
	RssKey k{};
	for (size_t i = 0; i < k.size(); i++)
		k[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
	return k;
}

std::vector<vsteer::test::MsRssVector> load_vectors(RssKey &key)
{
	std::ifstream in(g_vectors);
	if (!in)
		throw Failure("cannot open " + g_vectors);
	vsteer::test::MsRssVectors v = vsteer::test::read_ms_rss_vectors(in);
	key = parse_key_hex(v.key_hex);
	return v.flows;
}

// Frames beyond plain flows: every report type, unclassified ones, tags, fragments,
// IPv6 extension headers with Home Address / type-2 routing, truncation.
std::vector<TestFrame> special_frames()
{
	using namespace vsteer::test;
	std::vector<TestFrame> f;
	auto add = [&](Bytes b, std::string what) { f.push_back({std::move(b), std::move(what)}); };
	add(FrameBuilder().arp(ipv4_addr("10.0.0.1"), ipv4_addr("10.0.0.2")), "arp");
	add(FrameBuilder().ethertype(0x88b5, Bytes(40, 0x5a)), "ethertype-0x88b5");
	add(FrameBuilder().ipv4("10.1.2.3", "10.4.5.6").tcp(1234, 80), "tcp4");
	add(FrameBuilder().ipv4("10.1.2.3", "10.4.5.6").udp(1234, 53), "udp4");
	add(FrameBuilder().ipv4("10.1.2.3", "10.4.5.6").l4(ipproto::kIcmp, Bytes(8, 0)), "icmp4");
	add(FrameBuilder().ipv4("10.1.2.3", "10.4.5.6").tcp(1, 2).ipv4_fragment(0, true),
	    "tcp4-first-fragment");
	add(FrameBuilder().ipv4("10.1.2.3", "10.4.5.6").udp(1, 2).ipv4_fragment(10, false),
	    "udp4-last-fragment");
	add(FrameBuilder().vlan(100).ipv4("10.1.2.3", "10.4.5.6").tcp(4321, 443), "vlan-tcp4");
	add(FrameBuilder().qinq(10, 20).ipv6("2001:db8::1", "2001:db8::2").udp(5, 6), "qinq-udp6");
	add(FrameBuilder().ipv6("2001:db8::1", "2001:db8::2").tcp(1000, 2000), "tcp6");
	add(FrameBuilder().ipv6("2001:db8::1", "2001:db8::2").udp(1000, 2000), "udp6");
	add(FrameBuilder().ipv6("2001:db8::1", "2001:db8::2").l4(ipproto::kIcmpv6, Bytes(8, 0)), "icmp6");
	add(FrameBuilder()
	        .ipv6("2001:db8::1", "2001:db8::2")
	        .ext(dest_home_address(ipv6_addr("2001:db8:aa::1")))
	        .tcp(7, 8),
	    "tcp6-home-address");
	add(FrameBuilder()
	        .ipv6("2001:db8::1", "2001:db8::2")
	        .ext(routing_type2(ipv6_addr("2001:db8:bb::2")))
	        .udp(7, 8),
	    "udp6-rt2");
	add(FrameBuilder()
	        .ipv6("2001:db8::1", "2001:db8::2")
	        .ext(dest_home_address(ipv6_addr("2001:db8:aa::1")))
	        .ext(routing_type2(ipv6_addr("2001:db8:bb::2")))
	        .l4(ipproto::kIcmpv6, Bytes(8, 0)),
	    "icmp6-hao-rt2");
	add(FrameBuilder().ipv6("2001:db8::1", "2001:db8::2").ext(fragment_header(0, true)).tcp(1, 2),
	    "tcp6-fragment");
	add(FrameBuilder().ipv4("10.1.2.3", "10.4.5.6").tcp(1, 2).truncate(14 + 20 + 10),
	    "tcp4-truncated-l4");
	add(FrameBuilder().ipv6("2001:db8::1", "2001:db8::2").tcp(1, 2).truncate(14 + 30), "ipv6-truncated");
	return f;
}

std::vector<TestFrame> random_frames(uint64_t seed, unsigned n)
{
	using namespace vsteer::test;
	Rng rng(seed);
	std::vector<TestFrame> f;
	for (unsigned i = 0; i < n; i++) {
		IpFamily fam = rng.percent(50) ? IpFamily::v4 : IpFamily::v6;
		uint8_t proto = rng.percent(50) ? ipproto::kTcp : ipproto::kUdp;
		FrameSpec s = random_flow(rng, fam, proto);
		f.push_back({build_frame(s), strf("random#%u", i)});
	}
	return f;
}

// How the vnet header bytes 10..hdr_sz of a read frame look.
enum class Tail { hash, zero, stale, other };

struct Tally {
	unsigned frames = 0, lost = 0, wrong_frame = 0, wrong_queue = 0;
	std::map<Tail, unsigned> tail;
	unsigned hash_ok = 0; // Tail::hash with value and report equal to the reference
	std::string first_problem;

	void problem(const std::string &s)
	{
		if (first_problem.empty())
			first_problem = s;
	}
	std::string summary() const
	{
		auto n = [&](Tail t) {
			auto it = tail.find(t);
			return it == tail.end() ? 0u : it->second;
		};
		std::string s =
		    strf("frames=%u hash_ok=%u zero=%u stale=%u other=%u lost=%u wrong_queue=%u", frames,
		         hash_ok, n(Tail::zero), n(Tail::stale), n(Tail::other), lost, wrong_queue);
		if (wrong_frame)
			s += strf(" wrong_frame=%u", wrong_frame);
		if (!first_problem.empty())
			s += " first:" + first_problem;
		return s;
	}
};

Tail classify_tail(const std::vector<uint8_t> &b, size_t hdr_sz, const RssResult &ref, bool &hash_ok)
{
	hash_ok = false;
	if (all_bytes(b, 10, hdr_sz, kStale))
		return Tail::stale;
	if (hdr_sz >= kHashHdr && le16_at(b, 10) == 0 && le16_at(b, 18) == 0 &&
	    all_bytes(b, kHashHdr, hdr_sz, 0) && le16_at(b, 16) != 0) {
		hash_ok = le32_at(b, 12) == ref.hash && le16_at(b, 16) == ref.report;
		return Tail::hash;
	}
	if (all_bytes(b, 10, hdr_sz, 0)) {
		// "no hash" (report NONE, value 0) is also what a correct report of NONE looks like
		hash_ok = ref.report == VSTEER_REPORT_NONE;
		return Tail::zero;
	}
	return Tail::other;
}

// Reads back the frame `f` that was just sent, from whichever queue fd it lands on, behind
// hdr_sz bytes of vnet header. Counts it in t as lost or wrong (and returns nothing) unless
// it arrived whole.
std::optional<ReadFrame> read_sent(const std::vector<int> &fds, const TestFrame &f, size_t hdr_sz, Tally &t)
{
	ReadFrame r = read_any(fds, 2000);
	if (r.queue < 0) {
		t.lost++;
		t.problem(f.what + ":lost");
		return std::nullopt;
	}
	if (r.bytes.size() != hdr_sz + f.bytes.size() ||
	    !std::equal(f.bytes.begin(), f.bytes.end(), r.bytes.begin() + static_cast<long>(hdr_sz))) {
		t.wrong_frame++;
		t.problem(f.what + strf(":wrong-frame(len %zu)", r.bytes.size()));
		return std::nullopt;
	}
	return r;
}

// Frames still queued after all were read back were not sent: counted as wrong.
void count_leftovers(const std::vector<int> &fds, Tally &t)
{
	int extra = drain(fds);
	if (extra) {
		t.wrong_frame += static_cast<unsigned>(extra);
		t.problem(strf("%d unexpected frames", extra));
	}
}

// Sends each frame, reads it back from whichever queue fd it lands on, compares.
Tally run_frames(const Tap &tap, size_t hdr_sz, const RssConfig *cfg, const std::vector<TestFrame> &frames,
                 bool check_queue, bool want_hash = true)
{
	Tally t;
	Injector inj(tap.ifindex);
	std::vector<int> fds;
	for (auto &fd : tap.fds)
		fds.push_back(fd.get());
	for (const auto &f : frames) {
		t.frames++;
		RssResult ref{};
		if (cfg)
			ref = compute_rss(*cfg, f.bytes);
		inj.send(f.bytes);
		auto got = read_sent(fds, f, hdr_sz, t);
		if (!got)
			continue;
		const ReadFrame &r = *got;
		if (check_queue && r.queue != ref.queue) {
			t.wrong_queue++;
			t.problem(f.what + strf(":queue %d want %u", r.queue, ref.queue));
		}
		bool ok = false;
		Tail tail = classify_tail(r.bytes, hdr_sz, ref, ok);
		t.tail[tail]++;
		if (ok)
			t.hash_ok++;
		else if (want_hash || tail != Tail::zero)
			t.problem(f.what + strf(":hdr %s want %08x/%u", hex(r.bytes, 10, hdr_sz).c_str(),
			                        ref.hash, ref.report));
	}
	count_leftovers(fds, t);
	return t;
}

bool clean(const Tally &t)
{
	return !t.lost && !t.wrong_frame && !t.wrong_queue;
}
unsigned count(const Tally &t, Tail x)
{
	auto it = t.tail.find(x);
	return it == t.tail.end() ? 0 : it->second;
}

// patched: every frame carries the reference's hash; baseline: every frame shows the
// reader's stale bytes (nothing written after byte 10).
void expect_hashes(const std::string &name, const Tally &t)
{
	bool ok = clean(t) && t.frames > 0 &&
	          (R.patched() ? t.hash_ok == t.frames : count(t, Tail::stale) == t.frames);
	R.report(name, ok, t.summary());
}

// patched: bytes 10..hdr zero; baseline: stale.
void expect_no_hash(const std::string &name, const Tally &t)
{
	bool ok = clean(t) && t.frames > 0 &&
	          (R.patched() ? count(t, Tail::zero) == t.frames : count(t, Tail::stale) == t.frames);
	R.report(name, ok, t.summary());
}

// ---------------------------------------------------------------------------------------
// tun: the ioctls

std::string state_of(int fd)
{
	tun_hash_report r;
	int err = get_hash_report(fd, r);
	if (err)
		return errno_name(err);
	return strf("flags=%#x supported=%#x reserved=%#x,%#x", r.flags, r.supported, r.reserved[0],
	            r.reserved[1]);
}

void test_ioctls()
{
	Tap tap = make_tap("vsq0", 1, false, true, kHashHdr);
	int fd = tap.fd();

	// query
	{
		tun_hash_report r;
		int err = get_hash_report(fd, r);
		bool ok = R.patched() ? (!err && r.flags == 0 && r.supported == TUN_HASH_REPORT_STEERING &&
		                         !r.reserved[0] && !r.reserved[1])
		                      : err == EINVAL;
		R.report("tun/query", ok, state_of(fd));
		bool sup = kernel_supports_hash_report(fd);
		R.report("tun/kernel-supports-helper", sup == R.patched(),
		         sup ? "supported" : "not supported");
	}
	// enable / disable round trip
	{
		int e1 = set_hash_report(fd, TUN_HASH_REPORT_STEERING);
		std::string on = state_of(fd);
		int e2 = set_hash_report(fd, 0);
		std::string off = state_of(fd);
		bool ok = R.patched() ? (!e1 && !e2 && on.rfind("flags=0x1 ", 0) == 0 &&
		                         off.rfind("flags=0 ", 0) == 0)
		                      : (e1 == EINVAL && e2 == EINVAL);
		R.report("tun/enable-disable", ok,
		         "set(1)=" + errno_name(e1) + " -> " + on + "; set(0)=" + errno_name(e2) + " -> " +
		             off);
	}
	// bad arguments: EINVAL, and the state (here: on) does not change
	{
		bool was_on = set_hash_report(fd, TUN_HASH_REPORT_STEERING) == 0;
		struct Bad {
			const char *name;
			uint32_t flags, supported, r0, r1;
		} bad[] = {
		    {"unknown-flag", TUN_HASH_REPORT_STEERING | 0x2, 0, 0, 0},
		    {"only-unknown-flag", 0x80000000u, 0, 0, 0},
		    {"supported-set", TUN_HASH_REPORT_STEERING, 1, 0, 0},
		    {"reserved0-set", TUN_HASH_REPORT_STEERING, 0, 1, 0},
		    {"reserved1-set", 0, 0, 0, 0x100},
		};
		for (const auto &b : bad) {
			int err = set_hash_report(fd, b.flags, b.supported, b.r0, b.r1);
			std::string after = state_of(fd);
			bool ok = err == EINVAL &&
			          (R.patched() ? (was_on && after.rfind("flags=0x1 ", 0) == 0) : true);
			R.report(std::string("tun/einval-") + b.name, ok,
			         errno_name(err) + ", after: " + after);
		}
		set_hash_report(fd, 0);
	}
	// preconditions: 20-byte header, IFF_VNET_HDR, little-endian
	{
		int e0 = set_vnet_hdr_sz(fd, 12);
		int err = set_hash_report(fd, TUN_HASH_REPORT_STEERING);
		std::string after = state_of(fd);
		bool ok = !e0 && err == EINVAL && (!R.patched() || after.rfind("flags=0 ", 0) == 0);
		R.report("tun/einval-vnet-hdr-12", ok, errno_name(err) + ", after: " + after);
		set_vnet_hdr_sz(fd, 24);
		err = set_hash_report(fd, TUN_HASH_REPORT_STEERING);
		ok = R.patched() ? !err : err == EINVAL;
		R.report("tun/enable-vnet-hdr-24", ok, errno_name(err));
		set_hash_report(fd, 0);
		set_vnet_hdr_sz(fd, kHashHdr);
	}
	{
		int be = 1;
		int e0 = ioctl(fd, TUNSETVNETBE, &be) < 0 ? errno : 0;
		int err = set_hash_report(fd, TUN_HASH_REPORT_STEERING);
		std::string after = state_of(fd);
		be = 0;
		ioctl(fd, TUNSETVNETBE, &be);
		bool ok = !e0 && err == EINVAL && (!R.patched() || after.rfind("flags=0 ", 0) == 0);
		R.report("tun/einval-big-endian", ok,
		         "TUNSETVNETBE=" + errno_name(e0) + ", set=" + errno_name(err));
		int le = 1;
		ioctl(fd, TUNSETVNETLE, &le);
		err = set_hash_report(fd, TUN_HASH_REPORT_STEERING);
		ok = R.patched() ? !err : err == EINVAL;
		R.report("tun/enable-vnetle", ok, errno_name(err));
		set_hash_report(fd, 0);
		le = 0;
		ioctl(fd, TUNSETVNETLE, &le);
	}
	{
		Tap plain = make_tap("vsq1", 1, false, false, 0);
		int err = set_hash_report(plain.fd(), TUN_HASH_REPORT_STEERING);
		R.report("tun/einval-no-vnet-hdr", err == EINVAL, errno_name(err));
	}
	// the loader's helper names the tap in its error
	{
		set_vnet_hdr_sz(fd, 12);
		std::string msg;
		int code = 0;
		try {
			enable_hash_report(fd, true);
		} catch (const Error &e) {
			msg = e.what();
			code = e.code();
		}
		bool ok = msg.find("vsq0") != std::string::npos &&
		          (R.patched() ? code == EINVAL : code == EOPNOTSUPP);
		R.report("tun/helper-error-names-tap", ok, errno_name(code) + ": " + msg);
		set_vnet_hdr_sz(fd, kHashHdr);
	}
	// an unattached file
	{
		Fd f(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
		tun_hash_report r;
		int err = get_hash_report(f.get(), r);
		R.report("tun/query-unattached", err == EBADFD, errno_name(err));
	}
}

// ---------------------------------------------------------------------------------------
// tun: hashes on the wire

struct Steering {
	SteeringObjects obj = SteeringObjects::load();
	void attach(const Tap &tap, const RssConfig &cfg)
	{
		obj.write_config(cfg);
		int err = attach_steering(tap.fd(), obj.prog_fd());
		if (err)
			throw Failure("TUNSETSTEERINGEBPF: " + errno_name(err));
	}
};

void test_multiqueue()
{
	constexpr unsigned kQueues = 4;
	Tap tap = make_tap("vsmq", kQueues, true, true, kHashHdr);
	Steering st;

	// Microsoft vectors: TCP frames give the l4 hash, UDP frames (UDP types off) the l3 one.
	RssConfig cfg;
	std::vector<vsteer::test::MsRssVector> vectors = load_vectors(cfg.key);
	cfg.hash_types = VSTEER_HASH_IPV4 | VSTEER_HASH_TCPV4 | VSTEER_HASH_IPV6 | VSTEER_HASH_TCPV6;
	cfg.table = equal_table(kQueues);
	st.attach(tap, cfg);
	int err = set_hash_report(tap.fd(), TUN_HASH_REPORT_STEERING);
	R.report("tun/mq-enable", R.patched() ? !err : err == EINVAL, errno_name(err));

	std::vector<TestFrame> frames;
	unsigned vec_ok = 0;
	for (const auto &v : vectors) {
		frames.push_back({vsteer::test::ms_rss_frame(v).tcp(v.sport, v.dport), "ms-tcp " + v.src});
		frames.push_back({vsteer::test::ms_rss_frame(v).udp(v.sport, v.dport), "ms-ip " + v.src});
		RssResult a = compute_rss(cfg, frames[frames.size() - 2].bytes);
		RssResult b = compute_rss(cfg, frames.back().bytes);
		vec_ok += (a.hash == v.l4) + (b.hash == v.l3);
	}
	// the reference itself must reproduce the published values
	R.report("tun/ms-vectors-reference", vec_ok == 2 * vectors.size() && !vectors.empty(),
	         strf("%u/%zu published hashes", vec_ok, 2 * vectors.size()));
	expect_hashes("tun/mq4-ms-vectors", run_frames(tap, kHashHdr, &cfg, frames, true));

	// random flows and special frames, default types and all nine types, random keys
	for (int round = 0; round < 2; round++) {
		RssConfig c = default_config(kQueues);
		c.hash_types = round ? VSTEER_HASH_ALL : VSTEER_HASH_DEFAULT;
		st.obj.write_config(c);
		auto fr = random_frames(0x5eed + round, g_random_frames);
		auto sp = special_frames();
		fr.insert(fr.end(), sp.begin(), sp.end());
		expect_hashes(round ? "tun/mq4-random-all-types" : "tun/mq4-random-default-types",
		              run_frames(tap, kHashHdr, &c, fr, true));
	}
	// hash-report-only mode (redirect = 0): everything on the unclassified queue, still hashed
	{
		RssConfig c = default_config(kQueues);
		c.redirect = false;
		c.unclassified_queue = 2;
		st.obj.write_config(c);
		expect_hashes("tun/mq4-redirect-off",
		              run_frames(tap, kHashHdr, &c, random_frames(77, 40), true));
	}
	// reporting off again: zeroes (patched), stale (baseline)
	{
		RssConfig c = default_config(kQueues);
		st.obj.write_config(c);
		set_hash_report(tap.fd(), 0);
		expect_no_hash("tun/mq4-reporting-off",
		               run_frames(tap, kHashHdr, &c, random_frames(78, 40), true, false));
	}
	// a header longer than 20 bytes: hash in 12..19, zeroes after
	{
		RssConfig c = default_config(kQueues);
		st.obj.write_config(c);
		for (auto &fd : tap.fds)
			set_vnet_hdr_sz(fd.get(), 32);
		set_hash_report(tap.fd(), TUN_HASH_REPORT_STEERING);
		expect_hashes("tun/mq4-vnet-hdr-32", run_frames(tap, 32, &c, random_frames(79, 40), true));
		// shrinking the header under an enabled report: refused (EBUSY) on the patched
		// kernel, which keeps reporting in 32 bytes; the baseline shrinks it to 12
		int err = 0;
		for (auto &fd : tap.fds)
			err = err ? err : set_vnet_hdr_sz(fd.get(), 12);
		R.report("tun/mq4-shrink-refused-while-on", R.patched() ? err == EBUSY : err == 0,
		         "TUNSETVNETHDRSZ 12 with reporting on: " + errno_name(err));
		if (R.patched())
			expect_hashes("tun/mq4-after-shrink",
			              run_frames(tap, 32, &c, random_frames(80, 20), true));
		else
			expect_no_hash("tun/mq4-after-shrink",
			               run_frames(tap, 12, &c, random_frames(80, 20), true, false));
	}
}

void test_single_queue(bool multiqueue_flag)
{
	std::string name = multiqueue_flag ? "tun/mq-one-queue" : "tun/single-queue";
	Tap tap = make_tap(multiqueue_flag ? "vsone" : "vssq", 1, multiqueue_flag, true, kHashHdr);
	Steering st;
	RssConfig c = default_config(1);
	c.hash_types = VSTEER_HASH_ALL;
	st.attach(tap, c);
	set_hash_report(tap.fd(), TUN_HASH_REPORT_STEERING);
	auto fr = random_frames(99, 60);
	auto sp = special_frames();
	fr.insert(fr.end(), sp.begin(), sp.end());
	expect_hashes(name, run_frames(tap, kHashHdr, &c, fr, false));
	auto stats = st.obj.read_stats();
	// the program ran once per frame, not twice (select_queue is skipped with one queue)
	bool ok = R.patched() ? stats.packets == fr.size() : stats.packets == 0;
	R.report(name + "-program-runs", ok,
	         strf("program ran %llu times for %zu frames", static_cast<unsigned long long>(stats.packets),
	              fr.size()));
}

// Loads a few hand-written instructions (no object file needed in the guest).
template <size_t N> int load_raw_prog(bpf_prog_type type, const bpf_insn (&insns)[N], const char *what)
{
	static const char license[] = "GPL";
	union bpf_attr attr {
	};
	attr.prog_type = type;
	attr.insns = reinterpret_cast<uintptr_t>(insns);
	attr.insn_cnt = N;
	attr.license = reinterpret_cast<uintptr_t>(license);
	int fd = static_cast<int>(syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)));
	if (fd < 0)
		fail_errno(std::string("BPF_PROG_LOAD ") + what);
	return fd;
}

// The kernel's own rules for what the program leaves in cb: report > 9 -> NONE, NONE -> 0.
int load_cb_writer(uint32_t value, uint32_t report)
{
	struct bpf_insn insns[] = {
	    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, static_cast<int32_t>(value)},
	    {BPF_STX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_2, offsetof(struct __sk_buff, cb[0]), 0},
	    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, static_cast<int32_t>(report)},
	    {BPF_STX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_2, offsetof(struct __sk_buff, cb[1]), 0},
	    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
	    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	return load_raw_prog(BPF_PROG_TYPE_SOCKET_FILTER, insns, "cb writer");
}

void test_sanitize()
{
	Tap tap = make_tap("vssan", 2, true, true, kHashHdr);
	set_hash_report(tap.fd(), TUN_HASH_REPORT_STEERING);
	struct Case {
		const char *name;
		uint32_t value, report, want_value, want_report;
	} cases[] = {
	    {"report-9-kept", 0x12345678, 9, 0x12345678, 9},
	    {"report-1-kept", 0xfedcba98, 1, 0xfedcba98, 1},
	    {"report-10-none", 0x12345678, 10, 0, 0},
	    {"report-huge-none", 0xdeadbeef, 0xffffffff, 0, 0},
	    {"none-value-zeroed", 0x7777, 0, 0, 0},
	};
	Injector inj(tap.ifindex);
	std::vector<int> fds{tap.fd(0), tap.fd(1)};
	Bytes frame = FrameBuilder().ipv4("10.9.9.9", "10.8.8.8").udp(9, 9);
	for (const auto &c : cases) {
		Fd prog(load_cb_writer(c.value, c.report));
		attach_steering(tap.fd(), prog.get());
		inj.send(frame);
		ReadFrame r = read_any(fds, 2000);
		std::string obs;
		bool ok = false;
		if (r.queue < 0 || r.bytes.size() < kHashHdr) {
			obs = "lost";
		} else {
			obs = "hdr[10..20]=" + hex(r.bytes, 10, kHashHdr);
			if (R.patched())
				ok = le32_at(r.bytes, 12) == c.want_value &&
				     le16_at(r.bytes, 16) == c.want_report && le16_at(r.bytes, 10) == 0 &&
				     le16_at(r.bytes, 18) == 0;
			else
				ok = all_bytes(r.bytes, 10, kHashHdr, kStale);
		}
		R.report(std::string("tun/cb-") + c.name, ok, obs);
		drain(fds);
	}
	// no steering program at all: reporting on gives "no hash"
	int off = -1;
	ioctl(tap.fd(), TUNSETSTEERINGEBPF, &off);
	expect_no_hash("tun/no-steering-program",
	               run_frames(tap, kHashHdr, nullptr, random_frames(5, 10), false, false));
}

// ---------------------------------------------------------------------------------------
// tun: XDP frames (ndo_xdp_xmit -> tun_put_user_xdp)

// An XDP program that redirects every frame to `ifindex` (bpf_redirect, no map).
int load_xdp_redirect(int ifindex)
{
	struct bpf_insn insns[] = {
	    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, ifindex},
	    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 0},
	    {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect},
	    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	return load_raw_prog(BPF_PROG_TYPE_XDP, insns, "xdp redirect");
}

// Runs the program once on `frame` in live-frames mode: its XDP_REDIRECT really
// transmits, through the target's ndo_xdp_xmit, as an xdp_frame.
void xdp_live_run(int prog_fd, const Bytes &frame)
{
	union bpf_attr attr {
	};
	attr.test.prog_fd = static_cast<uint32_t>(prog_fd);
	attr.test.data_in = reinterpret_cast<uintptr_t>(frame.data());
	attr.test.data_size_in = static_cast<uint32_t>(frame.size());
	attr.test.repeat = 1;
	attr.test.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	if (syscall(__NR_bpf, BPF_PROG_TEST_RUN, &attr, sizeof(attr)) < 0)
		fail_errno("BPF_PROG_TEST_RUN (XDP live frames)");
}

// Frames that reach tun as XDP frames never ran the steering program: bytes 10..hdr_sz
// of the vnet header are zero (patched), whether reporting is on or off, instead of
// whatever the reader's buffer held (baseline).
void test_xdp_frames()
{
	constexpr unsigned kQueues = 2;
	Tap tap = make_tap("vsxdp", kQueues, true, true, kHashHdr);
	Steering st;
	RssConfig cfg = default_config(kQueues);
	st.attach(tap, cfg);
	Fd prog(load_xdp_redirect(tap.ifindex));
	std::vector<int> fds;
	for (auto &fd : tap.fds)
		fds.push_back(fd.get());

	for (bool reporting : {true, false}) {
		int err = set_hash_report(tap.fd(), reporting ? TUN_HASH_REPORT_STEERING : 0);
		Tally t;
		for (const auto &f : random_frames(reporting ? 81 : 82, 20)) {
			t.frames++;
			xdp_live_run(prog.get(), f.bytes);
			auto got = read_sent(fds, f, kHashHdr, t);
			if (!got)
				continue;
			const ReadFrame &r = *got;
			bool ignored = false;
			Tail tail = classify_tail(r.bytes, kHashHdr, RssResult{}, ignored);
			t.tail[tail]++;
			if (tail != (R.patched() ? Tail::zero : Tail::stale))
				t.problem(f.what + ":hdr " + hex(r.bytes, 0, kHashHdr));
		}
		count_leftovers(fds, t);
		std::string name = reporting ? "tun/xdp-frames-reporting-on" : "tun/xdp-frames-reporting-off";
		bool set_ok = R.patched() ? !err : err == EINVAL; // baseline: no such ioctl
		if (!set_ok)
			t.problem("TUNSETHASHREPORT=" + errno_name(err));
		expect_no_hash(name, t);
		if (!set_ok)
			R.report(name + "-ioctl", false, errno_name(err));
	}
	// the steering program never saw them
	auto stats = st.obj.read_stats();
	R.report("tun/xdp-frames-skip-steering", stats.packets == 0,
	         strf("steering program ran %llu times", static_cast<unsigned long long>(stats.packets)));
}

// ---------------------------------------------------------------------------------------
// vhost-net

constexpr uint64_t bit(int b)
{
	return 1ull << b;
}

// The per-file opt-in of patch 0009 (VHOST_BACKEND_F_NET_HASH_REPORT); v1 had a
// host-wide module parameter instead, which must be gone.
constexpr uint64_t kHashOptIn = bit(VHOST_BACKEND_F_NET_HASH_REPORT);
constexpr const char *kOldParam = "/sys/module/vhost_net/parameters/hash_report";

void test_vhost_features()
{
	R.report("vhost/no-module-parameter", ::access(kOldParam, F_OK) != 0,
	         ::access(kOldParam, F_OK) ? "no hash_report parameter" : "hash_report parameter present");
	{
		VhostRx v;
		uint64_t b = v.backend_features();
		R.report("vhost/opt-in-backend-feature", ((b & kHashOptIn) != 0) == R.patched(),
		         strf("backend features=%#llx", static_cast<unsigned long long>(b)));
	}
	{
		// a VMM that does not opt in (stock QEMU) never sees the feature
		VhostRx v;
		uint64_t f = v.offered_features();
		int err = v.set_features(bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_NET_F_HASH_REPORT));
		R.report("vhost/no-opt-in-not-offered",
		         !(f & bit(VIRTIO_NET_F_HASH_REPORT)) && err == EOPNOTSUPP,
		         strf("features=%#llx set(HASH_REPORT)=%s", static_cast<unsigned long long>(f),
		              errno_name(err).c_str()));
	}
	{
		// GET and SET read the same per-file state: SET accepts exactly what GET offered,
		// and another file that did not opt in is not affected
		VhostRx v, other;
		int opt = v.set_backend_features(kHashOptIn);
		uint64_t f = v.offered_features();
		uint64_t g = other.offered_features();
		bool offered = f & bit(VIRTIO_NET_F_HASH_REPORT);
		int err = v.set_features(f & (bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_NET_F_HASH_REPORT) |
		                              bit(VIRTIO_NET_F_MRG_RXBUF)));
		bool ok = R.patched()
		              ? opt == 0 && offered && err == 0 && !(g & bit(VIRTIO_NET_F_HASH_REPORT))
		              : opt == EOPNOTSUPP && !offered && err == 0;
		R.report("vhost/opt-in-get-set-consistent", ok,
		         strf("opt-in=%s offered=%d set(offered)=%s other file offered=%d",
		              errno_name(opt).c_str(), offered, errno_name(err).c_str(),
		              (g & bit(VIRTIO_NET_F_HASH_REPORT)) != 0));
		if (R.patched()) {
			int busy = v.set_backend_features(0);
			R.report("vhost/opt-in-kept-while-acked", busy == EBUSY,
			         "clear the opt-in after HASH_REPORT was acked: " + errno_name(busy));
		}
	}
	{
		VhostRx v;
		v.set_backend_features(kHashOptIn);
		int err = v.set_features(bit(VIRTIO_NET_F_HASH_REPORT) | bit(VIRTIO_NET_F_MRG_RXBUF));
		R.report("vhost/hash-report-needs-version-1", R.patched() ? err == EINVAL : err == EOPNOTSUPP,
		         "set(HASH_REPORT without VERSION_1)=" + errno_name(err));
	}
}

struct VhostCase {
	const char *name;
	bool hash;      // negotiate HASH_REPORT
	bool mergeable; // negotiate MRG_RXBUF
	bool vhost_hdr; // VHOST_NET_F_VIRTIO_NET_HDR: vhost writes the header, tap has none
};

void test_vhost_rx(const VhostCase &vc)
{
	std::string name = std::string("vhost/") + vc.name;
	const size_t hdr = vc.hash ? kHashHdr : 12;
	Tap tap = make_tap("vsvh", 1, false, !vc.vhost_hdr, static_cast<int>(hdr));
	Steering st;
	RssConfig cfg = default_config(1);
	cfg.hash_types = VSTEER_HASH_ALL;
	st.attach(tap, cfg);
	if (vc.hash && !vc.vhost_hdr)
		set_hash_report(tap.fd(), TUN_HASH_REPORT_STEERING);

	VhostRx v;
	v.set_backend_features(kHashOptIn); // EOPNOTSUPP on the baseline: checked below
	uint64_t want = bit(VIRTIO_F_VERSION_1);
	if (vc.hash)
		want |= bit(VIRTIO_NET_F_HASH_REPORT);
	if (vc.mergeable)
		want |= bit(VIRTIO_NET_F_MRG_RXBUF);
	if (vc.vhost_hdr)
		want |= bit(VHOST_NET_F_VIRTIO_NET_HDR);
	int err = v.set_features(want);
	if (err) {
		// only the baseline may refuse, and only HASH_REPORT
		R.report(name, !R.patched() && vc.hash && err == EOPNOTSUPP,
		         "VHOST_SET_FEATURES: " + errno_name(err) + " (HASH_REPORT not offered)");
		return;
	}
	v.start(tap.fd());
	Injector inj(tap.ifindex);
	Tally t;
	auto frames = random_frames(4242, 40);
	auto sp = special_frames();
	frames.insert(frames.end(), sp.begin(), sp.end());
	for (const auto &f : frames) {
		t.frames++;
		RssResult ref = compute_rss(cfg, f.bytes);
		inj.send(f.bytes);
		VhostRx::Used u = v.next(2000);
		if (!u.ok) {
			t.lost++;
			t.problem(f.what + ":lost");
			continue;
		}
		const auto &b = u.bytes;
		if (u.len != hdr + f.bytes.size() ||
		    !std::equal(f.bytes.begin(), f.bytes.end(), b.begin() + static_cast<long>(hdr))) {
			t.wrong_frame++;
			t.problem(f.what + strf(":len %u want %zu", u.len, hdr + f.bytes.size()));
			continue;
		}
		// num_buffers: 1 when mergeable (vhost writes it); the byte after the packet
		// must still be stale (nothing written past used.len)
		if (vc.mergeable && le16_at(b, 10) != 1) {
			t.tail[Tail::other]++;
			t.problem(f.what + ":num_buffers " + hex(b, 10, 12));
			continue;
		}
		if (b.size() > u.len && b[u.len] != kStale) {
			t.tail[Tail::other]++;
			t.problem(f.what + ":wrote past used.len");
			continue;
		}
		if (!vc.hash) {
			t.tail[Tail::zero]++;
			t.hash_ok++; // nothing to check beyond layout
			continue;
		}
		uint32_t value = le32_at(b, 12);
		uint16_t report = le16_at(b, 16);
		bool zero = value == 0 && report == 0 && le16_at(b, 18) == 0;
		if (vc.vhost_hdr) {
			// vhost supplies the header: all zero (num_buffers aside)
			bool ok = zero && all_bytes(b, 0, 10, 0);
			t.tail[ok ? Tail::zero : Tail::other]++;
			if (ok)
				t.hash_ok++;
			else
				t.problem(f.what + ":hdr " + hex(b, 0, hdr));
			continue;
		}
		if (value == ref.hash && report == ref.report && le16_at(b, 18) == 0) {
			t.tail[Tail::hash]++;
			t.hash_ok++;
		} else {
			t.tail[Tail::other]++;
			t.problem(f.what + strf(":hdr %s want %08x/%u", hex(b, 10, hdr).c_str(), ref.hash,
			                        ref.report));
		}
	}
	v.stop();
	R.report(name, clean(t) && t.hash_ok == t.frames, t.summary());
}

void test_vhost()
{
	if (::access("/dev/vhost-net", R_OK | W_OK) != 0) {
		R.report("vhost/device", false, "no /dev/vhost-net");
		return;
	}
	test_vhost_features();
	test_vhost_rx({"rx-12-byte-header-mergeable", false, true, false});
	test_vhost_rx({"rx-12-byte-header", false, false, false});
	test_vhost_rx({"rx-hash-report-mergeable", true, true, false});
	test_vhost_rx({"rx-hash-report", true, false, false});
	test_vhost_rx({"rx-hash-report-vhost-header", true, true, true});
}

template <typename F> void guarded(const char *what, F &&f)
{
	try {
		f();
	} catch (const std::exception &e) {
		R.report(std::string(what) + "/aborted", false, e.what());
	}
}

} // namespace

int main(int argc, char **argv)
{
	std::string suite = "all";
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto val = [&]() -> std::string {
			if (i + 1 >= argc)
				throw std::invalid_argument(a + " needs a value");
			return argv[++i];
		};
		if (a == "--variant")
			R.variant = val() == "baseline" ? Variant::baseline : Variant::patched;
		else if (a == "--vectors")
			g_vectors = val();
		else if (a == "--frames")
			g_random_frames = static_cast<unsigned>(std::stoul(val()));
		else if (a == "--suite")
			suite = val();
		else {
			std::fprintf(stderr, "unknown argument %s\n", a.c_str());
			return 2;
		}
	}
	// no IPv6 autoconfiguration traffic on the test taps
	guarded("setup", [] {
		write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
		write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	});
	std::printf("VSTEER-BEGIN variant=%s\n", R.patched() ? "patched" : "baseline");
	if (suite == "all" || suite == "tun") {
		guarded("tun/ioctls", test_ioctls);
		guarded("tun/multiqueue", test_multiqueue);
		guarded("tun/single-queue", [] { test_single_queue(false); });
		guarded("tun/mq-one-queue", [] { test_single_queue(true); });
		guarded("tun/sanitize", test_sanitize);
		guarded("tun/xdp-frames", test_xdp_frames);
	}
	if (suite == "all" || suite == "vhost")
		guarded("vhost", test_vhost);
	std::printf("VSTEER-END passed=%d failed=%d\n", R.passed, R.failed);
	std::fflush(stdout);
	return R.failed ? 1 : 0;
}
