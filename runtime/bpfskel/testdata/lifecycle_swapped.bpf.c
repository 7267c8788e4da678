//go:build ignore

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * testdata/golden/lifecycle/lifecycle.bpf.c rebuilt with two .bss variables
 * swapped: what a developer gets by changing the C and rebuilding the
 * object without regenerating the skeleton. gen's stale-object test embeds
 * it under the lifecycle skeleton.
 */
#define LIFECYCLE_SWAPPED
#include "../../../testdata/golden/lifecycle/lifecycle.bpf.c"
