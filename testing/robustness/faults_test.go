package robustness

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// RoundsEnv names the environment variable that sets the number of fault
// rounds of TestFaults (default 4, 1 with -short).
const RoundsEnv = "ROBUSTNESS_ROUNDS"

const clients = 4

func rounds(t *testing.T) int {
	if v := os.Getenv(RoundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		assert.NilError(t, err, RoundsEnv)
		return n
	}
	if testing.Short() {
		return 1
	}
	return 4
}

// poll waits until cond holds or d passes, and reports whether it held.
func poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestFaults runs a bank and a counter on a 3-member cluster from several
// clients while it stops and restarts the leader and a follower and
// compacts history, each round, with a caching watcher and a Mirror
// following along. Afterwards the money is all there, every acknowledged
// increment counted once, the history linearizable, and the watchers saw
// every revision of their keys in order.
func TestFaults(t *testing.T) {
	ctx := sdptest.Context(t) // the rounds knob scales the work: no fixed bound
	c := sdptest.NewCluster(t, 3)
	raw := c.Client(t)
	newCfg := func() *config.Config {
		b := c.Backend(t, etcd3.Config{RequestTimeout: 2 * time.Second, DialTimeout: 5 * time.Second})
		cfg := config.New(b, config.Options{})
		t.Cleanup(func() { cfg.Close() })
		return cfg
	}

	setup := newCfg()
	assert.NilError(t, setup.Txn(ctx, func(tx *config.Txn) error {
		for i := 0; i < accounts; i++ {
			if err := tx.Put(accountPath(i), strconv.Itoa(initialBalance)); err != nil {
				return err
			}
		}
		return tx.Put(counterPath, "0")
	}))

	// The watchers.
	mc := newMirrorCheck()
	mir, err := mirror.NewMirror(newCfg().Backend(), bankPrefix, mc, mirror.MirrorOptions{})
	assert.NilError(t, err)
	mirrorDone := make(chan error, 1)
	go func() { mirrorDone <- mir.Run(ctx) }()
	// A second Mirror keeps a state file; it is stopped before the first
	// compaction and restarted from its file after it, so that it resumes
	// from a compacted cookie and must relist.
	statePath := filepath.Join(t.TempDir(), "mirror.db")
	pc := newMirrorCheck()
	pmb := newCfg().Backend()
	startPersisted := func() (*mirror.Mirror, chan error) {
		m, err := mirror.NewMirror(pmb, bankPrefix, pc, mirror.MirrorOptions{StatePath: statePath})
		assert.NilError(t, err)
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		return m, done
	}
	persisted, persistedDone := startPersisted()
	var stoppedAt int64
	wc := &watcherCheck{}
	w := newCfg().Watcher(watcher.Options{})
	watcherDone := make(chan error, 1)
	go func() { watcherDone <- w.Run(ctx, wc.body) }()

	// The clients.
	h := &history{start: time.Now()}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		cl := &client{id: i, cfg: newCfg(), rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))), h: h}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.run(&stop)
		}()
	}
	progress := func(n int64) {
		from := h.acked.Load()
		poll(5*time.Second, func() bool { return h.acked.Load() >= from+n })
	}

	// The faults.
	faults, compactions := 0, 0
	for r := 0; r < rounds(t); r++ {
		progress(40)
		leader, err := c.WaitLeader(ctx)
		assert.NilError(t, err)
		c.Stop(leader)
		faults++
		progress(40)
		c.Restart(t, leader)
		progress(40)
		leader, err = c.WaitLeader(ctx)
		assert.NilError(t, err)
		follower := (leader + 1) % c.Size()
		c.Stop(follower)
		faults++
		progress(40)
		c.Restart(t, follower)
		progress(40)
		if r == 0 {
			persisted.Stop()
			assert.NilError(t, <-persistedDone)
			stoppedAt = pc.resume()
			progress(40)
		}
		resp, err := raw.Get(ctx, "/")
		assert.NilError(t, err)
		_, err = raw.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical())
		assert.NilError(t, err)
		compactions++
		if r == 0 {
			persisted, persistedDone = startPersisted()
		}
	}
	progress(40)
	stop.Store(true)
	wg.Wait()

	// The final state, and the op ids in the store.
	var final bankState
	assert.NilError(t, setup.Txn(ctx, func(tx *config.Txn) error {
		var err error
		final, err = readState(tx)
		return err
	}))
	resp, err := raw.Get(ctx, "2"+opsPrefix, clientv3.WithPrefix())
	assert.NilError(t, err)
	applied := map[string]bool{}
	increments := 0
	for _, kv := range resp.Kvs {
		applied[strings.TrimPrefix(string(kv.Key), "2"+opsPrefix)] = true
		if string(kv.Value) == "increment" {
			increments++
		}
	}

	o := &outcome{}
	ops := resolve(h.records, applied, o)

	// Invariants: no money made or lost, every acknowledged write
	// present, each increment applied once.
	sum := 0
	for i := 0; i < accounts; i++ {
		sum += final[i]
	}
	if sum != accounts*initialBalance {
		o.anomaly("total balance %d, want %d", sum, accounts*initialBalance)
	}
	if final[counterSlot] != increments {
		o.anomaly("counter %d but %d increments recorded their op id", final[counterSlot], increments)
	}
	known := map[string]bool{}
	for _, r := range h.records {
		known[r.opID] = true
		out := r.op.Output.(opOutput)
		in := r.op.Input.(opInput)
		wrote := in.kind == opIncrement || (in.kind == opTransfer && out.applied)
		if r.err == nil && wrote && !applied[r.opID] {
			o.anomaly("acknowledged op %s is not in the store", r.opID)
		}
		if r.err == nil && in.kind == opTransfer && !out.applied && applied[r.opID] {
			o.anomaly("rejected transfer %s is in the store", r.opID)
		}
	}
	for id := range applied {
		if !known[id] {
			o.anomaly("op %s in the store was never run", id)
		}
	}

	// Linearizability.
	res, info := porcupine.CheckOperationsVerbose(bankModel, ops, 60*time.Second)
	if res != porcupine.Ok {
		o.anomaly("history of %d operations is not linearizable: %v", len(ops), res)
		if f, err := os.CreateTemp("", "robustness-*.html"); err == nil {
			if porcupine.Visualize(bankModel, info, f) == nil {
				t.Logf("porcupine visualization: %s", f.Name())
			}
			f.Close()
		}
	}

	// Watchers: they catch up with the final state, and saw every
	// acknowledged write.
	if !poll(30*time.Second, func() bool { return wc.state() == final }) {
		o.anomaly("caching watcher ends at %v, store at %v", wc.state(), final)
	}
	if err := mir.WaitForRevision(ctx, resp.Header.Revision); err != nil {
		o.anomaly("mirror: %v", err)
	}
	if mc.state() != final {
		o.anomaly("mirror ends at %v, store at %v", mc.state(), final)
	}
	if err := persisted.WaitForRevision(ctx, resp.Header.Revision); err != nil {
		o.anomaly("persisted mirror: %v", err)
	}
	if pc.state() != final {
		o.anomaly("persisted mirror ends at %v, store at %v", pc.state(), final)
	}
	persisted.Stop()
	if err := <-persistedDone; err != nil {
		o.anomaly("persisted mirror run: %v", err)
	}
	mir.Stop()
	assert.NilError(t, w.Close())
	if err := <-mirrorDone; err != nil {
		o.anomaly("mirror run: %v", err)
	}
	if err := <-watcherDone; err != nil && !errors.Is(err, watcher.ErrWatcherClosed) {
		o.anomaly("watcher run: %v", err)
	}
	missed, excused := mc.missed(h.records, 0)
	if missed != excused {
		o.anomaly("mirror missed %d acknowledged writes, %d of them without a relist", missed, missed-excused)
	}
	pMissed, pExcused := pc.missed(h.records, stoppedAt)
	if pMissed != pExcused {
		o.anomaly("persisted mirror missed %d acknowledged writes, %d of them without a relist", pMissed, pMissed-pExcused)
	}
	mc.mu.Lock()
	pc.mu.Lock()
	o.anomalies = append(o.anomalies, mc.problems...)
	o.anomalies = append(o.anomalies, pc.problems...)
	mirrorEvents, mirrorRefreshes := mc.events, mc.refreshes
	pEvents, pRelists := pc.events, len(pc.relists)
	pc.mu.Unlock()
	mc.mu.Unlock()
	if pRelists == 0 {
		o.anomaly("the persisted mirror resumed after a compaction without relisting")
	}
	wc.mu.Lock()
	o.anomalies = append(o.anomalies, wc.problems...)
	iterations, relists := wc.iterations, wc.relists
	wc.mu.Unlock()

	t.Logf("figures: %d operations (%d acknowledged, %d failed, %d of them ErrIndeterminate, %d failed but applied), "+
		"%d member crashes and restarts, %d compactions; porcupine checked %d operations: %v; "+
		"mirror: %d events, %d refreshes, %d acknowledged writes missed; "+
		"persisted mirror: %d events, %d relists, %d writes skipped by its relist; caching watcher: %d iterations, %d relists; "+
		"final %v; anomalies: %d",
		o.ops, o.acked, o.failed, o.indeterminate, o.resolvedApplied, faults, compactions, len(ops), res,
		mirrorEvents, mirrorRefreshes, missed, pEvents, pRelists, pExcused, iterations, relists, final, len(o.anomalies))
	for _, a := range o.anomalies {
		t.Error(a)
	}
	assert.Assert(t, o.acked > 0)
}
