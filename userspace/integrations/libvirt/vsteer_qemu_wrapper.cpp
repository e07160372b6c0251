// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-qemu-wrapper: a libvirt <emulator>. Runs as the domain's QEMU user with whatever
// libvirt passed (tap queue fds); for each virtio-net device with rss on over such a tap it
// asks vsteer-libvirtd for the tap's four steering fds, adds them as ebpf-rss-fds and execs
// the real QEMU (same PID, so libvirt's bookkeeping holds). Capability probing and every
// command line without such a device reach QEMU untouched. Installed as
// .../libexec/vsteer/qemu-system-ARCH, it runs VSTEER_QEMU_DIR/qemu-system-ARCH.
#include "client.hpp"
#include "error.hpp"
#include "protocol.hpp"
#include "qemu_cmdline.hpp"
#include "wrapper_plan.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#ifndef VSTEER_QEMU_DIR
#define VSTEER_QEMU_DIR "/usr/bin"
#endif

namespace
{

// The real QEMU for the name this wrapper was called by (qemu-system-x86_64 by default).
std::string real_qemu(const char *argv0)
{
	std::string base(argv0);
	base = base.substr(base.rfind('/') + 1);
	if (base.rfind("qemu-system-", 0) != 0)
		base = "qemu-system-x86_64";
	return std::string(VSTEER_QEMU_DIR) + "/" + base;
}

[[noreturn]] void exec_qemu(const std::vector<std::string> &args)
{
	std::vector<char *> a;
	for (const auto &s : args)
		a.push_back(const_cast<char *>(s.c_str()));
	a.push_back(nullptr);
	std::fflush(nullptr);
	execv(a[0], a.data());
	vsteer::throw_errno("QEMU binary " + args[0], "exec",
	                    "install qemu-system-x86 or fix VSTEER_QEMU_DIR");
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv, argv + argc);
	args[0] = real_qemu(argv[0]);
	try {
		std::vector<vsteer::libvirt::SteeringTarget> targets;
		try {
			targets = vsteer::libvirt::steering_targets(args);
		} catch (const vsteer::qemu::CmdlineError &e) {
			throw vsteer::Error(0, "QEMU command line", e.what());
		}
		int next_fd = std::max(10, vsteer::qemu::highest_fd_referenced(args) + 1);
		for (const auto &t : targets) {
			auto got = vsteer::libvirt::request_steering_fds(vsteer::libvirt::kDefaultSocket,
			                                                 t.tap_fd, t.queues);
			// Copies without FD_CLOEXEC above every fd the command line names: QEMU keeps them.
			vsteer::qemu::EbpfRssFds fds{};
			for (size_t i = 0; i < fds.size(); i++) {
				fds[i] = fcntl(got.fds[i].get(), F_DUPFD, next_fd);
				if (fds[i] < 0)
					vsteer::throw_errno("ebpf-rss-fds", "duplicate");
				next_fd = fds[i] + 1;
			}
			vsteer::qemu::Rewrite r;
			try {
				r = vsteer::qemu::add_ebpf_rss_fds(args, {"", t.netdev_id}, fds, {});
			} catch (const vsteer::qemu::CmdlineError &e) {
				throw vsteer::Error(0, "QEMU command line", e.what());
			}
			args = std::move(r.argv);
			std::fprintf(
			    stderr,
			    "vsteer-qemu-wrapper: netdev %s (tap %s, %u queues): ebpf-rss-fds %d,%d,%d,%d "
			    "(program id %u)\n",
			    t.netdev_id.c_str(), got.tap.c_str(), t.queues, fds[0], fds[1], fds[2], fds[3],
			    got.prog_id);
		}
		exec_qemu(args);
	} catch (const std::exception &e) {
		// QEMU is not started: a domain that asked for RSS never runs with software RSS silently.
		std::fprintf(stderr, "vsteer-qemu-wrapper: error: %s\n", e.what());
		return 1;
	}
}
