// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Errors that carry errno, the object they are about (a tap, a pin path, a map) and,
// where there is one, what to do about it. The CLI prints what() and exits non-zero.
#pragma once

#include <cerrno>
#include <string>
#include <stdexcept>
#include <system_error>

namespace vsteer
{

class Error : public std::runtime_error
{
public:
	// `object`: what failed ("map config at /sys/fs/bpf/vsteer/tap0/config");
	// `action`: what was attempted; `hint`: what the user can do (may be empty).
	Error(int err, std::string object, std::string action, std::string hint = {})
	    : std::runtime_error(compose(err, object, action, hint)), code_(err), object_(std::move(object))
	{
	}

	const std::string &object() const { return object_; }
	int code() const { return code_; }

private:
	static std::string compose(int err, const std::string &object, const std::string &action,
	                           const std::string &hint)
	{
		std::string s = object + ": " + action;
		if (err)
			s += ": " + std::generic_category().message(err) + " (errno " + std::to_string(err) +
			     ")";
		if (!hint.empty())
			s += "; " + hint;
		return s;
	}
	int code_;
	std::string object_;
};

// Throws Error with the current errno.
[[noreturn]] inline void throw_errno(std::string object, std::string action, std::string hint = {})
{
	throw Error(errno, std::move(object), std::move(action), std::move(hint));
}

} // namespace vsteer
