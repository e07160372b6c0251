// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "qemu_qmp.hpp"

#include "error.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

namespace vsteer::qemu
{

void QmpLines::append(std::string_view bytes)
{
	// Only the unfinished last line counts: complete lines are taken out by next().
	size_t nl = bytes.rfind('\n');
	size_t pending = nl == std::string_view::npos ? pending_ + bytes.size() : bytes.size() - nl - 1;
	if (pending > max_)
		throw std::length_error("a message longer than " + std::to_string(max_) +
		                        " bytes without a newline");
	buf_.append(bytes);
	pending_ = pending;
}

std::optional<std::string> QmpLines::next()
{
	size_t nl = buf_.find('\n', scanned_);
	if (nl == std::string::npos) {
		scanned_ = buf_.size();
		return std::nullopt;
	}
	std::string line = buf_.substr(0, nl);
	buf_.erase(0, nl + 1);
	scanned_ = 0;
	return line;
}

std::optional<Json> qmp_reply_for(const Json &m, const std::string &command, const std::string &id,
                                  const std::string &where)
{
	if (!m.is_object() || json_member(m, "event"))
		return std::nullopt;
	const Json *mid = json_member(m, "id");
	if (mid && !(mid->is_string() && mid->get<std::string>() == id))
		return std::nullopt;
	if (const Json *ret = json_member(m, "return"))
		return *ret;
	if (const Json *err = json_member(m, "error")) {
		const Json *desc = json_member(*err, "desc");
		throw QmpError(
		    "QMP " + command + " on " + where + ": " +
			(desc && desc->is_string() ? desc->get<std::string>() : to_json_text(*err)),
		    json_string(*err, "class"));
	}
	return std::nullopt;
}

std::string qmp_greeting_version(const Json &qmp)
{
	const Json *v = json_member(qmp, "version");
	const Json *q = v ? json_member(*v, "qemu") : nullptr;
	if (!q)
		return {};
	auto num = [&](const char *k) {
		const Json *x = json_member(*q, k);
		return x && x->is_number_integer() ? to_json_text(*x) : std::string("0");
	};
	return num("major") + "." + num("minor") + "." + num("micro");
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
	return over(std::move(fd), path);
}

QmpClient QmpClient::over(UniqueFd fd, std::string name, int reply_timeout_ms)
{
	QmpClient c(std::move(fd), std::move(name), reply_timeout_ms);
	Json hello = c.read_message(c.deadline(), "the QMP greeting");
	const Json *qmp = json_member(hello, "QMP");
	if (!qmp)
		throw Error(EPROTO, "QMP socket " + c.path_,
		            "expected the QMP greeting, got " + to_json_text(hello).substr(0, 200),
		            "is this a QMP (not HMP) socket?");
	c.greeting_ = *qmp;
	c.execute("qmp_capabilities");
	return c;
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

Json QmpClient::read_message(Deadline deadline, const std::string &waiting_for)
{
	while (true) {
		while (auto line = lines_.next()) {
			if (line->find_first_not_of(" \r\t") == std::string::npos)
				continue;
			try {
				return parse_json(*line);
			} catch (const JsonError &e) {
				throw Error(EPROTO, "QMP socket " + path_,
				            std::string("unparsable message while waiting for ") +
				                waiting_for + ": " + e.what());
			}
		}
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0)
			throw Error(ETIMEDOUT, "QMP socket " + path_,
			            "no reply to " + waiting_for + " within " + std::to_string(timeout_ms_) +
			                " ms",
			            "is QEMU stopped or hung?");
		pollfd p{fd_.get(), POLLIN, 0};
		int r = ::poll(&p, 1, static_cast<int>(left.count()));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			throw_errno("QMP socket " + path_, "poll");
		}
		if (r == 0)
			continue; // the deadline check above reports it
		char chunk[8192];
		ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			throw_errno("QMP socket " + path_, "receive");
		}
		if (n == 0)
			throw Error(ECONNRESET, "QMP socket " + path_,
			            "QEMU closed the connection while vsteer waited for " + waiting_for);
		try {
			lines_.append(std::string_view(chunk, static_cast<size_t>(n)));
		} catch (const std::length_error &e) {
			throw Error(EMSGSIZE, "QMP socket " + path_,
			            std::string("received ") + e.what() + " while waiting for " + waiting_for,
			            "is this QEMU's QMP socket?");
		}
	}
}

Json QmpClient::execute(const std::string &command, Json arguments, int pass_fd)
{
	std::string id = "vsteer-" + std::to_string(next_id_++);
	Json req = Json::object();
	req["execute"] = command;
	if (!arguments.is_null())
		req["arguments"] = std::move(arguments);
	req["id"] = id;
	send_line(to_json_text(req) + "\n", pass_fd);
	// One deadline for the reply: events and other messages do not extend it.
	const Deadline until = deadline();
	const std::string what = "the reply to " + command;
	while (true)
		if (auto ret = qmp_reply_for(read_message(until, what), command, id, path_))
			return *ret;
}

} // namespace vsteer::qemu
