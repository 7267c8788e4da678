//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * layout: every C shape Go cannot spell as a plain field, for the golden
 * output, the differential test against the C compiler and the kernel
 * round trip (gen/layout_kernel_test.go).
 *
 *   struct bits    bitfields of widths 1 to 64, signed ones, a zero-width
 *                  separator, _Bool and enum bitfields
 *   struct pbits   a packed struct of bitfields straddling bytes, a 64-bit
 *                  one at bit 3 (spanning 9 bytes)
 *   struct wide    unsigned __int128 and __int128 (16-byte aligned)
 *   struct pwide   a packed __int128 at offset 1
 *   struct pk      a packed struct: a struct, an array and an enum at odd
 *                  offsets, float and double misaligned for Go
 *   struct al      aligned(8) member, aligned(32) struct
 *   struct anon    anonymous unions and structs nested in each other, with
 *                  bitfields inside
 *   struct flex    a flexible array member (at offset 9, before sizeof 16)
 *   struct zl      a zero-length trailing array
 *   sections       .rodata.cfg of 5 bytes (__u32 + bool), .rodata with a
 *                  bpf_printk format string (static), .data with a static,
 *                  .bss of 3 bytes, .data.extra of 9 bytes, .data.zeroes
 *                  (cilium/ebpf v0.22 refuses custom .bss.* sections)
 *
 * Programs (SEC("raw_tp/does-not-exist"): run with BPF_PROG_TEST_RUN)
 *   fill   writes the known values below into out[0] and the globals, and
 *          one struct flex record with 8 data bytes (0..7) into the ring
 *          buffer events; returns 1 (0 if out[0] is missing).
 *   check  compares in[0] and the globals with the known values and returns
 *          the number of the first field that differs, 0 when all equal,
 *          1000 when in[0] is missing.
 *
 * The known values are LAYOUT_KNOWN_VALUES below; gen/layout_kernel_test.go
 * transcribes the same list.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum level { LEVEL_LOW = 1, LEVEL_MID = 5, LEVEL_HIGH = 7 };
enum sflag { SFLAG_NEG = -2, SFLAG_ONE = 1 };	/* signed */

struct bits {
	__u32 b1 : 1;		/* bit 0 */
	__u32 b3 : 3;		/* bits 1..3 */
	__s32 s5 : 5;		/* bits 4..8: signed, straddles bytes 0 and 1 */
	__u32 : 0;		/* zero-width: the next starts a new unit */
	__u8 c7 : 7;		/* byte 4 */
	__u16 w12 : 12;		/* straddles bytes 5 and 6 */
	__s64 s33 : 33;		/* signed, 33 bits */
	__u64 u64full : 64;	/* a whole unit */
	_Bool flag : 1;
	enum level lvl : 3;
	enum sflag sf : 2;	/* signed enum */
	__s8 sc : 4;		/* signed char */
	__u32 tail;
};

struct __attribute__((packed)) pbits {
	__u8 a : 3;		/* bits 0..2 */
	__u64 w : 64;		/* bits 3..66: 9 bytes */
	__u32 b : 30;		/* bits 67..96 */
	__u64 c : 63;		/* bits 97..159 */
	__s8 s : 7;		/* bits 160..166 */
};

struct wide {
	__u8 tag;		/*  0 */
	unsigned __int128 u;	/* 16 */
	__int128 s;		/* 32 */
};

struct __attribute__((packed)) pwide {
	__u8 tag;		/* 0 */
	__int128 s;		/* 1 */
};

struct pt {
	__u32 x, y;
};

/*
 * The kernel refuses BTF with a float member at an offset that is not a
 * multiple of its size, even in a packed struct: f and d are aligned within
 * pk, and misaligned in struct rec, where pk sits at an odd offset.
 */
struct __attribute__((packed)) pk {
	__u8 a;			/*  0 */
	struct pt p;		/*  1 */
	__u16 arr[3];		/*  9 */
	enum level e;		/* 15 */
	__u8 gap;		/* 19 */
	float f;		/* 20 */
	double d;		/* 24 */
};

struct al {
	__u8 a;			/*  0 */
	__u8 b __attribute__((aligned(8)));	/* 8 */
	__u32 c;		/* 12 */
} __attribute__((aligned(32)));	/* size 32 */

struct anon {
	__u32 head;				/*  0 */
	union {					/*  4 */
		__u32 u_a;
		struct {
			__u16 u_lo;
			__u16 u_hi;
		};
		union {
			__u8 u_b0;
			__s8 u_sb;
		};
	};
	struct {
		__u32 s_x;			/*  8 */
		union {				/* 12 */
			__u32 s_word;
			struct {
				__u32 s_bits_lo : 7, s_bits_hi : 25;
			};
		};
	};
	union {					/* 16 */
		__u64 v_u64;
		double v_f64;
	};
};

struct rec {
	struct bits bits;
	struct pbits pbits;
	struct wide wide;
	struct pwide pw;
	struct pk pk;
	struct al al;
	struct anon anon;
	float f32;
	double f64;
	__u8 tail_u8;
};

struct flex {
	__u64 len;		/* 0 */
	__u8 kind;		/* 8 */
	__u8 data[];		/* 9: before sizeof (16) */
};

struct zl {
	__u32 n;
	__u32 items[0];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec);
} out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec);
} in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flex);
} flexes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct zl);
} zls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

/* Global data. */
const volatile __u32 filter_uid SEC(".rodata.cfg") = 0x11223344;
const volatile _Bool trace_unlink SEC(".rodata.cfg") = 1;
const volatile __u64 ro_big = 0x0102030405060708ULL;	/* .rodata, with a format string */
__u8 d_small = 1;					/* .data */
static volatile __u32 d_static = 3;			/* .data, static */
__u64 d_big = 2;					/* .data */
__u16 b_count;						/* .bss */
__u8 b_flag;						/* .bss */
__u64 x_a SEC(".data.extra") = 4;
__u8 x_b SEC(".data.extra") = 5;
__u32 y_c SEC(".data.zeroes") = 0;

#define U128(hi, lo) ((((unsigned __int128)(hi)) << 64) | (unsigned __int128)(lo))

#define LAYOUT_KNOWN_VALUES(INT, F32, F64)				\
	INT(1, r->bits.b1, 1)						\
	INT(2, r->bits.b3, 5)						\
	INT(3, r->bits.s5, -7)						\
	INT(4, r->bits.c7, 0x55)					\
	INT(5, r->bits.w12, 0xabc)					\
	INT(6, r->bits.s33, -305419896LL)				\
	INT(7, r->bits.u64full, 0xfedcba9876543210ULL)			\
	INT(8, r->bits.flag, 1)						\
	INT(9, r->bits.lvl, LEVEL_HIGH)					\
	INT(10, r->bits.sf, SFLAG_NEG)					\
	INT(11, r->bits.sc, -3)						\
	INT(12, r->bits.tail, 0xdeadbeefU)				\
	INT(13, r->pbits.a, 5)						\
	INT(14, r->pbits.w, 0x8000000000000001ULL)			\
	INT(15, r->pbits.b, 0x2aaaaaabU)				\
	INT(16, r->pbits.c, 0x7123456789abcdefULL)			\
	INT(17, r->pbits.s, -50)					\
	INT(18, r->wide.tag, 0x77)					\
	INT(19, r->wide.u, U128(0x0123456789abcdefULL, 0xfedcba9876543210ULL)) \
	INT(20, r->wide.s, (__int128)U128(0xfffffffffffffffeULL, 1))	\
	INT(21, r->pw.tag, 0x33)					\
	INT(22, r->pw.s, (__int128)U128(0x8000000000000000ULL, 0x0102030405060708ULL)) \
	INT(23, r->pk.a, 0xa5)						\
	INT(24, r->pk.p.x, 0x01020304)					\
	INT(25, r->pk.p.y, 0x05060708)					\
	INT(26, r->pk.arr[0], 0x1111)					\
	INT(27, r->pk.arr[1], 0x2222)					\
	INT(28, r->pk.arr[2], 0x3333)					\
	F32(29, r->pk.f, 0x40200000U)		/* 2.5 */		\
	F64(30, r->pk.d, 0xbfe0000000000000ULL)	/* -0.5 */		\
	INT(31, r->pk.e, LEVEL_MID)					\
	INT(32, r->al.a, 0x0a)						\
	INT(33, r->al.b, 0x0b)						\
	INT(34, r->al.c, 0x0c0c0c0c)					\
	INT(35, r->anon.head, 0x48454144)				\
	INT(36, r->anon.u_a, 0x44332211)				\
	INT(37, r->anon.s_x, 0x5358)					\
	INT(38, r->anon.s_word, 0x80000081U)				\
	F64(39, r->anon.v_f64, 0x3ff4000000000000ULL)	/* 1.25 */	\
	F32(40, r->f32, 0xc0700000U)		/* -3.75 */		\
	F64(41, r->f64, 0x4202a05f20000000ULL)	/* 1e10 */		\
	INT(42, r->tail_u8, 0x99)					\
	INT(43, d_small, 0xd1)						\
	INT(44, d_big, 0xd2d2d2d2d2d2d2d2ULL)				\
	INT(45, b_count, 0xb1b1)					\
	INT(46, b_flag, 0xb2)						\
	INT(47, x_a, 0xe1e1e1e1e1e1e1e1ULL)				\
	INT(48, x_b, 0xe2)						\
	INT(49, y_c, 0xf1f1f1f1U)

#define FILL_INT(n, path, v)	path = (v);
#define FILL_F32(n, path, bits)						\
	{ __u32 b_ = (bits); __builtin_memcpy((void *)&(path), &b_, 4); }
#define FILL_F64(n, path, bits)						\
	{ __u64 b_ = (bits); __builtin_memcpy((void *)&(path), &b_, 8); }

#define CHECK_INT(n, path, v)	if ((path) != (v)) return (n);
#define CHECK_F32(n, path, bits)					\
	{ __u32 b_; __builtin_memcpy(&b_, (void *)&(path), 4);		\
	  if (b_ != (__u32)(bits)) return (n); }
#define CHECK_F64(n, path, bits)					\
	{ __u64 b_; __builtin_memcpy(&b_, (void *)&(path), 8);		\
	  if (b_ != (__u64)(bits)) return (n); }

SEC("raw_tp/does-not-exist")
int fill(void *ctx)
{
	__u32 key = 0;
	struct rec *r = bpf_map_lookup_elem(&out, &key);
	__u64 rec_buf[3] = {};	/* 24 bytes, 8-aligned: struct flex + data */
	struct flex *fr = (struct flex *)rec_buf;

	if (!r)
		return 0;
	LAYOUT_KNOWN_VALUES(FILL_INT, FILL_F32, FILL_F64)
	d_static += 1;

	/* data[] starts at offset 9, inside sizeof(struct flex). */
	fr->len = 8;
	fr->kind = 0x4b;
	for (int i = 0; i < 8; i++)
		fr->data[i] = i;
	bpf_ringbuf_output(&events, fr, 9 + 8, 0);
	bpf_printk("layout fill %llu", ro_big);
	return 1;
}

SEC("raw_tp/does-not-exist")
int check(void *ctx)
{
	__u32 key = 0;
	struct rec *r = bpf_map_lookup_elem(&in, &key);

	if (!r)
		return 1000;
	LAYOUT_KNOWN_VALUES(CHECK_INT, CHECK_F32, CHECK_F64)
	return 0;
}
