package main

import (
	"context"
	"fmt"

	"github.com/sdpconfig/sdpconfig/entities/datasync"
)

// serve runs the controller of one synchronisation until interrupted.
func (o *syncOptions) serve(ctx context.Context) error {
	name := o.args[0]
	obs := o.obs.start(o.g)
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	spec, err := loadSpec(ctx, c, name)
	if err != nil {
		return err
	}
	s, err := spec.Syncer(c, obs.tel.Logger)
	if err != nil {
		return err
	}
	if err := obs.serve(&o.obs, o.g, obs.reg, storeCheck(c)); err != nil {
		return err
	}
	defer obs.close()
	ctl := datasync.NewController(c, name, s, datasync.ControllerOptions{Period: o.period, MaxRuns: o.maxRuns})
	defer ctl.Close()
	fmt.Fprintf(o.g.env.out, "data-sync controller of %s running; stop it with Ctrl-C\n", name)
	err = ctl.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}
