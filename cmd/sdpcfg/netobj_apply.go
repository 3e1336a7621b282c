package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"reflect"

	"sigs.k8s.io/yaml"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

// netobjFileEntry is one object of an apply file.
type netobjFileEntry struct {
	Kind   netobj.Kind   `json:"kind"`
	ID     string        `json:"id,omitempty"`
	Fields netobj.Fields `json:"fields"`
}

// apply writes the objects of a file as the desired objects of a target.
func (o *netobjOptions) apply(ctx context.Context) error {
	target, file := o.args[0], o.args[1]
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(o.g.env.in)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	var entries []netobjFileEntry
	if err := yaml.UnmarshalStrict(data, &entries); err != nil {
		return fmt.Errorf("%s: want a list of objects (kind, id, fields): %w", file, err)
	}
	// Check every object before any I/O.
	type entry struct {
		ref netobj.Ref
		obj netobj.Object
	}
	var objs []entry
	seen := map[netobj.Ref]bool{}
	for i, e := range entries {
		n, err := netobj.Object{Kind: e.Kind, Fields: e.Fields}.Normalize()
		if err != nil {
			return fmt.Errorf("%s: object %d: %w", file, i+1, err)
		}
		id := e.ID
		if id == "" {
			id = n.DefaultID()
		}
		r := netobj.Ref{Kind: n.Kind, ID: id}
		if seen[r] {
			return fmt.Errorf("%s: object %d: %s given twice", file, i+1, r)
		}
		seen[r] = true
		objs = append(objs, entry{r, n})
	}

	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	paths := netobj.Paths{}
	var items []netobjItem
	err = c.Txn(cctx, func(t *config.Txn) error {
		items = items[:0]
		old, err := paths.ListDesired(t.Txn, target)
		if err != nil {
			return err
		}
		for _, e := range objs {
			action := "created"
			if prev, ok := old[e.ref]; ok {
				action = "updated"
				if reflect.DeepEqual(prev, e.obj) {
					action = "unchanged"
				}
			}
			if action != "unchanged" {
				if _, err := paths.PutDesired(t, target, e.ref.ID, e.obj); err != nil {
					return err
				}
			}
			items = append(items, netobjItem{Kind: e.ref.Kind, ID: e.ref.ID, Fields: e.obj.Fields, Action: action})
		}
		if o.prune {
			for r, ob := range old {
				if seen[r] {
					continue
				}
				if _, err := paths.DeleteDesired(t, target, r.Kind, r.ID); err != nil {
					return err
				}
				items = append(items, netobjItem{Kind: r.Kind, ID: r.ID, Fields: ob.Fields, Action: "deleted"})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	sortNetobjItems(items)
	return printNetobjItems(o.g, items, true)
}
