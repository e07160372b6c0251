// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "qemu_qmp.hpp"

#include "error.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

namespace vsteer::qemu
{

namespace
{
constexpr int kReplyTimeoutMs = 30000;
}

QmpClient QmpClient::connect(const std::string &path, int wait_ms)
{
	sockaddr_un addr{};
	if (path.size() >= sizeof(addr.sun_path))
		throw Error(ENAMETOOLONG, "QMP socket " + path, "connect", "use a shorter socket path");
	addr.sun_family = AF_UNIX;
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
	UniqueFd fd;
	while (true) {
		fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
		if (!fd)
			throw_errno("QMP socket " + path, "create unix socket");
		if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0)
			break;
		int err = errno;
		if ((err != ENOENT && err != ECONNREFUSED) || std::chrono::steady_clock::now() >= deadline)
			throw Error(err, "QMP socket " + path, "connect",
			            "start QEMU with -qmp unix:" + path + ",server=on,wait=off");
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	QmpClient c(std::move(fd), path);
	Json hello = c.read_message();
	const Json *qmp = hello.find("QMP");
	if (!qmp)
		throw Error(EPROTO, "QMP socket " + path, "expected the QMP greeting, got " + hello.dump(),
		            "is this a QMP (not HMP) socket?");
	c.greeting_ = *qmp;
	c.execute("qmp_capabilities");
	return c;
}

std::string QmpClient::qemu_version() const
{
	const Json *v = greeting_.find("version");
	const Json *q = v ? v->find("qemu") : nullptr;
	if (!q)
		return {};
	auto num = [&](const char *k) {
		const Json *x = q->find(k);
		return x && x->is_int() ? std::to_string(x->as_int()) : std::string("0");
	};
	return num("major") + "." + num("minor") + "." + num("micro");
}

void QmpClient::send_line(const std::string &line, int pass_fd)
{
	iovec iov{const_cast<char *>(line.data()), line.size()};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
	if (pass_fd >= 0) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		std::memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	size_t done = 0;
	while (done < line.size()) {
		ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw_errno("QMP socket " + path_, "send");
		}
		done += static_cast<size_t>(n);
		// the fd went with the first byte; send the rest plainly
		iov.iov_base = const_cast<char *>(line.data()) + done;
		iov.iov_len = line.size() - done;
		msg.msg_control = nullptr;
		msg.msg_controllen = 0;
	}
}

Json QmpClient::read_message()
{
	while (true) {
		size_t nl = buf_.find('\n');
		if (nl != std::string::npos) {
			std::string line = buf_.substr(0, nl);
			buf_.erase(0, nl + 1);
			if (line.find_first_not_of(" \r\t") == std::string::npos)
				continue;
			try {
				return Json::parse(line);
			} catch (const JsonError &e) {
				throw Error(EPROTO, "QMP socket " + path_,
				            std::string("unparsable reply: ") + e.what());
			}
		}
		pollfd p{fd_.get(), POLLIN, 0};
		int r = ::poll(&p, 1, kReplyTimeoutMs);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			throw_errno("QMP socket " + path_, "poll");
		}
		if (r == 0)
			throw Error(ETIMEDOUT, "QMP socket " + path_, "no reply from QEMU");
		char chunk[8192];
		ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw_errno("QMP socket " + path_, "receive");
		}
		if (n == 0)
			throw Error(ECONNRESET, "QMP socket " + path_, "QEMU closed the connection");
		buf_.append(chunk, static_cast<size_t>(n));
	}
}

Json QmpClient::execute(const std::string &command, Json arguments, int pass_fd)
{
	std::string id = "vsteer-" + std::to_string(next_id_++);
	Json req = Json::Object{{"execute", command}};
	if (!arguments.is_null())
		req.set("arguments", std::move(arguments));
	req.set("id", id);
	send_line(req.dump() + "\n", pass_fd);
	while (true) {
		Json m = read_message();
		if (m.find("event"))
			continue;
		const Json *mid = m.find("id");
		if (mid && !(mid->is_string() && mid->as_string() == id))
			continue;
		if (const Json *ret = m.find("return"))
			return *ret;
		if (const Json *err = m.find("error")) {
			const Json *desc = err->find("desc");
			const Json *cls = err->find("class");
			throw QmpError("QMP " + command + " on " + path_ + ": " +
			                   (desc && desc->is_string() ? desc->as_string() : err->dump()),
			               cls && cls->is_string() ? cls->as_string() : std::string());
		}
	}
}

} // namespace vsteer::qemu
