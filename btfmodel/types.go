package btfmodel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// maxTypeSize is the largest size BTF can express: sizes are 32-bit.
const maxTypeSize = 1<<32 - 1

// maxGoTypeSize is the largest type the model declares: Go cannot declare a
// type of 2 GiB or more on 32-bit platforms, where generated code must
// compile too. (No BPF map value or data section can be that large.)
const maxGoTypeSize = 1<<31 - 1

// maxDepth bounds how deeply types may nest; BTF without pointers cannot
// form cycles, but a crafted object must fail cleanly, not exhaust the stack.
const maxDepth = 64

// typer converts BTF types into Go type expressions and declarations.
type typer struct {
	n      *namer
	decls  map[btf.Type]*Decl
	aligns map[btf.Type]int // cAlign of structs and unions
	order  []*Decl
	busy   map[*Decl]bool // declarations being laid out
}

func newTyper(n *namer) *typer {
	return &typer{n: n, decls: map[btf.Type]*Decl{}, aligns: map[btf.Type]int{}, busy: map[*Decl]bool{}}
}

var (
	byteType = &Type{Kind: Basic, Basic: "byte"}
)

func basic(name string) *Type { return &Type{Kind: Basic, Basic: name} }

func bytesOf(n int) *Type { return &Type{Kind: Array, Len: n, Elem: byteType} }

// skipQualifiers strips const, volatile, restrict and type tags.
func skipQualifiers(t btf.Type) btf.Type {
	for i := 0; i < maxDepth; i++ {
		switch q := t.(type) {
		case *btf.Const:
			t = q.Type
		case *btf.Volatile:
			t = q.Type
		case *btf.Restrict:
			t = q.Type
		case *btf.TypeTag:
			t = q.Type
		default:
			return t
		}
	}
	return t
}

// cname is how a BTF type is spelled in C, for messages.
func cname(t btf.Type) string {
	switch v := t.(type) {
	case *btf.Struct:
		return "struct " + nameOrAnon(v.Name)
	case *btf.Union:
		return "union " + nameOrAnon(v.Name)
	case *btf.Enum:
		return "enum " + nameOrAnon(v.Name)
	case *btf.Fwd:
		return v.Kind.String() + " " + Display(v.Name)
	case nil:
		return "<nil>"
	}
	if n := t.TypeName(); n != "" {
		return Display(n)
	}
	return fmt.Sprintf("%T", t)
}

func nameOrAnon(n string) string {
	if n == "" {
		return "(anonymous)"
	}
	return Display(n)
}

// Display renders an untrusted C name for a message or a comment: as it is
// when it is plain (ASCII letters, digits, '_', '.', '-'), else quoted and
// escaped, so that no name can end a comment line, forge terminal output or
// blur into the text around it.
func Display(n string) string {
	for _, r := range n {
		if !isASCIILetter(r) && !isDigit(r) && r != '_' && r != '.' && r != '-' {
			return strconv.QuoteToASCII(n)
		}
	}
	return n
}

// goType returns the Go type for t. hint names anonymous struct, union and
// enum types after where they were found; note explains a fallback.
func (ty *typer) goType(t btf.Type, hint, where string, depth int) (typ *Type, note string, err error) {
	if depth > maxDepth {
		return nil, "", fmt.Errorf("types nest deeper than %d levels: a loop in the BTF, or a damaged object", maxDepth)
	}
	t = skipQualifiers(t)
	switch v := t.(type) {
	case *btf.Typedef:
		target := skipQualifiers(v.Type)
		if isAnonDecl(target) {
			// typedef struct { ... } foo_t: the typedef names the type.
			d, err := ty.decl(target, v.Name, "behind typedef "+v.Name, depth+1)
			if err != nil {
				return nil, "", err
			}
			return &Type{Kind: Named, Decl: d}, "", nil
		}
		return ty.goType(target, hint, where, depth+1)

	case *btf.Int:
		return intType(v)

	case *btf.Float:
		switch v.Size {
		case 4:
			return basic("float32"), "", nil
		case 8:
			return basic("float64"), "", nil
		}
		return bytesOf(int(v.Size)), fmt.Sprintf("%d-byte float kept as bytes", v.Size), nil

	case *btf.Pointer:
		// BPF is a 64-bit target: a pointer is 8 bytes whatever the host.
		return basic("uint64"), "C pointer, kept as its 64-bit value", nil

	case *btf.Array:
		elem, note, err := ty.goType(v.Type, hint, where, depth+1)
		if err != nil {
			return nil, "", err
		}
		if es := sizeOf(elem); es > 0 && uint64(v.Nelems) > maxTypeSize/uint64(es) {
			return nil, "", fmt.Errorf("array of %d elements of %d bytes is larger than any BTF type can be (4 GiB)", v.Nelems, es)
		} else if total := uint64(v.Nelems) * uint64(es); total > maxGoTypeSize {
			return nil, "", fmt.Errorf("array of %d elements of %d bytes is %d bytes; Go cannot declare a type of 2 GiB or more on 32-bit platforms", v.Nelems, es, total)
		}
		return &Type{Kind: Array, Len: int(v.Nelems), Elem: elem}, note, nil

	case *btf.Struct, *btf.Union, *btf.Enum:
		d, err := ty.decl(v, hint, where, depth+1)
		if err != nil {
			return nil, "", err
		}
		return &Type{Kind: Named, Decl: d}, "", nil

	case *btf.Fwd:
		return nil, "", fmt.Errorf("%s is only declared, never defined, so its layout is unknown; include its definition in the BPF program", cname(v))

	case *btf.Void:
		return nil, "", errors.New("type void has no layout")

	case *btf.Const, *btf.Volatile, *btf.Restrict, *btf.TypeTag:
		// skipQualifiers gave up.
		return nil, "", fmt.Errorf("qualifiers (const, volatile, restrict, type tags) nest deeper than %d levels: a loop in the BTF, or a damaged object", maxDepth)
	}
	return nil, "", fmt.Errorf("%s (%T) cannot be mirrored in Go", cname(t), t)
}

func isAnonDecl(t btf.Type) bool {
	switch v := t.(type) {
	case *btf.Struct:
		return v.Name == ""
	case *btf.Union:
		return v.Name == ""
	case *btf.Enum:
		return v.Name == ""
	}
	return false
}

func intType(v *btf.Int) (*Type, string, error) {
	switch {
	case v.Encoding == btf.Bool && v.Size == 1:
		return basic("bool"), "", nil
	case v.Name == "char" && v.Size == 1:
		// Plain char is signed on BPF, but it holds text: byte makes
		// []byte and string conversions free. signed char stays int8.
		return byteType, "", nil
	}
	switch v.Size {
	case 1, 2, 4, 8:
		prefix := "uint"
		if v.Encoding == btf.Signed {
			prefix = "int"
		}
		return basic(fmt.Sprintf("%s%d", prefix, v.Size*8)), "", nil
	case 16:
		if v.Encoding == btf.Signed {
			return &Type{Kind: Runtime, Basic: "Int128"}, "", nil
		}
		return &Type{Kind: Runtime, Basic: "Uint128"}, "", nil
	}
	return nil, "", fmt.Errorf("integer %s has a size of %d bytes, which no Go type has", Display(v.Name), v.Size)
}

// sizeOf is the byte size of a Go type as the model lays it out.
func sizeOf(t *Type) int {
	switch t.Kind {
	case Array:
		return t.Len * sizeOf(t.Elem)
	case Named:
		return t.Decl.Size
	case Runtime:
		switch t.Basic {
		case rawEventName:
			return 0 // a raw record's size is the record's
		case stackBuildIDName:
			return stackBuildIDSize
		}
		return 16 // Uint128, Int128
	}
	switch t.Basic {
	case "bool", "byte", "int8", "uint8":
		return 1
	case "int16", "uint16":
		return 2
	case "int32", "uint32", "float32":
		return 4
	}
	return 8
}

// alignOf is the largest alignment Go gives t on any GOARCH (amd64's: 8 for
// 64-bit types; 386 and arm give 4, which never adds padding that amd64 does
// not).
func alignOf(t *Type) int {
	switch t.Kind {
	case Array:
		return alignOf(t.Elem)
	case Named:
		return t.Decl.Align
	case Runtime:
		return 8 // two uint64 halves; StackBuildID's union
	}
	return sizeOf(t)
}

// isScalar reports whether t is read whole by an Unaligned accessor.
func isScalar(t *Type) bool {
	switch t.Kind {
	case Basic, Runtime:
		return true
	case Named:
		return t.Decl.Kind == Enum
	}
	return false
}

// cAlign is the alignment C gives t on the BPF target, as its BTF implies
// it: the natural alignment of scalars (16 for __int128, as clang gives
// it), the largest member alignment of structs and unions, and 1 for a
// packed struct or union (one whose members or size break natural
// alignment; libbpf's btf_dump uses the same rule). BTF does not record
// aligned(N), so an over-aligned type is only seen through the offsets and
// padding it causes, which the layout reproduces.
func (ty *typer) cAlign(t btf.Type, depth int) int {
	if depth > maxDepth {
		return 1
	}
	t = skipQualifiers(t)
	switch v := t.(type) {
	case *btf.Typedef:
		return ty.cAlign(v.Type, depth+1)
	case *btf.Int:
		return max(1, int(v.Size))
	case *btf.Float:
		return max(1, int(v.Size))
	case *btf.Enum:
		return max(1, int(v.Size))
	case *btf.Pointer:
		return 8
	case *btf.Array:
		return ty.cAlign(v.Type, depth+1)
	case *btf.Struct:
		return ty.compositeAlign(v, v.Members, v.Size, depth)
	case *btf.Union:
		return ty.compositeAlign(v, v.Members, v.Size, depth)
	}
	return 1
}

func (ty *typer) compositeAlign(t btf.Type, members []btf.Member, size uint32, depth int) int {
	if a, ok := ty.aligns[t]; ok {
		return a
	}
	a := 1
	for _, m := range members {
		ma := ty.cAlign(m.Type, depth+1)
		if m.BitfieldSize == 0 && (m.Offset%8 != 0 || uint32(m.Offset/8)%uint32(ma) != 0) {
			a = 0 // packed
			break
		}
		a = max(a, ma)
	}
	if a == 0 || size%uint32(a) != 0 {
		a = 1
	}
	ty.aligns[t] = a
	return a
}

// decl returns the declaration for a struct, union or enum, creating it the
// first time the type is seen.
func (ty *typer) decl(t btf.Type, hint, where string, depth int) (*Decl, error) {
	if d, ok := ty.decls[t]; ok {
		if ty.busy[d] {
			// Reached again while laying it out: C cannot express this,
			// and Go would reject the recursive type.
			return nil, fmt.Errorf("%s contains itself; the BTF is damaged", cname(t))
		}
		return d, nil
	}
	d := &Decl{Desc: t}
	var name string
	switch v := t.(type) {
	case *btf.Struct:
		d.Kind, d.CKind, d.CName, d.Size = Struct, "struct", v.Name, int(v.Size)
	case *btf.Union:
		d.Kind, d.CKind, d.CName, d.Size = Union, "union", v.Name, int(v.Size)
	case *btf.Enum:
		d.Kind, d.CKind, d.CName, d.Size = Enum, "enum", v.Name, int(v.Size)
	}
	if d.Size > maxGoTypeSize {
		return nil, fmt.Errorf("%s: is %d bytes; Go cannot declare a type of 2 GiB or more on 32-bit platforms", cname(t), d.Size)
	}
	name = d.CName
	if name == "" {
		if hint == "" {
			return nil, fmt.Errorf("anonymous %s has nothing to be named after", d.CKind)
		}
		name = hint
		d.Origin = fmt.Sprintf("anonymous %s %s", d.CKind, where)
	}
	o := origin{kind: d.CKind, cname: name}
	if d.CName == "" {
		// Anonymous types are renamed by the name they were given.
		o.cname = hint
	}
	d.GoName = ty.n.name(o, name)
	ty.decls[t] = d
	ty.order = append(ty.order, d)

	var err error
	ty.busy[d] = true
	defer delete(ty.busy, d)
	switch v := t.(type) {
	case *btf.Struct:
		items, ferr := flatten(v.Members, 0, depth, false)
		if ferr != nil {
			return nil, fmt.Errorf("%s: %w", cname(t), ferr)
		}
		err = ty.layout(d, items, depth, ty.cAlign(v, depth))
	case *btf.Union:
		err = ty.layoutUnion(d, v, depth)
	case *btf.Enum:
		err = ty.layoutEnum(d, v)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cname(t), err)
	}
	return d, nil
}

// memberOrigin is the origin of a member of d: a variable when d is a data
// section, renamed with variable:NAME; else renamed with member:TYPE.NAME.
func memberOrigin(d *Decl, name string) origin {
	if d.CKind == "section" {
		return origin{kind: "variable", cname: name}
	}
	parent := d.CName
	if parent == "" {
		parent = d.GoName
	}
	return origin{kind: "member", cname: name, parent: parent}
}

// item is one thing to place in a struct: a member, a flattened member of an
// anonymous struct, an anonymous union, or a data section's variable.
type item struct {
	cname    string
	bitOff   uint32
	bitSize  uint32 // non-zero for bitfields
	typ      btf.Type
	embedded bool   // anonymous union member
	padNote  string // non-empty: the item is opaque padding (static variables)
	size     int    // padNote items only
}

// flatten expands the members of anonymous structs into their parent, as C
// does for name lookup. In a struct (inUnion false) an anonymous union stays
// one item, embedded so that its accessors are promoted; in a union every
// anonymous member is expanded, each becoming accessors over the union's
// storage.
func flatten(members []btf.Member, base uint32, depth int, inUnion bool) ([]item, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("types nest deeper than %d levels", maxDepth)
	}
	var items []item
	for _, m := range members {
		off := base + uint32(m.Offset)
		if m.Name == "" && m.BitfieldSize == 0 {
			switch v := skipQualifiers(m.Type).(type) {
			case *btf.Struct:
				sub, err := flatten(v.Members, off, depth+1, inUnion)
				if err != nil {
					return nil, err
				}
				items = append(items, sub...)
				continue
			case *btf.Union:
				if inUnion {
					sub, err := flatten(v.Members, off, depth+1, true)
					if err != nil {
						return nil, err
					}
					items = append(items, sub...)
					continue
				}
				items = append(items, item{typ: v, bitOff: off, embedded: true})
				continue
			}
		}
		items = append(items, item{cname: m.Name, bitOff: off, bitSize: uint32(m.BitfieldSize), typ: m.Type})
	}
	return items, nil
}

// firstName is the C name of the first named member of an anonymous union,
// looking into anonymous members: what the union's Go name is made from, so
// that it depends only on the union itself.
func firstName(u *btf.Union) string {
	var walk func(ms []btf.Member, depth int) string
	walk = func(ms []btf.Member, depth int) string {
		if depth > maxDepth {
			return ""
		}
		for _, m := range ms {
			if m.Name != "" {
				return m.Name
			}
			switch v := skipQualifiers(m.Type).(type) {
			case *btf.Struct:
				if n := walk(v.Members, depth+1); n != "" {
					return n
				}
			case *btf.Union:
				if n := walk(v.Members, depth+1); n != "" {
					return n
				}
			}
		}
		return ""
	}
	return walk(u.Members, 0)
}

// bitGroup is a run of bitfields sharing bytes: one storage field.
type bitGroup struct {
	start, end int // bytes
	names      []string
	accs       []*Accessor
	bitOffs    []uint32 // absolute bit offset of each accessor
}

// layout places items in d, a struct of d.Size bytes whose C alignment is
// calign: every byte is covered by exactly one field. Gaps become padding;
// bitfields and members Go cannot place get unexported byte storage and
// accessors.
func (ty *typer) layout(d *Decl, items []item, depth, calign int) error {
	fields := ty.n.scope(fmt.Sprintf("%s %s", d.CKind, nameOrAnon(d.CName)))
	d.CAlign = calign
	cursor := 0
	pad := func(from, to int, note string) {
		if to > from {
			d.Fields = append(d.Fields, &Field{GoName: "_", Offset: from, Size: to - from, Type: bytesOf(to - from), Note: note})
		}
	}
	claim := func(a *Accessor) {
		o := memberOrigin(d, a.CName)
		if a.Setter != "" {
			fields.addAccessor(&a.GoName, &a.Setter, o)
		} else {
			fields.add(&a.GoName, o)
		}
	}
	var group *bitGroup
	flush := func() {
		if group == nil {
			return
		}
		pad(cursor, group.start, "")
		storage := fmt.Sprintf("raw%d", group.start)
		note := "bitfields " + strings.Join(group.names, ", ")
		d.Fields = append(d.Fields, &Field{GoName: storage, Offset: group.start, Size: group.end - group.start,
			Type: bytesOf(group.end - group.start), Note: note + ": read and write them through the accessors"})
		for i, a := range group.accs {
			a.Storage, a.BitOff = storage, int(group.bitOffs[i])-8*group.start
			d.Accessors = append(d.Accessors, a)
		}
		cursor = group.end
		group = nil
	}
	for _, it := range items {
		if it.bitSize > 0 || it.bitOff%8 != 0 {
			if it.bitSize == 0 {
				return fmt.Errorf("member %q starts at bit %d, inside a byte, without being a bitfield", it.cname, it.bitOff)
			}
			start := int(it.bitOff / 8)
			end := int((uint64(it.bitOff) + uint64(it.bitSize) + 7) / 8)
			if end > d.Size {
				return fmt.Errorf("bitfield %q ends at byte %d, past the end of the %d-byte type", it.cname, end, d.Size)
			}
			if group != nil && start >= group.end {
				flush()
			}
			if start < cursor {
				return fmt.Errorf("bitfield %q overlaps the member before it", it.cname)
			}
			if group == nil {
				group = &bitGroup{start: start, end: end}
			}
			group.end = max(group.end, end)
			if it.cname == "" {
				continue // unnamed bitfield: padding bits
			}
			group.names = append(group.names, fmt.Sprintf("%s:%d", Display(it.cname), it.bitSize))
			a, err := ty.bitAccessor(d, it, depth)
			if err != nil {
				return err
			}
			if a == nil {
				continue
			}
			claim(a)
			group.accs = append(group.accs, a)
			group.bitOffs = append(group.bitOffs, it.bitOff)
			continue
		}
		off := int(it.bitOff / 8)
		if group != nil && off >= group.end {
			flush()
		}
		if off < cursor || group != nil {
			return fmt.Errorf("member %q at offset %d overlaps the member before it", it.cname, off)
		}

		if it.padNote != "" {
			pad(cursor, off, "")
			pad(off, off+it.size, it.padNote)
			cursor = off + it.size
			continue
		}

		f := &Field{CName: it.cname, Offset: off}
		hint := d.GoName + Identifier(it.cname)
		where := fmt.Sprintf("in member %q of %s %s", it.cname, d.CKind, nameOrAnon(d.CName))
		if it.embedded {
			// Named after the parent and the union's first member: the
			// name does not depend on any other type of the object.
			first := firstName(it.typ.(*btf.Union))
			if first == "" {
				first = fmt.Sprintf("At%d", off)
			}
			hint = d.GoName + Identifier(first) + "Union"
			where = fmt.Sprintf("in %s %s", d.CKind, nameOrAnon(d.CName))
		}
		typ, note, err := ty.goType(it.typ, hint, where, depth+1)
		if err != nil {
			return fmt.Errorf("member %q: %w", it.cname, err)
		}
		f.Type, f.Note, f.Size = typ, note, sizeOf(typ)
		if f.Size == 0 {
			// A flexible array member or an empty struct: Go pads a
			// trailing zero-size field, so it has no field.
			if typ.Kind == Array && sizeOf(typ.Elem) > 0 && !it.embedded {
				a := &Accessor{Kind: Tail, CName: it.cname, GoName: ty.n.name(memberOrigin(d, it.cname), it.cname), Type: typ.Elem, Offset: off}
				claim(a)
				d.Accessors = append(d.Accessors, a)
				d.Notes = append(d.Notes, fmt.Sprintf("flexible array member %q has no storage: %s(buf) returns its elements from byte %d of a record in buf", it.cname, a.GoName, off))
				continue
			}
			d.Notes = append(d.Notes, fmt.Sprintf("zero-size member %q (an empty struct or array) has no storage", it.cname))
			continue
		}
		if off+f.Size > d.Size {
			return fmt.Errorf("member %q ends at byte %d, past the end of the %d-byte type", it.cname, off+f.Size, d.Size)
		}
		pad(cursor, off, "")
		if ga := alignOf(typ); off%ga != 0 || calign%ga != 0 {
			// Go cannot place the member here (a packed struct, or an
			// offset its Go type cannot have): its bytes, with accessors.
			a := &Accessor{Kind: Copy, CName: it.cname, Type: typ, Offset: 0}
			if isScalar(typ) {
				a.Kind = Unaligned
			}
			if it.embedded {
				a.GoName = typ.Decl.GoName
				d.Notes = append(d.Notes, fmt.Sprintf("the anonymous union at offset %d is misaligned: its members are read through %s()", off, a.GoName))
			} else {
				a.GoName = ty.n.name(memberOrigin(d, it.cname), it.cname)
			}
			a.Setter = "Set" + a.GoName
			a.Storage = fmt.Sprintf("raw%d", off)
			claim(a)
			d.Accessors = append(d.Accessors, a)
			f.GoName, f.CName, f.Type = a.Storage, "", bytesOf(f.Size)
			f.Note = joinNotes(note, fmt.Sprintf("member %s (%s), misaligned for Go: read and write it through the accessors", Display(it.cname), typeName(typ)))
			d.Fields = append(d.Fields, f)
			cursor = off + f.Size
			continue
		}
		if it.embedded {
			f.GoName, f.Embedded = typ.Decl.GoName, true
			fields.addPinned(&f.GoName, origin{kind: "union", cname: hint}, func() string { return typ.Decl.GoName })
			// Its accessors are promoted into this struct: they share the
			// struct's namespace, as the members do in C. The union's
			// scope names them; here they are fixed.
			for _, m := range typ.Decl.Members {
				fields.addPinned(nil, memberOrigin(typ.Decl, m.CName), func() string { return m.GoName })
				fields.addPinned(nil, memberOrigin(typ.Decl, m.CName), func() string { return m.Setter })
			}
			for _, a := range typ.Decl.Accessors {
				fields.addPinned(nil, memberOrigin(typ.Decl, a.CName), func() string { return a.GoName })
				if a.Setter != "" {
					fields.addPinned(nil, memberOrigin(typ.Decl, a.CName), func() string { return a.Setter })
				}
			}
		} else {
			o := memberOrigin(d, it.cname)
			f.GoName = ty.n.name(o, it.cname)
			fields.add(&f.GoName, o)
		}
		d.Fields = append(d.Fields, f)
		cursor = off + f.Size
	}
	flush()
	pad(cursor, d.Size, "")
	d.Align = 1
	for _, f := range d.Fields {
		d.Align = max(d.Align, alignOf(f.Type))
	}
	if d.Size%d.Align != 0 {
		if d.CKind != "section" {
			return fmt.Errorf("its size of %d bytes is not a multiple of its %d-byte alignment", d.Size, d.Align)
		}
		// A section's value lives in an array map slot of
		// roundup(size, 8) bytes: Go's tail padding fits in it.
		d.DataSize = d.Size
		d.Size = roundUp(d.Size, d.Align)
		pad(d.DataSize, d.Size, fmt.Sprintf("Go's tail padding: the section is %d bytes, its map value slot %d", d.DataSize, roundUp(d.DataSize, 8)))
	}
	return nil
}

func roundUp(x, a int) int { return (x + a - 1) / a * a }

// typeName is how a model type reads in a note.
func typeName(t *Type) string {
	switch t.Kind {
	case Array:
		return fmt.Sprintf("[%d]%s", t.Len, typeName(t.Elem))
	case Named:
		return t.Decl.GoName
	case Runtime:
		return "bpfskel." + t.Basic
	}
	return t.Basic
}

// bitAccessor is the accessor of a named bitfield, without its storage; nil
// (with a note on d) when its type has no Go integer that holds it.
func (ty *typer) bitAccessor(d *Decl, it item, depth int) (*Accessor, error) {
	a := &Accessor{Kind: Bitfield, CName: it.cname, BitSize: int(it.bitSize)}
	t := skipQualifiers(it.typ)
	for i := 0; i < maxDepth; i++ {
		td, ok := t.(*btf.Typedef)
		if !ok {
			break
		}
		t = skipQualifiers(td.Type)
	}
	switch v := t.(type) {
	case *btf.Int:
		switch {
		case v.Encoding == btf.Bool:
			a.Type = basic("bool")
		case v.Size <= 8:
			prefix := "uint"
			if v.Encoding == btf.Signed {
				prefix, a.Signed = "int", true
			}
			a.Type = basic(fmt.Sprintf("%s%d", prefix, max(1, v.Size)*8))
		}
	case *btf.Enum:
		typ, _, err := ty.goType(v, d.GoName+Identifier(it.cname), fmt.Sprintf("of bitfield %q of %s %s", it.cname, d.CKind, nameOrAnon(d.CName)), depth+1)
		if err != nil {
			return nil, fmt.Errorf("bitfield %q: %w", it.cname, err)
		}
		a.Type, a.Signed = typ, v.Signed
	}
	if a.Type == nil || it.bitSize > 64 || int(it.bitSize) > 8*sizeOf(a.Type) {
		d.Notes = append(d.Notes, fmt.Sprintf("bitfield %q (%d bits of %s) has no Go integer type and no accessor", it.cname, it.bitSize, cname(it.typ)))
		return nil, nil
	}
	a.GoName = ty.n.name(memberOrigin(d, it.cname), it.cname)
	a.Setter = "Set" + a.GoName
	return a, nil
}

func joinNotes(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// layoutUnion gives a union one accessor pair per member: a Member when Go
// can read the member in place, an Accessor over the storage otherwise
// (bitfields, members misaligned for Go).
func (ty *typer) layoutUnion(d *Decl, u *btf.Union, depth int) error {
	items, err := flatten(u.Members, 0, depth, true)
	if err != nil {
		return err
	}
	calign := ty.cAlign(u, depth)
	d.CAlign = calign
	methods := ty.n.scope(fmt.Sprintf("the methods of union %s", nameOrAnon(d.CName)))
	claim := func(getter, setter *string, cname string) {
		if *setter != "" {
			methods.addAccessor(getter, setter, memberOrigin(d, cname))
		} else {
			methods.add(getter, memberOrigin(d, cname))
		}
	}
	d.Align = 1
	for _, it := range items {
		if it.bitSize > 0 || it.bitOff%8 != 0 {
			if it.bitSize == 0 {
				return fmt.Errorf("member %q starts at bit %d, inside a byte, without being a bitfield", it.cname, it.bitOff)
			}
			if uint64(it.bitOff)+uint64(it.bitSize) > uint64(d.Size)*8 {
				return fmt.Errorf("bitfield %q ends past the end of the %d-byte union", it.cname, d.Size)
			}
			if it.cname == "" {
				continue
			}
			a, err := ty.bitAccessor(d, it, depth)
			if err != nil {
				return err
			}
			if a != nil {
				a.Storage, a.BitOff = UnionStorage, int(it.bitOff)
				claim(&a.GoName, &a.Setter, a.CName)
				d.Accessors = append(d.Accessors, a)
			}
			continue
		}
		off := int(it.bitOff / 8)
		hint := d.GoName + Identifier(it.cname)
		where := fmt.Sprintf("in member %q of union %s", it.cname, nameOrAnon(d.CName))
		typ, note, err := ty.goType(it.typ, hint, where, depth+1)
		if err != nil {
			return fmt.Errorf("member %q: %w", it.cname, err)
		}
		size := sizeOf(typ)
		switch {
		case size == 0:
			d.Notes = append(d.Notes, fmt.Sprintf("zero-size member %q has no accessor", it.cname))
			continue
		case off+size > d.Size:
			return fmt.Errorf("member %q ends at byte %d, past the end of the %d-byte union", it.cname, off+size, d.Size)
		}
		name := ty.n.name(memberOrigin(d, it.cname), it.cname)
		if ga := alignOf(typ); off%ga != 0 || calign%ga != 0 {
			a := &Accessor{Kind: Copy, CName: it.cname, GoName: name, Setter: "Set" + name, Type: typ, Storage: UnionStorage, Offset: off}
			if isScalar(typ) {
				a.Kind = Unaligned
			}
			claim(&a.GoName, &a.Setter, a.CName)
			d.Accessors = append(d.Accessors, a)
			continue
		}
		m := &Member{CName: it.cname, GoName: name, Setter: "Set" + name, Offset: off, Type: typ, Note: note}
		claim(&m.GoName, &m.Setter, m.CName)
		d.Align = max(d.Align, alignOf(typ))
		d.Members = append(d.Members, m)
	}
	return nil
}

func (ty *typer) layoutEnum(d *Decl, e *btf.Enum) error {
	switch e.Size {
	case 1, 2, 4, 8:
	default:
		return fmt.Errorf("its size of %d bytes has no Go integer type", e.Size)
	}
	prefix := "uint"
	if e.Signed {
		prefix = "int"
	}
	d.Underlying = fmt.Sprintf("%s%d", prefix, e.Size*8)
	d.Align = int(e.Size)
	strip := strings.ToUpper(e.Name) + "_"
	for _, v := range e.Values {
		base := v.Name
		if e.Name != "" && strings.HasPrefix(strings.ToUpper(base), strip) && len(base) > len(strip) {
			base = base[len(strip):]
		}
		// Constants are package-level: the enum's name prefixes derived
		// names; a -rename value:NAME gives the whole name.
		goName, renamed := ty.n.rename(origin{kind: "enum value", cname: v.Name}, base)
		if !renamed {
			goName = d.GoName + goName
		}
		d.Values = append(d.Values, &EnumValue{CName: v.Name, GoName: goName, Value: v.Value, Signed: e.Signed})
	}
	return nil
}
