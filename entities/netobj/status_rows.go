package netobj

import (
	"slices"
	"strings"

	"github.com/sdpconfig/sdpconfig/txn"
)

// StatusRow is one object of a target as its controller reports it: the
// desired objects with what was observed of each ("pending" before the
// controller got to it), then the observed objects no longer desired
// (state "... (removing)"). A target with no object has one row with an
// empty Kind and state "-".
type StatusRow struct {
	Target    string `json:"target"`
	Alive     bool   `json:"alive"` // the target's controller is registered
	Kind      Kind   `json:"kind"`
	ID        string `json:"id"`
	Desired   bool   `json:"desired"`
	State     string `json:"state"`
	AppliedAt string `json:"applied_at,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// StatusRows reads the rows of targets (nil: every target with a key) in
// t, each target's sorted by kind (in Kinds order), then id.
func (p Paths) StatusRows(t *txn.Txn, targets []string) ([]StatusRow, error) {
	if targets == nil {
		var err error
		if targets, err = p.Targets(t); err != nil {
			return nil, err
		}
	}
	var out []StatusRow
	for _, target := range targets {
		_, alive, err := p.GetAlive(t, target)
		if err != nil {
			return nil, err
		}
		desired, err := p.ListDesired(t, target)
		if err != nil {
			return nil, err
		}
		observed, err := p.ListObserved(t, target)
		if err != nil {
			return nil, err
		}
		var rows []StatusRow
		for r := range desired {
			st := observed[r]
			state := string(st.State)
			if state == "" {
				state = "pending"
			}
			rows = append(rows, StatusRow{Target: target, Alive: alive, Kind: r.Kind, ID: r.ID, Desired: true, State: state, AppliedAt: st.AppliedAt, LastError: st.LastError})
		}
		for r, st := range observed {
			if _, ok := desired[r]; !ok {
				rows = append(rows, StatusRow{Target: target, Alive: alive, Kind: r.Kind, ID: r.ID, State: string(st.State) + " (removing)", AppliedAt: st.AppliedAt, LastError: st.LastError})
			}
		}
		if len(rows) == 0 {
			rows = append(rows, StatusRow{Target: target, Alive: alive, State: "-"})
		}
		rank := func(k Kind) int { return slices.Index(Kinds, k) }
		slices.SortFunc(rows, func(a, b StatusRow) int {
			if d := rank(a.Kind) - rank(b.Kind); d != 0 {
				return d
			}
			return strings.Compare(a.ID, b.ID)
		})
		out = append(out, rows...)
	}
	return out, nil
}
