// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer check`: each inconsistency between the guest's policy (pinned maps), the tap and
// the process serving it is found and named; a consistent setup passes.
#include "check_fixture.hpp"
#include "qemu_check.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace vsteer;
using namespace vsteer::check;
using namespace vsteer::qemu;

namespace
{

CheckInput good()
{
	return vsteer::test::consistent_check_input();
}

const Finding *find(const std::vector<Finding> &f, const std::string &name)
{
	auto it = std::find_if(f.begin(), f.end(), [&](const Finding &x) { return x.name == name; });
	return it == f.end() ? nullptr : &*it;
}

Status status_of(const CheckInput &in, const std::string &name)
{
	auto f = check_consistency(in);
	const Finding *x = find(f, name);
	REQUIRE_MESSAGE(x, "no finding named " << name);
	return x->status;
}

} // namespace

TEST_CASE("check: a consistent guest policy passes")
{
	auto f = check_consistency(good());
	CHECK(consistent(f));
	for (const char *n : {"tap", "pins", "table-size", "table-queues", "unclassified-queue", "key",
	                      "hash-types", "steering-program"}) {
		const Finding *x = find(f, n);
		REQUIRE_MESSAGE(x, n);
		CHECK_MESSAGE(x->status == Status::ok, n << ": " << x->detail);
	}
	CHECK(find(f, "steering-program")->detail.find("qemu-system-x86[42]") != std::string::npos);
}

TEST_CASE("check: table entries beyond the active queues")
{
	auto in = good();
	in.info->queues = 2;
	in.info->disabled_queues = 2;
	auto f = check_consistency(in);
	CHECK_FALSE(consistent(f));
	const Finding *x = find(f, "table-queues");
	CHECK(x->status == Status::fail);
	CHECK(x->detail.find("64 of 128 entries") != std::string::npos);
	CHECK(x->detail.find("(2,3)") != std::string::npos);
	CHECK(find(f, "tap")->detail.find("2 disabled") != std::string::npos);
}

TEST_CASE("check: unclassified queue, key, hash types, table size")
{
	auto in = good();
	in.config->unclassified_queue = 4;
	CHECK(status_of(in, "unclassified-queue") == Status::fail);

	in = good();
	in.config->key = RssKey{};
	CHECK(status_of(in, "key") == Status::fail);

	in = good();
	in.config->hash_types = 0x3f | (1u << 12);
	CHECK(status_of(in, "hash-types") == Status::fail);
	in.config->hash_types = 0;
	CHECK(status_of(in, "hash-types") == Status::warn);
	CHECK(consistent(check_consistency(in)));

	in = good();
	in.raw_table_len = 0;
	CHECK(status_of(in, "table-size") == Status::fail);
	in.raw_table_len = 96;
	CHECK(status_of(in, "table-size") == Status::fail);
	in.raw_table_len = 200;
	CHECK(status_of(in, "table-size") == Status::fail);
}

TEST_CASE("check: the process serving the tap does not hold the steering objects")
{
	auto in = good();
	in.holders[0].prog_ids = {77};
	auto f = check_consistency(in);
	CHECK_FALSE(consistent(f));
	CHECK(find(f, "steering-program")->detail.find("does not hold program id 10") != std::string::npos);
	in = good();
	in.holders[0].map_ids = {11};
	CHECK(status_of(in, "steering-program") == Status::fail);
	in = good();
	in.holders.clear();
	CHECK(status_of(in, "steering-program") == Status::warn);
}

TEST_CASE("check: missing tap or pins")
{
	auto in = good();
	in.info.reset();
	auto f = check_consistency(in);
	CHECK(find(f, "tap")->status == Status::fail);
	CHECK_FALSE(consistent(f));
	in = good();
	in.config.reset();
	in.pin_problem = "no complete pin set in /sys/fs/bpf/vsteer/vst0";
	f = check_consistency(in);
	CHECK(find(f, "pins")->status == Status::fail);
	CHECK(find(f, "pins")->detail == in.pin_problem);
	CHECK_FALSE(find(f, "table-size"));
}
