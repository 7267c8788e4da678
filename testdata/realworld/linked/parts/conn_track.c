// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * conn_track.c, one of the three files of the linked object: it owns the
 * connection map and the function the other files call to update it. The
 * object is built by `bpftool gen object`, as projects that split their
 * BPF code across files do (see ../../README.md).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct conn_key);
	__type(value, struct conn_val);
} conns SEC(".maps");

__u64 conn_updates;

__noinline int track(struct conn_key *key, __u32 bytes)
{
	struct conn_val *v, zero = {};

	if (!key)
		return 0;
	v = bpf_map_lookup_elem(&conns, key);
	if (!v) {
		bpf_map_update_elem(&conns, key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&conns, key);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, bytes);
	conn_updates++;
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
