//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lifecycle: the skeleton's whole lifecycle against the kernel.
 *
 * - target_tgid (.rodata) is set through the typed Spec before load; every
 *   tracing program counts only events of that process.
 * - raw_sys_enter (raw_tp/sys_enter) and tp_sys_enter
 *   (tp/raw_syscalls/sys_enter) count the process's syscalls in .bss; both
 *   auto-attach. raw_sys_enter returns the syscall number of its context,
 *   so a test run with a typed context can check what the program saw.
 * - uprobe_auto auto-attaches to a function of the Go test binary through
 *   /proc/self/exe, which only works when the binary keeps its symbol table
 *   (go test -c; plain go test links with -s -w): it does not load by
 *   default. uprobe_manual names no target and is attached by hand.
 * - xdp_count_pkts and tc_count_pkts count frames of EtherType 0x88b5
 *   (local experimental) in typed maps; cgroup_egress counts packets.
 * - resizable is a hash map whose size the test changes before load.
 * - The '?' sections are not loaded by default (libbpf's convention):
 *   kprobes, fentry and lsm are missing or refused on some kernels.
 * - .data.arr ends with an array that can be resized before load.
 * - Built with LIFECYCLE_SWAPPED, raw_count and tp_count trade places: the
 *   stale-object test embeds that object under this object's skeleton.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_LIFECYCLE 0x88b5

volatile const __u32 target_tgid = 0;

#ifndef LIFECYCLE_SWAPPED
__u64 raw_count = 0;
__u64 tp_count = 0;
#else
/* runtime/bpfskel/testdata/lifecycle_swapped.bpf.c: a rebuilt object. */
__u64 tp_count = 0;
__u64 raw_count = 0;
#endif
__u64 uprobe_count = 0;
__u64 manual_count = 0;
__u32 data_marker SEC(".data") = 7;
__u32 small_flag SEC(".data") = 1;

__u32 arr_len SEC(".data.arr") = 4;
__u64 arr[4] SEC(".data.arr") = {1, 2, 3, 4};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdp_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tc_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cgroup_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} resizable SEC(".maps");

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void bump(void *map)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("raw_tp/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (!mine())
		return 0;
	__sync_fetch_and_add(&raw_count, 1);
	/* sys_enter(struct pt_regs *regs, long id) */
	return (int)ctx->args[1];
}

SEC("tp/raw_syscalls/sys_enter")
int tp_sys_enter(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&tp_count, 1);
	return 0;
}

SEC("?uprobe//proc/self/exe:github.com/bpfskel/bpfskel/gen_test.LifecycleUprobeTarget")
int uprobe_auto(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&uprobe_count, 1);
	return 0;
}

SEC("uprobe")
int uprobe_manual(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&manual_count, 1);
	return 0;
}

static __always_inline int lifecycle_frame(void *data, void *data_end)
{
	unsigned char *p = data;

	if (data + 14 > data_end)
		return 0;
	return p[12] == (ETH_P_LIFECYCLE >> 8) && p[13] == (ETH_P_LIFECYCLE & 0xff);
}

SEC("xdp")
int xdp_count_pkts(struct xdp_md *ctx)
{
	if (lifecycle_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		bump(&xdp_count);
	return XDP_PASS;
}

SEC("tcx/ingress")
int tc_count_pkts(struct __sk_buff *skb)
{
	if (lifecycle_frame((void *)(long)skb->data, (void *)(long)skb->data_end))
		bump(&tc_count);
	return -1; /* TCX_NEXT: let the next program decide */
}

SEC("cgroup_skb/egress")
int cgroup_egress(struct __sk_buff *skb)
{
	bump(&cgroup_count);
	return 1;
}

/*
 * Uses resizable and the custom section, so both are part of the object.
 * A bare raw_tp names no tracepoint: Attach skips it; it runs with
 * BPF_PROG_TEST_RUN.
 */
SEC("raw_tp")
int touch(void *ctx)
{
	__u32 key = arr_len;
	__u64 one = 1;
	__u32 i = arr_len;

	bpf_map_update_elem(&resizable, &key, &one, BPF_ANY);
	if (i < 4)
		arr[i] += data_marker + small_flag;
	return 0;
}

/*
 * Explicitly attached to targets the test makes: a software perf event of
 * the test process, a netfilter hook, a network namespace. Off by default.
 */
__u64 perf_count = 0;

SEC("?perf_event")
int perf_sample(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&perf_count, 1);
	return 0;
}

SEC("?netfilter")
int nf_accept(void *ctx)
{
	return 1; /* NF_ACCEPT */
}

SEC("?sk_lookup")
int sk_lookup_pass(struct bpf_sk_lookup *ctx)
{
	return SK_PASS;
}

__u64 kprobe_count = 0;

SEC("?kprobe/do_nanosleep")
int kprobe_nanosleep(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&kprobe_count, 1);
	return 0;
}

SEC("?fentry/do_unlinkat")
int fentry_unlinkat(void *ctx)
{
	return 0;
}

SEC("?lsm/file_open")
int lsm_file_open(void *ctx)
{
	return 0;
}
