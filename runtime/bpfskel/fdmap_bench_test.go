//go:build linux

package bpfskel

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkFDMaps compares the descriptor-keyed and descriptor-valued
// handles with cilium/ebpf's generic calls and the raw syscall, in the
// layout of BenchmarkLookup: <operation>/<impl>.
func BenchmarkFDMaps(b *testing.B) {
	requireRawAttr(b)
	f := newSockFixture(b)
	sk, socks, fd := f.sk, f.socks, f.fd
	var key [8]byte

	b.Run("sk-storage-lookup/bpfskel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sk.Lookup(fd); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sk-storage-lookup/cilium-generic", func(b *testing.B) {
		b.ReportAllocs()
		k := int32(fd)
		var v owner
		for b.Loop() {
			if err := sk.Map().Lookup(&k, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sk-storage-lookup/raw-syscall", func(b *testing.B) {
		b.ReportAllocs()
		k := int32(fd)
		var v owner
		for b.Loop() {
			if errno := rawMapElem(unix.BPF_MAP_LOOKUP_ELEM, sk.Map().FD(), unsafe.Pointer(&k), unsafe.Pointer(&v), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
	b.Run("sockhash-cookie/bpfskel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := socks.Cookie(key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sockhash-cookie/cilium-generic", func(b *testing.B) {
		b.ReportAllocs()
		var v uint64
		for b.Loop() {
			if err := socks.Map().Lookup(&key, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sockhash-cookie/raw-syscall", func(b *testing.B) {
		b.ReportAllocs()
		var v uint64
		for b.Loop() {
			if errno := rawMapElem(unix.BPF_MAP_LOOKUP_ELEM, socks.Map().FD(), unsafe.Pointer(&key), unsafe.Pointer(&v), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
}
