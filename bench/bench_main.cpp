// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-bench (`make bench`, docs/bench.md): every speed target of issue 12 next to its
// floor, measured in one run on one pinned CPU, printed as ratios at the end.
//
//   vsteer-bench --qemu-object FILE [--repeat N] [--rounds R] [--vsteer-object FILE [--no-check]]
//                [--parts verifier,steering,toeplitz,xdp,live]  (default: all)
//
// 1. verifier: verified instructions of every program (the kernel's own count);
// 2. steering: vsteer's tun steering program vs QEMU's RSS program (fetched from the
//    installed QEMU by scripts/qemu-rss-object.sh) vs a parse-only floor, same frames
//    and configuration, checked against the C++ reference first;
// 3. Toeplitz: one rebuild of a CPU's table by the shared builder;
// 4. XDP: the classifier's paths vs an XDP_PASS floor; the rate limiter with traffic
//    from every CPU (bench_xdp.cpp);
// 5. live: packets/s through veth -> (bridge | classifier) -> tap, and into a tap with
//    the steering program on vs off (bench_live.cpp).
//
// Exit status: 0 when everything ran and agreed (whatever the ratios), 1 on errors.
#include "bench_floors.skel.h"
#include "bench_parts.hpp"
#include "bench_support.hpp"
#include "frame_builder.hpp"
#include "libbpf_log.hpp"
#include "rss_abi.h"
#include "rss_config.hpp"
#include "rss_reference.hpp"
#include "tc_eastwest.skel.h"
#include "tun_steering.skel.h"
#include "xdp_abi.h" // before the skeleton: its .bss names struct vsteer_xdp_meta
#include "xdp_classify.skel.h"
#include "xdp_objects.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vsteer::bench
{
namespace
{

// ---------------------------------------------------------------------------------
// The frames: plain (untagged, no options or extension headers) IPv4/IPv6 x TCP/UDP,
// using the flows of the Microsoft RSS verification suite.

constexpr uint16_t kSport = 2794, kDport = 1766;
constexpr size_t kPayload = 64;

Frame make_frame(int l3, uint8_t proto)
{
	namespace t = vsteer::test;
	t::FrameBuilder b;
	if (l3 == 4)
		b.ipv4("66.9.149.187", "161.142.100.80");
	else
		b.ipv6("3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1");
	t::Bytes payload(kPayload, 0xab);
	if (proto == t::ipproto::kTcp)
		b.tcp(kSport, kDport, payload);
	else
		b.udp(kSport, kDport, payload);
	return b.build();
}

struct Case {
	const char *name;
	Frame frame;
	bool ipv6;
};

// ---------------------------------------------------------------------------------
// The two steering programs behind one interface: a socket filter and its QEMU-layout maps.

struct Steering {
	const char *name = "";
	int prog_fd = -1;
	int config_fd = -1, key_fd = -1, table_fd = -1;
};

void check_layout(bpf_map *m, const char *what, uint32_t value_size, uint32_t entries)
{
	if (!m)
		fail(std::string("map ") + what + " not found");
	if (bpf_map__value_size(m) != value_size || bpf_map__max_entries(m) != entries)
		fail(std::string("map ") + what + ": value size " + std::to_string(bpf_map__value_size(m)) +
		     " x " + std::to_string(bpf_map__max_entries(m)) + " entries, expected " +
		     std::to_string(value_size) + " x " + std::to_string(entries));
}

// A socket filter and its maps loaded from an ELF file: QEMU's object (or, with
// --vsteer-object, a modified build of ours for A/B measurements).
struct FileObject {
	bpf_object *obj = nullptr;
	Steering t;

	FileObject(const std::string &path, const char *name, const char *config_map, const char *key_map,
	           const char *table_map)
	{
		obj = bpf_object__open_file(path.c_str(), nullptr);
		if (!obj)
			fail(std::string("open ") + name + " eBPF object " + path, errno);
		bpf_program *prog = bpf_object__next_program(obj, nullptr);
		if (!prog)
			fail(std::string(name) + " eBPF object " + path + " has no program");
		// QEMU sets the type explicitly before loading (ebpf/ebpf_rss.c).
		int err = bpf_program__set_type(prog, BPF_PROG_TYPE_SOCKET_FILTER);
		if (err)
			fail(std::string("set the ") + name + " program type", err);
		bpf_map *config = bpf_object__find_map_by_name(obj, config_map);
		bpf_map *key = bpf_object__find_map_by_name(obj, key_map);
		bpf_map *table = bpf_object__find_map_by_name(obj, table_map);
		check_layout(config, config_map, sizeof(vsteer_rss_config), 1);
		check_layout(key, key_map, sizeof(vsteer_toeplitz_key), 1);
		check_layout(table, table_map, sizeof(uint16_t), VSTEER_MAX_TABLE_LEN);
		err = bpf_object__load(obj);
		if (err)
			fail(std::string("load ") + name + " eBPF object " + path, err);
		t.name = name;
		t.prog_fd = bpf_program__fd(prog);
		t.config_fd = bpf_map__fd(config);
		t.key_fd = bpf_map__fd(key);
		t.table_fd = bpf_map__fd(table);
	}
	~FileObject() { bpf_object__close(obj); }
	FileObject(const FileObject &) = delete;
	FileObject &operator=(const FileObject &) = delete;
};

// vsteer's program as built, through its skeleton.
struct VsteerObject {
	tun_steering *skel = nullptr;
	Steering t;

	VsteerObject()
	{
		skel = tun_steering__open_and_load();
		if (!skel)
			fail("open and load the vsteer steering program (tun_steering skeleton)", errno);
		check_layout(skel->maps.config, "config", sizeof(vsteer_rss_config), 1);
		check_layout(skel->maps.toeplitz_key, "toeplitz_key", sizeof(vsteer_toeplitz_key), 1);
		check_layout(skel->maps.indirection_table, "indirection_table", sizeof(uint16_t),
		             VSTEER_MAX_TABLE_LEN);
		t.name = "vsteer";
		t.prog_fd = bpf_program__fd(skel->progs.vsteer_tun_steering);
		t.config_fd = bpf_map__fd(skel->maps.config);
		t.key_fd = bpf_map__fd(skel->maps.toeplitz_key);
		t.table_fd = bpf_map__fd(skel->maps.indirection_table);
	}
	~VsteerObject() { tun_steering__destroy(skel); }
	VsteerObject(const VsteerObject &) = delete;
	VsteerObject &operator=(const VsteerObject &) = delete;
};

// The floors and probes (bench/bpf/bench_floors.bpf.c).
struct Floors {
	bench_floors *skel = nullptr;

	Floors()
	{
		skel = bench_floors__open_and_load();
		if (!skel)
			fail("open and load the bench floor programs (bench_floors skeleton)", errno);
	}
	~Floors() { bench_floors__destroy(skel); }
	Floors(const Floors &) = delete;
	Floors &operator=(const Floors &) = delete;
	int fd(bpf_program *p) const { return bpf_program__fd(p); }
};

// The same configuration for both, in QEMU's map layout.
void configure(const Steering &t, const vsteer::RssConfig &c)
{
	uint32_t zero = 0;
	vsteer_rss_config cfg = vsteer::to_map_config(c);
	vsteer_toeplitz_key key = vsteer::to_map_key(c.key);
	if (bpf_map_update_elem(t.config_fd, &zero, &cfg, BPF_ANY))
		fail(std::string(t.name) + ": write the configuration map", errno);
	if (bpf_map_update_elem(t.key_fd, &zero, &key, BPF_ANY))
		fail(std::string(t.name) + ": write the Toeplitz key map", errno);
	for (uint32_t i = 0; i < VSTEER_MAX_TABLE_LEN; i++) {
		uint16_t q = c.table[i % c.table.size()];
		if (bpf_map_update_elem(t.table_fd, &i, &q, BPF_ANY))
			fail(std::string(t.name) + ": write indirection entry " + std::to_string(i), errno);
	}
}

// `r0 = 0; exit`: what BPF_PROG_TEST_RUN costs per repetition by itself.
int load_empty_program()
{
	bpf_insn insns[2]{};
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
	insns[1].code = BPF_JMP | BPF_EXIT;
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bench_empty", "GPL", insns, 2, nullptr);
	if (fd < 0)
		fail("load the empty baseline program", errno);
	return fd;
}

std::string read_first_line(const char *path)
{
	std::ifstream in(path);
	std::string line;
	std::getline(in, line);
	return line.empty() ? "?" : line;
}

// ---------------------------------------------------------------------------------
// 1. Verified instructions

struct ProgCount {
	std::string object, program;
	uint32_t verified = 0, xlated = 0;
};

ProgCount count_of(const char *object, bpf_program *p)
{
	bpf_prog_info info{};
	__u32 len = sizeof(info);
	if (bpf_prog_get_info_by_fd(bpf_program__fd(p), &info, &len))
		fail(std::string("query program ") + bpf_program__name(p), errno);
	return {object, bpf_program__name(p), info.verified_insns,
	        static_cast<uint32_t>(info.xlated_prog_len / sizeof(bpf_insn))};
}

// Loads each object (every program, no pins) and asks the kernel what it verified.
void print_verifier_counts(Floors &floors)
{
	std::vector<ProgCount> counts;
	{
		VsteerObject v;
		counts.push_back(count_of("tun_steering", v.skel->progs.vsteer_tun_steering));
	}
	{
		xdp_classify *x = xdp_classify__open();
		if (!x)
			fail("open the XDP classifier object", errno);
		bpf_map *m;
		bpf_object__for_each_map(m, x->obj) bpf_map__set_pin_path(m, nullptr);
		bpf_program__set_autoload(x->progs.vsteer_classify, vsteer::xdp_metadata_supported());
		bpf_program__set_autoload(x->progs.vsteer_nometa, true);
		if (int err = xdp_classify__load(x); err) {
			xdp_classify__destroy(x);
			fail("load the XDP classifier object", err);
		}
		bpf_program *p;
		bpf_object__for_each_program(p, x->obj) if (bpf_program__autoload(p))
		    counts.push_back(count_of("xdp_classify", p));
		xdp_classify__destroy(x);
	}
	{
		tc_eastwest *e = tc_eastwest__open();
		if (!e)
			fail("open the east-west object", errno);
		bpf_map *m;
		bpf_object__for_each_map(m, e->obj) bpf_map__set_pin_path(m, nullptr);
		if (int err = tc_eastwest__load(e); err) {
			tc_eastwest__destroy(e);
			fail("load the east-west object", err);
		}
		counts.push_back(count_of("tc_eastwest", e->progs.vsteer_eastwest));
		tc_eastwest__destroy(e);
	}
	bpf_program *p;
	bpf_object__for_each_program(p, floors.skel->obj) counts.push_back(count_of("bench_floors", p));

	std::printf("== verifier: instructions processed (verified) and program size (xlated) ==\n");
	std::printf("%-14s %-20s %10s %8s\n", "object", "program", "verified", "xlated");
	for (const ProgCount &c : counts)
		std::printf("%-14s %-20s %10u %8u\n", c.object.c_str(), c.program.c_str(), c.verified,
		            c.xlated);
}

// ---------------------------------------------------------------------------------
// 2. Steering program vs QEMU's vs the parse floor

void bench_steering(const Options &opt, Floors &floors, int empty_fd, Targets &targets)
{
	vsteer::RssConfig config;
	config.key = vsteer::parse_key("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c"
	                               "6a42b73bbeac01fa");
	config.hash_types = VSTEER_HASH_DEFAULT;
	config.table = vsteer::equal_table(4);
	config.unclassified_queue = 0;
	config.redirect = true;
	config.validate(4);

	FileObject qemu_obj(opt.qemu_object, "QEMU", "tap_rss_map_configurations", "tap_rss_map_toeplitz_key",
	                    "tap_rss_map_indirection_table");
	std::unique_ptr<VsteerObject> skel;
	std::unique_ptr<FileObject> file;
	if (opt.vsteer_object.empty())
		skel = std::make_unique<VsteerObject>();
	else
		file = std::make_unique<FileObject>(opt.vsteer_object, "vsteer", "config", "toeplitz_key",
		                                    "indirection_table");
	const Steering &qemu = qemu_obj.t, &ours = skel ? skel->t : file->t;
	configure(qemu, config);
	configure(ours, config);
	const int floor_fd = floors.fd(floors.skel->progs.floor_parse);

	std::vector<Case> cases;
	cases.push_back({"IPv4/TCP", make_frame(4, 6), false});
	cases.push_back({"IPv4/UDP", make_frame(4, 17), false});
	cases.push_back({"IPv6/TCP", make_frame(6, 6), true});
	cases.push_back({"IPv6/UDP", make_frame(6, 17), true});

	// Agreement first: same queue from both programs and from the reference.
	bool agree = true;
	for (const Case &c : cases) {
		vsteer::RssResult ref = vsteer::compute_rss(config, c.frame);
		RunResult v = run_skb(ours.prog_fd, c.frame, 1, true);
		RunResult q = run_skb(qemu.prog_fd, c.frame, 1);
		uint32_t hash = v.ctx.cb[VSTEER_CB_HASH_VALUE], report = v.ctx.cb[VSTEER_CB_HASH_REPORT];
		if (v.retval != q.retval || v.retval != ref.queue || hash != ref.hash ||
		    report != ref.report) {
			std::fprintf(stderr,
			             "vsteer-bench: %s: queue vsteer %u, QEMU %u, reference %u; vsteer hash "
			             "%08x report %u, reference hash %08x report %u\n",
			             c.name, v.retval, q.retval, ref.queue, hash, report, ref.hash,
			             ref.report);
			agree = false;
		}
	}
	if (!agree && opt.check)
		fail("the programs disagree on well-formed frames (see above); timings would not compare "
		     "like with like");

	// Warm-up (builds vsteer's table on this CPU, warms caches and branch predictors).
	for (const Case &c : cases) {
		run_skb(ours.prog_fd, c.frame, 10000);
		run_skb(qemu.prog_fd, c.frame, 10000);
		run_skb(floor_fd, c.frame, 10000);
	}

	std::printf("\n== steering: ns/packet (BPF_PROG_TEST_RUN, %u repetitions x %d rounds, "
	            "medians) ==\n",
	            opt.repeat, opt.rounds);
	std::printf("configuration: Microsoft test key, hash types %s, 128-entry table over 4 queues; "
	            "frames: untagged, %zu-byte payload\n",
	            vsteer::format_hash_types(config.hash_types).c_str(), kPayload);
	std::printf("%-9s | %6s | %6s | %6s | %5s | %9s | %9s | %s\n", "case", "vsteer", "QEMU", "floor",
	            "empty", "vs QEMU", "vs floor", "rounds min..max (vsteer; QEMU; floor)");
	double v4_floor_ratio = 0, v6_sum_ours = 0, v6_sum_qemu = 0, sum_ours = 0, sum_qemu = 0;
	std::vector<double> all_ratio, v6_ratio;
	for (const Case &c : cases) {
		auto time = [&](int fd) {
			return [&c, fd, &opt] { return run_skb(fd, c.frame, opt.repeat).ns_per_run; };
		};
		Interleaved t = Interleaved::run(
		    opt.rounds, {time(ours.prog_fd), time(qemu.prog_fd), time(floor_fd), time(empty_fd)});
		std::printf(
		    "%-9s | %6.1f | %6.1f | %6.1f | %5.1f | %8.2fx | %8.2fx | %.1f..%.1f; %.1f..%.1f; "
		    "%.1f..%.1f\n",
		    c.name, t.median_ns(0), t.median_ns(1), t.median_ns(2), t.median_ns(3), t.ratio(0, 1),
		    t.ratio(0, 2), t.min_ns(0), t.max_ns(0), t.min_ns(1), t.max_ns(1), t.min_ns(2),
		    t.max_ns(2));
		sum_ours += t.median_ns(0);
		sum_qemu += t.median_ns(1);
		all_ratio.push_back(t.ratio(0, 1));
		if (c.ipv6) {
			v6_sum_ours += t.median_ns(0);
			v6_sum_qemu += t.median_ns(1);
			v6_ratio.push_back(t.ratio(0, 1));
		} else {
			v4_floor_ratio += t.ratio(0, 2) / 2;
		}
	}
	std::printf("mean      | %6.1f | %6.1f |\n", sum_ours / cases.size(), sum_qemu / cases.size());
	auto mean = [](const std::vector<double> &v) {
		double s = 0;
		for (double x : v)
			s += x;
		return s / v.size();
	};
	targets.add({"steering vs QEMU's program, all four cases", mean(all_ratio), "x", 0.20, false,
	             "mean of per-case median ratios"});
	targets.add(
	    {"steering vs QEMU's program, IPv6", mean(v6_ratio), "x", 0.25, false, "IPv6/TCP, IPv6/UDP"});
	targets.add({"steering IPv4 path vs parse-only floor", v4_floor_ratio, "x", 1.20, false,
	             "IPv4/TCP, IPv4/UDP"});
}

// ---------------------------------------------------------------------------------
// 3. Toeplitz table rebuild

void bench_toeplitz(const Options &opt, Floors &floors, int empty_fd, Targets &targets)
{
	uint32_t zero = 0;
	vsteer::RssKey key =
	    vsteer::parse_key("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c"
	                      "6a42b73bbeac01fa");
	vsteer_toeplitz_key k = vsteer::to_map_key(key);
	if (bpf_map_update_elem(bpf_map__fd(floors.skel->maps.bench_key), &zero, &k, BPF_ANY))
		fail("write the bench key map", errno);
	const Frame f = make_frame(4, 6);
	const uint32_t repeat = 2000;
	auto time = [&](int fd) { return [&f, fd] { return run_skb(fd, f, repeat).ns_per_run; }; };
	const int all = floors.fd(floors.skel->progs.probe_rebuild_all);
	const int v4 = floors.fd(floors.skel->progs.probe_rebuild_ipv4);
	if (run_skb(all, f, 1).retval != 1 || run_skb(v4, f, 1).retval != 1)
		fail("the Toeplitz rebuild probe did not rebuild");
	Interleaved t = Interleaved::run(opt.rounds, {time(all), time(v4), time(empty_fd)});
	double whole = (t.median_ns(0) - t.median_ns(2)) / 1000,
	       first = (t.median_ns(1) - t.median_ns(2)) / 1000;
	std::printf("\n== Toeplitz table rebuild on one CPU (shared builder, toeplitz_table.h; %u "
	            "rebuilds x %d rounds) ==\n",
	            repeat, opt.rounds);
	std::printf("all 36 positions (IPv6 inputs)     %7.2f us  (rounds %.1f..%.1f)\n", whole,
	            (t.min_ns(0) - t.median_ns(2)) / 1000, (t.max_ns(0) - t.median_ns(2)) / 1000);
	std::printf("first 12 positions (IPv4 only)     %7.2f us  (rounds %.1f..%.1f)\n", first,
	            (t.min_ns(1) - t.median_ns(2)) / 1000, (t.max_ns(1) - t.median_ns(2)) / 1000);
	targets.add({"Toeplitz table rebuild per CPU (whole table)", whole, " us", 20, false,
	             "net of the test-run loop"});
}

Options parse_args(int argc, char **argv)
{
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string_view a = argv[i];
		auto value = [&]() -> const char * {
			if (i + 1 >= argc)
				fail(std::string(a) + " needs a value");
			return argv[++i];
		};
		if (a == "--qemu-object")
			o.qemu_object = value();
		else if (a == "--vsteer-object")
			o.vsteer_object = value();
		else if (a == "--no-check")
			o.check = false;
		else if (a == "--parts")
			o.parts = value();
		else if (a == "--repeat")
			o.repeat = static_cast<uint32_t>(std::strtoul(value(), nullptr, 10));
		else if (a == "--rounds")
			o.rounds = std::atoi(value());
		else
			fail("unknown argument " + std::string(a) +
			     "; usage: vsteer-bench --qemu-object FILE [--repeat N] [--rounds R] [--parts "
			     "LIST] "
			     "[--vsteer-object FILE [--no-check]]");
	}
	if (o.qemu_object.empty())
		fail("--qemu-object FILE is required (scripts/qemu-rss-object.sh produces it)");
	if (o.repeat == 0 || o.rounds <= 0)
		fail("--repeat and --rounds must be positive");
	return o;
}

int run(int argc, char **argv)
{
	Options opt = parse_args(argc, argv);
	libbpf_log::install(); // libbpf's warnings, as vsteer shows them

	// One CPU for everything: per-CPU tables are built once, during warm-up.
	int cpu = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fail("pin to CPU " + std::to_string(cpu), errno);
	std::printf("vsteer-bench: CPU %d, kernel %s, bpf_jit_enable=%s, %ld CPUs online; the machine may "
	            "be shared: compare the ratios, each measured in one interleaved run\n\n",
	            cpu, read_first_line("/proc/sys/kernel/osrelease").c_str(),
	            read_first_line("/proc/sys/net/core/bpf_jit_enable").c_str(),
	            sysconf(_SC_NPROCESSORS_ONLN));

	Floors floors;
	int empty_fd = load_empty_program();
	Targets targets;
	if (opt.wants("verifier"))
		print_verifier_counts(floors);
	if (opt.wants("steering"))
		bench_steering(opt, floors, empty_fd, targets);
	if (opt.wants("toeplitz"))
		bench_toeplitz(opt, floors, empty_fd, targets);
	close(empty_fd);
	if (opt.wants("xdp"))
		bench_xdp(opt, floors.fd(floors.skel->progs.floor_xdp_pass), cpu, targets);
	if (opt.wants("live")) // last: it moves the process into a network namespace of its own
		bench_live(opt, floors.fd(floors.skel->progs.gen_tx), targets);
	targets.print();
	return 0;
}

} // namespace
} // namespace vsteer::bench

int main(int argc, char **argv)
{
	try {
		return vsteer::bench::run(argc, argv);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "vsteer-bench: %s\n", e.what());
		return 1;
	}
}
