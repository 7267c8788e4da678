package gen_test

import (
	"testing"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/testdata/golden/collision"
)

// TestCollisionInKernel: the names the collision rule gave bind to the
// right C things: each Go name reaches the map, member and program whose C
// spelling the rule says.
func TestCollisionInKernel(t *testing.T) {
	skel := mustLoad(t, collision.Load)
	var p collision.Pair
	p.Xclose, p.Close = 1, 20 // C close, C Close
	p.U.SetX(300)
	if p.U.Set_x() != 300 {
		t.Fatalf("union member set_x reads %d, want 300 (it shares x's storage)", p.U.Set_x())
	}
	if err := skel.Maps.My_map.Update(0, p, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		prog bpfskel.AnyProgram
		ret  uint32
	}{
		{"__blk_account_io_start", skel.Programs.X__blk_account_io_start, 1},
		{"blk_account_io_start", skel.Programs.BlkAccountIoStart, 2},
	} {
		ret, err := tc.prog.Base().TestRun(nil)
		if err != nil {
			t.Fatal(err)
		}
		if ret != tc.ret {
			t.Errorf("program %s returned %d, want %d: the Go name is bound to the other program", tc.name, ret, tc.ret)
		}
	}
	got, err := skel.Maps.MyMap.Lookup(0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bones != 321 {
		t.Errorf("myMap[0].bones = %d, want 321 (close 1 + Close 20 + u.x 300, read from my_map)", got.Bones)
	}
}
