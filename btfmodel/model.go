// Package btfmodel turns a compiled BPF ELF object into a Go-oriented model:
// its maps, programs and data sections, and every type reachable from them,
// each with its C name, its final Go name and a worked-out layout.
//
// The model is what the emitter in package gen consumes. It owns naming and
// every input check, so that gen never re-reads raw BTF to decide anything.
// Every node keeps the cilium/ebpf value it came from as Desc, the way out for
// what the model does not say. Everything is sorted before Load returns.
package btfmodel

import (
	"encoding/binary"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Object is the model of one BPF ELF object.
type Object struct {
	// File is the object's file name as given to Load; it names the object in
	// errors and in generated comments.
	File      string
	ByteOrder binary.ByteOrder

	// Names are the package-level identifiers of the skeleton itself.
	Names SkeletonNames

	Maps     []*Map     // sorted by C name
	Programs []*Program // sorted by C name
	Sections []*Section // data sections with at least one global variable, sorted by C name
	Decls    []*Decl    // every declared Go type, sorted by Go name

	// Digest is the SHA-256 of the object's bytes: the generated skeleton
	// records it, and Open refuses an embedded object with another digest.
	Digest [32]byte

	// Notes lists what the object has and the skeleton does not mirror yet,
	// one sentence each, sorted.
	Notes []string

	// LoaderError is why cilium/ebpf's collection loader refuses the
	// object, when the model was read without it (see fallback.go); empty
	// when the loader accepts it. The skeleton's Open fails for the same
	// reason, but its types are valid.
	LoaderError string

	Desc *ebpf.CollectionSpec
}

// SkeletonNames are the generated identifiers that do not come from BTF.
type SkeletonNames struct {
	Skeleton string // the loaded skeleton type
	Maps     string // struct type holding every typed map handle
	Programs string // struct type holding every program handle
	Spec     string // the opened, not yet loaded object
	Open     string // func () (*Spec, error)
	Load     string // func (*LoadOptions) (*Skeleton, error)
	OpenMaps string // func (bpfskel.MapSource) (*bpfskel.Opened[Maps], error)
	Object   string // unexported variable holding the embedded ELF

	// Lifecycle names (btfmodel/lifecycle.go).
	MapSpecs     string // struct type holding every map's pre-load settings
	ProgramSpecs string // struct type holding every program's pre-load settings
	ObjectName   string // constant: the object's file name
}

// Handle is the runtime handle a map gets: the generic type bpfskel.Name
// instantiated with Args (in order), made by the bind function
// bpfskel.BindName. The zero Handle is a plain *ebpf.Map from
// bpfskel.BindUntypedMap, for map types with no typed handle.
type Handle struct {
	Name string
	Args []*Type
	// Extra are integer arguments of the bind call after the map's name:
	// BindRingBufTail takes the offset of the event's flexible array.
	Extra []int
}

// Typed reports whether the map gets a typed handle.
func (h Handle) Typed() bool { return h.Name != "" }

// Map is one map of the object (data sections are Sections, not Maps).
type Map struct {
	CName  string
	GoName string // field name in the Maps struct
	Handle Handle

	Type       ebpf.MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32

	// Key and Value are the Go types of keys and values; nil when the map
	// has no typed handle. Key is also nil for maps without keys (key_size
	// 0: queues, stacks, bloom filters).
	Key, Value *Type

	// ConstName is the exported constant holding CName.
	ConstName string

	// Inner is the inner map template of a map of maps
	// (__array(values, struct { ... })), with its own Key and Value; nil
	// for other maps.
	Inner *Map

	// Event is the Go type of the records of a ring buffer or perf event
	// array: the type named by -event, else the object's only candidate
	// event type, else the runtime's RawEvent. nil for other maps.
	Event *Type
	// EventTail is the byte offset of Event's trailing flexible array
	// member, whose contents follow the fixed part of each record; -1 when
	// it has none.
	EventTail int
	// EventSize is the size of Event in bytes (0 for RawEvent).
	EventSize int

	Desc *ebpf.MapSpec
}

// Program is one entry-point program of the object.
type Program struct {
	CName       string
	GoName      string // field name in the Programs struct
	SectionName string
	Type        ebpf.ProgramType
	AttachType  ebpf.AttachType
	AttachTo    string

	// ConstName is the exported constant holding CName.
	ConstName string

	Desc *ebpf.ProgramSpec
}

// Section is a global-data section (.bss, .data, .rodata, .data.*, .rodata.*)
// mirrored as one struct whose fields are its global variables.
type Section struct {
	CName  string // ".bss"
	GoName string // field name in the skeleton: "Bss"
	// Decl is the struct type mirroring the whole section; static variables
	// are padding in it.
	Decl *Decl
	// ReadOnly is true for .rodata* and .kconfig: the kernel freezes them
	// after load.
	ReadOnly bool
	// Frozen is true for .kconfig: the loader fills its __kconfig externs
	// from the running kernel and freezes it, and it cannot be mmapped, so
	// the skeleton reads it with one lookup (bpfskel.FrozenSection)
	// instead of a live view.
	Frozen bool

	// ConstName is the exported constant holding CName; VarsName is the
	// struct type with one live handle per variable of the section.
	ConstName, VarsName string

	Desc *ebpf.MapSpec
}

// TypeKind is the shape of a Go type expression.
type TypeKind int

const (
	// Basic is a predeclared Go type: uint32, int8, byte, bool, float64, ...
	Basic TypeKind = iota
	// Array is [Len]Elem.
	Array
	// Named refers to a declared type, Decl.
	Named
	// Runtime is a type of the runtime package bpfskel named Basic:
	// Uint128 or Int128, laid out in the object's byte order; RawEvent,
	// the record of a ring or perf buffer whose C type is unknown; or
	// StackBuildID, a frame of a stack trace map with build ids.
	Runtime
)

// Type is a Go type expression.
type Type struct {
	Kind  TypeKind
	Basic string // Basic: the predeclared type's name; Runtime: the runtime type's name
	Len   int    // Array
	Elem  *Type  // Array
	Decl  *Decl  // Named
}

// DeclKind is the kind of a declared Go type.
type DeclKind int

const (
	// Struct is a C struct, or a data section, mirrored as a Go struct.
	Struct DeclKind = iota
	// Union is a C union mirrored as raw storage with typed accessors.
	Union
	// Enum is a C enum mirrored as a defined integer type with constants.
	Enum
)

// Decl is a declared Go type.
type Decl struct {
	Kind   DeclKind
	CKind  string // "struct", "union", "enum", "section"
	CName  string // "" for anonymous C types
	GoName string
	// Origin says where an anonymous type was found, for doc comments:
	// "anonymous union in struct foo".
	Origin string

	Size  int // bytes, as in BTF; for a section, padded up to Align (see DataSize)
	Align int // the largest alignment Go gives it on any GOARCH
	// CAlign is the alignment C gives the type on the BPF target as its BTF
	// implies it (natural alignment, 1 when packed; BTF does not record
	// aligned(N)). Align always divides it.
	CAlign int
	// DataSize is a section's size in the object when Size adds Go's tail
	// padding to it; 0 otherwise.
	DataSize int

	Fields []*Field // Struct: in offset order, padding included, covering Size exactly

	Members []*Member // Union: one accessor pair each

	// Accessors read and write what no Go field can hold: bitfields,
	// members Go cannot align, flexible arrays. In a struct they work on
	// its unexported storage fields, in a union on its storage.
	Accessors []*Accessor

	Underlying string       // Enum: basic type
	Values     []*EnumValue // Enum: in BTF order

	// Notes say what of the C type is not mirrored field by field.
	Notes []string

	Desc btf.Type
}

// Field is one field of a mirrored struct.
type Field struct {
	GoName string // "_" for padding
	CName  string // "" for padding
	Offset int
	Size   int
	Type   *Type
	// Embedded fields are anonymous C unions inside a struct: the Go field is
	// embedded so that the union's accessors are promoted, as C promotes its
	// members.
	Embedded bool
	// Note explains a fallback: the storage of bitfields or of a misaligned
	// member (read through the Decl's Accessors), a pointer kept as an
	// integer, a static variable kept as padding.
	Note string
}

// Padding reports whether f is explicit padding.
func (f *Field) Padding() bool { return f.GoName == "_" }

// Member is one accessor pair of a union.
type Member struct {
	CName  string
	GoName string // getter; the setter is "Set" + GoName
	Setter string
	Offset int
	Type   *Type
	Note   string
}

// EnumValue is one constant of an enum.
type EnumValue struct {
	CName  string
	GoName string
	// Value holds the bits; Signed enums interpret them as int64.
	Value  uint64
	Signed bool
}

// UnionStorage is the unexported byte-array field holding a union's value.
const UnionStorage = "raw"

// AccessKind is how an Accessor reaches its value.
type AccessKind int

const (
	// Bitfield reads BitSize bits at bit BitOff of Storage (the target's bit
	// numbering), sign-extended when Signed.
	Bitfield AccessKind = iota
	// Unaligned reads a scalar (integer, float, bool, enum, 128-bit) from
	// the bytes of Storage at Offset in the object's byte order.
	Unaligned
	// Copy reads an aggregate (struct, union, array) from the bytes of
	// Storage at Offset, byte for byte.
	Copy
	// Tail is a flexible or zero-length trailing array: elements of Type
	// from byte Offset of a record held in a byte buffer to its end. It
	// has no storage in the struct and no setter.
	Tail
)

// Accessor is a getter (GoName) and setter (Setter) pair for a C member
// that no Go field can mirror.
type Accessor struct {
	Kind   AccessKind
	CName  string
	GoName string
	Setter string // "" for Tail
	Type   *Type  // the value's Go type; Tail: the element type
	// Storage is the Go field holding the bytes: an unexported byte array
	// of the struct, or UnionStorage. "" for Tail.
	Storage string
	Offset  int // bytes into Storage (Tail: into the record)
	BitOff  int // Bitfield: bits into Storage
	BitSize int // Bitfield: width, 1 to 64
	Signed  bool
}
