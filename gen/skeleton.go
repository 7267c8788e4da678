package gen

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/dave/jennifer/jen"

	"github.com/bpfskel/bpfskel/btfmodel"
)

// skeleton emits the skeleton types (maps, programs, spec, loaded object),
// Open, Load, Attach, Detach, Close and the embedded object.
func skeleton(f *jen.File, obj *btfmodel.Object, opts Options) {
	n := obj.Names
	file := btfmodel.Display(obj.File)

	nameConstants(f, obj)
	mapsStruct(f, obj)
	programsStruct(f, obj)
	for _, s := range obj.Sections {
		if !s.Frozen {
			sectionVarsStruct(f, obj, s)
		}
	}

	f.Comment(fmt.Sprintf("%s is %s loaded into the kernel, with a typed handle for each of", n.Skeleton, file))
	f.Comment("its maps, programs and global variables. Close releases all of them.")
	fields := []jen.Code{
		jen.Comment("Maps holds a typed handle for each map.").Line().Id("Maps").Id(n.Maps),
		jen.Comment("Programs holds a handle for each program; a program whose autoload was").Line().
			Comment("turned off before Load is nil.").Line().Id("Programs").Id(n.Programs),
	}
	for _, s := range obj.Sections {
		doc := fmt.Sprintf("%s holds the live variables of section %s, shared with the programs,", s.GoName, btfmodel.Display(s.CName))
		if s.ReadOnly {
			doc = fmt.Sprintf("%s holds the variables of section %s, read-only (the kernel froze it at load),", s.GoName, btfmodel.Display(s.CName))
		}
		if s.Frozen {
			doc = fmt.Sprintf("%s holds section %s as the loader filled it from the running kernel's configuration; it is frozen and read with Get.", s.GoName, btfmodel.Display(s.CName))
			fields = append(fields, jen.Comment(doc).Line().
				Id(s.GoName).Op("*").Qual(runtimePath, "FrozenSection").Types(jen.Id(s.Decl.GoName)))
			continue
		}
		fields = append(fields, jen.Comment(doc).Line().Comment("and the view of the whole section.").Line().Id(s.GoName).Id(s.VarsName))
	}
	fields = append(fields, jen.Line().Id("coll").Op("*").Qual(runtimePath, "Collection"))
	f.Type().Id(n.Skeleton).Struct(fields...)

	specTypes(f, obj, opts)
	loadMethod(f, obj)
	openMapsFunc(f, obj)

	f.Comment(fmt.Sprintf("%s opens and loads %s with the defaults: %s followed by %s.Load.", n.Load, file, n.Open, n.Spec))
	f.Func().Id(n.Load).Params(jen.Id("opts").Op("*").Qual(runtimePath, "LoadOptions")).Params(jen.Op("*").Id(n.Skeleton), jen.Error()).Block(
		jen.List(jen.Id("s"), jen.Err()).Op(":=").Id(n.Open).Call(),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("s").Dot("Load").Call(jen.Id("opts"))),
	)

	f.Comment("Attach attaches every program whose section names its target (kprobe/FUNC,")
	f.Comment("tracepoint/CAT/NAME, raw_tp/NAME, uprobe/BINARY:FUNC, fentry/FUNC, ...) and every")
	f.Comment("struct_ops map; the links belong to the skeleton. On failure nothing stays")
	f.Comment("attached. Programs that need a target from you have attach methods on their")
	f.Comment("handles in Programs.")
	f.Func().Params(jen.Id("sk").Op("*").Id(n.Skeleton)).Id("Attach").Params().Error().Block(
		jen.Return(jen.Id("sk").Dot("coll").Dot("Attach").Call()),
	)
	f.Comment("Detach closes every link of the skeleton; the programs stay loaded.")
	f.Func().Params(jen.Id("sk").Op("*").Id(n.Skeleton)).Id("Detach").Params().Error().Block(
		jen.Return(jen.Id("sk").Dot("coll").Dot("Detach").Call()),
	)

	f.Comment("Close detaches every link, then releases the programs, views and maps of the")
	f.Comment("skeleton. It is safe to call more than once.")
	f.Func().Params(jen.Id("sk").Op("*").Id(n.Skeleton)).Id("Close").Params().Error().Block(
		jen.Return(jen.Id("sk").Dot("coll").Dot("Close").Call()),
	)

	f.Comment("Collection returns the loaded cilium/ebpf collection, the way out for what")
	f.Comment("the skeleton does not offer.")
	f.Func().Params(jen.Id("sk").Op("*").Id(n.Skeleton)).Id("Collection").Params().Op("*").Qual(ebpfPath, "Collection").Block(
		jen.Return(jen.Id("sk").Dot("coll").Dot("Collection").Call()),
	)

	f.Anon("embed")
	f.Comment(fmt.Sprintf("%s holds %s.", n.Object, file))
	f.Comment("")
	f.Comment("//go:embed " + opts.ObjectFile)
	f.Var().Id(n.Object).Index().Byte()
}

func mapsStruct(f *jen.File, obj *btfmodel.Object) {
	var fields []jen.Code
	for _, m := range obj.Maps {
		fields = append(fields, jen.Comment(mapDoc(m)).Line().Id(m.GoName).Add(mapHandleType(m)))
	}
	f.Comment(fmt.Sprintf("%s holds a typed handle for each map of %s.", obj.Names.Maps, btfmodel.Display(obj.File)))
	f.Type().Id(obj.Names.Maps).Struct(fields...)
}

func mapDoc(m *btfmodel.Map) string {
	if m.Event != nil {
		return eventMapDoc(m)
	}
	kv := ", key " + kvDoc(m.Key, m.KeySize) + ", value " + kvDoc(m.Value, m.ValueSize)
	s := fmt.Sprintf("%s is map %s: %s%s, %s", m.GoName, btfmodel.Display(m.CName), m.Type, kv, plural(int(m.MaxEntries), "entry", "entries"))
	if m.Flags != 0 {
		s += fmt.Sprintf(", flags %s", mapFlags(m.Flags))
	}
	return s + "." + innerDoc(m)
}

// kvDoc describes a map key or value: its Go type when it has one, and its
// size.
func kvDoc(t *btfmodel.Type, size uint32) string {
	if t == nil {
		return plural(int(size), "byte", "bytes")
	}
	return fmt.Sprintf("%s (%s)", typeText(t), plural(int(size), "byte", "bytes"))
}

// mapFlags spells the BPF_F_* map flags an object may declare.
func mapFlags(flags uint32) string {
	return strings.Join(btfmodel.MapFlagNames(flags), "|")
}

// mapHandleType is the type of a map's field in the Maps struct:
// *bpfskel.Name[Args...], or *ebpf.Map for maps without a typed handle.
func mapHandleType(m *btfmodel.Map) jen.Code {
	if !m.Handle.Typed() {
		return jen.Op("*").Qual(ebpfPath, "Map")
	}
	return jen.Op("*").Add(instantiate(jen.Qual(runtimePath, m.Handle.Name), m.Handle.Args))
}

// mapBind is the call that binds a map's handle: bpfskel.BindName[Args...].
func mapBind(m *btfmodel.Map) jen.Code {
	name := jen.Id(m.ConstName)
	if !m.Handle.Typed() {
		return jen.Qual(runtimePath, "BindUntypedMap").Call(jen.Id("b"), name)
	}
	args := []jen.Code{jen.Id("b"), name}
	for _, x := range m.Handle.Extra {
		args = append(args, jen.Lit(x))
	}
	return instantiate(jen.Qual(runtimePath, "Bind"+m.Handle.Name), m.Handle.Args).Call(args...)
}

// instantiate adds type arguments to a generic name; none leaves it alone.
func instantiate(name *jen.Statement, args []*btfmodel.Type) *jen.Statement {
	if len(args) == 0 {
		return name
	}
	codes := make([]jen.Code, len(args))
	for i, a := range args {
		codes[i] = typeCode(a)
	}
	return name.Types(codes...)
}

func programsStruct(f *jen.File, obj *btfmodel.Object) {
	var fields []jen.Code
	for _, p := range obj.Programs {
		doc := fmt.Sprintf("%s is program %s in section %s (%s).", p.GoName, btfmodel.Display(p.CName), btfmodel.Display(p.SectionName), p.Type)
		fields = append(fields, jen.Comment(doc).Line().Id(p.GoName).Op("*").Qual(runtimePath, programHandle(p)))
	}
	f.Comment(fmt.Sprintf("%s holds a handle for each program of %s.", obj.Names.Programs, btfmodel.Display(obj.File)))
	f.Type().Id(obj.Names.Programs).Struct(fields...)
}

// loadMethod emits Spec.Load, which loads the collection and binds every
// handle by name; the runtime checks each against the object.
func loadMethod(f *jen.File, obj *btfmodel.Object) {
	n := obj.Names
	progs := jen.Dict{}
	for _, p := range obj.Programs {
		progs[jen.Id(p.GoName)] = jen.Qual(runtimePath, "Bind"+programHandle(p)).Call(jen.Id("b"), jen.Id(p.ConstName))
	}
	skel := jen.Dict{
		jen.Id("Maps"):     mapsValue(obj),
		jen.Id("Programs"): jen.Id(n.Programs).Values(progs),
		jen.Id("coll"):     jen.Id("c"),
	}
	body := []jen.Code{
		jen.List(jen.Id("c"), jen.Err()).Op(":=").Id("s").Dot("spec").Dot("Load").Call(jen.Id("opts")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("b").Op(":=").Qual(runtimePath, "NewBinder").Call(jen.Id("c")),
	}
	for _, s := range obj.Sections {
		if s.Frozen {
			skel[jen.Id(s.GoName)] = jen.Qual(runtimePath, "BindFrozenSection").Types(jen.Id(s.Decl.GoName)).Call(jen.Id("b"), jen.Id(s.ConstName))
			continue
		}
		view := sectionViewVar(s)
		body = append(body, jen.Id(view).Op(":=").Qual(runtimePath, "BindSection").Types(jen.Id(s.Decl.GoName)).Call(jen.Id("b"), jen.Id(s.ConstName)))
		skel[jen.Id(s.GoName)] = sectionVarsValue(s, view)
	}
	body = append(body,
		jen.Id("sk").Op(":=").Op("&").Id(n.Skeleton).Values(skel),
		jen.If(jen.Err().Op(":=").Id("b").Dot("Done").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err()),
		),
		jen.Return(jen.Id("sk"), jen.Nil()),
	)

	f.Comment("Load loads the object into the kernel with the settings made since Open and")
	f.Comment("binds every handle of the skeleton. opts may be nil; fields set in it win")
	f.Comment("over the Spec's settings.")
	f.Func().Params(jen.Id("s").Op("*").Id(n.Spec)).Id("Load").Params(jen.Id("opts").Op("*").Qual(runtimePath, "LoadOptions")).Params(jen.Op("*").Id(n.Skeleton), jen.Error()).Block(body...)
}

// eventMapDoc documents a ring buffer, user ring buffer or perf event array
// by its records.
func eventMapDoc(m *btfmodel.Map) string {
	var rec string
	switch {
	case m.Event.Kind == btfmodel.Runtime:
		rec = "raw records of unknown type (read them with ReadRaw)"
		if m.Type == ebpf.UserRingbuf {
			rec = "raw records of unknown type (write them with WriteBytes)"
		}
	case m.EventTail >= 0:
		rec = fmt.Sprintf("records %s (%s) and the contents of its flexible array from byte %d (Tail)",
			typeText(m.Event), plural(m.EventSize, "byte", "bytes"), m.EventTail)
	default:
		rec = fmt.Sprintf("records %s (%s)", typeText(m.Event), plural(m.EventSize, "byte", "bytes"))
	}
	s := fmt.Sprintf("%s is map %s: %s, %s", m.GoName, btfmodel.Display(m.CName), m.Type, rec)
	if m.Type == ebpf.RingBuf || m.Type == ebpf.UserRingbuf {
		s += fmt.Sprintf(", %s", plural(int(m.MaxEntries), "byte", "bytes"))
	}
	return s + "."
}
