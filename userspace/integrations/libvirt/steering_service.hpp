// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-libvirtd's work: listen on a unix socket that only root and the QEMU user/group can
// reach, and answer each connection with the steering fds of the tap the caller proves it
// holds (tap_proof.hpp). The pins themselves stay root-only.
#pragma once

#include "unique_fd.hpp"

#include <string>
#include <sys/types.h>

namespace vsteer::libvirt
{

struct AccessPolicy {
	uid_t user = 0;  // besides root: this uid may connect (the QEMU user)
	gid_t group = 0; // ...and any process whose gid is this (the QEMU group)
	bool have_user = false, have_group = false;
};

// Resolves the QEMU user and group by name (missing ones are left out, with a warning).
AccessPolicy access_policy(const std::string &user, const std::string &group);

// Binds `path` (replacing a stale socket, never another kind of file), mode 0660, group
// `policy.group`, and listens.
UniqueFd listen_socket(const std::string &path, const AccessPolicy &policy);

// Serves one accepted connection: checks SO_PEERCRED against the policy, reads the request
// and its tap fd, ensures the tap's pins and sends the four fds (or the reason it will not).
// Never throws; logs one line to stderr.
void serve_connection(int conn, const AccessPolicy &policy);

} // namespace vsteer::libvirt
