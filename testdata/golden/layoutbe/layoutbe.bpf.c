//go:build ignore

// The layout program built for a big-endian BPF target (-target bpfeb, set
// for this directory in the Makefile): its skeleton places every bitfield,
// 128-bit integer and misaligned member as a big-endian compiler does.
#include "../layout/layout.bpf.c"
