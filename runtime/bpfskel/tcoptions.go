package bpfskel

// TCOptions are the optional parts of a classic TC attach
// ([TCProgram.AttachTC]). The zero value attaches at priority 1, handle 1,
// as libbpf's examples do. (libbpf's bpf_tc_attach itself lets the kernel
// pick for zeros; a fixed place makes a second attach an error, not a
// second filter.)
type TCOptions struct {
	// Priority of the filter among the interface's filters in that
	// direction (tc's "pref"): lower runs first. 0 means 1.
	Priority uint16
	// Handle of the filter at that priority. 0 means 1.
	Handle uint32
}

// tcPlace returns the priority and handle opts asks for.
func (o *TCOptions) tcPlace() (prio uint16, handle uint32) {
	prio, handle = 1, 1
	if o != nil {
		if o.Priority != 0 {
			prio = o.Priority
		}
		if o.Handle != 0 {
			handle = o.Handle
		}
	}
	return prio, handle
}
