// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "tun_hash_report.hpp"

#include "tun_hash_report_uapi.h"

#include "error.hpp"

#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <sys/ioctl.h>
#include <system_error>

namespace vsteer
{

namespace
{

[[noreturn]] void fail(int err, int tun_fd, const std::string &what)
{
	throw Error(err, "tap " + tun_fd_name(tun_fd), what);
}

// 0 on success, errno otherwise.
int query(int tun_fd, tun_hash_report &out)
{
	std::memset(&out, 0, sizeof(out));
	if (ioctl(tun_fd, TUNGETHASHREPORT, &out) == 0)
		return 0;
	return errno;
}

bool unsupported_errno(int err)
{
	return err == EINVAL || err == ENOTTY || err == EOPNOTSUPP;
}

} // namespace

std::string tun_fd_name(int tun_fd)
{
	struct ifreq ifr {
	};
	if (ioctl(tun_fd, TUNGETIFF, &ifr) == 0 && ifr.ifr_name[0])
		return std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
	return "fd " + std::to_string(tun_fd);
}

bool kernel_supports_hash_report(int tun_fd)
{
	tun_hash_report r;
	const int err = query(tun_fd, r);
	if (err == 0)
		return (r.supported & TUN_HASH_REPORT_STEERING) != 0;
	if (unsupported_errno(err))
		return false;
	fail(err, tun_fd, "querying hash reporting support (TUNGETHASHREPORT)");
}

bool hash_report_enabled(int tun_fd)
{
	tun_hash_report r;
	const int err = query(tun_fd, r);
	if (err == 0)
		return (r.flags & TUN_HASH_REPORT_STEERING) != 0;
	if (unsupported_errno(err))
		fail(EOPNOTSUPP, tun_fd,
		     "the kernel has no tun hash reporting (TUNGETHASHREPORT failed: " +
		         std::generic_category().message(err) + "); it needs the patches in kernel-patches/");
	fail(err, tun_fd, "reading the hash reporting state (TUNGETHASHREPORT)");
}

void enable_hash_report(int tun_fd, bool on)
{
	if (!kernel_supports_hash_report(tun_fd)) {
		if (!on)
			return; // nothing to turn off on a kernel without the feature
		fail(EOPNOTSUPP, tun_fd,
		     "cannot enable hash reporting: the kernel has no TUNSETHASHREPORT "
		     "(it needs the tun patches in kernel-patches/)");
	}
	tun_hash_report r{};
	r.flags = on ? TUN_HASH_REPORT_STEERING : 0;
	if (ioctl(tun_fd, TUNSETHASHREPORT, &r) == 0)
		return;
	const int err = errno;
	if (err == EINVAL && on) {
		int sz = 0;
		std::string detail;
		if (ioctl(tun_fd, TUNGETVNETHDRSZ, &sz) == 0)
			detail = "; its vnet header is " + std::to_string(sz) + " bytes";
		fail(err, tun_fd,
		     "cannot enable hash reporting (TUNSETHASHREPORT): the tap needs IFF_VNET_HDR, a vnet "
		     "header of at least 20 bytes (TUNSETVNETHDRSZ) and little-endian vnet headers" +
		         detail);
	}
	fail(err, tun_fd, std::string(on ? "enabling" : "disabling") + " hash reporting (TUNSETHASHREPORT)");
}

} // namespace vsteer
