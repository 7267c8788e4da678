package btfmodel

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	eventsObj    = "../runtime/bpfskel/testdata/events.bpf.o"
	eventtailObj = "../testdata/golden/eventtail/eventtail.bpf.o"
)

func loadObj(t *testing.T, path string, opts Options) (*Object, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Load("x.bpf.o", data, opts)
}

func mapByName(t *testing.T, obj *Object, name string) *Map {
	t.Helper()
	for _, m := range obj.Maps {
		if m.CName == name {
			return m
		}
	}
	t.Fatalf("no map %s", name)
	return nil
}

func declNames(obj *Object) []string {
	var names []string
	for _, d := range obj.Decls {
		names = append(names, d.GoName)
	}
	return names
}

// handleText spells a map's handle as gen would, for comparisons.
func handleText(m *Map) string {
	s := m.Handle.Name + "["
	for _, a := range m.Handle.Args {
		switch a.Kind {
		case Named:
			s += a.Decl.GoName
		case Runtime:
			s += "bpfskel." + a.Basic
		default:
			s += a.Basic
		}
	}
	s += "]"
	for _, x := range m.Handle.Extra {
		s += " " + strconv.Itoa(x)
	}
	return s
}

func TestEventTypes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		obj     string
		opts    Options
		handles map[string]string // map -> handle
		notes   []string          // substrings, one note each
	}{{
		name: "several candidates: raw records and a note",
		obj:  eventsObj,
		handles: map[string]string{
			"events":      "RingBuf[bpfskel.RawEvent]",
			"perf_events": "PerfEventArray[bpfskel.RawEvent]",
		},
		notes: []string{"map events: records are raw bytes (bpfskel.RawEvent, read with ReadRaw): the object names 3 candidate event types (struct bench_event, struct event, struct sample); give the type with -event events=NAME"},
	}, {
		name: "-event picks each map's type; a flexible array gives the Tail handle",
		obj:  eventsObj,
		opts: Options{Events: map[string]string{"events": "sample", "perf_events": "event", "bench_ring": "__u64"}},
		handles: map[string]string{
			"events":      "RingBufTail[Sample] 16",
			"perf_events": "PerfEventArray[Event]",
			"bench_ring":  "RingBuf[uint64]",
		},
	}, {
		name: "one candidate: every event map gets it, with no flag",
		obj:  eventtailObj,
		handles: map[string]string{
			"rb": "RingBufTail[ExecEvent] 8",
			"pb": "PerfEventArrayTail[ExecEvent] 8",
		},
	}, {
		name:    "a -type struct adds a candidate",
		obj:     eventtailObj,
		opts:    Options{Types: []string{"exec_phase"}},
		handles: map[string]string{"rb": "RingBufTail[ExecEvent] 8"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := loadObj(t, tc.obj, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.handles {
				if got := handleText(mapByName(t, obj, name)); got != want {
					t.Errorf("map %s: handle %s, want %s", name, got, want)
				}
			}
			for _, want := range tc.notes {
				if !slices.ContainsFunc(obj.Notes, func(n string) bool { return strings.Contains(n, want) }) {
					t.Errorf("no note says %q; notes:\n%s", want, strings.Join(obj.Notes, "\n"))
				}
			}
		})
	}
}

// TestMirroredWithoutReach: pointees of global pointers and named enums
// are declared although no map or global holds them by value; -type adds
// any named type; a pointer to a scalar declares nothing.
func TestMirroredWithoutReach(t *testing.T) {
	obj, err := loadObj(t, eventtailObj, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Addr", "Bss", "Data", "ExecEvent", "ExecPhase"}
	if diff := cmp.Diff(want, declNames(obj)); diff != "" {
		t.Errorf("declared types (-want +got):\n%s", diff)
	}

	obj, err = loadObj(t, eventsObj, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(declNames(obj), "ClassifyArgs") {
		t.Error("struct classify_args, used only in a function signature, is declared without -type")
	}
	obj, err = loadObj(t, eventsObj, Options{Types: []string{"classify_args", "__u32"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(declNames(obj), "ClassifyArgs") {
		t.Errorf("-type classify_args did not declare ClassifyArgs: %v", declNames(obj))
	}
	if !slices.ContainsFunc(obj.Notes, func(n string) bool {
		return n == "-type __u32: typedef __u32 is not a struct, union or enum; nothing is declared for it"
	}) {
		t.Errorf("no note for -type of a scalar typedef; notes:\n%s", strings.Join(obj.Notes, "\n"))
	}
}

func TestEventFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Types: []string{"nosuch"}}, "x.bpf.o: -type nosuch: no struct, union, enum or typedef called nosuch in the object's BTF; check the spelling, or make the program use the type"},
		{Options{Events: map[string]string{"nomap": "event"}}, "x.bpf.o: -event nomap=event: the object has no map called nomap; its ring buffers, user ring buffers and perf event arrays are: bench_ring, events, perf_events"},
		{Options{Events: map[string]string{".bss": "event"}}, "x.bpf.o: -event .bss=event: map .bss is a Array map, not a ring buffer, user ring buffer or perf event array"},
		{Options{Events: map[string]string{"events": "nosuch"}}, "x.bpf.o: -event events=nosuch: no struct, union, enum or typedef called nosuch"},
	} {
		_, err := loadObj(t, eventsObj, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%+v) = %v, want an error containing %q", tc.opts, err, tc.want)
		}
	}
}
