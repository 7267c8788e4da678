/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Types and declarations the files of the linked object share. */
#ifndef LINKED_SHARED_H
#define LINKED_SHARED_H

struct conn_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u32 ifindex;
};

struct conn_val {
	__u64 packets;
	__u64 bytes;
};

struct settings {
	__u32 sample;
	__u32 verbose;
};

int track(struct conn_key *key, __u32 bytes);
__u32 kernel_version(void);

/* Defined in settings.c; the other files read it. */
extern const volatile struct settings settings;

#endif
