package btfmodel

import "strings"

// viewMethods are the methods and the embedded field that a section's
// variables struct gets from the *bpfskel.View it embeds: a variable may
// not take one of these names.
var viewMethods = []string{"View", "Get", "Set", "Len", "ReadOnly", "Close"}

// lifecycleNames names what the skeleton's lifecycle adds to the package:
// the pre-load settings structs, one exported constant per object, map,
// program and section name, and one variables struct per section. Every
// name is claimed in pkg, so a collision is an error naming both sides.
func lifecycleNames(obj *Object, n *namer, pkg *scope) {
	if len(n.errs) > 0 {
		// The names below derive from names that already failed: their
		// collisions would only repeat those errors.
		return
	}
	stem := strings.TrimSuffix(obj.Names.Skeleton, "Skeleton")
	obj.Names.MapSpecs = stem + "MapSpecs"
	obj.Names.ProgramSpecs = stem + "ProgramSpecs"
	obj.Names.ObjectName = stem + "ObjectName"
	for _, id := range []string{obj.Names.MapSpecs, obj.Names.ProgramSpecs, obj.Names.ObjectName} {
		pkg.add(id, origin{kind: "skeleton", cname: id})
	}
	for _, m := range obj.Maps {
		m.ConstName = stem + "MapName" + m.GoName
		pkg.add(m.ConstName, origin{kind: "map", cname: m.CName})
	}
	for _, p := range obj.Programs {
		p.ConstName = stem + "ProgramName" + p.GoName
		pkg.add(p.ConstName, origin{kind: "program", cname: p.CName})
	}
	for _, s := range obj.Sections {
		s.ConstName = stem + "SectionName" + s.GoName
		s.VarsName = s.Decl.GoName + "Vars"
		pkg.add(s.ConstName, origin{kind: "section", cname: s.CName})
		pkg.add(s.VarsName, origin{kind: "section", cname: s.CName})

		fields := n.scope("the " + s.VarsName + " struct")
		for _, m := range viewMethods {
			fields.add(m, origin{kind: "skeleton", cname: "View." + m})
		}
		for _, f := range s.Decl.Fields {
			if !f.Padding() {
				fields.add(f.GoName, origin{kind: "variable", cname: f.CName})
			}
		}
	}
}
