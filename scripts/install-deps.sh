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

# Packages taken from bookworm-backports (newer libbpf/bpftool/QEMU; meson >= 1.5 and
# python3-pycotap are what QEMU 10's configure needs for `make qemu-build`).
BACKPORTS_PKGS=(libbpf-dev libbpf1 bpftool qemu-system-x86 qemu-system-data qemu-system-common qemu-utils
	meson python3-pycotap
	# libvirt 11 (rss='on' interfaces) for make libvirt-test
	libvirt-daemon-driver-qemu libvirt-clients libvirt-daemon)
# Packages from bookworm (and bookworm-security for linux-source-6.12).
MAIN_PKGS=(
	clang-19 llvm-19 lld-19 cmake make g++ pkg-config git
	libxdp-dev libcli11-dev doctest-dev nlohmann-json3-dev zlib1g-dev libelf-dev libmnl-dev
	iproute2 util-linux ethtool busybox-static ccache
	linux-source-6.12 bc flex bison libssl-dev cpio xz-utils
	# pahole: BTF of the baseline guest kernel (make xdp-vm-coexist)
	dwarves
	valgrind strace file rsync
	# the libvirt hook reads the domain XML; make deb builds and lints the Debian package
	libpugixml-dev debhelper dpkg-dev lintian
	# make qemu-build: QEMU 10.0.2 with qemu-patches/ (scripts/qemu/build-qemu.sh)
	ninja-build python3-venv python3-distlib libglib2.0-dev libslirp-dev libpixman-1-dev libfdt-dev
	# libFuzzer runtime of clang-19 (make fuzz)
	libclang-rt-19-dev
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
# libbpf must be the backports 1.4 series (skeleton features we use); bookworm's libxdp-dev
# pulls in bookworm's libbpf 1.1, so an installed libbpf-dev is not enough.
if ! grep -q '^1:1\.[4-9]' <<<"$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null)"; then
	need_bp="${BACKPORTS_PKGS[*]}"
fi
# meson must be >= 1.5 (QEMU 10's configure); bookworm itself has 1.0.
if ! dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson 2>/dev/null)" ge 1.5; then
	need_bp="${BACKPORTS_PKGS[*]}"
fi
# The Debian mirror this machine already uses for bookworm (deb822 .sources or one-line
# sources.list). The project never names a mirror of its own: a machine behind its own
# mirror or proxy keeps using it.
debian_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: the first URI of an enabled stanza whose Suites list bookworm.
		awk 'BEGIN { RS = ""; FS = "\n" }
			{ su = ""; uri = ""; en = 1
			  for (i = 1; i <= NF; i++) {
				if ($i ~ /^Suites:/) su = " " substr($i, 8) " "
				if ($i ~ /^URIs:/) { split(substr($i, 6), u, " "); uri = u[1] }
				if ($i ~ /^Enabled:[[:space:]]*no/) en = 0
			  }
			  gsub(/[[:space:]]+/, " ", su)
			  if (en && uri != "" && index(su, " bookworm ")) { print uri; exit } }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# one-line: deb [options] URI bookworm components
		awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == "bookworm") { print $i; exit } }' "$f"
	done
}

# Add bookworm-backports (deb and deb-src: QEMU's source for the qemu-patches build) once,
# in whatever file layout the machine uses, from the machine's own mirror.
has_suite() { # TYPE SUITE: is there an enabled TYPE entry for SUITE?
	grep -rqsE "^$1[[:space:]].*[[:space:]]$2([[:space:]]|\$)" /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v t="$1" -v s="$2" 'BEGIN{RS=""; FS="\n"; found=0}
			{ ty=""; su=""; en=1
			  for (i = 1; i <= NF; i++) {
				if ($i ~ /^Types:/) ty=" " $i " "
				if ($i ~ /^Suites:/) su=" " $i " "
				if ($i ~ /^Enabled:[[:space:]]*no/) en=0
			  }
			  if (en && index(ty, " " t " ") && index(su, " " s " ")) found=1 }
			END{exit !found}' "$f" && return 0
	done
	return 1
}
need_types=()
has_suite deb bookworm-backports || need_types+=(deb)
has_suite deb-src bookworm-backports || need_types+=(deb-src)
if [ ${#need_types[@]} -gt 0 ]; then
	mirror=$(debian_mirror | head -n 1)
	if [ -z "$mirror" ]; then
		echo "install-deps: no bookworm entry in /etc/apt/sources.list{,.d}: cannot tell which Debian mirror this machine uses; add bookworm-backports (deb and deb-src) yourself" >&2
		exit 1
	fi
	# apt reads only files named [A-Za-z0-9_.-]+.sources: no spaces in the name, or it
	# silently ignores the file and every backports install then fails.
	f=/etc/apt/sources.list.d/vsteer-bookworm-backports.sources
	echo "install-deps: adding bookworm-backports (${need_types[*]}) from $mirror to $f"
	cat >"$f" <<SRC
Types: ${need_types[*]}
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

if [ -z "$need_main" ] && [ -z "$need_bp" ] && [ ${#need_types[@]} -eq 0 ]; then
	echo "install-deps: all dependencies present"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=900 update -qq
if ! apt-cache policy | grep -q ' bookworm-backports/main '; then
	echo "install-deps: apt does not list bookworm-backports after 'apt-get update'; check /etc/apt/sources.list.d (apt ignores file names with characters other than A-Z a-z 0-9 _ . -)" >&2
	exit 1
fi
if [ -n "$need_main" ]; then
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $need_main
fi
if [ -n "$need_bp" ]; then
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends -t bookworm-backports $need_bp
fi
echo "install-deps: done"
