//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kconfig: __kconfig externs, which the loader fills from the running
 * kernel's version and configuration (/proc/config.gz) into the virtual
 * .kconfig section, then freezes. The skeleton mirrors .kconfig as a
 * read-only section: Go reads the same values the programs see. The
 * program copies them into .bss, so a test can compare both sides.
 *
 * No extern here is __weak: cilium/ebpf v0.22 refuses weak __kconfig
 * externs (testdata/realworld/kconfig has them, and generates through the
 * fallback reader).
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern bool CONFIG_DEBUG_INFO_BTF __kconfig;
extern bool CONFIG_BPF_EVENTS __kconfig;
extern bool CONFIG_BPF __kconfig;

struct seen {
	__u32 version;
	__u32 hz;
	char hostname[8];
	__u8 syscall;
	__u8 btf;
	__u8 events;
	__u8 bpf;
};

struct seen seen;

SEC("raw_tp/sys_enter")
int copy_kconfig(void *ctx)
{
	seen.version = LINUX_KERNEL_VERSION;
	seen.hz = CONFIG_HZ;
	__builtin_memcpy(seen.hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(seen.hostname));
	seen.syscall = CONFIG_BPF_SYSCALL;
	seen.btf = CONFIG_DEBUG_INFO_BTF;
	seen.events = CONFIG_BPF_EVENTS;
	seen.bpf = CONFIG_BPF;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
