//go:build ignore

// One event type named through the `*unused` idiom, ending in a flexible
// array: every ring buffer, user ring buffer and perf event array gets it,
// with no flag, as the Tail variant of its handle. The pointer to a union mirrors the union,
// which is no event candidate (only structs are).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum exec_phase {
	PHASE_START,
	PHASE_END = 10,
};

struct exec_event {
	__u32 pid;
	__u8 phase; // enum exec_phase
	__u16 args_len;
	char args[];
};

union addr {
	__u32 v4;
	__u8 v6[16];
};

const struct exec_event *unused_exec __attribute__((unused));
const union addr *unused_addr __attribute__((unused));
const char *greeting = "hi"; // a pointer to a scalar: nothing to mirror

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

// Written by user space (UserRingBufTail), drained by BPF programs.
struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} urb SEC(".maps");

// A global function: its signature keeps enum exec_phase in BTF, so the
// enum is mirrored although no map or global uses it.
__noinline int phase_of(enum exec_phase p)
{
	return p == PHASE_END;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int on_exec(void *ctx)
{
	struct exec_event *e = bpf_ringbuf_reserve(&rb, sizeof(*e) + 16, 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->phase = phase_of(e->pid & 1 ? PHASE_END : PHASE_START);
	e->args_len = 16;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
