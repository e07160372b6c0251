// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer's one error type: errno, the object the error is about (a tap, a pin path, a map)
// and, where there is one, what to do about it. A failure that happened while handling
// another one carries it as its cause (std::throw_with_nested), so nothing is lost; the CLI
// prints the whole chain and exits with the errno (exit_code()).
#pragma once

#include <cerrno>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

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
	int code() const { return code_; } // errno; 0: none

protected:
	// A complete message about input that is not acceptable (the subclasses below).
	Error(int err, const std::string &message) : std::runtime_error(message), code_(err) {}

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

// A value the user gave (option, configuration, QEMU command line) is not acceptable; the
// message says why. EINVAL.
class ConfigError : public Error
{
public:
	explicit ConfigError(const std::string &message) : Error(EINVAL, message) {}
};

// Throws Error with the current errno.
[[noreturn]] inline void throw_errno(std::string object, std::string action, std::string hint = {})
{
	throw Error(errno, std::move(object), std::move(action), std::move(hint));
}

// The messages of `e` and of the causes nested in it, outermost first.
inline std::vector<std::string> error_chain(const std::exception &e)
{
	std::vector<std::string> out{e.what()};
	try {
		std::rethrow_if_nested(e);
	} catch (const std::exception &cause) {
		auto rest = error_chain(cause);
		out.insert(out.end(), rest.begin(), rest.end());
	} catch (...) {
		out.push_back("unknown error");
	}
	return out;
}

// The process exit status for `e`: the first errno along its chain (1..125), else 1.
inline int exit_code(const std::exception &e)
{
	if (auto *err = dynamic_cast<const Error *>(&e); err && err->code() > 0 && err->code() < 126)
		return err->code();
	try {
		std::rethrow_if_nested(e);
	} catch (const std::exception &cause) {
		return exit_code(cause);
	} catch (...) {
	}
	return 1;
}

// Called in a catch block after a failure: runs `undo` (which puts back what the failed
// operation had changed) and rethrows the failure. If undoing fails as well, the error says
// that `object` may be left half-changed and carries the original failure as its cause
// (whose errno is the exit status).
template <typename Undo> [[noreturn]] void rethrow_after_undo(const std::string &object, Undo &&undo)
{
	std::exception_ptr failure = std::current_exception();
	std::string undo_error;
	try {
		undo();
	} catch (const std::exception &e) {
		undo_error = e.what();
	}
	if (undo_error.empty())
		std::rethrow_exception(failure);
	try {
		std::rethrow_exception(failure);
	} catch (...) {
		std::throw_with_nested(Error(0, object,
		                             "undoing the failed change failed too (" + undo_error + ")",
		                             "it may be left half-changed; the failure was"));
	}
}

} // namespace vsteer
