package gen_test

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/testdata/golden/layout"
)

// FuzzDecodeGenerated: any bytes decode into the generated layout.Rec (a
// struct of bitfields, unions, packed members and 128-bit integers) when
// their length is its size, and fail with an error otherwise; every
// accessor reads the decoded value without panicking, and encoding gives
// the same bytes back. A flexible array record of any length never panics.
func FuzzDecodeGenerated(f *testing.F) {
	known := knownRec()
	seed := make([]byte, unsafe.Sizeof(known))
	if err := bpfskel.Encode(seed, &known); err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add(make([]byte, 17))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r layout.Rec
		err := bpfskel.Decode(b, &r)
		if (err == nil) != (uintptr(len(b)) == unsafe.Sizeof(r)) {
			t.Fatalf("%d bytes: %v", len(b), err)
		}
		if err == nil {
			for _, fl := range layoutFields() {
				_ = fl.differs(&r)
			}
			if out := encodeRec(t, &r); !bytes.Equal(out, b) {
				t.Fatalf("round trip:\n% x\n% x", b, out)
			}
		}
		var fx layout.Flex
		if bpfskel.DecodePrefix(b, &fx) == nil {
			_, _ = fx.Data(b)
		}
	})
}
