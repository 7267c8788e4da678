package btfmodel

import (
	"debug/elf"
	"encoding/binary"
)

// SyntheticObject writes a BPF object whose BTF has one hash map whose
// value is a struct of n members, each of its own 16-byte struct type: BTF
// that grows linearly with n, for BenchmarkGenerateScaling.
func SyntheticObject(n int, btfBlob []byte, mapsSize uint64) ([]byte, error) {
	return writeELF(binary.LittleEndian, []elfSection{
		{name: ".maps", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: make([]byte, mapsSize)},
		{name: ".BTF", typ: elf.SHT_PROGBITS, data: btfBlob},
		{name: "license", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: []byte("GPL\x00")},
	}, []elfSymbol{{name: "wide", section: 1, typ: elf.STT_OBJECT, size: mapsSize}})
}
