//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * globals: rich global data, the way libbpf-bootstrap and libbpf-tools use
 * it instead of maps: const volatile configuration set before load (a
 * struct, scalars, a string), .bss counters and a histogram, .data arrays
 * with initial values, static variables among them, and custom sections
 * (.data.*, .rodata.*) that libbpf maps separately.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_SLOTS 26

struct config {
	__u32 sample_rate;
	bool verbose;
	char prefix[8];
};

struct totals {
	__u64 calls;
	__u64 bytes;
	__s64 min_delta;
};

/* .rodata */
const volatile struct config cfg = { .sample_rate = 1, .prefix = "skel" };
const volatile __u64 min_duration_ns = 1000;
const volatile bool targ_tgid_only = false;
const volatile char comm_filter[16] = "";

/* .bss */
__u64 hist[MAX_SLOTS];
struct totals totals;
__u32 last_cpu;
static __u64 private_calls;

/* .data */
__u16 ports[4] = { 80, 443, 8080, 8443 };
char banner[16] = "bpfskel";
static __u32 private_seed = 0x5eed;
__s32 offset = -7;

/* custom sections */
__u64 hits SEC(".data.hits") = 1;
__u32 limits[2] SEC(".data.limits") = { 10, 20 };
const volatile __u32 magic SEC(".rodata.consts") = 0xcafe;
const volatile __u8 levels[3] SEC(".rodata.consts") = { 1, 2, 3 };
__u8 scratch[64] SEC(".data.scratch");

static __always_inline __u32 log2l(__u64 v)
{
	__u32 r = 0;

	while (v > 1 && r < MAX_SLOTS - 1) {
		v >>= 1;
		r++;
	}
	return r;
}

SEC("raw_tp/sys_enter")
int count(void *ctx)
{
	__u64 delta = private_seed + (__u64)offset;
	__u32 slot;

	if (targ_tgid_only && cfg.verbose)
		return 0;
	private_calls++;
	totals.calls++;
	totals.bytes += ports[0] + ports[3] + banner[0];
	if (totals.min_delta == 0 || (__s64)delta < totals.min_delta)
		totals.min_delta = delta;
	slot = log2l(delta + min_duration_ns + cfg.sample_rate);
	hist[slot & (MAX_SLOTS - 1)]++;
	last_cpu = bpf_get_smp_processor_id();
	hits += magic + levels[2] + comm_filter[0];
	limits[1] = limits[0] + (__u32)private_calls;
	scratch[0] = cfg.prefix[0];
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
