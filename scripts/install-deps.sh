#!/usr/bin/env bash
# Install everything vsteer needs to build, test and demo, from Debian bookworm and
# bookworm-backports only. Idempotent: a second run changes nothing and is fast.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get); try: sudo $0" >&2
	exit 1
fi

. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
	echo "install-deps: this script targets Debian 12 (bookworm), found '${VERSION_CODENAME:-unknown}'" >&2
	exit 1
fi

# Packages taken from bookworm-backports (newer libbpf/bpftool/QEMU).
BACKPORTS_PKGS=(libbpf-dev libbpf1 bpftool qemu-system-x86 qemu-system-data qemu-system-common qemu-utils)
# Packages from bookworm (and bookworm-security for linux-source-6.12).
MAIN_PKGS=(
	clang-19 llvm-19 lld-19 cmake make g++ pkg-config git
	libxdp-dev libcli11-dev doctest-dev zlib1g-dev libelf-dev
	iproute2 util-linux ethtool busybox-static ccache
	linux-source-6.12 bc flex bison libssl-dev cpio xz-utils
	# pahole: BTF of the baseline guest kernel (make xdp-vm-coexist)
	dwarves
	valgrind strace file rsync
)

missing() {
	local p out=()
	for p in "$@"; do
		grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" || out+=("$p")
	done
	echo "${out[@]:-}"
}

need_main=$(missing "${MAIN_PKGS[@]}")
need_bp=$(missing "${BACKPORTS_PKGS[@]}")
# libbpf must be the backports 1.4 series (skeleton features we use).
if [ -z "$need_bp" ] && ! grep -q '^1:1\.[4-9]' <<<"$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null)"; then
	need_bp="${BACKPORTS_PKGS[*]}"
fi
if [ -z "$need_main" ] && [ -z "$need_bp" ]; then
	echo "install-deps: all dependencies present"
	exit 0
fi

# Add bookworm-backports once, in whatever file layout the machine uses.
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "install-deps: adding bookworm-backports to /etc/apt/sources.list.d/vsteer-backports.sources"
	cat >/etc/apt/sources.list.d/vsteer-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ -n "$need_main" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need_main
fi
if [ -n "$need_bp" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends -t bookworm-backports $need_bp
fi
echo "install-deps: done"
