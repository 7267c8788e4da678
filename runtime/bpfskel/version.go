package bpfskel

// GenVersion is the version of generated code this runtime was written for.
// A generated skeleton asserts `EnforceVersion(GenVersion - N)` where N is
// the version it was generated at, which fails to compile when the runtime
// is older than the generator.
const GenVersion = 1

// MinVersion is the oldest version of generated code this runtime still
// supports. A generated skeleton asserts `EnforceVersion(N - MinVersion)`,
// which fails to compile when the runtime dropped support for it.
const MinVersion = 1

// EnforceVersion is used by generated code to check at compile time that
// the runtime and the generated code are compatible:
//
//	const _ = bpfskel.EnforceVersion(1 - bpfskel.MinVersion)
//	const _ = bpfskel.EnforceVersion(bpfskel.GenVersion - 1)
//
// A negative constant cannot be converted to an unsigned type, so either
// line fails to compile when the versions do not fit.
type EnforceVersion uint
