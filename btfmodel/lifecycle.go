package btfmodel

import (
	"fmt"
	"slices"
	"strings"
)

// viewMethods are the methods and the embedded field that a section's
// variables struct gets from the *bpfskel.View it embeds: a variable may
// not take one of these names.
var viewMethods = []string{"View", "Get", "Set", "Len", "ReadOnly", "Close"}

// lifecycleNames names what the skeleton's lifecycle adds to the package:
// the pre-load settings structs, one exported constant per object, map,
// program and section name, and one variables struct per section. It runs
// once every other name is resolved, derives these from the final Go
// names, and reports a collision with anything else in the package as an
// error naming both and the fix.
func lifecycleNames(obj *Object) error {
	stem := strings.TrimSuffix(obj.Names.Skeleton, "Skeleton")
	taken := map[string]string{}
	sk := obj.Names
	for _, id := range []string{sk.Skeleton, sk.Maps, sk.Programs, sk.Spec, sk.Open, sk.Load, sk.OpenMaps, sk.Object} {
		taken[id] = "the generated " + id
	}
	for _, d := range obj.Decls {
		taken[d.GoName] = fmt.Sprintf("%s %s", d.CKind, nameOrAnon(d.CName))
		for _, v := range d.Values {
			taken[v.GoName] = fmt.Sprintf("enum value %s", Display(v.CName))
		}
	}
	var errs []error
	claim := func(id, what string) string {
		if prev, dup := taken[id]; dup {
			errs = append(errs, fmt.Errorf("%s and %s both become the Go name %s in the package; rename one with -rename, or give the object a -stem", prev, what, id))
		}
		taken[id] = what
		return id
	}
	obj.Names.MapSpecs = claim(stem+"MapSpecs", "the generated MapSpecs type")
	obj.Names.ProgramSpecs = claim(stem+"ProgramSpecs", "the generated ProgramSpecs type")
	obj.Names.ObjectName = claim(stem+"ObjectName", "the generated ObjectName constant")
	for _, m := range obj.Maps {
		m.ConstName = claim(stem+"MapName"+m.GoName, "the name constant of map "+Display(m.CName))
	}
	for _, p := range obj.Programs {
		p.ConstName = claim(stem+"ProgramName"+p.GoName, "the name constant of program "+Display(p.CName))
	}
	for _, s := range obj.Sections {
		s.ConstName = claim(stem+"SectionName"+s.GoName, "the name constant of section "+Display(s.CName))
		s.VarsName = claim(s.Decl.GoName+"Vars", "the variables struct of section "+Display(s.CName))
		for _, f := range s.Decl.Fields {
			if !f.Padding() && slices.Contains(viewMethods, f.GoName) {
				errs = append(errs, fmt.Errorf("variable %s of section %s becomes the Go name %s, which the section's View has; rename it with -rename variable:%s=NewName",
					Display(f.CName), Display(s.CName), f.GoName, f.CName))
			}
		}
	}
	return joinSorted(errs)
}
