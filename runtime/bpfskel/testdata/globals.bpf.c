// Test object for the global-variable benchmarks: one __u64 in a small
// .data and one at the start of a 1 MiB .bss, so that reading a variable
// can be compared with copying its whole section.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 small_counter SEC(".data") = 1; // .data: 8 bytes
__u64 counter;                        // .bss: offset 0
char big[1 << 20];                    // .bss: 1 MiB after it

SEC("raw_tp")
int touch(void *ctx)
{
	__sync_fetch_and_add(&counter, 1);
	__sync_fetch_and_add(&small_counter, 1);
	big[0]++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
