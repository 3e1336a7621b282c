package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/vishvananda/netns"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/entities/netobj/netlinkdriver"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// runController runs TARGET's network-object controller until
// interrupted, on this host's network (--driver netlink) or on an
// in-memory system (--driver memory, for trials).
func (o *netobjOptions) runController(ctx context.Context) error {
	target := o.args[0]
	var d netobj.Driver
	switch o.driver {
	case "memory":
		d = netobj.NewMemoryDriver()
	case "netlink":
		nd, err := netlinkdriver.New(netns.None())
		if err != nil {
			return fmt.Errorf("netlink driver: %w", err)
		}
		defer nd.Close()
		d = nd
	}
	obs := o.obs.start(o.g)
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	// Ready once a pass has read the store and applied it: the controller
	// is registered (its liveness lease held) and caught up.
	var passed atomic.Bool
	ctl := &netobj.Controller{Config: c, Target: target, Driver: d, DriverName: o.driver,
		OnPass: func(netobj.Pass) { passed.Store(true) }}
	caughtUp := telemetry.Check{Name: "controller", Func: func(context.Context) error {
		if !passed.Load() {
			return errors.New("no pass of the controller has completed yet")
		}
		return nil
	}}
	if err := obs.serve(&o.obs, o.g, obs.reg, storeCheck(c), caughtUp); err != nil {
		return err
	}
	defer obs.close()
	fmt.Fprintf(o.g.env.out, "network-object controller of %s running (%s driver); stop it with Ctrl-C\n", target, o.driver)
	return ctl.Run(ctx)
}
