// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// A QMP client over QEMU's unix socket: greeting, qmp_capabilities, commands, and file
// descriptors passed with SCM_RIGHTS alongside a command (`getfd`, `add-fd`).
// Asynchronous events are skipped. Every error names the socket and the command.
//
// The peer is not trusted: a line is at most kMaxQmpLineBytes long, and a command's reply must
// arrive before one absolute deadline that events and other traffic do not extend.
#pragma once

#include "error.hpp"
#include "json.hpp"
#include "unique_fd.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vsteer::qemu
{

// QEMU answered a command with {"error": {"class": ..., "desc": ...}}.
class QmpError : public Error
{
public:
	QmpError(const std::string &what, std::string cls) : Error(EPROTO, what), cls_(std::move(cls)) {}
	const std::string &error_class() const { return cls_; }

private:
	std::string cls_;
};

// The longest QMP message accepted. QEMU's largest replies (query-qmp-schema, request-ebpf's
// base64 object) are a few hundred KiB.
inline constexpr size_t kMaxQmpLineBytes = 4u << 20;
inline constexpr int kQmpReplyTimeoutMs = 30000;

// Splits a byte stream into newline-terminated lines of at most `max_line` bytes.
class QmpLines
{
public:
	explicit QmpLines(size_t max_line = kMaxQmpLineBytes) : max_(max_line) {}
	// Appends received bytes; throws std::length_error when a line grows beyond the limit.
	void append(std::string_view bytes);
	// The next complete line without its newline, or nullopt until one has arrived.
	std::optional<std::string> next();

private:
	std::string buf_;
	size_t scanned_ = 0; // bytes of buf_ known to hold no newline
	size_t pending_ = 0; // length of the unfinished last line
	size_t max_;
};

// What `message` means for the command `command` sent with `id`: its "return" value, nullopt
// when the message is something else (an event, another command's reply). Throws QmpError
// for the command's error reply. `where` names the socket in messages.
std::optional<Json> qmp_reply_for(const Json &message, const std::string &command, const std::string &id,
                                  const std::string &where);

// "10.0.2" from the greeting's "QMP" member; "" when it holds no version.
std::string qmp_greeting_version(const Json &qmp);

class QmpClient
{
public:
	// Connects (retrying for up to `wait_ms` while the socket does not exist yet or
	// refuses), reads the greeting and leaves capabilities negotiation done.
	static QmpClient connect(const std::string &socket_path, int wait_ms = 10000);
	// The same over a connected stream socket; `name` names it in messages.
	static QmpClient over(UniqueFd fd, std::string name, int reply_timeout_ms = kQmpReplyTimeoutMs);

	// Runs one command and returns its "return" value. With pass_fd >= 0 the fd travels
	// with the command (SCM_RIGHTS), as `getfd` and `add-fd` need.
	Json execute(const std::string &command, Json arguments = Json(), int pass_fd = -1);

	// The "QMP" member of the greeting ({"version": ..., "capabilities": ...}).
	const Json &greeting() const { return greeting_; }
	std::string qemu_version() const { return qmp_greeting_version(greeting_); } // "10.0.2"

	const std::string &path() const { return path_; }

private:
	using Deadline = std::chrono::steady_clock::time_point;
	QmpClient(UniqueFd fd, std::string path, int timeout_ms)
	    : fd_(std::move(fd)), path_(std::move(path)), timeout_ms_(timeout_ms)
	{
	}
	void send_line(const std::string &line, int pass_fd);
	Json read_message(Deadline deadline, const std::string &waiting_for);
	Deadline deadline() const
	{
		return std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
	}

	UniqueFd fd_;
	std::string path_;
	int timeout_ms_;
	QmpLines lines_;
	Json greeting_;
	unsigned next_id_ = 1;
};

} // namespace vsteer::qemu
