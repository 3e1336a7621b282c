package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sdpconfig/sdpconfig/entities/topology"
)

// push writes the desired topology of an agent.
func (o *topologyOptions) push(ctx context.Context) error {
	agent, id := o.args[0], o.args[1]
	text, err := readValue(o.g.env.in, o.args[2])
	if err != nil {
		return err
	}
	v, err := parseJSON(text)
	if err != nil {
		return usagef("SPEC is not valid JSON: %v", err)
	}
	spec, ok := v.(map[string]any)
	if !ok {
		return usagef("SPEC must be a JSON object, not %s", jsonKind(v))
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

// jsonKind names the kind of a decoded JSON value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	}
	return "an object"
}
