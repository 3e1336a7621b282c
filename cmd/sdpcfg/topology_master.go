package main

import (
	"context"
	"fmt"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/topology"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// master runs the topology master until interrupted.
func (o *topologyOptions) master(ctx context.Context) error {
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
	fmt.Fprintln(o.g.env.out, "topology master running; stop it with Ctrl-C")
	err = topology.NewMaster(c, topology.MasterOptions{}).Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// storeCheck is the readiness check of a command's store: it answers a
// revision read.
func storeCheck(c *config.Config) telemetry.Check {
	return telemetry.Check{Name: "store", Func: func(ctx context.Context) error {
		_, err := c.Backend().Revision(ctx)
		return err
	}}
}
