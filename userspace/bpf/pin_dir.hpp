// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Pin directories on bpffs, opened so that nobody else can redirect them, and the lock that
// serializes vsteer's changes to them. Every pinned object vsteer opens or creates goes
// through a PinDir (docs/pins.md has the rules):
//  * a pin path is absolute, without "." or ".." components; trailing slashes are dropped;
//  * each directory is opened relative to its parent with O_NOFOLLOW: a symbolic link
//    anywhere on the path is refused, and a pin is opened relative to the directory's fd
//    (BPF_F_PATH_FD), so the path cannot be swapped between the check and the use;
//  * every directory on bpffs along the path is owned by root or the caller and is not
//    writable by group or others unless it has the sticky bit (as /tmp, where others may
//    add entries but not rename or remove ours): nobody else can swap a directory or a
//    pin on the path;
//  * the directory is on a bpf filesystem.
#pragma once

#include "unique_fd.hpp"

#include <optional>
#include <string>
#include <vector>

namespace vsteer
{

// `path` checked and in its one spelling: absolute, no empty, "." or ".." components, no
// trailing slash. Throws Error naming `what` (the option the path came from) and the fix.
std::string normalize_pin_path(const std::string &path, const std::string &what = "--pin-dir");

class PinDir
{
public:
	// Opens an existing directory (see the rules above). Throws Error; ENOENT names the
	// first component that is missing.
	static PinDir open(const std::string &path);
	// nullopt if the directory (or a directory above it) does not exist.
	static std::optional<PinDir> open_if_exists(const std::string &path);
	// Opens the directory, creating the missing ones (mode 0700) on the bpffs below an
	// existing, trusted directory.
	static PinDir create(const std::string &path);

	const std::string &path() const { return path_; }
	int fd() const { return fd_.get(); }
	// `path()/name`, for messages.
	std::string path_of(const std::string &name) const;

	// The one way vsteer opens a pinned object: relative to this directory, never through
	// a symbolic link. `hint` goes into the error (what to run when the pin is missing).
	UniqueFd get(const std::string &name, const std::string &hint = {}) const;
	// Pins `fd` as `name` in this directory.
	void pin(int fd, const std::string &name) const;
	// Whether `name` exists (not following a symbolic link).
	bool has(const std::string &name) const;
	// Removes the pin (or empty directory) `name`; false if it did not exist.
	bool remove(const std::string &name) const;
	// Atomically replaces `to` with `from` (both in this directory; rename(2)).
	void rename(const std::string &from, const std::string &to) const;
	// The entries of this directory (names only, without "." and "..").
	std::vector<std::string> entries() const;
	// Opens the subdirectory `name` under the same rules; nullopt if it does not exist.
	std::optional<PinDir> child(const std::string &name) const;
	// Creates the empty subdirectory `name` (mode 0700) and opens it.
	PinDir make_child(const std::string &name) const;

private:
	PinDir(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
	UniqueFd fd_;
	std::string path_;
};

// Opens the pinned object at an absolute `path` through PinDir (its directory checked).
UniqueFd open_pin(const std::string &path, const std::string &hint = {});

// An flock(2) on a pin root held for the lifetime of the object (as libxdp locks its bpffs
// directory). Every command that changes pins under the root takes it exclusively, readers
// that must see a whole policy take it shared. The lock is on the root, not on the pin
// directory itself: a pin directory appears by rename(2) and disappears on detach, so a
// waiter could end up holding a lock on a directory that is no longer there.
class PinLock
{
public:
	enum class Mode { shared, exclusive };
	PinLock(const PinDir &root, Mode mode);
	PinLock(PinLock &&) = default;
	PinLock &operator=(PinLock &&) = default;

private:
	UniqueFd fd_; // a second open of the root: the lock goes with this open file
};

} // namespace vsteer
