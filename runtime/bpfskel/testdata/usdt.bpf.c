// Test object for the runtime's USDT and uprobe attach tests
// (usdt_test.go), against the probes of usdt_target (usdt_target.c).
// `make objects` rebuilds it reproducibly; it is committed.
//
// The programs use libbpf's <bpf/usdt.bpf.h> as libbpf users write them
// and record what they read in a ring buffer: which probe fired, its
// arguments as bpf_usdt_arg returned them, the argument count and
// bpf_usdt_cookie.

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

enum probe {
	PROBE_REG = 1,
	PROBE_MEM,
	PROBE_KONST,
	PROBE_SEMA,
	PROBE_MANUAL,
	PROBE_ADD,
};

struct rec {
	__u32 probe;
	__s32 arg_cnt;
	__s64 args[3];
	__u64 cookie;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} records SEC(".maps");

static __always_inline int record(struct pt_regs *ctx, __u32 probe, long a, long b, long c, int usdt)
{
	struct rec *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);

	if (!r)
		return 0;
	r->probe = probe;
	r->args[0] = a;
	r->args[1] = b;
	r->args[2] = c;
	r->arg_cnt = usdt ? bpf_usdt_arg_cnt(ctx) : -1;
	r->cookie = usdt ? bpf_usdt_cookie(ctx) : 0;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

// A bare binary name: Attach looks it up in PATH, as libbpf does.
SEC("usdt/usdt_target:bpfskel:reg")
int BPF_USDT(usdt_reg, int a, long b, unsigned char c)
{
	return record(ctx, PROBE_REG, a, b, c, 1);
}

// Relative paths: from the working directory (the test's package).
SEC("usdt/testdata/usdt_target:bpfskel:mem")
int BPF_USDT(usdt_mem, long m)
{
	return record(ctx, PROBE_MEM, m, 0, 0, 1);
}

SEC("usdt/testdata/usdt_target:bpfskel:konst")
int BPF_USDT(usdt_konst, int x, int y)
{
	return record(ctx, PROBE_KONST, x, y, 0, 1);
}

SEC("usdt/testdata/usdt_target:bpfskel:sema")
int BPF_USDT(usdt_sema, int i)
{
	return record(ctx, PROBE_SEMA, i, 0, 0, 1);
}

// No target: attached with AttachUSDT to any probe; reads up to three
// arguments whatever their number.
SEC("usdt")
int usdt_manual(struct pt_regs *ctx)
{
	long v[3] = {};

	bpf_usdt_arg(ctx, 0, &v[0]);
	bpf_usdt_arg(ctx, 1, &v[1]);
	bpf_usdt_arg(ctx, 2, &v[2]);
	return record(ctx, PROBE_MANUAL, v[0], v[1], v[2], 1);
}

// The uprobe auto-attach path: a function of the unstripped target.
SEC("uprobe/testdata/usdt_target:bpfskel_add")
int BPF_KPROBE(uprobe_add, int a, int b)
{
	return record(ctx, PROBE_ADD, a, b, 0, 0);
}

// .kconfig holds CONFIG_HZ, which cilium/ebpf resolves, beside
// usdt.bpf.h's LINUX_HAS_BPF_COOKIE, which bpfskel resolves: the test run
// of copy_kconfig shows the program sees both right.
extern int CONFIG_HZ __kconfig;

struct {
	__s32 hz;
	__u8 has_bpf_cookie;
} seen_kconfig;

SEC("raw_tp")
int copy_kconfig(void *ctx)
{
	seen_kconfig.hz = CONFIG_HZ;
	seen_kconfig.has_bpf_cookie = LINUX_HAS_BPF_COOKIE;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
