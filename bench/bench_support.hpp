// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// What every part of vsteer-bench shares: BPF_PROG_TEST_RUN timing, interleaved
// rounds against a floor, and the list of targets printed at the end.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vsteer::bench
{

using Frame = std::vector<uint8_t>;

[[noreturn]] inline void fail(const std::string &what, int err = 0)
{
	if (err)
		throw std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
	throw std::runtime_error(what);
}

struct RunResult {
	uint32_t retval = 0;
	double ns_per_run = 0; // see timed_test_run
	__sk_buff ctx{};
};

/*
 * BPF_PROG_TEST_RUN of `opts` with `repeat` runs; returns the time of one run in ns.
 * Not the kernel's `duration`: it is an integer, and against a 5 ns floor one nanosecond of
 * rounding is 0.2x of a ratio. Instead this thread's CPU time (which, like `duration`, leaves
 * out time the thread was not running) of the call, minus that of the same call with 2 runs:
 * what every call costs besides the runs cancels out. For XDP that is 0.3-0.5 ms (the kernel
 * switches its XDP dispatcher to the program and back around a repeated run), which would
 * add 3-5 ns to every run of a 100000-run call. The outputs are those of the long call.
 * With `timed` false, the one call with `repeat` runs only.
 */
inline double timed_test_run(int prog_fd, bpf_test_run_opts &opts, uint32_t repeat, const char *what,
                             bool timed = true)
{
	auto cpu_ns = [&](uint32_t runs) {
		timespec a{}, b{};
		opts.repeat = static_cast<int>(runs);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
		const int err = bpf_prog_test_run_opts(prog_fd, &opts);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
		if (err)
			fail(std::string("BPF_PROG_TEST_RUN of ") + what + " fd " + std::to_string(prog_fd),
			     errno);
		return double(b.tv_sec - a.tv_sec) * 1e9 + double(b.tv_nsec - a.tv_nsec);
	};
	if (repeat <= 2 || !timed)
		return cpu_ns(repeat) / repeat;
	const double setup = cpu_ns(2);
	return std::max(0.0, cpu_ns(repeat) - setup) / (repeat - 2);
}

// One BPF_PROG_TEST_RUN of a socket filter (the context is read back with want_ctx).
inline RunResult run_skb(int prog_fd, const Frame &frame, uint32_t repeat, bool want_ctx = false)
{
	RunResult r;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
	            .data_size_in = static_cast<uint32_t>(frame.size()));
	if (want_ctx) {
		opts.ctx_out = &r.ctx;
		opts.ctx_size_out = sizeof(r.ctx);
	}
	r.ns_per_run = timed_test_run(prog_fd, opts, repeat, "program");
	r.retval = opts.retval;
	return r;
}

// One BPF_PROG_TEST_RUN of an XDP program (room for metadata in data_out). `timed` false:
// one call only, for offering load (ns_per_run then includes the call's own cost).
inline RunResult run_xdp(int prog_fd, const Frame &frame, uint32_t repeat, bool timed = true)
{
	RunResult r;
	std::vector<uint8_t> out(frame.size() + 256);
	xdp_md ctx_in{};
	ctx_in.data_end = static_cast<__u32>(frame.size());
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
	            .data_size_in = static_cast<uint32_t>(frame.size()),
	            .data_size_out = static_cast<uint32_t>(out.size()), .ctx_in = &ctx_in,
	            .ctx_size_in = sizeof(ctx_in));
	r.ns_per_run = timed_test_run(prog_fd, opts, repeat, "XDP program", timed);
	r.retval = opts.retval;
	return r;
}

template <typename T> T median(std::vector<T> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

// ns per run of several programs on the machine's noise: R rounds, in each round every
// program once, back to back, so drift hits all alike. Per program the median over
// rounds, and per pair the median of the per-round ratios (what the targets compare).
struct Interleaved {
	std::vector<std::vector<double>> ns; // [program][round]

	static Interleaved run(int rounds, const std::vector<std::function<double()>> &programs)
	{
		Interleaved t;
		t.ns.resize(programs.size());
		for (int r = 0; r < rounds; r++)
			for (size_t p = 0; p < programs.size(); p++)
				t.ns[p].push_back(programs[p]());
		return t;
	}
	double median_ns(size_t p) const { return median(ns[p]); }
	double min_ns(size_t p) const { return *std::min_element(ns[p].begin(), ns[p].end()); }
	double max_ns(size_t p) const { return *std::max_element(ns[p].begin(), ns[p].end()); }
	double ratio(size_t a, size_t b) const
	{
		std::vector<double> r;
		for (size_t i = 0; i < ns[a].size(); i++)
			r.push_back(ns[b][i] > 0 ? ns[a][i] / ns[b][i] : 0);
		return median(r);
	}
};

// The targets of issue 12, printed together at the end of the run.
struct Target {
	std::string what;
	double value;     // measured (a ratio or a time)
	std::string unit; // "x" for ratios, " ns" / " us" for times
	double limit;
	bool at_least; // value >= limit is good (otherwise <=)
	std::string detail;
};

class Targets
{
public:
	void add(Target t) { list_.push_back(std::move(t)); }
	void print() const
	{
		std::printf("\n== targets (issue 12), measured in this run ==\n");
		std::printf("%-58s %10s %10s  %-7s  %s\n", "target", "measured", "limit", "", "from");
		for (const Target &t : list_) {
			bool met = t.at_least ? t.value >= t.limit : t.value <= t.limit;
			std::printf("%-58s %9.2f%s %s%7.2f%s  %-7s  %s\n", t.what.c_str(), t.value,
			            t.unit.c_str(), t.at_least ? ">=" : "<=", t.limit, t.unit.c_str(),
			            met ? "met" : "NOT met", t.detail.c_str());
		}
	}

private:
	std::vector<Target> list_;
};

} // namespace vsteer::bench
