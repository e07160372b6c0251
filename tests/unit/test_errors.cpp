// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The one error type (userspace/rss/error.hpp): the exit status comes from errno, a failure
// while undoing a failed change is reported together with that failure, never instead of it
// and never swallowed.
#include "error.hpp"
#include "qemu_cmdline.hpp"
#include "qemu_qmp.hpp"

#include <doctest/doctest.h>

#include <cerrno>

using namespace vsteer;

namespace
{

template <typename F> std::exception_ptr caught(F &&f)
{
	try {
		f();
	} catch (...) {
		return std::current_exception();
	}
	return nullptr;
}

std::vector<std::string> chain_of(const std::exception_ptr &p)
{
	try {
		std::rethrow_exception(p);
	} catch (const std::exception &e) {
		return error_chain(e);
	}
}

int exit_code_of(const std::exception_ptr &p)
{
	try {
		std::rethrow_exception(p);
	} catch (const std::exception &e) {
		return exit_code(e);
	}
}

} // namespace

TEST_CASE("errors: the exit status is the errno, 1 without one")
{
	CHECK(exit_code_of(caught([] { throw Error(ENODEV, "tap t0", "look up"); })) == ENODEV);
	CHECK(exit_code_of(caught([] { throw ConfigError("bad key"); })) == EINVAL);
	CHECK(exit_code_of(caught([] { throw qemu::CmdlineError("no netdev"); })) == EINVAL);
	CHECK(exit_code_of(caught([] { throw qemu::QmpError("refused", "GenericError"); })) == EPROTO);
	CHECK(exit_code_of(caught([] { throw Error(0, "x", "y"); })) == 1);
	CHECK(exit_code_of(caught([] { throw std::runtime_error("plain"); })) == 1);
}

TEST_CASE("errors: a successful undo rethrows the original failure unchanged")
{
	bool undone = false;
	auto p = caught([&] {
		try {
			throw Error(EBUSY, "tap t0", "attach");
		} catch (...) {
			rethrow_after_undo("tap t0", [&] { undone = true; });
		}
	});
	CHECK(undone);
	CHECK(chain_of(p) ==
	      std::vector<std::string>{"tap t0: attach: " + std::generic_category().message(EBUSY) +
	                               " (errno " + std::to_string(EBUSY) + ")"});
	CHECK(exit_code_of(p) == EBUSY);
}

TEST_CASE("errors: a failed undo is reported, with the original failure as its cause")
{
	auto p = caught([&] {
		try {
			throw Error(EBUSY, "tap t0", "attach");
		} catch (...) {
			rethrow_after_undo("pins in /sys/fs/bpf/x", [] {
				throw Error(EACCES, "/sys/fs/bpf/x", "remove pin directory");
			});
		}
	});
	auto chain = chain_of(p);
	REQUIRE(chain.size() == 2);
	CHECK(chain[0].find("pins in /sys/fs/bpf/x") == 0);
	CHECK(chain[0].find("remove pin directory") != std::string::npos);
	CHECK(chain[0].find("half-changed") != std::string::npos);
	CHECK(chain[1].find("tap t0: attach") == 0);
	// the status is the original failure's
	CHECK(exit_code_of(p) == EBUSY);
}
