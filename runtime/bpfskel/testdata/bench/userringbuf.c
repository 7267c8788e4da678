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

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct bench_urec {
	uint64_t seq;
	uint64_t words[7];
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "runtime/bpfskel/testdata/userring.bpf.o";
	long records = argc > 2 ? atol(argv[2]) : 4000000;

	libbpf_set_print(NULL);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct bpf_program *drain = bpf_object__find_program_by_name(obj, "bench_drain");
	struct bpf_map *ring = bpf_object__find_map_by_name(obj, "bench_uring");
	if (!drain || !ring) {
		fprintf(stderr, "%s: no bench_drain program or bench_uring map\n", path);
		return 1;
	}
	struct user_ring_buffer *rb = user_ring_buffer__new(bpf_map__fd(ring), NULL);
	if (!rb) {
		fprintf(stderr, "user_ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}

	struct bench_urec e = { .words = { 1, 2, 3, 4, 5, 6, 7 } };
	double timed = 0, start = now_ns();
	long drained = 0;
	for (long i = 0; i < records; i++) {
		e.seq = i;
		struct bench_urec *p = user_ring_buffer__reserve(rb, sizeof(*p));
		if (!p && errno == ENOSPC) {
			timed += now_ns() - start;
			LIBBPF_OPTS(bpf_test_run_opts, opts);
			if (bpf_prog_test_run_opts(bpf_program__fd(drain), &opts)) {
				fprintf(stderr, "test run: %s\n", strerror(errno));
				return 1;
			}
			drained += opts.retval;
			start = now_ns();
			p = user_ring_buffer__reserve(rb, sizeof(*p));
		}
		if (!p) {
			fprintf(stderr, "user_ring_buffer__reserve: %s\n", strerror(errno));
			return 1;
		}
		memcpy(p, &e, sizeof(e));
		user_ring_buffer__submit(rb, p);
	}
	timed += now_ns() - start;
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	if (bpf_prog_test_run_opts(bpf_program__fd(drain), &opts)) {
		fprintf(stderr, "test run: %s\n", strerror(errno));
		return 1;
	}
	drained += opts.retval;
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
