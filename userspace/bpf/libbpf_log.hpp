// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// What libbpf prints, and when: one print callback for the whole process, set by `vsteer
// -v/--verbose` (main.cpp). libxdp's messages follow the same verbosity (xdp_objects.cpp).
#pragma once

#include <string>

namespace vsteer::libbpf_log
{

// 0 (default): libbpf's warnings and notes, as libbpf prints them by default, except inside a
//   HeldBack scope, where they are kept and shown only if the step fails;
// 1 (-v):  everything at once, held back or not, and libxdp's notes;
// 2 (-vv): libbpf's and libxdp's debug output too (e.g. the verifier log of every load).
void set_verbosity(int level);
int verbosity();

// Installs the callback (idempotent); set_verbosity and HeldBack do it themselves.
void install();

// Around a step whose libbpf messages are expected when it works out (libxdp probing a
// dispatcher the kernel refuses, querying a qdisc that is not there): the messages are kept
// and show() prints them when the step failed after all. Scopes nest per thread.
class HeldBack
{
public:
	HeldBack();
	~HeldBack();
	HeldBack(const HeldBack &) = delete;
	HeldBack &operator=(const HeldBack &) = delete;

	void keep(const char *message) { kept_ += message; } // the print callback's
	const std::string &kept() const { return kept_; }
	void show(); // prints what was kept to stderr, then forgets it

private:
	std::string kept_;
	HeldBack *outer_;
};

} // namespace vsteer::libbpf_log
