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
