//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tcstats: traffic-control programs written the way libbpf-bootstrap's tc
 * example and Cilium-style datapaths write them: a classic tc classifier and
 * a TCX ingress program, a packed on-the-wire header with bitfields (a
 * GENEVE-like option header), per-interface statistics in a hash map with a
 * struct value, a ring buffer of sampled packet records.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define GENEVE_PORT 6081

struct genevehdr {
	__u8 opt_len:6, ver:2;
	__u8 rsvd1:6, critical:1, oam:1;
	__be16 proto_type;
	__u8 vni[3];
	__u8 rsvd2;
} __attribute__((packed));

struct if_stats {
	__u64 packets;
	__u64 bytes;
	__u64 geneve;
	__u32 last_len;
	__u16 last_proto;
};

struct sample {
	__u32 ifindex;
	__u32 len;
	__u8 vni[3];
	__u8 ingress;
	__u8 head[32];
};

const volatile __u32 sample_every = 64;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct if_stats);
} ifstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} samples SEC(".maps");

__u64 seen;

static __always_inline int account(struct __sk_buff *skb, bool ingress)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct if_stats *st, zero = {};
	__u32 ifindex = skb->ifindex;
	struct sample *s;
	struct iphdr *iph;
	struct udphdr *udp;
	struct genevehdr *gh = 0;

	st = bpf_map_lookup_elem(&ifstats, &ifindex);
	if (!st) {
		bpf_map_update_elem(&ifstats, &ifindex, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&ifstats, &ifindex);
		if (!st)
			return TC_ACT_OK;
	}
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, skb->len);
	st->last_len = skb->len;
	st->last_proto = bpf_ntohs(skb->protocol);

	if ((void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IP)) {
		iph = (void *)(eth + 1);
		udp = (void *)(iph + 1);
		if ((void *)(udp + 1) <= data_end && iph->protocol == IPPROTO_UDP &&
		    udp->dest == bpf_htons(GENEVE_PORT)) {
			gh = (void *)(udp + 1);
			if ((void *)(gh + 1) > data_end)
				gh = 0;
			else
				__sync_fetch_and_add(&st->geneve, 1);
		}
	}

	if (sample_every == 0 || __sync_fetch_and_add(&seen, 1) % sample_every)
		return TC_ACT_OK;
	s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s)
		return TC_ACT_OK;
	s->ifindex = ifindex;
	s->len = skb->len;
	s->ingress = ingress;
	if (gh)
		__builtin_memcpy(s->vni, gh->vni, sizeof(s->vni));
	else
		__builtin_memset(s->vni, 0, sizeof(s->vni));
	if (bpf_skb_load_bytes(skb, 0, s->head, sizeof(s->head)))
		__builtin_memset(s->head, 0, sizeof(s->head));
	bpf_ringbuf_submit(s, 0);
	return TC_ACT_OK;
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	return account(skb, false);
}

SEC("tcx/ingress")
int tcx_ingress(struct __sk_buff *skb)
{
	return account(skb, true);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
