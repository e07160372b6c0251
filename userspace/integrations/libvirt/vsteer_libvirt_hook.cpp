// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-libvirt-hook: libvirt's QEMU hook (/etc/libvirt/hooks/qemu.d/vsteer), run as root
// by libvirtd as `vsteer GUEST OPERATION SUB-OPERATION EXTRA` with the domain XML on stdin.
//   prepare begin: pin steering objects for each rss='on' interface whose tap exists already
//                  (taps libvirt creates later get theirs from vsteer-libvirtd on demand);
//                  a failure stops the domain from starting, with the reason in virsh's error
//   release end:   take the steering program off the tap (a persistent tap would keep it
//                  alive) and remove the tap's pins: after the domain is gone nothing is left
// Every other operation is ignored.
#include "domain_xml.hpp"
#include "error.hpp"
#include "steering_pins.hpp"
#include "tap_control.hpp"

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char **argv)
{
	if (argc < 3) {
		std::fprintf(stderr,
		             "usage: %s GUEST OPERATION SUB-OPERATION [EXTRA] < domain.xml\n"
		             "(libvirt's QEMU hook; see docs/libvirt.md)\n",
		             argv[0]);
		return 2;
	}
	const std::string op = argv[2], sub = argc > 3 ? argv[3] : "";
	// Always drain stdin: libvirt writes the whole XML and must not see a broken pipe.
	std::string xml((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
	const bool prepare = op == "prepare" && sub == "begin";
	const bool release = op == "release" && sub == "end";
	if (!prepare && !release)
		return 0;
	int rc = 0;
	try {
		auto domain = vsteer::libvirt::parse_domain_xml(xml);
		for (const auto &nic : domain.interfaces) {
			try {
				auto info = vsteer::query_tap(nic.tap);
				if (prepare) {
					if (!info)
						continue; // created by libvirt later; the daemon pins it on
						          // demand
					auto p = vsteer::libvirt::ensure_steering_pins(nic.tap, nic.queues);
					std::fprintf(stderr,
					             "vsteer hook: %s: tap %s: program id %u (%s pins)\n",
					             domain.name.c_str(), nic.tap.c_str(),
					             p.objects.prog_id(), p.created ? "new" : "reused");
				} else {
					if (info && info->is_tap)
						vsteer::detach_steering(nic.tap);
					if (vsteer::libvirt::remove_steering_pins(nic.tap))
						std::fprintf(stderr,
						             "vsteer hook: %s: tap %s: pins removed\n",
						             domain.name.c_str(), nic.tap.c_str());
				}
			} catch (const std::exception &e) {
				std::fprintf(stderr, "vsteer hook: %s: tap %s: %s\n", domain.name.c_str(),
				             nic.tap.c_str(), e.what());
				rc = 1;
			}
		}
	} catch (const std::exception &e) {
		std::fprintf(stderr, "vsteer hook: %s %s: %s\n", argv[1], op.c_str(), e.what());
		rc = 1;
	}
	return rc;
}
