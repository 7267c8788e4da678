//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * names: every naming edge case in one object (as protobuf's
 * fieldnames.proto). renames.txt beside this file holds the -rename flags
 * the golden test passes, to show that -rename gives the names a user
 * wants; without them the object still generates, by the collision rule
 * of btfmodel/names.go (collision/ shows that).
 *
 *   task_struct, TCP_FLAG_t, __reserved, _pad     the identifier rule
 *   struct skeleton                               collides with the generated
 *                                                 Skeleton: renamed Bones
 *   member my_field and myField                   collide in one struct:
 *                                                 myField renamed
 *   member x_y and xY                             do not collide: bpf2go's
 *                                                 rule keeps '_' after a
 *                                                 capital (X_y, XY)
 *   map close                                     the Maps struct has no
 *                                                 methods: no clash with Close
 *   member type, func, range                      Go keywords, exported
 *   enum state { STATE_ON, STATE_OFF, OFF_ALIAS } prefix stripped; an alias
 *                                                 value shares a number
 *   .data.counters                                a custom section
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum state { STATE_ON = 1, STATE_OFF = 2, OFF_ALIAS = 2 };

typedef __u32 TCP_FLAG_t;

struct task_struct {
	__u32 type;
	__u32 func;
	__u32 range;
	TCP_FLAG_t TCP_FLAG;
	__u32 __reserved;
	__u32 _pad;
	enum state state;
	__u32 x_y;
	__u32 xY;
	__u32 my_field;
	__u32 myField;
};

struct skeleton {
	__u64 bones;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct task_struct);
} close SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skeleton);
} events SEC(".maps");

__u64 hits SEC(".data.counters") = 1;

static __always_inline int touch(void)
{
	__u32 zero = 0;
	struct task_struct *t = bpf_map_lookup_elem(&close, &zero);
	struct skeleton *s = bpf_map_lookup_elem(&events, &zero);

	if (t && s)
		s->bones = t->x_y + t->xY + t->my_field + t->myField + hits;
	return 0;
}

SEC("raw_tp/does-not-exist")
int events_prog(void *ctx) { return touch(); }

SEC("raw_tp/does-not-exist")
int close_prog(void *ctx) { return touch(); }
