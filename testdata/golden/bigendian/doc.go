// Package bigendian is the golden case of a big-endian object: shapes built
// with -target bpfeb. Its skeleton, bigendian_bpfeb.go, builds only for
// big-endian GOARCHes; this file keeps the package non-empty elsewhere.
package bigendian
