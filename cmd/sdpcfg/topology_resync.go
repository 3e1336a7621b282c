package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/entities/topology"
)

// resync bumps an agent's generation so that it applies again.
func (o *topologyOptions) resync(ctx context.Context) error {
	agent := o.args[0]
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	d, err := topology.Resync(cctx, c, agent)
	if errors.Is(err, backend.ErrNotFound) {
		return fmt.Errorf("agent %q has no desired topology: %w (push one with 'sdpcfg topology push')", agent, backend.ErrNotFound)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.g.env.out, "resync of %s: %s at generation %d\n", agent, d.TopologyID, d.Generation)
	return nil
}
