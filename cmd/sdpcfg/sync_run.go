package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/datasync"
)

// runSync synchronises one spec, here or through the active controller.
func (o *syncOptions) runSync(ctx context.Context) error {
	name := o.args[0]
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	spec, err := loadSpec(ctx, c, name)
	if err != nil {
		return err
	}
	s, err := spec.Syncer(c, nil)
	if err != nil {
		return err
	}
	st, err := datasync.RunOnce(ctx, c, name, s, o.maxRuns)
	if errors.Is(err, datasync.ErrActive) {
		st, err = o.askController(ctx, c, name)
	}
	if err != nil {
		return err
	}
	return o.printStatus(name, st, true)
}

// askController requests a full sync from the active controller and waits
// for the status that answers it.
func (o *syncOptions) askController(ctx context.Context, c *config.Config, name string) (datasync.Status, error) {
	id, err := datasync.RequestSync(ctx, c, name)
	if err != nil {
		return datasync.Status{}, err
	}
	deadline := time.Now().Add(o.wait)
	for {
		st, err := datasync.ReadStatus(ctx, c, name)
		if err == nil && st.Request == id {
			if st.Error != "" {
				return st, fmt.Errorf("the active syncer failed: %s", st.Error)
			}
			return st, nil
		}
		if err != nil && !errors.Is(err, backend.ErrNotFound) {
			return st, err
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("the active controller did not answer within --wait %v", o.wait)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// printStatus prints a status, with its operations if ops.
func (o *syncOptions) printStatus(name string, st datasync.Status, ops bool) error {
	p := newPrinter(o.g.output, o.g.env.out, shapeOne)
	p.print(st, func(w io.Writer) {
		fmt.Fprintf(w, "%s: %d run(s), %d change(s), converged %v, by %s/%d at %s\n", name, st.Runs, st.Changes, st.Converged, st.Leader.Hostname, st.Leader.PID, st.Finished.UTC().Format(time.RFC3339))
		if ops {
			for _, op := range st.Operations {
				fmt.Fprintf(w, "  %s\n", op)
			}
			if st.Omitted > 0 {
				fmt.Fprintf(w, "  ... %d more\n", st.Omitted)
			}
		}
		if st.Error != "" {
			fmt.Fprintf(w, "error: %s\n", st.Error)
		}
	})
	return p.end()
}

// loadSpec reads the spec of synchronisation name.
func loadSpec(ctx context.Context, c *config.Config, name string) (datasync.Spec, error) {
	var spec datasync.Spec
	err := c.Txn(ctx, func(t *config.Txn) error {
		var err error
		spec, err = datasync.Specs.Get(t, name)
		return err
	})
	if errors.Is(err, backend.ErrNotFound) {
		return spec, fmt.Errorf("no spec %q: %w (write one at %s)", name, backend.ErrNotFound, datasync.Specs.Path(name))
	}
	return spec, err
}
