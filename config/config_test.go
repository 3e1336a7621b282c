package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"gotest.tools/v3/assert"
)

// TestTxnCounter runs N goroutines that each increment one counter in a
// transaction: conflicts are retried, so the counter ends exactly at N.
func TestTxnCounter(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		ctx := ctxT(t)
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- c.Txn(ctx, func(t *Txn) error {
					v, ok, err := t.Get("/counter")
					if err != nil {
						return err
					}
					cur := 0
					if ok {
						if cur, err = strconv.Atoi(v); err != nil {
							return err
						}
					}
					return t.Put("/counter", strconv.Itoa(cur+1))
				}, txn.WithMaxAttempts(1000))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NilError(t, err)
		}
		v, ok := rawGet(t, b, "/counter")
		assert.Assert(t, ok)
		assert.Equal(t, v, strconv.Itoa(n))
	})
}

// TestTxnErrorWritesNothing: an error from fn is returned as is and
// nothing the attempt wrote reaches the store.
func TestTxnErrorWritesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		boom := errors.New("boom")
		committed := false
		err := c.Txn(ctxT(t), func(t *Txn) error {
			if err := t.Create("/a", "1"); err != nil {
				return err
			}
			t.OnCommit(func() { committed = true })
			return boom
		})
		assert.Assert(t, err == boom, "%v", err)
		assert.Assert(t, !committed)
		_, ok := rawGet(t, b, "/a")
		assert.Assert(t, !ok, "an aborted transaction wrote /a")
	})
}

// TestTxnOptions: Options.TxnOptions apply to every transaction, and a
// transaction that keeps conflicting ends with txn.ErrTooManyRetries.
func TestTxnOptions(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		var st txn.Stats
		c := newTestConfig(t, b, Options{TxnOptions: []txn.Option{txn.WithMaxAttempts(3), txn.WithStats(&st)}})
		ctx := ctxT(t)
		_, err := b.Create(ctx, "/k", "0", backend.NoLease)
		assert.NilError(t, err)
		i := 0
		err = c.Txn(ctx, func(t *Txn) error {
			if _, _, err := t.Get("/k"); err != nil {
				return err
			}
			// Someone else writes what the transaction read: conflict.
			i++
			if _, err := b.Update(ctx, "/k", strconv.Itoa(i)); err != nil {
				return err
			}
			return t.Put("/other", "x")
		})
		assert.Assert(t, errors.Is(err, txn.ErrTooManyRetries), "%v", err)
		assert.Equal(t, st.Attempts, 3)
		assert.Equal(t, st.Conflicts, 3)

		// A per-call option beats the Config's.
		err = c.Txn(ctx, func(t *Txn) error { return t.Put("/other", "y") }, txn.WithMaxAttempts(5))
		assert.NilError(t, err)
		assert.Equal(t, st.Attempts, 1)
	})
}

// TestLeaseRevokedWriteFails: a write attached to a lease that was revoked
// fails with ErrLeaseExpired naming the key, and writes nothing.
func TestLeaseRevokedWriteFails(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		ctx := ctxT(t)
		l, err := c.Lease(ctx, 10*time.Second)
		assert.NilError(t, err)
		err = c.Txn(ctx, func(t *Txn) error { return t.Create("/leased/a", "1", txn.WithLease(l.ID())) })
		assert.NilError(t, err)
		assert.NilError(t, l.Revoke(ctx))
		<-l.Done()
		assert.Assert(t, errors.Is(l.Err(), backend.ErrLeaseExpired), "%v", l.Err())
		_, ok := rawGet(t, b, "/leased/a")
		assert.Assert(t, !ok, "revoking the lease left its key")

		err = c.Txn(ctx, func(t *Txn) error { return t.Create("/leased/b", "1", txn.WithLease(l.ID())) })
		assert.Assert(t, errors.Is(err, backend.ErrLeaseExpired), "%v", err)
		assert.ErrorContains(t, err, "/leased/b")
		_, ok = rawGet(t, b, "/leased/b")
		assert.Assert(t, !ok)
	})
}

// TestClientLease: created on first use, the same while alive, re-created
// once lost, revoked by Close.
func TestClientLease(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := New(b, Options{ClientLeaseTTL: 5 * time.Second})
		ctx := ctxT(t)
		l1, err := c.ClientLease(ctx)
		assert.NilError(t, err)
		assert.Assert(t, l1.TTL() >= 5*time.Second, "%v", l1.TTL())
		again, err := c.ClientLease(ctx)
		assert.NilError(t, err)
		assert.Equal(t, again.ID(), l1.ID())

		assert.NilError(t, l1.Revoke(ctx))
		l2, err := c.ClientLease(ctx)
		assert.NilError(t, err)
		assert.Assert(t, l2.ID() != l1.ID())
		select {
		case <-l2.Done():
			t.Fatal("the new client lease has ended")
		default:
		}

		err = c.Txn(ctx, func(t *Txn) error { return t.Create("/mine", "1", txn.WithLease(l2.ID())) })
		assert.NilError(t, err)
		assert.NilError(t, c.Close())
		<-l2.Done()
		_, ok := rawGet(t, b, "/mine")
		assert.Assert(t, !ok, "Close did not revoke the client lease")

		// New does not own b: it is still usable.
		_, err = b.Create(ctx, "/after", "1", backend.NoLease)
		assert.NilError(t, err)

		// Everything on a closed Config fails with ErrClosed.
		_, err = c.ClientLease(ctx)
		assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
		_, err = c.Lease(ctx, time.Second)
		assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
		err = c.Txn(ctx, func(*Txn) error { return nil })
		assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
		assert.NilError(t, c.Close()) // idempotent
	})
}

// TestCloseClosesLeases: leases handed out by Lease are closed by Close
// (not revoked: their keys live until their TTL runs out).
func TestCloseClosesLeases(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := New(b, Options{})
		ctx := ctxT(t)
		l, err := c.Lease(ctx, 30*time.Second)
		assert.NilError(t, err)
		err = c.Txn(ctx, func(t *Txn) error { return t.Create("/k", "1", txn.WithLease(l.ID())) })
		assert.NilError(t, err)
		assert.NilError(t, c.Close())
		<-l.Done()
		assert.Assert(t, errors.Is(l.Err(), backend.ErrClosed), "%v", l.Err())
		_, ok := rawGet(t, b, "/k")
		assert.Assert(t, ok, "Close revoked a lease it should only close")
	})
}

// TestPrefix: with a prefix, paths are relative to it everywhere the
// Config shows them, and stored under it (at its full depth).
func TestPrefix(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{Prefix: "/sdp/test"})
		ctx := ctxT(t)
		pbs := MustKind[map[string]any]("/pb")
		err := c.Txn(ctx, func(t *Txn) error {
			return pbs.Create(t, "a/b", map[string]any{"x": 1})
		})
		assert.NilError(t, err)

		v, ok := rawGet(t, b, "/sdp/test/pb/a%2Fb")
		assert.Assert(t, ok, "the entity is not stored under the prefix")
		assert.Equal(t, v, "{\n  \"x\": 1\n}")
		list, err := b.List(ctx, "/sdp/test/pb/", backend.ListOptions{})
		assert.NilError(t, err)
		assert.Equal(t, len(list.KVs), 1)

		var ids []string
		var paths []string
		err = c.Txn(ctx, func(t *Txn) error {
			var err error
			if ids, err = pbs.List(t); err != nil {
				return err
			}
			paths, err = t.List("/", txn.ListOptions{Recurse: 2})
			return err
		})
		assert.NilError(t, err)
		assert.DeepEqual(t, ids, []string{"a/b"})
		assert.DeepEqual(t, paths, []string{"/pb/a%2Fb"})

		kv, _, err := c.Backend().Get(ctx, "/pb/a%2Fb", 0)
		assert.NilError(t, err)
		assert.Equal(t, kv.Path, "/pb/a%2Fb")
		_, _, err = c.Backend().Get(ctx, "pb", 0)
		assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
		// Errors name paths relative to the prefix too.
		_, err = c.Backend().Create(ctx, "/pb/a%2Fb", "{}", backend.NoLease)
		assert.Assert(t, errors.Is(err, backend.ErrCollision), "%v", err)
		assert.ErrorContains(t, err, `"/pb/a%2Fb"`)
		assert.Assert(t, !strings.Contains(err.Error(), "/sdp/test"), "%v", err)

		// Watch events through the view carry relative paths.
		rev, err := c.Backend().Revision(ctx)
		assert.NilError(t, err)
		ws, err := c.Backend().Watch(ctx, []backend.Range{backend.PrefixAt("/pb/", 0)}, rev+1)
		assert.NilError(t, err)
		defer ws.Close()
		err = c.Txn(ctx, func(t *Txn) error { return pbs.Update(t, "a/b", map[string]any{"x": 2}) })
		assert.NilError(t, err)
		_, err = b.Create(ctx, "/sdp/other/pb/z", "{}", backend.NoLease) // outside the prefix
		assert.NilError(t, err)
		err = c.Txn(ctx, func(t *Txn) error { return pbs.Delete(t, "a/b") })
		assert.NilError(t, err)
		var events []string
		for len(events) < 2 {
			select {
			case resp, ok := <-ws.Responses():
				assert.Assert(t, ok, "stream closed")
				assert.NilError(t, resp.Err)
				for _, ev := range resp.Events {
					prev := ""
					if ev.Prev != nil {
						prev = ev.Prev.Path
					}
					events = append(events, fmt.Sprintf("%s %s prev=%s", ev.Type, ev.KV.Path, prev))
				}
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			}
		}
		assert.DeepEqual(t, events, []string{
			"PUT /pb/a%2Fb prev=/pb/a%2Fb",
			"DELETE /pb/a%2Fb prev=/pb/a%2Fb",
		})
	})
}

func TestNewPanicsOnBadPrefix(t *testing.T) {
	defer func() {
		r := recover()
		assert.Assert(t, r != nil, "New accepted prefix sdp")
		assert.Assert(t, fmt.Sprint(r) != "")
	}()
	New(memoryBackend(t), Options{Prefix: "sdp"})
}

func TestOpenMemory(t *testing.T) {
	t.Setenv(EnvBackend, "memory")
	t.Setenv(EnvPrefix, "/env")
	ctx := ctxT(t)
	c, err := Open(ctx, Options{})
	assert.NilError(t, err)
	err = c.Txn(ctx, func(t *Txn) error { return t.Create("/a", "1") })
	assert.NilError(t, err)
	_, _, err = c.Backend().Get(ctx, "/a", 0)
	assert.NilError(t, err)
	assert.NilError(t, c.Close())
	// Open owns its backend: Close closed it.
	_, _, err = c.Backend().Get(ctx, "/a", 0)
	assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
}

func TestOpenBadSetting(t *testing.T) {
	t.Setenv(EnvPort, "http")
	_, err := Open(ctxT(t), Options{Backend: "memory"})
	assert.Assert(t, errors.Is(err, ErrInvalidSetting), "%v", err)
	assert.ErrorContains(t, err, EnvPort)
}

func memoryBackend(t *testing.T) backend.Backend { return backendCases[0].new(t) }
