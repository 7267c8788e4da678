package gen

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"

	"github.com/bpfskel/bpfskel/btfmodel"
)

// declare emits one declared type with its doc comment, methods and layout
// guards.
func declare(f *jen.File, obj *btfmodel.Object, d *btfmodel.Decl) {
	docDecl(f, obj, d)
	switch d.Kind {
	case btfmodel.Struct:
		structType(f, d)
		accessors(f, obj, d, "s")
	case btfmodel.Union:
		unionType(f, d)
		accessors(f, obj, d, "u")
	case btfmodel.Enum:
		enumType(f, d)
	}
	layoutGuard(f, d)
}

// docDecl writes the doc comment of a declared type: its name, its C origin
// and size, and what of it is not mirrored.
func docDecl(f *jen.File, obj *btfmodel.Object, d *btfmodel.Decl) {
	var what string
	switch {
	case d.CKind == "section":
		what = fmt.Sprintf("section %s", btfmodel.Display(d.CName))
	case d.CName == "":
		what = "the " + commentText(d.Origin)
	default:
		what = fmt.Sprintf("%s %s", d.CKind, btfmodel.Display(d.CName))
	}
	size := plural(d.Size, "byte", "bytes")
	if d.DataSize != 0 {
		size = fmt.Sprintf("%s, padded to %d in Go", plural(d.DataSize, "byte", "bytes"), d.Size)
	}
	f.Comment(fmt.Sprintf("%s mirrors %s of %s (%s).", d.GoName, what, btfmodel.Display(obj.File), size))
	if d.Kind == btfmodel.Union {
		f.Comment("Its members share the storage; read and write them through the accessors.")
	}
	if len(d.Notes) > 0 {
		f.Comment("")
		f.Comment("Not mirrored field by field:")
		for _, n := range d.Notes {
			f.Comment("  - " + commentText(n))
		}
	}
}

// plural spells a count with its noun: "1 byte", "16 bytes".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// commentText renders free text that may hold untrusted names for a
// comment: as it is when it is printable ASCII, else as an escaped string.
func commentText(s string) string {
	for _, r := range s {
		if r < ' ' || r > '~' {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

func structType(f *jen.File, d *btfmodel.Decl) {
	fields := []jen.Code{jen.Id("_").Qual(structsPath, "HostLayout")}
	kind := "member"
	if d.CKind == "section" {
		kind = "variable"
	}
	for _, fl := range d.Fields {
		c := jen.Null()
		switch {
		case fl.Embedded:
			c = jen.Comment(fmt.Sprintf("%s is the anonymous union at offset %d (%s); its accessors are promoted.",
				fl.GoName, fl.Offset, plural(fl.Size, "byte", "bytes"))).Line()
		case fl.CName == "" && !fl.Padding():
			// Unexported storage of bitfields or a misaligned member: its
			// note says which.
		case !fl.Padding():
			c = jen.Comment(fmt.Sprintf("%s is %s %s (%s at offset %d).",
				fl.GoName, kind, btfmodel.Display(fl.CName), plural(fl.Size, "byte", "bytes"), fl.Offset)).Line()
		}
		if fl.Embedded {
			c.Add(typeCode(fl.Type))
		} else {
			c.Id(fl.GoName).Add(typeCode(fl.Type))
		}
		if fl.Note != "" {
			c.Comment(commentText(fl.Note))
		}
		fields = append(fields, c)
	}
	f.Type().Id(d.GoName).Struct(fields...)
}

// unionStorage is the unexported byte array holding a union's value; being
// unexported, it cannot collide with an accessor.
const unionStorage = btfmodel.UnionStorage

// unionType emits a union as its bytes, aligned like its most aligned
// member by a zero-length array, with an accessor pair per member.
func unionType(f *jen.File, d *btfmodel.Decl) {
	fields := []jen.Code{jen.Id("_").Qual(structsPath, "HostLayout")}
	if d.Align > 1 {
		fields = append(fields, jen.Id("_").Index(jen.Lit(0)).Id(fmt.Sprintf("uint%d", d.Align*8)))
	}
	fields = append(fields, jen.Id(unionStorage).Index(jen.Lit(d.Size)).Byte())
	f.Type().Id(d.GoName).Struct(fields...)

	for _, m := range d.Members {
		ptr := func() *jen.Statement {
			return jen.Parens(jen.Op("*").Add(typeCode(m.Type))).Call(
				jen.Qual(unsafePath, "Pointer").Call(jen.Op("&").Id("u").Dot(unionStorage).Index(jen.Lit(m.Offset))))
		}
		f.Comment(fmt.Sprintf("%s returns member %s (%s at offset %d).", m.GoName, btfmodel.Display(m.CName), typeText(m.Type), m.Offset))
		f.Func().Params(jen.Id("u").Op("*").Id(d.GoName)).Id(m.GoName).Params().Add(typeCode(m.Type)).Block(
			jen.Return(jen.Op("*").Add(ptr())),
		)
		f.Comment(fmt.Sprintf("%s sets member %s (%s at offset %d).", m.Setter, btfmodel.Display(m.CName), typeText(m.Type), m.Offset))
		f.Func().Params(jen.Id("u").Op("*").Id(d.GoName)).Id(m.Setter).Params(jen.Id("v").Add(typeCode(m.Type))).Block(
			jen.Op("*").Add(ptr()).Op("=").Id("v"),
		)
	}
}

func enumType(f *jen.File, d *btfmodel.Decl) {
	f.Type().Id(d.GoName).Id(d.Underlying)
	if len(d.Values) == 0 {
		return
	}
	defs := make([]jen.Code, 0, len(d.Values))
	for _, v := range d.Values {
		defs = append(defs, jen.Comment(fmt.Sprintf("%s is %s.", v.GoName, btfmodel.Display(v.CName))).Line().
			Id(v.GoName).Id(d.GoName).Op("=").Add(enumLit(v)))
	}
	f.Const().Defs(defs...)

	// String names the C enumerator; aliases (equal values) take the first.
	seen := map[uint64]bool{}
	var cases []jen.Code
	for _, v := range d.Values {
		if seen[v.Value] {
			continue
		}
		seen[v.Value] = true
		cases = append(cases, jen.Case(jen.Id(v.GoName)).Block(jen.Return(jen.Lit(v.CName))))
	}
	conv := jen.Qual(strconvPath, "FormatUint").Call(jen.Uint64().Call(jen.Id("e")), jen.Lit(10))
	if d.Values[0].Signed {
		conv = jen.Qual(strconvPath, "FormatInt").Call(jen.Int64().Call(jen.Id("e")), jen.Lit(10))
	}
	f.Comment("String returns the C name of e, or its number when it has none.")
	f.Func().Params(jen.Id("e").Id(d.GoName)).Id("String").Params().String().Block(
		jen.Switch(jen.Id("e")).Block(cases...),
		jen.Return(jen.Lit(d.GoName+"(").Op("+").Add(conv).Op("+").Lit(")")),
	)
}

// enumLit is an untyped constant: jen.Lit would write uint64(n), which
// does not convert to the enum type implicitly.
func enumLit(v *btfmodel.EnumValue) jen.Code {
	if v.Signed {
		return jen.Op(strconv.FormatInt(int64(v.Value), 10))
	}
	return jen.Op(strconv.FormatUint(v.Value, 10))
}

// layoutGuard makes any drift between the Go type and the C layout a compile
// error on every GOARCH: x[n] with a constant n other than 0 does not
// compile (the trick stringer uses for stale constants).
func layoutGuard(f *jen.File, d *btfmodel.Decl) {
	zero := jen.Id(d.GoName).Values()
	if d.Kind == btfmodel.Enum {
		zero = jen.Id(d.GoName).Call(jen.Lit(0))
	}
	body := []jen.Code{
		jen.Var().Id("x").Index(jen.Lit(1)).Struct(),
		guard(jen.Qual(unsafePath, "Sizeof").Call(zero), d.Size),
	}
	for _, fl := range d.Fields {
		if fl.Padding() {
			continue
		}
		body = append(body, guard(jen.Qual(unsafePath, "Offsetof").Call(jen.Id(d.GoName).Values().Dot(fl.GoName)), fl.Offset))
	}
	if d.Kind != btfmodel.Enum && d.CAlign > 1 {
		// Go's alignment of the type divides C's: wherever C places it,
		// Go could too (Go never aligns beyond 8, C's __int128 is 16).
		body = append(body, jen.Id("_").Op("=").Id("x").Index(
			jen.Lit(d.CAlign).Op("%").Qual(unsafePath, "Alignof").Call(jen.Id(d.GoName).Values())))
	}
	f.Line()
	f.Func().Id("_").Params().Block(body...)
}

func guard(expr *jen.Statement, want int) jen.Code {
	if want != 0 {
		expr = expr.Op("-").Lit(want)
	}
	return jen.Id("_").Op("=").Id("x").Index(expr)
}

// accessors emits the getter and setter of every bitfield, misaligned
// member and flexible array of d: one-line calls into the runtime, which
// reads the bytes in the object's byte order. recv names the receiver.
func accessors(f *jen.File, obj *btfmodel.Object, d *btfmodel.Decl, recv string) {
	le := obj.ByteOrder != binary.BigEndian
	order := func(little, big string) string {
		if le {
			return little
		}
		return big
	}
	for _, a := range d.Accessors {
		bytes := func() *jen.Statement {
			if a.Offset == 0 {
				return jen.Id(recv).Dot(a.Storage).Index(jen.Op(":"))
			}
			return jen.Id(recv).Dot(a.Storage).Index(jen.Lit(a.Offset).Op(":"))
		}
		self := jen.Id(recv).Op("*").Id(d.GoName)
		var get, set jen.Code
		var what string
		switch a.Kind {
		case btfmodel.Bitfield:
			what = fmt.Sprintf("bitfield %s (%s at bit %d of %s)", btfmodel.Display(a.CName), plural(a.BitSize, "bit", "bits"), a.BitOff, a.Storage)
			bits := jen.Qual(runtimePath, order("BitsLE", "BitsBE")).Call(bytes(), jen.Lit(a.BitOff), jen.Lit(a.BitSize))
			switch {
			case a.Type.Kind == btfmodel.Basic && a.Type.Basic == "bool":
				get = bits.Op("!=").Lit(0)
				set = jen.Qual(runtimePath, order("SetBitsLE", "SetBitsBE")).Call(bytes(), jen.Lit(a.BitOff), jen.Lit(a.BitSize), jen.Qual(runtimePath, "BoolBits").Call(jen.Id("v")))
			case a.Signed:
				get = jen.Add(typeCode(a.Type)).Call(jen.Qual(runtimePath, "SignExtend").Call(bits, jen.Lit(a.BitSize)))
			default:
				get = jen.Add(typeCode(a.Type)).Call(bits)
			}
			if set == nil {
				set = jen.Qual(runtimePath, order("SetBitsLE", "SetBitsBE")).Call(bytes(), jen.Lit(a.BitOff), jen.Lit(a.BitSize), jen.Uint64().Call(jen.Id("v")))
			}
		case btfmodel.Unaligned:
			what = fmt.Sprintf("member %s (%s at byte %d of %s, misaligned for Go)", btfmodel.Display(a.CName), typeText(a.Type), a.Offset, a.Storage)
			get = jen.Qual(runtimePath, order("GetLE", "GetBE")).Types(typeCode(a.Type)).Call(bytes())
			set = jen.Qual(runtimePath, order("SetLE", "SetBE")).Call(bytes(), jen.Id("v"))
		case btfmodel.Copy:
			what = fmt.Sprintf("member %s (%s at byte %d of %s, misaligned for Go)", btfmodel.Display(a.CName), typeText(a.Type), a.Offset, a.Storage)
			get = jen.Qual(runtimePath, "Unaligned").Types(typeCode(a.Type)).Call(bytes())
			set = jen.Qual(runtimePath, "SetUnaligned").Call(bytes(), jen.Id("v"))
		case btfmodel.Tail:
			f.Comment(fmt.Sprintf("%s returns the flexible array member %s of the record in buf: the", a.GoName, btfmodel.Display(a.CName)))
			f.Comment(fmt.Sprintf("%s elements from byte %d to the end of buf, sharing its memory.", typeText(a.Type), a.Offset))
			f.Comment("buf holds the whole record, as read from a ring buffer or perf buffer.")
			f.Func().Params(jen.Op("*").Id(d.GoName)).Id(a.GoName).Params(jen.Id("buf").Index().Byte()).Params(jen.Index().Add(typeCode(a.Type)), jen.Error()).Block(
				jen.Return(jen.Qual(runtimePath, "Tail").Types(typeCode(a.Type)).Call(jen.Id("buf"), jen.Lit(a.Offset))),
			)
			continue
		}
		f.Comment(fmt.Sprintf("%s returns %s.", a.GoName, what))
		f.Func().Params(self.Clone()).Id(a.GoName).Params().Add(typeCode(a.Type)).Block(jen.Return(get))
		f.Comment(fmt.Sprintf("%s sets %s.", a.Setter, what))
		f.Func().Params(self).Id(a.Setter).Params(jen.Id("v").Add(typeCode(a.Type))).Block(set)
	}
}
