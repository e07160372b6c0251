// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "protocol.hpp"
#include "error.hpp"

#include <sys/socket.h>

#include <cstring>

namespace vsteer::libvirt
{

namespace
{
constexpr size_t kMaxFds = 8;
}

void send_with_fds(int sock, const void *data, size_t len, const std::vector<int> &fds)
{
	if (fds.size() > kMaxFds)
		throw Error(EINVAL, "vsteer libvirt protocol", "too many fds in one message");
	iovec iov{const_cast<void *>(data), len};
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (!fds.empty()) {
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
		cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
		std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		throw_errno("vsteer libvirt socket", "send");
	if (static_cast<size_t>(n) != len)
		throw Error(EMSGSIZE, "vsteer libvirt socket", "short send");
}

std::vector<UniqueFd> recv_with_fds(int sock, void *data, size_t len, size_t max_fds)
{
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
	iovec iov{data, len};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		throw_errno("vsteer libvirt socket", "receive", "is the peer alive and allowed?");
	// Take ownership of whatever arrived first, so every error path below closes it.
	std::vector<UniqueFd> fds;
	for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			fds.emplace_back(fd);
		}
	}
	if (n == 0)
		throw Error(ECONNRESET, "vsteer libvirt socket",
		            "the peer closed the connection without a reply");
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		throw Error(EMSGSIZE, "vsteer libvirt socket", "message or fds truncated");
	if (static_cast<size_t>(n) != len)
		throw Error(EPROTO, "vsteer libvirt socket",
		            "message of " + std::to_string(n) + " bytes, expected " + std::to_string(len));
	if (fds.size() > max_fds)
		throw Error(EPROTO, "vsteer libvirt socket",
		            std::to_string(fds.size()) + " fds, at most " + std::to_string(max_fds) +
		                " expected");
	return fds;
}

} // namespace vsteer::libvirt
