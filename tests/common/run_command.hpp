// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Runs a shell command and returns its exit status and standard output (add " 2>&1" to the
// command for its errors too): the one way tests run the vsteer binary or a tool (bpftool)
// outside a network namespace of their own (inside one, tests/netns/tun_path_util.hpp's
// vsteer_cli, which keeps stdout and stderr apart).
#pragma once

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace vsteer::test
{

struct CommandResult {
	int rc = -1;      // exit status; -1 if killed by a signal
	std::string text; // what the command wrote to stdout
};

inline CommandResult run_command(const std::string &cmd)
{
	CommandResult r;
	FILE *p = popen(cmd.c_str(), "r");
	REQUIRE_MESSAGE(p, "popen " << cmd);
	std::array<char, 4096> buf;
	for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
		r.text.append(buf.data(), n);
	const int status = pclose(p);
	r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return r;
}

// The same, for a command that must succeed (the case stops otherwise).
inline std::string run_command_ok(const std::string &cmd)
{
	CommandResult r = run_command(cmd);
	REQUIRE_MESSAGE(r.rc == 0, cmd << " failed: " << r.text);
	return r.text;
}

} // namespace vsteer::test
