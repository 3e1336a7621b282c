package watcher_test

import (
	"strconv"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// openLoopEtcd starts an embedded etcd server and returns a backend on it;
// both are closed by the test's cleanup.
func openLoopEtcd(t testing.TB) loopStore {
	return loopStore{Backend: sdptest.NewBackend(t)}
}

// TestClusterMemberRestart runs a watcher over members 0 and 1 of a
// 3-member embedded etcd cluster while both stop and restart one after the
// other (so its stream's member is stopped at least once), and a counter is
// written through member 2, which stays up. The loop sees every value once: each wake reads the next
// value, none is missed and none is repeated.
func TestClusterMemberRestart(t *testing.T) {
	c := sdptest.NewCluster(t, 3)
	b := c.Backend(t, etcd3.Config{Endpoints: append(c.Member(0).Endpoints(), c.Member(1).Endpoints()...)})
	writer := c.Member(2).Backend(t, etcd3.Config{})
	ctx := testCtx(t)
	mustPut(t, writer, "/counter", "0")

	w := watcher.New(b, watcher.Options{})
	l := startLoop(t, w, getAll("/counter"))
	it := l.next(t)
	assert.DeepEqual(t, it.vals, []string{"/counter=0"})

	const n = 30
	for i := 1; i <= n; i++ {
		switch i {
		case 5:
			c.Stop(0)
		case 12:
			c.Restart(t, 0)
		case 18:
			c.Stop(1)
		case 25:
			c.Restart(t, 1)
		}
		v := strconv.Itoa(i)
		sdptest.WaitFor(t, "a write of "+v, func() bool {
			_, err := writer.Update(ctx, "/counter", v)
			if err == nil {
				return true
			}
			// An unknown outcome: read what happened.
			kv, _, err := writer.Get(ctx, "/counter", 0)
			return err == nil && kv.Value == v
		})
		it := l.next(t)
		assert.Equal(t, it.reason, watcher.Changed)
		assert.DeepEqual(t, it.vals, []string{"/counter=" + v})
	}
	st := w.Stats()
	assert.Equal(t, st.Relists, int64(0))
	t.Logf("streams %d, resumes %d", st.Streams, st.Resumes)
}
