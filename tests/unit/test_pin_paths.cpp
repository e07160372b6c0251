// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Pin paths and names before anything touches bpffs: one spelling of a --pin-dir (issue 13,
// item 11), tap names that cannot name another directory, and JSON strings that stay valid
// for names that are not UTF-8.
#include "error.hpp"
#include "json.hpp"
#include "pin_dir.hpp"
#include "steering_objects.hpp"
#include "tap_control.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace vsteer;

namespace
{

std::string error_of(auto &&f)
{
	try {
		f();
	} catch (const Error &e) {
		return e.what();
	}
	return {};
}

} // namespace

TEST_CASE("normalize_pin_path: one spelling, relative and dot paths refused with the fix")
{
	CHECK(normalize_pin_path("/sys/fs/bpf/x/") == "/sys/fs/bpf/x");
	CHECK(normalize_pin_path("/sys/fs/bpf//x///") == "/sys/fs/bpf/x");
	CHECK(normalize_pin_path("//sys/fs/bpf/x") == "/sys/fs/bpf/x");
	CHECK(error_of([] { normalize_pin_path("sys/fs/bpf/x"); }).find("is a relative path") !=
	      std::string::npos);
	CHECK(error_of([] { normalize_pin_path("sys/fs/bpf/x"); }).find("absolute path") !=
	      std::string::npos);
	CHECK(error_of([] { normalize_pin_path("/sys/fs/bpf/../x"); }).find("'..' component") !=
	      std::string::npos);
	CHECK(error_of([] { normalize_pin_path("/sys/fs/bpf/./x"); }).find("'.' component") !=
	      std::string::npos);
	CHECK(error_of([] { normalize_pin_path(""); }).find("empty") != std::string::npos);
	CHECK(error_of([] { normalize_pin_path("///"); }).find("root directory") != std::string::npos);
	CHECK(error_of([] { normalize_pin_path("x", "--rss-pins"); }).find("--rss-pins x") == 0);
}

TEST_CASE("TapPins: default and custom pin directories, hints with the --pin-dir in use")
{
	TapPins d = TapPins::of("vst0", "");
	CHECK(d.path == "/sys/fs/bpf/vsteer/vst0");
	CHECK(d.root == "/sys/fs/bpf/vsteer");
	CHECK(d.name == "vst0");
	CHECK(!d.custom);
	CHECK(d.command("attach") == "vsteer attach --tap vst0");
	CHECK(!TapPins::of("vst0", "/sys/fs/bpf/vsteer/vst0/").custom);

	TapPins c = TapPins::of("vst0", "/sys/fs/bpf/mine//vm1/");
	CHECK(c.path == "/sys/fs/bpf/mine/vm1");
	CHECK(c.root == "/sys/fs/bpf/mine");
	CHECK(c.name == "vm1");
	CHECK(c.custom);
	CHECK(c.command("detach") == "vsteer detach --tap vst0 --pin-dir /sys/fs/bpf/mine/vm1");
	CHECK(error_of([] { TapPins::of("vst0", "/sys/fs/bpf/a.b"); }).find("'.'") != std::string::npos);
}

TEST_CASE("interface names: what the kernel refuses is refused before it names a directory")
{
	for (const char *bad : {"", "a/b", "a:b", "a b", "a\tb", ".", "..", "0123456789abcdef"}) {
		CAPTURE(bad);
		CHECK(error_of([&] { check_interface_name(bad); }).find("invalid interface name") !=
		      std::string::npos);
		CHECK(error_of([&] { TapPins::of(bad, ""); }).find("invalid interface name") !=
		      std::string::npos);
	}
	for (const char *good : {"vst0", "a.b", "0123456789abcde", "tap\xff", "t-_x"}) {
		CAPTURE(good);
		CHECK_NOTHROW(check_interface_name(good));
	}
}

TEST_CASE("--json text: strings are valid JSON whatever bytes they hold")
{
	struct Case {
		std::string in, want; // want: the string nlohmann reads back
	};
	const std::vector<Case> cases = {
	    {"plain", "plain"},
	    {"q\"b\\\n", "q\"b\\\n"},
	    {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"}, // UTF-8 stays as it is
	    {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},   // 4-byte sequence
	    {"vt\xff"
	     "1",
	     "vt\xef\xbf\xbd"
	     "1"},                                                                    // a lone byte
	    {"\xc3", "\xef\xbf\xbd"},                                                 // truncated sequence
	    {"\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                 // overlong
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                 // surrogate
	    {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, // above U+10FFFF
	};
	auto valid_utf8 = [](const std::string &t) { return t.find("\xef\xbf\xbd") == std::string::npos; };
	for (const auto &c : cases) {
		CAPTURE(c.in);
		const std::string text = to_json_text(Json{{c.in, c.in}});
		nlohmann::json parsed;
		REQUIRE_NOTHROW(parsed = nlohmann::json::parse(text));
		REQUIRE(parsed.size() == 1);
		const std::string key = parsed.begin().key(), value = parsed.begin().value();
		CHECK(key == value);
		if (valid_utf8(c.want)) {
			CHECK(key == c.want); // valid UTF-8 is kept byte for byte
		} else {
			// invalid bytes become U+FFFD (how many per sequence is the library's rule)
			CHECK(!valid_utf8(key));
			CHECK(key.find(c.in) == std::string::npos);
		}
	}
}
