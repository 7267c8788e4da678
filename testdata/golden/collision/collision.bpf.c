//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * collision: a valid object that bpfskel must refuse.
 *
 * The maps my_map and myMap are distinct to the kernel and to libbpf, and the
 * object loads fine, but both names become MyMap in Go. bpfskel must fail
 * with an error naming both maps instead of writing code that does not
 * compile (or, worse, silently dropping one of them).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} my_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} myMap SEC(".maps");

/* Returns the sum of element 0 of both maps (0 after load). */
SEC("raw_tp/does-not-exist")
int use_both(void *ctx)
{
	__u32 key = 0;
	__u32 *a, *b;

	a = bpf_map_lookup_elem(&my_map, &key);
	b = bpf_map_lookup_elem(&myMap, &key);
	if (!a || !b)
		return 0;
	return *a + *b;
}
