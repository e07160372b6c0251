// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Which tap a queue file descriptor belongs to. An open queue of a tap is the authority
// vsteer-libvirtd accepts: libvirt hands each domain's QEMU the queues of that domain's taps
// only, so a caller that holds one may have that tap's steering objects and no other's.
#pragma once

#include <string>

namespace vsteer::libvirt
{

// The name of the tap whose queue `fd` is. Throws vsteer::Error unless `fd` is an open
// /dev/net/tun file attached to a tap (not a tun device) that lives in the caller's own
// network namespace, so that a tap of the same name elsewhere cannot be passed off as ours.
std::string tap_of_queue_fd(int fd);

} // namespace vsteer::libvirt
