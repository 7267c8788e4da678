//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * structops: a TCP congestion control in BPF, the struct_ops shape of the
 * kernel's bpf_dctcp/bpf_cubic selftests: programs in SEC("struct_ops/...")
 * and the ops table itself as a variable in SEC(".struct_ops.link"), whose
 * value type, struct tcp_congestion_ops, comes from vmlinux.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

const volatile __u32 init_cwnd = 10;
__u64 cwnd_events;

SEC("struct_ops")
void BPF_PROG(skel_init, struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	tp->snd_cwnd = init_cwnd;
}

SEC("struct_ops")
__u32 BPF_PROG(skel_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	return max(tp->snd_cwnd >> 1U, 2U);
}

SEC("struct_ops")
void BPF_PROG(skel_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	if (tp->snd_cwnd < tp->snd_ssthresh)
		tp->snd_cwnd = min(tp->snd_cwnd + acked, tp->snd_cwnd_clamp);
	else
		tp->snd_cwnd_cnt++;
}

SEC("struct_ops")
void BPF_PROG(skel_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	cwnd_events++;
}

SEC("struct_ops")
__u32 BPF_PROG(skel_undo_cwnd, struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	return tp->snd_cwnd;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops skel_cc = {
	.init = (void *)skel_init,
	.ssthresh = (void *)skel_ssthresh,
	.cong_avoid = (void *)skel_cong_avoid,
	.cwnd_event = (void *)skel_cwnd_event,
	.undo_cwnd = (void *)skel_undo_cwnd,
	.name = "bpfskel_cc",
};

char LICENSE[] SEC("license") = "GPL";
