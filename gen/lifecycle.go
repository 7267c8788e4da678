package gen

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/dave/jennifer/jen"

	"github.com/bpfskel/bpfskel/btfmodel"
)

// programHandles picks the runtime handle of each program type that
// attaches to a target the user names; the bind function is "Bind" + the
// handle's name. Other program types get a plain *bpfskel.Program.
var programHandles = map[ebpf.ProgramType]string{
	ebpf.XDP:                   "XDPProgram",
	ebpf.SchedCLS:              "TCProgram",
	ebpf.CGroupSKB:             "CgroupProgram",
	ebpf.CGroupSock:            "CgroupProgram",
	ebpf.CGroupSockAddr:        "CgroupProgram",
	ebpf.CGroupSockopt:         "CgroupProgram",
	ebpf.CGroupSysctl:          "CgroupProgram",
	ebpf.CGroupDevice:          "CgroupProgram",
	ebpf.SockOps:               "CgroupProgram",
	ebpf.Kprobe:                "ProbeProgram",
	ebpf.TracePoint:            "TracepointProgram",
	ebpf.RawTracepoint:         "RawTracepointProgram",
	ebpf.RawTracepointWritable: "RawTracepointProgram",
	ebpf.PerfEvent:             "PerfEventProgram",
	ebpf.Netfilter:             "NetfilterProgram",
	ebpf.SkLookup:              "NetNsProgram",
	ebpf.FlowDissector:         "NetNsProgram",
}

// programHandle is the runtime handle type of a program.
func programHandle(p *btfmodel.Program) string {
	if h, ok := programHandles[p.Type]; ok {
		return h
	}
	return "Program"
}

// generatedFile is the name of the file Generate writes for obj.
func generatedFile(obj *btfmodel.Object, opts Options) string {
	if obj.ByteOrder == binary.BigEndian {
		return opts.FileStem + "_bpfeb.go"
	}
	return opts.FileStem + "_bpfel.go"
}

// nameConstants emits the object's, maps', programs' and sections' names
// as constants, so that user code never spells them.
func nameConstants(f *jen.File, obj *btfmodel.Object) {
	defs := []jen.Code{
		jen.Comment(fmt.Sprintf("%s is the object's file name.", obj.Names.ObjectName)).Line().
			Id(obj.Names.ObjectName).Op("=").Lit(obj.File),
	}
	for _, m := range obj.Maps {
		defs = append(defs, jen.Comment(fmt.Sprintf("%s is the name of map %s.", m.ConstName, btfmodel.Display(m.CName))).Line().
			Id(m.ConstName).Op("=").Lit(m.CName))
	}
	for _, p := range obj.Programs {
		defs = append(defs, jen.Comment(fmt.Sprintf("%s is the name of program %s.", p.ConstName, btfmodel.Display(p.CName))).Line().
			Id(p.ConstName).Op("=").Lit(p.CName))
	}
	for _, s := range obj.Sections {
		defs = append(defs, jen.Comment(fmt.Sprintf("%s is the name of section %s.", s.ConstName, btfmodel.Display(s.CName))).Line().
			Id(s.ConstName).Op("=").Lit(s.CName))
	}
	f.Comment("Names in the object, for logs, pinning and the cilium/ebpf escape hatches.")
	f.Const().Defs(defs...)
}

// atomicVars are the runtime's atomic handles of naturally aligned
// integer variables, by Go type.
var atomicVars = map[string]string{
	"int32": "AtomicInt32Var", "uint32": "AtomicUint32Var",
	"int64": "AtomicInt64Var", "uint64": "AtomicUint64Var",
}

// resizableArray returns the array that ends a writable custom data
// section (.data.NAME, .bss.NAME), whose length Spec.ResizeArray may
// change before load, or nil.
func resizableArray(s *btfmodel.Section) *btfmodel.Field {
	if s.ReadOnly || s.Frozen || s.CName == ".data" || s.CName == ".bss" {
		return nil
	}
	vars := sectionVars(s)
	if len(vars) == 0 {
		return nil
	}
	last := vars[len(vars)-1]
	if last.Type.Kind != btfmodel.Array || last.Offset+last.Size != s.Decl.Size {
		return nil
	}
	return last
}

// varKind is the runtime type of a section variable's live handle, and
// whether it is an atomic one (which takes no type argument).
func varKind(s *btfmodel.Section, fd *btfmodel.Field) (string, bool) {
	if s.ReadOnly {
		return "ReadOnlyVar", false
	}
	if fd == resizableArray(s) {
		return "ArrayVar", false
	}
	if fd.Type.Kind == btfmodel.Basic && fd.Offset%fd.Size == 0 {
		if h, ok := atomicVars[fd.Type.Basic]; ok {
			return h, true
		}
	}
	return "Var", false
}

// varType is the type of a variable's handle: bpfskel.Kind[T], or the
// atomic kind alone.
func varType(s *btfmodel.Section, fd *btfmodel.Field) *jen.Statement {
	kind, atomic := varKind(s, fd)
	if atomic {
		return jen.Qual(runtimePath, kind)
	}
	return jen.Qual(runtimePath, kind).Types(varTypeArg(s, fd))
}

// varTypeArg is the type argument of a variable's handle: its type, or
// the element type of a resizable array.
func varTypeArg(s *btfmodel.Section, fd *btfmodel.Field) jen.Code {
	if fd == resizableArray(s) {
		return typeCode(fd.Type.Elem)
	}
	return typeCode(fd.Type)
}

// sectionVars lists the variables of a section: its non-padding fields.
func sectionVars(s *btfmodel.Section) []*btfmodel.Field {
	var out []*btfmodel.Field
	for _, fd := range s.Decl.Fields {
		if !fd.Padding() && !fd.Embedded {
			out = append(out, fd)
		}
	}
	return out
}

// sectionVarsStruct emits the struct of a section's live variables, which
// embeds the view of the whole section.
func sectionVarsStruct(f *jen.File, obj *btfmodel.Object, s *btfmodel.Section) {
	fields := []jen.Code{
		jen.Comment("View is the whole section, copied in and out at once.").Line().
			Op("*").Qual(runtimePath, "View").Types(jen.Id(s.Decl.GoName)),
	}
	for _, fd := range sectionVars(s) {
		_, atomic := varKind(s, fd)
		doc := fmt.Sprintf("%s is variable %s (%s at offset %d)", fd.GoName, btfmodel.Display(fd.CName), plural(fd.Size, "byte", "bytes"), fd.Offset)
		switch {
		case atomic:
			doc += ", with atomic access."
		case fd == resizableArray(s):
			doc += ", resizable before load."
		case s.ReadOnly:
			doc += ", read-only."
		default:
			doc += "."
		}
		fields = append(fields, jen.Comment(doc).Line().Id(fd.GoName).Add(varType(s, fd)))
	}
	f.Comment(fmt.Sprintf("%s holds the live variables of section %s of %s: each", s.VarsName, btfmodel.Display(s.CName), btfmodel.Display(obj.File)))
	f.Comment("reads and writes only its own bytes of the memory shared with the programs.")
	f.Type().Id(s.VarsName).Struct(fields...)
}

// sectionViewVar is the local variable holding a section's view in Load.
func sectionViewVar(s *btfmodel.Section) string { return "v" + s.GoName }

// sectionVarsValue is the composite literal binding a section's variables.
func sectionVarsValue(s *btfmodel.Section, view string) jen.Code {
	d := jen.Dict{jen.Id("View"): jen.Id(view)}
	for _, fd := range sectionVars(s) {
		kind, atomic := varKind(s, fd)
		bind := jen.Qual(runtimePath, "Bind"+kind)
		if !atomic {
			bind = bind.Types(varTypeArg(s, fd))
		}
		d[jen.Id(fd.GoName)] = bind.Call(jen.Id("b"), jen.Id(view), jen.Lit(fd.CName), jen.Lit(fd.Offset))
	}
	return jen.Id(s.VarsName).Values(d)
}

// specTypes emits the open phase: the settings structs, the Spec with the
// typed initial contents of each data section, Open and the load options.
func specTypes(f *jen.File, obj *btfmodel.Object, opts Options) {
	n := obj.Names
	file := btfmodel.Display(obj.File)

	var mapFields, progFields []jen.Code
	mapBinds, progBinds := jen.Dict{}, jen.Dict{}
	for _, m := range obj.Maps {
		mapFields = append(mapFields, jen.Comment(fmt.Sprintf("%s sets up map %s before Load.", m.GoName, btfmodel.Display(m.CName))).Line().
			Id(m.GoName).Op("*").Qual(runtimePath, "MapSpec"))
		mapBinds[jen.Id(m.GoName)] = jen.Qual(runtimePath, "BindMapSpec").Call(jen.Id("b"), jen.Id(m.ConstName), jen.Lit(m.Handle.Typed()))
	}
	for _, p := range obj.Programs {
		progFields = append(progFields, jen.Comment(fmt.Sprintf("%s sets up program %s before Load.", p.GoName, btfmodel.Display(p.CName))).Line().
			Id(p.GoName).Op("*").Qual(runtimePath, "ProgramSpec"))
		progBinds[jen.Id(p.GoName)] = jen.Qual(runtimePath, "BindProgramSpec").Call(jen.Id("b"), jen.Id(p.ConstName))
	}
	f.Comment(fmt.Sprintf("%s holds the settings of each map of %s before Load: size,", n.MapSpecs, file))
	f.Comment("pin path, or an existing map to use instead.")
	f.Type().Id(n.MapSpecs).Struct(mapFields...)
	f.Comment(fmt.Sprintf("%s holds the settings of each program of %s before Load:", n.ProgramSpecs, file))
	f.Comment("whether it is loaded at all.")
	f.Type().Id(n.ProgramSpecs).Struct(progFields...)

	fields := []jen.Code{
		jen.Comment("Maps holds the settings of each map.").Line().Id("Maps").Id(n.MapSpecs),
		jen.Comment("Programs holds the settings of each program.").Line().Id("Programs").Id(n.ProgramSpecs),
	}
	values := jen.Dict{
		jen.Id("Maps"):     jen.Id(n.MapSpecs).Values(mapBinds),
		jen.Id("Programs"): jen.Id(n.ProgramSpecs).Values(progBinds),
		jen.Id("spec"):     jen.Id("s"),
	}
	for _, s := range obj.Sections {
		if s.Frozen {
			continue // the loader fills it from the kernel's configuration
		}
		fields = append(fields, jen.Comment(fmt.Sprintf("%s is the initial contents of section %s: what Load gives the programs.", s.GoName, btfmodel.Display(s.CName))).Line().
			Id(s.GoName).Op("*").Id(s.Decl.GoName))
		values[jen.Id(s.GoName)] = jen.Qual(runtimePath, "BindSectionSpec").Types(jen.Id(s.Decl.GoName)).Call(jen.Id("b"), jen.Id(s.ConstName))
	}
	fields = append(fields, jen.Line().Id("spec").Op("*").Qual(runtimePath, "Spec"))

	f.Comment(fmt.Sprintf("%s is %s parsed and not yet loaded: set the initial contents of its", n.Spec, file))
	f.Comment("data sections (.rodata constants included), map sizes, pin paths and")
	f.Comment("replacements, program autoload and load options here, then Load.")
	f.Type().Id(n.Spec).Struct(fields...)

	sum := obj.Digest
	f.Comment(fmt.Sprintf("%s parses the embedded %s. It fails when the embedded object is", n.Open, file))
	f.Comment("not the one this file was generated from: regenerate the skeleton then.")
	if obj.LoaderError != "" {
		f.Comment("")
		f.Comment(fmt.Sprintf("It fails for this object, wrapping bpfskel.ErrLoaderRefused: cilium/ebpf cannot load it (%s).", commentText(obj.LoaderError)))
		f.Comment("The skeleton was generated from the object's BTF; its types are valid.")
	}
	f.Func().Id(n.Open).Params().Params(jen.Op("*").Id(n.Spec), jen.Error()).Block(
		jen.List(jen.Id("s"), jen.Err()).Op(":=").Qual(runtimePath, "OpenSkeleton").Call(
			jen.Id(n.ObjectName), jen.Id(n.Object), jen.Lit(hex.EncodeToString(sum[:])), jen.Lit(generatedFile(obj, opts))),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("b").Op(":=").Qual(runtimePath, "NewSpecBinder").Call(jen.Id("s")),
		jen.Id("spec").Op(":=").Op("&").Id(n.Spec).Values(values),
		jen.If(jen.Err().Op(":=").Id("b").Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("spec"), jen.Nil()),
	)

	f.Comment("CollectionSpec returns the cilium/ebpf spec, the escape hatch for changes the")
	f.Comment("Spec has no setter for. Load writes the typed section contents over it.")
	f.Func().Params(jen.Id("s").Op("*").Id(n.Spec)).Id("CollectionSpec").Params().Op("*").Qual(ebpfPath, "CollectionSpec").Block(
		jen.Return(jen.Id("s").Dot("spec").Dot("CollectionSpec").Call()),
	)
	f.Comment("SetVerifierLog sets the verifier log level and the starting size of its buffer")
	f.Comment("for every program Load loads.")
	f.Func().Params(jen.Id("s").Op("*").Id(n.Spec)).Id("SetVerifierLog").Params(jen.Id("level").Qual(ebpfPath, "LogLevel"), jen.Id("size").Uint32()).Block(
		jen.Id("s").Dot("spec").Dot("SetVerifierLog").Call(jen.Id("level"), jen.Id("size")),
	)
	for _, s := range obj.Sections {
		arr := resizableArray(s)
		if arr == nil {
			continue
		}
		f.Comment(fmt.Sprintf("Resize%s sets the number of elements of %s, the array that ends section %s:", arr.GoName, btfmodel.Display(arr.CName), btfmodel.Display(s.CName)))
		f.Comment(fmt.Sprintf("at least %d, the length the skeleton mirrors. New elements start zero; after", arr.Type.Len))
		f.Comment(fmt.Sprintf("Load, %s.%s sees all of them.", s.GoName, arr.GoName))
		f.Func().Params(jen.Id("s").Op("*").Id(n.Spec)).Id("Resize" + arr.GoName).Params(jen.Id("n").Uint32()).Error().Block(
			jen.Return(jen.Id("s").Dot("spec").Dot("ResizeArray").Call(jen.Id(s.ConstName), jen.Id("n"))),
		)
	}
	f.Comment("SetKernelBTF makes Load resolve CO-RE relocations against the kernel BTF in the")
	f.Comment("file at path; an empty path restores the default.")
	f.Func().Params(jen.Id("s").Op("*").Id(n.Spec)).Id("SetKernelBTF").Params(jen.Id("path").String()).Error().Block(
		jen.Return(jen.Id("s").Dot("spec").Dot("SetKernelBTF").Call(jen.Id("path"))),
	)
}
