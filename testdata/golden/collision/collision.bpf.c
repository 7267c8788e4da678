//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * collision: C names that are distinct to the kernel and to libbpf but make
 * one Go name. The object loads fine and `bpftool gen skeleton` accepts it,
 * so bpfskel must generate it with no flag: the rule in btfmodel/names.go
 * keeps the Go name for the spelling that maps most naturally and gives the
 * others a name derived from their C spelling, with a note each.
 *
 *   maps my_map and myMap                     MyMap and My_map
 *   programs __blk_account_io_start and       BlkAccountIoStart and
 *     blk_account_io_start (bcc's biotop)       X__blk_account_io_start
 *   members close and Close                   Close and Xclose
 *   union members x and set_x                 X/SetX and Set_x/SetSet_x
 *   struct skeleton                           the generated Skeleton keeps
 *                                             its name: Xskeleton
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct pair {
	__u32 close;
	__u32 Close;
	union {
		__u32 x;
		__u32 set_x;
	} u;
};

struct skeleton {
	__u64 bones;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pair);
} my_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skeleton);
} myMap SEC(".maps");

/* Sums both members of my_map[0] into myMap[0]. */
static __always_inline int sum(void)
{
	__u32 key = 0;
	struct pair *a;
	struct skeleton *b;

	a = bpf_map_lookup_elem(&my_map, &key);
	b = bpf_map_lookup_elem(&myMap, &key);
	if (!a || !b)
		return 0;
	b->bones = (__u64)a->close + a->Close + a->u.x;
	return 1;
}

SEC("raw_tp/does-not-exist")
int __blk_account_io_start(void *ctx) { return sum(); }

SEC("raw_tp/does-not-exist")
int blk_account_io_start(void *ctx) { return sum() + 1; }
