//go:build ignore

// The runtime's event-reader test object, generated with -event for each
// ring buffer and perf event array (events.txt) and -type classify_args
// (types.txt).
#include "../../../runtime/bpfskel/testdata/events.bpf.c"
