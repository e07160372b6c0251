// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer check`: each inconsistency between the guest's policy (pinned maps), the tap and
// the process serving it is found and named; a consistent setup passes.
#include "qemu_check.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace vsteer;
using namespace vsteer::qemu;

namespace
{

CheckInput good()
{
	CheckInput in;
	in.tap = "vst0";
	TapInfo t;
	t.name = "vst0";
	t.is_tap = true;
	t.multi_queue = true;
	t.queues = 4;
	in.info = t;
	RssConfig c;
	c.key = parse_key("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa");
	c.table = equal_table(4);
	in.config = c;
	in.raw_table_len = 128;
	in.prog_id = 10;
	in.config_map_id = 11;
	in.key_map_id = 12;
	in.table_map_id = 13;
	in.holders_known = true;
	in.holders.push_back(TapHolder{.pid = 42,
	                               .comm = "qemu-system-x86",
	                               .tap_queues = 4,
	                               .prog_ids = {10},
	                               .map_ids = {11, 12, 13, 99}});
	return in;
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
