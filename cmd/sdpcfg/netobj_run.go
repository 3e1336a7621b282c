package main

import (
	"context"
	"fmt"

	"github.com/vishvananda/netns"

	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/entities/netobj/netlinkdriver"
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
	if err := obs.serve(&o.obs, o.g, obs.reg, storeCheck(c)); err != nil {
		return err
	}
	defer obs.close()
	fmt.Fprintf(o.g.env.out, "network-object controller of %s running (%s driver); stop it with Ctrl-C\n", target, o.driver)
	ctl := &netobj.Controller{Config: c, Target: target, Driver: d, DriverName: o.driver}
	return ctl.Run(ctx)
}
