package btfmodel

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/google/go-cmp/cmp"
)

// resolveNames claims the C names of kind in one scope, in the order given,
// resolves it and returns the final Go name of each and the notes.
func resolveNames(t *testing.T, kind string, cnames []string, reserved ...string) (map[string]string, []string) {
	t.Helper()
	n := newNamer(nil)
	s := n.scope("the test scope")
	for _, r := range reserved {
		s.reserve(r, "the generated "+r)
	}
	got := map[string]string{}
	ids := make([]string, len(cnames))
	for i, c := range cnames {
		o := origin{kind: kind, cname: c}
		ids[i] = n.name(o, c)
		s.add(&ids[i], o)
	}
	n.resolve()
	if err := n.err(); err != nil {
		t.Fatalf("%q: %v", cnames, err)
	}
	for i, c := range cnames {
		got[c] = ids[i]
	}
	return got, n.notes
}

// rotations are every rotation of s and of s reversed: enough orders to
// catch a rule that depends on the order of the object.
func rotations(s []string) [][]string {
	var out [][]string
	for _, base := range [][]string{s, reversed(s)} {
		for i := range base {
			out = append(out, append(append([]string(nil), base[i:]...), base[:i]...))
		}
	}
	return out
}

func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}

func TestCollisionRule(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cnames   []string
		reserved []string
		want     map[string]string
		notes    int
	}{
		{"bpf2go's my_map and myMap", []string{"my_map", "myMap"}, nil,
			map[string]string{"myMap": "MyMap", "my_map": "My_map"}, 1},
		{"biotop's programs", []string{"__blk_account_io_start", "blk_account_io_start"}, nil,
			map[string]string{"blk_account_io_start": "BlkAccountIoStart", "__blk_account_io_start": "X__blk_account_io_start"}, 1},
		{"case only: the exact spelling keeps it", []string{"close", "Close"}, nil,
			map[string]string{"Close": "Close", "close": "Xclose"}, 1},
		{"the alternative is taken too", []string{"close", "Close", "Xclose"}, nil,
			map[string]string{"Close": "Close", "Xclose": "Xclose", "close": "Xclose_2"}, 1},
		{"three ways to one name", []string{"My_map", "my_map", "myMap"}, nil,
			map[string]string{"myMap": "MyMap", "My_map": "My_map", "my_map": "Xmy_map"}, 2},
		{"no letters, a leading digit, nothing ASCII", []string{"___", "123", "é", "1_2"}, nil,
			map[string]string{"___": "X_5f5f5f", "123": "X123", "é": "X_c3a9", "1_2": "X1_2"}, 4},
		{"a generated name", []string{"close", "maps"}, []string{"Close"},
			map[string]string{"close": "Xclose", "maps": "Maps"}, 1},
		{"no collision: no note", []string{"x_y", "xY"}, nil,
			map[string]string{"x_y": "X_y", "xY": "XY"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first []string
			for _, order := range rotations(tc.cnames) {
				got, notes := resolveNames(t, "map", order, tc.reserved...)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Fatalf("names for the order %q (-want +got):\n%s", order, diff)
				}
				if len(notes) != tc.notes {
					t.Fatalf("%d notes, want %d: %q", len(notes), tc.notes, notes)
				}
				if first == nil {
					first = notes
				} else if diff := cmp.Diff(first, notes); diff != "" {
					t.Fatalf("notes depend on the order %q:\n%s", order, diff)
				}
			}
		})
	}
}

func TestCollisionNotes(t *testing.T) {
	_, notes := resolveNames(t, "map", []string{"my_map", "myMap"})
	want := []string{`map "my_map" is named My_map: in the test scope, MyMap belongs to map "myMap"; choose the name with -rename map:my_map=NAME`}
	if diff := cmp.Diff(want, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	_, notes = resolveNames(t, "program", []string{"close"}, "Close")
	want = []string{`program "close" is named Xclose: in the test scope, Close is the generated Close; choose the name with -rename program:close=NAME`}
	if diff := cmp.Diff(want, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestCollisionsInTypes(t *testing.T) {
	// C allows a member and a member of an anonymous struct to differ only
	// in case; Go names them alike. The spelling that maps naturally keeps
	// the name.
	s := &btf.Struct{Name: "dup", Size: 8, Members: []btf.Member{
		member("my_field", u32, 0),
		member("", &btf.Struct{Size: 4, Members: []btf.Member{member("myField", u32, 0)}}, 4)}}
	d, n := declOf(t, s)
	n.resolve()
	if err := n.err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"My_field@0:uint32", "MyField@4:uint32"}, shape(d)); diff != "" {
		t.Errorf("dup (-want +got):\n%s", diff)
	}

	// Union accessors collide with setters: member "set_x" and the setter
	// of "x"; the getter and setter move together.
	u := &btf.Union{Name: "u", Size: 4, Members: []btf.Member{member("set_x", u32, 0), member("x", u32, 0)}}
	d, n = declOf(t, u)
	n.resolve()
	if err := n.err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Set_x/SetSet_x@0:uint32", "X/SetX@0:uint32"}, shape(d)); diff != "" {
		t.Errorf("union u (-want +got):\n%s", diff)
	}
	if len(n.notes) != 1 || !strings.Contains(n.notes[0], `member "set_x" of u is named Set_x`) {
		t.Errorf("notes = %q", n.notes)
	}

	// A member named like the anonymous union embedded beside it: the
	// embedded field must keep its type's name, the member moves.
	e := &btf.Struct{Name: "emb", Size: 8, Members: []btf.Member{
		member("", &btf.Union{Size: 4, Members: []btf.Member{member("a", u32, 0)}}, 0),
		member("EmbAUnion", u32, 4)}}
	d, n = declOf(t, e)
	n.resolve()
	if err := n.err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"EmbAUnion@0:EmbAUnion embedded", "XEmbAUnion@4:uint32"}, shape(d)); diff != "" {
		t.Errorf("emb (-want +got):\n%s", diff)
	}
}

// TestPromotedAccessorsArePinned: an embedded union's accessors are
// promoted into its parent struct and named by the union's own scope; a
// member of the parent with the same Go name moves, the accessor does not.
func TestPromotedAccessorsArePinned(t *testing.T) {
	s := &btf.Struct{Name: "p", Size: 8, Members: []btf.Member{
		member("", &btf.Union{Size: 4, Members: []btf.Member{member("x", u32, 0)}}, 0),
		member("X", u32, 4)}}
	d, n := declOf(t, s)
	n.resolve()
	if err := n.err(); err != nil {
		t.Fatal(err)
	}
	u := d.Fields[0].Type.Decl
	if got := shape(u); len(got) != 1 || !strings.HasPrefix(got[0], "X/SetX@0") {
		t.Errorf("union accessors %q, want X/SetX", got)
	}
	if got := d.Fields[1].GoName; got != "XX" {
		t.Errorf("member X of p is %s, want XX (X is the promoted accessor of the union)", got)
	}
}

func TestRenames(t *testing.T) {
	s := &btf.Struct{Name: "dup", Size: 8, Members: []btf.Member{member("my_field", u32, 0), member("myField", u32, 4)}}
	for _, tc := range []struct {
		renames map[string]string
		want    string // error; "" for none
		shape   []string
	}{
		{renames: map[string]string{"member:dup.myField": "Other"},
			shape: []string{"MyField@0:uint32", "Other@4:uint32"}},
		{renames: map[string]string{"member:dup.myField": "Other", "map:nope": "X"},
			want: "-rename map:nope matches nothing in the object"},
		// A rename is exactly the name asked for: meeting another name is
		// an error, whichever side derived it.
		{renames: map[string]string{"member:dup.my_field": "MyField"},
			want: `-rename member:dup.my_field=MyField gives member "my_field" of dup the Go name that member "myField" of dup has in struct dup; choose another name with -rename member:dup.my_field=NAME`},
		{renames: map[string]string{"member:dup.my_field": "Same", "member:dup.myField": "Same"},
			want: `member "myField" of dup cannot be Same in struct dup: Same belongs to member "my_field" of dup; choose the name with -rename member:dup.myField=NAME`},
	} {
		t.Run(fmt.Sprint(tc.renames), func(t *testing.T) {
			n := newNamer(tc.renames)
			typ, _, err := newTyper(n).goType(s, "", "", 0)
			if err != nil {
				t.Fatal(err)
			}
			n.resolve()
			err = n.err()
			if tc.want != "" {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("err = %v\nwant %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.shape, shape(typ.Decl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
