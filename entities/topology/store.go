package topology

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
)

// Store reads and writes agents' applied rows with the seed's rules. Each
// write is one transaction that reads the row and writes it only if the row
// is still as read (it retries otherwise), so two writers racing on one row
// never break a rule. A Store is safe for concurrent use.
type Store struct {
	cfg *config.Config
	now func() time.Time
}

// NewStore returns a Store over cfg; now gives applied_at (nil: time.Now).
func NewStore(cfg *config.Config, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{cfg: cfg, now: now}
}

// Current returns the agent's applied row, and false if it has none.
func (s *Store) Current(ctx context.Context, agent string) (row AppliedRow, ok bool, err error) {
	err = s.cfg.Txn(ctx, func(t *config.Txn) error {
		row, ok, err = currentRow(t, agent)
		return err
	})
	return row, ok, err
}

// Put records that the agent applied topologyID with hash and hydrated:
// a new row, or for the same topology id an idempotent re-push (new hash,
// blob and applied_at, error cleared, also over a marker row). It fails
// with an *AlreadyAppliedError, writing nothing, when the row belongs to
// another topology. It returns the row written.
func (s *Store) Put(ctx context.Context, agent, topologyID, hash string, hydrated map[string]any) (row AppliedRow, err error) {
	now := s.now().Unix()
	err = s.cfg.Txn(ctx, func(t *config.Txn) error {
		row, err = putRow(t, agent, topologyID, hash, hydrated, now)
		return err
	})
	return row, err
}

// RecordError attaches msg (truncated to MaxErrorLen) to the agent's row
// for topologyID. With no row it writes a marker row: empty hash,
// applied_at 0, the message, and hydrated (or {} if empty). On the row of
// topologyID it changes only the error, and the blob only if it was {}. It
// fails with an *AlreadyAppliedError, writing nothing, when the row belongs
// to another topology (one row per agent). It returns the row written.
func (s *Store) RecordError(ctx context.Context, agent, topologyID, msg string, hydrated map[string]any) (row AppliedRow, err error) {
	err = s.cfg.Txn(ctx, func(t *config.Txn) error {
		row, err = recordError(t, agent, topologyID, msg, hydrated)
		return err
	})
	return row, err
}

// Clear deletes the agent's row if it belongs to topologyID (after a
// teardown) and reports whether it did. A missing row or another
// topology's row is left alone: teardown is idempotent.
func (s *Store) Clear(ctx context.Context, agent, topologyID string) (cleared bool, err error) {
	err = s.cfg.Txn(ctx, func(t *config.Txn) error {
		cleared, err = clearRow(t, agent, topologyID)
		return err
	})
	return cleared, err
}

// currentRow reads the agent's row in t.
func currentRow(t *config.Txn, agent string) (AppliedRow, bool, error) {
	row, err := AppliedRows.Get(t, agent)
	if errors.Is(err, backend.ErrNotFound) {
		return AppliedRow{}, false, nil
	}
	if err != nil {
		return AppliedRow{}, false, err
	}
	if row.Hydrated == nil {
		row.Hydrated = map[string]any{}
	}
	return row, true, nil
}

// putRow is Put inside t.
func putRow(t *config.Txn, agent, topologyID, hash string, hydrated map[string]any, now int64) (AppliedRow, error) {
	cur, ok, err := currentRow(t, agent)
	if err != nil {
		return AppliedRow{}, err
	}
	if ok && cur.TopologyID != topologyID {
		return AppliedRow{}, &AlreadyAppliedError{Agent: agent, Current: cur.TopologyID, Requested: topologyID}
	}
	row := AppliedRow{TopologyID: topologyID, AppliedVersionHash: hash, Hydrated: nonNil(hydrated), AppliedAt: now}
	if err := AppliedRows.CreateOrUpdate(t, agent, row); err != nil {
		return AppliedRow{}, fmt.Errorf("topology: put applied row of %q: %w", agent, err)
	}
	return row, nil
}

// recordError is RecordError inside t.
func recordError(t *config.Txn, agent, topologyID, msg string, hydrated map[string]any) (AppliedRow, error) {
	cur, ok, err := currentRow(t, agent)
	if err != nil {
		return AppliedRow{}, err
	}
	msg = Truncate(msg)
	var row AppliedRow
	switch {
	case !ok:
		row = AppliedRow{TopologyID: topologyID, Hydrated: nonNil(hydrated), LastError: msg}
	case cur.TopologyID != topologyID:
		return AppliedRow{}, &AlreadyAppliedError{Agent: agent, Current: cur.TopologyID, Requested: topologyID}
	default:
		row = cur
		row.LastError = msg
		if len(row.Hydrated) == 0 {
			row.Hydrated = nonNil(hydrated)
		}
	}
	if err := AppliedRows.CreateOrUpdate(t, agent, row); err != nil {
		return AppliedRow{}, fmt.Errorf("topology: record error on applied row of %q: %w", agent, err)
	}
	return row, nil
}

// clearRow is Clear inside t.
func clearRow(t *config.Txn, agent, topologyID string) (bool, error) {
	cur, ok, err := currentRow(t, agent)
	if err != nil || !ok || cur.TopologyID != topologyID {
		return false, err
	}
	if err := AppliedRows.Delete(t, agent); err != nil {
		return false, fmt.Errorf("topology: clear applied row of %q: %w", agent, err)
	}
	return true, nil
}

// nonNil returns m, or an empty map for nil.
func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
