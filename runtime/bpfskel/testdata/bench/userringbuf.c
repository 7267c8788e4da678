// The C reference for BenchmarkUserRingBuf (runtime/bpfskel/
// userringbuf_bench_test.go): libbpf's user_ring_buffer__reserve, a copy of
// a 64-byte struct bench_urec and user_ring_buffer__submit into the
// bench_uring map of ../userring.bpf.o, with the clock stopped while the
// bench_drain program drains the full ring under BPF_PROG_TEST_RUN. It
// prints one line in Go benchmark format:
//
//	BenchmarkUserRingBuf/64B/libbpf-c  N  X ns/op  Y records/s
//
// Build and run (as root), from the repository root:
//
//	cc -O2 -o /tmp/userringbuf-bench runtime/bpfskel/testdata/bench/userringbuf.c -lbpf
//	/tmp/userringbuf-bench [runtime/bpfskel/testdata/userring.bpf.o [records]]

#include <stdint.h>

#include "bench.h"

struct bench_urec {
	uint64_t seq;
	uint64_t words[7];
};

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "runtime/bpfskel/testdata/userring.bpf.o";
	long records = argc > 2 ? atol(argv[2]) : 4000000;

	struct bpf_object *obj = bench_open(path);
	struct bpf_program *drain;
	struct bpf_map *ring;
	bench_load(obj, path, "bench_drain", &drain, "bench_uring", &ring);
	struct user_ring_buffer *rb = user_ring_buffer__new(bpf_map__fd(ring), NULL);
	if (!rb)
		bench_die("user_ring_buffer__new", errno);

	struct bench_urec e = { .words = { 1, 2, 3, 4, 5, 6, 7 } };
	double timed = 0, start = bench_clock_ns(CLOCK_MONOTONIC);
	long drained = 0;
	for (long i = 0; i < records; i++) {
		e.seq = i;
		struct bench_urec *p = user_ring_buffer__reserve(rb, sizeof(*p));
		if (!p && errno == ENOSPC) {
			timed += bench_clock_ns(CLOCK_MONOTONIC) - start;
			drained += bench_test_run(drain);
			start = bench_clock_ns(CLOCK_MONOTONIC);
			p = user_ring_buffer__reserve(rb, sizeof(*p));
		}
		if (!p)
			bench_die("user_ring_buffer__reserve", errno);
		memcpy(p, &e, sizeof(e));
		user_ring_buffer__submit(rb, p);
	}
	timed += bench_clock_ns(CLOCK_MONOTONIC) - start;
	drained += bench_test_run(drain);
	if (drained != records) {
		fprintf(stderr, "bench_drain read %ld records of %ld\n", drained, records);
		return 1;
	}
	printf("BenchmarkUserRingBuf/64B/libbpf-c\t%ld\t%.2f ns/op\t%.0f records/s\n",
	       records, timed / records, records / (timed / 1e9));
	user_ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
