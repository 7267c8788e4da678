//go:build linux

package bpfskel

import "testing"

// Global variables, read and written three ways in one run, on a __u64 at
// the start of a 1 MiB .bss and on one in an 8-byte .data:
//   - bpfskel: AtomicVar (and Var) touch only the variable's bytes;
//   - cilium: (*ebpf.Variable).Get/Set;
//   - view: the section-wide View.Get, which copies the whole section.

var sinkU64 uint64

func BenchmarkGlobalRead(b *testing.B) {
	g := loadGlobals(b)
	vars := g.c.Collection().Variables
	b.Run("1MiB-section/bpfskel-AtomicVar", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkU64 = g.counter.Load()
		}
	})
	b.Run("1MiB-section/bpfskel-Var", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkU64 = g.plain.Load()
		}
	})
	b.Run("1MiB-section/cilium-Variable.Get", func(b *testing.B) {
		b.ReportAllocs()
		v := vars["counter"]
		for b.Loop() {
			if err := v.Get(&sinkU64); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("1MiB-section/bpfskel-View.Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := g.bss.Get(0)
			if err != nil {
				b.Fatal(err)
			}
			sinkU64 = s.Counter
		}
	})
	b.Run("8B-section/bpfskel-AtomicVar", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkU64 = g.small.Load()
		}
	})
	b.Run("8B-section/cilium-Variable.Get", func(b *testing.B) {
		b.ReportAllocs()
		v := vars["small_counter"]
		for b.Loop() {
			if err := v.Get(&sinkU64); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("8B-section/bpfskel-View.Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := g.data.Get(0)
			if err != nil {
				b.Fatal(err)
			}
			sinkU64 = s.SmallCounter
		}
	})
}

func BenchmarkGlobalWrite(b *testing.B) {
	g := loadGlobals(b)
	vars := g.c.Collection().Variables
	b.Run("bpfskel-AtomicVar.Store", func(b *testing.B) {
		b.ReportAllocs()
		var i uint64
		for b.Loop() {
			i++
			g.counter.Store(i)
		}
	})
	b.Run("bpfskel-Var.Store", func(b *testing.B) {
		b.ReportAllocs()
		var i uint64
		for b.Loop() {
			i++
			g.plain.Store(i)
		}
	})
	b.Run("cilium-Variable.Set", func(b *testing.B) {
		b.ReportAllocs()
		v := vars["counter"]
		var i uint64
		for b.Loop() {
			i++
			if err := v.Set(i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bpfskel-AtomicVar.Add", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g.counter.Add(1)
		}
	})
}
