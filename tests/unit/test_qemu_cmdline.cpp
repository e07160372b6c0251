// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer run-qemu` command-line rewriting: finding the tap's netdev and virtio-net device,
// adding ebpf-rss-fds in QEMU's JSON -device form, typed conversion of key=value devices,
// and the errors for every missing or ambiguous piece.
#include "qemu_cmdline.hpp"
#include "json.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace vsteer;
using namespace vsteer::qemu;

namespace
{

using Argv = std::vector<std::string>;

// Types as QEMU 10.0's `-device virtio-net-pci,help` prints them (abridged).
const char *kHelp = R"(virtio-net-pci options:
  acpi-index=<uint32>    -  (default: 0)
  addr=<str>             - Slot and optional function number, example: 06.0 or 06 (default: -1)
  bootindex=<int32>
  disable-legacy=<OnOffAuto> - on/off/auto (default: auto)
  ebpf-rss-fds=<list>    -  (default: [])
  hash=<bool>            - on/off (default: off)
  host_mtu=<uint16>      -  (default: 0)
  mac=<str>              - Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56
  mq=<bool>              - on/off (default: off)
  netdev=<str>           - ID of a netdev to use as a backend
  rss=<bool>             - on/off (default: off)
  vectors=<uint32>       -  (default: 4294967295)
  virtio-backend=<child<virtio-net-device>>
  x-max-bounce-buffer-size=<size> - Maximum buffer size (default: 4096)
)";

const EbpfRssFds kFds{30, 31, 32, 33};

std::string error_of(const Argv &argv, const TargetSelector &sel)
{
	try {
		add_ebpf_rss_fds(argv, sel, kFds, parse_device_help(kHelp));
	} catch (const CmdlineError &e) {
		return e.what();
	}
	return "";
}

bool contains(const std::string &s, const std::string &part)
{
	return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("QEMU version: parsed from -version, 9.0 is the minimum")
{
	auto v =
	    parse_qemu_version("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)\n"
	                       "Copyright (c) 2003-2025 Fabrice Bellard and the QEMU Project developers\n");
	REQUIRE(v);
	CHECK(v->major == 10);
	CHECK(v->minor == 0);
	CHECK(v->micro == 2);
	CHECK(*v >= kMinEbpfRssFdsVersion);
	auto old = parse_qemu_version("QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)");
	REQUIRE(old);
	CHECK(*old < kMinEbpfRssFdsVersion);
	auto two = parse_qemu_version("QEMU emulator version 9.0");
	REQUIRE(two);
	CHECK(*two == QemuVersion{9, 0, 0});
	CHECK_FALSE(parse_qemu_version("qemu-system-x86_64: -version: invalid option"));
	CHECK(format_version({9, 1, 3}) == "9.1.3");
}

TEST_CASE("-device help: property types")
{
	auto t = parse_device_help(kHelp);
	CHECK(t.at("mq") == "bool");
	CHECK(t.at("vectors") == "uint32");
	CHECK(t.at("addr") == "str");
	CHECK(t.at("ebpf-rss-fds") == "list");
	CHECK(t.at("disable-legacy") == "OnOffAuto");
	CHECK(t.at("virtio-backend") == "child<virtio-net-device");
	CHECK(t.count("virtio-net-pci options:") == 0);
}

TEST_CASE("keyval: QemuOpts syntax")
{
	auto kv = parse_keyval("virtio-net-pci,netdev=n0,mq=on,romfile=a,,b,no-hash,rss", "driver");
	REQUIRE(kv.size() == 6);
	CHECK(kv[0] == std::pair<std::string, std::string>{"driver", "virtio-net-pci"});
	CHECK(kv[1].second == "n0");
	CHECK(kv[3] == std::pair<std::string, std::string>{"romfile", "a,b"});
	CHECK(kv[4] == std::pair<std::string, std::string>{"hash", "off"});
	CHECK(kv[5] == std::pair<std::string, std::string>{"rss", "on"});
	CHECK(format_keyval(kv) == "driver=virtio-net-pci,netdev=n0,mq=on,romfile=a,,b,hash=off,rss=on");
	CHECK(parse_keyval("driver=e1000,id=x", "driver")[0].second == "e1000");
	CHECK_THROWS_AS(parse_keyval("a,,,=b", "driver"), CmdlineError);
}

TEST_CASE("key=value device becomes typed JSON with ebpf-rss-fds")
{
	Argv argv{"qemu-system-x86_64",
	          "-m",
	          "512",
	          "-netdev",
	          "tap,id=n0,ifname=vst0,script=no,downscript=no,queues=4,vhost=off",
	          "-device",
	          "virtio-net-pci,netdev=n0,mq=on,rss=on,vectors=10,mac=52:54:00:12:34:56,addr=3,bootindex=1",
	          "-kernel",
	          "bz"};
	auto r = add_ebpf_rss_fds(argv, TargetSelector{"vst0", ""}, kFds, parse_device_help(kHelp));
	CHECK(r.target.netdev_id == "n0");
	CHECK(r.target.driver == "virtio-net-pci");
	CHECK(r.target.device_index == 6);
	CHECK(r.notes.empty());
	CHECK(r.argv.size() == argv.size());
	CHECK(r.argv[5] == "-device");
	CHECK(r.argv[6] == r.device);
	CHECK(r.device ==
	      R"({"driver":"virtio-net-pci","netdev":"n0","mq":true,"rss":true,"vectors":10,)"
	      R"("mac":"52:54:00:12:34:56","addr":"3","bootindex":1,"ebpf-rss-fds":["30","31","32","33"]})");
	// Everything else untouched.
	for (size_t i = 0; i < argv.size(); i++)
		if (i != 6)
			CHECK(r.argv[i] == argv[i]);
}

TEST_CASE("JSON device keeps its form and key order; JSON netdev is found")
{
	Argv argv{
	    "qemu", "--netdev", R"({"type":"tap","id":"net0","ifname":"vst1","queues":4,"vhost":false})",
	    "-device",
	    R"({ "driver": "virtio-net-pci", "netdev": "net0", "mq": true, "rss": true, "id": "nic0" })"};
	auto r = add_ebpf_rss_fds(argv, TargetSelector{"vst1", ""}, kFds, {});
	CHECK(
	    r.device ==
	    R"({"driver":"virtio-net-pci","netdev":"net0","mq":true,"rss":true,"id":"nic0","ebpf-rss-fds":["30","31","32","33"]})");
	auto back = parse_json(r.argv[4]);
	CHECK(back.at("ebpf-rss-fds").size() == 4);
	CHECK(back.at("ebpf-rss-fds")[0] == "30");
}

TEST_CASE("rss is added when the device does not say, refused when it is off")
{
	Argv argv{"qemu", "-netdev", "tap,id=n0,ifname=t0", "-device", "virtio-net-pci,netdev=n0"};
	auto r = add_ebpf_rss_fds(argv, TargetSelector{"t0", ""}, kFds, parse_device_help(kHelp));
	CHECK(r.device ==
	      R"({"driver":"virtio-net-pci","netdev":"n0","rss":true,"ebpf-rss-fds":["30","31","32","33"]})");
	REQUIRE(r.notes.size() == 1);
	CHECK(contains(r.notes[0], "rss"));
	CHECK(contains(error_of({"qemu", "-netdev", "tap,id=n0,ifname=t0", "-device",
	                         "virtio-net-pci,netdev=n0,rss=off"},
	                        TargetSelector{"t0", ""}),
	               "rss=off"));
	CHECK(contains(error_of({"qemu", "-netdev", "tap,id=n0,ifname=t0", "-device",
	                         R"({"driver":"virtio-net-pci","netdev":"n0","rss":false})"},
	                        TargetSelector{"t0", ""}),
	               "rss=off"));
}

TEST_CASE("without QEMU's help: on/off and plain numbers typed, string properties kept")
{
	auto j = device_to_json(
	    parse_keyval("virtio-net-pci,netdev=n0,mq=on,vectors=10,addr=3,id=7,mac=52:54:00:00:00:01",
	                 "driver"),
	    {});
	CHECK(
	    j.dump() ==
	    R"({"driver":"virtio-net-pci","netdev":"n0","mq":true,"vectors":10,"addr":"3","id":"7","mac":"52:54:00:00:00:01"})");
}

TEST_CASE("typed conversion: sizes, hex integers, bad booleans")
{
	auto types = parse_device_help(kHelp);
	auto j = device_to_json(
	    parse_keyval("virtio-net-pci,x-max-bounce-buffer-size=8k,host_mtu=0x400,disable-legacy=on",
	                 "driver"),
	    types);
	CHECK(
	    j.dump() ==
	    R"({"driver":"virtio-net-pci","x-max-bounce-buffer-size":8192,"host_mtu":1024,"disable-legacy":"on"})");
	CHECK_THROWS_WITH_AS(device_to_json(parse_keyval("virtio-net-pci,mq=maybe", "driver"), types),
	                     doctest::Contains("boolean"), CmdlineError);
	CHECK_THROWS_AS(device_to_json(parse_keyval("virtio-net-pci,mq=on,mq=off", "driver"), types),
	                CmdlineError);
}

TEST_CASE("the right device among several NICs; --netdev for fd-passed taps")
{
	Argv argv{"qemu",
	          "-netdev",
	          "tap,id=a,ifname=other,script=no",
	          "-device",
	          "virtio-net-pci,netdev=a,mac=52:54:00:00:00:0a",
	          "-netdev",
	          "tap,id=b,ifname=vst0,queues=4",
	          "-device",
	          "virtio-net-pci,netdev=b,mq=on,rss=on",
	          "-netdev",
	          "tap,id=c,fds=40:41:42:43,vhost=off",
	          "-device",
	          "virtio-net-pci,netdev=c,mq=on,rss=on"};
	auto r = add_ebpf_rss_fds(argv, TargetSelector{"vst0", ""}, kFds, parse_device_help(kHelp));
	CHECK(r.target.netdev_id == "b");
	CHECK(r.target.device_index == 8);
	CHECK(r.argv[4] == argv[4]);
	CHECK(r.argv[12] == argv[12]);
	auto byid = add_ebpf_rss_fds(argv, {.tap = "vst9", .netdev_id = "c"}, kFds, parse_device_help(kHelp));
	CHECK(byid.target.device_index == 12);
	CHECK(highest_fd_referenced(argv) == 43);
}

TEST_CASE("errors: missing tap netdev, missing device, ambiguity, wrong device, -nic")
{
	const TargetSelector vst0{"vst0", ""};
	struct Refused {
		const char *what;
		Argv argv;
		TargetSelector sel;
		std::vector<std::string> message; // each must be in the error
	};
	const std::vector<Refused> cases = {
	    // no netdev for the tap; the message lists the tap netdevs that exist
	    {"no netdev for the tap",
	     {"qemu", "-netdev", "tap,id=n0,ifname=other", "-device", "virtio-net-pci,netdev=n0"},
	     vst0,
	     {"no -netdev uses tap 'vst0'", "ifname=other"}},
	    {"no netdev at all", {"qemu", "-m", "1G"}, vst0, {"no -netdev uses tap 'vst0'"}},
	    {"no command line", {}, vst0, {"no QEMU command line"}},
	    {"two netdevs name the same tap",
	     {"qemu", "-netdev", "tap,id=n0,ifname=vst0", "-netdev", "tap,id=n1,ifname=vst0"},
	     vst0,
	     {"is used by 2 netdevs"}},
	    {"netdev without a device",
	     {"qemu", "-netdev", "tap,id=n0,ifname=vst0", "-device", "virtio-net-pci,netdev=zz"},
	     vst0,
	     {"no -device uses netdev 'n0'", R"("driver":"virtio-net-pci","netdev":"n0")"}},
	    {"two devices on one netdev",
	     {"qemu", "-netdev", "tap,id=n0,ifname=vst0", "-device", "virtio-net-pci,netdev=n0", "-device",
	      "virtio-net-pci,netdev=n0,id=second"},
	     vst0,
	     {"used by 2 devices"}},
	    {"not virtio-net",
	     {"qemu", "-netdev", "tap,id=n0,ifname=vst0", "-device", "e1000,netdev=n0"},
	     vst0,
	     {"'e1000' device"}},
	    {"already has fds",
	     {"qemu", "-netdev", "tap,id=n0,ifname=vst0", "-device",
	      R"({"driver":"virtio-net-pci","netdev":"n0","ebpf-rss-fds":["3","4","5","6"]})"},
	     vst0,
	     {"already has ebpf-rss-fds"}},
	    // -nic and -net cannot carry the property
	    {"-nic",
	     {"qemu", "-nic", "tap,ifname=vst0,model=virtio-net-pci"},
	     vst0,
	     {"-nic cannot carry ebpf-rss-fds"}},
	    {"-net",
	     {"qemu", "-net", "nic,model=virtio", "-net", "tap,ifname=vst0"},
	     vst0,
	     {"-net cannot carry ebpf-rss-fds"}},
	    {"--netdev naming a non-tap netdev",
	     {"qemu", "-netdev", "user,id=u0", "-device", "virtio-net-pci,netdev=u0"},
	     TargetSelector{"", "u0"},
	     {"is not a tap netdev"}},
	    {"netdev without id", {"qemu", "-netdev", "tap,ifname=vst0"}, vst0, {"has no id="}},
	    {"malformed JSON",
	     {"qemu", "-netdev", "tap,id=n0,ifname=vst0", "-device", R"({"driver":"virtio-net-pci",)"},
	     vst0,
	     {"invalid JSON"}},
	    {"value missing", {"qemu", "-device"}, vst0, {"has no value"}},
	};
	for (const Refused &c : cases) {
		CAPTURE(c.what);
		const std::string e = error_of(c.argv, c.sel);
		for (const std::string &m : c.message)
			CHECK_MESSAGE(contains(e, m), "wanted '" << m << "' in: " << e);
	}
}

TEST_CASE("fds that would collide with stdio are refused")
{
	Argv argv{"qemu", "-netdev", "tap,id=n0,ifname=t0", "-device", "virtio-net-pci,netdev=n0,rss=on"};
	CHECK_THROWS_AS(add_ebpf_rss_fds(argv, TargetSelector{"t0", ""}, {2, 30, 31, 32}, {}), CmdlineError);
}

TEST_CASE("highest fd referenced on the command line")
{
	CHECK(highest_fd_referenced({"qemu", "-m", "512"}) == -1);
	CHECK(highest_fd_referenced({"qemu", "-netdev", "tap,id=n0,fd=23,vhostfd=27"}) == 27);
	CHECK(highest_fd_referenced({"qemu", "-netdev", "tap,id=n0,fds=20:21,vhostfds=22:29"}) == 29);
	CHECK(highest_fd_referenced({"qemu", "-add-fd", "fd=45,set=2"}) == 45);
	CHECK(highest_fd_referenced({"qemu", "-netdev", R"({"type":"tap","id":"n","fds":"31:32"})"}) == 32);
	CHECK(highest_fd_referenced({"qemu", "-drive", "file=/dev/fd/3"}) == -1);
}

TEST_CASE("JSON value: round trip and escapes")
{
	auto j = parse_json(R"({"a":[1,-2,3.5,true,false,null],"s":"x\"y\\z\n\u00e9"})");
	CHECK(j.at("a")[1].get<int64_t>() == -2);
	CHECK(json_string(j, "s") == "x\"y\\z\n\xc3\xa9");
	CHECK(parse_json(to_json_text(j)) == j);
	CHECK_THROWS_AS(parse_json("{\"a\":1} x"), JsonError);
	CHECK_THROWS_AS(parse_json("[1,"), JsonError);
}

TEST_CASE("shell quoting for messages and --dry-run")
{
	CHECK(shell_join({"qemu", "-device", R"({"a":"b"})", "it's"}) ==
	      R"(qemu -device '{"a":"b"}' 'it'\''s')");
}

TEST_CASE("numbers QEMU would not read are refused by name, never written as garbage")
{
	// Without QEMU's help: all digits but not a number strtoll takes (octal 09, 20 digits).
	for (const char *bad : {"vectors=09", "vectors=99999999999999999999"}) {
		CAPTURE(bad);
		CHECK_THROWS_WITH_AS(
		    device_to_json(parse_keyval(std::string("virtio-net-pci,") + bad, "driver"), {}),
		    doctest::Contains(bad), CmdlineError);
	}
	CHECK(to_json_text(device_to_json(parse_keyval("virtio-net-pci,vectors=010", "driver"), {})) ==
	      R"({"driver":"virtio-net-pci","vectors":8})");
	// With QEMU's types: integers and sizes that do not fit are refused as well.
	auto types = parse_device_help(kHelp);
	CHECK_THROWS_WITH_AS(device_to_json(parse_keyval("virtio-net-pci,host_mtu=09", "driver"), types),
	                     doctest::Contains("'host_mtu' is an integer"), CmdlineError);
	CHECK_THROWS_WITH_AS(
	    device_to_json(parse_keyval("virtio-net-pci,x-max-bounce-buffer-size=99999999999T", "driver"),
	                   types),
	    doctest::Contains("x-max-bounce-buffer-size"), CmdlineError);
	Argv argv{"qemu", "-netdev", "tap,id=n0,ifname=t0", "-device", "virtio-net-pci,netdev=n0,vectors=09"};
	CHECK_THROWS_AS(add_ebpf_rss_fds(argv, TargetSelector{"t0", ""}, kFds, {}), CmdlineError);
}

TEST_CASE("long arguments are scanned without recursion: a 20,000-entry fd list, a 100 KB -version")
{
	std::string fds = "tap,id=n0,fds=";
	for (int i = 0; i < 20000; i++)
		fds += std::to_string(100 + i) + (i + 1 < 20000 ? ":" : "");
	CHECK(highest_fd_referenced({"qemu", "-netdev", fds}) == 20099);
	std::string version = "QEMU emulator version 10.0.2 (" + std::string(100 << 10, 'x') + ")";
	auto v = parse_qemu_version(version);
	REQUIRE(v);
	CHECK(format_version(*v) == "10.0.2");
	CHECK(!parse_qemu_version(std::string(100 << 10, '9')));
}

TEST_CASE("-version parsing: the first version word with numbers, out of range refused")
{
	CHECK(format_version(*parse_qemu_version("QEMU emulator version 9.2.90 (v9.2.0-2000)\nCopyright")) ==
	      "9.2.90");
	CHECK(format_version(*parse_qemu_version("versions: version 8.1")) == "8.1.0");
	CHECK(!parse_qemu_version("QEMU emulator version 99999999999.1.0"));
	CHECK(!parse_qemu_version("QEMU emulator version"));
	// found by fuzz_qemu_probe_output: a sign is not a version number
	CHECK(!parse_qemu_version("QEMU emulator version -88888.8"));
	CHECK(!parse_qemu_version("QEMU emulator version 10.-1"));
	CHECK(!parse_qemu_version("QEMU emulator version 10\nversion 10.0.0"));
}

TEST_CASE("fd numbers beyond int are refused, not skipped")
{
	CHECK_THROWS_WITH_AS(highest_fd_referenced({"qemu", "-netdev", "tap,id=n0,fd=99999999999"}),
	                     doctest::Contains("99999999999"), CmdlineError);
	CHECK(highest_fd_referenced({"qemu", "-netdev", "tap,id=n0,fd=123456789"}) == 123456789);
}

TEST_CASE("-netdev queues= as a number or text; nonsense refused naming the value")
{
	CHECK(netdev_queue_count(parse_json("4")) == 4);
	CHECK(netdev_queue_count(Json("8")) == 8);
	for (const char *bad : {"0", "x", "99999999999999999999", "-1", "1025"})
		CHECK_THROWS_WITH_AS(netdev_queue_count(Json(bad)), doctest::Contains(bad), CmdlineError);
	CHECK_THROWS_AS(netdev_queue_count(parse_json("18446744073709551615")), CmdlineError);
	CHECK_THROWS_AS(netdev_queue_count(parse_json("true")), CmdlineError);
}

TEST_CASE("JSON text: never inf or nan, nesting bounded, bytes that are not UTF-8 written")
{
	CHECK_THROWS_AS(parse_json(R"({"driver":"virtio-net-pci","x":1e999})"), JsonError);
	CHECK(to_json_text(Json(std::numeric_limits<double>::infinity())) == "null");
	CHECK(to_json_text(Json(std::nan(""))) == "null");
	Argv argv{"qemu", "-netdev", "tap,id=n0,ifname=t0", "-device",
	          R"({"driver":"virtio-net-pci","netdev":"n0","x":-1e999})"};
	CHECK_THROWS_AS(add_ebpf_rss_fds(argv, TargetSelector{"t0", ""}, kFds, {}), CmdlineError);
	CHECK_THROWS_AS(parse_json(std::string(100000, '[')), JsonError);
	CHECK_NOTHROW(parse_json(std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']')));
	CHECK(to_json_text(Json("tap\xff")) == "\"tap\xef\xbf\xbd\"");
}

TEST_CASE("device-list-properties reply to property types; junk entries skipped")
{
	auto types = qmp_property_types(parse_json(
	    R"([{"name":"mq","type":"bool"},{"name":"vectors","type":"uint32"},{"name":5},"x",{"type":"bool"}])"));
	CHECK(types.size() == 2);
	CHECK(types["mq"] == "bool");
	CHECK(qmp_property_types(parse_json(R"({"name":"mq"})")).empty());
}
