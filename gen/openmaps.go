package gen

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/dave/jennifer/jen"

	"github.com/bpfskel/bpfskel/btfmodel"
)

// mapsValue is the Maps struct literal that binds every map with the
// Binder b: Load and OpenMaps share it.
func mapsValue(obj *btfmodel.Object) *jen.Statement {
	maps := jen.Dict{}
	for _, m := range obj.Maps {
		maps[jen.Id(m.GoName)] = mapBind(m)
	}
	return jen.Id(obj.Names.Maps).Values(maps)
}

// innerDoc describes the inner maps of a map of maps and the pinning of a
// map, for its doc comment.
func innerDoc(m *btfmodel.Map) string {
	s := ""
	if in := m.Inner; in != nil {
		s += fmt.Sprintf(" Its inner maps are %s maps, key %s (%s), value %s (%s), %s.",
			in.Type, typeText(in.Key), plural(int(in.KeySize), "byte", "bytes"),
			typeText(in.Value), plural(int(in.ValueSize), "byte", "bytes"),
			plural(int(in.MaxEntries), "entry", "entries"))
	}
	if m.Desc != nil && m.Desc.Pinning == ebpf.PinByName {
		s += " Pinned by name under LoadOptions.Maps.PinPath (default bpfskel.DefaultPinPath) and reused from there."
	}
	return s
}

// openMapsFunc emits OpenMaps, which opens typed handles on the maps of
// the object that another process loaded; the runtime finds and checks
// them. Objects without maps get none.
func openMapsFunc(f *jen.File, obj *btfmodel.Object) {
	if len(obj.Maps) == 0 {
		return
	}
	n := obj.Names
	file := btfmodel.Display(obj.File)
	f.Comment(fmt.Sprintf("%s opens typed handles on the maps of %s that another process", n.OpenMaps, file))
	f.Comment("(or an earlier run) loaded, without loading anything. from finds them pinned in")
	f.Comment("a bpffs directory (bpfskel.PinnedIn), at given paths (bpfskel.PinnedAt), by")
	f.Comment("name among the kernel's maps (bpfskel.ByName) or by ID (bpfskel.ByID). Each map")
	f.Comment("is checked against the object as Load checks it. Close the result when done.")
	opened := jen.Op("*").Qual(runtimePath, "Opened").Types(jen.Id(n.Maps))
	f.Func().Id(n.OpenMaps).Params(jen.Id("from").Qual(runtimePath, "MapSource")).Params(opened, jen.Error()).Block(
		jen.List(jen.Id("s"), jen.Err()).Op(":=").Qual(runtimePath, "Open").Call(jen.Lit(obj.File), jen.Id(n.Object)),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Qual(runtimePath, "OpenMaps").Call(
			jen.Id("s"), jen.Id("from"),
			jen.Func().Params(jen.Id("b").Op("*").Qual(runtimePath, "Binder")).Id(n.Maps).Block(
				jen.Return(mapsValue(obj)),
			),
		)),
	)
}
