/*
 * Shared by the C reference benchmarks in this directory: each .c file is
 * one program, built with -lbpf by scripts/bench.sh, that creates the same
 * maps as the Go benchmarks and prints its results in Go benchmark format,
 * so that the script tabulates Go and C side by side.
 */
#ifndef BPFSKEL_BENCH_H
#define BPFSKEL_BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static inline double bench_clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline void bench_die(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* bench_open opens the object file at path, with libbpf's messages off; it
 * exits on failure. */
static inline struct bpf_object *bench_open(const char *path)
{
	libbpf_set_print(NULL);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return obj;
}

/* bench_load loads obj, opened from path, and finds the program and the
 * map the benchmark uses; it exits on failure. */
static inline void bench_load(struct bpf_object *obj, const char *path, const char *prog_name,
			      struct bpf_program **prog, const char *map_name, struct bpf_map **map)
{
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load %s: %s\n", path, strerror(errno));
		exit(1);
	}
	*prog = bpf_object__find_program_by_name(obj, prog_name);
	*map = bpf_object__find_map_by_name(obj, map_name);
	if (!*prog || !*map) {
		fprintf(stderr, "%s: no %s program or %s map\n", path, prog_name, map_name);
		exit(1);
	}
}

/* bench_test_run runs prog once under BPF_PROG_TEST_RUN and returns its
 * return value; it exits on failure. */
static inline unsigned int bench_test_run(struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		bench_die("test run", errno);
	return opts.retval;
}

/* The repetitions of a measurement; the fastest one is reported, as the
 * least disturbed by other load on the machine. Wall time is ns/op, the
 * process's CPU time cpu-ns/op (the Go benchmarks report both). */
#define BENCH_REPS 5

static inline void bench_print(const char *name, long n, double ns, double cpu, double entries)
{
	printf("%s\t%ld\t%.1f ns/op\t%.1f cpu-ns/op", name, n, ns, cpu);
	if (entries > 0)
		printf("\t%.2f cpu-ns/entry", cpu / entries);
	printf("\t0 B/op\t0 allocs/op\n");
	fflush(stdout);
}

/*
 * BENCH runs body n times per repetition and prints the fastest
 * repetition's time per run as a Go benchmark line; entries > 0 adds the
 * time per entry for walks over that many entries.
 */
#define BENCH(name, n, entries, body)                                          \
	do {                                                                   \
		double best_ = -1, cpu_ = -1;                                  \
		for (int rep_ = 0; rep_ < BENCH_REPS; rep_++) {                \
			double t0_ = bench_clock_ns(CLOCK_MONOTONIC);          \
			double c0_ = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID); \
			for (long i_ = 0; i_ < (n); i_++) {                    \
				body;                                          \
			}                                                      \
			double c_ = (bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0_) / (n); \
			double t_ = (bench_clock_ns(CLOCK_MONOTONIC) - t0_) / (n); \
			if (best_ < 0 || t_ < best_)                           \
				best_ = t_;                                    \
			if (cpu_ < 0 || c_ < cpu_)                             \
				cpu_ = c_;                                     \
		}                                                              \
		bench_print(name, (n), best_, cpu_, (entries));                \
	} while (0)

#endif
