package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

// netobjItem is one object in ls and apply output.
type netobjItem struct {
	Kind   netobj.Kind   `json:"kind"`
	ID     string        `json:"id"`
	Fields netobj.Fields `json:"fields"`
	Action string        `json:"action,omitempty"`
}

// ls prints the desired objects of a target, in kind then id order.
func (o *netobjOptions) ls(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	target := o.args[0]
	var desired map[netobj.Ref]netobj.Object
	err = c.Txn(cctx, func(t *config.Txn) error {
		desired, err = netobj.Paths{}.ListDesired(t.Txn, target)
		return err
	})
	if err != nil {
		return err
	}
	var items []netobjItem
	for r, ob := range desired {
		items = append(items, netobjItem{Kind: r.Kind, ID: r.ID, Fields: ob.Fields})
	}
	sortNetobjItems(items)
	return printNetobjItems(o.g, items, false)
}

func sortNetobjItems(items []netobjItem) {
	rank := func(k netobj.Kind) int { return slices.Index(netobj.Kinds, k) }
	slices.SortFunc(items, func(a, b netobjItem) int {
		if d := rank(a.Kind) - rank(b.Kind); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func printNetobjItems(g *globalOptions, items []netobjItem, action bool) error {
	p := newPrinter(g.output, g.env.out, shapeList)
	tw := tabwriter.NewWriter(g.env.out, 0, 4, 2, ' ', 0)
	if g.output == outTable {
		if action {
			fmt.Fprint(tw, "ACTION\t")
		}
		fmt.Fprintln(tw, "KIND\tID\tFIELDS")
	}
	for _, it := range items {
		p.print(it, func(io.Writer) {
			if action {
				fmt.Fprint(tw, it.Action+"\t")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", it.Kind, it.ID, netobjFields(it.Fields))
		})
	}
	if g.output == outTable {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return p.end()
}

// netobjFields prints fields as name=value pairs, in name order.
func netobjFields(f netobj.Fields) string {
	var parts []string
	for _, n := range f.Names() {
		parts = append(parts, n+"="+f[n])
	}
	return strings.Join(parts, " ")
}
