// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "pin_dir.hpp"

#include "error.hpp"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace vsteer
{
namespace
{

// BPF_F_PATH_FD of the Linux 6.5 uapi, spelled out: bookworm's own linux-libc-dev (6.1)
// does not have it yet, libbpf 1.4's bpf_obj_{get,pin}_opts do.
constexpr __u32 kBpfFPathFd = 1U << 14;

constexpr const char *kPinHint = "pin directories live on bpffs, e.g. /sys/fs/bpf/vsteer/TAP";

// The '/'-separated fields of `path` (empty ones included).
std::vector<std::string> split_path(std::string_view path)
{
	std::vector<std::string> out(1);
	for (char c : path)
		if (c == '/')
			out.emplace_back();
		else
			out.back() += c;
	return out;
}

// The components of a normalized absolute path.
std::vector<std::string> components(const std::string &path)
{
	return split_path(std::string_view(path).substr(1));
}

bool on_bpffs(int fd)
{
	struct statfs st {
	};
	return fstatfs(fd, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

// The trust rule for one directory on bpffs (see pin_dir.hpp).
void check_trusted(int fd, const std::string &path)
{
	struct stat st {
	};
	if (fstat(fd, &st))
		throw_errno(path, "inspect pin directory");
	if (!S_ISDIR(st.st_mode))
		throw Error(ENOTDIR, path, "is not a directory", kPinHint);
	if (!on_bpffs(fd))
		return; // checked where the pin directory must be on bpffs
	const uid_t me = geteuid();
	if (st.st_uid != 0 && st.st_uid != me)
		throw Error(EPERM, path,
		            "refusing a pin path through a directory owned by uid " +
		                std::to_string(st.st_uid) + " (neither root nor you)",
		            "its owner could swap the pins; use a directory owned by root or by you");
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		throw Error(EPERM, path,
		            "refusing a pin path through a directory writable by group or others "
		            "without the sticky bit",
		            "others could swap the pins; `chmod go-w " + path + "` (or +t)");
}

std::string join(const std::string &dir, const std::string &name)
{
	return dir == "/" ? "/" + name : dir + "/" + name;
}

// Opens `name` under `dirfd` as a directory, never through a symbolic link.
int open_component(int dirfd, const std::string &name)
{
	return openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

[[noreturn]] void throw_open_error(const std::string &path)
{
	int err = errno;
	if (err == ELOOP || err == ENOTDIR) {
		struct stat st {
		};
		if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
			throw Error(ELOOP, path, "is a symbolic link; refusing to follow it for pins",
			            "pass the real directory");
		throw Error(ENOTDIR, path, "is not a directory", kPinHint);
	}
	if (err == EACCES || err == EPERM)
		throw Error(err, path, "open pin directory",
		            "needs root (or read and search permission on every directory of the path)");
	throw Error(err, path, "open pin directory");
}

// Walks `path` from "/" with the checks above. Stops at the first missing component:
// returns the deepest directory opened and how many components it covers.
std::pair<UniqueFd, size_t> walk(const std::vector<std::string> &parts)
{
	UniqueFd fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!fd)
		throw_errno("/", "open");
	std::string path = "/";
	for (size_t i = 0; i < parts.size(); i++) {
		std::string next = join(path, parts[i]);
		UniqueFd child(open_component(fd.get(), parts[i]));
		if (!child) {
			if (errno == ENOENT)
				return {std::move(fd), i};
			throw_open_error(next);
		}
		check_trusted(child.get(), next);
		fd = std::move(child);
		path = std::move(next);
	}
	return {std::move(fd), parts.size()};
}

void require_bpffs(int fd, const std::string &path)
{
	if (!on_bpffs(fd))
		throw Error(EINVAL, path, "is not on a bpf filesystem (bpffs)",
		            std::string(kPinHint) + "; is bpffs mounted on /sys/fs/bpf?");
}

// BPF_F_PATH_FD (Linux 6.5) resolves `name` relative to the directory fd. Older kernels
// refuse the flag with EINVAL; there the fd's /proc/self/fd link names the same directory.
std::string proc_path(int dirfd, const std::string &name)
{
	return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

} // namespace

std::string normalize_pin_path(const std::string &path, const std::string &what)
{
	if (path.empty())
		throw Error(EINVAL, what + " ''", "empty pin directory", kPinHint);
	if (path[0] != '/')
		throw Error(EINVAL, what + " " + path, "is a relative path",
		            "pass an absolute path on bpffs, e.g. /sys/fs/bpf/vsteer/TAP");
	std::string out;
	for (const std::string &c : split_path(path)) {
		if (c.empty())
			continue; // "//" and a trailing "/"
		if (c == "." || c == "..")
			throw Error(EINVAL, what + " " + path, "has a '" + std::string(c) + "' component",
			            "pass the directory's plain absolute path");
		out += "/";
		out += c;
	}
	if (out.empty())
		throw Error(EINVAL, what + " " + path, "is the root directory", kPinHint);
	return out;
}

PinDir PinDir::open(const std::string &path)
{
	if (auto d = open_if_exists(path))
		return std::move(*d);
	// Name the first missing directory.
	const std::string p = normalize_pin_path(path, "pin directory");
	auto parts = components(p);
	size_t depth = walk(parts).second;
	std::string missing;
	for (size_t i = 0; i <= depth && i < parts.size(); i++)
		missing += "/" + parts[i];
	throw Error(ENOENT, missing, "no such pin directory");
}

std::optional<PinDir> PinDir::open_if_exists(const std::string &path)
{
	const std::string p = normalize_pin_path(path, "pin directory");
	auto parts = components(p);
	auto [fd, depth] = walk(parts);
	if (depth < parts.size())
		return std::nullopt;
	require_bpffs(fd.get(), p);
	return PinDir(std::move(fd), p);
}

PinDir PinDir::create(const std::string &path)
{
	const std::string p = normalize_pin_path(path, "pin directory");
	auto parts = components(p);
	auto [fd, depth] = walk(parts);
	std::string at = "/";
	for (size_t i = 0; i < depth; i++)
		at = join(at, parts[i]);
	if (depth < parts.size()) {
		// Only ever below a directory on bpffs: never create directories elsewhere.
		require_bpffs(fd.get(), at);
		PinDir dir(std::move(fd), at);
		for (size_t i = depth; i < parts.size(); i++) {
			try {
				dir = dir.make_child(parts[i]);
			} catch (const Error &e) {
				if (e.code() != EEXIST)
					throw;
				auto d = dir.child(parts[i]); // created meanwhile by someone else
				if (!d)
					throw;
				dir = std::move(*d);
			}
		}
		return dir;
	}
	require_bpffs(fd.get(), p);
	return PinDir(std::move(fd), p);
}

std::string PinDir::path_of(const std::string &name) const
{
	return join(path_, name);
}

UniqueFd PinDir::get(const std::string &name, const std::string &hint) const
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = kBpfFPathFd, .path_fd = fd());
	int fd = -1;
	struct stat st {
	};
	if (fstatat(this->fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW)) {
		// errno says why
	} else if (S_ISLNK(st.st_mode)) {
		throw Error(ELOOP, path_of(name), "is a symbolic link; refusing to follow it for pins",
		            "pins are opened only where they are");
	} else {
		fd = bpf_obj_get_opts(name.c_str(), &opts);
		if (fd < 0 && errno == EINVAL)
			fd = bpf_obj_get(proc_path(this->fd(), name).c_str());
	}
	if (fd < 0) {
		int err = errno;
		if (err == EACCES || err == EPERM)
			throw Error(err, path_of(name), "open pinned object",
			            "needs root (CAP_BPF) or read and write permission on the pin");
		throw Error(err, path_of(name), "open pinned object", err == ENOENT ? hint : "");
	}
	return UniqueFd(fd);
}

void PinDir::pin(int obj, const std::string &name) const
{
	LIBBPF_OPTS(bpf_obj_pin_opts, opts, .file_flags = kBpfFPathFd, .path_fd = fd());
	int err = bpf_obj_pin_opts(obj, name.c_str(), &opts);
	if (err && errno == EINVAL)
		err = bpf_obj_pin(obj, proc_path(fd(), name).c_str());
	if (err)
		throw_errno(path_of(name), "pin");
}

bool PinDir::has(const std::string &name) const
{
	struct stat st {
	};
	return fstatat(fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

bool PinDir::remove(const std::string &name) const
{
	struct stat st {
	};
	if (fstatat(fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return false;
		throw_errno(path_of(name), "inspect");
	}
	if (unlinkat(fd(), name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0)) {
		if (errno == ENOENT)
			return false;
		throw_errno(path_of(name), "remove");
	}
	return true;
}

void PinDir::rename(const std::string &from, const std::string &to) const
{
	if (renameat(fd(), from.c_str(), fd(), to.c_str()))
		throw_errno(path_of(to), "move " + path_of(from) + " into place");
}

std::vector<std::string> PinDir::entries() const
{
	int rd = openat(fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rd < 0)
		throw_errno(path_, "list");
	DIR *d = fdopendir(rd);
	if (!d) {
		::close(rd);
		throw_errno(path_, "list");
	}
	std::vector<std::string> out;
	while (dirent *e = readdir(d)) {
		std::string n = e->d_name;
		if (n != "." && n != "..")
			out.push_back(std::move(n));
	}
	closedir(d);
	return out;
}

std::optional<PinDir> PinDir::child(const std::string &name) const
{
	const std::string p = path_of(name);
	UniqueFd c(open_component(fd(), name));
	if (!c) {
		if (errno == ENOENT)
			return std::nullopt;
		throw_open_error(p);
	}
	check_trusted(c.get(), p);
	require_bpffs(c.get(), p);
	return PinDir(std::move(c), p);
}

PinDir PinDir::make_child(const std::string &name) const
{
	if (name.find('.') != std::string::npos)
		throw Error(EINVAL, path_of(name), "bpffs does not allow '.' in names",
		            "choose a name without dots");
	if (mkdirat(fd(), name.c_str(), 0700))
		throw_errno(path_of(name), "create pin directory");
	auto d = child(name);
	if (!d)
		throw Error(ENOENT, path_of(name), "open the directory just created");
	return std::move(*d);
}

UniqueFd open_pin(const std::string &path, const std::string &hint)
{
	const std::string p = normalize_pin_path(path, "pin");
	const size_t slash = p.rfind('/');
	return PinDir::open(slash == 0 ? "/" : p.substr(0, slash)).get(p.substr(slash + 1), hint);
}

PinLock::PinLock(const PinDir &root, Mode mode)
    : fd_(openat(root.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
{
	if (!fd_)
		throw_errno(root.path(), "open for locking");
	const int op = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
	// Commands hold the lock for milliseconds; a holder that is stuck for long is named.
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
	auto pause = std::chrono::microseconds(100);
	while (flock(fd_.get(), op | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			throw_errno(root.path(), "lock");
		if (std::chrono::steady_clock::now() > deadline)
			throw Error(EWOULDBLOCK, root.path(), "locked by another vsteer command for 30 s",
			            "is a vsteer process stuck? (`fuser -v " + root.path() + "`)");
		std::this_thread::sleep_for(pause);
		pause = std::min(pause * 2, std::chrono::microseconds(20000));
	}
}

} // namespace vsteer
