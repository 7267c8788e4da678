package btfmodel

import (
	"fmt"
	"go/token"
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

// namer makes every Go name of an object: it applies renames and the
// identifier rule, and it finds collisions in each scope.
type namer struct {
	renames map[string]string // "map:my_map" -> "MyMapA"
	used    map[string]bool   // renames that matched something
	errs    []error
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

// scope is one namespace of Go identifiers: the package, the fields and
// methods of one type.
type scope struct {
	n     *namer
	what  string // "package", "struct foo", ...
	names map[string]origin
}

func (n *namer) scope(what string) *scope {
	return &scope{n: n, what: what, names: map[string]origin{}}
}

// add claims id for o in the scope and records an error when id is not a
// valid identifier or another C thing already has it.
func (s *scope) add(id string, o origin) {
	if err := checkIdent(id); err != nil {
		s.n.errs = append(s.n.errs, fmt.Errorf("%s: %w%s", o, err, renameHint(o)))
		return
	}
	prev, dup := s.names[id]
	if !dup {
		s.names[id] = o
		return
	}
	// Report the pair in a stable order so the message does not depend on
	// which was seen first.
	a, b := prev, o
	if b.String() < a.String() {
		a, b = b, a
	}
	hint := renameHint(b)
	if hint == "" {
		hint = renameHint(a)
	}
	s.n.errs = append(s.n.errs, fmt.Errorf("%s and %s both become the Go name %s in %s%s", a, b, id, s.what, hint))
}

func renameHint(o origin) string {
	key := o.renameKey()
	if key == "" {
		return ""
	}
	return fmt.Sprintf("; rename one with -rename %s=NewName", key)
}

// err returns every naming error, and an error for renames that matched
// nothing (a typo there would otherwise pass silently).
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
