// Package layoutbe is the golden case of the layout program built for a
// big-endian target. Its skeleton, layoutbe_bpfeb.go, builds only for
// big-endian GOARCHes; this file keeps the package non-empty elsewhere.
package layoutbe
