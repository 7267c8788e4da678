//go:build linux

package bpfskel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The few rtnetlink requests of a classic TC attach, written by hand over
// golang.org/x/sys/unix: cilium/ebpf has no API for them, and a netlink
// library (github.com/vishvananda/netlink does all of this) would be a
// requirement every module using a skeleton has to add to its go.mod,
// which `go get -tool` for the generator does not record.

// Values of include/uapi/linux/pkt_sched.h and pkt_cls.h that
// golang.org/x/sys/unix does not define.
const (
	tcHClsact        = 0xfffffff1 // TC_H_CLSACT (= TC_H_INGRESS): the clsact qdisc's parent
	tcHMinIngress    = 0xfff2     // TC_H_MIN_INGRESS
	tcHMinEgress     = 0xfff3     // TC_H_MIN_EGRESS
	tcaBPFFD         = 6          // TCA_BPF_FD
	tcaBPFName       = 7          // TCA_BPF_NAME
	tcaBPFFlags      = 8          // TCA_BPF_FLAGS
	tcaBPFID         = 11         // TCA_BPF_ID
	tcaBPFActDirect  = 1          // TCA_BPF_FLAG_ACT_DIRECT
	sizeofTcmsg      = 20         // struct tcmsg
	nlaHeaderLen     = 4          // struct nlattr
	nlaNested        = 1 << 15    // NLA_F_NESTED
	nlaTypeMask      = 0x3fff     // ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
	clsactQdiscKind  = "clsact"
	ingressQdiscKind = "ingress"
)

// tcmsg is struct tcmsg.
type tcmsg struct {
	ifindex int32
	handle  uint32
	parent  uint32
	info    uint32 // filters: priority << 16 | protocol in network order
}

// tcEntry is a qdisc or filter of a dump.
type tcEntry struct {
	tcmsg
	kind    string
	bpfName string // cls_bpf filters
	bpfID   uint32 // cls_bpf filters: the program's ID
}

func (e tcEntry) priority() uint16 { return uint16(e.info >> 16) }

// protocol returns the filter's protocol in host order.
func (e tcEntry) protocol() uint16 { return swap16(uint16(e.info)) }

func swap16(v uint16) uint16 { return v<<8 | v>>8 }

// rtnl is a NETLINK_ROUTE socket, in the network namespace of the thread
// that opened it.
type rtnl struct {
	mu  sync.Mutex
	fd  int
	seq uint32
}

func openRtnl() (*rtnl, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening a netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding a netlink socket: %w", err)
	}
	// The kernel's error messages (extended ack) and short acks; best
	// effort: older kernels have neither.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	return &rtnl{fd: fd}, nil
}

func (r *rtnl) close() error { return unix.Close(r.fd) }

// attr appends a netlink attribute.
func attr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(nlaHeaderLen+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32attr(b []byte, typ uint16, v uint32) []byte {
	return attr(b, typ, binary.NativeEndian.AppendUint32(nil, v))
}

func strattr(b []byte, typ uint16, s string) []byte {
	return attr(b, typ, append([]byte(s), 0))
}

// tcRequest builds a tc request: the tcmsg and then attrs.
func tcRequest(m tcmsg, attrs []byte) []byte {
	b := make([]byte, 4, sizeofTcmsg+len(attrs)) // family, pad
	b[0] = unix.AF_UNSPEC
	b = binary.NativeEndian.AppendUint32(b, uint32(m.ifindex))
	b = binary.NativeEndian.AppendUint32(b, m.handle)
	b = binary.NativeEndian.AppendUint32(b, m.parent)
	b = binary.NativeEndian.AppendUint32(b, m.info)
	return append(b, attrs...)
}

// do sends one request and returns the replies of type reply (none: 0)
// until the kernel's ack (flags gets NLM_F_ACK) or, for a dump
// (NLM_F_DUMP), its end.
func (r *rtnl) do(typ, flags uint16, body []byte, reply uint16) ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	seq := r.seq
	if flags&unix.NLM_F_DUMP != unix.NLM_F_DUMP {
		flags |= unix.NLM_F_ACK
	}
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	msg = append(msg, body...)
	if err := unix.Sendto(r.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	var out [][]byte
	buf := make([]byte, 1<<16)
	for {
		n, from, err := unix.Recvfrom(r.fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not from the kernel
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("reading the kernel's netlink reply: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue // a late reply to an earlier request
			}
			switch m.Header.Type {
			case unix.NLMSG_ERROR:
				if err := nlError(m); err != nil {
					return nil, err
				}
				return out, nil
			case unix.NLMSG_DONE:
				if len(m.Data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(m.Data)); e < 0 {
						return nil, unix.Errno(-e)
					}
				}
				return out, nil
			case reply:
				if reply != 0 {
					// Copied: the next read reuses buf.
					out = append(out, append([]byte(nil), m.Data...))
				}
			}
		}
	}
}

// nlError returns the error of an NLMSG_ERROR message (nil for an ack),
// with the kernel's message when it sent one.
func nlError(m syscall.NetlinkMessage) error {
	if len(m.Data) < 4 {
		return errors.New("short netlink error message")
	}
	e := int32(binary.NativeEndian.Uint32(m.Data))
	if e == 0 {
		return nil
	}
	err := error(unix.Errno(-e))
	if m.Header.Flags&unix.NLM_F_ACK_TLVS == 0 {
		return err
	}
	// struct nlmsgerr: the error, then the request's header (and the
	// whole request unless NLM_F_CAPPED), then attributes.
	rest := m.Data[4:]
	if len(rest) < unix.NLMSG_HDRLEN {
		return err
	}
	skip := unix.NLMSG_HDRLEN
	if m.Header.Flags&unix.NLM_F_CAPPED == 0 {
		skip = int(binary.NativeEndian.Uint32(rest))
	}
	if nlmAlign(skip) > len(rest) {
		return err
	}
	for a := range attrs(rest[nlmAlign(skip):]) {
		if a.typ == unix.NLMSGERR_ATTR_MSG {
			if msg := cstring(a.data); msg != "" {
				return fmt.Errorf("%w (%s)", err, msg)
			}
		}
	}
	return err
}

func nlmAlign(n int) int { return (n + 3) &^ 3 }

type nlattr struct {
	typ  uint16
	data []byte
}

// attrs yields the attributes in b.
func attrs(b []byte) func(func(nlattr) bool) {
	return func(yield func(nlattr) bool) {
		for len(b) >= nlaHeaderLen {
			l := int(binary.NativeEndian.Uint16(b))
			if l < nlaHeaderLen || l > len(b) {
				return
			}
			if !yield(nlattr{typ: binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask, data: b[nlaHeaderLen:l]}) {
				return
			}
			b = b[min(nlmAlign(l), len(b)):]
		}
	}
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// parseTcEntry reads a qdisc or filter message of a dump.
func parseTcEntry(b []byte) (tcEntry, bool) {
	if len(b) < sizeofTcmsg {
		return tcEntry{}, false
	}
	var e tcEntry
	e.ifindex = int32(binary.NativeEndian.Uint32(b[4:]))
	e.handle = binary.NativeEndian.Uint32(b[8:])
	e.parent = binary.NativeEndian.Uint32(b[12:])
	e.info = binary.NativeEndian.Uint32(b[16:])
	var opts []byte
	for a := range attrs(b[sizeofTcmsg:]) {
		switch a.typ {
		case unix.TCA_KIND:
			e.kind = cstring(a.data)
		case unix.TCA_OPTIONS:
			opts = a.data
		}
	}
	if e.kind == "bpf" {
		for a := range attrs(opts) {
			switch {
			case a.typ == tcaBPFName:
				e.bpfName = cstring(a.data)
			case a.typ == tcaBPFID && len(a.data) >= 4:
				e.bpfID = binary.NativeEndian.Uint32(a.data)
			}
		}
	}
	return e, true
}

// ifindex returns the index of the interface called name.
func (r *rtnl) ifindex(name string) (int, error) {
	typ := uint16(unix.IFLA_IFNAME)
	if len(name) >= unix.IFNAMSIZ {
		typ = unix.IFLA_ALT_IFNAME
	}
	req := make([]byte, unix.SizeofIfInfomsg) // family AF_UNSPEC, index 0
	replies, err := r.do(unix.RTM_GETLINK, 0, strattr(req, typ, name), unix.RTM_NEWLINK)
	if err != nil {
		return 0, err
	}
	if len(replies) != 1 || len(replies[0]) < unix.SizeofIfInfomsg {
		return 0, unix.ENODEV
	}
	return int(int32(binary.NativeEndian.Uint32(replies[0][4:]))), nil
}

// tcDump runs a dump of qdiscs or filters.
func (r *rtnl) tcDump(typ uint16, m tcmsg, reply uint16) ([]tcEntry, error) {
	replies, err := r.do(typ, unix.NLM_F_DUMP, tcRequest(m, nil), reply)
	if err != nil {
		return nil, err
	}
	var out []tcEntry
	for _, b := range replies {
		if e, ok := parseTcEntry(b); ok && e.ifindex == m.ifindex {
			out = append(out, e)
		}
	}
	return out, nil
}

// clsactMsg addresses the clsact qdisc of the interface at ifindex.
func clsactMsg(ifindex int) tcmsg {
	return tcmsg{ifindex: int32(ifindex), handle: 0xffff0000, parent: tcHClsact}
}

// addClsact adds a clsact qdisc; EEXIST when a qdisc is there already.
func (r *rtnl) addClsact(ifindex int) error {
	_, err := r.do(unix.RTM_NEWQDISC, unix.NLM_F_CREATE|unix.NLM_F_EXCL, tcRequest(clsactMsg(ifindex), strattr(nil, unix.TCA_KIND, clsactQdiscKind)), 0)
	return err
}

func (r *rtnl) delClsact(ifindex int) error {
	_, err := r.do(unix.RTM_DELQDISC, 0, tcRequest(clsactMsg(ifindex), nil), 0)
	return err
}

// qdiscs lists the qdiscs of the interface at ifindex.
func (r *rtnl) qdiscs(ifindex int) ([]tcEntry, error) {
	return r.tcDump(unix.RTM_GETQDISC, tcmsg{ifindex: int32(ifindex)}, unix.RTM_NEWQDISC)
}

// filters lists the filters under parent of the interface at ifindex:
// an entry per filter, and one without a handle per priority.
func (r *rtnl) filters(ifindex int, parent uint32) ([]tcEntry, error) {
	return r.tcDump(unix.RTM_GETTFILTER, tcmsg{ifindex: int32(ifindex), parent: parent}, unix.RTM_NEWTFILTER)
}

// filterMsg addresses a filter of every protocol.
func filterMsg(ifindex int, parent uint32, prio uint16, handle uint32) tcmsg {
	return tcmsg{ifindex: int32(ifindex), handle: handle, parent: parent, info: uint32(prio)<<16 | uint32(swap16(unix.ETH_P_ALL))}
}

// addBPFFilter adds a cls_bpf filter in direct-action mode running the
// program fd; EEXIST when a filter has that priority and handle.
func (r *rtnl) addBPFFilter(m tcmsg, fd int, name string) error {
	var opts []byte
	opts = u32attr(opts, tcaBPFFD, uint32(fd))
	opts = strattr(opts, tcaBPFName, name)
	opts = u32attr(opts, tcaBPFFlags, tcaBPFActDirect)
	a := strattr(nil, unix.TCA_KIND, "bpf")
	a = attr(a, unix.TCA_OPTIONS|nlaNested, opts)
	_, err := r.do(unix.RTM_NEWTFILTER, unix.NLM_F_CREATE|unix.NLM_F_EXCL, tcRequest(m, a), 0)
	return err
}

func (r *rtnl) delFilter(m tcmsg) error {
	_, err := r.do(unix.RTM_DELTFILTER, 0, tcRequest(m, strattr(nil, unix.TCA_KIND, "bpf")), 0)
	return err
}
