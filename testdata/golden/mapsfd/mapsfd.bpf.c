//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mapsfd: maps whose values are file descriptors, maps of maps, local
 * storage and pinning, declared the way libbpf-tools and the kernel
 * selftests declare them.
 *
 *   jmp_table     PROG_ARRAY       tail calls; slot 2 set statically to tail_b
 *   inner_a       HASH             the inner map outer_arr[0] starts with
 *   outer_arr     ARRAY_OF_MAPS    inner HASH u32 -> struct inner_val
 *   outer_hash    HASH_OF_MAPS     key struct tenant, inner ARRAY u32 -> u64
 *   cgroups       CGROUP_ARRAY     bpf_current_task_under_cgroup
 *   devs          DEVMAP           value struct bpf_devmap_val
 *   devs_hash     DEVMAP_HASH      value u32 (an ifindex)
 *   cpus          CPUMAP           value struct bpf_cpumap_val
 *   xsks          XSKMAP           AF_XDP sockets
 *   socks         SOCKMAP          value u32: lookups from user space refused
 *   socks_hash    SOCKHASH         key struct sock_key, value u64: cookies
 *   sk_stg        SK_STORAGE       per-socket storage
 *   task_stg      TASK_STORAGE     per-task storage, read by task_read
 *   inode_stg     INODE_STORAGE    per-inode storage
 *   cgrp_stg      CGRP_STORAGE     per-cgroup storage
 *   mfd_counts    HASH             pinned by name (LIBBPF_PIN_BY_NAME)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Inputs of the programs, set by Go through the .bss view. */
__u32 slot;
__u32 inner_key;
__u32 tenant_id;
__u32 tenant_zone;

/* Tail calls. */

SEC("raw_tp/sys_enter")
int tail_a(void *ctx)
{
	return 10;
}

SEC("raw_tp/sys_enter")
int tail_b(void *ctx)
{
	return 20;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(void *));
} jmp_table SEC(".maps") = {
	.values = { [2] = (void *)&tail_b },
};

/* Returns what the program in jmp_table[slot] returns, or 1 when the slot
 * is empty. */
SEC("raw_tp/sys_enter")
int dispatch(void *ctx)
{
	bpf_tail_call(ctx, &jmp_table, slot);
	return 1;
}

/* Maps of maps. */

struct inner_val {
	__u64 hits;
	__u32 tag;
	__u32 flags;
};

struct inner_hash {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct inner_val);
} inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_hash);
} outer_arr SEC(".maps") = {
	.values = { [0] = &inner_a },
};

struct tenant {
	__u32 id;
	__u32 zone;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, struct tenant);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, 4);
		__type(key, __u32);
		__type(value, __u64);
	});
} outer_hash SEC(".maps");

/* outer_arr[slot][inner_key].tag; 1000 when there is no inner map, 1001
 * when the inner map has no such key. */
SEC("raw_tp/sys_enter")
int read_arr(void *ctx)
{
	void *inner = bpf_map_lookup_elem(&outer_arr, &slot);
	if (!inner)
		return 1000;
	struct inner_val *v = bpf_map_lookup_elem(inner, &inner_key);
	if (!v)
		return 1001;
	return v->tag;
}

/* outer_hash[{tenant_id, tenant_zone}][inner_key]; 1000 and 1001 as above. */
SEC("raw_tp/sys_enter")
int read_hash(void *ctx)
{
	struct tenant t = { .id = tenant_id, .zone = tenant_zone };
	void *inner = bpf_map_lookup_elem(&outer_hash, &t);
	if (!inner)
		return 1000;
	__u64 *v = bpf_map_lookup_elem(inner, &inner_key);
	if (!v)
		return 1001;
	return *v;
}

/* Cgroups. */

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} cgroups SEC(".maps");

/* 1 when the running task is in cgroups[slot] or below, 0 when not, a
 * negative error when the slot is empty. */
SEC("raw_tp/sys_enter")
int in_cgroup(void *ctx)
{
	return bpf_current_task_under_cgroup(&cgroups, slot);
}

/* Redirect maps: each program returns XDP_REDIRECT when its map has the
 * entry and XDP_PASS (the fallback in the flags) when it does not. */

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} devs_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int redirect_dev(struct xdp_md *ctx)
{
	return bpf_redirect_map(&devs, 0, XDP_PASS);
}

SEC("xdp")
int redirect_dev_hash(struct xdp_md *ctx)
{
	return bpf_redirect_map(&devs_hash, 7, XDP_PASS);
}

SEC("xdp")
int redirect_cpu(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpus, 0, XDP_PASS);
}

SEC("xdp")
int redirect_xsk(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

/* Socket maps. */

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} socks SEC(".maps");

struct sock_key {
	__u32 addr;
	__u32 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4);
	__type(key, struct sock_key);
	__type(value, __u64);
} socks_hash SEC(".maps");

/* Local storage. */

struct owner {
	__u64 cookie;
	__u32 uid;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owner);
} sk_stg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owner);
} task_stg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} inode_stg SEC(".maps");

struct {
	/* BPF_MAP_TYPE_CGRP_STORAGE (Linux 6.2) is newer than this linux/bpf.h. */
	__uint(type, 32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} cgrp_stg SEC(".maps");

/* The uid Go stored for the running task, or 1000 when there is none. */
SEC("raw_tp/sys_enter")
int task_read(void *ctx)
{
	struct owner *o = bpf_task_storage_get(&task_stg, bpf_get_current_task_btf(), 0, 0);
	if (!o)
		return 1000;
	return o->uid;
}

/* Pinning. */

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mfd_counts SEC(".maps");

/* Adds one packet of inner_key bytes to mfd_counts[slot]. */
SEC("raw_tp/sys_enter")
int count(void *ctx)
{
	struct counter *c = bpf_map_lookup_elem(&mfd_counts, &slot);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, inner_key);
		return 0;
	}
	struct counter init = { .packets = 1, .bytes = inner_key };
	bpf_map_update_elem(&mfd_counts, &slot, &init, BPF_NOEXIST);
	return 1;
}
