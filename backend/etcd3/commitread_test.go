package etcd3_test

import (
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestCommitReadLimits covers what is etcd's own: the client's op limit and
// the server's, lower than Config says. The rest of CommitRead's contract is
// in the conformance suite (testing/backendtest).
func TestCommitReadLimits(t *testing.T) {
	ctx := testCtx(t)
	// A server that allows 4 ops per branch; each case in its own prefix.
	e := sdptest.NewEtcd(t, sdptest.WithMaxTxnOps(4))
	stale := []backend.Compare{{Range: backend.Key("/a"), Target: backend.ModRevision, Op: backend.Equal, Value: 1}}
	puts := func(n int) []backend.Op {
		ops := make([]backend.Op, n)
		for i := range ops {
			ops[i] = backend.Put(fmt.Sprintf("/k/%d", i), "v", backend.NoLease)
		}
		return ops
	}
	for i, tc := range []struct {
		name     string
		maxOps   int // Config.MaxTxnOps; 0: the server's
		t        backend.Txn
		reads    []string
		want     backend.CommitReadResult // Revision as an offset from the store's before
		wantKVs  []string                 // path=value of KVs
		wantVals map[string]string        // the store after
	}{
		{
			name:     "reads over the limit: a plain commit",
			t:        backend.Txn{If: stale, Else: puts(3)},
			reads:    []string{"/a", "/b"},
			want:     backend.CommitReadResult{TxnResult: backend.TxnResult{Revision: 1}},
			wantVals: map[string]string{"/a": "2", "/b": "1", "/k/0": "v", "/k/1": "v", "/k/2": "v"},
		},
		{
			name:     "reads over the server's limit: refused, then a plain commit",
			maxOps:   100,
			t:        backend.Txn{If: stale, Else: puts(3)},
			reads:    []string{"/a", "/b"},
			want:     backend.CommitReadResult{TxnResult: backend.TxnResult{Revision: 1}},
			wantVals: map[string]string{"/a": "2", "/b": "1", "/k/0": "v", "/k/1": "v", "/k/2": "v"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.Backend(t, etcd3.Config{Prefix: fmt.Sprintf("/case%d", i), MaxTxnOps: tc.maxOps})
			_, err := b.Create(ctx, "/a", "1", backend.NoLease)
			assert.NilError(t, err)
			_, err = b.Create(ctx, "/b", "1", backend.NoLease)
			assert.NilError(t, err)
			before, err := b.Update(ctx, "/a", "2")
			assert.NilError(t, err)
			stale[0].Value = before - 1 // /a's first mod revision
			res, err := b.CommitRead(ctx, tc.t, tc.reads)
			assert.NilError(t, err)
			var kvs []string
			for _, kv := range res.KVs {
				kvs = append(kvs, kv.Path+"="+kv.Value)
				// Every key as Get has it at the result's revision.
				got, _, err := b.Get(ctx, kv.Path, res.Revision)
				assert.NilError(t, err)
				assert.DeepEqual(t, kv, got)
			}
			assert.DeepEqual(t, kvs, tc.wantKVs)
			res.KVs = nil
			tc.want.Revision += before
			assert.DeepEqual(t, res, tc.want)
			got, err := b.List(ctx, "/", backend.ListOptions{Recurse: 1, WithValues: true})
			assert.NilError(t, err)
			vals := map[string]string{}
			for _, kv := range got.KVs {
				vals[kv.Path] = kv.Value
			}
			assert.DeepEqual(t, vals, tc.wantVals)
		})
	}
}

func TestCommitReadErrors(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t, sdptest.WithMaxTxnOps(4))
	b := e.Backend(t, etcd3.Config{})
	_, err := b.Create(ctx, "/a", "1", backend.NoLease)
	assert.NilError(t, err)
	write := backend.Txn{Then: []backend.Op{backend.Put("/a", "2", backend.NoLease)}}

	_, err = b.CommitRead(ctx, write, []string{"/ok", "bad//path"})
	wantPathErr(t, err, backend.ErrInvalidPath, "validate", "bad//path")
	_, err = b.CommitRead(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", "2", 12345)}}, []string{"/a"})
	wantPathErr(t, err, backend.ErrLeaseExpired, "commit", "/a")
	assert.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
	// Too large without the reads: refused before any I/O, as by Commit.
	_, err = b.CommitRead(ctx, backend.Txn{Then: puts5()}, []string{"/a"})
	wantPathErr(t, err, backend.ErrTxnTooLarge, "commit", "/k/0")
	kv, _, err := b.Get(ctx, "/a", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "1", "a failed CommitRead wrote")

	assert.NilError(t, b.Close())
	_, err = b.CommitRead(ctx, write, []string{"/a"})
	assert.ErrorIs(t, err, backend.ErrClosed)
}

func puts5() []backend.Op {
	ops := make([]backend.Op, 5)
	for i := range ops {
		ops[i] = backend.Put(fmt.Sprintf("/k/%d", i), "v", backend.NoLease)
	}
	return ops
}
