// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "steering_service.hpp"
#include "error.hpp"
#include "protocol.hpp"
#include "steering_pins.hpp"
#include "tap_proof.hpp"
#include "rss_abi.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstdio>
#include <cstring>

namespace vsteer::libvirt
{

AccessPolicy access_policy(const std::string &user, const std::string &group_name)
{
	AccessPolicy p;
	if (const passwd *pw = getpwnam(user.c_str())) {
		p.user = pw->pw_uid;
		p.have_user = true;
	} else {
		std::fprintf(stderr, "vsteer-libvirtd: warning: no user '%s'; only root may connect\n",
		             user.c_str());
	}
	if (const struct group *gr = getgrnam(group_name.c_str())) {
		p.group = gr->gr_gid;
		p.have_group = true;
	} else {
		std::fprintf(stderr, "vsteer-libvirtd: warning: no group '%s'; the socket stays root-only\n",
		             group_name.c_str());
	}
	return p;
}

UniqueFd listen_socket(const std::string &path, const AccessPolicy &policy)
{
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (path.size() >= sizeof(addr.sun_path))
		throw Error(ENAMETOOLONG, path, "socket path too long");
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
	if (mkdir(kStateDir, 0755) && errno != EEXIST)
		throw_errno(kStateDir, "create");
	struct stat st {
	};
	if (lstat(path.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			throw Error(EEXIST, path, "exists and is not a socket", "remove it or pass --socket");
		// A live daemon answers; a stale socket (daemon gone) is replaced.
		UniqueFd probe(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
		if (connect(probe.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0)
			throw Error(EADDRINUSE, path, "another vsteer-libvirtd is listening",
			            "stop it first");
		unlink(path.c_str());
	}
	UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (!sock)
		throw_errno("unix socket", "create");
	// Created 0600, opened up to the group only once its owner and group are right.
	mode_t old = umask(0177);
	int rc = bind(sock.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
	umask(old);
	if (rc)
		throw_errno(path, "bind");
	if (policy.have_group) {
		if (chown(path.c_str(), 0, policy.group) || chmod(path.c_str(), 0660))
			throw_errno(path, "give the QEMU group access");
	}
	if (listen(sock.get(), 16))
		throw_errno(path, "listen");
	return sock;
}

namespace
{

bool allowed(const ucred &c, const AccessPolicy &p)
{
	return c.uid == 0 || (p.have_user && c.uid == p.user) || (p.have_group && c.gid == p.group);
}

void reply_error(int conn, int err, const std::string &msg)
{
	Reply rep;
	rep.error = err ? err : EINVAL;
	std::snprintf(rep.message, sizeof(rep.message), "%s", msg.c_str());
	try {
		send_with_fds(conn, &rep, sizeof(rep), {});
	} catch (const std::exception &) {
		// the peer went away; nothing to tell it
	}
}

} // namespace

void serve_connection(int conn, const AccessPolicy &policy)
{
	ucred cred{};
	socklen_t len = sizeof(cred);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		std::fprintf(stderr, "vsteer-libvirtd: SO_PEERCRED: %s\n", std::strerror(errno));
		return;
	}
	char who[64];
	std::snprintf(who, sizeof(who), "pid %d uid %u gid %u", cred.pid, cred.uid, cred.gid);
	timeval tv{5, 0};
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	try {
		// Read the request before anything else (its fds are closed unused when the peer is
		// refused): closing with it unread would reset the connection before the reply.
		Request req;
		std::vector<UniqueFd> fds = recv_with_fds(conn, &req, sizeof(req), 1);
		if (!allowed(cred, policy))
			throw Error(
			    EACCES, "peer",
			    "not allowed: only root and the QEMU user/group may ask for steering fds");
		if (req.magic != kProtocolMagic || req.version != kProtocolVersion)
			throw Error(EPROTO, "request",
			            "not vsteer's protocol version " + std::to_string(kProtocolVersion));
		if (fds.size() != 1)
			throw Error(EINVAL, "request", "carries no tap queue fd",
			            "pass one of the netdev's tap fds");
		if (req.queues < 1 || req.queues > VSTEER_MAX_QUEUES)
			throw Error(EINVAL, "request",
			            "queues " + std::to_string(req.queues) + " out of range 1.." +
			                std::to_string(VSTEER_MAX_QUEUES));
		const std::string tap = tap_of_queue_fd(fds[0].get());
		PinnedSteering p = ensure_steering_pins(tap, req.queues);
		Reply rep;
		rep.prog_id = p.objects.prog_id();
		std::snprintf(rep.tap, sizeof(rep.tap), "%s", tap.c_str());
		send_with_fds(
		    conn, &rep, sizeof(rep),
		    {p.objects.prog_fd(), p.objects.config_fd(), p.objects.key_fd(), p.objects.table_fd()});
		std::fprintf(stderr, "vsteer-libvirtd: %s: tap %s (%u queues): program id %u (%s pins)\n",
		             who, tap.c_str(), req.queues, rep.prog_id, p.created ? "new" : "reused");
	} catch (const std::exception &e) {
		std::fprintf(stderr, "vsteer-libvirtd: %s: refused: %s\n", who, e.what());
		const auto *err = dynamic_cast<const Error *>(&e);
		reply_error(conn, err ? err->code() : EINVAL, e.what());
	}
}

} // namespace vsteer::libvirt
