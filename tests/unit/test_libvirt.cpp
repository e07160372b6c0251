// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The libvirt integration's pure parts: what the QEMU hook reads from the domain XML and
// which devices the <emulator> wrapper gives steering fds (libvirt 11's real command line).
#include "domain_xml.hpp"
#include "error.hpp"
#include "qemu_cmdline.hpp"
#include "wrapper_plan.hpp"

#include <doctest/doctest.h>

using namespace vsteer::libvirt;

TEST_CASE("libvirt hook: interfaces with rss='on' on a virtio model and a target dev")
{
	const char *xml = R"(<domain type='qemu'><name>vm1</name><devices>
	  <interface type='ethernet'><target dev='t0' managed='no'/><model type='virtio'/>
	    <driver name='qemu' queues='4' rss='on'/></interface>
	  <interface type='ethernet'><target dev='t1'/><model type='virtio'/><driver queues='2'/></interface>
	  <interface type='ethernet'><target dev='t2'/><model type='e1000'/><driver rss='on'/></interface>
	  <interface type='network'><model type='virtio'/><driver rss='on' queues='8'/></interface>
	  <interface type='bridge'><target dev='vnet7'/><model type='virtio'/><driver rss='on'/></interface>
	</devices></domain>)";
	DomainInfo d = parse_domain_xml(xml);
	CHECK(d.name == "vm1");
	REQUIRE(d.interfaces.size() == 2);
	CHECK(d.interfaces[0].tap == "t0");
	CHECK(d.interfaces[0].queues == 4);
	CHECK(d.interfaces[1].tap == "vnet7");
	CHECK(d.interfaces[1].queues == 1);
}

TEST_CASE("libvirt hook: a domain nested in hook data, and malformed input")
{
	DomainInfo d = parse_domain_xml("<hookData><domain><name>x</name><devices/></domain></hookData>");
	CHECK(d.name == "x");
	CHECK(d.interfaces.empty());
	CHECK_THROWS_AS(parse_domain_xml("<domain><name>x</name>"), vsteer::Error);
	CHECK_THROWS_AS(parse_domain_xml("<network/>"), vsteer::Error);
}

TEST_CASE("libvirt wrapper: libvirt 11's tap netdev with fds and JSON virtio-net device with rss")
{
	std::vector<std::string> argv{
	    "/usr/bin/qemu-system-x86_64",
	    "-add-fd",
	    "set=0,fd=21,opaque=serial0-source",
	    "-netdev",
	    R"({"type":"tap","fds":"22:24:25:26","id":"hostnet0"})",
	    "-device",
	    R"({"driver":"virtio-net-pci","mq":true,"vectors":10,"rss":true,"netdev":"hostnet0","id":"net0","mac":"52:54:00:12:34:56","bus":"pci.0","addr":"0x2"})",
	    "-netdev",
	    R"({"type":"tap","fd":"30","id":"hostnet1"})",
	    "-device",
	    R"({"driver":"virtio-net-pci","netdev":"hostnet1","id":"net1"})",
	    "-netdev",
	    R"({"type":"tap","fds":"31:32","id":"hostnet2"})",
	    "-device",
	    R"({"driver":"e1000","netdev":"hostnet2","id":"net2"})",
	};
	auto t = steering_targets(argv);
	REQUIRE(t.size() == 1);
	CHECK(t[0].netdev_id == "hostnet0");
	CHECK(t[0].tap_fd == 22);
	CHECK(t[0].queues == 4);
	// what the wrapper does with the answer: JSON device with the four fds as strings
	auto r = vsteer::qemu::add_ebpf_rss_fds(argv, {"", "hostnet0"}, {40, 41, 42, 43}, {});
	CHECK(r.device.find(R"("ebpf-rss-fds":["40","41","42","43"])") != std::string::npos);
	CHECK(r.notes.empty()); // rss was on already
}

TEST_CASE("libvirt wrapper: capability probing and devices it must leave alone")
{
	CHECK(steering_targets({"qemu-system-x86_64", "-S", "-no-user-config", "-nodefaults", "-nographic",
	                        "-machine", "none,accel=kvm:tcg", "-qmp", "unix:/x,server=on,wait=off"})
	          .empty());
	// a tap QEMU opens by name, and a device that already has ebpf-rss-fds
	CHECK(steering_targets({"qemu-system-x86_64", "-netdev", "tap,id=n0,ifname=t0,queues=4", "-device",
	                        "virtio-net-pci,netdev=n0,mq=on,rss=on"})
	          .empty());
	CHECK(
	    steering_targets(
		{"qemu-system-x86_64", "-netdev", R"({"type":"tap","fds":"5","id":"n0"})", "-device",
	         R"({"driver":"virtio-net-pci","netdev":"n0","rss":true,"ebpf-rss-fds":["1","2","3","4"]})"})
		.empty());
	// fds that are not numbers are not libvirt's: left to QEMU to refuse
	CHECK(steering_targets({"qemu-system-x86_64", "-netdev", R"({"type":"tap","fds":"a:b","id":"n0"})",
	                        "-device", R"({"driver":"virtio-net-pci","netdev":"n0","rss":true})"})
	          .empty());
	CHECK_THROWS_AS(steering_targets({"qemu-system-x86_64", "-netdev", "{not json"}),
	                vsteer::qemu::CmdlineError);
}
