package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sdpconfig/sdpconfig/entities/topology"
)

// push writes the desired topology of an agent.
func (o *topologyOptions) push(ctx context.Context) error {
	agent, id := o.args[0], o.args[1]
	text, err := readValue(o.g.env.in, o.args[2])
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var spec map[string]any
	if err := dec.Decode(&spec); err != nil || spec == nil {
		return usagef("topology push: SPEC must be a JSON object: %v", err)
	}
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	d, err := topology.Push(cctx, c, agent, id, spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.g.env.out, "pushed %s to %s: generation %d, version hash %s\n", id, agent, d.Generation, d.Hash)
	return nil
}
