//go:build ignore

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "proc.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct proc_key);
	__type(value, __u64);
	__uint(max_entries, 64);
} counts SEC(".maps");

__u64 total;

SEC("raw_tracepoint/sys_enter")
int count(void *ctx)
{
	struct proc_key k = { .pid = 2 };
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
	total++;
	return 0;
}
