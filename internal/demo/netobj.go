package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/txn"
)

// demoNetobj runs the network-object controller of one target on the
// in-memory driver (a "kernel" without dummy links): it writes desired
// objects, waits for them to be applied, removes an address behind the
// controller's back and waits for the repair, asks for a dummy link (the
// commit fails, is rolled back and the error is recorded on the object),
// then removes a route. The target's keys are deleted at the end on a
// configured store.
func (d *demoRun) demoNetobj(ctx context.Context) error {
	target := "demo-host-" + d.runID
	paths := netobj.Paths{}
	drv := netobj.NewMemoryDriver(netobj.TypeDummy)
	ctl := &netobj.Controller{Config: d.cfg, Target: target, Driver: drv, DriverName: "memory", ObserveInterval: 50 * time.Millisecond, LeaseTTL: 2 * time.Second}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ctl.Run(rctx) }()
	defer func() {
		cancel()
		<-done
		if !d.owned {
			d.cfg.Txn(context.WithoutCancel(ctx), func(t *config.Txn) error {
				return t.Delete(paths.Target(target), txn.DeleteOptions{Recursive: true})
			})
		}
	}()

	put := func(objs ...netobj.Object) error {
		return d.cfg.Txn(ctx, func(t *config.Txn) error {
			for _, o := range objs {
				if _, err := paths.PutDesired(t, target, "", o); err != nil {
					return err
				}
			}
			return nil
		})
	}
	observed := func() (m map[netobj.Ref]netobj.Status, err error) {
		err = d.cfg.Txn(ctx, func(t *config.Txn) error {
			m, err = paths.ListObserved(t.Txn, target)
			return err
		})
		return m, err
	}
	wait := func(what string, cond func(m map[netobj.Ref]netobj.Status) bool) (map[netobj.Ref]netobj.Status, error) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			m, err := observed()
			if err != nil || cond(m) {
				return m, err
			}
			if time.Now().After(deadline) {
				return m, fmt.Errorf("timed out waiting for %s", what)
			}
			select {
			case <-ctx.Done():
				return m, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	inSystem := func(n int) func(map[netobj.Ref]netobj.Status) bool {
		return func(m map[netobj.Ref]netobj.Status) bool {
			c := 0
			for _, st := range m {
				if st.State == netobj.StateSystem {
					c++
				}
			}
			return c == n
		}
	}

	br0 := netobj.Interface("br0", netobj.TypeBridge, netobj.FieldState, "up")
	v0 := netobj.Interface("v0", netobj.TypeVeth, netobj.FieldPeer, "v0p", netobj.FieldMaster, "br0", netobj.FieldState, "up")
	addr := netobj.Address("br0", "10.1.0.1/24")
	route := netobj.Route("10.2.0.0/16", netobj.FieldGateway, "10.1.0.254")
	if err := put(route, addr, v0, br0); err != nil {
		return err
	}
	d.out.printf("desired on %s: bridge br0, veth v0 in br0, address 10.1.0.1/24, route 10.2.0.0/16 (keys under %s)\n", target, paths.Target(target))
	if _, err := wait("four objects applied", inSystem(4)); err != nil {
		return err
	}
	d.out.printf("applied in dependency order: %s\n", netobjCalls(drv.Calls()))

	drv.ResetCalls()
	drv.Remove(addr)
	d.out.printf("drift: address 10.1.0.1/24 removed behind the controller's back\n")
	deadline := time.Now().Add(10 * time.Second)
	for len(drv.Calls()) == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for the address to be re-added")
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.out.printf("repaired at the next observation: %s\n", netobjCalls(drv.Calls()))

	dummy := netobj.Interface("d0", netobj.TypeDummy, netobj.FieldState, "up")
	if err := put(dummy); err != nil {
		return err
	}
	m, err := wait("the dummy's error", func(m map[netobj.Ref]netobj.Status) bool {
		return m[netobj.Ref{Kind: netobj.KindInterface, ID: "d0"}].State == netobj.StateError
	})
	if err != nil {
		return err
	}
	d.out.printf("dummy link d0 refused, recorded on the object: %s\n", m[netobj.Ref{Kind: netobj.KindInterface, ID: "d0"}].LastError)

	if err := d.cfg.Txn(ctx, func(t *config.Txn) error {
		_, err := paths.DeleteDesired(t, target, netobj.KindRoute, route.DefaultID())
		return err
	}); err != nil {
		return err
	}
	if _, err := wait("the route removed", func(m map[netobj.Ref]netobj.Status) bool {
		_, ok := m[netobj.Ref{Kind: netobj.KindRoute, ID: route.DefaultID()}]
		return !ok
	}); err != nil {
		return err
	}
	d.out.printf("route 10.2.0.0/16 no longer desired: deleted from the system and its status removed\n")
	return nil
}

// netobjCalls prints driver calls as "add interface name=br0, ...".
func netobjCalls(calls []netobj.Call) string {
	s := ""
	for i, c := range calls {
		if i > 0 {
			s += ", "
		}
		s += c.Method + " " + string(c.Kind) + " " + c.Key
	}
	return s
}
