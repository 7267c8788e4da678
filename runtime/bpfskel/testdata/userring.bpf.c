// Test object for the runtime's user ring buffer producer (UserRingBuf).
// User space writes records into a BPF_MAP_TYPE_USER_RINGBUF map; the
// programs here drain them with bpf_user_ringbuf_drain and fold what they
// read into globals that the tests check.
//
// The programs are SEC("syscall") programs: BPF_PROG_TEST_RUN runs them once
// per call, and bpf_user_ringbuf_drain is available to them (it is in
// bpf_base_func_proto for CAP_BPF).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

// A header followed by a flexible array of len bytes (24 bytes before it).
struct urec {
	__u64 seq;
	__u64 val;
	__u32 len;
	__u32 flags;
	__u8 data[];
};

// The 64-byte record of the benchmarks.
struct bench_urec {
	__u64 seq;
	__u64 words[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} user_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 256 * 1024);
} bench_uring SEC(".maps");

// What drain saw: records, the sum of their val, the sum of their tail
// bytes, the seq of the last one, the total record size, and records too
// short for struct urec.
__u64 count, sum, tail_sum, last_seq, bytes, short_records;
// What the last call of drain returned.
__s64 drained;

// How many records bench_drain has read.
__u64 bench_count;

#define MAX_TAIL 64

static long on_urec(struct bpf_dynptr *d, void *ctx)
{
	struct urec r;
	__u8 b;

	if (bpf_dynptr_read(&r, sizeof(r), d, 0, 0)) {
		short_records++;
		return 0;
	}
	count++;
	sum += r.val;
	last_seq = r.seq;
	for (int i = 0; i < MAX_TAIL; i++) {
		if (i >= r.len)
			break;
		if (bpf_dynptr_read(&b, 1, d, sizeof(r) + i, 0))
			break;
		tail_sum += b;
		bytes++;
	}
	return 0;
}

SEC("syscall")
int drain(void *ctx)
{
	drained = bpf_user_ringbuf_drain(&user_ring, on_urec, NULL, 0);
	return 0;
}

static long on_bench(struct bpf_dynptr *d, void *ctx)
{
	struct bench_urec r;

	if (!bpf_dynptr_read(&r, sizeof(r), d, 0, 0))
		bench_count++;
	return 0;
}

SEC("syscall")
int bench_drain(void *ctx)
{
	long n = bpf_user_ringbuf_drain(&bench_uring, on_bench, NULL, 0);

	return n < 0 ? 0 : (int)n;
}
