//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdpfilter: an XDP firewall written the way xdp-tutorial and
 * libbpf-bootstrap write them: UAPI headers (not vmlinux.h), a bounds-checked
 * header cursor, a packed flow key (13 bytes, no padding, as it is hashed),
 * a packed VLAN header, an LPM trie of blocked prefixes, per-CPU counters
 * per XDP action, const volatile configuration.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_FLOWS 4096

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
} __attribute__((packed));

/* A flow as it is hashed: no padding bytes that could differ. */
struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
} __attribute__((packed));

struct flow_stats {
	__u64 packets;
	__u64 bytes;
	__u64 last_seen_ns;
};

struct datarec {
	__u64 rx_packets;
	__u64 rx_bytes;
};

struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct hdr_cursor {
	void *pos;
};

const volatile bool drop_blocked = true;
const volatile __u16 allowed_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, __u32);
	__type(value, struct datarec);
} xdp_stats_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
} blocked SEC(".maps");

static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end, struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vlh;
	__u16 h_proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	nh->pos = eth + 1;
	*ethhdr = eth;
	h_proto = eth->h_proto;
	if (h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD)) {
		vlh = nh->pos;
		if ((void *)(vlh + 1) > data_end)
			return -1;
		nh->pos = vlh + 1;
		h_proto = vlh->h_vlan_encapsulated_proto;
	}
	return h_proto;
}

static __always_inline __u32 record(struct xdp_md *ctx, __u32 action)
{
	struct datarec *rec;

	if (action > XDP_REDIRECT)
		return XDP_ABORTED;
	rec = bpf_map_lookup_elem(&xdp_stats_map, &action);
	if (!rec)
		return XDP_ABORTED;
	rec->rx_packets++;
	rec->rx_bytes += ctx->data_end - ctx->data;
	return action;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct flow_key key = {};
	struct flow_stats *fs, init = {};
	struct lpm_v4_key lpm = { .prefixlen = 32 };
	struct ethhdr *eth;
	struct iphdr *iph;
	int proto;

	proto = parse_ethhdr(&nh, data_end, &eth);
	if (proto != bpf_htons(ETH_P_IP))
		return record(ctx, XDP_PASS);
	iph = nh.pos;
	if ((void *)(iph + 1) > data_end)
		return record(ctx, XDP_ABORTED);
	key.saddr = iph->saddr;
	key.daddr = iph->daddr;
	key.proto = iph->protocol;
	nh.pos = (void *)iph + iph->ihl * 4;
	if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *udp = nh.pos;
		if ((void *)(udp + 1) > data_end)
			return record(ctx, XDP_ABORTED);
		key.sport = udp->source;
		key.dport = udp->dest;
	} else if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = nh.pos;
		if ((void *)(tcp + 1) > data_end)
			return record(ctx, XDP_ABORTED);
		key.sport = tcp->source;
		key.dport = tcp->dest;
	}

	fs = bpf_map_lookup_elem(&flows, &key);
	if (!fs) {
		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		fs = bpf_map_lookup_elem(&flows, &key);
	}
	if (fs) {
		__sync_fetch_and_add(&fs->packets, 1);
		__sync_fetch_and_add(&fs->bytes, data_end - data);
		fs->last_seen_ns = bpf_ktime_get_ns();
	}

	if (allowed_port && key.dport == bpf_htons(allowed_port))
		return record(ctx, XDP_PASS);
	__builtin_memcpy(lpm.addr, &iph->saddr, sizeof(lpm.addr));
	if (drop_blocked && bpf_map_lookup_elem(&blocked, &lpm))
		return record(ctx, XDP_DROP);
	return record(ctx, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
