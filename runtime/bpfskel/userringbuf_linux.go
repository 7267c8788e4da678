//go:build linux

package bpfskel

import (
	"errors"
	"math"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	protRead      = unix.PROT_READ
	protReadWrite = unix.PROT_READ | unix.PROT_WRITE
)

// mmapUserRing maps a user ring buffer of size data bytes the way the
// kernel allows (kernel/bpf/ringbuf.c, ringbuf_map_mmap_user): the consumer
// position page read-only at offset 0, then from offset one page the
// producer position page and the data pages, which the kernel maps twice
// in a row, read-write.
func mmapUserRing(fd int, size uintptr) ([2]mapping, error) {
	page := uintptr(os.Getpagesize())
	cons, err := unix.MmapPtr(fd, 0, nil, page, protRead, unix.MAP_SHARED)
	if err != nil {
		return [2]mapping{}, err
	}
	if size > (math.MaxInt-page)/2 {
		_ = unix.MunmapPtr(cons, page)
		return [2]mapping{}, unix.ENOMEM
	}
	rest := page + 2*size
	prod, err := unix.MmapPtr(fd, int64(page), nil, rest, protReadWrite, unix.MAP_SHARED)
	if err != nil {
		_ = unix.MunmapPtr(cons, page)
		return [2]mapping{}, err
	}
	return [2]mapping{{addr: cons, size: page}, {addr: prod, size: rest}}, nil
}

// ringWaiter waits on a ring buffer map: an epoll instance watching the
// map for the events the caller names, and an eventfd that wakes it from
// user space. A user ring buffer's producer waits for room with
// userRingEvents, a ring buffer's reader for records with EPOLLIN.
type ringWaiter struct {
	epfd, evfd int
	events     [2]unix.EpollEvent
}

// userRingEvents is what a user ring buffer's producer waits for: EPOLLOUT,
// edge-triggered (the kernel wakes the map's wait queue after
// bpf_user_ringbuf_drain consumed records; level-triggered EPOLLOUT holds
// whenever the ring is not entirely full, and would spin).
const userRingEvents = unix.EPOLLOUT | unix.EPOLLET

func newRingWaiter(mapFD int, events uint32) (*ringWaiter, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	w := &ringWaiter{epfd: epfd, evfd: evfd}
	out := unix.EpollEvent{Events: events, Fd: int32(mapFD)}
	in := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, mapFD, &out); err != nil {
		w.close()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &in); err != nil {
		w.close()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return w, nil
}

func (w *ringWaiter) eventFD() int { return w.evfd }

// wait blocks until the map signals, the eventfd is written or deadline
// (unless zero) passes, and returns early on a signal; the caller checks
// again what it waits for. woken says the eventfd was written; that wakeup
// is consumed.
func (w *ringWaiter) wait(deadline time.Time) (woken bool, err error) {
	msec := -1
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return false, nil // the caller sees its deadline passed
		}
		// Round up, so that a wait does not end before the deadline.
		msec = int(min((d+time.Millisecond-1)/time.Millisecond, math.MaxInt32))
	}
	n, err := unix.EpollWait(w.epfd, w.events[:], msec)
	if errors.Is(err, unix.EINTR) {
		return false, nil
	}
	if err != nil {
		return false, os.NewSyscallError("epoll_wait", err)
	}
	for _, ev := range w.events[:n] {
		if ev.Fd == int32(w.evfd) {
			var buf [8]byte
			_, _ = unix.Read(w.evfd, buf[:])
			woken = true
		}
	}
	return woken, nil
}

func (w *ringWaiter) close() error {
	return errors.Join(unix.Close(w.evfd), unix.Close(w.epfd))
}

// wakeEventFD adds one to the eventfd fd.
func wakeEventFD(fd int) {
	one := uint64(1)
	_, _ = unix.Write(fd, unsafe.Slice((*byte)(unsafe.Pointer(&one)), 8))
}
