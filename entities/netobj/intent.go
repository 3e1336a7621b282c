package netobj

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

// Intent records make a crash between applying an object and writing its
// status harmless. Before a commit, the controller records every object
// the commit may add or change (Paths.Intent), bound to no lease; once the
// statuses are written, it deletes the records. A controller that starts
// and finds a record with no status treats the object as applied: it
// removes it from the system if it is no longer desired, and otherwise
// applies the desired object over it.

// writeIntents records, before the commit, the normalised desired object
// of each change the commit may apply and that neither its status nor an
// intent already records. It returns the refs it recorded.
func (c *Controller) writeIntents(ctx context.Context, it *config.Iteration, changes []Change, refs map[string]Ref, intents map[Ref]Object) ([]Ref, error) {
	type rec struct {
		ref Ref
		val string
	}
	var recs []rec
	for _, ch := range changes {
		if ch.Desired == nil {
			continue
		}
		n, err := ch.Desired.Normalize()
		if err != nil {
			continue // refused before any system call
		}
		r := refs[ch.ID]
		if ch.Applied != nil && reflect.DeepEqual(n, *ch.Applied) {
			continue // as recorded: a commit only repairs drift of it
		}
		if in, ok := intents[r]; ok && reflect.DeepEqual(n, in) {
			continue
		}
		v, err := config.Marshal(n)
		if err != nil {
			return nil, fmt.Errorf("netobj: intent of %s: %w", r, err)
		}
		recs = append(recs, rec{r, v})
	}
	var out []Ref
	for chunk := range slices.Chunk(recs, statusBatch) {
		err := it.Txn(ctx, func(t *config.Txn) error {
			for _, rc := range chunk {
				if err := t.Put(c.Paths.Intent(c.Target, rc.ref.Kind, rc.ref.ID), rc.val); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("netobj: write intents of %q: %w", c.Target, err)
		}
		for _, rc := range chunk {
			out = append(out, rc.ref)
		}
	}
	return out, nil
}

// clearIntents deletes, once the statuses are written, the intent records
// of the pass: those read at its start and those it wrote. It keeps them
// all when the system could not be read (p.Err), and the record of an
// object whose rollback failed, whose state on the system is unknown.
func (c *Controller) clearIntents(ctx context.Context, it *config.Iteration, p Pass, intents map[Ref]Object, written []Ref, unsure map[Ref]bool) error {
	if p.Err != nil {
		return nil
	}
	var del []Ref
	for r := range intents {
		if !unsure[r] {
			del = append(del, r)
		}
	}
	for _, r := range written {
		if _, ok := intents[r]; !ok && !unsure[r] {
			del = append(del, r)
		}
	}
	slices.SortFunc(del, func(a, b Ref) int { return cmp.Compare(a.String(), b.String()) })
	for chunk := range slices.Chunk(del, statusBatch) {
		err := it.Txn(ctx, func(t *config.Txn) error {
			for _, r := range chunk {
				if err := t.Delete(c.Paths.Intent(c.Target, r.Kind, r.ID), txn.DeleteOptions{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("netobj: clear intents of %q: %w", c.Target, err)
		}
	}
	return nil
}
