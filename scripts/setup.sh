#!/usr/bin/env bash
# Prepares a Debian 12 machine for bpfskel. Idempotent: a second run changes
# nothing and says so. Needs no TTY.
#
#   scripts/setup.sh --runtime   what loading BPF needs (make demo, make test):
#                                bpffs at /sys/fs/bpf, tracefs at
#                                /sys/kernel/tracing (for bpf_printk output)
#   scripts/setup.sh --build     --runtime, plus what building the BPF objects
#                                and checking them needs: clang-19, llvm-19
#                                (llvm-strip-19, llvm-objdump-19), libbpf-dev,
#                                linux-libc-dev, bpftool, make, git
#   scripts/setup.sh             same as --build
#
# Packages are installed with apt only when missing (apt-get update runs once,
# only then). Changing anything needs root; when everything is already in
# place the script succeeds for any user.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

# Debian packages for --build; whether each is present is asked of dpkg.
BUILD_PACKAGES=(
	clang-19         # clang-19
	llvm-19          # llvm-strip-19, llvm-objdump-19
	libbpf-dev       # <bpf/bpf_helpers.h>
	linux-libc-dev   # <linux/bpf.h>, <asm/types.h>
	bpftool          # bpftool btf dump, prog loadall
	make
	git              # make check-stale
	gcc-12           # runtime/bpfskel/testdata/usdt_target, the USDT tests' program
	systemtap-sdt-dev # <sys/sdt.h>, the USDT probes of usdt_target
	iproute2         # ip and tc: the veth pairs and qdiscs of the network kernel tests
)

usage() {
	echo "usage: $0 [--runtime | --build]" >&2
	exit 2
}

mode=build
case "${1:-}" in
--runtime) mode=runtime ;;
--build | "") mode=build ;;
-h | --help) usage ;;
*) usage ;;
esac
[[ $# -le 1 ]] || usage

log() { echo "setup: $*"; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

need_root() {
	if ! is_root; then
		echo "setup: error: must run as root to $1" >&2
		echo "setup: rerun as root, e.g. sudo $0 --$mode" >&2
		exit 1
	fi
}

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_packages() {
	local missing=() p
	for p in "${BUILD_PACKAGES[@]}"; do
		pkg_installed "$p" || missing+=("$p")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		log "packages: all present (${BUILD_PACKAGES[*]})"
		return
	fi
	need_root "install packages: ${missing[*]}"
	command -v apt-get >/dev/null || {
		echo "setup: error: apt-get not found; install by hand: ${missing[*]}" >&2
		exit 1
	}
	log "installing: ${missing[*]}"
	apt-get update -q </dev/null
	apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}" </dev/null
	for p in "${missing[@]}"; do
		pkg_installed "$p" || {
			echo "setup: error: package $p did not install" >&2
			exit 1
		}
	done
}

# mount_fs TYPE DIR
mount_fs() {
	local type=$1 dir=$2
	if mountpoint -q "$dir" 2>/dev/null; then
		log "$dir: already mounted"
		return
	fi
	if ! grep -qw "$type" /proc/filesystems; then
		echo "setup: error: this kernel has no $type filesystem (needed at $dir)" >&2
		exit 1
	fi
	need_root "mount $type at $dir"
	[[ -d "$dir" ]] || mkdir -p "$dir"
	mount -t "$type" "$type" "$dir"
	log "$dir: mounted $type"
}

if [[ $mode == build ]]; then
	install_packages
fi
mount_fs bpf /sys/fs/bpf
mount_fs tracefs /sys/kernel/tracing
log "done ($mode)"
