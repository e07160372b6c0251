// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// A minimal userspace virtio-net receive driver on /dev/vhost-net: one split ring (the
// receive queue, vq 0) in anonymous memory that is also the "guest memory" (identity
// mapping in the vhost memory table), device-writable buffers, eventfds for kick and call.
// Enough to see exactly what vhost-net writes into a guest's receive buffers.
#pragma once

#define VIRTIO_RING_NO_LEGACY 1 // vring_init() is C, not C++

#include "guest_common.hpp"

#include <atomic>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

namespace vsteer::vm
{

class VhostRx
{
public:
	static constexpr unsigned kNum = 64;
	static constexpr size_t kBufSize = 2048;
	static constexpr size_t kMemSize = 1 << 20;

	VhostRx()
	{
		vhost_ = Fd(::open("/dev/vhost-net", O_RDWR | O_CLOEXEC));
		if (vhost_.get() < 0)
			fail_errno("open /dev/vhost-net");
		if (ioctl(vhost_.get(), VHOST_SET_OWNER) < 0)
			fail_errno("VHOST_SET_OWNER");
		mem_ = static_cast<uint8_t *>(::mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE,
		                                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
		if (mem_ == MAP_FAILED)
			fail_errno("mmap");
		desc_ = reinterpret_cast<vring_desc *>(mem_);
		avail_ = reinterpret_cast<vring_avail *>(mem_ + 1024);
		used_ = reinterpret_cast<vring_used *>(mem_ + 4096);
		bufs_ = mem_ + 16384;
		kick_ = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
		call_ = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	}
	~VhostRx()
	{
		vhost_.reset();
		::munmap(mem_, kMemSize);
	}
	VhostRx(const VhostRx &) = delete;
	VhostRx &operator=(const VhostRx &) = delete;

	uint64_t offered_features() const
	{
		uint64_t f = 0;
		if (ioctl(vhost_.get(), VHOST_GET_FEATURES, &f) < 0)
			fail_errno("VHOST_GET_FEATURES");
		return f;
	}
	// errno of VHOST_SET_FEATURES (0: accepted).
	int set_features(uint64_t f) const
	{
		return ioctl(vhost_.get(), VHOST_SET_FEATURES, &f) < 0 ? errno : 0;
	}
	// VHOST_GET_BACKEND_FEATURES (0 if the ioctl fails)
	uint64_t backend_features() const
	{
		uint64_t f = 0;
		return ioctl(vhost_.get(), VHOST_GET_BACKEND_FEATURES, &f) < 0 ? 0 : f;
	}
	int set_backend_features(uint64_t f) const
	{
		return ioctl(vhost_.get(), VHOST_SET_BACKEND_FEATURES, &f) < 0 ? errno : 0;
	}

	// Memory table, ring 0, buffers, backend. Call after set_features.
	void start(int tap_fd)
	{
		alignas(8) uint8_t table[sizeof(vhost_memory) + sizeof(vhost_memory_region)] = {};
		auto *hdr = reinterpret_cast<vhost_memory *>(table);
		hdr->nregions = 1;
		hdr->regions[0].guest_phys_addr = reinterpret_cast<uintptr_t>(mem_);
		hdr->regions[0].userspace_addr = reinterpret_cast<uintptr_t>(mem_);
		hdr->regions[0].memory_size = kMemSize;
		if (ioctl(vhost_.get(), VHOST_SET_MEM_TABLE, table) < 0)
			fail_errno("VHOST_SET_MEM_TABLE");

		vhost_vring_state num{0, kNum};
		if (ioctl(vhost_.get(), VHOST_SET_VRING_NUM, &num) < 0)
			fail_errno("VHOST_SET_VRING_NUM");
		vhost_vring_state base{0, 0};
		if (ioctl(vhost_.get(), VHOST_SET_VRING_BASE, &base) < 0)
			fail_errno("VHOST_SET_VRING_BASE");
		vhost_vring_addr addr{};
		addr.index = 0;
		addr.desc_user_addr = reinterpret_cast<uintptr_t>(desc_);
		addr.avail_user_addr = reinterpret_cast<uintptr_t>(avail_);
		addr.used_user_addr = reinterpret_cast<uintptr_t>(used_);
		if (ioctl(vhost_.get(), VHOST_SET_VRING_ADDR, &addr) < 0)
			fail_errno("VHOST_SET_VRING_ADDR");
		vhost_vring_file kickf{0, kick_.get()};
		if (ioctl(vhost_.get(), VHOST_SET_VRING_KICK, &kickf) < 0)
			fail_errno("VHOST_SET_VRING_KICK");
		vhost_vring_file callf{0, call_.get()};
		if (ioctl(vhost_.get(), VHOST_SET_VRING_CALL, &callf) < 0)
			fail_errno("VHOST_SET_VRING_CALL");

		for (unsigned i = 0; i < kNum; i++) {
			desc_[i].addr = reinterpret_cast<uintptr_t>(buf(i));
			desc_[i].len = kBufSize;
			desc_[i].flags = VRING_DESC_F_WRITE;
			desc_[i].next = 0;
			post(static_cast<uint16_t>(i), false);
		}
		vhost_vring_file backend{0, tap_fd};
		if (ioctl(vhost_.get(), VHOST_NET_SET_BACKEND, &backend) < 0)
			fail_errno("VHOST_NET_SET_BACKEND");
		kick();
	}

	struct Used {
		bool ok = false;
		uint32_t len = 0;
		std::vector<uint8_t> bytes; // what the device wrote (len bytes) plus one stale byte
	};

	// Waits for the next used buffer, returns it and gives the buffer back to the device.
	Used next(int timeout_ms)
	{
		Used u;
		for (int waited = 0; waited <= timeout_ms; waited += 10) {
			uint16_t idx = __atomic_load_n(&used_->idx, __ATOMIC_ACQUIRE);
			if (idx != used_seen_) {
				const vring_used_elem &e = used_->ring[used_seen_ % kNum];
				used_seen_++;
				uint32_t id = e.id;
				u.len = e.len;
				if (id >= kNum || u.len > kBufSize)
					return u;
				u.bytes.assign(buf(id), buf(id) + u.len + (u.len < kBufSize ? 1 : 0));
				u.ok = true;
				post(static_cast<uint16_t>(id), true);
				uint64_t v;
				(void)!::read(call_.get(), &v, sizeof(v));
				return u;
			}
			pollfd p{call_.get(), POLLIN, 0};
			::poll(&p, 1, 10);
		}
		return u;
	}

	void stop()
	{
		vhost_vring_file backend{0, -1};
		ioctl(vhost_.get(), VHOST_NET_SET_BACKEND, &backend);
	}

private:
	uint8_t *buf(unsigned i) const { return bufs_ + i * kBufSize; }
	void post(uint16_t id, bool notify)
	{
		std::memset(buf(id), kStale, kBufSize);
		avail_->ring[avail_idx_ % kNum] = id;
		__atomic_store_n(&avail_->idx, ++avail_idx_, __ATOMIC_RELEASE);
		if (notify)
			kick();
	}
	void kick() const
	{
		uint64_t one = 1;
		(void)!::write(kick_.get(), &one, sizeof(one));
	}

	Fd vhost_, kick_, call_;
	uint8_t *mem_ = nullptr;
	uint8_t *bufs_ = nullptr;
	vring_desc *desc_ = nullptr;
	vring_avail *avail_ = nullptr;
	vring_used *used_ = nullptr;
	uint16_t avail_idx_ = 0;
	uint16_t used_seen_ = 0;
};

} // namespace vsteer::vm
