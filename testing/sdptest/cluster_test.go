package sdptest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// getFrom reads key through member m's own endpoint, linearizably: the
// member answers only once it has applied everything committed before.
func getFrom(ctx context.Context, t *testing.T, m *sdptest.Etcd, key string) string {
	t.Helper()
	resp, err := m.Client(t).Get(ctx, key)
	assert.NilError(t, err)
	if len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}

func TestClusterFollowerStopAndRejoin(t *testing.T) {
	ctx := ctxT(t)
	c := sdptest.NewCluster(t, 3)
	assert.Equal(t, c.Size(), 3)
	assert.Equal(t, len(c.Endpoints()), 3)

	lead, err := c.WaitLeader(ctx)
	assert.NilError(t, err)
	assert.Assert(t, lead >= 0 && lead < 3)
	cli := c.Client(t)
	_, err = cli.Put(ctx, "k", "before")
	assert.NilError(t, err)

	follower := (lead + 1) % 3
	c.Stop(follower)
	assert.Assert(t, !c.Member(follower).Running())
	// Two of three members are a quorum: writes go on, the leader stays.
	_, err = cli.Put(ctx, "k", "during")
	assert.NilError(t, err)
	got, err := c.Leader(ctx)
	assert.NilError(t, err)
	assert.Equal(t, got, lead)

	c.Restart(t, follower)
	assert.Assert(t, c.Member(follower).Running())
	assert.Equal(t, getFrom(ctx, t, c.Member(follower), "k"), "during")
	_, err = c.WaitLeader(ctx)
	assert.NilError(t, err)
}

func TestClusterLeaderStopElectsAnother(t *testing.T) {
	ctx := ctxT(t)
	c := sdptest.NewCluster(t, 3)
	lead, err := c.WaitLeader(ctx)
	assert.NilError(t, err)
	c.Stop(lead)

	next, err := c.WaitLeader(ctx)
	assert.NilError(t, err)
	assert.Assert(t, next != lead, "the stopped member %d is still leader", lead)
	_, err = c.Client(t).Put(ctx, "k", "v")
	assert.NilError(t, err)

	c.Restart(t, lead)
	assert.Equal(t, getFrom(ctx, t, c.Member(lead), "k"), "v")
}

func TestClusterQuorumLossAndRestartAll(t *testing.T) {
	ctx := ctxT(t)
	c := sdptest.NewCluster(t, 3)
	lead, err := c.WaitLeader(ctx)
	assert.NilError(t, err)
	_, err = c.Client(t).Put(ctx, "k", "v")
	assert.NilError(t, err)

	c.Stop((lead + 1) % 3)
	c.Stop((lead + 2) % 3)
	// The lone member steps down once it misses its quorum.
	poll(ctx, t, func() bool {
		_, err := c.Leader(ctx)
		return errors.Is(err, sdptest.ErrNoLeader)
	})
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = c.Member(lead).Client(t).Put(short, "k", "lost", clientv3.WithPrevKV())
	cancel()
	assert.Assert(t, err != nil, "a member without quorum accepted a write")

	c.RestartAll(t)
	for i := range c.Size() {
		assert.Assert(t, c.Member(i).Running())
	}
	_, err = c.WaitLeader(ctx)
	assert.NilError(t, err)
	for i := range c.Size() {
		assert.Equal(t, getFrom(ctx, t, c.Member(i), "k"), "v")
	}
}

func TestLeaderHonoursContext(t *testing.T) {
	c := sdptest.NewCluster(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Leader(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = c.WaitLeader(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// poll waits until cond holds, failing the test when ctx ends first.
func poll(ctx context.Context, t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met before the deadline")
		case <-tick.C:
		}
	}
}
