package btfmodel

import (
	"encoding/hex"
	"fmt"
	"go/token"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Identifier turns a C name into an exported Go identifier.
//
// The rule is bpf2go's (task_struct → TaskStruct, TCP_FLAG stays TCP_FLAG)
// with one addition: '.' separates words (.data.counters → DataCounters).
// Only ASCII letters, digits and '_' survive: BTF names are untrusted input
// and nothing else of them reaches the output. The result may be empty or
// start with a digit; callers reject such names through checkIdent.
func Identifier(s string) string {
	var b strings.Builder
	prev := rune(-1) // -1: start of a word
	for _, r := range s {
		switch {
		case isASCIILetter(r):
			if prev == -1 && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
		case r == '_':
			// Drop an underscore at the start of a word or after a lower
			// case letter or digit, and start a new word.
			if prev == -1 || isDigit(prev) || (prev >= 'a' && prev <= 'z') {
				prev = -1
				continue
			}
		case r == '.':
			prev = -1
			continue
		case isDigit(r):
		default:
			continue // dropped; prev unchanged
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

func isASCIILetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
func isDigit(r rune) bool       { return r >= '0' && r <= '9' }

// checkIdent reports why id cannot be an exported Go identifier. Derived
// names can only fail the first two ways; renames from the command line can
// fail any.
func checkIdent(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("has no letters or digits to make a Go name from")
	case isDigit(rune(id[0])):
		return fmt.Errorf("makes the Go name %q, which starts with a digit", id)
	case id[0] < 'A' || id[0] > 'Z':
		return fmt.Errorf("makes the Go name %q, which is not exported (it must start with A to Z)", id)
	}
	for _, r := range id {
		if !isASCIILetter(r) && !isDigit(r) && r != '_' {
			return fmt.Errorf("makes the Go name %q, which is not a Go identifier (letters, digits and '_' only)", id)
		}
	}
	return nil
}

// origin is a C thing a Go name was made for, for error messages and renames.
type origin struct {
	kind   string // "map", "program", "struct", "union", "enum", "enum value", "variable", "member", "section", "skeleton"
	cname  string
	parent string // members: the C name (or Go name, when anonymous) of the type they belong to
}

func (o origin) String() string {
	switch o.kind {
	case "skeleton":
		return fmt.Sprintf("the generated %s", o.cname)
	case "member":
		return fmt.Sprintf("member %q of %s", o.cname, o.parent)
	}
	return fmt.Sprintf("%s %q", o.kind, o.cname)
}

// renameKey is the -rename spelling that renames this origin, or "".
func (o origin) renameKey() string {
	switch o.kind {
	case "map", "program", "variable", "struct", "union", "enum":
		return o.kind + ":" + o.cname
	case "enum value":
		return "value:" + o.cname
	case "member":
		return "member:" + o.parent + "." + o.cname
	}
	return ""
}

// How names are resolved
//
// Names are decided per scope: the package, the fields of each struct (and
// data section), the accessors of each union, and the Maps, Programs and
// skeleton structs. Every scope is resolved once the whole object is read,
// so the result depends only on the names in the scope, never on their
// order in the object:
//
//  1. Identifiers the generator declares itself in the scope (Skeleton,
//     Load, Close, ...) are reserved, as are embedded fields, which must be
//     named after their type.
//  2. A -rename gives exactly the name asked for. A rename that meets a
//     reserved name, another rename or another C thing's derived name is an
//     error: the user chose that name, so bpfskel does not move it or
//     anything else silently.
//  3. Of the C things whose derived name (see Identifier) is the same, the
//     one that maps most naturally keeps it: the fewest characters dropped
//     by the identifier rule, then a C spelling equal to the Go name, then
//     the bytewise smallest C name.
//  4. Every other one, taken in that same order, gets the first name of
//     these that is free in the scope: its C spelling with its first letter
//     made upper case (my_map -> My_map), with an X in front when it does
//     not start with a letter (__blk_start -> X__blk_start); X followed by
//     its C spelling (close -> Xclose); that with _2, _3, ... A C spelling
//     is reduced to ASCII letters, digits and '_' ('.' becomes '_'); one
//     with nothing left is spelled X_ and its bytes in hex. A note says
//     which name it got and why.
//
// A derived name that is no identifier (a C name with no letters, or one
// that starts with a digit) goes straight to step 4.
//
// Two different C things with the same C spelling and kind (two struct foo
// in a linked object) are the one case step 3 cannot order by name: the
// first in the object keeps the name.

// namer makes every Go name of an object: it applies renames and the
// identifier rule, and it resolves collisions in each scope.
type namer struct {
	renames map[string]string // "map:my_map" -> "MyMapA"
	used    map[string]bool   // renames that matched something
	scopes  []*scope
	errs    []error
	notes   []string
}

func newNamer(renames map[string]string) *namer {
	return &namer{renames: renames, used: map[string]bool{}}
}

// name returns the Go name for o, derived from base (usually o.cname).
func (n *namer) name(o origin, base string) string {
	name, _ := n.rename(o, base)
	return name
}

// rename is name, and reports whether the name came from a -rename.
func (n *namer) rename(o origin, base string) (string, bool) {
	if key := o.renameKey(); key != "" {
		if to, ok := n.renames[key]; ok {
			n.used[key] = true
			return to, true
		}
	}
	return Identifier(base), false
}

// renamed reports whether id is the -rename of o.
func (n *namer) renamed(o origin, id string) bool {
	key := o.renameKey()
	if key == "" {
		return false
	}
	to, ok := n.renames[key]
	return ok && to == id
}

// scope is one namespace of Go identifiers: the package, the fields and
// methods of one type.
type scope struct {
	n     *namer
	what  string // "the package", "struct foo", ...
	first bool   // resolved before every other scope (the package: embedded fields read its names)

	reserved map[string]string // identifier -> what the generator declares there
	claims   []*claim
}

// claim is one C thing asking for a Go name in a scope.
type claim struct {
	o        origin
	natural  string // derived by the identifier rule, or the -rename
	renamed  bool
	accessor bool          // the name is a getter; "Set"+name is its setter
	pinned   func() string // non-nil: the name is fixed (an embedded field is named after its type)
	set      func(string)  // writes the final name into the model
	seq      int           // position in the scope, for the one tie names cannot break
}

func (n *namer) scope(what string) *scope {
	s := &scope{n: n, what: what, reserved: map[string]string{}}
	n.scopes = append(n.scopes, s)
	return s
}

// reserve declares an identifier the generator itself puts in the scope:
// a method gen emits on a type (a getter of a bitfield, a decoder) must be
// reserved in that type's field scope, so that a C member of the same name
// moves instead of breaking the build.
func (s *scope) reserve(id, what string) { s.reserved[id] = what }

// add claims *p, the Go name of o, in the scope; resolve writes the final
// name back to *p.
func (s *scope) add(p *string, o origin) {
	s.claim(&claim{o: o, natural: *p, set: func(id string) { *p = id }})
}

// addAccessor claims a getter *get and its setter *set ("Set" + getter) as
// one name: both move together.
func (s *scope) addAccessor(get, set *string, o origin) {
	s.claim(&claim{o: o, natural: *get, accessor: true, set: func(id string) { *get, *set = id, "Set"+id }})
}

// addPinned claims the name that name returns once the scopes it depends
// on are resolved: an embedded field is named after its type (the package
// scope), a promoted accessor by its union's scope. *p receives it, unless
// p is nil.
func (s *scope) addPinned(p *string, o origin, name func() string) {
	s.claim(&claim{o: o, pinned: name, set: func(id string) {
		if p != nil {
			*p = id
		}
	}})
}

func (s *scope) claim(c *claim) {
	c.renamed = c.pinned == nil && s.n.renamed(c.o, c.natural)
	c.seq = len(s.claims)
	s.claims = append(s.claims, c)
}

// forms are the identifiers a claim occupies under name id.
func (c *claim) forms(id string) []string {
	if c.accessor {
		return []string{id, "Set" + id}
	}
	return []string{id}
}

// resolve gives every claim of every scope its final name. The package scope
// goes first: embedded fields elsewhere are named after its types. The
// others go from the last made to the first: a type's scope is made before
// the scopes of the types nested in it, and a struct pins the names of the
// accessors its embedded unions promote, which their own scopes decide.
func (n *namer) resolve() {
	order := slices.Clone(n.scopes)
	slices.Reverse(order)
	sort.SliceStable(order, func(i, j int) bool { return order[i].first && !order[j].first })
	for _, s := range order {
		s.resolve()
	}
}

func (s *scope) resolve() {
	taken := map[string]string{} // identifier -> who holds it, for messages
	free := func(c *claim, id string) bool {
		for _, f := range c.forms(id) {
			if _, ok := taken[f]; ok {
				return false
			}
		}
		return true
	}
	holder := func(c *claim, id string) string {
		for _, f := range c.forms(id) {
			if h, ok := taken[f]; ok {
				return f + " " + h
			}
		}
		return ""
	}
	occupy := func(c *claim, id, who string) {
		for _, f := range c.forms(id) {
			taken[f] = who
		}
		c.set(id)
	}

	for _, id := range slices.Sorted(maps.Keys(s.reserved)) {
		if err := checkIdent(id); err != nil {
			s.n.errs = append(s.n.errs, fmt.Errorf("%s in %s %w; choose another -stem", s.reserved[id], s.what, err))
		}
		taken[id] = "is " + s.reserved[id]
	}
	var fixed, groups []*claim
	for _, c := range s.claims {
		switch {
		case c.pinned != nil:
			c.natural = c.pinned()
			fixed = append(fixed, c)
		case c.renamed:
			fixed = append(fixed, c)
		default:
			groups = append(groups, c)
		}
	}
	// Pinned and renamed names are exactly what they are, or an error.
	sort.SliceStable(fixed, func(i, j int) bool { return fixed[i].natural < fixed[j].natural })
	for _, c := range fixed {
		if err := checkIdent(c.natural); err != nil {
			s.n.errs = append(s.n.errs, fmt.Errorf("%s: %w%s", c.o, err, renameHint(c.o)))
			continue
		}
		if !free(c, c.natural) {
			s.n.errs = append(s.n.errs, fmt.Errorf("%s cannot be %s in %s: %s%s", c.o, c.natural, s.what, holder(c, c.natural), renameHint(c.o)))
			continue
		}
		occupy(c, c.natural, "belongs to "+c.o.String())
	}
	// A derived name that meets a rename is an error too (rule 2).
	for _, c := range groups {
		if r := s.renamedHolder(c.natural); r != nil {
			s.n.errs = append(s.n.errs, fmt.Errorf("-rename %s=%s gives %s the Go name that %s has in %s; choose another name with -rename %s=NAME", r.o.renameKey(), r.natural, r.o, c.o, s.what, r.o.renameKey()))
		}
	}

	sort.SliceStable(groups, func(i, j int) bool { return lessNatural(groups[i], groups[j]) })
	var losers []*claim
	reason := map[*claim]string{}
	for _, c := range groups {
		if err := checkIdent(c.natural); err != nil {
			losers = append(losers, c)
			reason[c] = err.Error()
			continue
		}
		if !free(c, c.natural) {
			losers = append(losers, c)
			reason[c] = fmt.Sprintf("in %s, %s", s.what, holder(c, c.natural))
			continue
		}
		occupy(c, c.natural, "belongs to "+c.o.String())
	}
	// Losers are already in rule 3's order: groups was sorted.
	for _, c := range losers {
		id := ""
		for i, alt := 0, alternatives(c.o.cname); ; i++ {
			if i < len(alt) {
				id = alt[i]
			} else {
				id = fmt.Sprintf("%s_%d", alt[len(alt)-1], i-len(alt)+2)
			}
			if free(c, id) {
				break
			}
		}
		occupy(c, id, "belongs to "+c.o.String())
		s.n.notes = append(s.n.notes, fmt.Sprintf("%s is named %s: %s%s", c.o, id, reason[c], renameHint(c.o)))
	}
}

// renamedHolder returns the renamed claim that holds id, or nil.
func (s *scope) renamedHolder(id string) *claim {
	for _, c := range s.claims {
		if c.renamed && c.natural == id {
			return c
		}
	}
	return nil
}

// lessNatural orders claims by how naturally their C name makes its Go
// name (rule 3), then by name, so the order never depends on the object.
func lessNatural(a, b *claim) bool {
	da, db := len(a.o.cname)-len(Identifier(a.o.cname)), len(b.o.cname)-len(Identifier(b.o.cname))
	if da != db {
		return da < db
	}
	ea, eb := Identifier(a.o.cname) == a.o.cname, Identifier(b.o.cname) == b.o.cname
	if ea != eb {
		return ea
	}
	if a.o.cname != b.o.cname {
		return a.o.cname < b.o.cname
	}
	if a.o.kind != b.o.kind {
		return a.o.kind < b.o.kind
	}
	if a.o.parent != b.o.parent {
		return a.o.parent < b.o.parent
	}
	return a.seq < b.seq
}

// alternatives are the names rule 4 tries for a C name, in order; the last
// one is the stem of the numbered ones.
func alternatives(cname string) []string {
	var b strings.Builder
	for _, r := range cname {
		switch {
		case isASCIILetter(r) || isDigit(r) || r == '_':
			b.WriteRune(r)
		case r == '.':
			b.WriteByte('_')
		}
	}
	lit := b.String()
	if strings.Trim(lit, "_") == "" {
		return []string{"X_" + hex.EncodeToString([]byte(cname))}
	}
	first := lit
	switch c := first[0]; {
	case c >= 'a' && c <= 'z':
		first = string(c-'a'+'A') + first[1:]
	case c < 'A' || c > 'Z':
		first = "X" + first
	}
	if x := "X" + lit; x != first {
		return []string{first, x}
	}
	return []string{first}
}

func renameHint(o origin) string {
	key := o.renameKey()
	if key == "" {
		return ""
	}
	return fmt.Sprintf("; choose the name with -rename %s=NAME", key)
}

// err resolves every scope and returns every naming error, and an error
// for renames that matched nothing (a typo there would otherwise pass
// silently).
func (n *namer) err() error {
	var unused []string
	for k := range n.renames {
		if !n.used[k] {
			unused = append(unused, k)
		}
	}
	sort.Strings(unused)
	errs := n.errs
	for _, k := range unused {
		errs = append(errs, fmt.Errorf("-rename %s matches nothing in the object", k))
	}
	return joinSorted(errs)
}

// ParseRename parses one rename, KIND:CNAME=GoName, into its key for
// Options.Renames ("KIND:CNAME") and the Go name. KIND is map, program,
// variable, struct, union, enum, value (an enum constant) or member (CNAME
// is then TYPE.FIELD); GoName must be an exported Go identifier.
func ParseRename(s string) (key, goName string, err error) {
	key, goName, ok := strings.Cut(s, "=")
	kind, name, ok2 := strings.Cut(key, ":")
	if !ok || !ok2 || name == "" || goName == "" {
		return "", "", fmt.Errorf("%q is not KIND:CNAME=GoName", s)
	}
	switch kind {
	case "map", "program", "variable", "struct", "union", "enum", "value", "member":
	default:
		return "", "", fmt.Errorf("%q: KIND must be one of map, program, variable, struct, union, enum, value, member", s)
	}
	if !token.IsIdentifier(goName) || !token.IsExported(goName) {
		return "", "", fmt.Errorf("%q: %q is not an exported Go identifier", s, goName)
	}
	return key, goName, nil
}
