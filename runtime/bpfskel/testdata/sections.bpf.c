// Test object for the runtime's Open/Load/Bind tests. `make objects`
// rebuilds it with every other object, reproducibly; the tests themselves
// never need clang: the object is committed.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct elem {
	__u32 a;
	__u32 b;
	__u32 c;
}; // 12 bytes: stride 16 in the array

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct elem);
} buf_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

__u64 hits;                       // .bss
__u32 magic = 0x1234;             // .data
const volatile __u32 factor = 3;  // .rodata

// bump counts its runs in .bss, adds factor to buf_map[1].a, copies magic
// to buf_map[1].c, counts runs per key 7 in counts, and returns magic + 1.
SEC("raw_tp/sys_enter")
int bump(void *ctx)
{
	__u32 k = 1, ck = 7;
	__u64 one = 1, *cnt;
	struct elem *e;

	hits++;
	e = bpf_map_lookup_elem(&buf_map, &k);
	if (e) {
		e->a += factor;
		e->c = magic;
	}
	cnt = bpf_map_lookup_elem(&counts, &ck);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&counts, &ck, &one, BPF_NOEXIST);
	return magic + 1;
}

char LICENSE[] SEC("license") = "GPL";
