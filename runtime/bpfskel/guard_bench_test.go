//go:build linux

package bpfskel

import "testing"

// BenchmarkCloseGuard measures what every typed map operation adds for
// Close safety (Collection.enter and exit), alone, without a system call,
// uncontended and with every CPU entering at once.
func BenchmarkCloseGuard(b *testing.B) {
	c := &Collection{}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if !c.enter() {
				b.Fatal("closed")
			}
			c.exit()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !c.enter() {
					b.Fatal("closed")
				}
				c.exit()
			}
		})
	})
}
