// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Hash reporting of a tap (kernel-patches/: TUNSETHASHREPORT / TUNGETHASHREPORT): the tun
// driver puts the hash value and report type that the steering program writes to
// __sk_buff->cb[0] / cb[1] into struct virtio_net_hdr_v1_hash.
#pragma once

#include <cstdint>
#include <string>

namespace vsteer
{

// true when the kernel behind `tun_fd` (a file attached to a tap with TUNSETIFF) knows
// TUN_HASH_REPORT_STEERING. Asked of the kernel with TUNGETHASHREPORT, never guessed
// from the version: an unpatched kernel fails it with EINVAL (ENOTTY for non-tun files).
// Throws vsteer::Error for any other failure (EBADFD: not attached, ...).
bool kernel_supports_hash_report(int tun_fd);

// true when hash reporting from the steering program is on for the tap.
// Throws vsteer::Error when the kernel does not support it or the query fails.
bool hash_report_enabled(int tun_fd);

// Turns reporting on or off. Turning it on needs IFF_VNET_HDR, a vnet header of at
// least 20 bytes (TUNSETVNETHDRSZ) and little-endian vnet headers. Throws
// vsteer::Error carrying errno (EOPNOTSUPP when the kernel lacks the feature,
// EINVAL when the tap is not set up for it) and a message naming the tap.
void enable_hash_report(int tun_fd, bool on);

// Name of the tap `tun_fd` is attached to (TUNGETIFF), "fd N" when that fails.
std::string tun_fd_name(int tun_fd);

} // namespace vsteer
