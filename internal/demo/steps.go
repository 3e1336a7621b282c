package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

// The sample entities of the demo, shaped as ska-sdp-config's.
type (
	demoScript struct {
		Kind    string `json:"kind"`
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	demoEB struct {
		Beams      []string `json:"beams"`
		MaxLength  float64  `json:"max_length"`
		PBRealtime []string `json:"pb_realtime"`
		ScanTypes  []string `json:"scan_types"`
	}
	demoPB struct {
		EBID         string         `json:"eb_id"`
		Script       demoScript     `json:"script"`
		Parameters   map[string]any `json:"parameters"`
		Dependencies []string       `json:"dependencies"`
	}
	demoState struct {
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
	}
)

// The typed collections the demo writes.
var (
	demoEBs      = config.MustKind[demoEB]("/eb")
	demoPBs      = config.MustKind[demoPB]("/pb")
	demoPBStates = config.StateOf[demoState](demoPBs)
)

// openStore is step 1: the store the command opens (Options.Open), and
// what it is.
func (d *demoRun) openStore(ctx context.Context) error {
	st, err := d.opts.Open(ctx)
	if err != nil {
		return err
	}
	d.store, d.cfg, d.owned = st, st.Config, st.Owned
	d.out.printf("%s\n", st.Describe)
	cctx, cancel := d.opts.RPC(ctx)
	defer cancel()
	rev, err := d.cfg.Backend().Revision(cctx)
	if err != nil {
		return err
	}
	d.out.printf("Connected; the store is at revision %d.\n", rev)
	return nil
}

// writeSample is step 2: an execution block and processing blocks with
// their states, in one transaction.
func (d *demoRun) writeSample(ctx context.Context) error {
	day := d.start.Format("20060102")
	d.ebID = fmt.Sprintf("eb-demo-%s-%s", day, d.runID)
	d.pbIDs = d.pbIDs[:0]
	for i := 1; i <= d.opts.Blocks; i++ {
		d.pbIDs = append(d.pbIDs, fmt.Sprintf("pb-demo-%s-%s-%d", day, d.runID, i))
	}
	eb := demoEB{Beams: []string{"vis0"}, MaxLength: 3600.0, PBRealtime: d.pbIDs, ScanTypes: []string{"science"}}
	var st txn.Stats
	err := d.cfg.Txn(ctx, func(t *config.Txn) error {
		if err := demoEBs.Create(t, d.ebID, eb); err != nil {
			return err
		}
		for i, id := range d.pbIDs {
			pb := demoPB{
				EBID:         d.ebID,
				Script:       demoScript{Kind: "realtime", Name: "vis-receive", Version: "4.0.0"},
				Parameters:   map[string]any{"channels": 1024 * (i + 1), "port": 9000 + i},
				Dependencies: []string{},
			}
			if err := demoPBs.Create(t, id, pb); err != nil {
				return err
			}
			if err := demoPBStates.Create(t, id, demoState{Status: "WAITING"}); err != nil {
				return err
			}
		}
		return nil
	}, txn.WithStats(&st))
	if err != nil {
		return err
	}
	d.writes++
	d.lastRev = st.Revision
	d.out.printf("Wrote %d keys in one transaction, at revision %d:\n", 1+2*len(d.pbIDs), st.Revision)
	d.out.printf("  %s\n", demoEBs.Path(d.ebID))
	for _, id := range d.pbIDs {
		d.out.printf("  %s  %s\n", demoPBs.Path(id), demoPBStates.Path(id))
	}
	cctx, cancel := d.opts.RPC(ctx)
	defer cancel()
	kv, _, err := d.cfg.Backend().Get(cctx, demoPBs.Path(d.pbIDs[0]), 0)
	if err != nil {
		return err
	}
	d.out.printf("Values are JSON as ska-sdp-config writes it; %s holds:\n%s\n", kv.Path, indent(kv.Value, "  "))
	return nil
}

// startWatch is step 3: a watcher on the processing blocks.
func (d *demoRun) startWatch(ctx context.Context) error {
	w, err := startDemoWatch(ctx, d)
	if err != nil {
		return err
	}
	d.watch = w
	return w.waitFor(ctx, d.lastRev, 10*time.Second)
}

// demoChange is one change the demo makes: a processing block's new state.
type demoChange struct {
	id    string
	state demoState
}

// changes returns the demo's script of state changes: every block starts
// running, then one fails and the others finish.
func (d *demoRun) changes() []demoChange {
	var cs []demoChange
	for _, id := range d.pbIDs {
		cs = append(cs, demoChange{id, demoState{Status: "RUNNING"}})
	}
	for i, id := range d.pbIDs {
		if i == 1 {
			cs = append(cs, demoChange{id, demoState{Status: "FAILED", Error: "receive node lost"}})
			continue
		}
		cs = append(cs, demoChange{id, demoState{Status: "FINISHED"}})
	}
	return cs
}

// makeChanges is step 4: state changes, one transaction each, paced so a
// person can follow the watcher's reports.
func (d *demoRun) makeChanges(ctx context.Context) error {
	for _, ch := range d.changes() {
		if err := d.pause(ctx); err != nil {
			return err
		}
		var st txn.Stats
		var before string
		var err error
		// The writer's line comes before the watcher's report of it.
		d.out.locked(func(printf func(string, ...any)) {
			err = d.cfg.Txn(ctx, func(t *config.Txn) error {
				cur, err := demoPBStates.Get(t, ch.id)
				if err != nil {
					return err
				}
				before = cur.Status
				return demoPBStates.Update(t, ch.id, ch.state)
			}, txn.WithStats(&st))
			if err == nil {
				printf("writer:  %s %s -> %s (revision %d)\n", ch.id, before, ch.state.Status, st.Revision)
			}
		})
		if err != nil {
			return err
		}
		d.writes++
		d.lastRev = st.Revision
		// Let the watcher report the change before the next one.
		if err := d.watch.waitFor(ctx, d.lastRev, 10*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// summary is step 5: wait until the watcher saw everything, clean up a
// configured store, and say what happened.
func (d *demoRun) summary(ctx context.Context) error {
	if err := d.watch.waitFor(ctx, d.lastRev, 10*time.Second); err != nil {
		return err
	}
	seen, iters, ws := d.watch.stats()
	d.watch.stop()
	d.out.printf("The watcher caught up with revision %d: %d iteration(s) over one watch stream saw %d state change(s)\n", d.lastRev, iters, seen)
	d.out.printf("(changes made close together are seen together); %d read(s) came from its cache, %d from the store.\n", ws.Hits, ws.Misses)
	var final []string
	err := d.cfg.Txn(ctx, func(t *config.Txn) error {
		final = final[:0]
		for _, id := range d.pbIDs {
			s, err := demoPBStates.Get(t, id)
			if err != nil {
				return err
			}
			final = append(final, fmt.Sprintf("  %-28s %s", id, s.Status))
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.out.printf("Final states:\n%s\n", strings.Join(final, "\n"))
	if !d.owned && !d.opts.Keep {
		err := d.cfg.Txn(ctx, func(t *config.Txn) error {
			if err := t.Delete(demoEBs.Path(d.ebID), txn.DeleteOptions{Recursive: true}); err != nil {
				return err
			}
			for _, id := range d.pbIDs {
				if err := t.Delete(demoPBs.Path(id), txn.DeleteOptions{Recursive: true}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		d.out.printf("Deleted the sample keys.\n")
	}
	d.out.printf("Done in %.1fs: %d transactions written, %d changes watched.\n", time.Since(d.start).Seconds(), d.writes, seen)
	if d.store.Embedded {
		d.out.printf("Next: run 'sdpcfg server' in another terminal, then 'sdpcfg create', 'ls', 'watch' and 'edit' against it.\n")
	}
	return nil
}
