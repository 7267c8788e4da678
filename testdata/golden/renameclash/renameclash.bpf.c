//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * renameclash: what stays an error. renames.txt asks for map counts to be
 * called Totals, the name map totals derives. A -rename gives exactly the
 * name asked for, so bpfskel moves neither map and fails, naming both and
 * the flag to change (see the rule in btfmodel/names.go). Without the
 * rename the object generates.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

SEC("raw_tp/does-not-exist")
int add(void *ctx)
{
	__u32 key = 0;
	__u64 *c = bpf_map_lookup_elem(&counts, &key);
	__u64 *t = bpf_map_lookup_elem(&totals, &key);

	if (c && t)
		*t += *c;
	return 0;
}
