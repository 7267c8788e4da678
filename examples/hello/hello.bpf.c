//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * hello: the BPF_F_MMAPABLE walkthrough.
 *
 * buf_map is a one-element ARRAY whose value is a 16-byte character buffer.
 * Because it is BPF_F_MMAPABLE, user space can mmap it and read or write the
 * buffer directly, without a syscall per access.
 *
 * The program hello looks up element 0. If the buffer is still empty (its
 * first byte is 0) it writes "hello from bpf" into it (14 characters, a NUL,
 * and the rest of the 16 bytes zero). It then prints the buffer with
 * bpf_printk, so whatever user space wrote into the mapping shows up in
 * /sys/kernel/tracing/trace_pipe.
 *
 * The section names a raw tracepoint that does not exist on purpose: the
 * program is meant to be run with BPF_PROG_TEST_RUN and an empty context,
 * never attached.
 *
 * The object has no .bss or .data. It has a .rodata section, which holds
 * only bpf_printk's format string ("%s").
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[16]);
	__uint(map_flags, BPF_F_MMAPABLE);
} buf_map SEC(".maps");

SEC("raw_tp/does-not-exist")
int hello(void *ctx)
{
	__u32 key = 0;
	char *buf;

	buf = bpf_map_lookup_elem(&buf_map, &key);
	if (!buf)
		return 0;

	if (buf[0] == 0) {
		/*
		 * "hello from bpf": 14 characters, then NULs up to the 16
		 * bytes of the value. Spelled byte by byte so that every byte
		 * is an immediate store: a copy from a string literal would
		 * leave the literal behind as an extra .rodata.cst16 section.
		 */
		buf[0] = 'h';  buf[1] = 'e';  buf[2] = 'l';  buf[3] = 'l';
		buf[4] = 'o';  buf[5] = ' ';  buf[6] = 'f';  buf[7] = 'r';
		buf[8] = 'o';  buf[9] = 'm';  buf[10] = ' '; buf[11] = 'b';
		buf[12] = 'p'; buf[13] = 'f'; buf[14] = 0;   buf[15] = 0;
	}

	bpf_printk("%s", buf);
	return 0;
}
