package topology

import (
	"context"
	"maps"
	"slices"
	"sync"
)

// Applier makes a topology real on an agent's host (bridges, containers,
// ...). The Agent calls it from its loop goroutine only, one call at a time.
type Applier interface {
	// Apply brings topologyID's spec up, replacing what an earlier Apply of
	// the same id built. It returns the hydrated blob (what it built, for a
	// later Teardown), also with an error when it built part of it.
	Apply(ctx context.Context, topologyID string, spec map[string]any) (hydrated map[string]any, err error)
	// Teardown removes what Apply built for topologyID, given its hydrated
	// blob; tearing down what is not there is not an error.
	Teardown(ctx context.Context, topologyID string, hydrated map[string]any) error
	// Observe returns what is running now, compact enough for a heartbeat.
	// The master cross-checks two keys when present: "topologies", the
	// ids of the topologies running (a list without the desired one is
	// drift, although the applied row says it was applied), and "missing",
	// the parts of it not running (a non-empty list is drift). An error
	// is drift too.
	Observe(ctx context.Context) (map[string]any, error)
}

// MemoryApplier is an Applier that keeps its "running" topologies in
// memory, for tests and the demo. Failures can be injected. It is safe for
// concurrent use.
type MemoryApplier struct {
	mu         sync.Mutex
	running    map[string]map[string]any // topology id → hydrated
	applies    int
	failApply  error
	observeErr error
}

// NewMemoryApplier returns an applier running nothing.
func NewMemoryApplier() *MemoryApplier {
	return &MemoryApplier{running: map[string]map[string]any{}}
}

// Apply records the spec as running; its hydrated blob is
// {"topology_id": id, "spec": spec}. It fails with the error FailApply set,
// once, recording nothing.
func (m *MemoryApplier) Apply(_ context.Context, topologyID string, spec map[string]any) (map[string]any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applies++
	if err := m.failApply; err != nil {
		m.failApply = nil
		return nil, err
	}
	m.observeErr = nil // the re-apply repaired the host
	h := map[string]any{"topology_id": topologyID, "spec": maps.Clone(spec)}
	m.running[topologyID] = h
	return h, nil
}

// Teardown forgets topologyID.
func (m *MemoryApplier) Teardown(_ context.Context, topologyID string, _ map[string]any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.running, topologyID)
	return nil
}

// Observe returns {"topologies": [ids running, sorted]}, or the error
// SetObserveError set.
func (m *MemoryApplier) Observe(context.Context) (map[string]any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.observeErr != nil {
		return nil, m.observeErr
	}
	ids := make([]any, 0, len(m.running))
	for _, id := range slices.Sorted(maps.Keys(m.running)) {
		ids = append(ids, id)
	}
	return map[string]any{"topologies": ids}, nil
}

// FailApply makes the next Apply fail with err.
func (m *MemoryApplier) FailApply(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failApply = err
}

// SetObserveError makes Observe fail with err (a simulated drift of the
// host) until it is set to nil or an Apply succeeds.
func (m *MemoryApplier) SetObserveError(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.observeErr = err
}

// Lose drops topologyID from what runs without any error, as a host that
// lost it silently (a reboot without restore).
func (m *MemoryApplier) Lose(topologyID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.running, topologyID)
}

// Applies returns how many times Apply was called.
func (m *MemoryApplier) Applies() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applies
}

// Running returns the ids of the running topologies, sorted.
func (m *MemoryApplier) Running() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.running))
}
