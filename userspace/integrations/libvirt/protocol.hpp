// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The wire format between the QEMU wrapper (unprivileged, runs as the domain's QEMU user) and
// vsteer-libvirtd (root): one SOCK_SEQPACKET request and one reply per connection.
//
//   request: Request + SCM_RIGHTS with exactly one fd, a queue of the tap (the proof that the
//            caller was given this tap by libvirt)
//   reply:   Reply; on success (error == 0) SCM_RIGHTS with the four ebpf-rss-fds in QEMU's
//            order: program, config, Toeplitz key, indirection table
#pragma once

#include "unique_fd.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vsteer::libvirt
{

inline constexpr uint32_t kProtocolMagic = 0x56535452; // "VSTR"
inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr const char *kDefaultSocket = "/run/vsteer/libvirt.sock";

struct Request {
	uint32_t magic = kProtocolMagic;
	uint32_t version = kProtocolVersion;
	uint32_t queues = 0; // queues of the netdev (for a fresh default configuration)
	uint32_t reserved = 0;
};

struct Reply {
	uint32_t magic = kProtocolMagic;
	int32_t error = 0; // errno-style; 0 = the four fds follow
	uint32_t prog_id = 0;
	char tap[16] = {};      // the tap the proof fd belongs to
	char message[480] = {}; // on error: what failed and what to do
};

static_assert(sizeof(Request) == 16);
static_assert(sizeof(Reply) == 508);

// Sends `len` bytes and the fds in one message. Throws vsteer::Error.
void send_with_fds(int sock, const void *data, size_t len, const std::vector<int> &fds);

// Receives one message of exactly `len` bytes with at most `max_fds` fds; returns the fds
// (owned). Throws vsteer::Error on a short, truncated or oversized message (closing any fds
// that arrived), so a peer can never leave fds behind in the receiver.
std::vector<UniqueFd> recv_with_fds(int sock, void *data, size_t len, size_t max_fds);

} // namespace vsteer::libvirt
