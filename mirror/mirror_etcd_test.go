package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// openEtcd starts an embedded etcd server and returns a backend on it.
// Leases expire on their real TTL; streams cannot be dropped on demand.
func openEtcd(t testing.TB) *testStore {
	b := sdptest.NewBackend(t)
	return &testStore{
		Backend: b,
		expire: func(t testing.TB, l backend.Lease) {
			waitExpiry(t, b, l)
		},
	}
}

// waitExpiry stops keeping l alive and waits until the store has ended it
// on its TTL: the real expiry path.
func waitExpiry(t testing.TB, b backend.Backend, l backend.Lease) {
	t.Helper()
	assert.NilError(t, l.Close())
	probe := fmt.Sprintf("/expiry-probe/%d", l.ID())
	_, err := b.Create(context.Background(), probe, "x", l.ID())
	if err != nil {
		return // already gone
	}
	sdptest.WaitFor(t, "lease expiry", func() bool {
		_, _, err := b.Get(context.Background(), probe, 0)
		return err != nil
	})
}

// TestMirrorEtcdServerRestart cuts the mirror's stream for real: the etcd
// server stops and comes back while writes go on around it. Every change
// is delivered once.
func TestMirrorEtcdServerRestart(t *testing.T) {
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{})
	ctx := context.Background()
	rec := newRecorder()
	m, err := mirror.NewMirror(b, "/pb/", rec, mirror.MirrorOptions{StatePath: filepath.Join(t.TempDir(), "mirror.db")})
	assert.NilError(t, err)
	stop, _ := run(t, ctx, m)
	waitLines(t, rec, 1)

	want := []string{"done 0"}
	for i := 0; i < 10; i++ {
		p := fmt.Sprintf("/pb/before%d", i)
		put(t, b, p, "v")
		want = append(want, "add "+p+"=v")
	}
	e.Stop()
	e.Restart(t)
	var last int64
	for i := 0; i < 10; i++ {
		p := fmt.Sprintf("/pb/after%d", i)
		// The client reconnects in the background: retry until the
		// create is known to have happened.
		sdptest.WaitFor(t, "a create after the restart", func() bool {
			_, err := b.Create(ctx, p, "v", backend.NoLease)
			return err == nil || errors.Is(err, backend.ErrCollision)
		})
		want = append(want, "add "+p+"=v")
	}
	last, err = b.Revision(ctx)
	assert.NilError(t, err)
	assert.NilError(t, m.WaitForRevision(ctx, last))
	assert.DeepEqual(t, rec.Lines(), want)
	assert.NilError(t, stop())
}
