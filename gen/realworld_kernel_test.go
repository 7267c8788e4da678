package gen_test

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/testdata/realworld/globals"
	"github.com/bpfskel/bpfskel/testdata/realworld/legacymaps"
	"github.com/bpfskel/bpfskel/testdata/realworld/usdt"
	"github.com/bpfskel/bpfskel/testdata/realworld/xdpfilter"
)

// TestRealWorldGlobalsInKernel: the skeleton of the rich-global-data object
// reads what the program wrote to custom .data.* sections and the initial
// values of .data, and its writes reach the program.
func TestRealWorldGlobalsInKernel(t *testing.T) {
	skel := mustLoad(t, globals.Load)
	data, err := skel.Data.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	if data.Ports != [4]uint16{80, 443, 8080, 8443} || data.Offset != -7 || string(data.Banner[:7]) != "bpfskel" {
		t.Errorf(".data = %+v, want the C initialisers", data)
	}
	if err := skel.DataLimits.Set(0, globals.DataLimits{Limits: [2]uint32{100, 0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Programs.Count.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	limits, err := skel.DataLimits.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	if limits.Limits != [2]uint32{100, 101} {
		t.Errorf(".data.limits = %v after one run, want [100 101] (limits[0] set from Go, plus one call)", limits.Limits)
	}
	hits, err := skel.DataHits.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(1 + 0xcafe + 3); hits.Hits != want {
		t.Errorf(".data.hits = %#x, want %#x (1 + magic from .rodata.consts + levels[2])", hits.Hits, want)
	}
	if !skel.RodataConsts.ReadOnly() {
		t.Error(".rodata.consts is writable after load; the kernel froze it")
	}
}

// TestRealWorldLegacyMapsInKernel: maps from SEC("maps") have no BTF; their
// handles take byte arrays of the declared sizes, and those bytes are the
// kernel's.
func TestRealWorldLegacyMapsInKernel(t *testing.T) {
	skel := mustLoad(t, legacymaps.Load)
	pkt := make([]byte, 64) // an Ethernet frame; the socket filter reads skb->protocol
	binary.BigEndian.PutUint16(pkt[12:], 0x0801)
	if _, err := skel.Programs.CountPackets.TestRun(&bpfskel.RunOptions{Data: pkt}); err != nil {
		t.Fatal(err)
	}
	got, err := skel.Maps.AddrSeen.Lookup([6]byte{1, 2, 3, 4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	if got != [12]byte{7} {
		t.Errorf("addr_seen[01:02:03:04:05:06] = % x, want 07 and zeros", got)
	}
	var total uint64
	for i := range 4 {
		var key [4]byte
		binary.NativeEndian.PutUint32(key[:], uint32(i))
		v, err := skel.Maps.PktCount.Lookup(key)
		if err != nil {
			t.Fatal(err)
		}
		total += binary.NativeEndian.Uint64(v[:])
	}
	if total != 1 {
		t.Errorf("pkt_count sums to %d over its 4 slots, want 1", total)
	}
	if n, err := skel.Maps.BtfTotal.Lookup(0); err != nil || n != 1 {
		t.Errorf("btf_total[0] = %d, %v; want 1", n, err)
	}
}

// TestRealWorldXDPInKernel: a UDP packet through the XDP firewall makes one
// flow whose statistics Go reads through the typed LRU hash.
func TestRealWorldXDPInKernel(t *testing.T) {
	skel := mustLoad(t, xdpfilter.Load)
	pkt := make([]byte, 14+20+8+18)
	binary.BigEndian.PutUint16(pkt[12:], 0x0800) // IPv4
	ip := pkt[14:]
	ip[0], ip[9] = 0x45, 17 // version 4, IHL 5; UDP
	binary.BigEndian.PutUint16(ip[2:], uint16(len(pkt)-14))
	copy(ip[12:], []byte{10, 0, 0, 1})
	copy(ip[16:], []byte{10, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[20:], 5000)
	binary.BigEndian.PutUint16(ip[22:], 53)
	ret, err := skel.Programs.XdpFilter.TestRun(&bpfskel.RunOptions{Data: pkt})
	if err != nil {
		t.Fatal(err)
	}
	if ret != 2 { // XDP_PASS
		t.Errorf("xdp_filter returned %d, want XDP_PASS (2)", ret)
	}
	n := 0
	it := skel.Maps.Flows.Iterate()
	for it.Next() {
		n++
		if s := it.Value(); s.Packets != 1 || s.Bytes != uint64(len(pkt)) || s.LastSeenNs == 0 {
			t.Errorf("flow statistics %+v, want 1 packet of %d bytes and a time", s, len(pkt))
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d flows after one packet, want 1", n)
	}
}

// TestRealWorldUSDT: the skeleton of an object built on libbpf's
// usdt.bpf.h (__weak maps, __hidden helpers, LINUX_HAS_BPF_COOKIE) loads,
// and its usdt program attached with AttachUSDT to the runtime's test
// target reads the probe's arguments, the argument count and the cookie.
func TestRealWorldUSDT(t *testing.T) {
	skel := mustLoad(t, usdt.Load)
	rd, err := skel.Maps.Calls.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	// LINUX_HAS_BPF_COOKIE, which the runtime resolves itself, read from
	// Go: this kernel has BPF cookies.
	kc, err := skel.Kconfig.Get()
	if err != nil {
		t.Fatal(err)
	}
	if !kc.LINUX_HAS_BPF_COOKIE {
		t.Errorf(".kconfig = %+v, want LINUX_HAS_BPF_COOKIE true", kc)
	}
	const target = "../runtime/bpfskel/testdata/usdt_target"
	if _, err := skel.Programs.UsdtManualAttach.AttachUSDT(target, "bpfskel", "reg", &bpfskel.USDTOptions{Cookie: 99}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(target, "2")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	// struct call of usdt.bpf.c: BTF does not describe it (no global, map
	// or function uses the type), so the records are raw.
	type call struct {
		Pid     uint32
		ArgInt  int32
		ArgLong int64
		Cookie  uint64
		Probe   [16]byte
	}
	var got []call
	rd.SetDeadline(time.Now().Add(100 * time.Millisecond))
	for {
		raw, err := rd.ReadRaw()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var c call
		if _, err := binary.Decode(raw, binary.NativeEndian, &c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if len(got) != 2 {
		t.Fatalf("%d records, want 2 (the target fires bpfskel:reg twice): %+v", len(got), got)
	}
	for i, c := range got {
		// usdt_manual_attach: x is the first argument, y the second plus
		// bpf_usdt_arg_cnt (3).
		if c.Pid != uint32(cmd.Process.Pid) || c.ArgInt != int32(7+i) || c.ArgLong != -5000000000+3 || c.Cookie != 99 {
			t.Errorf("record %d = %+v, want pid %d, arg_int %d, arg_long %d, cookie 99", i, c, cmd.Process.Pid, 7+i, -5000000000+3)
		}
	}
}
