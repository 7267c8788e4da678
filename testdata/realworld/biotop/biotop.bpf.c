//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * biotop: block I/O by process, written the way libbpf-tools writes its
 * tracing tools: CO-RE against vmlinux.h, BPF_KPROBE, BPF_CORE_READ, a
 * flavoured type (request___x) for a member that older kernels have, a
 * pointer as a map key, const volatile filters.
 *
 * The programs __blk_account_io_start and blk_account_io_start (the kernel
 * renamed the function; the tool attaches whichever exists) both derive the
 * Go name BlkAccountIoStart: bpfskel must resolve that without a flag.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define MINORBITS 20
#define MINORMASK ((1U << MINORBITS) - 1)
#define REQ_OP_BITS 8
#define REQ_OP_MASK ((1 << REQ_OP_BITS) - 1)

/* Older kernels keep the disk in the request. */
struct request___x {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

struct start_req_t {
	__u64 ts;
	__u64 data_len;
};

struct who_t {
	__u32 pid;
	char name[TASK_COMM_LEN];
};

struct info_t {
	__u32 pid;
	int rwflag;
	int major;
	int minor;
	char name[TASK_COMM_LEN];
};

struct val_t {
	__u64 bytes;
	__u64 us;
	__u32 io;
};

const volatile pid_t target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, struct start_req_t);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, struct who_t);
} whobyreq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct info_t);
	__type(value, struct val_t);
} counts SEC(".maps");

static __always_inline struct gendisk *get_disk(void *request)
{
	struct request___x *r = request;

	if (bpf_core_field_exists(r->rq_disk))
		return BPF_CORE_READ(r, rq_disk);
	return BPF_CORE_READ((struct request *)request, q, disk);
}

static __always_inline int trace_start(struct request *req)
{
	struct who_t who = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32;

	if (target_pid && target_pid != pid)
		return 0;
	who.pid = pid;
	bpf_get_current_comm(&who.name, sizeof(who.name));
	bpf_map_update_elem(&whobyreq, &req, &who, BPF_ANY);
	return 0;
}

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(blk_mq_start_request, struct request *req)
{
	struct start_req_t start_req;

	start_req.ts = bpf_ktime_get_ns();
	start_req.data_len = BPF_CORE_READ(req, __data_len);
	bpf_map_update_elem(&start, &req, &start_req, BPF_ANY);
	return 0;
}

SEC("kprobe/blk_account_io_start")
int BPF_KPROBE(blk_account_io_start, struct request *req)
{
	return trace_start(req);
}

SEC("kprobe/__blk_account_io_start")
int BPF_KPROBE(__blk_account_io_start, struct request *req)
{
	return trace_start(req);
}

static __always_inline int trace_done(struct request *req)
{
	struct val_t *valp, zero = {};
	struct info_t info = {};
	struct start_req_t *startp;
	struct gendisk *disk;
	struct who_t *whop;
	__u64 delta_us;
	unsigned int cmd_flags;

	startp = bpf_map_lookup_elem(&start, &req);
	if (!startp)
		return 0;
	delta_us = (bpf_ktime_get_ns() - startp->ts) / 1000;
	disk = get_disk(req);
	info.major = BPF_CORE_READ(disk, major);
	info.minor = BPF_CORE_READ(disk, first_minor);
	cmd_flags = BPF_CORE_READ(req, cmd_flags);
	info.rwflag = !!((cmd_flags & REQ_OP_MASK) == 1);

	whop = bpf_map_lookup_elem(&whobyreq, &req);
	if (whop) {
		info.pid = whop->pid;
		__builtin_memcpy(&info.name, whop->name, sizeof(info.name));
	}
	valp = bpf_map_lookup_elem(&counts, &info);
	if (!valp) {
		bpf_map_update_elem(&counts, &info, &zero, BPF_NOEXIST);
		valp = bpf_map_lookup_elem(&counts, &info);
		if (!valp)
			goto cleanup;
	}
	__sync_fetch_and_add(&valp->bytes, startp->data_len);
	__sync_fetch_and_add(&valp->us, delta_us);
	__sync_fetch_and_add(&valp->io, 1);
cleanup:
	bpf_map_delete_elem(&start, &req);
	bpf_map_delete_elem(&whobyreq, &req);
	return 0;
}

SEC("kprobe/blk_account_io_done")
int BPF_KPROBE(blk_account_io_done, struct request *req)
{
	return trace_done(req);
}

SEC("kprobe/__blk_account_io_done")
int BPF_KPROBE(__blk_account_io_done, struct request *req)
{
	return trace_done(req);
}

char LICENSE[] SEC("license") = "GPL";
