//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * kconfig: externs the loader resolves, as libbpf-tools and BPF selftests
 * use them: __kconfig values (an int, a bool, a tristate, a string, weak
 * ones a kernel may lack), __ksym variables (typed, from vmlinux BTF, and
 * typeless) and kfuncs, one of them __weak.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_JIT __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_LSM __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[64] __kconfig __weak;
extern unsigned long CONFIG_HZ __kconfig __weak;
extern bool CONFIG_BPFSKEL_DOES_NOT_EXIST __kconfig __weak;

extern const struct rq runqueues __ksym;
extern const void bpf_prog_active __ksym;

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;

struct kinfo {
	__u32 version;
	__u32 hz;
	__u8 jit;
	__u8 lsm;
	__u8 missing;
	char hostname[13];
	__u64 nr_running;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kinfo);
} info SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 zero = 0;
	struct kinfo *ki = bpf_map_lookup_elem(&info, &zero);
	struct rq *rq;
	int *active;

	if (!ki)
		return 0;
	ki->version = LINUX_KERNEL_VERSION;
	ki->hz = CONFIG_HZ;
	ki->jit = CONFIG_BPF_JIT;
	ki->lsm = CONFIG_BPF_LSM;
	ki->missing = CONFIG_BPFSKEL_DOES_NOT_EXIST;
	__builtin_memcpy(ki->hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(ki->hostname));

	rq = bpf_this_cpu_ptr(&runqueues);
	ki->nr_running = rq->nr_running;
	active = bpf_this_cpu_ptr(&bpf_prog_active);
	if (*active > 1)
		ki->nr_running = 0;

	bpf_rcu_read_lock();
	if (bpf_task_acquire) /* libbpf 1.1 has no bpf_ksym_exists() */
		ki->missing |= 2;
	bpf_rcu_read_unlock();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
