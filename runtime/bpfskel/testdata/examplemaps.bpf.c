//go:build ignore

// The maps of runtime/bpfskel's Example functions.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct conn {
	__u32 saddr;
	__u16 sport;
	__u16 dport;
};

struct stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct conn);
	__type(value, struct stats);
	__uint(max_entries, 128);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} hits SEC(".maps");

/* count_hit bumps this CPU's hit counter. */
SEC("xdp")
int count_hit(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &zero);
	if (n)
		++*n;
	return XDP_PASS;
}
