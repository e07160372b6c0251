// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "steering_pins.hpp"
#include "error.hpp"
#include "qemu_rss.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <filesystem>

namespace vsteer::libvirt
{

namespace
{

// Holds /run/vsteer/libvirt.lock exclusively for its lifetime.
class PinLock
{
public:
	PinLock()
	{
		if (mkdir(kStateDir, 0755) && errno != EEXIST)
			throw_errno(kStateDir, "create");
		fd_ = UniqueFd(open(kLockFile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
		if (!fd_)
			throw_errno(kLockFile, "open");
		while (flock(fd_.get(), LOCK_EX))
			if (errno != EINTR)
				throw_errno(kLockFile, "lock");
	}

private:
	UniqueFd fd_;
};

} // namespace

PinnedSteering ensure_steering_pins(const std::string &tap, unsigned queues)
{
	const std::string dir = default_pin_dir(tap);
	PinLock lock;
	if (std::filesystem::exists(dir) && !SteeringObjects::is_pinned(dir))
		throw Error(EEXIST, dir, "exists but is not a complete vsteer pin set",
		            "remove it (`vsteer detach --tap " + tap + "`) and start the domain again");
	if (SteeringObjects::is_pinned(dir)) {
		PinnedSteering p{SteeringObjects::open_pinned(dir), false};
		qemu::validate_ebpf_rss_fds(
		    {p.objects.prog_fd(), p.objects.config_fd(), p.objects.key_fd(), p.objects.table_fd()});
		return p;
	}
	ensure_bpffs();
	PinnedSteering p{SteeringObjects::load(), true};
	p.objects.write_config(default_config(queues ? queues : 1));
	p.objects.pin(dir);
	return p;
}

bool remove_steering_pins(const std::string &tap)
{
	const std::string dir = default_pin_dir(tap);
	PinLock lock;
	if (!std::filesystem::exists(dir))
		return false;
	SteeringObjects::unpin(dir);
	return true;
}

} // namespace vsteer::libvirt
