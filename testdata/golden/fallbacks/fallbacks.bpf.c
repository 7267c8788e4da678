//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fallbacks: what the walking skeleton does not type yet, and how it says so.
 *
 *   events   RINGBUF             no typed handle yet: *ebpf.Map
 *   pcpu     PERCPU_ARRAY        no typed handle yet: *ebpf.Map
 *   sized    ARRAY without BTF   key [4]byte, value [8]byte (key_size/value_size only)
 *   flags    LRU_HASH            typed; its value has bitfields (accessors)
 *                                and a 128-bit integer (bpfskel.Uint128)
 *   .data.custom                 a custom data section: its own view
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct flagged {
	__u32 kind;
	__u32 urgent : 1, level : 3, : 4, code : 8;
	__u16 tail;
	unsigned __int128 wide;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, 8);
} sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct flagged);
} flags SEC(".maps");

__u32 custom_var SEC(".data.custom") = 5;

SEC("raw_tp/does-not-exist")
int touch(void *ctx)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&pcpu, &zero);
	struct flagged f = { .kind = 1, .urgent = 1, .level = 5, .code = 0x42, .tail = 7, .wide = 3 };

	if (v)
		*v += custom_var;
	bpf_map_lookup_elem(&sized, &zero);
	bpf_map_update_elem(&flags, &zero, &f, BPF_ANY);
	bpf_ringbuf_output(&events, &zero, sizeof(zero), 0);
	return 0;
}
