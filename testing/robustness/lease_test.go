package robustness

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
)

type block struct {
	Script string `json:"script"`
}

var blocks = config.MustKind[block]("/pb")

const (
	leaseTTL = 2 * time.Second
	// keepAliveInterval is how often the etcd client renews a lease: a
	// third of its TTL.
	keepAliveInterval = leaseTTL / 3
	// expiryGrace covers etcd's lease expiry check, which runs every
	// 500 ms on the leader, and the scheduling of a loaded test machine.
	expiryGrace = time.Second
)

// ownerKey is the stored key of the owner of block id.
func ownerKey(id string) string { return "3" + blocks.OwnerPath(id) }

// TestLeases checks, on a 3-member cluster, that keys of a lease whose
// keep-alive stopped vanish within its TTL plus one keep-alive interval,
// and that a lease kept alive survives leader changes.
func TestLeases(t *testing.T) {
	ctx := sdptest.Context(t)
	c := sdptest.NewCluster(t, 3)
	raw := c.Client(t)
	newCfg := func(t *testing.T) (*config.Config, *etcd3.Backend) {
		b := c.Backend(t, etcd3.Config{RequestTimeout: 2 * time.Second})
		cfg := config.New(b, config.Options{ClientLeaseTTL: leaseTTL})
		t.Cleanup(func() { cfg.Close() })
		return cfg, b
	}
	exists := func(key string) bool {
		resp, err := raw.Get(ctx, key)
		return err == nil && len(resp.Kvs) == 1
	}
	// expires stops the keep-alive with stop and checks that key goes
	// within the bound.
	expires := func(t *testing.T, key string, stop func()) {
		t.Helper()
		assert.Assert(t, exists(key))
		start := time.Now()
		stop()
		bound := leaseTTL + keepAliveInterval + expiryGrace
		gone := poll(bound+5*time.Second, func() bool { return !exists(key) })
		took := time.Since(start)
		t.Logf("%s gone %v after its keep-alive stopped (bound %v)", key, took.Round(time.Millisecond), bound)
		assert.Assert(t, gone, "%s still there after %v", key, took)
		assert.Assert(t, took <= bound, "%s gone after %v, more than TTL %v + keep-alive interval %v + %v", key, took, leaseTTL, keepAliveInterval, expiryGrace)
	}

	t.Run("closed lease", func(t *testing.T) {
		cfg, _ := newCfg(t)
		l, err := cfg.Lease(ctx, leaseTTL)
		assert.NilError(t, err)
		assert.NilError(t, cfg.Txn(ctx, func(tx *config.Txn) error {
			return tx.Put("/leased/x", "1", txn.WithLease(l.ID()))
		}))
		expires(t, "2/leased/x", func() { assert.NilError(t, l.Close()) })
	})

	t.Run("owner whose process dies", func(t *testing.T) {
		cfg, b := newCfg(t)
		assert.NilError(t, cfg.Txn(ctx, func(tx *config.Txn) error {
			return blocks.TakeOwnership(tx, "pb-dead", config.OwnerInfo{})
		}))
		// Closing the backend under the Config stops every keep-alive
		// without revoking anything, as the death of the process would.
		expires(t, ownerKey("pb-dead"), func() { assert.NilError(t, b.Close()) })
	})

	t.Run("owner kept alive across leader changes", func(t *testing.T) {
		cfg, _ := newCfg(t)
		assert.NilError(t, cfg.Txn(ctx, func(tx *config.Txn) error {
			return blocks.TakeOwnership(tx, "pb-alive", config.OwnerInfo{})
		}))
		l, err := cfg.ClientLease(ctx)
		assert.NilError(t, err)
		key := ownerKey("pb-alive")
		resp, err := raw.Get(ctx, key)
		assert.NilError(t, err)
		assert.Equal(t, len(resp.Kvs), 1)
		wctx, wcancel := context.WithCancel(ctx)
		defer wcancel()
		events := raw.Watch(wctx, key, clientv3.WithRev(resp.Header.Revision+1))

		changes := 3
		if testing.Short() {
			changes = 1
		}
		for i := 0; i < changes; i++ {
			leader, err := c.WaitLeader(ctx)
			assert.NilError(t, err)
			c.Stop(leader)
			// Leave the cluster leaderless for more than a keep-alive
			// interval, then wait for the new leader.
			assert.Assert(t, poll(10*time.Second, func() bool {
				l2, err := c.Leader(ctx)
				return err == nil && l2 != leader
			}))
			c.Restart(t, leader)
		}
		// Longer than the TTL after the last change, the key is there.
		deadline := time.Now().Add(leaseTTL + keepAliveInterval)
		assert.Assert(t, !poll(time.Until(deadline), func() bool { return !exists(key) || l.Err() != nil }),
			"the owner key or the lease ended: %v", l.Err())
		assert.Assert(t, exists(key))
		assert.NilError(t, l.Err())
		wcancel()
		for wr := range events {
			for _, ev := range wr.Events {
				t.Errorf("owner key %s: %v at revision %d while its lease lived", key, ev.Type, ev.Kv.ModRevision)
			}
		}
	})
}
