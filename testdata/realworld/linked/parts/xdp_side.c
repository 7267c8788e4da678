// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp_side.c: the XDP entry point of the linked object. It calls track()
 * from conn_track.c, reads settings from settings.c, uses a map declared
 * extern here and defined in conn_track.c, and overrides classify().
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "shared.h"

extern struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct conn_key);
	__type(value, struct conn_val);
} conns SEC(".maps");

__u64 xdp_seen;

int classify(__u32 len)
{
	return len > 1000 ? 2 : 1;
}

SEC("xdp")
int xdp_track(struct xdp_md *ctx)
{
	struct conn_key key = { .ifindex = ctx->ingress_ifindex };
	__u32 len = ctx->data_end - ctx->data;

	xdp_seen += kernel_version() ? 1 : 2;
	if (settings.verbose)
		bpf_printk("xdp len %u class %d", len, classify(len));
	if (settings.sample && bpf_map_lookup_elem(&conns, &key) == 0)
		key.sport = 1;
	track(&key, len);
	return XDP_PASS;
}
