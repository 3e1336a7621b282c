package netobj_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// eachBackend runs fn on a fresh memory backend and on embedded etcd.
func eachBackend(t *testing.T, fn func(t *testing.T, c *config.Config)) {
	t.Run("memory", func(t *testing.T) {
		b := memory.New()
		t.Cleanup(func() { b.Close() })
		c := config.New(b, config.Options{})
		t.Cleanup(func() { c.Close() })
		fn(t, c)
	})
	t.Run("etcd3", func(t *testing.T) {
		var b backend.Backend = sdptest.NewBackend(t)
		c := config.New(b, config.Options{})
		t.Cleanup(func() { c.Close() })
		fn(t, c)
	})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startController runs ctl until the test ends and checks Run's result.
func startController(t *testing.T, ctl *netobj.Controller) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ctl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NilError(t, <-done)
	})
}

func observed(t *testing.T, c *config.Config, target string) map[netobj.Ref]netobj.Status {
	t.Helper()
	var out map[netobj.Ref]netobj.Status
	err := c.Txn(t.Context(), func(tx *config.Txn) error {
		var err error
		out, err = netobj.Paths{}.ListObserved(tx.Txn, target)
		return err
	})
	assert.NilError(t, err)
	return out
}

func putDesired(t *testing.T, c *config.Config, target string, objs ...netobj.Object) {
	t.Helper()
	err := c.Txn(t.Context(), func(tx *config.Txn) error {
		for _, o := range objs {
			if _, err := (netobj.Paths{}).PutDesired(tx, target, "", o); err != nil {
				return err
			}
		}
		return nil
	})
	assert.NilError(t, err)
}

func has(d *netobj.MemoryDriver, o netobj.Object) bool {
	n, _ := o.Normalize()
	l, _ := d.List(context.Background(), o.Kind)
	for _, f := range l {
		if (netobj.Object{Kind: o.Kind, Fields: f}).KeyString() == n.KeyString() {
			return true
		}
	}
	return false
}

func allSystem(n int) func(map[netobj.Ref]netobj.Status) bool {
	return func(m map[netobj.Ref]netobj.Status) bool {
		if len(m) != n {
			return false
		}
		for _, st := range m {
			if st.State != netobj.StateSystem {
				return false
			}
		}
		return true
	}
}

func TestControllerAppliesRepairsDriftAndRemoves(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *config.Config) {
		ctx := ctxT(t)
		d := netobj.NewMemoryDriver()
		putDesired(t, c, "host1", br0, veth, addr, rt)
		ctl := &netobj.Controller{Config: c, Target: "host1", Driver: d, DriverName: "memory", ObserveInterval: 20 * time.Millisecond}
		startController(t, ctl)

		sdptest.WaitFor(t, "four objects observed as system", func() bool { return allSystem(4)(observed(t, c, "host1")) })
		st := observed(t, c, "host1")[netobj.Ref{Kind: netobj.KindAddress, ID: "br0,10.1.0.1/24"}]
		assert.Equal(t, st.Object.Fields["cidr"], "10.1.0.1/24")
		assert.Assert(t, st.AppliedAt != "")
		for _, o := range []netobj.Object{br0, veth, addr, rt} {
			assert.Assert(t, has(d, o), "%v", o)
		}
		// The CIDR is one escaped segment of the key.
		err := c.Txn(ctx, func(tx *config.Txn) error {
			_, ok, err := tx.Get("/netobj/host1/observed/address/br0,10.1.0.1%2F24")
			assert.Check(t, ok)
			return err
		})
		assert.NilError(t, err)
		// Liveness.
		err = c.Txn(ctx, func(tx *config.Txn) error {
			a, ok, err := netobj.Paths{}.GetAlive(tx.Txn, "host1")
			assert.Check(t, ok)
			assert.Check(t, a.Driver == "memory" && a.Target == "host1", "%+v", a)
			return err
		})
		assert.NilError(t, err)

		// Drift: the address vanishes behind the controller's back; the
		// periodic observation re-adds it.
		d.ResetCalls()
		assert.Assert(t, d.Remove(addr))
		sdptest.WaitFor(t, "the address re-added", func() bool { return has(d, addr) })
		assert.Equal(t, methods(d.Calls())[0], "add address interface=br0,cidr=10.1.0.1/24")

		// Removal of the desired route deletes it and its status.
		err = c.Txn(ctx, func(tx *config.Txn) error {
			ok, err := netobj.Paths{}.DeleteDesired(tx, "host1", netobj.KindRoute, rt.DefaultID())
			assert.Check(t, ok)
			return err
		})
		assert.NilError(t, err)
		sdptest.WaitFor(t, "the route removed", func() bool { return !has(d, rt) && len(observed(t, c, "host1")) == 3 })
	})
}

func TestControllerRecordsErrorsAndAppliesTheRest(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *config.Config) {
		ctx := ctxT(t)
		d := netobj.NewMemoryDriver(netobj.TypeDummy)
		dummy := netobj.Interface("d0", netobj.TypeDummy)
		putDesired(t, c, "host1", br0, addr, dummy, netobj.Address("d0", "10.5.0.1/24"))
		ctl := &netobj.Controller{Config: c, Target: "host1", Driver: d, ObserveInterval: time.Hour}
		startController(t, ctl)
		sdptest.WaitFor(t, "four statuses", func() bool { return len(observed(t, c, "host1")) == 4 })
		sdptest.WaitFor(t, "errors recorded", func() bool {
			obs := observed(t, c, "host1")
			return obs[netobj.Ref{Kind: netobj.KindInterface, ID: "d0"}].State == netobj.StateError &&
				obs[netobj.Ref{Kind: netobj.KindAddress, ID: "d0,10.5.0.1/24"}].State == netobj.StateError
		})
		obs := observed(t, c, "host1")
		assert.ErrorContains(t, errString(obs[netobj.Ref{Kind: netobj.KindInterface, ID: "d0"}].LastError), "kernel does not support link type dummy")
		assert.Equal(t, obs[netobj.Ref{Kind: netobj.KindInterface, ID: "br0"}].State, netobj.StateSystem)
		assert.Equal(t, obs[netobj.Ref{Kind: netobj.KindAddress, ID: "br0,10.1.0.1/24"}].State, netobj.StateSystem)
		assert.Assert(t, has(d, br0) && has(d, addr) && !has(d, dummy))

		// A key change of an address is refused; of a route, replaced.
		putDesired(t, c, "host1", rt)
		sdptest.WaitFor(t, "route applied", func() bool { return has(d, rt) })
		err := c.Txn(ctx, func(tx *config.Txn) error {
			if _, err := (netobj.Paths{}).PutDesired(tx, "host1", "br0,10.1.0.1/24", netobj.Address("br0", "10.1.0.2/24")); err != nil {
				return err
			}
			moved := rt.Clone()
			moved.Set(netobj.FieldDst, "10.3.0.0/16")
			_, err := (netobj.Paths{}).PutDesired(tx, "host1", rt.DefaultID(), moved)
			return err
		})
		assert.NilError(t, err)
		moved := netobj.Route("10.3.0.0/16", netobj.FieldGateway, "10.1.0.254")
		sdptest.WaitFor(t, "route replaced", func() bool { return has(d, moved) && !has(d, rt) })
		sdptest.WaitFor(t, "address key change refused", func() bool {
			st := observed(t, c, "host1")[netobj.Ref{Kind: netobj.KindAddress, ID: "br0,10.1.0.1/24"}]
			return st.State == netobj.StateError && strings.Contains(st.LastError, "key field changed")
		})
		assert.Assert(t, has(d, addr))
	})
}

type errString string

func (e errString) Error() string { return string(e) }

func TestControllerStopsAndLeavesNoLiveness(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *config.Config) {
		d := netobj.NewMemoryDriver()
		ctl := &netobj.Controller{Config: c, Target: "h", Driver: d}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- ctl.Run(ctx) }()
		alive := func() bool {
			var ok bool
			err := c.Txn(t.Context(), func(tx *config.Txn) error {
				var err error
				_, ok, err = netobj.Paths{}.GetAlive(tx.Txn, "h")
				return err
			})
			assert.NilError(t, err)
			return ok
		}
		sdptest.WaitFor(t, "liveness key", alive)
		cancel()
		assert.NilError(t, <-done)
		assert.Assert(t, !alive())
	})
}

func TestControllerManyObjectsAndAMisfiledOne(t *testing.T) {
	eachBackend(t, func(t *testing.T, c *config.Config) {
		const n = 300
		var objs []netobj.Object
		for i := range n {
			objs = append(objs, netobj.Address("br0", fmt.Sprintf("10.%d.%d.1/24", 10+i/256, i%256)))
		}
		putDesired(t, c, "h", br0)
		for i := 0; i < n; i += 50 {
			putDesired(t, c, "h", objs[i:i+50]...)
		}
		// An interface stored under the address path.
		err := c.Txn(t.Context(), func(tx *config.Txn) error {
			v, err := config.Marshal(netobj.Interface("x0", netobj.TypeBridge))
			if err != nil {
				return err
			}
			return tx.Put(netobj.Paths{}.Desired("h", netobj.KindAddress, "x0"), v)
		})
		assert.NilError(t, err)
		d := netobj.NewMemoryDriver()
		startController(t, &netobj.Controller{Config: c, Target: "h", Driver: d, ObserveInterval: time.Hour})
		sdptest.WaitFor(t, "every address applied", func() bool {
			l, _ := d.List(t.Context(), netobj.KindAddress)
			return len(l) == n
		})
		sdptest.WaitFor(t, "statuses written", func() bool {
			obs := observed(t, c, "h")
			return len(obs) == n+2 && obs[netobj.Ref{Kind: netobj.KindAddress, ID: "x0"}].State == netobj.StateError
		})
		st := observed(t, c, "h")[netobj.Ref{Kind: netobj.KindAddress, ID: "x0"}]
		assert.Assert(t, strings.Contains(st.LastError, "holds an object of kind interface, not address"), st.LastError)
		assert.Assert(t, !has(d, netobj.Interface("x0", netobj.TypeBridge)))
	})
}

// unreadable is a driver whose List fails until it is told otherwise.
type unreadable struct {
	*netobj.MemoryDriver
	broken atomic.Bool
}

func (u *unreadable) List(ctx context.Context, k netobj.Kind) ([]netobj.Fields, error) {
	if u.broken.Load() {
		return nil, errors.New("injected: netlink socket gone")
	}
	return u.MemoryDriver.List(ctx, k)
}

func TestControllerSurvivesAnUnreadableSystem(t *testing.T) {
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	c := config.New(b, config.Options{})
	t.Cleanup(func() { c.Close() })
	d := &unreadable{MemoryDriver: netobj.NewMemoryDriver()}
	d.broken.Store(true)
	passes := make(chan netobj.Pass, 100)
	putDesired(t, c, "h", br0)
	ctl := &netobj.Controller{Config: c, Target: "h", Driver: d, ObserveInterval: time.Hour, OnPass: func(p netobj.Pass) {
		select {
		case passes <- p:
		default:
		}
	}}
	startController(t, ctl)
	p := <-passes
	assert.ErrorContains(t, p.Err, "netlink socket gone")
	assert.Equal(t, p.Writes, 0)
	d.broken.Store(false)
	ctl.Trigger()
	sdptest.WaitFor(t, "br0 applied", func() bool { return allSystem(1)(observed(t, c, "h")) })
}
