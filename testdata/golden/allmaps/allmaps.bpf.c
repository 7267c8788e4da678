//go:build ignore

// allmaps declares one map of every type an object can declare, except
// struct_ops (it needs a kernel struct to implement) and arena (its
// address-space setup is a feature of its own), and programs
// that use the typed ones from BPF: gen/maps_kernel_test.go runs them.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct key {
	__u32 pid;
	__u32 cpu;
};

struct value {
	__u64 packets;
	__u64 bytes;
};

/* 12 bytes: the kernel keeps per-CPU copies 16 bytes apart. */
struct odd {
	__u32 a, b, c;
};

/* struct bpf_lpm_trie_key_u8 with room for an IPv4 address. */
struct lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

#define STACK_DEPTH 32

/* Newer than the uapi header this is built with. */
#define MAP_TYPE_CGRP_STORAGE 32 /* BPF_MAP_TYPE_CGRP_STORAGE */

/* Typed maps. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct key);
	__type(value, struct value);
	__uint(max_entries, 64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct key);
	__type(value, struct value);
	__uint(max_entries, 64);
} lru_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct value);
	__uint(max_entries, 16);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u32);
	__type(value, struct odd);
	__uint(max_entries, 16);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} percpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} lru_percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm_v4);
	__type(value, __u32);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__type(value, struct value);
	__uint(max_entries, 8);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__type(value, __u64);
	__uint(max_entries, 8);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, __u32);
	__uint(max_entries, 64);
	__uint(map_extra, 3); /* hash functions */
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, 64);
} stack_traces SEC(".maps");

/*
 * Build-id stacks: 16 frames of struct bpf_stack_build_id (32 bytes
 * each), one per user address, holding the build id of the file the
 * address is mapped from and the offset in it.
 */
#define BUILD_ID_DEPTH 16

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, BUILD_ID_DEPTH * sizeof(struct bpf_stack_build_id));
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_STACK_BUILD_ID);
} build_id_stacks SEC(".maps");

/* Event, program and file-descriptor maps. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ringbuf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} user_ringbuf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} prog_array SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} array_of_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} hash_of_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} cgroup_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} devmap_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(key_size, sizeof(__u32));
	__type(value, struct bpf_cpumap_val);
	__uint(max_entries, 2);
} cpumap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} xskmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
	__uint(max_entries, 4);
} sockmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
	__uint(max_entries, 4);
} sockhash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
	__uint(max_entries, 4);
} reuseport_sockarray SEC(".maps");

/* Cgroup storage (legacy): one value per attached cgroup and type. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, __u64);
} cgroup_storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, __u64);
} percpu_cgroup_storage SEC(".maps");

/* Local storage, keyed by a file descriptor from user space. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct value);
} sk_storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct value);
} task_storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct value);
} inode_storage SEC(".maps");

struct {
	__uint(type, MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct value);
} cgrp_storage SEC(".maps");

/*
 * count runs once per test run: it bumps the per-CPU counter, counts
 * runs per CPU in the odd-sized per-CPU hash, pushes the run number to
 * the stack and a record to the queue (dropping the oldest when full),
 * and adds the run number to the bloom filter. It returns the run number.
 */
SEC("xdp")
int count(struct xdp_md *ctx)
{
	__u32 zero = 0, one = 1;
	__u64 *n = bpf_map_lookup_elem(&percpu_array, &zero);
	if (!n)
		return XDP_ABORTED;
	__u64 run = ++*n;

	struct odd *o = bpf_map_lookup_elem(&percpu_hash, &one);
	if (o) {
		o->a++;
		o->c += 3;
	} else {
		struct odd first = { .a = 1, .b = 0xb0b, .c = 3 };
		bpf_map_update_elem(&percpu_hash, &one, &first, BPF_NOEXIST);
	}

	struct value v = { .packets = run, .bytes = ctx->data_end - ctx->data };
	bpf_map_push_elem(&queue, &v, BPF_EXIST);
	bpf_map_push_elem(&stack, &run, BPF_EXIST);
	__u32 b = (__u32)run;
	bpf_map_push_elem(&bloom, &b, 0);
	return (int)run;
}

/* drain pops one record that user space pushed and returns its packets. */
SEC("xdp")
int drain(struct xdp_md *ctx)
{
	struct value v;
	if (bpf_map_pop_elem(&queue, &v))
		return -1;
	return (int)v.packets;
}

/*
 * match looks up the IPv4 address in the first 4 bytes of the packet in
 * the LPM trie and returns the stored value, or 0.
 */
SEC("xdp")
int match(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct lpm_v4 k = { .prefixlen = 32 };
	if (data + 4 > end)
		return 0;
	__builtin_memcpy(k.addr, data, 4);
	__u32 *v = bpf_map_lookup_elem(&lpm, &k);
	return v ? (int)*v : 0;
}

/* stackid stores the kernel stack and returns its id + 1 (0: failed). */
SEC("raw_tp")
int stackid(void *ctx)
{
	long id = bpf_get_stackid(ctx, &stack_traces, 0);
	return id < 0 ? 0 : (int)id + 1;
}

/* buildid_tgid is the process whose system calls buildid records; 0: none. */
__u32 buildid_tgid;
/* buildid_stored counts the stacks buildid stored, buildid_failed the
 * bpf_get_stackid calls that failed. */
__u64 buildid_stored, buildid_failed;

/*
 * buildid, attached to the sys_enter raw tracepoint, stores the user stack
 * of every system call of process buildid_tgid in build_id_stacks.
 */
SEC("raw_tp")
int buildid(void *ctx)
{
	if (!buildid_tgid || bpf_get_current_pid_tgid() >> 32 != buildid_tgid)
		return 0;
	long id = bpf_get_stackid(ctx, &build_id_stacks, BPF_F_USER_STACK | BPF_F_REUSE_STACKID);
	if (id < 0)
		__sync_fetch_and_add(&buildid_failed, 1);
	else
		__sync_fetch_and_add(&buildid_stored, 1);
	return 0;
}

/*
 * storage_count counts the egress packets of the cgroup it is attached to
 * in that cgroup's storage, shared and per CPU.
 */
SEC("cgroup_skb/egress")
int storage_count(struct __sk_buff *skb)
{
	__u64 *shared = bpf_get_local_storage(&cgroup_storage, 0);
	__u64 *mine = bpf_get_local_storage(&percpu_cgroup_storage, 0);

	__sync_fetch_and_add(shared, 1);
	*mine += 1;
	return 1;
}
