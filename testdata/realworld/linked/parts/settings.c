// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* settings.c: the configuration every file of the linked object reads. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "shared.h"

const volatile struct settings settings = { .sample = 1 };

/* Resolved by the loader, not by the linker. */
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int bpf_fake_helper_kfunc(void) __ksym __weak;

__u32 kernel_version(void)
{
	if (bpf_fake_helper_kfunc)
		return bpf_fake_helper_kfunc();
	return LINUX_KERNEL_VERSION;
}

/* A weak default the XDP file overrides with a strong definition. */
__weak int classify(__u32 len)
{
	return 0;
}
