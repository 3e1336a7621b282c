package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
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
	var spec datasync.Spec
	if err := c.Txn(ctx, func(t *config.Txn) error {
		var err error
		spec, err = datasync.Specs.Get(t, name)
		return err
	}); err != nil {
		if errors.Is(err, backend.ErrNotFound) {
			return fmt.Errorf("no spec %q: %w (write one at %s)", name, backend.ErrNotFound, datasync.Specs.Path(name))
		}
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
