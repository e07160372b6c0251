// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "client.hpp"
#include "error.hpp"
#include "protocol.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace vsteer::libvirt
{

SteeringFds request_steering_fds(const std::string &socket_path, int tap_fd, unsigned queues)
{
	UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (!sock)
		throw_errno("unix socket", "create");
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (socket_path.size() >= sizeof(addr.sun_path))
		throw Error(ENAMETOOLONG, socket_path, "socket path too long");
	std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
	if (connect(sock.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)))
		throw_errno(
		    "vsteer-libvirtd at " + socket_path, "connect",
		    "start it (systemctl start vsteer-libvirtd, or vsteer-libvirtd &) before the domain");
	timeval tv{30, 0};
	setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	Request req;
	req.queues = queues;
	send_with_fds(sock.get(), &req, sizeof(req), {tap_fd});
	Reply rep;
	std::vector<UniqueFd> got = recv_with_fds(sock.get(), &rep, sizeof(rep), 4);
	rep.message[sizeof(rep.message) - 1] = '\0';
	rep.tap[sizeof(rep.tap) - 1] = '\0';
	if (rep.magic != kProtocolMagic)
		throw Error(EPROTO, "vsteer-libvirtd at " + socket_path, "reply is not vsteer's protocol");
	if (rep.error)
		throw Error(rep.error, "vsteer-libvirtd at " + socket_path,
		            std::string("refused: ") + rep.message);
	if (got.size() != 4)
		throw Error(EPROTO, "vsteer-libvirtd at " + socket_path,
		            "replied with " + std::to_string(got.size()) + " fds instead of 4");
	SteeringFds out;
	for (size_t i = 0; i < 4; i++)
		out.fds[i] = std::move(got[i]);
	out.tap = rep.tap;
	out.prog_id = rep.prog_id;
	return out;
}

} // namespace vsteer::libvirt
