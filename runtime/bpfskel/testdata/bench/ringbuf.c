// The C reference for BenchmarkRingbuf (runtime/bpfskel/ringbuf_bench_test.go):
// libbpf's ring_buffer__poll reading the 64-byte records that the bench_fill
// program of ../events.bpf.o writes under BPF_PROG_TEST_RUN, BATCH at a
// time, with the clock stopped while they are written. Each record is
// copied into a struct bench_event, as the Go readers decode it. It prints
// one line in Go benchmark format:
//
//	BenchmarkRingbuf/64B/libbpf-c  N  X ns/op  Y records/s
//
// Build and run (as root), from the repository root:
//
//	cc -O2 -o /tmp/ringbuf-bench runtime/bpfskel/testdata/bench/ringbuf.c -lbpf
//	/tmp/ringbuf-bench [runtime/bpfskel/testdata/events.bpf.o [records]]

#include <stdint.h>

#include "bench.h"

#define BATCH 32768

struct bench_event {
	uint64_t seq;
	uint64_t words[7];
};

static struct bench_event sink;
static long consumed;

static int on_record(void *ctx, void *data, size_t size)
{
	if (size != sizeof(sink))
		return -EINVAL;
	memcpy(&sink, data, sizeof(sink));
	consumed++;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "runtime/bpfskel/testdata/events.bpf.o";
	long records = argc > 2 ? atol(argv[2]) : 4000000;

	struct bpf_object *obj = bench_open(path);
	// emit_count (.data) is the batch size: set it before loading.
	struct bpf_map *data = bpf_object__find_map_by_name(obj, ".data");
	size_t size;
	uint32_t *emit_count = data ? (uint32_t *)bpf_map__initial_value(data, &size) : NULL;
	if (!emit_count || size < sizeof(*emit_count)) {
		fprintf(stderr, "%s: no .data with emit_count\n", path);
		return 1;
	}
	*emit_count = BATCH;
	struct bpf_program *fill;
	struct bpf_map *ring;
	bench_load(obj, path, "bench_fill", &fill, "bench_ring", &ring);
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(ring), on_record, NULL, NULL);
	if (!rb)
		bench_die("ring_buffer__new", errno);

	double timed = 0;
	long done = 0;
	while (done < records) {
		bench_test_run(fill);
		consumed = 0;
		double start = bench_clock_ns(CLOCK_MONOTONIC);
		while (consumed < BATCH) {
			if (ring_buffer__poll(rb, 1000) < 0)
				bench_die("ring_buffer__poll", errno);
		}
		timed += bench_clock_ns(CLOCK_MONOTONIC) - start;
		done += consumed;
	}
	printf("BenchmarkRingbuf/64B/libbpf-c\t%ld\t%.2f ns/op\t%.0f records/s\n",
	       done, timed / done, done / (timed / 1e9));
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return sink.seq == (uint64_t)-1;
}
