// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-libvirtd's service against real taps: a client that holds a tap's queue gets that
// tap's four steering objects (pinned on demand, reused afterwards); a fd that is no tap and a
// tap of the same name in another network namespace are refused with the reason.
#include "client.hpp"
#include "privileges.hpp"
#include "steering_objects.hpp"
#include "steering_pins.hpp"
#include "steering_service.hpp"
#include "tap_control.hpp"
#include "tap_harness.hpp"
#include "tun_path_util.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>

#include <filesystem>
#include <thread>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

std::string fd_kind(int fd)
{
	return std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd)).string();
}

// Serves `count` connections on `path` in a thread that stays in the namespace it was
// started in, as the daemon does.
struct Server {
	Server(const std::string &path, int count)
	    : sock(libvirt::listen_socket(path, libvirt::access_policy("root", "root")))
	{
		thread = std::thread([this, count] {
			for (int i = 0; i < count; i++) {
				UniqueFd conn(accept4(sock.get(), nullptr, nullptr, SOCK_CLOEXEC));
				if (conn)
					libvirt::serve_connection(conn.get(), libvirt::AccessPolicy{});
			}
		});
	}
	~Server() { thread.join(); }
	UniqueFd sock;
	std::thread thread;
};

} // namespace

TEST_CASE("netns: vsteer-libvirtd hands out the steering fds of the tap the client holds, and only those")
{
	if (!require_privileges("vsteer-libvirtd service"))
		return;
	NetnsGuard ns(unique_name("vsteer-lv-", "-svc"));
	const std::string tap = unique_name("vl", "s");
	const std::string path = "/run/vsteer/test-" + std::to_string(getpid()) + ".sock";
	create_tap(tap, 4);
	TapQueues queues(tap, 4);
	{
		Server server(path, 4);

		auto first = libvirt::request_steering_fds(path, queues.fd(2), 4);
		CHECK(first.tap == tap);
		CHECK(fd_kind(first.fds[0].get()) == "anon_inode:bpf-prog");
		for (int i = 1; i < 4; i++)
			CHECK(fd_kind(first.fds[i].get()) == "anon_inode:bpf-map");
		REQUIRE(SteeringObjects::is_pinned(default_pin_dir(tap)));
		CHECK(SteeringObjects::open_pinned(default_pin_dir(tap)).prog_id() == first.prog_id);

		// a second domain start reuses the pins: same program
		auto again = libvirt::request_steering_fds(path, queues.fd(0), 4);
		CHECK(again.prog_id == first.prog_id);

		UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
		CHECK_THROWS_WITH(libvirt::request_steering_fds(path, devnull.get(), 4),
		                  doctest::Contains("is not a /dev/net/tun file"));

		// the same tap name in another namespace: this thread moves there, the server stays
		NetnsGuard other(unique_name("vsteer-lv-", "-oth"));
		create_tap(tap, 1);
		TapQueues impostor(tap, 1);
		CHECK_THROWS_WITH(libvirt::request_steering_fds(path, impostor.fd(0), 1),
		                  doctest::Contains("lives in another network namespace"));
	}
	unlink(path.c_str());
	CHECK(libvirt::remove_steering_pins(tap));
	CHECK_FALSE(std::filesystem::exists(default_pin_dir(tap)));
	delete_tap(tap);
}
