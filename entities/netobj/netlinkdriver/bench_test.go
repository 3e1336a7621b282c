//go:build linux

package netlinkdriver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

// BenchmarkAddresses applies 1,000 addresses to one veth in a namespace,
// through netobj.Commit (snapshot, state machine, read-back) and directly
// through netlink.AddrAdd, in the same run. The addresses are deleted
// between iterations, outside the timer. The issue asks Commit to stay
// within 1.5x of netlink:
//
//	go test -run '^$' -bench Addresses -benchtime 20x ./entities/netobj/netlinkdriver
func BenchmarkAddresses(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	d := newDriver(b)
	h := d.Handle()
	v := netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldState, "up")
	if _, err := netobj.Commit(ctx, d, want(v), netobj.CommitOptions{}); err != nil {
		b.Fatal(err)
	}
	link, err := h.LinkByName("v0")
	if err != nil {
		b.Fatal(err)
	}
	cidrs := make([]string, n)
	addrs := make([]*netlink.Addr, n)
	changes := make([]netobj.Change, n)
	for i := range n {
		cidrs[i] = fmt.Sprintf("10.%d.%d.1/24", 100+i/256, i%256)
		if addrs[i], err = netlink.ParseAddr(cidrs[i]); err != nil {
			b.Fatal(err)
		}
		o := netobj.Address("v0", cidrs[i])
		changes[i] = netobj.Change{ID: o.DefaultID(), Desired: &o}
	}
	clear := func(b *testing.B) {
		b.StopTimer()
		for _, a := range addrs {
			if err := h.AddrDel(link, a); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	b.Run("netobj.Commit", func(b *testing.B) {
		for range b.N {
			if _, err := netobj.Commit(ctx, d, changes, netobj.CommitOptions{}); err != nil {
				b.Fatal(err)
			}
			clear(b)
		}
	})
	b.Run("netlink.AddrAdd", func(b *testing.B) {
		for range b.N {
			for _, a := range addrs {
				if err := h.AddrAdd(link, a); err != nil {
					b.Fatal(err)
				}
			}
			clear(b)
		}
	})
}
