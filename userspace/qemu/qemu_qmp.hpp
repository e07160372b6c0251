// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// A QMP client over QEMU's unix socket: greeting, qmp_capabilities, commands, and file
// descriptors passed with SCM_RIGHTS alongside a command (`getfd`, `add-fd`).
// Asynchronous events are skipped. Every error names the socket and the command.
#pragma once

#include "error.hpp"
#include "qemu_json.hpp"
#include "unique_fd.hpp"

#include <stdexcept>
#include <string>

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

class QmpClient
{
public:
	// Connects (retrying for up to `wait_ms` while the socket does not exist yet or
	// refuses), reads the greeting and leaves capabilities negotiation done.
	static QmpClient connect(const std::string &socket_path, int wait_ms = 10000);

	// Runs one command and returns its "return" value. With pass_fd >= 0 the fd travels
	// with the command (SCM_RIGHTS), as `getfd` and `add-fd` need.
	Json execute(const std::string &command, Json arguments = Json(), int pass_fd = -1);

	// The "QMP" member of the greeting ({"version": ..., "capabilities": ...}).
	const Json &greeting() const { return greeting_; }
	std::string qemu_version() const; // "10.0.2"

	const std::string &path() const { return path_; }

private:
	QmpClient(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
	void send_line(const std::string &line, int pass_fd);
	Json read_message();

	UniqueFd fd_;
	std::string path_;
	std::string buf_;
	Json greeting_;
	unsigned next_id_ = 1;
};

} // namespace vsteer::qemu
