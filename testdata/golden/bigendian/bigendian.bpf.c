//go:build ignore

// The shapes program built for a big-endian BPF target (-target bpfeb,
// set for this directory in the Makefile): its skeleton is a _bpfeb.go file
// that builds only on big-endian GOARCHes.
#include "../shapes/shapes.bpf.c"
