// Package templates holds the prose of generated files: the header and the
// doc sentences that do not depend on the object. Go syntax is written only
// by jennifer in package gen; these files hold text, never code.
package templates

import (
	_ "embed"
	"strings"
)

//go:embed header.txt
var header string

//go:embed package.txt
var packageDoc string

// Header is the first line of every generated file: the "Code generated ...
// DO NOT EDIT." line the go tool and linters recognise. object is the
// object's file name, already escaped for a comment.
func Header(object string) string {
	return strings.TrimSpace(strings.ReplaceAll(header, "{{object}}", object))
}

// Regenerate is the sentence that tells a reader how to refresh the file.
func Regenerate() []string {
	return strings.Split(strings.TrimSpace(packageDoc), "\n")
}
