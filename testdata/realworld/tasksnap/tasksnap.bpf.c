//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tasksnap: the per-CPU "heap" idiom of security and debugging tools: a
 * kernel object too big for the 512-byte stack (here the whole struct
 * task_struct and struct mm_struct) is read into a per-CPU array used as
 * scratch space, and a hash map keeps the last snapshot per PID. The map
 * values pull a large part of vmlinux's types into the object's BTF (every
 * struct embedded by value), so this object is the large end of the suite
 * and a stress test of the mirrored layouts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct snap {
	__u64 taken_ns;
	struct task_struct task;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct snap);
} heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mm_struct);
} mm_heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct mm_struct);
} mms SEC(".maps");

const volatile __u32 target_tgid = 0;

SEC("tp_btf/sched_process_exec")
int BPF_PROG(snap_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0, tgid = bpf_get_current_pid_tgid() >> 32;
	struct snap *s;
	struct mm_struct *mm, *buf;

	if (target_tgid && tgid != target_tgid)
		return 0;
	s = bpf_map_lookup_elem(&heap, &zero);
	if (!s)
		return 0;
	s->taken_ns = bpf_ktime_get_ns();
	bpf_probe_read_kernel(&s->task, sizeof(s->task), p);
	mm = BPF_CORE_READ(p, mm);
	buf = bpf_map_lookup_elem(&mm_heap, &zero);
	if (!mm || !buf)
		return 0;
	bpf_probe_read_kernel(buf, sizeof(*buf), mm);
	bpf_map_update_elem(&mms, &tgid, buf, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
