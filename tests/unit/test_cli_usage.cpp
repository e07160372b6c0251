// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Usage errors of the vsteer binary that need no privileges (`vsteer hash` and the global
// flags): CLI11's checks refuse them with a message naming the option, exit status EINVAL.
// The privileged commands' refusals are in tests/netns/test_cli_errors.cpp and
// tests/bpf/test_xdp_cli.cpp.
#include "rss_config.hpp"
#include "run_command.hpp"
#include "toeplitz.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdio>
#include <string>

using namespace vsteer;

namespace
{

using test::CommandResult;

CommandResult run_vsteer(const std::string &args)
{
	return test::run_command(std::string(VSTEER_BINARY) + " " + args + " 2>&1");
}

const std::string kKey = "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa";
const std::string kTuple = "--tuple 66.9.149.187,161.142.100.80,2794,1766";

} // namespace

TEST_CASE("vsteer hash: --table-len is a power of two from 1 to 128")
{
	// The tuple as the hash input: source, destination, source port, destination port.
	const uint8_t input[] = {66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6};
	const uint32_t hash = toeplitz_hash(parse_key(kKey), input);
	for (unsigned len = 1; len <= 128; len *= 2) {
		CAPTURE(len);
		CommandResult r =
		    run_vsteer("hash --key " + kKey + " " + kTuple + " --table-len " + std::to_string(len));
		CHECK_MESSAGE(r.rc == 0, r.text);
		CHECK_MESSAGE(r.text.find("table_index " + std::to_string(hash & (len - 1)) + " (of " +
		                          std::to_string(len) + ")") != std::string::npos,
		              r.text);
	}
	for (const char *bad : {"0", "3", "96", "256", "-1", "x"}) {
		CAPTURE(bad);
		CommandResult r = run_vsteer("hash --key " + kKey + " " + kTuple + " --table-len " + bad);
		CHECK(r.rc == EINVAL);
		CHECK_MESSAGE(r.text.find("--table-len") != std::string::npos, r.text);
	}
	CommandResult r = run_vsteer("hash --key " + kKey + " " + kTuple + " --table-len 3");
	CHECK_MESSAGE(r.text.find("3 not in {1,2,4,8,16,32,64,128}") != std::string::npos, r.text);
}

TEST_CASE("vsteer hash: exactly one of --packet and --tuple")
{
	CommandResult none = run_vsteer("hash --key " + kKey);
	CHECK(none.rc == EINVAL);
	CHECK_MESSAGE(none.text.find("Exactly 1 option from [--packet,--tuple] is required") !=
	                  std::string::npos,
	              none.text);
	CommandResult both = run_vsteer("hash --key " + kKey + " " + kTuple + " --packet 00");
	CHECK(both.rc == EINVAL);
	CHECK_MESSAGE(both.text.find("and 2 were given") != std::string::npos, both.text);
}

TEST_CASE("vsteer -v/--verbose: before or after the subcommand, counted; --help exits 0")
{
	for (const std::string &args :
	     {"-v hash --key " + kKey + " " + kTuple, "hash -vv --key " + kKey + " " + kTuple,
	      "--verbose hash --key " + kKey + " " + kTuple}) {
		CAPTURE(args);
		CommandResult r = run_vsteer(args);
		CHECK_MESSAGE(r.rc == 0, r.text);
		CHECK(r.text.find("report tcpv4") != std::string::npos);
	}
	CommandResult help = run_vsteer("--help");
	CHECK(help.rc == 0);
	CHECK(help.text.find("-v,--verbose") != std::string::npos);
	CommandResult unknown = run_vsteer("hash --key " + kKey + " " + kTuple + " --no-such-option");
	CHECK(unknown.rc == EINVAL);
	CHECK_MESSAGE(unknown.text.find("--no-such-option") != std::string::npos, unknown.text);
}
