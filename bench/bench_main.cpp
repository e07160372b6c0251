// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-bench: ns/packet of vsteer's tun steering program and of QEMU's own RSS
// program (fetched from the installed QEMU by scripts/qemu-rss-object.sh), both run
// by the kernel through BPF_PROG_TEST_RUN on the same frames and configuration.
//
//   vsteer-bench --qemu-object FILE [--repeat N] [--rounds R]
//
// Both programs get the same key, hash types (the six non-_EX ones) and a 128-entry
// indirection table over 4 queues, written through their QEMU-layout maps. For each
// frame the kernel's own per-run duration is taken (median over R rounds of N
// repetitions each, on one pinned CPU). Before timing, the queue each program
// returns is checked against the other and against the C++ reference, and
// vsteer's hash and report (cb[0], cb[1]) against the reference too.
//
// Exit status: 0 when everything ran and agreed (whatever the ratio), 1 on errors.
#include "frame_builder.hpp"
#include "rss_config.hpp"
#include "rss_reference.hpp"
#include "tun_steering.skel.h"
#include "vsteer_abi.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace
{

using Frame = std::vector<uint8_t>;

// ---------------------------------------------------------------------------------
// Errors and small helpers

[[noreturn]] void fail(const std::string &what, int err = 0)
{
	if (err)
		throw std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
	throw std::runtime_error(what);
}

int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return std::vfprintf(stderr, fmt, args);
}

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
};

// ---------------------------------------------------------------------------------
// The two programs behind one interface: a socket filter and its three QEMU-layout maps.

struct Target {
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
	Target t;

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
	Target t;

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

// The same configuration for both, in QEMU's map layout.
void configure(const Target &t, const vsteer::RssConfig &c)
{
	uint32_t zero = 0;
	vsteer_rss_config cfg = vsteer::to_map_config(c);
	vsteer_toeplitz_key key = vsteer::to_map_key(c.key);
	int err = bpf_map_update_elem(t.config_fd, &zero, &cfg, BPF_ANY);
	if (err)
		fail(std::string(t.name) + ": write the configuration map", errno);
	err = bpf_map_update_elem(t.key_fd, &zero, &key, BPF_ANY);
	if (err)
		fail(std::string(t.name) + ": write the Toeplitz key map", errno);
	for (uint32_t i = 0; i < VSTEER_MAX_TABLE_LEN; i++) {
		uint16_t q = c.table[i % c.table.size()];
		if (bpf_map_update_elem(t.table_fd, &i, &q, BPF_ANY))
			fail(std::string(t.name) + ": write indirection entry " + std::to_string(i), errno);
	}
}

struct RunResult {
	uint32_t retval = 0;
	uint32_t duration_ns = 0; // the kernel's average over `repeat`
	__sk_buff ctx{};
};

RunResult test_run(int prog_fd, const Frame &frame, uint32_t repeat, bool want_ctx, const char *who)
{
	RunResult r;
	bpf_test_run_opts opts{};
	opts.sz = sizeof(opts);
	opts.data_in = frame.data();
	opts.data_size_in = static_cast<uint32_t>(frame.size());
	opts.repeat = repeat;
	if (want_ctx) {
		opts.ctx_out = &r.ctx;
		opts.ctx_size_out = sizeof(r.ctx);
	}
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		fail(std::string("BPF_PROG_TEST_RUN of ") + who, errno);
	r.retval = opts.retval;
	r.duration_ns = opts.duration;
	return r;
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

uint32_t median(std::vector<uint32_t> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

std::string read_first_line(const char *path)
{
	std::ifstream in(path);
	std::string line;
	std::getline(in, line);
	return line.empty() ? "?" : line;
}

struct Options {
	std::string qemu_object;
	std::string vsteer_object; // empty: the skeleton
	bool check = true;
	uint32_t repeat = 200000;
	int rounds = 11;
};

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
		else if (a == "--repeat")
			o.repeat = static_cast<uint32_t>(std::strtoul(value(), nullptr, 10));
		else if (a == "--rounds")
			o.rounds = std::atoi(value());
		else
			fail("unknown argument " + std::string(a) +
			     "; usage: vsteer-bench --qemu-object FILE [--repeat N] [--rounds R] "
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
	libbpf_set_print(libbpf_quiet);

	// One CPU for everything: the per-CPU Toeplitz table is built once, during warm-up.
	int cpu = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fail("pin to CPU " + std::to_string(cpu), errno);

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
	const Target &qemu = qemu_obj.t, &ours = skel ? skel->t : file->t;
	configure(qemu, config);
	configure(ours, config);
	int empty_fd = load_empty_program();

	std::vector<Case> cases;
	cases.push_back({"IPv4/TCP", make_frame(4, 6)});
	cases.push_back({"IPv4/UDP", make_frame(4, 17)});
	cases.push_back({"IPv6/TCP", make_frame(6, 6)});
	cases.push_back({"IPv6/UDP", make_frame(6, 17)});

	// Agreement first: same queue from both programs and from the reference.
	bool agree = true;
	for (const Case &c : cases) {
		vsteer::RssResult ref = vsteer::compute_rss(config, c.frame);
		RunResult v = test_run(ours.prog_fd, c.frame, 1, true, "vsteer");
		RunResult q = test_run(qemu.prog_fd, c.frame, 1, false, "QEMU");
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
		test_run(ours.prog_fd, c.frame, 10000, false, "vsteer");
		test_run(qemu.prog_fd, c.frame, 10000, false, "QEMU");
	}

	struct Row {
		const char *name;
		uint32_t ours, qemu, queue;
		uint32_t ours_min, ours_max, qemu_min, qemu_max;
	};
	std::vector<Row> rows;
	std::vector<uint32_t> empty_rounds;
	for (const Case &c : cases) {
		std::vector<uint32_t> o, q;
		for (int r = 0; r < opt.rounds; r++) { // interleaved, so drift hits both alike
			o.push_back(test_run(ours.prog_fd, c.frame, opt.repeat, false, "vsteer").duration_ns);
			q.push_back(test_run(qemu.prog_fd, c.frame, opt.repeat, false, "QEMU").duration_ns);
			empty_rounds.push_back(
			    test_run(empty_fd, c.frame, opt.repeat, false, "empty").duration_ns);
		}
		auto [omin, omax] = std::minmax_element(o.begin(), o.end());
		auto [qmin, qmax] = std::minmax_element(q.begin(), q.end());
		rows.push_back({c.name, median(o), median(q),
		                test_run(ours.prog_fd, c.frame, 1, false, "vsteer").retval, *omin, *omax,
		                *qmin, *qmax});
	}
	close(empty_fd);
	uint32_t empty = median(empty_rounds);

	std::printf("vsteer-bench: BPF_PROG_TEST_RUN, CPU %d, %u repetitions x %d rounds (median), "
	            "kernel %s, bpf_jit_enable=%s\n",
	            cpu, opt.repeat, opt.rounds, read_first_line("/proc/sys/kernel/osrelease").c_str(),
	            read_first_line("/proc/sys/net/core/bpf_jit_enable").c_str());
	std::printf("configuration: Microsoft test key, hash types %s, 128-entry table over 4 queues; "
	            "frames: untagged, %zu-byte payload\n\n",
	            vsteer::format_hash_types(config.hash_types).c_str(), kPayload);
	std::printf("%-10s | %14s | %12s | %6s | %5s | %s\n", "case", "vsteer ns/pkt", "QEMU ns/pkt", "ratio",
	            "queue", "rounds min..max (vsteer; QEMU)");
	std::printf(
	    "-----------+----------------+--------------+--------+-------+-------------------------------\n");
	double sum_ours = 0, sum_qemu = 0;
	for (const Row &r : rows) {
		std::printf("%-10s | %14u | %12u | %6.2f | %5u | %u..%u; %u..%u\n", r.name, r.ours, r.qemu,
		            static_cast<double>(r.ours) / r.qemu, r.queue, r.ours_min, r.ours_max, r.qemu_min,
		            r.qemu_max);
		sum_ours += r.ours;
		sum_qemu += r.qemu;
	}
	std::printf(
	    "-----------+----------------+--------------+--------+-------+-------------------------------\n");
	double ratio = sum_ours / sum_qemu;
	std::printf("%-10s | %14.1f | %12.1f | %6.2f |       |\n\n", "mean", sum_ours / rows.size(),
	            sum_qemu / rows.size(), ratio);
	double net_ours = sum_ours / rows.size() - empty, net_qemu = sum_qemu / rows.size() - empty;
	std::printf("overall ratio vsteer/QEMU: %.3f (target <= 0.50: %s)\n", ratio,
	            ratio <= 0.5 ? "met" : "NOT met");
	std::printf("test-run loop alone (empty program): %u ns/pkt; net of it: vsteer %.1f, QEMU %.1f, "
	            "ratio %.2f\n",
	            empty, net_ours, net_qemu, net_qemu > 0 ? net_ours / net_qemu : 0.0);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	try {
		return run(argc, argv);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "vsteer-bench: %s\n", e.what());
		return 1;
	}
}
