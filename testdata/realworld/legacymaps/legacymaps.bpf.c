//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * legacymaps: maps declared the pre-BTF way, struct bpf_map_def in
 * SEC("maps"), as older samples/bpf, iproute2 and many in-house programs
 * still do. libbpf 1.0 dropped these; cilium/ebpf still reads them. The
 * object has no BTF for their keys and values, only sizes: bpfskel gives
 * them handles over byte arrays of those sizes. A BTF-defined map sits
 * beside them, as in programs half-way through a migration.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* libbpf's old definition, which its headers no longer ship. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") pkt_count = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 4,
};

struct bpf_map_def SEC("maps") addr_seen = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 6,
	.value_size = 12,
	.max_entries = 128,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} btf_total SEC(".maps");

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
	__u32 key = skb->protocol & 3;
	__u8 mac[6] = { 1, 2, 3, 4, 5, 6 };
	__u8 val[12] = { 7 };
	__u64 *v, *t;
	__u32 zero = 0;

	v = bpf_map_lookup_elem(&pkt_count, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	t = bpf_map_lookup_elem(&btf_total, &zero);
	if (t)
		__sync_fetch_and_add(t, 1);
	bpf_map_update_elem(&addr_seen, mac, val, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
