// Test object for the runtime's event readers (ring buffers and perf event
// arrays), and the source of the golden case testdata/golden/events, which
// includes this file. It uses the idioms real tools use: an event struct
// with padding, a second one ending in a flexible array, the `*unused`
// pointer idiom that names the event type in BTF, bpf_ringbuf_reserve/submit,
// bpf_ringbuf_output and bpf_perf_event_output with BPF_F_CURRENT_CPU.
//
// Every program is a raw tracepoint program, which BPF_PROG_TEST_RUN runs
// (without repeat), so each one emits `emit_count` records in a loop. The
// record at index i carries seq = emit_base + i; the tests check it.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum event_kind {
	EVENT_KIND_EXEC = 1,
	EVENT_KIND_EXIT = 2,
	EVENT_KIND_OPEN = 7,
};

// 40 bytes with 3 bytes of padding after kind and 4 at the end.
struct event {
	__u64 seq;
	__u32 pid;
	__u8 kind;	// enum event_kind
	__u16 cpu_hint;
	__u64 ts;
	char comm[8];
	__u32 tail_len;
};

// A header followed by a flexible array: records are longer than the
// header by `len` bytes.
struct sample {
	__u64 seq;
	__u32 len;
	__u32 flags;
	__u8 data[];
};

// 64 bytes exactly: the benchmark's record.
struct bench_event {
	__u64 seq;
	__u64 words[7];
};

// The idiom that makes event types reach BTF: BTF describes globals and
// functions, not locals, so a type used only on the stack is absent.
const struct event *unused_event __attribute__((unused));
const struct sample *unused_sample __attribute__((unused));
const struct bench_event *unused_bench __attribute__((unused));

// Types that reach BTF only through a function's signature: the enum is
// mirrored because every enum of the object is; the struct only when asked
// for with -type.
struct classify_args {
	__u32 pid;
	__u32 kind;
};

static __noinline int classify(struct classify_args *a, enum event_kind hint)
{
	if (!a)
		return 0;
	return a->pid & 1 ? EVENT_KIND_EXIT : hint;
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} bench_ring SEC(".maps");

__u32 emit_count = 1;	// .data: records per run
__u64 emit_base;	// .bss: seq of the first record
__u32 emit_len;		// .bss: size to claim for records (wrong-size tests)
__u32 sample_len;	// .bss: bytes after struct sample's header
__u64 dropped;		// .bss: records the helper refused (ring full)

#define MAX_SAMPLE 64

// Every program emits emit_count records with bpf_loop (verified once,
// whatever the count).
struct emit_ctx {
	void *ctx;	// the program's context, for bpf_perf_event_output
	__u32 len;	// bytes to emit (ring_output, perf_output)
};

static __always_inline void fill(struct event *e, __u32 i)
{
	struct classify_args a = {.pid = i};

	e->seq = emit_base + i;
	e->pid = 1000 + i;
	e->kind = classify(&a, EVENT_KIND_EXEC);
	e->cpu_hint = (__u16)bpf_get_smp_processor_id();
	e->ts = 0x0102030405060708ULL;
	__builtin_memcpy(e->comm, "evtest", 7);
	e->tail_len = 0;
}

// event_len is the size to emit: emit_len when set (the wrong-size tests),
// else sizeof(struct event); always below 64, the size of the buffers.
static __always_inline __u32 event_len(void)
{
	__u32 len = emit_len & 63;

	return len ? len : sizeof(struct event);
}

static long reserve_one(__u32 i, void *c)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		dropped++;
		return 0;
	}
	fill(e, i);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

// ring_reserve emits events with bpf_ringbuf_reserve/submit.
SEC("raw_tp")
int ring_reserve(void *ctx)
{
	bpf_loop(emit_count, reserve_one, NULL, 0);
	return 0;
}

// A stack buffer larger than any record the programs emit.
union event_buf {
	struct event e;
	__u8 bytes[64];
};

static long output_one(__u32 i, void *c)
{
	struct emit_ctx *ec = c;
	union event_buf b = {};

	fill(&b.e, i);
	if (bpf_ringbuf_output(&events, &b, ec->len & 63, 0))
		dropped++;
	return 0;
}

// ring_output emits event_len() bytes of each event with bpf_ringbuf_output,
// copied from the stack.
SEC("raw_tp")
int ring_output(void *ctx)
{
	struct emit_ctx ec = {.ctx = ctx, .len = event_len()};

	bpf_loop(emit_count, output_one, &ec, 0);
	return 0;
}

// A sample with room for MAX_SAMPLE bytes of data.
struct sample_buf {
	__u64 seq;
	__u32 len;
	__u32 flags;
	__u8 data[MAX_SAMPLE];
};

static __always_inline void fill_sample(struct sample_buf *s, __u32 i, __u32 len)
{
	for (__u32 j = 0; j < MAX_SAMPLE; j++)
		s->data[j] = j + 1;
	s->seq = emit_base + i;
	s->len = len;
	s->flags = 0x5a;
}

static long sample_one(__u32 i, void *c)
{
	struct emit_ctx *ec = c;
	struct sample_buf s;
	__u32 len = ec->len & 63;

	fill_sample(&s, i, len);
	if (bpf_ringbuf_output(&events, &s, sizeof(struct sample) + len, 0))
		dropped++;
	return 0;
}

// ring_sample emits samples carrying sample_len (below 64) bytes of data
// after the header: data[j] = j + 1.
SEC("raw_tp")
int ring_sample(void *ctx)
{
	struct emit_ctx ec = {.ctx = ctx, .len = sample_len & 63};

	bpf_loop(emit_count, sample_one, &ec, 0);
	return 0;
}

static long perf_one(__u32 i, void *c)
{
	struct emit_ctx *ec = c;
	union event_buf b = {};

	fill(&b.e, i);
	if (bpf_perf_event_output(ec->ctx, &perf_events, BPF_F_CURRENT_CPU, &b, ec->len & 63))
		dropped++;
	return 0;
}

// perf_output emits event_len() bytes of each event with
// bpf_perf_event_output on the current CPU.
SEC("raw_tp")
int perf_output(void *ctx)
{
	struct emit_ctx ec = {.ctx = ctx, .len = event_len()};

	bpf_loop(emit_count, perf_one, &ec, 0);
	return 0;
}

static long perf_sample_one(__u32 i, void *c)
{
	struct emit_ctx *ec = c;
	struct sample_buf s;
	__u32 len = ec->len & 63;

	fill_sample(&s, i, len);
	if (bpf_perf_event_output(ec->ctx, &perf_events, BPF_F_CURRENT_CPU, &s, sizeof(struct sample) + len))
		dropped++;
	return 0;
}

// perf_sample is ring_sample through the perf event array.
SEC("raw_tp")
int perf_sample(void *ctx)
{
	struct emit_ctx ec = {.ctx = ctx, .len = sample_len & 63};

	bpf_loop(emit_count, perf_sample_one, &ec, 0);
	return 0;
}

static long bench_one(__u32 i, void *c)
{
	struct bench_event e = {.seq = emit_base + i};

	if (bpf_ringbuf_output(&bench_ring, &e, sizeof(e), 0))
		dropped++;
	return 0;
}

// bench_fill emits 64-byte records into bench_ring.
SEC("raw_tp")
int bench_fill(void *ctx)
{
	bpf_loop(emit_count, bench_one, NULL, 0);
	return 0;
}
