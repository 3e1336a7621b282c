package topology

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

// AgentStatus is everything the store says about one agent; nil fields are
// absent keys.
type AgentStatus struct {
	Agent     string      `json:"agent"`
	Desired   *Desired    `json:"desired,omitempty"`
	Applied   *AppliedRow `json:"applied,omitempty"`
	Heartbeat *Heartbeat  `json:"heartbeat,omitempty"`
	Drift     *Drift      `json:"drift,omitempty"`
}

// Status returns the status of every agent that has any key, sorted by
// agent name, read at one revision.
func Status(ctx context.Context, cfg *config.Config) (out []AgentStatus, err error) {
	err = cfg.Txn(ctx, func(t *config.Txn) error {
		byAgent := map[string]*AgentStatus{}
		st := func(id string) *AgentStatus {
			if byAgent[id] == nil {
				byAgent[id] = &AgentStatus{Agent: id}
			}
			return byAgent[id]
		}
		ds, err := listUntracked(t, DesiredTopologies)
		if err != nil {
			return err
		}
		for id, d := range ds {
			st(id).Desired = &d
		}
		rows, err := listUntracked(t, AppliedRows)
		if err != nil {
			return err
		}
		for id, r := range rows {
			st(id).Applied = &r
		}
		hbs, err := listUntracked(t, Heartbeats)
		if err != nil {
			return err
		}
		for id, h := range hbs {
			st(id).Heartbeat = &h
		}
		fs, err := listUntracked(t, DriftFlags)
		if err != nil {
			return err
		}
		for id, f := range fs {
			st(id).Drift = &f
		}
		out = out[:0]
		for _, id := range slices.Sorted(maps.Keys(byAgent)) {
			out = append(out, *byAgent[id])
		}
		return nil
	})
	return out, err
}

// listUntracked reads every entity of k in t without tracking the list;
// values that do not decode are skipped.
func listUntracked[T any](t *config.Txn, k *config.Kind[T]) (map[string]T, error) {
	kvs, err := t.ListValues(k.Prefix()+"/", txn.ListOptions{Untracked: true})
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(kvs))
	for _, kv := range kvs {
		id, ok := k.ID(kv.Path)
		if !ok {
			continue
		}
		var v T
		if json.Unmarshal([]byte(kv.Value), &v) == nil {
			out[id] = v
		}
	}
	return out, nil
}
