/*
 * maps.c: the libbpf reference for BenchmarkLookup and BenchmarkIterate in
 * runtime/bpfskel (bench_test.go, bench_kinds_test.go), and for
 * BenchmarkBatchLookup: the same maps, the same keys, bpf_map_lookup_elem
 * and bpf_map_lookup_batch.
 */
#include <stdint.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bench.h"

struct val24 {
	uint64_t a;
	uint32_t b, c;
	uint64_t d;
};

struct hash_key {
	uint32_t pid, cpu;
};

struct lpm_key4 {
	uint32_t prefixlen;
	uint8_t addr[4];
};

#define ITER_ENTRIES 1024
#define LOOKUPS 20000L
#define WALKS 30L

static int create(enum bpf_map_type type, const char *name, __u32 ks, __u32 vs, __u32 n, __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	int fd = bpf_map_create(type, name, ks, vs, n, &opts);
	if (fd < 0)
		bench_die(name, errno);
	return fd;
}

static void update(int fd, const void *k, const void *v)
{
	int err = bpf_map_update_elem(fd, k, v, BPF_ANY);
	if (err)
		bench_die("update", err);
}

static void lookup(int fd, const void *k, void *v)
{
	int err = bpf_map_lookup_elem(fd, k, v);
	if (err)
		bench_die("lookup", err);
}

static void bench_lookups(void)
{
	struct val24 v = { 1, 2, 3, 4 };
	uint32_t akey = 3;
	struct hash_key hkey = { .pid = 3 };

	int arr = create(BPF_MAP_TYPE_ARRAY, "arr", 4, 24, 16, 0);
	int hash = create(BPF_MAP_TYPE_HASH, "hash", 8, 24, 16, 0);
	update(arr, &akey, &v);
	update(hash, &hkey, &v);
	BENCH("BenchmarkLookup/array/libbpf-c", LOOKUPS, 0, lookup(arr, &akey, &v));
	BENCH("BenchmarkLookup/hash/libbpf-c", LOOKUPS, 0, lookup(hash, &hkey, &v));

	int ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0)
		bench_die("possible CPUs", ncpu);
	uint64_t *pcv = calloc(ncpu, sizeof(*pcv));
	int pc = create(BPF_MAP_TYPE_PERCPU_ARRAY, "pc", 4, 8, 16, 0);
	update(pc, &akey, pcv);
	BENCH("BenchmarkLookup/percpu_array/libbpf-c", LOOKUPS, 0, lookup(pc, &akey, pcv));

	int lpm = create(BPF_MAP_TYPE_LPM_TRIE, "lpm", 8, 4, 16, BPF_F_NO_PREALLOC);
	struct lpm_key4 prefixes[] = { { 8, { 10 } }, { 16, { 10, 1 } }, { 24, { 10, 1, 2 } } };
	for (int i = 0; i < 3; i++)
		update(lpm, &prefixes[i], &prefixes[i].prefixlen);
	struct lpm_key4 lkey = { 32, { 10, 1, 2, 3 } };
	uint32_t lv;
	BENCH("BenchmarkLookup/lpm/libbpf-c", LOOKUPS, 0, lookup(lpm, &lkey, &lv));
	close(arr), close(hash), close(pc), close(lpm);
	free(pcv);
}

/* walk reads every entry with one bpf_map_lookup_batch, as the Go
 * raw-syscall floor does. */
static void walk(int fd, void *keys, void *values)
{
	uint64_t cursor;
	__u32 count = ITER_ENTRIES + 1;
	int err = bpf_map_lookup_batch(fd, NULL, &cursor, keys, values, &count, NULL);
	if (err != -ENOENT || count != ITER_ENTRIES)
		bench_die("batch lookup", err ? err : EIO);
}

static void bench_iterate(void)
{
	int arr = create(BPF_MAP_TYPE_ARRAY, "arr", 4, 24, ITER_ENTRIES, 0);
	int hash = create(BPF_MAP_TYPE_HASH, "hash", 8, 24, ITER_ENTRIES, 0);
	for (uint32_t i = 0; i < ITER_ENTRIES; i++) {
		struct val24 v = { .a = i, .b = i };
		struct hash_key k = { .pid = i };
		update(arr, &i, &v);
		update(hash, &k, &v);
	}
	struct hash_key *keys = calloc(ITER_ENTRIES + 1, sizeof(*keys));
	struct val24 *values = calloc(ITER_ENTRIES + 1, sizeof(*values));
	BENCH("BenchmarkIterate/array/libbpf-c", WALKS, ITER_ENTRIES, walk(arr, keys, values));
	BENCH("BenchmarkIterate/hash/libbpf-c", WALKS, ITER_ENTRIES, walk(hash, keys, values));
	close(arr), close(hash);
	free(keys), free(values);
}

/* bench_batch_percpu: one bpf_map_lookup_batch of a full 1024-entry
 * PERCPU_HASH into a buffer in the kernel's layout, with 8-byte values and
 * with 12-byte ones (kept 16 bytes apart), as BenchmarkBatchLookup's Go
 * raw-syscall floor does. */
static void bench_batch_percpu(void)
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0)
		bench_die("possible CPUs", ncpu);
	int pc = create(BPF_MAP_TYPE_PERCPU_HASH, "pc", 8, 8, ITER_ENTRIES, 0);
	int pc12 = create(BPF_MAP_TYPE_PERCPU_HASH, "pc12", 8, 12, ITER_ENTRIES, 0);
	uint64_t *v = calloc((size_t)ncpu * 2, sizeof(*v)); /* one key: ncpu values 16 bytes apart at most */
	for (uint32_t i = 0; i < ITER_ENTRIES; i++) {
		struct hash_key k = { .pid = i };
		update(pc, &k, v);
		update(pc12, &k, v);
	}
	struct hash_key *keys = calloc(ITER_ENTRIES + 1, sizeof(*keys));
	uint64_t *values = calloc((size_t)(ITER_ENTRIES + 1) * ncpu * 2, sizeof(*values));
	BENCH("BenchmarkBatchLookup/percpu_hash/libbpf-c", WALKS, ITER_ENTRIES, walk(pc, keys, values));
	BENCH("BenchmarkBatchLookup/percpu_hash_val12/libbpf-c", WALKS, ITER_ENTRIES, walk(pc12, keys, values));
	close(pc), close(pc12);
	free(v), free(keys), free(values);
}

int main(void)
{
	bench_lookups();
	bench_iterate();
	bench_batch_percpu();
	return 0;
}
