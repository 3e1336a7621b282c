package memory_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitLimit bounds every wait of a test for something that should happen
// promptly; hitting it is a failure, never a synchronisation.
const waitLimit = 10 * time.Second

func newBackend(t testing.TB, opts ...memory.Option) *memory.Backend {
	t.Helper()
	b := memory.New(opts...)
	t.Cleanup(func() { b.Close() })
	return b
}

func put(t testing.TB, b backend.Backend, path, value string) int64 {
	t.Helper()
	res, err := b.Commit(context.Background(), backend.Txn{Then: []backend.Op{backend.Put(path, value, backend.NoLease)}})
	assert.NilError(t, err)
	assert.Assert(t, res.Succeeded)
	return res.Revision
}

func get(t testing.TB, b backend.Backend, path string) backend.KeyValue {
	t.Helper()
	kv, _, err := b.Get(context.Background(), path, 0)
	assert.NilError(t, err)
	return kv
}

func paths(kvs []backend.KeyValue) []string {
	ps := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		ps = append(ps, kv.Path)
	}
	return ps
}

// recv returns the next response of ws, failing the test if none comes in
// waitLimit or the channel is closed.
func recv(t testing.TB, ws backend.WatchStream) backend.WatchResponse {
	t.Helper()
	select {
	case resp, ok := <-ws.Responses():
		assert.Assert(t, ok, "watch channel closed")
		return resp
	case <-time.After(waitLimit):
		t.Fatal("no watch response")
	}
	return backend.WatchResponse{}
}

// recvClosed fails unless the channel of ws is closed with no further
// response.
func recvClosed(t testing.TB, ws backend.WatchStream) {
	t.Helper()
	select {
	case resp, ok := <-ws.Responses():
		assert.Assert(t, !ok, "unexpected response %+v", resp)
	case <-time.After(waitLimit):
		t.Fatal("watch channel not closed")
	}
}

// assertNoResponse fails if ws has a response ready once a progress
// notification it requests has come back: everything queued before it
// must have been delivered first.
func assertNoResponse(t testing.TB, ws backend.WatchStream, rev int64) {
	t.Helper()
	assert.NilError(t, ws.RequestProgress(context.Background()))
	resp := recv(t, ws)
	assert.Equal(t, len(resp.Events), 0, "unexpected events %+v", resp.Events)
	assert.NilError(t, resp.Err)
	assert.Equal(t, resp.Revision, rev)
}

type event struct {
	Type   backend.EventType
	Path   string
	Value  string
	Rev    int64
	Prev   string
	IsPrev bool
}

func events(resp backend.WatchResponse) []event {
	var out []event
	for _, e := range resp.Events {
		ev := event{Type: e.Type, Path: e.KV.Path, Value: e.KV.Value, Rev: e.KV.ModRevision}
		if e.Prev != nil {
			ev.Prev, ev.IsPrev = e.Prev.Value, true
		}
		out = append(out, ev)
	}
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
