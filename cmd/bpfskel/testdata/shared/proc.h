/* Shared by snoop.bpf.c and count.bpf.c: both skeletons mirror these once. */
struct proc_key {
	__u32 pid;
	__u32 tgid;
};

enum proc_state {
	PROC_STATE_RUNNING = 1,
	PROC_STATE_EXITED = 2,
};
