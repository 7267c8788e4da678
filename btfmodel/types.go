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

// maxDepth bounds how deeply types may nest; BTF without pointers cannot
// form cycles, but a crafted object must fail cleanly, not exhaust the stack.
const maxDepth = 64

// typer converts BTF types into Go type expressions and declarations.
type typer struct {
	n     *namer
	decls map[btf.Type]*Decl
	order []*Decl
}

func newTyper(n *namer) *typer {
	return &typer{n: n, decls: map[btf.Type]*Decl{}}
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
		return nil, "", fmt.Errorf("types nest deeper than %d levels", maxDepth)
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
		return bytesOf(16), fmt.Sprintf("C %s (128-bit) kept as 16 bytes in the object's byte order", v.Name), nil
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
		return 0 // RawEvent
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
	}
	return sizeOf(t)
}

// decl returns the declaration for a struct, union or enum, creating it the
// first time the type is seen.
func (ty *typer) decl(t btf.Type, hint, where string, depth int) (*Decl, error) {
	if d, ok := ty.decls[t]; ok {
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
	switch v := t.(type) {
	case *btf.Struct:
		err = ty.layoutStruct(d, v.Members, depth)
	case *btf.Union:
		err = ty.layoutUnion(d, v.Members, depth)
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
// does for name lookup. Anonymous unions stay one item.
func flatten(members []btf.Member, base uint32, depth int) ([]item, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("types nest deeper than %d levels", maxDepth)
	}
	var items []item
	for _, m := range members {
		off := base + uint32(m.Offset)
		if m.Name == "" && m.BitfieldSize == 0 {
			switch v := skipQualifiers(m.Type).(type) {
			case *btf.Struct:
				sub, err := flatten(v.Members, off, depth+1)
				if err != nil {
					return nil, err
				}
				items = append(items, sub...)
				continue
			case *btf.Union:
				items = append(items, item{typ: v, bitOff: off, embedded: true})
				continue
			}
		}
		items = append(items, item{cname: m.Name, bitOff: off, bitSize: uint32(m.BitfieldSize), typ: m.Type})
	}
	return items, nil
}

func (ty *typer) layoutStruct(d *Decl, members []btf.Member, depth int) error {
	items, err := flatten(members, 0, depth)
	if err != nil {
		return err
	}
	return ty.layout(d, items, depth)
}

// layout places items in d, a struct of d.Size bytes: every byte is covered
// by exactly one field, gaps and what Go cannot express become padding.
func (ty *typer) layout(d *Decl, items []item, depth int) error {
	fields := ty.n.scope(fmt.Sprintf("%s %s", d.CKind, nameOrAnon(d.CName)))
	cursor := 0
	var opaque struct {
		start, end int
		names      []string
	}
	pad := func(from, to int, note string) {
		if to > from {
			d.Fields = append(d.Fields, &Field{GoName: "_", Offset: from, Size: to - from, Type: bytesOf(to - from), Note: note})
		}
	}
	flushOpaque := func() {
		if len(opaque.names) == 0 {
			return
		}
		pad(cursor, opaque.start, "")
		pad(opaque.start, opaque.end, "bitfields "+strings.Join(opaque.names, ", ")+" (not mirrored yet: read them through Desc)")
		d.Notes = append(d.Notes, fmt.Sprintf("bitfields %s are padding", strings.Join(opaque.names, ", ")))
		cursor = opaque.end
		opaque.names = nil
	}
	anonUnions := 0
	for _, it := range items {
		if it.bitSize > 0 || it.bitOff%8 != 0 {
			start := int(it.bitOff / 8)
			end := int((it.bitOff + it.bitSize + 7) / 8)
			if it.bitSize == 0 {
				return fmt.Errorf("member %q starts at bit %d, inside a byte, without being a bitfield", it.cname, it.bitOff)
			}
			if len(opaque.names) == 0 {
				opaque.start, opaque.end = start, end
			}
			if start < cursor {
				return fmt.Errorf("bitfield %q overlaps the member before it", it.cname)
			}
			opaque.start = min(opaque.start, start)
			opaque.end = max(opaque.end, end)
			opaque.names = append(opaque.names, fmt.Sprintf("%s:%d", nameOrAnon(it.cname), it.bitSize))
			continue
		}
		off := int(it.bitOff / 8)
		if len(opaque.names) > 0 && off >= opaque.end {
			flushOpaque()
		}
		if off < cursor || len(opaque.names) > 0 {
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
			anonUnions++
			hint = fmt.Sprintf("%sUnion", d.GoName)
			if anonUnions > 1 {
				hint = fmt.Sprintf("%sUnion%d", d.GoName, anonUnions)
			}
			where = fmt.Sprintf("in %s %s", d.CKind, nameOrAnon(d.CName))
		}
		typ, note, err := ty.goType(it.typ, hint, where, depth+1)
		if err != nil {
			return fmt.Errorf("member %q: %w", it.cname, err)
		}
		f.Type, f.Note, f.Size = typ, note, sizeOf(typ)
		if it.embedded {
			f.GoName, f.Embedded = typ.Decl.GoName, true
			fields.add(f.GoName, origin{kind: "union", cname: hint})
		} else {
			o := memberOrigin(d, it.cname)
			f.GoName = ty.n.name(o, it.cname)
			fields.add(f.GoName, o)
		}
		if f.Size == 0 {
			// A flexible array member or an empty struct: Go pads a
			// trailing zero-size field, so it is left out.
			d.Notes = append(d.Notes, fmt.Sprintf("zero-size member %q (a flexible array or an empty struct) is not mirrored", it.cname))
			continue
		}
		if off+f.Size > d.Size {
			return fmt.Errorf("member %q ends at byte %d, past the end of the %d-byte type", it.cname, off+f.Size, d.Size)
		}
		pad(cursor, off, "")
		if off%alignOf(typ) != 0 {
			f.Note = joinNotes(f.Note, fmt.Sprintf("misaligned at offset %d (packed), kept as bytes", off))
			f.Type, f.Embedded = bytesOf(f.Size), false
		}
		d.Fields = append(d.Fields, f)
		cursor = off + f.Size
	}
	flushOpaque()
	pad(cursor, d.Size, "")
	ty.fitAlignment(d)
	return nil
}

// fitAlignment keeps the Go struct exactly d.Size bytes: Go rounds a
// struct's size up to its alignment, which a packed C struct need not be.
// Fields whose alignment does not divide the size become bytes.
func (ty *typer) fitAlignment(d *Decl) {
	d.Align = 1
	for _, f := range d.Fields {
		if a := alignOf(f.Type); d.Size%a != 0 {
			f.Note = joinNotes(f.Note, fmt.Sprintf("kept as bytes: the %d-byte packed %s is not a multiple of its %d-byte alignment", d.Size, d.CKind, a))
			f.Type, f.Embedded = bytesOf(f.Size), false
		}
		d.Align = max(d.Align, alignOf(f.Type))
	}
}

func joinNotes(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func (ty *typer) layoutUnion(d *Decl, members []btf.Member, depth int) error {
	items, err := flatten(members, 0, depth)
	if err != nil {
		return err
	}
	methods := ty.n.scope(fmt.Sprintf("the methods of union %s", nameOrAnon(d.CName)))
	d.Align = 1
	anon := 0
	for _, it := range items {
		if it.bitSize > 0 || it.bitOff%8 != 0 {
			d.Notes = append(d.Notes, fmt.Sprintf("bitfield member %q has no accessor yet", it.cname))
			continue
		}
		off := int(it.bitOff / 8)
		hint := d.GoName + Identifier(it.cname)
		where := fmt.Sprintf("in member %q of union %s", it.cname, nameOrAnon(d.CName))
		if it.embedded {
			anon++
			hint = fmt.Sprintf("%sUnion%d", d.GoName, anon)
			where = fmt.Sprintf("in union %s", nameOrAnon(d.CName))
		}
		typ, note, err := ty.goType(it.typ, hint, where, depth+1)
		if err != nil {
			return fmt.Errorf("member %q: %w", it.cname, err)
		}
		m := &Member{CName: it.cname, Offset: off, Type: typ, Note: note}
		if it.embedded {
			m.GoName = typ.Decl.GoName
		} else {
			m.GoName = ty.n.name(memberOrigin(d, it.cname), it.cname)
		}
		m.Setter = "Set" + m.GoName
		size := sizeOf(typ)
		switch {
		case size == 0:
			d.Notes = append(d.Notes, fmt.Sprintf("zero-size member %q has no accessor", it.cname))
			continue
		case off+size > d.Size:
			return fmt.Errorf("member %q ends at byte %d, past the end of the %d-byte union", it.cname, off+size, d.Size)
		case off%alignOf(typ) != 0:
			d.Notes = append(d.Notes, fmt.Sprintf("member %q is misaligned at offset %d and has no accessor", it.cname, off))
			continue
		}
		methods.add(m.GoName, memberOrigin(d, it.cname))
		methods.add(m.Setter, memberOrigin(d, it.cname))
		d.Align = max(d.Align, alignOf(typ))
		d.Members = append(d.Members, m)
	}
	if d.Size%d.Align != 0 {
		// A packed union: keep it byte-aligned so Go adds no tail padding;
		// its accessors then read unaligned, which Go allows on every GOARCH
		// only through byte copies, so drop them.
		d.Notes = append(d.Notes, "packed union: no accessors")
		d.Members, d.Align = nil, 1
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
