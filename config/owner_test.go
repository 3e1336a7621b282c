package config

import (
	"errors"
	"os"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"gotest.tools/v3/assert"
)

func TestOwnership(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		me := OwnerInfo{PID: 1, Hostname: "host-a", Command: []string{"proc", "--x"}}
		other := OwnerInfo{PID: 2, Hostname: "host-b", Command: []string{"other"}}
		c1 := newTestConfig(t, b, Options{Owner: &me})
		c2 := newTestConfig(t, b, Options{Owner: &other})
		ctx := ctxT(t)
		assert.NilError(t, c1.Txn(ctx, func(t *Txn) error { return blocks.Create(t, "pb-1", block{ID: "pb-1", Script: "s"}) }))

		alive := func(c *Config) bool {
			var ok bool
			assert.NilError(t, c.Txn(ctx, func(t *Txn) error {
				var err error
				ok, err = blocks.IsAlive(t, "pb-1")
				return err
			}))
			return ok
		}
		isOwner := func(c *Config) bool {
			var ok bool
			assert.NilError(t, c.Txn(ctx, func(t *Txn) error {
				var err error
				ok, err = blocks.IsOwner(t, "pb-1")
				return err
			}))
			return ok
		}
		owner := func(c *Config) (OwnerInfo, error) {
			var o OwnerInfo
			err := c.Txn(ctx, func(t *Txn) error {
				var err error
				o, err = blocks.Owner(t, "pb-1")
				return err
			})
			return o, err
		}

		assert.Assert(t, !alive(c2))
		_, err := owner(c2)
		assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
		assert.ErrorContains(t, err, "/pb/pb-1/owner")

		// c1 takes ownership (a zero OwnerInfo means its own).
		assert.NilError(t, c1.Txn(ctx, func(t *Txn) error { return blocks.TakeOwnership(t, "pb-1", OwnerInfo{}) }))
		assert.Assert(t, alive(c1) && alive(c2))
		assert.Assert(t, isOwner(c1))
		assert.Assert(t, !isOwner(c2))
		got, err := owner(c2)
		assert.NilError(t, err)
		assert.DeepEqual(t, got, me)
		raw, _ := rawGet(t, b, "/pb/pb-1/owner")
		assert.Equal(t, raw, "{\n  \"command\": [\n    \"proc\",\n    \"--x\"\n  ],\n  \"hostname\": \"host-a\",\n  \"pid\": 1\n}")

		// Owner key bound to c1's client lease.
		l1, err := c1.ClientLease(ctx)
		assert.NilError(t, err)
		kv, _, err := b.Get(ctx, "/pb/pb-1/owner", 0)
		assert.NilError(t, err)
		assert.Equal(t, kv.Lease, l1.ID())

		// Nobody else can take it, c1 neither.
		for _, c := range []*Config{c2, c1} {
			err = c.Txn(ctx, func(t *Txn) error { return blocks.TakeOwnership(t, "pb-1", other) })
			assert.Assert(t, errors.Is(err, backend.ErrCollision), "%v", err)
			assert.ErrorContains(t, err, "/pb/pb-1/owner")
		}
		err = c2.Txn(ctx, func(t *Txn) error { return blocks.ReleaseOwnership(t, "pb-1") })
		assert.Assert(t, errors.Is(err, ErrNotOwner), "%v", err)

		// The lease ends: ownership is gone, the owner key too.
		assert.NilError(t, l1.Revoke(ctx))
		assert.Assert(t, !alive(c2))
		assert.Assert(t, !isOwner(c1))
		_, ok := rawGet(t, b, "/pb/pb-1/owner")
		assert.Assert(t, !ok, "the owner key outlived its lease")
		_, ok = rawGet(t, b, "/pb/pb-1")
		assert.Assert(t, ok, "the entity went with its owner")

		// c2 takes it; c1 takes it back after c2 releases it, with a new
		// client lease.
		assert.NilError(t, c2.Txn(ctx, func(t *Txn) error { return blocks.TakeOwnership(t, "pb-1", OwnerInfo{}) }))
		got, err = owner(c1)
		assert.NilError(t, err)
		assert.DeepEqual(t, got, other)
		assert.NilError(t, c2.Txn(ctx, func(t *Txn) error { return blocks.ReleaseOwnership(t, "pb-1") }))
		assert.Assert(t, !alive(c1))
		assert.NilError(t, c1.Txn(ctx, func(t *Txn) error { return blocks.TakeOwnership(t, "pb-1", OwnerInfo{}) }))
		assert.Assert(t, isOwner(c1))
		l1b, err := c1.ClientLease(ctx)
		assert.NilError(t, err)
		assert.Assert(t, l1b.ID() != l1.ID())

		// Closing c1 revokes its client lease: ownership is gone.
		assert.NilError(t, c1.Close())
		assert.Assert(t, !alive(c2))
	})
}

func TestOwnershipWithoutEntityAndRelease(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		ctx := ctxT(t)
		err := c.Txn(ctx, func(t *Txn) error { return blocks.ReleaseOwnership(t, "x") })
		assert.Assert(t, errors.Is(err, ErrNotOwner), "%v", err)
		assert.ErrorContains(t, err, "/pb/x/owner")

		// Ownership does not need the entity; inside one transaction the
		// new owner key is visible to IsAlive and IsOwner.
		var alive, mine bool
		err = c.Txn(ctx, func(t *Txn) error {
			if err := blocks.TakeOwnership(t, "x", OwnerInfo{}); err != nil {
				return err
			}
			var err error
			if alive, err = blocks.IsAlive(t, "x"); err != nil {
				return err
			}
			mine, err = blocks.IsOwner(t, "x")
			return err
		})
		assert.NilError(t, err)
		assert.Assert(t, alive && mine)
		var o OwnerInfo
		err = c.Txn(ctx, func(t *Txn) error {
			var err error
			o, err = blocks.Owner(t, "x")
			return err
		})
		assert.NilError(t, err)
		assert.Equal(t, o.PID, os.Getpid())
		assert.DeepEqual(t, o, DefaultOwner())
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return blocks.ReleaseOwnership(t, "x") }))
		_, ok := rawGet(t, b, "/pb/x/owner")
		assert.Assert(t, !ok)
	})
}

// TestClientLeaseExpiry: when the client lease expires (the process lost
// the store for longer than its TTL), its ownerships vanish, and the next
// TakeOwnership runs on a new client lease.
func TestClientLeaseExpiry(t *testing.T) {
	mem := memory.New()
	defer mem.Close()
	c := New(mem, Options{})
	defer c.Close()
	ctx := ctxT(t)
	take := func() error {
		return c.Txn(ctx, func(t *Txn) error { return blocks.TakeOwnership(t, "pb-1", OwnerInfo{}) })
	}
	assert.NilError(t, take())
	l1, err := c.ClientLease(ctx)
	assert.NilError(t, err)

	assert.NilError(t, mem.ExpireLease(l1.ID()))
	<-l1.Done()
	assert.Assert(t, errors.Is(l1.Err(), backend.ErrLeaseExpired), "%v", l1.Err())
	_, ok := rawGet(t, mem, "/pb/pb-1/owner")
	assert.Assert(t, !ok, "the owner key outlived the lease")

	assert.NilError(t, take())
	l2, err := c.ClientLease(ctx)
	assert.NilError(t, err)
	assert.Assert(t, l2.ID() != l1.ID())
	kv, _, err := mem.Get(ctx, "/pb/pb-1/owner", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Lease, l2.ID())
}
