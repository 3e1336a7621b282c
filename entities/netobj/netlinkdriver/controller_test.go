//go:build linux

package netlinkdriver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/vishvananda/netlink"

	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestStaleIndexCacheIsRefreshed(t *testing.T) {
	ctx := context.Background()
	d := newDriver(t)
	h := d.Handle()
	_, err := netobj.Commit(ctx, d, want(br0, addr), netobj.CommitOptions{})
	assert.NilError(t, err)
	// br0 re-created behind the driver's back gets a new index.
	old, err := h.LinkByName("br0")
	assert.NilError(t, err)
	assert.NilError(t, h.LinkDel(old))
	assert.NilError(t, h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}))
	a, _ := netobj.Address("br0", "10.1.0.7/24").Normalize()
	assert.NilError(t, d.Add(ctx, netobj.KindAddress, a.Fields))
	l, err := h.LinkByName("br0")
	assert.NilError(t, err)
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	assert.NilError(t, err)
	assert.Equal(t, len(addrs), 1)
	assert.Equal(t, addrs[0].IPNet.String(), "10.1.0.7/24")
}

func TestControllerInNamespaceRepairsDrift(t *testing.T) {
	d := newDriver(t)
	h := d.Handle()
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	c := config.New(b, config.Options{})
	t.Cleanup(func() { c.Close() })
	err := c.Txn(t.Context(), func(tx *config.Txn) error {
		for _, o := range []netobj.Object{br0, veth, addr, rt, netobj.Interface("d0", netobj.TypeDummy)} {
			if _, err := (netobj.Paths{}).PutDesired(tx, "ns1", "", o); err != nil {
				return err
			}
		}
		return nil
	})
	assert.NilError(t, err)
	ctl := &netobj.Controller{Config: c, Target: "ns1", Driver: d, DriverName: "netlink", ObserveInterval: time.Hour}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ctl.Run(ctx) }()
	defer func() {
		cancel()
		assert.NilError(t, <-done)
	}()
	br0Addrs := func() []string {
		l, err := h.LinkByName("br0")
		if err != nil {
			return nil
		}
		as, _ := h.AddrList(l, netlink.FAMILY_V4)
		var out []string
		for _, a := range as {
			out = append(out, a.IPNet.String())
		}
		return out
	}
	sdptest.WaitFor(t, "address applied", func() bool { return len(br0Addrs()) == 1 })
	var dummy netobj.Status
	sdptest.WaitFor(t, "statuses written", func() bool {
		var n int
		_ = c.Txn(t.Context(), func(tx *config.Txn) error {
			m, err := netobj.Paths{}.ListObserved(tx.Txn, "ns1")
			for _, st := range m {
				if st.State == netobj.StateSystem {
					n++
				}
			}
			dummy = m[netobj.Ref{Kind: netobj.KindInterface, ID: "d0"}]
			return err
		})
		return n >= 4 && dummy.State != ""
	})
	// This kernel has no dummy links (where it has, d0 is applied).
	if dummy.State == netobj.StateError {
		assert.ErrorContains(t, errors.New(dummy.LastError), "kernel does not support link type dummy")
	} else {
		t.Log("this kernel supports dummy links")
	}
	// Drift: the address is removed behind the controller's back; the
	// next observation (Trigger, as the periodic timer would) re-adds it.
	l, err := h.LinkByName("br0")
	assert.NilError(t, err)
	a, _ := netlink.ParseAddr("10.1.0.1/24")
	// (No check that it is gone: a reconcile already under way may put
	// it back at once, which is the behaviour under test.)
	assert.NilError(t, h.AddrDel(l, a))
	ctl.Trigger()
	sdptest.WaitFor(t, "address re-added", func() bool { return len(br0Addrs()) == 1 })
}
