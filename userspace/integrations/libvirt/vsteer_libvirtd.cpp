// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-libvirtd: the privileged half of vsteer's libvirt integration (docs/libvirt.md).
// Runs as root; hands the <emulator> wrapper (the domain's unprivileged QEMU) the steering
// fds of the taps it proves it holds. One connection at a time: each is a few syscalls and
// times out after 5 s, so a stuck peer cannot hold up another domain's start for long.
#include "error.hpp"
#include "protocol.hpp"
#include "steering_service.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

namespace
{

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int)
{
	stop_requested = 1;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"vsteer-libvirtd: hands libvirt domains' unprivileged QEMU the eBPF RSS steering fds "
	             "(ebpf-rss-fds) of their taps; see docs/libvirt.md"};
	std::string socket_path = vsteer::libvirt::kDefaultSocket;
	std::string user = "libvirt-qemu", group = "libvirt-qemu";
	app.add_option("--socket", socket_path, "unix socket to listen on")->capture_default_str();
	app.add_option("--user", user, "QEMU user allowed to connect (qemu.conf user)")
	    ->capture_default_str();
	app.add_option("--group", group, "QEMU group allowed to connect, and the socket's group")
	    ->capture_default_str();
	app.set_version_flag("--version", "vsteer-libvirtd 0.1.0");
	CLI11_PARSE(app, argc, argv);

	try {
		if (geteuid() != 0)
			throw vsteer::Error(EPERM, "vsteer-libvirtd",
			                    "must run as root (it loads and pins BPF)");
		auto policy = vsteer::libvirt::access_policy(user, group);
		vsteer::UniqueFd sock = vsteer::libvirt::listen_socket(socket_path, policy);
		struct sigaction sa {
		};
		sa.sa_handler = on_signal; // no SA_RESTART: accept() returns EINTR
		sigaction(SIGTERM, &sa, nullptr);
		sigaction(SIGINT, &sa, nullptr);
		signal(SIGPIPE, SIG_IGN);
		std::fprintf(stderr, "vsteer-libvirtd: listening on %s\n", socket_path.c_str());
		while (!stop_requested) {
			vsteer::UniqueFd conn(accept4(sock.get(), nullptr, nullptr, SOCK_CLOEXEC));
			if (!conn) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				vsteer::throw_errno(socket_path, "accept");
			}
			vsteer::libvirt::serve_connection(conn.get(), policy);
		}
		unlink(socket_path.c_str());
		std::fprintf(stderr, "vsteer-libvirtd: stopped\n");
	} catch (const std::exception &e) {
		std::fprintf(stderr, "vsteer-libvirtd: error: %s\n", e.what());
		return 1;
	}
	return 0;
}
