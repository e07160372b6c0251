// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "libbpf_log.hpp"

#include <bpf/libbpf.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace vsteer::libbpf_log
{
namespace
{

std::atomic<int> g_verbosity{0};
thread_local HeldBack *t_innermost = nullptr;

int print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	const int v = g_verbosity.load(std::memory_order_relaxed);
	if (level == LIBBPF_DEBUG && v < 2)
		return 0;
	if (!t_innermost || v >= 1)
		return std::vfprintf(stderr, fmt, args);
	char buf[1024];
	const int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
	t_innermost->keep(buf);
	return n;
}

} // namespace

void install()
{
	static std::atomic<bool> done{false};
	if (!done.exchange(true))
		libbpf_set_print(print);
}

void set_verbosity(int level)
{
	g_verbosity.store(level, std::memory_order_relaxed);
	install();
}

int verbosity()
{
	return g_verbosity.load(std::memory_order_relaxed);
}

HeldBack::HeldBack() : outer_(t_innermost)
{
	install();
	t_innermost = this;
}

HeldBack::~HeldBack()
{
	t_innermost = outer_;
}

void HeldBack::show()
{
	std::fputs(kept_.c_str(), stderr);
	kept_.clear();
}

} // namespace vsteer::libbpf_log
