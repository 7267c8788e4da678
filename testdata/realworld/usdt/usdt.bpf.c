//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * usdt: user statically defined tracepoints through libbpf's usdt.bpf.h, as
 * libbpf-bootstrap's usdt example does. The header brings two __weak maps
 * (__bpf_usdt_specs, __bpf_usdt_ip_to_spec_id), a weak __kconfig extern
 * (LINUX_HAS_BPF_COOKIE) and the spec structs; the program adds a ring
 * buffer of call records and a uprobe beside the USDT probes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

struct call {
	__u32 pid;
	__s32 arg_int;
	__s64 arg_long;
	__u64 cookie;
	char probe[16];
};

const volatile pid_t my_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} calls SEC(".maps");

static __always_inline int emit(struct pt_regs *ctx, const char *probe, long a, long b)
{
	struct call *c;
	pid_t pid = bpf_get_current_pid_tgid() >> 32;

	if (my_pid && pid != my_pid)
		return 0;
	c = bpf_ringbuf_reserve(&calls, sizeof(*c), 0);
	if (!c)
		return 0;
	c->pid = pid;
	c->arg_int = a;
	c->arg_long = b;
	c->cookie = bpf_usdt_cookie(ctx);
	__builtin_memcpy(c->probe, probe, sizeof(c->probe));
	bpf_ringbuf_submit(c, 0);
	return 0;
}

SEC("usdt/libc.so.6:libc:setjmp")
int BPF_USDT(usdt_auto_attach, void *arg1, int arg2, void *arg3)
{
	return emit(ctx, "setjmp\0\0\0\0\0\0\0\0\0", arg2, (long)arg1);
}

SEC("usdt")
int BPF_USDT(usdt_manual_attach, int x, long y)
{
	long n = bpf_usdt_arg_cnt(ctx);

	return emit(ctx, "manual\0\0\0\0\0\0\0\0\0", x, y + n);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_add, int a, int b)
{
	return emit(ctx, "uprobe_add\0\0\0\0\0", a, b);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
