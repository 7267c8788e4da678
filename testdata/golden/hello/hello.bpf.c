//go:build ignore

#include "../../../examples/hello/hello.bpf.c"
