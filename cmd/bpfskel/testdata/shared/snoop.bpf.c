//go:build ignore

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "proc.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct proc_key);
	__type(value, enum proc_state);
	__uint(max_entries, 64);
} states SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int snoop(void *ctx)
{
	struct proc_key k = { .pid = 1 };
	enum proc_state s = PROC_STATE_RUNNING;

	bpf_map_update_elem(&states, &k, &s, BPF_ANY);
	return 0;
}
