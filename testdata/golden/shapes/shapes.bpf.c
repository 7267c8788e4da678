//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * shapes: struct shapes for the golden output and the kernel round trip.
 *
 * Maps
 *   shapes_out  ARRAY, max_entries 1, key __u32, value struct shape
 *   shapes_in   HASH,  max_entries 1, key struct shape_key, value struct shape
 *
 * Global data
 *   .rodata  const volatile __u32 cfg_magic = 0x1234
 *   .bss     __u64 bss_counter              (0 at load)
 *   .bss     static volatile __u64 fill_calls (static: a BTF VAR with static
 *            linkage at .bss offset 8; volatile so clang keeps it)
 *   .data    __u32 data_flag = 7
 *
 * Programs (SEC("raw_tp/does-not-exist"): never attached, run them with
 * BPF_PROG_TEST_RUN and an empty context)
 *   fill   writes the known values below into shapes_out[0] (key 0), field
 *          by field; padding bytes are never written (they stay 0, as the
 *          array starts zeroed). Then bss_counter += 1, data_flag += 1 and
 *          fill_calls += 1. Returns cfg_magic (0x1234 unless rewritten
 *          before load); returns 0 only if shapes_out[0] is missing.
 *   check  looks up shapes_in with the key {kind = 0x4b, id = 0xc0ffee}
 *          (struct shape_key: kind at 0, padding 1..3, id at 4; the padding
 *          must be zero, as the kernel hashes and compares all 8 bytes:
 *          4b 00 00 00 ee ff c0 00). Returns 1000 if absent, else
 *          compares every field with the known values in the order below
 *          and returns the number of the first field that differs, or 0
 *          when all are equal.
 *          Padding bytes are not compared. Floats are compared by bits,
 *          the _Bool as its byte (only 0x01 is true here).
 *          It changes nothing.
 *
 * Known values (number: C field path = value). The same list is the
 * SHAPE_KNOWN_VALUES macro below, which both programs expand.
 *
 *    1: s8               = -100                   (0x9c)
 *    2: s16              = -30000                 (0x8ad0)
 *    3: s32              = -2000000000            (0x88ca6c00)
 *    4: s64              = -9000000000000000000   (0x831993af1d7c0000)
 *    5: u8               = 200                    (0xc8)
 *    6: packed.p_a       = 0x7f
 *    7: packed.p_b       = 0x89abcdef
 *    8: packed.p_c       = 0x4321
 *    9: packed.p_d       = 0xfedcba9876543210
 *   10: u16              = 60000                  (0xea60)
 *   11: u32              = 4000000000             (0xee6b2800)
 *   12: u64              = 18000000000000000000   (0xf9ccd8a1c5080000)
 *   13: slong            = -1234567890123         (0xfffffee08e04fb35, C long: 8 bytes)
 *   14: ulong            = 0xdeadbeefcafef00d     (C unsigned long: 8 bytes)
 *   15: typedef_u64      = 0x0123456789abcdef     (my_u64)
 *   16: flag             = true                   (_Bool, byte 0x01)
 *   17: f32              = 1.5                    (float bits 0x3fc00000)
 *   18: f64              = -2.25                  (double bits 0xc002000000000000)
 *   19: color            = COLOR_BLUE  = 3
 *   20: sign             = SIGN_MIN    = -2147483648 (0x80000000)
 *   21: tiny             = TINY_MAX    = 255      (1-byte enum)
 *   22: big              = BIG_MAX     = 0xffffffffffffffff (8-byte enum)
 *   23: holes.a          = 0x11
 *   24: holes.b          = 0x2233445566778899
 *   25: holes.c          = 0xaabb
 *   26: holes.d          = 0xccddeeff
 *   27: holes.e          = 0x5a
 *   28: nested.origin.x  = -11
 *   29: nested.origin.y  = 12
 *   30: nested.corner.x  = -13                    (point_t, a typedef of struct point)
 *   31: nested.corner.y  = 14
 *   32: nested.size.w    = 1500                   (member of an unnamed struct type)
 *   33: nested.size.h    = 1600
 *   34: nested.range.lo  = 0x0a0b                 (range_t, a typedef of an unnamed struct)
 *   35: nested.range.hi  = 0x0c0d
 *   36: nested.anon_a    = 0xa0a1a2a3             (anonymous struct member)
 *   37: nested.anon_b    = 0xb0b1b2b3
 *   38: nested.u_word    = 0x04030201             (anonymous union member; so
 *                                                  u_bytes = {0x01,0x02,0x03,0x04})
 *   39: u32s[0]          = 0x10000001
 *   40: u32s[1]          = 0x20000002
 *   41: u32s[2]          = 0x30000003
 *   42: u32s[3]          = 0x40000004
 *   43: grid[0][0]       = 0x0101
 *   44: grid[0][1]       = 0x0102
 *   45: grid[0][2]       = 0x0103
 *   46: grid[1][0]       = 0x0201
 *   47: grid[1][1]       = 0x0202
 *   48: grid[1][2]       = 0x0203
 *   49: pts[0].x         = -21
 *   50: pts[0].y         = 22
 *   51: pts[1].x         = -23
 *   52: pts[1].y         = 24
 *   53: name             = "shapes"               (then 10 NUL bytes; all 16 compared)
 *   54: val.u64          = 0x1122334455667788     (union value_u; so val.s32 =
 *                                                  0x55667788, val.bytes =
 *                                                  88 77 66 55 44 33 22 11)
 *   55: al.a16_x         = 0x16161616
 *   56: al.a16_y         = 0x61
 *
 * Layout of struct shape (BPF target, little endian; sizeof 272, align 16):
 * see the byte offsets in the comments of the struct definitions below.
 * BTF records no alignment: struct aligned16 is aligned(16) in C, but its BTF
 * only says size 16, and the offset of shape.al (256) is what shows it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- typedefs ---------------------------------------------------------- */

typedef __u64 my_u64;

/* ---- enums ------------------------------------------------------------- */

enum color {			/* 4 bytes, unsigned */
	COLOR_RED = 1,
	COLOR_GREEN = 2,
	COLOR_BLUE = 3,
};

enum sign {			/* 4 bytes, signed */
	SIGN_MIN = -2147483647 - 1,
	SIGN_NEG_ONE = -1,
	SIGN_ZERO = 0,
	SIGN_MAX = 2147483647,
};

enum __attribute__((packed)) tiny {	/* 1 byte */
	TINY_ONE = 1,
	TINY_MAX = 255,
};

enum big64 {			/* 8 bytes (BTF_KIND_ENUM64) */
	BIG_ONE = 1,
	BIG_HUGE = 0x123456789ULL,	/* > 2^32 */
	BIG_MAX = 0xffffffffffffffffULL,
};

/* ---- structs and unions ------------------------------------------------ */

struct holes {			/* size 32, align 8 */
	__u8 a;			/*  0, hole 1..7 */
	__u64 b;		/*  8 */
	__u16 c;		/* 16, hole 18..19 */
	__u32 d;		/* 20 */
	__u8 e;			/* 24, trailing padding 25..31 */
};

struct point {			/* size 8, align 4 */
	__s32 x;		/* 0 */
	__s32 y;		/* 4 */
};

typedef struct point point_t;	/* typedef of a named struct */

typedef struct {		/* typedef of an unnamed struct; size 4 */
	__u16 lo;		/* 0 */
	__u16 hi;		/* 2 */
} range_t;

struct nested {			/* size 36, align 4 */
	struct point origin;	/*  0: named struct type */
	point_t corner;		/*  8: typedef of a struct */
	struct {		/* 16: unnamed struct type, named member */
		__u16 w;	/* 16 */
		__u16 h;	/* 18 */
	} size;
	range_t range;		/* 20: typedef of an unnamed struct */
	struct {		/* anonymous struct member */
		__u32 anon_a;	/* 24 */
		__u32 anon_b;	/* 28 */
	};
	union {			/* anonymous union member */
		__u32 u_word;	/* 32 */
		__u8 u_bytes[4];	/* 32 */
	};
};

union value_u {			/* named union; size 8, align 8 */
	__u64 u64;
	__s32 s32;
	__u8 bytes[8];
};

struct __attribute__((packed)) packed_s {	/* size 15, align 1 */
	__u8 p_a;		/*  0 */
	__u32 p_b;		/*  1 */
	__u16 p_c;		/*  5 */
	__u64 p_d;		/*  7 */
};

struct aligned16 {		/* size 16, align 16 */
	__u32 a16_x;		/* 0 */
	__u8 a16_y;		/* 4, trailing padding 5..15 */
} __attribute__((aligned(16)));

struct shape {			/* size 272, align 16 */
	__s8 s8;		/*   0, hole 1 */
	__s16 s16;		/*   2 */
	__s32 s32;		/*   4 */
	__s64 s64;		/*   8 */
	__u8 u8;		/*  16 */
	struct packed_s packed;	/*  17..31: packed, at an odd offset */
	__u16 u16;		/*  32, hole 34..35 */
	__u32 u32;		/*  36 */
	__u64 u64;		/*  40 */
	long slong;		/*  48 */
	unsigned long ulong;	/*  56 */
	my_u64 typedef_u64;	/*  64 */
	_Bool flag;		/*  72, hole 73..75 */
	float f32;		/*  76 */
	double f64;		/*  80 */
	enum color color;	/*  88 */
	enum sign sign;		/*  92 */
	enum tiny tiny;		/*  96, hole 97..103 */
	enum big64 big;		/* 104 */
	struct holes holes;	/* 112 */
	struct nested nested;	/* 144 */
	__u32 u32s[4];		/* 180 */
	__u16 grid[2][3];	/* 196 */
	struct point pts[2];	/* 208 */
	char name[16];		/* 224 */
	union value_u val;	/* 240 */
	struct aligned16 al;	/* 256, hole 248..255 before it */
};				/* no trailing padding */

struct shape_key {		/* size 8, align 4 */
	__u8 kind;		/* 0, hole 1..3 */
	__u32 id;		/* 4 */
};

#define SHAPES_KEY_KIND 0x4b
#define SHAPES_KEY_ID 0xc0ffee

/* ---- maps and global data ---------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shape);
} shapes_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct shape_key);
	__type(value, struct shape);
} shapes_in SEC(".maps");

const volatile __u32 cfg_magic = 0x1234;	/* .rodata */
__u64 bss_counter;				/* .bss */
__u32 data_flag = 7;				/* .data */
static volatile __u64 fill_calls;		/* .bss, static */

/* ---- the known values: one list for both programs ----------------------- */

/*
 * SHAPE_KNOWN_VALUES(INT, BOOL, F32, F64, STR16) expands one macro per field:
 *   INT(n, path, value)         an integer or enum field
 *   BOOL(n, path, value)        a _Bool, compared as its raw byte (C would
 *                               take any non-zero byte for true)
 *   F32(n, path, bits)          a float, given by its IEEE-754 bits
 *   F64(n, path, bits)          a double, given by its IEEE-754 bits
 *   STR16(n, path, w0, w1)      a char[16], given as two little-endian
 *                               64-bit words (bytes 0..7 and 8..15)
 * n is the number check returns when that field differs.
 */
#define SHAPE_KNOWN_VALUES(INT, BOOL, F32, F64, STR16)		\
	INT(1, s8, -100)						\
	INT(2, s16, -30000)						\
	INT(3, s32, -2000000000)					\
	INT(4, s64, -9000000000000000000LL)				\
	INT(5, u8, 200)							\
	INT(6, packed.p_a, 0x7f)					\
	INT(7, packed.p_b, 0x89abcdefU)					\
	INT(8, packed.p_c, 0x4321)					\
	INT(9, packed.p_d, 0xfedcba9876543210ULL)			\
	INT(10, u16, 60000)						\
	INT(11, u32, 4000000000U)					\
	INT(12, u64, 18000000000000000000ULL)				\
	INT(13, slong, -1234567890123L)					\
	INT(14, ulong, 0xdeadbeefcafef00dUL)				\
	INT(15, typedef_u64, 0x0123456789abcdefULL)			\
	BOOL(16, flag, 1)						\
	F32(17, f32, 0x3fc00000U)		/* 1.5 */		\
	F64(18, f64, 0xc002000000000000ULL)	/* -2.25 */		\
	INT(19, color, COLOR_BLUE)					\
	INT(20, sign, SIGN_MIN)						\
	INT(21, tiny, TINY_MAX)						\
	INT(22, big, BIG_MAX)						\
	INT(23, holes.a, 0x11)						\
	INT(24, holes.b, 0x2233445566778899ULL)				\
	INT(25, holes.c, 0xaabb)					\
	INT(26, holes.d, 0xccddeeffU)					\
	INT(27, holes.e, 0x5a)						\
	INT(28, nested.origin.x, -11)					\
	INT(29, nested.origin.y, 12)					\
	INT(30, nested.corner.x, -13)					\
	INT(31, nested.corner.y, 14)					\
	INT(32, nested.size.w, 1500)					\
	INT(33, nested.size.h, 1600)					\
	INT(34, nested.range.lo, 0x0a0b)				\
	INT(35, nested.range.hi, 0x0c0d)				\
	INT(36, nested.anon_a, 0xa0a1a2a3U)				\
	INT(37, nested.anon_b, 0xb0b1b2b3U)				\
	INT(38, nested.u_word, 0x04030201U)				\
	INT(39, u32s[0], 0x10000001U)					\
	INT(40, u32s[1], 0x20000002U)					\
	INT(41, u32s[2], 0x30000003U)					\
	INT(42, u32s[3], 0x40000004U)					\
	INT(43, grid[0][0], 0x0101)					\
	INT(44, grid[0][1], 0x0102)					\
	INT(45, grid[0][2], 0x0103)					\
	INT(46, grid[1][0], 0x0201)					\
	INT(47, grid[1][1], 0x0202)					\
	INT(48, grid[1][2], 0x0203)					\
	INT(49, pts[0].x, -21)						\
	INT(50, pts[0].y, 22)						\
	INT(51, pts[1].x, -23)						\
	INT(52, pts[1].y, 24)						\
	/* "shapes" then 10 NULs: 's' 'h' 'a' 'p' 'e' 's' = 73 68 61 70 65 73 */ \
	STR16(53, name, 0x0000736570616873ULL, 0)			\
	INT(54, val.u64, 0x1122334455667788ULL)				\
	INT(55, al.a16_x, 0x16161616U)					\
	INT(56, al.a16_y, 0x61)

/* fill: store each known value. */
#define FILL_INT(n, path, v)	s->path = (v);
#define FILL_BOOL(n, path, v)	s->path = (v);
#define FILL_F32(n, path, bits)						\
	{ __u32 b_ = (bits); __builtin_memcpy(&s->path, &b_, 4); }
#define FILL_F64(n, path, bits)						\
	{ __u64 b_ = (bits); __builtin_memcpy(&s->path, &b_, 8); }
#define FILL_STR16(n, path, w0, w1)					\
	{								\
		_Static_assert(sizeof(s->path) == 16, "STR16 needs char[16]"); \
		__u64 w0_ = (w0), w1_ = (w1);				\
		__builtin_memcpy(&s->path[0], &w0_, 8);			\
		__builtin_memcpy(&s->path[8], &w1_, 8);			\
	}

/* check: return n at the first field that differs. */
#define CHECK_INT(n, path, v)						\
	if (s->path != (v))						\
		return (n);
#define CHECK_BOOL(n, path, v)						\
	{ __u8 b_; __builtin_memcpy(&b_, &s->path, 1);			\
	  if (b_ != (__u8)(v)) return (n); }
#define CHECK_F32(n, path, bits)					\
	{ __u32 b_; __builtin_memcpy(&b_, &s->path, 4);			\
	  if (b_ != (__u32)(bits)) return (n); }
#define CHECK_F64(n, path, bits)					\
	{ __u64 b_; __builtin_memcpy(&b_, &s->path, 8);			\
	  if (b_ != (__u64)(bits)) return (n); }
#define CHECK_STR16(n, path, w0, w1)					\
	{								\
		_Static_assert(sizeof(s->path) == 16, "STR16 needs char[16]"); \
		__u64 w0_, w1_;						\
		__builtin_memcpy(&w0_, &s->path[0], 8);			\
		__builtin_memcpy(&w1_, &s->path[8], 8);			\
		if (w0_ != (__u64)(w0) || w1_ != (__u64)(w1))		\
			return (n);					\
	}

static __always_inline void shape_fill(struct shape *s)
{
	SHAPE_KNOWN_VALUES(FILL_INT, FILL_BOOL, FILL_F32, FILL_F64, FILL_STR16)
}

static __always_inline int shape_check(const struct shape *s)
{
	SHAPE_KNOWN_VALUES(CHECK_INT, CHECK_BOOL, CHECK_F32, CHECK_F64, CHECK_STR16)
	return 0;
}

/* ---- programs ---------------------------------------------------------- */

SEC("raw_tp/does-not-exist")
int fill(void *ctx)
{
	__u32 key = 0;
	struct shape *s;

	s = bpf_map_lookup_elem(&shapes_out, &key);
	if (!s)
		return 0;

	shape_fill(s);

	bss_counter += 1;
	data_flag += 1;
	fill_calls += 1;
	return cfg_magic;
}

SEC("raw_tp/does-not-exist")
int check(void *ctx)
{
	struct shape_key key;
	struct shape *s;

	__builtin_memset(&key, 0, sizeof(key));	/* the padding too */
	key.kind = SHAPES_KEY_KIND;
	key.id = SHAPES_KEY_ID;

	s = bpf_map_lookup_elem(&shapes_in, &key);
	if (!s)
		return 1000;

	return shape_check(s);
}
