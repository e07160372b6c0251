// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "tap_proof.hpp"
#include "error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>

namespace vsteer::libvirt
{

namespace
{

bool same_file(int a, int b)
{
	struct stat sa {
	}, sb{};
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

} // namespace

std::string tap_of_queue_fd(int fd)
{
	const std::string what = "tap queue fd passed by the client";
	struct stat st {
	};
	if (fstat(fd, &st))
		throw_errno(what, "fstat");
	// /dev/net/tun is the misc character device 10:200.
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 10 || minor(st.st_rdev) != 200)
		throw Error(EBADF, what, "is not a /dev/net/tun file", "pass one of the netdev's tap fds");
	ifreq ifr{};
	if (ioctl(fd, TUNGETIFF, &ifr))
		throw_errno(what, "TUNGETIFF", "the fd is not attached to a tap (or the queue is disabled)");
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP)
		throw Error(EINVAL, what, "belongs to a tun (layer 3) device, not a tap");
	std::string name(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
	UniqueFd tap_ns(ioctl(fd, TUNGETDEVNETNS));
	if (!tap_ns)
		throw_errno("tap " + name, "TUNGETDEVNETNS");
	UniqueFd own_ns(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
	if (!own_ns)
		throw_errno("/proc/thread-self/ns/net", "open");
	if (!same_file(tap_ns.get(), own_ns.get()))
		throw Error(EXDEV, "tap " + name, "lives in another network namespace than vsteer-libvirtd",
		            "run vsteer-libvirtd in the network namespace of libvirtd and its taps");
	return name;
}

} // namespace vsteer::libvirt
